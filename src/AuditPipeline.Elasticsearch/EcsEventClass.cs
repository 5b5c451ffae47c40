using AuditPipeline.Core.Events;

namespace AuditPipeline.Elasticsearch;

/// <summary>
/// ECS's <c>event.category</c> and <c>event.type</c> of an audit event. ECS allows only its own values
/// (ecs/schemas/event.yml), and for each category only some types; the product's category (crm,
/// auth, ...) goes to <c>audit.category</c>. Record changes are <c>database</c> events (ECS allows
/// only access, change, info and error there, so a created or deleted record is a <c>change</c>;
/// <c>event.action</c> keeps the verb); settings are <c>configuration</c>; credentials, keys and
/// accounts are <c>iam</c>; logins and sessions are <c>authentication</c>/<c>session</c>.
/// </summary>
internal static class EcsEventClass
{
    public const string Kind = "event";

    public static (string[] Categories, string[] Types) Of(string category, string action) => category switch
    {
        Categories.Auth => action switch
        {
            "login" => (["authentication", "session"], ["start"]),
            "login_failed" => (["authentication"], ["start"]),
            "logout" => (["authentication", "session"], ["end"]),
            "password_changed" or "password_reset" or "mfa_enrolled" or "mfa_removed" or "mfa_reset" => (["iam"], ["user", "change"]),
            _ when action.StartsWith("sso_", StringComparison.Ordinal) => (["configuration"], [ConfigurationType(action)]),
            _ => (["authentication"], ["info"]),
        },
        Categories.Security => action switch
        {
            "session_terminated" => (["session"], ["end"]),
            "api_key_created" => (["iam"], ["creation"]),
            "api_key_revoked" => (["iam"], ["deletion"]),
            "api_key_regenerated" => (["iam"], ["change"]),
            "policy_updated" => (["configuration"], ["change"]),
            _ => (["iam"], ["info"]),
        },
        Categories.Settings => (["configuration"], [ConfigurationType(action)]),
        Categories.Data => (["database"], [action is "exported" or "export_requested" ? "access" : "change"]),

        // crm, ai and anything new: a change to stored records, or reading them.
        _ => (["database"], [action is "read" or "viewed" ? "access" : "change"]),
    };

    private static string ConfigurationType(string action) =>
        action.EndsWith("created", StringComparison.Ordinal) || action.EndsWith("configured", StringComparison.Ordinal) || action.EndsWith("connected", StringComparison.Ordinal) && !action.EndsWith("disconnected", StringComparison.Ordinal)
            ? "creation"
            : action.EndsWith("deleted", StringComparison.Ordinal) || action.EndsWith("removed", StringComparison.Ordinal) || action.EndsWith("disconnected", StringComparison.Ordinal)
                ? "deletion"
                : "change";
}
