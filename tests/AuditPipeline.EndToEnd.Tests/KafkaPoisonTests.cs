using System.Globalization;
using System.Text;
using AuditPipeline.EndToEnd.Tests.Support;
using AuditPipeline.Kafka.Tests.Support;
using Confluent.Kafka;

namespace AuditPipeline.EndToEnd.Tests;

/// <summary>
/// The real executable against librdkafka's mock cluster: a poison message of each sort, then valid events
/// on the same partition. The valid ones are stored within seconds and the poison one is in the dead-letter
/// topic exactly once, with its original key and value and the four headers (CONTRACT.md sections 2 and 6).
/// </summary>
public sealed class KafkaPoisonTests : IDisposable
{
    private const string Org = "org_poison";
    private const int ValidAfter = 20;
    private readonly WorkerSandbox _sandbox = new("kafka-poison");
    private readonly MockKafkaCluster _kafka = new();
    private readonly string _suffix = MockKafkaCluster.UniqueName("poison");

    public static TheoryData<string> Sorts => ["not-json", "depth-65", "larger-than-1-MiB"];

    [Theory]
    [MemberData(nameof(Sorts))]
    public Task A_poison_message_is_dead_lettered_once_and_the_valid_events_after_it_on_its_partition_are_stored(string sort) => RunAsync(sort);

    // Today the normalizer accepts it and the store's serializer fails on it, halting the partition: found 0 of 20.
    [Fact]
    public Task An_unpaired_surrogate_in_before_is_dead_lettered_once_and_the_valid_events_after_it_are_stored() => RunAsync("surrogate");

    // Today it is stored (in 1970) instead of dead-lettered.
    [Fact]
    public Task An_auth_ts_in_seconds_is_dead_lettered_once_and_the_valid_events_after_it_are_stored() => RunAsync("auth-ts-seconds");

    public void Dispose()
    {
        _sandbox.Dispose();
        _kafka.Dispose();
    }

    private async Task RunAsync(string sort)
    {
        var kind = sort == "auth-ts-seconds" ? "auth" : "crm";
        foreach (var k in new[] { "crm", "auth", "ai", "platform" })
        {
            _kafka.CreateTopic(Topic(k), partitions: 1);
        }

        _kafka.CreateTopic(Dlq, partitions: 1);
        _kafka.CreateTopic(Plans, partitions: 1);

        var poison = Poison(sort);
        var key = Encoding.UTF8.GetBytes(Org);
        await _kafka.ProduceAsync(Topic(kind), key, poison, partition: 0);
        var valid = new List<string>();
        var t0 = DateTimeOffset.UtcNow.AddHours(-2);
        for (var i = 0; i < ValidAfter; i++)
        {
            var (id, json) = Valid(kind, i, t0.AddSeconds(i));
            valid.Add(id);
            await _kafka.ProduceAsync(Topic(kind), key, Encoding.UTF8.GetBytes(json), partition: 0);
        }

        await using var worker = _sandbox.Start(
            "--Inbox:Path=",
            $"--Kafka:BootstrapServers={_kafka.BootstrapServers}",
            $"--Kafka:GroupId=group-{_suffix}",
            $"--Kafka:Topics:crm={Topic("crm")}",
            $"--Kafka:Topics:auth={Topic("auth")}",
            $"--Kafka:Topics:ai={Topic("ai")}",
            $"--Kafka:Topics:platform={Topic("platform")}",
            $"--Kafka:DeadLetterTopic={Dlq}",
            $"--Kafka:PlansTopic={Plans}",
            "--Kafka:Client:session.timeout.ms=6000");
        await _sandbox.WaitReadyAsync(worker, TimeSpan.FromSeconds(90));

        // Within seconds of readiness, not after a retry storm.
        var ids = await _sandbox.WaitForCountAsync(worker, Org, valid.Count, TimeSpan.FromSeconds(20));
        Assert.Equal(valid.Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (_kafka.HighWatermarks(Dlq).Values.Sum() == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        // Exactly once: wait for the offsets to be committed past it, then count.
        await WaitCommittedAsync(Topic(kind), ValidAfter + 1, worker);
        var dead = Assert.Single(_kafka.ReadAll(Dlq));
        Assert.Equal(poison, dead.Message.Value);
        Assert.Equal(Org, Encoding.UTF8.GetString(dead.Message.Key!));
        Assert.False(string.IsNullOrWhiteSpace(Header(dead, "audit.error")));
        Assert.Equal(Topic(kind), Header(dead, "audit.source.topic"));
        Assert.Equal("0", Header(dead, "audit.source.partition"));
        Assert.Equal("0", Header(dead, "audit.source.offset"));
    }

    private async Task WaitCommittedAsync(string topic, long expected, WorkerProcess worker)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (_kafka.CommittedOffsets($"group-{_suffix}", topic).Values.Sum() < expected)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{topic} was not committed to {expected}.\n{worker.Log}");
            }

            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
    }

    private static byte[] Poison(string sort) => sort switch
    {
        "not-json" => "{\"id\":\"evt_bad\", this is not json"u8.ToArray(),

        // Valid in every other way: only the escape cannot be stored faithfully.
        "surrogate" => Encoding.UTF8.GetBytes(Crm("evt_surrogate", DateTimeOffset.UtcNow.AddHours(-3), before: "{\"note\":\"\\ud800\"}")),

        // The document nests 65 levels: the root, "before" and 63 more.
        "depth-65" => Encoding.UTF8.GetBytes(Crm("evt_deep", DateTimeOffset.UtcNow.AddHours(-3), before: string.Concat(Enumerable.Repeat("{\"a\":", 63)) + "{}" + new string('}', 63))),
        "auth-ts-seconds" => Encoding.UTF8.GetBytes($$$"""{"event_id":"au_seconds","ts":{{{DateTimeOffset.UtcNow.AddHours(-3).ToUnixTimeSeconds()}}},"tenant":"{{{Org}}}","event":"logout","user":{"id":"usr_1","email":"ana@k.test","name":"Ana"}}"""),
        "larger-than-1-MiB" => Encoding.UTF8.GetBytes(Crm("evt_huge", DateTimeOffset.UtcNow.AddHours(-3), before: "{\"blob\":\"" + new string('x', 1024 * 1024 + 100) + "\"}")),
        _ => throw new ArgumentOutOfRangeException(nameof(sort), sort, null),
    };

    private static (string Id, string Json) Valid(string kind, int i, DateTimeOffset t) => kind == "auth"
        ? ($"au_ok_{i}", $$$"""{"event_id":"au_ok_{{{i}}}","ts":{{{t.ToUnixTimeMilliseconds()}}},"tenant":"{{{Org}}}","event":"logout","user":{"id":"usr_1","email":"ana@k.test","name":"Ana"}}""")
        : ($"evt_ok_{i}", Crm($"evt_ok_{i}", t, before: "{\"phone\":\"1\"}"));

    private static string Crm(string id, DateTimeOffset t, string before)
    {
        var iso = t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        return $$$"""{"id":"{{{id}}}","type":"contact.updated","created_at":"{{{iso}}}","org_id":"{{{Org}}}","actor":{"type":"user","id":"usr_1","name":"Ana","email":"ana@k.test"},"data":{"id":"contact_1","name":"C"},"before":{{{before}}},"after":{"phone":"2"}}""";
    }

    private static string? Header(ConsumeResult<byte[]?, byte[]?> r, string name) =>
        r.Message.Headers.TryGetLastBytes(name, out var v) ? Encoding.UTF8.GetString(v) : null;

    private string Topic(string kind) => $"{kind}-{_suffix}";

    private string Dlq => $"dlq-{_suffix}";

    private string Plans => $"plans-{_suffix}";
}
