using AuditPipeline.Api.Tests.Support;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;

namespace AuditPipeline.Api.Tests;

/// <summary>Every filter alone and in combination returns exactly what <see cref="AuditQuery.Matches"/> says, in order.</summary>
public sealed class FilterTests(SeededHost seeded) : IClassFixture<SeededHost>
{
    private static readonly DateTimeOffset Now = ApiHost.DefaultNow;

    private static readonly Dictionary<string, (string Query, AuditQuery Expected)> Cases = new()
    {
        ["none"] = ("", Q()),
        ["action"] = ("action=deleted", Q() with { Actions = ["deleted"] }),
        ["two actions"] = ("action=deleted&action=created", Q() with { Actions = ["deleted", "created"] }),
        ["unknown action is open"] = ("action=teleported", Q() with { Actions = ["teleported"] }),
        ["user"] = ("user=usr_7", Q() with { Users = ["usr_7"] }),
        ["two users"] = ("user=usr_7&user=usr_10", Q() with { Users = ["usr_7", "usr_10"] }),
        ["entity type"] = ("entityType=deal", Q() with { EntityTypes = ["deal"] }),
        ["entity id"] = ("entityId=deal_3&entityId=contact_4", Q() with { EntityIds = ["deal_3", "contact_4"] }),
        ["category"] = ("category=crm&category=ai", Q() with { Categories = ["crm", "ai"] }),
        ["source any case"] = ("source=chat&source=aPi", Q() with { Sources = ["Chat", "API"] }),
        ["outcome"] = ("outcome=failure", Q() with { Outcomes = ["failure"] }),
        ["ai true"] = ("ai=true", Q() with { Ai = [true] }),
        ["ai false"] = ("ai=false", Q() with { Ai = [false] }),
        ["ai both"] = ("ai=true&ai=false", Q() with { Ai = [true, false] }),
        ["range 7d"] = ("range=7d", Q() with { From = Now.AddDays(-7) }),
        ["range 30d"] = ("range=30d", Q() with { From = Now.AddDays(-30) }),
        ["range 90d"] = ("range=90d", Q() with { From = Now.AddDays(-90) }),
        ["from with offset"] = ("from=2026-11-01T01:00:00%2B01:00", Q() with { From = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero) }),
        ["to"] = ("to=2026-10-01T00:00:00Z", Q() with { To = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero) }),
        ["from and to"] = ("from=2026-10-01T00:00:00Z&to=2026-10-15T12:30:00.000Z", Q() with
        {
            From = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero),
            To = new DateTimeOffset(2026, 10, 15, 12, 30, 0, TimeSpan.Zero),
        }),
        ["q name"] = ("q=ana", Q() with { Terms = ["ana"] }),
        ["q two terms"] = ("q=bob%20acme", Q() with { Terms = ["bob", "acme"] }),
        ["q email part"] = ("q=zoe@acme", Q() with { Terms = ["zoe@acme"] }),
        ["q entity id"] = ("q=deal_1", Q() with { Terms = ["deal_1"] }),
        ["q rtl"] = ("q=" + Uri.EscapeDataString("محمد"), Q() with { Terms = ["محمد"] }),
        ["q emoji name"] = ("q=rocket", Q() with { Terms = ["rocket"] }),
        ["crm admin successes in 30 days"] = ("category=crm&outcome=success&source=Admin&range=30d", Q() with
        {
            Categories = ["crm"], Outcomes = ["success"], Sources = ["Admin"], From = Now.AddDays(-30),
        }),
        ["ai updates about rockets"] = ("action=updated&ai=true&q=rocket", Q() with { Actions = ["updated"], Ai = [true], Terms = ["rocket"] }),
        ["a user's deals since October"] = ("user=usr_9&entityType=deal&from=2026-10-01T00:00:00Z", Q() with
        {
            Users = ["usr_9"], EntityTypes = ["deal"], From = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero),
        }),
        ["failures of unknown users by id and name"] = ("outcome=failure&category=auth&q=mallory", Q() with
        {
            Outcomes = ["failure"], Categories = ["auth"], Terms = ["mallory"],
        }),
        ["nothing matches"] = ("category=crm&ai=true", Q() with { Categories = ["crm"], Ai = [true] }),
        ["unknown parameters are ignored"] = ("action=deleted&colour=blue&page=3", Q() with { Actions = ["deleted"] }),
    };

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task A_filter_returns_exactly_the_matching_events_newest_first(string name)
    {
        var (query, expected) = Cases[name];
        var client = seeded.Host.Client(TestKeys.Full);

        var actual = await Http.AllPagesAsync(client, $"/v1/orgs/{TestKeys.Org}/events?{query}", limit: 200);

        var want = Http.Expected(seeded.Events, expected);
        Assert.Equal(want.Select(e => e.Id), actual.Select(e => e.Id));
    }

    [Fact]
    public void The_cases_are_not_trivial()
    {
        // Guards the data set: most single filters must select something and leave something out.
        foreach (var (name, (_, q)) in Cases)
        {
            var n = seeded.Events.Count(q.Matches);
            if (name is not "nothing matches" and not "unknown action is open")
            {
                Assert.True(n > 0, $"{name} matches nothing");
            }

            if (name is not "none" and not "ai both")
            {
                Assert.True(n < seeded.Events.Count(e => e.OrgId == TestKeys.Org), $"{name} matches everything");
            }
        }
    }

    [Fact]
    public async Task The_service_key_reads_any_organisation_and_each_sees_only_its_own()
    {
        var client = seeded.Host.Client(TestKeys.Service);

        var org7 = await Http.AllPagesAsync(client, $"/v1/orgs/{TestKeys.OtherOrg}/events", limit: 500);

        Assert.NotEmpty(org7);
        Assert.All(org7, e => Assert.Equal(TestKeys.OtherOrg, e.OrgId));
        Assert.Equal(seeded.Events.Count(e => e.OrgId == TestKeys.OtherOrg), org7.Count);
    }

    [Fact]
    public async Task An_event_is_returned_in_full_in_the_one_AuditEvent_shape()
    {
        var e = seeded.Events.First(x => x.OrgId == TestKeys.Org);
        using var response = await seeded.Host.Client(TestKeys.Reader).GetAsync($"/v1/orgs/{TestKeys.Org}/events/{e.Id}");

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(AuditJson.Serialize(e), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_page_holds_items_in_the_AuditEvent_shape_and_a_null_cursor_at_the_end()
    {
        var (items, next, raw) = await Http.PageAsync(seeded.Host.Client(), $"/v1/orgs/{TestKeys.Org}/events?entityId=deal_3&category=crm&limit=500");

        Assert.Null(next);
        Assert.NotEmpty(items);
        var first = raw.GetProperty("items")[0];
        Assert.Equal(AuditJson.Serialize(items[0]), first.GetRawText());
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", first.GetProperty("time").GetString());
        Assert.True(first.TryGetProperty("ai", out _), "nulls are written");
    }

    [Fact]
    public async Task The_default_limit_is_50()
    {
        var (items, next, _) = await Http.PageAsync(seeded.Host.Client(), $"/v1/orgs/{TestKeys.Org}/events");

        Assert.Equal(50, items.Count);
        Assert.NotNull(next);
    }

    [Fact]
    public async Task A_range_is_resolved_against_the_clock()
    {
        var client = seeded.Host.Client();
        var all = await Http.AllPagesAsync(client, $"/v1/orgs/{TestKeys.Org}/events?range=7d", limit: 500);

        Assert.Equal(Http.Expected(seeded.Events, Q() with { From = seeded.Host.Time.Now.AddDays(-7) }).Select(e => e.Id), all.Select(e => e.Id));
        Assert.All(all, e => Assert.True(e.Time >= seeded.Host.Time.Now.AddDays(-7)));
    }

    [Fact]
    public async Task Random_combinations_of_filters_agree_with_the_reference_semantics()
    {
        var rng = new Random(4242);
        var client = seeded.Host.Client(TestKeys.Service);
        string[][] domains =
        [
            ["created", "deleted", "stage_changed", "login", "login_failed", "updated", "import_completed"],
            ["usr_7", "usr_8", "usr_9", "usr_10"],
            ["deal", "contact", "user", "pipeline", "import", "api_key"],
            ["deal_1", "deal_2", "contact_3", "user_4", "import_5"],
            ["crm", "auth", "security", "ai", "settings", "data"],
            ["Chat", "Admin", "API", "Workflow", "System"],
            ["success", "failure"],
            ["true", "false"],
        ];
        string[] names = ["action", "user", "entityType", "entityId", "category", "source", "outcome", "ai"];
        string[] terms = ["ana", "acme", "globex", "rocket", "deal_1", "zoë", "mallory", "محمد", "evt_42_0001"];
        var nonEmpty = 0;
        for (var round = 0; round < 150; round++)
        {
            var org = Dataset.Orgs[rng.Next(Dataset.Orgs.Length)];
            var q = new AuditQuery { OrgId = org };
            var parts = new List<string>();
            for (var f = 0; f < names.Length; f++)
            {
                if (rng.Next(3) != 0)
                {
                    continue;
                }

                var values = domains[f].OrderBy(_ => rng.Next()).Take(rng.Next(1, 3)).ToList();
                parts.AddRange(values.Select(v => $"{names[f]}={Uri.EscapeDataString(f == 5 && rng.Next(2) == 0 ? v.ToLowerInvariant() : v)}"));
                q = f switch
                {
                    0 => q with { Actions = values },
                    1 => q with { Users = values },
                    2 => q with { EntityTypes = values },
                    3 => q with { EntityIds = values },
                    4 => q with { Categories = values },
                    5 => q with { Sources = values },
                    6 => q with { Outcomes = values },
                    _ => q with { Ai = [.. values.Select(bool.Parse)] },
                };
            }

            switch (rng.Next(4))
            {
                case 0:
                    var days = new[] { 7, 30, 90 }[rng.Next(3)];
                    parts.Add($"range={days}d");
                    q = q with { From = Now.AddDays(-days) };
                    break;
                case 1:
                    var from = Now.AddHours(-rng.Next(24 * 100));
                    var to = from.AddHours(rng.Next(1, 24 * 60));
                    parts.Add("from=" + Uri.EscapeDataString(from.ToOffset(TimeSpan.FromHours(rng.Next(-12, 13))).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", System.Globalization.CultureInfo.InvariantCulture)));
                    parts.Add("to=" + Uri.EscapeDataString(to.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)));
                    q = q with { From = from, To = to };
                    break;
            }

            if (rng.Next(4) == 0)
            {
                var term = terms[rng.Next(terms.Length)];
                parts.Add("q=" + Uri.EscapeDataString(term));
                q = q with { Terms = [term] };
            }

            var url = $"/v1/orgs/{org}/events?{string.Join('&', parts.OrderBy(_ => rng.Next()))}";
            var actual = await Http.AllPagesAsync(client, url, limit: 500);

            var want = Http.Expected(seeded.Events, q);
            Assert.True(want.Select(e => e.Id).SequenceEqual(actual.Select(e => e.Id)), $"{url}: expected {want.Count}, got {actual.Count}");
            nonEmpty += want.Count > 0 ? 1 : 0;
        }

        Assert.True(nonEmpty >= 30, $"only {nonEmpty} of 150 combinations matched anything");
    }

    private static AuditQuery Q() => new() { OrgId = TestKeys.Org };
}
