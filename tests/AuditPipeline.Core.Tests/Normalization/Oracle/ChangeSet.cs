// The normalizer as it was before the single-pass reader (commit e7208cd), kept verbatim but for
// its namespace as the oracle of NormalizationDifferentialTests. Not product code: do not change it.
using System.Runtime.InteropServices;
using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Tests.Normalization.Oracle;

/// <summary>Computes the field-level changes between a record's before and after.</summary>
internal static class ChangeSet
{
    /// <summary>
    /// One entry per top-level field whose JSON value differs (numbers compare by value, an absent
    /// field counts as null), in order of first appearance in before then after. A created record
    /// (no before) lists every field of after with before null; a deleted one (no after) every field
    /// of before with after null.
    /// </summary>
    /// <remarks>
    /// Linear in the size of before and after: each side is walked once and names are looked up in
    /// hash sets (JsonElement.TryGetProperty scans the object, which made 40k keys take seconds).
    /// Names compare by their decoded text. Of duplicate names, the first appearance decides where a
    /// field is listed and, on its own side, its value; the value on the other side is the last
    /// appearance, as JsonElement.TryGetProperty answers.
    /// </remarks>
    public static IReadOnlyList<AuditChange> Compute(JsonElement? before, JsonElement? after)
    {
        var b = before is { ValueKind: JsonValueKind.Object } bo ? bo : (JsonElement?)null;
        var a = after is { ValueKind: JsonValueKind.Object } ao ? ao : (JsonElement?)null;
        if (b is null && a is null)
        {
            return [];
        }

        var changes = new List<AuditChange>();
        HashSet<string>? beforeNames = null;
        if (b is { } bObj)
        {
            var afterLast = a is { } lookup ? LastByName(lookup) : null;
            beforeNames = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in bObj.EnumerateObject())
            {
                var name = p.Name;
                if (!beforeNames.Add(name))
                {
                    continue;
                }

                if (afterLast is null)
                {
                    changes.Add(new AuditChange(name, p.Value, null));
                    continue;
                }

                var afterValue = afterLast.TryGetValue(name, out var av) ? av : (JsonElement?)null;
                if (!SameValue(p.Value, afterValue))
                {
                    changes.Add(new AuditChange(name, NullIfJsonNull(p.Value), NullIfJsonNull(afterValue)));
                }
            }
        }

        if (a is { } aObj)
        {
            var afterNames = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in aObj.EnumerateObject())
            {
                var name = p.Name;
                if (!afterNames.Add(name))
                {
                    continue;
                }

                if (beforeNames is null)
                {
                    changes.Add(new AuditChange(name, null, p.Value));
                }
                else if (p.Value.ValueKind != JsonValueKind.Null && !beforeNames.Contains(name))
                {
                    // Absent before and null after are the same value; anything else is a change.
                    changes.Add(new AuditChange(name, null, p.Value));
                }
            }
        }

        return changes;
    }

    /// <summary>Each name's last value (later duplicates overwrite earlier ones).</summary>
    private static Dictionary<string, JsonElement> LastByName(JsonElement obj)
    {
        var last = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var p in obj.EnumerateObject())
        {
            last[p.Name] = p.Value;
        }

        return last;
    }

    private static bool SameValue(JsonElement x, JsonElement? y)
    {
        if (y is not { } yv)
        {
            return x.ValueKind == JsonValueKind.Null;
        }

        // Identical raw text is the same value; anything else (escapes, 1.0 vs 1, nesting) goes to DeepEquals.
        return (x.ValueKind == yv.ValueKind && JsonMarshal.GetRawUtf8Value(x).SequenceEqual(JsonMarshal.GetRawUtf8Value(yv))) ||
               JsonElement.DeepEquals(x, yv);
    }

    private static JsonElement? NullIfJsonNull(JsonElement? v) => v is { ValueKind: JsonValueKind.Null } ? null : v;
}
