using AuditPipeline.Core.Configuration;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded.Retention;
using AuditPipeline.Embedded.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AuditPipeline.Embedded;

/// <summary>
/// The embedded SQLite store, its retention job and its readiness check:
/// <code>
/// "Store": { "Provider": "Embedded", "Embedded": { "Path": "./data", "ArchivePath": "./data/archive" } },
/// "Retention": { "DefaultPlan": "professional", "ArchiveAfterDays": 90, "Interval": "01:00:00",
///                "Orgs": { "org_42": { "Plan": "enterprise", "Years": 5 } } }
/// </code>
/// </summary>
public static class EmbeddedServiceCollectionExtensions
{
    public static IServiceCollection AddEmbeddedStore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<EmbeddedStoreOptions, EmbeddedStoreOptionsValidator>(configuration.GetSection(EmbeddedStoreOptions.SectionName));
        services.AddRetentionDefaults(configuration);
        services.TryAddSingleton<SqliteAuditStore>();
        services.TryAddSingleton<IAuditStore>(sp => sp.GetRequiredService<SqliteAuditStore>());
        services.AddAuditStoreRetention();
        services.AddHealthChecks().AddCheck<AuditStoreHealthCheck>("store", tags: ["ready"]);
        return services;
    }

    /// <summary>
    /// The store-agnostic retention job (<c>ApplyRetentionAsync</c> at start and every
    /// <c>Retention:Interval</c>) for whatever <see cref="IAuditStore"/> is registered.
    /// </summary>
    public static IServiceCollection AddAuditStoreRetention(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, RetentionService>());
        return services;
    }

    private static void AddRetentionDefaults(this IServiceCollection services, IConfiguration configuration)
    {
        // The lead's composition may bind Retention too; binding is only added here when nobody did.
        if (!services.Any(d => d.ServiceType == typeof(RetentionPlanRegistry)))
        {
            services.AddValidatedOptions<RetentionOptions, RetentionOptionsValidator>(configuration.GetSection(RetentionOptions.SectionName));
            services.AddSingleton<RetentionPlanRegistry>();
        }

        services.TryAddSingleton(TimeProvider.System);
    }
}
