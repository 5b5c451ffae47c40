using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;

namespace AuditPipeline.Core.Ingest;

/// <summary>
/// Told of every batch the store answered, once it has answered all of it and before any of its
/// messages is completed (so before a source checkpoints past them); batches come one at a time, in
/// order, while the store already writes the next one. Integrity sealing uses it to learn which events were stored. An observer
/// that throws holds the batch back: the pipeline retries it with backoff, as for a failing store.
/// </summary>
public interface IAppendObserver
{
    /// <summary>
    /// Told of each event as it joins a batch, in the batch stage, while the previous batch is being
    /// written: the work that needs no answer from the store belongs here, off the write's critical
    /// path (the sealing observer hashes). Must not throw; what it keeps must not outlive the event.
    /// </summary>
    void Prepare(AuditEvent e)
    {
    }

    /// <param name="events">The events offered to the store, in order.</param>
    /// <param name="results">The store's answer for each, in the same order.</param>
    ValueTask OnAppendedAsync(IReadOnlyList<AuditEvent> events, IReadOnlyList<AppendResult> results, CancellationToken cancellationToken);
}
