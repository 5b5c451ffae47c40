using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Normalization;

/// <summary>auth: the identity service's events, epoch milliseconds, <c>tenant</c> for the organisation.</summary>
internal static class AuthNormalizer
{
    private const string LoginFailed = "login.failed";

    private enum EntityKind
    {
        User,
        Sso,
        Session,
        ApiKey,
        PasswordPolicy,
    }

    private static readonly Dictionary<string, (string Category, string Action, EntityKind Entity)> Table = new(StringComparer.Ordinal)
    {
        ["login.succeeded"] = (Categories.Auth, "login", EntityKind.User),
        [LoginFailed] = (Categories.Auth, "login_failed", EntityKind.User),
        ["logout"] = (Categories.Auth, "logout", EntityKind.User),
        ["password.changed"] = (Categories.Auth, "password_changed", EntityKind.User),
        ["password.reset"] = (Categories.Auth, "password_reset", EntityKind.User),
        ["mfa.enrolled"] = (Categories.Auth, "mfa_enrolled", EntityKind.User),
        ["mfa.removed"] = (Categories.Auth, "mfa_removed", EntityKind.User),
        ["mfa.reset"] = (Categories.Auth, "mfa_reset", EntityKind.User),
        ["sso.configured"] = (Categories.Auth, "sso_configured", EntityKind.Sso),
        ["sso.updated"] = (Categories.Auth, "sso_updated", EntityKind.Sso),
        ["sso.removed"] = (Categories.Auth, "sso_removed", EntityKind.Sso),
        ["session.terminated"] = (Categories.Security, "session_terminated", EntityKind.Session),
        ["api_key.created"] = (Categories.Security, "api_key_created", EntityKind.ApiKey),
        ["api_key.revoked"] = (Categories.Security, "api_key_revoked", EntityKind.ApiKey),
        ["api_key.regenerated"] = (Categories.Security, "api_key_regenerated", EntityKind.ApiKey),
        ["password_policy.updated"] = (Categories.Security, "policy_updated", EntityKind.PasswordPolicy),
    };

    public static NormalizeResult Normalize(ref RawMessage m, DateTimeOffset receivedAt)
    {
        var id = m.RequiredId(RawField.event_id);
        var time = RequiredEpochMilliseconds(ref m, receivedAt);
        var org = m.RequiredId(RawField.tenant);

        // `logout` has no dot in the contract's list, so the form check accepts a known bare name too.
        var eventName = m.Required(RawField.@event);
        var known = Table.TryGetValue(eventName, out var row);
        if (!m.Failed && !known)
        {
            m.RequiredType(RawField.@event);
        }

        var user = m.OptionalObject(RawField.user);
        var userId = m.OptionalString(user, RawMember.id, "user.id");
        var userName = m.OptionalString(user, RawMember.name, "user.name");
        var userEmail = m.OptionalString(user, RawMember.email, "user.email");
        var attemptedEmail = m.OptionalString(RawField.attempted_email);
        var sessionId = m.OptionalString(RawField.session_id);
        var target = m.OptionalObject(RawField.target);
        var targetId = m.OptionalString(target, RawMember.id, "target.id");
        var targetName = m.OptionalString(target, RawMember.name, "target.name");
        if (m.Failed)
        {
            return m.Rejection();
        }

        if (!known)
        {
            row = (Categories.Auth, eventName.Replace('.', '_'), EntityKind.User);
        }

        var failedLogin = eventName == LoginFailed;
        AuditActor actor = user is not null
            ? new AuditActor(ActorTypes.User, userId, userName, userEmail)
            : failedLogin || attemptedEmail is not null
                ? new AuditActor(ActorTypes.User, null, null, attemptedEmail)
                : AuditActor.System;

        var entity = row.Entity switch
        {
            EntityKind.Sso => new AuditEntity("sso", null, null),
            EntityKind.Session => new AuditEntity("session", sessionId, null),
            EntityKind.ApiKey => new AuditEntity("api_key", targetId, targetName),
            EntityKind.PasswordPolicy => new AuditEntity("password_policy", null, null),
            _ => new AuditEntity("user", userId, userName),
        };

        var json = EventJson.Start();
        var details = new EventDetails(json);
        if (failedLogin)
        {
            details.Add("reason", m.LenientString(RawField.reason));
            details.Add("attemptedEmail", attemptedEmail);
        }

        details.Add("sessionId", sessionId);
        var detailsItem = details.End();
        json.Build();

        var e = new AuditEvent
        {
            Id = id,
            Time = time,
            OrgId = org,
            Category = row.Category,
            Action = row.Action,
            EventType = eventName,
            Outcome = failedLogin ? Outcomes.Failure : Outcomes.Success,
            Actor = actor,
            Entity = entity,
            Source = Sources.FromChannel(m.LenientString(RawField.channel, Sources.Channels)) ?? Sources.Admin,
            Ip = m.LenientString(RawField.ip),
            UserAgent = m.LenientString(RawField.ua),
            Changes = [],
            Before = null,
            After = null,
            Ai = null,
            DetailsJson = EventDetails.Of(json, detailsItem),
            ReceivedAt = receivedAt,
        };
        return NormalizeResult.Ok(e, unknownType: !known);
    }

    private static DateTimeOffset RequiredEpochMilliseconds(ref RawMessage m, DateTimeOffset receivedAt)
    {
        const string name = "ts";
        if (m.Failed)
        {
            return default;
        }

        if (!m.TryGet(RawField.ts, out var v) || v.Kind == JsonValueKind.Null)
        {
            m.Fail(RejectReason.MissingField, $"missing {name}");
            return default;
        }

        if (v.Kind != JsonValueKind.Number)
        {
            m.Fail(RejectReason.WrongType, $"{name} must be a JSON integer of epoch milliseconds (was {RawMessage.Describe(v.Kind)})");
            return default;
        }

        if (!m.TryGetInt64(v, out var ms) || !Instants.TryFromUnixMilliseconds(ms, out var t))
        {
            // An integer past year 9999 is most often a finer unit than milliseconds: the reason says so.
            var hint = m.TryGetInt64(v, out var big) ? PlausibleTime.OutOfRangeHint(big, receivedAt) : string.Empty;
            m.Fail(
                hint.Length > 0 ? RejectReason.ImplausibleTime : RejectReason.InvalidValue,
                $"{name} {RawMessage.Shorten(m.RawText(v))} is not an instant in integer epoch milliseconds{hint}");
            return default;
        }

        return t;
    }
}
