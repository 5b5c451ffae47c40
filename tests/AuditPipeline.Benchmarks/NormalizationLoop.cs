using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Integrity;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Testing;

namespace AuditPipeline.Benchmarks;

/// <summary>
/// <c>normalize-loop [--rounds 15] [--calls 100000] [--varied]</c>: per kind, the best of N interleaved rounds of 100,000 calls each
/// of a bare <see cref="Utf8JsonReader"/> pass, <see cref="AuditNormalizer.Normalize"/>, and normalize
/// plus what the store does with the event on its write path (integrity hash, stored document), then
/// the bytes allocated per normalize. Interleaving puts the bare pass and the normalizer under the same
/// load, so the ratio holds on a busy machine where BenchmarkDotNet's short runs scatter; build it from
/// two worktrees to compare two commits (docs/PERFORMANCE.md, "Normalization"). On a machine whose
/// neighbours come and go, many short rounds (<c>--rounds 150 --calls 10000</c>) find its quiet moments.
/// With <c>--varied</c> each call takes the next of 4,096 different messages (<see cref="VariedMessages"/>),
/// the bare pass too, instead of the one example.
/// </summary>
internal static class NormalizationLoop
{
    public static Task<int> RunAsync(string[] args)
    {
        var rounds = BenchmarkArgs.Option(args, "--rounds", 15);
        var calls = BenchmarkArgs.Option(args, "--calls", 100_000);
        var varied = args.Contains("--varied");
        var normalizer = new AuditNormalizer();
        var received = SamplePayloads.ExampleTime;
        Console.WriteLine(FormattableString.Invariant($"normalize-loop: best of {rounds} rounds of {calls:N0} calls{(varied ? ", 4,096 varied messages per kind" : "")}"));
        foreach (var kind in SourceKinds.All)
        {
            var corpus = varied ? VariedMessages.For(kind, 4096) : [Encoding.UTF8.GetBytes(SamplePayloads.For(kind))];
            var (nextBare, nextNormalize, nextStored) = (0, 0, 0);
            Action bare = () =>
            {
                var reader = new Utf8JsonReader(corpus[nextBare++ & (corpus.Length - 1)]);
                while (reader.Read())
                {
                }
            };
            Action normalize = () => normalizer.Normalize(kind, corpus[nextNormalize++ & (corpus.Length - 1)], received);
            Action stored = () =>
            {
                var e = normalizer.Normalize(kind, corpus[nextStored++ & (corpus.Length - 1)], received).Event!;
                EventHash.ComputeHex(e);
                AuditJson.SerializeToUtf8Bytes(e);
            };

            // The two write-path steps alone, on one normalized event (its values are raw bytes, as the
            // pipeline hands them to the store).
            var normalized = normalizer.Normalize(kind, corpus[0], received).Event!;
            Action hash = () => EventHash.ComputeHex(normalized);
            Action document = () => AuditJson.SerializeToUtf8Bytes(normalized);

            double b = double.MaxValue, n = double.MaxValue, s = double.MaxValue, h = double.MaxValue, d = double.MaxValue;
            for (var r = -Math.Max(3, 300_000 / calls); r < rounds; r++)
            {
                // The first rounds (at least three, and 300,000 calls) warm the JIT's tiers and are not counted.
                var (tb, tn, ts, th, td) = (Time(bare, calls), Time(normalize, calls), Time(stored, calls), Time(hash, calls), Time(document, calls));
                if (r >= 0)
                {
                    (b, n, s, h, d) = (Math.Min(b, tb), Math.Min(n, tn), Math.Min(s, ts), Math.Min(h, th), Math.Min(d, td));
                }
            }

            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 10_000; i++)
            {
                normalize();
            }

            var allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / 10_000;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{kind.Name(),-9} bare {b,5:F0} ns  normalize {n,5:F0} ns ({n / b:F2}x, {allocated} B)  normalize+hash+document {s,6:F0} ns  (hash {h,5:F0}, document {d,5:F0})"));
        }

        return Task.FromResult(0);
    }

    private static double Time(Action action, int calls)
    {
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++)
        {
            action();
        }

        return sw.Elapsed.TotalNanoseconds / calls;
    }
}
