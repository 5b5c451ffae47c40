using System.Runtime.InteropServices;
using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Normalization;

/// <summary>Computes the field-level changes between a record's before and after.</summary>
public static class ChangeSet
{
    /// <summary>
    /// One entry per top-level field whose JSON value differs (numbers compare by value, an absent
    /// field counts as null), in order of first appearance in before then after. A created record
    /// (no before) lists every field of after with before null; a deleted one (no after) every field
    /// of before with after null.
    /// </summary>
    public static IReadOnlyList<AuditChange> Compute(JsonElement? before, JsonElement? after)
    {
        var b = before is { ValueKind: JsonValueKind.Object } bo ? bo : (JsonElement?)null;
        var a = after is { ValueKind: JsonValueKind.Object } ao ? ao : (JsonElement?)null;
        if (b is null && a is null)
        {
            return [];
        }

        var changes = new List<AuditChange>();
        if (b is { } bObj)
        {
            var index = 0;
            foreach (var p in bObj.EnumerateObject())
            {
                if (RepeatsEarlierName(bObj, p, index++))
                {
                    continue;
                }

                if (a is null)
                {
                    changes.Add(new AuditChange(p.Name, p.Value, null));
                    continue;
                }

                var afterValue = TryGetSameName(a.Value, p, out var av) ? av : (JsonElement?)null;
                if (!SameValue(p.Value, afterValue))
                {
                    changes.Add(new AuditChange(p.Name, NullIfJsonNull(p.Value), NullIfJsonNull(afterValue)));
                }
            }
        }

        if (a is { } aObj)
        {
            var index = 0;
            foreach (var p in aObj.EnumerateObject())
            {
                if (RepeatsEarlierName(aObj, p, index++))
                {
                    continue;
                }

                if (b is null)
                {
                    changes.Add(new AuditChange(p.Name, null, p.Value));
                }
                else if (p.Value.ValueKind != JsonValueKind.Null && !TryGetSameName(b.Value, p, out _))
                {
                    // Absent before and null after are the same value; anything else is a change.
                    changes.Add(new AuditChange(p.Name, null, p.Value));
                }
            }
        }

        return changes;
    }

    /// <summary>The member of <paramref name="obj"/> named like <paramref name="p"/> (by raw bytes unless escaped).</summary>
    private static bool TryGetSameName(JsonElement obj, JsonProperty p, out JsonElement value)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(p);
        return raw.Contains((byte)'\\') ? obj.TryGetProperty(p.Name, out value) : obj.TryGetProperty(raw, out value);
    }

    /// <summary>True when a property of the same name came earlier in the object (only the first appearance counts).</summary>
    private static bool RepeatsEarlierName(JsonElement obj, JsonProperty p, int index)
    {
        if (index == 0)
        {
            return false;
        }

        var name = JsonMarshal.GetRawUtf8PropertyName(p);
        var i = 0;
        foreach (var q in obj.EnumerateObject())
        {
            if (i++ == index)
            {
                return false;
            }

            if (name.SequenceEqual(JsonMarshal.GetRawUtf8PropertyName(q)) || (name.Contains((byte)'\\') && q.NameEquals(p.Name)))
            {
                return true;
            }
        }

        return false;
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
