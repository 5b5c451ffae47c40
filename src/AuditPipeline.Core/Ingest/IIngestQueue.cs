namespace AuditPipeline.Core.Ingest;

/// <summary>
/// The bounded entrance of the ingest pipeline. A full queue is backpressure: a source either awaits
/// <see cref="WriteAsync"/> or, like the Kafka poll loop that must keep polling, uses
/// <see cref="TryWrite"/> and pauses its partitions until <see cref="WaitToWriteAsync"/> says there is room.
/// </summary>
public interface IIngestQueue
{
    ValueTask WriteAsync(IngestMessage message, CancellationToken cancellationToken);

    bool TryWrite(IngestMessage message);

    ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken);

    /// <summary>Completes once every message written before the call is completed (stored or dead-lettered).</summary>
    Task FlushAsync(CancellationToken cancellationToken);
}
