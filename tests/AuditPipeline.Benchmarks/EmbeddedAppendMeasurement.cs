using System.Diagnostics;
using System.Globalization;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded;
using AuditPipeline.Embedded.Storage;
using AuditPipeline.Testing;
using AuditPipeline.Testing.StoreContract;
using Microsoft.Extensions.Options;

using static AuditPipeline.Benchmarks.BenchmarkArgs;

namespace AuditPipeline.Benchmarks;

/// <summary>
/// The embedded store's append path on a corpus shaped like a Kafka backlog: every batch mixes events
/// from <c>--months</c> months and two retention classes (org_ent is on a 5-year enterprise plan), so a
/// batch of 1,000 touches up to 2 × months partition files, as the consumer's batches do. Each round
/// appends the same events to the in-memory reference store (the floor: everything but SQLite) and then
/// to a fresh embedded store, and prints both with the CPU time per event.
/// <code>
/// dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- embedded-append [--events 200000] [--months 5] [--batch 1000] [--rounds 2] [--dir /tmp/x] [--keep N] [--sync Full|Normal] [--merge 8192] [--lanes 4] [--ordered [--late 0.02]]
/// </code>
/// <c>--keep N</c> first fills the store with N events (not timed) and then times the append of
/// <c>--events</c> more, which is how "append cost does not grow with the store" is measured.
/// <c>--ordered</c> gives live traffic's shape instead of a replayed backlog's: times rise through the
/// whole run (prefill, then the timed events, over the same <c>--months</c>), each within a few
/// minutes of its neighbours, as events reach Kafka's partitions and a consumer interleaves them.
/// <c>--late F</c> (with <c>--ordered</c>) gives that share of the events a time up to three days earlier
/// within the same month, as a client that was offline sends them late.
/// </summary>
internal static class EmbeddedAppendMeasurement
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = Option(args, "--events", 200_000);
        var months = Option(args, "--months", 5);
        var batchSize = Option(args, "--batch", 1000);
        var rounds = Option(args, "--rounds", 2);
        var prefill = Option(args, "--keep", 0);
        var synchronous = OptionText(args, "--sync") ?? "Full";
        var dir = OptionText(args, "--dir") ?? Path.Combine(Path.GetTempPath(), "auditpipeline-append");
        var ordered = args.Contains("--ordered");
        var late = ordered ? OptionDouble(args, "--late", 0) : 0;
        var total = prefill + count;
        var retention = new RetentionOptions
        {
            Orgs = { ["org_ent"] = new OrgPlanOptions { Plan = RetentionPlans.Enterprise, Years = 5 } },
        };
        var registry = new RetentionPlanRegistry(Options.Create(retention));
        var end = new DateTimeOffset(DateTime.UtcNow.Year, DateTime.UtcNow.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1);
        var start = end.AddMonths(-months);

        Console.WriteLine(FormattableString.Invariant($"embedded-append: {count:N0} events over {months} months and 2 classes, {(ordered ? "in time order (live traffic)" : "at random times (a replayed backlog)")}{(late > 0 ? $", {late:P0} of them up to three days late" : "")}, batches of {batchSize:N0}, synchronous={synchronous}, prefill {prefill:N0}, {Environment.ProcessorCount} cores, load {LoadAverage()}"));
        for (var round = 1; round <= rounds; round++)
        {
            var events = Generate(count, start, end, seed: round, idPrefix: $"r{round}", ordered ? (prefill, total) : null, late);
            var memory = new InMemoryAuditStore();
            var (memRate, memCpu) = await TimeAppend(memory, events, batchSize);
            Console.WriteLine(FormattableString.Invariant($"round {round}: in-memory store  {memRate,9:N0} events/s  CPU {memCpu,5:N1} us/event"));

            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }

            using var store = new SqliteAuditStore(Options.Create(new EmbeddedStoreOptions { Path = dir, Synchronous = synchronous, MergeRows = Option(args, "--merge", 8192), CommitLanes = Option(args, "--lanes", 4) }), registry, Options.Create(retention));
            // Generated and appended a million at a time: ten million events would not fit in memory at once.
            for (var filled = 0; filled < prefill; filled += 1_000_000)
            {
                var chunk = Generate(Math.Min(1_000_000, prefill - filled), start, end, seed: 7 + filled, idPrefix: $"pre{filled}", ordered ? (filled, total) : null, late);
                var (fillRate, fillCpu) = await TimeAppend(store, chunk, batchSize);
                Console.WriteLine(FormattableString.Invariant($"round {round}: prefill {filled + chunk.Count:N0} stored, this million at {fillRate:N0} events/s (CPU {fillCpu:N1} us/event)"));
            }

            var written = BytesWritten();
            var (rate, cpu) = await TimeAppend(store, events, batchSize);
            written = BytesWritten() - written;
            var size = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            Console.WriteLine(FormattableString.Invariant($"round {round}: embedded store   {rate,9:N0} events/s  CPU {cpu,5:N1} us/event  ({rate / memRate:P0} of in-memory; {written / (double)count:N0} bytes written per event; {size / 1048576.0:N0} MiB on disk, load {LoadAverage()})"));
        }

        return 0;
    }

    /// <param name="order">
    /// Null for random times over the whole span; otherwise where these events stand in the run
    /// (<c>First</c> of <c>Total</c>): event k's time is k/Total of the span, plus up to five minutes.
    /// </param>
    private static List<AuditEvent> Generate(int count, DateTimeOffset start, DateTimeOffset end, int seed, string idPrefix, (long First, long Total)? order, double late)
    {
        var random = new Random(seed);
        var spanMs = (long)(end - start).TotalMilliseconds;
        var events = new List<AuditEvent>(count);
        for (var n = 0; n < count; n++)
        {
            var time = order is { } o
                ? start.AddMilliseconds((long)((double)(o.First + n) / o.Total * (spanMs - 300_000)) + random.NextInt64(300_000))
                : start.AddMilliseconds(random.NextInt64(spanMs));
            if (late > 0 && random.NextDouble() < late)
            {
                var month = new DateTimeOffset(time.Year, time.Month, 1, 0, 0, 0, TimeSpan.Zero);
                var earlier = time.AddMilliseconds(-random.NextInt64((long)TimeSpan.FromDays(3).TotalMilliseconds));
                time = earlier < month ? month : earlier;
            }

            var org = (n % 5) switch { 0 => "org_ent", 1 => "org_small", _ => "org_acme" };
            var e = ContractData.Build(random, org, time, n);
            events.Add(e with { Id = $"{idPrefix}_{e.Id}" });
        }

        return events;
    }

    private static async Task<(double Rate, double CpuUs)> TimeAppend(IAuditStore store, List<AuditEvent> events, int batchSize)
    {
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var cpu = self.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        foreach (var batch in events.Chunk(batchSize))
        {
            var results = await store.AppendAsync(batch, CancellationToken.None);
            if (results.Any(r => r.Outcome != AppendOutcome.Stored))
            {
                throw new InvalidOperationException("an event of the corpus was not stored: " + results.First(r => r.Outcome != AppendOutcome.Stored).Error);
            }
        }

        watch.Stop();
        self.Refresh();
        return (events.Count / watch.Elapsed.TotalSeconds, (self.TotalProcessorTime - cpu).TotalMilliseconds * 1000 / events.Count);
    }

    /// <summary>Bytes this process passed to write(2) and friends so far (<c>wchar</c> of /proc/self/io): the WAL's write amplification.</summary>
    internal static long BytesWritten()
    {
        if (!File.Exists("/proc/self/io"))
        {
            return 0;
        }

        var line = File.ReadLines("/proc/self/io").First(l => l.StartsWith("wchar:", StringComparison.Ordinal));
        return long.Parse(line["wchar:".Length..].Trim(), CultureInfo.InvariantCulture);
    }
}
