using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// Turns a connection's triggers off for the store's own writes to a partition file (a batch's tail
/// insert, a merge), and back on when disposed, before the connection returns to the pool.
/// <para>The append-only triggers (<see cref="PartitionSchema"/>) are there for every other writer: a
/// <c>sqlite3</c> shell, a script, a bug elsewhere in the process. The store's own statements cannot do
/// what they refuse. Each is a plain <c>INSERT</c>, which aborts on a row number or an (org, id) that is
/// already taken, without <c>OR REPLACE</c>. Each merge deletes from its source exactly the rows the same
/// transaction has just inserted (the same <c>seq</c> bound). For those writes the guards only repeat
/// look-ups the insert makes anyway, and run a trigger program per row: about a quarter of a row's CPU
/// from its tail insert to the end of its merge (measured with the <c>sqlite3</c> shell,
/// <c>tests/AuditPipeline.Benchmarks/scripts/cycle-cost.sh</c>: 34–37 µs a row with the triggers,
/// 25 µs without). Tests hold the guards for every other connection, and the merges to their rows.</para>
/// <para>If SQLite refuses the setting (a build without <c>SQLITE_DBCONFIG_ENABLE_TRIGGER</c>), the
/// triggers stay on: slower, and just as correct.</para>
/// </summary>
internal readonly struct OwnWrites : IDisposable
{
    private readonly SqliteConnection? _conn;

    private OwnWrites(SqliteConnection conn) => _conn = conn;

    /// <summary>Whether the connection's triggers fire now (what a test checks around a write).</summary>
    public static bool TriggersOn(SqliteConnection conn) => Set(Handle(conn), -1) != 0;

    /// <summary>Turns the triggers of <paramref name="conn"/> off until the result is disposed.</summary>
    public static OwnWrites Begin(SqliteConnection conn) =>
        Set(Handle(conn), 0) == 0 ? new OwnWrites(conn) : default;

    public void Dispose()
    {
        if (_conn?.Handle is { } db && Set(db, 1) != 1)
        {
            // A handle without its guards must not be handed out again: the pool disposes it on return.
            SqliteConnection.ClearPool(_conn);
        }
    }

    private static sqlite3 Handle(SqliteConnection conn) =>
        conn.Handle ?? throw new InvalidOperationException("The partition connection is not open.");

    /// <summary>Sets the option (-1 leaves it) and returns its state after, or -1 when SQLite refused.</summary>
    private static int Set(sqlite3 db, int value) =>
        raw.sqlite3_db_config(db, raw.SQLITE_DBCONFIG_ENABLE_TRIGGER, value, out var state) == raw.SQLITE_OK ? state : -1;
}
