namespace AuditPipeline.Core.Normalization;

/// <summary>The form of a type's parts (<c>&lt;object&gt;.&lt;verb&gt;</c>), and one shared string for each part the contract names.</summary>
internal static class Names
{
    /// <summary>The objects and verbs of the contract's types, each kept as one string.</summary>
    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> Parts = new HashSet<string>(
        [
            "contact", "company", "deal", "ticket", "task", "note", "pipeline", "property", "integration", "import", "export", "bulk", "gdpr",
            "created", "updated", "deleted", "stage_changed", "resolved", "merged", "completed", "connected", "disconnected", "started",
            "requested", "erasure_executed",
        ],
        StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>A part of a type as a string: the shared instance when the contract names it.</summary>
    public static string Part(ReadOnlySpan<char> part) => Parts.TryGetValue(part, out var known) ? known : part.ToString();

    /// <summary>One part of a type: lower-case letters, digits and underscores, at least one.</summary>
    public static bool IsPart(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty)
        {
            return false;
        }

        foreach (var c in s)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
