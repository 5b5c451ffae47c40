using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Elastic.Transport;

namespace AuditPipeline.Integrity.Tests.Support;

/// <summary>
/// Just enough of an Elasticsearch cluster, at request level, for the store to write and stream events:
/// bulk creates, a point in time, search pages sorted newest first. Its documents are open to the test,
/// as the cluster is to whoever administers it.
/// </summary>
public sealed class FakeCluster : IRequestInvoker
{
    private static readonly Dictionary<string, IEnumerable<string>> ProductHeader = new() { ["x-elastic-product"] = ["Elasticsearch"] };
    private readonly InMemoryRequestInvoker _builder = new([], 200, null, "application/json", ProductHeader);

    /// <summary>(index, _id) to the document's source.</summary>
    public ConcurrentDictionary<(string Index, string Id), JsonObject> Documents { get; } = new();

    public ResponseFactory ResponseFactory => _builder.ResponseFactory;

    public void Dispose()
    {
    }

    public Task<TResponse> RequestAsync<TResponse>(Endpoint endpoint, BoundConfiguration boundConfiguration, PostData? postData, CancellationToken cancellationToken)
        where TResponse : TransportResponse, new()
    {
        var body = "";
        if (postData is not null)
        {
            using var stream = new MemoryStream();
            postData.Write(stream, boundConfiguration.ConnectionSettings, disableDirectStreaming: false);
            body = Encoding.UTF8.GetString(stream.ToArray());
        }

        var (status, answer) = Answer(endpoint.Method.ToString(), endpoint.PathAndQuery, body);
        return _builder.BuildResponseAsync<TResponse>(endpoint, boundConfiguration, postData, cancellationToken, Encoding.UTF8.GetBytes(answer), status, "application/json");
    }

    public TResponse Request<TResponse>(Endpoint endpoint, BoundConfiguration boundConfiguration, PostData? postData)
        where TResponse : TransportResponse, new() =>
        RequestAsync<TResponse>(endpoint, boundConfiguration, postData, CancellationToken.None).GetAwaiter().GetResult();

    private (int, string) Answer(string method, string path, string body)
    {
        if (path.StartsWith("/_bulk", StringComparison.Ordinal))
        {
            var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var items = new List<string>();
            for (var i = 0; i + 1 < lines.Length; i += 2)
            {
                var action = JsonNode.Parse(lines[i])!["create"]!;
                var key = ((string)action["_index"]!, (string)action["_id"]!);
                var created = Documents.TryAdd(key, JsonNode.Parse(lines[i + 1])!.AsObject());
                items.Add($"{{\"create\":{{\"_index\":\"{key.Item1}\",\"_id\":\"{key.Item2}\",\"status\":{(created ? 201 : 409)}{(created ? ",\"result\":\"created\"" : ",\"error\":{\"type\":\"version_conflict_engine_exception\",\"reason\":\"exists\"}")}}}}}");
            }

            return (200, $"{{\"took\":1,\"errors\":{(items.Any(i => i.Contains("409", StringComparison.Ordinal)) ? "true" : "false")},\"items\":[{string.Join(",", items)}]}}");
        }

        if (path.StartsWith("/audit-digests/_create/", StringComparison.Ordinal))
        {
            var id = Uri.UnescapeDataString(path["/audit-digests/_create/".Length..]);
            return Documents.TryAdd(("audit-digests", id), JsonNode.Parse(body)!.AsObject()) ? (201, "{\"result\":\"created\"}") : (409, "{\"error\":{\"type\":\"version_conflict_engine_exception\"}}");
        }

        if (path.StartsWith("/audit-digests/_search", StringComparison.Ordinal))
        {
            var org = System.Text.RegularExpressions.Regex.Match(body, "\"orgId\":\"([^\"]+)\"").Groups[1].Value;
            var after = long.Parse(System.Text.RegularExpressions.Regex.Match(body, "\"seq\":\\{\"gt\":\"?(\\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
            var digests = Documents.Where(d => d.Key.Index == "audit-digests").Select(d => d.Value)
                .Where(d => (string)d["orgId"]! == org && (long)d["seq"]! > after)
                .OrderBy(d => (long)d["seq"]!)
                .Select(d => $"{{\"_source\":{d.ToJsonString()}}}");
            return (200, $"{{\"hits\":{{\"hits\":[{string.Join(",", digests)}]}}}}");
        }

        if (path.Contains("/_pit", StringComparison.Ordinal))
        {
            return method == "DELETE" ? (200, "{\"succeeded\":true}") : (200, "{\"id\":\"pit-1\"}");
        }

        if (path.Contains("_search", StringComparison.Ordinal))
        {
            // One page holds everything (tests stay under the stream page size); the next page is empty.
            var all = body.Contains("search_after", StringComparison.Ordinal)
                ? []
                : Documents.ToArray()
                    .Where(d => d.Key.Index.StartsWith("audit-events-", StringComparison.Ordinal))
                    .Select(d => (d.Key, Source: d.Value, Millis: DateTimeOffset.Parse((string)d.Value["@timestamp"]!, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(), EventId: (string)d.Value["event"]!["id"]!))
                    .OrderByDescending(d => d.Millis).ThenByDescending(d => d.EventId, StringComparer.Ordinal)
                    .ToList();
            var hits = all.Select((d, i) => $"{{\"_index\":\"{d.Key.Index}\",\"_id\":\"{d.Key.Id}\",\"_source\":{d.Source.ToJsonString()},\"sort\":[{d.Millis},\"{d.EventId}\",{i}]}}");
            return (200, $"{{\"pit_id\":\"pit-1\",\"took\":1,\"timed_out\":false,\"hits\":{{\"hits\":[{string.Join(",", hits)}]}}}}");
        }

        return (200, "{}");
    }
}
