using Confluent.Kafka;

namespace AuditPipeline.Kafka.Source;

/// <summary>
/// The consumer lag: high watermark minus committed position, summed over the assigned partitions.
/// <see cref="Refresh"/> uses what the client already knows (every commit tick, no request);
/// <see cref="Query"/> asks the brokers for what it cannot know, at most every 5 s. Poll thread only,
/// except <see cref="Lag"/>.
/// </summary>
internal sealed class LagMeter(IReadOnlyDictionary<TopicPartition, PartitionTracker> trackers)
{
    public static readonly TimeSpan QueryInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(1);

    private long _lag;

    public long Lag => Interlocked.Read(ref _lag);

    public void Refresh(IConsumer<byte[]?, byte[]?> consumer)
    {
        long lag = 0;
        foreach (var tracker in trackers.Values)
        {
            try
            {
                // Cached from fetch responses: no request is sent.
                tracker.SeeWatermarks(consumer.GetWatermarkOffsets(tracker.Partition));

                var position = tracker.FirstRead >= 0 || tracker.CommittedNext >= 0 ? -1 : consumer.Position(tracker.Partition).Value;
                lag += tracker.Lag(position);
            }
            catch (KafkaException)
            {
                // Not known this tick.
            }
        }

        Interlocked.Exchange(ref _lag, lag);
    }

    /// <summary>
    /// Asks the brokers for watermarks of paused or not yet fetched partitions (a paused partition's cached
    /// watermark stops moving during a store outage, exactly when the lag matters) and the committed position
    /// of partitions not read yet.
    /// </summary>
    public void Query(IConsumer<byte[]?, byte[]?> consumer, bool paused)
    {
        var unknownStart = new List<TopicPartition>();
        foreach (var tracker in trackers.Values)
        {
            if (paused || tracker.HighWatermark < 0)
            {
                try
                {
                    tracker.SeeWatermarks(consumer.QueryWatermarkOffsets(tracker.Partition, QueryTimeout));
                }
                catch (KafkaException)
                {
                    // Not known this round.
                }
            }

            if (tracker.CommittedNext < 0 && tracker.FirstRead < 0)
            {
                unknownStart.Add(tracker.Partition);
            }
        }

        if (unknownStart.Count > 0)
        {
            try
            {
                foreach (var tpo in consumer.Committed(unknownStart, QueryTimeout))
                {
                    if (tpo.Offset.Value >= 0 && trackers.TryGetValue(tpo.TopicPartition, out var tracker) && tracker.CommittedNext < 0)
                    {
                        tracker.CommittedNext = tpo.Offset.Value;
                    }
                }
            }
            catch (KafkaException)
            {
                // Not known this round.
            }
        }

        Refresh(consumer);
    }
}
