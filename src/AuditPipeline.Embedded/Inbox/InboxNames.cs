using AuditPipeline.Core.Normalization;

namespace AuditPipeline.Embedded.Inbox;

/// <summary>
/// Which names in the inbox directory count. <c>*.jsonl</c> files are input (a new one is read from its
/// start). <c>*.jsonl.&lt;n&gt;</c> is what logrotate renames a file to: such a file is never started on its
/// own, but a followed file renamed to it (or copied to it by <c>copytruncate</c>) is read to its end.
/// </summary>
internal static class InboxNames
{
    public static bool IsInput(string name) => name.EndsWith(".jsonl", StringComparison.Ordinal);

    public static bool IsRotated(string name)
    {
        var dot = name.LastIndexOf('.');
        return dot > 6 && dot < name.Length - 1
            && name.AsSpan(0, dot).EndsWith(".jsonl", StringComparison.Ordinal)
            && name.AsSpan(dot + 1).IndexOfAnyExceptInRange('0', '9') < 0;
    }

    /// <summary>The kind a name's prefix (up to the first <c>-</c>, <c>_</c> or <c>.</c>) selects.</summary>
    public static bool TryKind(string name, out SourceKind kind)
    {
        var end = name.IndexOfAny(['-', '_', '.']);
        return SourceKinds.TryParse(end > 0 ? name[..end] : null, out kind);
    }
}

/// <summary>How the inbox opens a file: for reading, while producers append, rotate and delete it.</summary>
internal static class InboxSourceFiles
{
    public static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
}
