using AuditPipeline.Core.Diagnostics;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Core.Ingest;

/// <summary>
/// Appends events to the store, telling the store's unavailability from an event it can never write.
/// <see cref="StoreUnavailableException"/> and cancellation (an HTTP timeout, say) mean the store is
/// down: the same events are retried with backoff until it answers. Any other exception means some
/// event of the batch cannot be written: the batch is split in halves, each appended on its own, down
/// to single events; an event that still throws alone is a <em>suspect</em>, with the store's reason.
/// Whether a suspect is dead-lettered is the caller's decision (see <see cref="IngestPipeline"/>).
/// </summary>
internal sealed partial class IsolatingAppender(
    IAuditStore store,
    AuditMetrics metrics,
    IngestOptions options,
    TimeProvider time,
    ILogger logger)
{
    private volatile bool _failing;
    private long _successes;

    /// <summary>True while appends are failing and being retried (or held back for want of proof that the store works).</summary>
    public bool Failing => _failing;

    public void MarkFailing() => _failing = true;

    /// <summary>How many appends the store has answered so far: a suspect's failure is placed against it in time.</summary>
    public long Successes => Interlocked.Read(ref _successes);

    /// <summary>One answer per event, in order: the store's result, or the reason it threw for that event alone.</summary>
    public async Task<Answer[]> AppendAsync(List<AuditEvent> events, CancellationToken ct)
    {
        var answers = new Answer[events.Count];
        await AppendRangeAsync(events, 0, events.Count, answers, ct);
        return answers;
    }

    private async Task AppendRangeAsync(List<AuditEvent> all, int start, int count, Answer[] answers, CancellationToken ct)
    {
        var events = start == 0 && count == all.Count ? all : all.GetRange(start, count);
        IReadOnlyList<AppendResult> results;
        for (var attempt = 0; ; attempt++)
        {
            var started = time.GetTimestamp();
            try
            {
                results = await store.AppendAsync(events, ct);
                metrics.StoreWrite(time.GetElapsedTime(started));
                if (results.Count != events.Count)
                {
                    throw new InvalidOperationException($"The store answered {results.Count} results for {events.Count} events.");
                }

                break;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && ex is StoreUnavailableException or OperationCanceledException)
            {
                _failing = true;
                var delay = Backoff.Delay(attempt, options.RetryMin, options.RetryMax);
                LogStoreFailed(ex, events.Count, attempt + 1, delay);
                await Task.Delay(delay, time, ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                if (count == 1)
                {
                    answers[start] = Answer.Suspect(Describe(ex), Successes);
                    return;
                }

                LogSplitting(ex, count);
                var half = count / 2;
                await AppendRangeAsync(all, start, half, answers, ct);
                await AppendRangeAsync(all, start + half, count - half, answers, ct);
                return;
            }
        }

        Interlocked.Increment(ref _successes);
        if (_failing)
        {
            _failing = false;
            LogStoreRecovered();
        }

        for (var i = 0; i < count; i++)
        {
            answers[start + i] = Answer.Of(results[i]);
        }
    }

    private static string Describe(Exception ex)
    {
        var message = ex.Message.Length <= 500 ? ex.Message : string.Concat(ex.Message.AsSpan(0, 497), "...");
        return $"{message.TrimEnd('.')} ({ex.GetType().Name})";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Appending {Count} events failed (attempt {Attempt}); the store is unavailable, retrying in {Delay}")]
    private partial void LogStoreFailed(Exception ex, int count, int attempt, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "The store accepts writes again")]
    private partial void LogStoreRecovered();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Appending {Count} events failed with an error that is not the store's unavailability; splitting them to find the event the store cannot write")]
    private partial void LogSplitting(Exception ex, int count);

}

/// <summary>The store's answer for one event, or the reason its append threw when it was tried alone and the success count then.</summary>
internal readonly record struct Answer(AppendResult? Result, string? SuspectReason, long SuccessesAtFailure)
{
    public bool Answered => Result is not null;

    public static Answer Of(AppendResult r) => new(r, null, 0);

    public static Answer Suspect(string reason, long successes) => new(null, reason, successes);
}
