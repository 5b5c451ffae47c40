using System.Text;
using AuditPipeline.Core.Notifications;
using Confluent.Kafka;

namespace AuditPipeline.Kafka;

/// <summary>Publishes export notifications to <c>Kafka:NotificationTopic</c>, keyed by organisation.</summary>
internal sealed class KafkaNotificationChannel(KafkaProducer producer, KafkaOptions options) : INotificationChannel
{
    public string Name => "kafka";

    public Task PublishAsync(string orgId, ReadOnlyMemory<byte> jsonBody, CancellationToken cancellationToken) =>
        producer.ProduceAsync(
            options.NotificationTopic,
            new Message<byte[]?, byte[]?> { Key = Encoding.UTF8.GetBytes(orgId), Value = jsonBody.ToArray() },
            cancellationToken);
}
