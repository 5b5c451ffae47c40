using System.Net;
using System.Text;
using AuditPipeline.Api.Tests.Support;
using AuditPipeline.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Api.Tests;

/// <summary>401, 404, 403 and 429 in the contract's order, and key validation at start-up.</summary>
public sealed class AccessTests : IAsyncLifetime
{
    private ApiHost _host = null!;
    private readonly string _eventId = Some.Id();
    private readonly string _otherEventId = Some.Id();

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync();
        await _host.SeedAsync([Some.Event(_eventId, TestKeys.Org), Some.Event(_otherEventId, TestKeys.OtherOrg)]);
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    public static TheoryData<string> ReadPaths => [$"/v1/orgs/{TestKeys.Org}/events", $"/v1/orgs/{TestKeys.Org}/events/evt_x", $"/v1/orgs/{TestKeys.Org}/events.csv", $"/v1/orgs/{TestKeys.Org}/exports/exp_0123456789abcdef0123456789abcdef"];

    [Theory]
    [MemberData(nameof(ReadPaths))]
    public async Task A_request_without_a_key_gets_401_with_a_bearer_challenge(string path)
    {
        using var response = await _host.Client(key: null).GetAsync(path);

        await Http.ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Theory]
    [InlineData("Bearer not-a-configured-key")]
    [InlineData("Basic cmF3LWtleS1mdWxsLW9yZzQyOg==")]
    [InlineData("Bearer")]
    [InlineData("raw-key-full-org42")]
    [InlineData("Bearer raw-key-full-org42x")]
    public async Task A_wrong_or_malformed_key_gets_401(string authorization)
    {
        using var client = _host.Client(key: null);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/orgs/{TestKeys.Org}/events");
        request.Headers.TryAddWithoutValidation("Authorization", authorization);

        using var response = await client.SendAsync(request);

        await Http.ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
    }

    [Fact]
    public async Task The_hash_of_a_key_is_not_a_key()
    {
        using var response = await _host.Client(TestKeys.Hash(TestKeys.Full)).GetAsync($"/v1/orgs/{TestKeys.Org}/events");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_key_of_another_organisation_gets_the_same_404_as_a_missing_event()
    {
        var client = _host.Client(TestKeys.Full);

        using var missing = await client.GetAsync($"/v1/orgs/{TestKeys.Org}/events/evt_does_not_exist");
        using var foreignList = await client.GetAsync($"/v1/orgs/{TestKeys.OtherOrg}/events");
        using var foreignEvent = await client.GetAsync($"/v1/orgs/{TestKeys.OtherOrg}/events/{_otherEventId}");
        using var foreignCsv = await client.GetAsync($"/v1/orgs/{TestKeys.OtherOrg}/events.csv");
        using var unknownOrg = await client.GetAsync("/v1/orgs/org_nobody/events");

        var reference = Shape(await Http.ProblemAsync(missing, HttpStatusCode.NotFound));
        foreach (var r in new[] { foreignList, foreignEvent, foreignCsv, unknownOrg })
        {
            Assert.Equal(reference, Shape(await Http.ProblemAsync(r, HttpStatusCode.NotFound)));
        }
    }

    [Fact]
    public async Task An_event_of_another_organisation_is_not_found_even_for_the_service_key_under_the_wrong_org()
    {
        using var response = await _host.Client(TestKeys.Service).GetAsync($"/v1/orgs/{TestKeys.Org}/events/{_otherEventId}");

        await Http.ProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_missing_scope_gets_403_only_after_the_organisation_check()
    {
        using var readerCsv = await _host.Client(TestKeys.Reader).GetAsync($"/v1/orgs/{TestKeys.Org}/events.csv");
        using var readerExport = await _host.Client(TestKeys.Reader).PostAsync($"/v1/orgs/{TestKeys.Org}/exports", new StringContent("{}", Encoding.UTF8, "application/json"));
        using var exporterList = await _host.Client(TestKeys.Exporter).GetAsync($"/v1/orgs/{TestKeys.Org}/events");
        using var exporterEvent = await _host.Client(TestKeys.Exporter).GetAsync($"/v1/orgs/{TestKeys.Org}/events/{_eventId}");
        using var readerForeignCsv = await _host.Client(TestKeys.Reader).GetAsync($"/v1/orgs/{TestKeys.OtherOrg}/events.csv");

        var problem = await Http.ProblemAsync(readerCsv, HttpStatusCode.Forbidden);
        Assert.Contains("audit:export", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Http.ProblemAsync(readerExport, HttpStatusCode.Forbidden);
        Assert.Contains("audit:read", (await Http.ProblemAsync(exporterList, HttpStatusCode.Forbidden)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Http.ProblemAsync(exporterEvent, HttpStatusCode.Forbidden);
        await Http.ProblemAsync(readerForeignCsv, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_key_with_the_scope_gets_its_own_organisations_data()
    {
        using var list = await _host.Client(TestKeys.Reader).GetAsync($"/v1/orgs/{TestKeys.Org}/events");
        using var csv = await _host.Client(TestKeys.Exporter).GetAsync($"/v1/orgs/{TestKeys.Org}/events.csv");
        using var other = await _host.Client(TestKeys.Other).GetAsync($"/v1/orgs/{TestKeys.OtherOrg}/events/{_otherEventId}");

        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Theory]
    [InlineData("PUT", "/events")]
    [InlineData("PATCH", "/events")]
    [InlineData("DELETE", "/events")]
    [InlineData("POST", "/events")]
    [InlineData("PUT", "/events/EVENT")]
    [InlineData("PATCH", "/events/EVENT")]
    [InlineData("DELETE", "/events/EVENT")]
    [InlineData("DELETE", "/events.csv")]
    public async Task No_method_changes_or_deletes_an_event(string method, string path)
    {
        using var client = _host.Client(TestKeys.Service);
        using var request = new HttpRequestMessage(new HttpMethod(method), $"/v1/orgs/{TestKeys.Org}{path.Replace("EVENT", _eventId, StringComparison.Ordinal)}")
        {
            Content = new StringContent("{\"action\":\"hacked\"}", Encoding.UTF8, "application/json"),
        };

        using var response = await client.SendAsync(request);

        await Http.ProblemAsync(response, HttpStatusCode.MethodNotAllowed);
        Assert.Contains("GET", response.Content.Headers.Allow);
        Assert.Equal("stage_changed", (await _host.Store.GetAsync(TestKeys.Org, _eventId, CancellationToken.None))!.Action);
    }

    [Fact]
    public async Task The_write_methods_answer_405_even_without_a_key()
    {
        using var response = await _host.Client(key: null).DeleteAsync($"/v1/orgs/{TestKeys.Org}/events/{_eventId}");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Theory]
    [InlineData("/v1/orgs/org_42/nothing")]
    [InlineData("/v1/nothing")]
    [InlineData("/v2/orgs/org_42/events")]
    [InlineData("/v1/orgs/org_42/events/a/b")]
    public async Task Unknown_routes_are_404(string path)
    {
        using var response = await _host.Client().GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task The_OpenAPI_document_needs_no_key_and_lists_every_route()
    {
        using var response = await _host.Client(key: null).GetAsync("/openapi/v1.json");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        foreach (var path in new[] { "/v1/orgs/{orgId}/events", "/v1/orgs/{orgId}/events/{eventId}", "/v1/orgs/{orgId}/events.csv", "/v1/orgs/{orgId}/exports", "/v1/orgs/{orgId}/exports/{exportId}", "/v1/orgs/{orgId}/exports/{exportId}/download" })
        {
            Assert.Contains($"\"{path}\"", text, StringComparison.Ordinal);
        }

        Assert.Contains("\"bearer\"", text, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_host.Directory, "openapi.json"), text);
    }

    [Fact]
    public async Task A_key_over_its_rate_gets_429_with_Retry_After_and_other_keys_are_unaffected()
    {
        await using var host = await ApiHost.StartAsync(settings: new Dictionary<string, string?> { ["Api:RateLimit:PermitsPerMinute"] = "3" });
        var client = host.Client(TestKeys.Reader);
        for (var i = 0; i < 3; i++)
        {
            using var ok = await client.GetAsync($"/v1/orgs/{TestKeys.Org}/events");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using var limited = await client.GetAsync($"/v1/orgs/{TestKeys.Org}/events");
        using var otherKey = await host.Client(TestKeys.Full).GetAsync($"/v1/orgs/{TestKeys.Org}/events");

        await Http.ProblemAsync(limited, HttpStatusCode.TooManyRequests);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After is set");
        Assert.Equal(HttpStatusCode.OK, otherKey.StatusCode);
    }

    [Theory]
    [InlineData("Api:Keys:0:Sha256", "ABCDEF", "Api:Keys:0:Sha256 must be 64 lower-case hex characters")]
    [InlineData("Api:Keys:1:Sha256", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "Api:Keys:1:Sha256 must be 64 lower-case hex characters")]
    [InlineData("Api:Keys:0:Name", "", "Api:Keys:0:Name must not be empty")]
    [InlineData("Api:Keys:1:Name", "full", "Api:Keys:1:Name 'full' is used by another key")]
    [InlineData("Api:Keys:2:Org", "", "Api:Keys:2:Org must be an organisation id")]
    [InlineData("Api:Keys:0:Scopes:1", "audit:write", "Api:Keys:0:Scopes:1 must be one of")]
    [InlineData("Api:RateLimit:PermitsPerMinute", "0", "Api:RateLimit:PermitsPerMinute must be at least 1")]
    [InlineData("Api:CursorKey", "c2hvcnQ=", "Api:CursorKey must be base64 of at least 32 bytes")]
    [InlineData("Exports:MaxConcurrent", "0", "Exports:MaxConcurrent must be 1 to 64")]
    [InlineData("Exports:RetentionDays", "0", "Exports:RetentionDays must be at least 1")]
    [InlineData("Exports:WebhookUrl", "ftp://x", "Exports:WebhookUrl must be an absolute http or https URL")]
    [InlineData("Exports:WebhookUrl", "https://hooks.example/audit", "Exports:WebhookSecret must be set")]
    public async Task Invalid_configuration_stops_start_up_naming_the_key(string key, string value, string message)
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var host = await ApiHost.StartAsync(settings: new Dictionary<string, string?> { [key] = value });
        });

        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_bind_from_the_command_line_shape_of_the_contract()
    {
        var configuration = new ConfigurationBuilder().AddCommandLine(
        [
            "--Api:Keys:0:Name=app", $"--Api:Keys:0:Sha256={TestKeys.Hash("k")}", "--Api:Keys:0:Org=*", "--Api:Keys:0:Scopes:0=audit:read",
        ]).Build();
        var services = new ServiceCollection().AddLogging().AddAuditApi(configuration).BuildServiceProvider();

        var options = services.GetRequiredService<IOptions<ApiOptions>>().Value;

        var key = Assert.Single(options.Keys);
        Assert.Equal(("app", "*", "audit:read"), (key.Name, key.Org, key.Scopes.Single()));
    }

    private static string Shape(System.Text.Json.JsonElement problem) =>
        $"{problem.GetProperty("status")}|{problem.GetProperty("title")}|{problem.GetProperty("detail")}";
}
