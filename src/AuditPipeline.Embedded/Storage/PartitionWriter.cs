using AuditPipeline.Core.Events;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using System.Runtime.ExceptionServices;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// The batch append. Per batch: one look-up of all its (org, id) pairs in the id index (a re-send is a
/// duplicate wherever its time would place it), then one transaction per partition the new events go
/// to, appending to its tail only (the partitions side by side, see <see cref="CommitLanes"/>), then
/// their ids to the index. A tail that has reached <see cref="EmbeddedStoreOptions.MergeRows"/> is
/// merged into the indexed table right after (full tails side by side too; where to, <see cref="MergeLevels"/>).
/// Runs under the store's write gate only.
/// </summary>
internal sealed partial class PartitionWriter(PartitionCatalog catalog, RetentionPlanRegistry registry, MergeLevels levels, string synchronous, CommitLanes lanes, ILogger logger)
{
    /// <summary>Called on every partition connection the writer opens; tests use it to fill the disk.</summary>
    internal Action<SqliteConnection>? ConnectionOpened { get; set; }

    public AppendResult[] Append(IReadOnlyList<AuditEvent> events, Encoded encoded, CancellationToken ct)
    {
        // A partition whose last write failed is read again, and one whose last rows did not reach the
        // id index (its write failed after the rows committed) is indexed first: otherwise a retry
        // could store a re-send elsewhere.
        foreach (var p in catalog.All)
        {
            if (p.SeqUnknown)
            {
                catalog.ReloadSeq(p);
            }

            catalog.Ids.CatchUp(p);
        }

        var results = new AppendResult[events.Count];
        var keys = new List<(string Org, string Id)>(events.Count);
        var keyEvent = new List<int>(events.Count);
        var seen = new HashSet<(string, string)>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (string.IsNullOrEmpty(e.Id) || string.IsNullOrEmpty(e.OrgId))
            {
                results[i] = AppendResult.Rejected("an event needs a non-empty id and organisation");
            }
            else if (!IsWellFormed(e.Id) || !IsWellFormed(e.OrgId))
            {
                results[i] = AppendResult.Rejected("the event's id or organisation holds an unpaired UTF-16 surrogate and cannot be stored faithfully");
            }
            else if (!seen.Add((e.OrgId, e.Id)))
            {
                // Earlier in this very batch, whatever time this copy carries.
                results[i] = AppendResult.Duplicate;
            }
            else
            {
                keys.Add((e.OrgId, e.Id));
                keyEvent.Add(i);
            }
        }

        var known = catalog.Ids.FindExisting(keys);
        var groups = new Dictionary<string, (RetentionClass Class, DateTimeOffset Month, List<int> Indexes)>(StringComparer.Ordinal);
        for (var k = 0; k < keys.Count; k++)
        {
            var i = keyEvent[k];
            if (known[k])
            {
                results[i] = AppendResult.Duplicate;
                continue;
            }

            var e = events[i];
            var utc = e.Time.UtcDateTime;
            var month = new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero);
            var c = registry.ClassFor(e.OrgId, e.Time);
            var name = Partition.FileNameFor(c, month);
            if (!groups.TryGetValue(name, out var g))
            {
                g = (c, month, []);
                groups[name] = g;
            }

            g.Indexes.Add(i);
        }

        // Each partition file commits on its own; they run side by side (CommitLanes), so their fsyncs
        // overlap instead of adding up. The catalog creates new months first, one at a time.
        var work = new List<(Partition P, List<int> Indexes)>(groups.Count);
        foreach (var (_, g) in groups)
        {
            ct.ThrowIfCancellationRequested();
            work.Add((catalog.GetOrCreate(g.Class, g.Month), g.Indexes));
        }

        var stored = new List<StoredRow>[work.Count];
        var failed = new ExceptionDispatchInfo?[work.Count];
        lanes.Run(work.Count, k =>
        {
            stored[k] = [];
            try
            {
                ct.ThrowIfCancellationRequested();
                AppendToPartition(work[k].P, events, work[k].Indexes, results, encoded, stored[k]);
            }
            catch (Exception ex)
            {
                failed[k] = ExceptionDispatchInfo.Capture(ex);
            }
        });

        // Every committed row reaches the index before a failure of another partition is reported:
        // the retry of this batch must find them.
        for (var k = 0; k < work.Count; k++)
        {
            if (stored[k].Count > 0)
            {
                catalog.Ids.Add(work[k].P, stored[k], 0);
            }
        }

        Array.Find(failed, f => f is not null)?.Throw();

        MergeAll(work.Select(w => w.P).Where(p => p.TailRows >= levels.MergeRows).ToList());
        return results;
    }

    /// <summary>Merges the tails of <paramref name="partitions"/>, side by side (a batch's full tails, every tail at close).</summary>
    public void MergeAll(IReadOnlyList<Partition> partitions)
    {
        var failed = new ExceptionDispatchInfo?[partitions.Count];
        lanes.Run(partitions.Count, k =>
        {
            try
            {
                Merge(partitions[k]);
            }
            catch (Exception ex)
            {
                failed[k] = ExceptionDispatchInfo.Capture(ex);
            }
        });

        Array.Find(failed, f => f is not null)?.Throw();
    }

    /// <summary>
    /// Merges one partition's tail. The batch's rows are already committed, so a failed merge is only
    /// logged: the tail stays readable and the next batch, the idle merge or the close tries again.
    /// </summary>
    public void Merge(Partition p)
    {
        try
        {
            TailMerge.Run(p, synchronous, levels);
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException or TailMergeException)
        {
            LogMergeFailed(ex, p.Name, p.TailRows, p.MidRows);
        }
    }

    private static bool IsWellFormed(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                return false;
            }
        }

        return true;
    }

    private void AppendToPartition(Partition p, IReadOnlyList<AuditEvent> events, List<int> indexes, AppendResult[] results, Encoded encoded, List<StoredRow> stored)
    {
        var firstSeq = p.NextSeq;
        var storedBefore = stored.Count;
        using var conn = SqliteAuditStore.Open(p.Location.ConnectionString, synchronous);
        ConnectionOpened?.Invoke(conn);
        try
        {
            using var own = OwnWrites.Begin(conn);
            using var tx = conn.BeginTransaction();
            using var insert = new TailInsert(conn);
            foreach (var i in indexes)
            {
                var e = events[i];
                var doc = encoded.Doc(i, out var error);
                if (doc is null)
                {
                    results[i] = AppendResult.Rejected(error ?? "the event cannot be encoded for the store");
                    continue;
                }

                var body = p.TextScopedByOrg ? encoded.Body(i) : SearchText.Body(e, scoped: false);
                results[i] = insert.Execute(p.NextSeq, e, doc, body);
                if (results[i].Outcome == AppendOutcome.Stored)
                {
                    stored.Add(new StoredRow(p, p.NextSeq, e.OrgId, e.Id));
                    p.NextSeq++;
                }
            }

            tx.Commit();
            if (p.TailRows == 0)
            {
                p.TailSince = Environment.TickCount64;
            }

            p.TailRows += p.NextSeq - firstSeq;
        }
        catch
        {
            // Most likely nothing was committed; the next batch reads the file's last row to be sure.
            p.NextSeq = firstSeq;
            p.SeqUnknown = true;
            stored.RemoveRange(storedBefore, stored.Count - storedBefore);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not merge partition {Partition} ({Rows} rows in its tail, {MidRows} in events_mid) into its indexes; the rows stay readable and the merge is tried again")]
    private partial void LogMergeFailed(Exception ex, string partition, long rows, long midRows);
}
