using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// The catalog's id index: (organisation, event id) → the partition and row of the first stored copy,
/// so a re-send whose time would place it in another month or retention class is still a duplicate.
/// A batch asks once for all its ids (one statement over a JSON array) and records its stored rows in
/// one transaction. The partition commits first and the index after; each partition's watermark says
/// how far its rows are indexed, so a crash between the two is caught up before the next append.
/// The index can always be rebuilt from the partitions, so the catalog runs with
/// <c>synchronous=NORMAL</c>: whatever a power loss takes from it, start-up indexes again.
/// </summary>
internal sealed partial class IdIndex(string connectionString, ILogger logger)
{
    /// <summary>Ids held in memory before they are written: one catalog commit per this many, in key order.</summary>
    internal int FlushAt { get; set; } = 50_000;
    private const int CatchUpChunk = 10_000;

    private readonly Dictionary<(string Org, string Id), StoredRow> _pending = [];
    private IdFilter? _filter;
    private readonly HashSet<Partition> _dirty = [];

    internal int PendingCount => _pending.Count;

    /// <summary>For each key, whether that (org, id) is stored anywhere.</summary>
    public bool[] FindExisting(IReadOnlyList<(string Org, string Id)> keys)
    {
        var found = new bool[keys.Count];
        var ask = new List<int>(keys.Count);
        for (var k = 0; k < keys.Count; k++)
        {
            if (_pending.ContainsKey(keys[k]))
            {
                found[k] = true;
            }
            else if (_filter is null || _filter.MayContain(keys[k].Org, keys[k].Id))
            {
                ask.Add(k);
            }
        }

        if (ask.Count == 0)
        {
            return found;
        }

        using var conn = Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = """
            SELECT CAST(j.key AS INTEGER) FROM json_each($keys) j
            WHERE EXISTS (SELECT 1 FROM event_ids i WHERE i.org_id = json_extract(j.value, '$[0]') AND i.id = json_extract(j.value, '$[1]'))
            """;
        cmd.Parameters.AddWithValue("$keys", KeysJson(keys, ask));
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            found[ask[reader.GetInt32(0)]] = true;
        }

        return found;
    }

    /// <summary>
    /// Takes the rows one partition has just committed. They are looked up from memory until the next
    /// flush; a crash before it leaves them above the partition's watermark, indexed at start-up.
    /// </summary>
    public void Add(Partition p, List<StoredRow> rows, int from)
    {
        for (var r = from; r < rows.Count; r++)
        {
            _pending[(rows[r].Org, rows[r].Id)] = rows[r];
            _filter?.Add(rows[r].Org, rows[r].Id);
        }

        if (_filter is { } f && f.Count > f.Capacity)
        {
            Flush();
            BuildFilter();
        }

        p.IndexedSeq = p.NextSeq - 1;
        _dirty.Add(p);
        if (_pending.Count >= FlushAt)
        {
            Flush();
        }
    }

    /// <summary>
    /// Writes the ids held in memory, sorted (neighbouring keys share pages, so far fewer pages are
    /// rewritten than by inserting each batch as it comes), and moves the watermarks, in one commit.
    /// On failure they stay in memory and the next flush tries again.
    /// </summary>
    public void Flush()
    {
        if (_pending.Count == 0 && _dirty.Count == 0)
        {
            return;
        }

        using var conn = Open();
        using var tx = conn.BeginTransaction();
        using (var insert = new IdInsert(conn))
        {
            foreach (var row in _pending.Values.OrderBy(r => r.Org, StringComparer.Ordinal).ThenBy(r => r.Id, StringComparer.Ordinal))
            {
                insert.Execute(row.Org, row.Id, row.Partition.Number, row.Seq);
            }
        }

        SetWatermarks(conn, tx, _dirty);
        tx.Commit();
        _pending.Clear();
        _dirty.Clear();
    }

    /// <summary>Gives a partition its number and watermark (creating its entry), and trims entries of rows it no longer has.</summary>
    public void Register(Partition p)
    {
        using var conn = Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = """
            INSERT INTO id_index (name, indexed_seq) VALUES ($name, 0) ON CONFLICT (name) DO NOTHING;
            SELECT part, indexed_seq FROM id_index WHERE name = $name;
            """;
        cmd.Parameters.AddWithValue("$name", p.Name);
        using (var reader = cmd.ExecuteReader())
        {
            reader.Read();
            p.Number = reader.GetInt64(0);
            p.IndexedSeq = reader.GetInt64(1);
        }

        if (p.IndexedSeq > p.NextSeq - 1)
        {
            // The partition lost rows the index knew (a file restored from a backup, a power loss
            // with the operating system's cache): forget them, or their re-sends would count as stored.
            using var trim = conn.CreateCommand();
            trim.CommandText = "DELETE FROM event_ids WHERE part = $part AND seq >= $next; UPDATE id_index SET indexed_seq = $last WHERE part = $part";
            trim.Parameters.AddWithValue("$part", p.Number);
            trim.Parameters.AddWithValue("$next", p.NextSeq);
            trim.Parameters.AddWithValue("$last", p.NextSeq - 1);
            trim.ExecuteNonQuery();
            LogTrimmed(p.Name, p.IndexedSeq, p.NextSeq - 1);
            p.IndexedSeq = p.NextSeq - 1;
        }
    }

    /// <summary>Indexes the rows of <paramref name="p"/> above its watermark (after a crash or a failed index write).</summary>
    public void CatchUp(Partition p)
    {
        if (p.IndexedSeq >= p.NextSeq - 1)
        {
            return;
        }

        // The watermark written below must not pass ids still held in memory.
        Flush();
        var from = p.IndexedSeq;
        long conflicts = 0;
        using var source = SqliteAuditStore.Open(p.Location.ConnectionString);
        using var conn = Open();
        while (from < p.NextSeq - 1)
        {
            using var tx = conn.BeginTransaction();
            using var select = source.CreateCommand();
            select.CommandText = CatchUpSelect(p);
            select.Parameters.AddWithValue("$from", from);
            select.Parameters.AddWithValue("$n", CatchUpChunk);
            using var insert = new IdInsert(conn);
            var read = 0;
            using (var reader = select.ExecuteReader())
            {
                while (reader.Read())
                {
                    read++;
                    var org = reader.GetString(0);
                    var id = reader.GetString(1);
                    from = reader.GetInt64(2);
                    if (!insert.Execute(org, id, p.Number, from))
                    {
                        conflicts++;
                    }

                    _filter?.Add(org, id);
                }
            }

            if (read == 0)
            {
                // No rows above the watermark: nothing is missing from the index.
                from = p.NextSeq - 1;
            }

            using var mark = conn.CreateCommand();
            mark.Transaction = tx;
            mark.CommandText = "UPDATE id_index SET indexed_seq = $seq WHERE part = $part";
            mark.Parameters.AddWithValue("$seq", from);
            mark.Parameters.AddWithValue("$part", p.Number);
            mark.ExecuteNonQuery();
            tx.Commit();
            p.IndexedSeq = from;
        }

        LogCaughtUp(p.Name, p.IndexedSeq);
        if (conflicts > 0)
        {
            // Only data written before the id index existed can hold such copies; they are kept (append-only).
            LogEarlierCopies(p.Name, conflicts);
        }
    }

    /// <summary>The rows above the watermark, from every table the partition has, in row order.</summary>
    private static string CatchUpSelect(Partition p)
    {
        var tables = "SELECT org_id, id, seq FROM events WHERE seq > $from";
        if (p.HasMid)
        {
            tables += " UNION ALL SELECT org_id, id, seq FROM events_mid WHERE seq > $from";
        }

        if (p.HasTail)
        {
            tables += " UNION ALL SELECT org_id, id, seq FROM events_tail WHERE seq > $from";
        }

        return "SELECT org_id, id, seq FROM (" + tables + ") ORDER BY seq LIMIT $n";
    }

    /// <summary>
    /// (Re)builds the filter from every id in the index, sized for twice as many: at start-up (after the
    /// catch-up) and whenever it fills. Reads the whole index once (≈ seconds at 10M ids).
    /// </summary>
    public void BuildFilter()
    {
        using var conn = Open();
        using var count = conn.CreateCommand();
        count.CommandText = "SELECT count(*) FROM event_ids";
        var n = Convert.ToInt64(count.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) + _pending.Count;
        var filter = new IdFilter(n * 2);
        using var all = conn.CreateCommand();
        all.CommandText = "SELECT org_id, id FROM event_ids";
        using (var reader = all.ExecuteReader())
        {
            while (reader.Read())
            {
                filter.Add(reader.GetString(0), reader.GetString(1));
            }
        }

        foreach (var (org, id) in _pending.Keys)
        {
            filter.Add(org, id);
        }

        _filter = filter;
    }

    /// <summary>Forgets the ids of a dropped partition; its number is never given out again.</summary>
    public void Forget(string partitionName)
    {
        foreach (var key in _pending.Where(x => x.Value.Partition.Name == partitionName).Select(x => x.Key).ToList())
        {
            _pending.Remove(key);
        }

        _dirty.RemoveWhere(p => p.Name == partitionName);
        using var conn = Open();
        using var tx = conn.BeginTransaction();
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;

        // event_ids has no index by partition (it would cost every append a second B-tree insert):
        // a drop, once a month per class, scans the id index instead.
        cmd.CommandText = """
            DELETE FROM event_ids WHERE part = (SELECT part FROM id_index WHERE name = $name);
            DELETE FROM id_index WHERE name = $name;
            """;
        cmd.Parameters.AddWithValue("$name", partitionName);
        cmd.ExecuteNonQuery();
        tx.Commit();
    }

    /// <summary>The names of partitions the index has entries for.</summary>
    public List<string> Names()
    {
        using var conn = Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT name FROM id_index";
        using var reader = cmd.ExecuteReader();
        var names = new List<string>();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    private SqliteConnection Open() =>
        PooledConnection.Open(connectionString, "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456;");

    private static void SetWatermarks(SqliteConnection conn, SqliteTransaction tx, IEnumerable<Partition> touched)
    {
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "UPDATE id_index SET indexed_seq = $seq WHERE part = $part";
        var seq = cmd.Parameters.Add("$seq", SqliteType.Integer);
        var part = cmd.Parameters.Add("$part", SqliteType.Integer);
        foreach (var p in touched)
        {
            seq.Value = p.IndexedSeq;
            part.Value = p.Number;
            cmd.ExecuteNonQuery();
        }
    }

    private static string KeysJson(IReadOnlyList<(string Org, string Id)> keys, List<int> ask)
    {
        var buffer = new ArrayBufferWriter<byte>(ask.Count * 48);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var k in ask)
            {
                var (org, id) = keys[k];
                w.WriteStartArray();
                w.WriteStringValue(org);
                w.WriteStringValue(id);
                w.WriteEndArray();
            }

            w.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Indexed the event ids of partition {Partition} up to row {Seq}")]
    private partial void LogCaughtUp(string partition, long seq);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition {Partition} holds {Count} events whose ids were already stored in another partition, written before the id index existed; they are kept, and further re-sends count as duplicates")]
    private partial void LogEarlierCopies(string partition, long count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The id index knew rows of partition {Partition} up to {Indexed} but the file ends at {Last}; the missing rows' ids were forgotten")]
    private partial void LogTrimmed(string partition, long indexed, long last);
}

/// <summary>One row a batch stored, for the id index.</summary>
internal readonly record struct StoredRow(Partition Partition, long Seq, string Org, string Id);
