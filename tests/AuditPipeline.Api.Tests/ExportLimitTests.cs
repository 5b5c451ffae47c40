using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using System.Text.Json;
using AuditPipeline.Api.Exports;
using AuditPipeline.Api.Tests.Support;
using AuditPipeline.Core.Diagnostics;
using AuditPipeline.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace AuditPipeline.Api.Tests;

/// <summary>Export caps (per key, in all), the free-space guard, and the caps on the export body's filters.</summary>
public sealed class ExportLimitTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static string Exports => $"/v1/orgs/{TestKeys.Org}/exports";

    [Fact]
    public async Task A_key_past_Exports_MaxActivePerKey_gets_429_with_Retry_After_and_others_go_on()
    {
        var store = new GatedStore(TestStores.CreateTemp(), pauseAfter: 0);
        await using var host = await ApiHost.StartAsync(store: store, settings: new Dictionary<string, string?> { ["Exports:MaxActivePerKey"] = "2" });
        await host.SeedAsync(Dataset.Generate(30, seed: 2));
        using var refused = new MetricCollector<long>(host.Services.GetRequiredService<IMeterFactory>(), AuditMetrics.MeterName, ApiMetrics.ExportsRefusedName);
        var client = host.Client(TestKeys.Exporter);

        var first = await CreateAsync(client);
        var second = await CreateAsync(client);
        using var third = await client.PostAsync(Exports, Json("{}"));
        using var otherKey = await host.Client(TestKeys.Full).PostAsync(Exports, Json("{}"));

        var problem = await Http.ProblemAsync(third, HttpStatusCode.TooManyRequests);
        Assert.Contains("2 exports", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(ExportAdmission.RetryAfterSeconds), third.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.Accepted, otherKey.StatusCode);
        Assert.Equal(ExportRefusals.PerKey, Assert.Single(refused.GetMeasurementSnapshot()).Tags["reason"]);

        // Once its exports are done the key may export again.
        store.Open();
        await WaitForAsync(client, first, "completed");
        await WaitForAsync(client, second, "completed");
        await CreateAsync(client);
    }

    [Fact]
    public async Task The_worker_past_Exports_MaxActive_gives_429_to_every_key()
    {
        var store = new GatedStore(TestStores.CreateTemp(), pauseAfter: 0);
        await using var host = await ApiHost.StartAsync(store: store, settings: new Dictionary<string, string?>
        {
            ["Exports:MaxActive"] = "2",
            ["Exports:MaxActivePerKey"] = "1",
        });
        await host.SeedAsync(Dataset.Generate(30, seed: 2));
        using var refused = new MetricCollector<long>(host.Services.GetRequiredService<IMeterFactory>(), AuditMetrics.MeterName, ApiMetrics.ExportsRefusedName);

        await CreateAsync(host.Client(TestKeys.Exporter));
        await CreateAsync(host.Client(TestKeys.Full));
        using var third = await host.Client(TestKeys.Service).PostAsync(Exports, Json("{}"));

        var problem = await Http.ProblemAsync(third, HttpStatusCode.TooManyRequests);
        Assert.Contains("2 exports", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.NotNull(third.Headers.RetryAfter?.Delta);
        Assert.Equal(ExportRefusals.Global, Assert.Single(refused.GetMeasurementSnapshot()).Tags["reason"]);
        store.Open();
    }

    [Fact]
    public async Task Concurrent_requests_never_get_more_slots_than_the_cap()
    {
        var store = new GatedStore(TestStores.CreateTemp(), pauseAfter: 0);
        await using var host = await ApiHost.StartAsync(store: store, settings: new Dictionary<string, string?> { ["Exports:MaxActivePerKey"] = "3" });
        await host.SeedAsync(Dataset.Generate(10, seed: 2));
        var client = host.Client(TestKeys.Exporter);

        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(async _ =>
        {
            using var r = await client.PostAsync(Exports, Json("{}"));
            return r.StatusCode;
        }));

        Assert.Equal(3, answers.Count(s => s == HttpStatusCode.Accepted));
        Assert.Equal(9, answers.Count(s => s == HttpStatusCode.TooManyRequests));
        store.Open();
    }

    [Fact]
    public async Task An_export_that_would_leave_less_than_Exports_MinFreeBytes_fails_before_it_starts()
    {
        var disk = new ScriptedDiskSpace(500_000_000);
        await using var host = await ApiHost.StartAsync(configure: s => s.AddSingleton<IDiskSpace>(disk));
        await host.SeedAsync(Dataset.Generate(50, seed: 4));
        using var refused = new MetricCollector<long>(host.Services.GetRequiredService<IMeterFactory>(), AuditMetrics.MeterName, ApiMetrics.ExportsRefusedName);
        var client = host.Client();

        var id = await CreateAsync(client);
        var status = await WaitForAsync(client, id, "failed");

        var error = status.GetProperty("error").GetString();
        Assert.Contains("Exports:MinFreeBytes", error, StringComparison.Ordinal);
        Assert.Contains("500000000 bytes free", error, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(host.Directory, "exports"), "exp_*.csv*"));
        Assert.Equal(ExportRefusals.DiskSpace, Assert.Single(refused.GetMeasurementSnapshot()).Tags["reason"]);
    }

    [Fact]
    public async Task An_export_whose_disk_fills_while_it_writes_fails_and_deletes_its_partial_file()
    {
        // Enough space at the start and for the first writes, then the disk fills up (another tenant).
        var disk = new ScriptedDiskSpace(10_000_000_000, 1_000);
        await using var host = await ApiHost.StartAsync(configure: s => s.AddSingleton<IDiskSpace>(disk));
        await host.SeedAsync(Dataset.Generate(300, seed: 4));
        var client = host.Client();

        var id = await CreateAsync(client);
        var status = await WaitForAsync(client, id, "failed");

        Assert.Contains("Exports:MinFreeBytes", status.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.True(disk.Calls >= 2, $"The disk was checked {disk.Calls} times; the guard must check while writing.");
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(host.Directory, "exports"), "exp_*.csv*"));
        using var download = await client.GetAsync($"{Exports}/{id}/download");
        await Http.ProblemAsync(download, HttpStatusCode.Conflict);
    }

    [Fact]
    public void The_real_disk_probe_measures_the_file_system_of_a_directory()
    {
        var free = new DriveDiskSpace().AvailableBytes(Path.GetTempPath());

        Assert.NotNull(free);
        Assert.True(free > 0, $"free = {free}");
    }

    [Fact]
    public async Task An_export_body_array_of_101_values_is_a_400_naming_the_filter()
    {
        await using var host = await ApiHost.StartAsync();
        var body = "{\"entityId\":[" + string.Join(',', Enumerable.Range(0, 101).Select(i => $"\"e{i}\"")) + "]}";

        using var response = await host.Client().PostAsync(Exports, Json(body));

        var problem = await Http.BadRequestAsync(response, "entityId");
        Assert.Contains("100", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_export_body_with_17_q_terms_is_a_400_naming_q()
    {
        await using var host = await ApiHost.StartAsync();
        var body = JsonSerializer.Serialize(new { q = string.Join(' ', Enumerable.Range(0, 17).Select(i => "t" + i)) });

        using var response = await host.Client().PostAsync(Exports, Json(body));

        await Http.BadRequestAsync(response, "q");
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(host.Directory, "exports"), "exp_*"));
    }

    [Theory]
    [InlineData("Exports:MaxActivePerKey", "0")]
    [InlineData("Exports:MaxActive", "0")]
    [InlineData("Exports:MaxActivePerKey", "50")]
    [InlineData("Exports:MinFreeBytes", "-1")]
    public async Task An_export_cap_out_of_range_stops_the_start_naming_the_key(string key, string value)
    {
        var failure = await Record.ExceptionAsync(async () =>
        {
            await using var host = await ApiHost.StartAsync(settings: new Dictionary<string, string?> { [key] = value });
        });

        Assert.Contains(key, failure?.Message, StringComparison.Ordinal);
    }

    internal static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<string> CreateAsync(HttpClient client)
    {
        using var response = await client.PostAsync(Exports, Json("{}"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
    }

    private static Task<JsonElement> WaitForAsync(HttpClient client, string id, string wanted) =>
        Eventually.ValueAsync(
            async () => JsonDocument.Parse(await client.GetStringAsync($"{Exports}/{id}")).RootElement.Clone(),
            s => s.GetProperty("status").GetString() == wanted,
            Patience,
            $"export {id} to become {wanted}");
}
