using AuditPipeline.Core.Configuration;
using AuditPipeline.Core.Diagnostics;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Core.Retention;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AuditPipeline.Core;

public static class CoreServiceCollectionExtensions
{
    /// <summary>
    /// The parts every role needs: retention plans, the normalizer, metrics and the ingest pipeline
    /// (the API's audit-of-export events go through it too). The worker, the Kafka tests and the
    /// benchmarks all compose the pipeline through this one method; a store and a source are added beside it.
    /// <code>
    /// "Ingest": { "ChannelCapacity": 10000, "BatchSize": 1000, "BatchDelay": "00:00:00.050", "MaxMessageBytes": 1048576 },
    /// "MaxMessageBytes": 1048576,   // also accepted at the top level, as the contract names it
    /// "Retention": { "DefaultPlan": "professional", "ArchiveAfterDays": 90, "LateArrivalDays": 7,
    ///                "Orgs": { "org_42": { "Plan": "enterprise", "Years": 5 } } }
    /// </code>
    /// </summary>
    public static IServiceCollection AddAuditCore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        // TryAdd: a test that registered a fake clock first keeps it.
        services.TryAddSingleton(TimeProvider.System);
        services.AddValidatedOptions<IngestOptions, IngestOptionsValidator>(configuration.GetSection(IngestOptions.SectionName))
            .PostConfigure(o =>
            {
                if (configuration.GetValue<int?>("MaxMessageBytes") is { } top)
                {
                    o.MaxMessageBytes = top;
                }
            });
        services.AddValidatedOptions<RetentionOptions, RetentionOptionsValidator>(configuration.GetSection(RetentionOptions.SectionName));

        services.TryAddSingleton<RetentionPlanRegistry>();
        services.AddSingleton<AuditNormalizer>();
        services.AddMetrics();
        services.AddSingleton<AuditMetrics>();
        services.AddSingleton<IngestPipeline>();
        services.AddSingleton<IIngestQueue>(sp => sp.GetRequiredService<IngestPipeline>());
        services.AddHostedService(sp => sp.GetRequiredService<IngestPipeline>());
        return services;
    }
}
