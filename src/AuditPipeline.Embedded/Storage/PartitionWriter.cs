using AuditPipeline.Core.Events;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using Microsoft.Data.Sqlite;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// The batch append. Per batch: one look-up of all its (org, id) pairs in the id index (a re-send is a
/// duplicate wherever its time would place it), then one transaction per partition the new events go
/// to, then one transaction recording their ids. Runs under the store's write gate only.
/// </summary>
internal sealed class PartitionWriter(PartitionCatalog catalog, RetentionPlanRegistry registry)
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
        }

        return results;
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
        using var conn = SqliteAuditStore.Open(p.Location.ConnectionString);
        ConnectionOpened?.Invoke(conn);
        try
        {
            using var tx = conn.BeginTransaction();
            using var insert = new EventInsert(conn, tx);
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
}

/// <summary>
/// The prepared insert of one event row and its free-text row, reused for a partition's whole part of
/// a batch. A row SQLite refuses for this event alone (a missing required field, a value too big) is
/// rejected with SQLite's reason and the transaction goes on; anything else propagates.
/// </summary>
internal sealed class EventInsert : IDisposable
{
    private readonly SqliteCommand _insert;
    private readonly SqliteCommand _text;
    private readonly SqliteParameter[] _p;
    private readonly SqliteParameter _textSeq;
    private readonly SqliteParameter _body;

    public EventInsert(SqliteConnection conn, SqliteTransaction tx)
    {
        _insert = conn.CreateCommand();
        _insert.Transaction = tx;
        _insert.CommandText = PartitionSchema.Insert;
        _p =
        [
            _insert.Parameters.Add("$seq", SqliteType.Integer),
            _insert.Parameters.Add("$org", SqliteType.Text),
            _insert.Parameters.Add("$id", SqliteType.Text),
            _insert.Parameters.Add("$time", SqliteType.Integer),
            _insert.Parameters.Add("$action", SqliteType.Text),
            _insert.Parameters.Add("$actor", SqliteType.Text),
            _insert.Parameters.Add("$etype", SqliteType.Text),
            _insert.Parameters.Add("$eid", SqliteType.Text),
            _insert.Parameters.Add("$category", SqliteType.Text),
            _insert.Parameters.Add("$source", SqliteType.Text),
            _insert.Parameters.Add("$outcome", SqliteType.Text),
            _insert.Parameters.Add("$ai", SqliteType.Integer),
            _insert.Parameters.Add("$aname", SqliteType.Text),
            _insert.Parameters.Add("$aemail", SqliteType.Text),
            _insert.Parameters.Add("$ename", SqliteType.Text),
            _insert.Parameters.Add("$doc", SqliteType.Blob),
        ];
        _insert.Prepare();
        _text = conn.CreateCommand();
        _text.Transaction = tx;
        _text.CommandText = PartitionSchema.InsertText;
        _textSeq = _text.Parameters.Add("$seq", SqliteType.Integer);
        _body = _text.Parameters.Add("$body", SqliteType.Text);
        _text.Prepare();
    }

    /// <summary>Stored, Duplicate (already in this partition) or Rejected for this event alone.</summary>
    public AppendResult Execute(long seq, AuditEvent e, byte[] doc, string body)
    {
        _p[0].Value = seq;
        _p[1].Value = e.OrgId;
        _p[2].Value = e.Id;
        _p[3].Value = SqlTime.ToUnixMs(e.Time);
        _p[4].Value = Value(e.Action);
        _p[5].Value = Value(e.Actor?.Id);
        _p[6].Value = Value(e.Entity?.Type);
        _p[7].Value = Value(e.Entity?.Id);
        _p[8].Value = Value(e.Category);
        _p[9].Value = Value(e.Source);
        _p[10].Value = Value(e.Outcome);
        _p[11].Value = e.Ai is null ? 0 : 1;
        _p[12].Value = Value(e.Actor?.Name);
        _p[13].Value = Value(e.Actor?.Email);
        _p[14].Value = Value(e.Entity?.Name);
        _p[15].Value = doc;
        int changed;
        try
        {
            changed = _insert.ExecuteNonQuery();
        }
        catch (SqliteException ex) when (StoreErrors.IsPerEvent(ex))
        {
            return AppendResult.Rejected($"the embedded store refused the event: {ex.Message}");
        }

        if (changed == 0)
        {
            return AppendResult.Duplicate;
        }

        _textSeq.Value = seq;
        _body.Value = body;
        _text.ExecuteNonQuery();
        return AppendResult.Stored;
    }

    public void Dispose()
    {
        _insert.Dispose();
        _text.Dispose();
    }

    private static object Value(string? s) => (object?)s ?? DBNull.Value;
}
