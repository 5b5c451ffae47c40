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
