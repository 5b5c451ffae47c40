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
        var details = new EventDetails(json);
        if (failed)
        {
            // A failed call's details: its error as given (nothing when it is null or absent).
            details.AddRaw("error", m.RawOf(RawField.error));
        }

        var detailsItem = details.End();
        json.Build();
        var changes = changesItem < 0 ? [] : Changes(json.Memory(changesItem));

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
            Ai = new AuditAi(true, conversationId, messageId, tool),
            DetailsJson = EventDetails.Of(json, detailsItem),
            ReceivedAt = receivedAt,
        };
        return NormalizeResult.Ok(e, unknownType: !known);
    }

    /// <summary>
    /// The assistant states its changes directly: from → before, to → after, slices of the changes'
    /// own bytes. Items that are not objects, or whose <c>field</c> is not a string, are skipped; of a
    /// repeated member the last one counts, names compare by their decoded text.
    /// </summary>
    private static List<AuditChange> Changes(ReadOnlyMemory<byte> array)
    {
        var changes = new List<AuditChange>();
        var span = array.Span;
        var reader = new Utf8JsonReader(span, new JsonReaderOptions { MaxDepth = StorableJson.MaxDepth });
        reader.Read();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            string? field = null;
            Range? from = null;
            Range? to = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var member = reader.ValueTextEquals("field"u8) ? 0 : reader.ValueTextEquals("from"u8) ? 1 : reader.ValueTextEquals("to"u8) ? 2 : -1;
                reader.Read();
                var type = reader.TokenType;
                var start = (int)reader.TokenStartIndex;
                var text = member == 0 && type == JsonTokenType.String ? reader.GetString() : null;
                var end = start + RawValue.LengthOf(ref reader);
                var value = type == JsonTokenType.Null ? (Range?)null : new Range(start, end);
                switch (member)
                {
                    case 0:
                        field = text;
                        break;
                    case 1:
                        from = value;
                        break;
                    case 2:
                        to = value;
                        break;
                }
            }

            if (field is not null)
            {
                changes.Add(new AuditChange(field, Slot(array, from), Slot(array, to)));
            }
        }

        return changes;
    }

    private static JsonSlot Slot(ReadOnlyMemory<byte> array, Range? value) =>
        value is { } r ? new JsonSlot(new RawJson(array[r])) : default;
}
