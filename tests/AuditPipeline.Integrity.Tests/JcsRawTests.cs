using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AuditPipeline.Core.Integrity;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace AuditPipeline.Integrity.Tests;

/// <summary>
/// The raw-text canonical writer against its definition, the element path (JsonDocument.Parse, then
/// Jcs.Write): byte for byte whenever it answers true; true for every value but those with an object
/// that repeats a decoded name, or with a name or string the element path cannot decode (an escaped lone
/// surrogate, invalid UTF-8 where it decodes; it throws there); false for exactly those.
/// </summary>
public sealed class JcsRawTests
{
    /// <summary>Pieces of names and strings, as JSON source text: raw, escaped, both spellings of the same character.</summary>
    private static readonly string[] Atoms =
    [
        "a", "b", "A", "z", "1", "_", " ", "stage", "Demo Scheduled", "é", "ö", "€", "\u0080", "\u007f", "\ufb33", "\U0001F600", "日本",
        "\u2028", "\ufffd", "\\u0061", "\\u0062", "\\u00e9", "\\u00E9", "\\u20ac", "\\u0080", "\\ud83d\\ude00",
        "\\uD83D\\uDE00", "\\ufb33", "\\r", "\\n", "\\t", "\\b", "\\f", "\\/", "\\\"", "\\\\", "\\u0000", "\\u001f", "\\u001F", "\\u007f",
        "\\u2028", "<script>&'",
    ];

    /// <summary>Few and alike, so that an object's names collide often: "a" and "\u0061" are one name.</summary>
    private static readonly string[] CollidingAtoms = ["a", "b", "\\u0061", "é", "\\u00e9", "\U0001F600", "\\ud83d\\ude00", "\ufb33"];

    /// <summary>What the element path cannot decode: lone surrogate escapes, and (the sentinel U+FFFF, made a 0xFF byte) invalid UTF-8.</summary>
    private static readonly string[] Undecodable = ["\\ud800", "\\udc00", "\\ud83dx", "\uffff"];

    private static readonly string[] Numbers =
    [
        "0", "-0", "0.0", "-0.0", "0e0", "1", "-1", "1.0", "1.50", "1e3", "1E3", "1e+3", "1E-7", "-1.5e-7", "123456789012345", "-123456789012345",
        "1234567890123456", "123456789012345678", "9007199254740993", "999999999999999", "1000000000000000", "1e21", "1e20", "1e400",
        "-1e400", "-1.5e-400", "1e-400", "5e-324", "2.4703282292062327e-324", "1.7976931348623157e308", "1.7976931348623158e308",
        "1.7976931348623159e308", "333333333.33333329", "0.000000000000000000000000001", "10000000000000000000000",
        "0." + new string('3', 800), "1" + new string('0', 400), "1" + new string('0', 400) + "e-400",
    ];

    private static readonly string[] Spaces = [" ", "\n", "\t", "\r\n  ", "  "];

    [Property(MaxTest = 3000)]
    public Property TryWrite_gives_the_element_paths_bytes_and_falls_back_for_duplicate_names_or_undecodable_text_only() =>
        Prop.ForAll(Documents().ToArbitrary(), json =>
        {
            var utf8 = Bytes(json);
            var expected = ElementPath(utf8, out var duplicates);
            var fallBack = expected is null || duplicates;
            var (ok, actual) = RawPath(utf8);
            var same = !ok || actual.AsSpan().SequenceEqual(expected);
            return (ok == !fallBack && same).Label(
                $"{json}\n  fall back expected: {fallBack} (undecodable {expected is null}, duplicates {duplicates}), answered {ok}" +
                $"\n  element: {Show(expected)}\n  raw:     {Show(actual)}");
        });

    [Fact]
    public void The_generated_documents_hold_every_kind_of_case_the_property_speaks_of()
    {
        var counts = new Dictionary<string, int>();
        foreach (var json in Gen.Sample(Documents(), 2000))
        {
            var utf8 = Bytes(json);
            var expected = ElementPath(utf8, out var duplicates);
            var kind = expected is null ? "undecodable" : duplicates ? "duplicates" : "exact";
            counts[kind] = counts.GetValueOrDefault(kind) + 1;
            Count(counts, "wide", json.Contains("#16\"", StringComparison.Ordinal));
            Count(counts, "escaped a", json.Contains("\\u0061", StringComparison.Ordinal));
            Count(counts, "whitespace", json.Contains('\n', StringComparison.Ordinal));
        }

        // Most documents must be written exactly; each fallback must still come up often enough to be tried.
        Assert.True(counts.GetValueOrDefault("exact") >= 1000, string.Join(", ", counts));
        foreach (var kind in new[] { "undecodable", "duplicates", "wide", "escaped a", "whitespace" })
        {
            Assert.True(counts.GetValueOrDefault(kind) >= 40, $"{kind}: {string.Join(", ", counts)}");
        }
    }

    [Theory]
    [MemberData(nameof(JcsTests.VectorFiles), MemberType = typeof(JcsTests))]
    public void The_published_canonicalization_vectors_of_the_RFC_author_come_out_byte_for_byte(string name)
    {
        var input = JcsVectors.Read("input", name);
        var expected = Encoding.UTF8.GetString(JcsVectors.Read("output", name)).TrimEnd('\n');

        var (ok, actual) = RawPath(input);

        Assert.True(ok);
        Assert.Equal(expected, Encoding.UTF8.GetString(actual));
    }

    [Theory]
    [MemberData(nameof(JcsTests.RfcExamples), MemberType = typeof(JcsTests))]
    [InlineData("{\"\uFB33\":1,\"\U0001F600\":2,\"a\":3}", "{\"a\":3,\"\U0001F600\":2,\"\uFB33\":1}")]
    [InlineData("""{ "b" : [1.0, 2e0, "x\u0041"], "a": {"z": null, "y": true} }""", """{"a":{"y":true,"z":null},"b":[1,2,"xA"]}""")]
    [InlineData("[1e400]", "[1e400]")]
    [InlineData("[-0,0,-1,123456789012345,1234567890123456,-123456789012345,10000000000000000000000]", "[0,0,-1,123456789012345,1234567890123456,-123456789012345,1e+22]")]
    [InlineData("""["plain","esc\u0041\n","\u00e9t\u00E9",{"k\u0065y":1}]""", """["plain","escA\n","été",{"key":1}]""")]
    [InlineData("""{"stage":"Demo Scheduled","amount":1000}""", """{"amount":1000,"stage":"Demo Scheduled"}""")]
    [InlineData("""{"rows":1200,"failed":3}""", """{"failed":3,"rows":1200}""")]
    public void The_RFC_examples_and_Jcs_own_cases_come_out_as_the_element_path_writes_them(string input, string expected)
    {
        var utf8 = Encoding.UTF8.GetBytes(input);

        var (ok, actual) = RawPath(utf8);

        Assert.True(ok);
        Assert.Equal(expected, Encoding.UTF8.GetString(actual));
        Assert.Equal(expected, Encoding.UTF8.GetString(ElementPath(utf8, out _)!));
    }

    [Theory]
    [InlineData("""{"a":1,"a":1}""")]
    [InlineData("""{"a":1,"b":2,"\u0061":3}""")]
    [InlineData("""{"é":1,"\u00e9":2}""")]
    [InlineData("""{"😀":1,"\ud83d\ude00":2}""")]
    [InlineData("""[1,{"x":{"k":true,"k":false}}]""")]
    public void An_object_with_duplicate_names_falls_back(string input)
    {
        Assert.False(RawPath(Encoding.UTF8.GetBytes(input)).Ok);
    }

    [Theory]
    [InlineData("\"\\ud800\"")]
    [InlineData("[\"x\\udc00\"]")]
    [InlineData("{\"\\ud800\":1}")]
    [InlineData("{\"a\":1,\"\\ud83dx\":2}")]
    [InlineData("[\"\\u0041\uffff\"]")]
    [InlineData("{\"a\":1,\"\uffff\":2}")]
    public void Text_the_element_path_cannot_decode_falls_back_and_the_element_path_throws_there(string input)
    {
        var utf8 = Bytes(input);
        using var doc = JsonDocument.Parse(utf8);

        Assert.False(RawPath(utf8).Ok);
        Assert.ThrowsAny<InvalidOperationException>(() => Jcs.Write(new ArrayBufferWriter<byte>(), doc.RootElement));
    }

    [Theory]
    [InlineData("[\"\uffff\"]")]
    [InlineData("{\"\uffff\":1}")]
    public void Invalid_UTF8_the_element_path_copies_undecoded_is_copied_the_same(string input)
    {
        // Jcs writes an unescaped string raw, and a lone member's unescaped name too (a sort of one compares nothing).
        var utf8 = Bytes(input);

        var (ok, actual) = RawPath(utf8);

        Assert.True(ok);
        Assert.Equal(ElementPath(utf8, out _), actual);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("{")]
    [InlineData("[1,]")]
    [InlineData("{\"a\":1,}")]
    [InlineData("1 2")]
    [InlineData("{\"a\":1} x")]
    [InlineData("// note\n1")]
    [InlineData("[01]")]
    public void Text_that_is_not_one_JSON_value_throws_as_JsonDocument_Parse_throws(string input)
    {
        var utf8 = Encoding.UTF8.GetBytes(input);

        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(utf8));
        Assert.ThrowsAny<JsonException>(() => JcsRaw.TryWrite(new ArrayBufferWriter<byte>(), utf8));
    }

    [Fact]
    public void Sixty_four_levels_are_written_and_sixty_five_throw_as_JsonDocument_Parse_throws()
    {
        var ok = Bytes(new string('[', 31) + string.Concat(Enumerable.Repeat("{\"k\":", 33)) + "1.50" + new string('}', 33) + new string(']', 31));
        var deep = Bytes(new string('[', 65) + new string(']', 65));

        Assert.Equal(ElementPath(ok, out _), RawPath(ok).Bytes);
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(deep));
        Assert.ThrowsAny<JsonException>(() => JcsRaw.TryWrite(new ArrayBufferWriter<byte>(), deep));
    }

    [Theory]
    [InlineData(9, false)]
    [InlineData(17, true)]
    [InlineData(300, false)]
    [InlineData(300, true)]
    public void An_object_of_many_members_sorts_as_the_element_path_sorts(int members, bool unicode)
    {
        var random = new Random(members);
        var names = Enumerable.Range(0, members).Select(i => (unicode && i % 3 == 0 ? "\\u00e9\U0001F600\uFB33" : "") + i.ToString(CultureInfo.InvariantCulture) + (char)('a' + random.Next(26)));
        var utf8 = Bytes("{" + string.Join(",", names.OrderBy(_ => random.Next()).Select(n => $"\"{n}\":[\"{n}\"]")) + "}");

        var (ok, actual) = RawPath(utf8);

        Assert.True(ok);
        Assert.Equal(Encoding.UTF8.GetString(ElementPath(utf8, out _)!), Encoding.UTF8.GetString(actual));
    }

    [Fact]
    public void The_common_shapes_allocate_nothing()
    {
        byte[][] shapes =
        [
            """{"stage":"Demo Scheduled","amount":1000}"""u8.ToArray(),
            """{"rows":1200,"failed":3}"""u8.ToArray(),
            """{ "a": {"z": [1, 2, null, true], "y": "plain"}, "b": [], "c": {} }"""u8.ToArray(),
        ];
        var buffer = new ArrayBufferWriter<byte>(4096);
        foreach (var s in shapes)
        {
            JcsRaw.TryWrite(buffer, s);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            buffer.ResetWrittenCount();
            foreach (var s in shapes)
            {
                JcsRaw.TryWrite(buffer, s);
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Property(MaxTest = 1000)]
    public Property The_shared_number_rule_gives_what_the_rule_on_JsonElement_TryGetDouble_gave() =>
        Prop.ForAll(Number().ToArbitrary(), literal =>
        {
            // The rule as it read before it took the raw literal: the element's double, or its raw text.
            using var doc = JsonDocument.Parse(literal);
            var e = doc.RootElement;
            var raw = Encoding.ASCII.GetBytes(literal);
            var plain = raw.Length - (literal[0] == '-' ? 1 : 0) <= 15 && literal.All(c => c == '-' || char.IsAsciiDigit(c)) && literal != "-0";
            var before = plain ? literal : e.TryGetDouble(out var d) && double.IsFinite(d) ? Jcs.FormatNumber(d) : e.GetRawText();
            var buffer = new ArrayBufferWriter<byte>();
            Jcs.WriteNumber(buffer, raw);
            return (before == Encoding.ASCII.GetString(buffer.WrittenSpan)).Label($"{literal}: {before} vs {Encoding.ASCII.GetString(buffer.WrittenSpan)}");
        });

    private static (bool Ok, byte[] Bytes) RawPath(byte[] utf8)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var ok = JcsRaw.TryWrite(buffer, utf8);
        return (ok, buffer.WrittenSpan.ToArray());
    }

    /// <summary>Jcs.Write of the parsed element; null where it throws (text it cannot decode). Says whether some object repeats a name.</summary>
    private static byte[]? ElementPath(byte[] utf8, out bool duplicates)
    {
        using var doc = JsonDocument.Parse(utf8);
        var buffer = new ArrayBufferWriter<byte>();
        try
        {
            Jcs.Write(buffer, doc.RootElement);
        }
        catch (InvalidOperationException)
        {
            duplicates = false;
            return null;
        }

        duplicates = HasDuplicateNames(doc.RootElement);
        return buffer.WrittenSpan.ToArray();
    }

    private static bool HasDuplicateNames(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Array)
        {
            return e.EnumerateArray().Any(HasDuplicateNames);
        }

        if (e.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        // A lone member's name is not decoded (the element path did not either; it may not decode).
        var members = e.EnumerateObject().ToList();
        return (members.Count > 1 && members.Select(p => p.Name).Distinct(StringComparer.Ordinal).Count() < members.Count)
            || members.Any(p => HasDuplicateNames(p.Value));
    }

    /// <summary>UTF-8 of the text, each U+FFFF (EF BF BF) made the invalid byte FF.</summary>
    private static byte[] Bytes(string json)
    {
        var bytes = new List<byte>(Encoding.UTF8.GetBytes(json));
        for (var i = 0; i + 2 < bytes.Count; i++)
        {
            if (bytes[i] == 0xEF && bytes[i + 1] == 0xBF && bytes[i + 2] == 0xBF)
            {
                bytes[i] = 0xFF;
                bytes.RemoveRange(i + 1, 2);
            }
        }

        return [.. bytes];
    }

    private static string Show(byte[]? bytes) => bytes is null ? "(throws)" : Encoding.UTF8.GetString(bytes);

    private static void Count(Dictionary<string, int> counts, string kind, bool yes)
    {
        if (yes)
        {
            counts[kind] = counts.GetValueOrDefault(kind) + 1;
        }
    }

    private static Gen<string> Documents() =>
        from value in Value(4)
        from seed in Gen.Choose(0, int.MaxValue)
        select Spaced(value, seed);

    private static Gen<string> Value(int depth) => depth == 0
        ? Scalar()
        : Gen.Frequency(
            (4, Scalar()),
            (2, from n in Gen.Choose(0, 4) from items in Gen.ListOf(Value(depth - 1), n) select "[" + string.Join(",", items) + "]"),
            (3, ObjectOf(depth - 1)));

    private static Gen<string> ObjectOf(int depth) =>
        Gen.Frequency(
            (12, from n in Gen.Choose(0, 5) from names in Gen.ListOf(Name(), n) from values in Gen.ListOf(Value(depth), n)
                 select Members(names, values)),
            // Wide: past the insertion sort; "#" and an index keep its names apart, ASCII-only or not.
            (1, from n in Gen.Choose(17, 40) from ascii in Gen.Elements(true, false) from names in Gen.ListOf(ascii ? AsciiName() : Name(), n)
                from values in Gen.ListOf(Scalar(), n) from order in Gen.Shuffle(Enumerable.Range(0, n))
                select Members(order.Select(i => $"{names[i]}#{i}"), order.Select(i => values[i]))));

    private static string Members(IEnumerable<string> names, IEnumerable<string> values) =>
        "{" + string.Join(",", names.Zip(values, (k, v) => $"\"{k}\":{v}")) + "}";

    private static Gen<string> Name() =>
        Gen.Frequency(
            (6, from n in Gen.Choose(0, 2) from atoms in Gen.ListOf(Gen.Elements(CollidingAtoms), n) select string.Concat(atoms)),
            (4, from n in Gen.Choose(0, 4) from atoms in Gen.ListOf(Atom(), n) select string.Concat(atoms)),
            (1, AsciiName()));

    private static Gen<string> AsciiName() =>
        from n in Gen.Choose(0, 8) from cs in Gen.ListOf(Gen.Elements("abcdefXYZ_0123 -.".ToCharArray()), n) select new string([.. cs]);

    private static Gen<string> Atom() =>
        Gen.Frequency(
            (30, Gen.Elements(Atoms)),
            (1, Gen.Elements(Undecodable)),
            // Any character of the BMP but a surrogate or '#', raw or as \uXXXX in either case.
            (10, from c in Gen.Choose(0x20, 0xFFFD).Where(c => c is not (>= 0xD800 and <= 0xDFFF) and not '"' and not '\\' and not '#')
                from escaped in Gen.Elements(0, 1, 2)
                select escaped switch { 0 => ((char)c).ToString(), 1 => $"\\u{c:x4}", _ => $"\\u{c:X4}" }),
            // A supplementary character, raw or as its surrogate pair escaped.
            (5, from c in Gen.Choose(0x10000, 0x10FFFF) from escaped in Gen.Elements(true, false)
                select escaped ? string.Concat(char.ConvertFromUtf32(c).Select(u => $"\\u{(int)u:x4}")) : char.ConvertFromUtf32(c)));

    private static Gen<string> Scalar() =>
        Gen.Frequency(
            (3, from n in Gen.Choose(0, 5) from atoms in Gen.ListOf(Atom(), n) select "\"" + string.Concat(atoms) + "\""),
            (3, Number()),
            (1, Gen.Elements("true", "false", "null")));

    private static Gen<string> Number() =>
        Gen.Frequency(
            (1, Gen.Elements(Numbers)),
            (3, from sign in Gen.Elements("", "-")
                from whole in Gen.Frequency((1, Gen.Constant("0")), (4, Digits(1, 22, leadingZero: false)))
                from fraction in Gen.Frequency((2, Gen.Constant("")), (1, Digits(1, 20, leadingZero: true).Select(d => "." + d)))
                from exponent in Gen.Frequency((2, Gen.Constant("")), (1, from e in Gen.Elements("e", "E") from s in Gen.Elements("", "+", "-")
                    from d in Digits(1, 3, leadingZero: true) select e + s + d))
                select sign + whole + fraction + exponent));

    private static Gen<string> Digits(int min, int max, bool leadingZero) =>
        from n in Gen.Choose(min, max)
        from first in Gen.Choose(leadingZero ? 0 : 1, 9)
        from rest in Gen.ListOf(Gen.Choose(0, 9), n - 1)
        select first.ToString(CultureInfo.InvariantCulture) + string.Concat(rest);

    /// <summary>Whitespace at random before the value, after it, and around every structural character outside strings.</summary>
    private static string Spaced(string json, int seed)
    {
        var random = new Random(seed);
        string Space() => random.Next(3) == 0 ? Spaces[random.Next(Spaces.Length)] : "";
        var sb = new StringBuilder(Space());
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (inString)
            {
                sb.Append(c);
                if (c == '\\')
                {
                    sb.Append(json[++i]);
                }
                else if (c == '"')
                {
                    inString = false;
                }

                continue;
            }

            if (c == '"')
            {
                inString = true;
                sb.Append(c);
            }
            else if (c is '{' or '}' or '[' or ']' or ',' or ':')
            {
                sb.Append(Space()).Append(c).Append(Space());
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.Append(Space()).ToString();
    }
}
