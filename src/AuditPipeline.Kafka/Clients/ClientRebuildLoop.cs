using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Kafka.Clients;

/// <summary>
/// A fatal error reported by a client's error callback (librdkafka thread), raised on the client's own
/// thread by <see cref="ThrowIfFatal"/>: a client that saw one can do nothing useful any more.
/// </summary>
internal sealed class FatalErrorSignal
{
    private volatile Error? _fatal;

    public Error? Fatal => _fatal;

    public void Observe(Error error)
    {
        if (error.IsFatal)
        {
            _fatal = error;
        }
    }

    public void ThrowIfFatal()
    {
        if (_fatal is { } fatal)
        {
            throw new KafkaException(fatal);
        }
    }
}

/// <summary>
/// The one rebuild-on-fatal loop of every long-lived consumer (the audit source and the plans follower):
/// an attempt builds a fresh client and runs it until the stop or until it throws; after a failure the loop
/// waits <c>Kafka:RecreateDelay</c> and builds again. Cancellation always ends it. It also remembers how the
/// attempts went, so readiness can tell a client stuck failing from one that recovered.
/// </summary>
internal sealed partial class ClientRebuildLoop(string client, TimeSpan delay, ILogger logger, TimeProvider? time = null)
{
    /// <summary>How long an attempt must run without failing before earlier failures stop counting.</summary>
    public static readonly TimeSpan HealthyAfter = TimeSpan.FromSeconds(30);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private volatile int _builds;
    private volatile int _consecutiveFailures;
    private volatile bool _waitingToRebuild;
    private volatile string? _lastError;
    private long _attemptStarted;

    /// <summary>How many clients were built (more than one after a fatal error).</summary>
    public int Builds => _builds;

    /// <summary>Failures since the last attempt that ran for <see cref="HealthyAfter"/>.</summary>
    public int ConsecutiveFailures => _consecutiveFailures;

    /// <summary>True between a failure and the next build.</summary>
    public bool WaitingToRebuild => _waitingToRebuild;

    public string? LastError => _lastError;

    /// <summary>
    /// Runs attempts until one returns normally (a clean stop) or <paramref name="stopping"/> is cancelled.
    /// <paramref name="onFailed"/> releases what a failed attempt left behind before the next one is built.
    /// </summary>
    public void Run(Action<FatalErrorSignal> attempt, Action<Exception>? onFailed, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            var signal = new FatalErrorSignal();
            _builds++;
            var started = _time.GetTimestamp();
            Interlocked.Exchange(ref _attemptStarted, started);
            try
            {
                attempt(signal);
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested)
            {
                // What the failed client had in flight cannot be finished by it; the next one starts from the last commit.
                _consecutiveFailures = _time.GetElapsedTime(started) >= HealthyAfter ? 1 : _consecutiveFailures + 1;
                _lastError = (ex as KafkaException)?.Error.Reason ?? ex.Message;
                _waitingToRebuild = true;
                LogRebuilding(ex, client, (ex as KafkaException)?.Error.Code ?? ErrorCode.Unknown, delay, _consecutiveFailures);
                try
                {
                    onFailed?.Invoke(ex);
                }
                catch (Exception cleanup)
                {
                    LogCleanupFailed(cleanup, client);
                }

                stopping.WaitHandle.WaitOne(delay);
                _waitingToRebuild = false;
            }
        }
    }

    /// <summary>
    /// True while no client runs because the last one failed, or while the running one follows two or more
    /// failures in a row and has not yet lasted <see cref="HealthyAfter"/>: a client that keeps failing is stuck,
    /// one fatal error followed by a working client is not.
    /// </summary>
    public bool Stuck =>
        _waitingToRebuild || (_consecutiveFailures >= 2 && _time.GetElapsedTime(Interlocked.Read(ref _attemptStarted)) < HealthyAfter);

    [LoggerMessage(Level = LogLevel.Error, Message = "The Kafka {Client} failed ({Code}); a new one is built in {Delay} (failure {Failures} in a row)")]
    private partial void LogRebuilding(Exception ex, string client, ErrorCode code, TimeSpan delay, int failures);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Releasing the failed Kafka {Client} failed; building a new one anyway")]
    private partial void LogCleanupFailed(Exception ex, string client);
}
