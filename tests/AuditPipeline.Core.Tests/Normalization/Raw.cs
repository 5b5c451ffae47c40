using System.Text;
using System.Text.Json.Nodes;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Normalization;

namespace AuditPipeline.Core.Tests.Normalization;

/// <summary>The contract's example payloads, as mutable JSON so each test changes only what it is about.</summary>
internal static class Raw
{
    public static readonly DateTimeOffset Received = new(2026, 11, 29, 10, 32, 0, 412, TimeSpan.Zero);

    public static JsonObject Crm() => Parse("""
        {"id":"evt_a1b2c3d4e5","type":"deal.stage_changed","created_at":"2026-11-29T10:32:00Z",
         "org_id":"org_42",
         "actor":{"type":"user","id":"usr_7","name":"Ana Silva","email":"ana@acme.test"},
         "origin":{"channel":"admin","ip":"203.0.113.5","user_agent":"Mozilla/5.0 ...","request_id":"req_9"},
         "data":{"id":"deal_123","name":"Acme Corp Enterprise"},
         "before":{"stage":"Demo Scheduled","amount":1000},"after":{"stage":"Proposal Sent","amount":1000}}
        """);

    public static JsonObject Auth() => Parse("""
        {"event_id":"au_88","ts":1764412320000,"tenant":"org_42","event":"login.failed",
         "user":{"id":"usr_7","email":"ana@acme.test","name":"Ana Silva"},
         "ip":"198.51.100.23","ua":"Mozilla/5.0 ...","reason":"bad_password","session_id":null}
        """);

    public static JsonObject Ai() => Parse("""
        {"action_id":"ai_501","timestamp":"2026-11-29T11:00:05.120+01:00","workspace_id":"org_42",
         "conversation_id":"conv_3","message_id":"msg_17",
         "on_behalf_of":{"user_id":"usr_7","name":"Ana Silva","email":"ana@acme.test"},
         "tool":"update_deal","target":{"type":"deal","id":"deal_123","label":"Acme Corp Enterprise"},
         "operation":"update","changes":[{"field":"amount","from":1000,"to":2500}],
         "status":"succeeded","error":null}
        """);

    public static JsonObject Platform() => Parse("""
        {"event_id":"pl_9","occurred_at":"2026-11-29T12:00:00Z","org_id":"org_42","category":"data",
         "action":"import.completed","actor":{"type":"user","id":"usr_7","name":"Ana Silva","email":"ana@acme.test"},
         "origin":{"channel":"admin","ip":"203.0.113.5","user_agent":"Mozilla/5.0 ..."},
         "target":{"type":"import","id":"imp_4","name":"contacts-nov.csv"},
         "before":null,"after":null,"details":{"rows":1200,"failed":3}}
        """);

    public static JsonObject For(SourceKind kind) => kind switch
    {
        SourceKind.Crm => Crm(),
        SourceKind.Auth => Auth(),
        SourceKind.Ai => Ai(),
        _ => Platform(),
    };

    public static JsonObject With(this JsonObject o, string name, JsonNode? value)
    {
        o[name] = value;
        return o;
    }

    public static JsonObject Without(this JsonObject o, string name)
    {
        o.Remove(name);
        return o;
    }

    public static NormalizeResult Normalize(SourceKind kind, string json) =>
        new AuditNormalizer().Normalize(kind, Encoding.UTF8.GetBytes(json), Received);

    public static AuditEvent Event(SourceKind kind, JsonObject raw)
    {
        var r = Normalize(kind, raw.ToJsonString());
        Assert.True(r.IsSuccess, $"expected an event, got: {r.Error}");
        return r.Event;
    }

    public static string Error(SourceKind kind, string json)
    {
        var r = Normalize(kind, json);
        Assert.False(r.IsSuccess, $"expected a rejection, got an event {r.Event?.Id}");
        return r.Error;
    }

    /// <summary>An event's JSON as the API writes it, for comparing whole sub-objects.</summary>
    public static JsonObject Json(AuditEvent e) => JsonNode.Parse(AuditJson.Serialize(e))!.AsObject();

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();
}
