using System.Text;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;
using AuditPipeline.Elasticsearch.Tests.Support;
using AuditPipeline.Testing;

namespace AuditPipeline.Elasticsearch.Tests;

public sealed class StreamTests
{
    private static readonly List<AuditEvent> Events =
        [.. Enumerable.Range(0, 5).Select(i => Some.Event($"evt_{i}", time: Some.BaseTime.AddMinutes(-i)))];

    private static string Source(AuditEvent e) => Encoding.UTF8.GetString(BulkBody.Document(e));

    /// <summary>A cluster holding <see cref="Events"/>: pages of two, the PIT id changing on every page.</summary>
    private static Canned Cluster(SentRequest r, Func<int, Canned?>? failPage = null)
    {
        if (r.Method == "POST" && r.Path.StartsWith("/audit-events-*/_pit", StringComparison.Ordinal))
        {
            return Canned.Ok("""{"id":"pit-0"}""");
        }

        if (r.Method == "DELETE")
        {
            return Canned.Ok("""{"succeeded":true,"num_freed":1}""");
        }

        var page = r.Body.Contains("search_after", StringComparison.Ordinal)
            ? Events.FindIndex(e => r.Body.Contains($"\"search_after\":[{e.Time.ToUnixTimeMilliseconds()},\"{e.Id}\",", StringComparison.Ordinal)) + 1
            : 0;
        Assert.True(page >= 0, "a search_after the scripted cluster did not hand out");
        if (failPage?.Invoke(page) is { } failure)
        {
            return failure;
        }

        return Answers.Hits(Events.Skip(page).Take(2).Select(Source), $"pit-{(page / 2) + 1}");
    }

    [Fact(Timeout = 10_000)]
    public async Task Streaming_walks_a_point_in_time_with_search_after_and_closes_it_at_the_end()
    {
        var invoker = new ScriptedInvoker(r => Cluster(r));
        var store = EsTest.Store(invoker, EsTest.Options(o => o.StreamPageSize = 2));

        var read = new List<AuditEvent>();
        await foreach (var e in store.StreamAsync(new AuditQuery { OrgId = "org_42" }, TestContext.Current.CancellationToken))
        {
            read.Add(e);
        }

        Assert.Equal(Events.Select(e => e.Id), read.Select(e => e.Id));
        var open = invoker.Sent[0];
        Assert.Equal(("POST", "/audit-events-*/_pit?keep_alive=120s"), (open.Method, open.Path));
        var searches = invoker.Sent.Where(r => r.Path == "/_search").ToList();
        Assert.Equal(3, searches.Count);
        Assert.Contains("\"pit\":{\"id\":\"pit-0\",\"keep_alive\":\"120s\"}", searches[0].Body, StringComparison.Ordinal);
        Assert.DoesNotContain("search_after", searches[0].Body, StringComparison.Ordinal);
        Assert.Contains("\"pit\":{\"id\":\"pit-1\"", searches[1].Body, StringComparison.Ordinal);
        // Under a PIT each page continues after the last hit's own sort values, tiebreaker included.
        Assert.Contains($"\"search_after\":[{Events[1].Time.ToUnixTimeMilliseconds()},\"evt_1\",1001]", searches[1].Body, StringComparison.Ordinal);
        Assert.Contains($"\"search_after\":[{Events[3].Time.ToUnixTimeMilliseconds()},\"evt_3\",1001]", searches[2].Body, StringComparison.Ordinal);
        var close = invoker.Sent[^1];
        Assert.Equal(("DELETE", "/_pit", """{"id":"pit-3"}"""), (close.Method, close.Path, close.Body));
    }

    [Fact(Timeout = 10_000)]
    public async Task A_stream_from_a_position_continues_strictly_after_it_on_the_first_page_without_a_range_on_the_id()
    {
        var invoker = new ScriptedInvoker(r => Cluster(r));
        var store = EsTest.Store(invoker, EsTest.Options(o => o.StreamPageSize = 2));
        var after = AuditPosition.Of(Events[1]);

        var read = new List<string>();
        await foreach (var e in store.StreamAsync(new AuditQuery { OrgId = "org_42", After = after }, TestContext.Current.CancellationToken))
        {
            read.Add(e.Id);
        }

        var first = invoker.Sent.First(r => r.Path == "/_search");

        // search_after [time, id, the largest _shard_doc]: nothing at the position itself comes back,
        // and hardened clusters (search.allow_expensive_queries: false) refuse a range on a keyword.
        Assert.Contains(
            $$$"""
            "sort":[{"@timestamp":{"order":"desc"}},{"event.id":{"order":"desc"}},{"_shard_doc":"asc"}],"search_after":[{{{after.Time.ToUnixTimeMilliseconds()}}},"evt_1",9223372036854775807]
            """,
            first.Body,
            StringComparison.Ordinal);
        Assert.DoesNotContain("\"range\":{\"event.id\"", first.Body, StringComparison.Ordinal);

        // The scripted cluster continues after the sort values it is given, as Elasticsearch does.
        Assert.Equal(["evt_2", "evt_3", "evt_4"], read);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_cancelled_stream_still_closes_its_point_in_time()
    {
        var invoker = new ScriptedInvoker(r => Cluster(r));
        var store = EsTest.Store(invoker, EsTest.Options(o => o.StreamPageSize = 2));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var read = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var e in store.StreamAsync(new AuditQuery { OrgId = "org_42" }, cts.Token))
            {
                if (++read == 3)
                {
                    await cts.CancelAsync();
                }
            }
        });

        var close = Assert.Single(invoker.Sent, r => r.Method == "DELETE");
        Assert.Equal("/_pit", close.Path);
        Assert.Equal("""{"id":"pit-2"}""", close.Body);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_consumer_that_stops_early_closes_the_point_in_time()
    {
        var invoker = new ScriptedInvoker(r => Cluster(r));
        var store = EsTest.Store(invoker, EsTest.Options(o => o.StreamPageSize = 2));

        await foreach (var e in store.StreamAsync(new AuditQuery { OrgId = "org_42" }, TestContext.Current.CancellationToken))
        {
            break;
        }

        Assert.Single(invoker.Sent, r => r.Method == "DELETE" && r.Path == "/_pit");
    }

    [Fact(Timeout = 10_000)]
    public async Task A_failing_page_ends_the_stream_with_an_error_and_closes_the_point_in_time()
    {
        var invoker = new ScriptedInvoker(r => Cluster(r, page => page == 2 ? Answers.Error(500, "search_phase_execution_exception") : null));
        var store = EsTest.Store(invoker, EsTest.Options(o => o.StreamPageSize = 2));

        var read = 0;
        await Assert.ThrowsAsync<StoreUnavailableException>(async () =>
        {
            await foreach (var e in store.StreamAsync(new AuditQuery { OrgId = "org_42" }, TestContext.Current.CancellationToken))
            {
                read++;
            }
        });

        Assert.Equal(2, read);
        Assert.Single(invoker.Sent, r => r.Method == "DELETE" && r.Path == "/_pit");
    }

    [Fact(Timeout = 10_000)]
    public async Task Streaming_with_no_audit_index_yet_yields_nothing()
    {
        var invoker = new ScriptedInvoker(_ => Answers.Error(404, "index_not_found_exception", "no such index [audit-events-*]"));
        var store = EsTest.Store(invoker);

        var count = 0;
        await foreach (var e in store.StreamAsync(new AuditQuery { OrgId = "org_42" }, TestContext.Current.CancellationToken))
        {
            count++;
        }

        Assert.Equal(0, count);
    }
}
