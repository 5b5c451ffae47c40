using System.Globalization;
using System.Security.Cryptography;
using AuditPipeline.Core.Integrity;
using Microsoft.Data.Sqlite;

namespace AuditPipeline.Integrity;

/// <summary>
/// The sealer's durable memory (<c>&lt;StatePath&gt;/state.db</c>, WAL, synchronous=FULL unless the embedded store runs NORMAL): every event
/// recorded with its hash and the digest that sealed it (null while pending), each chain's head, and
/// the outbox of sealed digests not yet in every sink. One connection writes, under a lock: the
/// observer and the sealer take turns, each in one short transaction; the sealer reads the pending
/// rows on a second connection without the lock (WAL readers see the last commit). Each
/// organisation's mark (the row number it is sealed through) and highest recorded row are also kept
/// in memory, so finding what is pending reads no table.
/// </summary>
internal sealed partial class IntegrityState : IDisposable
{
    public const string FileName = "state.db";

    private readonly SqliteConnection _conn;
    private readonly SqliteConnection _reader;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _marks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _lastRecorded = new(StringComparer.Ordinal);
    private EntryInsert? _insert;

    // The next row number. Rows are numbered here, not by SQLite (which would give the highest number
    // again once the rows holding it were pruned): a number at most an organisation's mark counts as sealed.
    private long _nextN;

    /// <param name="directory">Where <c>state.db</c> lives.</param>
    /// <param name="fullSync">
    /// <c>synchronous=FULL</c> (default) or NORMAL: the state follows the embedded store's
    /// <c>Store:Embedded:Synchronous</c>, so a power loss takes the same last batches from both.
    /// </param>
    public IntegrityState(string directory, bool fullSync = true)
    {
        Directory.CreateDirectory(directory);
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, FileName),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString();
        _conn = new SqliteConnection(connectionString);
        _conn.Open();
        IntegrityStateSchema.Apply(_conn);
        Execute(fullSync ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;");
        LoadMarks();
        _reader = new SqliteConnection(connectionString);
        _reader.Open();
    }

    /// <summary>Of the given (org, id) pairs, those already recorded.</summary>
    public HashSet<(string Org, string Id)> Known(IEnumerable<(string Org, string Id)> keys)
    {
        lock (_gate)
        {
            var known = new HashSet<(string, string)>();
            using var cmd = _conn.CreateCommand();
            cmd.CommandText = "SELECT 1 FROM entries WHERE k = $k AND org_id = $o AND id = $i";
            var k = cmd.Parameters.Add("$k", SqliteType.Integer);
            var o = cmd.Parameters.Add("$o", SqliteType.Text);
            var i = cmd.Parameters.Add("$i", SqliteType.Text);
            foreach (var key in keys)
            {
                (k.Value, o.Value, i.Value) = (IntegrityStateSchema.KeyOf(key.Org, key.Id), key.Org, key.Id);
                if (cmd.ExecuteScalar() is not null)
                {
                    known.Add(key);
                }
            }

            return known;
        }
    }

    /// <summary>
    /// Records events durably (one transaction). Only events the store has just stored, or that
    /// <see cref="Known"/> does not know, come here: nothing checks for a row already there, which would
    /// cost a unique index per event. Should one come twice, it is sealed twice, which verify accepts.
    /// </summary>
    public void Record(IReadOnlyList<(string Org, DigestEntry Entry)> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            var last = new Dictionary<string, long>(StringComparer.Ordinal);
            var n = _nextN;
            try
            {
                using var tx = _conn.BeginTransaction();
                _insert ??= new EntryInsert(_conn);
                foreach (var (org, entry) in entries)
                {
                    _insert.Execute(n, org, entry);
                    last[org] = n++;
                }

                tx.Commit();
            }
            catch (Exception ex) when (ex is SqliteException or IOException)
            {
                // Whether or not the rows reached the file (a commit can fail after writing), the next
                // number comes from what the tables hold, so a retry never collides with a row; and the
                // organisations count as pending (a seal that finds nothing there seals nothing).
                try
                {
                    NextRowNumberFromTables();
                }
                catch (SqliteException)
                {
                    // Unreadable now: the retry's own error will say so, and it comes back here.
                }

                NoteRecorded(last);
                throw;
            }

            _nextN = n;
            NoteRecorded(last);
        }
    }

    /// <summary>The 32 bytes stored for a hex hash: half the size of its text, so more rows to a page.</summary>
    private static byte[] HashBytes(string hex) => Convert.FromHexString(hex);

    /// <summary>A stored hash as hex: BLOB since schema 1, TEXT in rows an older version wrote.</summary>
    private static string HashHex(SqliteDataReader r, int ordinal) =>
        r.GetValue(ordinal) is byte[] bytes ? Convert.ToHexStringLower(bytes) : r.GetString(ordinal);

    /// <summary>The organisations with a recorded row above their mark, in ordinal order.</summary>
    public IReadOnlyList<string> OrgsWithPending()
    {
        lock (_gate)
        {
            return [.. _lastRecorded.Where(o => o.Value > MarkOf(o.Key)).Select(o => o.Key).Order(StringComparer.Ordinal)];
        }
    }

    public (long Seq, string Hash)? Head(string orgId)
    {
        lock (_gate)
        {
            return HeadCore(orgId, null);
        }
    }

    /// <summary>
    /// Seals the next digest of <paramref name="orgId"/> from its oldest pending entries. The lock the
    /// observer's records take is held only for the commit: the pending rows are read on the reader
    /// connection, and the Merkle root, the signature and the encoding are made before the commit. The
    /// commit is one small transaction: the signed digest goes to the outbox, the organisation's mark
    /// moves to the last row sealed (no row is rewritten), the chain moves on. Every pending row of the
    /// organisation up to that row is in the digest: rows are numbered in the order they commit (one
    /// writer numbering them from the highest number it ever gave, <see cref="_nextN"/>), so a row
    /// recorded after the read has a higher number. Only one sealer calls this at a time
    /// (<see cref="DigestSealer"/>); should the chain have moved between the read and the commit,
    /// nothing is written and an <see cref="InvalidOperationException"/> says so.
    /// </summary>
    public Digest? Seal(string orgId, int maxEntries, DateTimeOffset now, DigestSigner signer)
    {
        (long Seq, string Hash)? head;
        long mark;
        lock (_gate)
        {
            head = HeadCore(orgId, null);
            mark = MarkOf(orgId);
        }

        var (entries, firstN, lastN) = ReadPending(orgId, mark, maxEntries);
        if (entries.Count == 0)
        {
            return null;
        }

        var digest = signer.Sign(new Digest
        {
            OrgId = orgId,
            Seq = (head?.Seq ?? 0) + 1,
            PreviousHash = head?.Hash,
            SealedAt = now,
            Entries = entries,
            MerkleRoot = Digest.MerkleRootOf(entries),
            KeyId = signer.KeyId,
        });
        var body = DigestCodec.Encode(digest);
        var chainHash = Convert.ToHexStringLower(SHA256.HashData(body));
        lock (_gate)
        {
            using var tx = _conn.BeginTransaction();
            if (HeadCore(orgId, tx) != head || MarkOf(orgId) != mark)
            {
                throw new InvalidOperationException($"The chain of {orgId} moved while digest {digest.Seq} was being sealed; another sealer shares this state.");
            }

            using (var cmd = _conn.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = "INSERT INTO outbox (org_id, seq, body) VALUES ($o, $s, $b)";
                cmd.Parameters.AddWithValue("$o", orgId);
                cmd.Parameters.AddWithValue("$s", digest.Seq);
                cmd.Parameters.AddWithValue("$b", body);
                cmd.ExecuteNonQuery();
            }

            SetMark(tx, orgId, lastN);
            NoteSealed(tx, orgId, digest.Seq, now, firstN, lastN);
            SetHead(tx, orgId, digest.Seq, chainHash);
            tx.Commit();
            _marks[orgId] = lastN;
        }

        return digest;
    }

    /// <summary>The oldest pending rows of an organisation above its mark, read without the lock.</summary>
    private (List<DigestEntry> Entries, long FirstN, long LastN) ReadPending(string orgId, long mark, int maxEntries)
    {
        var entries = new List<DigestEntry>();
        long firstN = 0, lastN = 0;
        using var cmd = _reader.CreateCommand();
        cmd.CommandText = "SELECT n, id, time_ms, hash FROM entries WHERE org_id = $o AND seq IS NULL AND n > $mark ORDER BY n LIMIT $max";
        cmd.Parameters.AddWithValue("$o", orgId);
        cmd.Parameters.AddWithValue("$mark", mark);
        cmd.Parameters.AddWithValue("$max", maxEntries);
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            lastN = r.GetInt64(0);
            firstN = entries.Count == 0 ? lastN : firstN;
            entries.Add(new DigestEntry(r.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2)), HashHex(r, 3)));
        }

        return (entries, firstN, lastN);
    }

    /// <summary>The sealed digests some sink has not taken yet, oldest first.</summary>
    public IReadOnlyList<(string Org, long Seq, byte[] Body)> Outbox()
    {
        lock (_gate)
        {
            using var cmd = _conn.CreateCommand();
            cmd.CommandText = "SELECT org_id, seq, body FROM outbox ORDER BY org_id, seq";
            using var r = cmd.ExecuteReader();
            var list = new List<(string, long, byte[])>();
            while (r.Read())
            {
                list.Add((r.GetString(0), r.GetInt64(1), r.GetFieldValue<byte[]>(2)));
            }

            return list;
        }
    }

    public void Delivered(string orgId, long seq)
    {
        lock (_gate)
        {
            using var cmd = _conn.CreateCommand();
            cmd.CommandText = "DELETE FROM outbox WHERE org_id = $o AND seq = $s";
            cmd.Parameters.AddWithValue("$o", orgId);
            cmd.Parameters.AddWithValue("$s", seq);
            cmd.ExecuteNonQuery();
        }
    }

    public long PendingCount()
    {
        lock (_gate)
        {
            using var cmd = _conn.CreateCommand();
            cmd.CommandText = "SELECT count(*) FROM entries WHERE org_id = $o AND seq IS NULL AND n > $mark";
            var o = cmd.Parameters.Add("$o", SqliteType.Text);
            var m = cmd.Parameters.Add("$mark", SqliteType.Integer);
            long count = 0;
            foreach (var org in _lastRecorded.Keys)
            {
                (o.Value, m.Value) = (org, MarkOf(org));
                count += Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
            }

            return count;
        }
    }

    public void Dispose()
    {
        _insert?.Dispose();
        _insert = null;
        _reader.Dispose();
        _conn.Dispose();
    }

    private long MarkOf(string orgId) => _marks.GetValueOrDefault(orgId);

    private void NoteRecorded(Dictionary<string, long> highestByOrg)
    {
        foreach (var (org, highest) in highestByOrg)
        {
            _lastRecorded[org] = Math.Max(_lastRecorded.GetValueOrDefault(org), highest);
        }
    }

    /// <summary>
    /// Start-up: the marks, the next row number (above every row, mark and sealed range, so also above
    /// rows since pruned), and each organisation's highest row without a <c>seq</c>, found one
    /// organisation at a time over the pending index (a seek per organisation, never a scan of the rows).
    /// </summary>
    private void LoadMarks()
    {
        NextRowNumberFromTables();
        using (var marks = _conn.CreateCommand())
        {
            marks.CommandText = "SELECT org_id, sealed_n FROM marks";
            using var r = marks.ExecuteReader();
            while (r.Read())
            {
                _marks[r.GetString(0)] = r.GetInt64(1);
            }
        }

        using var next = _conn.CreateCommand();
        next.CommandText = "SELECT org_id FROM entries WHERE seq IS NULL AND org_id > $p ORDER BY org_id LIMIT 1";
        var previous = next.Parameters.Add("$p", SqliteType.Text);
        using var last = _conn.CreateCommand();
        last.CommandText = "SELECT max(n) FROM entries WHERE seq IS NULL AND org_id = $o";
        var org = last.Parameters.Add("$o", SqliteType.Text);
        previous.Value = "";
        while (next.ExecuteScalar() is string o)
        {
            org.Value = o;
            _lastRecorded[o] = Convert.ToInt64(last.ExecuteScalar(), CultureInfo.InvariantCulture);
            previous.Value = o;
        }
    }

    private void NextRowNumberFromTables()
    {
        using var high = _conn.CreateCommand();
        high.CommandText = """
            SELECT max(coalesce((SELECT max(n) FROM entries), 0), coalesce((SELECT max(sealed_n) FROM marks), 0),
                       coalesce((SELECT max(last_n) FROM sealed), 0))
            """;
        _nextN = Math.Max(_nextN, Convert.ToInt64(high.ExecuteScalar(), CultureInfo.InvariantCulture) + 1);
    }

    private void SetMark(SqliteTransaction tx, string orgId, long sealedThrough)
    {
        using var cmd = _conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO marks (org_id, sealed_n) VALUES ($o, $n) ON CONFLICT (org_id) DO UPDATE SET sealed_n = $n";
        cmd.Parameters.AddWithValue("$o", orgId);
        cmd.Parameters.AddWithValue("$n", sealedThrough);
        cmd.ExecuteNonQuery();
    }

    private (long Seq, string Hash)? HeadCore(string orgId, SqliteTransaction? tx)
    {
        using var cmd = _conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SELECT seq, hash FROM chains WHERE org_id = $o";
        cmd.Parameters.AddWithValue("$o", orgId);
        using var r = cmd.ExecuteReader();
        return r.Read() ? (r.GetInt64(0), r.GetString(1)) : null;
    }

    private void SetHead(SqliteTransaction tx, string orgId, long seq, string hash)
    {
        using var cmd = _conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO chains (org_id, seq, hash) VALUES ($o, $s, $h) ON CONFLICT (org_id) DO UPDATE SET seq = $s, hash = $h";
        cmd.Parameters.AddWithValue("$o", orgId);
        cmd.Parameters.AddWithValue("$s", seq);
        cmd.Parameters.AddWithValue("$h", hash);
        cmd.ExecuteNonQuery();
    }

    private void Execute(string sql)
    {
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
