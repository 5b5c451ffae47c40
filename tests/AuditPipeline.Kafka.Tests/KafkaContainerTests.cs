using AuditPipeline.Core.Normalization;
using AuditPipeline.Kafka.Tests.Support;
using AuditPipeline.Testing;
using Confluent.Kafka;
using Testcontainers.Kafka;

namespace AuditPipeline.Kafka.Tests;

/// <summary>The same round trip against a real broker in Docker; skipped, visibly, where no Docker engine is present.</summary>
public sealed class KafkaContainerTests
{
    [Fact]
    public async Task A_real_broker_delivers_every_valid_event_to_the_store()
    {
        if (!DockerAvailable())
        {
            Assert.Skip("No Docker engine is available (no /var/run/docker.sock and no DOCKER_HOST); the mock-cluster tests cover the same behaviour.");
        }

        await using var kafka = new KafkaBuilder("confluentinc/cp-kafka:7.6.1").Build();
        await kafka.StartAsync(TestContext.Current.CancellationToken);
        var bootstrap = kafka.GetBootstrapAddress();

        var topics = new TestTopics("crm", "auth", "ai", "platform", "dlq", "plans", "notifications", "group");
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = bootstrap }).Build();
        var valid = Enumerable.Range(0, 200).Select(i => RawMessages.Valid(SourceKinds.All[i % 4])).ToList();
        foreach (var m in valid)
        {
            await producer.ProduceAsync(topics.TopicOf(m.Kind), new Message<byte[]?, byte[]?> { Value = m.Value }, TestContext.Current.CancellationToken);
        }

        var store = new RecordingStore();
        using var host = PipelineHost.Build(
            new Dictionary<string, string?>
            {
                ["Kafka:BootstrapServers"] = bootstrap,
                ["Kafka:GroupId"] = topics.GroupId,
                ["Kafka:Topics:crm"] = topics.Crm,
                ["Kafka:Topics:auth"] = topics.Auth,
                ["Kafka:Topics:ai"] = topics.Ai,
                ["Kafka:Topics:platform"] = topics.Platform,
                ["Kafka:DeadLetterTopic"] = topics.DeadLetter,
                ["Kafka:PlansTopic"] = topics.Plans,
            },
            store);
        await host.StartAsync(TestContext.Current.CancellationToken);
        await Eventually.TrueAsync(() => store.Count == valid.Count, TimeSpan.FromSeconds(120), () => $"{store.Count} of {valid.Count} stored");
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    private static bool DockerAvailable() =>
        File.Exists("/var/run/docker.sock") || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_HOST"));
}
