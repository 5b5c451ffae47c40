namespace AuditPipeline.Core.Ingest;

/// <summary>
/// Where a message came from, and how to finish it. Implemented by each source (Kafka, inbox, API).
/// The pipeline calls <see cref="Complete"/> exactly once per message, in the order the source wrote
/// them, after the message is durably stored, found to be a duplicate, or dead-lettered; a source
/// checkpoints (commits offsets) only up to completed messages.
/// </summary>
public interface IMessageOrigin
{
    void Complete(IngestMessage message);

    /// <summary>Writes the raw message with the reason to the dead-letter destination; returns once it is durable.</summary>
    Task DeadLetterAsync(IngestMessage message, string reason, CancellationToken cancellationToken);
}
