using System.Text.Json.Nodes;
using AuditPipeline.EndToEnd.Tests.Support;

namespace AuditPipeline.EndToEnd.Tests;

/// <summary>What an operator sees when starting the real executable: bad configuration, setup, demo.</summary>
public sealed class StartupAndVerbTests : IDisposable
{
    private readonly WorkerSandbox _sandbox = new("startup");

    [Theory]
    [InlineData("--Roles=reporting", "Roles must be ingest, api or both (was 'reporting').")]
    [InlineData("--Store:Provider=Mongo", "Store:Provider must be Embedded or Elasticsearch (was 'Mongo').")]
    [InlineData("--Ingest:BatchSize=0", "Ingest:BatchSize must be 1 to 100000 (was 0).")]
    [InlineData("--Retention:DefaultPlan=gold", "Retention:DefaultPlan must be 'professional' or 'enterprise' (was 'gold').")]
    [InlineData("--Retention:Orgs:org_1:Years=9", "Retention:Orgs:org_1:Years must be 1 to 7 for an enterprise plan (was 9).")]
    [InlineData("--Api:Keys:0:Sha256=nothex", "Api:Keys:0:Sha256")]
    [InlineData("--Kafka:BootstrapServers=127.0.0.1:1", "Kafka:GroupId")]
    public async Task Invalid_configuration_stops_start_up_with_exit_1_naming_the_key(string bad, string expected)
    {
        var extra = bad.StartsWith("--Retention:Orgs", StringComparison.Ordinal) ? new[] { bad, "--Retention:Orgs:org_1:Plan=enterprise" }
            : bad.StartsWith("--Kafka", StringComparison.Ordinal) ? [bad, "--Kafka:GroupId= "] : [bad];
        await using var worker = _sandbox.Start(extra);
        Assert.Equal(1, await worker.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains(expected, worker.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Setup_print_writes_every_policy_template_and_role_as_json_without_a_cluster()
    {
        await using var worker = WorkerProcess.Start(["setup", "--print"], _sandbox.Root);
        Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var printed = JsonNode.Parse(worker.Stdout)!.ToJsonString();
        foreach (var name in new[] { "p2y", "e1y", "e7y", "_ilm/policy", "_index_template", "_security/role", "create_doc", "parse_origination_date" })
        {
            Assert.Contains(name, printed, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Demo_fills_the_inbox_ingests_it_and_serves_it_with_health_readiness_metrics_and_openapi()
    {
        await using var worker = WorkerProcess.Start(
            ["demo", $"--Inbox:Path={_sandbox.Inbox}", $"--Store:Embedded:Path={_sandbox.Data}", $"--Api:Urls=http://127.0.0.1:{_sandbox.Port}", "--Demo:EventsPerOrg=300"],
            _sandbox.Root);
        await _sandbox.WaitReadyAsync(worker, TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = _sandbox.Http.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new("Bearer", "demo-key-not-for-production");

        var deadline = DateTime.UtcNow.AddSeconds(60);
        JsonArray items;
        do
        {
            await Task.Delay(300, TestContext.Current.CancellationToken);
            items = JsonNode.Parse(await http.GetStringAsync(new Uri("/v1/orgs/org_acme/events?limit=500&range=90d", UriKind.Relative), TestContext.Current.CancellationToken))!["items"]!.AsArray();
        }
        while (items.Count < 100 && DateTime.UtcNow < deadline);

        Assert.True(items.Count >= 100, worker.Log);
        var categories = items.Select(i => i!["category"]!.GetValue<string>()).ToHashSet();
        Assert.Superset(new HashSet<string> { "crm", "auth", "ai" }, categories);
        Assert.Contains(items, i => i!["ai"] is JsonObject);
        Assert.Contains(items, i => i!["outcome"]!.GetValue<string>() == "failure");

        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync(new Uri("/healthz", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
        // The store serves a batch before the pipeline counts it (the integrity observer runs in
        // between), so the counters are waited for rather than read once.
        string metrics;
        do
        {
            metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
        }
        while (!metrics.Contains("audit_events_stored_total{", StringComparison.Ordinal) && DateTime.UtcNow < deadline.AddSeconds(30) && await Delay());

        foreach (var name in new[] { "audit_events_consumed_total{", "audit_events_stored_total{", "audit_events_dead_lettered_total{", "audit_consumer_lag", "audit_store_write_duration_seconds_bucket" })
        {
            Assert.Contains(name, metrics, StringComparison.Ordinal);
        }

        Assert.Contains("kind=\"crm\"", metrics, StringComparison.Ordinal);
        Assert.Contains("service_name=\"audit-pipeline\"", metrics, StringComparison.Ordinal);
        var openapi = JsonNode.Parse(await http.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative), TestContext.Current.CancellationToken))!;
        Assert.NotNull(openapi["paths"]!["/v1/orgs/{orgId}/events"]);
    }

    public void Dispose() => _sandbox.Dispose();

    private static async Task<bool> Delay()
    {
        await Task.Delay(200, TestContext.Current.CancellationToken);
        return true;
    }
}
