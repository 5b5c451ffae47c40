using System.Text;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Kafka.Tests.Support;
using AuditPipeline.Testing;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;

namespace AuditPipeline.Kafka.Tests;

/// <summary>
/// Without a crash, each rejected message is dead-lettered exactly once (CONTRACT.md section 2), whatever
/// happens to the clients between the rejection and the acknowledgement.
/// </summary>
[Collection(nameof(KafkaCollection))]
public sealed class KafkaDeadLetterOnceTests(MockKafkaCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_fatal_producer_error_with_a_dead_letter_in_flight_rebuilds_the_producer_and_the_dead_letter_is_written_once()
    {
        var topics = TestTopics.Create(cluster, partitions: 1);
        var valid = await ProducePoisonBetweenValidAsync(topics);

        // The dead letter cannot be acknowledged while the topic has no leader: it is in flight when the producer dies.
        cluster.SetTopicError(topics.DeadLetter, 5);
        var store = new RecordingStore();
        await using var host = await PipelineHost.StartAsync(cluster, topics, store);
        // How the records fall into batches varies; what matters is that the dead letter is waiting in the producer.
        var producer = host.Host.Services.GetRequiredService<KafkaProducer>();
        await Eventually.TrueAsync(() => producer.Builds == 1 && store.Count >= 1 && host.Pipeline.InFlight > 0, Patience, () => "the dead letter was not sent");

        MockKafkaCluster.TriggerFatalError(producer.Producer.Handle, "test: the producer was fenced");
        await Eventually.TrueAsync(() => producer.Builds == 2, Patience, () => "the producer was not rebuilt");
        Assert.True(Committed(topics) <= 1, "committed past a dead letter that was never acknowledged");

        cluster.SetTopicError(topics.DeadLetter, 0);
        await Eventually.TrueAsync(() => Committed(topics) == Ends(topics), Patience, () => "offsets not committed after the rebuilt producer wrote the dead letter");
        Assert.Equal(valid, store.Count);
        var dead = Assert.Single(cluster.ReadAll(topics.DeadLetter));
        Assert.Equal("1", Header(dead, "audit.source.offset"));
        Assert.Equal("not json"u8.ToArray(), dead.Message.Value);
    }

    [Fact]
    public async Task A_consumer_rebuilt_while_a_dead_letter_is_in_flight_reads_the_message_again_without_dead_lettering_it_twice()
    {
        var topics = TestTopics.Create(cluster, partitions: 1);
        var valid = await ProducePoisonBetweenValidAsync(topics);
        cluster.SetTopicError(topics.DeadLetter, 5);
        var store = new RecordingStore();
        await using var host = await PipelineHost.StartAsync(cluster, topics, store, s => s["Kafka:RecreateDelay"] = "00:00:00.200");
        var producer = host.Host.Services.GetRequiredService<KafkaProducer>();
        await Eventually.TrueAsync(() => producer.Builds == 1 && store.Count >= 1 && host.Pipeline.InFlight > 0, Patience, () => "the dead letter was not sent");

        // The new consumer starts from the last commit (before the rejected message) and reads everything again,
        // into the queue behind the dead letter still waiting.
        var inFlight = host.Pipeline.InFlight;
        MockKafkaCluster.TriggerFatalError(host.Source.Consumer!.Handle, "test: the member was fenced");
        await Eventually.TrueAsync(() => host.Source.ConsumersBuilt == 2, Patience, () => "the consumer was not rebuilt");
        await Eventually.TrueAsync(() => host.Pipeline.InFlight >= inFlight + 4, Patience, () => $"the rebuilt consumer did not read the messages again ({host.Pipeline.InFlight} in flight)");

        cluster.SetTopicError(topics.DeadLetter, 0);
        await Eventually.TrueAsync(() => Committed(topics) == Ends(topics), Patience, () => "offsets not committed after the dead letter was acknowledged");
        Assert.Equal(valid, store.Count);
        Assert.False(store.Duplicates.IsEmpty, "the messages were not read again");
        var dead = Assert.Single(cluster.ReadAll(topics.DeadLetter));
        Assert.Equal("1", Header(dead, "audit.source.offset"));
        Assert.Equal(0, host.Host.Services.GetRequiredService<KafkaDeadLetterWriter>().Ledger.Count);
    }

    [Fact]
    public async Task The_same_source_position_sent_twice_while_the_first_send_waits_is_written_once()
    {
        var topics = TestTopics.Create(cluster, partitions: 1);
        cluster.SetTopicError(topics.DeadLetter, 5);
        using var host = PipelineHost.Build(PipelineHost.Configuration(cluster, topics), new RecordingStore());
        var writer = host.Services.GetRequiredService<KafkaDeadLetterWriter>();
        var message = new Core.Ingest.IngestMessage(SourceKind.Crm, "x"u8.ToArray(), new NoOrigin())
        {
            Position = new TopicPartitionOffset(topics.Crm, 0, 7),
        };

        // The first wait is cancelled (a drain deadline), the retry joins the send still in the producer.
        using (var cancelled = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writer.WriteAsync(message, "reason", cancelled.Token));
        }

        var retry = writer.WriteAsync(message, "reason", TestContext.Current.CancellationToken);
        cluster.SetTopicError(topics.DeadLetter, 0);
        await retry.WaitAsync(Patience, TestContext.Current.CancellationToken);
        await writer.WriteAsync(message, "reason", TestContext.Current.CancellationToken);

        var dead = Assert.Single(cluster.ReadAll(topics.DeadLetter));
        Assert.Equal("7", Header(dead, "audit.source.offset"));
        Assert.Equal(1, writer.Ledger.Count);
        writer.Ledger.Forget(new TopicPartition(topics.Crm, 0), 8);
        Assert.Equal(0, writer.Ledger.Count);
    }

    [Fact]
    public void The_dead_letter_producer_never_times_a_record_out_and_configuration_cannot_make_it()
    {
        var clients = new KafkaClients(new KafkaOptions { BootstrapServers = "b:9092" }, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        Assert.Equal(0, clients.ProducerConfig().MessageTimeoutMs);
        var errors = new KafkaOptionsValidator().Problems(new KafkaOptions
        {
            BootstrapServers = "b:9092",
            Client = new() { ["message.timeout.ms"] = "1000", ["delivery.timeout.ms"] = "1000" },
        }).ToList();
        Assert.Contains(errors, e => e.StartsWith("Kafka:Client:message.timeout.ms must not be set", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Kafka:Client:delivery.timeout.ms must not be set", StringComparison.Ordinal));
    }

    /// <summary>valid, "not json" (offset 1), three valid: returns how many are valid.</summary>
    private async Task<int> ProducePoisonBetweenValidAsync(TestTopics topics)
    {
        var before = RawMessages.Valid(SourceKind.Crm);
        await cluster.ProduceAsync(topics.Crm, before.Key, Encoding.UTF8.GetString(before.Value!));
        await cluster.ProduceAsync(topics.Crm, "org_42", "not json");
        for (var i = 0; i < 3; i++)
        {
            var m = RawMessages.Valid(SourceKind.Crm);
            await cluster.ProduceAsync(topics.Crm, m.Key, Encoding.UTF8.GetString(m.Value!));
        }

        return 4;
    }

    private static string? Header(ConsumeResult<byte[]?, byte[]?> r, string name) =>
        r.Message.Headers.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;

    private long Committed(TestTopics topics) => cluster.CommittedOffsets(topics.GroupId, topics.Sources).Values.Sum(v => Math.Max(0, v));

    private long Ends(TestTopics topics) => topics.Sources.Sum(t => cluster.HighWatermarks(t).Values.Sum());

    private sealed class NoOrigin : Core.Ingest.IMessageOrigin
    {
        public void Complete(Core.Ingest.IngestMessage message)
        {
        }

        public Task DeadLetterAsync(Core.Ingest.IngestMessage message, string reason, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
