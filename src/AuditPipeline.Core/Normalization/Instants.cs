using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Normalization;

/// <summary>Strict instant parsing: an instant names its offset, so local times are never guessed.</summary>
public static class Instants
{
    /// <summary>
    /// Parses <c>yyyy-MM-ddTHH:mm[:ss[.fffffff]](Z|±hh:mm|±hhmm|±hh)</c> (up to 7 fractional digits) to UTC,
    /// truncated to milliseconds. A time without Z or an offset is not an instant and is refused.
    /// </summary>
    public static bool TryParseIso8601(string s, out DateTimeOffset value) => TryParseIso8601(s.AsSpan(), out value);

    /// <inheritdoc cref="TryParseIso8601(string, out DateTimeOffset)"/>
    public static bool TryParseIso8601(ReadOnlySpan<char> span, out DateTimeOffset value)
    {
        value = default;
        if (span.Length < 17 || !Digits(span, 0, 4, out var year) || span[4] != '-' || !Digits(span, 5, 2, out var month) ||
            span[7] != '-' || !Digits(span, 8, 2, out var day) || (span[10] is not ('T' or 't')) ||
            !Digits(span, 11, 2, out var hour) || span[13] != ':' || !Digits(span, 14, 2, out var minute))
        {
            return false;
        }

        var i = 16;
        int second = 0;
        long fractionTicks = 0;
        if (i < span.Length && span[i] == ':')
        {
            if (!Digits(span, i + 1, 2, out second))
            {
                return false;
            }

            i += 3;
            if (i < span.Length && span[i] is '.' or ',')
            {
                var start = ++i;
                while (i < span.Length && char.IsAsciiDigit(span[i]))
                {
                    i++;
                }

                var n = i - start;
                if (n is < 1 or > 7)
                {
                    return false;
                }

                fractionTicks = long.Parse(span.Slice(start, n), provider: System.Globalization.CultureInfo.InvariantCulture);
                for (var k = n; k < 7; k++)
                {
                    fractionTicks *= 10;
                }
            }
        }

        if (i >= span.Length)
        {
            return false;
        }

        TimeSpan offset;
        var rest = span[i..];
        if (rest is "Z" or "z")
        {
            offset = TimeSpan.Zero;
        }
        else if (rest[0] is '+' or '-')
        {
            int oh, om = 0;
            var sign = rest[0] == '-' ? -1 : 1;
            var ok = rest.Length switch
            {
                3 => Digits(rest, 1, 2, out oh),
                5 => Digits(rest, 1, 2, out oh) && Digits(rest, 3, 2, out om),
                6 => Digits(rest, 1, 2, out oh) && rest[3] == ':' && Digits(rest, 4, 2, out om),
                _ => Fail(out oh),
            };
            if (!ok || om > 59 || oh > 14 || (oh == 14 && om > 0))
            {
                return false;
            }

            offset = new TimeSpan(sign * oh, sign * om, 0);
        }
        else
        {
            return false;
        }

        if (month is < 1 or > 12 || day < 1 || year < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        try
        {
            var local = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).AddTicks(fractionTicks);
            value = AuditJson.TruncateToMilliseconds(new DateTimeOffset(local, offset));
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            // Out of the representable range once the offset is applied (year 1 or 9999 edges).
            return false;
        }
    }

    /// <summary>Epoch milliseconds to an instant, or false when out of range.</summary>
    public static bool TryFromUnixMilliseconds(long ms, out DateTimeOffset value)
    {
        value = default;
        if (ms < -62_135_596_800_000L || ms > 253_402_300_799_999L)
        {
            return false;
        }

        value = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        return true;
    }

    private static bool Digits(ReadOnlySpan<char> s, int start, int count, out int value)
    {
        value = 0;
        if (start + count > s.Length)
        {
            return false;
        }

        for (var k = start; k < start + count; k++)
        {
            if (!char.IsAsciiDigit(s[k]))
            {
                return false;
            }

            value = (value * 10) + (s[k] - '0');
        }

        return true;
    }

    private static bool Fail(out int v)
    {
        v = 0;
        return false;
    }
}
