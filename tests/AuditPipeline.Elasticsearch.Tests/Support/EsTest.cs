using AuditPipeline.Core.Retention;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuditPipeline.Elasticsearch.Tests.Support;

/// <summary>Builds the store and setup on a scripted cluster.</summary>
public static class EsTest
{
    /// <summary>"Now" for tests: the late-arrival index is named after this month.</summary>
    public static DateTimeOffset Now { get; } = new(2026, 12, 5, 9, 0, 0, TimeSpan.Zero);

    public static ElasticsearchOptions Options(Action<ElasticsearchOptions>? configure = null)
    {
        var o = new ElasticsearchOptions
        {
            Url = "http://es.test:9200",
            RetryMinDelay = TimeSpan.FromMilliseconds(1),
            RetryMaxDelay = TimeSpan.FromMilliseconds(2),
        };
        configure?.Invoke(o);
        return o;
    }

    public static RetentionPlanRegistry Plans(Action<RetentionOptions>? configure = null)
    {
        var o = new RetentionOptions();
        configure?.Invoke(o);
        return new RetentionPlanRegistry(Microsoft.Extensions.Options.Options.Create(o));
    }

    internal static ElasticsearchAuditStore Store(ScriptedInvoker invoker, ElasticsearchOptions? options = null, RetentionPlanRegistry? plans = null)
    {
        options ??= Options();
        var connection = new ElasticsearchConnection(ElasticsearchConnection.CreateClient(options, invoker));
        return new ElasticsearchAuditStore(connection, plans ?? Plans(), Microsoft.Extensions.Options.Options.Create(options), NullLogger<ElasticsearchAuditStore>.Instance, new FixedTime(Now));
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}

/// <summary>Canned Elasticsearch answers.</summary>
public static class Answers
{
    public static Canned Bulk(params int[] statuses) => Canned.Ok(BulkBody(statuses.Select(s => (s, (string?)null, (string?)null)).ToArray()));

    public static string BulkBody(params (int Status, string? Type, string? Reason)[] items)
    {
        var parts = items.Select(i =>
        {
            var error = i.Type is null ? "" : $",\"error\":{{\"type\":\"{i.Type}\",\"reason\":\"{i.Reason}\"}}";
            var result = i.Status is 200 or 201 ? ",\"result\":\"created\"" : "";
            return $"{{\"create\":{{\"_index\":\"x\",\"_id\":\"y\",\"status\":{i.Status}{result}{error}}}}}";
        });
        var errors = items.Any(i => i.Status is not (200 or 201)) ? "true" : "false";
        return $"{{\"took\":3,\"errors\":{errors},\"items\":[{string.Join(",", parts)}]}}";
    }

    /// <summary>Hits with their sort values as Elasticsearch gives them: time in ms, id, and (under a PIT) a shard-doc tiebreaker.</summary>
    public static Canned Hits(IEnumerable<string> sources, string? pitId = null)
    {
        var hits = sources.Select((s, i) =>
        {
            var source = System.Text.Json.Nodes.JsonNode.Parse(s)!;
            var millis = DateTimeOffset.Parse((string)source["@timestamp"]!, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
            var tiebreaker = pitId is null ? "" : $",{1000 + i}";
            return $"{{\"_index\":\"audit-events-p2y-2026.11.01\",\"_id\":\"h{i}\",\"_source\":{s},\"sort\":[{millis},\"{(string)source["event"]!["id"]!}\"{tiebreaker}]}}";
        });
        var pit = pitId is null ? "" : $"\"pit_id\":\"{pitId}\",";
        return Canned.Ok($"{{{pit}\"took\":1,\"timed_out\":false,\"hits\":{{\"hits\":[{string.Join(",", hits)}]}}}}");
    }

    /// <summary>Copies found by the late-arrival check: each an (organisation, event id).</summary>
    public static Canned Copies(params (string Org, string Id)[] copies)
    {
        var hits = copies.Select(c => $"{{\"_index\":\"audit-events-p2y-2026.10.01\",\"_id\":\"{c.Id}\",\"_source\":{{\"organization\":{{\"id\":\"{c.Org}\"}},\"event\":{{\"id\":\"{c.Id}\"}}}}}}");
        return Canned.Ok($"{{\"took\":1,\"hits\":{{\"hits\":[{string.Join(",", hits)}]}}}}");
    }

    /// <summary>A multi-get answer: each looked-up document's organisation, or null when it is not there.</summary>
    public static Canned Owners(params string?[] orgs)
    {
        var docs = orgs.Select((o, i) => o is null
            ? $"{{\"_index\":\"x\",\"_id\":\"d{i}\",\"found\":false}}"
            : $"{{\"_index\":\"x\",\"_id\":\"d{i}\",\"found\":true,\"_source\":{{\"organization\":{{\"id\":\"{o}\"}}}}}}");
        return Canned.Ok($"{{\"docs\":[{string.Join(",", docs)}]}}");
    }

    /// <summary>The answer of <c>GET /</c> for a cluster of this version.</summary>
    public static Canned Root(string version) => Canned.Ok(
        $$"""{"name":"es01","cluster_name":"audit","version":{"number":"{{version}}","build_flavor":"default","lucene_version":"10.2.2","minimum_wire_compatibility_version":"8.19.0","minimum_index_compatibility_version":"8.0.0"},"tagline":"You Know, for Search"}""");

    public static Canned Error(int status, string type, string reason = "boom") =>
        new(status, $"{{\"error\":{{\"type\":\"{type}\",\"reason\":\"{reason}\"}},\"status\":{status}}}");
}
