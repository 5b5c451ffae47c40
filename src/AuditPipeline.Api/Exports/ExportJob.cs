using System.Text.Json;

namespace AuditPipeline.Api.Exports;

/// <summary>The persisted record of one export job (a JSON file per job, replaced atomically on every change).</summary>
internal sealed record ExportJob
{
    public required string Id { get; init; }

    public required string OrgId { get; init; }

    /// <summary>The name of the API key that asked for it.</summary>
    public required string RequestedBy { get; init; }

    /// <summary>The filters exactly as the request body gave them.</summary>
    public required JsonElement Filters { get; init; }

    public required string Status { get; init; }

    /// <summary>When it was asked for; a <c>range</c> is resolved against this instant, also when re-run after a restart.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Runs started so far; a job interrupted more often than <c>Exports:MaxAttempts</c> is failed.</summary>
    public int Attempts { get; init; }

    public long? RowCount { get; init; }

    /// <summary>Lower-case hex SHA-256 of the uncompressed CSV.</summary>
    public string? Sha256 { get; init; }

    public string? Error { get; init; }

    /// <summary>True once every notification channel took the completion notice (or gave up).</summary>
    public bool Notified { get; init; }

    public string? ClientIp { get; init; }

    public string? UserAgent { get; init; }

    public ExportStatus ToStatus() => new(Id, Status, RowCount, Sha256, Error);
}

internal static class ExportStatuses
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
}
