using System.Text;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Core.Retention;
using AuditPipeline.Kafka.Plans;
using AuditPipeline.Kafka.Tests.Support;
using AuditPipeline.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AuditPipeline.Kafka.Tests;

[Collection(nameof(KafkaCollection))]
public sealed class KafkaPlansTests(MockKafkaCluster cluster)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_plans_topic_is_read_to_its_end_before_any_event_is_routed_and_each_event_gets_the_plan_in_force_at_its_time()
    {
        var topics = TestTopics.Create(cluster, partitions: 2, plansPartitions: 3);
        var filler = Enumerable.Range(0, 3_000).Select(i =>
            (topics.Plans, (byte[]?)Encoding.UTF8.GetBytes($"org_f{i}"), (byte[]?)Encoding.UTF8.GetBytes($$"""{"org_id":"org_f{{i}}","plan":"enterprise","retention_years":{{(i % 7) + 1}},"effective_from":"2025-01-01T00:00:00Z"}"""), (int?)(i % 3)));
        cluster.ProduceMany(filler);
        string[] malformed =
        [
            "not json",
            """{"org_id":"org_y","plan":"gold"}""",
            """{"org_id":"org_y","plan":"enterprise","retention_years":9}""",
            """{"plan":"professional"}""",
            """{"org_id":"org_y","plan":"enterprise","effective_from":"2026-01-01T00:00:00"}""",
        ];
        foreach (var m in malformed)
        {
            await cluster.ProduceAsync(topics.Plans, "org_y", m, partition: 1);
        }

        await cluster.ProduceAsync(topics.Plans, "org_x", null, partition: 2);
        await cluster.ProduceAsync(topics.Plans, "org_x", """{"org_id":"org_x","plan":"professional","retention_years":null,"effective_from":"2020-01-01T00:00:00Z"}""", partition: 2);
        await cluster.ProduceAsync(topics.Plans, "org_x", """{"org_id":"org_x","plan":"enterprise","retention_years":5,"effective_from":"2026-06-01T00:00:00+02:00"}""", partition: 2);

        var march = RawMessages.Valid(SourceKind.Crm, "org_x", new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));
        var september = RawMessages.Valid(SourceKind.Ai, "org_x", new DateTimeOffset(2026, 9, 1, 0, 0, 0, TimeSpan.Zero));
        var lastFiller = RawMessages.Valid(SourceKind.Auth, "org_f2999", new DateTimeOffset(2026, 9, 1, 0, 0, 0, TimeSpan.Zero));
        foreach (var m in new[] { march, september, lastFiller })
        {
            await cluster.ProduceAsync(topics.TopicOf(m.Kind), m.Key, Encoding.UTF8.GetString(m.Value!));
        }

        var store = new RecordingStore();
        await using var host = await PipelineHost.StartAsync(cluster, topics, store, beforeStart: sp => store.Registry = sp.GetRequiredService<RetentionPlanRegistry>());
        await Eventually.TrueAsync(() => store.Count == 3, Patience, () => $"{store.Count} of 3 events stored");

        // Classified when they were appended: the whole topic had been read by then.
        Assert.Equal("p2y", store.Classes[march.EventId!]);
        Assert.Equal("e5y", store.Classes[september.EventId!]);
        Assert.Equal("e4y", store.Classes[lastFiller.EventId!]);
        Assert.Equal(3_002, host.Plans.Applied);
        Assert.Equal(malformed.Length, host.Plans.Skipped);

        // And then it keeps following the topic.
        await cluster.ProduceAsync(topics.Plans, "org_z", """{"org_id":"org_z","plan":"enterprise","retention_years":3,"effective_from":"2026-01-01"}""");
        await Eventually.TrueAsync(() => host.Registry.ClassFor("org_z", new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero)).Name == "e3y", Patience, () => "the new plan was not followed");
        Assert.Equal("p2y", host.Registry.ClassFor("org_z", new DateTimeOffset(2025, 12, 31, 0, 0, 0, TimeSpan.Zero)).Name);
    }

    [Fact]
    public async Task A_missing_plans_topic_counts_as_empty_and_the_source_routes_anyway()
    {
        var topics = TestTopics.Create(cluster, partitions: 1) with { Plans = MockKafkaCluster.UniqueName("no-plans") };
        var m = RawMessages.Valid(SourceKind.Platform);
        await cluster.ProduceAsync(topics.Platform, m.Key, Encoding.UTF8.GetString(m.Value!));

        var store = new RecordingStore();
        await using var host = await PipelineHost.StartAsync(cluster, topics, store);
        await Eventually.TrueAsync(() => store.Count == 1, Patience, () => "the event was not stored");
        Assert.True(host.Plans.Loaded.IsCompletedSuccessfully);
    }

    [Theory]
    [InlineData("""{"org_id":"org_1","plan":"professional"}""", "org_1", "p2y", "0001-01-01T00:00:00+00:00")]
    [InlineData("""{"org_id":"org_1","plan":"professional","retention_years":2,"effective_from":null}""", "org_1", "p2y", "0001-01-01T00:00:00+00:00")]
    [InlineData("""{"org_id":"org_1","plan":"enterprise","effective_from":"2026-03-01T10:00:00+01:00"}""", "org_1", "e7y", "2026-03-01T09:00:00+00:00")]
    [InlineData("""{"org_id":"org_1","plan":"enterprise","retention_years":1,"effective_from":"2026-03-01"}""", "org_1", "e1y", "2026-03-01T00:00:00+00:00")]
    public void A_plan_record_is_read_with_its_defaults(string json, string org, string retentionClass, string from)
    {
        Assert.True(PlanRecord.TryParse(Encoding.UTF8.GetBytes(json), out var plan, out var error), error);
        Assert.Equal(org, plan.OrgId);
        Assert.Equal(retentionClass, plan.RetentionClass.Name);
        Assert.Equal(DateTimeOffset.Parse(from, System.Globalization.CultureInfo.InvariantCulture), plan.EffectiveFrom);
    }

    [Theory]
    [InlineData("", "no value")]
    [InlineData("[]", "not a JSON object")]
    [InlineData("{", "not valid JSON")]
    [InlineData("""{"plan":"professional"}""", "org_id")]
    [InlineData("""{"org_id":"","plan":"professional"}""", "org_id")]
    [InlineData("""{"org_id":"o","plan":7}""", "plan")]
    [InlineData("""{"org_id":"o","plan":"free"}""", "plan")]
    [InlineData("""{"org_id":"o","plan":"enterprise","retention_years":8}""", "retention_years")]
    [InlineData("""{"org_id":"o","plan":"enterprise","retention_years":"5"}""", "retention_years")]
    [InlineData("""{"org_id":"o","plan":"enterprise","effective_from":"2026-03-01T10:00:00"}""", "effective_from")]
    [InlineData("""{"org_id":"o","plan":"enterprise","effective_from":1764412320000}""", "effective_from")]
    public void A_malformed_plan_record_is_refused_with_the_field_named(string json, string expected)
    {
        Assert.False(PlanRecord.TryParse(Encoding.UTF8.GetBytes(json), out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }
}
