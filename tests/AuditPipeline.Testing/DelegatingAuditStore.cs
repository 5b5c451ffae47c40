using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;

namespace AuditPipeline.Testing;

/// <summary>
/// A store that passes every call to another: test doubles that gate, fail, slow or record one call
/// derive from it and override only that call, instead of forwarding the whole interface by hand.
/// </summary>
public abstract class DelegatingAuditStore(IAuditStore inner) : IAuditStore
{
    /// <summary>The store every call not overridden goes to.</summary>
    protected IAuditStore InnerStore { get; } = inner;

    public virtual Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken) =>
        InnerStore.AppendAsync(events, cancellationToken);

    public virtual Task<AuditEvent?> GetAsync(string orgId, string eventId, CancellationToken cancellationToken) =>
        InnerStore.GetAsync(orgId, eventId, cancellationToken);

    public virtual Task<AuditPage> QueryAsync(AuditQuery query, int limit, CancellationToken cancellationToken) =>
        InnerStore.QueryAsync(query, limit, cancellationToken);

    public virtual IAsyncEnumerable<AuditEvent> StreamAsync(AuditQuery query, CancellationToken cancellationToken) =>
        InnerStore.StreamAsync(query, cancellationToken);

    public virtual Task<RetentionReport> ApplyRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        InnerStore.ApplyRetentionAsync(now, cancellationToken);

    public virtual Task<bool> IsReadyAsync(CancellationToken cancellationToken) => InnerStore.IsReadyAsync(cancellationToken);
}
