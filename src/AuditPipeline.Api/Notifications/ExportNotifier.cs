using System.Text.Json;
using AuditPipeline.Api.Exports;
using AuditPipeline.Core.Notifications;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace AuditPipeline.Api.Notifications;

/// <summary>Publishes <see cref="ExportCompletedNotification"/> to every registered channel, each retried with backoff.</summary>
internal sealed partial class ExportNotifier
{
    private readonly IReadOnlyList<INotificationChannel> _channels;
    private readonly ResiliencePipeline _retry;
    private readonly ILogger<ExportNotifier> _logger;

    public ExportNotifier(IEnumerable<INotificationChannel> channels, IOptions<ExportOptions> options, TimeProvider time, ILogger<ExportNotifier> logger)
    {
        _channels = [.. channels];
        _logger = logger;
        var o = options.Value;
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (o.NotificationRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
                MaxRetryAttempts = o.NotificationRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = o.NotificationRetryDelay,
                MaxDelay = TimeSpan.FromMinutes(5),
                OnRetry = args =>
                {
                    LogRetry(args.Outcome.Exception, args.AttemptNumber + 1, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            });
        }

        _retry = builder.Build();
    }

    public static string DownloadPath(string orgId, string exportId) =>
        $"/v1/orgs/{Uri.EscapeDataString(orgId)}/exports/{exportId}/download";

    /// <summary>Delivers to every channel; returns false when some channel gave up after all retries.</summary>
    public async Task<bool> PublishAsync(ExportJob job, CancellationToken cancellationToken)
    {
        var notification = new ExportCompletedNotification(job.OrgId, job.Id, job.RequestedBy, job.RowCount ?? 0, DownloadPath(job.OrgId, job.Id));
        var body = JsonSerializer.SerializeToUtf8Bytes(notification, ApiJsonContext.Default.ExportCompletedNotification);
        var allDelivered = true;
        foreach (var channel in _channels)
        {
            try
            {
                await _retry.ExecuteAsync(
                    static async (state, ct) => await state.channel.PublishAsync(state.OrgId, state.body, ct),
                    (channel, job.OrgId, body),
                    cancellationToken);
                LogDelivered(channel.Name, job.Id);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                allDelivered = false;
                LogGaveUp(ex, channel.Name, job.Id);
            }
        }

        return allDelivered;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivering an export notification failed; retry {Attempt} comes in {Delay}")]
    private partial void LogRetry(Exception? ex, int attempt, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "Published the completion of export {ExportId} via {Channel}")]
    private partial void LogDelivered(string channel, string exportId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Giving up publishing the completion of export {ExportId} via {Channel}")]
    private partial void LogGaveUp(Exception ex, string channel, string exportId);
}
