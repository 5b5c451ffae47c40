using System.Text.Json.Nodes;
using AuditPipeline.Core.Normalization;

namespace AuditPipeline.Core.Tests.Normalization;

public class CrmNormalizerTests
{
    [Fact]
    public void The_contract_example_normalizes_to_the_contract_document()
    {
        var e = Raw.Event(SourceKind.Crm, Raw.Crm());
        var expected = JsonNode.Parse("""
            {"id":"evt_a1b2c3d4e5","time":"2026-11-29T10:32:00.000Z","orgId":"org_42",
             "category":"crm","action":"stage_changed","eventType":"deal.stage_changed","outcome":"success",
             "actor":{"type":"user","id":"usr_7","name":"Ana Silva","email":"ana@acme.test"},
             "entity":{"type":"deal","id":"deal_123","name":"Acme Corp Enterprise"},
             "source":"Admin","ip":"203.0.113.5","userAgent":"Mozilla/5.0 ...",
             "changes":[{"field":"stage","before":"Demo Scheduled","after":"Proposal Sent"}],
             "before":{"stage":"Demo Scheduled","amount":1000},"after":{"stage":"Proposal Sent","amount":1000},
             "ai":null,"details":{"requestId":"req_9"},"receivedAt":"2026-11-29T10:32:00.412Z"}
            """);
        Assert.True(JsonNode.DeepEquals(expected, Raw.Json(e)), Raw.Json(e).ToJsonString());
    }

    [Theory]
    [InlineData("contact.created", "contact", "created")]
    [InlineData("company.updated", "company", "updated")]
    [InlineData("deal.deleted", "deal", "deleted")]
    [InlineData("deal.stage_changed", "deal", "stage_changed")]
    [InlineData("ticket.resolved", "ticket", "resolved")]
    [InlineData("contact.merged", "contact", "merged")]
    [InlineData("task.completed", "task", "completed")]
    [InlineData("note.created", "note", "created")]
    public void Every_object_and_verb_maps_to_category_crm_action_verb_entity_object(string type, string obj, string verb)
    {
        var e = Raw.Event(SourceKind.Crm, Raw.Crm().With("type", type));
        Assert.Equal(("crm", verb, type, obj), (e.Category, e.Action, e.EventType, e.Entity.Type));
        Assert.Equal(("deal_123", "Acme Corp Enterprise"), (e.Entity.Id, e.Entity.Name));
        Assert.False(Raw.Normalize(SourceKind.Crm, Raw.Crm().With("type", type).ToJsonString()).IsUnknownType);
    }

    [Fact]
    public void An_unseen_well_formed_type_is_stored_with_the_generic_rule_and_flagged()
    {
        var r = Raw.Normalize(SourceKind.Crm, Raw.Crm().With("type", "invoice.paid_v2").ToJsonString());
        Assert.True(r.IsSuccess);
        Assert.True(r.IsUnknownType);
        Assert.Equal(("crm", "paid_v2", "invoice"), (r.Event.Category, r.Event.Action, r.Event.Entity.Type));
    }

    [Theory]
    [InlineData("chat", "Chat")]
    [InlineData("admin", "Admin")]
    [InlineData("api", "API")]
    [InlineData("workflow", "Workflow")]
    [InlineData("system", "System")]
    public void The_channel_is_shown_by_its_display_name(string channel, string source)
    {
        var raw = Raw.Crm();
        raw["origin"]!["channel"] = channel;
        Assert.Equal(source, Raw.Event(SourceKind.Crm, raw).Source);
    }

    [Theory]
    [InlineData("api_key", "API")]
    [InlineData("workflow", "Workflow")]
    [InlineData("system", "System")]
    [InlineData("user", "Admin")]
    public void Without_a_channel_the_source_follows_the_actor(string actorType, string source)
    {
        var raw = Raw.Crm();
        raw["origin"]!.AsObject().Remove("channel");
        raw["actor"]!["type"] = actorType;
        Assert.Equal(source, Raw.Event(SourceKind.Crm, raw).Source);
    }

    [Fact]
    public void Without_an_origin_there_is_no_ip_user_agent_or_request_id_and_the_source_follows_the_actor()
    {
        var e = Raw.Event(SourceKind.Crm, Raw.Crm().Without("origin"));
        Assert.Null(e.Ip);
        Assert.Null(e.UserAgent);
        Assert.Equal("Admin", e.Source);
        Assert.Equal("{}", e.Details.GetRawText());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("absent")]
    public void A_message_without_an_actor_was_done_by_the_system(string? how)
    {
        var raw = how is null ? Raw.Crm().With("actor", null) : Raw.Crm().Without("actor");
        raw["origin"]!.AsObject().Remove("channel");
        var e = Raw.Event(SourceKind.Crm, raw);
        Assert.Equal(new Core.Events.AuditActor("system", null, "System", null), e.Actor);
        Assert.Equal("System", e.Source);
    }

    [Fact]
    public void A_system_actor_is_normalized_whatever_the_producer_sent()
    {
        var raw = Raw.Crm().With("actor", JsonNode.Parse("""{"type":"system","id":"sys_1","name":"cron","email":"x@y"}"""));
        Assert.Equal(new Core.Events.AuditActor("system", null, "System", null), Raw.Event(SourceKind.Crm, raw).Actor);
    }

    [Fact]
    public void A_created_record_lists_every_field_of_after_with_before_null()
    {
        var raw = Raw.Crm().With("type", "contact.created").Without("before")
            .With("after", JsonNode.Parse("""{"name":"Bo","email":"bo@x.test","score":null}"""));
        var e = Raw.Event(SourceKind.Crm, raw);
        Assert.Equal(
            """[{"field":"name","before":null,"after":"Bo"},{"field":"email","before":null,"after":"bo@x.test"},{"field":"score","before":null,"after":null}]""",
            Raw.Json(e)["changes"]!.ToJsonString());
        Assert.Null(e.Before);
    }

    [Fact]
    public void A_deleted_record_lists_every_field_of_before_with_after_null()
    {
        var raw = Raw.Crm().With("type", "deal.deleted").Without("after");
        var e = Raw.Event(SourceKind.Crm, raw);
        Assert.Equal(
            """[{"field":"stage","before":"Demo Scheduled","after":null},{"field":"amount","before":1000,"after":null}]""",
            Raw.Json(e)["changes"]!.ToJsonString());
        Assert.Null(e.After);
    }

    [Fact]
    public void Changes_follow_first_appearance_in_before_then_after_and_compare_numbers_by_value()
    {
        var raw = Raw.Crm()
            .With("before", JsonNode.Parse("""{"b":1,"a":{"x":[1,2]},"gone":"x","same":1.0,"n":null}"""))
            .With("after", JsonNode.Parse("""{"new":true,"a":{"x":[1,3]},"b":1e0,"same":1,"n":null,"alsoNull":null}"""));
        var e = Raw.Event(SourceKind.Crm, raw);
        Assert.Equal(
            """[{"field":"a","before":{"x":[1,2]},"after":{"x":[1,3]}},{"field":"gone","before":"x","after":null},{"field":"new","before":null,"after":true}]""",
            Raw.Json(e)["changes"]!.ToJsonString());
    }

    [Fact]
    public void Times_with_any_offset_and_up_to_seven_fractional_digits_become_utc_milliseconds()
    {
        var e = Raw.Event(SourceKind.Crm, Raw.Crm().With("created_at", "2026-11-29T23:59:59.9999999-05:30"));
        Assert.Equal("2026-11-30T05:29:59.999Z", Raw.Json(e)["time"]!.GetValue<string>());
    }
}

public class FieldLookupTests
{
    [Fact]
    public void A_field_name_written_with_json_escapes_is_the_same_field()
    {
        var json = Raw.Crm().ToJsonString().Replace("\"org_id\"", "\"org\\u005fid\"", StringComparison.Ordinal);
        Assert.Equal("org_42", Raw.Event(AuditPipeline.Core.Normalization.SourceKind.Crm, System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject()).OrgId);
        Assert.True(Raw.Normalize(AuditPipeline.Core.Normalization.SourceKind.Crm, json).IsSuccess);
    }

    [Fact]
    public void Of_duplicate_names_the_last_wins_as_json_readers_do()
    {
        var json = Raw.Crm().ToJsonString().Replace("\"org_id\":\"org_42\"", "\"org_id\":\"org_1\",\"org_id\":\"org_42\"", StringComparison.Ordinal);
        Assert.Equal("org_42", Raw.Normalize(AuditPipeline.Core.Normalization.SourceKind.Crm, json).Event!.OrgId);
    }

    [Fact]
    public void Unknown_and_very_long_field_names_are_ignored()
    {
        var raw = Raw.Crm().With(new string('k', 100), 1).With("ünïcode", "x").With("extra", new System.Text.Json.Nodes.JsonObject());
        Assert.Equal("evt_a1b2c3d4e5", Raw.Event(AuditPipeline.Core.Normalization.SourceKind.Crm, raw).Id);
    }
}

public class ChangeSetEdgeTests
{
    [Fact]
    public void A_repeated_field_counts_once_at_its_first_appearance_and_escaped_names_are_the_same_field()
    {
        var before = System.Text.Json.JsonDocument.Parse("""{"a":1,"b":2,"a":3,"st\u0061ge":"x"}""").RootElement;
        var after = System.Text.Json.JsonDocument.Parse("""{"stage":"x","b":5,"b":6,"c":null,"d":7}""").RootElement;
        var changes = AuditPipeline.Core.Normalization.ChangeSet.Compute(before, after);
        Assert.Equal(["a", "b", "d"], changes.Select(c => c.Field));
        Assert.Equal("6", changes[1].After!.Value.GetRawText());
    }
}
