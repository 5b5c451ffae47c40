using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AuditPipeline.Elasticsearch.Tests.Support;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace AuditPipeline.Elasticsearch.Tests;

public sealed partial class ArtifactTests
{
    /// <summary>Every leaf field of the index mapping, by its dotted path.</summary>
    private static HashSet<string> MappedFields()
    {
        var fields = new HashSet<string>(StringComparer.Ordinal);
        Collect(AuditIndices.Mapping()["properties"]!.AsObject(), "", fields);
        return fields;

        static void Collect(JsonObject properties, string prefix, HashSet<string> into)
        {
            foreach (var (name, value) in properties)
            {
                var path = prefix + name;
                if (value!["properties"] is JsonObject inner)
                {
                    Collect(inner, path + ".", into);
                }
                else
                {
                    into.Add(path);
                }
            }
        }
    }

    public static TheoryData<string> DashboardFiles =>
        [.. Directory.GetFiles(RepositoryFiles.Path("dashboards"), "*.ndjson").Select(f => Path.GetFileName(f))];

    [Theory]
    [MemberData(nameof(DashboardFiles))]
    public void Every_dashboard_line_is_a_saved_object_referencing_only_mapped_fields(string file)
    {
        var mapped = MappedFields();
        var lines = File.ReadAllLines(RepositoryFiles.Path("dashboards", file)).Where(l => l.Length > 0).ToList();
        Assert.NotEmpty(lines);

        var referenced = new List<(string Object, string Field)>();
        var types = new List<string>();
        foreach (var line in lines)
        {
            var o = JsonNode.Parse(line)!.AsObject();
            var id = (string)o["id"]!;
            var type = (string)o["type"]!;
            types.Add(type);
            Assert.NotNull(o["attributes"]);
            foreach (var field in ReferencedFields(type, o["attributes"]!))
            {
                referenced.Add((id, field));
            }
        }

        Assert.Contains("index-pattern", types);
        Assert.Contains("dashboard", types);
        Assert.NotEmpty(referenced);
        Assert.All(referenced, r => Assert.True(mapped.Contains(r.Field), $"{r.Object} references '{r.Field}', which the mapping does not have"));
    }

    [Fact]
    public void The_dashboards_cover_the_data_view_the_saved_searches_and_the_overview_panels()
    {
        var objects = Directory.GetFiles(RepositoryFiles.Path("dashboards"), "*.ndjson")
            .SelectMany(File.ReadAllLines).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!).ToList();

        var dataView = Assert.Single(objects, o => (string)o["type"]! == "index-pattern");
        Assert.Equal("audit-events-*", (string)dataView["attributes"]!["title"]!);
        Assert.Equal("@timestamp", (string)dataView["attributes"]!["timeFieldName"]!);
        var searches = objects.Where(o => (string)o["type"]! == "search").Select(o => Query(o["attributes"]!)).ToList();
        Assert.Contains("event.action:login_failed", searches);
        Assert.Contains("audit.ai.initiated:true", searches);
        Assert.Contains(searches, q => q.Contains("deleted", StringComparison.Ordinal));
        Assert.Contains(searches, q => q.Contains("export", StringComparison.Ordinal));
        Assert.Contains(searches, q => q.Contains("api_key", StringComparison.Ordinal));

        var ids = objects.Select(o => (string)o["id"]!).ToHashSet();
        var dashboard = Assert.Single(objects, o => (string)o["type"]! == "dashboard");
        var references = dashboard["references"]!.AsArray();
        Assert.Equal(5, references.Count);
        Assert.All(references, r => Assert.Contains((string)r!["id"]!, ids));

        // Lens only: Kibana 8.x/9.x render the legacy aggregation-based visualizations less and less.
        Assert.DoesNotContain(objects, o => (string)o["type"]! == "visualization");
        Assert.All(references, r => Assert.Equal("lens", (string)r!["type"]!));
    }

    /// <summary>
    /// Kibana's saved-object import format: one object per line with id, type, attributes and
    /// references; every reference resolves inside the file; a Lens layer is bound to its data view
    /// by the reference <c>indexpattern-datasource-layer-{layerId}</c>; every column a visualization
    /// shows exists in its layer; a dashboard panel names its object through <c>panelRefName</c>.
    /// </summary>
    [Theory]
    [MemberData(nameof(DashboardFiles))]
    public void Every_saved_object_has_Kibana_s_import_shape_and_every_reference_resolves(string file)
    {
        var objects = File.ReadAllLines(RepositoryFiles.Path("dashboards", file)).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var byId = objects.ToDictionary(o => ((string)o["type"]!, (string)o["id"]!));

        foreach (var o in objects)
        {
            Assert.All(["id", "type", "attributes", "references"], k => Assert.True(o.ContainsKey(k), $"{o["id"]} has no {k}"));
            Assert.Matches(@"^\d+\.\d+\.\d+$", (string)o["typeMigrationVersion"]!);
            var references = o["references"]!.AsArray().Select(r => ((string)r!["type"]!, (string)r["id"]!, (string)r["name"]!)).ToList();
            Assert.All(references, r => Assert.True(byId.ContainsKey((r.Item1, r.Item2)), $"{o["id"]} refers to {r.Item1} {r.Item2}, which the file does not hold"));

            switch ((string)o["type"]!)
            {
                case "lens":
                    var state = o["attributes"]!["state"]!;
                    Assert.Contains((string)o["attributes"]!["visualizationType"]!, new[] { "lnsXY", "lnsDatatable", "lnsPie", "lnsMetric" });
                    var layers = state["datasourceStates"]!["formBased"]!["layers"]!.AsObject();
                    Assert.NotEmpty(layers);
                    foreach (var (layerId, layer) in layers)
                    {
                        Assert.Contains(references, r => r.Item1 == "index-pattern" && r.Item3 == $"indexpattern-datasource-layer-{layerId}");
                        var columns = layer!["columns"]!.AsObject();
                        var mapped = MappingTests.Leaves(AuditIndices.Mapping()).ToDictionary(l => l.Path, l => l.Type);
                        foreach (var (_, column) in columns)
                        {
                            var field = (string)column!["sourceField"]!;
                            Assert.True(field == "___records___" || (mapped.TryGetValue(field, out var t) && t is "keyword" or "ip" or "date" or "boolean"), $"{o["id"]} aggregates on {field}, which is not an aggregatable mapped field");
                        }

                        Assert.Equal(columns.Select(c => c.Key).Order(StringComparer.Ordinal), layer["columnOrder"]!.AsArray().Select(c => (string)c!).Order(StringComparer.Ordinal));
                        var shown = AccessorsOf(state["visualization"]!).ToList();
                        Assert.NotEmpty(shown);
                        Assert.All(shown, a => Assert.True(columns.ContainsKey(a), $"{o["id"]} shows column {a}, which layer {layerId} does not have"));
                    }

                    break;
                case "dashboard":
                    var panels = JsonNode.Parse((string)o["attributes"]!["panelsJSON"]!)!.AsArray();
                    Assert.Equal(
                        panels.Select(p => (string)p!["panelRefName"]!).Order(StringComparer.Ordinal),
                        references.Select(r => r.Item3).Order(StringComparer.Ordinal));
                    Assert.All(panels, p => Assert.NotNull(p!["gridData"]));
                    break;
            }
        }
    }

    private static IEnumerable<string> AccessorsOf(JsonNode visualization)
    {
        IEnumerable<JsonNode?> layers = visualization["layers"] is JsonArray list ? list : new JsonNode?[] { visualization };
        foreach (var layer in layers)
        {
            foreach (var key in new[] { "xAccessor", "splitAccessor" })
            {
                if (layer![key] is JsonValue v)
                {
                    yield return (string)v!;
                }
            }

            foreach (var key in new[] { "accessors", "primaryGroups", "metrics" })
            {
                foreach (var a in layer![key]?.AsArray() ?? [])
                {
                    yield return (string)a!;
                }
            }

            foreach (var c in layer!["columns"]?.AsArray() ?? [])
            {
                yield return (string)c!["columnId"]!;
            }
        }
    }

    [Fact]
    public void The_compose_file_parses_as_YAML_with_every_service_of_the_stack()
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(RepositoryFiles.Path("compose", "docker-compose.yml")))
        {
            // Compose files use anchors and merge keys (<<: *x); resolve them as Compose does.
            yaml.Load(new MergingParser(new Parser(reader)));
        }

        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var services = (YamlMappingNode)root.Children[new YamlScalarNode("services")];
        var names = services.Children.Keys.Select(k => ((YamlScalarNode)k).Value).ToList();
        Assert.Equal(["kafka", "kafka-topics", "elasticsearch", "setup", "kibana", "dashboards", "worker", "api"], names);

        string Env(string service, string key) =>
            ((YamlScalarNode)((YamlMappingNode)((YamlMappingNode)services.Children[new YamlScalarNode(service)]).Children[new YamlScalarNode("environment")]).Children[new YamlScalarNode(key)]).Value!;

        Assert.Equal("broker,controller", Env("kafka", "KAFKA_PROCESS_ROLES"));
        Assert.Equal("true", Env("elasticsearch", "xpack.security.enabled"));
        Assert.Equal("ingest", Env("worker", "Roles"));
        Assert.Equal("audit_writer", Env("worker", "Elasticsearch__Username"));
        Assert.Equal("kafka:9092", Env("worker", "Kafka__BootstrapServers"));
        Assert.Equal("api", Env("api", "Roles"));
        // The facade appends the audit of its exports, so it holds the writer user (create_doc only, plus read).
        Assert.Equal("audit_writer", Env("api", "Elasticsearch__Username"));
        Assert.Equal("Elasticsearch", Env("api", "Store__Provider"));
    }

    [Fact]
    public void The_worker_image_builds_on_the_SDK_runs_on_ASP_NET_Core_as_non_root_and_checks_healthz()
    {
        var dockerfile = File.ReadAllText(RepositoryFiles.Path("compose", "Dockerfile"));

        Assert.Contains("FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build", dockerfile, StringComparison.Ordinal);
        Assert.Contains("FROM mcr.microsoft.com/dotnet/aspnet:10.0", dockerfile, StringComparison.Ordinal);
        Assert.Contains("USER $APP_UID", dockerfile, StringComparison.Ordinal);
        Assert.Contains("http://127.0.0.1:5080/healthz", dockerfile, StringComparison.Ordinal);
        Assert.Contains("Api__Urls=http://0.0.0.0:5080", dockerfile, StringComparison.Ordinal);
    }

    private static IEnumerable<string> ReferencedFields(string type, JsonNode attributes)
    {
        switch (type)
        {
            case "index-pattern":
                yield return (string)attributes["timeFieldName"]!;
                break;
            case "search":
                foreach (var c in attributes["columns"]!.AsArray())
                {
                    yield return (string)c!;
                }

                foreach (var s in attributes["sort"]!.AsArray())
                {
                    yield return (string)s![0]!;
                }

                foreach (var f in QueryFields(Query(attributes)))
                {
                    yield return f;
                }

                break;
            case "lens":
                var lensState = attributes["state"]!;
                foreach (var (_, layer) in lensState["datasourceStates"]!["formBased"]!["layers"]!.AsObject())
                {
                    foreach (var (_, column) in layer!["columns"]!.AsObject())
                    {
                        if (column!["sourceField"] is JsonValue source && (string)source! != "___records___")
                        {
                            yield return (string)source!;
                        }
                    }
                }

                foreach (var f in QueryFields((string)lensState["query"]!["query"]!))
                {
                    yield return f;
                }

                break;
            case "visualization":
                var vis = JsonNode.Parse((string)attributes["visState"]!)!;
                foreach (var agg in vis["aggs"]!.AsArray())
                {
                    if (agg!["params"]?["field"] is JsonValue field)
                    {
                        yield return (string)field!;
                    }
                }

                foreach (var f in QueryFields(Query(attributes)))
                {
                    yield return f;
                }

                break;
        }
    }

    private static string Query(JsonNode attributes)
    {
        var source = JsonNode.Parse((string)attributes["kibanaSavedObjectMeta"]!["searchSourceJSON"]!)!;
        return source["query"]?["query"]?.GetValueKind() == JsonValueKind.String ? (string)source["query"]!["query"]! : "";
    }

    private static IEnumerable<string> QueryFields(string kql) => FieldInQuery().Matches(kql).Select(m => m.Groups[1].Value);

    [GeneratedRegex(@"([A-Za-z_@][\w.@]*)\s*:")]
    private static partial Regex FieldInQuery();
}
