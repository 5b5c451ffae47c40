using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// Moves a partition's tail into its indexed table and full-text index in one transaction (see
/// <see cref="PartitionSchema"/>), into <c>events</c> or, for a tail spread over a large month,
/// <c>events_mid</c>, or split between the two (a few late events among live ones; see
/// <see cref="MergeLevels.Route"/>); <c>events_mid</c> moves into <c>events</c> whole, in a transaction
/// of its own, once it is full. A merge that fails leaves its source as it was, still read by
/// every query; the next merge tries again. Runs under the store's write gate only.
/// </summary>
internal static class TailMerge
{
    /// <summary>Merges every tail row of <paramref name="p"/>; returns how many moved.</summary>
    public static long Run(Partition p, string synchronous, MergeLevels levels)
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
            using var own = OwnWrites.Begin(conn);
            var moved = Merge(p, conn, levels);
            if (p.MidRows > 0 && p.MidRows >= levels.MidCap(p.EventsRows))
            {
                levels.OneAtATime(() => MergeMid(p, conn, levels.MidMergeCacheBytes));
            }

            return moved;
        }
        finally
        {
            using var back = conn.CreateCommand();
            back.CommandText = "PRAGMA temp_store = DEFAULT";
            back.ExecuteNonQuery();
        }
    }

    private static long Merge(Partition p, SqliteConnection conn, MergeLevels levels)
    {
        using var tx = conn.BeginTransaction();
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;

        // The tail as this transaction sees it: the writer appends only under the gate this merge holds.
        var times = new List<long>(levels.MergeRows);
        long upto = 0;
        cmd.CommandText = "SELECT seq, time_ms FROM events_tail";
        using (var reader = cmd.ExecuteReader())
        {
            while (reader.Read())
            {
                upto = Math.Max(upto, reader.GetInt64(0));
                times.Add(reader.GetInt64(1));
            }
        }

        long moved = 0, toMid = 0;
        if (times.Count > 0)
        {
            var route = levels.Route(p, CollectionsMarshal.AsSpan(times));
            cmd.Parameters.AddWithValue("$upto", upto);
            cmd.Parameters.AddWithValue("$cut", route.CutMs);
            (moved, toMid) = route.Destination switch
            {
                TailDestination.Events => (Execute(cmd, PartitionSchema.MergeTail), 0L),
                TailDestination.Mid => (0L, Execute(cmd, PartitionSchema.MergeTailToMid)),
                _ => (Execute(cmd, PartitionSchema.MergeTailFromCut), Execute(cmd, PartitionSchema.MergeTailBeforeCut)),
            };

            Execute(cmd, PartitionSchema.MergeTailText);

            // The delete runs without the tail's guard (OwnWrites): it must remove exactly the rows the
            // statements above moved, or the merge is undone.
            var removed = Execute(cmd, PartitionSchema.MergeTailDelete);
            if (moved + toMid != times.Count || removed != times.Count)
            {
                throw new TailMergeException(FormattableString.Invariant(
                    $"Merging partition {p.Name} moved {moved + toMid} and removed {removed} of its {times.Count} tail rows; the merge was undone."));
            }
        }

        tx.Commit();
        p.TailRows = 0;
        p.MidRows += toMid;
        if (moved > 0)
        {
            // The newest rows went to events (a split sends only older ones on): they set its edge.
            p.EdgeMs = Math.Max(p.EdgeMs ?? long.MinValue, MergeLevels.High(CollectionsMarshal.AsSpan(times)));
        }

        return times.Count;
    }

    private static long Execute(SqliteCommand cmd, string sql)
    {
        cmd.CommandText = sql;
        return cmd.ExecuteNonQuery();
    }

    /// <summary>
    /// Moves all of <c>events_mid</c> into <c>events</c>: one transaction. Its rows land all over
    /// <c>events</c>'s indexes, so the connection's page cache is raised for it to hold them (up to
    /// the file's size and <paramref name="cacheBytes"/>): each index page is then read and written once
    /// per move instead of once per row that lands on it.
    /// </summary>
    private static void MergeMid(Partition p, SqliteConnection conn, long cacheBytes)
    {
        var fileBytes = new FileInfo(p.Location.FilePath).Length;
        var cacheKiB = Math.Max(SqliteAuditStore.PageCacheKiB, Math.Min(fileBytes, cacheBytes) / 1024);
        Pragma(conn, FormattableString.Invariant($"PRAGMA cache_size = -{cacheKiB}"));
        try
        {
            using var tx = conn.BeginTransaction();
            using var cmd = conn.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = PartitionSchema.MergeMid;
            cmd.ExecuteNonQuery();
            tx.Commit();
            p.MidRows = 0;
        }
        finally
        {
            // Back to what every pooled connection has: the pages above it are freed.
            Pragma(conn, SqliteAuditStore.PageCachePragma);
        }
    }

    private static void Pragma(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>The rows in the file's tail now (0 when it has none), read when a partition is loaded.</summary>
    public static long Count(SqliteConnection conn)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM events_tail";
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The right edge of <c>events</c>'s time index as the writer finds the file: the 99th percentile of
    /// the times of the last 1,000 rows by row number (the rows merged there last); null when empty.
    /// </summary>
    public static long? Edge(SqliteConnection conn)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT time_ms FROM events ORDER BY seq DESC LIMIT 1000";
        var times = new List<long>(1000);
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            times.Add(reader.GetInt64(0));
        }

        if (times.Count == 0)
        {
            return null;
        }

        var span = CollectionsMarshal.AsSpan(times);
        span.Sort();
        return MergeLevels.High(span);
    }

    /// <summary>The rows in the file's <c>events_mid</c> now, read when a partition is loaded by the writer.</summary>
    public static long CountMid(SqliteConnection conn)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM events_mid";
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>Whether the file has the table <paramref name="table"/> (the tail and the middle level exist once this version has opened the file for writing).</summary>
    public static bool Exists(SqliteConnection conn, string table = "events_tail")
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $name";
        cmd.Parameters.AddWithValue("$name", table);
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
    }
}

/// <summary>A merge that would not have moved every tail row it removes; it is undone and tried again.</summary>
internal sealed class TailMergeException(string message) : Exception(message);
