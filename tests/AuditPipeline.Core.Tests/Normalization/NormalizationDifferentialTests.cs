using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Integrity;
using AuditPipeline.Core.Normalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using OracleNormalizer = AuditPipeline.Core.Tests.Normalization.Oracle.AuditNormalizer;

namespace AuditPipeline.Core.Tests.Normalization;

/// <summary>
/// The single-pass normalizer against the JsonDocument one it replaced (kept verbatim in Oracle/):
/// generated and hostile messages (every field removed, retyped, duplicated, renamed with escapes;
/// nested members likewise; deep nesting, huge numbers, lone surrogates, NUL, invalid UTF-8, cut or
/// padded bytes, implausible times, whitespace inside kept values) must give the same result, byte for
/// byte: the event's JSON, its integrity hash and whether its type is unknown, or the same reject
/// reason and sentence.
/// </summary>
public class NormalizationDifferentialTests
{
    private static readonly AuditNormalizer Normalizer = new();
    private static readonly OracleNormalizer Oracle = new();

    private static readonly string[] TopNames =
    [
        .. Enum.GetNames<RawField>(), "x_extra", "\\u0069d", "i\\u0064", "\\u0074ype", "\\u0062efore", "aft\\u0065r", "\\u0074s", "ts\\u0000",
        "\\u006fn_behalf_of", "\\u0061ctor", "ID", "Id", "",
    ];

    private static readonly string[] MemberNames =
    [
        .. Enum.GetNames<RawMember>(), "\\u0069d", "n\\u0061me", "\\u0074ype", "ch\\u0061nnel", "field", "from", "to", "x", "",
    ];

    private static readonly string[] Values =
    [
        "null", "\"\"", "\"x\"", "0", "-0", "-1.5", "1e400", "123456789012345678901234567890", "9223372036854775808", "1764412320000",
        "1764412320", "1764412320000000", "1764412320000000000", "true", "false", "[]", "{}", "[1,{\"a\":null}]",
        Nest(62), Nest(63), Nest(64), "\"\\u0000\"", "\"a\\u0000b\"", "\"\\ud800\"", "\"\\udc00x\"", "\"\\ud83d\\ude00\"", "\"😀é\"",
        "\"\\u00e9\\n\\\"\\\\\"", "\"<script>&'\"", "\"2026-11-29T10:32:00Z\"", "\"2026-11-29T11:00:05.1234567+01:00\"", "\"2026-11-29T10:32Z\"",
        "\"2026-02-30T00:00:00Z\"", "\"2026-11-29T10:32:00\"", "\"1970-01-01T00:00:00Z\"", "\"2099-01-01T00:00:00Z\"", "\"2025-11-29T10:32:00Z\"",
        "\"0001-01-01T00:00:00Z\"", "\"2\\u0030\\u0032\\u0036-11-29T10:32:00Z\"", "\"a.b\"", "\"deal.created\"", "\"deal.Created\"", "\"x.y.z\"",
        "\"login.failed\"", "\"logout\"", "\"sso.configured\"", "\"session.terminated\"", "\"api_key.revoked\"", "\"settings\"", "\"data\"",
        "\"security\"", "\"import.completed\"", "\"gdpr.erasure_executed\"", "\"pipeline.created\"", "\"update\"", "\"UPDATE\"", "\"failed\"",
        "\"user\"", "\"system\"", "\"api_key\"", "\"workflow\"", "\"chat\"", "\"api\"", "\"admin\"", "\"" + new string('z', 257) + "\"",
        "\"" + new string('z', 256) + "\"", "\"" + new string('é', 200) + "\"", "{\"type\":\"system\"}", "{\"type\":5}", "{\"id\":\"a\",\"id\":\"b\"}",
        "{\"stage\":\"x\",\"stage\":\"y\",\"amount\":1.0}", "{\"amount\":1000,\"st\\u0061ge\":\"Demo Scheduled\"}", "{\"a\":[1,2],\"b\":{\"c\":null}}",
        "{\"channel\":\"api\",\"ip\":\"1.2.3.4\",\"user_agent\":7,\"request_id\":\"r\"}", "{\"rows\":1,\"rows\":2,\"requestId\":\"q\"}",
        "[{\"field\":\"a\",\"from\":1,\"to\":2},{\"field\":5},3,{\"field\":\"b\",\"from\":null,\"to\":{\"x\":[1]}},{\"field\":\"b\",\"field\":\"c\",\"to\":1}]",
        "[{\"field\":\"a\",\"from\":1,\"from\":\"\\u00e9\",\"to\":null}]",
        "{ \"stage\" : \"Demo Scheduled\" ,\"amount\":\t1000, \"x\": [1, {\"y\" : null}] }",
        "[ {\"field\" : \"a\", \"from\" : [ 1 ] , \"to\" : { \"x\" : \"a+b\" } }, {\"fi\\u0065ld\":\"c\",\"to\":\"\\u00e9\"} ]",
        "{\"stage\":\"Demo\\u0020Scheduled\",\"amount\":1e3,\"n\":-0.0,\"\\u0061mount\":10E2}",
        Wide(16), Wide(17), Wide(16).Replace("1,", "2,", StringComparison.Ordinal), // records at and past the reader's 16 noted members
    ];

    [Property(MaxTest = 3000)]
    public Property The_single_pass_normalizer_gives_what_the_document_one_gave() =>
        Prop.ForAll(Messages().ToArbitrary(), m =>
        {
            var (kind, bytes) = m;
            var expected = Outcome(Oracle.Normalize(kind, bytes, Raw.Received));
            var actual = Outcome(Normalizer.Normalize(kind, bytes, Raw.Received));
            return (expected == actual).Label($"{Encoding.UTF8.GetString(bytes)}\n  oracle: {expected}\n  new:    {actual}");
        });

    [Property(MaxTest = 500)]
    public bool Arbitrary_bytes_give_what_the_document_normalizer_gave(byte[] bytes, int kindIndex)
    {
        var kind = SourceKinds.All[Math.Abs(kindIndex % 4)];
        return Outcome(Oracle.Normalize(kind, bytes, Raw.Received)) == Outcome(Normalizer.Normalize(kind, bytes, Raw.Received));
    }

    [Fact]
    public void The_compared_outcome_tells_apart_events_that_differ_in_one_byte_and_rejections_that_differ_in_reason()
    {
        var a = Outcome(Normalizer.Normalize(SourceKind.Crm, Encoding.UTF8.GetBytes(Raw.Crm().ToJsonString()), Raw.Received));
        var b = Outcome(Normalizer.Normalize(SourceKind.Crm, Encoding.UTF8.GetBytes(Raw.Crm().With("after", JsonNode.Parse("{\"stage\":\"Proposal Sent\",\"amount\":1001}")).ToJsonString()), Raw.Received));
        var missing = Outcome(Normalizer.Normalize(SourceKind.Crm, Encoding.UTF8.GetBytes(Raw.Crm().Without("id").ToJsonString()), Raw.Received));
        var wrong = Outcome(Normalizer.Normalize(SourceKind.Crm, Encoding.UTF8.GetBytes(Raw.Crm().With("id", 5).ToJsonString()), Raw.Received));
        Assert.NotEqual(a, b);
        Assert.NotEqual(missing, wrong);
        Assert.StartsWith("event", a, StringComparison.Ordinal);
        Assert.StartsWith("reject missing_field", missing, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"id\":\"a\",\"id\":\"b\"}")]
    [InlineData("{\"before\":{\"x\":1},\"before\":null}")]
    [InlineData("{\"actor\":{\"type\":\"system\"},\"actor\":{\"name\":\"B\"}}")]
    [InlineData("{\"actor\":{\"name\":\"A\"},\"actor\":\"x\"}")]
    [InlineData("{\"origin\":{\"ip\":\"1.1.1.1\",\"ip\":\"2.2.2.2\",\"\\u0069p\":3}}")]
    public void Duplicate_names_resolve_as_they_did(string members)
    {
        foreach (var kind in SourceKinds.All)
        {
            var json = Raw.For(kind).ToJsonString()[..^1] + "," + members[1..];
            var bytes = Encoding.UTF8.GetBytes(json);
            Assert.Equal(Outcome(Oracle.Normalize(kind, bytes, Raw.Received)), Outcome(Normalizer.Normalize(kind, bytes, Raw.Received)));
        }
    }

    /// <summary>Everything a caller or the store can see of a result, as one string.</summary>
    private static string Outcome(NormalizeResult r) => r.IsSuccess
        ? $"event unknown={r.IsUnknownType} {AuditJson.Serialize(r.Event)} hash={EventHash.ComputeHex(r.Event)}"
        : $"reject {r.Reason.Label()} {r.Error}";

    /// <summary>An object of <paramref name="members"/> members f0, f1, ... (the last one repeats the first name).</summary>
    private static string Wide(int members) =>
        "{" + string.Join(',', Enumerable.Range(0, members).Select(i => $"\"f{(i == members - 1 ? 0 : i)}\":{i % 3}")) + "}";

    private static string Nest(int depth) => new string('[', depth) + "1" + new string(']', depth);

    private static Gen<(SourceKind Kind, byte[] Bytes)> Messages() =>
        from kindIndex in Gen.Choose(0, 3)
        from asKind in Gen.Frequency((9, Gen.Constant(kindIndex)), (1, Gen.Choose(0, 3)))
        from count in Gen.Choose(0, 4)
        from edits in Gen.ListOf(Edit(), count)
        from corruption in Gen.Frequency((12, Gen.Constant(-1)), (1, Gen.Choose(0, 7)))
        from at in Gen.Choose(0, 10_000)
        select (SourceKinds.All[asKind], Corrupt(Encoding.UTF8.GetBytes(Build(SourceKinds.All[kindIndex], edits)), corruption, at));

    private sealed record EditOp(int Op, int Name, string Value, int Where);

    private static Gen<EditOp> Edit() =>
        from op in Gen.Choose(0, 4)
        from name in Gen.Choose(0, 1000)
        from value in Gen.Frequency((3, Gen.Elements(Values)), (2, MemberObject()))
        from place in Gen.Choose(0, 1000)
        select new EditOp(op, name, value, place);

    /// <summary>An object of nested members (the names every kind reads inside actor, origin, target...), duplicates and escapes included.</summary>
    private static Gen<string> MemberObject() =>
        from n in Gen.Choose(0, 5)
        from names in Gen.ListOf(Gen.Elements(MemberNames), n)
        from values in Gen.ListOf(Gen.Elements(Values), n)
        select "{" + string.Join(',', names.Zip(values, (k, v) => $"\"{k}\":{v}")) + "}";

    private static string Build(SourceKind kind, IEnumerable<EditOp> edits)
    {
        var members = Raw.For(kind).Select(p => (Name: p.Key, Value: p.Value?.ToJsonString() ?? "null")).ToList();
        foreach (var e in edits)
        {
            var existing = members.Count == 0 ? -1 : e.Name % members.Count;
            var name = TopNames[e.Name % TopNames.Length];
            switch (e.Op)
            {
                case 0 when existing >= 0:
                    members[existing] = (members[existing].Name, e.Value);
                    break;
                case 1 when existing >= 0:
                    members.RemoveAt(existing);
                    break;
                case 2:
                    members.Insert(e.Where % (members.Count + 1), (existing >= 0 && e.Where % 2 == 0 ? members[existing].Name : name, e.Value));
                    break;
                case 3 when existing >= 0:
                    members[existing] = (Escape(members[existing].Name, e.Where), members[existing].Value);
                    break;
                default:
                    members.Add((name, e.Value));
                    break;
            }
        }

        return "{" + string.Join(',', members.Select(m => $"\"{m.Name}\":{m.Value}")) + "}";
    }

    /// <summary>One character of a plain name written as a \u escape (the decoded name is the same).</summary>
    private static string Escape(string name, int where)
    {
        if (name.Length == 0 || name.Contains('\\', StringComparison.Ordinal))
        {
            return name;
        }

        var i = where % name.Length;
        return string.Concat(name.AsSpan(0, i), "\\u", ((int)name[i]).ToString("x4", CultureInfo.InvariantCulture), name.AsSpan(i + 1));
    }

    private static byte[] Corrupt(byte[] bytes, int corruption, int at)
    {
        var i = bytes.Length == 0 ? 0 : at % bytes.Length;
        return corruption switch
        {
            0 => bytes[..i],
            1 => [.. bytes[..i], 0xFF, .. bytes[i..]],
            2 => [.. bytes[..i], 0x00, .. bytes[i..]],
            3 => [.. bytes, .. " x"u8],
            4 => [.. " \n\t"u8, .. bytes, .. "\r\n "u8],
            5 => [.. "["u8, .. bytes, .. "]"u8],
            6 => [.. bytes[..i], 0xED, 0xA0, 0x80, .. bytes[i..]],
            7 => [.. bytes, .. bytes],
            _ => bytes,
        };
    }
}
