namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// Where a partition's tail goes when it is merged. Rows that arrive in time order (live traffic)
/// land at the right edge of every time-keyed index, so a merge into <c>events</c> touches few pages
/// however large the month is. Rows spread over the month (a backlog replayed at random times)
/// land all over it: once <c>events</c> has more index pages than a merge has rows, every merged row
/// dirties a page of each index, and the bytes written per event grow with the month (47 KB at 3M
/// stored events). Such a tail, into a month already this large, goes to <c>events_mid</c> instead:
/// the same columns and indexes, but small, so cheap to merge into; and <c>events_mid</c> moves into
/// <c>events</c> whole once it holds about sqrt(2 × tail × month) rows, so each index page of the
/// month is written once for that many rows, read through a page cache raised for the move. The
/// writes then grow as the square root of the month (12.7 KB per event at 3M). The CPU of inserting
/// rows at random keys into large B-trees stays (docs/PERFORMANCE-embedded.md, 2026-12-03 fourth).
/// </summary>
internal sealed class MergeLevels(int mergeRows, int mergeCacheMiB = 512)
{
    private readonly Lock _bigMerge = new();

    /// <summary>A tail is merged once it holds this many rows (<see cref="EmbeddedStoreOptions.MergeRows"/>).</summary>
    public int MergeRows { get; } = mergeRows;

    /// <summary>
    /// Rows in <c>events</c> below which every tail goes straight there: a month this small has few
    /// enough index pages that a merge shares them, and the middle level would only copy rows twice.
    /// </summary>
    public long MidFromRows { get; set; } = 32L * mergeRows;

    /// <summary>A tail whose times span more than this is spread over the month rather than live traffic's latest minutes.</summary>
    public long SpreadMs { get; set; } = (long)TimeSpan.FromHours(6).TotalMilliseconds;

    /// <summary>The page cache a move of <c>events_mid</c> into <c>events</c> may use (at most the file's size; <see cref="EmbeddedStoreOptions.MergeCacheMiB"/>).</summary>
    public long MidMergeCacheBytes { get; } = (long)mergeCacheMiB << 20;

    /// <summary>
    /// Runs a move of <c>events_mid</c> into <c>events</c>: one at a time, even when a batch's full
    /// tails are merged side by side, so the raised page cache is held by one partition only.
    /// </summary>
    public void OneAtATime(Action move)
    {
        lock (_bigMerge)
        {
            move();
        }
    }

    /// <summary>Whether a tail whose times span <paramref name="spanMs"/> goes to <c>events_mid</c> of <paramref name="p"/>.</summary>
    public bool ToMid(Partition p, long spanMs) => p.HasMid && spanMs > SpreadMs && p.EventsRows >= MidFromRows;

    /// <summary>The rows <c>events_mid</c> may hold before it moves into <c>events</c> (holding <paramref name="eventsRows"/>).</summary>
    public long MidCap(long eventsRows) => Math.Max(4L * MergeRows, (long)Math.Sqrt(2.0 * MergeRows * Math.Max(eventsRows, 1)));
}
