using System.Text.Json.Serialization;

namespace AuditPipeline.Core.Notifications;

/// <summary>
/// Published when an export job completes:
/// <c>{"type":"audit_export.completed","orgId","exportId","requestedBy","rowCount","downloadPath"}</c>.
/// </summary>
public sealed record ExportCompletedNotification(
    string OrgId,
    string ExportId,
    string RequestedBy,
    long RowCount,
    string DownloadPath)
{
    public const string CompletedType = "audit_export.completed";

    [JsonPropertyOrder(-1)]
    public string Type { get; init; } = CompletedType;
}

/// <summary>
/// One way to tell the Outsprint app that an export is ready (a Kafka topic, a signed webhook).
/// The export service calls every registered channel and retries each with backoff.
/// </summary>
public interface INotificationChannel
{
    string Name { get; }

    /// <summary>Delivers the notification's JSON body; throws on failure so the caller retries.</summary>
    Task PublishAsync(string orgId, ReadOnlyMemory<byte> jsonBody, CancellationToken cancellationToken);
}
