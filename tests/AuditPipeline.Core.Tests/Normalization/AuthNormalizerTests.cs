using System.Text.Json.Nodes;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Normalization;

namespace AuditPipeline.Core.Tests.Normalization;

public class AuthNormalizerTests
{
    [Theory]
    [InlineData("login.succeeded", "auth", "login", "user")]
    [InlineData("logout", "auth", "logout", "user")]
    [InlineData("password.changed", "auth", "password_changed", "user")]
    [InlineData("password.reset", "auth", "password_reset", "user")]
    [InlineData("mfa.enrolled", "auth", "mfa_enrolled", "user")]
    [InlineData("mfa.removed", "auth", "mfa_removed", "user")]
    [InlineData("mfa.reset", "auth", "mfa_reset", "user")]
    public void User_events_map_to_the_user_as_entity(string ev, string category, string action, string entityType)
    {
        var e = Raw.Event(SourceKind.Auth, Raw.Auth().With("event", ev));
        Assert.Equal((category, action, ev, "success"), (e.Category, e.Action, e.EventType, e.Outcome));
        Assert.Equal(new AuditEntity(entityType, "usr_7", "Ana Silva"), e.Entity);
        Assert.Equal(new AuditActor("user", "usr_7", "Ana Silva", "ana@acme.test"), e.Actor);
        Assert.Equal("{}", e.Details.GetRawText());
    }

    [Fact]
    public void A_failed_login_has_outcome_failure_and_its_reason_in_details()
    {
        var e = Raw.Event(SourceKind.Auth, Raw.Auth());
        Assert.Equal(("auth", "login_failed", "login.failed", "failure"), (e.Category, e.Action, e.EventType, e.Outcome));
        Assert.Equal(new AuditEntity("user", "usr_7", "Ana Silva"), e.Entity);
        Assert.Equal("""{"reason":"bad_password"}""", e.Details.GetRawText());
        Assert.Equal(("198.51.100.23", "Mozilla/5.0 ...", "Admin"), (e.Ip, e.UserAgent, e.Source));
        // 1764412320000 ms is 2025-11-29T10:32:00Z.
        Assert.Equal("2025-11-29T10:32:00.000Z", AuditJson.FormatTime(e.Time));
    }

    [Fact]
    public void A_failed_login_for_an_unknown_account_names_the_attempted_email()
    {
        var raw = Raw.Auth().With("user", null).With("attempted_email", "mallory@evil.test");
        var e = Raw.Event(SourceKind.Auth, raw);
        Assert.Equal(new AuditActor("user", null, null, "mallory@evil.test"), e.Actor);
        Assert.Equal(new AuditEntity("user", null, null), e.Entity);
        Assert.Equal("""{"reason":"bad_password","attemptedEmail":"mallory@evil.test"}""", e.Details.GetRawText());
    }

    [Theory]
    [InlineData("sso.configured", "sso_configured")]
    [InlineData("sso.updated", "sso_updated")]
    [InlineData("sso.removed", "sso_removed")]
    public void Sso_events_have_an_sso_entity_without_id(string ev, string action)
    {
        var e = Raw.Event(SourceKind.Auth, Raw.Auth().With("event", ev));
        Assert.Equal(("auth", action), (e.Category, e.Action));
        Assert.Equal(new AuditEntity("sso", null, null), e.Entity);
    }

    [Fact]
    public void A_terminated_session_is_a_security_event_on_the_session()
    {
        var e = Raw.Event(SourceKind.Auth, Raw.Auth().With("event", "session.terminated").With("session_id", "ses_5"));
        Assert.Equal(("security", "session_terminated"), (e.Category, e.Action));
        Assert.Equal(new AuditEntity("session", "ses_5", null), e.Entity);
        Assert.Equal("""{"sessionId":"ses_5"}""", e.Details.GetRawText());
    }

    [Theory]
    [InlineData("api_key.created", "api_key_created")]
    [InlineData("api_key.revoked", "api_key_revoked")]
    [InlineData("api_key.regenerated", "api_key_regenerated")]
    public void Api_key_events_are_security_events_on_the_target_key(string ev, string action)
    {
        var raw = Raw.Auth().With("event", ev).With("target", JsonNode.Parse("""{"type":"api_key","id":"key_1","name":"Zapier"}"""));
        var e = Raw.Event(SourceKind.Auth, raw);
        Assert.Equal(("security", action), (e.Category, e.Action));
        Assert.Equal(new AuditEntity("api_key", "key_1", "Zapier"), e.Entity);
    }

    [Fact]
    public void A_password_policy_update_is_a_security_event()
    {
        var e = Raw.Event(SourceKind.Auth, Raw.Auth().With("event", "password_policy.updated"));
        Assert.Equal(("security", "policy_updated"), (e.Category, e.Action));
        Assert.Equal(new AuditEntity("password_policy", null, null), e.Entity);
    }

    [Fact]
    public void An_unseen_auth_event_follows_the_generic_rule()
    {
        var r = Raw.Normalize(SourceKind.Auth, Raw.Auth().With("event", "passkey.registered").ToJsonString());
        Assert.True(r.IsSuccess);
        Assert.True(r.IsUnknownType);
        Assert.Equal(("auth", "passkey_registered", "user", "usr_7"), (r.Event.Category, r.Event.Action, r.Event.Entity.Type, r.Event.Entity.Id));
    }

    [Theory]
    [InlineData("api", "API")]
    [InlineData("chat", "Chat")]
    [InlineData(null, "Admin")]
    public void The_source_is_the_channel_else_admin(string? channel, string source) =>
        Assert.Equal(source, Raw.Event(SourceKind.Auth, Raw.Auth().With("channel", channel)).Source);
}
