using System.Globalization;
using System.Text;
using AuditPipeline.Core.Events;
using AuditPipeline.EndToEnd.Tests.Support;
using Microsoft.Playwright;

namespace AuditPipeline.EndToEnd.Tests;

/// <summary>
/// The audit log page (contract section 10) in headless chromium against the real facade: list, filters,
/// paging, View, Export, sign-in, and the token never leaving the fragment. Every test records every
/// request the page makes and checks that none carries the token in its URL.
/// </summary>
public sealed class ViewerBrowserTests(ViewerBrowserTests.Fixture fixture) : IClassFixture<ViewerBrowserTests.Fixture>
{
    private const string TimeZone = "America/New_York";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private ViewerHost Host => fixture.Host;

    [Fact]
    public async Task The_list_opens_on_every_event_of_the_organisation_newest_first_with_AI_badges_and_UTC_on_hover()
    {
        await using var session = await OpenAsync(ViewerData.Org);

        var expected = ViewerData.Newest(fixture.Acme).Take(50).ToList();
        await WaitForRowsAsync(session.Page, expected);

        var headers = await session.Page.Locator("table.events thead th").AllInnerTextsAsync();
        Assert.Equal(["Time", "User", "Action", "Entity", "Source"], headers.Take(5).Select(h => h.Trim()));
        var aiRows = await session.Page.Locator("tr[data-event-id]:has(.badge.ai)").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.eventId)");
        Assert.Equal(expected.Where(e => e.Ai is not null).Select(e => e.Id), aiRows);

        var newest = expected[0];
        var time = session.Page.Locator($"tr[data-event-id='{newest.Id}'] time");
        Assert.Equal(newest.Time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture) + " UTC", await time.GetAttributeAsync("title"));
        var local = TimeZoneInfo.ConvertTime(newest.Time, TimeZoneInfo.FindSystemTimeZoneById(TimeZone));
        Assert.Contains(local.ToString("h:mm:ss", CultureInfo.InvariantCulture), Normalize(await time.InnerTextAsync()), StringComparison.Ordinal);
        Assert.Contains("Ana Silva", await session.Page.Locator($"tr[data-event-id='{newest.Id}']").InnerTextAsync(), StringComparison.Ordinal);
        session.AssertTokenNeverInUrl();
    }

    public static TheoryData<string> FilterNames => ["action", "user", "entityType", "range", "custom", "source", "outcome", "ai", "category", "q"];

    [Theory]
    [MemberData(nameof(FilterNames))]
    public async Task Each_filter_narrows_the_list_and_is_kept_in_the_page_address(string filter)
    {
        await using var session = await OpenAsync(ViewerData.Org);
        var page = session.Page;
        await WaitForRowsAsync(page, ViewerData.Newest(fixture.Acme).Take(50).ToList());
        var now = Host.Clock.Now;
        var zone = TimeZoneInfo.FindSystemTimeZoneById(TimeZone);
        var from = new DateTimeOffset(now.UtcTicks / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute, TimeSpan.Zero).AddDays(-12);
        var to = from.AddDays(5);

        (Func<AuditEvent, bool> Matches, string Query) expectation = filter switch
        {
            "action" => (e => e.Action == "login_failed", "action=login_failed"),
            "user" => (e => e.Actor.Id == "usr_bob", "user=usr_bob"),
            "entityType" => (e => e.Entity.Type == "contact", "entityType=contact"),
            "range" => (e => e.Time >= now.AddDays(-7), "range=7d"),
            "custom" => (e => e.Time >= from && e.Time < to, "from="),
            "source" => (e => e.Source == Sources.Workflow, "source=Workflow"),
            "outcome" => (e => e.Outcome == Outcomes.Failure, "outcome=failure"),
            "ai" => (e => e.Ai is not null, "ai=true"),
            "category" => (e => e.Category == Categories.Auth, "category=auth"),
            "q" => (e => e.Actor.Name == "Cleo Park", "q=cleo"),
            _ => throw new ArgumentOutOfRangeException(nameof(filter)),
        };

        switch (filter)
        {
            case "action":
                await CommitTextAsync(page.GetByLabel("Action", new() { Exact = true }), "login_failed");
                break;
            case "user":
                await CommitTextAsync(page.GetByLabel("User", new() { Exact = true }), "usr_bob");
                break;
            case "entityType":
                await CommitTextAsync(page.GetByLabel("Entity type", new() { Exact = true }), "contact");
                break;
            case "range":
                await page.GetByLabel("Date", new() { Exact = true }).SelectOptionAsync("7d");
                break;
            case "custom":
                await page.GetByLabel("Date", new() { Exact = true }).SelectOptionAsync("custom");
                await page.GetByLabel("From", new() { Exact = true }).FillAsync(TimeZoneInfo.ConvertTime(from, zone).ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture));
                await page.GetByLabel("To", new() { Exact = true }).FillAsync(TimeZoneInfo.ConvertTime(to, zone).ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture));
                break;
            case "source":
                await page.GetByLabel("Source", new() { Exact = true }).SelectOptionAsync("Workflow");
                break;
            case "outcome":
                await page.GetByLabel("Outcome", new() { Exact = true }).SelectOptionAsync("failure");
                break;
            case "ai":
                await page.GetByLabel("AI", new() { Exact = true }).SelectOptionAsync("true");
                break;
            case "category":
                await page.GetByLabel("Category", new() { Exact = true }).SelectOptionAsync("auth");
                break;
            case "q":
                await CommitTextAsync(page.GetByLabel("Search", new() { Exact = true }), "cleo");
                break;
        }

        var expected = ViewerData.Newest(fixture.Acme.Where(expectation.Matches)).Take(50).ToList();
        Assert.InRange(expected.Count, 1, 49);
        await WaitForRowsAsync(page, expected);
        Assert.Contains(expectation.Query, page.Url, StringComparison.Ordinal);
        Assert.Contains($"org={ViewerData.Org}", page.Url, StringComparison.Ordinal);
        Assert.EndsWith($"#token={session.Token}", page.Url, StringComparison.Ordinal);

        // The address is the view: opening it again shows the same rows.
        await page.ReloadAsync();
        await WaitForRowsAsync(page, expected);
        session.AssertTokenNeverInUrl();
    }

    [Fact]
    public async Task Copy_link_gives_the_address_of_the_view_without_the_token()
    {
        await using var session = await OpenAsync(ViewerData.Org, "&source=Workflow");
        await session.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        await WaitForRowsAsync(session.Page, ViewerData.Newest(fixture.Acme.Where(e => e.Source == Sources.Workflow)).Take(50).ToList());

        await session.Page.GetByRole(AriaRole.Button, new() { Name = "Copy link to this view" }).ClickAsync();
        await session.Page.GetByText("Link copied").WaitForAsync(new() { Timeout = (float)Wait.TotalMilliseconds });

        var copied = await session.Page.EvaluateAsync<string>("() => navigator.clipboard.readText()");
        Assert.Equal(Host.PageUrl(ViewerData.Org, null, "&source=Workflow"), copied);
        session.AssertTokenNeverInUrl();
    }

    [Fact]
    public async Task Load_more_follows_the_cursor_to_the_end_of_the_list()
    {
        await using var session = await OpenAsync(ViewerData.Org);
        var all = ViewerData.Newest(fixture.Acme);

        await WaitForRowsAsync(session.Page, all.Take(50).ToList());
        await session.Page.GetByRole(AriaRole.Button, new() { Name = "Load more" }).ClickAsync();
        await WaitForRowsAsync(session.Page, all.Take(100).ToList());
        await session.Page.GetByRole(AriaRole.Button, new() { Name = "Load more" }).ClickAsync();
        await WaitForRowsAsync(session.Page, all);

        Assert.Equal(0, await session.Page.GetByRole(AriaRole.Button, new() { Name = "Load more" }).CountAsync());
        Assert.Contains("end of the list", await session.Page.Locator(".more").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(2, session.Urls.Count(u => u.Contains("cursor=", StringComparison.Ordinal)));
        session.AssertTokenNeverInUrl();
    }

    [Fact]
    public async Task View_shows_the_field_by_field_diff_IP_and_user_agent_and_the_keyboard_reaches_it()
    {
        await using var session = await OpenAsync(ViewerData.Org);
        var page = session.Page;
        var all = ViewerData.Newest(fixture.Acme);
        await WaitForRowsAsync(page, all.Take(50).ToList());

        var newest = all[0];
        await page.Locator($"tr[data-event-id='{newest.Id}'] button.view").ClickAsync();
        var panel = page.GetByRole(AriaRole.Dialog);
        await panel.Locator("table.diff").WaitForAsync(new() { Timeout = (float)Wait.TotalMilliseconds });

        var kinds = await panel.Locator("table.diff tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.querySelector('th').firstChild.textContent.trim() + '=' + r.dataset.kind)");
        Assert.Equal(["stage=changed", "amount=unchanged", "owner=removed", "probability=added"], kinds);
        var stage = panel.Locator("tr[data-kind='changed']");
        Assert.Equal("Demo Scheduled", await stage.Locator("td.before").InnerTextAsync());
        Assert.Equal("Proposal Sent", await stage.Locator("td.after").InnerTextAsync());
        var text = await panel.InnerTextAsync();
        Assert.Contains(newest.Ip!, text, StringComparison.Ordinal);
        Assert.Contains(newest.UserAgent!, text, StringComparison.Ordinal);

        // Escape closes the panel and gives the focus back to the row's button; ↓ then Enter opens the next row.
        await page.Keyboard.PressAsync("Escape");
        await panel.WaitForAsync(new() { State = WaitForSelectorState.Detached, Timeout = (float)Wait.TotalMilliseconds });
        Assert.Equal(newest.Id, await page.EvaluateAsync<string>("() => document.activeElement.closest('tr').dataset.eventId"));
        await page.Keyboard.PressAsync("ArrowDown");
        await page.Keyboard.PressAsync("Enter");
        await panel.Locator("table.diff, .panel-body").First.WaitForAsync(new() { Timeout = (float)Wait.TotalMilliseconds });
        Assert.Contains(all[1].Id, await panel.InnerTextAsync(), StringComparison.Ordinal);
        await page.GetByRole(AriaRole.Button, new() { Name = "Close details" }).ClickAsync();

        var ai = all.Take(50).First(e => e.Ai is not null);
        await page.Locator($"tr[data-event-id='{ai.Id}'] button.view").ClickAsync();
        await panel.Locator(".ai-box").WaitForAsync(new() { Timeout = (float)Wait.TotalMilliseconds });
        var aiText = await panel.Locator(".ai-box").InnerTextAsync();
        Assert.Contains(ai.Ai!.ConversationId!, aiText, StringComparison.Ordinal);
        Assert.Contains(ai.Ai.MessageId!, aiText, StringComparison.Ordinal);
        Assert.Contains(session.Urls, u => u.EndsWith($"/events/{ai.Id}", StringComparison.Ordinal));
        session.AssertTokenNeverInUrl();
    }

    [Fact]
    public async Task Export_CSV_runs_a_job_with_the_filters_on_screen_and_downloads_its_file()
    {
        await using var session = await OpenAsync(ViewerData.ExportOrg, "&source=API");
        var page = session.Page;
        var expected = ViewerData.Newest(fixture.Initech.Where(e => e.Source == Sources.Api)).ToList();
        await WaitForRowsAsync(page, expected);

        await page.GetByRole(AriaRole.Button, new() { Name = "Export CSV" }).ClickAsync();
        var downloadButton = page.GetByRole(AriaRole.Button, new() { Name = "Download CSV" });
        await downloadButton.WaitForAsync(new() { Timeout = 30_000 });
        Assert.Contains($"{expected.Count} rows", await page.Locator(".export-status").InnerTextAsync(), StringComparison.Ordinal);
        var download = await page.RunAndWaitForDownloadAsync(() => downloadButton.ClickAsync());

        var bytes = await File.ReadAllBytesAsync(await download.PathAsync(), TestContext.Current.CancellationToken);
        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, bytes[..3]);
        var lines = Encoding.UTF8.GetString(bytes, 3, bytes.Length - 3).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("Time,User,User Email,Action", lines[0], StringComparison.Ordinal);
        Assert.Equal(expected.Select(e => e.Id), lines.Skip(1).Select(l => l[(l.LastIndexOf(',') + 1)..]));
        Assert.Contains(session.Requests, r => r.Method == "POST" && r.Url.EndsWith($"/v1/orgs/{ViewerData.ExportOrg}/exports", StringComparison.Ordinal));
        session.AssertTokenNeverInUrl();
    }

    [Fact]
    public async Task An_expired_token_shows_the_sign_in_message_and_no_events()
    {
        SkipWithoutBrowser();
        var token = await Host.MintAsync(ViewerData.Org);
        Host.Clock.Advance(TimeSpan.FromMinutes(16));
        try
        {
            await using var session = await OpenAsync(ViewerData.Org, token: token);
            await AssertSignInAsync(session);
        }
        finally
        {
            Host.Clock.Advance(TimeSpan.FromMinutes(-16));
        }
    }

    [Fact]
    public async Task A_token_of_another_organisation_shows_the_sign_in_message_and_no_events()
    {
        SkipWithoutBrowser();
        var foreign = await Host.MintAsync(ViewerData.OtherOrg);

        await using var session = await OpenAsync(ViewerData.Org, token: foreign);

        await AssertSignInAsync(session);
    }

    [Theory]
    [InlineData("tampered")]
    [InlineData("none")]
    public async Task A_tampered_or_missing_token_shows_the_sign_in_message_and_no_events(string kind)
    {
        SkipWithoutBrowser();
        var token = kind == "none" ? null : (await Host.MintAsync(ViewerData.Org))[..^2] + "AA";

        await using var session = await OpenAsync(ViewerData.Org, token: token, noToken: token is null);

        await AssertSignInAsync(session);
    }

    private async Task AssertSignInAsync(Session session)
    {
        await session.Page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to view the audit log" }).WaitForAsync(new() { Timeout = (float)Wait.TotalMilliseconds });
        Assert.Equal(0, await session.Page.Locator("tr[data-event-id]").CountAsync());
        var body = await session.Page.Locator("body").InnerTextAsync();
        Assert.DoesNotContain("Ana Silva", body, StringComparison.Ordinal);
        Assert.All(session.Responses, r => Assert.True(r.Status is 401 or 404 || !r.Url.Contains("/v1/", StringComparison.Ordinal), $"{r.Url} answered {r.Status}"));
        session.AssertTokenNeverInUrl();
    }

    /// <summary>Skips visibly where no browser could start (tests that mint a token first need it before then).</summary>
    private void SkipWithoutBrowser()
    {
        if (Host.SkipReason is { } reason)
        {
            Assert.Skip(reason);
        }
    }

    private async Task<Session> OpenAsync(string org, string query = "", string? token = null, bool noToken = false)
    {
        SkipWithoutBrowser();

        token ??= noToken ? null : await Host.MintAsync(org);
        var context = await Host.Browser!.NewContextAsync(new BrowserNewContextOptions
        {
            TimezoneId = TimeZone,
            Locale = "en-US",
            ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
            AcceptDownloads = true,
        });
        var session = new Session(context, await context.NewPageAsync(), token ?? "");
        await session.Page.GotoAsync(Host.PageUrl(org, token, query));
        return session;
    }

    private static async Task CommitTextAsync(ILocator input, string value)
    {
        await input.FillAsync(value);
        await input.PressAsync("Enter");
    }

    /// <summary>Waits until the list shows exactly <paramref name="expected"/>, in order (or fails showing what it has).</summary>
    private static async Task WaitForRowsAsync(IPage page, IReadOnlyList<AuditEvent> expected)
    {
        var want = expected.Select(e => e.Id).ToList();
        string[] ids = [];
        var deadline = DateTime.UtcNow + Wait;
        while (DateTime.UtcNow < deadline)
        {
            if (await page.Locator("section.results").GetAttributeAsync("aria-busy") != "true")
            {
                ids = await page.Locator("tr[data-event-id]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.eventId)");
                if (ids.SequenceEqual(want))
                {
                    return;
                }
            }

            await Task.Delay(100);
        }

        Assert.Fail($"Expected {want.Count} rows starting {string.Join(", ", want.Take(3))}; the page shows {ids.Length}: {string.Join(", ", ids.Take(3))}.\n{await page.Locator("body").InnerTextAsync()}");
    }

    private static string Normalize(string text) => text.Replace('\u202f', ' ').Replace('\u00a0', ' ');

    /// <summary>One browser context and page, with every request and response it saw.</summary>
    private sealed class Session : IAsyncDisposable
    {
        private readonly IBrowserContext _context;
        private readonly List<(string Method, string Url)> _requests = [];
        private readonly List<(string Url, int Status)> _responses = [];

        public Session(IBrowserContext context, IPage page, string token)
        {
            _context = context;
            Page = page;
            Token = token;
            context.Request += (_, r) => { lock (_requests) { _requests.Add((r.Method, r.Url)); } };
            context.Response += (_, r) => { lock (_responses) { _responses.Add((r.Url, r.Status)); } };
        }

        public IPage Page { get; }

        public IBrowserContext Context => _context;

        public string Token { get; }

        public IReadOnlyList<(string Method, string Url)> Requests { get { lock (_requests) { return [.. _requests]; } } }

        public IReadOnlyList<string> Urls => [.. Requests.Select(r => r.Url)];

        public IReadOnlyList<(string Url, int Status)> Responses { get { lock (_responses) { return [.. _responses]; } } }

        public void AssertTokenNeverInUrl()
        {
            Assert.NotEmpty(Urls);
            if (Token.Length == 0)
            {
                return;
            }

            var secret = Token["avt_".Length..];
            foreach (var url in Urls)
            {
                Assert.DoesNotContain(secret[..16], url, StringComparison.Ordinal);
                Assert.DoesNotContain(Uri.EscapeDataString(secret)[..16], url, StringComparison.Ordinal);
            }
        }

        public async ValueTask DisposeAsync() => await _context.CloseAsync();
    }

    /// <summary>One host and one browser for the class; the data of three organisations.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public ViewerHost Host { get; } = new();

        public List<AuditEvent> Acme { get; private set; } = [];

        public List<AuditEvent> Initech { get; private set; } = [];

        public async ValueTask InitializeAsync()
        {
            await Host.InitializeAsync();
            if (Host.SkipReason is not null)
            {
                return;
            }

            Acme = ViewerData.Generate(ViewerData.Org, 120, Host.Clock.Now);
            Initech = ViewerData.Generate(ViewerData.ExportOrg, 30, Host.Clock.Now);
            await Host.SeedAsync(Acme);
            await Host.SeedAsync(Initech);
            await Host.SeedAsync(ViewerData.Generate(ViewerData.OtherOrg, 5, Host.Clock.Now));
        }

        public async ValueTask DisposeAsync() => await Host.DisposeAsync();
    }
}
