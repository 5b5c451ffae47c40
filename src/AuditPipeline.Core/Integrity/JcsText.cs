using System.Buffers;
using System.Globalization;
using System.Text.Unicode;

namespace AuditPipeline.Core.Integrity;

/// <summary>
/// The RFC 8785 pieces a canonical writer with a fixed shape needs: strings with JCS's escapes (section
/// 3.2.2.2) written from UTF-16, the API's time format, safe integers. Each answers false where it cannot
/// write exactly what the general canonicalizer (<see cref="Jcs"/>) would, so the caller can take that
/// path instead: a string that is not valid UTF-16, an integer a double cannot hold.
/// </summary>
internal static class JcsText
{
    /// <summary>The largest integer every double holds exactly (2^53): above it JCS prints the nearest double.</summary>
    private const long MaxSafeInteger = 9_007_199_254_740_992;

    // JCS escapes only these (RFC 8785 section 3.2.2.2); every other character is written as UTF-8.
    private static readonly SearchValues<char> NeedsEscape = SearchValues.Create(
        "\"\\\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000B\f\r\u000E\u000F" +
        "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F");

    /// <summary>An integer as ECMAScript prints it; false beyond ±2^53, where only the double's digits are canonical.</summary>
    public static bool Integer(IBufferWriter<byte> output, long value)
    {
        if (value is > MaxSafeInteger or < -MaxSafeInteger)
        {
            return false;
        }

        var span = output.GetSpan(20);
        value.TryFormat(span, out var written, default, CultureInfo.InvariantCulture);
        output.Advance(written);
        return true;
    }

    /// <summary>A time as the API writes it (UTC, milliseconds): <c>"yyyy-MM-ddTHH:mm:ss.fffZ"</c>.</summary>
    public static bool Time(IBufferWriter<byte> output, DateTimeOffset t)
    {
        // UtcMillisecondsConverter's format (AuditJson.FormatTime), digit by digit: a custom format
        // string is parsed on every call, and a seal writes three times per entry. Sub-millisecond ticks
        // are cut, as "fff" cuts them; the output is ASCII without anything to escape.
        var u = t.UtcDateTime;
        var span = output.GetSpan(26);
        span[0] = (byte)'"';
        Digits(span.Slice(1, 4), u.Year);
        span[5] = (byte)'-';
        Digits(span.Slice(6, 2), u.Month);
        span[8] = (byte)'-';
        Digits(span.Slice(9, 2), u.Day);
        span[11] = (byte)'T';
        Digits(span.Slice(12, 2), u.Hour);
        span[14] = (byte)':';
        Digits(span.Slice(15, 2), u.Minute);
        span[17] = (byte)':';
        Digits(span.Slice(18, 2), u.Second);
        span[20] = (byte)'.';
        Digits(span.Slice(21, 3), u.Millisecond);
        span[24] = (byte)'Z';
        span[25] = (byte)'"';
        output.Advance(26);
        return true;
    }

    /// <summary>Writes <paramref name="value"/> (non-negative) as exactly <c>digits.Length</c> digits, zero-padded.</summary>
    private static void Digits(Span<byte> digits, int value)
    {
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            digits[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }

    /// <summary>A string with JCS escapes; false (output partly written) for text that is not valid UTF-16.</summary>
    public static bool Quoted(IBufferWriter<byte> output, string? value)
    {
        if (value is null)
        {
            return Raw(output, "null"u8);
        }

        var rest = value.AsSpan();
        Raw(output, "\""u8);
        while (true)
        {
            var stop = rest.IndexOfAny(NeedsEscape);
            var plain = stop < 0 ? rest : rest[..stop];
            if (!plain.IsEmpty && !Utf16ToUtf8(output, plain))
            {
                return false;
            }

            if (stop < 0)
            {
                return Raw(output, "\""u8);
            }

            Escape(output, rest[stop]);
            rest = rest[(stop + 1)..];
        }
    }

    private static bool Utf16ToUtf8(IBufferWriter<byte> output, ReadOnlySpan<char> chars)
    {
        // At most 3 bytes per UTF-16 code unit; written in slices so a long string needs no huge span.
        while (!chars.IsEmpty)
        {
            var slice = chars.Length > 4096 ? chars[..4096] : chars;

            // A high surrogate at the slice's end would be split from its pair: leave it for the next slice.
            if (slice.Length < chars.Length && char.IsHighSurrogate(slice[^1]))
            {
                slice = slice[..^1];
            }

            var span = output.GetSpan(slice.Length * 3);
            var status = Utf8.FromUtf16(slice, span, out var read, out var written, replaceInvalidSequences: false, isFinalBlock: true);
            if (status != OperationStatus.Done)
            {
                return false; // a lone surrogate: the reference path decides what it becomes
            }

            output.Advance(written);
            chars = chars[read..];
        }

        return true;
    }

    private static void Escape(IBufferWriter<byte> output, char c)
    {
        switch (c)
        {
            case '"':
                Raw(output, "\\\""u8);
                break;
            case '\\':
                Raw(output, "\\\\"u8);
                break;
            case '\b':
                Raw(output, "\\b"u8);
                break;
            case '\f':
                Raw(output, "\\f"u8);
                break;
            case '\n':
                Raw(output, "\\n"u8);
                break;
            case '\r':
                Raw(output, "\\r"u8);
                break;
            case '\t':
                Raw(output, "\\t"u8);
                break;
            default:
                var span = output.GetSpan(6);
                "\\u00"u8.CopyTo(span);
                span[4] = (byte)"0123456789abcdef"[c >> 4];
                span[5] = (byte)"0123456789abcdef"[c & 0xF];
                output.Advance(6);
                break;
        }
    }

    public static bool Raw(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        output.Write(bytes);
        return true;
    }
}
