using System.Text;
using System.Text.Json.Nodes;
using AuditPipeline.EndToEnd.Tests.Support;
using AuditPipeline.Testing;

namespace AuditPipeline.EndToEnd.Tests;

/// <summary>
/// The real executable tailing inbox files that are rotated (renamed, copytruncated), replaced and left
/// with an unterminated last line while it runs, or while it is killed: every line stored once.
/// </summary>
public sealed class InboxRotationTests : IDisposable
{
    private const string Org = "org_rotate";
    private const string Crm = "crm-rotate.jsonl";
    private readonly WorkerSandbox _sandbox = new("inbox-rotate");
    private readonly DateTimeOffset _t0 = DateTimeOffset.UtcNow.AddDays(-2);
    private int _next;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Files_rotated_copytruncated_and_replaced_while_the_worker_runs_have_every_line_stored_exactly_once()
    {
        var expected = new List<string>();
        await using var worker = _sandbox.Start("--Inbox:QuietPeriod=00:00:01");
        await _sandbox.WaitReadyAsync(worker, TimeSpan.FromSeconds(60));
        var random = new Random(20261201);
        for (var phase = 0; phase < 8; phase++)
        {
            // A producer appending in small batches, the worker reading behind or caught up.
            for (var batch = 0; batch < 10; batch++)
            {
                await AppendAsync(Crm, NextLines(random.Next(20, 60), expected));
                if (phase == 2 && batch == 4)
                {
                    // A line of 1.5 MiB (over the 1 MiB MaxMessageBytes) and a malformed one in the middle.
                    await AppendAsync(Crm, "{\"id\":\"evt_huge\",\"pad\":\"" + new string('x', 1536 * 1024) + "\"}\n" + "not json\n");
                }

                await Task.Delay(random.Next(0, 40), Ct);
            }

            switch (phase % 4)
            {
                case 0:
                    // logrotate's default: rename, and the producer writes to a new file under the old name.
                    ShiftRotated();
                    File.Move(Inbox(Crm), Inbox(Crm + ".1"));
                    break;
                case 1:
                    // copytruncate (with the producer paused across the copy, as logrotate cannot promise).
                    ShiftRotated();
                    File.Copy(Inbox(Crm), Inbox(Crm + ".1"));

                    // Shared, as logrotate's truncate takes no lock: .NET's default (FileShare.None) takes an
                    // exclusive advisory lock, refused while the worker has the file open (flaky, CI 2026-12-03).
                    await using (new FileStream(Inbox(Crm), FileMode.Truncate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
                    {
                    }

                    break;
                case 2:
                    // Moved away under another input name.
                    File.Move(Inbox(Crm), Inbox($"crm-rotate-archived-{phase}.jsonl"));
                    break;
                default:
                    // Replaced under the same name by a file written elsewhere, once what it held is stored.
                    await _sandbox.WaitForCountAsync(worker, Org, expected.Count, TimeSpan.FromSeconds(60));
                    await File.WriteAllTextAsync(Path.Combine(_sandbox.Root, "replacement.tmp"), NextLines(40, expected), Ct);
                    File.Move(Path.Combine(_sandbox.Root, "replacement.tmp"), Inbox(Crm), overwrite: true);
                    break;
            }
        }

        // A last line without a newline: stored once the file has been quiet for a second.
        var last = NextLines(1, expected);
        await AppendAsync(Crm, last[..^1]);
        await _sandbox.WaitForCountAsync(worker, Org, expected.Count, TimeSpan.FromSeconds(120));

        // Nothing may arrive twice: a line written after all the others, once stored, shows the worker has
        // read past everything it could still repeat (no fixed wait that a slow machine outlasts).
        // A new crm-* file beside the rotated ones, as a producer starting the next day's file would write.
        var sentinel = "evt_rot_sentinel";
        await File.WriteAllTextAsync(Inbox("crm-sentinel.jsonl"), SamplePayloads.Crm(sentinel, Org, _t0.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)) + "\n", Ct);
        expected.Add(sentinel);
        var ids = await _sandbox.WaitForCountAsync(worker, Org, expected.Count, TimeSpan.FromSeconds(60));

        Assert.Equal(expected.Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
        Assert.Equal(0, await _sandbox.MetricAsync("audit_events_duplicate_total"));
        Assert.Equal(expected.Count, await _sandbox.MetricAsync("audit_events_stored_total"));
        var dead = DeadLetters();
        Assert.Equal(2, dead.Count);
        Assert.Contains(dead, d => d["raw"]?.GetValue<string>() == "not json");
        var huge = Assert.Single(dead, d => d["length"] is not null);
        Assert.Equal(1536 * 1024 + 26, huge["length"]!.GetValue<long>());
        Assert.StartsWith("the line is 1572890 bytes, larger than the limit of 1048576 bytes", huge["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, await _sandbox.MetricAsync("audit_inbox_unread_bytes"));
        TestContext.Current.TestOutputHelper?.WriteLine($"tried {expected.Count + 2}, stored {ids.Count}, duplicated {await _sandbox.MetricAsync("audit_events_duplicate_total")}, dead-lettered {dead.Count}, lost {expected.Except(ids).Count()}");
    }

    [Fact]
    public async Task Killed_mid_ingest_then_rotated_and_copytruncated_while_down_every_line_is_stored()
    {
        var expected = new List<string>();
        await File.WriteAllTextAsync(Inbox(Crm), NextLines(20_000, expected), Ct);
        await File.WriteAllTextAsync(Inbox("crm-second.jsonl"), NextLines(20_000, expected), Ct);
        await using (var worker = _sandbox.Start())
        {
            await _sandbox.WaitReadyAsync(worker, TimeSpan.FromSeconds(60));
            await Task.Delay(new Random(7).Next(200, 500), Ct);
            worker.Kill();
            await worker.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        File.Move(Inbox(Crm), Inbox(Crm + ".1"));
        await File.WriteAllTextAsync(Inbox(Crm), NextLines(1000, expected), Ct);
        File.Copy(Inbox("crm-second.jsonl"), Inbox("crm-second.jsonl.1"));
        await File.WriteAllTextAsync(Inbox("crm-second.jsonl"), NextLines(1000, expected), Ct);

        await using var restarted = _sandbox.Start();
        await _sandbox.WaitReadyAsync(restarted, TimeSpan.FromSeconds(60));
        var ids = await _sandbox.WaitForCountAsync(restarted, Org, expected.Count, TimeSpan.FromSeconds(180));

        Assert.True(await _sandbox.MetricAsync("audit_events_stored_total") > 2000, "the kill came before the first files were stored");
        Assert.Equal(expected.Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
        TestContext.Current.TestOutputHelper?.WriteLine($"tried {expected.Count}, stored {ids.Count} (after the restart {await _sandbox.MetricAsync("audit_events_stored_total")}), duplicated {await _sandbox.MetricAsync("audit_events_duplicate_total")}, lost {expected.Except(ids).Count()}");
    }

    private string Inbox(string name) => Path.Combine(_sandbox.Inbox, name);

    private void ShiftRotated()
    {
        for (var i = 20; i >= 1; i--)
        {
            if (File.Exists(Inbox($"{Crm}.{i}")))
            {
                File.Move(Inbox($"{Crm}.{i}"), Inbox($"{Crm}.{i + 1}"), overwrite: true);
            }
        }
    }

    private async Task AppendAsync(string name, string text)
    {
        await using var f = new FileStream(Inbox(name), FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        await f.WriteAsync(Encoding.UTF8.GetBytes(text), Ct);
    }

    private string NextLines(int count, List<string> ids)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            var n = _next++;
            var t = _t0.AddSeconds(n);
            sb.Append($$$"""{"id":"evt_rot_{{{n}}}","type":"deal.updated","created_at":"{{{t.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}}}","org_id":"{{{Org}}}","data":{"id":"deal_{{{n % 50}}}","name":"Deal {{{n % 50}}}"},"before":{"amount":{{{n}}}},"after":{"amount":{{{n + 1}}}}}""").Append('\n');
            ids.Add($"evt_rot_{n}");
        }

        return sb.ToString();
    }

    private List<JsonNode> DeadLetters()
    {
        var path = Inbox("_deadletter.jsonl.rejected");
        return File.Exists(path) ? [.. File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!)] : [];
    }
}
