using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Integrity;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Integrity.Tests;

/// <summary>
/// Verification streams: it never holds more than a handful of the store's events at once, whatever
/// their number. A store double makes each event on demand and watches, through weak references, how
/// many of those it served are still reachable after a full collection.
/// </summary>
public sealed class VerifierMemoryTests : IDisposable
{
    private const string Org = "org_stream";
    private const int Events = 20_000;
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "integrity-verify-memory", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Verify_holds_a_bounded_number_of_events_while_it_streams_twenty_thousand()
    {
        var digests = new DigestDirectory(Path.Combine(_dir, "digests"));
        using var signer = new DigestSigner(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        SealAll(digests, signer);
        var store = new LazyStore(Events);
        var verifier = new IntegrityVerifier(store, new RetentionPlanRegistry(Options.Create(new RetentionOptions())), TimeSpan.FromMinutes(1), TimeProvider.System);
        using var key = new DigestSignatureCheck(signer.PublicKeyPem);
        var problems = new List<IntegrityProblem>();

        var (events, read, count) = await verifier.RunAsync(digests, key, null, null, null, problems.Add, TestContext.Current.CancellationToken);

        Assert.Empty(problems);
        Assert.Equal((Events, 2L, 0L), (events, read, count));
        Assert.True(store.Checks >= Events / LazyStore.CheckEvery - 1, $"only {store.Checks} checks ran");

        // The verifier holds the event it is checking; the double the one it yielded. Far below a chunk.
        Assert.True(store.MostAlive <= 16, $"up to {store.MostAlive} served events were reachable at once");
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static AuditEvent EventAt(int n) => Some.Event(id: $"evt_{n:D7}", orgId: Org, time: T0.AddSeconds(n)) with
    {
        ReceivedAt = T0.AddSeconds(n),
    };

    private void SealAll(DigestDirectory digests, DigestSigner signer)
    {
        using var state = new IntegrityState(Path.Combine(_dir, "state"));
        for (var i = 0; i < Events; i += 1000)
        {
            state.Record([.. Enumerable.Range(i, 1000).Select(n => (Org, new DigestEntry($"evt_{n:D7}", T0.AddSeconds(n), EventHash.ComputeHex(EventAt(n)))))]);
        }

        while (state.Seal(Org, 10_000, T0.AddDays(1), signer) is { } d)
        {
            Assert.True(digests.Write(d, DigestCodec.Encode(d)));
        }
    }

    /// <summary>Serves events made on demand, in the store's order, and counts those still reachable.</summary>
    private sealed class LazyStore(int count) : IAuditStore
    {
        public const int CheckEvery = 500;

        private readonly List<WeakReference<AuditEvent>> _served = new(count);

        public int MostAlive { get; private set; }

        public int Checks { get; private set; }

        public async IAsyncEnumerable<AuditEvent> StreamAsync(AuditQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            for (var n = 0; n < count; n++)
            {
                if (n > 0 && n % CheckEvery == 0)
                {
                    Check();
                    await Task.Yield();
                }

                var e = EventAt(n);
                _served.Add(new WeakReference<AuditEvent>(e));
                yield return e;
            }
        }

        public Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken) =>
            throw new NotSupportedException("verify changes nothing");

        public Task<AuditEvent?> GetAsync(string orgId, string eventId, CancellationToken cancellationToken) =>
            throw new NotSupportedException("verify streams");

        public Task<AuditPage> QueryAsync(AuditQuery query, int limit, CancellationToken cancellationToken) =>
            throw new NotSupportedException("verify streams");

        public Task<RetentionReport> ApplyRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
            throw new NotSupportedException("verify changes nothing");

        public Task<bool> IsReadyAsync(CancellationToken cancellationToken) => Task.FromResult(true);

        private void Check()
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
            var alive = _served.Count(w => w.TryGetTarget(out _));
            MostAlive = Math.Max(MostAlive, alive);
            Checks++;
        }
    }
}
