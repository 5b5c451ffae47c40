using AuditPipeline.Testing;
using System.Runtime.CompilerServices;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;

namespace AuditPipeline.Api.Tests.Support;

/// <summary>
/// A store whose list and detail reads never finish and ignore cancellation (the worst a store can do),
/// and whose stream waits, honouring cancellation, before its first event.
/// </summary>
public sealed class HangingStore(IAuditStore inner) : DelegatingAuditStore(inner)
{
    private readonly TaskCompletionSource<AuditPage> _never = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<AuditEvent?> _neverEvent = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Set once a read reached the store.</summary>
    public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override Task<AuditEvent?> GetAsync(string orgId, string eventId, CancellationToken cancellationToken)
    {
        Reached.TrySetResult();
        return _neverEvent.Task;
    }

    public override Task<AuditPage> QueryAsync(AuditQuery query, int limit, CancellationToken cancellationToken)
    {
        Reached.TrySetResult();
        return _never.Task;
    }

    public override async IAsyncEnumerable<AuditEvent> StreamAsync(AuditQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Reached.TrySetResult();
        await Task.Delay(Timeout.Infinite, cancellationToken);
        yield break;
    }
}

/// <summary>
/// A store that spends its work budget on every other page: it answers with no items but a position
/// to go on from (what the stores do when a scan is capped), then with the real page from there.
/// </summary>
public sealed class EarlyEndingStore(IAuditStore inner) : DelegatingAuditStore(inner)
{
    private int _calls;

    public override async Task<AuditPage> QueryAsync(AuditQuery query, int limit, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _calls) % 2 == 1)
        {
            // Nothing found within the budget; continue from where the scan stopped (here: where it began,
            // or just past "now" on a first page).
            var from = query.After ?? new AuditPosition(new DateTimeOffset(2100, 1, 1, 0, 0, 0, TimeSpan.Zero), "");
            return new AuditPage([], from);
        }

        return await InnerStore.QueryAsync(query, limit, cancellationToken);
    }
}

/// <summary>A disk whose free space the test scripts: one value per check, the last one repeated.</summary>
internal sealed class ScriptedDiskSpace(params long[] free) : Exports.IDiskSpace
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public int CheckEveryBytes => 1;

    public long? AvailableBytes(string directory)
    {
        var n = Interlocked.Increment(ref _calls) - 1;
        return free[Math.Min(n, free.Length - 1)];
    }
}
