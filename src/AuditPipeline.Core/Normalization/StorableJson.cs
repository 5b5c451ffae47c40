using System.Buffers;
using System.Text;
using System.Text.Json;

namespace AuditPipeline.Core.Normalization;

/// <summary>
/// What JSON cannot be stored faithfully, found in one pass over the raw bytes before parsing: an
/// escaped unpaired UTF-16 surrogate (<c>\ud800</c>, <c>\udc00</c>, a high surrogate not followed by
/// a low one) in any string or member name, and objects and arrays nested deeper than
/// <see cref="MaxDepth"/>. Raw UTF-8 cannot encode a lone surrogate (the caller has checked the bytes
/// are valid UTF-8), so escapes are the only way one gets in. The scan is vectorised over the bytes
/// that matter (brackets and quotes outside strings, quotes and backslashes inside), so a message
/// without such escapes costs one IndexOfAny sweep; only a message found bad is walked again, with a
/// reader, to name where the problem is.
/// </summary>
internal static class StorableJson
{
    /// <summary>The deepest nesting accepted, counted as System.Text.Json's MaxDepth counts it: the root object is level 1.</summary>
    public const int MaxDepth = 64;

    private static readonly SearchValues<byte> Structural = SearchValues.Create("{}[]\""u8);
    private static readonly SearchValues<byte> InString = SearchValues.Create("\"\\"u8);

    /// <summary>The reason the message cannot be stored faithfully, or null when it can (or is not JSON: the parser says why).</summary>
    public static (RejectReason Reason, string Error)? Check(ReadOnlySpan<byte> utf8)
    {
        // Most messages have no \u escape and fewer than 65 brackets in all: two vectorised counts settle it.
        if (utf8.IndexOf("\\u"u8) < 0 && utf8.Count((byte)'{') + utf8.Count((byte)'[') <= MaxDepth)
        {
            return null;
        }

        var (problem, at) = Scan(utf8);
        return problem switch
        {
            Problem.TooDeep => (RejectReason.TooDeep, DeepReason(utf8, at)),
            Problem.Surrogate => (RejectReason.UnstorableText, SurrogateReason(utf8, at)),
            _ => null,
        };
    }

    private enum Problem
    {
        None,
        TooDeep,
        Surrogate,
    }

    /// <summary>The first problem and the offset of the bracket or escape where it is.</summary>
    private static (Problem, int At) Scan(ReadOnlySpan<byte> s)
    {
        var depth = 0;
        var i = 0;
        while (i < s.Length)
        {
            var k = s[i..].IndexOfAny(Structural);
            if (k < 0)
            {
                break;
            }

            i += k;
            switch (s[i])
            {
                case (byte)'"':
                    var end = SkipString(s, i + 1, out var bad);
                    if (bad >= 0)
                    {
                        return (Problem.Surrogate, bad);
                    }

                    i = end;
                    break;
                case (byte)'{' or (byte)'[':
                    if (++depth > MaxDepth)
                    {
                        return (Problem.TooDeep, i);
                    }

                    i++;
                    break;
                default:
                    depth--;
                    i++;
                    break;
            }
        }

        return (Problem.None, -1);
    }

    /// <summary>Skips a string's contents from <paramref name="i"/> (just after its opening quote); returns the index after its closing quote.</summary>
    private static int SkipString(ReadOnlySpan<byte> s, int i, out int badEscape)
    {
        badEscape = -1;
        while (i < s.Length)
        {
            var k = s[i..].IndexOfAny(InString);
            if (k < 0)
            {
                return s.Length;
            }

            i += k;
            if (s[i] == (byte)'"')
            {
                return i + 1;
            }

            // A backslash: \uXXXX is checked, any other escape is two bytes (so "\\u" is a backslash, then a u).
            if (i + 1 < s.Length && s[i + 1] == (byte)'u' && Hex4(s, i + 2, out var unit))
            {
                if (unit is >= 0xD800 and <= 0xDBFF)
                {
                    if (i + 11 < s.Length && s[i + 6] == (byte)'\\' && s[i + 7] == (byte)'u' && Hex4(s, i + 8, out var low) && low is >= 0xDC00 and <= 0xDFFF)
                    {
                        i += 12;
                        continue;
                    }

                    badEscape = i;
                    return i;
                }

                if (unit is >= 0xDC00 and <= 0xDFFF)
                {
                    badEscape = i;
                    return i;
                }

                i += 6;
                continue;
            }

            i += 2;
        }

        return s.Length;
    }

    private static bool Hex4(ReadOnlySpan<byte> s, int start, out int value)
    {
        value = 0;
        if (start + 4 > s.Length)
        {
            return false;
        }

        for (var k = start; k < start + 4; k++)
        {
            var d = HexDigit(s[k]);
            if (d < 0)
            {
                return false;
            }

            value = (value << 4) | d;
        }

        return true;
    }

    private static int HexDigit(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    private static string DeepReason(ReadOnlySpan<byte> utf8, int at)
    {
        var where = Locate(utf8, at, out _);
        var field = where is { Length: > 0 } ? $" (in {TopLevel(where)})" : string.Empty;
        return $"the message nests objects and arrays more than {MaxDepth} levels deep{field}, more than can be stored faithfully";
    }

    private static string SurrogateReason(ReadOnlySpan<byte> utf8, int at)
    {
        var escape = Encoding.UTF8.GetString(utf8.Slice(at, Math.Min(6, utf8.Length - at)));
        var where = Locate(utf8, at, out var name);
        var text = $"the escape {escape}, an unpaired UTF-16 surrogate, which cannot be stored faithfully";
        if (name is not null)
        {
            var parent = where is { Length: > 0 } ? $"in {where}" : "at the top level";
            return $"the member name \"{RawMessage.Shorten(name)}\" {parent} holds {text}";
        }

        return where is { Length: > 0 } ? $"{where} holds {text}" : $"a string holds {text}";
    }

    private static string TopLevel(string path)
    {
        var end = path.AsSpan().IndexOfAny('.', '[');
        return end > 0 ? path[..end] : path;
    }

    /// <summary>
    /// The path (<c>before.notes[2]</c>) of the token at byte <paramref name="at"/>; when that token is a
    /// member name, the path of its object and the name (as written, escapes kept). Null when the text is
    /// not JSON the reader can follow that far: the reason then goes without a place.
    /// </summary>
    private static string? Locate(ReadOnlySpan<byte> utf8, int at, out string? memberName)
    {
        memberName = null;
        var path = new List<string>();
        var index = new List<int>();

        // Nesting is followed as deep as the text goes: this runs only for a message already rejected.
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = int.MaxValue, CommentHandling = JsonCommentHandling.Disallow });
        string? pendingName = null;
        try
        {
            while (reader.Read())
            {
                var start = (int)reader.TokenStartIndex;
                var tokenEnd = start + (int)reader.ValueSpan.Length + 2;
                if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    pendingName = Encoding.UTF8.GetString(reader.ValueSpan);
                    if (at >= start && at < tokenEnd)
                    {
                        memberName = pendingName;
                        return Join(path);
                    }

                    continue;
                }

                var segment = Segment(path, index, pendingName);
                pendingName = null;
                if (at >= start && (at < tokenEnd || reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray))
                {
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    {
                        if (at == start)
                        {
                            return Join([.. path, segment]);
                        }
                    }
                    else
                    {
                        return Join([.. path, segment]);
                    }
                }

                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        path.Add(segment);
                        index.Add(-1);
                        break;
                    case JsonTokenType.StartArray:
                        path.Add(segment);
                        index.Add(0);
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        path.RemoveAt(path.Count - 1);
                        index.RemoveAt(index.Count - 1);
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // Invalid further on: the place is unknown, the reason still stands.
        }

        return null;
    }

    /// <summary>The next value's segment: its member name, or its index in the enclosing array.</summary>
    private static string Segment(List<string> path, List<int> index, string? name)
    {
        if (index.Count == 0)
        {
            return string.Empty;
        }

        var last = index.Count - 1;
        if (index[last] < 0)
        {
            return name ?? string.Empty;
        }

        return $"[{index[last]++}]";
    }

    private static string Join(IEnumerable<string> segments)
    {
        var sb = new StringBuilder();
        foreach (var s in segments)
        {
            if (s.Length == 0)
            {
                continue;
            }

            if (sb.Length > 0 && s[0] != '[')
            {
                sb.Append('.');
            }

            sb.Append(s);
        }

        return sb.ToString();
    }
}
