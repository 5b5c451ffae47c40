using AuditPipeline.Core.Diagnostics;
using AuditPipeline.Core.Normalization;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Core.Ingest;

/// <summary>
/// The last stage of <see cref="IngestPipeline"/>: for a batch the store has answered in full, tells
/// the observers of every answered event (in the order the store answered them; an observer that
/// throws is retried with backoff and holds the batch), dead-letters the rejected messages, then
/// completes every message in the order it arrived and frees its bytes. It runs beside the write
/// stage, so what an observer makes durable (the sealer's record of each hash, one fsync) overlaps the
/// store's write of the next batch instead of following it; it takes batches one at a time, in order,
/// so an observer sees every batch before the next and a source never checkpoints past a message
/// whose batch is not finished.
/// </summary>
internal sealed partial class BatchFinisher(
    IAppendObserver[] observers,
    AuditMetrics metrics,
    IngestOptions options,
    ByteBudget bytes,
    TimeProvider time,
    ILogger logger)
{
    private long _completed;
    private int _budgetFull;

    /// <summary>Messages completed so far.</summary>
    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Logs, once per episode, that sources wait for room in the byte budget.</summary>
    public void BudgetFull()
    {
        if (Interlocked.Exchange(ref _budgetFull, 1) == 0)
        {
            LogBudgetFull(bytes.Used, options.MaxBufferedBytes);
        }
    }

    public async Task FinishAsync(IngestBatch batch, CancellationToken ct)
    {
        if (batch.AnsweredEvents.Count > 0)
        {
            await NotifyObserversAsync(batch, ct);
        }

        List<Task>? deadLetters = null;
        for (var i = 0; i < batch.Count; i++)
        {
            if (batch.Errors[i] is { } error)
            {
                (deadLetters ??= []).Add(DeadLetterWithRetryAsync(batch.Messages[i], error, batch.Reasons[i], ct));
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

            bytes.Release(message.Value.Length);
            Interlocked.Increment(ref _completed);
        }

        if (_budgetFull == 1 && bytes.Used < options.MaxBufferedBytes && Interlocked.Exchange(ref _budgetFull, 0) == 1)
        {
            LogBudgetRoom(bytes.Used);
        }
    }

    private async Task NotifyObserversAsync(IngestBatch batch, CancellationToken ct)
    {
        foreach (var observer in observers)
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await observer.OnAppendedAsync(batch.AnsweredEvents, batch.AnsweredResults, ct);
                    break;
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    var delay = Backoff.Delay(attempt, options.RetryMin, options.RetryMax);
                    LogObserverFailed(ex, observer.GetType().Name, attempt + 1, delay);
                    await Task.Delay(delay, time, ct);
                }
            }
        }
    }

    private async Task DeadLetterWithRetryAsync(IngestMessage message, string reason, RejectReason reasonClass, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await message.Origin.DeadLetterAsync(message, reason, ct);
                metrics.DeadLettered(message.KindLabel, reasonClass);
                LogDeadLettered(message.KindLabel, message.Position, reason);
                return;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                var delay = Backoff.Delay(attempt, options.RetryMin, options.RetryMax);
                LogDeadLetterFailed(ex, message.KindLabel, attempt + 1, delay);
                await Task.Delay(delay, time, ct);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The ingest pipeline holds {Bytes} bytes of messages not yet completed, the limit of Ingest:MaxBufferedBytes ({Limit}); sources wait")]
    private partial void LogBudgetFull(long bytes, long limit);

    [LoggerMessage(Level = LogLevel.Information, Message = "The ingest pipeline has room again ({Bytes} bytes buffered)")]
    private partial void LogBudgetRoom(long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The append observer {Observer} failed (attempt {Attempt}); retrying in {Delay}")]
    private partial void LogObserverFailed(Exception ex, string observer, int attempt, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead-lettering the {Kind} message failed (attempt {Attempt}); retrying in {Delay}")]
    private partial void LogDeadLetterFailed(Exception ex, string kind, int attempt, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dead-lettered the {Kind} message at {Position}: {Reason}")]
    private partial void LogDeadLettered(string kind, object? position, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Completing the {Kind} message failed; it will be redelivered")]
    private partial void LogCompleteFailed(Exception ex, string kind);
}
