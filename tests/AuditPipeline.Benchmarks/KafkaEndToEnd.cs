using System.Diagnostics;
using System.Globalization;
using System.Text;
using AuditPipeline.EndToEnd.Tests.Support;
using AuditPipeline.Kafka.Tests.Support;

using static AuditPipeline.Benchmarks.BenchmarkArgs;

namespace AuditPipeline.Benchmarks;

/// <summary>
/// The product as its own process, end to end: librdkafka's mock cluster (in this process) holds a
/// backlog shaped like issue 11's (45 partitions over the four source topics, events spread over five
/// months and two retention classes, one organisation on an enterprise plan from the plans topic, 2 %
/// malformed); a bare consumer reads it once as the baseline, then the real worker executable
/// (embedded store) consumes it until <c>/metrics</c> counts every message stored or dead-lettered, and is stopped with SIGTERM.
/// With <c>--inbox</c> the same messages are also written as inbox files for a second worker.
/// <code>
/// dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- kafka-e2e [--messages 105000] [--integrity true|false] [--seal-interval 00:01:00] [--sync Full|Normal] [--inbox] [--rounds 1] [--ordered] [--spread] [--batch 1000] [--warmup W] [--rate N]
/// </code>
/// <c>--ordered</c> gives each source partition its events in time order (a live stream); the default
/// spreads every partition's events over the five months at random (a replayed backlog: the worst case
/// for a time-ordered index).
/// </summary>
internal static class KafkaEndToEnd
{
    private static readonly (string Kind, int Partitions)[] Topics = [("crm", 12), ("auth", 11), ("ai", 11), ("platform", 11)];

    public static async Task<int> RunAsync(string[] args)
    {
        var messages = Option(args, "--messages", 105_000);
        var rounds = Option(args, "--rounds", 1);
        var integrity = OptionText(args, "--integrity") ?? "true";
        var synchronous = OptionText(args, "--sync") ?? "Full";
        var ordered = args.Contains("--ordered");

        // --spread: a real tenant's many users and records (Zipf-distributed over 5,000 users, 200,000
        // record ids) instead of 37 users and 997 deals, so the seek indexes insert all over their
        // B-trees as they would in production (tests/AuditPipeline.Benchmarks/scripts/merge-cost.sh SPREAD=1).
        var spread = args.Contains("--spread");
        if (spread)
        {
            Console.WriteLine("kafka-e2e --spread: users Zipf-distributed over 5,000, record ids uniform over 200,000");
        }
        var batch = Option(args, "--batch", 1000);

        // --rate N offers the messages at N a second while the worker runs, instead of as a backlog
        // produced before it starts: below the worker's capacity the question is not its peak rate but
        // whether it keeps up, and how far behind it falls (the largest backlog, the drain time).
        var offered = Option(args, "--rate", 0);

        // --warmup W feeds W messages first and measures only the rest, once the tiered JIT has compiled
        // the worker's hot code (in a 20 s run it otherwise takes a fifth of the worker's CPU).
        var warmup = Option(args, "--warmup", 0);

        // A run is shorter than the default seal interval (one minute), so by default no digest is
        // sealed while it ingests; --seal-interval 00:00:02 seals every two seconds meanwhile.
        var sealInterval = OptionText(args, "--seal-interval") ?? "00:01:00";

        using var cluster = new MockKafkaCluster();
        var suffix = MockKafkaCluster.UniqueName("e2e");
        var names = Topics.ToDictionary(t => t.Kind, t => $"{t.Kind}-{suffix}");
        foreach (var (kind, partitions) in Topics)
        {
            cluster.CreateTopic(names[kind], partitions);
        }

        var dlq = $"dlq-{suffix}";
        var plans = $"plans-{suffix}";
        cluster.CreateTopic(dlq, 3);
        cluster.CreateTopic(plans, 1);
        await cluster.ProduceAsync(plans, "org_ent", """{"org_id":"org_ent","plan":"enterprise","retention_years":5,"effective_from":"2020-01-01T00:00:00Z"}""");

        if (offered > 0 || warmup > 0)
        {
            var (fed, _, _) = Generate(names, warmup + messages, ordered, spread);
            await OfferedRunAsync(cluster, names, dlq, plans, fed, warmup, offered, integrity, sealInterval, synchronous, batch);
            return 0;
        }

        var (records, lines, malformed) = Generate(names, messages, ordered, spread);
        var produce = Stopwatch.StartNew();

        cluster.ProduceMany(records, TimeSpan.FromMinutes(5));
        Console.WriteLine(FormattableString.Invariant($"kafka-e2e: {messages:N0} messages ({malformed:N0} malformed) on {Topics.Sum(t => t.Partitions)} partitions, five months, two classes, {(ordered ? "time-ordered per partition" : "random times")}; produced in {produce.Elapsed.TotalSeconds:N1} s; Integrity:Enabled={integrity} (seal every {sealInterval}), Store:Embedded:Synchronous={synchronous}, Ingest:BatchSize={batch}; {Environment.ProcessorCount} cores, load {LoadAverage()}"));

        for (var round = 1; round <= rounds; round++)
        {
            var bare = KafkaThroughput.BareConsumer(cluster, names.Values, messages);
            Console.WriteLine(FormattableString.Invariant($"round {round}: bare consumer      {messages / bare.TotalSeconds,9:N0} msg/s ({bare.TotalSeconds:N2} s from the assignment)"));

            using var sandbox = new WorkerSandbox("kafka-e2e");
            var (rate, total, stored, dead, cpu) = await RunWorker(sandbox, messages,
            KafkaWorkerArgs(cluster, names, dlq, plans, $"group-{suffix}-{round}", integrity, sealInterval, synchronous, batch));
            Console.WriteLine(FormattableString.Invariant($"round {round}: worker (Kafka)     {rate,9:N0} msg/s from the first stored event ({total:N1} s including start-up; {stored:N0} stored, {dead:N0} dead-lettered); ratio to the bare consumer {rate * bare.TotalSeconds / messages:N3}; worker CPU {cpu:N1} µs/msg; load {LoadAverage()}"));

            if (args.Contains("--inbox"))
            {
                using var inbox = new WorkerSandbox("inbox-e2e");
                foreach (var (kind, kindLines) in lines)
                {
                    File.WriteAllLines(Path.Combine(inbox.Inbox, $"{kind}-bench.jsonl"), kindLines);
                }

                var (irate, itotal, istored, idead, icpu) = await RunWorker(inbox, messages,
                [
                    $"--Integrity:Enabled={integrity}",
                    $"--Integrity:SealInterval={sealInterval}",
                    $"--Store:Embedded:Synchronous={synchronous}",
                    $"--Ingest:BatchSize={batch}",
                    "--Retention:Orgs:org_ent:Plan=enterprise",
                    "--Retention:Orgs:org_ent:Years=5",
                ]);
                Console.WriteLine(FormattableString.Invariant($"round {round}: worker (inbox)     {irate,9:N0} msg/s from the first stored event ({itotal:N1} s including start-up; {istored:N0} stored, {idead:N0} dead-lettered); worker CPU {icpu:N1} µs/msg; load {LoadAverage()}"));
            }
        }

        return 0;
    }

    /// <summary>Starts the worker, polls its counters until every message is accounted for, stops it with SIGTERM.</summary>
    private static async Task<(double Rate, double Total, double Stored, double Dead, double CpuPerMessage)> RunWorker(WorkerSandbox sandbox, int messages, string[] extra, Feed? feed = null)
    {
        var clock = Stopwatch.StartNew();
        await using var worker = sandbox.Start(extra);
        await sandbox.WaitReadyAsync(worker, TimeSpan.FromMinutes(2));
        if (feed is not null)
        {
            feed.Cpu = () => WorkerCpu(worker);
        }

        var feeding = feed?.Start() ?? Task.CompletedTask;
        TimeSpan? first = null;
        var cpuAtFirst = TimeSpan.Zero;
        double stored = 0, dead = 0;
        var deadline = DateTime.UtcNow.AddMinutes(20);
        while (stored + dead < messages)
        {
            if (worker.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"The worker accounted for only {stored + dead:N0} of {messages:N0} messages.\n{worker.Log}");
            }

            await Task.Delay(50);
            stored = await sandbox.MetricAsync("audit_events_stored_total");
            dead = await sandbox.MetricAsync("audit_events_dead_lettered_total");
            feed?.Observe(stored + dead);
            if (first is null && stored > 0)
            {
                first = clock.Elapsed;
                cpuAtFirst = WorkerCpu(worker);
            }
        }

        var done = clock.Elapsed;
        var cpu = WorkerCpu(worker) - cpuAtFirst;
        await feeding;
        worker.Terminate();
        await worker.WaitForExitAsync(TimeSpan.FromMinutes(1));
        return ((messages - 0.0) / (done - first!.Value).TotalSeconds, done.TotalSeconds, stored, dead, cpu.TotalMilliseconds * 1000 / messages);
    }

    private static async Task OfferedRunAsync(
        MockKafkaCluster cluster, Dictionary<string, string> names, string dlq, string plans,
        List<(string, byte[]?, byte[]?, int?)> records, int warmup, int offered, string integrity, string sealInterval, string synchronous, int batch)
    {
        var measured = records.Count - warmup;
        var pace = offered > 0 ? FormattableString.Invariant($"at {offered:N0} msg/s") : "as fast as the producer goes";
        Console.WriteLine(FormattableString.Invariant($"kafka-e2e, fed while the worker runs: {warmup:N0} warm-up messages first, then {measured:N0} {pace}; Integrity:Enabled={integrity} (seal every {sealInterval}), Store:Embedded:Synchronous={synchronous}, Ingest:BatchSize={batch}; load {LoadAverage()}"));
        using var sandbox = new WorkerSandbox("kafka-e2e-fed");
        var feed = new Feed(cluster, records, warmup, offered);
        var (_, total, stored, dead, _) = await RunWorker(sandbox, records.Count,
            KafkaWorkerArgs(cluster, names, dlq, plans, $"group-fed-{Guid.NewGuid():N}", integrity, sealInterval, synchronous, batch), feed);
        var bare = KafkaThroughput.BareConsumer(cluster, names.Values, records.Count);
        var rate = measured / feed.Measured.TotalSeconds;
        Console.WriteLine(
            FormattableString.Invariant($"after warm-up: {rate:N0} msg/s ({measured:N0} in {feed.Measured.TotalSeconds:N2} s; fed at {feed.FedRate:N0} msg/s); ratio to the bare consumer {rate / (records.Count / bare.TotalSeconds):N3}; ") +
            FormattableString.Invariant($"largest backlog {feed.MaxBacklog:N0} messages; all accounted for {feed.Drain.TotalSeconds:N2} s after the last was produced; worker CPU {feed.CpuPerMessage:N1} µs/msg; ") +
            FormattableString.Invariant($"{stored:N0} stored, {dead:N0} dead-lettered, {total:N1} s in all; load {LoadAverage()}"));
    }

    /// <summary>
    /// Feeds a running worker: the warm-up messages at once, and once the worker has accounted for them
    /// (its code compiled by the tiered JIT, its files created), the measured ones, at a fixed rate in
    /// slices of 50 ms or all at once; it keeps the largest backlog the worker was seen behind and the
    /// worker's CPU over the measured part.
    /// </summary>
    private sealed class Feed(MockKafkaCluster cluster, List<(string, byte[]?, byte[]?, int?)> records, int warmup, int rate)
    {
        private readonly Stopwatch _clock = new();
        private readonly TaskCompletionSource _warm = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _produced;
        private TimeSpan _start;
        private TimeSpan _finished = TimeSpan.MaxValue;
        private TimeSpan _cpuAtStart;
        private volatile bool _measuring;

        public Func<TimeSpan> Cpu { get; set; } = () => TimeSpan.Zero;

        public double MaxBacklog { get; private set; }

        public double FedRate { get; private set; }

        public TimeSpan Drain { get; private set; }

        public TimeSpan Measured { get; private set; }

        public double CpuPerMessage { get; private set; }

        public Task Start() => Task.Run(async () =>
        {
            _clock.Start();
            if (warmup > 0)
            {
                cluster.ProduceMany(records.GetRange(0, warmup), TimeSpan.FromMinutes(1));
                Interlocked.Exchange(ref _produced, warmup);
                await _warm.Task;
            }

            _start = _clock.Elapsed;
            _cpuAtStart = Cpu();
            _measuring = true;
            var slice = rate > 0 ? Math.Max(1, rate / 20) : records.Count;
            for (var i = warmup; i < records.Count; i += slice)
            {
                // Paced by the clock, not by sleeps of a fixed length: a slow slice is caught up by the next.
                var due = _start + (rate > 0 ? TimeSpan.FromSeconds((double)(i - warmup) / rate) : TimeSpan.Zero);
                if (due > _clock.Elapsed)
                {
                    await Task.Delay(due - _clock.Elapsed);
                }

                var n = Math.Min(slice, records.Count - i);
                cluster.ProduceMany(records.GetRange(i, n), TimeSpan.FromMinutes(1));
                Interlocked.Exchange(ref _produced, i + n);
            }

            _finished = _clock.Elapsed;
            FedRate = (records.Count - warmup) / (_finished - _start).TotalSeconds;
        });

        public void Observe(double accounted)
        {
            if (accounted >= warmup)
            {
                _warm.TrySetResult();
            }

            if (_measuring)
            {
                MaxBacklog = Math.Max(MaxBacklog, Interlocked.Read(ref _produced) - accounted);
            }
            if (accounted >= records.Count)
            {
                Drain = _clock.Elapsed - _finished;
                Measured = _clock.Elapsed - _start;
                CpuPerMessage = (Cpu() - _cpuAtStart).TotalMilliseconds * 1000 / (records.Count - warmup);
            }
        }
    }

    /// <summary>The worker's switches for a run against the mock cluster's topics.</summary>
    private static string[] KafkaWorkerArgs(
        MockKafkaCluster cluster, Dictionary<string, string> names, string dlq, string plans, string groupId,
        string integrity, string sealInterval, string synchronous, int batch) =>
    [
        "--Inbox:Path=",
        $"--Kafka:BootstrapServers={cluster.BootstrapServers}",
        $"--Kafka:GroupId={groupId}",
        .. names.Select(t => $"--Kafka:Topics:{t.Key}={t.Value}"),
        $"--Kafka:DeadLetterTopic={dlq}",
        $"--Kafka:PlansTopic={plans}",
        "--Kafka:Client:session.timeout.ms=6000",
        $"--Integrity:Enabled={integrity}",
        $"--Integrity:SealInterval={sealInterval}",
        $"--Store:Embedded:Synchronous={synchronous}",
        $"--Ingest:BatchSize={batch}",
    ];

    /// <summary>
    /// The worker process's CPU time so far (user + system, all threads): per message it moves far less
    /// with the machine's load than the rate does, so runs beside other work still compare.
    /// </summary>
    private static TimeSpan WorkerCpu(WorkerProcess worker)
    {
        using var p = Process.GetProcessById(worker.Id);
        return p.TotalProcessorTime;
    }

    private static (List<(string, byte[]?, byte[]?, int?)> Records, Dictionary<string, List<string>> Lines, int Malformed) Generate(Dictionary<string, string> topics, int count, bool ordered, bool spread)
    {
        // Its own generator, so the times (and the default corpus) stay what they were.
        var spreadRandom = new Random(13);
        var users = new Zipf(5_000);
        var records = new List<(string, byte[]?, byte[]?, int?)>(count);
        var lines = topics.Keys.ToDictionary(k => k, _ => new List<string>());
        var random = new Random(11);
        // Five calendar months up to now (never in the future: Ingest:MaxFutureSkew would refuse it).
        var end = DateTimeOffset.UtcNow.AddMinutes(-1);
        var start = new DateTimeOffset(end.Year, end.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(-4);
        var spanMs = (long)(end - start).TotalMilliseconds;
        var run = Guid.NewGuid().ToString("N")[..6];
        var malformed = 0;
        for (var i = 0; i < count; i++)
        {
            var (kind, partitions) = Topics[i % 4];
            var org = (i % 5) switch { 0 => "org_ent", 1 => "org_small", _ => "org_acme" };
            var t = ordered ? start.AddMilliseconds(spanMs * (double)i / count) : start.AddMilliseconds(random.NextInt64(spanMs));
            var iso = t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
            var id = $"{run}_{i}";
            var user = spread ? $"usr_{users.Next(spreadRandom)}" : $"usr_{i % 37}";
            var deal = spread ? spreadRandom.Next(200_000) : i % 997;
            string json;
            if (i % 50 == 49)
            {
                json = $$$"""{"id":"bad_{{{id}}}","org_id":"{{{org}}}","note":"no type, no time"}""";
                malformed++;
            }
            else
            {
                json = kind switch
                {
                    "crm" => $$$"""{"id":"evt_{{{id}}}","type":"deal.stage_changed","created_at":"{{{iso}}}","org_id":"{{{org}}}","actor":{"type":"user","id":"{{{user}}}","name":"Ana Silva","email":"ana@acme.test"},"origin":{"channel":"admin","ip":"203.0.113.5","user_agent":"Mozilla/5.0","request_id":"req_9"},"data":{"id":"deal_{{{deal}}}","name":"Acme Corp Enterprise"},"before":{"stage":"Demo Scheduled","amount":1000},"after":{"stage":"Proposal Sent","amount":1000}}""",
                    "auth" => $$$"""{"event_id":"au_{{{id}}}","ts":{{{t.ToUnixTimeMilliseconds()}}},"tenant":"{{{org}}}","event":"login.succeeded","user":{"id":"{{{user}}}","email":"ana@acme.test","name":"Ana Silva"},"ip":"198.51.100.23","ua":"Mozilla/5.0","session_id":"s_1"}""",
                    "ai" => $$$"""{"action_id":"ai_{{{id}}}","timestamp":"{{{iso}}}","workspace_id":"{{{org}}}","conversation_id":"conv_3","message_id":"msg_17","on_behalf_of":{"user_id":"{{{user}}}","name":"Ana Silva","email":"ana@acme.test"},"tool":"update_deal","target":{"type":"deal","id":"deal_{{{deal}}}","label":"Acme Corp Enterprise"},"operation":"update","changes":[{"field":"amount","from":1000,"to":2500}],"status":"succeeded","error":null}""",
                    _ => $$$"""{"event_id":"pl_{{{id}}}","occurred_at":"{{{iso}}}","org_id":"{{{org}}}","category":"data","action":"import.completed","actor":{"type":"user","id":"{{{user}}}","name":"Ana Silva","email":"ana@acme.test"},"origin":{"channel":"admin","ip":"203.0.113.5","user_agent":"Mozilla/5.0"},"target":{"type":"import","id":"imp_{{{(spread ? deal : 4)}}}","name":"contacts-nov.csv"},"before":null,"after":null,"details":{"rows":1200,"failed":3}}""",
                };
            }

            records.Add((topics[kind], Encoding.UTF8.GetBytes(org), Encoding.UTF8.GetBytes(json), (i / 4) % partitions));
            lines[kind].Add(json);
        }

        return (records, lines, malformed);
    }

    /// <summary>Ranks 1..n drawn with probability proportional to 1/rank (Zipf, s = 1): a few users do most of the work.</summary>
    private sealed class Zipf
    {
        private readonly double[] _cdf;

        public Zipf(int n)
        {
            _cdf = new double[n];
            var sum = 0.0;
            for (var k = 0; k < n; k++)
            {
                sum += 1.0 / (k + 1);
                _cdf[k] = sum;
            }

            for (var k = 0; k < n; k++)
            {
                _cdf[k] /= sum;
            }
        }

        public int Next(Random random)
        {
            var i = Array.BinarySearch(_cdf, random.NextDouble());
            return (i < 0 ? ~i : i) + 1;
        }
    }
}
