using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AuditPipeline.Worker.Demo;
using AuditPipeline.Worker.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Serilog;

namespace AuditPipeline.Worker.Verbs;

/// <summary>
/// <c>demo</c>: writes realistic Outsprint activity of the last 90 days into the inbox (once: an
/// inbox that already has demo files is left as it is) and runs the worker on the embedded store,
/// with a demo API key that can read and export every organisation. Once the worker listens it prints
/// the audit log page's address with a fresh viewer token for org_acme.
/// </summary>
internal static class DemoVerb
{
    /// <summary>The demo's API key. Only configured by the demo verb, and only when no keys are configured.</summary>
    public const string DemoKey = "demo-key-not-for-production";

    public static async Task<int> RunAsync(string[] args)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args)
            .Build();
        var inbox = configuration["Inbox:Path"] is { Length: > 0 } p ? p : "./inbox";
        var eventsPerOrg = configuration.GetValue("Demo:EventsPerOrg", 6000);
        Directory.CreateDirectory(inbox);

        if (!Directory.EnumerateFiles(inbox, "*-demo.jsonl").Any())
        {
            var data = new DemoData(DateTimeOffset.UtcNow).Generate(eventsPerOrg);
            foreach (var (kind, lines) in data)
            {
                var path = Path.Combine(inbox, $"{kind}-demo.jsonl");
                await File.WriteAllLinesAsync(path + ".tmp", lines, new UTF8Encoding(false));
                File.Move(path + ".tmp", path, overwrite: true);
            }

            Log.Information("Demo: wrote {Count} raw messages into {Inbox}", data.Values.Sum(l => l.Count), Path.GetFullPath(inbox));
        }
        else
        {
            Log.Information("Demo: {Inbox} already holds demo files; running on them", Path.GetFullPath(inbox));
        }

        var defaults = new Dictionary<string, string?>
        {
            ["Inbox:Path"] = inbox,
            ["Retention:Orgs:org_acme:Plan"] = "enterprise",
            ["Retention:Orgs:org_acme:Years"] = "5",
        };
        var keysConfigured = configuration.GetSection("Api:Keys").GetChildren().Any();
        if (!keysConfigured)
        {
            defaults["Api:Keys:0:Name"] = "demo";
            defaults["Api:Keys:0:Sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(DemoKey)));
            defaults["Api:Keys:0:Org"] = "*";
            defaults["Api:Keys:0:Scopes:0"] = "audit:read";
            defaults["Api:Keys:0:Scopes:1"] = "audit:export";
        }

        var urls = configuration["Api:Urls"] is { Length: > 0 } u ? u : Hosting.WorkerOptions.DefaultUrls;
        var baseUrl = urls.Split(';')[0].TrimEnd('/');
        Log.Information(
            "Demo: once ingested, try  curl -s -H 'Authorization: Bearer {Key}' '{Base}/v1/orgs/org_acme/events?limit=5&action=login_failed'  (or open {Base}/openapi/v1.json)",
            keysConfigured ? "<your key>" : DemoKey,
            baseUrl);
        var app = WorkerHost.Build(args, defaults);
        try
        {
            await app.StartAsync();
            await PrintViewerAddressAsync(app, keysConfigured ? null : DemoKey);
            await app.WaitForShutdownAsync();
        }
        finally
        {
            await app.DisposeAsync();
        }

        return 0;
    }

    /// <summary>
    /// Mints a viewer token through the worker's own API with the demo key and prints the page's address.
    /// Straight to the console, not through the logger: the token must never reach a log sink.
    /// </summary>
    private static async Task PrintViewerAddressAsync(WebApplication app, string? demoKey)
    {
        const string org = "org_acme";
        var listening = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (listening is null)
        {
            return;
        }

        // A wildcard listen address is reached on the loopback.
        var local = new UriBuilder(listening);
        if (local.Host is "0.0.0.0" or "[::]" or "*" or "+")
        {
            local.Host = "127.0.0.1";
        }

        var baseUri = local.Uri;
        if (demoKey is null)
        {
            Log.Information(
                "Demo: the audit log page is {Base}ui/?org={Org}#token=<token>; mint the token with POST /v1/orgs/{Org}/viewer-tokens and your key",
                baseUri, org, org);
            return;
        }

        try
        {
            using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(10) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", demoKey);
            using var response = await http.PostAsync(new Uri($"/v1/orgs/{org}/viewer-tokens", UriKind.Relative), null);
            response.EnsureSuccessStatusCode();
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var token = body.RootElement.GetProperty("token").GetString();
            var expiresAt = body.RootElement.GetProperty("expiresAt").GetString();
            await Console.Out.WriteLineAsync(
                $"{Environment.NewLine}  Audit log page (token valid until {expiresAt}):{Environment.NewLine}  {baseUri}ui/?org={org}#token={token}{Environment.NewLine}");
            await Console.Out.FlushAsync();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
        {
            Log.Warning("Demo: could not mint a viewer token for the audit log page ({Reason}); is the api role on?", ex.Message);
        }
    }
}
