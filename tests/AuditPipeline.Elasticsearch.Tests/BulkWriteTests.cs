using System.Text.Json;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Elasticsearch.Tests.Support;
using AuditPipeline.Testing;

namespace AuditPipeline.Elasticsearch.Tests;

public sealed class BulkWriteTests
{
    private static readonly DateTimeOffset October = new(2026, 10, 31, 23, 59, 59, 999, TimeSpan.Zero);

    [Fact]
    public async Task Appending_sends_one_create_per_event_with_the_event_id_into_its_class_and_month_index()
    {
        var invoker = new ScriptedInvoker(_ => Answers.Bulk(201, 201, 201));
        var plans = EsTest.Plans(o => o.Orgs["org_ent"] = new OrgPlanOptions { Plan = RetentionPlans.Enterprise, Years = 5 });
        var store = EsTest.Store(invoker, plans: plans);
        var november = Some.Event("evt_a1b2c3d4e5");
        var october = Some.Event("evt_oct", time: October);
        var enterprise = Some.Event("evt_ent", orgId: "org_ent");

        var results = await store.AppendAsync([november, october, enterprise], TestContext.Current.CancellationToken);

        Assert.All(results, r => Assert.Equal(AppendOutcome.Stored, r.Outcome));
        var bulk = Assert.Single(invoker.Sent);
        Assert.Equal("POST", bulk.Method);
        Assert.Equal("/_bulk?filter_path=errors,error,status,items.*.status,items.*.error", bulk.Path);
        Assert.Equal(bulk.Accept!.Replace("+json", "+x-ndjson", StringComparison.Ordinal), bulk.ContentType);
        Assert.EndsWith("\n", bulk.Body, StringComparison.Ordinal);
        Assert.Equal(
            [
                """{"create":{"_index":"audit-events-p2y-2026.11.01","_id":"evt_a1b2c3d4e5"}}""",
                ExpectedDocument,
                """{"create":{"_index":"audit-events-p2y-2026.10.01","_id":"evt_oct"}}""",
                System.Text.Encoding.UTF8.GetString(BulkBody.Document(october)),
                """{"create":{"_index":"audit-events-e5y-2026.11.01","_id":"evt_ent"}}""",
                System.Text.Encoding.UTF8.GetString(BulkBody.Document(enterprise)),
            ],
            bulk.Lines);
    }

    /// <summary>The contract's example event as an Elasticsearch document: ECS names, the rest under audit.*.</summary>
    private static readonly string ExpectedDocument = """
        {"@timestamp":"2026-11-29T10:32:00.000Z","event":{"id":"evt_a1b2c3d4e5","kind":"event","action":"stage_changed","category":["database"],"type":["change"],"outcome":"success","ingested":"2026-11-29T10:32:00.412Z"},"organization":{"id":"org_42"},"user":{"id":"usr_7","name":"Ana Silva","email":"ana@acme.test"},"source":{"ip":"203.0.113.5"},"user_agent":{"original":"Mozilla/5.0 (X11; Linux x86_64)"},"audit":{"category":"crm","event_type":"deal.stage_changed","actor":{"type":"user"},"entity":{"type":"deal","id":"deal_123","name":"Acme Corp Enterprise"},"source":"Admin","changes":[{"field":"stage","before":"Demo Scheduled","after":"Proposal Sent"}],"changed_fields":["stage"],"before":{"stage":"Demo Scheduled","amount":1000},"after":{"stage":"Proposal Sent","amount":1000},"details":{"requestId":"req_9"},"search":["ana silva","silva","ana@acme.test","acme.test","test","acme corp enterprise","corp enterprise","enterprise","deal_123","123","evt_a1b2c3d4e5","a1b2c3d4e5"]}}
        """;

    [Fact]
    public async Task The_month_comes_from_the_event_time_in_UTC_not_its_offset()
    {
        var invoker = new ScriptedInvoker(_ => Answers.Bulk(201));
        var store = EsTest.Store(invoker);
        var e = Some.Event("evt_tz", time: new DateTimeOffset(2026, 12, 1, 0, 30, 0, TimeSpan.FromHours(2)));

        await store.AppendAsync([e], TestContext.Current.CancellationToken);

        Assert.Contains("\"_index\":\"audit-events-p2y-2026.11.01\"", invoker.Sent[0].Lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_conflict_with_the_same_organisations_copy_is_reported_as_a_duplicate()
    {
        var invoker = new ScriptedInvoker(r => r.Path.StartsWith("/_mget", StringComparison.Ordinal)
            ? Answers.Owners("org_42")
            : Canned.Ok(Answers.BulkBody((201, null, null), (409, "version_conflict_engine_exception", "document already exists"))));
        var store = EsTest.Store(invoker);
        var redelivered = Some.Event("evt_again", time: October);

        var results = await store.AppendAsync([Some.Event(), redelivered], TestContext.Current.CancellationToken);

        Assert.Equal([AppendOutcome.Stored, AppendOutcome.Duplicate], results.Select(r => r.Outcome));
        Assert.Equal(2, invoker.Sent.Count);
        var lookup = invoker.Sent[1];
        Assert.Equal(("POST", "/_mget?_source_includes=organization.id"), (lookup.Method, lookup.Path));
        Assert.Equal("""{"docs":[{"_index":"audit-events-p2y-2026.10.01","_id":"evt_again"}]}""", lookup.Body);
    }

    [Fact]
    public async Task An_id_taken_by_another_organisation_is_stored_under_the_organisation_qualified_id()
    {
        var calls = 0;
        var invoker = new ScriptedInvoker(r => r.Path.StartsWith("/_mget", StringComparison.Ordinal)
            ? Answers.Owners("org_other")
            : ++calls == 1 ? Canned.Ok(Answers.BulkBody((409, "version_conflict_engine_exception", "document already exists"))) : Answers.Bulk(201));
        var store = EsTest.Store(invoker);
        var e = Some.Event("evt_shared");

        var results = await store.AppendAsync([e], TestContext.Current.CancellationToken);

        Assert.Equal(AppendOutcome.Stored, Assert.Single(results).Outcome);
        Assert.Equal(
            ["""{"create":{"_index":"audit-events-p2y-2026.11.01","_id":"org_42/evt_shared"}}""", System.Text.Encoding.UTF8.GetString(BulkBody.Document(e))],
            invoker.Sent[2].Lines);
    }

    [Fact]
    public async Task A_redelivery_of_an_organisation_qualified_event_is_a_duplicate_without_another_lookup_loop()
    {
        var invoker = new ScriptedInvoker(r => r.Path.StartsWith("/_mget", StringComparison.Ordinal)
            ? Answers.Owners(r.Body.Contains("org_42/", StringComparison.Ordinal) ? "org_42" : "org_other")
            : Canned.Ok(Answers.BulkBody((409, "version_conflict_engine_exception", "document already exists"))));
        var store = EsTest.Store(invoker);

        var results = await store.AppendAsync([Some.Event("evt_shared")], TestContext.Current.CancellationToken);

        Assert.Equal(AppendOutcome.Duplicate, Assert.Single(results).Outcome);
        Assert.Equal(["/_bulk", "/_mget", "/_bulk", "/_mget"], invoker.Sent.Select(r => r.Path.Split('?')[0]));
    }

    [Fact]
    public async Task Throttled_and_failed_items_are_retried_alone_so_nothing_that_succeeded_is_sent_twice()
    {
        var calls = 0;
        var invoker = new ScriptedInvoker(_ => ++calls switch
        {
            1 => Canned.Ok(Answers.BulkBody((201, null, null), (429, "es_rejected_execution_exception", "queue full"), (503, "unavailable_shards_exception", "primary not active"))),
            2 => Canned.Ok(Answers.BulkBody((429, "es_rejected_execution_exception", "queue full"), (201, null, null))),
            _ => Answers.Bulk(201),
        });
        var store = EsTest.Store(invoker);
        var events = new[] { Some.Event("evt_ok"), Some.Event("evt_throttled"), Some.Event("evt_unavailable") };

        var results = await store.AppendAsync(events, TestContext.Current.CancellationToken);

        Assert.All(results, r => Assert.Equal(AppendOutcome.Stored, r.Outcome));
        Assert.Equal(3, invoker.Sent.Count);
        Assert.Equal(["evt_ok", "evt_throttled", "evt_unavailable"], Ids(invoker.Sent[0]));
        Assert.Equal(["evt_throttled", "evt_unavailable"], Ids(invoker.Sent[1]));
        Assert.Equal(["evt_throttled"], Ids(invoker.Sent[2]));
    }

    [Theory]
    [InlineData(429)]
    [InlineData(502)]
    [InlineData(503)]
    public async Task A_whole_request_answered_with_a_retryable_status_is_sent_again(int status)
    {
        var calls = 0;
        var invoker = new ScriptedInvoker(_ => ++calls == 1 ? Answers.Error(status, "es_rejected_execution_exception") : Answers.Bulk(201, 201));
        var store = EsTest.Store(invoker);

        var results = await store.AppendAsync([Some.Event(), Some.Event()], TestContext.Current.CancellationToken);

        Assert.All(results, r => Assert.Equal(AppendOutcome.Stored, r.Outcome));
        Assert.Equal(2, invoker.Sent.Count);
        Assert.Equal(invoker.Sent[0].Body, invoker.Sent[1].Body);
    }

    [Fact]
    public async Task A_request_that_gets_no_answer_is_retried()
    {
        var calls = 0;
        var invoker = new ScriptedInvoker(_ => ++calls == 1 ? new Canned(0, "", new HttpRequestException("connection refused")) : Answers.Bulk(201));
        var store = EsTest.Store(invoker);

        var results = await store.AppendAsync([Some.Event()], TestContext.Current.CancellationToken);

        Assert.Equal(AppendOutcome.Stored, Assert.Single(results).Outcome);
        Assert.Equal(2, invoker.Sent.Count);
    }

    [Fact]
    public async Task When_retries_run_out_the_store_reports_itself_unavailable()
    {
        var invoker = new ScriptedInvoker(_ => Answers.Error(503, "cluster_block_exception", "no master"));
        var store = EsTest.Store(invoker, EsTest.Options(o => o.MaxAttempts = 3));

        var ex = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.AppendAsync([Some.Event()], TestContext.Current.CancellationToken));

        Assert.Contains("after 3 attempts", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, invoker.Sent.Count);
    }

    [Fact]
    public async Task A_document_the_mapping_refuses_is_rejected_with_the_reason_and_not_retried()
    {
        var invoker = new ScriptedInvoker(_ => Canned.Ok(Answers.BulkBody(
            (201, null, null),
            (400, "document_parsing_exception", "[1:2] failed to parse field [audit.entity.id]"))));
        var store = EsTest.Store(invoker);

        var results = await store.AppendAsync([Some.Event(), Some.Event()], TestContext.Current.CancellationToken);

        Assert.Equal(AppendOutcome.Stored, results[0].Outcome);
        Assert.Equal(AppendOutcome.Rejected, results[1].Outcome);
        Assert.Contains("document_parsing_exception", results[1].Error, StringComparison.Ordinal);
        Assert.Contains("audit.entity.id", results[1].Error, StringComparison.Ordinal);
        Assert.Single(invoker.Sent);
    }

    [Theory]
    [InlineData(401, "security_exception")]
    [InlineData(403, "security_exception")]
    public async Task Refused_credentials_make_the_store_unavailable_at_once(int status, string type)
    {
        var invoker = new ScriptedInvoker(_ => Answers.Error(status, type, "unable to authenticate user [audit_writer]"));
        var store = EsTest.Store(invoker);

        var ex = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.AppendAsync([Some.Event()], TestContext.Current.CancellationToken));

        Assert.Contains("Elasticsearch:Username", ex.Message, StringComparison.Ordinal);
        Assert.Single(invoker.Sent);
    }

    [Theory]
    [InlineData(403, "cluster_block_exception", "blocked by: [FORBIDDEN/6/cluster read-only (api)];")]
    [InlineData(403, "security_exception", "action [indices:data/write/bulk[s]] is unauthorized for user [audit_reader]")]
    [InlineData(404, "index_not_found_exception", "no such index [audit-events-p2y-2026.11.01]")]
    public async Task An_item_blocked_by_the_cluster_or_the_role_makes_the_store_unavailable(int status, string type, string reason)
    {
        var invoker = new ScriptedInvoker(_ => Canned.Ok(Answers.BulkBody((status, type, reason))));
        var store = EsTest.Store(invoker);

        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.AppendAsync([Some.Event()], TestContext.Current.CancellationToken));

        Assert.Single(invoker.Sent);
    }

    [Fact]
    public async Task An_event_for_a_read_only_month_with_no_copy_of_its_own_goes_to_the_late_index_of_the_current_month()
    {
        var invoker = new ScriptedInvoker(r => r.Path.Split('?')[0] switch
        {
            "/_bulk" when r.Body.Contains("-late-", StringComparison.Ordinal) => Answers.Bulk(201),
            "/_bulk" => Canned.Ok(Answers.BulkBody(
                (201, null, null),
                (403, "cluster_block_exception", "index [audit-events-p2y-2026.10.01] blocked by: [FORBIDDEN/8/index write (api)];"))),
            _ => Answers.Copies(("org_other", "evt_late")),
        });
        var store = EsTest.Store(invoker);
        var current = Some.Event("evt_now");
        var late = Some.Event("evt_late", time: October);

        var results = await store.AppendAsync([current, late], TestContext.Current.CancellationToken);

        Assert.Equal([AppendOutcome.Stored, AppendOutcome.Stored], results.Select(r => r.Outcome));
        Assert.Equal(3, invoker.Sent.Count);
        var search = invoker.Sent[1];
        Assert.Equal("POST", search.Method);
        Assert.Equal("/audit-events-p2y-*/_search?ignore_unavailable=true&allow_no_indices=true", search.Path);
        Assert.Equal("""{"size":10,"_source":["organization.id","event.id"],"query":{"terms":{"event.id":["evt_late"]}}}""", search.Body);
        Assert.Equal(
            ["""{"create":{"_index":"audit-events-p2y-late-2026.12.01","_id":"evt_late"}}""", System.Text.Encoding.UTF8.GetString(BulkBody.Document(late))],
            invoker.Sent[2].Lines);
    }

    [Fact]
    public async Task An_event_for_a_read_only_month_that_already_has_a_copy_is_a_duplicate()
    {
        var invoker = new ScriptedInvoker(r => r.Path.StartsWith("/_bulk", StringComparison.Ordinal)
            ? Canned.Ok(Answers.BulkBody((403, "cluster_block_exception", "index [audit-events-p2y-2026.10.01] blocked by: [FORBIDDEN/8/index write (api)];")))
            : Answers.Copies(("org_42", "evt_late")));
        var store = EsTest.Store(invoker);

        var results = await store.AppendAsync([Some.Event("evt_late", time: October)], TestContext.Current.CancellationToken);

        Assert.Equal(AppendOutcome.Duplicate, Assert.Single(results).Outcome);
        Assert.Equal(2, invoker.Sent.Count);
        Assert.DoesNotContain(invoker.Sent, r => r.Body.Contains("-late-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_read_only_late_index_is_not_routed_again_but_makes_the_store_unavailable()
    {
        var invoker = new ScriptedInvoker(r => r.Path.StartsWith("/_bulk", StringComparison.Ordinal)
            ? Canned.Ok(Answers.BulkBody((403, "cluster_block_exception", "index blocked by: [FORBIDDEN/8/index write (api)];")))
            : Answers.Copies());
        var store = EsTest.Store(invoker);

        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.AppendAsync([Some.Event("evt_late", time: October)], TestContext.Current.CancellationToken));

        Assert.Equal(3, invoker.Sent.Count);
    }

    [Fact]
    public async Task Large_batches_are_split_by_document_count()
    {
        var invoker = new ScriptedInvoker(r => Answers.Bulk([.. Enumerable.Repeat(201, r.Lines.Length / 2)]));
        var store = EsTest.Store(invoker, EsTest.Options(o => o.BulkMaxDocuments = 2));

        var results = await store.AppendAsync([.. Enumerable.Range(0, 5).Select(_ => Some.Event())], TestContext.Current.CancellationToken);

        Assert.Equal(5, results.Count(r => r.Outcome == AppendOutcome.Stored));
        Assert.Equal([4, 4, 2], invoker.Sent.Select(r => r.Lines.Length));
    }

    [Fact]
    public async Task Large_batches_are_split_by_body_size()
    {
        var invoker = new ScriptedInvoker(r => Answers.Bulk([.. Enumerable.Repeat(201, r.Lines.Length / 2)]));
        var store = EsTest.Store(invoker, EsTest.Options(o => o.BulkMaxBytes = 64 * 1024));
        var big = Some.Json(JsonSerializer.Serialize(new { text = new string('x', 20_000) }));

        var results = await store.AppendAsync([.. Enumerable.Range(0, 7).Select(_ => Some.Event() with { After = big })], TestContext.Current.CancellationToken);

        Assert.Equal(7, results.Count(r => r.Outcome == AppendOutcome.Stored));
        Assert.True(invoker.Sent.Count >= 3, $"expected several bulk requests, got {invoker.Sent.Count}");
        Assert.All(invoker.Sent, r => Assert.True(System.Text.Encoding.UTF8.GetByteCount(r.Body) <= 64 * 1024));
    }

    [Fact]
    public async Task An_id_longer_than_Elasticsearch_takes_is_rejected_alone_without_failing_the_request()
    {
        var invoker = new ScriptedInvoker(r => Answers.Bulk([.. Enumerable.Repeat(201, r.Lines.Length / 2)]));
        var store = EsTest.Store(invoker);
        var tooLong = Some.Event(new string('日', 200));

        var results = await store.AppendAsync([Some.Event("evt_fine"), tooLong], TestContext.Current.CancellationToken);

        Assert.Equal([AppendOutcome.Stored, AppendOutcome.Rejected], results.Select(r => r.Outcome));
        Assert.Equal(["evt_fine"], Ids(Assert.Single(invoker.Sent)));
    }

    [Fact]
    public async Task Refresh_on_write_waits_for_the_write_to_be_searchable()
    {
        var invoker = new ScriptedInvoker(_ => Answers.Bulk(201));
        var store = EsTest.Store(invoker, EsTest.Options(o => o.RefreshOnWrite = true));

        await store.AppendAsync([Some.Event()], TestContext.Current.CancellationToken);

        Assert.StartsWith("/_bulk?refresh=wait_for&filter_path=", invoker.Sent[0].Path, StringComparison.Ordinal);
    }

    private static string[] Ids(SentRequest bulk) =>
        [.. bulk.Lines.Where((_, i) => i % 2 == 0).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("create").GetProperty("_id").GetString()!)];
}
