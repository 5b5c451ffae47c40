using System.Text.Json;

namespace AuditPipeline.Core.Normalization;

/// <summary>
/// Typed access to a raw message's fields with the contract's rules: a required field that is null
/// is missing; ids, organisations, types, times and names must be JSON strings; object-valued fields
/// must be objects. The first problem found becomes the message's reject reason.
/// </summary>
internal ref struct RawMessage(JsonElement root)
{
    public const int MaxIdLength = 256;

    public readonly JsonElement Root = root;

    public string? Error;

    public readonly bool Failed => Error is not null;

    /// <summary>A required string member of the root (or of <paramref name="parent"/>).</summary>
    public string Required(string name, JsonElement? parent = null, string? path = null)
    {
        if (Failed)
        {
            return string.Empty;
        }

        var p = parent ?? Root;
        if (!p.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            Error = $"missing {path ?? name}";
            return string.Empty;
        }

        if (v.ValueKind != JsonValueKind.String)
        {
            Error = $"{path ?? name} must be a JSON string (was {Describe(v)})";
            return string.Empty;
        }

        return v.GetString()!;
    }

    /// <summary>A required id or organisation: a non-empty string of at most 256 characters.</summary>
    public string RequiredId(string name)
    {
        var s = Required(name);
        if (Failed)
        {
            return s;
        }

        if (s.Length == 0)
        {
            Error = $"{name} is empty";
        }
        else if (s.Length > MaxIdLength)
        {
            Error = $"{name} is {s.Length} characters long, more than the limit of {MaxIdLength}";
        }

        return s;
    }

    /// <summary>An optional string member that must be a string when present and not null (ids, names, types).</summary>
    public string? OptionalString(JsonElement? parent, string name, string path)
    {
        if (Failed || parent is not { ValueKind: JsonValueKind.Object } p || !p.TryGetProperty(name, out var v) ||
            v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.String)
        {
            Error = $"{path} must be a JSON string (was {Describe(v)})";
            return null;
        }

        return v.GetString();
    }

    /// <summary>An optional free-form string member (ip, user agent, reason...): anything but a string counts as absent.</summary>
    public readonly string? LenientString(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()
            : null;

    /// <summary>An optional object member: null when absent or null, an error when of another type.</summary>
    public JsonElement? OptionalObject(string name, JsonElement? parent = null, string? path = null)
    {
        if (Failed)
        {
            return null;
        }

        var p = parent ?? Root;
        if (!p.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Object)
        {
            Error = $"{path ?? name} must be a JSON object (was {Describe(v)})";
            return null;
        }

        return v;
    }

    /// <summary>A required object member.</summary>
    public JsonElement RequiredObject(string name)
    {
        var o = OptionalObject(name);
        if (!Failed && o is null)
        {
            Error = $"missing {name}";
        }

        return o ?? default;
    }

    /// <summary>A raw member kept as given (before, after, error...): null when absent or JSON null.</summary>
    public readonly JsonElement? Raw(string name) =>
        Root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    /// <summary>A required ISO-8601 instant (Z or an offset), truncated to UTC milliseconds.</summary>
    public DateTimeOffset RequiredInstant(string name)
    {
        var s = Required(name);
        if (Failed)
        {
            return default;
        }

        if (!Instants.TryParseIso8601(s, out var t))
        {
            Error = $"{name} '{Shorten(s)}' is not an ISO-8601 instant (a date and time with Z or an offset)";
        }

        return t;
    }

    /// <summary>A required <c>&lt;object&gt;.&lt;verb&gt;</c> type.</summary>
    public (string Type, string Object, string Verb) RequiredType(string name)
    {
        var s = Required(name);
        if (Failed)
        {
            return default;
        }

        var dot = s.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || !Names.IsPart(s.AsSpan(0, dot)) || !Names.IsPart(s.AsSpan(dot + 1)))
        {
            Error = $"{name} '{Shorten(s)}' is not of the form <object>.<verb> (lower-case letters, digits and underscores)";
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
