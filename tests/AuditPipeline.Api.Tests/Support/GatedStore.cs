using System.Runtime.CompilerServices;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;

namespace AuditPipeline.Api.Tests.Support;

/// <summary>A store whose streams pause after a few events until the test opens the gate: an export caught mid-way.</summary>
public sealed class GatedStore(IAuditStore inner, int pauseAfter) : IAuditStore
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Paused { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => _gate.TrySetResult();

    /// <summary>True once a stream ran to its end.</summary>
    public bool Completed { get; private set; }

    public Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken) => inner.AppendAsync(events, cancellationToken);

    public Task<AuditEvent?> GetAsync(string orgId, string eventId, CancellationToken cancellationToken) => inner.GetAsync(orgId, eventId, cancellationToken);

    public Task<AuditPage> QueryAsync(AuditQuery query, int limit, CancellationToken cancellationToken) => inner.QueryAsync(query, limit, cancellationToken);

    public async IAsyncEnumerable<AuditEvent> StreamAsync(AuditQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var n = 0;
        await foreach (var e in inner.StreamAsync(query, cancellationToken))
        {
            if (n++ == pauseAfter)
            {
                Paused.TrySetResult();
                await _gate.Task.WaitAsync(cancellationToken);
            }

            yield return e;
        }

        Completed = true;
    }

    public Task<RetentionReport> ApplyRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken) => inner.ApplyRetentionAsync(now, cancellationToken);

    public Task<bool> IsReadyAsync(CancellationToken cancellationToken) => inner.IsReadyAsync(cancellationToken);
}
