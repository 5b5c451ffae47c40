using System.Diagnostics;
using System.Globalization;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded;
using AuditPipeline.Embedded.Storage;
using AuditPipeline.Testing.StoreContract;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Benchmarks;

/// <summary>
/// The documented 1,000,000-event run of the embedded store (see docs/PERFORMANCE-embedded.md):
/// append throughput in batches of 1,000, first-page latency (p50/p99) of typical filters, and
/// streaming rate and memory.
/// <code>dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- embedded-measure [events] [directory] [--reuse] [--queries-only]</code>
/// <c>--reuse</c> queries and streams a store an earlier run of the same count left in the directory,
/// without appending (a 10M-event store takes about 7 minutes to build); <c>--queries-only</c> stops
/// before the stream.
/// </summary>
public static class EmbeddedStoreMeasurement
{
    private const string Org = "org_bench";

    public static async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var path = args.Length > 1 && !args[1].StartsWith("--", StringComparison.Ordinal) ? args[1] : Path.Combine(Path.GetTempPath(), "auditpipeline-measure");
        var reuse = args.Contains("--reuse") && File.Exists(Path.Combine(path, SqliteAuditStore.CatalogFileName));
        if (Directory.Exists(path) && !reuse)
        {
            Directory.Delete(path, recursive: true);
        }

        var retention = new RetentionOptions();
        using var store = new SqliteAuditStore(Options.Create(new EmbeddedStoreOptions { Path = path }), new RetentionPlanRegistry(Options.Create(retention)), Options.Create(retention));
        var ct = CancellationToken.None;
        var start = new DateTimeOffset(2025, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var end = new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);

        // Append: events generated per batch (not timed), appended in batches of 1,000, roughly in time order.
        var appendTime = TimeSpan.Zero;
        var appendCpu = TimeSpan.Zero;
        using var self = Process.GetCurrentProcess();
        var batchTimes = new List<double>();
        const int batchSize = 1000;
        var random = new Random(1);
        var span = (end - start).Ticks / count;
        for (var i = 0; i < (reuse ? 0 : count); i += batchSize)
        {
            var batch = new AuditEvent[Math.Min(batchSize, count - i)];
            for (var j = 0; j < batch.Length; j++)
            {
                var n = i + j;
                var time = AuditJson.TruncateToMilliseconds(start.AddTicks((span * n) + random.NextInt64(span)));
                var org = n % 10 == 9 ? "org_other" : Org;
                batch[j] = ContractData.Build(random, org, time, n);
            }

            self.Refresh();
            var cpu = self.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            await store.AppendAsync(batch, ct);
            sw.Stop();
            self.Refresh();
            appendCpu += self.TotalProcessorTime - cpu;
            appendTime += sw.Elapsed;
            batchTimes.Add(sw.Elapsed.TotalMilliseconds);
            if (i % 100_000 == 0)
            {
                Console.WriteLine(FormattableString.Invariant($"  appended {i:N0}, {i / Math.Max(appendTime.TotalSeconds, 0.001):N0} events/s so far"));
            }
        }

        var size = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Console.WriteLine(reuse ? FormattableString.Invariant($"reused the store in {path}: {size / 1048576.0:N0} MiB on disk") : FormattableString.Invariant($"append: {count:N0} events in {appendTime.TotalSeconds:N1} s = {count / appendTime.TotalSeconds:N0} events/s (CPU {appendCpu.TotalMilliseconds * 1000 / count:N1} us/event = {count / appendCpu.TotalSeconds:N0} events per CPU-second); batch p50 {Percentile(batchTimes, 50):N1} ms, p99 {Percentile(batchTimes, 99):N1} ms; {size / 1048576.0:N0} MiB on disk"));

        // Re-sends: the first 10,000 events again with times a month later (each must be a duplicate).
        var resendRandom = new Random(1);
        var resend = new List<AuditEvent>(10_000);
        for (var n = 0; n < Math.Min(10_000, count); n++)
        {
            var time = AuditJson.TruncateToMilliseconds(start.AddTicks((span * n) + resendRandom.NextInt64(span)));
            resend.Add(ContractData.Build(resendRandom, n % 10 == 9 ? "org_other" : Org, time, n) with { Time = time.AddDays(31) });
        }

        var resendWatch = Stopwatch.StartNew();
        var duplicates = 0;
        foreach (var chunk in resend.Chunk(batchSize))
        {
            duplicates += (await store.AppendAsync(chunk, ct)).Count(r => r.Outcome == AppendOutcome.Duplicate);
        }

        resendWatch.Stop();
        Console.WriteLine(FormattableString.Invariant($"resend: {resend.Count:N0} stored events again with other times in {resendWatch.Elapsed.TotalSeconds:N2} s = {resend.Count / resendWatch.Elapsed.TotalSeconds:N0} events/s; duplicates {duplicates:N0}"));

        var orgCount = count - (count / 10);
        Console.WriteLine(FormattableString.Invariant($"queries: first page of 50 over {orgCount:N0} events of {Org} ({count:N0} in the store)"));
        var last7d = end.AddDays(-7);
        (string Name, AuditQuery Query)[] queries =
        [
            ("no filter", new AuditQuery { OrgId = Org }),
            ("action=deleted", new AuditQuery { OrgId = Org, Actions = ["deleted"] }),
            ("user=usr_7", new AuditQuery { OrgId = Org, Users = ["usr_7"] }),
            ("entityId=deal_123", new AuditQuery { OrgId = Org, EntityIds = ["deal_123"] }),
            ("entityType=ticket,task", new AuditQuery { OrgId = Org, EntityTypes = ["ticket", "task"] }),
            ("category=security", new AuditQuery { OrgId = Org, Categories = ["security"] }),
            ("outcome=failure", new AuditQuery { OrgId = Org, Outcomes = ["failure"] }),
            ("source=Workflow", new AuditQuery { OrgId = Org, Sources = ["Workflow"] }),
            ("ai=true", new AuditQuery { OrgId = Org, Ai = [true] }),
            ("range=7d", new AuditQuery { OrgId = Org, From = last7d, To = end }),
            ("range 30d + category=auth + outcome=failure", new AuditQuery { OrgId = Org, From = end.AddDays(-30), Categories = ["auth"], Outcomes = ["failure"] }),
            ("user=usr_7,usr_9 + action=deleted", new AuditQuery { OrgId = Org, Users = ["usr_7", "usr_9"], Actions = ["deleted"] }),
            ("q=ana", new AuditQuery { OrgId = Org, Terms = ["ana"] }),
            ("q=ana@acme deal", new AuditQuery { OrgId = Org, Terms = ["ana@acme", "deal"] }),
            ("q=a (one letter)", new AuditQuery { OrgId = Org, Terms = ["a"] }),
            ("q=chen", new AuditQuery { OrgId = Org, Terms = ["chen"] }),
            ("q=ana + user=usr_7", new AuditQuery { OrgId = Org, Terms = ["ana"], Users = ["usr_7"] }),
            ("q=evt_aY00 (rare id prefix)", new AuditQuery { OrgId = Org, Terms = ["evt_aY00"] }),
            ("q=nosuchname (none)", new AuditQuery { OrgId = Org, Terms = ["nosuchname"] }),
            ("q=zq (none, two letters)", new AuditQuery { OrgId = Org, Terms = ["zq"] }),
            ("second page (cursor) user=usr_7", new AuditQuery { OrgId = Org, Users = ["usr_7"] }),
            ("entityType=nosuchtype (none: walks every row)", new AuditQuery { OrgId = Org, EntityTypes = ["nosuchtype"] }),
        ];
        foreach (var (name, q) in queries)
        {
            var query = q;
            if (name.StartsWith("second page", StringComparison.Ordinal))
            {
                var first = await store.QueryAsync(q, 50, ct);
                query = q with { After = first.Next };
            }

            var times = new List<double>();
            var items = 0;
            var next = false;
            for (var i = 0; i < 220; i++)
            {
                var sw = Stopwatch.StartNew();
                var page = await store.QueryAsync(query, 50, ct);
                sw.Stop();
                items = page.Items.Count;
                next = page.Next is not null;
                if (i >= 20)
                {
                    times.Add(sw.Elapsed.TotalMilliseconds);
                }
            }

            Console.WriteLine(FormattableString.Invariant($"  {name,-46} items {items,3}{(next ? "+" : " ")} p50 {Percentile(times, 50),7:N2} ms  p99 {Percentile(times, 99),7:N2} ms"));
        }

        if (args.Contains("--queries-only"))
        {
            return 0;
        }

        // Stream every event of the organisation; memory is sampled while it runs.
        GC.Collect();
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        long peakHeap = 0;
        var streamed = 0;
        var watch = Stopwatch.StartNew();
        await foreach (var e in store.StreamAsync(new AuditQuery { OrgId = Org }, ct))
        {
            if (++streamed % 50_000 == 0)
            {
                peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(forceFullCollection: false));
            }
        }

        watch.Stop();
        using var process = Process.GetCurrentProcess();
        Console.WriteLine(FormattableString.Invariant($"stream: {streamed:N0} events in {watch.Elapsed.TotalSeconds:N1} s = {streamed / watch.Elapsed.TotalSeconds:N0} events/s; managed heap before {heapBefore / 1048576.0:N0} MiB, peak sampled {peakHeap / 1048576.0:N0} MiB; process peak working set {process.PeakWorkingSet64 / 1048576.0:N0} MiB"));
        return 0;
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        var index = (int)Math.Ceiling(p / 100 * sorted.Count) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Count - 1)];
    }
}
