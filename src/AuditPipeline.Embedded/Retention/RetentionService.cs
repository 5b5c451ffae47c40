using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Embedded.Retention;

/// <summary>
/// Applies retention at start and every <c>Retention:Interval</c>. Store-agnostic: it only needs an
/// <see cref="IAuditStore"/>, so any store (embedded, Elasticsearch) can run it. A failed run is logged
/// and retried at the next interval; it never stops the host.
/// </summary>
internal sealed partial class RetentionService(
    IAuditStore store,
    IOptions<RetentionOptions> options,
    ILogger<RetentionService> logger,
    TimeProvider? time = null) : BackgroundService
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ILogger<RetentionService> _logger = logger;

    /// <summary>Completed runs, for tests.</summary>
    internal int Runs { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval, _time);
        do
        {
            await RunOnceAsync(stoppingToken);
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    internal async Task RunOnceAsync(CancellationToken ct)
    {
        try
        {
            var report = await store.ApplyRetentionAsync(_time.GetUtcNow(), ct);
            foreach (var name in report.Dropped)
            {
                LogDropped(name);
            }

            foreach (var name in report.Archived)
            {
                LogArchived(name);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            LogFailed(ex);
        }
        finally
        {
            Runs++;
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention dropped the partition {Partition}")]
    private partial void LogDropped(string partition);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention archived the partition {Partition}")]
    private partial void LogArchived(string partition);

    [LoggerMessage(Level = LogLevel.Error, Message = "Applying retention failed; it runs again at the next interval")]
    private partial void LogFailed(Exception ex);
}
