using System.Globalization;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;

namespace AuditPipeline.Testing.StoreContract;

/// <summary>
/// A realistic, seeded data set for the store contract: several organisations, people (some with
/// accented names), system, API-key and workflow actors, every category and source, failures, AI
/// actions, times spread over months with many shared times (so order depends on the id tie-break),
/// and ids whose ordinal order differs from their case-insensitive order.
/// </summary>
public static class ContractData
{
    public static IReadOnlyList<string> Orgs { get; } = ["org_42", "org_7", "org_acme"];

    private static readonly AuditActor[] People =
    [
        new(ActorTypes.User, "usr_7", "Ana Silva", "ana@acme.test"),
        new(ActorTypes.User, "usr_9", "Bob O'Neil", "bob.oneil@acme.test"),
        new(ActorTypes.User, "usr_11", "Zoë Brontë", "zoe@globex.test"),
        new(ActorTypes.User, "usr_12", "José Müller", "jose.mueller@initech.test"),
        new(ActorTypes.User, "usr_13", "Chen Wei", "chen.wei@acme.test"),
        new(ActorTypes.ApiKey, "key_ci", "key_ci", null),
        new(ActorTypes.Workflow, "wf_renewals", "Renewal reminders", null),
        AuditActor.System,
    ];

    private static readonly (string Type, string Id, string Name)[] Entities =
    [
        ("deal", "deal_123", "Acme Corp Enterprise"),
        ("deal", "deal_124", "Globex Renewal 2026"),
        ("contact", "contact_9", "Maria Lopez"),
        ("contact", "contact_10", "Sam Acme-Smith"),
        ("company", "company_3", "Initech"),
        ("ticket", "ticket_77", "Cannot export invoices"),
        ("task", "task_5", "Call back about pricing"),
        ("note", "note_8", "Discussed Q4 budget"),
    ];

    private static readonly string[] CrmVerbs = ["created", "updated", "deleted", "stage_changed", "resolved", "merged"];

    public static DateTimeOffset Start { get; } = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static DateTimeOffset End { get; } = new(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);

    /// <summary><paramref name="count"/> events, deterministic for a seed.</summary>
    public static List<AuditEvent> Generate(int count, int seed = 42, IReadOnlyList<string>? orgs = null, DateTimeOffset? start = null, DateTimeOffset? end = null)
    {
        orgs ??= Orgs;
        var from = start ?? Start;
        var span = (long)((end ?? End) - from).TotalMilliseconds;
        var random = new Random(seed);
        var times = new List<DateTimeOffset>();
        var events = new List<AuditEvent>(count);
        for (var i = 0; i < count; i++)
        {
            // One in five shares its time with an earlier event: order then rests on the id alone.
            var time = times.Count > 0 && random.Next(5) == 0
                ? times[random.Next(times.Count)]
                : from.AddMilliseconds(random.NextInt64(span));
            times.Add(time);
            events.Add(Build(random, orgs[random.Next(orgs.Count)], time, i));
        }

        return events;
    }

    /// <summary>Every match of <paramref name="query"/> in the reference order: time desc, then id desc by ordinal.</summary>
    public static List<AuditEvent> Expected(IEnumerable<AuditEvent> all, AuditQuery query) =>
        [.. all.Where(query.Matches).OrderByDescending(e => e.Time).ThenByDescending(e => e.Id, IdOrder.Instance)];

    public static AuditEvent Build(Random random, string orgId, DateTimeOffset time, int n)
    {
        var kind = random.Next(10);
        var seq = n.ToString("D6", CultureInfo.InvariantCulture);

        // Mixed-case suffixes: ordinal order ("B" < "a") differs from case-insensitive order.
        var suffix = "" + "aBcDeF"[random.Next(6)] + "xY"[random.Next(2)];
        var person = People[random.Next(5)];
        var entity = Entities[random.Next(Entities.Length)];
        var e = Some.Event(id: "evt_" + suffix + seq, orgId: orgId, time: time);
        switch (kind)
        {
            case <= 3:
                {
                    var actor = People[random.Next(People.Length)];
                    var verb = CrmVerbs[random.Next(CrmVerbs.Length)];
                    return e with
                    {
                        Action = verb,
                        EventType = entity.Type + "." + verb,
                        Actor = actor,
                        Entity = new AuditEntity(entity.Type, entity.Id, entity.Name),
                        Source = random.Next(3) == 0 ? Sources.Api : Sources.FromActorType(actor.Type),
                    };
                }

            case 4:
            case 5:
                {
                    var failed = random.Next(3) == 0;
                    return e with
                    {
                        Id = "au_" + suffix + seq,
                        Category = Categories.Auth,
                        Action = failed ? "login_failed" : "login",
                        EventType = failed ? "login.failed" : "login.succeeded",
                        Outcome = failed ? Outcomes.Failure : Outcomes.Success,
                        Actor = failed && random.Next(2) == 0 ? new AuditActor(ActorTypes.User, null, null, "mallory@evil.test") : person,
                        Entity = failed ? new AuditEntity("user", null, null) : new AuditEntity("user", person.Id, person.Name),
                        Source = Sources.Admin,
                        Changes = [],
                        Before = null,
                        After = null,
                        Details = failed ? Some.Json("""{"reason":"bad_password"}""") : AuditJson.EmptyObject,
                    };
                }

            case 6:
                return e with
                {
                    Id = "au_" + suffix + seq,
                    Category = Categories.Security,
                    Action = "api_key_created",
                    EventType = "api_key.created",
                    Actor = person,
                    Entity = new AuditEntity("api_key", "key_" + random.Next(4), "CI key"),
                    Source = Sources.Admin,
                    Changes = [],
                    Before = null,
                    After = null,
                };

            case 7:
            case 8:
                {
                    var failed = random.Next(5) == 0;
                    var op = new[] { "created", "updated", "deleted", "read" }[random.Next(4)];
                    return e with
                    {
                        Id = "ai_" + suffix + seq,
                        Category = Categories.Ai,
                        Action = op,
                        EventType = "ai.update_" + entity.Type,
                        Outcome = failed ? Outcomes.Failure : Outcomes.Success,
                        Actor = person,
                        Entity = new AuditEntity(entity.Type, entity.Id, entity.Name),
                        Source = Sources.Chat,
                        Ip = null,
                        UserAgent = null,
                        Before = null,
                        After = null,
                        Ai = new AuditAi(true, "conv_" + random.Next(50), "msg_" + random.Next(500), "update_" + entity.Type),
                        Details = failed ? Some.Json("""{"error":"not permitted"}""") : AuditJson.EmptyObject,
                    };
                }

            default:
                {
                    var settings = random.Next(2) == 0;
                    return e with
                    {
                        Id = "pl_" + suffix + seq,
                        Category = settings ? Categories.Settings : Categories.Data,
                        Action = settings ? "updated" : "import_completed",
                        EventType = settings ? "pipeline.updated" : "import.completed",
                        Actor = random.Next(4) == 0 ? AuditActor.System : person,
                        Entity = settings ? new AuditEntity("pipeline", "pipe_1", "Sales pipeline") : new AuditEntity("import", "imp_" + random.Next(9), "contacts-nov.csv"),
                        Source = random.Next(4) == 0 ? Sources.Workflow : Sources.Admin,
                        Changes = [],
                        Before = null,
                        After = null,
                        Details = settings ? AuditJson.EmptyObject : Some.Json("""{"rows":1200,"failed":3}"""),
                    };
                }
        }
    }

    /// <summary>Queries covering every filter alone and in combination, over values the data set holds.</summary>
    public static IEnumerable<(string Name, AuditQuery Query)> Queries(string org)
    {
        var mid = Start.AddDays(200);
        var late = Start.AddDays(420);
        yield return ("org only", new AuditQuery { OrgId = org });
        yield return ("action", new AuditQuery { OrgId = org, Actions = ["deleted"] });
        yield return ("two actions", new AuditQuery { OrgId = org, Actions = ["login", "login_failed"] });
        yield return ("unknown action", new AuditQuery { OrgId = org, Actions = ["no_such_action"] });
        yield return ("user", new AuditQuery { OrgId = org, Users = ["usr_7"] });
        yield return ("two users", new AuditQuery { OrgId = org, Users = ["usr_7", "usr_12"] });
        yield return ("entity type", new AuditQuery { OrgId = org, EntityTypes = ["deal"] });
        yield return ("two entity types", new AuditQuery { OrgId = org, EntityTypes = ["contact", "ticket"] });
        yield return ("entity id", new AuditQuery { OrgId = org, EntityIds = ["deal_123"] });
        yield return ("category", new AuditQuery { OrgId = org, Categories = ["security"] });
        yield return ("two categories", new AuditQuery { OrgId = org, Categories = ["crm", "ai"] });
        yield return ("source", new AuditQuery { OrgId = org, Sources = ["Chat"] });
        yield return ("two sources", new AuditQuery { OrgId = org, Sources = ["API", "System"] });
        yield return ("outcome", new AuditQuery { OrgId = org, Outcomes = ["failure"] });
        yield return ("ai true", new AuditQuery { OrgId = org, Ai = [true] });
        yield return ("ai false", new AuditQuery { OrgId = org, Ai = [false] });
        yield return ("ai both", new AuditQuery { OrgId = org, Ai = [true, false] });
        yield return ("from", new AuditQuery { OrgId = org, From = late });
        yield return ("to", new AuditQuery { OrgId = org, To = mid });
        yield return ("from and to", new AuditQuery { OrgId = org, From = mid, To = late });
        yield return ("sub-millisecond bounds", new AuditQuery { OrgId = org, From = mid.AddTicks(5), To = late.AddTicks(5) });
        yield return ("empty range", new AuditQuery { OrgId = org, From = late, To = mid });
        yield return ("text name", new AuditQuery { OrgId = org, Terms = ["ana"] });
        yield return ("text email", new AuditQuery { OrgId = org, Terms = ["ana@acme"] });
        yield return ("text domain", new AuditQuery { OrgId = org, Terms = ["acme"] });
        yield return ("text not from a word start", new AuditQuery { OrgId = org, Terms = ["cme"] });
        yield return ("text entity id", new AuditQuery { OrgId = org, Terms = ["deal_123"] });
        yield return ("text accented, other case", new AuditQuery { OrgId = org, Terms = ["ZOË"] });
        yield return ("text two terms", new AuditQuery { OrgId = org, Terms = ["acme", "enterprise"] });
        yield return ("text event id prefix", new AuditQuery { OrgId = org, Terms = ["evt_b"] });
        yield return ("text common prefix", new AuditQuery { OrgId = org, Terms = ["e"] });
        yield return ("text punctuation", new AuditQuery { OrgId = org, Terms = ["-smith"] });
        yield return ("text inner word", new AuditQuery { OrgId = org, Terms = ["smith"] });
        yield return ("user and action", new AuditQuery { OrgId = org, Users = ["usr_7", "usr_9"], Actions = ["updated", "deleted"] });
        yield return ("category, outcome and range", new AuditQuery { OrgId = org, Categories = ["auth", "ai"], Outcomes = ["failure"], From = mid, To = End });
        yield return ("entity type and text", new AuditQuery { OrgId = org, EntityTypes = ["deal"], Terms = ["globex"] });
        yield return ("ai and source", new AuditQuery { OrgId = org, Ai = [false], Sources = ["Admin", "Workflow"] });
        yield return ("everything", new AuditQuery
        {
            OrgId = org,
            Actions = ["updated", "login", "created"],
            Users = ["usr_7", "usr_9", "usr_11", "usr_12"],
            EntityTypes = ["deal", "user", "contact"],
            Categories = ["crm", "auth", "ai"],
            Sources = ["Admin", "Chat", "API"],
            Outcomes = ["success"],
            Ai = [true, false],
            From = Start.AddDays(30),
            To = End.AddDays(-30),
            Terms = ["a"],
        });
        yield return ("entity id, user and text", new AuditQuery { OrgId = org, EntityIds = ["deal_123", "contact_9"], Users = ["usr_7"], Terms = ["ana"] });
        yield return ("action with null actor ids", new AuditQuery { OrgId = org, Actions = ["login_failed"], Users = ["usr_7"] });
    }
}
