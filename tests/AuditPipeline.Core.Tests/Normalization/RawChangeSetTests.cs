using System.Text;
using System.Text.Json;
using AuditPipeline.Core.Normalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace AuditPipeline.Core.Tests.Normalization;

/// <summary>
/// RawChangeSet against ChangeSet, its oracle: for generated before/after bytes (overlapping, duplicate
/// and escaped names, null values, nesting, numbers and strings spelled many equal ways, non-object and
/// absent sides, more than 16 fields, whitespace anywhere) the same entries in the same order, each
/// range's bytes the element's raw text; or, where ChangeSet throws (an unpaired surrogate escape, an
/// exponent past int), the same exception.
/// </summary>
public class RawChangeSetTests
{
    private static readonly string[] Names =
    [
        "stage", "st\\u0061ge", "\\u0073tage", "amount", "a", "b", "\\u0061", "é", "\\u00e9", "", "x y", "\\n", "\\u000a",
    ];

    /// <summary>Each group: spellings of one value that DeepEquals finds equal (a value not in a group is its own).</summary>
    private static readonly string[][] Equal =
    [
        ["1", "1.0", "1e0", "10e-1", "0.1e1", "1E+0", "1.000", "100e-2"],
        ["0", "-0", "0.0", "-0.0", "0e9", "-0e-9", "0.000"],
        ["1e400", "10e399", "1E400", "0.1e401"],
        ["1000", "1e3", "1.0e3", "10000e-1"],
        ["123456789012345678901234567890", "1.23456789012345678901234567890e29"],
        ["1.5", "15e-1", "0.00015e4", "150E-2"],
        ["\"x\"", "\"\\u0078\""],
        ["\"stage\"", "\"st\\u0061ge\"", "\"\\u0073tage\""],
        ["\"\\n\"", "\"\\u000a\"", "\"\\u000A\""],
        ["\"😀\"", "\"\\ud83d\\ude00\"", "\"\\uD83D\\uDE00\""],
        ["\"é\"", "\"\\u00e9\"", "\"\\u00E9\""],
        ["\"Demo Scheduled\"", "\"Demo\\u0020Scheduled\""],
    ];

    private static readonly string[] Others =
    [
        "null", "true", "false", "-1", "2", "1e-400", "9223372036854775808", "\"\"", "\"Proposal Sent\"", "\"a\\\"b\"", "\"y\"",
    ];

    /// <summary>Values whose comparison with a different one makes DeepEquals throw (and a name that does when decoded).</summary>
    private static readonly string[] Throwing = ["1e99999999999", "\"\\ud800\"", "\"\\udc00x\"", "\"\\ud800abcdefgh\"", "\"ab\\ud800\""];

    private static readonly string[] Spaces = ["", "", "", " ", "\n", "\t", "\r\n  "];

    private static readonly Dictionary<string, string[]> GroupOf = Equal.SelectMany(g => g.Select(v => (v, g))).ToDictionary(p => p.v, p => p.g);

    [Property(MaxTest = 4000)]
    public Property RawChangeSet_gives_what_ChangeSet_gives() =>
        Prop.ForAll(Pairs().ToArbitrary(), p =>
        {
            var expected = Oracle(p.Before, p.After);
            var actual = Raw(p.Before, p.After);
            var noted = Noted(p.Before, p.After);
            return (expected == actual && expected == noted)
                .Label($"before: {p.Before}\nafter:  {p.After}\n  oracle: {expected}\n  raw:    {actual}\n  noted:  {noted}");
        });

    [Theory]
    [InlineData("{\"n\":1}", "{\"n\":1.0}")]
    [InlineData("{\"n\":10e-1}", "{\"n\":1e0}")]
    [InlineData("{\"n\":-0}", "{\"n\":0}")]
    [InlineData("{\"n\":1e400}", "{\"n\":10e399}")]
    [InlineData("{\"n\":1e400}", "{\"n\":1e401}")]
    [InlineData("{\"n\":1e99999999999}", "{\"n\":1e99999999999}")]
    [InlineData("{\"n\":1e99999999999}", "{\"n\":2}")]
    [InlineData("{\"s\":\"st\\u0061ge\"}", "{\"s\":\"stage\"}")]
    [InlineData("{\"s\":\"\\ud800\"}", "{\"s\":\"abcdefg\"}")]
    [InlineData("{\"s\":\"\\ud800\"}", "{\"s\":\"x\"}")]
    [InlineData("{\"s\":\"\\ud800\"}", "{\"s\":\"\\ud800 \"}")]
    [InlineData("{\"s\":\"\\ud800\"}", "{\"s\":\"\"}")]
    [InlineData("{\"s\":\"ab\\ud800\"}", "{\"s\":\"b\"}")]
    [InlineData("{\"o\":{\"a\":1,\"a\":2}}", "{\"o\":{\"a\":2,\"a\":1}}")]
    [InlineData("{\"o\":{\"a\":1,\"b\":[1, 2]}}", "{\"o\":{ \"b\":[1.0,2],\"a\":1}}")]
    [InlineData("{\"a\":1,\"a\":2}", "{\"a\":3,\"a\":1}")]
    [InlineData("{\"\\ud800\":1}", "{\"b\":1}")]
    [InlineData(" { \"a\" : null } ", "[1]")]
    public void Edge_cases_give_what_ChangeSet_gives(string before, string after)
    {
        Assert.Equal(Oracle(before, after), Raw(before, after));
        Assert.Equal(Oracle(before, after), Noted(before, after));
    }

    [Theory]
    [InlineData(16, true)]
    [InlineData(17, false)]
    public void The_message_reader_notes_the_members_of_records_up_to_16(int members, bool noted)
    {
        var record = "{" + string.Join(',', Enumerable.Range(0, members).Select(i => $"\"f{i}\":{i}")) + "}";
        var message = Encoding.UTF8.GetBytes($"{{\"before\":{record},\"after\":{{\"f0\":1}}}}");
        Span<RawValue> slots = stackalloc RawValue[RawMessage.Slots];
        Span<Member> records = stackalloc Member[RawMessage.RecordSlots];
        var m = new RawMessage(message, slots, records);
        Assert.Equal(noted, m.Noted(RawField.before).Known);
        Assert.True(m.Noted(RawField.after).Known);
        Assert.Equal(Oracle(record, "{\"f0\":1}"), Noted(record, "{\"f0\":1}"));
    }

    [Fact]
    public void A_created_record_lists_every_field_of_after_with_before_null()
    {
        var after = "{\"stage\":\"Demo Scheduled\",\"amount\":1000,\"note\":null}"u8.ToArray();
        var changes = RawChangeSet.Compute([], after);
        Assert.Equal(["stage", "amount", "note"], changes.Select(c => c.Field));
        Assert.All(changes, c => Assert.Null(c.Before));
        Assert.Equal(["\"Demo Scheduled\"", "1000", "null"], changes.Select(c => Text(after, c.After)));
    }

    [Fact]
    public void A_deleted_record_lists_every_field_of_before_with_after_null()
    {
        var before = "{\"stage\":\"Demo Scheduled\",\"amount\":1000}"u8.ToArray();
        var changes = RawChangeSet.Compute(before, []);
        Assert.Equal(["stage", "amount"], changes.Select(c => c.Field));
        Assert.All(changes, c => Assert.Null(c.After));
        Assert.Equal(["\"Demo Scheduled\"", "1000"], changes.Select(c => Text(before, c.Before)));
    }

    [Fact]
    public void The_contract_example_changes_only_the_stage()
    {
        var before = "{\"stage\":\"Demo Scheduled\",\"amount\":1000}"u8.ToArray();
        var after = "{\"stage\":\"Proposal Sent\",\"amount\":1000}"u8.ToArray();
        var change = Assert.Single(RawChangeSet.Compute(before, after));
        Assert.Equal("stage", change.Field);
        Assert.Equal("\"Demo Scheduled\"", Text(before, change.Before));
        Assert.Equal("\"Proposal Sent\"", Text(after, change.After));
    }

    [Fact]
    public void A_flat_record_allocates_only_the_list_and_the_changed_names()
    {
        var before = "{\"stage\":\"Demo Scheduled\",\"amount\":1000,\"ratio\":1.0,\"note\":\"a\\nb\"}"u8.ToArray();
        var after = "{\"stage\":\"Proposal Sent\",\"amount\":1e3,\"ratio\":1,\"note\":\"a\\u000ab\"}"u8.ToArray();
        for (var i = 0; i < 100; i++)
        {
            RawChangeSet.Compute(before, after);
            RawChangeSet.Compute(before, before);
        }

        var changed = Allocated(() => RawChangeSet.Compute(before, after));
        var same = Allocated(() => RawChangeSet.Compute(before, before));
        var list = Allocated(() => new List<RawChange> { new(new string('s', 5), null, null) });
        Assert.True(changed <= list, $"{changed} bytes for one change, {list} for the list and name alone");
        Assert.True(same <= Allocated(() => new List<RawChange>()), $"{same} bytes for no change");
    }

    private static long Allocated(Func<object> f)
    {
        var start = GC.GetAllocatedBytesForCurrentThread();
        GC.KeepAlive(f());
        return GC.GetAllocatedBytesForCurrentThread() - start;
    }

    private static string Text(byte[] json, Range? r) => r is { } v ? Encoding.UTF8.GetString(json.AsSpan()[v]) : "<null>";

    private static string Oracle(string before, string after)
    {
        using var b = before.Length == 0 ? null : JsonDocument.Parse(before);
        using var a = after.Length == 0 ? null : JsonDocument.Parse(after);
        try
        {
            var changes = ChangeSet.Compute(b?.RootElement, a?.RootElement);
            return string.Join("; ", changes.Select(c => $"{c.Field}: {c.Before?.GetRawText() ?? "<null>"} -> {c.After?.GetRawText() ?? "<null>"}"));
        }
        catch (Exception e)
        {
            return $"throws {e.GetType().Name}: {e.Message}";
        }
    }

    private static string Raw(string before, string after)
    {
        var b = Encoding.UTF8.GetBytes(before);
        var a = Encoding.UTF8.GetBytes(after);
        try
        {
            var changes = RawChangeSet.Compute(b, a);
            return string.Join("; ", changes.Select(c => $"{c.Field}: {Text(b, c.Before)} -> {Text(a, c.After)}"));
        }
        catch (Exception e)
        {
            return $"throws {e.GetType().Name}: {e.Message}";
        }
    }

    /// <summary>The same through the message's reader, which notes the records' members as it reads them (RawMessage.Changes).</summary>
    private static string Noted(string before, string after)
    {
        var fields = new List<string>();
        if (before.Length > 0)
        {
            fields.Add($"\"before\":{before}");
        }

        if (after.Length > 0)
        {
            fields.Add($"\"after\":{after}");
        }

        var message = Encoding.UTF8.GetBytes("{" + string.Join(",", fields) + "}");
        Span<RawValue> slots = stackalloc RawValue[RawMessage.Slots];
        Span<Member> records = stackalloc Member[RawMessage.RecordSlots];
        var m = new RawMessage(message, slots, records);
        var b = m.RawOf(RawField.before).ToArray();
        var a = m.RawOf(RawField.after).ToArray();
        try
        {
            var changes = new List<RawChange>();
            m.Changes(b, a, changes);
            return string.Join("; ", changes.Select(c => $"{c.Field}: {Text(b, c.Before)} -> {Text(a, c.After)}"));
        }
        catch (Exception e)
        {
            return $"throws {e.GetType().Name}: {e.Message}";
        }
    }

    private sealed record Pair(string Before, string After);

    private static Gen<Pair> Pairs() =>
        from before in MemberList(2)
        from edited in Edited(before)
        from after in Gen.Frequency((3, Gen.Constant(edited)), (1, MemberList(2)))
        from beforeSide in Side(before)
        from afterSide in Side(after)
        select new Pair(beforeSide, afterSide);

    /// <summary>Mostly an object; sometimes absent, or a value of another kind (which ChangeSet treats as absent).</summary>
    private static Gen<string> Side(List<(string Name, string Value)> members) => Gen.Frequency(
        (10, ObjectText(members)),
        (1, Gen.Constant("")),
        (1, from v in Gen.Elements("[1]", "[]", "\"x\"", "null", "5", "[{\"a\":1}]", "true") from s in Space() select s + v + s));

    private static Gen<string> Space() => Gen.Elements(Spaces);

    private static Gen<string> ObjectText(List<(string Name, string Value)> members) =>
        from spaces in Gen.ListOf(Space(), members.Count * 4 + 2)
        select spaces[0] + "{" + string.Join(",", members.Select((m, i) =>
            $"{spaces[i * 4 + 1]}\"{m.Name}\"{spaces[i * 4 + 2]}:{spaces[i * 4 + 3]}{m.Value}{spaces[i * 4 + 4]}")) + (members.Count == 0 ? spaces[1] : "") + "}" + spaces[^1];

    /// <summary>Members with names from a small set (so they overlap and repeat); usually a few, sometimes past 16.</summary>
    private static Gen<List<(string Name, string Value)>> MemberList(int depth) =>
        from count in Gen.Frequency((8, Gen.Choose(0, 6)), (2, Gen.Choose(14, 20)))
        from names in Gen.ListOf(Gen.Frequency((60, Gen.Elements(Names)), (1, Gen.Constant("\\ud800z"))), count)
        from values in Gen.ListOf(Value(depth), count)
        select names.Zip(values).ToList();

    private static Gen<string> Value(int depth)
    {
        var scalar = Gen.Frequency(
            (6, Gen.Elements(Equal).SelectMany(Gen.Elements)),
            (3, Gen.Elements(Others)),
            (1, Gen.Elements(Throwing).SelectMany(t => Gen.Frequency((1, Gen.Constant(t)), (20, Gen.Constant("null"))))));
        if (depth == 0)
        {
            return scalar;
        }

        return Gen.Frequency(
            (8, scalar),
            (1, from n in Gen.Choose(0, 3) from items in Gen.ListOf(Value(depth - 1), n) from s in Space() select "[" + s + string.Join("," + s, items) + "]"),
            (1, from ms in Gen.Choose(0, 3).SelectMany(n => Gen.ListOf(Gen.Elements("a", "b", "\\u0061"), n).SelectMany(ns => Gen.ListOf(Value(depth - 1), n).Select(vs => ns.Zip(vs).ToList())))
                from text in ObjectText(ms)
                select text));
    }

    /// <summary>after from before: members kept, respelled equal, replaced, dropped, reordered, and some added.</summary>
    private static Gen<List<(string Name, string Value)>> Edited(List<(string Name, string Value)> before) =>
        from ops in Gen.ListOf(Gen.Choose(0, 9), before.Count)
        from picks in Gen.ListOf(Gen.Choose(0, 1000), before.Count)
        from replacements in Gen.ListOf(Value(1), before.Count)
        from added in Gen.Choose(0, 3).SelectMany(n => Gen.ListOf(Gen.Elements(Names), n).SelectMany(ns => Gen.ListOf(Value(1), n).Select(vs => ns.Zip(vs).ToList())))
        from reversed in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
        select Edit(before, ops, picks, replacements, added, reversed);

    private static List<(string Name, string Value)> Edit(
        List<(string Name, string Value)> before, IList<int> ops, IList<int> picks, IList<string> replacements, List<(string, string)> added, bool reversed)
    {
        var after = new List<(string Name, string Value)>();
        for (var i = 0; i < before.Count; i++)
        {
            var (name, value) = before[i];
            switch (ops[i])
            {
                case <= 4:
                    after.Add((name, value));
                    break;
                case <= 6:
                    after.Add((name, GroupOf.TryGetValue(value, out var g) ? g[picks[i] % g.Length] : value));
                    break;
                case <= 8:
                    after.Add((name, replacements[i]));
                    break;
                default:
                    break;
            }
        }

        after.AddRange(added);
        if (reversed)
        {
            after.Reverse();
        }

        return after;
    }
}
