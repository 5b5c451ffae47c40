using System.Globalization;
using System.Security.Cryptography;
using AuditPipeline.Core.Integrity;
using Microsoft.Data.Sqlite;

namespace AuditPipeline.Integrity;

/// <summary>
/// The sealer's durable memory (<c>&lt;StatePath&gt;/state.db</c>, WAL, synchronous=FULL unless the embedded store runs NORMAL): every event
/// recorded with its hash and the digest that sealed it (null while pending), each chain's head, and
/// the outbox of sealed digests not yet in every sink. One connection, used under a lock: the observer
/// and the sealer take turns, each in one short transaction.
/// </summary>
internal sealed partial class IntegrityState : IDisposable
{
    public const string FileName = "state.db";

    private readonly SqliteConnection _conn;
    private readonly Lock _gate = new();
    private EntryInsert? _insert;

    /// <param name="directory">Where <c>state.db</c> lives.</param>
    /// <param name="fullSync">
    /// <c>synchronous=FULL</c> (default) or NORMAL: the state follows the embedded store's
    /// <c>Store:Embedded:Synchronous</c>, so a power loss takes the same last batches from both.
    /// </param>
    public IntegrityState(string directory, bool fullSync = true)
    {
        Directory.CreateDirectory(directory);
        _conn = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, FileName),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        _conn.Open();
        IntegrityStateSchema.Apply(_conn);
        Execute(fullSync ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;");
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
            using var tx = _conn.BeginTransaction();
            _insert ??= new EntryInsert(_conn);
            foreach (var (org, entry) in entries)
            {
                _insert.Execute(org, entry);
            }

            tx.Commit();
        }
    }

    /// <summary>The 32 bytes stored for a hex hash: half the size of its text, so more rows to a page.</summary>
    private static byte[] HashBytes(string hex) => Convert.FromHexString(hex);

    /// <summary>A stored hash as hex: BLOB since schema 1, TEXT in rows an older version wrote.</summary>
    private static string HashHex(SqliteDataReader r, int ordinal) =>
        r.GetValue(ordinal) is byte[] bytes ? Convert.ToHexStringLower(bytes) : r.GetString(ordinal);

    public IReadOnlyList<string> OrgsWithPending()
    {
        lock (_gate)
        {
            using var cmd = _conn.CreateCommand();
            cmd.CommandText = "SELECT DISTINCT org_id FROM entries WHERE seq IS NULL ORDER BY org_id";
            return ReadStrings(cmd);
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
    /// Seals the next digest of <paramref name="orgId"/> from its oldest pending entries, with the
    /// state's lock held only to read them and to commit: the Merkle root, the signature and the
    /// encoding (about half of a seal's cost) are made between the two, so the observer's records of
    /// new events (which take the same lock) wait for neither. The commit is one transaction: the
    /// signed digest goes to the outbox, its entries are marked, the chain moves on. Only one sealer
    /// calls this at a time (<see cref="DigestSealer"/>); should the chain have moved between the read
    /// and the commit, nothing is written and an <see cref="InvalidOperationException"/> says so.
    /// </summary>
    public Digest? Seal(string orgId, int maxEntries, DateTimeOffset now, DigestSigner signer)
    {
        (long Seq, string Hash)? head;
        var entries = new List<DigestEntry>();
        long firstN = 0, lastN = 0;
        lock (_gate)
        {
            head = HeadCore(orgId, null);
            using var cmd = _conn.CreateCommand();
            cmd.CommandText = "SELECT n, id, time_ms, hash FROM entries WHERE org_id = $o AND seq IS NULL ORDER BY n LIMIT $max";
            cmd.Parameters.AddWithValue("$o", orgId);
            cmd.Parameters.AddWithValue("$max", maxEntries);
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                lastN = r.GetInt64(0);
                firstN = entries.Count == 0 ? lastN : firstN;
                entries.Add(new DigestEntry(r.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2)), HashHex(r, 3)));
            }
        }

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
            if (HeadCore(orgId, tx) != head)
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

            MarkSealed(tx, orgId, firstN, lastN, digest.Seq);
            NoteSealed(tx, orgId, digest.Seq, now, firstN, lastN);
            SetHead(tx, orgId, digest.Seq, chainHash);
            tx.Commit();
        }

        return digest;
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

    /// <summary>
    /// Adopts a digest found in the directory beyond this state's chain head (the state was restored
    /// from an older copy, or lost): its entries count as sealed and the chain continues after it.
    /// </summary>
    public void Adopt(Digest digest)
    {
        lock (_gate)
        {
            using var tx = _conn.BeginTransaction();
            using (var mark = _conn.CreateCommand())
            using (var insert = _conn.CreateCommand())
            {
                // A pending row of the event is marked; an event the state never saw gets a sealed row.
                mark.Transaction = insert.Transaction = tx;
                mark.CommandText = "UPDATE entries SET seq = $s WHERE k = $k AND org_id = $o AND id = $i AND seq IS NULL";
                insert.CommandText = """
                    INSERT INTO entries (org_id, id, time_ms, hash, seq, k) SELECT $o, $i, $t, $h, $s, $k
                    WHERE NOT EXISTS (SELECT 1 FROM entries WHERE k = $k AND org_id = $o AND id = $i)
                    """;
                foreach (var e in digest.Entries)
                {
                    var key = IntegrityStateSchema.KeyOf(digest.OrgId, e.Id);
                    foreach (var cmd in new[] { mark, insert })
                    {
                        cmd.Parameters.Clear();
                        cmd.Parameters.AddWithValue("$s", digest.Seq);
                        cmd.Parameters.AddWithValue("$k", key);
                        cmd.Parameters.AddWithValue("$o", digest.OrgId);
                        cmd.Parameters.AddWithValue("$i", e.Id);
                    }

                    insert.Parameters.AddWithValue("$t", e.Time.ToUnixTimeMilliseconds());
                    insert.Parameters.AddWithValue("$h", HashBytes(e.Hash));
                    mark.ExecuteNonQuery();
                    insert.ExecuteNonQuery();
                }
            }

            using (var range = _conn.CreateCommand())
            {
                range.Transaction = tx;
                range.CommandText = "SELECT min(n), max(n) FROM entries WHERE org_id = $o AND seq = $s";
                range.Parameters.AddWithValue("$o", digest.OrgId);
                range.Parameters.AddWithValue("$s", digest.Seq);
                using var r = range.ExecuteReader();
                if (r.Read() && !r.IsDBNull(0))
                {
                    NoteSealed(tx, digest.OrgId, digest.Seq, digest.SealedAt, r.GetInt64(0), r.GetInt64(1));
                }
            }

            SetHead(tx, digest.OrgId, digest.Seq, DigestCodec.ChainHash(digest));
            tx.Commit();
        }
    }

    public long PendingCount()
    {
        lock (_gate)
        {
            using var cmd = _conn.CreateCommand();
            cmd.CommandText = "SELECT count(*) FROM entries WHERE seq IS NULL";
            return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
    }

    public void Dispose()
    {
        _insert?.Dispose();
        _insert = null;
        _conn.Dispose();
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

    /// <summary>
    /// Marks the pending entries of <paramref name="orgId"/> from row <paramref name="firstN"/> to
    /// <paramref name="lastN"/>, the ones just sealed: one statement over the pending index. Rows
    /// recorded since the read have higher numbers (a new row takes the highest number plus one).
    /// </summary>
    private void MarkSealed(SqliteTransaction tx, string orgId, long firstN, long lastN, long seq)
    {
        using var cmd = _conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "UPDATE entries SET seq = $s WHERE org_id = $o AND seq IS NULL AND n BETWEEN $first AND $last";
        cmd.Parameters.AddWithValue("$s", seq);
        cmd.Parameters.AddWithValue("$o", orgId);
        cmd.Parameters.AddWithValue("$first", firstN);
        cmd.Parameters.AddWithValue("$last", lastN);
        cmd.ExecuteNonQuery();
    }

    private void Execute(string sql)
    {
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static List<string> ReadStrings(SqliteCommand cmd)
    {
        using var r = cmd.ExecuteReader();
        var list = new List<string>();
        while (r.Read())
        {
            list.Add(r.GetString(0));
        }

        return list;
    }
}
