using System.Text.Json;
using System.Text.Json.Nodes;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Api.Exports;

/// <summary>
/// Exporting is itself audited: each streamed CSV and each export job appends an <c>exported</c> event
/// through the normal ingest path (the <see cref="IIngestQueue"/>), or straight to the store when this
/// process runs no ingest pipeline.
/// </summary>
internal sealed partial class ExportAuditor(IServiceProvider services, IAuditStore store, TimeProvider time, ILogger<ExportAuditor> logger)
{
    public static AuditEvent BuildEvent(string orgId, string keyName, JsonObject filters, long rowCount, DateTimeOffset now, string? ip, string? userAgent)
    {
        var details = new JsonObject { ["filters"] = filters.DeepClone(), ["rowCount"] = rowCount };
        var at = AuditJson.TruncateToMilliseconds(now);
        return new AuditEvent
        {
            Id = "ex_" + Guid.NewGuid().ToString("N"),
            Time = at,
            OrgId = orgId,
            Category = Categories.Data,
            Action = "exported",
            EventType = "audit_log.exported",
            Outcome = Outcomes.Success,
            Actor = new AuditActor(ActorTypes.ApiKey, keyName, keyName, null),
            Entity = new AuditEntity("audit_log", null, null),
            Source = Sources.Api,
            Ip = ip,
            UserAgent = userAgent,
            Changes = [],
            Before = null,
            After = null,
            Ai = null,
            Details = JsonDocument.Parse(details.ToJsonString()).RootElement.Clone(),
            ReceivedAt = at,
        };
    }

    /// <summary>Appends the audit record; never throws (a lost audit record is logged as an error).</summary>
    public async Task RecordAsync(string orgId, string keyName, JsonObject filters, long rowCount, string? ip, string? userAgent)
    {
        var e = BuildEvent(orgId, keyName, filters, rowCount, time.GetUtcNow(), ip, userAgent);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            if (services.GetService<IIngestQueue>() is { } queue)
            {
                await queue.WriteAsync(new IngestMessage(e, new Origin(logger)) { ReceivedAt = e.ReceivedAt }, timeout.Token);
            }
            else
            {
                await store.AppendAsync([e], timeout.Token);
            }
        }
        catch (Exception ex)
        {
            LogAuditLost(logger, ex, e.Id, orgId, keyName);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The audit record {EventId} of an export of {OrgId} by {KeyName} could not be written")]
    private static partial void LogAuditLost(ILogger logger, Exception ex, string eventId, string orgId, string keyName);

    [LoggerMessage(Level = LogLevel.Error, Message = "The audit record {EventId} of an export was dead-lettered: {Reason}")]
    private static partial void LogDeadLettered(ILogger logger, string eventId, string reason);

    /// <summary>The origin of an in-process event: nothing to checkpoint, and a dead letter is an error to log.</summary>
    private sealed class Origin(ILogger logger) : IMessageOrigin
    {
        public void Complete(IngestMessage message)
        {
        }

        public Task DeadLetterAsync(IngestMessage message, string reason, CancellationToken cancellationToken)
        {
            LogDeadLettered(logger, message.Prebuilt?.Id ?? "?", reason);
            return Task.CompletedTask;
        }
    }
}
