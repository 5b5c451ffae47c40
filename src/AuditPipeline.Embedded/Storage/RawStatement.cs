using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// What the inserts that talk to SQLite directly (<see cref="TailInsert"/>, <see cref="IdInsert"/>)
/// share: preparing their statement, and turning SQLite's error into the <see cref="SqliteException"/>
/// Microsoft.Data.Sqlite would have thrown, so <see cref="StoreErrors"/> classifies both alike.
/// </summary>
internal static class RawStatement
{
    public static sqlite3_stmt Prepare(sqlite3 db, string sql)
    {
        var rc = raw.sqlite3_prepare_v2(db, sql, out var stmt);
        if (rc != raw.SQLITE_OK)
        {
            throw Error(db, rc);
        }

        return stmt;
    }

    /// <summary>The connection's error now (read it before a reset could replace it), with its codes.</summary>
    public static SqliteException Error(sqlite3 db, int rc) =>
        new($"SQLite Error {rc}: '{raw.sqlite3_errmsg(db).utf8_to_string()}'.", rc, raw.sqlite3_extended_errcode(db));
}
