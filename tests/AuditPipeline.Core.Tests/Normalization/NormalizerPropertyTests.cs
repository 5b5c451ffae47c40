using System.Text;
using System.Text.Json.Nodes;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Normalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace AuditPipeline.Core.Tests.Normalization;

public class NormalizerPropertyTests
{
    private static readonly AuditNormalizer Normalizer = new();

    [Property(MaxTest = 500)]
    public bool Arbitrary_bytes_always_give_an_event_or_a_reason(byte[] bytes, int kindIndex)
    {
        var kind = SourceKinds.All[Math.Abs(kindIndex % 4)];
        var r = Normalizer.Normalize(kind, bytes, Raw.Received);
        return r.IsSuccess ^ (r.Error is { Length: > 0 });
    }

    [Property(MaxTest = 500)]
    public bool Arbitrary_strings_always_give_an_event_or_a_reason(string? text, int kindIndex)
    {
        var kind = SourceKinds.All[Math.Abs(kindIndex % 4)];
        var r = Normalizer.Normalize(kind, Encoding.UTF8.GetBytes(text ?? ""), Raw.Received);
        return r.IsSuccess ^ (r.Error is { Length: > 0 });
    }

    /// <summary>Every field of a valid payload replaced, removed or retyped: never a throw, and deterministic.</summary>
    [Property(MaxTest = 2000)]
    public Property Mutated_payloads_never_throw_and_normalize_deterministically() =>
        Prop.ForAll(Mutations().ToArbitrary(), m =>
        {
            var (kind, json) = m;
            var a = Normalizer.Normalize(kind, Encoding.UTF8.GetBytes(json), Raw.Received);
            var b = Normalizer.Normalize(kind, Encoding.UTF8.GetBytes(json), Raw.Received);
            var sameResult = a.IsSuccess
                ? b.IsSuccess && AuditJson.Serialize(a.Event) == AuditJson.Serialize(b.Event)
                : a.Error == b.Error;
            return (a.IsSuccess ^ (a.Error is { Length: > 0 })) && sameResult;
        });

    [Fact]
    public void Every_valid_example_round_trips_through_the_event_json()
    {
        foreach (var kind in SourceKinds.All)
        {
            var e = Raw.Event(kind, Raw.For(kind));
            var back = AuditJson.Deserialize(AuditJson.Serialize(e));
            Assert.Equal(AuditJson.Serialize(e), AuditJson.Serialize(back));
        }
    }

    private static Gen<(SourceKind, string)> Mutations()
    {
        JsonNode?[] replacements =
        [
            null, JsonValue.Create(""), JsonValue.Create("x"), JsonValue.Create(0), JsonValue.Create(-1.5), JsonValue.Create(true),
            new JsonArray(), new JsonObject(), JsonValue.Create(long.MaxValue), JsonValue.Create("2026-11-29T10:32:00Z"),
            JsonValue.Create("a.b"), JsonValue.Create(new string('z', 300)), JsonValue.Create("\u0000\uD83D\uDE00"),
        ];
        return from kindIndex in Gen.Choose(0, 3)
               from fieldIndex in Gen.Choose(0, 20)
               from subIndex in Gen.Choose(0, 5)
               from replacement in Gen.Elements(replacements)
               from remove in Gen.Elements(true, false)
               select Mutate(SourceKinds.All[kindIndex], fieldIndex, subIndex, replacement, remove);
    }

    private static (SourceKind, string) Mutate(SourceKind kind, int fieldIndex, int subIndex, JsonNode? replacement, bool remove)
    {
        var raw = Raw.For(kind);
        var names = raw.Select(p => p.Key).ToList();
        var name = names[fieldIndex % names.Count];
        var target = raw;
        if (raw[name] is JsonObject inner && inner.Count > 0 && subIndex > 0)
        {
            target = inner;
            name = inner.Select(p => p.Key).ElementAt(subIndex % inner.Count);
        }

        if (remove)
        {
            target.Remove(name);
        }
        else
        {
            target[name] = replacement?.DeepClone();
        }

        return (kind, raw.ToJsonString());
    }
}
