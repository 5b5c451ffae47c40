using System.Text.Json.Nodes;
using AuditPipeline.EndToEnd.Tests.Support;

namespace AuditPipeline.EndToEnd.Tests;

/// <summary>The real executable's <c>normalize</c> verb, as a producer would run it to check payloads.</summary>
public sealed class NormalizeVerbTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ap-normalize-").FullName;

    [Fact]
    public async Task A_file_gives_events_on_stdout_in_order_and_numbered_reasons_on_stderr_with_exit_1()
    {
        var file = Path.Combine(_dir, "auth.jsonl");
        await File.WriteAllLinesAsync(file,
        [
            """{"event_id":"au_1","ts":1764412320000,"tenant":"org_42","event":"login.succeeded","user":{"id":"usr_7","email":"ana@acme.test","name":"Ana Silva"},"ip":"198.51.100.23","ua":"UA"}""",
            "",
            """{"event_id":"au_2","ts":"yesterday","tenant":"org_42","event":"logout"}""",
            "   ",
            """{"event_id":"au_3","ts":1764412380000,"tenant":"org_42","event":"login.failed","user":null,"attempted_email":"x@evil.test","reason":"unknown_account"}""",
            "[1,2,3]",
        ], TestContext.Current.CancellationToken);

        await using var worker = WorkerProcess.Start(["normalize", "--kind", "auth", file], _dir);
        var exit = await worker.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, exit);
        var events = worker.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(["au_1", "au_3"], events.Select(e => e["id"]!.GetValue<string>()));
        Assert.Equal("login", events[0]["action"]!.GetValue<string>());
        Assert.Equal("2025-11-29T10:32:00.000Z", events[0]["time"]!.GetValue<string>());
        Assert.Equal("""{"type":"user","id":null,"name":null,"email":"x@evil.test"}""", events[1]["actor"]!.ToJsonString());
        Assert.Equal(
            "line 3: ts must be a JSON integer of epoch milliseconds (was a string)\nline 6: the message is not a JSON object (it is an array)\n",
            worker.Stderr);
    }

    [Fact]
    public async Task Stdin_is_read_when_no_file_is_given_and_a_clean_input_exits_0()
    {
        await using var worker = WorkerProcess.Start(["normalize", "--kind", "ai"], _dir, redirectStdin: true);
        await worker.StandardInput.WriteLineAsync("""{"action_id":"ai_1","timestamp":"2026-11-29T11:00:05.120+01:00","workspace_id":"org_42","tool":"update_deal","target":{"type":"deal","id":"deal_1","label":"D"},"operation":"update","status":"succeeded"}""");
        worker.StandardInput.Close();
        Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var e = JsonNode.Parse(worker.Stdout.Trim())!;
        Assert.Equal(("ai_1", "ai.update_deal", "2026-11-29T10:00:05.120Z"), (e["id"]!.GetValue<string>(), e["eventType"]!.GetValue<string>(), e["time"]!.GetValue<string>()));
        Assert.Equal("", worker.Stderr);
    }

    [Fact]
    public async Task An_unknown_kind_is_a_usage_error_naming_the_kinds()
    {
        await using var worker = WorkerProcess.Start(["normalize", "--kind", "billing"], _dir);
        Assert.Equal(2, await worker.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("--kind 'billing' is not one of crm, auth, ai, platform.", worker.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
