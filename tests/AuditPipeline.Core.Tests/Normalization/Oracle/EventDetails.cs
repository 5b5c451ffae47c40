// The normalizer as it was before the single-pass reader (commit e7208cd), kept verbatim but for
// its namespace as the oracle of NormalizationDifferentialTests. Not product code: do not change it.
using System.Buffers;
using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Tests.Normalization.Oracle;

/// <summary>Builds the kind-specific <c>details</c> object; most events have none and share one empty object.</summary>
internal sealed class EventDetails
{
    // One buffer and writer per thread, reset for each event: details are built on the hot path.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

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
        var reader = new Utf8JsonReader(t_buffer!.WrittenSpan);
        var element = JsonElement.ParseValue(ref reader);
        _writer = null;
        return element;
    }

    private Utf8JsonWriter Writer
    {
        get
        {
            if (_writer is null)
            {
                var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
                buffer.ResetWrittenCount();
                if (t_writer is null)
                {
                    t_writer = new Utf8JsonWriter(buffer);
                }
                else
                {
                    t_writer.Reset(buffer);
                }

                _writer = t_writer;
                _writer.WriteStartObject();
            }

            return _writer;
        }
    }

    private bool Claim(string name) => (_names ??= new HashSet<string>(StringComparer.Ordinal)).Add(name);
}
