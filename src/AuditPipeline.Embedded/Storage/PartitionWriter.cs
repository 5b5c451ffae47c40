using AuditPipeline.Core.Events;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// The batch append. Per batch: one look-up of all its (org, id) pairs in the id index (a re-send is a
/// duplicate wherever its time would place it), then one transaction per partition the new events go
/// to, appending to its tail only, then their ids to the index. A tail that has reached
/// <see cref="EmbeddedStoreOptions.MergeRows"/> is merged into the indexed table right after.
/// Runs under the store's write gate only.
/// </summary>
internal sealed partial class PartitionWriter(PartitionCatalog catalog, RetentionPlanRegistry registry, int mergeRows, string synchronous, ILogger logger)
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

        var stored = new List<StoredRow>(keys.Count);
        foreach (var (_, g) in groups)
        {
            ct.ThrowIfCancellationRequested();
            var p = catalog.GetOrCreate(g.Class, g.Month);
            var from = stored.Count;
            if (AppendToPartition(p, events, g.Indexes, results, encoded, stored))
            {
                // Right after the partition's commit, so no committed row is ever unknown to the index.
                catalog.Ids.Add(p, stored, from);
            }

            if (p.TailRows >= mergeRows)
            {
                Merge(p);
            }
        }

        return results;
    }

    /// <summary>
    /// Merges one partition's tail. The batch's rows are already committed, so a failed merge is only
    /// logged: the tail stays readable and the next batch, the idle merge or the close tries again.
    /// </summary>
    public void Merge(Partition p)
    {
        try
        {
            TailMerge.Run(p, synchronous);
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            LogMergeFailed(ex, p.Name, p.TailRows);
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

    private bool AppendToPartition(Partition p, IReadOnlyList<AuditEvent> events, List<int> indexes, AppendResult[] results, Encoded encoded, List<StoredRow> stored)
    {
        var firstSeq = p.NextSeq;
        var storedBefore = stored.Count;
        using var conn = SqliteAuditStore.Open(p.Location.ConnectionString, synchronous);
        ConnectionOpened?.Invoke(conn);
        try
        {
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

        return p.NextSeq != firstSeq;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not merge the tail of partition {Partition} ({Rows} rows) into its indexes; the rows stay readable and the merge is tried again")]
    private partial void LogMergeFailed(Exception ex, string partition, long rows);
}
