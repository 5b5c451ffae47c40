using AuditPipeline.Core.Configuration;
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

/// <summary>One topic per kind (<c>Kafka:Topics:crm</c>, <c>auth</c>, <c>ai</c>, <c>platform</c>).</summary>
public sealed class KafkaTopicsOptions
{
    public string Crm { get; set; } = "outsprint.crm.events";

    public string Auth { get; set; } = "outsprint.auth.events";

    public string Ai { get; set; } = "outsprint.ai.actions";

    public string Platform { get; set; } = "outsprint.platform.events";
}

/// <summary>Every problem with the Kafka section, each naming the key to fix.</summary>
internal sealed class KafkaOptionsValidator : ConfigurationValidator<KafkaOptions>
{
    /// <summary>Properties the source sets itself; configuring them would break its guarantees.</summary>
    private static readonly Dictionary<string, string> OwnedClientProperties = new(StringComparer.OrdinalIgnoreCase)
    {
        ["bootstrap.servers"] = "set Kafka:BootstrapServers instead",
        ["group.id"] = "set Kafka:GroupId instead",
        ["enable.auto.commit"] = "the source commits only completed offsets itself",
        ["enable.auto.offset.store"] = "the source commits only completed offsets itself",
        ["enable.idempotence"] = "the dead-letter producer is always idempotent",
        ["acks"] = "the dead-letter producer always waits for all replicas",
        ["group.instance.id"] = "set Kafka:GroupInstanceId instead",
        ["message.timeout.ms"] = "the dead-letter producer never times a record out (a timed-out record may have been written, and a resend would duplicate it)",
        ["delivery.timeout.ms"] = "the dead-letter producer never times a record out (a timed-out record may have been written, and a resend would duplicate it)",
    };

    public override IEnumerable<string> Problems(KafkaOptions options)
    {
        var o = options;
        if (!o.Enabled)
        {
            yield break;
        }

        const string S = KafkaOptions.SectionName;
        if (string.IsNullOrWhiteSpace(o.GroupId))
        {
            yield return $"{S}:GroupId must not be empty.";
        }

        if (o.GroupInstanceId is { } instance && GroupInstanceIdProblem(instance) is { } instanceProblem)
        {
            yield return $"{S}:GroupInstanceId {instanceProblem}";
        }

        var topics = new List<(string Key, string? Value)>
        {
            ($"{S}:Topics:crm", o.Topics?.Crm),
            ($"{S}:Topics:auth", o.Topics?.Auth),
            ($"{S}:Topics:ai", o.Topics?.Ai),
            ($"{S}:Topics:platform", o.Topics?.Platform),
            ($"{S}:DeadLetterTopic", o.DeadLetterTopic),
            ($"{S}:PlansTopic", o.PlansTopic),
            ($"{S}:NotificationTopic", o.NotificationTopic),
        };
        foreach (var (key, value) in topics)
        {
            if (TopicProblem(value) is { } problem)
            {
                yield return $"{key} {problem}";
            }
        }

        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in topics.Take(6))
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                continue;
            }

            if (seen.TryGetValue(value, out var other))
            {
                yield return $"{key} must differ from {other} (both are '{value}').";
            }
            else
            {
                seen[value] = key;
            }
        }

        foreach (var (key, value) in o.Client ?? [])
        {
            if (OwnedClientProperties.TryGetValue(key, out var why))
            {
                yield return $"{S}:Client:{key} must not be set: {why}.";
            }
            else if (value is null)
            {
                yield return $"{S}:Client:{key} must have a value.";
            }
        }

        if (o.CommitInterval <= TimeSpan.Zero)
        {
            yield return $"{S}:CommitInterval must be positive (was {o.CommitInterval}).";
        }

        if (o.PauseAfter < TimeSpan.Zero)
        {
            yield return $"{S}:PauseAfter must not be negative (was {o.PauseAfter}).";
        }

        if (o.RevokeDrainTimeout < TimeSpan.Zero)
        {
            yield return $"{S}:RevokeDrainTimeout must not be negative (was {o.RevokeDrainTimeout}).";
        }

        if (o.RecreateDelay < TimeSpan.Zero)
        {
            yield return $"{S}:RecreateDelay must not be negative (was {o.RecreateDelay}).";
        }

        if (o.PlansRefreshInterval <= TimeSpan.Zero)
        {
            yield return $"{S}:PlansRefreshInterval must be positive (was {o.PlansRefreshInterval}).";
        }
    }

    /// <summary>Empty means "not static"; otherwise the broker's rule for ids: at most 249 of letters, digits, '.', '_', '-'.</summary>
    private static string? GroupInstanceIdProblem(string id)
    {
        if (id.Length == 0)
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(id) || id.Length > 249 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            return $"must be at most 249 letters, digits, '.', '_' or '-', unique per replica (e.g. the pod name); was '{id}'.";
        }

        return null;
    }

    private static string? TopicProblem(string? topic)
    {
        if (string.IsNullOrWhiteSpace(topic))
        {
            return "must not be empty.";
        }

        if (topic.Length > 249)
        {
            return $"must be at most 249 characters (was {topic.Length}).";
        }

        if (topic is "." or ".." || !topic.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            return $"must be a Kafka topic name of letters, digits, '.', '_' and '-' (was '{topic}').";
        }

        return null;
    }
}
