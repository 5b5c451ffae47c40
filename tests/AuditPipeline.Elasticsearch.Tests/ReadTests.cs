using System.Text;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;
using AuditPipeline.Elasticsearch.Tests.Support;
using AuditPipeline.Testing;

namespace AuditPipeline.Elasticsearch.Tests;

public sealed class ReadTests
{
    private static string Source(AuditEvent e) => Encoding.UTF8.GetString(BulkBody.Document(e));

    public static TheoryData<string> Kinds => ["crm", "ai", "failed_login", "system", "minimal"];

    private static AuditEvent Sample(string kind) => kind switch
    {
        "crm" => Some.Event(),
        "ai" => Some.AiEvent(),
        "failed_login" => Some.FailedLogin(),
        "system" => Some.Event() with { Actor = AuditActor.System, Source = Sources.System, Details = Some.Json("""{"rows":1200,"nested":{"a":[1,2,{"b":null}]}}""") },
        _ => Some.Event() with
        {
            Ip = null,
            UserAgent = null,
            Changes = [new AuditChange("stage", null, Some.Json("\"New\"")), new AuditChange("n", Some.Json("1.50"), null)],
            Before = null,
            After = Some.Json("[1,\"two\"]"),
            Entity = new AuditEntity("sso", null, null),
        },
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task An_event_read_back_equals_the_event_written(string kind)
    {
        var written = Sample(kind);
        var invoker = new ScriptedInvoker(_ => Answers.Hits([Source(written)]));
        var store = EsTest.Store(invoker);

        var read = await store.GetAsync(written.OrgId, written.Id, TestContext.Current.CancellationToken);

        Assert.NotNull(read);
        Assert.Equal(AuditJson.Serialize(written), AuditJson.Serialize(read));
        Assert.Equal((written.Time, written.ReceivedAt, written.Actor, written.Entity, written.Ai), (read.Time, read.ReceivedAt, read.Actor, read.Entity, read.Ai));
    }

    [Fact]
    public async Task Getting_an_event_searches_every_audit_index_for_that_organisation_and_id()
    {
        var invoker = new ScriptedInvoker(_ => Answers.Hits([]));
        var store = EsTest.Store(invoker);

        var read = await store.GetAsync("org_42", "evt_1", TestContext.Current.CancellationToken);

        Assert.Null(read);
        var request = Assert.Single(invoker.Sent);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/audit-events-*/_search?ignore_unavailable=true&allow_no_indices=true", request.Path);
        Assert.Equal("""{"size":1,"query":{"bool":{"filter":[{"term":{"organization.id":"org_42"}},{"term":{"event.id":"evt_1"}}]}}}""", request.Body);
    }

    [Fact]
    public async Task Every_filter_becomes_a_filter_clause_and_the_cursor_becomes_search_after()
    {
        var invoker = new ScriptedInvoker(_ => Answers.Hits([]));
        var store = EsTest.Store(invoker);
        var after = new AuditPosition(Some.BaseTime, "evt_9");
        var query = new AuditQuery
        {
            OrgId = "org_42",
            Actions = ["deleted", "updated"],
            Users = ["usr_7"],
            EntityTypes = ["deal"],
            EntityIds = ["deal_123"],
            Categories = ["crm"],
            Sources = ["Admin", "API"],
            Outcomes = ["success"],
            Ai = [true],
            From = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero),
            To = new DateTimeOffset(2026, 12, 1, 1, 0, 0, TimeSpan.FromHours(1)),
            Terms = ["Ana", "acme@X"],
            After = after,
        };

        await store.QueryAsync(query, 50, TestContext.Current.CancellationToken);

        var request = Assert.Single(invoker.Sent);
        Assert.Equal("/audit-events-*/_search?ignore_unavailable=true&allow_no_indices=true", request.Path);
        Assert.Equal(
            $$$$"""
            {"size":51,"track_total_hits":false,"query":{"bool":{"filter":[{"term":{"organization.id":"org_42"}},{"terms":{"event.action":["deleted","updated"]}},{"terms":{"user.id":["usr_7"]}},{"terms":{"audit.entity.type":["deal"]}},{"terms":{"audit.entity.id":["deal_123"]}},{"terms":{"audit.category":["crm"]}},{"terms":{"audit.source":["Admin","API"]}},{"terms":{"event.outcome":["success"]}},{"exists":{"field":"audit.ai.initiated"}},{"range":{"@timestamp":{"gte":"2026-11-01T00:00:00.000Z","lt":"2026-12-01T00:00:00.000Z","format":"strict_date_optional_time"}}},{"prefix":{"audit.search":{"value":"ana"}}},{"prefix":{"audit.search":{"value":"acme@x"}}}]}},"sort":[{"@timestamp":{"order":"desc"}},{"event.id":{"order":"desc"}}],"search_after":[{{{{after.Time.ToUnixTimeMilliseconds()}}}},"evt_9"]}
            """,
            request.Body);
    }

    [Fact]
    public async Task Asking_only_for_events_not_initiated_by_AI_excludes_those_with_AI_fields()
    {
        var invoker = new ScriptedInvoker(_ => Answers.Hits([]));
        var store = EsTest.Store(invoker);

        await store.QueryAsync(new AuditQuery { OrgId = "org_42", Ai = [false] }, 10, TestContext.Current.CancellationToken);
        await store.QueryAsync(new AuditQuery { OrgId = "org_42", Ai = [true, false] }, 10, TestContext.Current.CancellationToken);

        Assert.Contains("""{"bool":{"must_not":[{"exists":{"field":"audit.ai.initiated"}}]}}""", invoker.Sent[0].Body, StringComparison.Ordinal);
        Assert.Equal("""{"size":11,"track_total_hits":false,"query":{"bool":{"filter":[{"term":{"organization.id":"org_42"}}]}},"sort":[{"@timestamp":{"order":"desc"}},{"event.id":{"order":"desc"}}]}""", invoker.Sent[1].Body);
    }

    [Fact]
    public async Task A_full_page_has_a_next_position_at_its_last_event_and_a_short_page_has_none()
    {
        var events = Enumerable.Range(0, 3).Select(i => Some.Event($"evt_{i}", time: Some.BaseTime.AddMinutes(-i))).ToList();
        var invoker = new ScriptedInvoker(r => r.Body.Contains("\"size\":3", StringComparison.Ordinal)
            ? Answers.Hits(events.Select(Source))
            : Answers.Hits(events.Take(2).Select(Source)));
        var store = EsTest.Store(invoker);

        var full = await store.QueryAsync(new AuditQuery { OrgId = "org_42" }, 2, TestContext.Current.CancellationToken);
        var last = await store.QueryAsync(new AuditQuery { OrgId = "org_42" }, 5, TestContext.Current.CancellationToken);

        Assert.Equal(["evt_0", "evt_1"], full.Items.Select(e => e.Id));
        Assert.Equal(AuditPosition.Of(events[1]), full.Next);
        Assert.Equal(2, last.Items.Count);
        Assert.Null(last.Next);
    }

    [Fact]
    public async Task Hits_the_reference_semantics_reject_are_dropped_and_the_page_is_refilled()
    {
        var matching = Enumerable.Range(0, 3).Select(i => Some.Event($"evt_m{i}", time: Some.BaseTime.AddMinutes(-10 - i))).ToList();
        var stray = Some.Event("evt_stray", time: Some.BaseTime) with { Actor = new AuditActor(ActorTypes.User, "usr_x", "Bob", "bob@other.test") };
        var calls = 0;
        var invoker = new ScriptedInvoker(_ => ++calls == 1
            ? Answers.Hits([Source(stray), Source(matching[0]), Source(matching[1])])
            : Answers.Hits([Source(matching[2])]));
        var store = EsTest.Store(invoker);

        var page = await store.QueryAsync(new AuditQuery { OrgId = "org_42", Terms = ["ana"] }, 2, TestContext.Current.CancellationToken);

        Assert.Equal(["evt_m0", "evt_m1"], page.Items.Select(e => e.Id));
        Assert.Equal(AuditPosition.Of(matching[1]), page.Next);
        Assert.Contains($"\"search_after\":[{matching[1].Time.ToUnixTimeMilliseconds()},\"evt_m1\"]", invoker.Sent[1].Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(200, true)]
    [InlineData(403, true)]
    [InlineData(401, false)]
    [InlineData(503, false)]
    public async Task The_store_is_ready_when_the_cluster_answers_and_knows_the_credentials(int status, bool ready)
    {
        var invoker = new ScriptedInvoker(_ => new Canned(status, ""));
        var store = EsTest.Store(invoker);

        Assert.Equal(ready, await store.IsReadyAsync(TestContext.Current.CancellationToken));
        Assert.Equal("HEAD", invoker.Sent[0].Method);
    }

    [Fact]
    public async Task Retention_is_left_to_the_ILM_policies_and_reports_nothing()
    {
        var invoker = new ScriptedInvoker(_ => throw new InvalidOperationException("no request expected"));
        var store = EsTest.Store(invoker);

        var report = await store.ApplyRetentionAsync(DateTimeOffset.UtcNow, TestContext.Current.CancellationToken);

        Assert.Empty(report.Dropped);
        Assert.Empty(report.Archived);
        Assert.Empty(invoker.Sent);
    }

    [Theory]
    [InlineData("ana", "ana@acme.test")]
    [InlineData("ana@acme", "ana@acme.test")]
    [InlineData("ACME", "ana@acme.test")]
    [InlineData("cme", "ana@acme.test")]
    [InlineData("test", "ana@acme.test")]
    [InlineData("123", "deal_123")]
    [InlineData("deal_1", "deal_123")]
    [InlineData("eal", "deal_123")]
    [InlineData("corp ent", "Acme Corp Enterprise")]
    [InlineData("x", "")]
    public void A_prefix_of_an_indexed_suffix_is_exactly_a_free_text_match(string term, string text)
    {
        var e = Some.Event() with { Actor = new AuditActor(ActorTypes.User, null, text, null), Entity = new AuditEntity("deal", null, null), Id = "_" };

        var suffixes = SearchTexts.Suffixes(e);
        var byIndex = suffixes.Any(s => s.StartsWith(SearchTexts.QueryValue(term)!, StringComparison.Ordinal));

        Assert.Equal(TextMatch.Matches(term, text), byIndex);
    }
}
