using System.Net;
using AuditPipeline.Api.Tests.Support;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;
using AuditPipeline.Testing;

namespace AuditPipeline.Api.Tests;

/// <summary>Cursor paging: every event exactly once, stable while events arrive, bound to its filters.</summary>
public sealed class PagingTests : IAsyncLifetime
{
    private ApiHost _host = null!;
    private List<AuditEvent> _events = null!;

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync();
        _events = Dataset.Generate(3000, seed: 7);
        await _host.SeedAsync(_events);
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(500)]
    public async Task Paging_returns_each_event_exactly_once_in_order(int limit)
    {
        var url = $"/v1/orgs/{TestKeys.Org}/events" + (limit == 1 ? "?category=security&outcome=failure" : "");
        var query = new AuditQuery { OrgId = TestKeys.Org } with
        {
            Categories = limit == 1 ? ["security"] : [],
            Outcomes = limit == 1 ? ["failure"] : [],
        };

        var all = await Http.AllPagesAsync(_host.Client(), url, limit);

        var expected = Http.Expected(_events, query);
        Assert.Equal(expected.Select(e => e.Id), all.Select(e => e.Id));
        Assert.Equal(all.Count, all.Select(e => e.Id).Distinct().Count());
    }

    [Fact]
    public async Task Paging_gives_the_same_set_and_order_as_the_csv()
    {
        var client = _host.Client(TestKeys.Service);
        var paged = await Http.AllPagesAsync(client, $"/v1/orgs/{TestKeys.Org}/events?range=90d&source=admin", 250);
        var csv = await client.GetStringAsync($"/v1/orgs/{TestKeys.Org}/events.csv?range=90d&source=admin");

        var rows = CsvReading.Parse(csv.TrimStart('\uFEFF'));
        Assert.Equal(paged.Select(e => e.Id), rows.Skip(1).Select(r => r[^1]));
    }

    [Fact]
    public async Task A_cursor_stays_valid_and_stable_while_new_events_arrive()
    {
        var client = _host.Client();
        var url = $"/v1/orgs/{TestKeys.Org}/events?range=30d";
        var (first, cursor, _) = await Http.PageAsync(client, url + "&limit=100");

        // Newer events arrive and time moves on; the next page continues after the last one seen.
        _host.Time.Advance(TimeSpan.FromHours(2));
        await _host.SeedAsync([.. Enumerable.Range(0, 50).Select(i => Some.Event($"evt_new_{i:D3}", TestKeys.Org, _host.Time.Now.AddMinutes(-i)))]);
        var rest = new List<AuditEvent>();
        while (cursor is not null)
        {
            var (items, next, _) = await Http.PageAsync(client, $"{url}&limit=100&cursor={Uri.EscapeDataString(cursor)}");
            rest.AddRange(items);
            cursor = next;
        }

        var expected = Http.Expected(_events, new AuditQuery { OrgId = TestKeys.Org, From = ApiHost.DefaultNow.AddDays(-30) });
        var seen = first.Concat(rest).ToList();
        Assert.DoesNotContain(seen, e => e.Id.StartsWith("evt_new_", StringComparison.Ordinal));
        Assert.Equal(expected.Take(100).Select(e => e.Id), first.Select(e => e.Id));
        Assert.Equal(seen.Count, seen.Select(e => e.Id).Distinct().Count());

        // The window slid by two hours: what is seen after the first page is exactly the remainder inside it.
        var remainder = Http.Expected(_events, new AuditQuery { OrgId = TestKeys.Org, From = _host.Time.Now.AddDays(-30), After = AuditPosition.Of(first[^1]) });
        Assert.Equal(remainder.Select(e => e.Id), rest.Select(e => e.Id));
    }

    [Fact]
    public async Task A_cursor_survives_a_restart_on_the_same_data_directory()
    {
        var (_, cursor, _) = await Http.PageAsync(_host.Client(), $"/v1/orgs/{TestKeys.Org}/events?limit=10&category=crm");
        var expected = await Http.PageAsync(_host.Client(), $"/v1/orgs/{TestKeys.Org}/events?limit=10&category=crm&cursor={Uri.EscapeDataString(cursor!)}");

        await using var restarted = await ApiHost.StartAsync(store: _host.Store, directory: _host.Directory);
        var again = await Http.PageAsync(restarted.Client(), $"/v1/orgs/{TestKeys.Org}/events?limit=10&category=crm&cursor={Uri.EscapeDataString(cursor!)}");

        Assert.Equal(expected.Items.Select(e => e.Id), again.Items.Select(e => e.Id));
    }

    [Fact]
    public async Task The_order_of_repeated_values_does_not_change_the_filters_a_cursor_belongs_to()
    {
        var (_, cursor, _) = await Http.PageAsync(_host.Client(), $"/v1/orgs/{TestKeys.Org}/events?limit=5&category=crm&category=auth&source=admin");

        using var response = await _host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/events?limit=5&source=Admin&category=auth&category=crm&cursor={Uri.EscapeDataString(cursor!)}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static TheoryData<string> OtherFilters =>
    [
        "category=auth",
        "category=crm&outcome=failure",
        "category=crm&range=7d",
        "category=crm&q=ana",
        "category=crm&from=2026-11-01T00:00:00Z",
        "",
    ];

    [Theory]
    [MemberData(nameof(OtherFilters))]
    public async Task A_cursor_used_with_other_filters_is_400_naming_cursor(string otherFilters)
    {
        var (_, cursor, _) = await Http.PageAsync(_host.Client(), $"/v1/orgs/{TestKeys.Org}/events?limit=5&category=crm");

        using var response = await _host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/events?limit=5&{otherFilters}&cursor={Uri.EscapeDataString(cursor!)}");

        await Http.BadRequestAsync(response, "cursor");
    }

    [Fact]
    public async Task A_cursor_of_another_organisation_is_400()
    {
        var (_, cursor, _) = await Http.PageAsync(_host.Client(TestKeys.Service), $"/v1/orgs/{TestKeys.OtherOrg}/events?limit=5");

        using var response = await _host.Client(TestKeys.Service).GetAsync($"/v1/orgs/{TestKeys.Org}/events?limit=5&cursor={Uri.EscapeDataString(cursor!)}");

        await Http.BadRequestAsync(response, "cursor");
    }

    [Fact]
    public async Task Any_changed_character_of_a_cursor_is_400()
    {
        var (_, cursor, _) = await Http.PageAsync(_host.Client(), $"/v1/orgs/{TestKeys.Org}/events?limit=5");
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

        for (var i = 0; i < cursor!.Length; i++)
        {
            var replacement = alphabet[(alphabet.IndexOf(cursor[i], StringComparison.Ordinal) + 1) % alphabet.Length];
            var tampered = cursor[..i] + replacement + cursor[(i + 1)..];
            using var response = await _host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/events?limit=5&cursor={Uri.EscapeDataString(tampered)}");
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"position {i}: {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task A_cursor_signed_with_another_key_is_400()
    {
        await using var other = await ApiHost.StartAsync(store: _host.Store);
        var (_, cursor, _) = await Http.PageAsync(other.Client(), $"/v1/orgs/{TestKeys.Org}/events?limit=5");

        using var response = await _host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/events?limit=5&cursor={Uri.EscapeDataString(cursor!)}");

        var problem = await Http.BadRequestAsync(response, "cursor");
        Assert.Contains("not issued by this server", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_limit_may_change_between_pages()
    {
        var (first, cursor, _) = await Http.PageAsync(_host.Client(), $"/v1/orgs/{TestKeys.Org}/events?limit=10");
        var (second, _, _) = await Http.PageAsync(_host.Client(), $"/v1/orgs/{TestKeys.Org}/events?limit=20&cursor={Uri.EscapeDataString(cursor!)}");

        var expected = Http.Expected(_events, new AuditQuery { OrgId = TestKeys.Org });
        Assert.Equal(expected.Take(30).Select(e => e.Id), first.Concat(second).Select(e => e.Id));
    }
}
