using AuditPipeline.Core.Diagnostics;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Notifications;
using AuditPipeline.Kafka.Plans;
using AuditPipeline.Kafka.Source;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Kafka;

/// <summary>
/// <code>
/// "Kafka": {
///   "BootstrapServers": "kafka:9092",             // the source is on only when this is set
///   "GroupId": "audit-pipeline",
///   "Topics": { "crm": "outsprint.crm.events", "auth": "outsprint.auth.events",
///               "ai": "outsprint.ai.actions", "platform": "outsprint.platform.events" },
///   "DeadLetterTopic": "outsprint.audit.dlq",
///   "PlansTopic": "outsprint.org.plans",
///   "NotificationTopic": "outsprint.notifications",
///   "Client": { "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "...", "sasl.password": "..." }
/// }
/// </code>
/// </summary>
public static class KafkaServiceCollectionExtensions
{
    /// <summary>
    /// Binds and validates <c>Kafka</c>. When <c>Kafka:BootstrapServers</c> is set, also registers the plans
    /// follower, the audit source (hosted services, in that order), the dead-letter writer, the notification
    /// channel and the "kafka" readiness check (tag <c>ready</c>). Needs <see cref="IIngestQueue"/>,
    /// <see cref="Core.Retention.RetentionPlanRegistry"/> and <see cref="AuditMetrics"/> registered; call it
    /// after the ingest pipeline's hosted service is added, so that on stop the source drains into a pipeline that still runs.
    /// </summary>
    public static IServiceCollection AddKafkaSource(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(KafkaOptions.SectionName);
        services.AddOptions<KafkaOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KafkaOptions>, KafkaOptionsValidator>());

        var options = section.Get<KafkaOptions>() ?? new KafkaOptions();
        if (!options.Enabled)
        {
            return services;
        }

        AddKafkaClients(services);
        services.TryAddSingleton<KafkaDeadLetterWriter>();
        services.TryAddSingleton<KafkaPlansFollower>();
        services.TryAddSingleton(sp => new KafkaAuditSource(
            sp.GetRequiredService<KafkaClients>(),
            sp.GetRequiredService<IIngestQueue>(),
            sp.GetRequiredService<KafkaDeadLetterWriter>(),
            sp.GetRequiredService<KafkaPlansFollower>(),
            sp.GetService<AuditMetrics>(),
            sp.GetRequiredService<ILogger<KafkaAuditSource>>()));
        services.AddHostedService<KafkaPlansService>();
        services.AddHostedService<KafkaSourceService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<INotificationChannel, KafkaNotificationChannel>());
        services.AddHealthChecks().AddCheck<KafkaReadyHealthCheck>("kafka", tags: ["ready"]);
        return services;
    }

    /// <summary>
    /// Only the notification channel (<c>Kafka:NotificationTopic</c>), for a process in the api role alone;
    /// nothing when <c>Kafka:BootstrapServers</c> is not set. Safe to call together with <see cref="AddKafkaSource"/>.
    /// </summary>
    public static IServiceCollection AddKafkaNotifications(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(KafkaOptions.SectionName);
        services.AddOptions<KafkaOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KafkaOptions>, KafkaOptionsValidator>());
        if ((section.Get<KafkaOptions>() ?? new KafkaOptions()).Enabled)
        {
            AddKafkaClients(services);
            services.TryAddEnumerable(ServiceDescriptor.Singleton<INotificationChannel, KafkaNotificationChannel>());
        }

        return services;
    }

    private static void AddKafkaClients(IServiceCollection services)
    {
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<KafkaOptions>>().Value);
        services.TryAddSingleton<KafkaClients>();
        services.TryAddSingleton<KafkaProducer>();
    }
}
