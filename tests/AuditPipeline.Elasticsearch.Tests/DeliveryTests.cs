using System.Text;
using System.Text.Json;
using AuditPipeline.Core.Storage;
using AuditPipeline.Elasticsearch.Tests.Support;
using AuditPipeline.Testing;

namespace AuditPipeline.Elasticsearch.Tests;

/// <summary>
/// Contract section 6 on Elasticsearch: the same id re-sent with another time is one event, only an
/// unavailable store pauses ingestion, and what can never be written is told apart so it can be
/// dead-lettered.
/// </summary>
public sealed class DeliveryTests
{
    private static readonly DateTimeOffset October = new(2026, 10, 31, 23, 59, 59, 999, TimeSpan.Zero);

    private static Canned Stored(SentRequest r) => Answers.Bulk([.. Enumerable.Repeat(201, r.Lines.Length / 2)]);

    [Fact]
    public async Task One_search_per_batch_finds_copies_stored_under_another_month_and_they_are_not_sent()
    {
        var invoker = new ScriptedInvoker(Stored) { StoredCopies = _ => Answers.Copies(("org_42", "evt_resent")) };
        var store = EsTest.Store(invoker, EsTest.Options(o => o.BulkMaxDocuments = 1));

        // The re-send carries October's time; the first copy was stored in November's index.
        var results = await store.AppendAsync(
            [Some.Event("evt_new"), Some.Event("evt_resent", time: October), Some.Event("evt_other", orgId: "org_9")],
            TestContext.Current.CancellationToken);

        Assert.Equal([AppendOutcome.Stored, AppendOutcome.Duplicate, AppendOutcome.Stored], results.Select(r => r.Outcome));
        var search = Assert.Single(invoker.CopySearches);
        Assert.Equal("POST", search.Method);
        Assert.Equal("/audit-events-*/_search?ignore_unavailable=true&allow_no_indices=true&filter_path=hits.hits._source", search.Path);
        Assert.Equal(
            """{"size":3,"track_total_hits":false,"_source":["organization.id","event.id"],"query":{"bool":{"should":[""" +
            """{"bool":{"filter":[{"term":{"organization.id":"org_42"}},{"terms":{"event.id":["evt_new","evt_resent"]}}]}},""" +
            """{"bool":{"filter":[{"term":{"organization.id":"org_9"}},{"terms":{"event.id":["evt_other"]}}]}}],"minimum_should_match":1}}}""",
            search.Body);
        Assert.Equal(["/", "/audit-events-*/_search", "/_bulk", "/_bulk"], invoker.All.Select(r => r.Path.Split('?')[0]));
        Assert.DoesNotContain(invoker.Sent, r => r.Body.Contains("evt_resent", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_copy_of_the_same_id_in_another_organisation_does_not_make_a_duplicate()
    {
        var invoker = new ScriptedInvoker(Stored) { StoredCopies = _ => Answers.Copies(("org_other", "evt_1")) };
        var store = EsTest.Store(invoker);

        var results = await store.AppendAsync([Some.Event("evt_1")], TestContext.Current.CancellationToken);

        Assert.Equal(AppendOutcome.Stored, Assert.Single(results).Outcome);
    }

    [Fact]
    public async Task The_same_id_twice_in_one_batch_with_different_times_is_stored_once()
    {
        var invoker = new ScriptedInvoker(Stored);
        var store = EsTest.Store(invoker);

        var results = await store.AppendAsync([Some.Event("evt_twice"), Some.Event("evt_twice", time: October)], TestContext.Current.CancellationToken);

        Assert.Equal([AppendOutcome.Stored, AppendOutcome.Duplicate], results.Select(r => r.Outcome));
        Assert.Equal(2, Assert.Single(invoker.Sent).Lines.Length);
        Assert.Contains("\"evt_twice\"]", Assert.Single(invoker.CopySearches).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_search_for_copies_costs_one_request_of_a_few_bytes_per_event()
    {
        var invoker = new ScriptedInvoker(Stored);
        var store = EsTest.Store(invoker);
        var batch = Enumerable.Range(0, 1000).Select(i => Some.Event($"evt_{i:D10}")).ToList();

        await store.AppendAsync(batch, TestContext.Current.CancellationToken);

        var search = Assert.Single(invoker.CopySearches);
        var bytes = Encoding.UTF8.GetByteCount(search.Body);

        // 1000 ids of 14 characters: the id, its quotes and a comma each, plus a fixed frame.
        Assert.InRange(bytes, 1000 * 17, (1000 * 17) + 300);
        Assert.Single(invoker.Sent);
    }

    [Theory]
    [InlineData(503, true)]
    [InlineData(429, true)]
    [InlineData(401, false)]
    public async Task The_search_for_copies_is_retried_when_the_cluster_is_busy_and_otherwise_makes_the_store_unavailable(int status, bool recovers)
    {
        var calls = 0;
        var invoker = new ScriptedInvoker(Stored)
        {
            StoredCopies = _ => ++calls == 1 || !recovers ? Answers.Error(status, "security_exception") : Answers.Copies(),
        };
        var store = EsTest.Store(invoker, EsTest.Options(o => o.MaxAttempts = 3));

        if (recovers)
        {
            var results = await store.AppendAsync([Some.Event()], TestContext.Current.CancellationToken);
            Assert.Equal(AppendOutcome.Stored, Assert.Single(results).Outcome);
            Assert.Equal(2, calls);
        }
        else
        {
            await Assert.ThrowsAsync<StoreUnavailableException>(() => store.AppendAsync([Some.Event()], TestContext.Current.CancellationToken));
            Assert.Equal(1, calls);
            Assert.Empty(invoker.Sent);
        }
    }

    [Fact]
    public async Task A_whole_request_refused_for_good_is_not_reported_as_unavailability_so_the_batch_can_be_split()
    {
        var invoker = new ScriptedInvoker(_ => Answers.Error(400, "illegal_argument_exception", "Malformed action/metadata line"));
        var store = EsTest.Store(invoker);

        var ex = await Assert.ThrowsAsync<BulkRequestRefusedException>(() => store.AppendAsync([Some.Event(), Some.Event()], TestContext.Current.CancellationToken));

        Assert.Contains("illegal_argument_exception", ex.Message, StringComparison.Ordinal);
        Assert.Single(invoker.Sent);
    }

    [Fact]
    public async Task A_whole_request_of_one_event_refused_for_good_rejects_that_event()
    {
        var invoker = new ScriptedInvoker(_ => new Canned(413, ""));
        var store = EsTest.Store(invoker);

        var results = await store.AppendAsync([Some.Event()], TestContext.Current.CancellationToken);

        Assert.Equal(AppendOutcome.Rejected, Assert.Single(results).Outcome);
        Assert.Contains("413", results[0].Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(400, "media_type_header_exception")]
    [InlineData(403, "cluster_block_exception")]
    [InlineData(404, "not_found")]
    public async Task A_whole_request_refused_for_the_cluster_s_or_the_configuration_s_sake_makes_the_store_unavailable(int status, string type)
    {
        var invoker = new ScriptedInvoker(_ => Answers.Error(status, type));
        var store = EsTest.Store(invoker);

        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.AppendAsync([Some.Event(), Some.Event()], TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_mapping_error_of_one_item_rejects_that_event_and_the_others_are_stored()
    {
        var invoker = new ScriptedInvoker(_ => Canned.Ok(Answers.BulkBody(
            (400, "mapper_parsing_exception", "failed to parse field [source.ip]"),
            (201, null, null))));
        var store = EsTest.Store(invoker);

        var results = await store.AppendAsync([Some.Event(), Some.Event()], TestContext.Current.CancellationToken);

        Assert.Equal([AppendOutcome.Rejected, AppendOutcome.Stored], results.Select(r => r.Outcome));
        Assert.Contains("mapper_parsing_exception", results[0].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_list_request_whose_term_the_index_cannot_narrow_ends_within_its_work_budget_with_a_cursor()
    {
        // Every hit shares the term's first 19 characters but not the rest: the post-filter drops them all.
        var longTerm = new string('a', 300);
        var near = Enumerable.Range(0, 1000).Select(i => Some.Event($"evt_{i:D4}", time: Some.BaseTime.AddSeconds(-i)) with
        {
            Entity = new Core.Events.AuditEntity("deal", "deal_1", new string('a', 299) + "b"),
        }).ToList();
        var invoker = new ScriptedInvoker(r =>
        {
            var size = JsonDocument.Parse(r.Body).RootElement.GetProperty("size").GetInt32();
            return Answers.Hits(near.Take(size).Select(e => Encoding.UTF8.GetString(BulkBody.Document(e))));
        });
        var store = EsTest.Store(invoker, EsTest.Options(o => o.QueryMaxExamined = 2000));

        var page = await store.QueryAsync(new AuditQuery { OrgId = "org_42", Terms = [longTerm] }, 50, TestContext.Current.CancellationToken);

        Assert.Empty(page.Items);
        Assert.NotNull(page.Next);
        var examined = invoker.Sent.Sum(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("size").GetInt32());
        Assert.Equal(2000, examined);
        Assert.InRange(invoker.Sent.Count, 2, 5);
        Assert.All(invoker.Sent, r => Assert.Contains($"\"value\":\"{new string('a', 19)}\"", r.Body, StringComparison.Ordinal));
    }
}
