namespace AuditPipeline.Worker.Verbs;

internal static class SetupVerb
{
    public static Task<int> RunAsync(string[] args) => Task.FromResult(2);
}
