using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace AuditPipeline.Core.Normalization;

/// <summary>
/// One change: the field's decoded name and where its before and after values are, as ranges into the
/// spans given (null where the contract's result has null).
/// </summary>
internal readonly record struct RawChange(string Field, Range? Before, Range? After);

/// <summary>
/// The members of a record (before or after) as the message's reader met them, ranges relative to the
/// record's first byte, so the change set need not read the record again. Not <see cref="Known"/> (the
/// default) when the record is not an object, or has more than <see cref="RawChangeSet.SmallFields"/>
/// members or an escaped name: the change set then reads the bytes itself.
/// </summary>
internal readonly ref struct RecordMembers(ReadOnlySpan<Member> items)
{
    public ReadOnlySpan<Member> Items { get; } = items;

    public bool Known { get; } = true;
}

/// <summary>One top-level member of a record: its name's bytes between the quotes, and its value's bytes.</summary>
internal readonly record struct Member(Range Name, bool NameEscaped, Range Value);

[InlineArray(RawChangeSet.SmallFields)]
internal struct SmallMembers
{
#pragma warning disable IDE0044 // An inline array's element field is written through its indexer.
    private Member _first;
#pragma warning restore IDE0044
}

/// <summary>
/// <see cref="ChangeSet.Compute"/> from the raw UTF-8 bytes of before and after, with no JsonDocument: the
/// same entries in the same order, each range covering exactly the value's bytes (a string's quotes included).
/// </summary>
/// <remarks>
/// ChangeSet's rules, in ChangeSet's order (so where DeepEquals or a name's decoding throws, on an unpaired
/// surrogate escape or an exponent past int, this throws the same at the same point): up to
/// <see cref="SmallFields"/> fields with unescaped names, names compare as bytes; else they are decoded and
/// looked up in hash sets. Values compare as DeepEquals does, numbers by their decimal normal form and
/// strings by decoded text (the reader's own unescaping). The rare pairs parsed with JsonDocument and given
/// to DeepEquals: two objects or two arrays whose raw text differs, two escaped strings of which one is
/// over 256 bytes, numbers with an exponent past int.
/// </remarks>
internal static class RawChangeSet
{
    public const int SmallFields = 16;

    /// <summary>Longest escaped string content unescaped on the stack.</summary>
    private const int StackStringBytes = 256;

    /// <summary>Exactly ChangeSet.Compute's result, from raw bytes. before/after: the value's bytes, or empty for absent.</summary>
    public static List<RawChange> Compute(ReadOnlySpan<byte> before, ReadOnlySpan<byte> after)
    {
        var changes = new List<RawChange>();
        Compute(before, after, changes);
        return changes;
    }

    /// <summary>The same, added to <paramref name="changes"/> (which the caller has emptied; the normalizer reuses one per thread).</summary>
    public static void Compute(ReadOnlySpan<byte> before, ReadOnlySpan<byte> after, List<RawChange> changes)
    {
        Compute(before, after, changes, default, default);
    }

    /// <summary>The same, with the members of before and after already found where <see cref="RecordMembers.Known"/>.</summary>
    public static void Compute(ReadOnlySpan<byte> before, ReadOnlySpan<byte> after, List<RawChange> changes, RecordMembers beforeMembers, RecordMembers afterMembers)
    {
        // A side that is absent or anything but an object is treated as absent, as ChangeSet does.
        var hasBefore = IsObject(before);
        var hasAfter = IsObject(after);
        if (!hasBefore && !hasAfter)
        {
            return;
        }

        if (!TryComputeSmall(before, hasBefore, after, hasAfter, changes, beforeMembers, afterMembers))
        {
            ComputeGeneral(before, hasBefore, after, hasAfter, changes);
        }
    }

    private static void ComputeGeneral(ReadOnlySpan<byte> b, bool hasBefore, ReadOnlySpan<byte> a, bool hasAfter, List<RawChange> changes)
    {
        HashSet<string>? beforeNames = null;
        if (hasBefore)
        {
            var afterLast = hasAfter ? LastByName(a) : null;
            beforeNames = new HashSet<string>(StringComparer.Ordinal);
            var members = new Members(b);
            while (members.Next(out var p))
            {
                var name = Name(b, p);
                if (!beforeNames.Add(name))
                {
                    continue;
                }

                // A deleted record (no after) lists every field, a null one as null JSON, as ChangeSet does.
                Range? afterValue = afterLast is not null && afterLast.TryGetValue(name, out var av) ? av : null;
                if (afterLast is null || !SameValue(b, p.Value, a, afterValue))
                {
                    changes.Add(new RawChange(name, afterLast is null ? p.Value : NullIfJsonNull(b, p.Value), NullIfJsonNull(a, afterValue)));
                }
            }
        }

        if (hasAfter)
        {
            var afterNames = new HashSet<string>(StringComparer.Ordinal);
            var members = new Members(a);
            while (members.Next(out var p))
            {
                var name = Name(a, p);
                // Absent before and null after are the same value; anything else is a change.
                if (afterNames.Add(name) && (beforeNames is null || (!IsNull(a, p.Value) && !beforeNames.Contains(name))))
                {
                    changes.Add(new RawChange(name, null, p.Value));
                }
            }
        }
    }

    /// <summary>ChangeSet's small path: no sets, and no strings but the changed names; names compare as bytes.</summary>
    private static bool TryComputeSmall(
        ReadOnlySpan<byte> b, bool hasBefore, ReadOnlySpan<byte> a, bool hasAfter, List<RawChange> changes, RecordMembers givenBefore, RecordMembers givenAfter)
    {
        // Written before read (Collect), so not zeroed.
        Unsafe.SkipInit(out SmallMembers readBefore);
        Unsafe.SkipInit(out SmallMembers readAfter);
        scoped ReadOnlySpan<Member> bm = default, am = default;
        if ((hasBefore && !MembersOf(b, givenBefore, readBefore, out bm)) || (hasAfter && !MembersOf(a, givenAfter, readAfter, out am)))
        {
            return false;
        }

        var (nb, na) = (bm.Length, am.Length);

        for (var i = 0; i < nb; i++)
        {
            var p = bm[i];
            var name = b[p.Name];
            if (IndexOf(b, bm, i, name) >= 0)
            {
                continue;
            }

            var last = hasAfter ? IndexOf(a, am, na, name, last: true) : -1;
            Range? afterValue = last >= 0 ? am[last].Value : null;
            if (!hasAfter || !SameValue(b, p.Value, a, afterValue))
            {
                changes.Add(new RawChange(RecentStrings.Shared.Get(name), hasAfter ? NullIfJsonNull(b, p.Value) : p.Value, NullIfJsonNull(a, afterValue)));
            }
        }

        for (var i = 0; i < na; i++)
        {
            var p = am[i];
            var name = a[p.Name];
            if (IndexOf(a, am, i, name) < 0 && (!hasBefore || (!IsNull(a, p.Value) && IndexOf(b, bm, nb, name) < 0)))
            {
                changes.Add(new RawChange(RecentStrings.Shared.Get(name), null, p.Value));
            }
        }

        return true;
    }

    /// <summary>The members of one object in order; the reader steps over each value, nested ones whole.</summary>
    private ref struct Members
    {
        private Utf8JsonReader _reader;

        public Members(ReadOnlySpan<byte> obj)
        {
            _reader = new Utf8JsonReader(obj);
            _reader.Read();
        }

        public bool Next(out Member member)
        {
            member = default;
            if (!_reader.Read() || _reader.TokenType != JsonTokenType.PropertyName)
            {
                return false;
            }

            // A name's token starts at its opening quote; its ValueSpan is the text between the quotes.
            var name = ((int)_reader.TokenStartIndex + 1)..((int)_reader.TokenStartIndex + 1 + _reader.ValueSpan.Length);
            var escaped = _reader.ValueIsEscaped;
            _reader.Read();
            var start = (int)_reader.TokenStartIndex;
            member = new Member(name, escaped, start..(start + RawValue.LengthOf(ref _reader)));
            return true;
        }
    }

    private static bool IsObject(ReadOnlySpan<byte> json) => json.TrimStart(" \t\r\n"u8) is [(byte)'{', ..];

    /// <summary>A record's members: those the message's reader found, else read from its bytes into <paramref name="into"/>.</summary>
    private static bool MembersOf(ReadOnlySpan<byte> obj, RecordMembers given, Span<Member> into, out ReadOnlySpan<Member> members)
    {
        if (given.Known)
        {
            members = given.Items;
            return true;
        }

        var ok = Collect(obj, into, out var count);
        members = into[..count];
        return ok;
    }

    /// <summary>False (the general path) past <see cref="SmallFields"/> members or at an escaped name, as ChangeSet's Collect.</summary>
    private static bool Collect(ReadOnlySpan<byte> obj, Span<Member> into, out int count)
    {
        count = 0;
        var members = new Members(obj);
        while (members.Next(out var m))
        {
            if (count == SmallFields || m.NameEscaped)
            {
                return false;
            }

            into[count++] = m;
        }

        return true;
    }

    /// <summary>The first (or last) of the first count members named name, else -1.</summary>
    private static int IndexOf(ReadOnlySpan<byte> json, ReadOnlySpan<Member> ms, int count, ReadOnlySpan<byte> name, bool last = false)
    {
        for (var i = 0; i < count; i++)
        {
            var k = last ? count - 1 - i : i;
            if (json[ms[k].Name].SequenceEqual(name))
            {
                return k;
            }
        }

        return -1;
    }

    /// <summary>The decoded name, as JsonProperty.Name gives it (the same unescaping, throwing on an unpaired surrogate).</summary>
    private static string Name(ReadOnlySpan<byte> json, Member m)
    {
        if (!m.NameEscaped)
        {
            return Encoding.UTF8.GetString(json[m.Name]);
        }

        var quoted = new Utf8JsonReader(json[(m.Name.Start.Value - 1)..(m.Name.End.Value + 1)]);
        quoted.Read();
        return quoted.GetString()!;
    }

    /// <summary>Each name's last value (later duplicates overwrite earlier ones).</summary>
    private static Dictionary<string, Range> LastByName(ReadOnlySpan<byte> obj)
    {
        var last = new Dictionary<string, Range>(StringComparer.Ordinal);
        var members = new Members(obj);
        while (members.Next(out var m))
        {
            last[Name(obj, m)] = m.Value;
        }

        return last;
    }

    private static bool IsNull(ReadOnlySpan<byte> json, Range value) => json[value.Start] == (byte)'n';

    private static Range? NullIfJsonNull(ReadOnlySpan<byte> json, Range? value) => value is { } v && IsNull(json, v) ? null : value;

    /// <summary>A value's kind from its first byte: '{', '[', '"', 't', 'f', 'n', or '0' for any number.</summary>
    private static byte Kind(byte first) => first is (byte)'-' or (>= (byte)'0' and <= (byte)'9') ? (byte)'0' : first;

    /// <summary>ChangeSet.SameValue: absent is null; identical raw text is equal; else JsonElement.DeepEquals's answer.</summary>
    private static bool SameValue(ReadOnlySpan<byte> xs, Range x, ReadOnlySpan<byte> ys, Range? y)
    {
        var xv = xs[x];
        if (y is not { } yr)
        {
            return xv[0] == (byte)'n';
        }

        var yv = ys[yr];
        var kind = Kind(xv[0]);
        if (kind != Kind(yv[0]))
        {
            return false;
        }

        return xv.SequenceEqual(yv) || kind switch
        {
            (byte)'0' => NumbersEqual(xv, yv),
            (byte)'"' => StringsEqual(xv, yv),
            (byte)'{' or (byte)'[' => ParsedDeepEquals(xv, yv),
            _ => true, // null, true and false have one spelling each.
        };
    }

    /// <summary>The rare path: both values parsed and given to DeepEquals itself (its duplicate-name rules, its exceptions).</summary>
    private static bool ParsedDeepEquals(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        using var dx = JsonDocument.Parse(x.ToArray());
        using var dy = JsonDocument.Parse(y.ToArray());
        return JsonElement.DeepEquals(dx.RootElement, dy.RootElement);
    }

    /// <summary>Two string tokens of different raw text (quotes included), by decoded text, in DeepEquals's order of checks.</summary>
    private static bool StringsEqual(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        var xEscaped = x.Contains((byte)'\\');
        var yEscaped = y.Contains((byte)'\\');
        if (xEscaped == yEscaped)
        {
            // Neither escaped: different text. Both: DeepEquals unescapes both in full, x first, and compares.
            return xEscaped && BothEscapedEqual(x, y);
        }

        // One escaped: DeepEquals asks JsonElement.ValueEquals, which finds a longer plain text unequal
        // without unescaping; the reader's ValueTextEquals makes the same checks, then the same unescaping.
        var escaped = xEscaped ? x : y;
        var plain = xEscaped ? y : x;
        var reader = new Utf8JsonReader(escaped);
        return plain.Length <= escaped.Length && reader.Read() && reader.ValueTextEquals(plain[1..^1]);
    }

    private static bool BothEscapedEqual(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        if (x.Length - 2 > StackStringBytes || y.Length - 2 > StackStringBytes)
        {
            return ParsedDeepEquals(x, y);
        }

        Span<byte> xText = stackalloc byte[StackStringBytes];
        Span<byte> yText = stackalloc byte[StackStringBytes];
        var rx = new Utf8JsonReader(x);
        rx.Read();
        xText = xText[..rx.CopyString(xText)];
        var ry = new Utf8JsonReader(y);
        ry.Read();
        return xText.SequenceEqual(yText[..ry.CopyString(yText)]);
    }

    /// <summary>
    /// Numbers as DeepEquals compares them: as decimals, never through double. Equal when sign, significant
    /// digits and exponent agree (1 = 1.0 = 1e0 = 10e-1, 0 = -0, 1e400 = 10e399). An exponent past int makes
    /// DeepEquals throw; that pair goes to DeepEquals, to throw the same.
    /// </summary>
    private static bool NumbersEqual(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        if (!TryNormalize(x, out var xNegative, out var xDigits, out var xExponent) ||
            !TryNormalize(y, out var yNegative, out var yDigits, out var yExponent))
        {
            return ParsedDeepEquals(x, y);
        }

        if (xNegative != yNegative || xExponent != yExponent)
        {
            return false;
        }

        // The significant digits, each side with at most one '.' inside, at its own place.
        int i = 0, j = 0;
        while (true)
        {
            i += i < xDigits.Length && xDigits[i] == (byte)'.' ? 1 : 0;
            j += j < yDigits.Length && yDigits[j] == (byte)'.' ? 1 : 0;
            if (i == xDigits.Length || j == yDigits.Length)
            {
                return i == xDigits.Length && j == yDigits.Length;
            }

            if (xDigits[i++] != yDigits[j++])
            {
                return false;
            }
        }
    }

    /// <summary>
    /// A number as sign * digits * 10^exponent, digits (the mantissa's, a '.' perhaps among them) without
    /// leading or trailing zeros, and zero with no sign or exponent: DeepEquals's normal form, its exponent in
    /// the same unchecked int. False when the written exponent does not fit an int.
    /// </summary>
    private static bool TryNormalize(ReadOnlySpan<byte> n, out bool negative, out ReadOnlySpan<byte> digits, out int exponent)
    {
        negative = n[0] == (byte)'-';
        var s = negative ? n[1..] : n;
        var e = s.IndexOfAny((byte)'e', (byte)'E');
        exponent = 0;
        digits = e < 0 ? s : s[..e];
        if (e >= 0 && !Utf8Parser.TryParse(s[(e + 1)..], out exponent, out _))
        {
            return false;
        }

        var dot = digits.IndexOf((byte)'.');
        var fractionDigits = dot < 0 ? 0 : digits.Length - dot - 1;
        digits = digits.TrimStart("0."u8); // JSON allows a leading zero only as the whole integral part.
        var significant = digits.TrimEnd("0."u8);
        exponent += digits[significant.Length..].Count((byte)'0') - fractionDigits;
        digits = significant;
        if (digits.IsEmpty)
        {
            negative = false;
            exponent = 0;
        }

        return true;
    }
}
