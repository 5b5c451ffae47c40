using System.Text;
using System.Text.Json;
using AuditPipeline.Core.Normalization;
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
        ["crm"] = Encoding.UTF8.GetBytes("""
            {"id":"evt_a1b2c3d4e5","type":"deal.stage_changed","created_at":"2026-11-29T10:32:00Z","org_id":"org_42","actor":{"type":"user","id":"usr_7","name":"Ana Silva","email":"ana@acme.test"},"origin":{"channel":"admin","ip":"203.0.113.5","user_agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15","request_id":"req_9"},"data":{"id":"deal_123","name":"Acme Corp Enterprise"},"before":{"stage":"Demo Scheduled","amount":1000,"currency":"USD","owner":"usr_7"},"after":{"stage":"Proposal Sent","amount":1000,"currency":"USD","owner":"usr_7"}}
            """),
        ["auth"] = Encoding.UTF8.GetBytes("""
            {"event_id":"au_88","ts":1764412320000,"tenant":"org_42","event":"login.failed","user":{"id":"usr_7","email":"ana@acme.test","name":"Ana Silva"},"ip":"198.51.100.23","ua":"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15","reason":"bad_password","session_id":null}
            """),
        ["ai"] = Encoding.UTF8.GetBytes("""
            {"action_id":"ai_501","timestamp":"2026-11-29T11:00:05.120+01:00","workspace_id":"org_42","conversation_id":"conv_3","message_id":"msg_17","on_behalf_of":{"user_id":"usr_7","name":"Ana Silva","email":"ana@acme.test"},"tool":"update_deal","target":{"type":"deal","id":"deal_123","label":"Acme Corp Enterprise"},"operation":"update","changes":[{"field":"amount","from":1000,"to":2500}],"status":"succeeded","error":null}
            """),
        ["platform"] = Encoding.UTF8.GetBytes("""
            {"event_id":"pl_9","occurred_at":"2026-11-29T12:00:00Z","org_id":"org_42","category":"data","action":"import.completed","actor":{"type":"user","id":"usr_7","name":"Ana Silva","email":"ana@acme.test"},"origin":{"channel":"admin","ip":"203.0.113.5","user_agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1)"},"target":{"type":"import","id":"imp_4","name":"contacts-nov.csv"},"before":null,"after":null,"details":{"rows":1200,"failed":3}}
            """),
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
