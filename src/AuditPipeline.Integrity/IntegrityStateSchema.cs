using System.Globalization;
using Microsoft.Data.Sqlite;

namespace AuditPipeline.Integrity;

/// <summary>
/// The state database's layout and its one migration. Every stored event adds a row, so the row's
/// indexes are most of what sealing costs per event: an event is found by a 64-bit key of its
/// (org, id) in a plain index (<see cref="KeyOf"/>; a collision costs one more comparison), not by a
/// unique index over the two strings. A row is sealed when its digest's number is in <c>seq</c> (rows
/// a digest adopted from the directory, rows sealed before version 2) or when its number is at most its
/// organisation's mark in <c>marks</c>; pending rows are found by a partial index over the rows
/// without a <c>seq</c>, above the mark.
/// <c>sealed</c> lists each digest this state sealed or adopted with the range of row numbers its
/// entries have, so pruning deletes a digest's rows by a range, never a scan of the table.
/// </summary>
internal static class IntegrityStateSchema
{
    /// <summary>
    /// 1: hashes as BLOB(32), the key column k and its index instead of the unique (org_id, id).
    /// 2: <c>marks</c>, each organisation's sealed-through row number: a seal moves it instead of
    /// updating the rows it sealed (nothing to convert; an organisation without a mark has sealed
    /// nothing that way).
    /// </summary>
    public const long Version = 2;

    private const string Tables = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS entries (
            n       INTEGER PRIMARY KEY,
            org_id  TEXT    NOT NULL,
            id      TEXT    NOT NULL,
            time_ms INTEGER NOT NULL,
            hash    BLOB    NOT NULL,
            seq     INTEGER,
            k       INTEGER
        );
        CREATE INDEX IF NOT EXISTS ix_pending ON entries (org_id, n) WHERE seq IS NULL;
        CREATE TABLE IF NOT EXISTS chains (org_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS marks (org_id TEXT PRIMARY KEY, sealed_n INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS outbox (org_id TEXT NOT NULL, seq INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY (org_id, seq));
        CREATE TABLE IF NOT EXISTS sealed (
            org_id    TEXT    NOT NULL,
            seq       INTEGER NOT NULL,
            sealed_ms INTEGER NOT NULL,
            first_n   INTEGER NOT NULL,
            last_n    INTEGER NOT NULL,
            PRIMARY KEY (org_id, seq)
        ) WITHOUT ROWID;
        """;

    /// <summary>
    /// FNV-1a over the UTF-16 of org, a separator no id holds, and id: stable across processes and
    /// versions (unlike string.GetHashCode), and cheap next to the row it keys.
    /// </summary>
    public static long KeyOf(string org, string id)
    {
        var h = 14695981039346656037UL;
        foreach (var c in org)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        h = (h ^ 0xFFFF) * 1099511628211UL;
        foreach (var c in id)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        return unchecked((long)h);
    }

    /// <summary>Creates the tables, or brings a database an older version wrote up to <see cref="Version"/>.</summary>
    public static void Apply(SqliteConnection conn)
    {
        Execute(conn, Tables);
        if (Scalar(conn, "PRAGMA user_version") >= Version)
        {
            return;
        }

        // Version 0 had no key column and a unique index over (org_id, id); its TEXT hashes stay as they
        // are (readers take either). One pass over the old rows, once.
        using var tx = conn.BeginTransaction();
        if (Scalar(conn, "SELECT count(*) FROM pragma_table_info('entries') WHERE name = 'k'", tx) == 0)
        {
            Execute(conn, "ALTER TABLE entries ADD COLUMN k INTEGER", tx);
        }

        var rows = new List<(long N, long K)>();
        using (var read = conn.CreateCommand())
        {
            read.Transaction = tx;
            read.CommandText = "SELECT n, org_id, id FROM entries WHERE k IS NULL";
            using var r = read.ExecuteReader();
            while (r.Read())
            {
                rows.Add((r.GetInt64(0), KeyOf(r.GetString(1), r.GetString(2))));
            }
        }

        using (var update = conn.CreateCommand())
        {
            update.Transaction = tx;
            update.CommandText = "UPDATE entries SET k = $k WHERE n = $n";
            var k = update.Parameters.Add("$k", SqliteType.Integer);
            var n = update.Parameters.Add("$n", SqliteType.Integer);
            foreach (var row in rows)
            {
                (n.Value, k.Value) = (row.N, row.K);
                update.ExecuteNonQuery();
            }
        }

        Execute(conn, "DROP INDEX IF EXISTS ux_entries; CREATE INDEX IF NOT EXISTS ix_key ON entries (k);", tx);
        Execute(conn, "PRAGMA user_version = " + Version.ToString(CultureInfo.InvariantCulture), tx);
        tx.Commit();
    }

    private static void Execute(SqliteConnection conn, string sql, SqliteTransaction? tx = null)
    {
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static long Scalar(SqliteConnection conn, string sql, SqliteTransaction? tx = null)
    {
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}
