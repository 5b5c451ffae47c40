using System.Text.Json.Nodes;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Normalization;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Core.Tests.Normalization;

public class RejectRuleTests
{
    public static TheoryData<SourceKind, string> RequiredFields => new()
    {
        { SourceKind.Crm, "id" }, { SourceKind.Crm, "type" }, { SourceKind.Crm, "created_at" }, { SourceKind.Crm, "org_id" },
        { SourceKind.Auth, "event_id" }, { SourceKind.Auth, "ts" }, { SourceKind.Auth, "tenant" }, { SourceKind.Auth, "event" },
        { SourceKind.Ai, "action_id" }, { SourceKind.Ai, "timestamp" }, { SourceKind.Ai, "workspace_id" },
        { SourceKind.Ai, "operation" }, { SourceKind.Ai, "tool" }, { SourceKind.Ai, "target" },
        { SourceKind.Platform, "event_id" }, { SourceKind.Platform, "occurred_at" }, { SourceKind.Platform, "org_id" },
        { SourceKind.Platform, "category" }, { SourceKind.Platform, "action" },
    };

    [Theory]
    [MemberData(nameof(RequiredFields))]
    public void A_missing_required_field_is_named(SourceKind kind, string field) =>
        Assert.Equal($"missing {field}", Raw.Error(kind, Raw.For(kind).Without(field).ToJsonString()));

    [Theory]
    [MemberData(nameof(RequiredFields))]
    public void A_required_field_that_is_null_is_missing(SourceKind kind, string field) =>
        Assert.Equal($"missing {field}", Raw.Error(kind, Raw.For(kind).With(field, null).ToJsonString()));

    [Theory]
    [MemberData(nameof(RequiredFields))]
    public void A_required_field_of_the_wrong_json_type_is_named(SourceKind kind, string field)
    {
        JsonNode wrong = field is "ts" ? JsonValue.Create("1764412320000") : field is "target" ? JsonValue.Create("deal_123") : new JsonArray(1);
        Assert.StartsWith($"{field} must be a JSON", Raw.Error(kind, Raw.For(kind).With(field, wrong).ToJsonString()));
    }

    [Theory]
    [InlineData(SourceKind.Crm, "actor")]
    [InlineData(SourceKind.Crm, "origin")]
    [InlineData(SourceKind.Crm, "data")]
    [InlineData(SourceKind.Auth, "user")]
    [InlineData(SourceKind.Auth, "target")]
    [InlineData(SourceKind.Ai, "on_behalf_of")]
    [InlineData(SourceKind.Platform, "actor")]
    [InlineData(SourceKind.Platform, "origin")]
    [InlineData(SourceKind.Platform, "target")]
    public void An_optional_object_of_the_wrong_type_rejects_the_message(SourceKind kind, string field) =>
        Assert.Equal($"{field} must be a JSON object (was a string)", Raw.Error(kind, Raw.For(kind).With(field, "oops").ToJsonString()));

    [Theory]
    [InlineData(SourceKind.Crm, "actor", "id")]
    [InlineData(SourceKind.Crm, "data", "name")]
    [InlineData(SourceKind.Auth, "user", "id")]
    [InlineData(SourceKind.Ai, "target", "id")]
    [InlineData(SourceKind.Platform, "target", "name")]
    public void An_id_or_name_that_is_not_a_string_rejects_the_message(SourceKind kind, string parent, string field)
    {
        var raw = Raw.For(kind);
        raw[parent]![field] = 42;
        Assert.Equal($"{parent}.{field} must be a JSON string (was a number)", Raw.Error(kind, raw.ToJsonString()));
    }

    [Theory]
    [InlineData(SourceKind.Crm, "id")]
    [InlineData(SourceKind.Crm, "org_id")]
    [InlineData(SourceKind.Auth, "event_id")]
    [InlineData(SourceKind.Auth, "tenant")]
    [InlineData(SourceKind.Ai, "action_id")]
    [InlineData(SourceKind.Ai, "workspace_id")]
    [InlineData(SourceKind.Platform, "event_id")]
    [InlineData(SourceKind.Platform, "org_id")]
    public void An_empty_or_overlong_id_or_organisation_is_rejected(SourceKind kind, string field)
    {
        Assert.Equal($"{field} is empty", Raw.Error(kind, Raw.For(kind).With(field, "").ToJsonString()));
        Assert.Equal($"{field} is 257 characters long, more than the limit of 256", Raw.Error(kind, Raw.For(kind).With(field, new string('x', 257)).ToJsonString()));
        Assert.True(Raw.Normalize(kind, Raw.For(kind).With(field, new string('x', 256)).ToJsonString()).IsSuccess);
    }

    [Theory]
    [InlineData(SourceKind.Crm, "type", "Deal.Created")]
    [InlineData(SourceKind.Crm, "type", "deal")]
    [InlineData(SourceKind.Crm, "type", "deal.stage.changed")]
    [InlineData(SourceKind.Crm, "type", "deal.")]
    [InlineData(SourceKind.Crm, "type", ".created")]
    [InlineData(SourceKind.Crm, "type", "deal created")]
    [InlineData(SourceKind.Auth, "event", "LOGIN")]
    [InlineData(SourceKind.Auth, "event", "login-failed")]
    [InlineData(SourceKind.Platform, "action", "import")]
    [InlineData(SourceKind.Platform, "action", "import.Completed")]
    public void A_type_not_of_the_form_object_dot_verb_is_rejected(SourceKind kind, string field, string value) =>
        Assert.Equal(
            $"{field} '{value}' is not of the form <object>.<verb> (lower-case letters, digits and underscores)",
            Raw.Error(kind, Raw.For(kind).With(field, value).ToJsonString()));

    [Theory]
    [InlineData("Update")]
    [InlineData("up-date")]
    [InlineData("a.b")]
    [InlineData("")]
    public void An_ai_operation_that_is_not_one_lower_case_word_is_rejected(string op) =>
        Assert.StartsWith($"operation '{op}' is not a lower-case word", Raw.Error(SourceKind.Ai, Raw.Ai().With("operation", op).ToJsonString()));

    [Fact]
    public void A_platform_category_other_than_the_three_is_rejected() =>
        Assert.Equal(
            "category 'billing' is not one of settings, security or data",
            Raw.Error(SourceKind.Platform, Raw.Platform().With("category", "billing").ToJsonString()));

    [Theory]
    [InlineData(SourceKind.Crm, "created_at", "yesterday")]
    [InlineData(SourceKind.Crm, "created_at", "2026-11-29T10:32:00")]
    [InlineData(SourceKind.Crm, "created_at", "2026-11-29")]
    [InlineData(SourceKind.Crm, "created_at", "2026-02-30T10:00:00Z")]
    [InlineData(SourceKind.Crm, "created_at", "2026-11-29T10:32:00.12345678Z")]
    [InlineData(SourceKind.Crm, "created_at", "2026-11-29T25:00:00Z")]
    [InlineData(SourceKind.Ai, "timestamp", "29/11/2026 10:00 +01:00")]
    [InlineData(SourceKind.Platform, "occurred_at", "2026-11-29T12:00:00+25:00")]
    public void A_time_that_is_not_an_instant_is_rejected(SourceKind kind, string field, string value) =>
        Assert.Equal(
            $"{field} '{value}' is not an ISO-8601 instant (a date and time with Z or an offset)",
            Raw.Error(kind, Raw.For(kind).With(field, value).ToJsonString()));

    [Theory]
    [InlineData("2026-11-29T10:32:00Z", "2026-11-29T10:32:00.000Z")]
    [InlineData("2026-11-29t10:32:00.5z", "2026-11-29T10:32:00.500Z")]
    [InlineData("2026-11-29T10:32Z", "2026-11-29T10:32:00.000Z")]
    [InlineData("2026-11-29T11:32:00+0100", "2026-11-29T10:32:00.000Z")]
    [InlineData("2026-11-29T11:32:00+01", "2026-11-29T10:32:00.000Z")]
    [InlineData("2026-11-29T10:32:00.1239999+00:00", "2026-11-29T10:32:00.123Z")]
    [InlineData("2026-11-29T00:10:00-14:00", "2026-11-29T14:10:00.000Z")]
    public void Valid_instants_are_accepted_in_every_iso_8601_form(string value, string utc) =>
        Assert.Equal(utc, Raw.Json(Raw.Event(SourceKind.Crm, Raw.Crm().With("created_at", value)))["time"]!.GetValue<string>());

    [Theory]
    [InlineData("1764412320000.5")]
    [InlineData("1.7644e12")]
    [InlineData("99999999999999999999")]
    [InlineData("253402300800000")]
    public void An_auth_ts_that_is_not_integer_milliseconds_is_rejected(string ts) =>
        Assert.Equal(
            $"ts {ts} is not an instant in integer epoch milliseconds",
            Raw.Error(SourceKind.Auth, Raw.Auth().With("ts", JsonNode.Parse(ts)).ToJsonString()));

    [Theory]
    [InlineData("[1,2]", "the message is not a JSON object (it is an array)")]
    [InlineData("\"x\"", "the message is not a JSON object (it is a string)")]
    [InlineData("null", "the message is not a JSON object (it is null)")]
    [InlineData("", "the message is empty, not a JSON object")]
    public void Anything_but_a_json_object_is_rejected(string json, string reason) =>
        Assert.Equal(reason, Raw.Error(SourceKind.Crm, json));

    [Theory]
    [InlineData("{\"id\":")]
    [InlineData("not json at all")]
    [InlineData("{\"id\":\"a\"} trailing")]
    public void Invalid_json_is_rejected_with_the_parser_reason(string json) =>
        Assert.StartsWith("the message is not valid JSON: ", Raw.Error(SourceKind.Crm, json));

    [Fact]
    public void Invalid_utf8_is_rejected_not_thrown()
    {
        var valid = System.Text.Encoding.UTF8.GetBytes(Raw.Crm().With("id", "IDX").ToJsonString());
        var at = valid.AsSpan().IndexOf("IDX"u8);
        valid[at] = 0xFF;
        valid[at + 1] = 0xFE;
        var r = new AuditNormalizer().Normalize(SourceKind.Crm, valid, Raw.Received);
        Assert.False(r.IsSuccess);
        Assert.Contains("UTF-8", r.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_message_larger_than_max_message_bytes_is_rejected()
    {
        var normalizer = new AuditNormalizer(Options.Create(new IngestOptions { MaxMessageBytes = 1000 }));
        var raw = Raw.Crm().With("after", new JsonObject { ["blob"] = new string('x', 1000) }).ToJsonString();
        var r = normalizer.Normalize(SourceKind.Crm, System.Text.Encoding.UTF8.GetBytes(raw), Raw.Received);
        Assert.Equal($"the message is {raw.Length} bytes, larger than the limit of 1000 bytes (MaxMessageBytes)", r.Error);
    }

    [Fact]
    public void The_default_limit_is_one_mebibyte()
    {
        var raw = Raw.Crm().With("after", new JsonObject { ["blob"] = new string('x', 1024 * 1024) }).ToJsonString();
        Assert.Contains("larger than the limit of 1048576 bytes", Raw.Error(SourceKind.Crm, raw));
        var justUnder = Raw.Crm().With("after", new JsonObject { ["blob"] = new string('x', (1024 * 1024) - 600) }).ToJsonString();
        Assert.True(Raw.Normalize(SourceKind.Crm, justUnder).IsSuccess);
    }

    [Fact]
    public void Deeply_nested_json_is_rejected_not_thrown()
    {
        var deep = "{\"id\":" + new string('[', 10_000) + new string(']', 10_000) + "}";
        Assert.Equal("the message nests objects and arrays more than 64 levels deep (in id), more than can be stored faithfully", Raw.Error(SourceKind.Crm, deep));
    }
}
