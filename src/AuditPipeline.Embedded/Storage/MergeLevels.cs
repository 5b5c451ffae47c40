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
/// Live traffic with a few late events (a client that was offline) is split: the late rows go to
/// <c>events_mid</c>, the rest straight to <c>events</c>, so the tail is not copied twice for a few rows.
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

    /// <summary>How far behind the right edge of the month's time index a row may lie and still count as live traffic's (<see cref="Route"/>).</summary>
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

    /// <summary>
    /// Where a merge of a tail with these event times (ms; sorted here) sends its rows in
    /// <paramref name="p"/>. Rows no more than <see cref="SpreadMs"/> older than the right edge of the
    /// month's time index (<see cref="Partition.EdgeMs"/>, or the tail's own 99th percentile while that
    /// is unknown) append near that edge; older ones land all over the month. Into <c>events</c> when
    /// every row is near the edge (live traffic, however slowly a tail fills) or the month is under
    /// <see cref="MidFromRows"/>. Split at the edge minus <see cref="SpreadMs"/> when at most a tenth are
    /// older (live traffic with a few late events: those few go to <c>events_mid</c>, and the tail is not
    /// copied twice for them). Into <c>events_mid</c> when more are older (a backlog replayed at random
    /// times).
    /// </summary>
    public TailRoute Route(Partition p, Span<long> times)
    {
        if (times.IsEmpty)
        {
            return TailRoute.Events;
        }

        times.Sort();
        var cut = (p.EdgeMs ?? High(times)) - SpreadMs;
        var late = LowerBound(times, cut);
        return late == 0 || !p.HasMid || p.EventsRows < MidFromRows ? TailRoute.Events
            : late <= times.Length / 10 ? new TailRoute(TailDestination.Split, cut)
            : TailRoute.Mid;
    }

    /// <summary>The 99th percentile of sorted times: the edge rows merged into <c>events</c> set.</summary>
    public static long High(ReadOnlySpan<long> sorted) => sorted[(int)((sorted.Length - 1) * 0.99)];

    private static int LowerBound(ReadOnlySpan<long> sorted, long value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sorted[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>The rows <c>events_mid</c> may hold before it moves into <c>events</c> (holding <paramref name="eventsRows"/>).</summary>
    public long MidCap(long eventsRows) => Math.Max(4L * MergeRows, (long)Math.Sqrt(2.0 * MergeRows * Math.Max(eventsRows, 1)));
}

internal enum TailDestination
{
    /// <summary>Every row into <c>events</c>.</summary>
    Events,

    /// <summary>Every row into <c>events_mid</c>.</summary>
    Mid,

    /// <summary>Rows from <see cref="TailRoute.CutMs"/> on into <c>events</c>, older ones into <c>events_mid</c>.</summary>
    Split,
}

/// <summary>Where a merge sends a tail's rows (<see cref="MergeLevels.Route"/>).</summary>
internal readonly record struct TailRoute(TailDestination Destination, long CutMs)
{
    public static TailRoute Events => new(TailDestination.Events, 0);

    public static TailRoute Mid => new(TailDestination.Mid, 0);
}
