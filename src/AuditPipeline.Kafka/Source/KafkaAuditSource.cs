using AuditPipeline.Core.Diagnostics;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Kafka.Clients;
using AuditPipeline.Kafka.Plans;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Kafka.Source;

/// <summary>
/// The consumer group over the four audit topics. One poll loop on its own thread owns the consumer
/// (every consumer call happens there, including commits and the rebalance callbacks). Each record
/// becomes an <see cref="IngestMessage"/> handed to the <see cref="BackpressureGate"/>; offsets go through
/// the <see cref="OffsetCommitter"/> (only up to completed messages), the lag through the <see cref="LagMeter"/>,
/// and a fatal error rebuilds the consumer through the <see cref="ClientRebuildLoop"/>.
/// </summary>
internal sealed partial class KafkaAuditSource
{
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);

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
    private readonly BackpressureGate _gate;
    private readonly OffsetCommitter _committer;
    private readonly LagMeter _lag;
    private readonly ClientRebuildLoop _rebuild;

    private CancellationToken _drainToken;
    private volatile int _assignedCount;
    private long _commitTicks;
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

        _gate = new BackpressureGate(queue, _options.PauseAfter, logger);
        _committer = new OffsetCommitter(_trackers, deadLetters.Ledger, logger);
        _lag = new LagMeter(_trackers);
        _rebuild = new ClientRebuildLoop("consumer", _options.RecreateDelay, logger, _time);
    }

    /// <summary>High watermark minus committed offset, summed over the assigned partitions (refreshed each commit tick).</summary>
    public long Lag => _lag.Lag;

    /// <summary>How many times the partitions were paused because the ingest queue stayed full.</summary>
    public long PausedCount => _gate.PausedCount;

    /// <summary>True while the partitions are paused.</summary>
    public bool Paused => _gate.Paused;

    public int AssignedCount => _assignedCount;

    /// <summary>
    /// How many commit ticks the poll loop has run; each commits whatever is completed by then. What a
    /// test waits on to know a commit had its chance, instead of a sleep a slow machine outlasts.
    /// </summary>
    public long CommitTicks => Interlocked.Read(ref _commitTicks);

    /// <summary>How many consumers were built (more than one after a fatal error).</summary>
    public int ConsumersBuilt => _rebuild.Builds;

    /// <summary>The rebuild loop's state, for readiness.</summary>
    public ClientRebuildLoop Rebuild => _rebuild;

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
            _rebuild.Run(signal => RunOnce(signal, stopping), onFailed: null, stopping);
        }
        finally
        {
            _metrics?.UnregisterLag("kafka");
        }
    }

    /// <summary>One consumer's life: subscribe, poll until the stop, drain. A fatal error throws out of it.</summary>
    private void RunOnce(FatalErrorSignal signal, CancellationToken stopping)
    {
        _gate.Reset();
        var consumer = _consumer = _clients.BuildConsumer(
            _clients.SourceConsumerConfig(),
            (_, e) =>
            {
                _clients.LogClientError(e);
                signal.Observe(e);
            },
            b => b
                .SetPartitionsAssignedHandler((c, partitions) => OnAssigned(partitions))
                .SetPartitionsRevokedHandler((c, partitions) => OnRevoked(c, partitions))
                .SetPartitionsLostHandler((c, partitions) => OnLost(c, partitions)));
        try
        {
            consumer.Subscribe(_kinds.Keys);
            LogSubscribed(_options.GroupId, string.Join(", ", _kinds.Keys));
            Poll(consumer, signal, stopping);
            Drain(consumer);
        }
        catch
        {
            // Cannot be committed by this client any more: a new client rejoins and re-reads from the committed offsets.
            // Retired first, so the revoke callback that disposing may run commits nothing.
            RetireAll();
            DisposeQuietly(consumer);
            throw;
        }
    }

    private void Poll(IConsumer<byte[]?, byte[]?> consumer, FatalErrorSignal signal, CancellationToken stopping)
    {
        var nextCommit = _time.GetTimestamp();
        var nextLagQuery = nextCommit;
        while (!stopping.IsCancellationRequested)
        {
            signal.ThrowIfFatal();
            if (_gate.Blocked)
            {
                // While the queue stays full the partitions are paused; polling goes on to keep the group membership alive.
                _gate.Pump(consumer, stopping);
            }

            Consume(consumer, stopping);

            if (_time.GetTimestamp() >= nextCommit)
            {
                _committer.Commit(consumer);
                Interlocked.Increment(ref _commitTicks);
                _lag.Refresh(consumer);
                nextCommit = _time.GetTimestamp() + (long)(_options.CommitInterval.TotalSeconds * _time.TimestampFrequency);
            }

            if (_time.GetTimestamp() >= nextLagQuery)
            {
                _lag.Query(consumer, _gate.Paused);
                nextLagQuery = _time.GetTimestamp() + (long)(LagMeter.QueryInterval.TotalSeconds * _time.TimestampFrequency);
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

        _gate.AfterPoll(consumer);
        if (result is null || result.IsPartitionEOF)
        {
            return;
        }

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
        _gate.Offer(consumer, message, stopping);
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
        _gate.OnAssigned();
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

        _gate.Drop(revoked);

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

        var committed = _committer.Commit(consumer, revoked);
        _gate.ClearPause(consumer, partitions);
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

    private void OnLost(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> partitions)
    {
        _gate.ClearPause(consumer, partitions);
        var lost = new List<PartitionTracker>(partitions.Count);
        foreach (var tpo in partitions)
        {
            if (_trackers.Remove(tpo.TopicPartition, out var tracker))
            {
                tracker.Retire();
                lost.Add(tracker);
            }
        }

        _gate.Drop(lost);
        _assignedCount = _trackers.Count;
        LogLost(partitions.Count);
    }

    private void RetireAll()
    {
        foreach (var tracker in _trackers.Values)
        {
            tracker.Retire();
        }

        _trackers.Clear();
        _gate.Clear();
        _assignedCount = 0;
    }

    private void Drain(IConsumer<byte[]?, byte[]?> consumer)
    {
        // Records read but never accepted by the queue are not committed: the next owner reads them.
        _gate.Clear();
        LogDraining(_trackers.Count);
        try
        {
            _queue.FlushAsync(_drainToken).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            LogDrainTimedOut();
        }

        _committer.Commit(consumer);
        try
        {
            // Leaves the group at once (the revoke callback commits again, harmlessly) instead of waiting for the
            // session timeout. (A static member, Kafka:GroupInstanceId, stays in the group until its session times out.)
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consuming failed ({Code}) at {Position}; polling goes on")]
    private partial void LogConsumeError(Exception ex, ErrorCode code, TopicPartitionOffset? position);

    [LoggerMessage(Level = LogLevel.Information, Message = "The consumer was assigned {Count} partitions: {Partitions}")]
    private partial void LogAssigned(int count, string partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "The consumer gave up {Count} revoked partitions after committing what was completed on them")]
    private partial void LogRevoked(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The consumer gave up {Count} revoked partitions, but the broker refused the last commit; their next owner re-reads from the previous commit and the store absorbs the duplicates")]
    private partial void LogRevokedUncommitted(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The consumer lost {Count} partitions; their in-flight messages will be re-read by the next owner")]
    private partial void LogLost(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} revoked partitions still had messages in flight after {Timeout}; the next owner re-reads them")]
    private partial void LogRevokeDrainTimedOut(int count, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping the Kafka source: waiting for the in-flight messages of {Count} partitions, then committing")]
    private partial void LogDraining(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The stop deadline passed before every in-flight message completed; those are re-read after the restart")]
    private partial void LogDrainTimedOut();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing the Kafka consumer failed ({Code})")]
    private partial void LogCloseFailed(Exception ex, ErrorCode code);

    [LoggerMessage(Level = LogLevel.Information, Message = "The Kafka source stopped")]
    private partial void LogStopped();
}
