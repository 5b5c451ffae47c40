using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace AuditPipeline.Core.Normalization;

/// <summary>
/// Where one JSON value of a raw message is: the offset of its first byte (the opening quote of a
/// string, the bracket of an object or array), its length in bytes, its kind and, for a string,
/// whether it holds escapes, and whether its field's values recur from message to message (an
/// organisation, an actor, a type: <see cref="RecentStrings"/>). The default value is an absent field.
/// </summary>
internal readonly struct RawValue(int start, int length, JsonValueKind kind, bool escaped, bool recurring = false)
{
    public readonly int Start = start;

    public readonly int Length = length;

    public readonly JsonValueKind Kind = kind;

    public readonly bool Escaped = escaped;

    public readonly bool Recurring = recurring;

    public bool IsPresent => Kind != JsonValueKind.Undefined;

    /// <summary>
    /// The length in bytes of the value the reader stands on, from its first byte (a string's quotes
    /// included); an object or array is skipped whole, leaving the reader on its end.
    /// </summary>
    public static int LengthOf(ref Utf8JsonReader reader)
    {
        var start = reader.TokenStartIndex;
        reader.Skip();
        return (int)(reader.BytesConsumed - start);
    }

    /// <summary>The raw bytes of the value as written in the message.</summary>
    public ReadOnlySpan<byte> Raw(ReadOnlySpan<byte> utf8) => utf8.Slice(Start, Length);

    /// <summary>A string's text between its quotes, escapes kept.</summary>
    public ReadOnlySpan<byte> Content(ReadOnlySpan<byte> utf8) => utf8.Slice(Start + 1, Length - 2);

    /// <summary>
    /// A string's decoded text when it is one of <paramref name="known"/> (that very instance, so nothing is
    /// allocated), else its decoded text, exactly as <see cref="GetString(ReadOnlySpan{byte})"/> gives it.
    /// </summary>
    public string GetString(ReadOnlySpan<byte> utf8, ReadOnlySpan<string> known)
    {
        if (!Escaped)
        {
            var content = Content(utf8);
            foreach (var k in known)
            {
                if (k.Length == content.Length && Ascii.Equals(content, k))
                {
                    return k;
                }
            }
        }

        return GetString(utf8);
    }

    /// <summary>A string's decoded text, exactly as <see cref="JsonElement.GetString"/> gives it.</summary>
    public string GetString(ReadOnlySpan<byte> utf8)
    {
        if (!Escaped)
        {
            // The whole message was checked to be UTF-8, so this is the reader's own transcoding.
            return Recurring ? RecentStrings.Shared.Get(Content(utf8)) : Encoding.UTF8.GetString(Content(utf8));
        }

        var reader = new Utf8JsonReader(Raw(utf8));
        reader.Read();
        return reader.GetString()!;
    }
}

/// <summary>The members read from an object-valued field (actor, origin, data, user, target, on_behalf_of); the enum names are the JSON names.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Style", "IDE1006:Naming Styles", Justification = "The names are the wire names.")]
internal enum RawMember
{
    type, id, name, email, channel, ip, user_agent, request_id, user_id, label,
}

/// <summary>Matches a member name as written (escaped or not) against the names of <see cref="RawField"/> and <see cref="RawMember"/>, comparing decoded text.</summary>
internal static class RawNames
{
    /// <summary>The longest name either enum holds is 15 bytes; an escape turns at most 6 bytes into at least one, so a longer escaped name never matches.</summary>
    public const int MaxEscapedLength = 96;

    public static readonly int MemberCount = Enum.GetValues<RawMember>().Length;

    private static readonly NameTable Fields = new(Enum.GetNames<RawField>());
    private static readonly NameTable Members = new(Enum.GetNames<RawMember>());

    /// <summary>The field a top-level member name (the reader is on it) names, or -1.</summary>
    public static int Field(ref Utf8JsonReader reader, scoped Span<byte> scratch) => Match(ref reader, scratch, Fields);

    /// <summary>The member a nested member name (the reader is on it) names, or -1.</summary>
    public static int Member(ref Utf8JsonReader reader, scoped Span<byte> scratch) => Match(ref reader, scratch, Members);

    private static int Match(ref Utf8JsonReader reader, scoped Span<byte> scratch, NameTable names)
    {
        scoped var raw = reader.ValueSpan;
        if (reader.ValueIsEscaped)
        {
            if (raw.Length > scratch.Length)
            {
                return -1;
            }

            raw = scratch[..reader.CopyString(scratch)];
        }

        return names.IndexOf(raw);
    }

    /// <summary>
    /// Names of at most 16 bytes, found by their length and the two (overlapping) 8-byte words that hold
    /// them: no loop over bytes, and each candidate costs two compares.
    /// </summary>
    private sealed class NameTable
    {
        private readonly (ulong Head, ulong Tail, int Index)[][] _byLength;

        public NameTable(string[] names)
        {
            var longest = names.Max(n => n.Length);
            if (longest > 16)
            {
                throw new ArgumentException("names are at most 16 bytes", nameof(names));
            }

            _byLength = Enumerable.Range(0, longest + 1)
                .Select(length => names
                    .Select((n, i) => (Bytes: Encoding.UTF8.GetBytes(n), Index: i))
                    .Where(n => n.Bytes.Length == length)
                    .Select(n => (Head(n.Bytes), Tail(n.Bytes), n.Index))
                    .ToArray())
                .ToArray();
        }

        public int IndexOf(ReadOnlySpan<byte> name)
        {
            if (name.Length >= _byLength.Length)
            {
                return -1;
            }

            var (head, tail) = (Head(name), Tail(name));
            foreach (var (h, t, index) in _byLength[name.Length])
            {
                if (h == head && t == tail)
                {
                    return index;
                }
            }

            return -1;
        }

        /// <summary>The first 8 bytes (fewer, zero-padded, for a shorter name).</summary>
        private static ulong Head(ReadOnlySpan<byte> s)
        {
            if (s.Length >= 8)
            {
                return BinaryPrimitives.ReadUInt64LittleEndian(s);
            }

            ulong x = 0;
            for (var i = s.Length - 1; i >= 0; i--)
            {
                x = (x << 8) | s[i];
            }

            return x;
        }

        /// <summary>The last 8 bytes of a name of 9 to 16 (with the head, all of it); 0 for a shorter one.</summary>
        private static ulong Tail(ReadOnlySpan<byte> s) => s.Length > 8 ? BinaryPrimitives.ReadUInt64LittleEndian(s[^8..]) : 0;
    }
}
