using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Testing;

/// <summary>Realistic test data, each value overridable with a <c>with</c> expression.</summary>
public static class Some
{
    private static long _counter;

    public static DateTimeOffset BaseTime { get; } = new(2026, 11, 29, 10, 32, 0, TimeSpan.Zero);

    public static string Id(string prefix = "evt_") => prefix + Interlocked.Increment(ref _counter).ToString("D8", System.Globalization.CultureInfo.InvariantCulture);

    public static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    /// <summary>A crm deal stage change by Ana Silva in org_42, like the contract's example.</summary>
    public static AuditEvent Event(string? id = null, string orgId = "org_42", DateTimeOffset? time = null) => new()
    {
        Id = id ?? Id(),
        Time = time ?? BaseTime,
        OrgId = orgId,
        Category = Categories.Crm,
        Action = "stage_changed",
        EventType = "deal.stage_changed",
        Outcome = Outcomes.Success,
        Actor = new AuditActor(ActorTypes.User, "usr_7", "Ana Silva", "ana@acme.test"),
        Entity = new AuditEntity("deal", "deal_123", "Acme Corp Enterprise"),
        Source = Sources.Admin,
        Ip = "203.0.113.5",
        UserAgent = "Mozilla/5.0 (X11; Linux x86_64)",
        Changes = [new AuditChange("stage", Json("\"Demo Scheduled\""), Json("\"Proposal Sent\""))],
        Before = Json("""{"stage":"Demo Scheduled","amount":1000}"""),
        After = Json("""{"stage":"Proposal Sent","amount":1000}"""),
        Ai = null,
        Details = Json("""{"requestId":"req_9"}"""),
        ReceivedAt = (time ?? BaseTime).AddMilliseconds(412),
    };

    /// <summary>An AI-initiated deal update on behalf of usr_7.</summary>
    public static AuditEvent AiEvent(string? id = null, string orgId = "org_42", DateTimeOffset? time = null) => Event(id ?? Id("ai_"), orgId, time) with
    {
        Category = Categories.Ai,
        Action = "updated",
        EventType = "ai.update_deal",
        Source = Sources.Chat,
        Ip = null,
        UserAgent = null,
        Changes = [new AuditChange("amount", Json("1000"), Json("2500"))],
        Before = null,
        After = null,
        Ai = new AuditAi(true, "conv_3", "msg_17", "update_deal"),
        Details = AuditJson.EmptyObject,
    };

    /// <summary>A failed login for an unknown account.</summary>
    public static AuditEvent FailedLogin(string? id = null, string orgId = "org_42", DateTimeOffset? time = null) => Event(id ?? Id("au_"), orgId, time) with
    {
        Category = Categories.Auth,
        Action = "login_failed",
        EventType = "login.failed",
        Outcome = Outcomes.Failure,
        Actor = new AuditActor(ActorTypes.User, null, null, "mallory@evil.test"),
        Entity = new AuditEntity("user", null, null),
        Ip = "198.51.100.23",
        Changes = [],
        Before = null,
        After = null,
        Details = Json("""{"reason":"bad_password","attemptedEmail":"mallory@evil.test"}"""),
    };
}
