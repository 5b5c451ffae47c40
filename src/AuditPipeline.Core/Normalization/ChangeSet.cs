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
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (b is { } bObj)
        {
            foreach (var p in bObj.EnumerateObject())
            {
                if (!seen.Add(p.Name))
                {
                    continue;
                }

                if (a is null)
                {
                    changes.Add(new AuditChange(p.Name, p.Value, null));
                    continue;
                }

                var afterValue = a.Value.TryGetProperty(p.Name, out var av) ? av : (JsonElement?)null;
                if (!SameValue(p.Value, afterValue))
                {
                    changes.Add(new AuditChange(p.Name, NullIfJsonNull(p.Value), NullIfJsonNull(afterValue)));
                }
            }
        }

        if (a is { } aObj)
        {
            foreach (var p in aObj.EnumerateObject())
            {
                if (!seen.Add(p.Name))
                {
                    continue;
                }

                if (b is null)
                {
                    changes.Add(new AuditChange(p.Name, null, p.Value));
                }
                else if (p.Value.ValueKind != JsonValueKind.Null)
                {
                    // Absent before and null after are the same value; anything else is a change.
                    changes.Add(new AuditChange(p.Name, null, p.Value));
                }
            }
        }

        return changes;
    }

    private static bool SameValue(JsonElement x, JsonElement? y)
    {
        if (y is not { } yv)
        {
            return x.ValueKind == JsonValueKind.Null;
        }

        return JsonElement.DeepEquals(x, yv);
    }

    private static JsonElement? NullIfJsonNull(JsonElement? v) => v is { ValueKind: JsonValueKind.Null } ? null : v;
}
