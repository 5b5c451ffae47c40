using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AuditPipeline.Api;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;
using AuditPipeline.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

using static AuditPipeline.Benchmarks.BenchmarkArgs;

namespace AuditPipeline.Benchmarks;

/// <summary>
/// Load measurement of the query facade on a real Kestrel listener (127.0.0.1 only), bounded in count:
/// first-page latency (p50/p99) of typical filters under concurrent clients, CSV rows/s and the managed
/// heap while a CSV streams.
/// <code>
/// dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- api-load [--events 1000000] [--clients 16] [--requests 320] [--store memory|fixed|embedded]
/// dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- api-load --csv-only [--rounds 3] [--no-fixed] --events 1000000 --store embedded
/// </code>
/// <c>--csv-only</c> skips the page latencies and, per round, measures the store's bare stream in-process
/// (no HTTP, no formatting: the floor), <c>events.csv</c> from the store, and <c>events.csv</c> from a
/// <c>fixed</c> store of the same events (the facade's own cost), each with the managed heap sampled.
/// <c>--dir path</c> keeps the embedded store there and reuses it on the next run (the events are then
/// not generated at all; <c>--org org_bench</c> with <c>D/embedded</c> a link to an <c>embedded-measure</c>
/// directory queries that store's ten million events). <c>--ordered</c> seeds in time order, as live traffic arrives, rather than at
/// random times: how a store of ten million events is built in minutes rather than hours.
/// <c>memory</c> is the reference in-memory store (a full scan and sort per query); <c>fixed</c> answers every
/// query with a precomputed page, which isolates the facade's own cost (key check, parsing, cursor, JSON).
/// To measure another store, add it to <see cref="CreateStore"/>.
/// </summary>
internal static class ApiLoad
{
    /// <summary>The organisation queried (and seeded): <c>--org</c>, e.g. <c>org_bench</c> for a store <c>embedded-measure</c> left.</summary>
    private static string Org { get; set; } = "org_42";
    private const string RawKey = "bench-key";

    private static readonly string[] Scenarios =
    [
        "",
        "category=crm",
        "source=admin&range=30d",
        "q=ana",
        "action=deleted&outcome=failure",
        "user=usr_7&entityType=deal",
        "ai=true&range=7d",
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        var events = Option(args, "--events", 1_000_000);
        var clients = Option(args, "--clients", 16);
        var requests = Option(args, "--requests", 320);
        var storeKind = args.SkipWhile(a => a != "--store").Skip(1).FirstOrDefault() ?? "memory";
        var csvOnly = args.Contains("--csv-only");
        var rounds = Option(args, "--rounds", 1);
        var withFixed = csvOnly && storeKind != "fixed" && !args.Contains("--no-fixed");
        // --dir keeps the store's files: a second run on the same directory reuses the seeded store (a profile
        // or a before/after pair need not wait for a million appends each time).
        var keep = OptionText(args, "--dir");
        Org = OptionText(args, "--org") ?? Org;
        var dir = keep is null ? Path.Combine(Path.GetTempPath(), "auditpipeline-api-load", Guid.NewGuid().ToString("N")) : Path.GetFullPath(keep);
        var reuse = keep is not null && storeKind == "embedded" && File.Exists(Path.Combine(dir, "embedded", "catalog.db"));
        var ordered = args.Contains("--ordered");
        Directory.CreateDirectory(dir);

        Console.WriteLine($"api-load: {events:N0} events, {clients} clients, {requests} requests, store {storeKind}, {Environment.ProcessorCount} cores, load {LoadAverage()}");
        var sw = Stopwatch.StartNew();
        List<AuditEvent>? data = reuse && !withFixed ? [] : Generate(events);
        if (ordered)
        {
            data.Sort((a, b) => a.Time.CompareTo(b.Time));
        }

        var store = await CreateStore(storeKind, dir, reuse ? [] : data);
        if (!withFixed)
        {
            data = null; // only the fixed store needs the events in memory; the heap baseline is then the store's own
        }

        Console.WriteLine($"{(reuse ? "reused the store in " + dir + ";" : "seeded")} in {sw.Elapsed.TotalSeconds:F1} s; managed heap {GC.GetTotalMemory(true) / (1024 * 1024)} MiB");
        if (csvOnly)
        {
            await CsvRoundsAsync(store, data, dir, rounds);
            (store as IDisposable)?.Dispose();
            if (keep is null)
            {
                Directory.Delete(dir, recursive: true);
            }

            return 0;
        }

        await using var app = BuildApp(store, dir);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients * 2 }) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RawKey);

        // Warm up every scenario once (JIT, first-touch).
        foreach (var s in Scenarios)
        {
            using var r = await http.GetAsync($"/v1/orgs/{Org}/events?{s}");
            r.EnsureSuccessStatusCode();
        }

        await FirstPageLatencyAsync(http, clients, requests);
        await SecondPageLatencyAsync(http, clients, Math.Max(clients, requests / 4));
        await CsvAsync(http, "events.csv");
        await app.StopAsync();
        (store as IDisposable)?.Dispose();
        if (keep is null)
        {
            Directory.Delete(dir, recursive: true);
        }

        return 0;
    }

    /// <summary>Per round: the store's bare stream, its CSV over HTTP, and the CSV of a fixed store of the same events.</summary>
    private static async Task CsvRoundsAsync(IAuditStore store, List<AuditEvent>? data, string dir, int rounds)
    {
        await using var app = BuildApp(store, dir);
        await app.StartAsync();
        using var http = Client(app, 2);
        await using var fixedApp = data is null ? null : BuildApp(new FixedPageStore(data), Path.Combine(dir, "fixed"));
        HttpClient? fixedHttp = null;
        if (fixedApp is not null)
        {
            await fixedApp.StartAsync();
            fixedHttp = Client(fixedApp, 2);
        }

        try
        {
            for (var round = 0; round < rounds; round++)
            {
                Console.WriteLine($"round {round}, load {LoadAverage()}");
                await BareStreamAsync(store);
                await CsvAsync(http, "events.csv (store)");
                if (fixedHttp is not null)
                {
                    await CsvAsync(fixedHttp, "events.csv (fixed)");
                }
            }
        }
        finally
        {
            fixedHttp?.Dispose();
        }

        await app.StopAsync();
        if (fixedApp is not null)
        {
            await fixedApp.StopAsync();
        }
    }

    private static HttpClient Client(WebApplication app, int connections)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections }) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RawKey);
        return http;
    }

    /// <summary>The store's own stream of the whole organisation, in-process: no HTTP, no CSV (the floor of events.csv).</summary>
    private static async Task BareStreamAsync(IAuditStore store)
    {
        using var heap = HeapSampler.Start();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        long rows = 0;
        await foreach (var e in store.StreamAsync(new AuditQuery { OrgId = Org }, CancellationToken.None))
        {
            rows++;
        }

        sw.Stop();
        var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var (baseline, peak) = await heap.StopAsync();
        Console.WriteLine(
            $"bare stream: {rows:N0} rows in {sw.Elapsed.TotalSeconds:F1} s = {rows / sw.Elapsed.TotalSeconds:N0} rows/s, CPU {used.TotalMicroseconds / rows:F2} us/row; " +
            $"managed heap baseline {baseline / (1024 * 1024)} MiB, peak {peak / (1024 * 1024)} MiB (+{(peak - baseline) / (1024 * 1024)} MiB)");
    }

    private static async Task FirstPageLatencyAsync(HttpClient http, int clients, int requests)
    {
        var latencies = new List<(string Scenario, double Ms)>();
        var next = -1;
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests)
            {
                var scenario = Scenarios[i % Scenarios.Length];
                var t = Stopwatch.GetTimestamp();
                using var r = await http.GetAsync($"/v1/orgs/{Org}/events?{scenario}", HttpCompletionOption.ResponseContentRead);
                r.EnsureSuccessStatusCode();
                var ms = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
                lock (latencies)
                {
                    latencies.Add((scenario, ms));
                }
            }
        }));
        Console.WriteLine($"first page (limit 50), {clients} concurrent clients, {requests} requests in {wall.Elapsed.TotalSeconds:F1} s ({requests / wall.Elapsed.TotalSeconds:F1} req/s)");
        Report("  all", latencies.Select(l => l.Ms));
        foreach (var g in latencies.GroupBy(l => l.Scenario))
        {
            Report($"  {(g.Key.Length == 0 ? "(no filter)" : g.Key),-32}", g.Select(l => l.Ms));
        }
    }

    private static async Task SecondPageLatencyAsync(HttpClient http, int clients, int requests)
    {
        var page = await http.GetStringAsync($"/v1/orgs/{Org}/events?category=crm&limit=50");
        var cursor = JsonDocument.Parse(page).RootElement.GetProperty("nextCursor").GetString()!;
        var latencies = new List<double>();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < requests)
            {
                var t = Stopwatch.GetTimestamp();
                using var r = await http.GetAsync($"/v1/orgs/{Org}/events?category=crm&limit=50&cursor={Uri.EscapeDataString(cursor)}");
                r.EnsureSuccessStatusCode();
                await r.Content.ReadAsByteArrayAsync();
                lock (latencies)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                }
            }
        }));
        Report($"next page by cursor (category=crm), {clients} clients", latencies);
    }

    private static async Task CsvAsync(HttpClient http, string label)
    {
        using var heap = HeapSampler.Start();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        using var response = await http.GetAsync($"/v1/orgs/{Org}/events.csv", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64 * 1024];
        long bytes = 0, lines = 0;
        int n;
        while ((n = await body.ReadAsync(buffer)) > 0)
        {
            bytes += n;
            lines += buffer.AsSpan(0, n).Count((byte)'\n');
        }

        sw.Stop();
        var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var (baseline, peak) = await heap.StopAsync();
        var rows = lines - 1; // header; quoted newlines inside cells are absent in this data set
        Console.WriteLine(
            $"{label}: {rows:N0} rows, {bytes / (1024.0 * 1024):F0} MiB in {sw.Elapsed.TotalSeconds:F1} s = {rows / sw.Elapsed.TotalSeconds:N0} rows/s, CPU {used.TotalMicroseconds / rows:F2} us/row (server and client); " +
            $"managed heap baseline {baseline / (1024 * 1024)} MiB, peak while streaming {peak / (1024 * 1024)} MiB (+{(peak - baseline) / (1024 * 1024)} MiB)");
    }

    /// <summary>Samples <see cref="GC.GetTotalMemory"/> every 50 ms (no forced collection) after a full collection for the baseline.</summary>
    private sealed class HeapSampler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly long _baseline;
        private long _peak;
        private Task? _loop;

        private HeapSampler()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            _baseline = GC.GetTotalMemory(false);
            _peak = _baseline;
        }

        public static HeapSampler Start()
        {
            var s = new HeapSampler();
            s._loop = Task.Run(s.LoopAsync);
            return s;
        }

        public async Task<(long Baseline, long Peak)> StopAsync()
        {
            await _stop.CancelAsync();
            await _loop!;
            return (_baseline, Math.Max(_peak, GC.GetTotalMemory(false)));
        }

        public void Dispose() => _stop.Dispose();

        private async Task LoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                _peak = Math.Max(_peak, GC.GetTotalMemory(false));
                try
                {
                    await Task.Delay(50, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    private static void Report(string label, IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        double P(double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label}: n={sorted.Length} p50={P(0.50):F1} ms p99={P(0.99):F1} ms max={sorted[^1]:F1} ms"));
    }

    private static WebApplication BuildApp(IAuditStore store, string dir)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Api:Keys:0:Name"] = "bench",
            ["Api:Keys:0:Sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(RawKey))),
            ["Api:Keys:0:Org"] = "*",
            ["Api:Keys:0:Scopes:0"] = "audit:read",
            ["Api:Keys:0:Scopes:1"] = "audit:export",
            ["Api:RateLimit:PermitsPerMinute"] = "100000000",
            ["Exports:Path"] = Path.Combine(dir, "exports"),
        });
        builder.Services.AddSingleton(store);
        builder.Services.AddAuditApi(builder.Configuration);
        var app = builder.Build();
        app.MapAuditApi();
        return app;
    }

    private static async Task<IAuditStore> CreateStore(string kind, string dir, List<AuditEvent> events)
    {
        IAuditStore store = kind switch
        {
            "memory" => new InMemoryAuditStore(),
            "fixed" => new FixedPageStore(events),
            "embedded" => new AuditPipeline.Embedded.Storage.SqliteAuditStore(
                Microsoft.Extensions.Options.Options.Create(new AuditPipeline.Embedded.EmbeddedStoreOptions { Path = Path.Combine(dir, "embedded") }),
                new AuditPipeline.Core.Retention.RetentionPlanRegistry(Microsoft.Extensions.Options.Options.Create(new AuditPipeline.Core.Retention.RetentionOptions())),
                Microsoft.Extensions.Options.Options.Create(new AuditPipeline.Core.Retention.RetentionOptions())),
            _ => throw new ArgumentException($"Unknown store '{kind}'; use memory, fixed or embedded (file-backed stores keep their files in {dir})."),
        };
        for (var i = 0; i < events.Count; i += 10_000)
        {
            await store.AppendAsync(events.GetRange(i, Math.Min(10_000, events.Count - i)), CancellationToken.None);
        }

        return store;
    }

    /// <summary>Realistic variety (9 kinds, 5 users, 6 sources, 120 days) with shared payloads to keep a million small.</summary>
    private static List<AuditEvent> Generate(int count)
    {
        var rng = new Random(1);
        var end = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero);
        (string Category, string Action, string EventType, string EntityType)[] kinds =
        [
            ("crm", "created", "deal.created", "deal"), ("crm", "deleted", "contact.deleted", "contact"),
            ("crm", "stage_changed", "deal.stage_changed", "deal"), ("auth", "login", "login.succeeded", "user"),
            ("auth", "login_failed", "login.failed", "user"), ("security", "api_key_created", "api_key.created", "api_key"),
            ("ai", "updated", "ai.update_deal", "deal"), ("settings", "created", "pipeline.created", "pipeline"),
            ("data", "import_completed", "import.completed", "import"),
        ];
        AuditActor[] actors =
        [
            new(ActorTypes.User, "usr_7", "Ana Silva", "ana@acme.test"), new(ActorTypes.User, "usr_8", "Bob O'Brien", "bob@acme.test"),
            new(ActorTypes.User, "usr_9", "Zoë Müller", "zoe@acme.test"), new(ActorTypes.User, "usr_10", "Chen Wei", "chen@acme.test"),
            new(ActorTypes.User, null, null, "mallory@evil.test"),
        ];
        var entities = Enumerable.Range(0, 200).Select(i => new AuditEntity(kinds[i % kinds.Length].EntityType, $"{kinds[i % kinds.Length].EntityType}_{i}", $"Acme deal {i}, \"big\"")).ToArray();
        var template = Some.Event("evt_template");
        var aiInfo = new AuditAi(true, "conv_3", "msg_17", "update_deal");
        var list = new List<AuditEvent>(count);
        for (var i = 0; i < count; i++)
        {
            var kind = kinds[rng.Next(kinds.Length)];
            var time = end.AddSeconds(-rng.Next(120 * 24 * 3600));
            var ai = kind.Category == "ai";
            list.Add(template with
            {
                Id = "evt_" + i.ToString("D8", CultureInfo.InvariantCulture),
                Time = time,
                OrgId = rng.Next(10) == 0 ? "org_7" : Org,
                Category = kind.Category,
                Action = kind.Action,
                EventType = kind.EventType,
                Outcome = kind.Action == "login_failed" || rng.Next(10) == 0 ? Outcomes.Failure : Outcomes.Success,
                Actor = actors[rng.Next(actors.Length)],
                Entity = entities[rng.Next(entities.Length)] with { Type = kind.EntityType },
                Source = ai ? Sources.Chat : Sources.All[rng.Next(Sources.All.Count)],
                Ai = ai ? aiInfo : null,
                ReceivedAt = time,
            });
        }

        return list;
    }

    /// <summary>Answers every query with the same precomputed page: the facade's own cost without a store's.</summary>
    private sealed class FixedPageStore(List<AuditEvent> events) : IAuditStore
    {
        private readonly AuditEvent[] _sorted = [.. events.Where(e => e.OrgId == Org).OrderByDescending(e => e.Time).ThenByDescending(e => e.Id, IdOrder.Instance)];

        public Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<AuditEvent> batch, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<AppendResult>>([.. batch.Select(_ => AppendResult.Stored)]);

        public Task<AuditEvent?> GetAsync(string orgId, string eventId, CancellationToken cancellationToken) => Task.FromResult<AuditEvent?>(null);

        public Task<AuditPage> QueryAsync(AuditQuery query, int limit, CancellationToken cancellationToken)
        {
            var items = _sorted.AsSpan(0, Math.Min(limit, _sorted.Length)).ToArray();
            return Task.FromResult(new AuditPage(items, items.Length == limit ? AuditPosition.Of(items[^1]) : null));
        }

        public async IAsyncEnumerable<AuditEvent> StreamAsync(AuditQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            foreach (var e in _sorted)
            {
                yield return e;
            }

            await Task.CompletedTask;
        }

        public Task<RetentionReport> ApplyRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken) => Task.FromResult(new RetentionReport([], []));

        public Task<bool> IsReadyAsync(CancellationToken cancellationToken) => Task.FromResult(true);
    }
}
