using System.Buffers;
using System.Text;
using System.Text.Json;

namespace AuditPipeline.Core.Integrity;

/// <summary>
/// RFC 8785 canonical JSON straight from the UTF-8 text of one JSON value, without building a
/// <see cref="JsonDocument"/>: the bytes <see cref="Jcs.Write"/> writes for that value's element. A
/// <see cref="Utf8JsonReader"/> tokenizes (so whitespace, escapes and validation are System.Text.Json's
/// own), names and strings are decoded with its CopyString (the code JsonElement.GetString runs), and
/// numbers and escaped strings go through Jcs's own methods.
/// </summary>
/// <remarks>
/// Each object's members are indexed (offsets into the text, on the stack up to 8 members) and sorted;
/// a scalar value is written from the index, a container or escaped string is read again from its
/// offset, so a container nested k objects deep is read k + 1 times. Arrays stream. An object's names,
/// if all ASCII without escapes, are compared as bytes (their UTF-16 order); else all are decoded to UTF-16.
/// </remarks>
internal static class JcsRaw
{
    private const int StackMembers = 8;
    private const int StackChars = 256;

    /// <summary>
    /// Writes the canonical form of the one JSON value in <paramref name="utf8"/>; false when only the
    /// element path is exact (the output may then be partly written: callers write into a scratch buffer
    /// or reset it). False for exactly these:
    /// <list type="bullet">
    /// <item>an object with two members of the same decoded name (<c>"a"</c> and <c>"\u0061"</c> too):
    /// Jcs sorts its members with an unstable sort, so the order it writes duplicates in is no spec;</item>
    /// <item>a name or string the element path cannot decode to UTF-16 (an escaped lone surrogate; invalid
    /// UTF-8 in an escaped string, or in a name of an object of two or more members): there Jcs.Write
    /// throws InvalidOperationException, and the caller's fallback gets just that.</item>
    /// </list>
    /// Text that is not exactly one valid JSON value (JsonDocument.Parse's defaults: no comments or
    /// trailing commas, at most 64 levels deep) throws the JsonException JsonDocument.Parse would throw.
    /// </summary>
    public static bool TryWrite(IBufferWriter<byte> output, ReadOnlySpan<byte> utf8)
    {
        ArgumentNullException.ThrowIfNull(output);
        var reader = new Utf8JsonReader(utf8);
        reader.Read();
        return WriteValue(output, ref reader, utf8) && !reader.Read(); // the end, or a throw on anything after the value
    }

    /// <summary>The value the reader stands on; <paramref name="data"/> is the reader's whole text.</summary>
    private static bool WriteValue(IBufferWriter<byte> output, ref Utf8JsonReader reader, ReadOnlySpan<byte> data) => reader.TokenType switch
    {
        JsonTokenType.StartObject => WriteObject(output, ref reader, data),
        JsonTokenType.StartArray => WriteArray(output, ref reader, data),
        JsonTokenType.String when reader.ValueIsEscaped => WriteEscapedString(output, ref reader),
        _ => WriteScalar(output, reader.TokenType, Token(ref reader, data)),
    };

    /// <summary>The token's text: a string's with its quotes, a number's or literal's as it stands.</summary>
    private static ReadOnlySpan<byte> Token(ref Utf8JsonReader reader, ReadOnlySpan<byte> data) => reader.TokenType == JsonTokenType.String
        ? data.Slice((int)reader.TokenStartIndex, reader.ValueSpan.Length + 2)
        : reader.ValueSpan;

    /// <summary>
    /// A number by Jcs's number rule; else a string without escapes (Jcs's fast path: its raw text, quotes
    /// included, is canonical already) or true, false or null, whose text is their canonical form.
    /// </summary>
    private static bool WriteScalar(IBufferWriter<byte> output, JsonTokenType kind, ReadOnlySpan<byte> token)
    {
        if (kind == JsonTokenType.Number)
        {
            Jcs.WriteNumber(output, token);
        }
        else
        {
            output.Write(token);
        }

        return true;
    }

    private static bool WriteArray(IBufferWriter<byte> output, ref Utf8JsonReader reader, ReadOnlySpan<byte> data)
    {
        output.Write("["u8);
        var first = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (!first)
            {
                output.Write(","u8);
            }

            first = false;
            if (!WriteValue(output, ref reader, data))
            {
                return false;
            }
        }

        output.Write("]"u8);
        return true;
    }

    private static bool WriteEscapedString(IBufferWriter<byte> output, ref Utf8JsonReader reader)
    {
        // Unescaped, a string has at most as many UTF-16 code units as its JSON text has bytes.
        var length = reader.ValueSpan.Length;
        char[]? rented = null;
        var chars = length <= StackChars ? stackalloc char[StackChars] : (rented = ArrayPool<char>.Shared.Rent(length));
        try
        {
            if (!TryDecode(ref reader, chars, out var written))
            {
                return false;
            }

            Jcs.WriteString(output, chars[..written]);
            return true;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private static bool WriteObject(IBufferWriter<byte> output, ref Utf8JsonReader reader, ReadOnlySpan<byte> data)
    {
        Member[]? rented = null;
        char[]? rentedChars = null;
        Span<Member> members = stackalloc Member[StackMembers];
        try
        {
            var count = 0;
            var plain = true; // every name ASCII without escapes
            var nameBytes = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (count == members.Length)
                {
                    var larger = ArrayPool<Member>.Shared.Rent(count * 2);
                    members.CopyTo(larger);
                    if (rented is not null)
                    {
                        ArrayPool<Member>.Shared.Return(rented);
                    }

                    members = rented = larger;
                }

                ref var m = ref members[count++];
                var name = reader.ValueSpan;
                m.Name = (int)reader.TokenStartIndex;
                m.NameLength = name.Length;
                m.Escaped = reader.ValueIsEscaped;
                plain &= !m.Escaped && Ascii.IsValid(name);
                nameBytes += name.Length;
                reader.Read();
                m.Value = (int)reader.TokenStartIndex;
                m.Kind = reader.TokenType;
                m.Reread = m.Kind is JsonTokenType.StartObject or JsonTokenType.StartArray || reader.ValueIsEscaped;
                m.ValueLength = m.Reread ? 0 : Token(ref reader, data).Length;
                reader.Skip(); // past a container's end; nothing for a scalar
            }

            var list = members[..count];

            // Jcs decodes every name when it sorts two or more, and an escaped one when it writes it; a
            // single unescaped name it writes raw, undecoded, and so does this.
            scoped Span<char> chars = default;
            if (!plain && (count > 1 || list[0].Escaped))
            {
                chars = nameBytes <= StackChars ? stackalloc char[StackChars] : (rentedChars = ArrayPool<char>.Shared.Rent(nameBytes));
                var at = 0;
                for (var i = 0; i < count; i++)
                {
                    ref var m = ref list[i];
                    var nameReader = new Utf8JsonReader(data.Slice(m.Name, m.NameLength + 2));
                    nameReader.Read();
                    if (!TryDecode(ref nameReader, chars[at..], out m.CharLength))
                    {
                        return false;
                    }

                    m.CharStart = at;
                    at += m.CharLength;
                }
            }

            Sort(list, data, chars, plain);
            for (var i = 1; i < count; i++)
            {
                if (Compare(list[i - 1], list[i], data, chars, plain) == 0)
                {
                    return false; // duplicate names: Jcs's order for them is its sort's accident
                }
            }

            output.Write("{"u8);
            for (var i = 0; i < count; i++)
            {
                ref readonly var m = ref list[i];
                if (i > 0)
                {
                    output.Write(","u8);
                }

                if (m.Escaped)
                {
                    Jcs.WriteString(output, chars.Slice(m.CharStart, m.CharLength));
                }
                else
                {
                    output.Write(data.Slice(m.Name, m.NameLength + 2));
                }

                output.Write(":"u8);
                if (!m.Reread)
                {
                    WriteScalar(output, m.Kind, data.Slice(m.Value, m.ValueLength));
                    continue;
                }

                var value = data[m.Value..];
                var valueReader = new Utf8JsonReader(value);
                valueReader.Read();
                if (!WriteValue(output, ref valueReader, value))
                {
                    return false;
                }
            }

            output.Write("}"u8);
            return true;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<Member>.Shared.Return(rented);
            }

            if (rentedChars is not null)
            {
                ArrayPool<char>.Shared.Return(rentedChars);
            }
        }
    }

    /// <summary>The string or name the reader stands on, as JsonElement.GetString decodes it; false where that throws.</summary>
    private static bool TryDecode(ref Utf8JsonReader reader, scoped Span<char> destination, out int written)
    {
        try
        {
            written = reader.CopyString(destination);
            return true;
        }
        catch (InvalidOperationException)
        {
            written = 0; // a lone surrogate escape, or invalid UTF-8
            return false;
        }
    }

    /// <summary>
    /// string.CompareOrdinal's order, by sign: UTF-16 code units, or bytes where every name is ASCII. Heap
    /// sort: in place, no comparer object to allocate; not stable, which cannot matter, as equal names are
    /// refused after sorting.
    /// </summary>
    private static void Sort(Span<Member> list, ReadOnlySpan<byte> data, ReadOnlySpan<char> chars, bool plain)
    {
        for (var i = (list.Length / 2) - 1; i >= 0; i--)
        {
            SiftDown(list, i, list.Length, data, chars, plain);
        }

        for (var end = list.Length - 1; end > 0; end--)
        {
            (list[0], list[end]) = (list[end], list[0]);
            SiftDown(list, 0, end, data, chars, plain);
        }
    }

    private static void SiftDown(Span<Member> list, int root, int end, ReadOnlySpan<byte> data, ReadOnlySpan<char> chars, bool plain)
    {
        for (var child = (2 * root) + 1; child < end; root = child, child = (2 * root) + 1)
        {
            if (child + 1 < end && Compare(list[child], list[child + 1], data, chars, plain) < 0)
            {
                child++;
            }

            if (Compare(list[root], list[child], data, chars, plain) >= 0)
            {
                return;
            }

            (list[root], list[child]) = (list[child], list[root]);
        }
    }

    private static int Compare(in Member a, in Member b, ReadOnlySpan<byte> data, ReadOnlySpan<char> chars, bool plain) => plain
        ? data.Slice(a.Name + 1, a.NameLength).SequenceCompareTo(data.Slice(b.Name + 1, b.NameLength))
        : chars.Slice(a.CharStart, a.CharLength).SequenceCompareTo(chars.Slice(b.CharStart, b.CharLength));

    /// <summary>One member of an object: offsets into the object's text.</summary>
    private struct Member
    {
        public int Name; // the name's opening quote
        public int NameLength; // its raw bytes between the quotes
        public bool Escaped; // the raw name holds a backslash
        public int Value; // the value's first byte
        public int ValueLength; // a scalar's token (a string's with its quotes)
        public JsonTokenType Kind;
        public bool Reread; // a container or an escaped string, written by reading it again from Value
        public int CharStart; // the decoded name in the object's char buffer, where names are decoded
        public int CharLength;
    }
}
