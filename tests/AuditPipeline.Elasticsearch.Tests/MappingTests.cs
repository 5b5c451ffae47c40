using System.Text.Json.Nodes;
using AuditPipeline.Core.Storage;
using AuditPipeline.Elasticsearch.Tests.Support;
using AuditPipeline.Testing;

namespace AuditPipeline.Elasticsearch.Tests;

/// <summary>
/// What the store's queries need from the mapping, and what a hardened cluster
/// (<c>search.allow_expensive_queries: false</c>) refuses: <c>prefix</c> queries on fields without
/// <c>index_prefixes</c> (or longer than they index) and <c>range</c> on keyword or text fields.
/// </summary>
public sealed class MappingTests
{
    /// <summary>Every leaf of a mapping as (dotted path, type, its definition).</summary>
    public static IEnumerable<(string Path, string Type, JsonObject Definition)> Leaves(JsonObject mapping, string prefix = "")
    {
        foreach (var (name, node) in mapping["properties"]!.AsObject())
        {
            var field = node!.AsObject();
            if (field["properties"] is JsonObject)
            {
                foreach (var leaf in Leaves(field, prefix + name + "."))
                {
                    yield return leaf;
                }
            }
            else
            {
                yield return (prefix + name, (string)field["type"]!, field);
            }
        }
    }

    private static Dictionary<string, (string Type, JsonObject Definition)> Mapped { get; } =
        Leaves(AuditIndices.Mapping()).ToDictionary(l => l.Path, l => (l.Type, l.Definition));

    /// <summary>The bodies of every kind of read the store sends, with every filter set and a long free-text term.</summary>
    private static async Task<List<SentRequest>> EveryReadAsync()
    {
        var invoker = new ScriptedInvoker(r => r.Path.Contains("/_pit", StringComparison.Ordinal) && r.Method == "POST"
            ? Canned.Ok("""{"id":"pit-1"}""")
            : r.Path.StartsWith("/_bulk", StringComparison.Ordinal) ? Canned.Ok(Answers.BulkBody((403, "cluster_block_exception", "index [x] blocked by: [FORBIDDEN/8/index write (api)];")))
            : Answers.Hits([]));
        var store = EsTest.Store(invoker, EsTest.Options(o => o.MaxAttempts = 1));
        var query = new AuditQuery
        {
            OrgId = "org_42",
            Actions = ["deleted"],
            Users = ["usr_7"],
            EntityTypes = ["deal"],
            EntityIds = ["deal_123"],
            Categories = ["crm"],
            Sources = ["Admin"],
            Outcomes = ["success"],
            Ai = [false],
            From = Some.BaseTime.AddDays(-30),
            To = Some.BaseTime,
            Terms = ["ana", new string('x', 300)],
            After = new AuditPosition(Some.BaseTime, "evt_9"),
        };
        var ct = TestContext.Current.CancellationToken;
        await store.QueryAsync(query, 50, ct);
        await store.GetAsync("org_42", "evt_1", ct);
        await foreach (var _ in store.StreamAsync(query, ct))
        {
        }

        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.AppendAsync([Some.Event("evt_late", time: Some.BaseTime.AddMonths(-3))], ct));
        return [.. invoker.All.Where(r => r.Path.Contains("_search", StringComparison.Ordinal))];
    }

    private static IEnumerable<(string Clause, string Field, JsonNode? Body)> Clauses(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o)
                {
                    if (key is "term" or "terms" or "prefix" or "range" && value is JsonObject clause)
                    {
                        foreach (var (field, body) in clause)
                        {
                            yield return (key, field, body);
                        }
                    }
                    else if (key == "exists")
                    {
                        yield return (key, (string)value!["field"]!, null);
                    }

                    foreach (var inner in Clauses(value))
                    {
                        yield return inner;
                    }
                }

                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    foreach (var inner in Clauses(item))
                    {
                        yield return inner;
                    }
                }

                break;
        }
    }

    [Fact]
    public async Task Every_field_a_query_filters_or_sorts_on_is_mapped_and_indexed()
    {
        var reads = await EveryReadAsync();
        Assert.Equal(5, reads.Count);

        foreach (var body in reads.Select(r => JsonNode.Parse(r.Body)!))
        {
            foreach (var (_, field, _) in Clauses(body["query"]))
            {
                Assert.True(Mapped.ContainsKey(field), $"queries use {field}, which the mapping does not have");
                Assert.NotEqual(false, (bool?)Mapped[field].Definition["index"]);
            }

            foreach (var sort in body["sort"]?.AsArray() ?? [])
            {
                var field = sort!.AsObject().Single().Key;
                Assert.True(field == "_shard_doc" || Mapped[field].Type is "keyword" or "date", $"sorting on {field}");
            }
        }
    }

    [Fact]
    public async Task No_read_sends_a_query_a_cluster_without_expensive_queries_refuses()
    {
        var reads = await EveryReadAsync();

        foreach (var (clause, field, body) in reads.SelectMany(r => Clauses(JsonNode.Parse(r.Body)!["query"])))
        {
            if (clause == "prefix")
            {
                var prefixes = Mapped[field].Definition["index_prefixes"];
                Assert.True(prefixes is not null, $"prefix on {field}, which has no index_prefixes");
                var value = (string)body!["value"]!;
                Assert.InRange(value.Length, (int)prefixes!["min_chars"]!, (int)prefixes["max_chars"]!);
            }

            if (clause == "range")
            {
                Assert.True(Mapped[field].Type is "date", $"range on {field} ({Mapped[field].Type})");
            }
        }
    }

    [Fact]
    public void The_mapping_is_strict_and_payloads_are_stored_but_not_indexed()
    {
        var mapping = AuditIndices.Mapping();

        Assert.Equal("strict", (string)mapping["dynamic"]!);
        Assert.All(["audit.before", "audit.after", "audit.details", "audit.changes"], f => Assert.False((bool)Mapped[f].Definition["enabled"]!));
        Assert.Equal("text", Mapped["audit.search"].Type);
        Assert.Equal("keyword", (string)Mapped["audit.search"].Definition["analyzer"]!);
    }
}
