using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// The prepared insert of one event into a partition's tail, reused for a partition's whole part of a
/// batch. It talks to SQLite directly (SQLitePCLRaw, the library under Microsoft.Data.Sqlite): the
/// seventeen values are bound by position, where the ADO.NET layer looks every parameter up by name and
/// builds a data reader per execution (about a third of the insert's cost, measured). A row SQLite
/// refuses for this event alone (a missing required field, a value too big) is rejected with SQLite's
/// reason and the transaction goes on; any other error is thrown as a <see cref="SqliteException"/>.
/// </summary>
internal sealed class TailInsert : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _stmt;

    public TailInsert(SqliteConnection conn)
    {
        _db = conn.Handle ?? throw new InvalidOperationException("The partition connection is not open.");
        _stmt = RawStatement.Prepare(_db, PartitionSchema.InsertTail);
    }

    /// <summary>Stored, or Rejected for this event alone.</summary>
    public AppendResult Execute(long seq, AuditEvent e, byte[] doc, string body)
    {
        raw.sqlite3_bind_int64(_stmt, 1, seq);
        raw.sqlite3_bind_text(_stmt, 2, e.OrgId);
        raw.sqlite3_bind_text(_stmt, 3, e.Id);
        raw.sqlite3_bind_int64(_stmt, 4, SqlTime.ToUnixMs(e.Time));
        Text(5, e.Action);
        Text(6, e.Actor?.Id);
        Text(7, e.Entity?.Type);
        Text(8, e.Entity?.Id);
        Text(9, e.Category);
        Text(10, e.Source);
        Text(11, e.Outcome);
        raw.sqlite3_bind_int(_stmt, 12, e.Ai is null ? 0 : 1);
        Text(13, e.Actor?.Name);
        Text(14, e.Actor?.Email);
        Text(15, e.Entity?.Name);
        raw.sqlite3_bind_blob(_stmt, 16, doc);
        raw.sqlite3_bind_text(_stmt, 17, body);
        var rc = raw.sqlite3_step(_stmt);
        if (rc == raw.SQLITE_DONE)
        {
            raw.sqlite3_reset(_stmt);
            return AppendResult.Stored;
        }

        // The step's own error, read before the reset.
        var error = RawStatement.Error(_db, rc);
        raw.sqlite3_reset(_stmt);
        if (StoreErrors.IsPerEvent(error))
        {
            return AppendResult.Rejected($"the embedded store refused the event: {error.Message}");
        }

        throw error;
    }

    public void Dispose() => _stmt.Dispose();

    private void Text(int index, string? value)
    {
        if (value is null)
        {
            raw.sqlite3_bind_null(_stmt, index);
        }
        else
        {
            raw.sqlite3_bind_text(_stmt, index, value);
        }
    }
}
