using AuditPipeline.Core.Storage;
using AuditPipeline.Elasticsearch.Tests.Support;
using AuditPipeline.Testing;

namespace AuditPipeline.Elasticsearch.Tests;

/// <summary>
/// Elasticsearch 8.x and 9.x: an 8.x cluster refuses <c>compatible-with=9</c> (400
/// media_type_header_exception), so every request carries the media types of the cluster's version.
/// </summary>
public sealed class VersionTests
{
    [Theory]
    [InlineData("8.19.3", "application/vnd.elasticsearch+json;compatible-with=8", "application/vnd.elasticsearch+x-ndjson;compatible-with=8")]
    [InlineData("9.2.1", "application/vnd.elasticsearch+json;compatible-with=9", "application/vnd.elasticsearch+x-ndjson;compatible-with=9")]
    [InlineData("10.0.0", "application/vnd.elasticsearch+json;compatible-with=9", "application/vnd.elasticsearch+x-ndjson;compatible-with=9")]
    public async Task Every_request_speaks_the_media_type_of_the_cluster_s_version(string version, string json, string ndjson)
    {
        var invoker = new ScriptedInvoker(r => r.Path.StartsWith("/_bulk", StringComparison.Ordinal) ? Answers.Bulk(201) : Answers.Hits([])) { Root = Answers.Root(version) };
        var store = EsTest.Store(invoker);

        await store.AppendAsync([Some.Event()], TestContext.Current.CancellationToken);
        await store.QueryAsync(new AuditQuery { OrgId = "org_42" }, 10, TestContext.Current.CancellationToken);

        var probe = invoker.All[0];
        Assert.Equal(("GET", "/", "application/json"), (probe.Method, probe.Path, probe.Accept));
        Assert.Single(invoker.All, r => r.Path == "/");
        var bulk = invoker.Sent.Single(r => r.Path.StartsWith("/_bulk", StringComparison.Ordinal));
        Assert.Equal((json, ndjson), (bulk.Accept, bulk.ContentType));
        var searches = invoker.All.Where(r => r.Path.Contains("/_search", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, searches.Count);
        Assert.All(searches, s => Assert.Equal((json, json), (s.Accept, s.ContentType)));
    }

    [Fact]
    public async Task A_user_without_the_monitor_privilege_speaks_plain_json_which_every_supported_version_takes()
    {
        var invoker = new ScriptedInvoker(_ => Answers.Bulk(201)) { Root = Answers.Error(403, "security_exception", "action [cluster:monitor/main] is unauthorized") };
        var store = EsTest.Store(invoker);

        await store.AppendAsync([Some.Event()], TestContext.Current.CancellationToken);

        var bulk = Assert.Single(invoker.Sent);
        Assert.Equal(("application/json", "application/x-ndjson"), (bulk.Accept, bulk.ContentType));
    }

    [Fact]
    public async Task A_cluster_older_than_8_makes_the_store_unavailable_with_a_message_saying_so()
    {
        var invoker = new ScriptedInvoker(_ => Answers.Bulk(201)) { Root = Answers.Root("7.17.9") };
        var store = EsTest.Store(invoker, EsTest.Options(o => o.MaxAttempts = 2));

        var ex = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.AppendAsync([Some.Event()], TestContext.Current.CancellationToken));

        Assert.Contains("needs 8.x or 9.x", ex.Message, StringComparison.Ordinal);
        Assert.Empty(invoker.Sent);
    }

    [Fact]
    public async Task An_unreachable_cluster_is_probed_again_on_the_next_request()
    {
        var invoker = new ScriptedInvoker(_ => Answers.Bulk(201));
        invoker.Root = new Canned(0, "", new HttpRequestException("connection refused"));
        var store = EsTest.Store(invoker, EsTest.Options(o => o.MaxAttempts = 1));

        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.AppendAsync([Some.Event()], TestContext.Current.CancellationToken));
        invoker.Root = Answers.Root("8.18.0");
        var results = await store.AppendAsync([Some.Event()], TestContext.Current.CancellationToken);

        Assert.Equal(AppendOutcome.Stored, Assert.Single(results).Outcome);
        Assert.Equal("application/vnd.elasticsearch+x-ndjson;compatible-with=8", Assert.Single(invoker.Sent).ContentType);
    }
}
