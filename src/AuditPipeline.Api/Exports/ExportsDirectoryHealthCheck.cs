using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Api.Exports;

/// <summary>Ready when the exports directory can be written (job records, CSV files, the cursor key live there).</summary>
internal sealed class ExportsDirectoryHealthCheck(IOptions<ExportOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var probe = Path.Combine(Path.GetFullPath(options.Value.Path), ".ready-" + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(probe)!);
            await File.WriteAllTextAsync(probe, "ok", cancellationToken);
            File.Delete(probe);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return HealthCheckResult.Unhealthy($"{ExportOptions.SectionName}:Path is not writable.", ex);
        }
    }
}
