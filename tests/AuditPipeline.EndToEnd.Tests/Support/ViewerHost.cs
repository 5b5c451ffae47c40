using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AuditPipeline.Api;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded;
using AuditPipeline.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace AuditPipeline.EndToEnd.Tests.Support;

/// <summary>A clock the test moves; timers still run on real time.</summary>
public sealed class MovableClock(DateTimeOffset now) : TimeProvider
{
    private long _ticks = now.UtcTicks;

    public DateTimeOffset Now => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>
/// The facade and the page on a real Kestrel port (a browser needs one) over the embedded store, with a
/// clock the test moves, plus one headless Debian chromium driven by Playwright. Shared by a test class:
/// each test opens its own browser context.
/// </summary>
public sealed class ViewerHost : IAsyncLifetime
{
    public const string Key = "viewer-e2e-key";
    public const string ChromiumPath = "/usr/bin/chromium";

    private WebApplication? _app;
    private IPlaywright? _playwright;

    public MovableClock Clock { get; } = new(new DateTimeOffset(DateTimeOffset.UtcNow.UtcTicks / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute, TimeSpan.Zero));

    public string Root { get; } = Directory.CreateTempSubdirectory("ap-viewer-").FullName;

    public Uri BaseAddress { get; private set; } = null!;

    public IBrowser? Browser { get; private set; }

    /// <summary>Why the browser tests cannot run here, or null when they can.</summary>
    public string? SkipReason { get; private set; }

    public HttpClient Http { get; private set; } = null!;

    public IAuditStore Store => _app!.Services.GetRequiredService<IAuditStore>();

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            SkipReason = $"Chromium is not installed at {ChromiumPath} (apt-get install -y chromium; .ci/run does).";
            return;
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Store:Embedded:Path"] = Path.Combine(Root, "data"),
            ["Exports:Path"] = Path.Combine(Root, "exports"),
            ["Api:Keys:0:Name"] = "app",
            ["Api:Keys:0:Sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key))),
            ["Api:Keys:0:Org"] = "*",
            ["Api:Keys:0:Scopes:0"] = "audit:read",
            ["Api:Keys:0:Scopes:1"] = "audit:export",
        });
        builder.Services.AddSingleton<TimeProvider>(Clock);
        builder.Services.AddEmbeddedStore(builder.Configuration);
        builder.Services.AddAuditApi(builder.Configuration);
        _app = builder.Build();
        _app.MapAuditApi();
        await _app.StartAsync();

        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address);
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
        });
    }

    public async Task SeedAsync(IEnumerable<AuditEvent> events) =>
        await Store.AppendAsync(events.ToList(), CancellationToken.None);

    public async Task<string> MintAsync(string org)
    {
        using var response = await Http.PostAsync(new Uri($"/v1/orgs/{org}/viewer-tokens", UriKind.Relative), null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"Minting a viewer token answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("token").GetString()!;
    }

    public string PageUrl(string org, string? token, string query = "") =>
        new Uri(BaseAddress, $"/ui/?org={Uri.EscapeDataString(org)}{query}" + (token is null ? "" : $"#token={token}")).ToString();

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        Http?.Dispose();
        if (_app is not null)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _app.StopAsync(timeout.Token);
            await _app.DisposeAsync();
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open; the temp folder is cleaned by the OS eventually.
        }
    }
}

/// <summary>The seeded organisations of the browser tests, every event known to the test.</summary>
public static class ViewerData
{
    public const string Org = "org_acme";
    public const string OtherOrg = "org_globex";
    public const string ExportOrg = "org_initech";

    private static readonly (string Id, string Name, string Email)[] Users =
    [
        ("usr_ana", "Ana Silva", "ana@acme.test"),
        ("usr_bob", "Bob Stone", "bob@acme.test"),
        ("usr_cleo", "Cleo Park", "cleo@acme.test"),
    ];

    private static readonly string[] SourceCycle = [Sources.Admin, Sources.Api, Sources.Workflow, Sources.Admin];

    /// <summary>
    /// <paramref name="count"/> events 9 hours apart (5 minutes off every day boundary, so moving the clock
    /// by minutes never moves one across a 7/30/90-day edge). Event 0, the newest, has a before/after with
    /// a change, a removal, an addition and an unchanged field; every fifth is an AI action.
    /// </summary>
    public static List<AuditEvent> Generate(string org, int count, DateTimeOffset now)
    {
        var events = new List<AuditEvent>(count);
        for (var i = 0; i < count; i++)
        {
            var user = Users[i % Users.Length];
            var time = now - TimeSpan.FromHours(9 * i) - TimeSpan.FromMinutes(5);
            var baseEvent = Some.Event($"evt_{org}_{i:D4}", org, time) with
            {
                Actor = new AuditActor(ActorTypes.User, user.Id, user.Name, user.Email),
                ReceivedAt = time.AddSeconds(1),
            };

            AuditEvent e = (i % 5, i % 7) switch
            {
                (0, _) when i > 0 => baseEvent with
                {
                    Category = Categories.Ai, Action = "updated", EventType = "ai.update_deal", Source = Sources.Chat,
                    Ip = null, UserAgent = null, Before = null, After = null,
                    Entity = new AuditEntity("deal", $"deal_{i}", $"Deal {i}"),
                    Changes = [new AuditChange("amount", Some.Json("1000"), Some.Json("2500"))],
                    Ai = new AuditAi(true, $"conv_{i}", $"msg_{i}", "update_deal"),
                },
                (_, 3) => baseEvent with
                {
                    Category = Categories.Auth, Action = "login_failed", EventType = "login.failed", Outcome = Outcomes.Failure,
                    Entity = new AuditEntity("user", user.Id, user.Name), Source = Sources.Admin,
                    Changes = [], Before = null, After = null,
                },
                (_, 5) => baseEvent with
                {
                    Category = Categories.Crm, Action = "deleted", EventType = "contact.deleted",
                    Entity = new AuditEntity("contact", $"contact_{i}", $"Contact {i}"), Source = SourceCycle[i % SourceCycle.Length],
                    Changes = [new AuditChange("email", Some.Json("\"c@x.test\""), null)],
                    Before = Some.Json("""{"email":"c@x.test"}"""), After = null,
                },
                _ => baseEvent with
                {
                    Entity = new AuditEntity("deal", $"deal_{i}", i == 0 ? "Acme Corp Enterprise" : $"Deal {i}"),
                    Source = SourceCycle[i % SourceCycle.Length],
                    Before = Some.Json("""{"stage":"Demo Scheduled","amount":1000,"owner":"ana"}"""),
                    After = Some.Json("""{"stage":"Proposal Sent","amount":1000,"probability":40}"""),
                    Changes =
                    [
                        new AuditChange("stage", Some.Json("\"Demo Scheduled\""), Some.Json("\"Proposal Sent\"")),
                        new AuditChange("owner", Some.Json("\"ana\""), null),
                        new AuditChange("probability", null, Some.Json("40")),
                    ],
                },
            };
            events.Add(e);
        }

        return events;
    }

    public static List<AuditEvent> Newest(IEnumerable<AuditEvent> events) =>
        [.. events.OrderByDescending(e => e.Time).ThenByDescending(e => e.Id, IdOrder.Instance)];
}
