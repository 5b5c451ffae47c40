using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AuditPipeline.Core.Integrity;
using AuditPipeline.EndToEnd.Tests.Support;
using AuditPipeline.Testing;
using Microsoft.Data.Sqlite;

namespace AuditPipeline.EndToEnd.Tests;

/// <summary>The real executable: sealing through a SIGKILL and a restart, then <c>verify</c> on what it left.</summary>
public sealed class IntegrityEndToEndTests : IDisposable
{
    private const string Org = "org_seal";
    private const string Interval = "--Integrity:SealInterval=00:00:01";
    private readonly WorkerSandbox _sandbox = new("integrity");

    [Fact]
    public async Task After_a_sigkill_mid_ingest_and_a_restart_the_store_verifies_clean_and_then_names_each_tampering()
    {
        var ids = await WriteInboxAsync(20_000);
        await using (var killed = _sandbox.Start(Interval))
        {
            await _sandbox.WaitReadyAsync(killed, TimeSpan.FromSeconds(60));
            await killed.WaitForLogAsync("Sealed digest", TimeSpan.FromSeconds(60));
            killed.Kill();
            await killed.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        await using (var restarted = _sandbox.Start(Interval))
        {
            await _sandbox.WaitReadyAsync(restarted, TimeSpan.FromSeconds(60));
            await _sandbox.WaitForCountAsync(restarted, Org, ids.Count, TimeSpan.FromSeconds(180));
            restarted.Terminate();
            Assert.Equal(0, await restarted.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }

        // Every event is in a digest the runs left behind (the last of them sealed by the stop): verify then
        // checks each one's hash, and none is only spared by its grace of two seal intervals (events received
        // later than that are not yet reported unsealed), which waiting would have had to outlast.
        var unsealed = ids.Except(SealedIds()).ToList();
        Assert.True(unsealed.Count == 0, $"{unsealed.Count} events in no digest, e.g. {string.Join(", ", unsealed.Take(5))}");
        var clean = await VerifyAsync(Interval);
        Assert.True(clean.Code == 0, clean.Output);
        Assert.Matches($"^verified {ids.Count} events in [1-9][0-9]* digests: 0 problems$", clean.Output.TrimEnd('\n'));

        // The store's owner, behind the pipeline's back.
        var partition = Directory.EnumerateFiles(_sandbox.Data, "events-p2y-2026-11.db").Single();
        using (var conn = new SqliteConnection($"Data Source={partition};Pooling=False"))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = """
                DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;
                UPDATE events SET doc = CAST(replace(CAST(doc AS TEXT), 'User 3', 'User 9') AS BLOB) WHERE id = 'evt_16';
                DELETE FROM events WHERE id = 'evt_100';
                """;
            cmd.ExecuteNonQuery();
        }

        var tampered = await VerifyAsync(Interval);
        Assert.True(tampered.Code == 1, tampered.Output);
        var lines = tampered.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["altered evt_16", "missing evt_100"], lines[..^1].Order(StringComparer.Ordinal));
        Assert.Matches($"^verified {ids.Count - 1} events in [1-9][0-9]* digests: 2 problems$", lines[^1]);
    }

    [Fact]
    public async Task The_api_serves_the_public_key_without_a_key_and_the_check_and_digests_with_one()
    {
        var ids = await WriteInboxAsync(50);
        await using var worker = _sandbox.Start(Interval);
        await _sandbox.WaitReadyAsync(worker, TimeSpan.FromSeconds(60));
        await _sandbox.WaitForCountAsync(worker, Org, ids.Count, TimeSpan.FromSeconds(60));

        // "Sealed digest" is logged before the digest is delivered to the directory the API reads, and a
        // round may seal only the events stored by then: wait until delivered digests cover every event.
        JsonArray digests = [];
        await Eventually.TrueAsync(
            async () =>
            {
                digests = JsonNode.Parse(await _sandbox.Http.GetStringAsync(new Uri($"/v1/orgs/{Org}/digests", UriKind.Relative), TestContext.Current.CancellationToken))!.AsArray();
                return digests.Sum(d => d!["count"]!.GetValue<int>()) == ids.Count;
            },
            TimeSpan.FromSeconds(30),
            () => $"Delivered digests cover {digests.Sum(d => d!["count"]!.GetValue<int>())} of {ids.Count} events.\n{worker.Log}",
            poll: TimeSpan.FromMilliseconds(200));

        using var anonymous = new HttpClient { BaseAddress = _sandbox.Http.BaseAddress };
        var pem = await anonymous.GetStringAsync(new Uri("/v1/integrity/public-key", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", pem, StringComparison.Ordinal);
        Assert.Equal(pem, await File.ReadAllTextAsync(Path.Combine(_sandbox.Data, "digests", "public-key.pem"), TestContext.Current.CancellationToken));

        var check = JsonNode.Parse(await _sandbox.Http.GetStringAsync(new Uri($"/v1/orgs/{Org}/integrity", UriKind.Relative), TestContext.Current.CancellationToken))!;
        Assert.Equal(ids.Count, check["events"]!.GetValue<long>());
        Assert.True(check["digests"]!.GetValue<long>() >= 1);
        Assert.Empty(check["problems"]!.AsArray());

        Assert.Equal(1, digests[0]!["seq"]!.GetValue<long>());
        Assert.Equal(ids.Count, digests.Sum(d => d!["count"]!.GetValue<int>()));

        using var bad = await _sandbox.Http.GetAsync(new Uri($"/v1/orgs/{Org}/integrity?from=yesterday", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("from", await bad.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);

        using var noKey = await anonymous.GetAsync(new Uri($"/v1/orgs/{Org}/integrity", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
    }

    [Fact]
    public async Task Verify_runs_beside_a_running_worker_and_changes_nothing()
    {
        var ids = await WriteInboxAsync(200);
        await using var worker = _sandbox.Start(Interval);
        await _sandbox.WaitReadyAsync(worker, TimeSpan.FromSeconds(60));
        await _sandbox.WaitForCountAsync(worker, Org, ids.Count, TimeSpan.FromSeconds(60));

        // Verify reads beside a worker that has sealed every event: each one is checked against a digest.
        await Eventually.TrueAsync(() => ids.All(SealedIds().Contains), TimeSpan.FromSeconds(30), () => $"{ids.Except(SealedIds()).Count()} events in no digest");

        var v = await VerifyAsync(Interval);

        Assert.True(v.Code == 0, v.Output);
        Assert.False(worker.HasExited);
    }

    [Fact]
    public async Task Verify_help_exits_0_and_bad_usage_exits_2()
    {
        var help = await RunAsync(["verify", "--help"]);
        Assert.Equal(0, help.Code);
        Assert.Contains("verify [--org <orgId>]", help.Output, StringComparison.Ordinal);

        var bad = await RunAsync(["verify", "--from", "not-a-date", $"--Store:Embedded:Path={_sandbox.Data}"]);
        Assert.Equal(2, bad.Code);
        Assert.Contains("--from", bad.Error, StringComparison.Ordinal);

        var empty = await VerifyAsync();
        Assert.Equal(0, empty.Code);
        Assert.Equal("verified 0 events in 0 digests: 0 problems\n", empty.Output);
    }

    public void Dispose() => _sandbox.Dispose();

    /// <summary>The ids the organisation's digest files cover (each written once, by rename, so never read half-written).</summary>
    private HashSet<string> SealedIds()
    {
        var folder = Path.Combine(_sandbox.Data, "digests", Org);
        return Directory.Exists(folder)
            ? [.. Directory.EnumerateFiles(folder, "*.json").SelectMany(f => DigestCodec.Decode(File.ReadAllBytes(f)).Entries.Select(e => e.Id))]
            : [];
    }

    private Task<(int Code, string Output, string Error)> VerifyAsync(params string[] extra) =>
        RunAsync(["verify", $"--Store:Embedded:Path={_sandbox.Data}", .. extra]);

    private async Task<(int Code, string Output, string Error)> RunAsync(string[] args)
    {
        await using var p = WorkerProcess.Start(args, _sandbox.Root);
        var code = await p.WaitForExitAsync(TimeSpan.FromSeconds(120));
        return (code, p.Stdout, p.Stderr);
    }

    private async Task<List<string>> WriteInboxAsync(int lines)
    {
        var ids = new List<string>();
        var crm = new StringBuilder();
        var t0 = new DateTimeOffset(2026, 11, 2, 0, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < lines; i++)
        {
            var t = t0.AddSeconds(i * 11);
            crm.Append($$$"""{"id":"evt_{{{i}}}","type":"deal.updated","created_at":"{{{t.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}}}","org_id":"{{{Org}}}","actor":{"type":"user","id":"usr_{{{i % 13}}}","name":"User {{{i % 13}}}","email":"u{{{i % 13}}}@e2e.test"},"data":{"id":"deal_{{{i % 500}}}","name":"Deal {{{i % 500}}}"},"before":{"amount":{{{i}}}.50},"after":{"amount":{{{i + 1}}}e0,"note":"caf\u00e9 \u2603"}}""").Append('\n');
            ids.Add($"evt_{i}");
        }

        await File.WriteAllTextAsync(Path.Combine(_sandbox.Inbox, "crm-seal.jsonl"), crm.ToString());
        return ids;
    }
}
