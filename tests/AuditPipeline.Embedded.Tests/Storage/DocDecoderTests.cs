using System.Text;
using System.Text.Json;
using AuditPipeline.Core.Events;
using AuditPipeline.Embedded.Storage;
using AuditPipeline.Testing;
using AuditPipeline.Testing.StoreContract;

namespace AuditPipeline.Embedded.Tests.Storage;

/// <summary>
/// The store's one-pass document reader gives what the serializer gives, for every document the store
/// writes (so it takes the fast path), and hands every other shape to the serializer.
/// </summary>
public sealed class DocDecoderTests
{
    public static TheoryData<string> Sets => new() { "contract", "hostile" };

    [Theory]
    [MemberData(nameof(Sets))]
    public void Every_stored_document_decodes_on_the_fast_path_to_what_the_serializer_reads(string set)
    {
        var events = set == "contract"
            ? ContractData.Generate(1500, seed: 5)
            : HostileEvents.Generate(1500, "org_h", new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero));
        foreach (var e in events)
        {
            var doc = AuditJson.SerializeToUtf8Bytes(e);
            var fast = DocDecoder.TryDecode(doc);
            Assert.NotNull(fast);
            AssertSame(AuditJson.Deserialize(doc), fast, e.Id);
        }
    }

    [Theory]
    [InlineData("an unknown property", "\"extra\":1,")]
    [InlineData("a repeated property", "\"source\":\"API\",")]
    [InlineData("an escaped property name", "\"\\u0069p\":\"1.2.3.4\",")]
    public void A_document_in_another_shape_is_read_by_the_serializer(string what, string insert)
    {
        var doc = Encoding.UTF8.GetString(AuditJson.SerializeToUtf8Bytes(Some.Event("evt_shape")));
        var odd = Encoding.UTF8.GetBytes(doc.Insert(1, insert));

        Assert.Null(DocDecoder.TryDecode(odd));
        AssertSame(AuditJson.Deserialize(odd), DocDecoder.Decode(odd), what);
    }

    [Fact]
    public void A_document_the_serializer_refuses_is_refused_the_same_way()
    {
        var doc = Encoding.UTF8.GetString(AuditJson.SerializeToUtf8Bytes(Some.Event("evt_bad")));
        var bad = Encoding.UTF8.GetBytes(doc.Replace("\"time\":\"", "\"time\":1,\"x\":\"", StringComparison.Ordinal));

        Assert.Null(DocDecoder.TryDecode(bad));
        Assert.ThrowsAny<JsonException>(() => DocDecoder.Decode(bad));
    }

    [Fact]
    public void Properties_in_another_order_still_decode_on_the_fast_path()
    {
        var e = HostileEvents.Generate(1, "org_h", DateTimeOffset.UnixEpoch.AddYears(50))[0];
        using var parsed = JsonDocument.Parse(AuditJson.SerializeToUtf8Bytes(e));
        var reversed = "{" + string.Join(",", parsed.RootElement.EnumerateObject().Reverse().Select(p => JsonSerializer.Serialize(p.Name) + ":" + p.Value.GetRawText())) + "}";
        var bytes = Encoding.UTF8.GetBytes(reversed);

        AssertSame(AuditJson.Deserialize(bytes), DocDecoder.TryDecode(bytes), e.Id);
    }

    /// <summary>Equal documents, and a JSON null where the serializer has null (not a JsonElement of kind Null).</summary>
    private static void AssertSame(AuditEvent expected, AuditEvent? actual, string what)
    {
        Assert.NotNull(actual);
        Assert.Equal(AuditJson.Serialize(expected), AuditJson.Serialize(actual));
        Assert.True(expected.Before.HasValue == actual.Before.HasValue && expected.After.HasValue == actual.After.HasValue, what);
        Assert.Equal(expected.Changes.Select(c => (c.Before.HasValue, c.After.HasValue)), actual.Changes.Select(c => (c.Before.HasValue, c.After.HasValue)));
        Assert.Equal(expected.Ai is null, actual.Ai is null);
        Assert.Equal(expected.Time, actual.Time);
        Assert.Equal(expected.Time.Offset, actual.Time.Offset);
        Assert.Equal(expected.ReceivedAt.Offset, actual.ReceivedAt.Offset);
    }
}
