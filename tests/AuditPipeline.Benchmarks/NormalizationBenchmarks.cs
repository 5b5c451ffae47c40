using System.Text;
using System.Text.Json;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Testing;
using BenchmarkDotNet.Attributes;

namespace AuditPipeline.Benchmarks;

/// <summary>
/// Normalizing a typical message of each kind, next to a bare Utf8JsonReader pass over the same bytes
/// (the floor any JSON consumer pays). Aim: normalization ≤ 4× the bare parse.
/// <c>dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- --filter '*Normalization*'</c>
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

    /// <summary>The document the normalizer reads from, alone: the part of its cost that is parsing.</summary>
    [Benchmark]
    public int ParseDocument()
    {
        using var doc = JsonDocument.Parse(_bytes.AsMemory());
        return doc.RootElement.GetPropertyCount();
    }

    [Benchmark]
    public bool Normalize() => _normalizer.Normalize(_kind, _bytes, _received).IsSuccess;
}
