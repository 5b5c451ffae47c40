using AuditPipeline.Kafka.Tests.Support;
using AuditPipeline.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Kafka.Tests;

[Collection(nameof(KafkaCollection))]
public sealed class KafkaReadinessTests(MockKafkaCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_flood_of_readiness_checks_sends_one_metadata_request()
    {
        var topics = TestTopics.Create(cluster, partitions: 1);
        using var host = PipelineHost.Build(PipelineHost.Configuration(cluster, topics), new RecordingStore());
        var health = host.Services.GetRequiredService<HealthCheckService>();

        var reports = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => health.CheckHealthAsync(r => r.Tags.Contains("ready"), TestContext.Current.CancellationToken)));

        Assert.All(reports, r => Assert.Equal(HealthStatus.Healthy, r.Entries["kafka"].Status));
        Assert.Equal(1, host.Services.GetRequiredService<KafkaReadyHealthCheck>().Probes);
    }

    [Fact]
    public async Task Without_a_broker_a_flood_of_readiness_checks_is_answered_by_one_request_within_its_timeout()
    {
        using var host = PipelineHost.Build(new Dictionary<string, string?> { ["Kafka:BootstrapServers"] = "127.0.0.1:9" }, new RecordingStore());
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var started = DateTime.UtcNow;

        var reports = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => health.CheckHealthAsync(r => r.Tags.Contains("ready"), TestContext.Current.CancellationToken)));

        Assert.All(reports, r => Assert.Equal(HealthStatus.Unhealthy, r.Entries["kafka"].Status));
        Assert.Equal(1, host.Services.GetRequiredService<KafkaReadyHealthCheck>().Probes);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), $"took {DateTime.UtcNow - started}");
    }

    [Fact]
    public async Task A_source_waiting_to_rebuild_its_consumer_is_not_ready()
    {
        var topics = TestTopics.Create(cluster, partitions: 1);
        await using var host = await PipelineHost.StartAsync(cluster, topics, new RecordingStore(), s => s["Kafka:RecreateDelay"] = "00:01:00");
        var health = host.Host.Services.GetRequiredService<HealthCheckService>();
        await Eventually.TrueAsync(() => host.Source.AssignedCount == 4, Patience, () => "nothing assigned");
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(r => r.Tags.Contains("ready"), TestContext.Current.CancellationToken)).Entries["kafka"].Status);

        MockKafkaCluster.TriggerFatalError(host.Source.Consumer!.Handle, "test: the member was fenced");
        await Eventually.TrueAsync(() => host.Source.Rebuild.WaitingToRebuild, Patience, () => "the consumer did not fail");

        var entry = (await health.CheckHealthAsync(r => r.Tags.Contains("ready"), TestContext.Current.CancellationToken)).Entries["kafka"];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("rebuilt", entry.Description, StringComparison.Ordinal);

        // The stop does not wait out the rebuild delay.
        await host.StopAsync(TimeSpan.FromSeconds(20));
    }

    [Theory]
    [InlineData("bad id!")]
    [InlineData(" ")]
    public async Task An_invalid_group_instance_id_stops_start_up_naming_the_key(string value)
    {
        using var host = PipelineHost.Build(new Dictionary<string, string?> { ["Kafka:BootstrapServers"] = "127.0.0.1:9", ["Kafka:GroupInstanceId"] = value }, new InMemoryAuditStore());
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("Kafka:GroupInstanceId must be", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_group_instance_id_makes_the_source_a_static_member_and_none_leaves_it_dynamic()
    {
        var logs = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        Assert.Equal("audit-worker-0", new KafkaClients(new KafkaOptions { BootstrapServers = "b:9092", GroupInstanceId = "audit-worker-0" }, logs).SourceConsumerConfig().GroupInstanceId);
        Assert.Null(new KafkaClients(new KafkaOptions { BootstrapServers = "b:9092" }, logs).SourceConsumerConfig().GroupInstanceId);
        Assert.Empty(new KafkaOptionsValidator().Problems(new KafkaOptions { BootstrapServers = "b:9092", GroupInstanceId = "" }));
        Assert.Contains(
            "Kafka:Client:group.instance.id must not be set: set Kafka:GroupInstanceId instead.",
            new KafkaOptionsValidator().Problems(new KafkaOptions { BootstrapServers = "b:9092", Client = new() { ["group.instance.id"] = "x" } }));
    }
}
