using System.Net;
using System.Security.Cryptography;
using AuditPipeline.Api.Exports;
using AuditPipeline.Api.Notifications;
using AuditPipeline.Api.Querying;
using AuditPipeline.Api.Tests.Support;
using AuditPipeline.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Api.Tests;

/// <summary>The webhook's signature and redirect policy, its URL's validation, and the cursor key file's permissions.</summary>
public sealed class WebhookAndKeyFileTests
{
    [Fact]
    public void The_signature_is_t_and_v1_over_the_timestamp_dot_body()
    {
        var body = "{\"type\":\"audit_export.completed\"}"u8.ToArray();

        var header = WebhookNotificationChannel.Sign("s3cret", 1764412320, body);

        var expected = Convert.ToHexStringLower(HMACSHA256.HashData("s3cret"u8, [.. "1764412320."u8, .. body]));
        Assert.Equal($"t=1764412320,v1={expected}", header);
    }

    [Fact]
    public async Task A_redirect_is_not_followed_and_counts_as_a_failed_delivery()
    {
        var hits = new List<string>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var receiver = builder.Build();
        receiver.MapPost("/hook", (HttpContext c) =>
        {
            lock (hits)
            {
                hits.Add("/hook");
            }

            return Results.Redirect("/elsewhere", permanent: false, preserveMethod: true);
        });
        receiver.MapPost("/elsewhere", () =>
        {
            lock (hits)
            {
                hits.Add("/elsewhere");
            }

            return Results.Ok();
        });
        await receiver.StartAsync();
        var url = receiver.Urls.First() + "/hook";

        await using var host = await ApiHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Exports:WebhookUrl"] = url,
            ["Exports:WebhookSecret"] = "s3cret",
        });
        var channel = host.Services.GetServices<Core.Notifications.INotificationChannel>().OfType<WebhookNotificationChannel>().Single();

        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => channel.PublishAsync(TestKeys.Org, "{}"u8.ToArray(), CancellationToken.None));

        Assert.Equal(HttpStatusCode.TemporaryRedirect, failure.StatusCode);
        Assert.Equal(["/hook"], hits);
        await receiver.StopAsync();
    }

    [Fact]
    public async Task A_redirect_answer_is_retried_like_any_failure()
    {
        var webhook = new RecordingHandler(HttpStatusCode.Found, HttpStatusCode.MovedPermanently);
        await using var host = await ApiHost.StartAsync(
            settings: new Dictionary<string, string?> { ["Exports:WebhookUrl"] = "https://app.test/hooks/audit", ["Exports:WebhookSecret"] = "s3cret" },
            webhookHandler: webhook);
        await host.SeedAsync(Dataset.Generate(20, seed: 8));

        using var created = await host.Client().PostAsync($"/v1/orgs/{TestKeys.Org}/exports", ExportLimitTests.Json("{}"));
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        await webhook.Delivered.Task.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(3, webhook.Received.Count);
        Assert.All(webhook.Received, r => Assert.Equal("https://app.test/hooks/audit", r.Request.RequestUri!.ToString()));
    }

    [Theory]
    [InlineData("ftp://app.test/hook")]
    [InlineData("/hooks/audit")]
    [InlineData("app.test/hooks/audit")]
    [InlineData("https://user:password@app.test/hook")]
    [InlineData("file:///etc/passwd")]
    public void A_webhook_url_that_is_not_absolute_http_is_refused_at_start_naming_the_key(string url)
    {
        var result = new ExportOptionsValidator().Validate(null, new ExportOptions { WebhookUrl = url, WebhookSecret = "s" });

        Assert.True(result.Failed);
        Assert.Contains("Exports:WebhookUrl", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_webhook_url_without_a_secret_is_refused_naming_the_secret()
    {
        var result = new ExportOptionsValidator().Validate(null, new ExportOptions { WebhookUrl = "https://app.test/hook" });

        Assert.Contains("Exports:WebhookSecret", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void The_generated_cursor_key_file_is_readable_by_its_owner_only_and_no_temporary_file_is_left()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "Unix file modes only.");
        using var temp = new TempDirectory("api");
        var dir = temp.Path;
        var exports = Options.Create(new ExportOptions { Path = dir });

        var key = CursorKeyProvider.Load(Options.Create(new ApiOptions()), exports);
        var again = CursorKeyProvider.Load(Options.Create(new ApiOptions()), exports);

        var path = Path.Combine(dir, CursorKeyProvider.FileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, OperatingSystem.IsWindows() ? default : File.GetUnixFileMode(path));
        Assert.Equal(key, again);
        Assert.Equal(32, key.Length);
        Assert.Equal([CursorKeyProvider.FileName], Directory.EnumerateFiles(dir).Select(Path.GetFileName));
    }

    [Fact]
    public void A_cursor_key_file_that_is_not_a_key_stops_the_start_with_what_to_do()
    {
        using var temp = new TempDirectory("api");
        var dir = temp.Path;
        File.WriteAllText(Path.Combine(dir, CursorKeyProvider.FileName), "not base64!");

        var failure = Assert.Throws<InvalidOperationException>(() =>
            CursorKeyProvider.Load(Options.Create(new ApiOptions()), Options.Create(new ExportOptions { Path = dir })));

        Assert.Contains("Api:CursorKey", failure.Message, StringComparison.Ordinal);
    }
}
