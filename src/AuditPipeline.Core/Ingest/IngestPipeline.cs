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
/// Between the sources and the store: a bounded channel of raw messages, normalized and grouped into
/// batches by size and time, appended with retry and backoff while the store is down (the full
/// channel is the sources' backpressure), then each message completed in the order it arrived, so a
/// source never checkpoints past a message that is not durable.
/// </summary>
public sealed partial class IngestPipeline : BackgroundService, IIngestQueue
{
    private readonly Channel<IngestMessage> _input;
    private readonly Channel<Batch> _batches;
    private readonly IAuditStore _store;
    private readonly AuditNormalizer _normalizer;
    private readonly AuditMetrics _metrics;
    private readonly IngestOptions _options;
    private readonly ILogger<IngestPipeline> _logger;
    private readonly TimeProvider _time;
    private readonly IAppendObserver[] _observers;
    private long _written;
    private long _completed;
    private volatile bool _storeFailing;

    public IngestPipeline(
        IAuditStore store,
        AuditNormalizer normalizer,
        AuditMetrics metrics,
        IOptions<IngestOptions> options,
        ILogger<IngestPipeline> logger,
        TimeProvider? time = null,
        IEnumerable<IAppendObserver>? observers = null)
    {
        _observers = observers?.ToArray() ?? [];
        _store = store;
        _normalizer = normalizer;
        _metrics = metrics;
        _options = options.Value;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _input = Channel.CreateBounded<IngestMessage>(new BoundedChannelOptions(_options.ChannelCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });

        // Two batches may wait while one is written: normalization overlaps the store's I/O.
        _batches = Channel.CreateBounded<Batch>(new BoundedChannelOptions(2)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        });
    }

    /// <summary>True while appends are failing and being retried.</summary>
    public bool StoreFailing => _storeFailing;

    /// <summary>Messages written and not yet completed.</summary>
    public long InFlight => Interlocked.Read(ref _written) - Interlocked.Read(ref _completed);

    public async ValueTask WriteAsync(IngestMessage message, CancellationToken cancellationToken)
    {
        await _input.Writer.WriteAsync(message, cancellationToken);
        Interlocked.Increment(ref _written);
    }

    public bool TryWrite(IngestMessage message)
    {
        if (!_input.Writer.TryWrite(message))
        {
            return false;
        }

        Interlocked.Increment(ref _written);
        return true;
    }

    public ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken) =>
        _input.Writer.WaitToWriteAsync(cancellationToken);

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var target = Interlocked.Read(ref _written);
        while (Interlocked.Read(ref _completed) < target)
        {
            await Task.Delay(10, cancellationToken);
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(
            Task.Run(() => BatchLoopAsync(stoppingToken), stoppingToken),
            Task.Run(() => WriteLoopAsync(stoppingToken), stoppingToken));

    private async Task BatchLoopAsync(CancellationToken ct)
    {
        var reader = _input.Reader;
        try
        {
            while (await reader.WaitToReadAsync(ct))
            {
                var batch = new Batch(Math.Min(_options.BatchSize, 1024));
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

    private static async Task<bool> WaitForMoreAsync(ChannelReader<IngestMessage> reader, TimeSpan wait, CancellationToken ct)
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

    private void Add(Batch batch, IngestMessage message)
    {
        var kind = message.KindLabel;
        _metrics.Consumed(kind);
        if (message.Prebuilt is { } prebuilt)
        {
            batch.Add(message, prebuilt, null);
            return;
        }

        var result = _normalizer.Normalize(message.Kind, message.Value, message.ReceivedAt);
        if (result.IsSuccess)
        {
            if (result.IsUnknownType)
            {
                _metrics.UnknownType(kind);
            }

            batch.Add(message, result.Event, null);
        }
        else
        {
            batch.Add(message, null, result.Error);
        }
    }

    private async Task WriteLoopAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var batch in _batches.Reader.ReadAllAsync(ct))
            {
                await WriteBatchAsync(batch, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task WriteBatchAsync(Batch batch, CancellationToken ct)
    {
        var events = new List<AuditEvent>(batch.Count);
        var owners = new List<int>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            if (batch.Events[i] is { } e)
            {
                events.Add(e);
                owners.Add(i);
            }
        }

        if (events.Count > 0)
        {
            var results = await AppendWithRetryAsync(events, ct);
            await NotifyObserversAsync(events, results, ct);
            for (var j = 0; j < results.Count; j++)
            {
                var message = batch.Messages[owners[j]];
                switch (results[j].Outcome)
                {
                    case AppendOutcome.Stored:
                        _metrics.Stored(message.KindLabel);
                        break;
                    case AppendOutcome.Duplicate:
                        _metrics.Duplicate(message.KindLabel);
                        break;
                    default:
                        batch.Errors[owners[j]] = "the store refused the event: " + (results[j].Error ?? "no reason given");
                        break;
                }
            }
        }

        List<Task>? deadLetters = null;
        for (var i = 0; i < batch.Count; i++)
        {
            if (batch.Errors[i] is { } error)
            {
                (deadLetters ??= []).Add(DeadLetterWithRetryAsync(batch.Messages[i], error, ct));
            }
        }

        if (deadLetters is not null)
        {
            await Task.WhenAll(deadLetters);
        }

        for (var i = 0; i < batch.Count; i++)
        {
            var message = batch.Messages[i];
            try
            {
                message.Origin.Complete(message);
            }
            catch (Exception ex)
            {
                // A source that cannot record completion will redeliver; the store absorbs the duplicate.
                LogCompleteFailed(ex, message.KindLabel);
            }

            Interlocked.Increment(ref _completed);
        }
    }

    private async Task<IReadOnlyList<AppendResult>> AppendWithRetryAsync(List<AuditEvent> events, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var started = _time.GetTimestamp();
            try
            {
                var results = await _store.AppendAsync(events, ct);
                _metrics.StoreWrite(_time.GetElapsedTime(started));
                if (results.Count != events.Count)
                {
                    throw new InvalidOperationException($"The store answered {results.Count} results for {events.Count} events.");
                }

                if (_storeFailing)
                {
                    _storeFailing = false;
                    LogStoreRecovered(attempt);
                }

                return results;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                _storeFailing = true;
                var delay = Backoff.Delay(attempt, _options.RetryMin, _options.RetryMax);
                LogStoreFailed(ex, events.Count, attempt + 1, delay);
                await Task.Delay(delay, _time, ct);
            }
        }
    }

    private async Task NotifyObserversAsync(List<AuditEvent> events, IReadOnlyList<AppendResult> results, CancellationToken ct)
    {
        foreach (var observer in _observers)
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await observer.OnAppendedAsync(events, results, ct);
                    break;
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    var delay = Backoff.Delay(attempt, _options.RetryMin, _options.RetryMax);
                    LogObserverFailed(ex, observer.GetType().Name, attempt + 1, delay);
                    await Task.Delay(delay, _time, ct);
                }
            }
        }
    }

    private async Task DeadLetterWithRetryAsync(IngestMessage message, string reason, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await message.Origin.DeadLetterAsync(message, reason, ct);
                _metrics.DeadLettered(message.KindLabel);
                LogDeadLettered(message.KindLabel, message.Position, reason);
                return;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                var delay = Backoff.Delay(attempt, _options.RetryMin, _options.RetryMax);
                LogDeadLetterFailed(ex, message.KindLabel, attempt + 1, delay);
                await Task.Delay(delay, _time, ct);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Appending {Count} events failed (attempt {Attempt}); retrying in {Delay}")]
    private partial void LogStoreFailed(Exception ex, int count, int attempt, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The append observer {Observer} failed (attempt {Attempt}); retrying in {Delay}")]
    private partial void LogObserverFailed(Exception ex, string observer, int attempt, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "The store accepts writes again after {Attempts} failed attempts")]
    private partial void LogStoreRecovered(int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead-lettering a {Kind} message failed (attempt {Attempt}); retrying in {Delay}")]
    private partial void LogDeadLetterFailed(Exception ex, string kind, int attempt, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dead-lettered a {Kind} message at {Position}: {Reason}")]
    private partial void LogDeadLettered(string kind, object? position, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Completing a {Kind} message failed; it will be redelivered")]
    private partial void LogCompleteFailed(Exception ex, string kind);

    private sealed class Batch(int capacity)
    {
        public List<IngestMessage> Messages { get; } = new(capacity);

        public List<AuditEvent?> Events { get; } = new(capacity);

        public List<string?> Errors { get; } = new(capacity);

        public int Count => Messages.Count;

        public void Add(IngestMessage m, AuditEvent? e, string? error)
        {
            Messages.Add(m);
            Events.Add(e);
            Errors.Add(error);
        }
    }
}

/// <summary>Exponential backoff with full jitter, capped.</summary>
public static class Backoff
{
    public static TimeSpan Delay(int attempt, TimeSpan min, TimeSpan max)
    {
        var exp = min.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 20));
        var cap = Math.Min(exp, max.TotalMilliseconds);
        var jittered = min.TotalMilliseconds + (Random.Shared.NextDouble() * (cap - min.TotalMilliseconds));
        return TimeSpan.FromMilliseconds(Math.Max(min.TotalMilliseconds, jittered));
    }
}
