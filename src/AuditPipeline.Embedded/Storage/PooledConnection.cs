using Microsoft.Data.Sqlite;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// Opens a pooled connection and applies its pragmas, again on a fresh connection when the pool handed
/// out a handle that a pool clear disposed meanwhile. Microsoft.Data.Sqlite marks a connection it hands
/// out as active before it records its owner, and a clear in that gap reclaims it as leaked and disposes
/// its native handle (<c>ObjectDisposedException: SQLitePCL.sqlite3</c> on the first command): a
/// retention drop or an archive clears a partition's pool while a page or a stream may be opening it,
/// and any other code in the process may call <c>SqliteConnection.ClearAllPools</c>. The gap is only in
/// opening; a connection that has run its first command is owned.
/// </summary>
internal static class PooledConnection
{
    private const int Attempts = 3;

    public static SqliteConnection Open(string connectionString, string pragmas)
    {
        for (var attempt = 1; ; attempt++)
        {
            var conn = new SqliteConnection(connectionString);
            try
            {
                conn.Open();
                using var cmd = conn.CreateCommand();
                cmd.CommandText = pragmas;
                cmd.ExecuteNonQuery();
                return conn;
            }
            catch (ObjectDisposedException) when (attempt < Attempts)
            {
                conn.Dispose();
            }
            catch
            {
                conn.Dispose();
                throw;
            }
        }
    }
}
