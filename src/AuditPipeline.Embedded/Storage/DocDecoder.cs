using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// Reads a stored event document in one <see cref="Utf8JsonReader"/> pass, for the store's reads (a
/// streamed CSV decodes every row). It accepts exactly the shape <see cref="AuditJson"/> writes: every
/// property once, by its camelCase name. Anything else (a property it does not know, one missing or
/// repeated, a null where an object belongs) is handed to <see cref="AuditJson.Deserialize(ReadOnlySpan{byte})"/>,
/// so the result, and every error, is the serializer's. The JSON-valued parts (before, after, details,
/// a change's values) are parsed with <see cref="JsonElement.ParseValue"/> as the serializer does, each
/// into its own document that owns a copy of its bytes: the input may be a reused buffer.
/// </summary>
internal static class DocDecoder
{
    private const int AllEventProperties = (1 << 18) - 1; // the 18 properties of AuditEvent

    public static AuditEvent Decode(ReadOnlySpan<byte> utf8) => TryDecode(utf8) ?? AuditJson.Deserialize(utf8);

    /// <summary>The event, or null when the document is not in the exact shape this reader knows.</summary>
    internal static AuditEvent? TryDecode(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 128 });
            return ReadEvent(ref reader) is { } e && !reader.Read() ? e : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private static AuditEvent? ReadEvent(ref Utf8JsonReader r)
    {
        if (!r.Read() || r.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        string? id = null, orgId = null, category = null, action = null, eventType = null, outcome = null, source = null, ip = null, userAgent = null;
        DateTimeOffset time = default, receivedAt = default;
        AuditActor? actor = null;
        AuditEntity? entity = null;
        IReadOnlyList<AuditChange>? changes = null;
        JsonElement? before = null, after = null;
        AuditAi? ai = null;
        JsonElement details = default;
        var seen = 0;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var bit = EventProperty(ref r);
            if (bit < 0 || (seen & (1 << bit)) != 0 || !r.Read())
            {
                return null;
            }

            seen |= 1 << bit;
            switch (bit)
            {
                case 0: id = Text(ref r); break;
                case 1: time = r.GetDateTimeOffset().ToUniversalTime(); break;
                case 2: orgId = Text(ref r); break;
                case 3: category = Text(ref r); break;
                case 4: action = Text(ref r); break;
                case 5: eventType = Text(ref r); break;
                case 6: outcome = Text(ref r); break;
                case 7: actor = ReadActor(ref r); if (actor is null) { return null; } break;
                case 8: entity = ReadEntity(ref r); if (entity is null) { return null; } break;
                case 9: source = Text(ref r); break;
                case 10: ip = Text(ref r); break;
                case 11: userAgent = Text(ref r); break;
                case 12: changes = ReadChanges(ref r); if (changes is null) { return null; } break;
                case 13: before = Element(ref r); break;
                case 14: after = Element(ref r); break;
                case 15:
                    if (r.TokenType != JsonTokenType.Null)
                    {
                        ai = ReadAi(ref r);
                        if (ai is null)
                        {
                            return null;
                        }
                    }

                    break;
                case 16:
                    if (r.TokenType == JsonTokenType.Null)
                    {
                        return null; // a null details is the serializer's to read
                    }

                    details = JsonElement.ParseValue(ref r);
                    break;
                case 17: receivedAt = r.GetDateTimeOffset().ToUniversalTime(); break;
                default: return null;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject || seen != AllEventProperties)
        {
            return null;
        }

        return new AuditEvent
        {
            Id = id!,
            Time = time,
            OrgId = orgId!,
            Category = category!,
            Action = action!,
            EventType = eventType!,
            Outcome = outcome!,
            Actor = actor!,
            Entity = entity!,
            Source = source!,
            Ip = ip,
            UserAgent = userAgent,
            Changes = changes!,
            Before = before,
            After = after,
            Ai = ai,
            Details = details,
            ReceivedAt = receivedAt,
        };
    }

    private static int EventProperty(ref Utf8JsonReader r)
    {
        if (r.ValueIsEscaped)
        {
            return -1;
        }

        var name = r.ValueSpan;
        return name.Length switch
        {
            2 => name.SequenceEqual("id"u8) ? 0 : name.SequenceEqual("ip"u8) ? 10 : name.SequenceEqual("ai"u8) ? 15 : -1,
            4 => name.SequenceEqual("time"u8) ? 1 : -1,
            5 => name.SequenceEqual("orgId"u8) ? 2 : name.SequenceEqual("actor"u8) ? 7 : name.SequenceEqual("after"u8) ? 14 : -1,
            6 => name.SequenceEqual("action"u8) ? 4 : name.SequenceEqual("entity"u8) ? 8 : name.SequenceEqual("source"u8) ? 9 : name.SequenceEqual("before"u8) ? 13 : -1,
            7 => name.SequenceEqual("outcome"u8) ? 6 : name.SequenceEqual("changes"u8) ? 12 : name.SequenceEqual("details"u8) ? 16 : -1,
            8 => name.SequenceEqual("category"u8) ? 3 : -1,
            9 => name.SequenceEqual("eventType"u8) ? 5 : name.SequenceEqual("userAgent"u8) ? 11 : -1,
            10 => name.SequenceEqual("receivedAt"u8) ? 17 : -1,
            _ => -1,
        };
    }

    private static AuditActor? ReadActor(ref Utf8JsonReader r)
    {
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        string? type = null, id = null, name = null, email = null;
        var seen = 0;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var bit = r.ValueIsEscaped ? -1 :
                r.ValueTextEquals("type"u8) ? 0 : r.ValueTextEquals("id"u8) ? 1 : r.ValueTextEquals("name"u8) ? 2 : r.ValueTextEquals("email"u8) ? 3 : -1;
            if (bit < 0 || (seen & (1 << bit)) != 0 || !r.Read())
            {
                return null;
            }

            seen |= 1 << bit;
            var value = Text(ref r);
            switch (bit)
            {
                case 0: type = value; break;
                case 1: id = value; break;
                case 2: name = value; break;
                default: email = value; break;
            }
        }

        return seen == 0b1111 && r.TokenType == JsonTokenType.EndObject ? new AuditActor(type!, id, name, email) : null;
    }

    private static AuditEntity? ReadEntity(ref Utf8JsonReader r)
    {
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        string? type = null, id = null, name = null;
        var seen = 0;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var bit = r.ValueIsEscaped ? -1 :
                r.ValueTextEquals("type"u8) ? 0 : r.ValueTextEquals("id"u8) ? 1 : r.ValueTextEquals("name"u8) ? 2 : -1;
            if (bit < 0 || (seen & (1 << bit)) != 0 || !r.Read())
            {
                return null;
            }

            seen |= 1 << bit;
            var value = Text(ref r);
            switch (bit)
            {
                case 0: type = value; break;
                case 1: id = value; break;
                default: name = value; break;
            }
        }

        return seen == 0b111 && r.TokenType == JsonTokenType.EndObject ? new AuditEntity(type!, id, name) : null;
    }

    private static AuditAi? ReadAi(ref Utf8JsonReader r)
    {
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        var initiated = false;
        string? conversationId = null, messageId = null, tool = null;
        var seen = 0;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var bit = r.ValueIsEscaped ? -1 :
                r.ValueTextEquals("initiated"u8) ? 0 : r.ValueTextEquals("conversationId"u8) ? 1 : r.ValueTextEquals("messageId"u8) ? 2 : r.ValueTextEquals("tool"u8) ? 3 : -1;
            if (bit < 0 || (seen & (1 << bit)) != 0 || !r.Read())
            {
                return null;
            }

            seen |= 1 << bit;
            switch (bit)
            {
                case 0: initiated = r.GetBoolean(); break;
                case 1: conversationId = Text(ref r); break;
                case 2: messageId = Text(ref r); break;
                default: tool = Text(ref r); break;
            }
        }

        return seen == 0b1111 && r.TokenType == JsonTokenType.EndObject ? new AuditAi(initiated, conversationId, messageId, tool!) : null;
    }

    private static List<AuditChange>? ReadChanges(ref Utf8JsonReader r)
    {
        if (r.TokenType != JsonTokenType.StartArray)
        {
            return null;
        }

        var changes = new List<AuditChange>();
        while (r.Read() && r.TokenType == JsonTokenType.StartObject)
        {
            string? field = null;
            JsonElement? before = null, after = null;
            var seen = 0;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                var bit = r.ValueIsEscaped ? -1 :
                    r.ValueTextEquals("field"u8) ? 0 : r.ValueTextEquals("before"u8) ? 1 : r.ValueTextEquals("after"u8) ? 2 : -1;
                if (bit < 0 || (seen & (1 << bit)) != 0 || !r.Read())
                {
                    return null;
                }

                seen |= 1 << bit;
                switch (bit)
                {
                    case 0: field = Text(ref r); break;
                    case 1: before = Element(ref r); break;
                    default: after = Element(ref r); break;
                }
            }

            if (seen != 0b111 || r.TokenType != JsonTokenType.EndObject)
            {
                return null;
            }

            changes.Add(new AuditChange(field!, before, after));
        }

        return r.TokenType == JsonTokenType.EndArray ? changes : null;
    }

    /// <summary>A string or null, as the serializer reads a <c>string?</c> (any other token throws, and the caller falls back).</summary>
    private static string? Text(ref Utf8JsonReader r) =>
        r.TokenType == JsonTokenType.Null ? null : r.TokenType == JsonTokenType.String ? r.GetString() : throw new JsonException("not a string");

    /// <summary>A <c>JsonElement?</c> as the serializer reads it: null for a JSON null, else its own document.</summary>
    private static JsonElement? Element(ref Utf8JsonReader r) =>
        r.TokenType == JsonTokenType.Null ? null : JsonElement.ParseValue(ref r);
}
