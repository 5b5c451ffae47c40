using System.Text;
using System.Text.Json;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Integrity;
using AuditPipeline.Integrity.Tests.Support;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace AuditPipeline.Integrity.Tests;

/// <summary>
/// The fast event hash (canonical bytes written straight from the event) against its definition, the
/// reference path (the API's JSON, parsed, canonicalized): byte for byte, on hostile events.
/// </summary>
public sealed class EventHashPropertyTests
{
    private static readonly string[] Pieces =
    [
        "", "a", "evt_1", " ", "\u2028", "\u2029", "\u0000", "\u0001", "\u001f", "\u007f", "\b", "\f", "\n", "\r", "\t",
        "\"", "\\", "/", "<script>&'", "+", "é", "ö", "€", "\ufeff", "\ufb33", "\U0001F600", "\U00010000", "\U0010FFFF",
        "\ud83d\ude00\u0301", "日本語", "\u00a0", "null", "1e21", "-0",
    ];

    private static readonly string[] Numbers =
    [
        "0", "-0", "-0.0", "0.0", "1", "-1", "100", "1E+2", "2.50", "1e21", "1e+21", "1E21", "1e20", "5e-324", "-5e-324",
        "4.9e-324", "1.7976931348623157e308", "1e400", "-1e400", "123456789012345678901234567890", "9007199254740993",
        "999999999999999", "1000000000000000", "0.1", "1.5e-7", "0.000001", "1e-7", "333333333.33333329", "1E30",
        "0.000000000000000000000000001", "-1e-7", "12345678901234567890.5",
    ];

    private static readonly string[] Keys =
    [
        "a", "b", "A", "", "\u20ac", "\r", "\ufb33", "1", "\U0001F600", "\u0080", "\u00f6", "id", "stage", "\"", "\\", "\u2028", "key with space",
    ];

    [Property(MaxTest = 1500)]
    public Property The_fast_hash_equals_the_reference_path_for_every_generated_event() =>
        Prop.ForAll(Events().ToArbitrary(), e =>
        {
            var fast = EventHash.CanonicalFast(e);
            var reference = EventHash.CanonicalReference(e);
            return fast is not null
                && fast.AsSpan().SequenceEqual(reference)
                && EventHash.Compute(e).AsSpan().SequenceEqual(EventHash.ComputeReference(e));
        });

    [Fact]
    public void A_deeply_nested_change_is_hashed_as_the_reference_path_hashes_it()
    {
        // 120 levels inside changes[].before: deeper than JsonDocument's default of 64 with the event around it.
        var deep = Parse(string.Concat(Enumerable.Repeat("[", 120)) + "1e21" + string.Concat(Enumerable.Repeat("]", 120)));
        var e = Event(new Random(3)) with { Changes = [new AuditChange("x", deep, null)], Before = deep };

        Assert.Equal(EventHash.CanonicalReference(e), EventHash.CanonicalFast(e));
        Assert.Equal(EventHash.ComputeReference(e), EventHash.Compute(e));
    }

    [Fact]
    public void A_string_that_is_not_valid_UTF16_falls_back_to_the_reference_path()
    {
        var e = Event(new Random(4)) with { Id = "evt_\ud800x" };

        Assert.Null(EventHash.CanonicalFast(e));
        Assert.Equal(EventHash.ComputeReference(e), EventHash.Compute(e));
    }

    [Fact]
    public void A_long_event_is_hashed_the_same_and_the_per_thread_buffer_survives_it()
    {
        var huge = new string('\u20ac', 300_000) + "\U0001F600" + new string('x', 5000);
        var e = Event(new Random(5)) with { UserAgent = huge, Details = Parse(JsonSerializer.Serialize(new { note = huge })) };

        Assert.Equal(EventHash.ComputeReference(e), EventHash.Compute(e));
        var small = Event(new Random(6));
        Assert.Equal(EventHash.ComputeReference(small), EventHash.Compute(small));
    }

    [Fact]
    public void The_contract_example_canonicalizes_to_the_sorted_form()
    {
        var e = AuditJson.Deserialize("""
            {"id":"evt_a1b2c3d4e5","time":"2026-11-29T10:32:00.000Z","orgId":"org_42",
             "category":"crm","action":"stage_changed","eventType":"deal.stage_changed","outcome":"success",
             "actor":{"type":"user","id":"usr_7","name":"Ana Silva","email":"ana@acme.test"},
             "entity":{"type":"deal","id":"deal_123","name":"Acme Corp Enterprise"},
             "source":"Admin","ip":"203.0.113.5","userAgent":"Mozilla/5.0 ...",
             "changes":[{"field":"stage","before":"Demo Scheduled","after":"Proposal Sent"}],
             "before":{"stage":"Demo Scheduled","amount":1000},"after":{"stage":"Proposal Sent","amount":1000},
             "ai":null,"details":{"requestId":"req_9"},"receivedAt":"2026-11-29T10:32:00.412Z"}
            """);
        var expected = "{\"action\":\"stage_changed\",\"actor\":{\"email\":\"ana@acme.test\",\"id\":\"usr_7\",\"name\":\"Ana Silva\",\"type\":\"user\"}," +
            "\"after\":{\"amount\":1000,\"stage\":\"Proposal Sent\"},\"ai\":null,\"before\":{\"amount\":1000,\"stage\":\"Demo Scheduled\"}," +
            "\"category\":\"crm\",\"changes\":[{\"after\":\"Proposal Sent\",\"before\":\"Demo Scheduled\",\"field\":\"stage\"}]," +
            "\"details\":{\"requestId\":\"req_9\"},\"entity\":{\"id\":\"deal_123\",\"name\":\"Acme Corp Enterprise\",\"type\":\"deal\"}," +
            "\"eventType\":\"deal.stage_changed\",\"id\":\"evt_a1b2c3d4e5\",\"ip\":\"203.0.113.5\",\"orgId\":\"org_42\",\"outcome\":\"success\"," +
            "\"receivedAt\":\"2026-11-29T10:32:00.412Z\",\"source\":\"Admin\",\"time\":\"2026-11-29T10:32:00.000Z\",\"userAgent\":\"Mozilla/5.0 ...\"}";

        Assert.Equal(expected, Encoding.UTF8.GetString(EventHash.CanonicalFast(e)!));
        Assert.Equal(expected, Encoding.UTF8.GetString(EventHash.CanonicalReference(e)));
    }

    private static Gen<AuditEvent> Events() => Gen.Choose(0, int.MaxValue).Select(seed => Event(new Random(seed)));

    private static AuditEvent Event(Random r) => new()
    {
        Id = Text(r),
        Time = HostileTime.Instant(r),
        OrgId = Text(r),
        Category = Text(r),
        Action = Text(r),
        EventType = Text(r),
        Outcome = Text(r),
        Actor = new AuditActor(Text(r), TextOrNull(r), TextOrNull(r), TextOrNull(r)),
        Entity = new AuditEntity(Text(r), TextOrNull(r), TextOrNull(r)),
        Source = Text(r),
        Ip = TextOrNull(r),
        UserAgent = TextOrNull(r),
        Changes = [.. Enumerable.Range(0, r.Next(4)).Select(_ => new AuditChange(Text(r), ValueOrNull(r), ValueOrNull(r)))],
        Before = ValueOrNull(r),
        After = ValueOrNull(r),
        Ai = r.Next(3) == 0 ? null : new AuditAi(r.Next(2) == 0, TextOrNull(r), TextOrNull(r), Text(r)),
        Details = r.Next(4) == 0 ? AuditJson.EmptyObject : Parse(ObjectJson(r, r.Next(5) == 0 ? 60 : 4)),
        ReceivedAt = HostileTime.Instant(r),
    };

    private static string Text(Random r)
    {
        if (r.Next(40) == 0)
        {
            return new string((char)r.Next(0x20, 0xD7FF), r.Next(1000, 20_000)) + Pieces[r.Next(Pieces.Length)];
        }

        var sb = new StringBuilder();
        for (var i = r.Next(6); i > 0; i--)
        {
            sb.Append(Pieces[r.Next(Pieces.Length)]);
        }

        return sb.ToString();
    }

    private static string? TextOrNull(Random r) => r.Next(4) == 0 ? null : Text(r);

    private static JsonElement? ValueOrNull(Random r) => r.Next(4) == 0 ? null : Parse(ValueJson(r, r.Next(8) == 0 ? 70 : 4));

    private static string ValueJson(Random r, int depth) => (depth > 0 ? r.Next(7) : r.Next(4)) switch
    {
        0 => StringJson(r, Text(r)),
        1 => Numbers[r.Next(Numbers.Length)],
        2 => new[] { "true", "false", "null" }[r.Next(3)],
        3 => r.Next(2) == 0 ? "{}" : "[]",
        4 or 5 => ObjectJson(r, depth - 1),
        _ => "[" + string.Join(",", Enumerable.Range(0, r.Next(1, 4)).Select(_ => ValueJson(r, depth - 1))) + "]",
    };

    private static string ObjectJson(Random r, int depth)
    {
        var members = Enumerable.Range(0, r.Next(0, 5))
            .Select(_ => StringJson(r, r.Next(3) == 0 ? Text(r) : Keys[r.Next(Keys.Length)]) + (r.Next(2) == 0 ? ":" : " : ") + ValueJson(r, depth - 1));
        return "{" + string.Join(",", members) + "}";
    }

    /// <summary>A JSON string literal, sometimes with every non-ASCII character escaped, sometimes raw.</summary>
    private static string StringJson(Random r, string s)
    {
        if (r.Next(2) == 0)
        {
            return JsonSerializer.Serialize(s);
        }

        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '/' when r.Next(2) == 0 => "\\/",
                < ' ' => $"\\u{(int)c:X4}",
                _ => c.ToString(),
            });
        }

        return sb.Append('"').ToString();
    }

    private static JsonElement Parse(string json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
        return doc.RootElement.Clone();
    }
}
