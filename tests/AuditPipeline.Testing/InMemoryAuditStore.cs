using System.Runtime.CompilerServices;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;

namespace AuditPipeline.Testing;

/// <summary>
/// The reference store: <see cref="AuditQuery.Matches"/> over a list. For tests of components that
/// sit on a store (pipeline, facade, Kafka source); real stores are checked against the same contract.
/// Can be made to fail, to test retry and backpressure.
/// </summary>
public sealed class InMemoryAuditStore : IAuditStore
{
    private readonly object _gate = new();
    private readonly Dictionary<(string Org, string Id), AuditEvent> _events = [];

    /// <summary>While set, every append throws <see cref="StoreUnavailableException"/>.</summary>
    public bool Failing { get; set; }

    public int AppendCalls { get; private set; }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _events.Count;
            }
        }
    }

    public IReadOnlyList<AuditEvent> All
    {
        get
        {
            lock (_gate)
            {
                return [.. _events.Values];
            }
        }
    }

    public Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            AppendCalls++;
            if (Failing)
            {
                throw new StoreUnavailableException("The in-memory store is set to fail.");
            }

            var results = new AppendResult[events.Count];
            for (var i = 0; i < events.Count; i++)
            {
                results[i] = _events.TryAdd((events[i].OrgId, events[i].Id), events[i]) ? AppendResult.Stored : AppendResult.Duplicate;
            }

            return Task.FromResult<IReadOnlyList<AppendResult>>(results);
        }
    }

    public Task<AuditEvent?> GetAsync(string orgId, string eventId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_events.GetValueOrDefault((orgId, eventId)));
        }
    }

    public Task<AuditPage> QueryAsync(AuditQuery query, int limit, CancellationToken cancellationToken)
    {
        var matches = Sorted(query).Take(limit + 1).ToList();
        var items = matches.Take(limit).ToList();
        var next = matches.Count > limit ? AuditPosition.Of(items[^1]) : (AuditPosition?)null;
        return Task.FromResult(new AuditPage(items, next));
    }

    public async IAsyncEnumerable<AuditEvent> StreamAsync(AuditQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var e in Sorted(query))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return e;
        }

        await Task.CompletedTask;
    }

    public Task<RetentionReport> ApplyRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        Task.FromResult(new RetentionReport([], []));

    public Task<bool> IsReadyAsync(CancellationToken cancellationToken) => Task.FromResult(!Failing);

    private List<AuditEvent> Sorted(AuditQuery query)
    {
        lock (_gate)
        {
            return [.. _events.Values.Where(query.Matches).OrderByDescending(e => e.Time).ThenByDescending(e => e.Id, IdOrder.Instance)];
        }
    }
}
