using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;

namespace AuditPipeline.Api.Tests.Support;

/// <summary>A store whose reads throw the given exception: the facade must not leak it.</summary>
public sealed class ThrowingStore(Func<Exception> error) : IAuditStore
{
    public Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<AppendResult>>([.. events.Select(_ => AppendResult.Stored)]);

    public Task<AuditEvent?> GetAsync(string orgId, string eventId, CancellationToken cancellationToken) => throw error();

    public Task<AuditPage> QueryAsync(AuditQuery query, int limit, CancellationToken cancellationToken) => throw error();

    public IAsyncEnumerable<AuditEvent> StreamAsync(AuditQuery query, CancellationToken cancellationToken) => throw error();

    public Task<RetentionReport> ApplyRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken) => throw error();

    public Task<bool> IsReadyAsync(CancellationToken cancellationToken) => Task.FromResult(false);
}
