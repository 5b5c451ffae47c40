using AuditPipeline.Core;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Kafka.Plans;
using AuditPipeline.Kafka.Source;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Kafka.Tests.Support;

/// <summary>The topics and group of one test, created on the mock cluster with a per-run suffix.</summary>
internal sealed record TestTopics(string Crm, string Auth, string Ai, string Platform, string DeadLetter, string Plans, string Notifications, string GroupId)
{
    public static TestTopics Create(MockKafkaCluster cluster, int partitions = 4, int plansPartitions = 2)
    {
        var t = new TestTopics(
            MockKafkaCluster.UniqueName("crm"),
            MockKafkaCluster.UniqueName("auth"),
            MockKafkaCluster.UniqueName("ai"),
            MockKafkaCluster.UniqueName("platform"),
            MockKafkaCluster.UniqueName("dlq"),
            MockKafkaCluster.UniqueName("plans"),
            MockKafkaCluster.UniqueName("notifications"),
            MockKafkaCluster.UniqueName("group"));
        foreach (var topic in t.Sources)
        {
            cluster.CreateTopic(topic, partitions);
        }

        cluster.CreateTopic(t.DeadLetter, partitions);
        cluster.CreateTopic(t.Plans, plansPartitions);
        cluster.CreateTopic(t.Notifications, 1);
        return t;
    }

    public string[] Sources => [Crm, Auth, Ai, Platform];

    public string TopicOf(SourceKind kind) => kind switch
    {
        SourceKind.Crm => Crm,
        SourceKind.Auth => Auth,
        SourceKind.Ai => Ai,
        _ => Platform,
    };
}

/// <summary>
/// The real composition under test: <see cref="IngestPipeline"/> with the real normalizer over a given
/// store, plus <c>AddKafkaSource</c>, in a generic host started and stopped like the worker's.
/// </summary>
internal sealed class PipelineHost : IAsyncDisposable
{
    private PipelineHost(IHost host)
    {
        Host = host;
    }

    public IHost Host { get; }

    public IngestPipeline Pipeline => Host.Services.GetRequiredService<IngestPipeline>();

    public KafkaAuditSource Source => Host.Services.GetRequiredService<KafkaAuditSource>();

    public KafkaPlansFollower Plans => Host.Services.GetRequiredService<KafkaPlansFollower>();

    public RetentionPlanRegistry Registry => Host.Services.GetRequiredService<RetentionPlanRegistry>();

    public static Dictionary<string, string?> Configuration(MockKafkaCluster cluster, TestTopics topics) => new()
    {
        ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
        ["Kafka:GroupId"] = topics.GroupId,
        ["Kafka:Topics:crm"] = topics.Crm,
        ["Kafka:Topics:auth"] = topics.Auth,
        ["Kafka:Topics:ai"] = topics.Ai,
        ["Kafka:Topics:platform"] = topics.Platform,
        ["Kafka:DeadLetterTopic"] = topics.DeadLetter,
        ["Kafka:PlansTopic"] = topics.Plans,
        ["Kafka:NotificationTopic"] = topics.Notifications,
        ["Kafka:CommitInterval"] = "00:00:00.200",
        ["Kafka:PauseAfter"] = "00:00:00.100",
        ["Kafka:Client:session.timeout.ms"] = "6000",
        ["Kafka:Client:heartbeat.interval.ms"] = "500",
        ["Kafka:Client:topic.metadata.refresh.interval.ms"] = "1000",
        ["Ingest:RetryMin"] = "00:00:00.050",
        ["Ingest:RetryMax"] = "00:00:00.500",
    };

    /// <summary>Builds the host without starting it.</summary>
    public static IHost Build(IDictionary<string, string?> settings, IAuditStore store)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        if (Environment.GetEnvironmentVariable("KAFKA_TEST_LOG_FILE") is { Length: > 0 } logFile)
        {
            builder.Logging.AddProvider(new FileLoggerProvider(logFile));
        }

        var services = builder.Services;
        services.AddAuditCore(builder.Configuration);
        services.AddSingleton(store);
        services.AddKafkaSource(builder.Configuration);
        return builder.Build();
    }

    public static async Task<PipelineHost> StartAsync(
        MockKafkaCluster cluster,
        TestTopics topics,
        IAuditStore store,
        Action<Dictionary<string, string?>>? configure = null,
        Action<IServiceProvider>? beforeStart = null)
    {
        var settings = Configuration(cluster, topics);
        configure?.Invoke(settings);
        var host = Build(settings, store);
        beforeStart?.Invoke(host.Services);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StartAsync(timeout.Token);
        return new PipelineHost(host);
    }

    /// <summary>Stops as SIGTERM does (the host's StopAsync), bounded so a hang fails the test.</summary>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        await Host.StopAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            Host.Dispose();
        }
    }
}
