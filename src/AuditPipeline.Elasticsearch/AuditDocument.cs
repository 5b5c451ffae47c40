using System.Text.Json;
using System.Text.Json.Serialization;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;

namespace AuditPipeline.Elasticsearch;

/// <summary>
/// The Elasticsearch document of an <see cref="AuditEvent"/>: Elastic Common Schema names for the
/// common facts, the rest under <c>audit.*</c>. <c>before</c>, <c>after</c>, <c>details</c> and the
/// change values are stored whole and not indexed (no mapping explosions), written as the bytes a
/// normalized event holds them in; <c>audit.search</c> and
/// <c>audit.changed_fields</c> are derived for searching and ignored when reading back.
/// </summary>
internal sealed class AuditDocument
{
    [JsonPropertyName("@timestamp")]
    public DateTimeOffset Timestamp { get; set; }

    [JsonPropertyName("event")]
    public EventFields Event { get; set; } = new();

    [JsonPropertyName("organization")]
    public OrganizationFields Organization { get; set; } = new();

    [JsonPropertyName("user")]
    public UserFields? User { get; set; }

    [JsonPropertyName("source")]
    public SourceFields? Source { get; set; }

    [JsonPropertyName("user_agent")]
    public UserAgentFields? UserAgent { get; set; }

    [JsonPropertyName("audit")]
    public AuditFields Audit { get; set; } = new();

    public static AuditDocument From(AuditEvent e)
    {
        var (categories, types) = EcsEventClass.Of(e.Category, e.Action);
        return new()
        {
            Timestamp = e.Time,
            Event = new EventFields { Id = e.Id, Kind = EcsEventClass.Kind, Action = e.Action, Category = categories, Type = types, Outcome = e.Outcome, Ingested = e.ReceivedAt },
            Organization = new OrganizationFields { Id = e.OrgId },
            User = new UserFields { Id = e.Actor.Id, Name = e.Actor.Name, Email = e.Actor.Email },
            Source = e.Ip is null ? null : new SourceFields { Ip = e.Ip },
            UserAgent = e.UserAgent is null ? null : new UserAgentFields { Original = e.UserAgent },
            Audit = new AuditFields
            {
                Category = e.Category,
                EventType = e.EventType,
                Actor = new ActorFields { Type = e.Actor.Type },
                Entity = new EntityFields { Type = e.Entity.Type, Id = e.Entity.Id, Name = e.Entity.Name },
                Source = e.Source,
                Changes = e.Changes.Count == 0 ? null : [.. e.Changes.Select(c => new ChangeFields { Field = c.Field, Before = c.BeforeJson.OrNull, After = c.AfterJson.OrNull })],
                ChangedFields = e.Changes.Count == 0 ? null : [.. e.Changes.Select(c => c.Field)],
                Ai = e.Ai is null ? null : new AiFields { Initiated = e.Ai.Initiated, ConversationId = e.Ai.ConversationId, MessageId = e.Ai.MessageId, Tool = e.Ai.Tool },
                Before = e.BeforeJson.OrNull,
                After = e.AfterJson.OrNull,
                Details = e.DetailsJson.OrNull,
                Search = SearchTexts.Suffixes(e),
            },
        };
    }

    public AuditEvent ToEvent() => new()
    {
        Id = Event.Id,
        Time = Timestamp,
        OrgId = Organization.Id,
        // Documents written before ECS categories held the product's category in event.category.
        Category = Audit.Category.Length > 0 ? Audit.Category : Event.Category.FirstOrDefault() ?? "",
        Action = Event.Action,
        EventType = Audit.EventType,
        Outcome = Event.Outcome,
        Actor = new AuditActor(Audit.Actor.Type, User?.Id, User?.Name, User?.Email),
        Entity = new AuditEntity(Audit.Entity.Type, Audit.Entity.Id, Audit.Entity.Name),
        Source = Audit.Source,
        Ip = Source?.Ip,
        UserAgent = UserAgent?.Original,
        Changes = Audit.Changes is null ? [] : [.. Audit.Changes.Select(c => new AuditChange(c.Field, c.Before ?? default, c.After ?? default))],
        BeforeJson = Audit.Before ?? default,
        AfterJson = Audit.After ?? default,
        Ai = Audit.Ai is null ? null : new AuditAi(Audit.Ai.Initiated, Audit.Ai.ConversationId, Audit.Ai.MessageId, Audit.Ai.Tool),
        DetailsJson = Audit.Details ?? JsonSlot.EmptyObject,
        ReceivedAt = Event.Ingested == default && Audit.LegacyReceivedAt is { } legacy ? legacy : Event.Ingested,
    };

    internal sealed class EventFields
    {
        [JsonPropertyName("id")]
        public string Id { get; set; } = "";

        [JsonPropertyName("kind")]
        public string Kind { get; set; } = EcsEventClass.Kind;

        [JsonPropertyName("action")]
        public string Action { get; set; } = "";

        /// <summary>ECS categories (see <see cref="EcsEventClass"/>); the product's category is <c>audit.category</c>.</summary>
        [JsonPropertyName("category")]
        [JsonConverter(typeof(StringOrArrayConverter))]
        public string[] Category { get; set; } = [];

        [JsonPropertyName("type")]
        public string[] Type { get; set; } = [];

        [JsonPropertyName("outcome")]
        public string Outcome { get; set; } = "";

        /// <summary>When the pipeline took the event (<c>receivedAt</c>).</summary>
        [JsonPropertyName("ingested")]
        public DateTimeOffset Ingested { get; set; }
    }

    internal sealed class OrganizationFields
    {
        [JsonPropertyName("id")]
        public string Id { get; set; } = "";
    }

    internal sealed class UserFields
    {
        [JsonPropertyName("id")]
        public string? Id { get; set; }

        [JsonPropertyName("name")]
        public string? Name { get; set; }

        [JsonPropertyName("email")]
        public string? Email { get; set; }
    }

    internal sealed class SourceFields
    {
        [JsonPropertyName("ip")]
        public string? Ip { get; set; }
    }

    internal sealed class UserAgentFields
    {
        [JsonPropertyName("original")]
        public string? Original { get; set; }
    }

    internal sealed class AuditFields
    {
        /// <summary>The product's category: crm, auth, security, ai, settings, data.</summary>
        [JsonPropertyName("category")]
        public string Category { get; set; } = "";

        [JsonPropertyName("event_type")]
        public string EventType { get; set; } = "";

        [JsonPropertyName("actor")]
        public ActorFields Actor { get; set; } = new();

        [JsonPropertyName("entity")]
        public EntityFields Entity { get; set; } = new();

        [JsonPropertyName("source")]
        public string Source { get; set; } = "";

        [JsonPropertyName("changes")]
        public List<ChangeFields>? Changes { get; set; }

        [JsonPropertyName("changed_fields")]
        public List<string>? ChangedFields { get; set; }

        [JsonPropertyName("ai")]
        public AiFields? Ai { get; set; }

        [JsonPropertyName("before")]
        public JsonSlot? Before { get; set; }

        [JsonPropertyName("after")]
        public JsonSlot? After { get; set; }

        [JsonPropertyName("details")]
        public JsonSlot? Details { get; set; }

        [JsonPropertyName("search")]
        public List<string>? Search { get; set; }

        /// <summary>Where documents written before <c>event.ingested</c> kept <c>receivedAt</c>; read only, never written.</summary>
        [JsonPropertyName("received_at")]
        public DateTimeOffset? LegacyReceivedAt { get; set; }
    }

    internal sealed class ActorFields
    {
        [JsonPropertyName("type")]
        public string Type { get; set; } = "";
    }

    internal sealed class EntityFields
    {
        [JsonPropertyName("type")]
        public string Type { get; set; } = "";

        [JsonPropertyName("id")]
        public string? Id { get; set; }

        [JsonPropertyName("name")]
        public string? Name { get; set; }
    }

    internal sealed class ChangeFields
    {
        [JsonPropertyName("field")]
        public string Field { get; set; } = "";

        [JsonPropertyName("before")]
        public JsonSlot? Before { get; set; }

        [JsonPropertyName("after")]
        public JsonSlot? After { get; set; }
    }

    internal sealed class AiFields
    {
        [JsonPropertyName("initiated")]
        public bool Initiated { get; set; }

        [JsonPropertyName("conversation_id")]
        public string? ConversationId { get; set; }

        [JsonPropertyName("message_id")]
        public string? MessageId { get; set; }

        [JsonPropertyName("tool")]
        public string Tool { get; set; } = "";
    }
}

/// <summary>
/// The free-text field: every suffix of the searched texts that starts at a word start, lower-cased.
/// A <c>prefix</c> query on it is exactly <see cref="TextMatch"/>: the text from some word start
/// onwards begins with the term (so <c>ana@acme</c> finds <c>ana@acme.test</c>, <c>cme</c> does not).
/// </summary>
internal static class SearchTexts
{
    /// <summary>Suffixes are cut here; a longer term is still matched exactly by the post-filter.</summary>
    public const int MaxSuffixLength = 256;

    /// <summary>Word starts indexed per text, so a pathological name cannot blow up the document.</summary>
    public const int MaxSuffixesPerText = 64;

    public static List<string> Suffixes(AuditEvent e)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        var list = new List<string>();
        Add(e.Actor.Name, set, list);
        Add(e.Actor.Email, set, list);
        Add(e.Entity.Name, set, list);
        Add(e.Entity.Id, set, list);
        Add(e.Id, set, list);
        return list;
    }

    /// <summary>
    /// The longest prefix <c>index_prefixes</c> indexes (Elasticsearch allows at most 19): a
    /// <c>prefix</c> query up to this length is a term lookup in the prefix field, cheap and allowed
    /// where <c>search.allow_expensive_queries</c> is false.
    /// </summary>
    public const int MaxIndexedPrefix = 19;

    /// <summary>
    /// The query value of a term: lower-cased like the indexed suffixes and cut to
    /// <see cref="MaxIndexedPrefix"/>. Every text that matches the whole term matches its start, so
    /// the index returns a superset and the post-filter decides exactly.
    /// </summary>
    public static string QueryValue(string term)
    {
        var lower = term.ToLowerInvariant();
        return lower.Length <= MaxIndexedPrefix ? lower : lower[..MaxIndexedPrefix];
    }

    private static void Add(string? text, HashSet<string> set, List<string> list)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        var taken = 0;
        for (var i = 0; i < text.Length && taken < MaxSuffixesPerText; i++)
        {
            if (!char.IsLetterOrDigit(text[i]) || (i > 0 && char.IsLetterOrDigit(text[i - 1])))
            {
                continue;
            }

            taken++;
            var suffix = text.Substring(i, Math.Min(MaxSuffixLength, text.Length - i)).ToLowerInvariant();
            if (set.Add(suffix))
            {
                list.Add(suffix);
            }
        }
    }
}

/// <summary>An array of strings that older documents held as one string.</summary>
internal sealed class StringOrArrayConverter : JsonConverter<string[]>
{
    public override string[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return [reader.GetString()!];
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("Expected a string or an array of strings.");
        }

        var list = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            list.Add(reader.GetString() ?? throw new JsonException("Expected a string in the array."));
        }

        return [.. list];
    }

    public override void Write(Utf8JsonWriter writer, string[] value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var v in value)
        {
            writer.WriteStringValue(v);
        }

        writer.WriteEndArray();
    }
}

// Events hold raw JSON nested up to 64 deep, plus the event's own levels (see AuditJsonContext).
[JsonSourceGenerationOptions(
    MaxDepth = 128,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(UtcMillisecondsConverter)])]
[JsonSerializable(typeof(AuditDocument))]
internal sealed partial class AuditDocumentJsonContext : JsonSerializerContext;
