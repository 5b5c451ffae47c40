using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AuditPipeline.EndToEnd.Tests.Support;

namespace AuditPipeline.EndToEnd.Tests;

/// <summary>
/// The real executable with the inbox source: a poison message of each sort, followed by valid events.
/// Each poison line is dead-lettered with its reason and every valid event is stored within seconds.
/// </summary>
public sealed partial class PoisonMessageTests : IDisposable
{
    private const string Org = "org_poison";
    private const int MaxMessageBytes = 1024 * 1024;
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(60);
    private readonly WorkerSandbox _sandbox = new("poison");

    [Fact]
    public async Task Each_poison_line_is_dead_lettered_with_its_reason_and_the_valid_events_after_it_are_stored()
    {
        var now = DateTimeOffset.UtcNow;
        // In file order (line 1 to 5); the oversized line is found by its line number, since a source may not keep its bytes.
        var poison = new Dictionary<string, (string Line, string Reason)>
        {
            ["evt_p_surrogate_before"] = (Crm("evt_p_surrogate_before", now, "\"before\":{\"note\":\"a\\ud800b\"},\"after\":{\"note\":\"c\"}"),
                "before.note holds the escape \\ud800, an unpaired UTF-16 surrogate, which cannot be stored faithfully"),
            ["evt_p_surrogate_name"] = (Crm("evt_p_surrogate_name", now, "\"before\":{\"ok\":1},\"after\":{\"n\\udc00ame\":1}"),
                "the member name \"n\\udc00ame\" in after holds the escape \\udc00, an unpaired UTF-16 surrogate, which cannot be stored faithfully"),
            ["evt_p_depth_65"] = (Crm("evt_p_depth_65", now, $"\"before\":{Nest(64)},\"after\":{{}}"),
                "the message nests objects and arrays more than 64 levels deep (in before), more than can be stored faithfully"),
            ["evt_p_year_9999"] = (Crm("evt_p_year_9999", now, "\"after\":{}").Replace(Iso(now), "9999-12-31T23:59:59Z", StringComparison.Ordinal),
                "created_at '9999-12-31T23:59:59Z' is 9999-12-31T23:59:59.000Z, "),
            ["evt_p_too_large"] = (Padded(Crm("evt_p_too_large", now, "\"after\":{\"blob\":\"\"}"), MaxMessageBytes + 1),
                $"the message is {MaxMessageBytes + 1} bytes, larger than the limit of {MaxMessageBytes} bytes (MaxMessageBytes)"),
        };
        var seconds = now.AddMinutes(-3).ToUnixTimeSeconds();
        var authPoison = $$$"""{"event_id":"au_p_seconds","ts":{{{seconds}}},"tenant":"{{{Org}}}","event":"login.succeeded","user":{"id":"usr_1","name":"U","email":"u@e2e.test"}}""";

        var crm = new StringBuilder();
        var auth = new StringBuilder().Append(authPoison).Append('\n');
        var valid = new List<string>();
        foreach (var (_, (line, _)) in poison)
        {
            crm.Append(line).Append('\n');
        }

        // Exactly 64 levels is storable, and comes back through the API whole.
        crm.Append(Crm("evt_v_depth_64", now, $"\"before\":{Nest(63)},\"after\":{{}}")).Append('\n');
        valid.Add("evt_v_depth_64");
        for (var i = 0; i < 50; i++)
        {
            crm.Append(Crm($"evt_v_{i}", now.AddSeconds(-i), $"\"before\":{{\"n\":{i}}},\"after\":{{\"n\":{i + 1}}}")).Append('\n');
            valid.Add($"evt_v_{i}");
            auth.Append($$$"""{"event_id":"au_v_{{{i}}}","ts":{{{now.AddSeconds(-i).ToUnixTimeMilliseconds()}}},"tenant":"{{{Org}}}","event":"login.succeeded","user":{"id":"usr_1","name":"U","email":"u@e2e.test"}}""").Append('\n');
            valid.Add($"au_v_{i}");
        }

        await using var worker = _sandbox.Start();
        await _sandbox.WaitReadyAsync(worker, TimeSpan.FromSeconds(60));
        var clock = Stopwatch.StartNew();
        await File.WriteAllTextAsync(Path.Combine(_sandbox.Inbox, "crm-poison.jsonl"), crm.ToString(), TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(_sandbox.Inbox, "auth-poison.jsonl"), auth.ToString(), TestContext.Current.CancellationToken);

        var ids = await _sandbox.WaitForCountAsync(worker, Org, valid.Count, Soon);
        var took = clock.Elapsed;
        Assert.Equal(valid.Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));

        var deadLetters = await WaitForDeadLettersAsync(worker, poison.Count + 1);
        foreach (var (id, (_, reason)) in poison.Where(p => p.Key != "evt_p_too_large"))
        {
            Assert.StartsWith(reason, Assert.Single(deadLetters, d => d.Id == id).Reason);
        }

        Assert.Contains("MaxMessageBytes", Assert.Single(deadLetters, d => d.File == "crm-poison.jsonl" && d.Line == 5).Reason, StringComparison.Ordinal);

        Assert.Equal(
            $"ts {seconds} is {Iso(DateTimeOffset.FromUnixTimeMilliseconds(seconds))}, older than the 2-year retention of {Org}: seconds instead of milliseconds?",
            Assert.Single(deadLetters, d => d.Id == "au_p_seconds").Reason);
        Assert.EndsWith("wrong year?", Assert.Single(deadLetters, d => d.Id == "evt_p_year_9999").Reason, StringComparison.Ordinal);

        var deep = JsonNode.Parse(
            await _sandbox.Http.GetStringAsync(new Uri($"/v1/orgs/{Org}/events/evt_v_depth_64", UriKind.Relative), TestContext.Current.CancellationToken),
            documentOptions: new JsonDocumentOptions { MaxDepth = 256 })!;
        Assert.Equal(Nest(63), deep["before"]!.ToJsonString());

        var byReason = await DeadLetteredByReasonAsync();
        Assert.Equal(2, byReason.GetValueOrDefault("unstorable_text"));
        Assert.Equal(1, byReason.GetValueOrDefault("too_deep"));
        Assert.Equal(2, byReason.GetValueOrDefault("implausible_time"));
        Assert.True(took < TimeSpan.FromSeconds(30), $"the valid events took {took} to be stored");
    }

    [Fact]
    public async Task A_heavy_valid_message_just_under_the_limit_is_stored_quickly_with_its_changes()
    {
        var now = DateTimeOffset.UtcNow;
        var (line, fields) = Heavy("evt_heavy", now, MaxMessageBytes);
        Assert.InRange(Encoding.UTF8.GetByteCount(line), MaxMessageBytes - 200, MaxMessageBytes);

        await using var worker = _sandbox.Start();
        await _sandbox.WaitReadyAsync(worker, TimeSpan.FromSeconds(60));
        var clock = Stopwatch.StartNew();
        await File.WriteAllTextAsync(Path.Combine(_sandbox.Inbox, "crm-heavy.jsonl"), line + "\n" + Crm("evt_after_heavy", now, "\"after\":{}") + "\n", TestContext.Current.CancellationToken);
        await _sandbox.WaitForCountAsync(worker, Org, 2, Soon);
        var took = clock.Elapsed;

        var e = JsonNode.Parse(await _sandbox.Http.GetStringAsync(new Uri($"/v1/orgs/{Org}/events/evt_heavy", UriKind.Relative), TestContext.Current.CancellationToken))!;
        Assert.Equal(fields / 2, e["changes"]!.AsArray().Count);
        Assert.Equal(fields, e["after"]!.AsObject().Count);
        Assert.Equal(0, await _sandbox.MetricAsync("audit_events_dead_lettered_total"));

        // The shared machine is slow and noisy: stored within seconds, with the poll interval included.
        Assert.True(took < TimeSpan.FromSeconds(15), $"the heavy message took {took} to be stored");
    }

    public void Dispose() => _sandbox.Dispose();

    private static string Crm(string id, DateTimeOffset time, string members) =>
        $$$"""{"id":"{{{id}}}","type":"deal.updated","created_at":"{{{Iso(time)}}}","org_id":"{{{Org}}}","data":{"id":"deal_1","name":"D"},{{{members}}}}""";

    /// <summary>A crm update with as many fields in before and after as fit under <paramref name="limit"/> bytes; every other value changes.</summary>
    private static (string Line, int Fields) Heavy(string id, DateTimeOffset time, int limit)
    {
        var before = new StringBuilder();
        var after = new StringBuilder();
        var fields = 0;
        var envelope = Encoding.UTF8.GetByteCount(Crm(id, time, "\"before\":{},\"after\":{}"));
        while (true)
        {
            var b = $"{(fields == 0 ? "" : ",")}\"field_{fields:D5}\":\"value {fields}\"";
            var a = $"{(fields == 0 ? "" : ",")}\"field_{fields:D5}\":\"value {(fields % 2 == 0 ? fields : -fields)}\"";
            if (envelope + before.Length + after.Length + b.Length + a.Length + 4 > limit - 100)
            {
                break;
            }

            before.Append(b);
            after.Append(a);
            fields++;
        }

        // Odd fields change (value k → value -k), even ones (field 0 included) keep their value.
        return (Crm(id, time, $"\"before\":{{{before}}},\"after\":{{{after}}}"), fields);
    }

    private static string Padded(string line, int bytes)
    {
        var pad = bytes - Encoding.UTF8.GetByteCount(line);
        return line.Replace("\"blob\":\"\"", $"\"blob\":\"{new string('x', pad)}\"", StringComparison.Ordinal);
    }

    private static string Nest(int arrays) => new string('[', arrays) + new string(']', arrays);

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private async Task<List<(string Id, string File, long Line, string Reason)>> WaitForDeadLettersAsync(WorkerProcess worker, int expected)
    {
        var path = Path.Combine(_sandbox.Inbox, "_deadletter.jsonl.rejected");
        var deadline = DateTime.UtcNow + Soon;
        List<(string Id, string File, long Line, string Reason)> found = [];
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(path))
            {
                found = [.. (await File.ReadAllLinesAsync(path)).Where(l => l.Length > 0).Select(l =>
                {
                    var record = JsonNode.Parse(l)!;
                    var raw = record["raw"]?.GetValue<string>() ?? string.Empty;
                    return (
                        IdPattern().Match(raw).Groups[1].Value,
                        record["file"]?.GetValue<string>() ?? string.Empty,
                        record["line"]?.GetValue<long>() ?? 0,
                        record["reason"]!.GetValue<string>());
                })];
                if (found.Count >= expected)
                {
                    return found;
                }
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"Expected {expected} dead letters, found {found.Count}.\n{worker.Log}");
    }

    private async Task<Dictionary<string, double>> DeadLetteredByReasonAsync()
    {
        var text = await _sandbox.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        return text.Split('\n')
            .Where(l => l.StartsWith("audit_events_dead_lettered_total{", StringComparison.Ordinal))
            .Select(l => (Reason: ReasonPattern().Match(l).Groups[1].Value, Value: double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)))
            .GroupBy(x => x.Reason)
            .ToDictionary(g => g.Key, g => g.Sum(x => x.Value));
    }

    [GeneratedRegex("\"(?:id|event_id)\":\"([a-z_0-9]+)\"")]
    private static partial Regex IdPattern();

    [GeneratedRegex("reason=\"([a-z_]+)\"")]
    private static partial Regex ReasonPattern();
}
