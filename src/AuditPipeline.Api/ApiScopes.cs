namespace AuditPipeline.Api;

/// <summary>The scopes a key can carry.</summary>
public static class ApiScopes
{
    public const string Read = "audit:read";
    public const string Export = "audit:export";

    public static IReadOnlyList<string> All { get; } = [Read, Export];
}
