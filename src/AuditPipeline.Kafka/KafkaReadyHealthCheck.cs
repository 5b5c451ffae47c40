using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AuditPipeline.Kafka;

/// <summary>Ready when a broker answers a metadata request within a short timeout.</summary>
internal sealed class KafkaReadyHealthCheck(KafkaProducer producer) : IHealthCheck, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);
    private readonly Lazy<IAdminClient> _admin = new(() => new DependentAdminClientBuilder(producer.Producer.Handle).Build());

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            // GetMetadata blocks; keep it off the request thread.
            var metadata = await Task.Run(() => _admin.Value.GetMetadata(Timeout), cancellationToken);
            return metadata.Brokers.Count > 0
                ? HealthCheckResult.Healthy($"{metadata.Brokers.Count} Kafka brokers reachable")
                : HealthCheckResult.Unhealthy("Kafka answered without brokers");
        }
        catch (KafkaException ex)
        {
            return HealthCheckResult.Unhealthy("Kafka brokers are not reachable: " + ex.Error.Reason);
        }
    }

    public void Dispose()
    {
        if (_admin.IsValueCreated)
        {
            _admin.Value.Dispose();
        }
    }
}
