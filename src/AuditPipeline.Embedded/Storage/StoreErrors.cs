using Microsoft.Data.Sqlite;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// Tells "the store cannot take writes now" (retry the batch later: a full disk, an I/O error, a lock
/// held, a vanished or read-only directory, a damaged file) from "this one event can never be
/// written" (dead-letter it). The pipeline retries a <see cref="Core.Storage.StoreUnavailableException"/>
/// and isolates the culprit of anything else, so when in doubt a failure is "unavailable": pausing
/// loses nothing, while dead-lettering good events would.
/// </summary>
internal static class StoreErrors
{
    private const int SqliteTooBig = 18;
    private const int SqliteConstraint = 19;
    private const int SqliteMismatch = 20;
    private const int SqliteRange = 25;

    /// <summary>An error caused by the values of the one row being written.</summary>
    public static bool IsPerEvent(SqliteException ex) =>
        ex.SqliteErrorCode is SqliteTooBig or SqliteConstraint or SqliteMismatch or SqliteRange;

    /// <summary>True for errors of the store itself rather than of an event in the batch.</summary>
    public static bool IsUnavailable(Exception ex) => ex switch
    {
        SqliteException s => !IsPerEvent(s),
        IOException or UnauthorizedAccessException => true,
        _ => false,
    };
}
