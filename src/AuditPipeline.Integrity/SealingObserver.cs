using System.Runtime.CompilerServices;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Integrity;
using AuditPipeline.Core.Storage;

namespace AuditPipeline.Integrity;

/// <summary>
/// Records each stored event's hash durably before the pipeline completes its messages, so a source
/// never checkpoints past an event the next digest would not cover. A duplicate the state has never
/// seen was stored by a run killed between the store's write and this record: its stored copy is
/// fetched and recorded, so nothing stays uncovered.
/// </summary>
internal sealed class SealingObserver(IntegrityState state, IAuditStore store) : IAppendObserver
{
    // Hashes made in the batch stage, beside the previous batch's write; keyed by the event instance
    // (immutable), so an entry goes when its event does, whether it was stored, dead-lettered or dropped.
    private readonly ConditionalWeakTable<AuditEvent, string> _prepared = [];

    public void Prepare(AuditEvent e) => _prepared.AddOrUpdate(e, EventHash.ComputeHex(e));

    public async ValueTask OnAppendedAsync(IReadOnlyList<AuditEvent> events, IReadOnlyList<AppendResult> results, CancellationToken cancellationToken)
    {
        var stored = new List<int>(events.Count);
        var duplicates = new List<int>();
        for (var i = 0; i < events.Count; i++)
        {
            switch (results[i].Outcome)
            {
                case AppendOutcome.Stored:
                    stored.Add(i);
                    break;
                case AppendOutcome.Duplicate:
                    duplicates.Add(i);
                    break;
            }
        }

        var hashes = new string[events.Count];
        var unprepared = new List<int>();
        foreach (var i in stored)
        {
            if (_prepared.TryGetValue(events[i], out var prepared))
            {
                hashes[i] = prepared;
            }
            else
            {
                unprepared.Add(i);
            }
        }

        if (unprepared.Count > 64)
        {
            // Events that did not come through the batch stage: a large batch spreads over the cores.
            Parallel.ForEach(unprepared, i => hashes[i] = EventHash.ComputeHex(events[i]));
        }
        else
        {
            foreach (var i in unprepared)
            {
                hashes[i] = EventHash.ComputeHex(events[i]);
            }
        }

        var records = new List<(string, DigestEntry)>(stored.Count + duplicates.Count);
        foreach (var i in stored)
        {
            records.Add((events[i].OrgId, new DigestEntry(events[i].Id, events[i].Time, hashes[i])));
        }

        if (duplicates.Count > 0)
        {
            var batchKeys = stored.Select(i => (events[i].OrgId, events[i].Id)).ToHashSet();
            var candidates = duplicates.Select(i => (events[i].OrgId, events[i].Id)).Where(k => !batchKeys.Contains(k)).Distinct().ToList();
            var known = state.Known(candidates);
            foreach (var (org, id) in candidates.Where(k => !known.Contains(k)))
            {
                // The stored copy is what the API serves, so it is what the digest must cover.
                if (await store.GetAsync(org, id, cancellationToken) is { } copy)
                {
                    records.Add((org, new DigestEntry(copy.Id, copy.Time, EventHash.ComputeHex(copy))));
                }
            }
        }

        state.Record(records);
    }
}
