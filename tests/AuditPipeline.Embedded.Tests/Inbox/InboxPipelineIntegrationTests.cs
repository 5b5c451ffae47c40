using System.Diagnostics.Metrics;
using System.Text.Json;
using AuditPipeline.Core.Diagnostics;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded.Inbox;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Embedded.Tests.Inbox;

/// <summary>The inbox, the real ingest pipeline and the real store together, in process.</summary>
public sealed class InboxPipelineIntegrationTests : IDisposable
{
    private readonly TempDirectory _inbox = new();
    private readonly TempDirectory _data = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        _services.Dispose();
        _inbox.Dispose();
        _data.Dispose();
    }

    [Fact]
    public async Task Every_inbox_line_is_stored_or_dead_lettered_exactly_once_and_a_restart_reads_nothing_again()
    {
        var lines = Enumerable.Range(1, 40)
            .Select(i => $$$"""{"id":"evt_{{{i}}}","type":"deal.updated","created_at":"2026-11-29T10:{{{i:D2}}}:00Z","org_id":"org_42","data":{"id":"deal_{{{i}}}","name":"Deal {{{i}}}"},"before":{"amount":1},"after":{"amount":2}}""")
            .ToList();
        lines.Insert(17, "this is not json");
        File.WriteAllText(Path.Combine(_inbox.Path, "crm-2026-11-29.jsonl"), string.Join("\n", lines) + "\n");

        using (var store = Stores.Open(_data.Path))
        {
            var (pipeline, source) = Start(store);
            await pipeline.StartAsync(Ct);
            await source.StartAsync(Ct);
            await WaitUntilAsync(async () => DeadLetters().Count + await CountAsync(store) == lines.Count);
            await source.StopAsync(Ct);
            await pipeline.StopAsync(Ct);
            source.Dispose();
            pipeline.Dispose();

            var dead = DeadLetters();
            Assert.Equal(lines.Count, dead.Count + await CountAsync(store));
            Assert.Single(dead, d => d.GetProperty("raw").GetString() == "this is not json");
            Assert.Equal(dead.Count, dead.Select(d => d.GetProperty("line").GetInt64()).Distinct().Count());
        }

        var queue = new RecordingQueue();
        using var restarted = new InboxSource(queue, Options.Create(new InboxOptions { Path = _inbox.Path }), NullLogger<InboxSource>.Instance);
        await restarted.PollOnceAsync(Ct);

        Assert.Empty(queue.Messages);
    }

    private (IngestPipeline Pipeline, InboxSource Source) Start(IAuditStore store)
    {
        var pipeline = new IngestPipeline(
            store,
            new AuditNormalizer(),
            new AuditMetrics(_services.GetRequiredService<IMeterFactory>()),
            Options.Create(new IngestOptions { BatchDelay = TimeSpan.FromMilliseconds(10), RetryMin = TimeSpan.FromMilliseconds(10), RetryMax = TimeSpan.FromMilliseconds(50) }),
            NullLogger<IngestPipeline>.Instance);
        var source = new InboxSource(pipeline, Options.Create(new InboxOptions { Path = _inbox.Path, PollInterval = TimeSpan.FromMilliseconds(20) }), NullLogger<InboxSource>.Instance);
        return (pipeline, source);
    }

    private static async Task<int> CountAsync(IAuditStore store)
    {
        var n = 0;
        await foreach (var _ in store.StreamAsync(new AuditQuery { OrgId = "org_42" }, Ct))
        {
            n++;
        }

        return n;
    }

    private List<JsonElement> DeadLetters()
    {
        var path = Path.Combine(_inbox.Path, InboxSource.DeadLetterFileName);
        return File.Exists(path)
            ? [.. File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone())]
            : [];
    }

    private static Task WaitUntilAsync(Func<Task<bool>> condition) =>
        Eventually.TrueAsync(condition, TimeSpan.FromSeconds(30), () => "the inbox pipeline did not reach the expected state");
}
