using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuditPipeline.Core.Events;

/// <summary>
/// A JSON value of an event or change as it is held: the normalizer's raw bytes (<see cref="RawJson"/>),
/// or an element (an event read back from a store, or built in code), or nothing.
/// </summary>
/// <remarks>
/// One reference, not a <see cref="RawJson"/> beside a <see cref="JsonElement"/>: an event holds three slots
/// and each change two, and the normalizer fills them for every message, so the slot is as small as a
/// pointer. An element, the rarer case, is boxed once when the slot is made.
/// </remarks>
[JsonConverter(typeof(JsonSlotConverter))]
internal readonly struct JsonSlot : IEquatable<JsonSlot>
{
    /// <summary>The empty object <c>{}</c>, one box shared (the details of most events).</summary>
    public static readonly JsonSlot EmptyObject = new(AuditJson.EmptyObject);

    /// <summary>A <see cref="RawJson"/>, an <see cref="ElementBox"/>, or null.</summary>
    private readonly object? _value;

    public JsonSlot(JsonElement? element) => _value = element is { } e ? new ElementBox(e) : null;

    public JsonSlot(RawJson? raw) => _value = raw;

    public RawJson? Raw => _value as RawJson;

    /// <summary>The element given, when the slot holds no raw bytes.</summary>
    public JsonElement? Element => (_value as ElementBox)?.Element;

    public JsonElement? Value => _value switch
    {
        RawJson raw => raw.Element,
        ElementBox box => box.Element,
        _ => null,
    };

    /// <summary>Neither bytes nor an element: the value is absent (null).</summary>
    public bool IsEmpty => _value is null;

    /// <summary>The slot, or null when it is empty (for documents that leave absent values out).</summary>
    public JsonSlot? OrNull => IsEmpty ? null : this;

    public bool Equals(JsonSlot other) => ReferenceEquals(Raw, other.Raw) && Nullable.Equals(Element, other.Element);

    public override bool Equals(object? obj) => obj is JsonSlot other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Raw, Element);

    public void WriteTo(Utf8JsonWriter writer)
    {
        switch (_value)
        {
            case RawJson raw:
                raw.WriteTo(writer);
                break;
            case ElementBox box:
                box.Element.WriteTo(writer);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    private sealed class ElementBox(JsonElement element)
    {
        public JsonElement Element { get; } = element;
    }
}

/// <summary>Writes a slot as its JSON value (raw bytes as they are when that is what the element would give); reads any value into an element.</summary>
internal sealed class JsonSlotConverter : JsonConverter<JsonSlot>
{
    public override bool HandleNull => true;

    public override JsonSlot Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? default : new JsonSlot(JsonElement.ParseValue(ref reader));

    public override void Write(Utf8JsonWriter writer, JsonSlot value, JsonSerializerOptions options) => value.WriteTo(writer);
}
