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
}
