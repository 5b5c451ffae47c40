using AuditPipeline.Core.Ingest;
using Confluent.Kafka;

namespace AuditPipeline.Kafka.Source;

/// <summary>
/// One assigned partition during one ownership: the origin of every message read from it. The pipeline
/// completes messages in the order they were written, so the partition's committable position is simply
/// the offset after the last completed message. Once the partition is revoked or lost, its tracker is
/// retired: completions of messages still in flight are ignored and nothing is ever committed for it
/// again (the next owner re-reads them; the store absorbs the duplicates).
/// </summary>
internal sealed class PartitionTracker(TopicPartition partition, KafkaDeadLetterWriter deadLetters) : IMessageOrigin
{
    private long _completedNext = Offset.Unset.Value;
    private volatile bool _retired;

    public TopicPartition Partition { get; } = partition;

    /// <summary>The offset of the first message read in this ownership (poll thread only).</summary>
    public long FirstRead { get; private set; } = Offset.Unset.Value;

    /// <summary>The last committed position (poll thread only).</summary>
    public long CommittedNext { get; set; } = Offset.Unset.Value;

    /// <summary>The highest known high watermark (poll thread only).</summary>
    public long HighWatermark { get; private set; } = Offset.Unset.Value;

    /// <summary>The last known low watermark: where a group without a committed offset starts (poll thread only).</summary>
    public long LowWatermark { get; private set; } = Offset.Unset.Value;

    /// <summary>The offset after the last completed message, or <see cref="Offset.Unset"/>.</summary>
    public long CompletedNext => Volatile.Read(ref _completedNext);

    public bool Retired => _retired;

    public void Read(long offset)
    {
        if (FirstRead < 0)
        {
            FirstRead = offset;
        }
    }

    public void Retire() => _retired = true;

    /// <summary>Cached watermarks lag behind queried ones while paused, so the high one only moves up.</summary>
    public void SeeWatermarks(WatermarkOffsets watermarks)
    {
        if (watermarks.High.Value >= 0)
        {
            HighWatermark = Math.Max(HighWatermark, watermarks.High.Value);
        }

        if (watermarks.Low.Value >= 0)
        {
            LowWatermark = watermarks.Low.Value;
        }
    }

    public void Complete(IngestMessage message)
    {
        if (_retired || message.Position is not TopicPartitionOffset position)
        {
            return;
        }

        var next = position.Offset.Value + 1;
        var current = Volatile.Read(ref _completedNext);
        while (next > current)
        {
            var seen = Interlocked.CompareExchange(ref _completedNext, next, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    public Task DeadLetterAsync(IngestMessage message, string reason, CancellationToken cancellationToken) =>
        deadLetters.WriteAsync(message, reason, cancellationToken);

    /// <summary>The lag of this partition: high watermark minus committed (or first read) position.</summary>
    public long Lag(long position)
    {
        var from = CommittedNext >= 0 ? CommittedNext : FirstRead >= 0 ? FirstRead : position >= 0 ? position : LowWatermark;
        return HighWatermark >= 0 && from >= 0 ? Math.Max(0, HighWatermark - from) : 0;
    }
}
