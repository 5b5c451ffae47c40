using System.Buffers;
using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Normalization;

/// <summary>Builds the kind-specific <c>details</c> object; most events have none and share one empty object.</summary>
internal sealed class EventDetails
{
    private ArrayBufferWriter<byte>? _buffer;
    private Utf8JsonWriter? _writer;
    private HashSet<string>? _names;

    public void Add(string name, string? value)
    {
        if (value is null || !Claim(name))
        {
            return;
        }

        Writer.WriteString(name, value);
    }

    public void Add(string name, JsonElement? value)
    {
        if (value is not { } v || !Claim(name))
        {
            return;
        }

        Writer.WritePropertyName(name);
        v.WriteTo(Writer);
    }

    /// <summary>Every member of <paramref name="obj"/>, with its key as given (first one wins on a clash).</summary>
    public void AddMembers(JsonElement? obj)
    {
        if (obj is not { ValueKind: JsonValueKind.Object } o)
        {
            return;
        }

        foreach (var p in o.EnumerateObject())
        {
            Add(p.Name, p.Value);
        }
    }

    public JsonElement Build()
    {
        if (_writer is null)
        {
            return AuditJson.EmptyObject;
        }

        _writer.WriteEndObject();
        _writer.Flush();
        var reader = new Utf8JsonReader(_buffer!.WrittenSpan);
        return JsonElement.ParseValue(ref reader);
    }

    private Utf8JsonWriter Writer
    {
        get
        {
            if (_writer is null)
            {
                _buffer = new ArrayBufferWriter<byte>(128);
                _writer = new Utf8JsonWriter(_buffer);
                _writer.WriteStartObject();
            }

            return _writer;
        }
    }

    private bool Claim(string name) => (_names ??= new HashSet<string>(StringComparer.Ordinal)).Add(name);
}
