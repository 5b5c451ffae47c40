using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;
using Microsoft.Data.Sqlite;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// Reads matches newest first, month by month from the newest, merging each month's partitions
/// (retention classes: disjoint, each ordered). Every row examined counts against a budget: when it
/// runs out, the scan ends with what it found and the position it reached, so a page over rows that
/// match nothing still answers quickly, with a cursor to go on from.
/// <para>
/// Free text walks first: up to <see cref="WalkAllowance"/> rows are read in order with the terms
/// checked on each, and only if that does not fill the page are the partitions' text indexes asked
/// for candidates, from the row reached on. A term common enough to fill a page soon (one letter, a
/// frequent name) is then never looked up in the index, where a prefix merges the list of every word
/// it starts (measured at 15–190 ms per month of 900,000 events); a term rare enough to need the
/// index costs at most those rows more (about 1.5 µs each). Short prefixes, the expensive lookups, get
/// the long walk; longer words a short one, as their lookup is cheap and the exact-word probe of
/// <see cref="ScanPlan"/> catches the frequent ones.
/// </para>
/// </summary>
internal static class MonthScan
{
    /// <summary>Rows a free-text scan reads in order before it asks the text index when a term is a short prefix (about 6 ms).</summary>
    internal const int TextWalkFirstRows = 4096;

    /// <summary>Rows read in order first when every term has a word longer than <see cref="ShortPrefix"/> (under a millisecond).</summary>
    internal const int TextWalkFirstRowsLongWords = 512;

    /// <summary>A looked-up word this short or shorter makes the prefix lookup expensive (measured: <c>a*</c> 191 ms, <c>ana*</c> 18 ms a month).</summary>
    internal const int ShortPrefix = 3;

    /// <summary>How many rows a scan for <paramref name="terms"/> walks before it asks the text index.</summary>
    internal static long WalkAllowance(IReadOnlyList<string> terms) =>
        SearchText.ShortestKeyLength(terms) <= ShortPrefix ? TextWalkFirstRows : TextWalkFirstRowsLongWords;

    /// <summary>Up to <paramref name="take"/> matches; stops after <paramref name="budget"/> rows examined.</summary>
    public static ScanResult Run(IEnumerable<Partition> partitions, AuditQuery query, int take, long budget, CancellationToken ct)
    {
        var (found, stoppedAt) = Run(partitions, query, take, budget, static s => s.ReadEvent(), withDocs: false, ct);
        return new ScanResult(found, stoppedAt);
    }

    /// <summary>
    /// The same scan, each match taken by <paramref name="read"/> (the stream takes the stored
    /// document undecoded, and decodes it on the consumer's thread).
    /// </summary>
    public static (List<T> Found, AuditPosition? StoppedAt) Run<T>(IEnumerable<Partition> partitions, AuditQuery query, int take, long budget, Func<RowStream, T> read, bool withDocs, CancellationToken ct)
    {
        var result = new List<T>(Math.Min(take, 1024));
        var plan = ScanPlan.For(query, withDocs);
        if (plan.IsEmpty)
        {
            return (result, null);
        }

        var months = partitions
            .Where(p => plan.Overlaps(p.MonthStart))
            .GroupBy(p => p.MonthStart)
            .OrderByDescending(g => g.Key);
        var work = new Work(budget);
        var walking = plan.ProbesText ? ScanPlan.Walking(query, withDocs) : null;
        var walkLeft = WalkAllowance(query.Terms);
        foreach (var month in months)
        {
            ct.ThrowIfCancellationRequested();
            if (walking is not null)
            {
                var examined = work.Examined;
                var reached = ScanMonth(month, walking, take, result, read, work, walkLeft, ct);
                walkLeft -= work.Examined - examined;
                if (result.Count >= take || work.StoppedAt is not null)
                {
                    break;
                }

                if (reached is null)
                {
                    // The whole month was walked within the allowance.
                    continue;
                }

                // Not common enough to fill the page by walking: the text index narrows from the row reached on.
                walking = null;
                plan = ScanPlan.For(query with { After = reached }, withDocs);
            }

            ScanMonth(month, plan, take, result, read, work, long.MaxValue, ct);
            if (result.Count >= take || work.StoppedAt is not null)
            {
                break;
            }
        }

        return (result, result.Count >= take ? null : work.StoppedAt);
    }

    /// <summary>
    /// Scans one month's partitions, merged. Returns the position of the last row examined when
    /// <paramref name="limit"/> rows were examined first (everything newer was), otherwise null.
    /// </summary>
    private static AuditPosition? ScanMonth<T>(IEnumerable<Partition> partitions, ScanPlan plan, int take, List<T> result, Func<RowStream, T> read, Work work, long limit, CancellationToken ct)
    {
        var connections = new List<SqliteConnection>();
        var docs = new List<DocReader>();
        var streams = new List<RowStream>();
        try
        {
            foreach (var p in partitions)
            {
                if (SqliteAuditStore.TryOpen(p) is { } conn)
                {
                    connections.Add(conn);
                    var reader = new DocReader(conn);
                    docs.Add(reader);
                    DocReader? tail = null, mid = null;
                    if (p.HasTail)
                    {
                        tail = new DocReader(conn, "events_tail");
                        docs.Add(tail);
                    }

                    if (p.HasMid)
                    {
                        mid = new DocReader(conn, "events_mid");
                        docs.Add(mid);
                    }

                    work.Examined += plan.OpenStreams(conn, reader, streams, p.TextScopedByOrg, tail, mid);
                }
            }

            var lastTime = long.MinValue;
            string? lastId = null;
            long examinedHere = 0;
            while (true)
            {
                RowStream? best = null;
                foreach (var s in streams)
                {
                    if (s.HasRow && (best is null || s.IsNewerThan(best)))
                    {
                        best = s;
                    }
                }

                if (best is null)
                {
                    return null;
                }

                if (best.TimeMs == lastTime && string.Equals(best.Id, lastId, StringComparison.Ordinal))
                {
                    // The tail is read before the indexed tables (events_mid before events), so a merge
                    // in between shows a row in both (never in neither): the second sighting is the same event.
                    best.Advance();
                    continue;
                }

                lastTime = best.TimeMs;
                lastId = best.Id;
                if (best.FiltersMatch && (plan.Terms.Count == 0 || best.TextMatches(plan.Terms)))
                {
                    result.Add(read(best));
                    if (result.Count >= take)
                    {
                        return null;
                    }
                }

                if (++work.Examined >= work.Budget)
                {
                    // Everything newer than this row has been examined: the next page starts after it.
                    work.StoppedAt = new AuditPosition(DateTimeOffset.FromUnixTimeMilliseconds(best.TimeMs), best.Id);
                    return null;
                }

                if (++examinedHere >= limit)
                {
                    return new AuditPosition(DateTimeOffset.FromUnixTimeMilliseconds(best.TimeMs), best.Id);
                }

                best.Advance();
                if ((work.Examined & 1023) == 0)
                {
                    ct.ThrowIfCancellationRequested();
                }
            }
        }
        finally
        {
            foreach (var s in streams)
            {
                s.Dispose();
            }

            foreach (var d in docs)
            {
                d.Dispose();
            }

            foreach (var c in connections)
            {
                c.Dispose();
            }
        }
    }

    private sealed class Work(long budget)
    {
        public long Budget { get; } = budget;

        public long Examined { get; set; }

        public AuditPosition? StoppedAt { get; set; }
    }
}

/// <summary>The matches a scan found and, when its budget ran out first, the position it reached.</summary>
internal sealed record ScanResult(List<AuditEvent> Found, AuditPosition? StoppedAt);

/// <summary>A match as stored: its place in the order and its document, not decoded yet.</summary>
internal readonly record struct StoredDoc(long TimeMs, string Id, byte[] Doc)
{
    /// <summary>The keyset position just past this row (the statements order by time_ms, then id).</summary>
    public AuditPosition Position => new(DateTimeOffset.FromUnixTimeMilliseconds(TimeMs), Id);
}
