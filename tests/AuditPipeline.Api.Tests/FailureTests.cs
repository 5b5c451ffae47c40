using System.Net;
using AuditPipeline.Api.Tests.Support;
using AuditPipeline.Core.Storage;
using AuditPipeline.Testing;

namespace AuditPipeline.Api.Tests;

/// <summary>When the store fails, the client gets a problem it can act on and never an internal detail.</summary>
public sealed class FailureTests
{
    private const string Secret = "SECRET-INTERNAL-DETAIL";

    [Theory]
    [InlineData("/v1/orgs/org_42/events")]
    [InlineData("/v1/orgs/org_42/events/evt_1")]
    public async Task An_unexpected_error_is_a_generic_500_without_internals(string path)
    {
        await using var host = await ApiHost.StartAsync(store: new ThrowingStore(() => new InvalidOperationException(Secret)));

        using var response = await host.Client().GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();

        await Http.ProblemAsync(response, HttpStatusCode.InternalServerError);
        Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_store_that_is_down_is_a_503_with_Retry_After()
    {
        await using var host = await ApiHost.StartAsync(store: new ThrowingStore(() => new StoreUnavailableException(Secret)));

        using var response = await host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/events");
        var text = await response.Content.ReadAsStringAsync();

        await Http.ProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_csv_whose_store_fails_before_the_first_row_is_cut_not_passed_off_as_complete()
    {
        await using var host = await ApiHost.StartAsync(store: new ThrowingStore(() => new InvalidOperationException(Secret)));

        var ex = await Record.ExceptionAsync(async () =>
        {
            using var response = await host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/events.csv");
            var text = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
            Assert.Fail($"The response completed normally: {(int)response.StatusCode}");
        });

        Assert.IsNotType<Xunit.Sdk.FailException>(ex);
    }

    [Fact]
    public async Task A_failing_export_is_failed_with_a_reason_that_names_no_internals()
    {
        await using var host = await ApiHost.StartAsync(store: new ThrowingStore(() => new InvalidOperationException(Secret)));
        var client = host.Client();

        using var created = await client.PostAsync($"/v1/orgs/{TestKeys.Org}/exports", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        var id = System.Text.Json.JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        var text = await Eventually.ValueAsync(
            () => client.GetStringAsync($"/v1/orgs/{TestKeys.Org}/exports/{id}"),
            t => t.Contains("\"failed\"", StringComparison.Ordinal),
            TimeSpan.FromSeconds(20),
            "the export to fail");

        Assert.Contains("\"status\":\"failed\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_exports_directory_is_part_of_readiness()
    {
        var blocker = Path.Combine(Path.GetTempPath(), "auditpipeline-api-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.GetDirectoryName(blocker)!);
        await File.WriteAllTextAsync(blocker, "a file where a directory should be");
        var check = new Exports.ExportsDirectoryHealthCheck(Microsoft.Extensions.Options.Options.Create(new Exports.ExportOptions { Path = Path.Combine(blocker, "exports") }));
        var good = new Exports.ExportsDirectoryHealthCheck(Microsoft.Extensions.Options.Options.Create(new Exports.ExportOptions { Path = blocker + "-ok" }));

        var bad = await check.CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext());
        var ok = await good.CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext());

        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, bad.Status);
        Assert.Contains("Exports:Path", bad.Description, StringComparison.Ordinal);
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, ok.Status);
    }
}
