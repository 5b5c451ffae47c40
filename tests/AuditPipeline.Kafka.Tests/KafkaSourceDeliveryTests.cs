using System.Globalization;
using System.Text;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Kafka.Tests.Support;
using AuditPipeline.Testing;
using Confluent.Kafka;

namespace AuditPipeline.Kafka.Tests;

[Collection(nameof(KafkaCollection))]
public sealed class KafkaSourceDeliveryTests(MockKafkaCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_valid_event_is_stored_once_and_every_malformed_message_is_dead_lettered_once_with_its_source()
    {
        var topics = TestTopics.Create(cluster, partitions: 4);
        var valid = Enumerable.Range(0, 24_000).Select(i => RawMessages.Valid(SourceKinds.All[i % 4], $"org_{i % 50}")).ToList();
        var malformed = Enumerable.Range(0, 10).SelectMany(_ => SourceKinds.All.SelectMany(RawMessages.Malformed)).ToList();

        // Redeliveries by the producer: the same event twice, sometimes on another partition.
        var duplicates = valid.Where((_, i) => i % 10 == 0).ToList();
        var all = valid.Concat(malformed).Concat(duplicates).OrderBy(_ => Random.Shared.Next()).ToList();
        cluster.ProduceMany(all.Select(m => (topics.TopicOf(m.Kind), Key(m), m.Value, (int?)null)));

        var store = new RecordingStore();
        await using (var host = await PipelineHost.StartAsync(cluster, topics, store))
        {
            await Eventually.TrueAsync(() => store.Count >= valid.Count, Patience, () => $"{store.Count} of {valid.Count} events stored");
            await Eventually.TrueAsync(() => Committed(topics) == Ends(topics), Patience, () => "offsets not committed to the end");
        }

        var stored = store.Inner.All.Select(e => e.Id).ToList();
        Assert.Equal(valid.Count, stored.Count);
        Assert.Equal(valid.Select(m => m.EventId!).Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));
        Assert.Equal(
            valid.Select(m => m.Kind.Name()).GroupBy(k => k).ToDictionary(g => g.Key, g => g.Count()),
            store.Inner.All.GroupBy(e => Kind(e.Id)).ToDictionary(g => g.Key, g => g.Count()));

        var dead = cluster.ReadAll(topics.DeadLetter);
        Assert.Equal(malformed.Count, dead.Count);
        var sources = dead.Select(r => (Header(r, "audit.source.topic"), Header(r, "audit.source.partition"), Header(r, "audit.source.offset"))).ToList();
        Assert.Equal(dead.Count, sources.Distinct().Count());
        Assert.All(dead, r => Assert.False(string.IsNullOrWhiteSpace(Header(r, "audit.error"))));

        // Each dead letter carries the original key and value of the record its headers point to.
        var originals = topics.Sources.SelectMany(t => cluster.ReadAll(t)).ToDictionary(
            r => (r.Topic, r.Partition.Value.ToString(CultureInfo.InvariantCulture), r.Offset.Value.ToString(CultureInfo.InvariantCulture)));
        foreach (var r in dead)
        {
            var original = originals[(Header(r, "audit.source.topic")!, Header(r, "audit.source.partition")!, Header(r, "audit.source.offset")!)];
            Assert.Equal(original.Message.Key, r.Message.Key);
            Assert.Equal(original.Message.Value, r.Message.Value);
        }

        Assert.Equal(
            malformed.Select(m => m.Value is null ? "<null>" : Convert.ToBase64String(m.Value)).Order(StringComparer.Ordinal),
            dead.Select(r => r.Message.Value is null ? "<null>" : Convert.ToBase64String(r.Message.Value)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_tombstone_and_an_oversized_record_are_dead_lettered_with_their_original_key_and_value()
    {
        var topics = TestTopics.Create(cluster, partitions: 1);
        // The mock broker keeps Kafka's 1 MB record limit, so the pipeline's limit is lowered to show the rule.
        var big = Encoding.UTF8.GetBytes("{\"id\":\"" + new string('x', 5000) + "\"}");
        await cluster.ProduceAsync(topics.Crm, Encoding.UTF8.GetBytes("org_1"), null);
        await cluster.ProduceAsync(topics.Crm, Encoding.UTF8.GetBytes("org_2"), big);
        await cluster.ProduceAsync(topics.Crm, (byte[]?)null, Encoding.UTF8.GetBytes("[]"));
        var ok = RawMessages.Valid(SourceKind.Crm);
        await cluster.ProduceAsync(topics.Crm, Key(ok), ok.Value);

        var store = new RecordingStore();
        await using (var host = await PipelineHost.StartAsync(cluster, topics, store, s => s["Ingest:MaxMessageBytes"] = "4096"))
        {
            await Eventually.TrueAsync(() => store.Count == 1 && Committed(topics) == Ends(topics), Patience, () => "the three records were not completed");
        }

        var dead = cluster.ReadAll(topics.DeadLetter).OrderBy(r => long.Parse(Header(r, "audit.source.offset")!, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(3, dead.Count);
        Assert.Equal("org_1", Encoding.UTF8.GetString(dead[0].Message.Key!));
        Assert.Null(dead[0].Message.Value);
        Assert.Equal("0", Header(dead[0], "audit.source.offset"));
        Assert.Equal("org_2", Encoding.UTF8.GetString(dead[1].Message.Key!));
        Assert.Equal(big, dead[1].Message.Value);
        Assert.Contains("MaxMessageBytes", Header(dead[1], "audit.error"), StringComparison.Ordinal);
        Assert.Equal(topics.Crm, Header(dead[1], "audit.source.topic"));
        Assert.Equal("0", Header(dead[1], "audit.source.partition"));
        Assert.Null(dead[2].Message.Key);
        Assert.Equal("[]"u8.ToArray(), dead[2].Message.Value);
    }

    [Fact]
    public async Task A_rejected_message_is_committed_only_after_its_dead_letter_is_acknowledged()
    {
        var topics = TestTopics.Create(cluster, partitions: 1);
        var before = RawMessages.Valid(SourceKind.Crm);
        var after = Enumerable.Range(0, 5).Select(_ => RawMessages.Valid(SourceKind.Crm)).ToList();
        await cluster.ProduceAsync(topics.Crm, Key(before), before.Value);
        await cluster.ProduceAsync(topics.Crm, Encoding.UTF8.GetBytes("org_42"), "not json"u8.ToArray());
        foreach (var m in after)
        {
            await cluster.ProduceAsync(topics.Crm, Key(m), m.Value);
        }

        // The dead-letter topic has no leader: nothing can be acknowledged there.
        cluster.SetTopicError(topics.DeadLetter, 5);
        var store = new RecordingStore();
        await using var host = await PipelineHost.StartAsync(cluster, topics, store);
        await Eventually.TrueAsync(() => store.Count == 1 + after.Count, Patience, () => $"{store.Count} stored");

        // Later messages are stored, but nothing at or past the unacknowledged rejection (offset 1) is committed:
        // not at the tick that may have begun before their completion, nor at the two full ticks after it.
        var ticks = host.Source.CommitTicks;
        await Eventually.TrueAsync(() => host.Source.CommitTicks >= ticks + 3, Patience, () => $"{host.Source.CommitTicks - ticks} commit ticks since the messages were stored");
        Assert.True(Committed(topics) <= 1, $"committed {Committed(topics)} while the dead letter of offset 1 was not acknowledged");

        cluster.SetTopicError(topics.DeadLetter, 0);
        await Eventually.TrueAsync(() => Committed(topics) == Ends(topics), Patience, () => "offsets not committed after the dead letter was acknowledged");
        var dead = Assert.Single(cluster.ReadAll(topics.DeadLetter));
        Assert.Equal("1", Header(dead, "audit.source.offset"));
        Assert.Equal("not json"u8.ToArray(), dead.Message.Value);
    }

    [Fact]
    public async Task Topics_that_appear_after_start_are_consumed()
    {
        var topics = TestTopics.Create(cluster, partitions: 1) with { Ai = MockKafkaCluster.UniqueName("late-ai") };
        var store = new RecordingStore();
        await using var host = await PipelineHost.StartAsync(cluster, topics, store, s => s.Remove("Kafka:Client:topic.metadata.refresh.interval.ms"));
        await Eventually.TrueAsync(() => host.Source.AssignedCount == 3, Patience, () => $"{host.Source.AssignedCount} partitions assigned");

        // Auto-created on first produce, as a broker with auto-creation does.
        var m = RawMessages.Valid(SourceKind.Ai);
        await cluster.ProduceAsync(topics.Ai, m.Key, Encoding.UTF8.GetString(m.Value!));
        await Eventually.TrueAsync(() => store.Count == 1, Patience, () => "the event on the new topic was not stored");
    }

    private static byte[]? Key(RawMessage m) => m.Key is null ? null : Encoding.UTF8.GetBytes(m.Key);

    private static string Kind(string id) => id[..id.IndexOf('_', StringComparison.Ordinal)] switch
    {
        "evt" => "crm",
        "au" => "auth",
        "ai" => "ai",
        _ => "platform",
    };

    private static string? Header(ConsumeResult<byte[]?, byte[]?> r, string name) =>
        r.Message.Headers.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;

    private long Committed(TestTopics topics) => cluster.CommittedOffsets(topics.GroupId, topics.Sources).Values.Sum(v => Math.Max(0, v));

    private long Ends(TestTopics topics) => topics.Sources.Sum(t => cluster.HighWatermarks(t).Values.Sum());
}
