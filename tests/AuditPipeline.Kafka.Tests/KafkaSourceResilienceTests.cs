using System.Text;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Kafka.Tests.Support;
using AuditPipeline.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AuditPipeline.Kafka.Tests;

[Collection(nameof(KafkaCollection))]
public sealed class KafkaSourceResilienceTests(MockKafkaCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_failing_store_pauses_the_partitions_within_the_queue_capacity_and_everything_is_stored_once_it_recovers()
    {
        var topics = TestTopics.Create(cluster, partitions: 4);
        var messages = Enumerable.Range(0, 6_000).Select(i => RawMessages.Valid(SourceKinds.All[i % 4])).ToList();
        cluster.ProduceMany(messages.Select(m => (topics.TopicOf(m.Kind), (byte[]?)null, m.Value, (int?)null)));

        const int Capacity = 300;
        const int BatchSize = 50;
        var store = new RecordingStore { Failing = true };
        await using var host = await PipelineHost.StartAsync(cluster, topics, store, s =>
        {
            s["Ingest:ChannelCapacity"] = Capacity.ToString(System.Globalization.CultureInfo.InvariantCulture);
            s["Ingest:BatchSize"] = BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
        });

        await Eventually.TrueAsync(() => host.Source.Paused, Patience, () => "the source never paused");
        var appendsWhenPaused = store.Inner.AppendCalls;

        // Stalled: memory stays bounded by configuration (the queue plus the batches the pipeline holds),
        // while the pipeline keeps retrying and the consumer keeps polling.
        long peak = 0;
        for (var i = 0; i < 40; i++)
        {
            peak = Math.Max(peak, host.Pipeline.InFlight);
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }

        // The pipeline holds at most one batch being written, two waiting and one being formed.
        Assert.True(peak <= Capacity + (4 * BatchSize), $"{peak} messages in flight with a queue of {Capacity} and batches of {BatchSize}");
        Assert.True(host.Source.Paused);
        Assert.Equal(0, store.Count);
        await Eventually.TrueAsync(() => store.Inner.AppendCalls > appendsWhenPaused, Patience, () => "the pipeline stopped retrying");
        // Nothing is committed while the store is down: the lag is the whole backlog, paused partitions included.
        await Eventually.TrueAsync(() => host.Source.Lag == messages.Count, Patience, () => $"lag {host.Source.Lag}, expected the {messages.Count} messages not yet committed");

        store.Failing = false;
        await Eventually.TrueAsync(() => store.Count == messages.Count, Patience, () => $"{store.Count} of {messages.Count} stored after recovery");
        await Eventually.TrueAsync(() => !host.Source.Paused, Patience, () => "the source did not resume");
        await Eventually.TrueAsync(() => Committed(topics) == Ends(topics), Patience, () => "offsets not committed to the end");
        await Eventually.TrueAsync(() => host.Source.Lag == 0, Patience, () => $"lag {host.Source.Lag} after catching up");
        Assert.True(host.Source.PausedCount >= 1);
        Assert.Equal(messages.Select(m => m.EventId!).Order(StringComparer.Ordinal), store.Inner.All.Select(e => e.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_second_consumer_joining_mid_stream_takes_over_partitions_without_losing_or_doubling_an_event()
    {
        var topics = TestTopics.Create(cluster, partitions: 4);
        var first = Enumerable.Range(0, 8_000).Select(i => RawMessages.Valid(SourceKinds.All[i % 4])).ToList();
        var second = Enumerable.Range(0, 8_000).Select(i => RawMessages.Valid(SourceKinds.All[i % 4])).ToList();
        cluster.ProduceMany(first.Select(m => (topics.TopicOf(m.Kind), (byte[]?)null, m.Value, (int?)null)));

        // A slow store keeps the first consumer mid-stream when the second joins.
        var store = new RecordingStore { Delay = TimeSpan.FromMilliseconds(5) };
        await using var a = await PipelineHost.StartAsync(cluster, topics, store, s => s["Ingest:BatchSize"] = "100");
        await Eventually.TrueAsync(() => store.Count > 500, Patience, () => "the first consumer stored nothing");
        await using var b = await PipelineHost.StartAsync(cluster, topics, store);
        cluster.ProduceMany(second.Select(m => (topics.TopicOf(m.Kind), (byte[]?)null, m.Value, (int?)null)));

        await Eventually.TrueAsync(() => a.Source.AssignedCount > 0 && b.Source.AssignedCount > 0 && a.Source.AssignedCount + b.Source.AssignedCount == 16, Patience,
            () => $"partitions not shared: {a.Source.AssignedCount} + {b.Source.AssignedCount}");
        var expected = first.Concat(second).Select(m => m.EventId!).Order(StringComparer.Ordinal).ToList();
        store.Delay = TimeSpan.Zero;
        await Eventually.TrueAsync(() => store.Count == expected.Count, Patience, () => $"{store.Count} of {expected.Count} stored");
        await Eventually.TrueAsync(() => Committed(topics) == Ends(topics), Patience, () => "offsets not committed to the end");

        // Each event stored exactly once. (The revoked partitions are drained and committed in the revoke callback;
        // a real broker accepts that commit, but the mock cluster refuses commits while a group is joining, so here the
        // new owner may re-read what completed since the last periodic commit: duplicates the store absorbs.)
        Assert.Equal(expected, store.Inner.All.Select(e => e.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Stopping_mid_stream_commits_everything_consumed_and_the_next_consumer_continues_exactly_after_it()
    {
        var topics = TestTopics.Create(cluster, partitions: 4);
        var messages = Enumerable.Range(0, 16_000).Select(i => RawMessages.Valid(SourceKinds.All[i % 4])).ToList();
        cluster.ProduceMany(messages.Select(m => (topics.TopicOf(m.Kind), (byte[]?)null, m.Value, (int?)null)));
        var positions = topics.Sources.SelectMany(t => cluster.ReadAll(t)).ToDictionary(r => IdOf(r.Message.Value!), r => r.TopicPartitionOffset);

        // A slow store, so the stop comes mid-stream with batches in flight.
        var store = new RecordingStore { Delay = TimeSpan.FromMilliseconds(10) };
        var a = await PipelineHost.StartAsync(cluster, topics, store, s => s["Ingest:BatchSize"] = "50");
        await Eventually.TrueAsync(() => store.Count > 2_000, Patience, () => "nothing stored before the stop");
        await a.StopAsync();
        a.Host.Dispose();

        var stoppedAt = store.Inner.All.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        Assert.True(stoppedAt.Count < messages.Count, "the stop came too late to be mid-stream");
        var committed = cluster.CommittedOffsets(topics.GroupId, topics.Sources);

        // Everything stored is committed, and everything committed is stored: per partition, exactly the prefix.
        foreach (var (id, tpo) in positions)
        {
            Assert.Equal(stoppedAt.Contains(id), tpo.Offset.Value < committed[tpo.TopicPartition]);
        }

        store.Delay = TimeSpan.Zero;
        await using (var b = await PipelineHost.StartAsync(cluster, topics, store))
        {
            await Eventually.TrueAsync(() => store.Count == messages.Count, Patience, () => $"{store.Count} of {messages.Count} stored after the restart");
        }

        Assert.Empty(store.Duplicates);
        Assert.Equal(messages.Select(m => m.EventId!).Order(StringComparer.Ordinal), store.Inner.All.Select(e => e.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_rebalance_while_the_store_is_down_and_partitions_are_paused_loses_nothing_once_it_recovers()
    {
        var topics = TestTopics.Create(cluster, partitions: 2);
        var messages = Enumerable.Range(0, 3_000).Select(i => RawMessages.Valid(SourceKinds.All[i % 4])).ToList();

        // Spread evenly (the sticky partitioner would fill some partitions only), so both consumers get enough to pause.
        cluster.ProduceMany(messages.Select((m, i) => (topics.TopicOf(m.Kind), (byte[]?)null, m.Value, (int?)(i / 4 % 2))));
        void Small(Dictionary<string, string?> s)
        {
            s["Ingest:ChannelCapacity"] = "100";
            s["Ingest:BatchSize"] = "20";
            s["Kafka:RevokeDrainTimeout"] = "00:00:00.500";
        }

        var store = new RecordingStore { Failing = true };
        await using var a = await PipelineHost.StartAsync(cluster, topics, store, Small);
        await Eventually.TrueAsync(() => a.Source.Paused, Patience, () => "the first consumer never paused");

        await using var b = await PipelineHost.StartAsync(cluster, topics, store, Small);
        await Eventually.TrueAsync(() => a.Source.AssignedCount > 0 && b.Source.AssignedCount > 0 && a.Source.AssignedCount + b.Source.AssignedCount == 8, Patience,
            () => $"partitions not shared: {a.Source.AssignedCount} + {b.Source.AssignedCount}");
        await Eventually.TrueAsync(() => b.Source.Paused, Patience, () => "the second consumer never paused");
        Assert.Equal(0, store.Count);

        store.Failing = false;
        await Eventually.TrueAsync(() => store.Count == messages.Count, Patience, () => $"{store.Count} of {messages.Count} stored after recovery");
        await Eventually.TrueAsync(() => !a.Source.Paused && !b.Source.Paused, Patience, () => "a consumer stayed paused");
        await Eventually.TrueAsync(() => Committed(topics) == Ends(topics), Patience, () => "offsets not committed to the end");
        Assert.Equal(messages.Select(m => m.EventId!).Order(StringComparer.Ordinal), store.Inner.All.Select(e => e.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_fatal_client_error_rebuilds_the_consumer_and_nothing_is_lost()
    {
        var topics = TestTopics.Create(cluster, partitions: 2);
        var first = Enumerable.Range(0, 4_000).Select(i => RawMessages.Valid(SourceKinds.All[i % 4])).ToList();
        var second = Enumerable.Range(0, 2_000).Select(i => RawMessages.Valid(SourceKinds.All[i % 4])).ToList();
        cluster.ProduceMany(first.Select(m => (topics.TopicOf(m.Kind), (byte[]?)null, m.Value, (int?)null)));

        var store = new RecordingStore { Delay = TimeSpan.FromMilliseconds(5) };
        await using var host = await PipelineHost.StartAsync(cluster, topics, store, s =>
        {
            s["Ingest:BatchSize"] = "50";
            s["Kafka:RecreateDelay"] = "00:00:00.200";
        });
        await Eventually.TrueAsync(() => store.Count > 200, Patience, () => "nothing stored before the failure");

        MockKafkaCluster.TriggerFatalError(host.Source.Consumer!.Handle, "test: the member was fenced");
        await Eventually.TrueAsync(() => host.Source.ConsumersBuilt == 2, Patience, () => "the consumer was not rebuilt");
        Assert.True(host.Host.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested is false);

        store.Delay = TimeSpan.Zero;
        cluster.ProduceMany(second.Select(m => (topics.TopicOf(m.Kind), (byte[]?)null, m.Value, (int?)null)));
        var expected = first.Concat(second).Select(m => m.EventId!).Order(StringComparer.Ordinal).ToList();
        await Eventually.TrueAsync(() => store.Count == expected.Count, Patience, () => $"{store.Count} of {expected.Count} stored after the rebuild");
        await Eventually.TrueAsync(() => Committed(topics) == Ends(topics), Patience, () => "offsets not committed to the end");
        Assert.Equal(expected, store.Inner.All.Select(e => e.Id).Order(StringComparer.Ordinal));
    }

    private static string IdOf(byte[] value)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(value);
        var root = doc.RootElement;
        foreach (var name in new[] { "id", "event_id", "action_id" })
        {
            if (root.TryGetProperty(name, out var id))
            {
                return id.GetString()!;
            }
        }

        throw new InvalidOperationException("no id in " + Encoding.UTF8.GetString(value));
    }

    private long Committed(TestTopics topics) => cluster.CommittedOffsets(topics.GroupId, topics.Sources).Values.Sum(v => Math.Max(0, v));

    private long Ends(TestTopics topics) => topics.Sources.Sum(t => cluster.HighWatermarks(t).Values.Sum());
}
