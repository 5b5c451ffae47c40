using System.Text.Json;
using System.Text.Json.Nodes;
using AuditPipeline.Core.Events;
using AuditPipeline.Testing;

namespace AuditPipeline.Elasticsearch.Tests;

/// <summary>
/// The document speaks ECS that ECS tools understand: <c>event.category</c> and <c>event.type</c>
/// only from ECS's allowed values (written down below from
/// elastic/ecs schemas/event.yml and generated/ecs/ecs_flat.yml), each type expected for each
/// category, <c>event.kind: event</c>, and every ECS-named field with ECS's type.
/// </summary>
public sealed class EcsTests
{
    // ECS's allowed values (schemas/event.yml of elastic/ecs, ECS 9.x: event.kind, event.category with the
    // event.type values expected for each, event.type, event.outcome) and the ECS types of the fields the
    // document uses (generated/ecs/ecs_flat.yml), written down as this test's expectations.
    private static readonly JsonObject Ecs = JsonNode.Parse("""
        {"kind": ["alert", "asset", "enrichment", "event", "metric", "state", "pipeline_error", "signal"], "category": {"api": ["access", "admin", "allowed", "change", "creation", "deletion", "denied", "end", "info", "start", "user"], "authentication": ["start", "end", "info"], "configuration": ["access", "change", "creation", "deletion", "info"], "database": ["access", "change", "info", "error"], "driver": ["change", "end", "info", "start"], "email": ["info"], "file": ["access", "change", "creation", "deletion", "info"], "host": ["access", "change", "end", "info", "start"], "iam": ["admin", "change", "creation", "deletion", "group", "info", "user"], "intrusion_detection": ["allowed", "denied", "info"], "library": ["start"], "malware": ["info"], "network": ["access", "allowed", "connection", "denied", "end", "info", "protocol", "start"], "package": ["access", "change", "deletion", "info", "installation", "start"], "process": ["access", "change", "end", "info", "start"], "registry": ["access", "change", "creation", "deletion"], "session": ["start", "end", "info"], "threat": ["indicator"], "vulnerability": ["info"], "web": ["access", "error", "info"]}, "type": ["access", "admin", "allowed", "change", "connection", "creation", "deletion", "denied", "device", "end", "error", "group", "indicator", "info", "installation", "protocol", "start", "user"], "fields": {"@timestamp": "date", "event.id": "keyword", "event.kind": "keyword", "event.action": "keyword", "event.category": "keyword", "event.type": "keyword", "event.outcome": "keyword", "event.ingested": "date", "organization.id": "keyword", "user.id": "keyword", "user.name": "keyword", "user.email": "keyword", "source.ip": "ip", "user_agent.original": "keyword"}, "outcome": ["failure", "success", "unknown"]}
        """)!.AsObject();

    /// <summary>Every (category, action) of the contract's mapping table, the export audit event and the generic rules.</summary>
    public static TheoryData<string, string> Actions => new()
    {
        { "crm", "created" }, { "crm", "updated" }, { "crm", "deleted" }, { "crm", "stage_changed" }, { "crm", "merged" },
        { "auth", "login" }, { "auth", "login_failed" }, { "auth", "logout" }, { "auth", "password_changed" }, { "auth", "password_reset" },
        { "auth", "mfa_enrolled" }, { "auth", "mfa_removed" }, { "auth", "mfa_reset" }, { "auth", "sso_configured" }, { "auth", "sso_updated" },
        { "auth", "sso_removed" }, { "auth", "token_refreshed" },
        { "security", "session_terminated" }, { "security", "api_key_created" }, { "security", "api_key_revoked" },
        { "security", "api_key_regenerated" }, { "security", "policy_updated" }, { "security", "something_new" },
        { "ai", "created" }, { "ai", "updated" }, { "ai", "deleted" }, { "ai", "read" }, { "ai", "summarized" },
        { "settings", "created" }, { "settings", "updated" }, { "settings", "deleted" }, { "settings", "connected" }, { "settings", "disconnected" },
        { "data", "import_started" }, { "data", "import_completed" }, { "data", "export_requested" }, { "data", "bulk_updated" },
        { "data", "bulk_deleted" }, { "data", "erasure_executed" }, { "data", "exported" },
        { "somewhere_new", "anything" },
    };

    [Theory]
    [MemberData(nameof(Actions))]
    public void Every_category_and_type_written_is_one_ECS_allows_and_each_type_is_expected_for_each_category(string category, string action)
    {
        var e = Some.Event() with { Category = category, Action = action };
        var ev = JsonNode.Parse(BulkBody.Document(e))!["event"]!;

        Assert.Contains((string)ev["kind"]!, Ecs["kind"]!.AsArray().Select(k => (string)k!));
        Assert.Contains((string)ev["outcome"]!, Ecs["outcome"]!.AsArray().Select(k => (string)k!));
        var categories = ev["category"]!.AsArray().Select(c => (string)c!).ToList();
        var types = ev["type"]!.AsArray().Select(t => (string)t!).ToList();
        Assert.NotEmpty(categories);
        Assert.NotEmpty(types);
        foreach (var c in categories)
        {
            var expected = Ecs["category"]![c]?.AsArray().Select(t => (string)t!).ToList();
            Assert.True(expected is not null, $"'{c}' is not an ECS event.category");
            Assert.All(types, t => Assert.True(expected!.Contains(t), $"ECS does not expect event.type '{t}' with event.category '{c}' ({category}/{action})"));
        }
    }

    [Fact]
    public void The_product_category_is_audit_category_and_receivedAt_is_event_ingested()
    {
        var e = Some.Event() with { Category = Categories.Auth, Action = "login" };
        var doc = JsonNode.Parse(BulkBody.Document(e))!;

        Assert.Equal("auth", (string)doc["audit"]!["category"]!);
        Assert.Equal(AuditJson.FormatTime(e.ReceivedAt), (string)doc["event"]!["ingested"]!);
        Assert.Equal("""["authentication","session"]""", doc["event"]!["category"]!.ToJsonString());
        Assert.Equal("""["start"]""", doc["event"]!["type"]!.ToJsonString());
        Assert.Null(doc["audit"]!["received_at"]);
    }

    [Fact]
    public void Every_ECS_named_field_of_the_mapping_has_ECS_s_type()
    {
        var mapped = MappingTests.Leaves(AuditIndices.Mapping()).ToDictionary(l => l.Path, l => l.Type);

        foreach (var (field, type) in Ecs["fields"]!.AsObject())
        {
            Assert.True(mapped.TryGetValue(field, out var ours), $"the mapping has no ECS field {field}");
            Assert.Equal((string)type!, ours);
        }

        // Everything outside ECS is under audit.*.
        Assert.All(mapped.Keys, k => Assert.True(k.StartsWith("audit.", StringComparison.Ordinal) || Ecs["fields"]!.AsObject().ContainsKey(k), $"{k} is neither ECS nor audit.*"));
    }

    [Fact]
    public void A_document_written_before_ECS_categories_reads_back_with_its_category_and_receivedAt()
    {
        var e = Some.Event();
        var doc = JsonNode.Parse(BulkBody.Document(e))!;
        doc["event"]!["category"] = "crm";
        doc["event"]!.AsObject().Remove("type");
        doc["event"]!.AsObject().Remove("kind");
        doc["event"]!.AsObject().Remove("ingested");
        doc["audit"]!.AsObject().Remove("category");
        doc["audit"]!["received_at"] = AuditJson.FormatTime(e.ReceivedAt);

        var read = JsonSerializer.Deserialize(doc.ToJsonString(), AuditDocumentJsonContext.Default.AuditDocument)!.ToEvent();

        Assert.Equal(AuditJson.Serialize(e), AuditJson.Serialize(read));
    }

    [Fact]
    public void A_document_read_back_keeps_the_product_category()
    {
        var e = Some.Event() with { Category = Categories.Settings, Action = "connected" };
        var doc = JsonSerializer.Deserialize(BulkBody.Document(e), AuditDocumentJsonContext.Default.AuditDocument)!;

        Assert.Equal(AuditJson.Serialize(e), AuditJson.Serialize(doc.ToEvent()));
    }
}
