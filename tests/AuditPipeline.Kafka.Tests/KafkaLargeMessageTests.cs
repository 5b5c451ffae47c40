using System.Text;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Kafka.Tests.Support;
using AuditPipeline.Testing;
using Confluent.Kafka;

namespace AuditPipeline.Kafka.Tests;

[Collection(nameof(KafkaCollection))]
public sealed class KafkaLargeMessageTests(MockKafkaCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_record_larger_than_MaxMessageBytes_is_dead_lettered_whole_and_the_next_record_is_stored()
    {
        var topics = TestTopics.Create(cluster, partitions: 1);
        var big = Encoding.UTF8.GetBytes("{\"id\":\"" + new string('x', (3 * 1024 * 1024) / 2) + "\"}");
        await cluster.ProduceAsync(topics.Crm, Encoding.UTF8.GetBytes("org_big"), big);
        var after = RawMessages.Valid(SourceKind.Crm);
        await cluster.ProduceAsync(topics.Crm, after.Key, Encoding.UTF8.GetString(after.Value!));

        var store = new RecordingStore();
        await using (var host = await PipelineHost.StartAsync(cluster, topics, store))
        {
            await Eventually.TrueAsync(() => store.Count == 1 && Committed(topics) == 2, Patience, () => $"{store.Count} stored, {Committed(topics)} committed");
        }

        var dead = Assert.Single(cluster.ReadAll(topics.DeadLetter));
        Assert.Equal(big, dead.Message.Value);
        Assert.Equal("org_big", Encoding.UTF8.GetString(dead.Message.Key!));
        Assert.Contains("MaxMessageBytes", Header(dead, "audit.error"), StringComparison.Ordinal);
        Assert.Null(Header(dead, KafkaDeadLetterWriter.ValueTruncatedHeader));
    }

    [Fact]
    public async Task A_rejected_record_too_large_for_the_dead_letter_topic_is_dead_lettered_as_a_truncated_copy_that_says_so()
    {
        var topics = TestTopics.Create(cluster, partitions: 1);
        var value = Encoding.UTF8.GetBytes(new string('y', 300_000));
        await cluster.ProduceAsync(topics.Crm, Encoding.UTF8.GetBytes("org_1"), value);
        var after = RawMessages.Valid(SourceKind.Crm);
        await cluster.ProduceAsync(topics.Crm, after.Key, Encoding.UTF8.GetString(after.Value!));

        // The dead-letter side refuses records above 200 000 bytes (as a broker's message.max.bytes would).
        var store = new RecordingStore();
        await using (var host = await PipelineHost.StartAsync(cluster, topics, store, s => s["Kafka:Client:message.max.bytes"] = "200000"))
        {
            await Eventually.TrueAsync(() => store.Count == 1 && Committed(topics) == 2, Patience, () => $"{store.Count} stored, {Committed(topics)} committed");
        }

        var dead = Assert.Single(cluster.ReadAll(topics.DeadLetter));
        Assert.Equal(value.AsSpan(0, KafkaDeadLetterWriter.TruncatedValueBytes).ToArray(), dead.Message.Value);
        Assert.Equal("org_1", Encoding.UTF8.GetString(dead.Message.Key!));
        Assert.Contains("300000 bytes", Header(dead, KafkaDeadLetterWriter.ValueTruncatedHeader), StringComparison.Ordinal);
        Assert.Equal("0", Header(dead, "audit.source.offset"));
        Assert.False(string.IsNullOrEmpty(Header(dead, "audit.error")));
    }

    private static string? Header(ConsumeResult<byte[]?, byte[]?> r, string name) =>
        r.Message.Headers.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;

    private long Committed(TestTopics topics) => cluster.CommittedOffsets(topics.GroupId, topics.Sources).Values.Sum(v => Math.Max(0, v));
}
