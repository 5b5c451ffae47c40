// The normalizer as it was before the single-pass reader (commit e7208cd), kept verbatim but for
// its namespace as the oracle of NormalizationDifferentialTests. Not product code: do not change it.
using System.Text.Json;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Normalization;

namespace AuditPipeline.Core.Tests.Normalization.Oracle;

/// <summary>ai: a tool call the assistant made on a user's behalf.</summary>
internal static class AiNormalizer
{
    private static readonly Dictionary<string, string> Operations = new(StringComparer.Ordinal)
    {
        ["create"] = "created",
        ["update"] = "updated",
        ["delete"] = "deleted",
        ["read"] = "read",
    };

    public static NormalizeResult Normalize(JsonElement root, DateTimeOffset receivedAt)
    {
        var m = new RawMessage(root);
        var id = m.RequiredId(RawField.action_id);
        var time = m.RequiredInstant(RawField.timestamp);
        var org = m.RequiredId(RawField.workspace_id);
        var operation = m.Required(RawField.operation);
        if (!m.Failed && !Names.IsPart(operation))
        {
            m.Fail(RejectReason.InvalidValue, $"operation '{RawMessage.Shorten(operation)}' is not a lower-case word (letters, digits and underscores)");
        }

        var tool = m.Required(RawField.tool);
        var target = m.RequiredObject(RawField.target);
        var targetType = m.OptionalString(target, "type", "target.type");
        var targetId = m.OptionalString(target, "id", "target.id");
        var targetLabel = m.OptionalString(target, "label", "target.label");
        var behalf = m.OptionalObject(RawField.on_behalf_of);
        var userId = m.OptionalString(behalf, "user_id", "on_behalf_of.user_id");
        var userName = m.OptionalString(behalf, "name", "on_behalf_of.name");
        var userEmail = m.OptionalString(behalf, "email", "on_behalf_of.email");
        var conversationId = m.OptionalString(RawField.conversation_id);
        var messageId = m.OptionalString(RawField.message_id);
        if (m.Failed)
        {
            return m.Rejection();
        }

        var known = Operations.TryGetValue(operation, out var action);
        var failed = m.LenientString(RawField.status) == "failed";
        var details = new EventDetails();
        if (failed)
        {
            details.Add("error", m.Raw(RawField.error));
        }

        var e = new AuditEvent
        {
            Id = id,
            Time = time,
            OrgId = org,
            Category = Categories.Ai,
            Action = known ? action! : operation,
            EventType = "ai." + tool,
            Outcome = failed ? Outcomes.Failure : Outcomes.Success,
            Actor = behalf is null ? AuditActor.System : new AuditActor(ActorTypes.User, userId, userName, userEmail),
            Entity = new AuditEntity(targetType ?? "unknown", targetId, targetLabel),
            Source = Sources.Chat,
            Ip = null,
            UserAgent = null,
            Changes = Changes(m.Raw(RawField.changes)),
            Before = null,
            After = null,
            Ai = new AuditAi(true, conversationId, messageId, tool),
            Details = details.Build(),
            ReceivedAt = receivedAt,
        };
        return NormalizeResult.Ok(e, unknownType: !known);
    }

    /// <summary>The assistant states its changes directly: from → before, to → after.</summary>
    private static List<AuditChange> Changes(JsonElement? raw)
    {
        var changes = new List<AuditChange>();
        if (raw is not { ValueKind: JsonValueKind.Array } array)
        {
            return changes;
        }

        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("field", out var field) || field.ValueKind != JsonValueKind.String)
            {
                continue;
            }

            changes.Add(new AuditChange(field.GetString()!, Value(item, "from"), Value(item, "to")));
        }

        return changes;
    }

    private static JsonElement? Value(JsonElement item, string name) =>
        item.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.Clone() : null;
}
