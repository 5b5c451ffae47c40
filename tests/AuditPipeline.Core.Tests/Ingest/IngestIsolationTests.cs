using System.Text;
using AuditPipeline.Core.Diagnostics;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Core.Storage;
using AuditPipeline.Testing;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Core.Tests.Ingest;

/// <summary>Only an unavailable store pauses ingestion: an event the store cannot write is isolated and dead-lettered, memory is bounded in bytes.</summary>
public sealed class IngestIsolationTests : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly ScriptedStore _store = new();
    private readonly RecordingOrigin _origin = new();
    private readonly RecordingObserver _observer = new();
    private readonly OwningMeterFactory _meters = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<IngestPipeline> _pipelines = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_event_the_store_throws_on_is_isolated_and_dead_lettered_while_the_rest_of_its_batch_is_stored()
    {
        _store.Fault = events => events.Any(e => e.Id == "evt_37")
            ? new InvalidOperationException("Cannot write the document of evt_37.")
            : null;
        var pipeline = await StartAsync(new IngestOptions { BatchSize = 100, BatchDelay = TimeSpan.FromMilliseconds(200) });
        for (var i = 0; i < 100; i++)
        {
            await pipeline.WriteAsync(Message(Crm($"evt_{i}"), i), Ct);
        }

        await pipeline.FlushAsync(Ct).WaitAsync(Timeout, Ct);

        var d = Assert.Single(_origin.DeadLettered);
        Assert.Equal(37, (int)d.Message.Position!);
        Assert.Equal("the store refused the event: Cannot write the document of evt_37 (InvalidOperationException)", d.Reason);
        Assert.Equal(99, _store.Count);
        Assert.Equal(Enumerable.Range(0, 100), _origin.Completed.Select(m => (int)m.Position!));
        Assert.False(pipeline.StoreFailing);

        // The observer heard of every stored event exactly once, in batch order, in one call once the
        // store had answered the whole batch (the bisection's sub-appends included).
        var observed = _observer.Calls.SelectMany(c => c.Ids).ToList();
        Assert.Equal(Enumerable.Range(0, 100).Where(i => i != 37).Select(i => $"evt_{i}"), observed);
        Assert.Single(_observer.Calls);

        // Bisecting 100 events to one costs about 2·log2(100) appends, not one per event.
        Assert.InRange(_store.Calls, 3, 20);
    }

    [Fact]
    public async Task Every_event_is_prepared_in_the_batch_stage_before_the_observer_hears_it_was_appended()
    {
        // The sealing observer hashes in Prepare, beside the previous batch's write; it must see each event first.
        var pipeline = await StartAsync(new IngestOptions { BatchSize = 10, BatchDelay = TimeSpan.FromMilliseconds(50) });
        for (var i = 0; i < 95; i++)
        {
            await pipeline.WriteAsync(Message(Crm($"evt_{i}"), i), Ct);
        }

        await pipeline.FlushAsync(Ct).WaitAsync(Timeout, Ct);

        Assert.Equal(95, _observer.Calls.Sum(c => c.Ids.Length));
        Assert.Empty(_observer.Unprepared);
    }

    [Fact]
    public async Task The_next_batch_is_written_while_the_observer_finishes_the_last_and_nothing_completes_before_it_does()
    {
        // The sealer's durable record of batch k overlaps the store's write of batch k+1, but no
        // message of batch k is completed (a source's checkpoint) until the observer has returned.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _observer.Gate = gate;
        var pipeline = await StartAsync(new IngestOptions { BatchSize = 10, BatchDelay = TimeSpan.FromSeconds(5) });
        for (var i = 0; i < 20; i++)
        {
            await pipeline.WriteAsync(Message(Crm($"evt_{i}"), i), Ct);
        }

        await WaitUntil(() => _store.Count == 20);
        Assert.Empty(_origin.Completed);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"evt_{i}"), Assert.Single(_observer.Calls).Ids);

        gate.SetResult();
        await pipeline.FlushAsync(Ct).WaitAsync(Timeout, Ct);
        Assert.Equal(Enumerable.Range(0, 20), _origin.Completed.Select(m => (int)m.Position!));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"evt_{i}"), _observer.Calls.SelectMany(c => c.Ids));
    }

    [Fact]
    public async Task An_unavailable_store_is_retried_with_the_whole_batch_and_nothing_is_dead_lettered()
    {
        var fail = true;
        _store.Fault = _ => Volatile.Read(ref fail) ? new StoreUnavailableException("down") : null;
        var pipeline = await StartAsync(new IngestOptions { BatchSize = 10 });
        for (var i = 0; i < 10; i++)
        {
            await pipeline.WriteAsync(Message(Crm($"evt_{i}"), i), Ct);
        }

        await WaitUntil(() => _store.Calls >= 4);
        Assert.True(pipeline.StoreFailing);
        Assert.Empty(_origin.Completed);

        Volatile.Write(ref fail, false);
        await pipeline.FlushAsync(Ct).WaitAsync(Timeout, Ct);
        Assert.Empty(_origin.DeadLettered);
        Assert.Equal(10, _store.Count);
        Assert.False(pipeline.StoreFailing);
    }

    [Fact]
    public async Task A_cancellation_from_inside_the_store_counts_as_unavailability()
    {
        var fail = 3;
        _store.Fault = _ => Interlocked.Decrement(ref fail) >= 0 ? new TaskCanceledException("The HTTP request timed out.") : null;
        var pipeline = await StartAsync(new IngestOptions { BatchSize = 10 });
        for (var i = 0; i < 10; i++)
        {
            await pipeline.WriteAsync(Message(Crm($"evt_{i}"), i), Ct);
        }

        await pipeline.FlushAsync(Ct).WaitAsync(Timeout, Ct);
        Assert.Empty(_origin.DeadLettered);
        Assert.Equal(10, _store.Count);
    }

    [Fact]
    public async Task When_every_event_fails_alike_it_is_treated_as_unavailability_and_nothing_is_dead_lettered()
    {
        // An unclassified transient failure (say, an unwrapped network error) that hits every event.
        var broken = true;
        _store.Fault = _ => Volatile.Read(ref broken) ? new IOException("Connection reset by peer.") : null;
        var pipeline = await StartAsync(new IngestOptions { BatchSize = 20 });
        for (var i = 0; i < 20; i++)
        {
            await pipeline.WriteAsync(Message(Crm($"evt_{i}"), i), Ct);
        }

        await WaitUntil(() => _store.Calls >= 80);
        Assert.True(pipeline.StoreFailing);
        Assert.Empty(_origin.DeadLettered);
        Assert.Empty(_origin.Completed);

        Volatile.Write(ref broken, false);
        await pipeline.FlushAsync(Ct).WaitAsync(Timeout, Ct);
        Assert.Empty(_origin.DeadLettered);
        Assert.Equal(20, _store.Count);
        Assert.False(pipeline.StoreFailing);
    }

    [Fact]
    public async Task A_transient_error_that_ends_while_a_batch_is_being_split_dead_letters_nothing()
    {
        // The first five appends fail (the whole batch, then halves down to evt_0 alone), then the store recovers:
        // evt_0 failed alone once, but never again after a success, so it is retried and stored.
        var failures = 5;
        _store.Fault = _ => Interlocked.Decrement(ref failures) >= 0 ? new IOException("Connection reset by peer.") : null;
        var pipeline = await StartAsync(new IngestOptions { BatchSize = 20, BatchDelay = TimeSpan.FromMilliseconds(200) });
        for (var i = 0; i < 20; i++)
        {
            await pipeline.WriteAsync(Message(Crm($"evt_{i}"), i), Ct);
        }

        await pipeline.FlushAsync(Ct).WaitAsync(Timeout, Ct);
        Assert.Empty(_origin.DeadLettered);
        Assert.Equal(20, _store.Count);
        Assert.Equal(Enumerable.Range(0, 20), _origin.Completed.Select(m => (int)m.Position!));
    }

    [Fact]
    public async Task A_lone_unwritable_event_waits_for_proof_that_the_store_works_then_is_dead_lettered_and_order_is_kept()
    {
        _store.Fault = events => events.Any(e => e.Id == "evt_poison") ? new ArgumentException("Unwritable.") : null;
        var pipeline = await StartAsync(new IngestOptions { BatchSize = 50, BatchDelay = TimeSpan.FromMilliseconds(5) });
        await pipeline.WriteAsync(Message(Crm("evt_poison"), 0), Ct);

        // Alone, the poison proves nothing: it is held and retried, not dead-lettered.
        await WaitUntil(() => _store.Calls >= 3);
        Assert.Empty(_origin.DeadLettered);
        Assert.True(pipeline.StoreFailing);

        for (var i = 1; i <= 5; i++)
        {
            await pipeline.WriteAsync(Message(Crm($"evt_{i}"), i), Ct);
        }

        await pipeline.FlushAsync(Ct).WaitAsync(Timeout, Ct);
        var d = Assert.Single(_origin.DeadLettered);
        Assert.Equal(0, (int)d.Message.Position!);
        Assert.Equal("the store refused the event: Unwritable (ArgumentException)", d.Reason);
        Assert.Equal([0, 1, 2, 3, 4, 5], _origin.Completed.Select(m => (int)m.Position!));
        Assert.Equal(5, _store.Count);
        Assert.False(pipeline.StoreFailing);
    }

    [Fact]
    public async Task Dead_letters_are_counted_by_kind_and_reason_class()
    {
        var collector = new MetricCollector<long>(_meters, AuditMetrics.MeterName, "audit_events_dead_lettered");
        _store.Fault = events => events.Any(e => e.Id == "evt_bad") ? new FormatException("No.") : null;
        var pipeline = await StartAsync(new IngestOptions { BatchSize = 10, BatchDelay = TimeSpan.FromMilliseconds(100) });
        await pipeline.WriteAsync(Message(Crm("evt_bad"), 0), Ct);
        await pipeline.WriteAsync(Message("{\"id\":1}", 1), Ct);
        await pipeline.WriteAsync(Message(Crm("evt_ok"), 2), Ct);
        await pipeline.WriteAsync(Message("{\"before\":{\"x\":\"\\ud800\"}}", 3), Ct);
        await pipeline.FlushAsync(Ct).WaitAsync(Timeout, Ct);

        var byReason = collector.GetMeasurementSnapshot()
            .GroupBy(m => ((string)m.Tags["kind"]!, (string)m.Tags["reason"]!))
            .ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
        Assert.Equal(
            new Dictionary<(string, string), long> { [("crm", "wrong_type")] = 1, [("crm", "store_rejected")] = 1, [("crm", "unstorable_text")] = 1 },
            byReason);
    }

    [Fact]
    public async Task Memory_is_bounded_in_bytes_while_the_store_blocks_and_writers_wait_for_room()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _store.Gate = gate.Task;
        var options = new IngestOptions { BatchSize = 5, ChannelCapacity = 10_000, MaxBufferedBytes = 20_000 };
        var pipeline = await StartAsync(options);
        var big = Crm("evt_0000", padding: 1000);
        var size = Encoding.UTF8.GetByteCount(big);
        var accepted = 0;
        for (var i = 0; i < 1000 && pipeline.TryWrite(Message(Crm($"evt_{i:D4}", padding: 1000), i)); i++)
        {
            accepted++;
        }

        // The count bound (10 000) is far off: bytes stopped the writer at the budget.
        Assert.Equal(20_000 / size, accepted);
        Assert.True(pipeline.BufferedBytes <= options.MaxBufferedBytes);

        var waiting = pipeline.WaitToWriteAsync(Ct).AsTask();
        var blockedWrite = pipeline.WriteAsync(Message(Crm("evt_9999", padding: 1000), 9999), Ct).AsTask();
        await Task.WhenAny(waiting, blockedWrite, Task.Delay(300, Ct));
        Assert.False(waiting.IsCompleted);
        Assert.False(blockedWrite.IsCompleted);

        gate.SetResult();
        Assert.True(await waiting.WaitAsync(Timeout, Ct));
        await blockedWrite.WaitAsync(Timeout, Ct);
        await pipeline.FlushAsync(Ct).WaitAsync(Timeout, Ct);
        Assert.Equal(accepted + 1, _store.Count);
        Assert.Equal(0, pipeline.BufferedBytes);
    }

    [Fact]
    public async Task A_message_larger_than_the_whole_budget_is_taken_when_nothing_else_is_buffered()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _store.Gate = gate.Task;
        var pipeline = await StartAsync(new IngestOptions { BatchSize = 1, MaxBufferedBytes = 100 });
        Assert.True(pipeline.TryWrite(Message(Crm("evt_huge", padding: 5000), 0)));
        Assert.False(pipeline.TryWrite(Message(Crm("evt_next"), 1)));

        var next = pipeline.WriteAsync(Message(Crm("evt_next"), 1), Ct).AsTask();
        gate.SetResult();
        await next.WaitAsync(Timeout, Ct);
        await pipeline.FlushAsync(Ct).WaitAsync(Timeout, Ct);
        Assert.Equal(["evt_huge", "evt_next"], _store.All.Select(e => e.Id).Order(StringComparer.Ordinal));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var p in _pipelines)
        {
            await p.StopAsync(CancellationToken.None);
            p.Dispose();
        }

        _meters.Dispose();
        _stop.Dispose();
    }

    private async Task<IngestPipeline> StartAsync(IngestOptions options)
    {
        options.RetryMin = TimeSpan.FromMilliseconds(5);
        options.RetryMax = TimeSpan.FromMilliseconds(20);
        var pipeline = new IngestPipeline(
            _store,
            new AuditNormalizer(Options.Create(options)),
            new AuditMetrics(_meters),
            Options.Create(options),
            NullLogger<IngestPipeline>.Instance,
            observers: [_observer]);
        _pipelines.Add(pipeline);
        await pipeline.StartAsync(_stop.Token);
        return pipeline;
    }

    private IngestMessage Message(string json, int position) =>
        new(SourceKind.Crm, Encoding.UTF8.GetBytes(json), _origin) { Position = position };

    private static string Crm(string id, int padding = 0) =>
        $$$"""{"id":"{{{id}}}","type":"deal.updated","created_at":"{{{AuditJson.FormatTime(DateTimeOffset.UtcNow.AddMinutes(-1))}}}","org_id":"org_42","data":{"id":"deal_1"},"before":{"a":1},"after":{"a":2,"pad":"{{{new string('p', padding)}}}"}}""";

    private static Task WaitUntil(Func<bool> condition) =>
        Eventually.TrueAsync(condition, Timeout, () => "condition not met in time");
}
