using System.Text.Json;
using System.Text.Json.Serialization;

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

    private JsonSlot _before;
    private JsonSlot _after;
    private JsonSlot _details = JsonSlot.EmptyObject;

    [JsonIgnore]
    public JsonElement? Before { get => _before.Value; init => _before = new JsonSlot(value); }

    [JsonInclude]
    [JsonPropertyName("before")]
    internal JsonSlot BeforeJson { get => _before; init => _before = value; }

    [JsonIgnore]
    public JsonElement? After { get => _after.Value; init => _after = new JsonSlot(value); }

    [JsonInclude]
    [JsonPropertyName("after")]
    internal JsonSlot AfterJson { get => _after; init => _after = value; }

    public AuditAi? Ai { get; init; }

    /// <summary>Kind-specific extras, always a JSON object.</summary>
    [JsonIgnore]
    public JsonElement Details { get => _details.Value ?? AuditJson.Null; init => _details = new JsonSlot(value); }

    [JsonInclude]
    [JsonPropertyName("details")]
    internal JsonSlot DetailsJson { get => _details; init => _details = value; }

    /// <summary>When the pipeline took it.</summary>
    public required DateTimeOffset ReceivedAt { get; init; }
}
