using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Normalization;

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

    public static NormalizeResult Normalize(ref RawMessage m, DateTimeOffset receivedAt)
    {
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
        var targetType = m.OptionalString(target, RawMember.type, "target.type");
        var targetId = m.OptionalString(target, RawMember.id, "target.id");
        var targetLabel = m.OptionalString(target, RawMember.label, "target.label");
        var behalf = m.OptionalObject(RawField.on_behalf_of);
        var userId = m.OptionalString(behalf, RawMember.user_id, "on_behalf_of.user_id");
        var userName = m.OptionalString(behalf, RawMember.name, "on_behalf_of.name");
        var userEmail = m.OptionalString(behalf, RawMember.email, "on_behalf_of.email");
        var conversationId = m.OptionalString(RawField.conversation_id);
        var messageId = m.OptionalString(RawField.message_id);
        if (m.Failed)
        {
            return m.Rejection();
        }

        var known = Operations.TryGetValue(operation, out var action);
        var failed = m.LenientString(RawField.status) == "failed";
        var json = EventJson.Start();
        var changesItem = m.AddTo(json, RawField.changes, JsonValueKind.Array);
        var errorItem = failed ? m.AddTo(json, RawField.error) : -1;
        json.Build();
        var changes = Changes(json.Item(changesItem));
        var details = failed && json.Item(errorItem) is { } error ? ErrorDetails(error) : AuditJson.EmptyObject;

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
            Changes = changes,
            Before = null,
            After = null,
            Ai = new AuditAi(true, conversationId, messageId, tool),
            Details = details,
            ReceivedAt = receivedAt,
        };
        return NormalizeResult.Ok(e, unknownType: !known);
    }

    /// <summary>A failed call's details: its error as given, in a document of its own.</summary>
    private static JsonElement ErrorDetails(JsonElement error)
    {
        var json = EventJson.Start();
        var details = new EventDetails(json);
        details.Add("error", error);
        var item = details.End();
        json.Build();
        return EventDetails.Of(json, item);
    }

    /// <summary>The assistant states its changes directly: from → before, to → after (elements of the changes' own document).</summary>
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
        item.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;
}
