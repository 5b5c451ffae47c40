using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Storage;
using AuditPipeline.Testing;

namespace AuditPipeline.Core.Tests.Ingest;

/// <summary>Records completions and dead letters in order.</summary>
internal sealed class RecordingOrigin : IMessageOrigin
{
    public ConcurrentQueue<IngestMessage> Completed { get; } = new();

    public ConcurrentQueue<(IngestMessage Message, string Reason)> DeadLettered { get; } = new();

    public void Complete(IngestMessage message) => Completed.Enqueue(message);

    public Task DeadLetterAsync(IngestMessage message, string reason, CancellationToken cancellationToken)
    {
        DeadLettered.Enqueue((message, reason));
        return Task.CompletedTask;
    }
}

/// <summary>An in-memory store whose appends can throw (per call, from the events offered) or wait on a gate.</summary>
internal sealed class ScriptedStore() : DelegatingAuditStore(new InMemoryAuditStore())
{
    private int _calls;

    /// <summary>Given the events of one append, the exception to throw (or null to store them).</summary>
    public Func<IReadOnlyList<AuditEvent>, Exception?> Fault { get; set; } = _ => null;

    /// <summary>Every append waits for this first.</summary>
    public Task Gate { get; set; } = Task.CompletedTask;

    public int Calls => Volatile.Read(ref _calls);

    public int Count => Memory.Count;

    public IReadOnlyList<AuditEvent> All => Memory.All;

    private InMemoryAuditStore Memory => (InMemoryAuditStore)InnerStore;

    public override async Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        await Gate.WaitAsync(cancellationToken);
        if (Fault(events) is { } ex)
        {
            throw ex;
        }

        return await InnerStore.AppendAsync(events, cancellationToken);
    }

    public override Task<bool> IsReadyAsync(CancellationToken cancellationToken) => Task.FromResult(true);
}

/// <summary>Every call to the observer: the ids offered and the store's outcomes.</summary>
internal sealed class RecordingObserver : IAppendObserver
{
    private readonly ConcurrentDictionary<AuditEvent, byte> _prepared = new(ReferenceEqualityComparer.Instance);

    public ConcurrentQueue<(string[] Ids, AppendOutcome[] Outcomes)> Calls { get; } = new();

    /// <summary>Events the observer heard of as appended without having been prepared first (the same instance).</summary>
    public ConcurrentQueue<string> Unprepared { get; } = new();

    /// <summary>When set, each call waits for it after recording (an observer whose durable write is slow).</summary>
    public TaskCompletionSource? Gate { get; set; }

    public void Prepare(AuditEvent e) => _prepared.TryAdd(e, 0);

    public async ValueTask OnAppendedAsync(IReadOnlyList<AuditEvent> events, IReadOnlyList<AppendResult> results, CancellationToken cancellationToken)
    {
        Calls.Enqueue(([.. events.Select(e => e.Id)], [.. results.Select(r => r.Outcome)]));
        foreach (var e in events.Where(e => !_prepared.ContainsKey(e)))
        {
            Unprepared.Enqueue(e.Id);
        }

        if (Gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }
    }
}

/// <summary>A meter factory that owns its meters (what the DI container gives in production).</summary>
internal sealed class OwningMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var m = new Meter(options.Name, options.Version, options.Tags, scope: this);
        _meters.Add(m);
        return m;
    }

    public void Dispose() => _meters.ForEach(m => m.Dispose());
}
