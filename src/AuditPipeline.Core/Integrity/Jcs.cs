using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace AuditPipeline.Core.Integrity;

/// <summary>
/// RFC 8785 JSON Canonicalization Scheme: members sorted by their names' UTF-16 code units, no
/// whitespace, strings with the minimal escapes of ECMAScript's JSON.stringify, numbers as ECMAScript
/// Number.prototype.toString prints the IEEE-754 double. Two documents with the same JSON data give the
/// same bytes, so their SHA-256 is the same whoever recomputes it.
/// </summary>
public static class Jcs
{
    private static readonly SearchValues<byte> IntegerChars = SearchValues.Create("-0123456789"u8);

    /// <summary>The canonical UTF-8 bytes of <paramref name="json"/> (any valid JSON text).</summary>
    public static byte[] Canonicalize(ReadOnlySpan<byte> json)
    {
        using var doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 256 });
        return Canonicalize(doc.RootElement);
    }

    public static byte[] Canonicalize(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        Write(buffer, element);
        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(IBufferWriter<byte> output, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(output, element);
                break;
            case JsonValueKind.Array:
                Put(output, "["u8);
                var first = true;
                foreach (var item in element.EnumerateArray())
                {
                    if (!first)
                    {
                        Put(output, ","u8);
                    }

                    first = false;
                    Write(output, item);
                }

                Put(output, "]"u8);
                break;
            case JsonValueKind.String:
                // Fast path: a raw JSON string without escapes is already canonical (its bytes are
                // validated UTF-8 and cannot hold a quote or a control character unescaped).
                var raw = JsonMarshal.GetRawUtf8Value(element);
                if (raw.IndexOf((byte)'\\') < 0)
                {
                    output.Write(raw);
                }
                else
                {
                    WriteString(output, element.GetString()!);
                }

                break;
            case JsonValueKind.Number:
                WriteNumber(output, JsonMarshal.GetRawUtf8Value(element));
                break;
            case JsonValueKind.True:
                Put(output, "true"u8);
                break;
            case JsonValueKind.False:
                Put(output, "false"u8);
                break;
            default:
                Put(output, "null"u8);
                break;
        }
    }

    /// <summary>ECMAScript's Number.prototype.toString of a finite double (RFC 8785 section 3.2.2.3).</summary>
    public static string FormatNumber(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "JSON has no NaN or Infinity (RFC 8785 section 3.2.2.2).");
        }

        if (value == 0)
        {
            return "0"; // minus zero too
        }

        // .NET's "R" gives the shortest digits that round-trip, as ECMAScript requires; only the layout differs.
        var shortest = value.ToString("R", CultureInfo.InvariantCulture);
        var negative = shortest[0] == '-';
        var body = negative ? shortest[1..] : shortest;
        var ePos = body.IndexOfAny(['E', 'e']);
        var mantissa = ePos < 0 ? body : body[..ePos];
        var exp = ePos < 0 ? 0 : int.Parse(body[(ePos + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var intPart = dot < 0 ? mantissa : mantissa[..dot];
        var fracPart = dot < 0 ? "" : mantissa[(dot + 1)..];
        var digits = (intPart + fracPart).TrimStart('0');
        var leadingZeros = (intPart + fracPart).Length - digits.Length;

        // value = 0.digits × 10^n, as ECMAScript's algorithm names it: n is the decimal point's position.
        var n = intPart.Length - leadingZeros + exp;
        digits = digits.TrimEnd('0');
        var k = digits.Length;
        var sb = new StringBuilder(32);
        if (negative)
        {
            sb.Append('-');
        }

        if (k <= n && n <= 21)
        {
            sb.Append(digits).Append('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            sb.Append(digits, 0, n).Append('.').Append(digits, n, k - n);
        }
        else if (-6 < n && n <= 0)
        {
            sb.Append("0.").Append('0', -n).Append(digits);
        }
        else
        {
            var e = n - 1;
            sb.Append(digits[0]);
            if (k > 1)
            {
                sb.Append('.').Append(digits, 1, k - 1);
            }

            sb.Append('e').Append(e < 0 ? '-' : '+').Append(Math.Abs(e).ToString(CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    private static void WriteObject(IBufferWriter<byte> output, JsonElement element)
    {
        var members = new List<JsonProperty>();
        foreach (var p in element.EnumerateObject())
        {
            members.Add(p);
        }

        // string.CompareOrdinal compares UTF-16 code units, exactly what RFC 8785 section 3.2.3 asks.
        members.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        Put(output, "{"u8);
        for (var i = 0; i < members.Count; i++)
        {
            if (i > 0)
            {
                Put(output, ","u8);
            }

            var name = JsonMarshal.GetRawUtf8PropertyName(members[i]);
            if (name.IndexOf((byte)'\\') < 0)
            {
                Put(output, "\""u8);
                output.Write(name);
                Put(output, "\""u8);
            }
            else
            {
                WriteString(output, members[i].Name);
            }

            Put(output, ":"u8);
            Write(output, members[i].Value);
        }

        Put(output, "}"u8);
    }

    /// <summary>
    /// The canonical form of one JSON number literal, <paramref name="raw"/> as it stands in the text. The one
    /// number rule of every canonical writer here (the element path, and JcsRaw on raw text), so they cannot drift.
    /// </summary>
    internal static void WriteNumber(IBufferWriter<byte> output, ReadOnlySpan<byte> raw)
    {
        // Fast path: a plain integer of at most 15 digits prints as itself in ECMAScript (except -0).
        var digits = raw.Length - (raw[0] == (byte)'-' ? 1 : 0);
        if (digits <= 15 && raw.IndexOfAnyExcept(IntegerChars) < 0 && !raw.SequenceEqual("-0"u8))
        {
            output.Write(raw);
            return;
        }

        // Exactly JsonElement.TryGetDouble: System.Text.Json's JsonDocument parses a number's bytes with
        // Utf8Parser and takes the double only when every byte was consumed. A literal beyond double's
        // range parses to an infinity.
        if (Utf8Parser.TryParse(raw, out double d, out var consumed) && consumed == raw.Length && double.IsFinite(d))
        {
            PutAscii(output, FormatNumber(d));
            return;
        }

        // Beyond double's range I-JSON has no meaning for it; the literal is kept as given, so the hash
        // stays a pure function of the document rather than an error that would block ingest.
        output.Write(raw);
    }

    /// <summary>A JSON string of <paramref name="value"/> with the minimal escapes of RFC 8785 section 3.2.2.2.</summary>
    internal static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<char> value)
    {
        var sb = new StringBuilder(value.Length + 2);
        sb.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\\':
                    sb.Append("\\\\");
                    break;
                case '\b':
                    sb.Append("\\b");
                    break;
                case '\f':
                    sb.Append("\\f");
                    break;
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                default:
                    if (c < 0x20)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
        var s = sb.ToString();
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(s.Length));
        var written = Encoding.UTF8.GetBytes(s, span);
        output.Advance(written);
    }

    private static void Put(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes) => output.Write(bytes);

    private static void PutAscii(IBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            span[i] = (byte)text[i];
        }

        output.Advance(text.Length);
    }
}
