using AuditPipeline.Core.Normalization;

namespace AuditPipeline.Kafka;

/// <summary>
/// The Kafka source, its dead-letter topic, the plans topic and the notification topic.
/// <code>
/// "Kafka": {
///   "BootstrapServers": "kafka-1:9092,kafka-2:9092",
///   "GroupId": "audit-pipeline",
///   "Topics": { "crm": "outsprint.crm.events", "auth": "outsprint.auth.events",
///               "ai": "outsprint.ai.actions", "platform": "outsprint.platform.events" },
///   "DeadLetterTopic": "outsprint.audit.dlq",
///   "PlansTopic": "outsprint.org.plans",
///   "NotificationTopic": "outsprint.notifications",
///   "Client": { "security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
///               "sasl.username": "...", "sasl.password": "..." }
/// }
/// </code>
/// The source is on only when <c>Kafka:BootstrapServers</c> is set.
/// </summary>
public sealed class KafkaOptions
{
    public const string SectionName = "Kafka";

    /// <summary>Comma-separated host:port list; empty turns every Kafka component off.</summary>
    public string? BootstrapServers { get; set; }

    public string GroupId { get; set; } = "audit-pipeline";

    /// <summary>
    /// Optional static group membership (<c>group.instance.id</c>): a worker restarted with the same id within the
    /// session timeout gets its partitions back at once, without a rebalance. Each replica needs its own id (e.g.
    /// the pod name of a StatefulSet); two live members with one id fence each other. Trade-off: a static member
    /// that stops does not leave the group, so its partitions wait for the session timeout if it does not return.
    /// </summary>
    public string? GroupInstanceId { get; set; }

    public KafkaTopicsOptions Topics { get; set; } = new();

    public string DeadLetterTopic { get; set; } = "outsprint.audit.dlq";

    /// <summary>The compacted topic of organisation plans, read to its end before routing starts, then followed.</summary>
    public string PlansTopic { get; set; } = "outsprint.org.plans";

    public string NotificationTopic { get; set; } = "outsprint.notifications";

    /// <summary>Raw librdkafka properties passed to every client (SASL, TLS, timeouts), e.g. <c>security.protocol</c>.</summary>
    public Dictionary<string, string> Client { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How often completed offsets are committed (they are also committed on revocation and stop).</summary>
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a full ingest queue is waited for before the assigned partitions are paused.</summary>
    public TimeSpan PauseAfter { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a rebalance waits for in-flight messages of revoked partitions before giving them up.</summary>
    public TimeSpan RevokeDrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The pause before a client that hit a fatal error is built anew.</summary>
    public TimeSpan RecreateDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the plans follower looks for a plans topic or partitions that appeared.</summary>
    public TimeSpan PlansRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>True when <see cref="BootstrapServers"/> is set: the Kafka components run.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(BootstrapServers);

    /// <summary>The topic of each kind.</summary>
    public string TopicOf(SourceKind kind) => kind switch
    {
        SourceKind.Crm => Topics.Crm,
        SourceKind.Auth => Topics.Auth,
        SourceKind.Ai => Topics.Ai,
        SourceKind.Platform => Topics.Platform,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
