using AuditPipeline.Api;
using AuditPipeline.Elasticsearch;
using AuditPipeline.Embedded;
using AuditPipeline.Embedded.Inbox;
using AuditPipeline.Integrity;
using AuditPipeline.Kafka;

namespace AuditPipeline.Worker.Hosting;

/// <summary>Store, sources and API, by role and provider. Sources come after the pipeline, so they stop first and drain into it.</summary>
internal static class WorkerRoles
{
    public static IServiceCollection AddRoleServices(this IServiceCollection services, IConfiguration configuration, WorkerOptions options)
    {
        if (options.Store == StoreProvider.Elasticsearch)
        {
            // Index lifecycle (ILM) ages and deletes data; the store's retention pass only reports.
            services.AddElasticsearchStore(configuration);
            services.AddElasticsearchDigestCopy();
        }
        else
        {
            services.AddEmbeddedStore(configuration);
            services.AddEmbeddedDigestCopy();
        }

        services.AddKafkaDigestSink(configuration);

        if (options.Ingest)
        {
            services.AddKafkaSource(configuration);
            services.AddInboxSource(configuration);
        }
        else
        {
            // The api role still follows the plans topic (its export audit events are classified by plan)
            // and publishes export notifications, whenever Kafka is configured.
            services.AddKafkaPlans(configuration);
            services.AddKafkaNotifications(configuration);
        }

        if (options.Api)
        {
            services.AddAuditApi(configuration);
        }

        return services;
    }

    public static WebApplication MapRoleEndpoints(this WebApplication app, WorkerOptions options)
    {
        if (options.Api)
        {
            app.MapAuditApi();
        }

        return app;
    }
}
