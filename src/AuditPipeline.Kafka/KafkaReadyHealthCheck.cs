using AuditPipeline.Kafka.Source;
using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AuditPipeline.Kafka;

/// <summary>
/// Ready when a broker answered a metadata request recently and the audit source is not stuck rebuilding
/// its consumer. Cheap and not floodable: the broker is asked at most once per <see cref="Ttl"/> whatever the
/// request rate (concurrent checks share one request in flight, later ones get the cached answer), and the
/// source's state is read from memory.
/// </summary>
internal sealed class KafkaReadyHealthCheck(KafkaProducer producer, KafkaAuditSource? source = null, TimeProvider? time = null) : IHealthCheck
{
    /// <summary>How long one broker answer (or failure) is reused.</summary>
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _gate = new();
    private Task<HealthCheckResult>? _probe;
    private long _probedAt;
    private long _probes;

    /// <summary>How many metadata requests were sent (for tests: far fewer than checks).</summary>
    public long Probes => Interlocked.Read(ref _probes);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (source?.Rebuild is { Stuck: true } rebuild)
        {
            return HealthCheckResult.Unhealthy(
                $"the Kafka consumer is being rebuilt after {rebuild.ConsecutiveFailures} failures in a row (last: {rebuild.LastError})");
        }

        Task<HealthCheckResult> probe;
        lock (_gate)
        {
            if (_probe is null || (_probe.IsCompleted && _time.GetElapsedTime(_probedAt) >= Ttl))
            {
                _probedAt = _time.GetTimestamp();
                Interlocked.Increment(ref _probes);

                // GetMetadata blocks; keep it off the request thread. Not cancelled by one caller: others may share it.
                _probe = Task.Run(Probe, CancellationToken.None);
            }

            probe = _probe;
        }

        return await probe.WaitAsync(cancellationToken);
    }

    private HealthCheckResult Probe()
    {
        try
        {
            // A view of the live producer's connections (rebuilt after a fatal error): no new connection is opened.
            using var admin = new DependentAdminClientBuilder(producer.Producer.Handle).Build();
            var metadata = admin.GetMetadata(Timeout);
            return metadata.Brokers.Count > 0
                ? HealthCheckResult.Healthy($"{metadata.Brokers.Count} Kafka brokers reachable")
                : HealthCheckResult.Unhealthy("Kafka answered without brokers");
        }
        catch (KafkaException ex)
        {
            return HealthCheckResult.Unhealthy("Kafka brokers are not reachable: " + ex.Error.Reason);
        }
        catch (ObjectDisposedException)
        {
            return HealthCheckResult.Unhealthy("the Kafka producer is shut down");
        }
    }
}
