using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Normalization;

/// <summary>
/// Builds the kind-specific <c>details</c> object as the next item of an event's <see cref="EventJson"/>;
/// most events have none and share one empty object.
/// </summary>
internal struct EventDetails(EventJson json)
{
    private const int FewNames = 4;

    private bool _started;
    private Few _few;
    private int _count;
    private HashSet<string>? _set;

    public void Add(string name, string? value)
    {
        if (value is null || !Claim(name))
        {
            return;
        }

        Writer.WriteString(name, value);
    }

    /// <summary>A string member from its UTF-8 text (written as <see cref="Add"/> writes the same text).</summary>
    public void AddUtf8(string name, ReadOnlySpan<byte> utf8)
    {
        if (Claim(name))
        {
            Writer.WriteString(name, utf8);
        }
    }

    /// <summary>A member whose value is raw JSON (validated by the message's reader); nothing when <paramref name="raw"/> is empty.</summary>
    public void AddRaw(string name, ReadOnlySpan<byte> raw)
    {
        if (raw.IsEmpty || !Claim(name))
        {
            return;
        }

        Writer.WritePropertyName(name);
        Writer.WriteRawValue(raw, skipInputValidation: true);
    }

    /// <summary>Every member of the raw object <paramref name="obj"/>, with its key as given (first one wins on a clash); nothing when it is empty.</summary>
    public void AddMembers(ReadOnlySpan<byte> obj)
    {
        if (obj.IsEmpty)
        {
            return;
        }

        var reader = new Utf8JsonReader(obj, new JsonReaderOptions { MaxDepth = StorableJson.MaxDepth });
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            AddRaw(name, obj.Slice(start, RawValue.LengthOf(ref reader)));
        }
    }

    /// <summary>Ends the object: its item index in the event's document, or -1 when nothing was added.</summary>
    public readonly int End()
    {
        if (!_started)
        {
            return -1;
        }

        json.Writer.WriteEndObject();
        return json.Added();
    }

    /// <summary>The details once the event's JSON is built: the item <see cref="End"/> gave, else the shared empty object.</summary>
    public static JsonSlot Of(EventJson json, int index) => json.Item(index) is { } raw ? new JsonSlot(raw) : JsonSlot.EmptyObject;

    private Utf8JsonWriter Writer
    {
        get
        {
            if (!_started)
            {
                json.Begin();
                json.Writer.WriteStartObject();
                _started = true;
            }

            return json.Writer;
        }
    }

    /// <summary>Whether <paramref name="name"/> is new; the first few names are kept in a list (most events add one to three), more in a set.</summary>
    private bool Claim(string name)
    {
        if (_set is not null)
        {
            return _set.Add(name);
        }

        for (var i = 0; i < _count; i++)
        {
            if (string.Equals(_few[i], name, StringComparison.Ordinal))
            {
                return false;
            }
        }

        if (_count < FewNames)
        {
            _few[_count++] = name;
            return true;
        }

        _set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var few in _few)
        {
            _set.Add(few);
        }

        return _set.Add(name);
    }

    [System.Runtime.CompilerServices.InlineArray(FewNames)]
    private struct Few
    {
#pragma warning disable IDE0044 // An inline array's element field is written through its indexer.
        private string _first;
#pragma warning restore IDE0044
    }
}
