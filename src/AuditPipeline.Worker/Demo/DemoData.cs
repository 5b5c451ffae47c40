using System.Text.Json.Nodes;
using Bogus;

namespace AuditPipeline.Worker.Demo;

/// <summary>
/// Realistic Outsprint activity of the last 90 days for a few organisations, as raw messages of the
/// four kinds (exactly the shapes producers send), so a newcomer sees a filled audit log at once.
/// Deterministic for a given seed and "now", apart from the times it is anchored to.
/// </summary>
internal sealed class DemoData
{
    private static readonly string[] CrmObjects = ["contact", "company", "deal", "ticket", "task", "note"];
    private static readonly string[] Stages = ["Lead", "Qualified", "Demo Scheduled", "Proposal Sent", "Negotiation", "Closed Won", "Closed Lost"];
    private static readonly string[] AiTools = ["update_deal", "create_task", "create_note", "update_contact", "search_contacts", "delete_task", "summarize_ticket"];
    private static readonly string[] Integrations = ["Gmail", "Slack", "Zapier", "Stripe", "Mailchimp"];

    private readonly Faker _f;
    private readonly DateTimeOffset _now;
    private readonly List<Org> _orgs = [];
    private readonly Dictionary<string, string> _entityNames = new(StringComparer.Ordinal);

    public DemoData(DateTimeOffset now, int seed = 42)
    {
        _now = now;
        Randomizer.Seed = new Random(seed);
        _f = new Faker("en");
        foreach (var (id, name, domain, users) in new[] { ("org_acme", "Acme Corp", "acme.test", 14), ("org_globex", "Globex", "globex.test", 9), ("org_initech", "Initech", "initech.test", 6) })
        {
            var org = new Org(id, name, domain);
            for (var u = 1; u <= users; u++)
            {
                var first = _f.Name.FirstName();
                var last = _f.Name.LastName();
                org.Users.Add(new User($"usr_{id[4..]}_{u}", $"{first} {last}", $"{first}.{last}@{domain}".ToLowerInvariant(), _f.Internet.Ip(), _f.Internet.UserAgent()));
            }

            _orgs.Add(org);
        }
    }

    public IReadOnlyList<string> OrgIds => [.. _orgs.Select(o => o.Id)];

    /// <summary>Lines per kind (crm, auth, ai, platform), time-ordered; a few malformed lines show the dead-letter path.</summary>
    public Dictionary<string, List<string>> Generate(int eventsPerOrg)
    {
        var lines = new Dictionary<string, List<(DateTimeOffset, string)>>
        {
            ["crm"] = [], ["auth"] = [], ["ai"] = [], ["platform"] = [],
        };
        var seq = 0;
        foreach (var org in _orgs)
        {
            var scale = org.Users.Count / 14.0;
            var count = (int)(eventsPerOrg * Math.Max(0.4, scale));
            for (var i = 0; i < count; i++)
            {
                var t = RandomTime();
                var roll = _f.Random.Double();
                seq++;
                var (kind, json) = roll switch
                {
                    < 0.55 => ("crm", Crm(org, t, seq)),
                    < 0.75 => ("auth", Auth(org, t, seq)),
                    < 0.88 => ("ai", Ai(org, t, seq)),
                    _ => ("platform", Platform(org, t, seq)),
                };
                lines[kind].Add((t, json.ToJsonString()));
            }
        }

        lines["crm"].Add((_now, """{"id":"evt_demo_broken","type":"Deal Updated","created_at":"yesterday","org_id":"org_acme"}"""));
        lines["auth"].Add((_now, """{"event_id":"au_demo_broken","tenant":"org_acme","event":"login.succeeded"}"""));
        lines["platform"].Add((_now, "this line is not JSON"));
        return lines.ToDictionary(kv => kv.Key, kv => kv.Value.OrderBy(x => x.Item1).Select(x => x.Item2).ToList());
    }

    private DateTimeOffset RandomTime()
    {
        var day = _now.UtcDateTime.Date.AddDays(-_f.Random.Int(0, 89));
        var hour = _f.Random.Double() < 0.85 ? _f.Random.Int(7, 18) : _f.Random.Int(0, 23);
        var t = new DateTimeOffset(day, TimeSpan.Zero).AddHours(hour).AddSeconds(_f.Random.Int(0, 3599)).AddMilliseconds(_f.Random.Int(0, 999));
        return t > _now ? _now.AddMinutes(-_f.Random.Int(1, 600)) : t;
    }

    private JsonObject Crm(Org org, DateTimeOffset t, int seq)
    {
        var obj = _f.PickRandom(CrmObjects);
        var verb = obj switch
        {
            "deal" => _f.PickRandom("created", "updated", "updated", "stage_changed", "stage_changed", "deleted"),
            "ticket" => _f.PickRandom("created", "updated", "resolved"),
            "task" => _f.PickRandom("created", "completed", "updated"),
            "contact" => _f.PickRandom("created", "updated", "updated", "merged", "deleted"),
            _ => _f.PickRandom("created", "updated", "deleted"),
        };
        var (entityId, name) = Entity(org, obj);
        var actorRoll = _f.Random.Double();
        JsonObject? actor;
        string channel;
        if (actorRoll < 0.78)
        {
            actor = UserActor(_f.PickRandom(org.Users));
            channel = _f.Random.Double() < 0.9 ? "admin" : "chat";
        }
        else if (actorRoll < 0.88)
        {
            actor = new JsonObject { ["type"] = "api_key", ["id"] = $"key_{org.Id[4..]}_zapier", ["name"] = "Zapier sync" };
            channel = "api";
        }
        else if (actorRoll < 0.97)
        {
            actor = new JsonObject { ["type"] = "workflow", ["id"] = $"wf_{org.Id[4..]}_1", ["name"] = "Lead routing" };
            channel = "workflow";
        }
        else
        {
            actor = null;
            channel = "system";
        }

        var (before, after) = Payloads(obj, verb, name);
        var user = actor?["type"]?.GetValue<string>() == "user" ? org.Users.First(u => u.Id == actor!["id"]!.GetValue<string>()) : null;
        var msg = new JsonObject
        {
            ["id"] = $"evt_{seq:D7}",
            ["type"] = $"{obj}.{verb}",
            ["created_at"] = Iso(t),
            ["org_id"] = org.Id,
            ["actor"] = actor,
            ["origin"] = new JsonObject
            {
                ["channel"] = channel,
                ["ip"] = user?.Ip ?? _f.Internet.Ip(),
                ["user_agent"] = user?.UserAgent ?? "Outsprint-Workflow/2.3",
                ["request_id"] = $"req_{_f.Random.AlphaNumeric(10)}",
            },
            ["data"] = new JsonObject { ["id"] = entityId, ["name"] = name },
        };
        if (before is not null)
        {
            msg["before"] = before;
        }

        if (after is not null)
        {
            msg["after"] = after;
        }

        return msg;
    }

    private (JsonObject? Before, JsonObject? After) Payloads(string obj, string verb, string name)
    {
        JsonObject Record() => obj switch
        {
            "deal" => new JsonObject { ["name"] = name, ["stage"] = _f.PickRandom(Stages), ["amount"] = _f.Random.Int(5, 500) * 100, ["currency"] = "USD" },
            "contact" => new JsonObject { ["name"] = name, ["email"] = _f.Internet.Email(), ["phone"] = _f.Phone.PhoneNumber(), ["lifecycle"] = _f.PickRandom("lead", "customer", "evangelist") },
            "company" => new JsonObject { ["name"] = name, ["domain"] = _f.Internet.DomainName(), ["employees"] = _f.Random.Int(5, 5000) },
            "ticket" => new JsonObject { ["subject"] = name, ["status"] = _f.PickRandom("open", "pending"), ["priority"] = _f.PickRandom("low", "normal", "high") },
            "task" => new JsonObject { ["title"] = name, ["due"] = _f.Date.Soon(14).ToString("yyyy-MM-dd"), ["done"] = false },
            _ => new JsonObject { ["body"] = _f.Lorem.Sentence() },
        };

        switch (verb)
        {
            case "created":
                return (null, Record());
            case "deleted":
                return (Record(), null);
            default:
                var before = Record();
                var after = (JsonObject)before.DeepClone();
                switch (verb)
                {
                    case "stage_changed":
                        after["stage"] = _f.PickRandom(Stages.Where(s => s != before["stage"]!.GetValue<string>()).ToArray());
                        break;
                    case "resolved":
                        after["status"] = "resolved";
                        break;
                    case "completed":
                        after["done"] = true;
                        break;
                    default:
                        var key = _f.PickRandom(before.Select(p => p.Key).Where(k => k is not "name" and not "subject" and not "title").DefaultIfEmpty("name").ToArray());
                        after[key] = key switch
                        {
                            "amount" => _f.Random.Int(5, 500) * 100,
                            "employees" => _f.Random.Int(5, 5000),
                            "priority" => "urgent",
                            "done" => true,
                            _ => _f.Lorem.Word(),
                        };
                        break;
                }

                return (before, after);
        }
    }

    private JsonObject Auth(Org org, DateTimeOffset t, int seq)
    {
        var user = _f.PickRandom(org.Users);
        var roll = _f.Random.Double();
        var ev = roll switch
        {
            < 0.55 => "login.succeeded",
            < 0.72 => "login.failed",
            < 0.82 => "logout",
            < 0.86 => "password.changed",
            < 0.89 => "mfa.enrolled",
            < 0.92 => "session.terminated",
            < 0.95 => "api_key.created",
            < 0.97 => "api_key.revoked",
            < 0.98 => "password_policy.updated",
            < 0.99 => "sso.updated",
            _ => "password.reset",
        };
        var unknownAccount = ev == "login.failed" && _f.Random.Double() < 0.4;
        var msg = new JsonObject
        {
            ["event_id"] = $"au_{seq:D7}",
            ["ts"] = t.ToUnixTimeMilliseconds(),
            ["tenant"] = org.Id,
            ["event"] = ev,
            ["user"] = unknownAccount ? null : new JsonObject { ["id"] = user.Id, ["email"] = user.Email, ["name"] = user.Name },
            ["ip"] = unknownAccount ? _f.PickRandom("45.155.205.233", "185.220.101.4", "193.42.33.7") : user.Ip,
            ["ua"] = unknownAccount ? "python-requests/2.31" : user.UserAgent,
            ["session_id"] = ev is "login.succeeded" or "logout" or "session.terminated" ? $"ses_{_f.Random.AlphaNumeric(8)}" : null,
        };
        if (ev == "login.failed")
        {
            msg["reason"] = unknownAccount ? "unknown_account" : _f.PickRandom("bad_password", "bad_password", "mfa_failed", "locked");
            if (unknownAccount)
            {
                msg["attempted_email"] = _f.PickRandom("admin", "root", "it", "ceo") + "@" + org.Domain;
            }
        }

        if (ev.StartsWith("api_key.", StringComparison.Ordinal))
        {
            msg["target"] = new JsonObject { ["type"] = "api_key", ["id"] = $"key_{_f.Random.AlphaNumeric(6)}", ["name"] = _f.PickRandom("Zapier sync", "Data warehouse", "Website forms") };
            msg["channel"] = "admin";
        }

        return msg;
    }

    private JsonObject Ai(Org org, DateTimeOffset t, int seq)
    {
        var user = _f.PickRandom(org.Users);
        var tool = _f.PickRandom(AiTools);
        var (operation, obj) = tool switch
        {
            "update_deal" => ("update", "deal"),
            "create_task" => ("create", "task"),
            "create_note" => ("create", "note"),
            "update_contact" => ("update", "contact"),
            "delete_task" => ("delete", "task"),
            "summarize_ticket" => ("read", "ticket"),
            _ => ("read", "contact"),
        };
        var (id, label) = Entity(org, obj);
        var failed = _f.Random.Double() < 0.06;
        var changes = new JsonArray();
        if (operation == "update")
        {
            changes.Add(obj == "deal"
                ? new JsonObject { ["field"] = "amount", ["from"] = _f.Random.Int(5, 200) * 100, ["to"] = _f.Random.Int(5, 200) * 100 }
                : new JsonObject { ["field"] = "phone", ["from"] = _f.Phone.PhoneNumber(), ["to"] = _f.Phone.PhoneNumber() });
        }
        else if (operation == "create")
        {
            changes.Add(new JsonObject { ["field"] = "title", ["from"] = null, ["to"] = _f.Lorem.Sentence(4) });
        }

        return new JsonObject
        {
            ["action_id"] = $"ai_{seq:D7}",
            ["timestamp"] = t.ToOffset(TimeSpan.FromHours(_f.PickRandom(-5, 0, 1, 2))).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz"),
            ["workspace_id"] = org.Id,
            ["conversation_id"] = $"conv_{_f.Random.Int(1, 400)}",
            ["message_id"] = $"msg_{seq}",
            ["on_behalf_of"] = new JsonObject { ["user_id"] = user.Id, ["name"] = user.Name, ["email"] = user.Email },
            ["tool"] = tool,
            ["target"] = new JsonObject { ["type"] = obj, ["id"] = id, ["label"] = label },
            ["operation"] = operation,
            ["changes"] = changes,
            ["status"] = failed ? "failed" : "succeeded",
            ["error"] = failed ? _f.PickRandom("permission denied for this record", "record is locked by another user", "validation failed: amount must be positive") : null,
        };
    }

    private JsonObject Platform(Org org, DateTimeOffset t, int seq)
    {
        var user = _f.PickRandom(org.Users);
        var roll = _f.Random.Double();
        var (category, action, targetType, targetName, details, before, after) = roll switch
        {
            < 0.2 => ("settings", "pipeline.updated", "pipeline", "Sales pipeline", null, new JsonObject { ["stages"] = new JsonArray("Lead", "Demo", "Won") }, new JsonObject { ["stages"] = new JsonArray("Lead", "Demo", "Proposal", "Won") }),
            < 0.32 => ("settings", "property.created", "property", _f.PickRandom("Renewal date", "Region", "Tier"), null, null, new JsonObject { ["type"] = "enumeration", ["required"] = false }),
            < 0.4 => ("settings", _f.PickRandom("integration.connected", "integration.disconnected"), "integration", _f.PickRandom(Integrations), null, null, null),
            < 0.58 => ("data", "import.started", "import", $"contacts-{_f.Random.Int(1, 99)}.csv", new JsonObject { ["rows"] = _f.Random.Int(50, 5000) }, null, null),
            < 0.76 => ("data", "import.completed", "import", $"contacts-{_f.Random.Int(1, 99)}.csv", new JsonObject { ["rows"] = _f.Random.Int(50, 5000), ["failed"] = _f.Random.Int(0, 20) }, null, null),
            < 0.88 => ("data", "export.requested", "export", "All contacts", new JsonObject { ["format"] = "csv", ["object"] = "contact" }, null, null),
            < 0.95 => ("data", _f.PickRandom("bulk.updated", "bulk.deleted"), "bulk_operation", $"{_f.Random.Int(10, 900)} deals", new JsonObject { ["count"] = _f.Random.Int(10, 900) }, null, null),
            _ => ("data", "gdpr.erasure_executed", "contact", "erased contact", new JsonObject { ["request"] = $"gdpr_{_f.Random.AlphaNumeric(6)}" }, (JsonObject?)null, (JsonObject?)null),
        };
        return new JsonObject
        {
            ["event_id"] = $"pl_{seq:D7}",
            ["occurred_at"] = Iso(t),
            ["org_id"] = org.Id,
            ["category"] = category,
            ["action"] = action,
            ["actor"] = UserActor(user),
            ["origin"] = new JsonObject { ["channel"] = "admin", ["ip"] = user.Ip, ["user_agent"] = user.UserAgent },
            ["target"] = new JsonObject { ["type"] = targetType, ["id"] = $"{targetType[..3]}_{_f.Random.AlphaNumeric(6)}", ["name"] = targetName },
            ["before"] = before,
            ["after"] = after,
            ["details"] = details,
        };
    }

    private (string Id, string Name) Entity(Org org, string obj)
    {
        var id = $"{obj}_{org.Id[4..]}_{_f.Random.Int(1, 250)}";
        if (_entityNames.TryGetValue(id, out var known))
        {
            return (id, known);
        }

        var name = obj switch
        {
            "deal" => $"{_f.Company.CompanyName()} {_f.PickRandom("Enterprise", "Renewal", "Expansion", "Pilot")}",
            "contact" => _f.Name.FullName(),
            "company" => _f.Company.CompanyName(),
            "ticket" => _f.PickRandom("Cannot log in", "Invoice is wrong", "Export is slow", "Feature request: dark mode"),
            "task" => _f.PickRandom("Call back", "Send proposal", "Follow up", "Book demo"),
            _ => "Meeting notes",
        };
        _entityNames[id] = name;
        return (id, name);
    }

    private static JsonObject UserActor(User u) => new() { ["type"] = "user", ["id"] = u.Id, ["name"] = u.Name, ["email"] = u.Email };

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");

    private sealed record Org(string Id, string Name, string Domain)
    {
        public List<User> Users { get; } = [];
    }

    private sealed record User(string Id, string Name, string Email, string Ip, string UserAgent);
}
