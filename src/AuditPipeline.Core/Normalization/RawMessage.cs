using System.Text;
using System.Text.Json;

namespace AuditPipeline.Core.Normalization;

/// <summary>
/// Typed access to a raw message's fields with the contract's rules: a required field that is null
/// is missing; ids, organisations, types, times and names must be JSON strings; object-valued fields
/// must be objects. The first problem found becomes the message's reject reason.
/// </summary>
/// <remarks>
/// The message is read once with a <see cref="Utf8JsonReader"/>, which validates all of it exactly as
/// <see cref="JsonDocument.Parse(ReadOnlyMemory{byte}, JsonDocumentOptions)"/> would (same options,
/// same exceptions). Top-level fields and the members of object-valued fields are kept as offsets
/// into the message and decoded only when asked for; the values an event keeps as JSON (before,
/// after, changes, details, error) are copied into the event's <see cref="EventJson"/>, so they
/// outlive the caller's buffer. Of duplicate names the last one wins, as with
/// <see cref="JsonElement.TryGetProperty(string, out JsonElement)"/>; names compare by decoded text.
/// </remarks>
internal ref partial struct RawMessage
{
    public const int MaxIdLength = 256;

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = StorableJson.MaxDepth };
    private static readonly string[] FieldNames = Enum.GetNames<RawField>();

    public string? Error;

    public RejectReason Reason;

    /// <summary>The top-level fields, then ten members for each of the six object-valued fields (<see cref="RawMember"/>).</summary>
    public static readonly int Slots = FieldNames.Length + (ObjectFields * RawNames.MemberCount);

    /// <summary>The members noted of before and after, <see cref="RawChangeSet.SmallFields"/> each.</summary>
    public const int RecordSlots = 2 * RawChangeSet.SmallFields;

    private const int ObjectFields = 6;

    private readonly ReadOnlySpan<byte> _utf8;
    private readonly Span<RawValue> _fields;
    private readonly Span<RawValue> _members;
    private readonly Span<Member> _records;
    private readonly int _beforeCount;
    private readonly int _afterCount;

    /// <summary>The kind of the message's root value; the fields mean something only when it is an object.</summary>
    public JsonValueKind RootKind { get; }

    public static string Name(RawField field) => FieldNames[(int)field];

    /// <summary>A top-level field, or false when absent.</summary>
    public readonly bool TryGet(RawField field, out RawValue value)
    {
        value = _fields[(int)field];
        return value.IsPresent;
    }

    /// <summary>A top-level number's raw text and its value as <see cref="JsonElement.TryGetInt64"/> reads it.</summary>
    public readonly bool TryGetInt64(RawValue v, out long value) =>
        System.Buffers.Text.Utf8Parser.TryParse(v.Raw(_utf8), out value, out var consumed) && consumed == v.Length;

    /// <summary>A value's raw text, as <see cref="JsonElement.GetRawText"/> gives it.</summary>
    public readonly string RawText(RawValue v) => Encoding.UTF8.GetString(v.Raw(_utf8));

    public readonly bool Failed => Error is not null;

    /// <summary>Records the message's reject reason (the first problem found wins: callers check <see cref="Failed"/> first).</summary>
    public void Fail(RejectReason reason, string error)
    {
        Error = error;
        Reason = reason;
    }

    public readonly NormalizeResult Rejection() => NormalizeResult.Reject(Error!, Reason);

    /// <summary>A required top-level string.</summary>
    public string Required(RawField field) => RequiredValue(field, out var v) ? v.GetString(_utf8) : string.Empty;

    /// <summary>A required top-level string, undecoded: false (and the reason recorded) when missing or not a string.</summary>
    private bool RequiredValue(RawField field, out RawValue v)
    {
        v = default;
        if (Failed)
        {
            return false;
        }

        if (!TryGet(field, out v) || v.Kind == JsonValueKind.Null)
        {
            Fail(RejectReason.MissingField, $"missing {Name(field)}");
            return false;
        }

        if (v.Kind != JsonValueKind.String)
        {
            Fail(RejectReason.WrongType, $"{Name(field)} must be a JSON string (was {Describe(v.Kind)})");
            return false;
        }

        return true;
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
    /// <param name="known">Values returned as these very strings when they match (no allocation).</param>
    public string? OptionalString(RawField? parent, RawMember member, string path, ReadOnlySpan<string> known = default) =>
        TryGetMember(parent, member, out var v) ? OptionalString(v, path, known) : null;

    private string? OptionalString(RawValue v, string path, ReadOnlySpan<string> known = default)
    {
        if (Failed || v.Kind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.Kind != JsonValueKind.String)
        {
            Fail(RejectReason.WrongType, $"{path} must be a JSON string (was {Describe(v.Kind)})");
            return null;
        }

        return v.GetString(_utf8, known);
    }

    /// <summary>An optional top-level string that must be a string when present and not null (ids).</summary>
    public string? OptionalString(RawField field) =>
        TryGet(field, out var v) ? OptionalString(v, Name(field)) : null;

    /// <summary>An optional free-form top-level string: anything but a string counts as absent.</summary>
    public readonly string? LenientString(RawField field, ReadOnlySpan<string> known = default) =>
        TryGet(field, out var v) && v.Kind == JsonValueKind.String ? v.GetString(_utf8, known) : null;

    /// <summary>An optional free-form string member (ip, user agent, reason...): anything but a string counts as absent.</summary>
    public readonly string? LenientString(RawField? parent, RawMember member, ReadOnlySpan<string> known = default) =>
        TryGetMember(parent, member, out var v) && v.Kind == JsonValueKind.String ? v.GetString(_utf8, known) : null;

    /// <summary>
    /// A free-form string member's text as UTF-8, for writing without a string made: its bytes when it has
    /// no escapes, else its decoded text encoded again; false when absent or not a string.
    /// </summary>
    public readonly bool LenientUtf8(RawField? parent, RawMember member, out ReadOnlySpan<byte> utf8)
    {
        utf8 = default;
        if (!TryGetMember(parent, member, out var v) || v.Kind != JsonValueKind.String)
        {
            return false;
        }

        // Decoded text holds no lone surrogate (StorableJson refused those), so it encodes back exactly.
        utf8 = v.Escaped ? Encoding.UTF8.GetBytes(v.GetString(_utf8)) : v.Content(_utf8);
        return true;
    }

    /// <summary>A member of an object-valued field (the field as <see cref="OptionalObject"/> gave it), or false when absent.</summary>
    private readonly bool TryGetMember(RawField? parent, RawMember member, out RawValue value)
    {
        if (parent is not { } p || ObjectIndex(p) is not (var o and >= 0))
        {
            value = default;
            return false;
        }

        value = _members[(o * RawNames.MemberCount) + (int)member];
        return value.IsPresent;
    }

    /// <summary>An optional top-level object: null when absent or null, an error when of another type.</summary>
    public RawField? OptionalObject(RawField field)
    {
        if (Failed || !TryGet(field, out var v) || v.Kind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.Kind != JsonValueKind.Object)
        {
            Fail(RejectReason.WrongType, $"{Name(field)} must be a JSON object (was {Describe(v.Kind)})");
            return null;
        }

        return field;
    }

    /// <summary>A required top-level object.</summary>
    public RawField? RequiredObject(RawField field)
    {
        var o = OptionalObject(field);
        if (!Failed && o is null)
        {
            Fail(RejectReason.MissingField, $"missing {Name(field)}");
        }

        return o;
    }

    /// <summary>
    /// Adds a top-level member kept as given (before, after, changes, error) to the event's document:
    /// its item index, or -1 when absent, JSON null or not of <paramref name="only"/> (when given).
    /// </summary>
    public readonly int AddTo(EventJson json, RawField field, JsonValueKind only = JsonValueKind.Undefined) =>
        RawOf(field, only) is { IsEmpty: false } raw ? json.AddRaw(raw) : -1;

    /// <summary>The bytes of a top-level field that is not null (and is <paramref name="only"/>, when given); empty otherwise.</summary>
    public readonly ReadOnlySpan<byte> RawOf(RawField field, JsonValueKind only = JsonValueKind.Undefined) =>
        TryGet(field, out var v) && v.Kind != JsonValueKind.Null && (only == JsonValueKind.Undefined || v.Kind == only)
            ? v.Raw(_utf8)
            : default;

    /// <summary>A required ISO-8601 instant (Z or an offset), truncated to UTC milliseconds.</summary>
    public DateTimeOffset RequiredInstant(RawField field)
    {
        var name = Name(field);
        if (!RequiredValue(field, out var v))
        {
            return default;
        }

        // The usual instant is short ASCII: parsed from a stack copy, with no string made.
        const int longest = 64;
        if (!v.Escaped && v.Length - 2 <= longest)
        {
            Span<char> chars = stackalloc char[longest];
            var n = Encoding.UTF8.GetChars(v.Content(_utf8), chars);
            if (Instants.TryParseIso8601(chars[..n], out var fast))
            {
                return fast;
            }
        }

        var s = v.GetString(_utf8);
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

        return (s, Names.Part(s.AsSpan(0, dot)), Names.Part(s.AsSpan(dot + 1)));
    }

    public static string Describe(JsonValueKind kind) => kind switch
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
