using System.Net;
using System.Text;
using AuditPipeline.Api.Tests.Support;

namespace AuditPipeline.Api.Tests;

/// <summary>Random query strings, paths and bodies (seeded, so a failure replays) never get a 500.</summary>
public sealed class FuzzTests(SeededHost seeded) : IClassFixture<SeededHost>
{
    private static readonly string[] Names =
        ["action", "user", "entityType", "entityId", "category", "source", "outcome", "ai", "range", "from", "to", "q", "limit", "cursor", "Limit", "RANGE", "x", "", "%", "a[]"];

    private static readonly string[] Values =
    [
        "", "crm", "CRM", "chat", "API", "true", "false", "7d", "30d", "90d", "0", "1", "500", "501", "-1", "2147483648",
        "2026-11-29T10:32:00Z", "2026-11-29T10:32:00+01:00", "2026-11-29T10:32:00 01:00", "9999-12-31T23:59:59.9999999+14:00",
        "0001-01-01T00:00:00-14:00", "2026-02-30T00:00:00Z", "null", "undefined", "%00", "%FF%FE", "%", "%%", "ana", "ana@acme",
        "ü", "🚀", "\u202Eevil", "' OR 1=1 --", "<script>", "AAAA", "AQAAAAAAAAAAAAA", "..%2F..%2Fetc%2Fpasswd", new string('a', 3000),
    ];

    private static readonly string[] Paths =
    [
        "/v1/orgs/org_42/events", "/v1/orgs/org_42/events", "/v1/orgs/org_42/events", "/v1/orgs/org_42/events", "/v1/orgs/org_42/events.csv", "/v1/orgs/org_42/events.csv", "/v1/orgs/org_42/events/evt_1", "/v1/orgs/org_42/exports",
        "/v1/orgs/org_42/exports/exp_0123456789abcdef0123456789abcdef", "/v1/orgs/org_42/exports/x/download", "/v1/orgs/%01/events",
        "/v1/orgs/org_7/events", "/v1/orgs//events", "/v1/orgs/org_42/events/%2E%2E", "/v1/orgs/🚀/events/🚀", "/v1/orgs/org_42/events/" + new string('x', 2000),
        "/v1/orgs/org_42/exports/..%2F..%2Fcursor.key/download", "/openapi/v1.json", "/v1", "/",
    ];

    private static readonly string[] Methods = ["GET", "GET", "GET", "GET", "GET", "GET", "GET", "POST", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

    private static readonly string[] Keys = [TestKeys.Full, TestKeys.Full, TestKeys.Full, TestKeys.Reader, TestKeys.Exporter, TestKeys.Service, TestKeys.Other, "nope"];

    [Fact]
    public async Task Thousands_of_random_requests_never_get_a_500()
    {
        var rng = new Random(20261130);
        var clients = Keys.Select(k => seeded.Host.Client(k)).Append(seeded.Host.Client(key: null)).ToArray();
        var statuses = new Dictionary<HttpStatusCode, int>();
        for (var i = 0; i < 3000; i++)
        {
            var method = Methods[rng.Next(Methods.Length)];
            var path = Paths[rng.Next(Paths.Length)];
            var query = new StringBuilder();
            for (var p = rng.Next(6); p > 0; p--)
            {
                query.Append(query.Length == 0 ? '?' : '&')
                    .Append(Names[rng.Next(Names.Length)]).Append('=')
                    .Append(rng.Next(4) == 0 ? Uri.EscapeDataString(RandomText(rng)) : Values[rng.Next(Values.Length)]);
            }

            using var request = new HttpRequestMessage(new HttpMethod(method), path + query);
            if (method is "POST" or "PUT" or "PATCH")
            {
                request.Content = new ByteArrayContent(RandomBody(rng));
                request.Content.Headers.TryAddWithoutValidation("Content-Type", rng.Next(3) == 0 ? "text/plain" : "application/json");
            }

            using var response = await clients[rng.Next(clients.Length)].SendAsync(request);
            statuses[response.StatusCode] = statuses.GetValueOrDefault(response.StatusCode) + 1;
            Assert.True((int)response.StatusCode < 500, $"Request {i}: {method} {path}{query} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        // The fuzzer reached the handlers, not only the gate.
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.OK) > 100, string.Join(", ", statuses));
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.BadRequest) > 100, string.Join(", ", statuses));
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

    private static byte[] RandomBody(Random rng)
    {
        string[] fragments =
        [
            "{}", "[]", "null", "{\"action\":[\"deleted\"]}", "{\"range\":\"30d\"}", "{\"ai\":[true,false]}", "{\"ai\":true}",
            "{\"category\":\"crm\",\"from\":\"2026-01-01T00:00:00Z\"}", "{\"limit\":1}", "{\"q\":{\"a\":1}}", "{\"action\":[null,1,\"x\"]}",
            "{\"source\":[\"chat\",\"CHAT\"],\"outcome\":\"failure\"}", "{\"from\":\"9999-12-31T23:59:59Z\",\"to\":\"0001-01-01T00:00:00Z\"}",
            new string('[', 200), "{\"a\":" + new string('[', 100), "\uFEFF{}", "{\"action\":\"\\ud800\"}",
        ];
        if (rng.Next(3) == 0)
        {
            var bytes = new byte[rng.Next(0, 300)];
            rng.NextBytes(bytes);
            return bytes;
        }

        return Encoding.UTF8.GetBytes(fragments[rng.Next(fragments.Length)]);
    }
}
