using AuditPipeline.Core.Configuration;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using Elastic.Clients.Elasticsearch;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Elasticsearch;

/// <summary>
/// Registers the Elasticsearch store, its "ready" health check and the setup verb.
/// <code>
/// "Store": { "Provider": "Elasticsearch" },
/// "Elasticsearch": { "Url": "https://elasticsearch:9200", "Username": "audit_writer", "Password": "..." },
/// "Retention": { "LateArrivalDays": 7, "ArchiveAfterDays": 90 },
/// "Kibana": { "Url": "http://kibana:5601", "DashboardsPath": "dashboards" }   // optional: setup imports dashboards
/// </code>
/// </summary>
public static class ElasticsearchServiceCollectionExtensions
{
    public static IServiceCollection AddElasticsearchStore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddElasticsearchSetup(configuration);
        services.AddValidatedOptions<ElasticsearchOptions, ElasticsearchOptionsValidator>(configuration.GetSection(ElasticsearchOptions.SectionName));
        services.AddValidatedOptions<RetentionOptions, RetentionOptionsValidator>(configuration.GetSection(RetentionOptions.SectionName));
        services.TryAddSingleton<RetentionPlanRegistry>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => ElasticsearchConnection.CreateClient(sp.GetRequiredService<IOptions<ElasticsearchOptions>>().Value));
        services.TryAddSingleton(sp => new ElasticsearchConnection(sp.GetRequiredService<ElasticsearchClient>()));
        services.AddSingleton<IAuditStore>(sp => new ElasticsearchAuditStore(
            sp.GetRequiredService<ElasticsearchConnection>(),
            sp.GetRequiredService<RetentionPlanRegistry>(),
            sp.GetRequiredService<IOptions<ElasticsearchOptions>>(),
            sp.GetRequiredService<ILogger<ElasticsearchAuditStore>>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddHealthChecks().AddCheck<ElasticsearchReadyCheck>("elasticsearch", tags: ["ready"]);
        return services;
    }

    /// <summary>
    /// Only the setup verb. The configuration is read when the verb runs, and the cluster options
    /// are validated only when it talks to a cluster, so <c>setup --print</c> needs no Url.
    /// </summary>
    public static IServiceCollection AddElasticsearchSetup(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(sp =>
        {
            var es = configuration.GetSection(ElasticsearchOptions.SectionName).Get<ElasticsearchOptions>() ?? new ElasticsearchOptions();
            var retention = configuration.GetSection(RetentionOptions.SectionName).Get<RetentionOptions>() ?? new RetentionOptions();
            var kibana = configuration.GetSection(KibanaOptions.SectionName).Get<KibanaOptions>() ?? new KibanaOptions();
            if (string.IsNullOrWhiteSpace(kibana.Username) && string.IsNullOrWhiteSpace(kibana.ApiKey))
            {
                (kibana.Username, kibana.Password, kibana.ApiKey) = (es.Username, es.Password, es.ApiKey);
            }

            var definitions = new ElasticsearchSetupDefinitions(retention.LateArrivalDays, retention.ArchiveAfterDays, es.SnapshotRepository);
            return new ElasticsearchSetup(definitions, () => Connect(sp, es), sp.GetRequiredService<ILogger<ElasticsearchSetup>>(), new KibanaDashboards(kibana));
        });
        return services;
    }

    private static ElasticsearchConnection Connect(IServiceProvider sp, ElasticsearchOptions fallback)
    {
        if (sp.GetService<ElasticsearchConnection>() is { } registered)
        {
            return registered;
        }

        var errors = new ElasticsearchOptionsValidator().Problems(fallback).ToList();
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(ElasticsearchOptions.SectionName, typeof(ElasticsearchOptions), errors);
        }

        return new ElasticsearchConnection(ElasticsearchConnection.CreateClient(fallback));
    }
}

internal sealed class ElasticsearchReadyCheck(IAuditStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await store.IsReadyAsync(cancellationToken)
                ? HealthCheckResult.Healthy("Elasticsearch answers.")
                : HealthCheckResult.Unhealthy("Elasticsearch does not answer or refuses the configured credentials.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("Elasticsearch does not answer.", ex);
        }
    }
}
