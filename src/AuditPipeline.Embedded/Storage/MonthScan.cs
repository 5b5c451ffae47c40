using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;
using Microsoft.Data.Sqlite;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// Reads matches newest first, month by month from the newest, merging each month's partitions
/// (retention classes: disjoint, each ordered). Every row examined counts against a budget: when it
/// runs out, the scan ends with what it found and the position it reached, so a page over rows that
/// match nothing still answers quickly, with a cursor to go on from.
/// </summary>
internal static class MonthScan
{
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
        foreach (var month in months)
        {
            ct.ThrowIfCancellationRequested();
            ScanMonth(month, plan, take, result, read, work, ct);
            if (result.Count >= take || work.StoppedAt is not null)
            {
                break;
            }
        }

        return (result, result.Count >= take ? null : work.StoppedAt);
    }

    private static void ScanMonth<T>(IEnumerable<Partition> partitions, ScanPlan plan, int take, List<T> result, Func<RowStream, T> read, Work work, CancellationToken ct)
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
                    DocReader? tail = null;
                    if (p.HasTail)
                    {
                        tail = new DocReader(conn, tail: true);
                        docs.Add(tail);
                    }

                    work.Examined += plan.OpenStreams(conn, reader, streams, p.TextScopedByOrg, tail);
                }
            }

            var lastTime = long.MinValue;
            string? lastId = null;
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
                    return;
                }

                if (best.TimeMs == lastTime && string.Equals(best.Id, lastId, StringComparison.Ordinal))
                {
                    // The tail is read before the indexed table, so a merge in between shows a row in
                    // both (never in neither): the second sighting is the same event.
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
                        return;
                    }
                }

                if (++work.Examined >= work.Budget)
                {
                    // Everything newer than this row has been examined: the next page starts after it.
                    work.StoppedAt = new AuditPosition(DateTimeOffset.FromUnixTimeMilliseconds(best.TimeMs), best.Id);
                    return;
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
