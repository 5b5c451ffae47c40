using System.Net;
using AuditPipeline.Api.Tests.Support;

namespace AuditPipeline.Api.Tests;

/// <summary>Every bad input is a 400 problem that names the parameter.</summary>
public sealed class ValidationTests(SeededHost seeded) : IClassFixture<SeededHost>
{
    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=501", "limit")]
    [InlineData("limit=-1", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("limit=10.5", "limit")]
    [InlineData("limit=99999999999999999999", "limit")]
    [InlineData("limit=5&limit=6", "limit")]
    [InlineData("category=gossip", "category")]
    [InlineData("category=crm&category=gossip", "category")]
    [InlineData("source=Telegram", "source")]
    [InlineData("outcome=maybe", "outcome")]
    [InlineData("ai=yes", "ai")]
    [InlineData("ai=1", "ai")]
    [InlineData("range=14d", "range")]
    [InlineData("range=7", "range")]
    [InlineData("range=7d&from=2026-11-01T00:00:00Z", "range")]
    [InlineData("range=7d&to=2026-11-01T00:00:00Z", "range")]
    [InlineData("range=7d&range=30d", "range")]
    [InlineData("from=yesterday", "from")]
    [InlineData("from=2026-11-01", "from")]
    [InlineData("from=2026-11-01T00:00:00", "from")]
    [InlineData("to=2026-13-01T00:00:00Z", "to")]
    [InlineData("to=2026-11-31T00:00:00Z", "to")]
    [InlineData("from=1764412320000", "from")]
    [InlineData("from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", "from")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("cursor=AAAA", "cursor")]
    public async Task A_bad_parameter_is_a_400_problem_naming_it(string query, string parameter)
    {
        using var response = await seeded.Host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/events?{query}");

        var problem = await Http.BadRequestAsync(response, parameter);
        Assert.Equal("Invalid parameter", problem.GetProperty("title").GetString());
    }

    [Theory]
    [InlineData("category=gossip", "category")]
    [InlineData("range=1y", "range")]
    [InlineData("from=2026-11-01", "from")]
    public async Task The_csv_rejects_bad_filters_the_same_way(string query, string parameter)
    {
        using var response = await seeded.Host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/events.csv?{query}");

        await Http.BadRequestAsync(response, parameter);
    }

    [Fact]
    public async Task The_limit_message_says_what_is_allowed_and_what_was_given()
    {
        using var response = await seeded.Host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/events?limit=0");

        var problem = await Http.BadRequestAsync(response, "limit");
        Assert.Equal("limit must be between 1 and 500 (was 0).", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Several_bad_parameters_are_all_named()
    {
        using var response = await seeded.Host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/events?limit=0&category=x&outcome=y");

        var problem = await Http.ProblemAsync(response, HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("limit", out _) && errors.TryGetProperty("category", out _) && errors.TryGetProperty("outcome", out _), problem.ToString());
    }

    [Theory]
    [InlineData("limit=1")]
    [InlineData("limit=500")]
    [InlineData("from=2026-11-29T10:32:00Z")]
    [InlineData("from=2026-11-29T10:32:00.123456Z")]
    [InlineData("from=2026-11-29T11:32:00%2B01:00")]
    [InlineData("from=2026-11-29T11:32:00+01:00")]
    [InlineData("from=2026-11-29T05:32:00-05:00")]
    [InlineData("from=2026-11-29T10:32:00Z&to=2026-11-29T10:32:00Z")]
    [InlineData("range=7D")]
    [InlineData("category=CRM&outcome=Success&ai=TRUE")]
    [InlineData("action=&category=")]
    [InlineData("nonsense=1&limit=10")]
    public async Task Good_parameters_in_every_accepted_spelling_are_200(string query)
    {
        using var response = await seeded.Host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/events?{query}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_from_with_an_unencoded_plus_offset_means_the_same_instant()
    {
        var client = seeded.Host.Client();
        var plain = await Http.AllPagesAsync(client, $"/v1/orgs/{TestKeys.Org}/events?from=2026-11-20T11:00:00%2B01:00", 500);
        var unencoded = await Http.AllPagesAsync(client, $"/v1/orgs/{TestKeys.Org}/events?from=2026-11-20T11:00:00+01:00", 500);
        var utc = await Http.AllPagesAsync(client, $"/v1/orgs/{TestKeys.Org}/events?from=2026-11-20T10:00:00Z", 500);

        Assert.Equal(utc.Select(e => e.Id), plain.Select(e => e.Id));
        Assert.Equal(utc.Select(e => e.Id), unencoded.Select(e => e.Id));
    }
}
