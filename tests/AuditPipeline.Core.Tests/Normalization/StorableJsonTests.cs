using System.Text;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Normalization;

namespace AuditPipeline.Core.Tests.Normalization;

/// <summary>JSON that cannot be stored faithfully: unpaired surrogate escapes anywhere, nesting past 64, bytes that are not UTF-8.</summary>
public class StorableJsonTests
{
    private const string Unpaired = "an unpaired UTF-16 surrogate, which cannot be stored faithfully";

    public static TheoryData<SourceKind> Kinds => [SourceKind.Crm, SourceKind.Auth, SourceKind.Ai, SourceKind.Platform];

    /// <summary>Where each kind carries free-form JSON of its own: a value inside it, as raw JSON text.</summary>
    public static TheoryData<SourceKind, string, string> NestedPlaces => new()
    {
        { SourceKind.Crm, "\"before\":{\"stage\":\"Demo\\ud800\",\"amount\":1000}", "before.stage" },
        { SourceKind.Crm, "\"after\":{\"tags\":[\"a\",{\"x\":\"\\udc00\"}]}", "after.tags[1].x" },
        { SourceKind.Crm, "\"data\":{\"id\":\"deal_1\",\"name\":\"N\\ud83d\"}", "data.name" },
        { SourceKind.Auth, "\"user\":{\"id\":\"usr_7\",\"name\":\"Ana\\udfff\"}", "user.name" },
        { SourceKind.Auth, "\"reason\":\"bad\\ud800password\"", "reason" },
        { SourceKind.Ai, "\"changes\":[{\"field\":\"amount\",\"from\":\"\\ud800\",\"to\":2}]", "changes[0].from" },
        { SourceKind.Ai, "\"error\":{\"message\":\"\\udbff\"}", "error.message" },
        { SourceKind.Platform, "\"details\":{\"rows\":1,\"file\":\"\\ud800.csv\"}", "details.file" },
        { SourceKind.Platform, "\"after\":{\"steps\":[[\"\\udc00\"]]}", "after.steps[0][0]" },
    };

    [Theory]
    [MemberData(nameof(NestedPlaces))]
    public void An_unpaired_surrogate_in_a_value_is_rejected_naming_its_path(SourceKind kind, string member, string path)
    {
        var r = Normalize(kind, With(kind, member));
        Assert.Equal(RejectReason.UnstorableText, r.Reason);
        Assert.StartsWith($"{path} holds the escape \\u", r.Error);
        Assert.EndsWith(Unpaired, r.Error);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void An_unpaired_surrogate_in_a_member_name_is_rejected_naming_the_name(SourceKind kind)
    {
        var nested = Normalize(kind, With(kind, "\"x_extra\":{\"ok\":1,\"st\\ud800age\":1}"));
        Assert.Equal($"the member name \"st\\ud800age\" in x_extra holds the escape \\ud800, {Unpaired}", nested.Error);
        Assert.Equal(RejectReason.UnstorableText, nested.Reason);

        var top = Normalize(kind, With(kind, "\"\\udc00\":1"));
        Assert.Equal($"the member name \"\\udc00\" at the top level holds the escape \\udc00, {Unpaired}", top.Error);
    }

    [Theory]
    [InlineData("\\ud800")]
    [InlineData("\\udc00")]
    [InlineData("\\uDBFF")]
    [InlineData("\\ud800\\u0041")]
    [InlineData("\\ud800\\ud800")]
    [InlineData("\\ud800x")]
    [InlineData("\\ud800\\n\\udc00")]
    [InlineData("\\ude00\\ud83d")]
    public void Every_form_of_unpaired_surrogate_is_rejected_in_every_kind(string escape)
    {
        foreach (var kind in SourceKinds.All)
        {
            var r = Normalize(kind, With(kind, $"\"x_extra\":\"a{escape}b\""));
            Assert.Equal(RejectReason.UnstorableText, r.Reason);
            Assert.StartsWith("x_extra holds the escape \\u", r.Error);
        }
    }

    [Theory]
    [InlineData("\\ud83d\\ude00")]
    [InlineData("\\uD83D\\uDE00")]
    [InlineData("\\\\ud800")]
    [InlineData("\\\\\\ud83d\\ude00")]
    [InlineData("\\u00e9\\u0000\\uffff")]
    [InlineData("😀 raw UTF-8 is fine")]
    public void Paired_surrogates_escaped_backslashes_and_other_escapes_are_stored(string text)
    {
        foreach (var kind in SourceKinds.All)
        {
            var r = Normalize(kind, With(kind, $"\"x_extra\":\"{text}\",\"k{text}\":1"));
            Assert.True(r.IsSuccess, r.Error);
            Assert.NotEmpty(AuditJson.Serialize(r.Event));
        }

        var crm = Normalize(SourceKind.Crm, With(SourceKind.Crm, $"\"before\":{{\"note\":\"{text}\"}},\"after\":{{\"note\":\"x\"}}"));
        Assert.True(crm.IsSuccess, crm.Error);
        var back = AuditJson.Deserialize(AuditJson.Serialize(crm.Event));
        Assert.Equal(crm.Event.Before!.Value.GetProperty("note").GetString(), back.Before!.Value.GetProperty("note").GetString());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Nesting_of_exactly_64_levels_is_accepted_and_65_rejected_naming_the_field(SourceKind kind)
    {
        // The root object is level 1, as JsonDocumentOptions.MaxDepth counts: 63 arrays inside it make 64.
        var ok = Normalize(kind, With(kind, $"\"x_extra\":{Nest(63)}"));
        Assert.True(ok.IsSuccess, ok.Error);

        var deep = Normalize(kind, With(kind, $"\"x_extra\":{Nest(64)}"));
        Assert.Equal(RejectReason.TooDeep, deep.Reason);
        Assert.Equal("the message nests objects and arrays more than 64 levels deep (in x_extra), more than can be stored faithfully", deep.Error);
    }

    [Fact]
    public void Brackets_and_quotes_inside_strings_do_not_count_as_nesting()
    {
        var text = new string('[', 200) + "\\\"" + new string('{', 200);
        var r = Normalize(SourceKind.Crm, With(SourceKind.Crm, $"\"before\":{{\"s\":\"{text}\"}}"));
        Assert.True(r.IsSuccess, r.Error);
    }

    [Fact]
    public void Nesting_of_objects_in_before_counts_like_arrays()
    {
        // The root is level 1, before's own object level 2: 63 objects in before make 64, 64 make 65.
        static string Objects(int n) => string.Concat(Enumerable.Repeat("{\"a\":", n)) + "1" + new string('}', n);
        var deep = Normalize(SourceKind.Crm, With(SourceKind.Crm, $"\"before\":{Objects(64)}"));
        Assert.True(deep.Reason == RejectReason.TooDeep, deep.Error);
        var fits = Normalize(SourceKind.Crm, With(SourceKind.Crm, $"\"before\":{Objects(63)}"));
        Assert.True(fits.IsSuccess, fits.Error);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xC0, 0xAF })]
    [InlineData(new byte[] { 0xE2, 0x82 })]
    public void Bytes_that_are_not_utf8_are_rejected_even_in_before_which_is_never_decoded(byte[] bad)
    {
        var json = Encoding.UTF8.GetBytes(With(SourceKind.Crm, "\"before\":{\"s\":\"IDX\"}"));
        var at = json.AsSpan().IndexOf("IDX"u8);
        var spliced = json[..at].Concat(bad).Concat(json[(at + 3)..]).ToArray();
        var r = new AuditNormalizer().Normalize(SourceKind.Crm, spliced, Raw.Received);
        Assert.Equal(RejectReason.InvalidJson, r.Reason);
        Assert.Equal($"the message is not valid UTF-8 (at byte {at})", r.Error);
    }

    [Fact]
    public void Any_unexpected_exception_inside_normalization_becomes_a_rejection_with_its_reason()
    {
        var normalizer = new AuditNormalizer { OnParsed = _ => throw new NullReferenceException("Object reference not set to an instance of an object.") };
        foreach (var kind in SourceKinds.All)
        {
            var r = normalizer.Normalize(kind, Encoding.UTF8.GetBytes(Raw.For(kind).ToJsonString()), Raw.Received);
            Assert.Equal(RejectReason.Internal, r.Reason);
            Assert.Equal("the message could not be normalized: NullReferenceException: Object reference not set to an instance of an object", r.Error);
        }
    }

    [Fact]
    public void Running_out_of_memory_is_not_blamed_on_the_message()
    {
        var normalizer = new AuditNormalizer { OnParsed = _ => throw new OutOfMemoryException() };
        Assert.Throws<OutOfMemoryException>(() => normalizer.Normalize(SourceKind.Crm, Encoding.UTF8.GetBytes(Raw.Crm().ToJsonString()), Raw.Received));
    }

    [Theory]
    [InlineData("{\"id\":", RejectReason.InvalidJson)]
    [InlineData("[]", RejectReason.InvalidJson)]
    [InlineData("", RejectReason.InvalidJson)]
    public void Every_rejection_carries_its_class(string json, RejectReason reason) =>
        Assert.Equal(reason, Raw.Normalize(SourceKind.Crm, json).Reason);

    [Fact]
    public void Field_rules_carry_their_classes()
    {
        Assert.Equal(RejectReason.MissingField, Raw.Normalize(SourceKind.Crm, Raw.Crm().Without("id").ToJsonString()).Reason);
        Assert.Equal(RejectReason.WrongType, Raw.Normalize(SourceKind.Crm, Raw.Crm().With("id", 5).ToJsonString()).Reason);
        Assert.Equal(RejectReason.InvalidValue, Raw.Normalize(SourceKind.Crm, Raw.Crm().With("type", "Deal").ToJsonString()).Reason);
        Assert.Equal(RejectReason.TooLarge, Raw.Normalize(SourceKind.Crm, Raw.Crm().With("x", new string('x', 1024 * 1024)).ToJsonString()).Reason);
        Assert.Equal(
            ["invalid_json", "missing_field", "wrong_type", "invalid_value", "too_large", "unstorable_text", "too_deep", "implausible_time", "store_rejected", "internal"],
            Enum.GetValues<RejectReason>().Select(r => r.Label()));
    }

    internal static string With(SourceKind kind, string member) => Raw.For(kind).ToJsonString()[..^1] + "," + member + "}";

    internal static string Nest(int arrays) => new string('[', arrays) + new string(']', arrays);

    private static NormalizeResult Normalize(SourceKind kind, string json) => Raw.Normalize(kind, json);
}
