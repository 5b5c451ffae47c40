using AuditPipeline.Core.Events;

namespace AuditPipeline.Api;

/// <summary>A page of events: <c>{"items":[AuditEvent...],"nextCursor":"..."|null}</c>.</summary>
public sealed record EventPage(IReadOnlyList<AuditEvent> Items, string? NextCursor);
