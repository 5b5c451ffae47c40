using System.Diagnostics;
using System.Globalization;
using System.Text;
using AuditPipeline.EndToEnd.Tests.Support;
using AuditPipeline.Kafka.Tests.Support;
using Microsoft.Data.Sqlite;

using static AuditPipeline.Benchmarks.BenchmarkArgs;

namespace AuditPipeline.Benchmarks;

/// <summary>
/// The chaos run of docs/RELIABILITY.md, as one command: the real worker process (embedded store) against
/// librdkafka's mock cluster, SIGKILLed at random moments while messages are still being produced, the
/// store made unavailable (another process holds the SQLite write lock of every partition file), a second
/// worker joining the group and leaving it; then exact counts from the stores and the dead-letter topic.
/// <code>
/// dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- chaos [--messages 200000] [--kills 100] [--seed 1] [--static]
/// </code>
/// <c>--static</c> gives each worker a <c>Kafka:GroupInstanceId</c>. Exit code 1 when anything is lost or stored twice.
/// </summary>
internal static class KafkaChaos
{
    private const string Org = "org_chaos";
    private const int Partitions = 4;
    private const int MalformedEvery = 197;

    public static async Task<int> RunAsync(string[] args)
    {
        var messages = Option(args, "--messages", 200_000);
        var kills = Option(args, "--kills", 100);
        var random = new Random(Option(args, "--seed", 1));
        var staticMembers = args.Contains("--static");
        var clock = Stopwatch.StartNew();

        using var cluster = new MockKafkaCluster();
        var suffix = MockKafkaCluster.UniqueName("chaos");
        var topics = new[] { "crm", "auth", "ai", "platform" }.ToDictionary(k => k, k => $"{k}-{suffix}");
        foreach (var t in topics.Values)
        {
            cluster.CreateTopic(t, Partitions);
        }

        var dlq = $"dlq-{suffix}";
        cluster.CreateTopic(dlq, 2);
        cluster.CreateTopic($"plans-{suffix}", 1);

        var (records, valid, malformed) = Generate(topics, messages);
        Console.WriteLine($"chaos: {messages:N0} messages ({valid.Count:N0} valid, {malformed.Count:N0} malformed), {kills} SIGKILLs, seed {Option(args, "--seed", 1)}, static membership {(staticMembers ? "on" : "off")}");

        // Part of the messages is there before the first start, the rest arrives while the kills go on.
        var upfront = records.Count * 2 / 5;
        cluster.ProduceMany(records.Take(upfront), TimeSpan.FromMinutes(5));
        var chunks = records.Skip(upfront).Chunk(Math.Max(1, (records.Count - upfront) / 8)).ToList();

        using var a = new WorkerSandbox("chaos-a");
        using var b = new WorkerSandbox("chaos-b");
        string[] Args(string instance) =>
        [
            "--Inbox:Path=",
            $"--Kafka:BootstrapServers={cluster.BootstrapServers}",
            $"--Kafka:GroupId=group-{suffix}",
            .. topics.Select(t => $"--Kafka:Topics:{t.Key}={t.Value}"),
            $"--Kafka:DeadLetterTopic={dlq}",
            $"--Kafka:PlansTopic=plans-{suffix}",
            "--Kafka:Client:session.timeout.ms=6000",
            "--Kafka:Client:heartbeat.interval.ms=500",
            "--Kafka:RevokeDrainTimeout=00:00:03",
            .. staticMembers ? [$"--Kafka:GroupInstanceId={instance}-{suffix}"] : Array.Empty<string>(),
        ];

        var outages = 0;
        var storeFailures = 0;
        var commitRefusals = 0;
        var nextChunk = 0;
        var producing = new List<Task>();
        var outageTasks = new List<Task>();
        WorkerProcess? second = null;
        var worker = a.Start(Args("a"));
        for (var k = 0; k < kills; k++)
        {
            // From the start of the process: sometimes during its start-up, mostly while it consumes.
            await Task.Delay(random.Next(800, 4000));
            while (nextChunk < chunks.Count && k >= nextChunk * kills / chunks.Count)
            {
                var chunk = chunks[nextChunk++];
                producing.Add(Task.Run(() => cluster.ProduceMany(chunk, TimeSpan.FromMinutes(5))));
            }

            if (k % 3 == 1)
            {
                outages++;
                // Mostly stalls of a few seconds (appends wait on the lock); one longer than the store's 30 s busy
                // timeout, so that appends fail and the pipeline retries and pauses.
                var duration = outages == 2 ? TimeSpan.FromSeconds(35) : TimeSpan.FromMilliseconds(random.Next(2000, 6000));
                outageTasks.Add(HoldWriteLocksAsync(a.Data, duration));
            }

            if (k == kills / 3)
            {
                second = b.Start(Args("b"));
                Console.WriteLine($"  [{clock.Elapsed:mm\\:ss}] a second worker joins the group");
            }
            else if (k == (2 * kills / 3) && second is not null)
            {
                second.Terminate();
                await second.WaitForExitAsync(TimeSpan.FromSeconds(60));
                Console.WriteLine($"  [{clock.Elapsed:mm\\:ss}] the second worker left the group (SIGTERM)");
            }

            worker.Kill();
            await worker.WaitForExitAsync(TimeSpan.FromSeconds(30));
            storeFailures += StoreFailures(worker);
            commitRefusals += CommitRefusals(worker);
            await worker.DisposeAsync();
            worker = a.Start(Args("a"));
            if ((k + 1) % Math.Max(1, kills / 10) == 0)
            {
                Console.WriteLine($"  [{clock.Elapsed:mm\\:ss}] {k + 1} SIGKILLs, {outages} store outages");
            }
        }

        // Whatever chunks the kill loop did not reach are produced now.
        foreach (var chunk in chunks.Skip(nextChunk))
        {
            producing.Add(Task.Run(() => cluster.ProduceMany(chunk, TimeSpan.FromMinutes(5))));
        }

        await Task.WhenAll(producing);
        await Task.WhenAll(outageTasks);
        await WaitCommittedAsync(cluster, $"group-{suffix}", topics.Values.ToArray(), records.Count, worker, TimeSpan.FromMinutes(10));
        var ingestDone = clock.Elapsed;
        worker.Terminate();
        await worker.WaitForExitAsync(TimeSpan.FromSeconds(60));
        storeFailures += StoreFailures(worker) + (second is null ? 0 : StoreFailures(second));
        commitRefusals += CommitRefusals(worker) + (second is null ? 0 : CommitRefusals(second));

        var storedA = await ReadStoreAsync(a);
        var storedB = second is null ? [] : await ReadStoreAsync(b);
        var dead = cluster.ReadAll(dlq);
        var deadSources = dead.Select(r => (Header(r, "audit.source.topic"), Header(r, "audit.source.partition"), Header(r, "audit.source.offset"))).Distinct().Count();
        var deadValues = dead.Select(r => Encoding.UTF8.GetString(r.Message.Value!)).ToHashSet(StringComparer.Ordinal);

        var union = storedA.Concat(storedB).ToHashSet(StringComparer.Ordinal);
        var duplicatedInAStore = (storedA.Count - storedA.Distinct(StringComparer.Ordinal).Count()) + (storedB.Count - storedB.Distinct(StringComparer.Ordinal).Count());
        var acrossStores = storedA.ToHashSet(StringComparer.Ordinal).Intersect(storedB).Count();
        var lostValid = valid.Count(id => !union.Contains(id));
        var lostMalformed = malformed.Count(m => !deadValues.Contains(m));
        var strays = union.Count(id => !valid.Contains(id));

        Console.WriteLine();
        Console.WriteLine($"| tried | stored | duplicated | dead-lettered | lost |");
        Console.WriteLine($"|---|---|---|---|---|");
        Console.WriteLine($"| {records.Count} | {union.Count - strays} | {duplicatedInAStore} | {deadSources} | {lostValid + lostMalformed} |");
        Console.WriteLine();
        Console.WriteLine($"SIGKILLs {kills}, store outages {outages} ({_lockedFiles} partition files write-locked, {storeFailures} failed appends retried), second worker {(second is null ? "never started" : $"joined, stored {storedB.Count}, left")}; ingest done after {ingestDone:mm\\:ss}.");
        Console.WriteLine($"Dead-letter records {dead.Count} for {deadSources} distinct source positions ({dead.Count - deadSources} extra copies written again after a SIGKILL, identified by their audit.source.* headers).");
        Console.WriteLine($"Commits the group coordinator refused (during the rebalances the kills cause): {commitRefusals}.");
        Console.WriteLine($"Events stored by both workers (re-read after a rebalance or a kill; a shared store, as Elasticsearch is, absorbs them): {acrossStores}.");
        Console.WriteLine($"Stored events that were never produced: {strays}.");
        return lostValid + lostMalformed + duplicatedInAStore + strays == 0 ? 0 : 1;
    }

    /// <summary>A real store outage: another process takes the write lock of every partition file, so appends wait and fail until it lets go.</summary>
    private static int _lockedFiles;

    private static int StoreFailures(WorkerProcess worker) =>
        worker.Log.Split('\n').Count(l => l.Contains("Appending", StringComparison.Ordinal) && l.Contains("failed", StringComparison.Ordinal));

    private static int CommitRefusals(WorkerProcess worker) =>
        worker.Log.Split('\n').Count(l => l.Contains("did not accept the commit", StringComparison.Ordinal) || l.Contains("refused the last commit", StringComparison.Ordinal) || l.Contains("Committing", StringComparison.Ordinal));

    private static async Task HoldWriteLocksAsync(string data, TimeSpan duration)
    {
        var connections = new List<SqliteConnection>();
        try
        {
            foreach (var file in Directory.Exists(data) ? Directory.EnumerateFiles(data, "*.db", SearchOption.AllDirectories) : [])
            {
                var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Pooling = false, DefaultTimeout = 1 }.ToString());
                try
                {
                    c.Open();
                    using var begin = c.CreateCommand();
                    begin.CommandText = "BEGIN IMMEDIATE";
                    begin.ExecuteNonQuery();
                    connections.Add(c);
                    Interlocked.Increment(ref _lockedFiles);
                }
                catch (SqliteException)
                {
                    // The worker holds it now (or the file is new): this partition stays available this time.
                    c.Dispose();
                }
            }

            await Task.Delay(duration);
        }
        finally
        {
            foreach (var c in connections)
            {
                c.Dispose();
            }
        }
    }

    private static async Task<List<string>> ReadStoreAsync(WorkerSandbox sandbox)
    {
        // The api role alone: no consumer joins the group, the store is only read.
        await using var reader = sandbox.Start("--Roles=api", "--Inbox:Path=");
        await sandbox.WaitReadyAsync(reader, TimeSpan.FromSeconds(90));
        return await sandbox.AllIdsAsync(Org);
    }

    private static async Task WaitCommittedAsync(MockKafkaCluster cluster, string group, string[] topics, long expected, WorkerProcess worker, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var committed = cluster.CommittedOffsets(group, topics).Values.Sum(v => Math.Max(0, v));
            if (committed >= expected)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Only {committed} of {expected} offsets were committed.\n{worker.Log}");
            }

            await Task.Delay(500);
        }
    }

    private static (List<(string, byte[]?, byte[]?, int?)> Records, HashSet<string> Valid, List<string> Malformed) Generate(Dictionary<string, string> topics, int count)
    {
        var records = new List<(string, byte[]?, byte[]?, int?)>(count);
        var valid = new HashSet<string>(StringComparer.Ordinal);
        var malformed = new List<string>();
        var key = Encoding.UTF8.GetBytes(Org);
        var t0 = DateTimeOffset.UtcNow.AddDays(-10);
        for (var i = 0; i < count; i++)
        {
            var kind = (i % 4) switch { 0 => "crm", 1 => "auth", 2 => "ai", _ => "platform" };
            string json;
            if (i % MalformedEvery == 7)
            {
                json = $$$"""{"id":"bad_{{{i}}}","org_id":"{{{Org}}}","note":"no type, no time"}""";
                malformed.Add(json);
            }
            else
            {
                var t = t0.AddSeconds(i);
                var iso = t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
                (var id, json) = kind switch
                {
                    "crm" => ($"evt_{i}", $$$"""{"id":"evt_{{{i}}}","type":"contact.updated","created_at":"{{{iso}}}","org_id":"{{{Org}}}","actor":{"type":"user","id":"usr_1","name":"Ana","email":"ana@k.test"},"data":{"id":"contact_{{{i % 300}}}","name":"C"},"before":{"phone":"1"},"after":{"phone":"2"}}"""),
                    "auth" => ($"au_{i}", $$$"""{"event_id":"au_{{{i}}}","ts":{{{t.ToUnixTimeMilliseconds()}}},"tenant":"{{{Org}}}","event":"logout","user":{"id":"usr_1","email":"ana@k.test","name":"Ana"}}"""),
                    "ai" => ($"ai_{i}", $$$"""{"action_id":"ai_{{{i}}}","timestamp":"{{{iso}}}","workspace_id":"{{{Org}}}","tool":"create_task","target":{"type":"task","id":"task_{{{i}}}","label":"T"},"operation":"create","status":"succeeded","on_behalf_of":{"user_id":"usr_1","name":"Ana","email":"ana@k.test"}}"""),
                    _ => ($"pl_{i}", $$$"""{"event_id":"pl_{{{i}}}","occurred_at":"{{{iso}}}","org_id":"{{{Org}}}","category":"settings","action":"property.updated","target":{"type":"property","id":"prop_{{{i % 20}}}","name":"P"}}"""),
                };
                valid.Add(id);
            }

            records.Add((topics[kind], key, Encoding.UTF8.GetBytes(json), (i / 4) % Partitions));
        }

        return (records, valid, malformed);
    }

    private static string Header(Confluent.Kafka.ConsumeResult<byte[]?, byte[]?> r, string name) =>
        r.Message.Headers.TryGetLastBytes(name, out var v) ? Encoding.UTF8.GetString(v) : "";
}
