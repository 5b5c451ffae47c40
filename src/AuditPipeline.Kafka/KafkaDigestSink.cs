using System.Text;
using AuditPipeline.Core.Integrity;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Kafka;

/// <summary>
/// Publishes each sealed digest (its canonical bytes) to <c>Kafka:DigestTopic</c> (default
/// <c>outsprint.audit.digests</c>), keyed by organisation, so a consumer outside the store owner's
/// reach keeps its own copy of every chain. Acknowledged by all in-sync replicas before the sealer
/// lets the digest leave its outbox; a republished digest is the same record again.
/// </summary>
internal sealed class KafkaDigestSink(KafkaProducer producer, string topic) : IDigestSink
{
    public const string DefaultTopic = "outsprint.audit.digests";

    public string Name => "kafka";

    public Task PublishAsync(Digest digest, ReadOnlyMemory<byte> canonical, CancellationToken cancellationToken) =>
        producer.ProduceAsync(
            topic,
            new Message<byte[]?, byte[]?> { Key = Encoding.UTF8.GetBytes(digest.OrgId), Value = canonical.ToArray() },
            cancellationToken);
}

public static class KafkaDigestSinkServiceCollectionExtensions
{
    /// <summary>
    /// The digest topic sink, when <c>Kafka:BootstrapServers</c> is set:
    /// <code>"Kafka": { "DigestTopic": "outsprint.audit.digests" }</code>
    /// </summary>
    public static IServiceCollection AddKafkaDigestSink(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(KafkaOptions.SectionName);
        if (!(section.Get<KafkaOptions>() ?? new KafkaOptions()).Enabled)
        {
            return services;
        }

        var topic = section["DigestTopic"] is { Length: > 0 } t ? t : KafkaDigestSink.DefaultTopic;
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<KafkaOptions>>().Value);
        services.TryAddSingleton<KafkaClients>();
        services.TryAddSingleton<KafkaProducer>();
        services.AddSingleton<IDigestSink>(sp => new KafkaDigestSink(sp.GetRequiredService<KafkaProducer>(), topic));
        return services;
    }
}
