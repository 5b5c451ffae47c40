using System.Buffers;
using System.Text.Json;

namespace AuditPipeline.Core.Normalization;

/// <summary>
/// The one document that holds everything an event keeps as JSON (before, after, the assistant's
/// changes, details): the values are written as items of one array, which is parsed once into a
/// document of its own, so each event pays for one document instead of one per value, and nothing
/// it holds points into the caller's buffer. An item's raw text is exactly the message's bytes (or
/// the details as written), so the event's JSON is what a separate document per value gave.
/// </summary>
/// <remarks>
/// One instance per thread, reset by <see cref="Start"/>: the elements it hands out belong to the
/// document parsed last, which nothing ever disposes (its arrays are left to the garbage collector).
/// </remarks>
internal sealed class EventJson
{
    // A value nests at most 63 levels inside a message; details put it two levels deeper (array, object).
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 2 * StorableJson.MaxDepth };

    [ThreadStatic]
    private static EventJson? t_current;

    /// <summary>A buffer grown past this by a large before/after is dropped rather than kept by the thread.</summary>
    private const int KeptCapacity = 64 * 1024;

    private ArrayBufferWriter<byte> _buffer = new(256);
    private readonly Utf8JsonWriter _writer;
    private readonly JsonElement[] _items = new JsonElement[4];
    private int _count;

    private EventJson() => _writer = new Utf8JsonWriter(_buffer);

    /// <summary>The writer a details object is written with, as the next item.</summary>
    public Utf8JsonWriter Writer => _writer;

    /// <summary>This thread's instance, emptied.</summary>
    public static EventJson Start()
    {
        var json = t_current ??= new EventJson();
        if (json._buffer.Capacity > KeptCapacity)
        {
            json._buffer = new ArrayBufferWriter<byte>(256);
        }

        json._buffer.ResetWrittenCount();
        json._writer.Reset(json._buffer);
        json._count = 0;
        Array.Clear(json._items);
        json._writer.WriteStartArray();
        return json;
    }

    /// <summary>Adds a raw JSON value (already validated by the reader); returns its item index.</summary>
    public int AddRaw(ReadOnlySpan<byte> raw)
    {
        _writer.WriteRawValue(raw, skipInputValidation: true);
        return _count++;
    }

    /// <summary>Counts a value just written through <see cref="Writer"/>; returns its item index.</summary>
    public int Added() => _count++;

    /// <summary>Parses what was added; afterwards <see cref="Item"/> gives each value.</summary>
    public void Build()
    {
        if (_count == 0)
        {
            return;
        }

        _writer.WriteEndArray();
        _writer.Flush();
        var doc = JsonDocument.Parse(_buffer.WrittenSpan.ToArray(), Options);
        var i = 0;
        foreach (var item in doc.RootElement.EnumerateArray())
        {
            _items[i++] = item;
        }
    }

    /// <summary>The item at <paramref name="index"/>, or null for -1 (a value that was not added).</summary>
    public JsonElement? Item(int index) => index < 0 ? null : _items[index];
}
