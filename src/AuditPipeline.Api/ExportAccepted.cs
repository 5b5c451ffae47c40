namespace AuditPipeline.Api;

/// <summary>The answer to <c>POST .../exports</c>: <c>{"id","status":"queued"}</c>.</summary>
public sealed record ExportAccepted(string Id, string Status);
