using System.Text;
using AuditPipeline.EndToEnd.Tests.Support;
using AuditPipeline.Kafka.Tests.Support;
using AuditPipeline.Testing;

namespace AuditPipeline.EndToEnd.Tests;

/// <summary>
/// The real executable consuming from librdkafka's mock cluster (real Kafka protocol, no Docker) into
/// the embedded store, killed with SIGKILL at random moments and restarted.
/// </summary>
public sealed class KafkaCrashTests : IDisposable
{
    private const string Org = "org_kafka";
    private readonly WorkerSandbox _sandbox = new("kafka");
    private readonly MockKafkaCluster _kafka = new();
    private readonly string _suffix = MockKafkaCluster.UniqueName("e2e");

    [Fact]
    public async Task Killed_with_sigkill_mid_stream_every_event_is_stored_once_and_every_malformed_message_dead_lettered_with_its_source()
    {
        var topics = SourceTopics();
        foreach (var t in topics.Values)
        {
            _kafka.CreateTopic(t, partitions: 4);
        }

        _kafka.CreateTopic(Dlq, partitions: 1);
        _kafka.CreateTopic(Plans, partitions: 1);
        await _kafka.ProduceAsync(Plans, Org, $$$"""{"org_id":"{{{Org}}}","plan":"enterprise","retention_years":3,"effective_from":"2026-01-01T00:00:00Z"}""");

        var (valid, malformed) = Produce(topics, perKind: 12_000, malformedEvery: 211, duplicateEvery: 50);
        var random = new Random(42);
        for (var round = 0; round < 3; round++)
        {
            await using var worker = Start();
            await _sandbox.WaitReadyAsync(worker, TimeSpan.FromSeconds(90));
            await Task.Delay(random.Next(300, 2000), TestContext.Current.CancellationToken);
            worker.Kill();
            await worker.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        await using var final = Start();
        await _sandbox.WaitReadyAsync(final, TimeSpan.FromSeconds(90));
        var ids = await _sandbox.WaitForCountAsync(final, Org, valid.Count, TimeSpan.FromSeconds(240));

        Assert.True(await _sandbox.MetricAsync("audit_events_consumed_total") > 0, "the kills came after everything was consumed");
        Assert.Equal(valid.Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));

        // Every malformed message is in the DLQ at least once, with its original key and value; a second
        // copy (written again after a kill) names the same source topic, partition and offset.
        await WaitUntilAsync(() => _kafka.ReadAll(Dlq).Select(r => Encoding.UTF8.GetString(r.Message.Value!)).Distinct().Count() >= malformed.Count, final);
        var records = _kafka.ReadAll(Dlq);
        var byValue = records.GroupBy(r => Encoding.UTF8.GetString(r.Message.Value!)).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(malformed.Order(StringComparer.Ordinal), byValue.Keys.Order(StringComparer.Ordinal));
        foreach (var copies in byValue.Values)
        {
            var sources = copies.Select(r => (Header(r, "audit.source.topic"), Header(r, "audit.source.partition"), Header(r, "audit.source.offset"))).Distinct().ToList();
            Assert.Single(sources);
            Assert.Contains(sources[0].Item1, topics.Values);
            Assert.All(copies, r => Assert.False(string.IsNullOrWhiteSpace(Header(r, "audit.error"))));
            Assert.All(copies, r => Assert.Equal(Org, Encoding.UTF8.GetString(r.Message.Key!)));
        }

        // The plan in force at each event's time decided its retention class: e3y for 2026 events.
        Assert.Contains(Directory.EnumerateFiles(_sandbox.Data, "*.db", SearchOption.AllDirectories), f => Path.GetFileName(f).Contains("e3y", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        _sandbox.Dispose();
        _kafka.Dispose();
    }

    private string Dlq => $"dlq-{_suffix}";

    private string Plans => $"plans-{_suffix}";

    private Dictionary<string, string> SourceTopics() => new()
    {
        ["crm"] = $"crm-{_suffix}",
        ["auth"] = $"auth-{_suffix}",
        ["ai"] = $"ai-{_suffix}",
        ["platform"] = $"platform-{_suffix}",
    };

    private WorkerProcess Start() => _sandbox.Start(
        "--Inbox:Path=",
        $"--Kafka:BootstrapServers={_kafka.BootstrapServers}",
        $"--Kafka:GroupId=group-{_suffix}",
        $"--Kafka:Topics:crm=crm-{_suffix}",
        $"--Kafka:Topics:auth=auth-{_suffix}",
        $"--Kafka:Topics:ai=ai-{_suffix}",
        $"--Kafka:Topics:platform=platform-{_suffix}",
        $"--Kafka:DeadLetterTopic={Dlq}",
        $"--Kafka:PlansTopic={Plans}",
        "--Kafka:Client:session.timeout.ms=6000");

    private (List<string> Valid, List<string> Malformed) Produce(Dictionary<string, string> topics, int perKind, int malformedEvery, int duplicateEvery)
    {
        var valid = new List<string>();
        var malformed = new List<string>();
        var records = new List<(string, byte[]?, byte[]?, int?)>();
        var key = Encoding.UTF8.GetBytes(Org);
        var t0 = new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < perKind; i++)
        {
            var t = t0.AddMinutes(i);
            var iso = t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
            foreach (var (kind, json, id) in new[]
            {
                ("crm", $$$"""{"id":"evt_{{{i}}}","type":"contact.updated","created_at":"{{{iso}}}","org_id":"{{{Org}}}","actor":{"type":"user","id":"usr_1","name":"Ana","email":"ana@k.test"},"data":{"id":"contact_{{{i % 300}}}","name":"C {{{i % 300}}}"},"before":{"phone":"1"},"after":{"phone":"2"}}""", $"evt_{i}"),
                ("auth", $$$"""{"event_id":"au_{{{i}}}","ts":{{{t.ToUnixTimeMilliseconds()}}},"tenant":"{{{Org}}}","event":"logout","user":{"id":"usr_1","email":"ana@k.test","name":"Ana"}}""", $"au_{i}"),
                ("ai", $$$"""{"action_id":"ai_{{{i}}}","timestamp":"{{{iso}}}","workspace_id":"{{{Org}}}","tool":"create_task","target":{"type":"task","id":"task_{{{i}}}","label":"T"},"operation":"create","status":"succeeded","on_behalf_of":{"user_id":"usr_1","name":"Ana","email":"ana@k.test"}}""", $"ai_{i}"),
                ("platform", $$$"""{"event_id":"pl_{{{i}}}","occurred_at":"{{{iso}}}","org_id":"{{{Org}}}","category":"settings","action":"property.updated","target":{"type":"property","id":"prop_{{{i % 20}}}","name":"P"}}""", $"pl_{i}"),
            })
            {
                if (i % malformedEvery == 7 && kind == (i % 2 == 0 ? "crm" : "platform"))
                {
                    var bad = $$$"""{"id":"bad_{{{kind}}}_{{{i}}}","org_id":"{{{Org}}}","note":"no type, no time"}""";
                    malformed.Add(bad);
                    records.Add((topics[kind], key, Encoding.UTF8.GetBytes(bad), null));
                    continue;
                }

                valid.Add(id);
                var bytes = Encoding.UTF8.GetBytes(json);
                records.Add((topics[kind], key, bytes, i % 4));
                if (i % duplicateEvery == 3)
                {
                    // A producer retry: the same event twice, possibly on another partition.
                    records.Add((topics[kind], key, bytes, (i + 1) % 4));
                }
            }
        }

        _kafka.ProduceMany(records);
        return (valid, malformed);
    }

    private static string Header(Confluent.Kafka.ConsumeResult<byte[]?, byte[]?> r, string name) =>
        r.Message.Headers.TryGetLastBytes(name, out var v) ? Encoding.UTF8.GetString(v) : "";

    private static Task WaitUntilAsync(Func<bool> condition, WorkerProcess worker) => Eventually.TrueAsync(
        () => Task.FromResult(condition()),
        TimeSpan.FromSeconds(60),
        () => "The dead-letter topic did not receive every malformed message.\n" + worker.Log,
        poll: TimeSpan.FromMilliseconds(250));
}
