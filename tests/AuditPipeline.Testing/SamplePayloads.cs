using System.Globalization;
using AuditPipeline.Core.Normalization;

namespace AuditPipeline.Testing;

/// <summary>
/// The raw messages of the four source kinds exactly as the contract's examples show them (docs/MESSAGES.md),
/// one line of JSON each, with the id, organisation and time as parameters. Every test and benchmark that
/// needs a valid raw message starts from these, so a change of the example formats is made in one place.
/// </summary>
public static class SamplePayloads
{
    /// <summary>The examples' time: 2026-11-29 10:32:00 UTC.</summary>
    public static DateTimeOffset ExampleTime { get; } = new(2026, 11, 29, 10, 32, 0, TimeSpan.Zero);

    /// <summary>A crm deal stage change (<c>created_at</c> as given, ISO 8601).</summary>
    public static string Crm(string id = "evt_a1b2c3d4e5", string orgId = "org_42", string createdAt = "2026-11-29T10:32:00Z") =>
        $$$"""{"id":"{{{id}}}","type":"deal.stage_changed","created_at":"{{{createdAt}}}","org_id":"{{{orgId}}}","actor":{"type":"user","id":"usr_7","name":"Ana Silva","email":"ana@acme.test"},"origin":{"channel":"admin","ip":"203.0.113.5","user_agent":"Mozilla/5.0 ...","request_id":"req_9"},"data":{"id":"deal_123","name":"Acme Corp Enterprise"},"before":{"stage":"Demo Scheduled","amount":1000},"after":{"stage":"Proposal Sent","amount":1000}}""";

    /// <summary>A failed login (<c>ts</c> in Unix milliseconds).</summary>
    public static string Auth(string id = "au_88", string orgId = "org_42", long ts = 1764412320000) =>
        $$$"""{"event_id":"{{{id}}}","ts":{{{ts.ToString(CultureInfo.InvariantCulture)}}},"tenant":"{{{orgId}}}","event":"login.failed","user":{"id":"usr_7","email":"ana@acme.test","name":"Ana Silva"},"ip":"198.51.100.23","ua":"Mozilla/5.0 ...","reason":"bad_password","session_id":null}""";

    /// <summary>An AI assistant's deal update on a user's behalf (<c>timestamp</c> as given, with its offset).</summary>
    public static string Ai(string id = "ai_501", string orgId = "org_42", string timestamp = "2026-11-29T11:00:05.120+01:00") =>
        $$$"""{"action_id":"{{{id}}}","timestamp":"{{{timestamp}}}","workspace_id":"{{{orgId}}}","conversation_id":"conv_3","message_id":"msg_17","on_behalf_of":{"user_id":"usr_7","name":"Ana Silva","email":"ana@acme.test"},"tool":"update_deal","target":{"type":"deal","id":"deal_123","label":"Acme Corp Enterprise"},"operation":"update","changes":[{"field":"amount","from":1000,"to":2500}],"status":"succeeded","error":null}""";

    /// <summary>A completed contacts import (<c>occurred_at</c> as given).</summary>
    public static string Platform(string id = "pl_9", string orgId = "org_42", string occurredAt = "2026-11-29T12:00:00Z") =>
        $$$"""{"event_id":"{{{id}}}","occurred_at":"{{{occurredAt}}}","org_id":"{{{orgId}}}","category":"data","action":"import.completed","actor":{"type":"user","id":"usr_7","name":"Ana Silva","email":"ana@acme.test"},"origin":{"channel":"admin","ip":"203.0.113.5","user_agent":"Mozilla/5.0 ..."},"target":{"type":"import","id":"imp_4","name":"contacts-nov.csv"},"before":null,"after":null,"details":{"rows":1200,"failed":3}}""";

    /// <summary>The example of <paramref name="kind"/> with the contract's default id, organisation and time.</summary>
    public static string For(SourceKind kind) => kind switch
    {
        SourceKind.Crm => Crm(),
        SourceKind.Auth => Auth(),
        SourceKind.Ai => Ai(),
        _ => Platform(),
    };

    /// <summary>The example of <paramref name="kind"/> with the given id, organisation and time (UTC, milliseconds).</summary>
    public static string For(SourceKind kind, string id, string orgId, DateTimeOffset time)
    {
        var iso = time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        return kind switch
        {
            SourceKind.Crm => Crm(id, orgId, iso),
            SourceKind.Auth => Auth(id, orgId, time.ToUnixTimeMilliseconds()),
            SourceKind.Ai => Ai(id, orgId, iso),
            _ => Platform(id, orgId, iso),
        };
    }

    /// <summary>The field that holds the id in <paramref name="kind"/>'s format.</summary>
    public static string IdField(SourceKind kind) => kind switch
    {
        SourceKind.Crm => "id",
        SourceKind.Ai => "action_id",
        _ => "event_id",
    };
}
