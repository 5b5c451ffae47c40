using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuditPipeline.Core.Events;

/// <summary>
/// A JSON value of an event or change as it is held: the normalizer's raw bytes (<see cref="RawJson"/>),
/// or an element (an event read back from a store, or built in code), or nothing.
/// </summary>
[JsonConverter(typeof(JsonSlotConverter))]
internal readonly struct JsonSlot : IEquatable<JsonSlot>
{
    public JsonSlot(JsonElement? element) => Element = element;

    public JsonSlot(RawJson? raw) => Raw = raw;

    public RawJson? Raw { get; }

    /// <summary>The element given, when the slot holds no raw bytes.</summary>
    public JsonElement? Element { get; }

    public JsonElement? Value => Raw is { } raw ? raw.Element : Element;

    /// <summary>Neither bytes nor an element: the value is absent (null).</summary>
    public bool IsEmpty => Raw is null && Element is null;

    /// <summary>The slot, or null when it is empty (for documents that leave absent values out).</summary>
    public JsonSlot? OrNull => IsEmpty ? null : this;

    public bool Equals(JsonSlot other) => ReferenceEquals(Raw, other.Raw) && Nullable.Equals(Element, other.Element);

    public override bool Equals(object? obj) => obj is JsonSlot other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Raw, Element);

    public void WriteTo(Utf8JsonWriter writer)
    {
        if (Raw is { } raw)
        {
            raw.WriteTo(writer);
        }
        else if (Element is { } element)
        {
            element.WriteTo(writer);
        }
        else
        {
            writer.WriteNullValue();
        }
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
