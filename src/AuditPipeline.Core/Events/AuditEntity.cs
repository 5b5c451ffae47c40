namespace AuditPipeline.Core.Events;

public sealed record AuditEntity(string Type, string? Id, string? Name);
