using AuditPipeline.Core.Retention;
using AuditPipeline.Kafka.Clients;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Kafka.Plans;

/// <summary>
/// Reads the compacted plans topic from the beginning to its end (the high watermarks seen at start)
/// into the <see cref="RetentionPlanRegistry"/>, then completes <see cref="Loaded"/> (the audit source
/// waits for it before routing, so no event is classified with a plan history that is still loading),
/// and keeps following the topic. Manual assignment, no group, no commits. A malformed record is logged
/// and skipped. A missing topic counts as empty and is looked for again every <c>PlansRefreshInterval</c>.
/// </summary>
internal sealed partial class KafkaPlansFollower(KafkaClients clients, RetentionPlanRegistry registry, ILogger<KafkaPlansFollower> logger)
{
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly KafkaOptions _options = clients.Options;
    private long _applied;
    private long _skipped;

    /// <summary>Completes once the topic was read to the end it had at start (or found missing).</summary>
    public Task Loaded => _loaded.Task;

    public long Applied => Interlocked.Read(ref _applied);

    public long Skipped => Interlocked.Read(ref _skipped);

    public void Run(CancellationToken stopping)
    {
        var loop = new ClientRebuildLoop("plans consumer", _options.RecreateDelay, logger);
        loop.Run(
            signal =>
            {
                using var consumer = clients.BuildConsumer(clients.PlansConsumerConfig(), (_, e) =>
                {
                    clients.LogClientError(e);
                    signal.Observe(e);
                });
                Follow(consumer, signal, stopping);
            },
            onFailed: null,
            stopping);
        _loaded.TrySetCanceled(stopping);
    }

    private void Follow(IConsumer<byte[]?, byte[]?> consumer, FatalErrorSignal fatal, CancellationToken stopping)
    {
        var assigned = new HashSet<int>();

        // Partition → the high watermark still to reach before the initial read is complete.
        var remaining = new Dictionary<TopicPartition, long>();
        var nextRefresh = DateTime.UtcNow;
        while (!stopping.IsCancellationRequested)
        {
            fatal.ThrowIfFatal();

            if (DateTime.UtcNow >= nextRefresh)
            {
                AssignNewPartitions(consumer, assigned, remaining);
                nextRefresh = DateTime.UtcNow + _options.PlansRefreshInterval;
                CheckLoaded(remaining);
            }

            var result = consumer.Consume(PollTimeout);
            if (result is null)
            {
                continue;
            }

            if (!result.IsPartitionEOF)
            {
                Apply(result);
            }

            if (remaining.TryGetValue(result.TopicPartition, out var high) && (result.IsPartitionEOF || result.Offset.Value + 1 >= high))
            {
                remaining.Remove(result.TopicPartition);
                CheckLoaded(remaining);
            }
        }
    }

    private void AssignNewPartitions(IConsumer<byte[]?, byte[]?> consumer, HashSet<int> assigned, Dictionary<TopicPartition, long> remaining)
    {
        var topic = _options.PlansTopic;
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var metadata = admin.GetMetadata(topic, RequestTimeout);
        var topicMetadata = metadata.Topics.FirstOrDefault(t => t.Topic == topic);
        if (topicMetadata is null || topicMetadata.Error.IsError || topicMetadata.Partitions.Count == 0)
        {
            if (!_loaded.Task.IsCompleted)
            {
                LogTopicMissing(topic, topicMetadata?.Error.Reason ?? "no metadata");
            }

            return;
        }

        var added = new List<TopicPartitionOffset>();
        foreach (var p in topicMetadata.Partitions)
        {
            if (!assigned.Add(p.PartitionId))
            {
                continue;
            }

            var tp = new TopicPartition(topic, p.PartitionId);
            var watermarks = consumer.QueryWatermarkOffsets(tp, RequestTimeout);
            if (!_loaded.Task.IsCompleted && watermarks.High.Value > watermarks.Low.Value)
            {
                remaining[tp] = watermarks.High.Value;
            }

            added.Add(new TopicPartitionOffset(tp, Offset.Beginning));
        }

        if (added.Count > 0)
        {
            consumer.IncrementalAssign(added);
            LogAssigned(topic, added.Count);
        }
    }

    private void CheckLoaded(Dictionary<TopicPartition, long> remaining)
    {
        if (remaining.Count == 0 && _loaded.TrySetResult())
        {
            LogLoaded(_options.PlansTopic, Applied, Skipped);
        }
    }

    private void Apply(ConsumeResult<byte[]?, byte[]?> result)
    {
        if (result.Message.Value is null)
        {
            // A tombstone: a plan once in force stays part of the history.
            return;
        }

        if (PlanRecord.TryParse(result.Message.Value, out var plan, out var error))
        {
            registry.Record(plan.OrgId, plan.RetentionClass, plan.EffectiveFrom);
            Interlocked.Increment(ref _applied);
        }
        else
        {
            Interlocked.Increment(ref _skipped);
            LogMalformed(result.TopicPartitionOffset, error);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The plans topic {Topic} was not found ({Reason}); plans come from configuration until it appears")]
    private partial void LogTopicMissing(string topic, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Following {Count} new partitions of the plans topic {Topic}")]
    private partial void LogAssigned(string topic, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Read the plans topic {Topic} to its end: {Applied} plans applied, {Skipped} malformed records skipped")]
    private partial void LogLoaded(string topic, long applied, long skipped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped a malformed plan record at {Position}: {Error}")]
    private partial void LogMalformed(TopicPartitionOffset position, string error);
}
