namespace AuditPipeline.Core.Events;

/// <summary>The display names of channels, the values of <see cref="AuditEvent.Source"/>.</summary>
public static class Sources
{
    public const string Chat = "Chat";
    public const string Admin = "Admin";
    public const string Api = "API";
    public const string Workflow = "Workflow";
    public const string System = "System";

    public static IReadOnlyList<string> All { get; } = [Chat, Admin, Api, Workflow, System];

    /// <summary>The raw channels <see cref="FromChannel"/> maps.</summary>
    internal static readonly string[] Channels = ["chat", "admin", "api", "workflow", "system"];

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
