using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
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

public sealed class IngestPipelineTests : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly InMemoryAuditStore _store = new();
    private readonly RecordingOrigin _origin = new();
    private readonly ServiceMeterFactory _meters = new();
    private readonly IngestPipeline _pipeline;
    private readonly CancellationTokenSource _stop = new();

    public IngestPipelineTests()
    {
        _pipeline = Create(_store, new IngestOptions { BatchSize = 50, BatchDelay = TimeSpan.FromMilliseconds(20), ChannelCapacity = 100, RetryMin = TimeSpan.FromMilliseconds(5), RetryMax = TimeSpan.FromMilliseconds(20) });
    }

    [Fact]
    public async Task Every_message_is_completed_once_in_the_order_written_after_it_is_stored_or_dead_lettered()
    {
        await _pipeline.StartAsync(_stop.Token);
        var written = new List<IngestMessage>();
        for (var i = 0; i < 500; i++)
        {
            var m = i % 7 == 3 ? Message("{\"not\":\"valid\"}", i) : Message(Crm($"evt_{i}"), i);
            written.Add(m);
            await _pipeline.WriteAsync(m, TestContext.Current.CancellationToken);
        }

        await _pipeline.FlushAsync(TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);

        Assert.Equal(written.Select(m => (int)m.Position!), _origin.Completed.Select(m => (int)m.Position!));
        var rejected = written.Where((_, i) => i % 7 == 3).Select(m => (int)m.Position!).ToHashSet();
        Assert.Equal(rejected, _origin.DeadLettered.Select(d => (int)d.Message.Position!).ToHashSet());
        Assert.All(_origin.DeadLettered, d => Assert.Equal("missing id", d.Reason));
        Assert.Equal(500 - rejected.Count, _store.Count);
    }

    [Fact]
    public async Task A_dead_lettered_message_is_completed_only_after_its_dead_letter_is_acknowledged()
    {
        var gate = new TaskCompletionSource();
        _origin.DeadLetterGate = gate.Task;
        await _pipeline.StartAsync(_stop.Token);
        await _pipeline.WriteAsync(Message("[]", 1), TestContext.Current.CancellationToken);
        await _pipeline.WriteAsync(Message(Crm("evt_after"), 2), TestContext.Current.CancellationToken);

        // The later message is stored and the dead letter asked for: the batch is as far as it can go.
        await WaitUntil(() => _origin.DeadLetterCalls > 0 && _store.Count == 1);
        Assert.Empty(_origin.Completed);

        gate.SetResult();
        await _pipeline.FlushAsync(TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);
        Assert.Equal([1, 2], _origin.Completed.Select(m => (int)m.Position!));

        // Counted at each completion, so no completion before the acknowledgement can slip past the check above.
        Assert.Equal(0, _origin.CompletedBeforeDeadLetterAcknowledged);
    }

    [Fact]
    public async Task A_failing_store_is_retried_until_it_recovers_and_nothing_is_completed_meanwhile()
    {
        _store.Failing = true;
        await _pipeline.StartAsync(_stop.Token);
        for (var i = 0; i < 10; i++)
        {
            await _pipeline.WriteAsync(Message(Crm($"evt_{i}"), i), TestContext.Current.CancellationToken);
        }

        await WaitUntil(() => _store.AppendCalls >= 3);
        Assert.True(_pipeline.StoreFailing);
        Assert.Empty(_origin.Completed);

        _store.Failing = false;
        await _pipeline.FlushAsync(TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);
        Assert.Equal(10, _store.Count);
        Assert.Equal(10, _origin.Completed.Count);
        Assert.False(_pipeline.StoreFailing);
    }

    [Fact]
    public async Task A_full_queue_refuses_more_messages_so_memory_stays_bounded_while_the_store_is_down()
    {
        _store.Failing = true;
        await _pipeline.StartAsync(_stop.Token);
        var accepted = 0;
        for (var i = 0; i < 1000; i++)
        {
            if (_pipeline.TryWrite(Message(Crm($"evt_{i}"), i)))
            {
                accepted++;
            }
        }

        // Capacity 100 in the channel, plus at most one batch being built and two waiting (3 × 50).
        Assert.InRange(accepted, 100, 100 + (3 * 50));
        Assert.True(accepted < 1000);

        _store.Failing = false;
        await _pipeline.FlushAsync(TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);
        Assert.Equal(accepted, _store.Count);
    }

    [Fact]
    public async Task The_same_event_twice_is_counted_as_a_duplicate_and_stored_once()
    {
        var collector = new MetricCollector<long>(_meters, AuditMetrics.MeterName, "audit_events_duplicate");
        var stored = new MetricCollector<long>(_meters, AuditMetrics.MeterName, "audit_events_stored");
        await _pipeline.StartAsync(_stop.Token);
        await _pipeline.WriteAsync(Message(Crm("evt_same"), 1), TestContext.Current.CancellationToken);
        await _pipeline.FlushAsync(TestContext.Current.CancellationToken);
        await _pipeline.WriteAsync(Message(Crm("evt_same"), 2), TestContext.Current.CancellationToken);
        await _pipeline.FlushAsync(TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);

        Assert.Equal(1, _store.Count);
        Assert.Equal(1, collector.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(1, stored.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal("crm", collector.LastMeasurement!.Tags["kind"]);
    }

    [Fact]
    public async Task An_event_the_store_refuses_is_dead_lettered_with_the_stores_reason()
    {
        var refusing = new RefusingStore("evt_bad");
        var pipeline = Create(refusing, new IngestOptions { BatchDelay = TimeSpan.FromMilliseconds(5) });
        await pipeline.StartAsync(_stop.Token);
        await pipeline.WriteAsync(Message(Crm("evt_ok"), 1), TestContext.Current.CancellationToken);
        await pipeline.WriteAsync(Message(Crm("evt_bad"), 2), TestContext.Current.CancellationToken);
        await pipeline.FlushAsync(TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);

        var d = Assert.Single(_origin.DeadLettered);
        Assert.Equal(2, (int)d.Message.Position!);
        Assert.Equal("the store refused the event: mapper_parsing_exception", d.Reason);
        Assert.Equal([1, 2], _origin.Completed.Select(m => (int)m.Position!));
        await pipeline.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Prebuilt_events_skip_normalization_and_are_stored_as_given()
    {
        await _pipeline.StartAsync(_stop.Token);
        var e = Some.Event("ex_1");
        await _pipeline.WriteAsync(new IngestMessage(e, _origin) { Position = 1 }, TestContext.Current.CancellationToken);
        await _pipeline.FlushAsync(TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);
        Assert.Equal(AuditJson.Serialize(e), AuditJson.Serialize(Assert.Single(_store.All)));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _pipeline.StopAsync(CancellationToken.None);
        _pipeline.Dispose();
        _meters.Dispose();
        _stop.Dispose();
    }

    private IngestPipeline Create(IAuditStore store, IngestOptions options) =>
        new(store, new AuditNormalizer(Options.Create(options)), new AuditMetrics(_meters), Options.Create(options), NullLogger<IngestPipeline>.Instance);

    private IngestMessage Message(string json, int position) =>
        new(SourceKind.Crm, Encoding.UTF8.GetBytes(json), _origin) { Position = position };

    private static string Crm(string id) =>
        $$$"""{"id":"{{{id}}}","type":"deal.updated","created_at":"2026-11-29T10:32:00Z","org_id":"org_42","data":{"id":"deal_1"},"before":{"a":1},"after":{"a":2}}""";

    private static Task WaitUntil(Func<bool> condition) =>
        Eventually.TrueAsync(condition, Timeout, () => "condition not met in time");

    private sealed class RecordingOrigin : IMessageOrigin
    {
        public ConcurrentQueue<IngestMessage> Completed { get; } = new();

        public ConcurrentQueue<(IngestMessage Message, string Reason)> DeadLettered { get; } = new();

        public Task DeadLetterGate { get; set; } = Task.CompletedTask;

        public int DeadLetterCalls;

        /// <summary>Completions while <see cref="DeadLetterGate"/> was still closed.</summary>
        public int CompletedBeforeDeadLetterAcknowledged;

        public void Complete(IngestMessage message)
        {
            if (!DeadLetterGate.IsCompleted)
            {
                Interlocked.Increment(ref CompletedBeforeDeadLetterAcknowledged);
            }

            Completed.Enqueue(message);
        }

        public async Task DeadLetterAsync(IngestMessage message, string reason, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref DeadLetterCalls);
            await DeadLetterGate.WaitAsync(cancellationToken);
            DeadLettered.Enqueue((message, reason));
        }
    }

    private sealed class RefusingStore(string refusedId) : DelegatingAuditStore(new InMemoryAuditStore())
    {
        public override async Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken)
        {
            var ok = events.Where(e => e.Id != refusedId).ToList();
            var results = await InnerStore.AppendAsync(ok, cancellationToken);
            var j = 0;
            return [.. events.Select(e => e.Id == refusedId ? AppendResult.Rejected("mapper_parsing_exception") : results[j++])];
        }

        public override Task<bool> IsReadyAsync(CancellationToken cancellationToken) => Task.FromResult(true);
    }

    /// <summary>A meter factory that owns its meters (what the DI container gives in production).</summary>
    private sealed class ServiceMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var m = new Meter(options.Name, options.Version, options.Tags, scope: this);
            _meters.Add(m);
            return m;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }
}
