namespace AuditPipeline.Core.Normalization;

public static class SourceKinds
{
    public static IReadOnlyList<SourceKind> All { get; } = [SourceKind.Crm, SourceKind.Auth, SourceKind.Ai, SourceKind.Platform];

    /// <summary>The lower-case name used in configuration, metrics and file prefixes.</summary>
    public static string Name(this SourceKind kind) => kind switch
    {
        SourceKind.Crm => "crm",
        SourceKind.Auth => "auth",
        SourceKind.Ai => "ai",
        SourceKind.Platform => "platform",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static bool TryParse(string? name, out SourceKind kind)
    {
        switch (name?.ToLowerInvariant())
        {
            case "crm": kind = SourceKind.Crm; return true;
            case "auth": kind = SourceKind.Auth; return true;
            case "ai": kind = SourceKind.Ai; return true;
            case "platform": kind = SourceKind.Platform; return true;
            default: kind = default; return false;
        }
    }
}
