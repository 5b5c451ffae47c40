namespace AuditPipeline.Api;

/// <summary><c>{"id","status":"queued|running|completed|failed","rowCount","sha256","error"}</c>.</summary>
public sealed record ExportStatus(string Id, string Status, long? RowCount, string? Sha256, string? Error);
