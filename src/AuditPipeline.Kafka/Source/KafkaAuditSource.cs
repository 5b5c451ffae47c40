using AuditPipeline.Core.Diagnostics;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Kafka.Plans;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Kafka.Source;

/// <summary>
/// The consumer group over the four audit topics. One poll loop on its own thread owns the consumer
/// (every consumer call happens there, including commits and the rebalance callbacks). Each record
/// becomes an <see cref="IngestMessage"/> written to the bounded ingest queue; when the queue stays full
/// the assigned partitions are paused and polling goes on (membership stays alive), and they resume
/// when the queue has room, so memory is bounded whatever the backlog.
/// Offsets are committed only up to messages the pipeline completed (stored, duplicate or dead-lettered).
/// </summary>
internal sealed partial class KafkaAuditSource
{
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LagQueryInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LagQueryTimeout = TimeSpan.FromSeconds(1);

    private readonly KafkaClients _clients;
    private readonly KafkaOptions _options;
    private readonly IIngestQueue _queue;
    private readonly KafkaDeadLetterWriter _deadLetters;
    private readonly KafkaPlansFollower? _plans;
    private readonly AuditMetrics? _metrics;
    private readonly ILogger<KafkaAuditSource> _logger;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, SourceKind> _kinds = new(StringComparer.Ordinal);
    private readonly Dictionary<TopicPartition, PartitionTracker> _trackers = [];

    /// <summary>Read but not yet accepted by the full queue, in read order (poll thread only).</summary>
    private readonly Queue<IngestMessage> _backlog = new();

    private Task<bool>? _room;
    private bool _paused;
    private bool _repause;
    private Error? _fatal;
    private long _lag;
    private long _pausedCount;
    private CancellationToken _drainToken;
    private volatile int _assignedCount;
    private volatile int _consumersBuilt;
    private volatile IConsumer<byte[]?, byte[]?>? _consumer;

    public KafkaAuditSource(
        KafkaClients clients,
        IIngestQueue queue,
        KafkaDeadLetterWriter deadLetters,
        KafkaPlansFollower? plans,
        AuditMetrics? metrics,
        ILogger<KafkaAuditSource> logger,
        TimeProvider? time = null)
    {
        _clients = clients;
        _options = clients.Options;
        _queue = queue;
        _deadLetters = deadLetters;
        _plans = plans;
        _metrics = metrics;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        foreach (var kind in SourceKinds.All)
        {
            _kinds[_options.TopicOf(kind)] = kind;
        }
    }

    /// <summary>High watermark minus committed offset, summed over the assigned partitions (refreshed each commit tick).</summary>
    public long Lag => Interlocked.Read(ref _lag);

    /// <summary>How many times the partitions were paused because the ingest queue stayed full.</summary>
    public long PausedCount => Interlocked.Read(ref _pausedCount);

    /// <summary>True while the partitions are paused.</summary>
    public bool Paused => Volatile.Read(ref _paused);

    public int AssignedCount => _assignedCount;

    /// <summary>How many consumers were built (more than one after a fatal error).</summary>
    public int ConsumersBuilt => _consumersBuilt;

    /// <summary>The live consumer, for diagnostics and tests; never call it off the poll thread except for its handle.</summary>
    internal IConsumer<byte[]?, byte[]?>? Consumer => _consumer;

    /// <summary>
    /// Runs the poll loop until <paramref name="stopping"/> is cancelled, then drains: waits (bounded by
    /// <paramref name="drain"/>) for every message already written to complete, commits, and leaves the group.
    /// </summary>
    public void Run(CancellationToken stopping, CancellationToken drain)
    {
        _drainToken = drain;
        if (_plans is not null)
        {
            LogWaitingForPlans(_options.PlansTopic);
            try
            {
                _plans.Loaded.WaitAsync(stopping).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
        }

        _metrics?.RegisterLag("kafka", () => Lag);
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var consumer = BuildConsumer();
                try
                {
                    consumer.Subscribe(_kinds.Keys);
                    LogSubscribed(_options.GroupId, string.Join(", ", _kinds.Keys));
                    Poll(consumer, stopping);
                    Drain(consumer);
                    return;
                }
                catch (Exception ex) when (!stopping.IsCancellationRequested)
                {
                    // A fatal error (or anything the loop cannot recover in place): what is in flight cannot be
                    // committed by this client any more; a new client rejoins and re-reads from the committed offsets.
                    LogRecreating(ex, (ex as KafkaException)?.Error.Code ?? ErrorCode.Unknown, _options.RecreateDelay);
                    RetireAll();
                    DisposeQuietly(consumer);
                    stopping.WaitHandle.WaitOne(_options.RecreateDelay);
                }
            }
        }
        finally
        {
            _metrics?.UnregisterLag("kafka");
        }
    }

    private IConsumer<byte[]?, byte[]?> BuildConsumer()
    {
        _fatal = null;
        _paused = false;
        _room = null;
        _consumersBuilt++;
        return _consumer = _clients.BuildConsumer(
            _clients.SourceConsumerConfig(),
            (_, e) =>
            {
                _clients.LogClientError(e);
                if (e.IsFatal)
                {
                    _fatal = e;
                }
            },
            b => b
                .SetPartitionsAssignedHandler((c, partitions) => OnAssigned(partitions))
                .SetPartitionsRevokedHandler((c, partitions) => OnRevoked(c, partitions))
                .SetPartitionsLostHandler((c, partitions) => OnLost(c, partitions)));
    }

    private void Poll(IConsumer<byte[]?, byte[]?> consumer, CancellationToken stopping)
    {
        var nextCommit = _time.GetTimestamp();
        var nextLagQuery = nextCommit;
        while (!stopping.IsCancellationRequested)
        {
            if (_fatal is { } fatal)
            {
                throw new KafkaException(fatal);
            }

            if (_backlog.Count > 0 || _paused)
            {
                // While the queue stays full the partitions are paused; polling goes on to keep the group membership
                // alive. (Paused with an empty backlog happens when a rebalance took the waiting records' partitions.)
                DrainBacklog(consumer, stopping);
            }

            Consume(consumer, stopping);

            if (_time.GetTimestamp() >= nextCommit)
            {
                Commit(consumer, null);
                RefreshLag(consumer);
                nextCommit = _time.GetTimestamp() + (long)(_options.CommitInterval.TotalSeconds * _time.TimestampFrequency);
            }

            if (_time.GetTimestamp() >= nextLagQuery)
            {
                QueryLag(consumer);
                nextLagQuery = _time.GetTimestamp() + (long)(LagQueryInterval.TotalSeconds * _time.TimestampFrequency);
            }
        }
    }

    private void Consume(IConsumer<byte[]?, byte[]?> consumer, CancellationToken stopping)
    {
        ConsumeResult<byte[]?, byte[]?>? result;
        try
        {
            result = consumer.Consume(PollTimeout);
        }
        catch (ConsumeException ex) when (!ex.Error.IsFatal)
        {
            // E.g. a record the client could not read; the error names it, polling goes on.
            LogConsumeError(ex, ex.Error.Code, ex.ConsumerRecord?.TopicPartitionOffset);
            return;
        }

        if (_repause && _paused)
        {
            _repause = false;
            consumer.Pause(consumer.Assignment);
        }

        if (result is null || result.IsPartitionEOF)
        {
            return;
        }

        Route(consumer, result, stopping);
    }

    private void Route(IConsumer<byte[]?, byte[]?> consumer, ConsumeResult<byte[]?, byte[]?> result, CancellationToken stopping)
    {
        var tp = result.TopicPartition;
        if (!_trackers.TryGetValue(tp, out var tracker))
        {
            // Not assigned through the handler (cannot happen with the group protocol); track it anyway.
            tracker = new PartitionTracker(tp, _deadLetters);
            _trackers[tp] = tracker;
        }

        tracker.Read(result.Offset.Value);
        var kind = _kinds.TryGetValue(result.Topic, out var k) ? k : SourceKind.Platform;
        var message = new IngestMessage(kind, KafkaDeadLetterWriter.ValueOf(result.Message.Value), tracker)
        {
            // A null key stays null, not empty (a null array would convert to an empty memory), so the dead-letter copy is faithful.
            Key = result.Message.Key is { } key ? new ReadOnlyMemory<byte>(key) : (ReadOnlyMemory<byte>?)null,
            Position = result.TopicPartitionOffset,
            ReceivedAt = _time.GetUtcNow(),
        };

        if (_backlog.Count > 0 || !_queue.TryWrite(message))
        {
            _backlog.Enqueue(message);
            if (_backlog.Count == 1)
            {
                DrainBacklog(consumer, stopping);
            }
        }
    }

    /// <summary>Moves the backlog into the queue; pauses when the queue stays full. True when the backlog is empty.</summary>
    private bool DrainBacklog(IConsumer<byte[]?, byte[]?> consumer, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            while (_backlog.TryPeek(out var head))
            {
                if (!_queue.TryWrite(head))
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

                return true;
            }

            _room ??= _queue.WaitToWriteAsync(stopping).AsTask();
            if (_paused)
            {
                if (!_room.IsCompleted)
                {
                    return false;
                }

                _room = null;
                continue;
            }

            // Short stalls (a slow batch) are waited out without pausing: a pause drops the prefetched records.
            if (WaitQuietly(_room, _options.PauseAfter))
            {
                _room = null;
                continue;
            }

            _paused = true;
            Interlocked.Increment(ref _pausedCount);
            consumer.Pause(consumer.Assignment);
            LogPaused(consumer.Assignment.Count, _backlog.Count);
            return false;
        }

        return false;
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

    /// <summary>Commits completed positions of <paramref name="only"/> (or of every tracked partition).</summary>
    /// <summary>True when nothing was left to commit or the commit succeeded.</summary>
    private bool Commit(IConsumer<byte[]?, byte[]?> consumer, IEnumerable<PartitionTracker>? only)
    {
        List<TopicPartitionOffset>? offsets = null;
        foreach (var tracker in only ?? _trackers.Values)
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
                if (_trackers.TryGetValue(tpo.TopicPartition, out var tracker))
                {
                    tracker.CommittedNext = Math.Max(tracker.CommittedNext, tpo.Offset.Value);
                }
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
                else if (_trackers.TryGetValue(r.TopicPartition, out var tracker))
                {
                    tracker.CommittedNext = Math.Max(tracker.CommittedNext, r.Offset.Value);
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

    private void RefreshLag(IConsumer<byte[]?, byte[]?> consumer)
    {
        long lag = 0;
        foreach (var tracker in _trackers.Values)
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
    /// Asks the brokers for what the cached values cannot tell: watermarks of paused or not yet fetched
    /// partitions (a paused partition's cached watermark stops moving during a store outage, exactly when the
    /// lag matters) and the committed position of partitions not read yet. Sent only when needed, at most every 5 s.
    /// </summary>
    private void QueryLag(IConsumer<byte[]?, byte[]?> consumer)
    {
        var unknownStart = new List<TopicPartition>();
        foreach (var tracker in _trackers.Values)
        {
            if (_paused || tracker.HighWatermark < 0)
            {
                try
                {
                    tracker.SeeWatermarks(consumer.QueryWatermarkOffsets(tracker.Partition, LagQueryTimeout));
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
                foreach (var tpo in consumer.Committed(unknownStart, LagQueryTimeout))
                {
                    if (tpo.Offset.Value >= 0 && _trackers.TryGetValue(tpo.TopicPartition, out var tracker) && tracker.CommittedNext < 0)
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

        RefreshLag(consumer);
    }

    private void OnAssigned(List<TopicPartition> partitions)
    {
        foreach (var tp in partitions)
        {
            if (_trackers.Remove(tp, out var old))
            {
                old.Retire();
            }

            _trackers[tp] = new PartitionTracker(tp, _deadLetters);
        }

        _assignedCount = _trackers.Count;
        _repause = _paused;
        if (partitions.Count > 0)
        {
            LogAssigned(partitions.Count, string.Join(", ", partitions));
        }
    }

    private void OnRevoked(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> partitions)
    {
        var revoked = new List<PartitionTracker>(partitions.Count);
        foreach (var tpo in partitions)
        {
            if (_trackers.TryGetValue(tpo.TopicPartition, out var tracker))
            {
                revoked.Add(tracker);
            }
        }

        DropBacklogOf(revoked);

        // Let what is in flight for these partitions finish, so their new owner starts after it.
        using (var bounded = CancellationTokenSource.CreateLinkedTokenSource(_drainToken))
        {
            bounded.CancelAfter(_options.RevokeDrainTimeout);
            try
            {
                _queue.FlushAsync(bounded.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                LogRevokeDrainTimedOut(revoked.Count, _options.RevokeDrainTimeout);
            }
        }

        var committed = Commit(consumer, revoked);
        ClearPause(consumer, partitions);
        foreach (var tracker in revoked)
        {
            tracker.Retire();
            _trackers.Remove(tracker.Partition);
        }

        _assignedCount = _trackers.Count;
        if (partitions.Count > 0 && committed)
        {
            LogRevoked(partitions.Count);
        }
        else if (partitions.Count > 0)
        {
            LogRevokedUncommitted(partitions.Count);
        }
    }

    /// <summary>
    /// librdkafka keeps a partition's paused flag across unassign and assign: a partition revoked while paused
    /// and assigned back later would never be fetched again. Resume before letting it go.
    /// </summary>
    private void ClearPause(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> partitions)
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

    private void OnLost(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> partitions)
    {
        ClearPause(consumer, partitions);
        var lost = new List<PartitionTracker>(partitions.Count);
        foreach (var tpo in partitions)
        {
            if (_trackers.Remove(tpo.TopicPartition, out var tracker))
            {
                tracker.Retire();
                lost.Add(tracker);
            }
        }

        DropBacklogOf(lost);
        _assignedCount = _trackers.Count;
        LogLost(partitions.Count);
    }

    private void DropBacklogOf(List<PartitionTracker> trackers)
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

    private void RetireAll()
    {
        foreach (var tracker in _trackers.Values)
        {
            tracker.Retire();
        }

        _trackers.Clear();
        _backlog.Clear();
        _assignedCount = 0;
    }

    private void Drain(IConsumer<byte[]?, byte[]?> consumer)
    {
        // Records read but never accepted by the queue are not committed: the next owner reads them.
        _backlog.Clear();
        LogDraining(_trackers.Count);
        try
        {
            _queue.FlushAsync(_drainToken).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            LogDrainTimedOut();
        }

        Commit(consumer, null);
        try
        {
            // Leaves the group at once (the revoke callback commits again, harmlessly) instead of waiting for the session timeout.
            consumer.Close();
        }
        catch (KafkaException ex)
        {
            LogCloseFailed(ex, ex.Error.Code);
        }

        RetireAll();
        consumer.Dispose();
        LogStopped();
    }

    private void DisposeQuietly(IConsumer<byte[]?, byte[]?> consumer)
    {
        try
        {
            consumer.Dispose();
        }
        catch (Exception ex)
        {
            LogCloseFailed(ex, ErrorCode.Unknown);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Waiting for the plans topic {Topic} to be read to its end before routing audit messages")]
    private partial void LogWaitingForPlans(string topic);

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumer group {GroupId} subscribed to {Topics}")]
    private partial void LogSubscribed(string groupId, string topics);

    [LoggerMessage(Level = LogLevel.Error, Message = "The Kafka consumer failed ({Code}); a new one is built in {Delay}")]
    private partial void LogRecreating(Exception ex, ErrorCode code, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consuming failed ({Code}) at {Position}; polling goes on")]
    private partial void LogConsumeError(Exception ex, ErrorCode code, TopicPartitionOffset? position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The ingest queue stayed full: paused {Partitions} partitions with {Backlog} records waiting")]
    private partial void LogPaused(int partitions, int backlog);

    [LoggerMessage(Level = LogLevel.Information, Message = "The ingest queue has room again: resumed {Partitions} partitions")]
    private partial void LogResumed(int partitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Committing {Partition} failed ({Code}: {Reason}); retried on the next tick")]
    private partial void LogCommitFailed(TopicPartition partition, ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Commit not accepted now ({Code}: {Reason}); retried on the next tick")]
    private partial void LogCommitRejected(ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Resuming partitions that are being revoked failed ({Code}: {Reason})")]
    private partial void LogResumeFailed(ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Assigned {Count} partitions: {Partitions}")]
    private partial void LogAssigned(int count, string partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Revoked {Count} partitions after committing what was completed")]
    private partial void LogRevoked(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Revoked {Count} partitions, but the broker refused the last commit; their next owner re-reads from the previous commit and the store absorbs the duplicates")]
    private partial void LogRevokedUncommitted(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost {Count} partitions; their in-flight messages will be re-read by the next owner")]
    private partial void LogLost(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} revoked partitions still had messages in flight after {Timeout}; the next owner re-reads them")]
    private partial void LogRevokeDrainTimedOut(int count, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: waiting for in-flight messages of {Count} partitions, then committing")]
    private partial void LogDraining(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The stop deadline passed before every in-flight message completed; those are re-read after the restart")]
    private partial void LogDrainTimedOut();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing the consumer failed ({Code})")]
    private partial void LogCloseFailed(Exception ex, ErrorCode code);

    [LoggerMessage(Level = LogLevel.Information, Message = "The Kafka source stopped")]
    private partial void LogStopped();
}
