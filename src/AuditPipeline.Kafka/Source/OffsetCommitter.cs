using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Kafka.Source;

/// <summary>
/// Commits, per partition, the offset after the last completed message (stored, duplicate or
/// dead-lettered), never past an unfinished one, and never for a partition this member gave up. A commit
/// the broker refuses is retried on the next tick; a re-read is absorbed by the store and the dead-letter
/// ledger. Once committed, the ledger forgets the dead letters below it. Poll thread only.
/// </summary>
internal sealed partial class OffsetCommitter(IReadOnlyDictionary<TopicPartition, PartitionTracker> trackers, DeadLetterLedger ledger, ILogger logger)
{
    /// <summary>Commits completed positions of <paramref name="only"/> (or of every tracked partition); true when nothing was left to commit or the commit succeeded.</summary>
    public bool Commit(IConsumer<byte[]?, byte[]?> consumer, IEnumerable<PartitionTracker>? only = null)
    {
        List<TopicPartitionOffset>? offsets = null;
        foreach (var tracker in only ?? trackers.Values)
        {
            var next = tracker.CompletedNext;
            if (!tracker.Retired && next > tracker.CommittedNext)
            {
                (offsets ??= []).Add(new TopicPartitionOffset(tracker.Partition, next));
            }
        }

        if (offsets is null)
        {
            return true;
        }

        try
        {
            consumer.Commit(offsets);
            foreach (var tpo in offsets)
            {
                Committed(tpo.TopicPartition, tpo.Offset.Value);
            }

            return true;
        }
        catch (TopicPartitionOffsetException ex)
        {
            foreach (var r in ex.Results)
            {
                if (r.Error.IsError)
                {
                    LogCommitFailed(r.TopicPartition, r.Error.Code, r.Error.Reason);
                }
                else
                {
                    Committed(r.TopicPartition, r.Offset.Value);
                }
            }

            return false;
        }
        catch (KafkaException ex) when (!ex.Error.IsFatal)
        {
            // Retried on the next tick (e.g. during a rebalance); nothing is lost, a re-read is absorbed by the store.
            LogCommitRejected(ex.Error.Code, ex.Error.Reason);
            return false;
        }
    }

    private void Committed(TopicPartition partition, long next)
    {
        if (trackers.TryGetValue(partition, out var tracker))
        {
            tracker.CommittedNext = Math.Max(tracker.CommittedNext, next);
        }

        ledger.Forget(partition, next);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Committing {Partition} failed ({Code}: {Reason}); it is retried on the next tick")]
    private partial void LogCommitFailed(TopicPartition partition, ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "The broker did not accept the commit now ({Code}: {Reason}); it is retried on the next tick")]
    private partial void LogCommitRejected(ErrorCode code, string reason);
}
