using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using AuditPipeline.EndToEnd.Tests.Support;

namespace AuditPipeline.EndToEnd.Tests;

/// <summary>
/// The real executable with the inbox: a producer re-sends an event id with another time, one that falls
/// in another month (so another partition) and one in an older month. The first copy stays, the re-sends
/// count as duplicates, and the log holds the event once.
/// </summary>
public sealed class ResendAcrossMonthsTests : IDisposable
{
    private const string Org = "org_resend";
    private readonly WorkerSandbox _sandbox = new("resend");

    [Fact]
    public async Task The_same_id_re_sent_across_a_month_boundary_is_stored_once_with_its_first_time()
    {
        var now = DateTimeOffset.UtcNow;
        var monthStart = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var first = monthStart.AddSeconds(-1);          // the last second of the previous month
        var nextMonth = monthStart.AddSeconds(1);        // the first second of this one (still in the past)
        var olderMonth = monthStart.AddDays(-40);
        var lines = new StringBuilder()
            .Append(Crm("evt_resend", first, "Proposal Sent")).Append('\n')
            .Append(Crm("evt_resend", nextMonth, "Closed Won")).Append('\n')
            .Append(Crm("evt_resend", olderMonth, "Closed Lost")).Append('\n');
        for (var i = 0; i < 20; i++)
        {
            lines.Append(Crm($"evt_marker_{i}", first.AddMinutes(-i), "Demo")).Append('\n');
        }

        await using var worker = _sandbox.Start();
        await _sandbox.WaitReadyAsync(worker, TimeSpan.FromSeconds(60));
        await File.WriteAllTextAsync(Path.Combine(_sandbox.Inbox, "crm-resend.jsonl"), lines.ToString(), TestContext.Current.CancellationToken);

        // The markers come after the re-sends in the file, so once all are stored the re-sends were handled.
        var ids = await _sandbox.WaitForCountAsync(worker, Org, 21, TimeSpan.FromSeconds(60));
        Assert.Single(ids, id => id == "evt_resend");
        Assert.Equal(21, ids.Count);

        var stored = JsonNode.Parse(await _sandbox.Http.GetStringAsync(new Uri($"/v1/orgs/{Org}/events/evt_resend", UriKind.Relative), TestContext.Current.CancellationToken))!;
        Assert.Equal(Iso(first), stored["time"]!.GetValue<string>());
        Assert.Equal("Proposal Sent", stored["after"]!["stage"]!.GetValue<string>());

        // The store serves a batch a moment before the pipeline counts it: wait for the counter.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        double duplicates;
        while ((duplicates = await _sandbox.MetricAsync("audit_events_duplicate_total")) < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }

        Assert.True(duplicates >= 2, $"{duplicates} duplicates counted\n{worker.Log}");
    }

    public void Dispose() => _sandbox.Dispose();

    private static string Crm(string id, DateTimeOffset time, string stage) =>
        $$$"""{"id":"{{{id}}}","type":"deal.stage_changed","created_at":"{{{Iso(time)}}}","org_id":"{{{Org}}}","data":{"id":"deal_1","name":"D"},"before":{"stage":"Demo"},"after":{"stage":"{{{stage}}}"}}""";

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
