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

public sealed record AuditActor(string Type, string? Id, string? Name, string? Email)
{
    public static AuditActor System { get; } = new(ActorTypes.System, null, "System", null);
}

public sealed record AuditEntity(string Type, string? Id, string? Name);

/// <summary>One top-level field whose value differs between before and after (null when absent).</summary>
public sealed record AuditChange(string Field, JsonElement? Before, JsonElement? After);

public sealed record AuditAi(bool Initiated, string? ConversationId, string? MessageId, string Tool);

public static class ActorTypes
{
    public const string User = "user";
    public const string System = "system";
    public const string ApiKey = "api_key";
    public const string Workflow = "workflow";
}

public static class Outcomes
{
    public const string Success = "success";
    public const string Failure = "failure";

    public static IReadOnlyList<string> All { get; } = [Success, Failure];
}

public static class Categories
{
    public const string Crm = "crm";
    public const string Auth = "auth";
    public const string Security = "security";
    public const string Ai = "ai";
    public const string Settings = "settings";
    public const string Data = "data";

    /// <summary>Every category an event can carry; the query facade's closed set.</summary>
    public static IReadOnlyList<string> All { get; } = [Crm, Auth, Security, Ai, Settings, Data];
}

/// <summary>The display names of channels, the values of <see cref="AuditEvent.Source"/>.</summary>
public static class Sources
{
    public const string Chat = "Chat";
    public const string Admin = "Admin";
    public const string Api = "API";
    public const string Workflow = "Workflow";
    public const string System = "System";

    public static IReadOnlyList<string> All { get; } = [Chat, Admin, Api, Workflow, System];

    /// <summary>Maps a raw channel (chat, admin, api, workflow, system) to its display name.</summary>
    public static string? FromChannel(string? channel) => channel switch
    {
        "chat" => Chat,
        "admin" => Admin,
        "api" => Api,
        "workflow" => Workflow,
        "system" => System,
        _ => null,
    };

    /// <summary>The source implied by who acted, for messages that name no channel.</summary>
    public static string FromActorType(string actorType) => actorType switch
    {
        ActorTypes.ApiKey => Api,
        ActorTypes.Workflow => Workflow,
        ActorTypes.System => System,
        _ => Admin,
    };

    /// <summary>Canonical display name for a user-supplied value in any case, or null if it is not one.</summary>
    public static string? Canonical(string value)
    {
        foreach (var s in All)
        {
            if (string.Equals(s, value, StringComparison.OrdinalIgnoreCase))
            {
                return s;
            }
        }

        return null;
    }
}
