using System.Text;
using System.Text.Json;
using AuditPipeline.Api.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace AuditPipeline.Api.Tests;

/// <summary>
/// A bounded, seeded set of hostile requests against every endpoint of the facade, on the embedded store:
/// unpaired surrogates in names and values (percent-encoded, as raw invalid UTF-8, as raw UTF-16 that no
/// HttpClient would send, as JSON escapes), deep nesting, oversized bodies and query strings, odd dates,
/// huge limits, forged and mutated cursors. Not one answer may be a 5xx, and every 4xx must be a problem
/// the client can read. The seed is printed in every failure so it replays.
/// </summary>
public sealed class HostileFuzzTests
{
    private const int Seed = 20261201;
    private const int Requests = 2000;

    private static readonly string[] Names =
        ["action", "user", "entityType", "entityId", "category", "source", "outcome", "ai", "range", "from", "to", "q", "limit", "cursor", "LIMIT", "Q", "Action"];

    private static readonly string[] Surrogates = ["%ED%A0%80", "%ED%BF%BF", "%F0%9F", "%C0%AF", "%FF%FE", "%80", "%00", "%25ED%25A0%2580"];

    // %00 in a path is refused by the server's request-line decoder before any application code (Kestrel: 400).
    private static readonly string[] PathSurrogates = [.. Surrogates.Where(s => s != "%00")];

    private static readonly string[] Dates =
    [
        "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59.9999999-14:00", "9999-12-31T23:59:59.9999999Z", "2026-11-29T10:32:00+14:00", "2026-11-29T10:32:00-14:00",
        "2026-11-29T10:32:00+14:01", "2026-11-29T10:32:00-23:59", "2026-11-29T10:32:00.123456789Z", "2026-11-29T10:32:00.1234567+05:45",
        "2026-11-29T10:32:00 14:00", "2026-02-29T00:00:00Z", "2028-02-29T00:00:00Z", "2026-11-29T24:00:00Z", "2026-11-29T10:32:60Z",
        "-0001-01-01T00:00:00Z", "+002026-11-29T10:32:00Z", "2026-W48-7T00:00:00Z", "1764412320", "1764412320000",
    ];

    private static readonly string[] Limits =
        ["0", "1", "500", "501", "-1", "2147483647", "2147483648", "99999999999999999999999999", "1e3", "0x10", "+5", " 5", "5 ", "٣", "00000000050", "NaN"];

    private static readonly string[] Values =
    [
        "crm", "CRM", "chat", "api", "success", "failure", "true", "FALSE", "7d", "90d", "1y", "deleted", "created", "ana", "ana@acme", "deal_123",
        "", " ", "null", "🚀", "\u202Eevil", "' OR 1=1 --", "*", "%", "\\", "\"", "<script>",
    ];

    [Fact]
    public async Task Two_thousand_hostile_requests_get_no_5xx_and_every_4xx_is_a_problem()
    {
        await using var host = await ApiHost.StartAsync(settings: new Dictionary<string, string?> { ["Api:RateLimit:PermitsPerMinute"] = "1000000" });
        var events = Dataset.Generate(400, seed: 31);
        await host.SeedAsync(events);
        var ids = events.Select(e => e.Id).Take(50).ToArray();
        var realCursor = (await Http.PageAsync(host.Client(), $"/v1/orgs/{TestKeys.Org}/events?limit=1")).Next!;
        var exportId = await FirstExportAsync(host);

        var rng = new Random(Seed);
        string[] keys = [TestKeys.Full, TestKeys.Full, TestKeys.Full, TestKeys.Service, TestKeys.Reader, TestKeys.Exporter, TestKeys.Other, "forged-key"];
        var statuses = new Dictionary<int, int>();
        for (var i = 0; i < Requests; i++)
        {
            var request = Build(rng, ids, realCursor, exportId);
            var key = keys[rng.Next(keys.Length)];
            var (status, contentType, body) = await SendAsync(host, request, key);
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var what = $"Seed {Seed}, request {i}: {request.Method} {Show(request.Path)}{Show(request.Query)} ({request.Body?.Length ?? 0} body bytes, {request.ContentType}) answered {status} {contentType}: {Show(body)}";
            Assert.True(status < 500, what);
            if (status >= 400)
            {
                Assert.True(contentType?.StartsWith("application/problem+json", StringComparison.Ordinal) == true, what);
                using var problem = JsonDocument.Parse(body);
                Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("detail").GetString()), what);
            }
        }

        // The generator reached the handlers, not only the gates in front of them.
        var summary = string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}"));
        Assert.True(statuses.GetValueOrDefault(200) > 150, summary);
        Assert.True(statuses.GetValueOrDefault(400) > 300, summary);
        Assert.True(statuses.GetValueOrDefault(202) + statuses.GetValueOrDefault(429) > 20, summary);
    }

    private sealed record FuzzRequest(string Method, string Path, string Query, byte[]? Body, string? ContentType, bool Raw);

    private static FuzzRequest Build(Random rng, string[] ids, string realCursor, string exportId)
    {
        var raw = rng.Next(5) == 0;
        var org = rng.Next(10) switch
        {
            0 => TestKeys.OtherOrg,
            1 => raw ? "\ud800" : PathSurrogates[rng.Next(PathSurrogates.Length)],
            2 => raw ? "org_42\udfff" : "org%ED%A0%80",
            _ => TestKeys.Org,
        };
        var id = rng.Next(6) switch
        {
            0 => ids[rng.Next(ids.Length)],
            1 => raw ? "evt_\ud800" : "evt_" + PathSurrogates[rng.Next(PathSurrogates.Length)],
            2 => new string('e', rng.Next(1, 3000)),
            3 => exportId,
            4 => "exp_" + Convert.ToHexStringLower(RandomBytes(rng, 16)),
            _ => "..%2F..%2Fcursor.key",
        };
        var (method, path) = rng.Next(16) switch
        {
            < 5 => ("GET", $"/v1/orgs/{org}/events"),
            < 7 => ("GET", $"/v1/orgs/{org}/events.csv"),
            < 9 => ("GET", $"/v1/orgs/{org}/events/{id}"),
            < 12 => ("POST", $"/v1/orgs/{org}/exports"),
            12 => ("GET", $"/v1/orgs/{org}/exports/{id}"),
            13 => ("GET", $"/v1/orgs/{org}/exports/{id}/download"),
            14 => (new[] { "PUT", "PATCH", "DELETE", "POST" }[rng.Next(4)], $"/v1/orgs/{org}/events"),
            _ => (new[] { "PUT", "PATCH", "DELETE" }[rng.Next(3)], $"/v1/orgs/{org}/events/{id}"),
        };

        var query = new StringBuilder();
        for (var p = rng.Next(7); p > 0; p--)
        {
            var name = rng.Next(12) == 0 ? Surrogates[rng.Next(Surrogates.Length)] : Names[rng.Next(Names.Length)];
            var repeat = rng.Next(15) == 0 ? rng.Next(90, 130) : 1;
            var value = Value(rng, name, raw, realCursor);
            for (var r = 0; r < repeat; r++)
            {
                query.Append(query.Length == 0 ? '?' : '&').Append(name).Append('=').Append(value);
            }
        }

        if (rng.Next(40) == 0)
        {
            // An oversized query string: one huge value, or thousands of terms.
            query.Append(query.Length == 0 ? '?' : '&').Append(rng.Next(2) == 0 ? "q=" + new string('a', 100_000) : "q=" + string.Join("+", Enumerable.Repeat("ab", 20_000)));
        }

        byte[]? body = null;
        string? contentType = null;
        if (method is "POST" or "PUT" or "PATCH")
        {
            body = Body(rng, raw, realCursor);
            contentType = rng.Next(8) switch
            {
                0 => "text/plain",
                1 => null,
                2 => "application/json; charset=latin1",
                3 => "application/x-www-form-urlencoded",
                _ => "application/json",
            };
        }

        return new FuzzRequest(method, path, query.ToString(), body, contentType, raw);
    }

    private static string Value(Random rng, string name, bool raw, string realCursor)
    {
        switch (rng.Next(10))
        {
            case 0:
                return Surrogates[rng.Next(Surrogates.Length)];
            case 1 when raw:
                return "ana\ud800" + (rng.Next(2) == 0 ? "\udc00\udc00" : "");
            case 2:
                return Uri.EscapeDataString(RandomText(rng));
        }

        return name.ToLowerInvariant() switch
        {
            "from" or "to" => Uri.EscapeDataString(Dates[rng.Next(Dates.Length)]),
            "limit" => Uri.EscapeDataString(Limits[rng.Next(Limits.Length)]),
            "cursor" => Uri.EscapeDataString(Cursor(rng, realCursor)),
            "q" => Uri.EscapeDataString(string.Join(' ', Enumerable.Range(0, rng.Next(1, 20)).Select(_ => rng.Next(8) == 0 ? new string('w', rng.Next(200, 300)) : Values[rng.Next(Values.Length)]))),
            _ => Uri.EscapeDataString(Values[rng.Next(Values.Length)]),
        };
    }

    private static string Cursor(Random rng, string real) => rng.Next(6) switch
    {
        0 => real,
        1 => real[..rng.Next(real.Length)],
        2 => real + "A",
        3 => Flip(rng, real),
        4 => Convert.ToBase64String(RandomBytes(rng, rng.Next(0, 200))).TrimEnd('=').Replace('+', '-').Replace('/', '_'),
        _ => new string('A', rng.Next(1, 5000)),
    };

    private static string Flip(Random rng, string s)
    {
        var chars = s.ToCharArray();
        var i = rng.Next(chars.Length);
        chars[i] = chars[i] == 'A' ? 'B' : 'A';
        return new string(chars);
    }

    private static byte[] Body(Random rng, bool raw, string realCursor)
    {
        // Half of the bodies are hostile; the other half are filters of every shape, good and bad.
        switch (rng.Next(28))
        {
            case 0:
                return RandomBytes(rng, rng.Next(0, 400));
            case 1:
                return Encoding.UTF8.GetBytes(new string('[', rng.Next(15, 200_000)));
            case 2:
                return Encoding.UTF8.GetBytes("{\"a\":" + new string('{', 1) + string.Concat(Enumerable.Repeat("\"b\":{", rng.Next(14, 40))) + "}");
            case 3:
                return Encoding.UTF8.GetBytes("{\"q\":\"" + new string('a', rng.Next(60_000, 200_000)) + "\"}");
            case 4:
                return [.. "{\"action\":[\""u8, 0xED, 0xA0, 0x80, .. "\"]}"u8];
            case 5:
                return [.. "{\""u8, 0xED, 0xB0, 0x80, .. "\":1}"u8];
            case 6:
                return Encoding.UTF8.GetBytes(rng.Next(3) switch
                {
                    0 => "{\"\\ud800\":[\"x\"]}",
                    1 => "{\"action\":[\"\\udfff\"],\"q\":\"\\ud800\\ud800\"}",
                    _ => "{\"q\":\"ana\\ud83d\"}",
                });
            case 7:
                return Encoding.UTF8.GetBytes("{\"action\":[" + string.Join(',', Enumerable.Range(0, rng.Next(95, 110)).Select(i => $"\"a{i}\"")) + "]}");
            case 8:
                return Encoding.UTF8.GetBytes("{\"from\":\"" + Dates[rng.Next(Dates.Length)] + "\",\"to\":\"" + Dates[rng.Next(Dates.Length)] + "\"}");
            case 9:
                return Encoding.UTF8.GetBytes("{\"cursor\":\"" + realCursor + "\",\"limit\":2147483648}");
            case 10 when raw:
                // Raw UTF-16 that is not valid text, written as the client's encoder would mangle it.
                return Encoding.UTF8.GetBytes("{\"action\":[\"\ud800\"]}");
            case 11:
                return Encoding.UTF8.GetBytes("{\"action\":[\"deleted\"]} trailing");
        }

        string[] shapes =
        [
            "{}", "{}", "{\"range\":\"90d\"}", "[]", "null", "\"deleted\"", "{\"action\":[\"deleted\"]}", "{\"range\":\"30d\"}", "{\"ai\":[true,false]}", "{\"ai\":\"maybe\"}",
            "{\"category\":\"crm\",\"q\":\"ana\"}", "{\"action\":5}", "{\"action\":[null,1,\"x\"]}", "{\"q\":[\"ana\"]}", "{\"range\":\"7d\",\"from\":\"2026-01-01T00:00:00Z\"}",
            "\uFEFF{\"outcome\":[\"failure\"]}", "{\"q\":\"" + string.Join(' ', Enumerable.Range(0, 17).Select(i => "t" + i)) + "\"}",
        ];
        return Encoding.UTF8.GetBytes(shapes[rng.Next(shapes.Length)]);
    }

    private static async Task<(int Status, string? ContentType, string Body)> SendAsync(ApiHost host, FuzzRequest r, string key)
    {
        if (r.Raw)
        {
            // Straight into the server: the path and query keep characters no URI could carry.
            var context = await host.Server.SendAsync(c =>
            {
                c.Request.Method = r.Method;
                c.Request.Path = new PathString(r.Path);
                c.Request.QueryString = new QueryString(r.Query.Length == 0 ? null : r.Query);
                c.Request.Headers.Authorization = "Bearer " + key;
                if (r.Body is not null)
                {
                    c.Request.Body = new MemoryStream(r.Body);
                    c.Request.ContentLength = r.Body.Length;
                    c.Request.ContentType = r.ContentType;
                }
            });
            using var reader = new StreamReader(context.Response.Body);
            return (context.Response.StatusCode, context.Response.ContentType, await reader.ReadToEndAsync());
        }

        using var request = new HttpRequestMessage(new HttpMethod(r.Method), r.Path + r.Query);
        if (r.Body is not null)
        {
            request.Content = new ByteArrayContent(r.Body);
            if (r.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", r.ContentType);
            }
        }

        using var response = await host.Client(key).SendAsync(request);
        return ((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), await response.Content.ReadAsStringAsync());
    }

    private static async Task<string> FirstExportAsync(ApiHost host)
    {
        using var response = await host.Client().PostAsync($"/v1/orgs/{TestKeys.Org}/exports", ExportLimitTests.Json("{}"));
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
    }

    private static string RandomText(Random rng)
    {
        var chars = new char[rng.Next(1, 40)];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = rng.Next(5) switch
            {
                0 => (char)rng.Next(0, 32),
                1 => (char)rng.Next(0xD800, 0xE000),
                2 => (char)rng.Next(0x80, 0x3000),
                _ => (char)rng.Next(32, 127),
            };
        }

        return new string(chars);
    }

    private static byte[] RandomBytes(Random rng, int n)
    {
        var bytes = new byte[n];
        rng.NextBytes(bytes);
        return bytes;
    }

    private static string Show(string s) => s.Length <= 300 ? s : s[..300] + $"…({s.Length} chars)";
}
