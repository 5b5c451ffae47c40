using System.Text;
using AuditPipeline.Core.Notifications;
using AuditPipeline.Kafka.Tests.Support;
using AuditPipeline.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Kafka.Tests;

[Collection(nameof(KafkaCollection))]
public sealed class KafkaCompositionTests(MockKafkaCluster cluster)
{
    [Theory]
    [InlineData("Kafka:GroupId", "", "Kafka:GroupId must not be empty")]
    [InlineData("Kafka:Topics:crm", "", "Kafka:Topics:crm must not be empty")]
    [InlineData("Kafka:Topics:auth", "bad topic!", "Kafka:Topics:auth must be a Kafka topic name")]
    [InlineData("Kafka:Topics:platform", "outsprint.crm.events", "Kafka:Topics:platform must differ from Kafka:Topics:crm")]
    [InlineData("Kafka:DeadLetterTopic", "outsprint.ai.actions", "Kafka:DeadLetterTopic must differ from Kafka:Topics:ai")]
    [InlineData("Kafka:PlansTopic", " ", "Kafka:PlansTopic must not be empty")]
    [InlineData("Kafka:NotificationTopic", "", "Kafka:NotificationTopic must not be empty")]
    [InlineData("Kafka:Client:enable.auto.commit", "true", "Kafka:Client:enable.auto.commit must not be set")]
    [InlineData("Kafka:Client:group.id", "x", "Kafka:Client:group.id must not be set")]
    [InlineData("Kafka:CommitInterval", "00:00:00", "Kafka:CommitInterval must be positive")]
    public async Task Invalid_configuration_stops_start_up_with_a_message_naming_the_key(string key, string value, string expected)
    {
        using var host = PipelineHost.Build(new Dictionary<string, string?> { ["Kafka:BootstrapServers"] = "127.0.0.1:9", [key] = value }, new InMemoryAuditStore());
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_bootstrap_servers_no_Kafka_component_is_registered_and_nothing_is_validated()
    {
        using var host = PipelineHost.Build(new Dictionary<string, string?> { ["Kafka:GroupId"] = "" }, new InMemoryAuditStore());
        Assert.DoesNotContain(host.Services.GetServices<IHostedService>(), s => s.GetType().Namespace!.StartsWith("AuditPipeline.Kafka", StringComparison.Ordinal));
        Assert.Empty(host.Services.GetServices<INotificationChannel>());
        Assert.False(host.Services.GetRequiredService<IOptions<KafkaOptions>>().Value.Enabled);
    }

    [Fact]
    public void The_api_role_gets_the_notification_channel_without_any_consumer()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Kafka:BootstrapServers"] = "127.0.0.1:9" });
        builder.Services.AddKafkaNotifications(builder.Configuration);
        using var host = builder.Build();
        Assert.IsType<KafkaNotificationChannel>(Assert.Single(host.Services.GetServices<INotificationChannel>()));
        Assert.Empty(host.Services.GetServices<IHostedService>());
    }

    [Fact]
    public void Registering_every_part_twice_registers_each_service_once()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Kafka:BootstrapServers"] = "127.0.0.1:9" });
        builder.Services.AddKafkaNotifications(builder.Configuration).AddKafkaPlans(builder.Configuration);
        builder.Services.AddKafkaSource(builder.Configuration).AddKafkaNotifications(builder.Configuration).AddKafkaPlans(builder.Configuration);
        builder.Services.AddKafkaSource(builder.Configuration);
        using (var provider = builder.Services.BuildServiceProvider())
        {
            Assert.Single(provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations, r => r.Name == "kafka");
        }

        Assert.Single(builder.Services, d => d.ServiceType == typeof(IValidateOptions<KafkaOptions>));
        Assert.Single(builder.Services, d => d.ServiceType == typeof(INotificationChannel));
        Assert.Equal(
            ["KafkaPlansService", "KafkaSourceService"],
            builder.Services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType?.Namespace == "AuditPipeline.Kafka").Select(d => d.ImplementationType!.Name));
    }

    [Fact]
    public void The_defaults_are_the_contract_topics()
    {
        var o = new KafkaOptions();
        Assert.Equal(
            ["audit-pipeline", "outsprint.crm.events", "outsprint.auth.events", "outsprint.ai.actions", "outsprint.platform.events", "outsprint.audit.dlq", "outsprint.org.plans", "outsprint.notifications"],
            [o.GroupId, o.Topics.Crm, o.Topics.Auth, o.Topics.Ai, o.Topics.Platform, o.DeadLetterTopic, o.PlansTopic, o.NotificationTopic]);
    }

    [Fact]
    public void Raw_client_properties_reach_every_client_but_cannot_override_the_guarantees()
    {
        var clients = new KafkaClients(
            new KafkaOptions { BootstrapServers = "b:9092", Client = new() { ["security.protocol"] = "SASL_SSL", ["sasl.mechanism"] = "PLAIN", ["session.timeout.ms"] = "6000" } },
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        var consumer = clients.SourceConsumerConfig();
        var producer = clients.ProducerConfig();
        Assert.Equal("SASL_SSL", consumer.Get("security.protocol"));
        Assert.Equal(6000, consumer.SessionTimeoutMs);
        Assert.Equal("SASL_SSL", producer.Get("security.protocol"));
        Assert.Equal("PLAIN", clients.PlansConsumerConfig().Get("sasl.mechanism"));
        Assert.False(consumer.EnableAutoCommit);
        Assert.False(consumer.EnableAutoOffsetStore);
        Assert.True(producer.EnableIdempotence);
        Assert.Equal(Confluent.Kafka.Acks.All, producer.Acks);
    }

    [Fact]
    public async Task An_export_notification_is_published_to_the_notification_topic_keyed_by_organisation()
    {
        var topics = TestTopics.Create(cluster, partitions: 1);
        using var host = PipelineHost.Build(PipelineHost.Configuration(cluster, topics), new InMemoryAuditStore());
        var channel = Assert.Single(host.Services.GetServices<INotificationChannel>());
        var body = """{"type":"audit_export.completed","orgId":"org_9","exportId":"exp_1","requestedBy":"app","rowCount":3,"downloadPath":"/v1/orgs/org_9/exports/exp_1/download"}"""u8.ToArray();

        await channel.PublishAsync("org_9", body, TestContext.Current.CancellationToken);

        var record = Assert.Single(cluster.ReadAll(topics.Notifications));
        Assert.Equal("org_9", Encoding.UTF8.GetString(record.Message.Key!));
        Assert.Equal(body, record.Message.Value);
    }

    [Fact]
    public async Task The_readiness_check_is_healthy_when_a_broker_answers()
    {
        var topics = TestTopics.Create(cluster, partitions: 1);
        using var host = PipelineHost.Build(PipelineHost.Configuration(cluster, topics), new InMemoryAuditStore());
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Tags.Contains("ready"), TestContext.Current.CancellationToken);
        Assert.Equal(HealthStatus.Healthy, report.Entries["kafka"].Status);
    }

    [Fact]
    public async Task The_readiness_check_is_unhealthy_when_no_broker_answers()
    {
        using var host = PipelineHost.Build(new Dictionary<string, string?> { ["Kafka:BootstrapServers"] = "127.0.0.1:9" }, new InMemoryAuditStore());
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Tags.Contains("ready"), TestContext.Current.CancellationToken);
        Assert.Equal(HealthStatus.Unhealthy, report.Entries["kafka"].Status);
    }
}
