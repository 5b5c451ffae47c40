using System.Text.Json;

namespace AuditPipeline.Core.Events;

/// <summary>
/// One audit record: who did what, when, to which record and from where. Immutable once built;
/// the same producer id always means the same event.
/// </summary>
public sealed record AuditEvent
{
    public required string Id { get; init; }

    /// <summary>When it happened, UTC, truncated to milliseconds.</summary>
    public required DateTimeOffset Time { get; init; }

    public required string OrgId { get; init; }

    public required string Category { get; init; }

    public required string Action { get; init; }

    public required string EventType { get; init; }

    /// <summary><c>success</c> or <c>failure</c>.</summary>
    public required string Outcome { get; init; }

    public required AuditActor Actor { get; init; }

    public required AuditEntity Entity { get; init; }

    /// <summary>Display name of the channel: Chat, Admin, API, Workflow or System.</summary>
    public required string Source { get; init; }

    public string? Ip { get; init; }

    public string? UserAgent { get; init; }

    public IReadOnlyList<AuditChange> Changes { get; init; } = [];

    public JsonElement? Before { get; init; }

    public JsonElement? After { get; init; }

    public AuditAi? Ai { get; init; }

    /// <summary>Kind-specific extras, always a JSON object.</summary>
    public JsonElement Details { get; init; } = AuditJson.EmptyObject;

    /// <summary>When the pipeline took it.</summary>
    public required DateTimeOffset ReceivedAt { get; init; }
}
