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

        if (TryComputeSmall(b, a) is { } small)
        {
            return small;
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

    /// <summary>
    /// The same rules for the usual record of a few fields, with no sets or strings built to find names:
    /// names are compared as raw bytes, which is comparing decoded text when neither holds an escape
    /// (a side with an escaped name, or more than <see cref="SmallFields"/> fields, takes the general path).
    /// </summary>
    private static List<AuditChange>? TryComputeSmall(JsonElement? before, JsonElement? after)
    {
        var bp = new SmallProperties();
        var ap = new SmallProperties();
        var nb = 0;
        var na = 0;
        if ((before is { } bo && !Collect(bo, ref bp, out nb)) || (after is { } ao && !Collect(ao, ref ap, out na)))
        {
            return null;
        }

        var changes = new List<AuditChange>();
        if (before is not null)
        {
            for (var i = 0; i < nb; i++)
            {
                var p = bp[i];
                if (IndexOf(ref bp, 0, i, p) >= 0)
                {
                    continue;
                }

                if (after is null)
                {
                    changes.Add(new AuditChange(p.Name, p.Value, null));
                    continue;
                }

                var last = LastIndexOf(ref ap, na, p);
                var afterValue = last >= 0 ? ap[last].Value : (JsonElement?)null;
                if (!SameValue(p.Value, afterValue))
                {
                    changes.Add(new AuditChange(p.Name, NullIfJsonNull(p.Value), NullIfJsonNull(afterValue)));
                }
            }
        }

        if (after is not null)
        {
            for (var i = 0; i < na; i++)
            {
                var p = ap[i];
                if (IndexOf(ref ap, 0, i, p) >= 0)
                {
                    continue;
                }

                if (before is null)
                {
                    changes.Add(new AuditChange(p.Name, null, p.Value));
                }
                else if (p.Value.ValueKind != JsonValueKind.Null && IndexOf(ref bp, 0, nb, p) < 0)
                {
                    changes.Add(new AuditChange(p.Name, null, p.Value));
                }
            }
        }

        return changes;
    }

    private const int SmallFields = 16;

    [System.Runtime.CompilerServices.InlineArray(SmallFields)]
    private struct SmallProperties
    {
#pragma warning disable IDE0044 // An inline array's element field is written through its indexer.
        private JsonProperty _first;
#pragma warning restore IDE0044
    }

    private static bool Collect(JsonElement obj, ref SmallProperties into, out int count)
    {
        count = 0;
        if (obj.GetPropertyCount() > SmallFields)
        {
            return false;
        }

        foreach (var p in obj.EnumerateObject())
        {
            if (JsonMarshal.GetRawUtf8PropertyName(p).IndexOf((byte)'\\') >= 0)
            {
                return false;
            }

            into[count++] = p;
        }

        return true;
    }

    private static int IndexOf(ref SmallProperties ps, int from, int to, JsonProperty p)
    {
        var name = JsonMarshal.GetRawUtf8PropertyName(p);
        for (var k = from; k < to; k++)
        {
            if (JsonMarshal.GetRawUtf8PropertyName(ps[k]).SequenceEqual(name))
            {
                return k;
            }
        }

        return -1;
    }

    private static int LastIndexOf(ref SmallProperties ps, int count, JsonProperty p)
    {
        var name = JsonMarshal.GetRawUtf8PropertyName(p);
        for (var k = count - 1; k >= 0; k--)
        {
            if (JsonMarshal.GetRawUtf8PropertyName(ps[k]).SequenceEqual(name))
            {
                return k;
            }
        }

        return -1;
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
