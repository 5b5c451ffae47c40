using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Kafka;

/// <summary>
/// The dead letters this process sent (or is sending) for source positions not yet committed past. A
/// message read again in the same process (a rebuilt consumer, a partition that came back after a
/// rebalance, a retry after a cancelled wait) is not dead-lettered again: its send is joined or, once
/// acknowledged, counts as done. A send that failed is forgotten, so the retry sends again. Entries below
/// a committed offset are forgotten (that position is never read again by the group); the ledger holds at
/// most <see cref="MaxEntries"/> entries, beyond which acknowledged ones are forgotten (logged).
/// </summary>
internal sealed partial class DeadLetterLedger(ILogger<DeadLetterLedger> logger)
{
    public const int MaxEntries = 100_000;

    private readonly Lock _gate = new();
    private readonly Dictionary<TopicPartition, SortedDictionary<long, Task>> _sends = [];
    private int _count;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    /// <summary>The send of <paramref name="position"/>: the one already in flight or acknowledged, else a new one started by <paramref name="send"/>.</summary>
    public Task SendOnceAsync(TopicPartitionOffset position, Func<Task> send)
    {
        Task task;
        lock (_gate)
        {
            if (!_sends.TryGetValue(position.TopicPartition, out var offsets))
            {
                offsets = [];
                _sends[position.TopicPartition] = offsets;
            }

            if (offsets.TryGetValue(position.Offset.Value, out var existing) && !existing.IsFaulted && !existing.IsCanceled)
            {
                return existing;
            }

            if (_count >= MaxEntries)
            {
                ForgetAcknowledged();
            }

            task = send();
            if (offsets.TryAdd(position.Offset.Value, task))
            {
                _count++;
            }
            else
            {
                offsets[position.Offset.Value] = task;
            }
        }

        // A failed send may be retried: forget it (unless a retry already replaced it).
        task.ContinueWith(
            t => Remove(position, t),
            CancellationToken.None,
            TaskContinuationOptions.NotOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return task;
    }

    /// <summary>The group committed <paramref name="next"/> for the partition: nothing below it is read again.</summary>
    public void Forget(TopicPartition partition, long next)
    {
        lock (_gate)
        {
            if (!_sends.TryGetValue(partition, out var offsets))
            {
                return;
            }

            while (offsets.Count > 0)
            {
                var first = offsets.First();
                if (first.Key >= next)
                {
                    break;
                }

                offsets.Remove(first.Key);
                _count--;
            }

            if (offsets.Count == 0)
            {
                _sends.Remove(partition);
            }
        }
    }

    private void Remove(TopicPartitionOffset position, Task task)
    {
        lock (_gate)
        {
            if (_sends.TryGetValue(position.TopicPartition, out var offsets)
                && offsets.TryGetValue(position.Offset.Value, out var current)
                && ReferenceEquals(current, task))
            {
                offsets.Remove(position.Offset.Value);
                _count--;
            }
        }
    }

    private void ForgetAcknowledged()
    {
        var forgotten = 0;
        foreach (var offsets in _sends.Values)
        {
            foreach (var offset in offsets.Where(e => e.Value.IsCompletedSuccessfully).Select(e => e.Key).ToList())
            {
                offsets.Remove(offset);
                forgotten++;
            }
        }

        _count -= forgotten;
        LogForgotten(forgotten, MaxEntries);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forgot {Count} acknowledged dead letters whose offsets were not committed yet ({Max} at most are remembered); if they are read again in this process they are dead-lettered again")]
    private partial void LogForgotten(int count, int max);
}
