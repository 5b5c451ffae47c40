using System.Text.Json.Nodes;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Normalization;

namespace AuditPipeline.Core.Tests.Normalization;

public class AiNormalizerTests
{
    [Fact]
    public void An_ai_action_is_attributed_to_the_user_on_whose_behalf_it_ran()
    {
        var e = Raw.Event(SourceKind.Ai, Raw.Ai());
        Assert.Equal(("ai", "updated", "ai.update_deal", "success", "Chat"), (e.Category, e.Action, e.EventType, e.Outcome, e.Source));
        Assert.Equal(new AuditActor("user", "usr_7", "Ana Silva", "ana@acme.test"), e.Actor);
        Assert.Equal(new AuditEntity("deal", "deal_123", "Acme Corp Enterprise"), e.Entity);
        Assert.Equal(new AuditAi(true, "conv_3", "msg_17", "update_deal"), e.Ai);
        Assert.Equal("""[{"field":"amount","before":1000,"after":2500}]""", Raw.Json(e)["changes"]!.ToJsonString());
        Assert.Equal("2026-11-29T10:00:05.120Z", AuditJson.FormatTime(e.Time));
        Assert.Null(e.Ip);
        Assert.Null(e.UserAgent);
        Assert.Equal("{}", e.Details.GetRawText());
    }

    [Theory]
    [InlineData("create", "created")]
    [InlineData("update", "updated")]
    [InlineData("delete", "deleted")]
    [InlineData("read", "read")]
    public void Every_operation_maps_to_its_action(string operation, string action) =>
        Assert.Equal(action, Raw.Event(SourceKind.Ai, Raw.Ai().With("operation", operation)).Action);

    [Fact]
    public void An_unseen_operation_is_its_own_action()
    {
        var r = Raw.Normalize(SourceKind.Ai, Raw.Ai().With("operation", "summarize").ToJsonString());
        Assert.True(r.IsUnknownType);
        Assert.Equal("summarize", r.Event!.Action);
    }

    [Fact]
    public void A_failed_ai_action_has_outcome_failure_and_its_error()
    {
        var e = Raw.Event(SourceKind.Ai, Raw.Ai().With("status", "failed").With("error", "deal is locked"));
        Assert.Equal("failure", e.Outcome);
        Assert.Equal("""{"error":"deal is locked"}""", e.Details.GetRawText());
    }
}

public class PlatformNormalizerTests
{
    [Theory]
    [InlineData("settings", "pipeline.created", "created")]
    [InlineData("settings", "pipeline.updated", "updated")]
    [InlineData("settings", "pipeline.deleted", "deleted")]
    [InlineData("settings", "property.created", "created")]
    [InlineData("settings", "property.updated", "updated")]
    [InlineData("settings", "property.deleted", "deleted")]
    [InlineData("settings", "integration.connected", "connected")]
    [InlineData("settings", "integration.disconnected", "disconnected")]
    [InlineData("data", "import.started", "import_started")]
    [InlineData("data", "import.completed", "import_completed")]
    [InlineData("data", "export.requested", "export_requested")]
    [InlineData("data", "bulk.updated", "bulk_updated")]
    [InlineData("data", "bulk.deleted", "bulk_deleted")]
    [InlineData("data", "gdpr.erasure_executed", "erasure_executed")]
    [InlineData("security", "ip_allowlist.updated", "ip_allowlist_updated")]
    public void Every_action_maps_to_the_raw_category_and_its_action(string category, string action, string expected)
    {
        var e = Raw.Event(SourceKind.Platform, Raw.Platform().With("category", category).With("action", action));
        Assert.Equal((category, expected, action), (e.Category, e.Action, e.EventType));
        Assert.Equal(new AuditEntity("import", "imp_4", "contacts-nov.csv"), e.Entity);
    }

    [Theory]
    [InlineData("webhook.created", "created", false)]
    [InlineData("pipeline.archived", "archived", true)]
    [InlineData("gdpr.request_received", "gdpr_request_received", false)]
    public void Unseen_actions_follow_the_generic_rule(string action, string expected, bool verbOnly)
    {
        var r = Raw.Normalize(SourceKind.Platform, Raw.Platform().With("action", action).ToJsonString());
        Assert.True(r.IsUnknownType);
        Assert.Equal(verbOnly ? expected : action.Replace('.', '_'), r.Event!.Action);
    }

    [Fact]
    public void The_platform_details_members_are_kept_with_their_keys()
    {
        var e = Raw.Event(SourceKind.Platform, Raw.Platform());
        Assert.Equal("""{"rows":1200,"failed":3}""", e.Details.GetRawText());
        Assert.Empty(e.Changes);
        Assert.Null(e.Before);
        Assert.Equal(("Admin", "203.0.113.5"), (e.Source, e.Ip));
    }

    [Fact]
    public void Settings_changes_are_computed_from_before_and_after()
    {
        var raw = Raw.Platform().With("category", "settings").With("action", "pipeline.updated")
            .With("before", JsonNode.Parse("""{"stages":["A","B"]}""")).With("after", JsonNode.Parse("""{"stages":["A","B","C"]}"""));
        var e = Raw.Event(SourceKind.Platform, raw);
        Assert.Equal("""[{"field":"stages","before":["A","B"],"after":["A","B","C"]}]""", Raw.Json(e)["changes"]!.ToJsonString());
    }

    [Fact]
    public void An_api_key_actor_without_a_channel_is_source_api()
    {
        var raw = Raw.Platform().Without("origin").With("actor", JsonNode.Parse("""{"type":"api_key","id":"key_1","name":"Zapier"}"""));
        var e = Raw.Event(SourceKind.Platform, raw);
        Assert.Equal(("API", "api_key", "key_1"), (e.Source, e.Actor.Type, e.Actor.Id));
    }
}
