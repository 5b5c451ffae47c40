using System.Net;
using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Api.Tests.Support;

/// <summary>Small readers of the facade's answers.</summary>
public static class Http
{
    public static async Task<(List<AuditEvent> Items, string? Next, JsonElement Raw)> PageAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url} answered {(int)response.StatusCode}: {text}");
        var raw = JsonDocument.Parse(text).RootElement.Clone();
        var items = raw.GetProperty("items").EnumerateArray().Select(i => AuditJson.Deserialize(i.GetRawText())).ToList();
        var next = raw.GetProperty("nextCursor").ValueKind == JsonValueKind.Null ? null : raw.GetProperty("nextCursor").GetString();
        return (items, next, raw);
    }

    /// <summary>Follows nextCursor to the end; fails if it loops.</summary>
    public static async Task<List<AuditEvent>> AllPagesAsync(HttpClient client, string url, int limit = 100)
    {
        var all = new List<AuditEvent>();
        var sep = url.Contains('?', StringComparison.Ordinal) ? "&" : "?";
        string? cursor = null;
        for (var guard = 0; guard < 100_000; guard++)
        {
            var pageUrl = $"{url}{sep}limit={limit}" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            var (items, next, _) = await PageAsync(client, pageUrl);
            all.AddRange(items);
            if (next is null)
            {
                return all;
            }

            Assert.Equal(limit, items.Count);
            cursor = next;
        }

        throw new InvalidOperationException("Paging did not end.");
    }

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected} but got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts a 400 problem that names <paramref name="parameter"/> in its errors.</summary>
    public static async Task<JsonElement> BadRequestAsync(HttpResponseMessage response, string parameter)
    {
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(parameter, out _), $"The problem does not name {parameter}: {problem}");
        Assert.Contains(parameter, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        return problem;
    }

    public static List<AuditEvent> Expected(IEnumerable<AuditEvent> events, Core.Storage.AuditQuery query) =>
        [.. events.Where(query.Matches).OrderByDescending(e => e.Time).ThenByDescending(e => e.Id, Core.Storage.IdOrder.Instance)];
}
