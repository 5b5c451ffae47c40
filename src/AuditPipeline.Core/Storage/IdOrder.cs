namespace AuditPipeline.Core.Storage;

/// <summary>
/// The order of event ids that share a time: ordinal by Unicode code point, which is the order of the
/// ids' UTF-8 bytes. SQLite's BINARY collation and Elasticsearch's keyword sort both compare those
/// bytes, so a store's index order, its cursor predicate and any merge of its sorted streams agree
/// only if .NET compares the same way. <see cref="string.CompareOrdinal(string, string)"/> compares
/// UTF-16 code units instead. That is the same order except where a character above U+FFFF (a
/// surrogate pair, 0xD800–0xDFFF) meets one in U+E000–U+FFFF. There the two orders disagree, and a
/// page boundary between such ids would skip or repeat an event.
/// </summary>
public sealed class IdOrder : IComparer<string>
{
    public static IdOrder Instance { get; } = new();

    private IdOrder()
    {
    }

    /// <summary>Negative, zero or positive as <paramref name="a"/> sorts before, with or after <paramref name="b"/>.</summary>
    public static int CompareIds(string a, string b)
    {
        var common = a.AsSpan().CommonPrefixLength(b);
        if (common == a.Length || common == b.Length)
        {
            return a.Length.CompareTo(b.Length);
        }

        int x = a[common], y = b[common];
        if (x >= 0xD800 && y >= 0xD800)
        {
            // Surrogates (above U+FFFF as code points) go after U+E000–U+FFFF: move them up, the rest down.
            x = x >= 0xE000 ? x - 0x800 : x + 0x2000;
            y = y >= 0xE000 ? y - 0x800 : y + 0x2000;
        }

        return x - y;
    }

    public int Compare(string? x, string? y) =>
        ReferenceEquals(x, y) ? 0 : x is null ? -1 : y is null ? 1 : CompareIds(x, y);
}
