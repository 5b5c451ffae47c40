using System.Text;
using System.Text.Json;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Integrity;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Testing;
using BenchmarkDotNet.Attributes;

namespace AuditPipeline.Benchmarks;

/// <summary>
/// Normalizing a typical message of each kind, next to a bare Utf8JsonReader pass over the same bytes
/// (the floor any JSON consumer pays), with the bytes allocated per event. Aim (issue 11):
/// normalization ≤ 3× the bare parse. The normalizer reads each message in one Utf8JsonReader pass
/// and keeps what it keeps as JSON as the bytes it came in (no document); <see cref="ParseDocument"/> is
/// what parsing the whole message into a JsonDocument, as it did before, would cost on its own;
/// <see cref="NormalizeHashAndDocument"/> adds what the store's write path does with the event.
/// Results and the load they were taken under: docs/PERFORMANCE.md, "Normalization".
/// <c>dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- --filter '*NormalizationBenchmarks*'</c>
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class NormalizationBenchmarks
{
    private static readonly Dictionary<string, byte[]> Messages = new()
    {
        ["crm"] = Encoding.UTF8.GetBytes(SamplePayloads.Crm()),
        ["auth"] = Encoding.UTF8.GetBytes(SamplePayloads.Auth()),
        ["ai"] = Encoding.UTF8.GetBytes(SamplePayloads.Ai()),
        ["platform"] = Encoding.UTF8.GetBytes(SamplePayloads.Platform()),
    };

    private readonly AuditNormalizer _normalizer = new();
    private readonly DateTimeOffset _received = DateTimeOffset.UtcNow;
    private byte[] _bytes = [];
    private SourceKind _kind;

    [Params("crm", "auth", "ai", "platform")]
    public string Kind { get; set; } = "crm";

    [GlobalSetup]
    public void Setup()
    {
        _bytes = Messages[Kind];
        if (!SourceKinds.TryParse(Kind, out _kind))
        {
            throw new InvalidOperationException($"Unknown kind {Kind}");
        }
    }

    [Benchmark(Baseline = true)]
    public int BareParse()
    {
        var reader = new Utf8JsonReader(_bytes);
        var tokens = 0;
        while (reader.Read())
        {
            tokens++;
        }

        return tokens;
    }

    /// <summary>The whole message parsed into a JsonDocument, alone: what the normalizer paid before it read messages in one reader pass.</summary>
    [Benchmark]
    public int ParseDocument()
    {
        using var doc = JsonDocument.Parse(_bytes.AsMemory());
        return doc.RootElement.GetPropertyCount();
    }

    [Benchmark]
    public bool Normalize() => _normalizer.Normalize(_kind, _bytes, _received).IsSuccess;

    /// <summary>Normalize, then what the store's write path does with the event: its integrity hash and its stored document.</summary>
    [Benchmark]
    public int NormalizeHashAndDocument()
    {
        var e = _normalizer.Normalize(_kind, _bytes, _received).Event!;
        return EventHash.ComputeHex(e).Length + AuditJson.SerializeToUtf8Bytes(e).Length;
    }
}
