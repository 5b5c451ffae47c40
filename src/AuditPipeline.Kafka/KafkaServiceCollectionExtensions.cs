using AuditPipeline.Core.Configuration;
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
    /// follower (<see cref="AddKafkaPlans"/>), the audit source (hosted services, in that order), the dead-letter writer, the notification
    /// channel and the "kafka" readiness check (tag <c>ready</c>). Needs <see cref="IIngestQueue"/>,
    /// <see cref="Core.Retention.RetentionPlanRegistry"/> and <see cref="AuditMetrics"/> registered; call it
    /// after the ingest pipeline's hosted service is added, so that on stop the source drains into a pipeline that still runs.
    /// </summary>
    public static IServiceCollection AddKafkaSource(this IServiceCollection services, IConfiguration configuration)
    {
        if (!AddKafkaOptions(services, configuration) || services.Any(d => d.ServiceType == typeof(KafkaAuditSource)))
        {
            return services;
        }

        AddPlans(services);
        services.TryAddSingleton<DeadLetterLedger>();
        services.TryAddSingleton(sp => new KafkaDeadLetterWriter(
            sp.GetRequiredService<KafkaProducer>(),
            sp.GetRequiredService<KafkaOptions>(),
            sp.GetRequiredService<DeadLetterLedger>(),
            sp.GetRequiredService<ILogger<KafkaDeadLetterWriter>>()));
        services.TryAddSingleton(sp => new KafkaAuditSource(
            sp.GetRequiredService<KafkaClients>(),
            sp.GetRequiredService<IIngestQueue>(),
            sp.GetRequiredService<KafkaDeadLetterWriter>(),
            sp.GetRequiredService<KafkaPlansFollower>(),
            sp.GetService<AuditMetrics>(),
            sp.GetRequiredService<ILogger<KafkaAuditSource>>()));
        services.AddHostedService<KafkaSourceService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<INotificationChannel, KafkaNotificationChannel>());
        // One instance, so its cached broker answer is shared by every readiness request.
        services.TryAddSingleton(sp => new KafkaReadyHealthCheck(sp.GetRequiredService<KafkaProducer>(), sp.GetRequiredService<KafkaAuditSource>()));
        services.AddHealthChecks().AddCheck<KafkaReadyHealthCheck>("kafka", tags: ["ready"]);
        return services;
    }

    /// <summary>
    /// Only the notification channel (<c>Kafka:NotificationTopic</c>), for a process in the api role alone;
    /// nothing when <c>Kafka:BootstrapServers</c> is not set. Safe to call together with <see cref="AddKafkaSource"/>.
    /// </summary>
    public static IServiceCollection AddKafkaNotifications(this IServiceCollection services, IConfiguration configuration)
    {
        if (AddKafkaOptions(services, configuration))
        {
            services.TryAddEnumerable(ServiceDescriptor.Singleton<INotificationChannel, KafkaNotificationChannel>());
        }

        return services;
    }

    /// <summary>
    /// Only the plans follower (<c>Kafka:PlansTopic</c> into <see cref="Core.Retention.RetentionPlanRegistry"/>), for a
    /// process that classifies events by retention without consuming audit topics; nothing when
    /// <c>Kafka:BootstrapServers</c> is not set. Safe to call together with <see cref="AddKafkaSource"/>.
    /// </summary>
    public static IServiceCollection AddKafkaPlans(this IServiceCollection services, IConfiguration configuration)
    {
        if (AddKafkaOptions(services, configuration))
        {
            AddPlans(services);
        }

        return services;
    }

    /// <summary>Binds and validates the section (once); true when the Kafka components are on.</summary>
    private static bool AddKafkaOptions(IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(KafkaOptions.SectionName);
        // Once: binding the section a second time would run its configure step twice.
        if (!services.Any(d => d.ServiceType == typeof(IValidateOptions<KafkaOptions>) && d.ImplementationType == typeof(KafkaOptionsValidator)))
        {
            services.AddValidatedOptions<KafkaOptions, KafkaOptionsValidator>(section);
        }

        if (!(section.Get<KafkaOptions>() ?? new KafkaOptions()).Enabled)
        {
            return false;
        }

        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<KafkaOptions>>().Value);
        services.TryAddSingleton<KafkaClients>();
        services.TryAddSingleton<KafkaProducer>();
        return true;
    }

    private static void AddPlans(IServiceCollection services)
    {
        services.TryAddSingleton<KafkaPlansFollower>();
        services.AddHostedService<KafkaPlansService>();
    }
}
