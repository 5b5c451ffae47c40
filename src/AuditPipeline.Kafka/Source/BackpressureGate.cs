using AuditPipeline.Core.Ingest;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Kafka.Source;

/// <summary>
/// Between the poll loop and the bounded ingest queue. A record the full queue does not take waits in a
/// backlog (in read order); when the queue stays full for <c>Kafka:PauseAfter</c> the assigned partitions are
/// paused and polling goes on (membership stays alive), and they resume once the backlog is in the queue,
/// so memory is bounded whatever the topic holds. Poll thread only.
/// </summary>
internal sealed partial class BackpressureGate(IIngestQueue queue, TimeSpan pauseAfter, ILogger logger)
{
    /// <summary>Read but not yet accepted by the full queue, in read order.</summary>
    private readonly Queue<IngestMessage> _backlog = new();

    private Task<bool>? _room;
    private bool _paused;
    private bool _repause;
    private long _pausedCount;

    public bool Paused => Volatile.Read(ref _paused);

    public long PausedCount => Interlocked.Read(ref _pausedCount);

    /// <summary>True when the loop must move the backlog before (or instead of) reading more.</summary>
    public bool Blocked => _backlog.Count > 0 || _paused;

    /// <summary>A new client starts unpaused with nothing waiting.</summary>
    public void Reset()
    {
        _backlog.Clear();
        _paused = false;
        _repause = false;
        _room = null;
    }

    /// <summary>Records read but never accepted by the queue are not committed: the next owner reads them.</summary>
    public void Clear() => _backlog.Clear();

    /// <summary>Hands a record to the queue, or keeps it (in order) and applies backpressure.</summary>
    public void Offer(IConsumer<byte[]?, byte[]?> consumer, IngestMessage message, CancellationToken stopping)
    {
        if (_backlog.Count > 0 || !queue.TryWrite(message))
        {
            _backlog.Enqueue(message);
            if (_backlog.Count == 1)
            {
                Pump(consumer, stopping);
            }
        }
    }

    /// <summary>
    /// Moves the backlog into the queue; pauses when the queue stays full and resumes when the backlog is empty.
    /// (Paused with an empty backlog happens when a rebalance took the waiting records' partitions.)
    /// </summary>
    public void Pump(IConsumer<byte[]?, byte[]?> consumer, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            while (_backlog.TryPeek(out var head))
            {
                if (!queue.TryWrite(head))
                {
                    break;
                }

                _backlog.Dequeue();
            }

            if (_backlog.Count == 0)
            {
                if (_paused)
                {
                    _paused = false;
                    consumer.Resume(consumer.Assignment);
                    LogResumed(consumer.Assignment.Count);
                }

                return;
            }

            _room ??= queue.WaitToWriteAsync(stopping).AsTask();
            if (_paused)
            {
                if (!_room.IsCompleted)
                {
                    return;
                }

                _room = null;
                continue;
            }

            // Short stalls (a slow batch) are waited out without pausing: a pause drops the prefetched records.
            if (WaitQuietly(_room, pauseAfter))
            {
                _room = null;
                continue;
            }

            _paused = true;
            Interlocked.Increment(ref _pausedCount);
            consumer.Pause(consumer.Assignment);
            LogPaused(consumer.Assignment.Count, _backlog.Count);
            return;
        }
    }

    /// <summary>Partitions assigned while paused are paused too, after the poll that applied the assignment.</summary>
    public void OnAssigned() => _repause = _paused;

    public void AfterPoll(IConsumer<byte[]?, byte[]?> consumer)
    {
        if (_repause && _paused)
        {
            _repause = false;
            consumer.Pause(consumer.Assignment);
        }
    }

    /// <summary>Forgets the waiting records of partitions this member no longer owns.</summary>
    public void Drop(IReadOnlyCollection<PartitionTracker> trackers)
    {
        if (_backlog.Count == 0 || trackers.Count == 0)
        {
            return;
        }

        var keep = _backlog.Where(m => !trackers.Contains(m.Origin)).ToList();
        _backlog.Clear();
        foreach (var m in keep)
        {
            _backlog.Enqueue(m);
        }
    }

    /// <summary>
    /// librdkafka keeps a partition's paused flag across unassign and assign: a partition revoked while paused
    /// and assigned back later would never be fetched again. Resume before letting it go.
    /// </summary>
    public void ClearPause(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> partitions)
    {
        if (!_paused || partitions.Count == 0)
        {
            return;
        }

        try
        {
            consumer.Resume(partitions.Select(p => p.TopicPartition));
        }
        catch (KafkaException ex)
        {
            LogResumeFailed(ex.Error.Code, ex.Error.Reason);
        }
    }

    private static bool WaitQuietly(Task task, TimeSpan timeout)
    {
        try
        {
            return task.Wait(timeout);
        }
        catch (AggregateException)
        {
            return true;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The ingest queue stayed full: paused {Partitions} partitions with {Backlog} records waiting")]
    private partial void LogPaused(int partitions, int backlog);

    [LoggerMessage(Level = LogLevel.Information, Message = "The ingest queue has room again: resumed {Partitions} partitions")]
    private partial void LogResumed(int partitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Resuming partitions that are being revoked failed ({Code}: {Reason})")]
    private partial void LogResumeFailed(ErrorCode code, string reason);
}
