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
        if (stored.Count > 64)
        {
            // Hashing is the CPU part; a large batch spreads it over the cores the pipeline leaves idle.
            Parallel.ForEach(stored, i => hashes[i] = EventHash.ComputeHex(events[i]));
        }
        else
        {
            foreach (var i in stored)
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
