using System.Diagnostics;
using System.Globalization;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Integrity;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded;
using AuditPipeline.Integrity;
using AuditPipeline.Testing.StoreContract;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

using static AuditPipeline.Benchmarks.BenchmarkArgs;

namespace AuditPipeline.Benchmarks;

/// <summary>
/// Whether verify's memory grows with the number of events (docs/PERFORMANCE.md, "Integrity"): for each
/// size, an embedded store is filled through the sealing observer (events made batch by batch, never all
/// in memory), sealed, then verified in-process while a sampler forces a full collection every 250 ms
/// and keeps the largest live heap it saw.
/// <code>dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- verify-memory [events...]</code>
/// </summary>
public static class VerifyMemoryMeasurement
{
    public static async Task<int> RunAsync(string[] args)
    {
        int[] sizes = args.Length > 0 ? [.. args.Select(a => int.Parse(a, CultureInfo.InvariantCulture))] : [50_000, 200_000, 1_000_000];
        Console.WriteLine($"server GC: {System.Runtime.GCSettings.IsServerGC}; load average {LoadAverage()}");
        Console.WriteLine("| events | digests | problems | verify | rate | live heap before | peak live heap during verify | peak GC heap size (with garbage) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var n in sizes)
        {
            await MeasureAsync(n);
        }

        Console.WriteLine($"load average {LoadAverage()}");
        return 0;
    }

    private static async Task MeasureAsync(int n)
    {
        var dir = Path.Combine(Path.GetTempPath(), "verify-memory-" + Guid.NewGuid().ToString("N"));
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Store:Embedded:Path"] = dir,
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddIntegrity(config);
        services.AddEmbeddedStore(config);
        try
        {
            using var sp = services.BuildServiceProvider();
            var store = sp.GetRequiredService<IAuditStore>();
            await FillAsync(store, sp.GetServices<IAppendObserver>().ToArray(), n);
            var sealer = sp.GetRequiredService<DigestSealer>();
            sealer.Reconcile();
            while (await sealer.SealAsync(CancellationToken.None) > 0)
            {
            }

            using var key = new DigestSignatureCheck(sp.GetRequiredService<DigestSigner>().PublicKeyPem);
            var verifier = new IntegrityVerifier(store, sp.GetRequiredService<RetentionPlanRegistry>(), TimeSpan.FromMinutes(1), TimeProvider.System);
            var before = GC.GetTotalMemory(forceFullCollection: true);
            using var sampler = new HeapSampler();
            var sw = Stopwatch.StartNew();
            var (events, digests, problems) = await verifier.RunAsync(new DigestDirectory(Path.Combine(dir, "digests")), key, null, null, null, _ => { }, CancellationToken.None);
            var elapsed = sw.Elapsed;
            var (peakLive, peakHeap) = sampler.Stop();
            Console.WriteLine($"| {events:N0} | {digests} | {problems} | {elapsed.TotalSeconds:F1} s | {events / elapsed.TotalSeconds:N0}/s | {Mib(before)} | {Mib(peakLive)} | {Mib(peakHeap)} |");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task FillAsync(IAuditStore store, IAppendObserver[] observers, int n)
    {
        var random = new Random(1);
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var batch = new List<AuditEvent>(1000);
        for (var i = 0; i < n; i += batch.Count)
        {
            batch.Clear();
            for (var j = i; j < Math.Min(n, i + 1000); j++)
            {
                // Ten months of events, two organisations: several partitions and chains.
                batch.Add(ContractData.Build(random, j % 10 == 9 ? "org_other" : "org_bench", AuditJson.TruncateToMilliseconds(t0.AddSeconds(j * 25L)), j));
            }

            var results = await store.AppendAsync(batch, CancellationToken.None);
            foreach (var o in observers)
            {
                await o.OnAppendedAsync(batch, results, CancellationToken.None);
            }
        }
    }

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024):F1} MiB";

    /// <summary>Forces a full collection every 250 ms and keeps the largest live heap (and heap size) seen.</summary>
    private sealed class HeapSampler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private long _peakLive;
        private long _peakHeap;

        public HeapSampler() => _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Sample();
                try
                {
                    await Task.Delay(250, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        public (long PeakLive, long PeakHeap) Stop()
        {
            _stop.Cancel();
            _loop.Wait();
            return (_peakLive, _peakHeap);
        }

        public void Dispose() => _stop.Dispose();

        private void Sample()
        {
            // The heap size before the forced collection includes garbage not yet collected.
            _peakHeap = Math.Max(_peakHeap, GC.GetGCMemoryInfo(GCKind.Any).HeapSizeBytes);
            _peakLive = Math.Max(_peakLive, GC.GetTotalMemory(forceFullCollection: true));
        }
    }
}
