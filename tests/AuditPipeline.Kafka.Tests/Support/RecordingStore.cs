using System.Collections.Concurrent;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Testing;

namespace AuditPipeline.Kafka.Tests.Support;

/// <summary>
/// The reference store, recording every append outcome per event id (to see duplicates the store absorbed)
/// and, given a plan registry, the retention class a real store would choose for each event when it is appended.
/// </summary>
internal sealed class RecordingStore(InMemoryAuditStore inner) : DelegatingAuditStore(inner)
{
    public RecordingStore()
        : this(new InMemoryAuditStore())
    {
    }

    public InMemoryAuditStore Inner { get; } = inner;

    public RetentionPlanRegistry? Registry { get; set; }

    public ConcurrentDictionary<string, int> Duplicates { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, string> Classes { get; } = new(StringComparer.Ordinal);

    public bool Failing
    {
        get => Inner.Failing;
        set => Inner.Failing = value;
    }

    public int Count => Inner.Count;

    /// <summary>A pause before each append, to keep a consumer mid-stream (a slow store).</summary>
    public TimeSpan Delay { get; set; }

    public override async Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken)
    {
        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, cancellationToken);
        }

        var results = await Inner.AppendAsync(events, cancellationToken);
        for (var i = 0; i < events.Count; i++)
        {
            if (results[i].Outcome == AppendOutcome.Duplicate)
            {
                Duplicates.AddOrUpdate(events[i].Id, 1, (_, n) => n + 1);
            }
            else if (Registry is { } registry)
            {
                Classes[events[i].Id] = registry.ClassFor(events[i].OrgId, events[i].Time).Name;
            }
        }

        return results;
    }
}
