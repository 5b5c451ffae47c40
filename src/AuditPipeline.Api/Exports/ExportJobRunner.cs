using System.Text.Json;
using System.Threading.Channels;
using AuditPipeline.Api.Csv;
using AuditPipeline.Api.Notifications;
using AuditPipeline.Api.Querying;
using AuditPipeline.Core.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Api.Exports;

/// <summary>
/// Runs export jobs in the background, at most <c>Exports:MaxConcurrent</c> at once. At start it picks up
/// what a previous process left: a queued or running job is run again from scratch (its partial file
/// discarded) or, once interrupted <c>Exports:MaxAttempts</c> times, marked failed with the reason; a
/// completed job whose notification was not delivered is notified again. Nothing is lost silently.
/// A periodic cleanup deletes jobs and files older than <c>Exports:RetentionDays</c>.
/// Admission is capped per key and in all (<see cref="ExportAdmission"/>); a job that would leave its
/// disk below <c>Exports:MinFreeBytes</c> fails with a reason that says so and leaves no partial file.
/// </summary>
internal sealed partial class ExportJobRunner(
    ExportJobStore jobs,
    IAuditStore store,
    ExportAuditor auditor,
    ExportNotifier notifier,
    ExportAdmission admission,
    IDiskSpace disk,
    ApiMetrics metrics,
    TimeProvider time,
    IOptions<ExportOptions> options,
    ILogger<ExportJobRunner> logger) : BackgroundService
{
    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly ExportOptions _options = options.Value;

    // An id can be queued twice (a request racing the start-up recovery); it runs once at a time.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _active = new(StringComparer.Ordinal);

    // Jobs created by this process; the start-up recovery leaves them alone.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _own = new(StringComparer.Ordinal);

    /// <summary>Queues a job, or returns the refusal reason (<see cref="ExportRefusals"/>) when a cap is reached.</summary>
    public async Task<(ExportJob? Job, string? Refusal)> EnqueueAsync(
        string orgId, string requestedBy, JsonElement filters, string? ip, string? userAgent, CancellationToken cancellationToken)
    {
        var id = ExportJobStore.NewId();
        if (admission.TryAdmit(id, requestedBy) is { } refusal)
        {
            LogRefused(requestedBy, refusal);
            return (null, refusal);
        }

        var job = new ExportJob
        {
            Id = id,
            OrgId = orgId,
            RequestedBy = requestedBy,
            Filters = filters.Clone(),
            Status = ExportStatuses.Queued,
            CreatedAt = time.GetUtcNow(),
            ClientIp = ip,
            UserAgent = userAgent,
        };
        _own.TryAdd(job.Id, 0);
        try
        {
            await jobs.SaveAsync(job, cancellationToken);
        }
        catch
        {
            admission.Release(job.Id);
            throw;
        }

        _queue.Writer.TryWrite(job.Id);
        return (job, null);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await RecoverAsync(stoppingToken);
        var workers = Enumerable.Range(0, _options.MaxConcurrent).Select(_ => Task.Run(() => WorkAsync(stoppingToken), stoppingToken)).ToList();
        workers.Add(Task.Run(() => CleanupLoopAsync(stoppingToken), stoppingToken));
        try
        {
            await Task.WhenAll(workers);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Takes over the jobs a previous process left unfinished.</summary>
    internal async Task RecoverAsync(CancellationToken cancellationToken)
    {
        foreach (var job in (await jobs.AllAsync(cancellationToken)).OrderBy(j => j.CreatedAt))
        {
            if (_own.ContainsKey(job.Id))
            {
                continue;
            }

            switch (job.Status)
            {
                case ExportStatuses.Queued or ExportStatuses.Running when job.Attempts >= _options.MaxAttempts:
                    await jobs.SaveAsync(job with
                    {
                        Status = ExportStatuses.Failed,
                        FinishedAt = time.GetUtcNow(),
                        Error = $"The export was interrupted by a restart {job.Attempts} times and was given up; request it again.",
                    }, cancellationToken);
                    LogGivenUp(job.Id, job.Attempts);
                    break;
                case ExportStatuses.Queued or ExportStatuses.Running:
                    File.Delete(jobs.PartialPath(job.Id));
                    if (job.Status == ExportStatuses.Running)
                    {
                        await jobs.SaveAsync(job with { Status = ExportStatuses.Queued }, cancellationToken);
                    }

                    LogResumed(job.Id, job.Status);
                    admission.Track(job.Id, job.RequestedBy);
                    _queue.Writer.TryWrite(job.Id);
                    break;
                case ExportStatuses.Completed when !job.Notified:
                    _ = NotifyAsync(job, cancellationToken);
                    break;
            }
        }
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        await foreach (var id in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            if (!_active.TryAdd(id, 0))
            {
                continue;
            }

            try
            {
                await RunAsync(id, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Left as running: the next process runs it again.
                return;
            }
            catch (Exception ex)
            {
                LogJobCrashed(ex, id);
            }
            finally
            {
                _active.TryRemove(id, out _);
                admission.Release(id);
            }
        }
    }

    private async Task RunAsync(string id, CancellationToken stoppingToken)
    {
        if (await jobs.GetAsync(id, stoppingToken) is not { Status: ExportStatuses.Queued } job)
        {
            return;
        }

        job = job with { Status = ExportStatuses.Running, StartedAt = time.GetUtcNow(), Attempts = job.Attempts + 1 };
        await jobs.SaveAsync(job, stoppingToken);
        LogStarted(job.Id, job.OrgId, job.Attempts);

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var input = FilterInput.FromJson(job.Filters, errors);
        var resolved = errors.Count == 0 ? FilterResolver.Resolve(job.OrgId, input, job.CreatedAt, errors) : null;
        if (resolved is null)
        {
            await jobs.SaveAsync(job with
            {
                Status = ExportStatuses.Failed,
                FinishedAt = time.GetUtcNow(),
                Error = "The export's filters are invalid: " + string.Join(" ", errors.Values.SelectMany(v => v)),
            }, stoppingToken);
            admission.Release(job.Id);
            return;
        }

        long rows;
        string sha256;
        var partial = jobs.PartialPath(job.Id);
        var guard = new DiskSpaceGuard(disk, Path.GetDirectoryName(partial)!, _options.MinFreeBytes);
        try
        {
            guard.Ensure();
            await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
            {
                await using var guarded = new GuardedStream(file, guard);
                await using var hashing = new HashingStream(guarded);
                rows = await EventCsvFormat.WriteAsync(hashing, store.StreamAsync(resolved.Query, stoppingToken), null, stoppingToken);
                await hashing.FlushAsync(stoppingToken);
                sha256 = hashing.HashHex();
                file.Flush(flushToDisk: true);
            }

            // The last writes may have gone past the floor between two checks: one more before it counts.
            guard.Ensure();

            File.Move(partial, jobs.CsvPath(job.Id), overwrite: true);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            File.Delete(partial);
            var error = "The export could not be written; the server log has the cause. Request it again.";
            var free = ex is IOException ? disk.AvailableBytes(Path.GetDirectoryName(partial)!) : null;
            if (ex is ExportDiskSpaceException || free < _options.MinFreeBytes)
            {
                // A full disk is the operator's to fix and the client's to know: say so, not "see the log".
                error = ex is ExportDiskSpaceException space ? space.Message : guard.Message(free ?? 0);
                metrics.ExportRefused(ExportRefusals.DiskSpace);
                LogNoSpace(job.Id, error);
            }
            else
            {
                LogJobFailed(ex, job.Id);
            }

            await jobs.SaveAsync(job with
            {
                Status = ExportStatuses.Failed,
                FinishedAt = time.GetUtcNow(),
                Error = error,
            }, CancellationToken.None);
            admission.Release(job.Id);
            return;
        }

        job = job with { Status = ExportStatuses.Completed, FinishedAt = time.GetUtcNow(), RowCount = rows, Sha256 = sha256 };
        await jobs.SaveAsync(job, CancellationToken.None);

        // Freed as the status says "completed", so a client that polls and asks again is not refused.
        admission.Release(job.Id);
        LogCompleted(job.Id, rows);
        await auditor.RecordAsync(job.OrgId, job.RequestedBy, input.ToJson(), rows, job.ClientIp, job.UserAgent);

        // Retrying a slow or dead channel must not hold an export slot.
        _ = NotifyAsync(job, stoppingToken);
    }

    private async Task NotifyAsync(ExportJob job, CancellationToken cancellationToken)
    {
        try
        {
            await notifier.PublishAsync(job, cancellationToken);

            // Given up or delivered, the outcome is settled: a restart does not notify again.
            await jobs.UpdateIfPresentAsync(job.Id, current => current with { Notified = true }, CancellationToken.None);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Not notified yet: the next process does it.
        }
        catch (Exception ex)
        {
            LogNotifyFailed(ex, job.Id);
        }
    }

    private async Task CleanupLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.CleanupInterval, time);
        do
        {
            try
            {
                await CleanupAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogCleanupFailed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Deletes finished jobs (record and file) older than the retention, and stale temporary files.</summary>
    internal async Task<int> CleanupAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow().AddDays(-_options.RetentionDays);
        var deleted = 0;
        foreach (var job in await jobs.AllAsync(cancellationToken))
        {
            if (job.Status is ExportStatuses.Completed or ExportStatuses.Failed && (job.FinishedAt ?? job.CreatedAt) < cutoff)
            {
                jobs.Delete(job.Id);
                deleted++;
                LogExpired(job.Id);
            }
        }

        foreach (var stale in jobs.StaleTemporaryFiles(cutoff))
        {
            File.Delete(stale);
        }

        return deleted;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Export {ExportId} of {OrgId} started (attempt {Attempt})")]
    private partial void LogStarted(string exportId, string orgId, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Export {ExportId} completed with {RowCount} rows")]
    private partial void LogCompleted(string exportId, long rowCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An export for key {KeyName} was refused: the {Reason} cap of exports queued or running is reached")]
    private partial void LogRefused(string keyName, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Export {ExportId} failed for lack of disk space: {Error}")]
    private partial void LogNoSpace(string exportId, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Export {ExportId} failed")]
    private partial void LogJobFailed(Exception ex, string exportId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Export {ExportId} could not be run")]
    private partial void LogJobCrashed(Exception ex, string exportId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Export {ExportId} was left {Status} by a previous process; running it again")]
    private partial void LogResumed(string exportId, string status);

    [LoggerMessage(Level = LogLevel.Error, Message = "Export {ExportId} was interrupted {Attempts} times; marked failed")]
    private partial void LogGivenUp(string exportId, int attempts);

    [LoggerMessage(Level = LogLevel.Error, Message = "Recording the notification of export {ExportId} failed; a restart notifies again")]
    private partial void LogNotifyFailed(Exception ex, string exportId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Export {ExportId} expired and was deleted")]
    private partial void LogExpired(string exportId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Export cleanup failed; it runs again at the next interval")]
    private partial void LogCleanupFailed(Exception ex);
}
