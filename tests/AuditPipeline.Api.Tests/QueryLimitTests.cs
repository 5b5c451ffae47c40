using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using AuditPipeline.Api.Tests.Support;
using AuditPipeline.Core.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace AuditPipeline.Api.Tests;

/// <summary>The caps of contract section 4 on what one list or CSV request may ask for and how long it may run.</summary>
public sealed class QueryLimitTests(SeededHost seeded) : IClassFixture<SeededHost>
{
    private static string Events => $"/v1/orgs/{TestKeys.Org}/events";

    private static string Terms(int count, int length = 3) =>
        string.Join(' ', Enumerable.Range(0, count).Select(i => new string((char)('a' + (i % 26)), length)));

    [Theory]
    [InlineData("/events")]
    [InlineData("/events.csv")]
    public async Task Seventeen_q_terms_are_a_400_naming_q(string endpoint)
    {
        using var response = await seeded.Host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}{endpoint}?q={Uri.EscapeDataString(Terms(17))}");

        var problem = await Http.BadRequestAsync(response, "q");
        Assert.Contains("16", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Q_terms_spread_over_several_q_values_count_together()
    {
        var query = string.Join('&', Enumerable.Range(0, 9).Select(i => "q=" + Uri.EscapeDataString(Terms(2))));

        using var response = await seeded.Host.Client().GetAsync($"{Events}?{query}");

        await Http.BadRequestAsync(response, "q");
    }

    [Fact]
    public async Task Many_q_values_are_refused_before_they_are_joined()
    {
        var query = string.Join('&', Enumerable.Range(0, 5000).Select(_ => "q=a"));

        using var response = await seeded.Host.Client().GetAsync($"{Events}?{query}");

        await Http.BadRequestAsync(response, "q");
    }

    [Fact]
    public async Task A_q_term_of_257_characters_is_a_400_naming_q()
    {
        using var response = await seeded.Host.Client().GetAsync($"{Events}?q={new string('x', 257)}");

        var problem = await Http.BadRequestAsync(response, "q");
        Assert.Contains("256", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sixteen_q_terms_of_256_characters_are_allowed()
    {
        var q = string.Join(' ', Enumerable.Range(0, 16).Select(i => new string((char)('a' + i), 256)));

        var (items, _, _) = await Http.PageAsync(seeded.Host.Client(), $"{Events}?q={q}");

        Assert.Empty(items);
    }

    [Theory]
    [InlineData("action")]
    [InlineData("user")]
    [InlineData("entityType")]
    [InlineData("entityId")]
    [InlineData("category")]
    [InlineData("source")]
    [InlineData("outcome")]
    [InlineData("ai")]
    public async Task A_filter_repeated_101_times_is_a_400_naming_it(string name)
    {
        var value = name switch { "category" => "crm", "source" => "api", "outcome" => "success", "ai" => "true", _ => "x" };
        var query = string.Join('&', Enumerable.Repeat($"{name}={value}", 101));

        using var response = await seeded.Host.Client().GetAsync($"{Events}?{query}");

        var problem = await Http.BadRequestAsync(response, name);
        Assert.Contains("100", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_filter_repeated_100_times_is_allowed()
    {
        var query = string.Join('&', Enumerable.Range(0, 100).Select(i => $"action=a{i}"));

        var (items, next, _) = await Http.PageAsync(seeded.Host.Client(), $"{Events}?{query}");

        Assert.Empty(items);
        Assert.Null(next);
    }

    [Fact]
    public async Task The_csv_refuses_too_many_repeats_the_same_way()
    {
        var query = string.Join('&', Enumerable.Repeat("entityId=x", 101));

        using var response = await seeded.Host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/events.csv?{query}");

        await Http.BadRequestAsync(response, "entityId");
    }

    [Fact]
    public async Task A_page_the_store_ended_early_with_no_items_still_carries_a_cursor_that_goes_on()
    {
        var store = new EarlyEndingStore(TestStores.CreateTemp());
        await using var host = await ApiHost.StartAsync(store: store);
        var events = Dataset.Generate(60, seed: 21);
        await host.SeedAsync(events);
        var client = host.Client();

        var (first, cursor, raw) = await Http.PageAsync(client, $"{Events}?limit=10");
        var (second, _, _) = await Http.PageAsync(client, $"{Events}?limit=10&cursor={Uri.EscapeDataString(cursor!)}");

        Assert.Empty(first);
        Assert.Equal(System.Text.Json.JsonValueKind.String, raw.GetProperty("nextCursor").ValueKind);
        var expected = Http.Expected(events, new Core.Storage.AuditQuery { OrgId = TestKeys.Org }).Take(10).Select(e => e.Id);
        Assert.Equal(expected, second.Select(e => e.Id));
    }

    [Theory]
    [InlineData("/events", "list")]
    [InlineData("/events/evt_1", "detail")]
    public async Task A_read_past_Api_QueryTimeout_is_a_503_with_Retry_After_and_is_counted(string endpoint, string label)
    {
        var store = new HangingStore(TestStores.CreateTemp());
        await using var host = await ApiHost.StartAsync(store: store, settings: new Dictionary<string, string?> { ["Api:QueryTimeout"] = "00:00:00.300" });
        using var cutOff = new MetricCollector<long>(host.Services.GetRequiredService<IMeterFactory>(), AuditMetrics.MeterName, ApiMetrics.CutOffName);

        using var response = await host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}{endpoint}");

        await Http.ProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After is missing");
        var measurement = Assert.Single(cutOff.GetMeasurementSnapshot());
        Assert.Equal(label, measurement.Tags["endpoint"]);
    }

    [Fact]
    public async Task A_csv_that_finds_nothing_within_Api_CsvTimeout_is_a_503_not_an_empty_file()
    {
        var store = new HangingStore(TestStores.CreateTemp());
        await using var host = await ApiHost.StartAsync(store: store, settings: new Dictionary<string, string?> { ["Api:CsvTimeout"] = "00:00:00.300" });
        using var cutOff = new MetricCollector<long>(host.Services.GetRequiredService<IMeterFactory>(), AuditMetrics.MeterName, ApiMetrics.CutOffName);

        using var response = await host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/events.csv");

        await Http.ProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After is missing");
        Assert.Equal("csv", Assert.Single(cutOff.GetMeasurementSnapshot()).Tags["endpoint"]);
    }

    [Fact]
    public async Task A_csv_cut_off_mid_way_breaks_the_download_rather_than_ending_it_cleanly()
    {
        var store = new GatedStore(TestStores.CreateTemp(), pauseAfter: 20);
        // Long enough for the first rows even on a loaded machine; the gate then holds the stream past it.
        await using var host = await ApiHost.StartAsync(store: store, settings: new Dictionary<string, string?> { ["Api:CsvTimeout"] = "00:00:03" });
        await host.SeedAsync(Dataset.Generate(200, seed: 5));

        using var response = await host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/events.csv", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();

        // Reading to the end must fail: a short file that ends cleanly would look complete.
        var failure = await Record.ExceptionAsync(async () => await body.CopyToAsync(Stream.Null));
        Assert.NotNull(failure);
        Assert.False(store.Completed);
    }

    [Fact]
    public async Task A_timeout_setting_out_of_range_stops_the_start_naming_the_key()
    {
        var failure = await Record.ExceptionAsync(async () =>
        {
            await using var host = await ApiHost.StartAsync(settings: new Dictionary<string, string?> { ["Api:QueryTimeout"] = "00:00:00" });
        });

        Assert.Contains("Api:QueryTimeout", failure?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_q_term_may_be_256_characters_of_any_kind()
    {
        var emoji = new StringBuilder().Insert(0, "🚀", 128).ToString();

        Assert.Null(Querying.TextLimits.Check([emoji]));
        Assert.NotNull(Querying.TextLimits.Check([emoji + "a"]));
    }
}
