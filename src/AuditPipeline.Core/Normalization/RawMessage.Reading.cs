using System.Text.Json;

namespace AuditPipeline.Core.Normalization;

/// <summary>The one reader pass over a message: where each field, member and record member is, and which values recur.</summary>
internal ref partial struct RawMessage
{
    /// <summary>
    /// Reads the whole message; throws <see cref="JsonException"/> where it is not JSON. The caller's
    /// <paramref name="slots"/> (<see cref="Slots"/> long) and <paramref name="records"/>
    /// (<see cref="RecordSlots"/>) hold where each value is, uninitialized: only what is read is used.
    /// </summary>
    public RawMessage(ReadOnlyMemory<byte> message, Span<RawValue> slots, Span<Member> records)
    {
        _fields = slots[..FieldNames.Length];
        _fields.Clear();
        _members = slots[FieldNames.Length..Slots];
        _records = records[..RecordSlots];
        _beforeCount = -1;
        _afterCount = -1;
        var utf8 = message.Span;
        _utf8 = utf8;
        var reader = new Utf8JsonReader(utf8, ReaderOptions);
        reader.Read();
        RootKind = KindOf(reader.TokenType);
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            // Not an object: the rest is still read, so invalid JSON is reported as such first.
            reader.Skip();
            while (reader.Read())
            {
            }

            return;
        }

        Span<byte> scratch = stackalloc byte[RawNames.MaxEscapedLength];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = RawNames.Field(ref reader, scratch);
            reader.Read();
            if (field < 0)
            {
                reader.Skip();
                continue;
            }

            var start = (int)reader.TokenStartIndex;
            var type = reader.TokenType;
            var escaped = type == JsonTokenType.String && reader.ValueIsEscaped;
            int length;
            if (type == JsonTokenType.StartObject && ObjectIndex((RawField)field) is var o and >= 0)
            {
                ReadMembers(ref reader, _members, o, scratch);
                length = (int)reader.BytesConsumed - start;
            }
            else if (field is (int)RawField.before or (int)RawField.after)
            {
                // A repeated record replaces the earlier one whole, its members with it.
                var isBefore = field == (int)RawField.before;
                ref var count = ref isBefore ? ref _beforeCount : ref _afterCount;
                count = -1;
                if (type == JsonTokenType.StartObject)
                {
                    count = ReadRecord(ref reader, RecordItems(isBefore), start);
                    length = (int)reader.BytesConsumed - start;
                }
                else
                {
                    length = RawValue.LengthOf(ref reader);
                }
            }
            else
            {
                length = RawValue.LengthOf(ref reader);
            }

            _fields[field] = new RawValue(start, length, KindOf(type), escaped, RecurringFields[field]);
        }

        // The root object is done: anything but whitespace after it is an error the reader reports.
        while (reader.Read())
        {
        }
    }

    private static void ReadMembers(ref Utf8JsonReader reader, scoped Span<RawValue> slots, int obj, scoped Span<byte> scratch)
    {
        var members = RawNames.MemberCount;

        // Members are read only of a field read as an object, so these are cleared before any is used;
        // a repeated field replaces the earlier one whole.
        slots.Slice(obj * members, members).Clear();

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var member = RawNames.Member(ref reader, scratch);
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            var type = reader.TokenType;
            var escaped = type == JsonTokenType.String && reader.ValueIsEscaped;
            var length = RawValue.LengthOf(ref reader);
            if (member >= 0)
            {
                var slot = (obj * members) + member;
                slots[slot] = new RawValue(start, length, KindOf(type), escaped, RecurringMembers[slot]);
            }
        }
    }

    /// <summary>
    /// Reads a record (the reader is on its opening brace, and is left on its closing one), noting its
    /// members for the change set: their count, or -1 past <see cref="RawChangeSet.SmallFields"/> members
    /// or at an escaped name, where the change set reads the bytes itself.
    /// </summary>
    private static int ReadRecord(ref Utf8JsonReader reader, scoped Span<Member> items, int start)
    {
        var count = 0;
        var known = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            known &= count < RawChangeSet.SmallFields && !reader.ValueIsEscaped;
            var nameStart = (int)reader.TokenStartIndex + 1 - start;
            var name = nameStart..(nameStart + reader.ValueSpan.Length);
            reader.Read();
            var valueStart = (int)reader.TokenStartIndex - start;
            var value = valueStart..(valueStart + RawValue.LengthOf(ref reader));
            if (known)
            {
                items[count++] = new Member(name, false, value);
            }
        }

        return known ? count : -1;
    }

    /// <summary>The change set between the message's before and after (their bytes as copied for the event), using the members its reader found.</summary>
    public readonly void Changes(ReadOnlySpan<byte> before, ReadOnlySpan<byte> after, List<RawChange> changes) =>
        RawChangeSet.Compute(before, after, changes, Noted(RawField.before), Noted(RawField.after));

    /// <summary>The members the reader noted of before or after (not <see cref="RecordMembers.Known"/> when it noted none).</summary>
    internal readonly RecordMembers Noted(RawField record)
    {
        var isBefore = record == RawField.before;
        var count = isBefore ? _beforeCount : _afterCount;
        return count < 0 ? default : new RecordMembers(RecordItems(isBefore)[..count]);
    }

    /// <summary>Where the members of before (the first <see cref="RawChangeSet.SmallFields"/> slots) or after (the next) are noted.</summary>
    private readonly Span<Member> RecordItems(bool isBefore) =>
        _records.Slice(isBefore ? 0 : RawChangeSet.SmallFields, RawChangeSet.SmallFields);

    /// <summary>Where the members of an object-valued field are kept (less than <see cref="ObjectFields"/>), or -1.</summary>
    private static int ObjectIndex(RawField field) => ObjectIndexes[(int)field];

    private static readonly sbyte[] ObjectIndexes = Enum.GetValues<RawField>().Select(f => (sbyte)(f switch
    {
        RawField.actor => 0,
        RawField.origin => 1,
        RawField.data => 2,
        RawField.user => 3,
        RawField.target => 4,
        RawField.on_behalf_of => 5,
        _ => -1,
    })).ToArray();

    /// <summary>
    /// The fields whose values recur across messages (an organisation, a type, an address, a tool): their
    /// strings are shared (<see cref="RecentStrings"/>). Not ids of events, requests, sessions or records.
    /// </summary>
    private static readonly bool[] RecurringFields = Enum.GetValues<RawField>().Select(f => f is
        RawField.type or RawField.org_id or RawField.tenant or RawField.@event or RawField.ip or RawField.ua or
        RawField.reason or RawField.channel or RawField.workspace_id or RawField.tool or RawField.operation or
        RawField.status or RawField.category or RawField.action).ToArray();

    /// <summary>The same for the members of each object-valued field: who acted, from where, and a target's type.</summary>
    private static readonly bool[] RecurringMembers = Enumerable.Range(0, ObjectFields * RawNames.MemberCount).Select(slot =>
        ((RawField)Array.IndexOf(ObjectIndexes, (sbyte)(slot / RawNames.MemberCount)), (RawMember)(slot % RawNames.MemberCount)) switch
        {
            (RawField.actor or RawField.user, RawMember.type or RawMember.id or RawMember.name or RawMember.email) => true,
            (RawField.on_behalf_of, RawMember.user_id or RawMember.name or RawMember.email) => true,
            (RawField.origin, RawMember.channel or RawMember.ip or RawMember.user_agent) => true,
            (RawField.target, RawMember.type) => true,
            _ => false,
        }).ToArray();

    /// <summary>The value kind of each token type (by its number), built from the switch so the table cannot drift from it.</summary>
    private static readonly JsonValueKind[] Kinds = BuildKinds();

    private static JsonValueKind[] BuildKinds()
    {
        var kinds = new JsonValueKind[(int)Enum.GetValues<JsonTokenType>().Max() + 1];
        foreach (var t in Enum.GetValues<JsonTokenType>())
        {
            kinds[(int)t] = t switch
            {
                JsonTokenType.StartObject => JsonValueKind.Object,
                JsonTokenType.StartArray => JsonValueKind.Array,
                JsonTokenType.String => JsonValueKind.String,
                JsonTokenType.Number => JsonValueKind.Number,
                JsonTokenType.True => JsonValueKind.True,
                JsonTokenType.False => JsonValueKind.False,
                JsonTokenType.Null => JsonValueKind.Null,
                _ => JsonValueKind.Undefined,
            };
        }

        return kinds;
    }

    private static JsonValueKind KindOf(JsonTokenType t) => (uint)t < (uint)Kinds.Length ? Kinds[(int)t] : JsonValueKind.Undefined;
}
