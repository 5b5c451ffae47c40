using System.Text;
using System.Text.Json.Nodes;
using AuditPipeline.EndToEnd.Tests.Support;
using AuditPipeline.Testing;

namespace AuditPipeline.EndToEnd.Tests;

/// <summary>The real executable on the embedded store with the inbox source, killed and stopped at awkward moments.</summary>
public sealed class InboxCrashTests : IDisposable
{
    private const string Org = "org_e2e";
    private readonly WorkerSandbox _sandbox = new("inbox");

    [Fact]
    public async Task Killed_with_sigkill_three_times_mid_ingest_every_line_is_stored_exactly_once()
    {
        var (validIds, malformed) = await WriteInboxAsync(linesPerKind: 25_000, malformedEvery: 97);
        var random = new Random(20261130);
        for (var round = 0; round < 3; round++)
        {
            await using var worker = _sandbox.Start();
            await _sandbox.WaitReadyAsync(worker, TimeSpan.FromSeconds(60));
            await Task.Delay(random.Next(100, 900), TestContext.Current.CancellationToken);
            worker.Kill();
            await worker.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        await using var final = _sandbox.Start();
        await _sandbox.WaitReadyAsync(final, TimeSpan.FromSeconds(60));
        var ids = await _sandbox.WaitForCountAsync(final, Org, validIds.Count, TimeSpan.FromSeconds(180));

        // The kills really came mid-ingest: the final run still had lines to store.
        Assert.True(await _sandbox.MetricAsync("audit_events_stored_total") > 0);
        Assert.Equal(validIds.Count, ids.Count);
        Assert.Equal(validIds.Count, ids.Distinct().Count());
        Assert.Equal(validIds.OrderBy(x => x, StringComparer.Ordinal), ids.OrderBy(x => x, StringComparer.Ordinal));

        // Every malformed line reached the dead-letter file at least once (a kill may repeat one, never lose one).
        var deadLettered = DeadLetteredIds();
        Assert.All(malformed, m => Assert.Contains(m, deadLettered));
        Assert.Empty(deadLettered.Except(malformed));
    }

    [Fact]
    public async Task Stopped_with_sigterm_mid_ingest_it_exits_cleanly_and_a_restart_neither_skips_nor_repeats()
    {
        var (validIds, malformed) = await WriteInboxAsync(linesPerKind: 25_000, malformedEvery: 101);
        await using (var worker = _sandbox.Start())
        {
            await _sandbox.WaitReadyAsync(worker, TimeSpan.FromSeconds(60));
            await Task.Delay(300, TestContext.Current.CancellationToken);
            worker.Terminate();
            Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }

        await using var restarted = _sandbox.Start();
        await _sandbox.WaitReadyAsync(restarted, TimeSpan.FromSeconds(60));
        await _sandbox.WaitForCountAsync(restarted, Org, validIds.Count, TimeSpan.FromSeconds(180));

        // Nothing may arrive twice: a message written after all the others, once stored, shows the worker
        // has read past everything it could still repeat (no fixed wait that a slow machine outlasts).
        var sentinel = "evt_sentinel";
        var now = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        await File.WriteAllTextAsync(Path.Combine(_sandbox.Inbox, "crm-sentinel.jsonl"), SamplePayloads.Crm(sentinel, Org, now) + "\n", TestContext.Current.CancellationToken);
        validIds.Add(sentinel);
        var ids = await _sandbox.WaitForCountAsync(restarted, Org, validIds.Count, TimeSpan.FromSeconds(60));

        Assert.Equal(validIds.OrderBy(x => x, StringComparer.Ordinal), ids.OrderBy(x => x, StringComparer.Ordinal));
        Assert.True(await _sandbox.MetricAsync("audit_events_stored_total") > 0, "the stop came after everything was ingested");
        Assert.Equal(0, await _sandbox.MetricAsync("audit_events_duplicate_total"));
        Assert.Equal(malformed.Order(StringComparer.Ordinal), DeadLetteredIds().Order(StringComparer.Ordinal));
    }

    public void Dispose() => _sandbox.Dispose();

    /// <summary>The id inside each dead-letter record's raw line, once per record.</summary>
    private List<string> DeadLetteredIds()
    {
        var path = Path.Combine(_sandbox.Inbox, "_deadletter.jsonl.rejected");
        return !File.Exists(path)
            ? []
            : [.. File.ReadAllLines(path).Where(l => l.Length > 0)
                .Select(l => JsonNode.Parse(JsonNode.Parse(l)!["raw"]!.GetValue<string>())!["id"]!.GetValue<string>())];
    }

    private async Task<(List<string> ValidIds, List<string> Malformed)> WriteInboxAsync(int linesPerKind, int malformedEvery)
    {
        var valid = new List<string>();
        var malformed = new List<string>();
        var t0 = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        var crm = new StringBuilder();
        var auth = new StringBuilder();
        var platform = new StringBuilder();
        for (var i = 0; i < linesPerKind; i++)
        {
            var t = t0.AddSeconds(i * 7);
            if (i % malformedEvery == 5)
            {
                var bad = $$$"""{"id":"evt_bad_{{{i}}}","type":"Not A Type","created_at":"{{{t:O}}}","org_id":"{{{Org}}}"}""";
                malformed.Add($"evt_bad_{i}");
                crm.Append(bad).Append('\n');
            }
            else
            {
                crm.Append($$$"""{"id":"evt_{{{i}}}","type":"deal.updated","created_at":"{{{t.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}}}","org_id":"{{{Org}}}","actor":{"type":"user","id":"usr_{{{i % 13}}}","name":"User {{{i % 13}}}","email":"u{{{i % 13}}}@e2e.test"},"data":{"id":"deal_{{{i % 500}}}","name":"Deal {{{i % 500}}}"},"before":{"amount":{{{i}}}},"after":{"amount":{{{i + 1}}}}}""").Append('\n');
                valid.Add($"evt_{i}");
            }

            auth.Append($$$"""{"event_id":"au_{{{i}}}","ts":{{{t.AddSeconds(3).ToUnixTimeMilliseconds()}}},"tenant":"{{{Org}}}","event":"login.succeeded","user":{"id":"usr_{{{i % 13}}}","email":"u{{{i % 13}}}@e2e.test","name":"User {{{i % 13}}}"},"ip":"203.0.113.{{{i % 200}}}","ua":"UA"}""").Append('\n');
            valid.Add($"au_{i}");
            if (i % 3 == 0)
            {
                // A blank line between messages is skipped, never dead-lettered.
                auth.Append('\n');
            }

            platform.Append($$$"""{"event_id":"pl_{{{i}}}","occurred_at":"{{{t.AddSeconds(5).UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}}}","org_id":"{{{Org}}}","category":"data","action":"import.completed","target":{"type":"import","id":"imp_{{{i}}}","name":"f{{{i}}}.csv"},"details":{"rows":{{{i}}}}}""").Append('\n');
            valid.Add($"pl_{i}");
        }

        await File.WriteAllTextAsync(Path.Combine(_sandbox.Inbox, "crm-e2e.jsonl"), crm.ToString());
        await File.WriteAllTextAsync(Path.Combine(_sandbox.Inbox, "auth-e2e.jsonl"), auth.ToString());
        await File.WriteAllTextAsync(Path.Combine(_sandbox.Inbox, "platform-e2e.jsonl"), platform.ToString());
        return (valid, malformed);
    }
}
