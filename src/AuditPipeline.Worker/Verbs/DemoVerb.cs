using System.Security.Cryptography;
using System.Text;
using AuditPipeline.Worker.Demo;
using Serilog;

namespace AuditPipeline.Worker.Verbs;

/// <summary>
/// <c>demo</c>: writes realistic Outsprint activity of the last 90 days into the inbox (once: an
/// inbox that already has demo files is left as it is) and runs the worker on the embedded store,
/// with a demo API key that can read and export every organisation.
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
        return await RunVerb.RunAsync(args, defaults);
    }
}
