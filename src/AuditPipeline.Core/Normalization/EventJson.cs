using System.Buffers;
using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Normalization;

/// <summary>
/// The one buffer that holds everything an event keeps as JSON (before, after, the assistant's
/// changes, details): the values are written one after another (as the items of an array, so one
/// writer can write them all), copied out once, and handed out as <see cref="RawJson"/> slices of that
/// copy, so nothing points into the caller's buffer and no document is parsed for the event: the
/// store writes the bytes and the hash canonicalizes them as they are. An item's bytes are exactly
/// the message's (or the details as written).
/// </summary>
/// <remarks>
/// One instance per thread, reset by <see cref="Start"/>; the slices it hands out share one array
/// per event, which nothing else writes. It also holds the thread's scratch list for the change set,
/// so a message pays one thread-local access for both.
/// </remarks>
internal sealed class EventJson
{
    [ThreadStatic]
    private static EventJson? t_current;

    /// <summary>A buffer grown past this by a large before/after is dropped rather than kept by the thread.</summary>
    private const int KeptCapacity = 64 * 1024;

    private const int MaxItems = 4;

    /// <summary>A change list grown past this by a record of many fields is dropped rather than kept by the thread.</summary>
    private const int KeptChanges = 256;

    private ArrayBufferWriter<byte> _buffer = new(256);
    private readonly Utf8JsonWriter _writer;
    private readonly (int Start, int Length)[] _ranges = new (int, int)[MaxItems];
    private readonly RawJson?[] _items = new RawJson?[MaxItems];
    private ReadOnlyMemory<byte> _built;
    private int _count;
    private int _pendingStart = -1;
    private List<RawChange> _changes = [];

    private EventJson() => _writer = new Utf8JsonWriter(_buffer);

    /// <summary>The writer a details object is written with, as the next item (after <see cref="Begin"/>).</summary>
    public Utf8JsonWriter Writer => _writer;

    /// <summary>The change set's result for this event, emptied by <see cref="Start"/> (the event gets its own copy of the changes).</summary>
    public List<RawChange> Changes => _changes;

    private int Position => (int)(_writer.BytesCommitted + _writer.BytesPending);

    /// <summary>This thread's instance, emptied.</summary>
    public static EventJson Start()
    {
        var json = t_current ??= new EventJson();
        if (json._buffer.Capacity > KeptCapacity)
        {
            json._buffer = new ArrayBufferWriter<byte>(256);
        }

        if (json._changes.Capacity > KeptChanges)
        {
            json._changes = [];
        }

        json._changes.Clear();
        json._buffer.ResetWrittenCount();
        json._writer.Reset(json._buffer);
        json._count = 0;
        json._pendingStart = -1;
        json._built = default;
        Array.Clear(json._items);
        json._writer.WriteStartArray();
        return json;
    }

    /// <summary>Adds a raw JSON value (already validated by the reader); returns its item index.</summary>
    public int AddRaw(ReadOnlySpan<byte> raw)
    {
        _writer.WriteRawValue(raw, skipInputValidation: true);
        _ranges[_count] = (Position - raw.Length, raw.Length);
        return _count++;
    }

    /// <summary>Marks the start of a value about to be written through <see cref="Writer"/>.</summary>
    public void Begin() => _pendingStart = Position + (_count > 0 ? 1 : 0);

    /// <summary>Counts the value written through <see cref="Writer"/> since <see cref="Begin"/>; returns its item index.</summary>
    public int Added()
    {
        _ranges[_count] = (_pendingStart, Position - _pendingStart);
        _pendingStart = -1;
        return _count++;
    }

    /// <summary>Copies what was added out of the thread's buffer; afterwards <see cref="Item"/> gives each value.</summary>
    public void Build()
    {
        if (_count == 0)
        {
            return;
        }

        _writer.WriteEndArray();
        _writer.Flush();
        _built = _buffer.WrittenSpan.ToArray();
        for (var i = 0; i < _count; i++)
        {
            _items[i] = new RawJson(Memory(i));
        }
    }

    /// <summary>The item at <paramref name="index"/>, or null for -1 (a value that was not added).</summary>
    public RawJson? Item(int index) => index < 0 ? null : _items[index];

    /// <summary>The built bytes of item <paramref name="index"/>, for values inside it (a change's before).</summary>
    public ReadOnlyMemory<byte> Memory(int index) => _built.Slice(_ranges[index].Start, _ranges[index].Length);
}
