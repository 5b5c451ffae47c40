using AuditPipeline.Core.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AuditPipeline.Embedded.Storage;

/// <summary>Ready when the store answers (for the embedded store: its catalog opens and reads).</summary>
internal sealed class AuditStoreHealthCheck(IAuditStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await store.IsReadyAsync(cancellationToken)
            ? HealthCheckResult.Healthy("The audit store answers.")
            : HealthCheckResult.Unhealthy("The audit store does not answer.");
}
