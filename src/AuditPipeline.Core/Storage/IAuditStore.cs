using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Storage;

/// <summary>
/// A write-once audit store. Appends are idempotent by event id (per organisation); nothing is ever
/// updated or deleted except whole retention partitions past their retention age.
/// </summary>
public interface IAuditStore
{
    /// <summary>
    /// Appends a batch durably. Returns one outcome per input event, in input order. Throws when the
    /// store is unavailable (the caller retries the whole batch; already stored events then come back
    /// as <see cref="AppendOutcome.Duplicate"/>, never as a second copy).
    /// </summary>
    /// <remarks>
    /// The exception is the contract with the ingest pipeline. <see cref="StoreUnavailableException"/>
    /// (or an <see cref="OperationCanceledException"/>) means the store cannot take writes now (no
    /// connection, 5xx, 429, a full disk, read-only): the same batch is retried with backoff, forever.
    /// Any other exception means this batch holds an event that can never be written: the pipeline
    /// splits the batch and appends the halves down to single events, and dead-letters an event that
    /// still throws alone ("the store refused the event: " + the message) once it has thrown alone
    /// again after the store answered other events. An event refused for good is better answered as <see cref="AppendOutcome.Rejected"/>
    /// without throwing. So wrap every transient failure in <see cref="StoreUnavailableException"/>.
    /// </remarks>
    Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken);

    /// <summary>One event of an organisation, or null.</summary>
    Task<AuditEvent?> GetAsync(string orgId, string eventId, CancellationToken cancellationToken);

    /// <summary>
    /// One page of matches, newest first (time desc, then id desc by ordinal comparison of code points,
    /// <see cref="IdOrder"/>), strictly
    /// after <see cref="AuditQuery.After"/> when it is set.
    /// </summary>
    Task<AuditPage> QueryAsync(AuditQuery query, int limit, CancellationToken cancellationToken);

    /// <summary>Every match in the same order as <see cref="QueryAsync"/>, in constant memory.</summary>
    IAsyncEnumerable<AuditEvent> StreamAsync(AuditQuery query, CancellationToken cancellationToken);

    /// <summary>Drops (or archives) whole partitions past their retention or archive age.</summary>
    Task<RetentionReport> ApplyRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>True when the store answers; used by /readyz.</summary>
    Task<bool> IsReadyAsync(CancellationToken cancellationToken);
}

public enum AppendOutcome
{
    Stored,
    Duplicate,

    /// <summary>The store refused this one event for good (e.g. a mapping error); it is dead-lettered.</summary>
    Rejected,
}

public readonly record struct AppendResult(AppendOutcome Outcome, string? Error = null)
{
    public static AppendResult Stored { get; } = new(AppendOutcome.Stored);

    public static AppendResult Duplicate { get; } = new(AppendOutcome.Duplicate);

    public static AppendResult Rejected(string error) => new(AppendOutcome.Rejected, error);
}

public sealed record AuditPage(IReadOnlyList<AuditEvent> Items, AuditPosition? Next);

/// <summary>The sort key of an event: a page continues strictly after it.</summary>
public readonly record struct AuditPosition(DateTimeOffset Time, string Id)
{
    public static AuditPosition Of(AuditEvent e) => new(e.Time, e.Id);

    /// <summary>True when <paramref name="e"/> sorts after this position in newest-first order.</summary>
    public bool IsBefore(AuditEvent e) =>
        e.Time < Time || (e.Time == Time && IdOrder.CompareIds(e.Id, Id) < 0);
}

public sealed record RetentionReport(IReadOnlyList<string> Dropped, IReadOnlyList<string> Archived);

/// <summary>Thrown by a store that cannot take writes right now (down, read-only, unauthorised); retried with backoff.</summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
