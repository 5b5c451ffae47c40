namespace AuditPipeline.Core.Events;

public sealed record AuditAi(bool Initiated, string? ConversationId, string? MessageId, string Tool);
