using System.Runtime.CompilerServices;
using AuditPipeline.Core.Integrity;
using Microsoft.Data.Sqlite;

namespace AuditPipeline.Integrity;

/// <summary>
/// The embedded store's own copy of the digests (<c>&lt;Store:Embedded:Path&gt;/digests.db</c>), which
/// the API serves. Write-once like the events: a second write of the same (org, seq) is ignored, and
/// triggers refuse UPDATE and DELETE.
/// </summary>
internal sealed class SqliteDigestCopy : IDigestStoreCopy
{
    public const string FileName = "digests.db";
    private readonly string _connectionString;

    public SqliteDigestCopy(string storePath)
    {
        Directory.CreateDirectory(storePath);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(storePath, FileName),
            Mode = SqliteOpenMode.ReadWriteCreate,
            // Not pooled: a digest is written once per seal and read a page at a time, so an open per
            // use costs nothing that shows, and a pooled handle can be disposed by a pool clear elsewhere
            // in the process while it is being opened (see the embedded store's PooledConnection).
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString();
        using var conn = Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS digests (
                org_id TEXT NOT NULL, seq INTEGER NOT NULL, events_from_ms INTEGER NOT NULL, events_to_ms INTEGER NOT NULL,
                body BLOB NOT NULL, PRIMARY KEY (org_id, seq));
            CREATE TRIGGER IF NOT EXISTS digests_no_update BEFORE UPDATE ON digests
            BEGIN SELECT RAISE(ABORT, 'digests are append-only: UPDATE is not allowed'); END;
            CREATE TRIGGER IF NOT EXISTS digests_no_delete BEFORE DELETE ON digests
            BEGIN SELECT RAISE(ABORT, 'digests are append-only: DELETE is not allowed'); END;
            """;
        cmd.ExecuteNonQuery();
    }

    public string Name => "store copy";

    public Task PublishAsync(Digest digest, ReadOnlyMemory<byte> canonical, CancellationToken cancellationToken)
    {
        using var conn = Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "PRAGMA synchronous = FULL; INSERT INTO digests (org_id, seq, events_from_ms, events_to_ms, body) VALUES ($o, $s, $f, $t, $b) ON CONFLICT DO NOTHING";
        cmd.Parameters.AddWithValue("$o", digest.OrgId);
        cmd.Parameters.AddWithValue("$s", digest.Seq);
        cmd.Parameters.AddWithValue("$f", digest.EventsFrom.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$t", digest.EventsTo.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$b", canonical.ToArray());
        cmd.ExecuteNonQuery();
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<Digest> ReadAsync(string orgId, DateTimeOffset? from, DateTimeOffset? to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Keyset pages by seq: constant memory, no read transaction held while the response is written.
        long after = 0;
        while (true)
        {
            var page = new List<(long Seq, byte[] Body)>();
            using (var conn = Open())
            using (var cmd = conn.CreateCommand())
            {
                cmd.CommandText = """
                    SELECT seq, body FROM digests WHERE org_id = $o AND seq > $after
                      AND events_to_ms >= $from AND events_from_ms < $to ORDER BY seq LIMIT 100
                    """;
                cmd.Parameters.AddWithValue("$o", orgId);
                cmd.Parameters.AddWithValue("$after", after);
                cmd.Parameters.AddWithValue("$from", from?.ToUnixTimeMilliseconds() ?? long.MinValue);
                cmd.Parameters.AddWithValue("$to", to?.ToUnixTimeMilliseconds() ?? long.MaxValue);
                using var r = cmd.ExecuteReader();
                while (r.Read())
                {
                    page.Add((r.GetInt64(0), r.GetFieldValue<byte[]>(1)));
                }
            }

            foreach (var (seq, body) in page)
            {
                after = seq;
                yield return DigestCodec.Decode(body);
            }

            if (page.Count < 100)
            {
                yield break;
            }

            await Task.Yield();
        }
    }

    private SqliteConnection Open()
    {
        var conn = new SqliteConnection(_connectionString);
        conn.Open();
        return conn;
    }
}
