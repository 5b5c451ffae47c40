using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AuditPipeline.Core.Events;

/// <summary>
/// One JSON value an event keeps as JSON (before, after, details, a change's values), held as the
/// bytes it came in. The store writes and the integrity hash canonicalizes those bytes directly;
/// a <see cref="JsonElement"/> is parsed from them only when something asks for one (an API reading
/// an event in memory, a test), once, whichever thread asks first.
/// </summary>
/// <remarks>The bytes are exactly one valid JSON value (the normalizer's reader validated them) and never change.</remarks>
internal sealed class RawJson
{
    // A value nests at most 63 levels inside a message; a stored event nests it a few levels deeper.
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 128 };

    /// <summary>
    /// Bytes that System.Text.Json's default encoder does not write as they are (it escapes them), a
    /// backslash (an escape it may write differently), and anything outside printable ASCII.
    /// </summary>
    private static readonly SearchValues<byte> NotAsWritten = SearchValues.Create(NotAsWrittenBytes());

    private static readonly SearchValues<byte> QuoteOrSpace = SearchValues.Create("\" \t\r\n"u8);

    private readonly ReadOnlyMemory<byte> _utf8;
    private JsonDocument? _doc;
    private int _asWritten;

    public RawJson(ReadOnlyMemory<byte> utf8) => _utf8 = utf8;

    public ReadOnlySpan<byte> Utf8 => _utf8.Span;

    public JsonElement Element => (Volatile.Read(ref _doc) ?? Parse()).RootElement;

    /// <summary>Whether an element has been parsed (tests hold the store's path to parsing none).</summary>
    internal bool IsParsed => Volatile.Read(ref _doc) is not null;

    /// <summary>
    /// Whether the bytes are exactly what a <see cref="Utf8JsonWriter"/> with default options writes
    /// for the element (no whitespace between tokens, no character the encoder escapes), so writing
    /// them as they are gives the same document as writing the element; computed once.
    /// </summary>
    public bool IsAsWritten
    {
        get
        {
            var known = Volatile.Read(ref _asWritten);
            if (known == 0)
            {
                known = AsWritten(_utf8.Span) ? 1 : 2;
                Volatile.Write(ref _asWritten, known);
            }

            return known == 1;
        }
    }

    /// <summary>
    /// Writes the value as <see cref="JsonElement.WriteTo"/> would, without parsing a document: its
    /// bytes as they are when they are what the writer would write (a compact writer with the default
    /// encoder, the only kind the check speaks for), else token by token with the writer's own methods
    /// (strings and names unescaped, then encoded by the writer; numbers as given). An indented writer
    /// gets the element (it would not indent a number written as given).
    /// </summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        var options = writer.Options;
        if (options.Indented)
        {
            Element.WriteTo(writer);
        }
        else if ((options.Encoder is null || options.Encoder == JavaScriptEncoder.Default) && IsAsWritten)
        {
            writer.WriteRawValue(_utf8.Span, skipInputValidation: true);
        }
        else
        {
            Transcode(_utf8.Span, writer);
        }
    }

    private static void Transcode(ReadOnlySpan<byte> utf8, Utf8JsonWriter writer)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = Options.MaxDepth });
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    writer.WriteStartObject();
                    break;
                case JsonTokenType.EndObject:
                    writer.WriteEndObject();
                    break;
                case JsonTokenType.StartArray:
                    writer.WriteStartArray();
                    break;
                case JsonTokenType.EndArray:
                    writer.WriteEndArray();
                    break;
                case JsonTokenType.PropertyName:
                    Text(ref reader, writer, name: true);
                    break;
                case JsonTokenType.String:
                    Text(ref reader, writer, name: false);
                    break;
                case JsonTokenType.Number:
                    writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                    break;
                case JsonTokenType.True:
                    writer.WriteBooleanValue(true);
                    break;
                case JsonTokenType.False:
                    writer.WriteBooleanValue(false);
                    break;
                default:
                    writer.WriteNullValue();
                    break;
            }
        }
    }

    /// <summary>A name or string: its bytes, unescaped first when they hold an escape (as JsonElement.WriteTo does).</summary>
    private static void Text(ref Utf8JsonReader reader, Utf8JsonWriter writer, bool name)
    {
        if (!reader.ValueIsEscaped)
        {
            Put(writer, reader.ValueSpan, name);
            return;
        }

        var length = reader.ValueSpan.Length;
        byte[]? rented = null;
        var buffer = length <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = reader.CopyString(buffer);
            Put(writer, buffer[..written], name);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static void Put(Utf8JsonWriter writer, ReadOnlySpan<byte> utf8, bool name)
    {
        if (name)
        {
            writer.WritePropertyName(utf8);
        }
        else
        {
            writer.WriteStringValue(utf8);
        }
    }

    internal static bool AsWritten(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IndexOfAny(NotAsWritten) >= 0)
        {
            return false;
        }

        // Without backslashes every quote opens or closes a string: whitespace must be inside one.
        var inString = false;
        var i = 0;
        while (i < utf8.Length)
        {
            var k = utf8[i..].IndexOfAny(QuoteOrSpace);
            if (k < 0)
            {
                return true;
            }

            i += k;
            if (utf8[i] == (byte)'"')
            {
                inString = !inString;
            }
            else if (!inString)
            {
                return false;
            }

            i++;
        }

        return true;
    }

    private JsonDocument Parse()
    {
        var doc = JsonDocument.Parse(_utf8, Options);
        return Interlocked.CompareExchange(ref _doc, doc, null) ?? doc;
    }

    private static byte[] NotAsWrittenBytes()
    {
        var bytes = new List<byte>();
        for (var b = 0; b < 256; b++)
        {
            // Tab, CR and LF are whitespace between tokens (checked above); inside a string they are escaped.
            if (b is < 0x20 and not ((byte)'\t' or (byte)'\r' or (byte)'\n') || b >= 0x7F || "\\&'+<>`".Contains((char)b, StringComparison.Ordinal))
            {
                bytes.Add((byte)b);
            }
        }

        return [.. bytes];
    }
}
