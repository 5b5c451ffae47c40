// The normalizer as it was before the single-pass reader (commit e7208cd), kept verbatim but for
// its namespace as the oracle of NormalizationDifferentialTests. Not product code: do not change it.
using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Tests.Normalization.Oracle;

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

        var type = m.OptionalString(actor, "type", "actor.type") ?? ActorTypes.User;
        var id = m.OptionalString(actor, "id", "actor.id");
        var name = m.OptionalString(actor, "name", "actor.name");
        var email = m.OptionalString(actor, "email", "actor.email");
        return type == ActorTypes.System ? AuditActor.System : new AuditActor(type, id, name, email);
    }

    /// <summary>The channel's display name, else the one implied by the actor.</summary>
    public static string Source(string? channel, AuditActor actor) =>
        Sources.FromChannel(channel) ?? Sources.FromActorType(actor.Type);

    /// <summary>Where an Outsprint envelope came from: its <c>origin</c> object, with the source following the actor when no channel is named.</summary>
    public static EnvelopeOrigin Origin(in RawMessage m, JsonElement? origin, AuditActor actor) => new(
        Source(m.LenientString(origin, "channel"), actor),
        m.LenientString(origin, "ip"),
        m.LenientString(origin, "user_agent"),
        m.LenientString(origin, "request_id"));

    /// <summary>The record's before and after (cloned to outlive the parse) and the changes between them.</summary>
    public static (JsonElement? Before, JsonElement? After, IReadOnlyList<AuditChange> Changes) BeforeAfter(in RawMessage m)
    {
        var before = m.Raw(RawField.before)?.Clone();
        var after = m.Raw(RawField.after)?.Clone();
        return (before, after, ChangeSet.Compute(before, after));
    }
}
