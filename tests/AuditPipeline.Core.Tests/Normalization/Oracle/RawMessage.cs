// The normalizer as it was before the single-pass reader (commit e7208cd), kept verbatim but for
// its namespace as the oracle of NormalizationDifferentialTests. Not product code: do not change it.
using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text;
using AuditPipeline.Core.Normalization;

namespace AuditPipeline.Core.Tests.Normalization.Oracle;

[InlineArray(40)]
internal struct FieldSlots
{
#pragma warning disable IDE0044 // An inline array's element field is written through its indexer.
    private JsonElement _first;
#pragma warning restore IDE0044
}

/// <summary>
/// Typed access to a raw message's fields with the contract's rules: a required field that is null
/// is missing; ids, organisations, types, times and names must be JSON strings; object-valued fields
/// must be objects. The first problem found becomes the message's reject reason.
/// </summary>
internal ref struct RawMessage
{
    public const int MaxIdLength = 256;

    private static readonly string[] FieldNames = Enum.GetNames<RawField>();
    private static readonly FrozenDictionary<string, RawField>.AlternateLookup<ReadOnlySpan<char>> Lookup =
        Enum.GetValues<RawField>().ToFrozenDictionary(f => FieldNames[(int)f], StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();

    public readonly JsonElement Root;

    public string? Error;

    public RejectReason Reason;

    // Top-level fields found in one pass over the root (the last of duplicate names wins, as with
    // JsonElement.TryGetProperty), so each later access is an index, not a scan of every property.
    private readonly FieldSlots _slots;
    private readonly ulong _present;

    public RawMessage(JsonElement root)
    {
        Root = root;
        Span<char> chars = stackalloc char[32];
        foreach (var p in root.EnumerateObject())
        {
            var raw = JsonMarshal.GetRawUtf8PropertyName(p);
            RawField field;
            if (raw.IndexOf((byte)'\\') >= 0)
            {
                if (!Lookup.TryGetValue(p.Name, out field))
                {
                    continue;
                }
            }
            else if (raw.Length > chars.Length || !Ascii.IsValid(raw) ||
                     !Lookup.TryGetValue(chars[..Encoding.ASCII.GetChars(raw, chars)], out field))
            {
                continue;
            }

            _slots[(int)field] = p.Value;
            _present |= 1UL << (int)field;
        }
    }

    public static string Name(RawField field) => FieldNames[(int)field];

    /// <summary>A top-level field, or false when absent.</summary>
    public readonly bool TryGet(RawField field, out JsonElement value)
    {
        if ((_present & (1UL << (int)field)) != 0)
        {
            value = _slots[(int)field];
            return true;
        }

        value = default;
        return false;
    }

    public readonly bool Failed => Error is not null;

    /// <summary>Records the message's reject reason (the first problem found wins: callers check <see cref="Failed"/> first).</summary>
    public void Fail(RejectReason reason, string error)
    {
        Error = error;
        Reason = reason;
    }

    public readonly NormalizeResult Rejection() => NormalizeResult.Reject(Error!, Reason);

    /// <summary>A required top-level string.</summary>
    public string Required(RawField field)
    {
        if (Failed)
        {
            return string.Empty;
        }

        if (!TryGet(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            Fail(RejectReason.MissingField, $"missing {Name(field)}");
            return string.Empty;
        }

        if (v.ValueKind != JsonValueKind.String)
        {
            Fail(RejectReason.WrongType, $"{Name(field)} must be a JSON string (was {Describe(v)})");
            return string.Empty;
        }

        return v.GetString()!;
    }

    /// <summary>A required id or organisation: a non-empty string of at most 256 characters.</summary>
    public string RequiredId(RawField field)
    {
        var s = Required(field);
        if (Failed)
        {
            return s;
        }

        if (s.Length == 0)
        {
            Fail(RejectReason.InvalidValue, $"{Name(field)} is empty");
        }
        else if (s.Length > MaxIdLength)
        {
            Fail(RejectReason.InvalidValue, $"{Name(field)} is {s.Length} characters long, more than the limit of {MaxIdLength}");
        }

        return s;
    }

    /// <summary>An optional string member that must be a string when present and not null (ids, names, types).</summary>
    public string? OptionalString(JsonElement? parent, string name, string path)
    {
        return parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var v) ? OptionalString(v, path) : null;
    }

    private string? OptionalString(JsonElement v, string path)
    {
        if (Failed || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.String)
        {
            Fail(RejectReason.WrongType, $"{path} must be a JSON string (was {Describe(v)})");
            return null;
        }

        return v.GetString();
    }

    /// <summary>An optional top-level string that must be a string when present and not null (ids).</summary>
    public string? OptionalString(RawField field) =>
        TryGet(field, out var v) ? OptionalString(v, Name(field)) : null;

    /// <summary>An optional free-form top-level string: anything but a string counts as absent.</summary>
    public readonly string? LenientString(RawField field) =>
        TryGet(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>An optional free-form string member (ip, user agent, reason...): anything but a string counts as absent.</summary>
    public readonly string? LenientString(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()
            : null;

    /// <summary>An optional top-level object: null when absent or null, an error when of another type.</summary>
    public JsonElement? OptionalObject(RawField field)
    {
        if (Failed || !TryGet(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Object)
        {
            Fail(RejectReason.WrongType, $"{Name(field)} must be a JSON object (was {Describe(v)})");
            return null;
        }

        return v;
    }

    /// <summary>A required top-level object.</summary>
    public JsonElement RequiredObject(RawField field)
    {
        var o = OptionalObject(field);
        if (!Failed && o is null)
        {
            Fail(RejectReason.MissingField, $"missing {Name(field)}");
        }

        return o ?? default;
    }

    /// <summary>A raw top-level member kept as given (before, after, error...): null when absent or JSON null.</summary>
    public readonly JsonElement? Raw(RawField field) =>
        TryGet(field, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    /// <summary>A required ISO-8601 instant (Z or an offset), truncated to UTC milliseconds.</summary>
    public DateTimeOffset RequiredInstant(RawField field)
    {
        var name = Name(field);
        var s = Required(field);
        if (Failed)
        {
            return default;
        }

        if (!Instants.TryParseIso8601(s, out var t))
        {
            Fail(RejectReason.InvalidValue, $"{name} '{Shorten(s)}' is not an ISO-8601 instant (a date and time with Z or an offset)");
        }

        return t;
    }

    /// <summary>A required <c>&lt;object&gt;.&lt;verb&gt;</c> type.</summary>
    public (string Type, string Object, string Verb) RequiredType(RawField field)
    {
        var name = Name(field);
        var s = Required(field);
        if (Failed)
        {
            return default;
        }

        var dot = s.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || !Names.IsPart(s.AsSpan(0, dot)) || !Names.IsPart(s.AsSpan(dot + 1)))
        {
            Fail(RejectReason.InvalidValue, $"{name} '{Shorten(s)}' is not of the form <object>.<verb> (lower-case letters, digits and underscores)");
            return default;
        }

        return (s, s[..dot], s[(dot + 1)..]);
    }

    public static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    public static string Shorten(string s) => s.Length <= 64 ? s : string.Concat(s.AsSpan(0, 61), "...");
}

internal static class Names
{
    /// <summary>One part of a type: lower-case letters, digits and underscores, at least one.</summary>
    public static bool IsPart(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty)
        {
            return false;
        }

        foreach (var c in s)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
