using AuditPipeline.Core.Configuration;

namespace AuditPipeline.Kafka;

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
