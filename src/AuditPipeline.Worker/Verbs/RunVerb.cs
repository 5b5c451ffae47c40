using AuditPipeline.Worker.Hosting;

namespace AuditPipeline.Worker.Verbs;

/// <summary><c>run</c> (the default verb): the roles configured, until SIGTERM or Ctrl+C.</summary>
internal static class RunVerb
{
    public static async Task<int> RunAsync(string[] args, IReadOnlyDictionary<string, string?>? defaults = null)
    {
        var app = WorkerHost.Build(args, defaults);
        await app.RunAsync();
        return 0;
    }
}
