using AuditPipeline.Core.Diagnostics;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Core.Retention;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Worker.Hosting;

internal static class CoreServiceCollectionExtensions
{
    /// <summary>
    /// The parts every role needs: retention plans, the normalizer, metrics and the ingest pipeline
    /// (the API's audit-of-export events go through it too).
    /// <code>
    /// "Ingest": { "ChannelCapacity": 10000, "BatchSize": 1000, "BatchDelay": "00:00:00.050", "MaxMessageBytes": 1048576 },
    /// "MaxMessageBytes": 1048576,   // also accepted at the top level, as the contract names it
    /// "Retention": { "DefaultPlan": "professional", "ArchiveAfterDays": 90, "LateArrivalDays": 7,
    ///                "Orgs": { "org_42": { "Plan": "enterprise", "Years": 5 } } }
    /// </code>
    /// </summary>
    public static IServiceCollection AddAuditCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddOptions<IngestOptions>()
            .Bind(configuration.GetSection(IngestOptions.SectionName))
            .PostConfigure(o =>
            {
                if (configuration.GetValue<int?>("MaxMessageBytes") is { } top)
                {
                    o.MaxMessageBytes = top;
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<IngestOptions>>(new ProblemsValidator<IngestOptions>(o => o.Validate()));

        services.AddOptions<RetentionOptions>().Bind(configuration.GetSection(RetentionOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RetentionOptions>>(new ProblemsValidator<RetentionOptions>(o => o.Validate()));

        services.AddSingleton<RetentionPlanRegistry>();
        services.AddSingleton<AuditNormalizer>();
        services.AddMetrics();
        services.AddSingleton<AuditMetrics>();
        services.AddSingleton<IngestPipeline>();
        services.AddSingleton<IIngestQueue>(sp => sp.GetRequiredService<IngestPipeline>());
        services.AddHostedService(sp => sp.GetRequiredService<IngestPipeline>());
        return services;
    }
}

/// <summary>Adapts an options class's own <c>Validate()</c> (sentences naming keys) to the options system.</summary>
internal sealed class ProblemsValidator<T>(Func<T, IEnumerable<string>> validate) : IValidateOptions<T>
    where T : class
{
    public ValidateOptionsResult Validate(string? name, T options)
    {
        var problems = validate(options).ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
