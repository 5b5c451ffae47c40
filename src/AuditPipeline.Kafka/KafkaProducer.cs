using Confluent.Kafka;

namespace AuditPipeline.Kafka;

/// <summary>
/// The process's one idempotent producer (<c>acks=all</c>), shared by the dead-letter writer and the
/// notification channel; built on first use so that an api-only process that never publishes opens no connection.
/// </summary>
internal sealed class KafkaProducer(KafkaClients clients) : IDisposable
{
    private readonly Lazy<IProducer<byte[]?, byte[]?>> _producer = new(clients.BuildProducer, LazyThreadSafetyMode.ExecutionAndPublication);

    public IProducer<byte[]?, byte[]?> Producer => _producer.Value;

    /// <summary>Produces and returns once the record is acknowledged by all in-sync replicas.</summary>
    public Task<DeliveryResult<byte[]?, byte[]?>> ProduceAsync(string topic, Message<byte[]?, byte[]?> message, CancellationToken cancellationToken) =>
        Producer.ProduceAsync(topic, message, cancellationToken);

    public void Dispose()
    {
        if (_producer.IsValueCreated)
        {
            // Whatever is still queued had no caller waiting for it, or its caller will retry.
            _producer.Value.Flush(TimeSpan.FromSeconds(5));
            _producer.Value.Dispose();
        }
    }
}
