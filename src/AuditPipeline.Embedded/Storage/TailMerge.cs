using System.Globalization;
using Microsoft.Data.Sqlite;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// Moves a partition's tail into its indexed table and full-text index in one transaction (see
/// <see cref="PartitionSchema"/>). A merge that fails leaves the tail as it was, still read by every
/// query; the next merge tries again. Runs under the store's write gate only.
/// </summary>
internal static class TailMerge
{
    /// <summary>Merges every tail row of <paramref name="p"/>; returns how many moved.</summary>
    public static long Run(Partition p, string synchronous)
    {
        if (p.TailRows == 0 || !p.HasTail)
        {
            return 0;
        }

        using var conn = SqliteAuditStore.Open(p.Location.ConnectionString, synchronous);
        using (var temp = conn.CreateCommand())
        {
            // The merge's second and third statements keep the prior content of pages they change in a
            // statement journal; in memory rather than a temporary file (measured: 4.4 -> 3.2 KB
            // written per event). Set back afterwards: the connection returns to the pool.
            temp.CommandText = "PRAGMA temp_store = MEMORY";
            temp.ExecuteNonQuery();
        }

        try
        {
            return Merge(p, conn);
        }
        finally
        {
            using var back = conn.CreateCommand();
            back.CommandText = "PRAGMA temp_store = DEFAULT";
            back.ExecuteNonQuery();
        }
    }

    private static long Merge(Partition p, SqliteConnection conn)
    {
        using var tx = conn.BeginTransaction();
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SELECT count(*), coalesce(max(seq), 0) FROM events_tail";
        long rows, upto;
        using (var reader = cmd.ExecuteReader())
        {
            reader.Read();
            rows = reader.GetInt64(0);
            upto = reader.GetInt64(1);
        }

        if (rows > 0)
        {
            cmd.CommandText = PartitionSchema.MergeTail;
            cmd.Parameters.AddWithValue("$upto", upto);
            cmd.ExecuteNonQuery();
        }

        tx.Commit();
        p.TailRows = 0;
        return rows;
    }

    /// <summary>The rows in the file's tail now (0 when it has none), read when a partition is loaded.</summary>
    public static long Count(SqliteConnection conn)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM events_tail";
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>Whether the file has the tail table (it was created or opened for writing by this version).</summary>
    public static bool Exists(SqliteConnection conn)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'events_tail'";
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
    }
}
