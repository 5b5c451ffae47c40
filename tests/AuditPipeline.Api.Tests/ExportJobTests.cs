using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AuditPipeline.Api.Exports;
using AuditPipeline.Api.Notifications;
using AuditPipeline.Api.Tests.Support;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;
using AuditPipeline.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AuditPipeline.Api.Tests;

/// <summary>Background exports: life cycle, download, restart, expiry, notification, audit.</summary>
public sealed class ExportJobTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task An_export_runs_in_the_background_and_its_file_matches_its_sha256()
    {
        await using var host = await ApiHost.StartAsync();
        var events = Dataset.Generate(700, seed: 3);
        await host.SeedAsync(events);
        var client = host.Client(TestKeys.Exporter);

        using var created = await client.PostAsync($"/v1/orgs/{TestKeys.Org}/exports", Json("""{"action":["deleted","created"],"range":"30d"}"""));
        var accepted = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        var id = accepted.GetProperty("id").GetString()!;

        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        Assert.Equal("queued", accepted.GetProperty("status").GetString());
        Assert.Equal($"/v1/orgs/{TestKeys.Org}/exports/{id}", created.Headers.Location?.OriginalString);

        var status = await WaitForAsync(client, id, "completed");
        var expected = Http.Expected(events, new AuditQuery { OrgId = TestKeys.Org, Actions = ["deleted", "created"], From = host.Time.Now.AddDays(-30) });
        Assert.Equal(expected.Count, status.GetProperty("rowCount").GetInt64());
        Assert.Equal(JsonValueKind.Null, status.GetProperty("error").ValueKind);

        using var download = await client.GetAsync($"/v1/orgs/{TestKeys.Org}/exports/{id}/download");
        var bytes = await download.Content.ReadAsByteArrayAsync();
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("text/csv; charset=utf-8", download.Content.Headers.ContentType?.ToString());
        Assert.Empty(download.Content.Headers.ContentEncoding);
        Assert.Equal(status.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(bytes)));
        var rows = CsvReading.Parse(Encoding.UTF8.GetString(bytes, 3, bytes.Length - 3));
        Assert.Equal(expected.Select(e => e.Id), rows.Skip(1).Select(r => r[^1]));
    }

    [Fact]
    public async Task A_download_is_gzip_encoded_when_the_client_accepts_it()
    {
        await using var host = await ApiHost.StartAsync();
        await host.SeedAsync(Dataset.Generate(300, seed: 4));
        var client = host.Client(TestKeys.Full);
        var id = await CreateAsync(client, "{}");
        var status = await WaitForAsync(client, id, "completed");

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/orgs/{TestKeys.Org}/exports/{id}/download");
        request.Headers.AcceptEncoding.ParseAdd("gzip, deflate");
        using var response = await client.SendAsync(request);
        var compressed = await response.Content.ReadAsByteArrayAsync();
        using var gunzip = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        await gunzip.CopyToAsync(plain);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.Equal(status.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(plain.ToArray())));
        Assert.True(compressed.Length < plain.Length);
    }

    [Fact]
    public async Task An_export_is_invisible_to_other_organisations_and_409_until_it_completes()
    {
        var gated = new GatedStore(TestStores.CreateTemp(), pauseAfter: 5);
        await using var host = await ApiHost.StartAsync(store: gated);
        await host.SeedAsync(Dataset.Generate(200, seed: 5));
        var client = host.Client(TestKeys.Full);
        var id = await CreateAsync(client, "{}");
        await gated.Paused.Task.WaitAsync(Patience);

        using var running = await client.GetAsync($"/v1/orgs/{TestKeys.Org}/exports/{id}/download");
        var status = await StatusAsync(client, id);
        using var foreignStatus = await host.Client(TestKeys.Other).GetAsync($"/v1/orgs/{TestKeys.OtherOrg}/exports/{id}");
        using var foreignStatusOwnPath = await host.Client(TestKeys.Other).GetAsync($"/v1/orgs/{TestKeys.Org}/exports/{id}");
        using var foreignDownload = await host.Client(TestKeys.Other).GetAsync($"/v1/orgs/{TestKeys.OtherOrg}/exports/{id}/download");
        using var missing = await client.GetAsync($"/v1/orgs/{TestKeys.Org}/exports/exp_00000000000000000000000000000000");
        using var traversal = await client.GetAsync($"/v1/orgs/{TestKeys.Org}/exports/..%2F..%2Fcursor.key");

        await Http.ProblemAsync(running, HttpStatusCode.Conflict);
        Assert.Equal("running", status.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, status.GetProperty("rowCount").ValueKind);
        await Http.ProblemAsync(foreignStatus, HttpStatusCode.NotFound);
        await Http.ProblemAsync(foreignStatusOwnPath, HttpStatusCode.NotFound);
        await Http.ProblemAsync(foreignDownload, HttpStatusCode.NotFound);
        await Http.ProblemAsync(missing, HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NotFound, traversal.StatusCode);

        gated.Open();
        await WaitForAsync(client, id, "completed");
    }

    [Fact]
    public async Task No_more_than_MaxConcurrent_exports_run_at_once()
    {
        var gated = new GatedStore(TestStores.CreateTemp(), pauseAfter: 1);
        await using var host = await ApiHost.StartAsync(store: gated, settings: new Dictionary<string, string?> { ["Exports:MaxConcurrent"] = "1" });
        await host.SeedAsync(Dataset.Generate(50, seed: 14));
        var client = host.Client();

        var first = await CreateAsync(client, "{}");
        await gated.Paused.Task.WaitAsync(Patience);
        var second = await CreateAsync(client, """{"category":"crm"}""");

        Assert.Equal("running", (await StatusAsync(client, first)).GetProperty("status").GetString());
        Assert.Equal("queued", (await StatusAsync(client, second)).GetProperty("status").GetString());
        gated.Open();
        await WaitForAsync(client, first, "completed");
        await WaitForAsync(client, second, "completed");

        // No wait can show that the second export would not have started a moment later; what both runs
        // leave behind can: the first stream still paused when the second opened would make two at once,
        // and the second job started only once the first had finished.
        Assert.Equal(1, gated.MostOpenAtOnce);
        var jobs = host.Services.GetRequiredService<ExportJobStore>();
        var firstJob = await jobs.GetAsync(first, CancellationToken.None);
        var secondJob = await jobs.GetAsync(second, CancellationToken.None);
        Assert.True(secondJob!.StartedAt >= firstJob!.FinishedAt, $"the second export started at {secondJob.StartedAt:O}, before the first finished at {firstJob.FinishedAt:O}");
    }

    [Fact]
    public async Task An_export_interrupted_by_a_restart_is_run_again_and_completes()
    {
        using var temp = new TempDirectory("api");
        var directory = temp.Path;
        var store = TestStores.Create(directory);
        var events = Dataset.Generate(400, seed: 6);
        var gated = new GatedStore(store, pauseAfter: 50);
        string id;
        await using (var first = await ApiHost.StartAsync(store: gated, directory: directory))
        {
            await first.SeedAsync(events);
            id = await CreateAsync(first.Client(), """{"category":"crm"}""");
            await gated.Paused.Task.WaitAsync(Patience);
            Assert.True(File.Exists(Path.Combine(directory, "exports", id + ".csv.partial")));
        }

        await using var second = await ApiHost.StartAsync(store: store, directory: directory);
        var status = await WaitForAsync(second.Client(), id, "completed");

        var expected = Http.Expected(events, new AuditQuery { OrgId = TestKeys.Org, Categories = ["crm"] });
        Assert.Equal(expected.Count, status.GetProperty("rowCount").GetInt64());
        var job = await second.Services.GetRequiredService<ExportJobStore>().GetAsync(id, CancellationToken.None);
        Assert.Equal(2, job!.Attempts);
        var bytes = await second.Client().GetByteArrayAsync($"/v1/orgs/{TestKeys.Org}/exports/{id}/download");
        Assert.Equal(expected.Count + 1, CsvReading.Parse(Encoding.UTF8.GetString(bytes, 3, bytes.Length - 3)).Count);
        Assert.False(File.Exists(Path.Combine(directory, "exports", id + ".csv.partial")));
    }

    [Fact]
    public async Task An_export_interrupted_too_often_is_failed_with_a_reason_not_lost()
    {
        using var temp = new TempDirectory("api");
        var directory = temp.Path;
        var jobs = new ExportJobStore(Microsoft.Extensions.Options.Options.Create(new ExportOptions { Path = Path.Combine(directory, "exports") }));
        var id = ExportJobStore.NewId();
        await jobs.SaveAsync(new ExportJob
        {
            Id = id,
            OrgId = TestKeys.Org,
            RequestedBy = "full",
            Filters = JsonDocument.Parse("{}").RootElement,
            Status = ExportStatuses.Running,
            CreatedAt = ApiHost.DefaultNow,
            Attempts = 3,
        }, CancellationToken.None);

        await using var host = await ApiHost.StartAsync(directory: directory);
        var status = await WaitForAsync(host.Client(), id, "failed");

        Assert.Contains("interrupted", status.GetProperty("error").GetString(), StringComparison.Ordinal);
        using var download = await host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/exports/{id}/download");
        await Http.ProblemAsync(download, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_completed_export_whose_notification_was_not_settled_is_announced_after_a_restart()
    {
        using var temp = new TempDirectory("api");
        var directory = temp.Path;
        var jobs = new ExportJobStore(Microsoft.Extensions.Options.Options.Create(new ExportOptions { Path = Path.Combine(directory, "exports") }));
        var id = ExportJobStore.NewId();
        await File.WriteAllTextAsync(jobs.CsvPath(id), "\uFEFFTime\r\n");
        await jobs.SaveAsync(new ExportJob
        {
            Id = id,
            OrgId = TestKeys.Org,
            RequestedBy = "service",
            Filters = JsonDocument.Parse("{}").RootElement,
            Status = ExportStatuses.Completed,
            CreatedAt = ApiHost.DefaultNow,
            FinishedAt = ApiHost.DefaultNow,
            RowCount = 0,
            Sha256 = "00",
            Attempts = 1,
            Notified = false,
        }, CancellationToken.None);
        var webhook = new RecordingHandler();

        await using var host = await ApiHost.StartAsync(
            directory: directory,
            settings: new Dictionary<string, string?> { ["Exports:WebhookUrl"] = "http://127.0.0.1:9/hook", ["Exports:WebhookSecret"] = "s" },
            webhookHandler: webhook);
        await webhook.Delivered.Task.WaitAsync(Patience);

        var body = JsonDocument.Parse(webhook.Received.Single().Body).RootElement;
        Assert.Equal(id, body.GetProperty("exportId").GetString());
        Assert.Equal("service", body.GetProperty("requestedBy").GetString());
    }

    [Fact]
    public async Task Exports_expire_after_the_retention_days()
    {
        // The periodic cleanup is set far apart so that only the explicit runs below delete anything.
        await using var host = await ApiHost.StartAsync(settings: new Dictionary<string, string?> { ["Exports:RetentionDays"] = "7", ["Exports:CleanupInterval"] = "30.00:00:00" });
        await host.SeedAsync(Dataset.Generate(50, seed: 8));
        var client = host.Client();
        var id = await CreateAsync(client, "{}");
        await WaitForAsync(client, id, "completed");
        var runner = host.Services.GetRequiredService<ExportJobRunner>();

        host.Time.Advance(TimeSpan.FromDays(6));
        Assert.Equal(0, await runner.CleanupAsync(CancellationToken.None));
        host.Time.Advance(TimeSpan.FromDays(1.1));
        Assert.Equal(1, await runner.CleanupAsync(CancellationToken.None));

        using var status = await client.GetAsync($"/v1/orgs/{TestKeys.Org}/exports/{id}");
        using var download = await client.GetAsync($"/v1/orgs/{TestKeys.Org}/exports/{id}/download");
        await Http.ProblemAsync(status, HttpStatusCode.NotFound);
        await Http.ProblemAsync(download, HttpStatusCode.NotFound);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(host.Directory, "exports"), id + "*"));
    }

    [Fact]
    public async Task A_completed_export_is_announced_to_the_webhook_with_a_verifiable_signature_after_retries()
    {
        const string secret = "webhook-secret-ß";
        var webhook = new RecordingHandler(HttpStatusCode.InternalServerError, HttpStatusCode.BadGateway);
        await using var host = await ApiHost.StartAsync(
            settings: new Dictionary<string, string?> { ["Exports:WebhookUrl"] = "https://app.test/hooks/audit", ["Exports:WebhookSecret"] = secret },
            webhookHandler: webhook);
        await host.SeedAsync(Dataset.Generate(120, seed: 9));
        var client = host.Client(TestKeys.Exporter);

        var id = await CreateAsync(client, """{"outcome":["failure"]}""");
        var status = await WaitForAsync(client, id, "completed");
        await webhook.Delivered.Task.WaitAsync(Patience);

        Assert.Equal(3, webhook.Received.Count);
        var (request, body) = webhook.Received[^1];
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("https://app.test/hooks/audit", request.RequestUri!.ToString());
        // X-Audit-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">, recomputed here from the contract.
        var t = host.Time.Now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var expectedSignature = $"t={t},v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), (byte[])[.. Encoding.UTF8.GetBytes(t + "."), .. body]));
        Assert.Equal(expectedSignature, Assert.Single(request.Headers.GetValues(WebhookNotificationChannel.SignatureHeader)));
        var n = JsonDocument.Parse(body).RootElement;
        Assert.Equal("audit_export.completed", n.GetProperty("type").GetString());
        Assert.Equal(TestKeys.Org, n.GetProperty("orgId").GetString());
        Assert.Equal(id, n.GetProperty("exportId").GetString());
        Assert.Equal("exporter", n.GetProperty("requestedBy").GetString());
        Assert.Equal(status.GetProperty("rowCount").GetInt64(), n.GetProperty("rowCount").GetInt64());
        Assert.Equal($"/v1/orgs/{TestKeys.Org}/exports/{id}/download", n.GetProperty("downloadPath").GetString());
        Assert.Equal("type", n.EnumerateObject().First().Name);
    }

    [Fact]
    public async Task An_export_job_appends_an_audit_event_with_its_filters_and_row_count()
    {
        await using var host = await ApiHost.StartAsync();
        var events = Dataset.Generate(300, seed: 10);
        await host.SeedAsync(events);
        var client = host.Client(TestKeys.Full);

        var id = await CreateAsync(client, """{"source":["chat","Admin"],"ai":[true],"q":"ana","colour":"ignored"}""");
        var status = await WaitForAsync(client, id, "completed");

        var audit = await WaitForAuditAsync(host.Store);
        Assert.Equal(new AuditActor(ActorTypes.ApiKey, "full", "full", null), audit.Actor);
        Assert.Equal(("data", "exported", "API"), (audit.Category, audit.Action, audit.Source));
        Assert.Equal(
            $$"""{"filters":{"source":["chat","Admin"],"ai":[true],"q":"ana"},"rowCount":{{status.GetProperty("rowCount").GetInt64()}}}""",
            audit.Details.GetRawText());
    }

    [Theory]
    [InlineData("not json", "body")]
    [InlineData("[\"deleted\"]", "body")]
    [InlineData("\"x\"", "body")]
    [InlineData("""{"category":["gossip"]}""", "category")]
    [InlineData("""{"action":5}""", "action")]
    [InlineData("""{"action":[["nested"]]}""", "action")]
    [InlineData("""{"ai":"maybe"}""", "ai")]
    [InlineData("""{"ai":[1]}""", "ai")]
    [InlineData("""{"range":30}""", "range")]
    [InlineData("""{"range":"1y"}""", "range")]
    [InlineData("""{"range":"7d","from":"2026-11-01T00:00:00Z"}""", "range")]
    [InlineData("""{"from":"2026-11-01"}""", "from")]
    [InlineData("""{"limit":10}""", "limit")]
    [InlineData("""{"cursor":"abc"}""", "cursor")]
    public async Task A_bad_export_request_is_a_400_naming_the_field(string body, string field)
    {
        await using var host = await ApiHost.StartAsync();

        using var response = await host.Client().PostAsync($"/v1/orgs/{TestKeys.Org}/exports", Json(body));

        await Http.BadRequestAsync(response, field);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(host.Directory, "exports"), "exp_*"));
    }

    [Fact]
    public async Task An_oversized_export_request_is_413()
    {
        await using var host = await ApiHost.StartAsync();
        var body = "{\"action\":[" + string.Join(",", Enumerable.Repeat("\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", 2000)) + "]}";

        using var response = await host.Client().PostAsync($"/v1/orgs/{TestKeys.Org}/exports", Json(body));

        await Http.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task An_empty_body_exports_everything()
    {
        await using var host = await ApiHost.StartAsync();
        var events = Dataset.Generate(100, seed: 12);
        await host.SeedAsync(events);
        var client = host.Client();

        using var response = await client.PostAsync($"/v1/orgs/{TestKeys.Org}/exports", null);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        var status = await WaitForAsync(client, id, "completed");

        Assert.Equal(events.Count(e => e.OrgId == TestKeys.Org), status.GetProperty("rowCount").GetInt64());
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<string> CreateAsync(HttpClient client, string body)
    {
        using var response = await client.PostAsync($"/v1/orgs/{TestKeys.Org}/exports", Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
    }

    private static async Task<JsonElement> StatusAsync(HttpClient client, string id)
    {
        using var response = await client.GetAsync($"/v1/orgs/{TestKeys.Org}/exports/{id}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static Task<JsonElement> WaitForAsync(HttpClient client, string id, string wanted) =>
        Eventually.ValueAsync(() => StatusAsync(client, id), s => s.GetProperty("status").GetString() == wanted, Patience, $"export {id} to be {wanted}");

    private static async Task<AuditEvent> WaitForAuditAsync(IAuditStore store)
    {
        var page = await Eventually.ValueAsync(
            () => store.QueryAsync(new AuditQuery { OrgId = TestKeys.Org, Actions = ["exported"] }, 10, CancellationToken.None),
            p => p.Items.Count > 0,
            Patience,
            "an audit event of the export");
        return Assert.Single(page.Items);
    }
}
