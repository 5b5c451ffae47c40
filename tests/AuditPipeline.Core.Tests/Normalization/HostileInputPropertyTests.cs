using System.Diagnostics;
using System.Text;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Normalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Core.Tests.Normalization;

/// <summary>
/// Random JSON with surrogate escapes in names and values, deep nesting and huge objects, put where
/// each kind keeps free-form JSON: Normalize never throws, never hangs, gives an event or a reason,
/// rejects exactly the messages holding an unpaired surrogate or nesting past 64, and every event it
/// accepts serializes and reads back.
/// </summary>
public class HostileInputPropertyTests
{
    private static readonly AuditNormalizer Normalizer = new();

    // 40k keys on each side take about 1.2 MB: the size limit is raised so the change set is what is timed.
    private static readonly AuditNormalizer Large = new(Options.Create(new IngestOptions { MaxMessageBytes = 8 * 1024 * 1024 }));

    private static readonly (string Text, bool Lone)[] Pieces =
    [
        ("a", false), ("é", false), ("😀", false), ("\\u0041", false), ("\\n", false), ("\\\\", false), ("\\\"", false),
        ("\\ud83d\\ude00", false), ("\\\\ud800", false), ("\\u00e9", false), ("[{", false),
        // A lone high surrogate is followed by a letter, so the next piece can never complete the pair.
        ("\\ud800z", true), ("\\udc00", true), ("\\uDBFF\\u0041", true), ("\\ud800\\ud800z", true), ("\\udfff\\ud800z", true),
    ];

    [Property(MaxTest = 1500)]
    public Property Hostile_json_in_free_form_places_gives_an_event_or_the_right_reason() =>
        Prop.ForAll(Messages().ToArbitrary(), m =>
        {
            var (kind, json, lone, depth) = m;
            var r = Timed(kind, Encoding.UTF8.GetBytes(json));
            if (!(r.IsSuccess ^ (r.Error is { Length: > 0 })))
            {
                return false.Label("neither an event nor a reason");
            }

            if (depth > StorableJson.MaxDepth)
            {
                return (r.Reason == RejectReason.TooDeep || (lone && r.Reason == RejectReason.UnstorableText)).Label($"depth {depth}: {r.Error}");
            }

            if (lone)
            {
                return (r.Reason == RejectReason.UnstorableText).Label($"lone surrogate: {r.Error}");
            }

            return (r.IsSuccess && RoundTrips(r.Event)).Label($"valid, got: {r.Error}");
        });

    [Property(MaxTest = 300)]
    public bool Random_bytes_around_a_valid_prefix_never_throw(byte[] tail, int kindIndex)
    {
        var kind = SourceKinds.All[Math.Abs(kindIndex % 4)];
        var prefix = Encoding.UTF8.GetBytes(Raw.For(kind).ToJsonString()[..^1] + ",\"x\":\"");
        var r = Timed(kind, [.. prefix, .. tail]);
        return r.IsSuccess ? RoundTrips(r.Event) : r.Error is { Length: > 0 };
    }

    [Fact]
    public void A_before_and_after_of_40k_keys_each_normalizes_without_quadratic_cost()
    {
        // Quadratic before (TryGetProperty per key): 40k keys took 11 s on a quiet machine, minutes on a
        // loaded one. Linear: tens of ms in Release, 0.15-3 s in Debug on a loaded shared machine. The
        // bound only tells the two algorithms apart; speed itself is measured in docs/RELIABILITY.md
        // (a ratio against 10k keys proved too noisy here: garbage collection of the large buffers).
        var (large, r) = Time(BeforeAfter(40_000));

        Assert.True(r.IsSuccess, r.Error);
        Assert.Equal(20_000, r.Event.Changes.Select(c => c.Field).Distinct().Count());
        Assert.Equal("field_0", r.Event.Changes[0].Field);
        Assert.True(large < TimeSpan.FromSeconds(20), $"40k keys took {large}");
    }

    [Fact]
    public void A_huge_nested_value_compared_whole_costs_linear_time()
    {
        const int n = 40_000;
        var a = "{" + string.Join(',', Enumerable.Range(0, n).Select(i => $"\"k{i}\":{i}")) + "}";
        var b = "{" + string.Join(',', Enumerable.Range(0, n).Reverse().Select(i => $"\"k{i}\":{i}")) + "}";
        var (took, r) = Time(StorableJsonTests.With(SourceKind.Crm, $"\"before\":{{\"blob\":{a}}},\"after\":{{\"blob\":{b}}}"));
        Assert.True(r.IsSuccess, r.Error);
        Assert.Empty(r.Event.Changes);
        Assert.True(took < TimeSpan.FromSeconds(20), $"took {took}");
    }

    /// <summary>before holds field_0..field_{n-1}; after the same keys in reverse order, every other value changed (k.0 equals k by value).</summary>
    private static string BeforeAfter(int n)
    {
        var before = new StringBuilder("{");
        var after = new StringBuilder("{");
        for (var i = 0; i < n; i++)
        {
            before.Append(i == 0 ? "" : ",").Append($"\"field_{i}\":{i}");
            after.Append(i == 0 ? "" : ",").Append($"\"field_{n - 1 - i}\":{(i % 2 == 0 ? n - 1 - i : -1)}.0");
        }

        return StorableJsonTests.With(SourceKind.Crm, $"\"before\":{before}}},\"after\":{after}}}");
    }

    /// <summary>The fastest of three runs (the first also warms up), and the result.</summary>
    private static (TimeSpan Took, NormalizeResult Result) Time(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var best = TimeSpan.MaxValue;
        NormalizeResult r = default;
        for (var run = 0; run < 3; run++)
        {
            var clock = Stopwatch.StartNew();
            r = Large.Normalize(SourceKind.Crm, bytes, Raw.Received);
            best = clock.Elapsed < best ? clock.Elapsed : best;
        }

        return (best, r);
    }

    private static NormalizeResult Timed(SourceKind kind, byte[] bytes)
    {
        var clock = Stopwatch.StartNew();
        var r = Normalizer.Normalize(kind, bytes, Raw.Received);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"normalizing {bytes.Length} bytes took {clock.Elapsed}");
        return r;
    }

    private static bool RoundTrips(AuditEvent e)
    {
        var json = AuditJson.Serialize(e);
        return AuditJson.Serialize(AuditJson.Deserialize(json)) == json;
    }

    /// <summary>A valid message of a random kind with a random JSON value in a place that kind keeps as given.</summary>
    private static Gen<(SourceKind Kind, string Json, bool Lone, int Depth)> Messages() =>
        from kindIndex in Gen.Choose(0, 3)
        from value in Value(0)
        from huge in Gen.Frequency((9, Gen.Constant(0)), (1, Gen.Choose(1000, 5000)))
        from place in Gen.Choose(0, 3)
        select Place(SourceKinds.All[kindIndex], value, huge, place);

    private static (SourceKind, string, bool, int) Place(SourceKind kind, Json value, int huge, int place)
    {
        var blob = huge > 0
            ? "{" + string.Join(',', Enumerable.Range(0, huge).Select(i => $"\"h{i}\":{i}")) + "," + "\"v\":" + value.Text + "}"
            : value.Text;
        var depth = huge > 0 ? value.Depth + 1 : value.Depth;
        // Each place with how many containers it wraps the value in (the root object is counted apart).
        var (member, wrapping) = (kind, place) switch
        {
            (SourceKind.Crm, 0) => ($"\"before\":{{\"f\":{blob}}},\"after\":{{\"f\":1}}", 1),
            (SourceKind.Crm or SourceKind.Platform, 1) => ($"\"after\":{{\"f\":{blob}}}", 1),
            (SourceKind.Platform, 0) => ($"\"details\":{{\"f\":{blob}}}", 1),
            (SourceKind.Ai, 0) => ($"\"changes\":[{{\"field\":\"f\",\"from\":{blob},\"to\":2}}]", 2),
            (SourceKind.Ai, 1) => ($"\"status\":\"failed\",\"error\":{blob}", 0),
            (_, 2) => ($"\"x_extra\":{blob}", 0),
            _ => ($"\"x_extra\":{{\"f\":{blob}}}", 1),
        };

        return (kind, StorableJsonTests.With(kind, member), value.Lone, 1 + wrapping + depth);
    }

    private sealed record Json(string Text, bool Lone, int Depth);

    private static Gen<Json> Value(int level) =>
        level > 3
            ? Scalar()
            : Gen.Frequency(
                (4, Scalar()),
                (2, from n in Gen.Choose(0, 4)
                    from items in Gen.ListOf(Value(level + 1), n)
                    select new Json("[" + string.Join(',', items.Select(i => i.Text)) + "]", items.Any(i => i.Lone), 1 + items.Select(i => i.Depth).DefaultIfEmpty(0).Max())),
                (2, from n in Gen.Choose(0, 4)
                    from names in Gen.ListOf(Text(), n)
                    from items in Gen.ListOf(Value(level + 1), n)
                    select new Json(
                        "{" + string.Join(',', names.Zip(items, (k, v) => $"\"{k.Text}\":{v.Text}")) + "}",
                        names.Any(k => k.Lone) || items.Any(i => i.Lone),
                        1 + items.Select(i => i.Depth).DefaultIfEmpty(0).Max())),
                (1, from d in Gen.Choose(55, 70)
                    from inner in Scalar()
                    select new Json(new string('[', d) + inner.Text + new string(']', d), inner.Lone, d)));

    private static Gen<Json> Scalar() =>
        Gen.OneOf(
            Gen.Elements(new Json("1", false, 0), new Json("-2.5e3", false, 0), new Json("true", false, 0), new Json("null", false, 0)),
            from t in Text() select new Json($"\"{t.Text}\"", t.Lone, 0));

    private static Gen<Json> Text() =>
        from n in Gen.Choose(0, 5)
        from parts in Gen.ListOf(Gen.Elements(Pieces), n)
        select new Json(string.Concat(parts.Select(p => p.Text)), Lone(parts), 0);

    /// <summary>No piece ends in a high surrogate escape, so pieces never pair up across their boundary.</summary>
    private static bool Lone(IEnumerable<(string Text, bool Lone)> parts) => parts.Any(p => p.Lone);
}
