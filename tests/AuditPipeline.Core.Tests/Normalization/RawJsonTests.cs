using System.Buffers;
using System.Text;
using System.Text.Json;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Integrity;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Testing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace AuditPipeline.Core.Tests.Normalization;

/// <summary>
/// An event's JSON values held as the bytes they came in: written as they are only when that is what
/// writing the element gives, parsed only when an element is asked for, and never parsed on the way
/// to the store (the document and the hash are made from the bytes).
/// </summary>
public class RawJsonTests
{
    private static readonly string[] Scalars =
    [
        "null", "true", "false", "0", "-0", "1.50", "1E3", "-2.5e-7", "123456789012345678901234567890", "\"\"", "\"Demo Scheduled\"",
        "\"ana@acme.test\"", "\"a+b\"", "\"<b>\"", "\"&\"", "\"'\"", "\"`\"", "\"\u007f\"", "\"é\"", "\"😀\"", "\"\\u00e9\"", "\"\\n\"",
        "\"\\\"\"", "\"\\/\"", "\"a b\"", "\"x\\ty\"",
    ];

    private static readonly string[] Names = ["a", "stage", "amount", "a b", "a+b", "é", "\\u0061", "<", ""];

    private static readonly string[] Spaces = ["", "", "", " ", "\n", "\t", "\r\n  "];

    [Property(MaxTest = 2000)]
    public Property Bytes_written_as_they_are_give_exactly_what_writing_the_element_gives() =>
        Prop.ForAll(Values(3).ToArbitrary(), json =>
        {
            var raw = Encoding.UTF8.GetBytes(json);
            var expected = Written(e => JsonDocument.Parse(raw).RootElement.WriteTo(e));
            var actual = Written(new RawJson(raw).WriteTo);
            return (expected == actual).Label($"{json}\n  element: {expected}\n  raw:     {actual}");
        });

    [Theory]
    [InlineData("{\"stage\":\"Demo Scheduled\",\"amount\":1000}")]
    [InlineData("[1,{\"x\":[true,null,\"a b\"]},-2.5e-7]")]
    [InlineData("\"ana@acme.test\"")]
    public void Compact_printable_ascii_is_written_as_it_is(string json) =>
        Assert.True(new RawJson(Encoding.UTF8.GetBytes(json)).IsAsWritten);

    [Theory]
    [InlineData("{ \"stage\":1}")]
    [InlineData("[1,\n2]")]
    [InlineData("\"a+b\"")]
    [InlineData("\"é\"")]
    [InlineData("\"\\u0041\"")]
    [InlineData("{\"<\":1}")]
    public void Whitespace_between_tokens_and_characters_the_encoder_escapes_go_through_the_element(string json) =>
        Assert.False(new RawJson(Encoding.UTF8.GetBytes(json)).IsAsWritten);

    [Fact]
    public void An_indented_or_relaxed_writer_gets_what_writing_the_element_gives_it()
    {
        var raw = Encoding.UTF8.GetBytes("{\"stage\":\"Demo Scheduled\",\"x\":[1]}");
        foreach (var options in new[] { new JsonWriterOptions { Indented = true }, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping } })
        {
            var expected = Written(w => JsonDocument.Parse(raw).RootElement.WriteTo(w), options);
            Assert.Equal(expected, Written(new RawJson(raw).WriteTo, options));
        }
    }

    [Fact]
    public void The_element_is_parsed_once_whichever_thread_asks_first()
    {
        var raw = new RawJson(Encoding.UTF8.GetBytes("{\"a\":[1,2,3]}"));
        var elements = new JsonElement[64];
        Parallel.For(0, elements.Length, i => elements[i] = raw.Element);
        Assert.All(elements, e => Assert.Equal(elements[0], e));
        Assert.Equal(3, elements[0].GetProperty("a").GetArrayLength());
    }

    [Theory]
    [InlineData(SourceKind.Crm)]
    [InlineData(SourceKind.Auth)]
    [InlineData(SourceKind.Ai)]
    [InlineData(SourceKind.Platform)]
    public void Storing_and_hashing_a_normalized_event_parses_no_document(SourceKind kind)
    {
        var e = new AuditNormalizer().Normalize(kind, Encoding.UTF8.GetBytes(SamplePayloads.For(kind)), SamplePayloads.ExampleTime).Event!;
        var raws = Raws(e).ToList();
        Assert.NotEmpty(raws);

        AuditJson.SerializeToUtf8Bytes(e);
        EventHash.ComputeHex(e);

        Assert.All(raws, r => Assert.False(r.IsParsed, $"parsed: {Encoding.UTF8.GetString(r.Utf8)}"));
        Assert.All(raws, r => Assert.True(r.IsAsWritten, $"not written as it is: {Encoding.UTF8.GetString(r.Utf8)}"));
    }

    [Fact]
    public void Values_that_are_not_written_as_they_are_are_stored_and_hashed_without_a_document_too()
    {
        var message = """{"id":"e1","type":"deal.updated","created_at":"2026-11-29T10:32:00Z","org_id":"o","before":{ "stage" : "Démo", "n":1.0, "x":{"y":[1, 2]}, "é":"<b>&'+`"},"after":{"stage":"B\u00e9","n":1,"x":{"y":[1,2]},"z":"\n"}}""";
        var e = new AuditNormalizer().Normalize(SourceKind.Crm, Encoding.UTF8.GetBytes(message), SamplePayloads.ExampleTime).Event!;
        var raws = Raws(e).ToList();
        Assert.Contains(raws, r => !r.IsAsWritten);

        var document = AuditJson.Serialize(e);
        EventHash.ComputeHex(e);

        Assert.All(raws, r => Assert.False(r.IsParsed, $"parsed: {Encoding.UTF8.GetString(r.Utf8)}"));
        Assert.Contains("\"stage\":\"D\\u00E9mo\"", document, StringComparison.Ordinal);
    }

    [Fact]
    public void A_value_past_the_raw_canonicalizers_limit_is_hashed_through_its_element_with_the_same_result()
    {
        // Deeply nested and wide: the raw writer would read the inner array once per level.
        var wide = "[" + string.Join(",", Enumerable.Range(0, 4_000).Select(i => i % 7 == 0 ? "1.50" : "\"é\"")) + "]";
        var nested = string.Concat(Enumerable.Repeat("{\"a\":", 40)) + wide + new string('}', 40);
        var message = "{\"id\":\"e1\",\"type\":\"deal.updated\",\"created_at\":\"2026-11-29T10:32:00Z\",\"org_id\":\"o\",\"after\":" + nested + "}";
        var e = new AuditNormalizer().Normalize(SourceKind.Crm, Encoding.UTF8.GetBytes(message), SamplePayloads.ExampleTime).Event!;
        Assert.True(e.AfterJson.Raw!.Utf8.Length > CanonicalEventWriter.RawLimit);

        var hash = EventHash.ComputeHex(e);

        Assert.True(e.AfterJson.Raw.IsParsed);
        Assert.Equal(EventHash.ComputeHex(e with { After = e.After, Changes = [.. e.Changes.Select(c => new AuditChange(c.Field, c.Before, c.After))] }), hash);
    }

    private static IEnumerable<RawJson> Raws(AuditEvent e)
    {
        IEnumerable<JsonSlot> slots = [e.BeforeJson, e.AfterJson, e.DetailsJson, .. e.Changes.SelectMany(c => new[] { c.BeforeJson, c.AfterJson })];
        return slots.Select(s => s.Raw).OfType<RawJson>();
    }

    private static string Written(Action<Utf8JsonWriter> write, JsonWriterOptions options = default)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, options))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static Gen<string> Values(int depth) =>
        depth == 0
            ? Gen.Elements(Scalars)
            : Gen.Frequency(
                (3, Gen.Elements(Scalars)),
                (2, from n in Gen.Choose(0, 4)
                    from items in Gen.ListOf(Spaced(Values(depth - 1)), n)
                    select "[" + string.Join(",", items) + "]"),
                (3, from n in Gen.Choose(0, 4)
                    from names in Gen.ListOf(Gen.Elements(Names), n)
                    from values in Gen.ListOf(Spaced(Values(depth - 1)), n)
                    from space in Gen.Elements(Spaces)
                    select "{" + string.Join(",", names.Zip(values, (k, v) => $"{space}\"{k}\"{space}:{v}")) + "}"));

    private static Gen<string> Spaced(Gen<string> value) =>
        from before in Gen.Elements(Spaces)
        from v in value
        from after in Gen.Elements(Spaces)
        select before + v + after;
}
