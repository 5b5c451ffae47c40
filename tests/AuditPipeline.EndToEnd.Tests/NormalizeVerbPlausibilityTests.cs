using System.Globalization;
using System.Text.Json.Nodes;
using AuditPipeline.EndToEnd.Tests.Support;

namespace AuditPipeline.EndToEnd.Tests;

/// <summary>The <c>normalize</c> verb applies ingestion's time rules: the current time, Ingest:MaxFutureSkew and the Retention plans.</summary>
public sealed class NormalizeVerbPlausibilityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ap-normalize-time-").FullName;

    [Fact]
    public async Task Times_are_judged_against_now_and_each_orgs_configured_retention()
    {
        var fourYearsAgo = DateTimeOffset.UtcNow.AddDays(-4 * 366).ToUnixTimeMilliseconds();
        var seconds = DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds();
        var file = Path.Combine(_dir, "auth.jsonl");
        await File.WriteAllLinesAsync(file,
        [
            Auth("au_1", fourYearsAgo, "org_ent"),
            Auth("au_2", fourYearsAgo, "org_pro"),
            Auth("au_3", seconds, "org_pro"),
            Auth("au_4", DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(), "org_pro"),
        ], TestContext.Current.CancellationToken);

        await using var worker = WorkerProcess.Start(
            ["normalize", "--kind", "auth", "--Retention:Orgs:org_ent:Plan=enterprise", "--Retention:Orgs:org_ent:Years=7", file], _dir);
        Assert.Equal(1, await worker.WaitForExitAsync(TimeSpan.FromSeconds(60)));

        var ids = worker.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!["id"]!.GetValue<string>());
        Assert.Equal(["au_1", "au_4"], ids);
        var errors = worker.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, errors.Length);
        Assert.StartsWith($"line 2: ts {fourYearsAgo} is ", errors[0], StringComparison.Ordinal);
        Assert.EndsWith(", older than the 2-year retention of org_pro", errors[0], StringComparison.Ordinal);
        Assert.EndsWith("older than the 2-year retention of org_pro: seconds instead of milliseconds?", errors[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_max_future_skew_is_a_configuration_error_naming_the_key()
    {
        await using var worker = WorkerProcess.Start(["normalize", "--kind", "crm", "--Ingest:MaxFutureSkew=-01:00:00"], _dir, redirectStdin: true);
        worker.StandardInput.Close();
        Assert.Equal(2, await worker.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Ingest:MaxFutureSkew must be a duration", worker.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Auth(string id, long ts, string org) =>
        string.Create(CultureInfo.InvariantCulture, $$$"""{"event_id":"{{{id}}}","ts":{{{ts}}},"tenant":"{{{org}}}","event":"login.succeeded","user":{"id":"usr_1","name":"U","email":"u@e2e.test"}}""");
}
