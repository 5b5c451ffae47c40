using AuditPipeline.Core.Events;
using AuditPipeline.Testing;

namespace AuditPipeline.Api.Tests.Support;

/// <summary>Varied events from a seed: every category, source, outcome, AI or not, colliding times, two organisations.</summary>
public static class Dataset
{
    public static readonly string[] Orgs = [TestKeys.Org, TestKeys.OtherOrg];

    private static readonly (string Category, string Action, string EventType, string EntityType)[] Kinds =
    [
        ("crm", "created", "deal.created", "deal"),
        ("crm", "deleted", "contact.deleted", "contact"),
        ("crm", "stage_changed", "deal.stage_changed", "deal"),
        ("auth", "login", "login.succeeded", "user"),
        ("auth", "login_failed", "login.failed", "user"),
        ("security", "api_key_created", "api_key.created", "api_key"),
        ("ai", "updated", "ai.update_deal", "deal"),
        ("settings", "created", "pipeline.created", "pipeline"),
        ("data", "import_completed", "import.completed", "import"),
    ];

    private static readonly (string? Id, string? Name, string? Email)[] Users =
    [
        ("usr_7", "Ana Silva", "ana@acme.test"),
        ("usr_8", "Bob O'Brien", "bob@acme.test"),
        ("usr_9", "Zoë \"Z\" Müller", "zoe@acme.test"),
        ("usr_10", "محمد علي", "mohammed@acme.test"),
        (null, null, "mallory@evil.test"),
    ];

    private static readonly string?[] EntityNames = ["Acme Corp Enterprise", "Globex, Inc.", "=HYPERLINK(\"x\")", "Line1\nLine2", "🚀 Rocket deal", null];

    public static List<AuditEvent> Generate(int count, int seed = 42, DateTimeOffset? now = null, string? idPrefix = null)
    {
        var rng = new Random(seed);
        var end = now ?? ApiHost.DefaultNow;
        var events = new List<AuditEvent>(count);
        for (var i = 0; i < count; i++)
        {
            var kind = Kinds[rng.Next(Kinds.Length)];
            var user = Users[rng.Next(Users.Length)];
            var ai = kind.Category == "ai";

            // Whole minutes over 120 days, so many events share a time and the id breaks the tie.
            var time = end.AddMinutes(-rng.Next(120 * 24 * 60));
            var org = Orgs[rng.Next(4) == 0 ? 1 : 0];
            var source = ai ? Sources.Chat : Sources.All[rng.Next(Sources.All.Count)];
            var e = Some.Event($"{idPrefix ?? "evt_"}{seed}_{i:D6}", org, time) with
            {
                Category = kind.Category,
                Action = kind.Action,
                EventType = kind.EventType,
                Outcome = kind.Action == "login_failed" || rng.Next(10) == 0 ? Outcomes.Failure : Outcomes.Success,
                Actor = new AuditActor(ActorTypes.User, user.Id, user.Name, user.Email),
                Entity = new AuditEntity(kind.EntityType, $"{kind.EntityType}_{rng.Next(20)}", EntityNames[rng.Next(EntityNames.Length)]),
                Source = source,
                Ai = ai ? new AuditAi(true, $"conv_{rng.Next(5)}", $"msg_{rng.Next(50)}", "update_deal") : null,
                ReceivedAt = time.AddSeconds(1),
            };
            events.Add(e);
        }

        return events;
    }
}
