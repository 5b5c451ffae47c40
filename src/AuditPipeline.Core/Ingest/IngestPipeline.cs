using System.Threading.Channels;
using AuditPipeline.Core.Diagnostics;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Core.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Core.Ingest;

/// <summary>
/// Between the sources and the store: a bounded channel of raw messages (bounded in count by
/// <c>Ingest:ChannelCapacity</c> and in bytes by <c>Ingest:MaxBufferedBytes</c>, counted from write to
/// completion), normalized and grouped into batches by size and time, appended while the store is down
/// with retry and backoff (the full channel is the sources' backpressure), then each message completed
/// in the order it arrived, so a source never checkpoints past a message that is not durable.
/// Three stages run at once: the batch stage normalizes (and lets observers prepare) the next batch,
/// the write stage appends one, and <see cref="BatchFinisher"/> finishes the one before (observers,
/// dead letters, completion), each handing on through a channel of two batches.
/// </summary>
/// <remarks>
/// <para>Only an unavailable store stops ingestion. <see cref="IsolatingAppender"/> retries a store
/// that throws <see cref="StoreUnavailableException"/> (or is cancelled), and splits a batch that throws
/// anything else down to the single events that throw alone (suspects).</para>
/// <para>The rule for suspects: an event is dead-lettered ("the store refused the event: ...") only
/// when it has failed alone twice with the store answering some other append in between, so the store
/// demonstrably works and the event alone does not. A transient error that ends mid-split therefore
/// never dead-letters the events it hit (they are retried, now stored), and one that starts mid-split
/// holds them (no success follows). When every event of an attempt failed on its own, nothing tells
/// an unwritable event from an unclassified store failure (a bug, an unwrapped network error), so the
/// batch is treated as unavailability: <see cref="StoreFailing"/> is set, nothing is completed or
/// dead-lettered, and the attempt is repeated after a backoff, taking in the batches that arrive
/// meanwhile (up to four batches' worth of messages): if their events are stored, the store works and
/// the suspects are confirmed on the next try; if they fail too, everything waits. So a lone poison
/// event waits only until the next message arrives, and a transient error never dead-letters a batch.</para>
/// </remarks>
public sealed partial class IngestPipeline : BackgroundService, IIngestQueue
{
    private readonly Channel<IngestMessage> _input;
    private readonly Channel<IngestBatch> _batches;
    private readonly Channel<IngestBatch> _answered;
    private readonly AuditNormalizer _normalizer;
    private readonly AuditMetrics _metrics;
    private readonly IngestOptions _options;
    private readonly ILogger<IngestPipeline> _logger;
    private readonly TimeProvider _time;
    private readonly IsolatingAppender _appender;
    private readonly BatchFinisher _finisher;
    private readonly IAppendObserver[] _observers;
    private readonly ByteBudget _bytes;
    private long _written;

    public IngestPipeline(
        IAuditStore store,
        AuditNormalizer normalizer,
        AuditMetrics metrics,
        IOptions<IngestOptions> options,
        ILogger<IngestPipeline> logger,
        TimeProvider? time = null,
        IEnumerable<IAppendObserver>? observers = null)
    {
        _normalizer = normalizer;
        _metrics = metrics;
        _options = options.Value;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _observers = observers?.ToArray() ?? [];
        _appender = new IsolatingAppender(store, metrics, _options, _time, logger);
        _bytes = new ByteBudget(_options.MaxBufferedBytes);
        _finisher = new BatchFinisher(_observers, metrics, _options, _bytes, _time, logger);
        metrics.RegisterBufferedBytes(() => _bytes.Used);
        _input = Channel.CreateBounded<IngestMessage>(new BoundedChannelOptions(_options.ChannelCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });

        // Two batches may wait while one is written: normalization overlaps the store's I/O.
        _batches = Channel.CreateBounded<IngestBatch>(new BoundedChannelOptions(2)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        });

        // Two answered batches may wait while one is finished: the observers' durable record and the
        // completions overlap the next write.
        _answered = Channel.CreateBounded<IngestBatch>(new BoundedChannelOptions(2)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        });
    }

    /// <summary>True while appends are failing and being retried.</summary>
    public bool StoreFailing => _appender.Failing;

    /// <summary>Messages written and not yet completed.</summary>
    public long InFlight => Interlocked.Read(ref _written) - _finisher.Completed;

    /// <summary>Raw bytes of messages written and not yet completed.</summary>
    public long BufferedBytes => _bytes.Used;

    public async ValueTask WriteAsync(IngestMessage message, CancellationToken cancellationToken)
    {
        var size = message.Value.Length;
        if (!_bytes.TryReserve(size))
        {
            BudgetFull();
            await _bytes.ReserveAsync(size, cancellationToken);
        }

        try
        {
            await _input.Writer.WriteAsync(message, cancellationToken);
        }
        catch
        {
            _bytes.Release(size);
            throw;
        }

        Interlocked.Increment(ref _written);
    }

    public bool TryWrite(IngestMessage message)
    {
        var size = message.Value.Length;
        if (!_bytes.TryReserve(size))
        {
            BudgetFull();
            return false;
        }

        if (!_input.Writer.TryWrite(message))
        {
            _bytes.Release(size);
            return false;
        }

        Interlocked.Increment(ref _written);
        return true;
    }

    /// <summary>Completes when there is room for a message in the channel and, in bytes, for the message last refused.</summary>
    public async ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken)
    {
        await _bytes.WaitForRoomAsync(cancellationToken);
        return await _input.Writer.WaitToWriteAsync(cancellationToken);
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var target = Interlocked.Read(ref _written);
        while (_finisher.Completed < target)
        {
            await Task.Delay(10, cancellationToken);
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(
            Task.Run(() => BatchLoopAsync(stoppingToken), stoppingToken),
            Task.Run(() => WriteLoopAsync(stoppingToken), stoppingToken),
            Task.Run(() => FinishLoopAsync(stoppingToken), stoppingToken));

    // Logged once per episode: sources pause until completions free room.
    private void BudgetFull() => _finisher.BudgetFull();

    private async Task BatchLoopAsync(CancellationToken ct)
    {
        var reader = _input.Reader;
        try
        {
            while (await reader.WaitToReadAsync(ct))
            {
                var batch = new IngestBatch(Math.Min(_options.BatchSize, 1024));
                var started = _time.GetTimestamp();
                while (batch.Count < _options.BatchSize)
                {
                    if (reader.TryRead(out var message))
                    {
                        Add(batch, message);
                        continue;
                    }

                    var remaining = _options.BatchDelay - _time.GetElapsedTime(started);
                    if (remaining <= TimeSpan.Zero || !await WaitForMoreAsync(reader, remaining, ct))
                    {
                        break;
                    }
                }

                await _batches.Writer.WriteAsync(batch, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            _batches.Writer.TryComplete();
        }
    }

    private static async Task<bool> WaitForMoreAsync<T>(ChannelReader<T> reader, TimeSpan wait, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(wait);
        try
        {
            return await reader.WaitToReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }

    private void Add(IngestBatch batch, IngestMessage message)
    {
        var kind = message.KindLabel;
        _metrics.Consumed(kind);
        if (message.Prebuilt is { } prebuilt)
        {
            Prepare(prebuilt);
            batch.Add(message, prebuilt, null, default);
            return;
        }

        var result = _normalizer.Normalize(message.Kind, message.Value, message.ReceivedAt);
        if (result.IsSuccess)
        {
            if (result.IsUnknownType)
            {
                _metrics.UnknownType(kind);
            }

            Prepare(result.Event);
            batch.Add(message, result.Event, null, default);
        }
        else
        {
            batch.Add(message, null, result.Error, result.Reason);
        }
    }

    private void Prepare(AuditEvent e)
    {
        foreach (var observer in _observers)
        {
            observer.Prepare(e);
        }
    }

    private async Task WriteLoopAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var batch in _batches.Reader.ReadAllAsync(ct))
            {
                await WriteBatchAsync(batch, ct);
                await _answered.Writer.WriteAsync(batch, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            _answered.Writer.TryComplete();
        }
    }

    private async Task FinishLoopAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var batch in _answered.Reader.ReadAllAsync(ct))
            {
                await _finisher.FinishAsync(batch, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task WriteBatchAsync(IngestBatch batch, CancellationToken ct)
    {
        for (var idle = 0; ;)
        {
            var (events, owners) = batch.Pending();
            if (events.Count == 0)
            {
                break;
            }

            var answers = await _appender.AppendAsync(events, ct);
            var confirmed = Settle(batch, answers, owners);
            if (confirmed > 0 || answers.Any(a => a.Answered))
            {
                // Progress: any suspect left is tried again at once, now after a success.
                idle = 0;
                continue;
            }

            // Every event failed on its own: no proof the store works (see the class remarks).
            _appender.MarkFailing();
            var delay = Backoff.Delay(idle++, _options.RetryMin, _options.RetryMax);
            LogNoProof(events.Count, answers[0].SuspectReason!, idle, delay);
            if (batch.Count >= 4 * _options.BatchSize)
            {
                await Task.Delay(delay, _time, ct);
            }
            else if (await WaitForMoreAsync(_batches.Reader, delay, ct) && _batches.Reader.TryRead(out var next))
            {
                batch.Merge(next);
            }
        }
    }

    /// <summary>
    /// Records the store's answers. A suspect is confirmed, and becomes a dead letter with the store's
    /// reason, when it fails alone again after the store answered some other append since its first
    /// failure; otherwise its first failure is remembered and it stays pending. Returns how many were confirmed.
    /// </summary>
    private int Settle(IngestBatch batch, Answer[] answers, List<int> owners)
    {
        var confirmed = 0;
        for (var j = 0; j < answers.Length; j++)
        {
            var i = owners[j];
            var message = batch.Messages[i];
            if (answers[j].Result is not { } result)
            {
                var first = batch.FirstFailure[i];
                if (first < 0)
                {
                    batch.FirstFailure[i] = answers[j].SuccessesAtFailure;
                }
                else if (answers[j].SuccessesAtFailure > first)
                {
                    batch.Events[i] = null;
                    batch.Fail(i, "the store refused the event: " + answers[j].SuspectReason, RejectReason.StoreRejected);
                    confirmed++;
                }

                continue;
            }

            batch.Answered(batch.Events[i]!, result);
            batch.Events[i] = null;
            switch (result.Outcome)
            {
                case AppendOutcome.Stored:
                    _metrics.Stored(message.KindLabel);
                    break;
                case AppendOutcome.Duplicate:
                    _metrics.Duplicate(message.KindLabel);
                    break;
                default:
                    batch.Fail(i, "the store refused the event: " + (result.Error ?? "no reason given"), RejectReason.StoreRejected);
                    break;
            }
        }

        return confirmed;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Each of {Count} events failed on its own ({Reason}), so nothing shows the store works: held as for an unavailable store (attempt {Attempt}), retrying in {Delay} with any messages that arrive meanwhile")]
    private partial void LogNoProof(int count, string reason, int attempt, TimeSpan delay);
}
