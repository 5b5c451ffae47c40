using System.Net;
using System.Text;
using AuditPipeline.Api.Csv;
using AuditPipeline.Api.Tests.Support;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;
using AuditPipeline.Testing;

namespace AuditPipeline.Api.Tests;

/// <summary>events.csv: the contract's columns, BOM, CRLF, RFC 4180 quoting, formula injection, audit of the export.</summary>
public sealed class CsvTests : IAsyncLifetime
{
    private static readonly string[] Nasty =
    [
        "Smith, \"Bob\"",
        "Line one\nline two",
        "Carriage\r\nreturn",
        "=HYPERLINK(\"http://evil.test\",\"click\")",
        "+SUM(1,2)",
        "-2+3",
        "@SUM(A1)",
        "\tTabbed",
        "\rReturned",
        "🚀 Zoë Ünïcødé",
        "מנהל מערכת عربي",
        " padded ",
        "plain",
    ];

    private ApiHost _host = null!;

    public async ValueTask InitializeAsync() => _host = await ApiHost.StartAsync();

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task The_csv_starts_with_a_BOM_and_the_contract_header_and_ends_lines_with_CRLF()
    {
        await _host.SeedAsync([Some.Event(), Some.AiEvent(), Some.FailedLogin()]);

        using var response = await _host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/events.csv");
        var bytes = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, bytes[..3]);
        var text = Encoding.UTF8.GetString(bytes, 3, bytes.Length - 3);
        Assert.StartsWith(
            "Time,User,User Email,Action,Event Type,Category,Entity Type,Entity ID,Entity Name,Source,Outcome,IP Address,User Agent,AI Initiated,Conversation ID,Message ID,Changes,Event ID\r\n",
            text,
            StringComparison.Ordinal);
        Assert.Equal(4, text.Split("\r\n").Length - 1);
        Assert.DoesNotContain("\n", text.Replace("\r\n", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_row_holds_each_column_as_the_contract_says()
    {
        var e = Some.Event("evt_row", time: new DateTimeOffset(2026, 11, 29, 10, 32, 0, 7, TimeSpan.Zero));
        var ai = Some.AiEvent("ai_row", time: e.Time.AddMinutes(-1));
        var failed = Some.FailedLogin("au_row", time: e.Time.AddMinutes(-2));
        await _host.SeedAsync([e, ai, failed]);

        var rows = await CsvRowsAsync($"/v1/orgs/{TestKeys.Org}/events.csv");

        Assert.Equal(
            ["2026-11-29T10:32:00.007Z", "Ana Silva", "ana@acme.test", "stage_changed", "deal.stage_changed", "crm", "deal", "deal_123", "Acme Corp Enterprise", "Admin", "success", "203.0.113.5", "Mozilla/5.0 (X11; Linux x86_64)", "false", "", "", "stage: \"Demo Scheduled\" → \"Proposal Sent\"", "evt_row"],
            rows[1]);
        Assert.Equal(
            ["2026-11-29T10:31:00.007Z", "Ana Silva", "ana@acme.test", "updated", "ai.update_deal", "ai", "deal", "deal_123", "Acme Corp Enterprise", "Chat", "success", "", "", "true", "conv_3", "msg_17", "amount: 1000 → 2500", "ai_row"],
            rows[2]);
        Assert.Equal(
            ["2026-11-29T10:30:00.007Z", "", "mallory@evil.test", "login_failed", "login.failed", "auth", "user", "", "", "Admin", "failure", "198.51.100.23", "Mozilla/5.0 (X11; Linux x86_64)", "false", "", "", "", "au_row"],
            rows[3]);
    }

    [Fact]
    public async Task Nasty_names_survive_quoting_and_formula_cells_are_neutralised()
    {
        var t = ApiHost.DefaultNow;
        await _host.SeedAsync(Nasty.Select((name, i) => Some.Event($"evt_nasty_{i:D2}", time: t.AddMinutes(-i)) with
        {
            Actor = new AuditActor(ActorTypes.User, "usr_" + i, name, name + "@acme.test"),
            Entity = new AuditEntity("deal", name, name),
            UserAgent = name,
        }));

        var rows = await CsvRowsAsync($"/v1/orgs/{TestKeys.Org}/events.csv?q=evt_nasty");
        rows = [.. rows.Where(r => r[^1].StartsWith("evt_nasty_", StringComparison.Ordinal))];

        Assert.Equal(Nasty.Length, rows.Count);
        for (var i = 0; i < Nasty.Length; i++)
        {
            var expected = Nasty[i][0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + Nasty[i] : Nasty[i];
            Assert.Equal(expected, rows[i][1]);
            Assert.Equal(expected, rows[i][7]);
            Assert.Equal(expected, rows[i][8]);
            Assert.Equal(expected, rows[i][12]);
        }
    }

    [Fact]
    public async Task Changes_are_compact_json_with_null_for_absent_values()
    {
        var e = Some.Event("evt_changes") with
        {
            Changes =
            [
                new AuditChange("amount", null, Some.Json("2500")),
                new AuditChange("owner", Some.Json("""{ "id" : "usr_7", "name" : "Zoë" }"""), null),
                new AuditChange("tags", Some.Json("""[ "a", "b" ]"""), Some.Json("[]")),
                new AuditChange("=evil", Some.Json("true"), Some.Json("false")),
            ],
        };
        await _host.SeedAsync([e]);

        var rows = await CsvRowsAsync($"/v1/orgs/{TestKeys.Org}/events.csv?q=evt_changes");

        Assert.Equal(
            "amount: null → 2500; owner: {\"id\":\"usr_7\",\"name\":\"Zoë\"} → null; tags: [\"a\",\"b\"] → []; =evil: true → false",
            Assert.Single(rows.Skip(1))[16]);
    }

    [Fact]
    public async Task The_csv_holds_exactly_the_filtered_events_in_list_order()
    {
        var events = Dataset.Generate(800, seed: 11);
        await _host.SeedAsync(events);

        var rows = await CsvRowsAsync($"/v1/orgs/{TestKeys.Org}/events.csv?category=crm&category=ai&outcome=success");

        var expected = Http.Expected(events, new AuditQuery { OrgId = TestKeys.Org, Categories = ["crm", "ai"], Outcomes = ["success"] });
        Assert.Equal(expected.Select(e => e.Id), rows.Skip(1).Select(r => r[^1]));
    }

    [Fact]
    public async Task An_empty_result_is_a_header_only_csv()
    {
        var rows = await CsvRowsAsync($"/v1/orgs/{TestKeys.Org}/events.csv?action=never");

        Assert.Equal(EventCsvFormat.Columns, Assert.Single(rows));
    }

    [Fact]
    public async Task Streaming_the_csv_appends_an_audit_event_of_the_export()
    {
        await _host.SeedAsync([Some.Event(), Some.Event(), Some.AiEvent()]);
        using var client = _host.Client(TestKeys.Exporter);
        client.DefaultRequestHeaders.UserAgent.ParseAdd("AuditTest/1.0");

        var csv = await client.GetStringAsync($"/v1/orgs/{TestKeys.Org}/events.csv?source=admin&source=CHAT&range=30d&ai=true&q=ana");

        var page = await _host.Store.QueryAsync(new AuditQuery { OrgId = TestKeys.Org, Actions = ["exported"] }, 10, CancellationToken.None);
        var audit = Assert.Single(page.Items);
        Assert.Equal(("data", "exported", "audit_log.exported", "success", "API"), (audit.Category, audit.Action, audit.EventType, audit.Outcome, audit.Source));
        Assert.Equal(new AuditActor(ActorTypes.ApiKey, "exporter", "exporter", null), audit.Actor);
        Assert.Equal(new AuditEntity("audit_log", null, null), audit.Entity);
        Assert.StartsWith("ex_", audit.Id, StringComparison.Ordinal);
        Assert.Equal(_host.Time.Now, audit.Time);
        Assert.Equal("AuditTest/1.0", audit.UserAgent);
        Assert.Null(audit.Ai);
        Assert.Equal(
            """{"filters":{"source":["admin","CHAT"],"ai":[true],"range":"30d","q":"ana"},"rowCount":1}""",
            audit.Details.GetRawText());
        Assert.Equal(2, CsvReading.Parse(csv.TrimStart('\uFEFF')).Count);
        Assert.Equal(1, _host.Queue.Written);
    }

    [Fact]
    public async Task The_csv_is_streamed_while_the_store_is_still_reading()
    {
        var gated = new GatedStore(TestStores.CreateTemp(), pauseAfter: 1000);
        await using var host = await ApiHost.StartAsync(store: gated);
        await host.SeedAsync(Dataset.Generate(2000, seed: 13).Select(e => e with { OrgId = TestKeys.Org }));

        using var response = await host.Client().GetAsync($"/v1/orgs/{TestKeys.Org}/events.csv", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        long received = 0;
        var reader = Task.Run(async () =>
        {
            var buffer = new byte[16 * 1024];
            int n;
            while ((n = await body.ReadAsync(buffer)) > 0)
            {
                Interlocked.Add(ref received, n);
            }
        });

        await gated.Paused.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await Eventually.TrueAsync(() => Interlocked.Read(ref received) >= 128 * 1024, TimeSpan.FromSeconds(20), () => $"only {Interlocked.Read(ref received)} bytes arrived");

        // A thousand rows reached the client while the store was paused half-way: nothing waits for the whole result.
        Assert.True(Interlocked.Read(ref received) >= 128 * 1024, $"only {received} bytes arrived");
        Assert.False(gated.Completed);
        gated.Open();
        await reader.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(gated.Completed);
    }

    [Theory]
    [InlineData("", "")]
    [InlineData(null, "")]
    [InlineData("=1", "'=1")]
    [InlineData("+1", "'+1")]
    [InlineData("-1", "'-1")]
    [InlineData("@a", "'@a")]
    [InlineData("\ta", "'\ta")]
    [InlineData("\ra", "'\ra")]
    [InlineData("a=1", "a=1")]
    [InlineData("'quoted", "'quoted")]
    public void A_cell_is_neutralised_only_when_a_spreadsheet_would_run_it(string? value, string expected) =>
        Assert.Equal(expected, EventCsvFormat.Cell(value));

    private async Task<List<string[]>> CsvRowsAsync(string url)
    {
        var bytes = await _host.Client().GetByteArrayAsync(url);
        Assert.Equal(0xEF, bytes[0]);
        return CsvReading.Parse(Encoding.UTF8.GetString(bytes, 3, bytes.Length - 3));
    }
}
