using System.Text;
using System.Text.Json;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;
using AuditPipeline.Testing;
using EsMethod = Elastic.Transport.HttpMethod;

namespace AuditPipeline.Elasticsearch.Tests.Cluster;

/// <summary>The store's behaviours against a real Elasticsearch (skipped without Docker).</summary>
public sealed class ElasticsearchClusterTests(ElasticsearchClusterFixture cluster) : IClassFixture<ElasticsearchClusterFixture>
{
    private static DateTimeOffset ThisMonth(int minutesAgo) =>
        AuditJson.TruncateToMilliseconds(DateTimeOffset.UtcNow.AddMinutes(-minutesAgo));

    [Fact]
    public async Task Events_round_trip_through_the_cluster_and_a_redelivery_is_a_duplicate()
    {
        cluster.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        var org = "org_rt_" + Guid.NewGuid().ToString("N")[..8];
        var store = cluster.CreateStore();
        var events = new[]
        {
            Some.Event(orgId: org, time: ThisMonth(3)),
            Some.AiEvent(orgId: org, time: ThisMonth(2)),
            Some.FailedLogin(orgId: org, time: ThisMonth(1)) with { Ip = "not-an-ip" },
        };

        var first = await store.AppendAsync(events, ct);
        var again = await store.AppendAsync(events, ct);

        Assert.All(first, r => Assert.Equal(AppendOutcome.Stored, r.Outcome));
        Assert.All(again, r => Assert.Equal(AppendOutcome.Duplicate, r.Outcome));
        foreach (var e in events)
        {
            var read = await store.GetAsync(org, e.Id, ct);
            Assert.NotNull(read);
            Assert.Equal(AuditJson.Serialize(e), AuditJson.Serialize(read));
        }

        Assert.Null(await store.GetAsync("some_other_org", events[0].Id, ct));
    }

    [Fact]
    public async Task The_same_event_id_in_two_organisations_is_two_events()
    {
        cluster.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var store = cluster.CreateStore();
        var a = Some.Event("evt_shared_" + suffix, orgId: "org_a_" + suffix, time: ThisMonth(2));
        var b = Some.Event("evt_shared_" + suffix, orgId: "org_b_" + suffix, time: ThisMonth(1)) with { Action = "deleted" };

        var first = await store.AppendAsync([a], ct);
        var second = await store.AppendAsync([b], ct);
        var again = await store.AppendAsync([a, b], ct);

        Assert.Equal([AppendOutcome.Stored, AppendOutcome.Stored], first.Concat(second).Select(r => r.Outcome));
        Assert.Equal([AppendOutcome.Duplicate, AppendOutcome.Duplicate], again.Select(r => r.Outcome));
        Assert.Equal(AuditJson.Serialize(a), AuditJson.Serialize((await store.GetAsync(a.OrgId, a.Id, ct))!));
        Assert.Equal(AuditJson.Serialize(b), AuditJson.Serialize((await store.GetAsync(b.OrgId, b.Id, ct))!));
    }

    [Fact]
    public async Task Queries_filter_page_and_stream_newest_first()
    {
        cluster.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        var org = "org_q_" + Guid.NewGuid().ToString("N")[..8];
        var store = cluster.CreateStore();
        var events = Enumerable.Range(0, 7).Select(i => Some.Event(orgId: org, time: ThisMonth(10 + i))).ToList();
        events.Add(Some.AiEvent(orgId: org, time: ThisMonth(5)));
        events.Add(Some.FailedLogin(orgId: org, time: ThisMonth(4)));
        await store.AppendAsync(events, ct);
        var expected = events.OrderByDescending(e => e.Time).ThenByDescending(e => e.Id, IdOrder.Instance).Select(e => e.Id).ToList();

        var pages = new List<string>();
        AuditPosition? after = null;
        do
        {
            var page = await store.QueryAsync(new AuditQuery { OrgId = org, After = after }, 4, ct);
            pages.AddRange(page.Items.Select(e => e.Id));
            after = page.Next;
        }
        while (after is not null);

        var streamed = new List<string>();
        await foreach (var e in store.StreamAsync(new AuditQuery { OrgId = org }, ct))
        {
            streamed.Add(e.Id);
        }

        Assert.Equal(expected, pages);
        Assert.Equal(expected, streamed);
        Assert.Equal([events[^2].Id], (await store.QueryAsync(new AuditQuery { OrgId = org, Ai = [true] }, 50, ct)).Items.Select(e => e.Id));
        Assert.Equal([events[^1].Id], (await store.QueryAsync(new AuditQuery { OrgId = org, Terms = ["mallory@evil"] }, 50, ct)).Items.Select(e => e.Id));
        Assert.Equal(7, (await store.QueryAsync(new AuditQuery { OrgId = org, Actions = ["stage_changed"], Terms = ["acme", "ANA"] }, 50, ct)).Items.Count);
        Assert.Empty((await store.QueryAsync(new AuditQuery { OrgId = org, Terms = ["cme"] }, 50, ct)).Items);
    }

    [Fact]
    public async Task An_event_for_a_read_only_month_goes_to_the_late_index_once_and_never_doubles()
    {
        cluster.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        var org = "org_late_" + Guid.NewGuid().ToString("N")[..8];
        var store = cluster.CreateStore();
        // Last month: old enough to be closed, far from its deletion age (ILM must not remove it mid-test).
        var now = DateTimeOffset.UtcNow;
        var oldMonth = new DateTimeOffset(now.Year, now.Month, 1, 8, 0, 0, TimeSpan.Zero).AddMonths(-1).AddDays(9);
        var monthIndex = "audit-events-p2y-" + oldMonth.ToString("yyyy.MM", System.Globalization.CultureInfo.InvariantCulture) + ".01";
        var early = Some.Event(orgId: org, time: oldMonth);
        var late = Some.Event(orgId: org, time: oldMonth.AddHours(1));
        Assert.Equal(AppendOutcome.Stored, (await store.AppendAsync([early], ct))[0].Outcome);
        var block = await cluster.Connection().SendAsync(
            EsMethod.PUT, $"/{monthIndex}/_block/write", null, ct);
        Assert.True(block.Success, block.Describe());

        var results = await store.AppendAsync([late, early], ct);
        var redelivered = await store.AppendAsync([late], ct);

        Assert.Equal([AppendOutcome.Stored, AppendOutcome.Duplicate], results.Select(r => r.Outcome));
        Assert.Equal(AppendOutcome.Duplicate, Assert.Single(redelivered).Outcome);
        var lateIndex = "audit-events-p2y-late-" + DateTimeOffset.UtcNow.ToString("yyyy.MM", System.Globalization.CultureInfo.InvariantCulture) + ".01";
        var where = await cluster.Connection().SendAsync(EsMethod.GET, $"/{lateIndex}/_doc/{late.Id}", null, ct);
        Assert.True(where.Success, where.Describe());
        Assert.Equal(AuditJson.Serialize(late), AuditJson.Serialize((await store.GetAsync(org, late.Id, ct))!));
    }

    [Fact]
    public async Task The_strict_mapping_refuses_what_it_does_not_know_and_setup_is_idempotent()
    {
        cluster.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        using var output = new StringWriter();
        Assert.Equal(0, await cluster.Setup().RunAsync(print: false, output, ct));

        var index = "audit-events-p2y-" + DateTimeOffset.UtcNow.ToString("yyyy.MM", System.Globalization.CultureInfo.InvariantCulture) + ".01";
        var stray = Encoding.UTF8.GetBytes("""{"@timestamp":"2026-01-01T00:00:00.000Z","unexpected":{"field":1}}""");
        var response = await cluster.Connection().SendAsync(EsMethod.POST, $"/{index}/_doc", stray, ct);

        Assert.Equal(400, response.Status);
        Assert.Contains("strict", Encoding.UTF8.GetString(response.Body), StringComparison.Ordinal);
        var settings = await cluster.Connection().SendAsync(EsMethod.GET, $"/{index}/_settings/index.lifecycle.*?flat_settings=true", null, ct);
        using var json = JsonDocument.Parse(settings.Body);
        var flat = json.RootElement.GetProperty(index).GetProperty("settings");
        Assert.Equal("audit-events-p2y", flat.GetProperty("index.lifecycle.name").GetString());
        Assert.Equal("true", flat.GetProperty("index.lifecycle.parse_origination_date").GetString());
    }
}
