using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
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

namespace AuditPipeline.Benchmarks;

/// <summary>
/// The cost of sealing (docs/PERFORMANCE.md, "Integrity"): the embedded store's append in batches of
/// 1,000 with and without the sealing observer, alternated round by round so both see the same
/// machine, staged as the pipeline stages it (batch stage beside write stage); then one seal and a
/// verification of everything, in events/s.
/// <code>dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- integrity [events] [rounds]</code>
/// </summary>
public static class IntegrityMeasurement
{
    public static async Task<int> RunAsync(string[] args)
    {
        var n = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 50_000;
        var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2;
        var random = new Random(1);
        var t0 = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        var events = Enumerable.Range(0, n)
            .Select(i => ContractData.Build(random, i % 10 == 9 ? "org_other" : "org_bench", AuditJson.TruncateToMilliseconds(t0.AddSeconds(i * 7)), i))
            .ToArray();

        var hashing = Stopwatch.StartNew();
        foreach (var e in events)
        {
            EventHash.ComputeReference(e);
        }

        var reference = hashing.Elapsed;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        hashing.Restart();
        foreach (var e in events)
        {
            EventHash.ComputeHex(e);
        }

        var fast = hashing.Elapsed;
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Console.WriteLine($"event hash alone, one thread: reference path {n / reference.TotalSeconds:F0} events/s ({reference.TotalMilliseconds * 1000 / n:F1} µs), " +
            $"canonical writer {n / fast.TotalSeconds:F0} events/s ({fast.TotalMilliseconds * 1000 / n:F1} µs, {allocated / n} bytes allocated/event with the hex string)");
        StateRecordAlone(events);
        for (var r = 0; r < rounds; r++)
        {
            foreach (var sealing in new[] { false, true })
            {
                await RoundAsync(events, r, sealing);
            }
        }

        return 0;
    }

    /// <summary>IntegrityState.Record on its own, batches of 1,000 with precomputed hashes: the state's share.</summary>
    private static void StateRecordAlone(AuditEvent[] events)
    {
        var dir = Path.Combine(Path.GetTempPath(), "integrity-state-" + Guid.NewGuid().ToString("N"));
        try
        {
            var records = events.Select(e => (e.OrgId, new DigestEntry(e.Id, e.Time, EventHash.ComputeHex(e)))).ToArray();
            using var state = new IntegrityState(dir);
            using var self = Process.GetCurrentProcess();
            var cpu0 = self.TotalProcessorTime;
            var written0 = EmbeddedAppendMeasurement.BytesWritten();
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < records.Length; i += 1000)
            {
                state.Record(records[i..Math.Min(records.Length, i + 1000)]);
            }

            var wall = sw.Elapsed;
            self.Refresh();
            var cpu = self.TotalProcessorTime - cpu0;
            var written = EmbeddedAppendMeasurement.BytesWritten() - written0;
            Console.WriteLine($"state record alone (batches of 1,000, one fsync each): {records.Length / wall.TotalSeconds:F0} events/s ({wall.TotalMilliseconds * 1000 / records.Length:F1} µs/event wall, {cpu.TotalMilliseconds * 1000 / records.Length:F1} µs CPU), " +
                $"state.db + wal {Directory.GetFiles(dir).Sum(f => new FileInfo(f).Length) / records.Length} bytes/event, {written / records.Length} bytes written/event");
            SealAlone(state, records.Length);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// IntegrityState.Seal on its own over what was just recorded (digests of 10,000, the default), and
    /// the parts of one digest's seal timed apart: the Merkle root, the signing input, the signature, the
    /// encoding. Per entry, so the seal's share of an event's cost reads beside the record's.
    /// </summary>
    private static void SealAlone(IntegrityState state, int recorded)
    {
        using var signer = new DigestSigner(System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256));
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var cpu0 = self.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        var sealedEntries = 0;
        Digest? last = null;
        foreach (var org in state.OrgsWithPending())
        {
            while (state.Seal(org, 10_000, DateTimeOffset.UtcNow, signer) is { } d)
            {
                sealedEntries += d.Count;
                last = d.Count == 10_000 ? d : last ?? d;
            }
        }

        var wall = sw.Elapsed;
        self.Refresh();
        var cpu = self.TotalProcessorTime - cpu0;
        Console.WriteLine($"seal alone (digests of 10,000): {sealedEntries} of {recorded} entries, {wall.TotalMilliseconds * 1000 / sealedEntries:F2} µs/entry wall, {cpu.TotalMilliseconds * 1000 / sealedEntries:F2} µs CPU");
        if (last is null)
        {
            return;
        }

        var unsigned = last with { Signature = null };
        const int repeat = 5;
        var parts = new (string Name, Action Run)[]
        {
            ("merkle root", () => Digest.MerkleRootOf(last.Entries)),
            ("signing input", () => DigestCodec.SigningInput(unsigned)),
            ("signature (input + ECDSA)", () => signer.Sign(unsigned)),
            ("encoding", () => DigestCodec.Encode(last)),
        };
        foreach (var (name, run) in parts)
        {
            run();
            sw.Restart();
            for (var i = 0; i < repeat; i++)
            {
                run();
            }

            Console.WriteLine($"  {name}: {sw.Elapsed.TotalMilliseconds * 1000 / (repeat * last.Count):F2} µs/entry");
        }
    }

    private static async Task RoundAsync(AuditEvent[] events, int round, bool sealing)
    {
        var n = events.Length;
        var dir = Path.Combine(Path.GetTempPath(), "integrity-measure-" + Guid.NewGuid().ToString("N"));
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Store:Embedded:Path"] = dir,
            ["Integrity:Enabled"] = sealing ? "true" : "false",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddIntegrity(config);
        services.AddEmbeddedStore(config);
        try
        {
            using var sp = services.BuildServiceProvider();
            var store = sp.GetRequiredService<IAuditStore>();
            var observers = sp.GetServices<IAppendObserver>().ToArray();
            using var self = Process.GetCurrentProcess();
            self.Refresh();
            var cpu0 = self.TotalProcessorTime;
            var sw = Stopwatch.StartNew();

            // As IngestPipeline runs: a batch stage (here only the observers' Prepare, which hashes)
            // fills a channel of two batches while the write stage appends,
            var batches = Channel.CreateBounded<AuditEvent[]>(2);
            var batchStage = Task.Run(async () =>
            {
                for (var i = 0; i < n; i += 1000)
                {
                    var batch = events[i..Math.Min(n, i + 1000)];
                    foreach (var e in batch)
                    {
                        foreach (var o in observers)
                        {
                            o.Prepare(e);
                        }
                    }

                    await batches.Writer.WriteAsync(batch);
                }

                batches.Writer.Complete();
            });
            // ...and the finish stage tells the observers of one batch while the next is appended.
            var answered = Channel.CreateBounded<(AuditEvent[], IReadOnlyList<AppendResult>)>(2);
            var finishStage = Task.Run(async () =>
            {
                await foreach (var (batch, results) in answered.Reader.ReadAllAsync())
                {
                    foreach (var o in observers)
                    {
                        await o.OnAppendedAsync(batch, results, CancellationToken.None);
                    }
                }
            });
            await foreach (var batch in batches.Reader.ReadAllAsync())
            {
                var results = await store.AppendAsync(batch, CancellationToken.None);
                await answered.Writer.WriteAsync((batch, results));
            }

            answered.Writer.Complete();
            await batchStage;
            await finishStage;

            var wall = sw.Elapsed;
            self.Refresh();
            var cpu = self.TotalProcessorTime - cpu0;
            Console.WriteLine($"round {round} sealing={sealing}: append {n / wall.TotalSeconds:F0} events/s, CPU {cpu.TotalMilliseconds * 1000 / n:F1} µs/event");
            if (!sealing)
            {
                return;
            }

            var sealer = sp.GetRequiredService<DigestSealer>();
            sealer.Reconcile();
            sw.Restart();
            var digests = await sealer.SealAsync(CancellationToken.None);
            Console.WriteLine($"  seal: {digests} digests in {sw.Elapsed.TotalMilliseconds:F0} ms");
            using var key = new DigestSignatureCheck(sp.GetRequiredService<DigestSigner>().PublicKeyPem);
            var verifier = new IntegrityVerifier(store, sp.GetRequiredService<RetentionPlanRegistry>(), TimeSpan.FromMinutes(1), TimeProvider.System);
            sw.Restart();
            var (checkedEvents, read, problems) = await verifier.RunAsync(new DigestDirectory(Path.Combine(dir, "digests")), key, null, null, null, _ => { }, CancellationToken.None);
            Console.WriteLine($"  verify: {checkedEvents} events, {read} digests, {problems} problems in {sw.Elapsed.TotalSeconds:F1} s = {checkedEvents / sw.Elapsed.TotalSeconds:F0} events/s");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }
}
