using System.Globalization;
using Microsoft.Data.Sqlite;

namespace AuditPipeline.Embedded.Tests.Support;

/// <summary>What a store's owner can do with <c>sqlite3</c>: a plain connection to one file, no pooling, and raw statements.</summary>
internal static class RawSql
{
    public static SqliteConnection Open(string file)
    {
        var conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
        conn.Open();
        return conn;
    }

    public static void Execute(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public static object? Scalar(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    public static long Count(SqliteConnection conn, string sql) => Convert.ToInt64(Scalar(conn, sql), CultureInfo.InvariantCulture);

    /// <summary>The first column of every row <paramref name="sql"/> returns, as text.</summary>
    public static List<string> Strings(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    /// <summary>The rows of a partition file's <c>events</c> and <c>events_tail</c>.</summary>
    public static (long Events, long Tail) EventsAndTail(string file)
    {
        using var conn = Open(file);
        return (Count(conn, "SELECT count(*) FROM events"), Count(conn, "SELECT count(*) FROM events_tail"));
    }
}
