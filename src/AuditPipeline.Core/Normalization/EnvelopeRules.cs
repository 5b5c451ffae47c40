using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Normalization;

/// <summary>Rules shared by kinds that carry an Outsprint actor and origin (crm, platform).</summary>
internal static class EnvelopeRules
{
    public static AuditActor Actor(ref RawMessage m)
    {
        var actor = m.OptionalObject(RawField.actor);
        if (m.Failed || actor is null)
        {
            return AuditActor.System;
        }

        var type = m.OptionalString(actor, RawMember.type, "actor.type", ActorTypes.All) ?? ActorTypes.User;
        var id = m.OptionalString(actor, RawMember.id, "actor.id");
        var name = m.OptionalString(actor, RawMember.name, "actor.name");
        var email = m.OptionalString(actor, RawMember.email, "actor.email");
        return type == ActorTypes.System ? AuditActor.System : new AuditActor(type, id, name, email);
    }

    /// <summary>The channel's display name, else the one implied by the actor.</summary>
    public static string Source(string? channel, AuditActor actor) =>
        Sources.FromChannel(channel) ?? Sources.FromActorType(actor.Type);

    /// <summary>Where an Outsprint envelope came from: its <c>origin</c> object, with the source following the actor when no channel is named.</summary>
    public static EnvelopeOrigin Origin(in RawMessage m, RawField? origin, AuditActor actor) => new(
        Source(m.LenientString(origin, RawMember.channel, Sources.Channels), actor),
        m.LenientString(origin, RawMember.ip),
        m.LenientString(origin, RawMember.user_agent));

    /// <summary>The origin's request id, when it is a string, as the details' <c>requestId</c>, from its bytes (it is kept nowhere else).</summary>
    public static void AddRequestId(in RawMessage m, RawField? origin, ref EventDetails details)
    {
        if (m.LenientUtf8(origin, RawMember.request_id, out var requestId))
        {
            details.AddUtf8("requestId", requestId);
        }
    }

    /// <summary>Starts the event's document with the record's before and after; their item indexes.</summary>
    public static (int Before, int After) AddBeforeAfter(in RawMessage m, EventJson json) =>
        (m.AddTo(json, RawField.before), m.AddTo(json, RawField.after));

    /// <summary>Once the event's JSON is built: the record's before and after and the changes between them.</summary>
    public static (JsonSlot Before, JsonSlot After, IReadOnlyList<AuditChange> Changes) BeforeAfter(in RawMessage m, EventJson json, (int Before, int After) items)
    {
        var (beforeSlot, afterSlot) = (new JsonSlot(json.Item(items.Before)), new JsonSlot(json.Item(items.After)));
        if (items.Before < 0 && items.After < 0)
        {
            return (beforeSlot, afterSlot, []);
        }

        var before = items.Before < 0 ? default : json.Memory(items.Before);
        var after = items.After < 0 ? default : json.Memory(items.After);
        var raw = json.Changes;
        m.Changes(before.Span, after.Span, raw);
        if (raw.Count == 0)
        {
            return (beforeSlot, afterSlot, []);
        }

        var changes = new AuditChange[raw.Count];
        for (var i = 0; i < changes.Length; i++)
        {
            var c = raw[i];
            changes[i] = new AuditChange(c.Field, Slice(before, c.Before), Slice(after, c.After));
        }

        return (beforeSlot, afterSlot, changes);
    }

    /// <summary>A change's value: a slice of the record's own bytes, or nothing.</summary>
    private static JsonSlot Slice(ReadOnlyMemory<byte> record, Range? value) =>
        value is { } r ? new JsonSlot(new RawJson(record[r])) : default;
}
