using System.Text.Json.Nodes;
using AuditPipeline.Core.Storage;
using AuditPipeline.Elasticsearch.Tests.Support;
using AuditPipeline.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuditPipeline.Elasticsearch.Tests;

/// <summary>
/// Every request body the store and the setup send, checked against the request types of
/// Elasticsearch's own API specification (see <see cref="SpecValidator"/>; where the model comes
/// from: Spec/README.md). Skipped, with the reason, on a machine without the specification.
/// </summary>
public sealed class SpecTests
{
    private static SpecValidator Spec => SpecValidator.Require();

    private static void AssertFits(string kind, string body, string what)
    {
        var errors = Spec.Errors(kind, JsonNode.Parse(body));
        Assert.True(errors.Count == 0, $"{what} does not fit Elasticsearch's {kind} request ({Spec.Source}):\n{string.Join("\n", errors)}\n{body}");
    }

    /// <summary>A store on a cluster that answers every kind of request, so every write and read path runs.</summary>
    private static async Task<IReadOnlyList<SentRequest>> EveryStoreRequestAsync()
    {
        var bulks = 0;
        var invoker = new ScriptedInvoker(r => (r.Method, r.Path.Split('?')[0]) switch
        {
            ("POST", "/audit-events-*/_pit") => Canned.Ok("""{"id":"pit-1"}"""),
            ("DELETE", "/_pit") => Canned.Ok("""{"succeeded":true,"num_freed":1}"""),
            ("POST", "/_mget") => Answers.Owners("org_other"),
            ("POST", "/_bulk") => ++bulks switch
            {
                1 => Canned.Ok(Answers.BulkBody(
                    (409, "version_conflict_engine_exception", "exists"),
                    (403, "cluster_block_exception", "index [x] blocked by: [FORBIDDEN/8/index write (api)];"))),
                _ => Answers.Bulk([.. Enumerable.Repeat(201, r.Lines.Length / 2)]),
            },
            _ => Answers.Hits([]),
        })
        { StoredCopies = _ => Answers.Copies() };
        var store = EsTest.Store(invoker, EsTest.Options(o => o.RefreshOnWrite = true));
        var ct = TestContext.Current.CancellationToken;
        await store.AppendAsync([Some.Event("evt_taken"), Some.AiEvent() with { Id = "evt_late", Time = Some.BaseTime.AddMonths(-3) }], ct);
        var query = new AuditQuery
        {
            OrgId = "org_42",
            Actions = ["deleted"],
            Users = ["usr_7"],
            EntityTypes = ["deal"],
            EntityIds = ["deal_123"],
            Categories = ["crm"],
            Sources = ["Admin"],
            Outcomes = ["success"],
            Ai = [false],
            From = Some.BaseTime.AddDays(-30),
            To = Some.BaseTime,
            Terms = ["ana", new string('x', 300)],
            After = new AuditPosition(Some.BaseTime, "evt_9"),
        };
        await store.QueryAsync(query, 50, ct);
        await store.QueryAsync(new AuditQuery { OrgId = "org_42", Ai = [true] }, 500, ct);
        await store.GetAsync("org_42", "evt_1", ct);
        await foreach (var _ in store.StreamAsync(query, ct))
        {
        }

        return invoker.All;
    }

    [Fact]
    public async Task Every_bulk_action_line_is_a_bulk_operation()
    {
        var bulks = (await EveryStoreRequestAsync()).Where(r => r.Path.StartsWith("/_bulk", StringComparison.Ordinal)).ToList();

        Assert.Equal(2, bulks.Count);
        Assert.Contains(bulks[1].Lines, l => l.Contains("\"_id\":\"org_42/evt_taken\"", StringComparison.Ordinal));
        Assert.Contains(bulks[1].Lines, l => l.Contains("-late-", StringComparison.Ordinal));
        foreach (var line in bulks.SelectMany(b => b.Lines.Where((_, i) => i % 2 == 0)))
        {
            AssertFits("bulk_action", line, "a bulk action line");
        }
    }

    [Fact]
    public async Task Every_search_multi_get_and_point_in_time_body_is_one_Elasticsearch_takes()
    {
        var requests = await EveryStoreRequestAsync();
        var searches = requests.Where(r => r.Path.Contains("_search", StringComparison.Ordinal)).ToList();

        // Copies of a batch, late-arrival copies, two list pages, a get, a point-in-time page.
        Assert.True(searches.Count >= 6, $"only {searches.Count} searches ran");
        foreach (var s in searches)
        {
            AssertFits("search", s.Body, $"the search {s.Path}");
        }

        AssertFits("mget", requests.Single(r => r.Path.StartsWith("/_mget", StringComparison.Ordinal)).Body, "the multi-get");
        AssertFits("close_point_in_time", requests.Single(r => r.Method == "DELETE").Body, "closing a point in time");
    }

    public static TheoryData<string> Repositories => ["", "audit-archive"];

    [Theory]
    [MemberData(nameof(Repositories))]
    public void Every_setup_request_is_one_Elasticsearch_takes(string repository)
    {
        var requests = new ElasticsearchSetupDefinitions(7, 90, repository).All();
        var kinds = new Dictionary<string, string>
        {
            ["/_ilm/policy/"] = "ilm_put_lifecycle",
            ["/_component_template/"] = "put_component_template",
            ["/_index_template/"] = "put_index_template",
            ["/_security/role/"] = "security_put_role",
        };

        foreach (var request in requests)
        {
            var kind = kinds.Single(k => request.Path.StartsWith(k.Key, StringComparison.Ordinal)).Value;
            AssertFits(kind, request.Body.ToJsonString(), $"PUT {request.Path}");
        }

        Assert.Equal(4, requests.Select(r => kinds.Single(k => r.Path.StartsWith(k.Key, StringComparison.Ordinal)).Value).Distinct().Count());
    }

    [Fact]
    public void The_analyst_role_s_Elasticsearch_part_is_an_Elasticsearch_role()
    {
        var role = KibanaDashboards.AnalystRoleBody(["discover_v2", "dashboard_v2"]);

        AssertFits("security_put_role", role["elasticsearch"]!.ToJsonString(), "the analyst role's elasticsearch part");
    }

    /// <summary>Defects of the kind the review found: each one must fail this check.</summary>
    public static TheoryData<string, string, string> Defects => new()
    {
        // Kibana's role body sent to Elasticsearch: "kibana" is not a field of an Elasticsearch role.
        { "security_put_role", """{"cluster":[],"indices":[{"names":["audit-events-*"],"privileges":["read"]}],"kibana":[{"base":["read"]}]}""", "'kibana' is not a property" },
        { "security_put_role", """{"indices":[{"names":["audit-events-*"],"privileges":["create_docs"]}]}""", "create_docs" },
        { "security_put_role", """{"indices":[{"names":["audit-events-*"],"privilege":["read"]}]}""", "'privilege' is not a property" },
        { "ilm_put_lifecycle", """{"policy":{"phases":{"cold":{"min_age":"90d","actions":{"searchable_snapshot":{"repository":"r"}}}}}}""", "'repository' is not a property" },
        { "ilm_put_lifecycle", """{"policy":{"phases":{"warm":{"min_age":"38d","actions":{"read_only":{}}}}}}""", "'read_only' is not a property" },
        // index_prefixes exists on text fields only.
        { "put_component_template", """{"template":{"mappings":{"properties":{"audit":{"properties":{"search":{"type":"keyword","index_prefixes":{"min_chars":1,"max_chars":19}}}}}}}}""", "index_prefixes" },
        { "put_component_template", """{"template":{"mappings":{"properties":{"s":{"type":"text","index_prefixes":{"min_chars":1,"max":19}}}}}}""", "'max' is not a property" },
        { "search", """{"size":1,"sort":[{"@timestamp":{"order":"down"}}]}""", "down" },
        { "search", """{"query":{"bool":{"filter":[{"prefix":{"audit.search":{"term":"ana"}}}]}}}""", "prefix" },
        { "bulk_action", """{"create":{"_index":"audit-events-p2y-2026.11.01","id":"evt_1"}}""", "'id' is not a property" },
    };

    [Theory]
    [MemberData(nameof(Defects))]
    public void The_check_catches_what_Elasticsearch_would_refuse(string kind, string body, string expected)
    {
        var errors = Spec.Errors(kind, JsonNode.Parse(body));

        Assert.NotEmpty(errors);
        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Setup_sends_exactly_the_bodies_checked_here()
    {
        var invoker = new ScriptedInvoker(_ => Canned.Ok("""{"acknowledged":true}"""));
        var definitions = new ElasticsearchSetupDefinitions(7, 90, null);
        var setup = new ElasticsearchSetup(definitions, () => new ElasticsearchConnection(ElasticsearchConnection.CreateClient(EsTest.Options(), invoker)), NullLogger<ElasticsearchSetup>.Instance);
        using var output = new StringWriter();

        await setup.RunAsync(print: false, output, TestContext.Current.CancellationToken);

        Assert.Equal(definitions.All().Select(r => r.Body.ToJsonString()), invoker.Sent.Select(r => JsonNode.Parse(r.Body)!.ToJsonString()));
    }
}
