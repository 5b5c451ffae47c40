using System.Text.Json.Nodes;
using AuditPipeline.Core.Retention;
using AuditPipeline.Elasticsearch.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuditPipeline.Elasticsearch.Tests;

public sealed class SetupTests
{
    private static ElasticsearchSetupDefinitions Definitions(int lateArrivalDays = 7, int archiveAfterDays = 90, string? repository = null) =>
        new(lateArrivalDays, archiveAfterDays, repository);

    private static ElasticsearchSetup Setup(ElasticsearchSetupDefinitions definitions, ScriptedInvoker? invoker = null) =>
        new(definitions,
            () => invoker is null
                ? throw new InvalidOperationException("print must not touch a cluster")
                : new ElasticsearchConnection(ElasticsearchConnection.CreateClient(EsTest.Options(), invoker)),
            NullLogger<ElasticsearchSetup>.Instance);

    private static async Task<JsonArray> PrintedRequests(ElasticsearchSetupDefinitions definitions)
    {
        using var output = new StringWriter();
        var code = await Setup(definitions).RunAsync(print: true, output, TestContext.Current.CancellationToken);
        Assert.Equal(0, code);
        return JsonNode.Parse(output.ToString())!["requests"]!.AsArray();
    }

    private static JsonNode Body(JsonArray requests, string path) =>
        requests.Single(r => (string)r!["path"]! == path)!["body"]!;

    private static JsonNode Phases(JsonArray requests, string retentionClass) =>
        Body(requests, $"/_ilm/policy/audit-events-{retentionClass}")["policy"]!["phases"]!;

    [Fact]
    public async Task Printing_writes_every_policy_template_and_role_as_JSON_without_a_cluster()
    {
        var requests = await PrintedRequests(Definitions());

        Assert.Equal(
            [
                "/_ilm/policy/audit-events-p2y", .. Enumerable.Range(1, 7).Select(n => $"/_ilm/policy/audit-events-e{n}y"),
                "/_component_template/audit-events-settings", "/_component_template/audit-events-mappings",
                "/_index_template/audit-events-p2y", .. Enumerable.Range(1, 7).Select(n => $"/_index_template/audit-events-e{n}y"),
                "/_index_template/audit-digests",
                "/_security/role/audit_writer", "/_security/role/audit_reader",
            ],
            requests.Select(r => (string)r!["path"]!));
        Assert.All(requests, r => Assert.Equal("PUT", (string)r!["method"]!));
    }

    [Theory]
    [InlineData("p2y", 2 * 366 + 31)]
    [InlineData("e1y", 1 * 366 + 31)]
    [InlineData("e5y", 5 * 366 + 31)]
    [InlineData("e7y", 7 * 366 + 31)]
    public async Task Each_class_is_deleted_no_earlier_than_its_years_of_366_days_after_the_end_of_the_month(string retentionClass, int minimumDays)
    {
        var phases = Phases(await PrintedRequests(Definitions()), retentionClass);

        Assert.Equal($"{minimumDays}d", (string)phases["delete"]!["min_age"]!);
        Assert.NotNull(phases["delete"]!["actions"]!["delete"]);
    }

    [Fact]
    public async Task Months_turn_read_only_and_warm_after_a_month_plus_the_late_arrival_window()
    {
        var phases = Phases(await PrintedRequests(Definitions()), "p2y");

        Assert.Equal("38d", (string)phases["warm"]!["min_age"]!);
        Assert.NotNull(phases["warm"]!["actions"]!["readonly"]);
        Assert.Equal(1, (int)phases["warm"]!["actions"]!["forcemerge"]!["max_num_segments"]!);
        Assert.Equal("0ms", (string)phases["hot"]!["min_age"]!);
        Assert.Null(phases["hot"]!["actions"]!["rollover"]);
    }

    [Theory]
    [InlineData(14, "45d")]
    [InlineData(7, "38d")]
    [InlineData(0, "38d")]
    public async Task The_read_only_age_follows_the_late_arrival_days_but_is_never_below_38_days(int lateArrivalDays, string expected)
    {
        var phases = Phases(await PrintedRequests(Definitions(lateArrivalDays)), "e3y");

        Assert.Equal(expected, (string)phases["warm"]!["min_age"]!);
    }

    [Fact]
    public async Task Professional_data_is_never_archived_and_enterprise_data_moves_to_cold_after_the_archive_age()
    {
        var requests = await PrintedRequests(Definitions(archiveAfterDays: 120));

        Assert.Null(Phases(requests, "p2y")["cold"]);
        foreach (var n in Enumerable.Range(1, 7))
        {
            var cold = Phases(requests, $"e{n}y")["cold"]!;
            Assert.Equal("120d", (string)cold["min_age"]!);
            Assert.True((bool)cold["actions"]!["migrate"]!["enabled"]!);
            Assert.Null(cold["actions"]!["searchable_snapshot"]);
        }
    }

    [Fact]
    public async Task With_a_snapshot_repository_the_archive_tier_is_a_searchable_snapshot()
    {
        var cold = Phases(await PrintedRequests(Definitions(repository: "audit-archive")), "e7y")["cold"]!;

        Assert.Equal("audit-archive", (string)cold["actions"]!["searchable_snapshot"]!["snapshot_repository"]!);
        Assert.Null(cold["actions"]!["migrate"]);
    }

    [Fact]
    public async Task An_archive_age_beyond_the_deletion_age_leaves_the_cold_phase_out()
    {
        var phases = Phases(await PrintedRequests(Definitions(archiveAfterDays: 500)), "e1y");

        Assert.Null(phases["cold"]);
        Assert.Equal("397d", (string)phases["delete"]!["min_age"]!);
    }

    [Fact]
    public async Task Each_class_has_an_index_template_for_its_months_and_late_arrivals_with_ages_from_the_index_name()
    {
        var requests = await PrintedRequests(Definitions());

        foreach (var c in RetentionClass.All)
        {
            var template = Body(requests, $"/_index_template/audit-events-{c.Name}");
            Assert.Equal([$"audit-events-{c.Name}-*"], template["index_patterns"]!.AsArray().Select(p => (string)p!));
            Assert.Equal(["audit-events-settings", "audit-events-mappings"], template["composed_of"]!.AsArray().Select(p => (string)p!));
            var settings = template["template"]!["settings"]!;
            Assert.Equal($"audit-events-{c.Name}", (string)settings["index.lifecycle.name"]!);
            Assert.True((bool)settings["index.lifecycle.parse_origination_date"]!);
        }

        var mappings = Body(requests, "/_component_template/audit-events-mappings")["template"]!["mappings"]!;
        Assert.Equal("strict", (string)mappings["dynamic"]!);
        var audit = mappings["properties"]!["audit"]!["properties"]!;
        foreach (var payload in new[] { "before", "after", "details", "changes" })
        {
            Assert.False((bool)audit[payload]!["enabled"]!);
        }
    }

    [Fact]
    public async Task The_writer_can_only_create_documents_and_the_reader_only_read()
    {
        var requests = await PrintedRequests(Definitions());

        var writer = Body(requests, "/_security/role/audit_writer")["indices"]!.AsArray().Single()!;
        Assert.Equal(["audit-events-*", "audit-digests"], writer["names"]!.AsArray().Select(n => (string)n!));
        // No create_index: the writer cannot create a month index with settings of its own.
        Assert.Equal(["create_doc", "auto_configure", "view_index_metadata"], writer["privileges"]!.AsArray().Select(n => (string)n!));
        Assert.Empty(Body(requests, "/_security/role/audit_writer")["cluster"]!.AsArray());

        var reader = Body(requests, "/_security/role/audit_reader")["indices"]!.AsArray().Single()!;
        Assert.Equal(["audit-events-*", "audit-digests"], reader["names"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(["read"], reader["privileges"]!.AsArray().Select(n => (string)n!));
    }

    [Fact]
    public async Task Running_against_a_cluster_puts_every_printed_request_and_succeeds()
    {
        var invoker = new ScriptedInvoker(_ => Canned.Ok("""{"acknowledged":true}"""));
        var definitions = Definitions();
        using var output = new StringWriter();

        var code = await Setup(definitions, invoker).RunAsync(print: false, output, TestContext.Current.CancellationToken);

        Assert.Equal(0, code);
        var printed = await PrintedRequests(definitions);
        Assert.Equal(printed.Select(r => "PUT " + (string)r!["path"]!), invoker.Sent.Select(r => $"{r.Method} {r.Path}"));
        Assert.All(invoker.Sent.Zip(printed), pair => Assert.True(JsonNode.DeepEquals(JsonNode.Parse(pair.First.Body), pair.Second!["body"])));
    }

    [Fact]
    public async Task A_refused_request_makes_setup_fail_and_says_which()
    {
        var invoker = new ScriptedInvoker(r => r.Path.Contains("e3y", StringComparison.Ordinal)
            ? Answers.Error(400, "illegal_argument_exception", "bad phase")
            : Canned.Ok("""{"acknowledged":true}"""));
        using var output = new StringWriter();

        var code = await Setup(Definitions(), invoker).RunAsync(print: false, output, TestContext.Current.CancellationToken);

        Assert.Equal(1, code);
        Assert.Contains("PUT /_ilm/policy/audit-events-e3y: FAILED", output.ToString(), StringComparison.Ordinal);

        // The class's index template would point new indices at a policy that is not there: not sent.
        Assert.Contains("PUT /_index_template/audit-events-e3y: NOT SENT, it refers to /_ilm/policy/audit-events-e3y", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(invoker.Sent, r => r.Path == "/_index_template/audit-events-e3y");
        Assert.Equal(20, invoker.Sent.Count);
    }

    [Fact]
    public async Task A_refused_component_template_keeps_every_index_template_back()
    {
        var invoker = new ScriptedInvoker(r => r.Path == "/_component_template/audit-events-mappings"
            ? Answers.Error(400, "mapper_parsing_exception", "unknown parameter [index_prefixes]")
            : Canned.Ok("""{"acknowledged":true}"""));
        using var output = new StringWriter();

        var code = await Setup(Definitions(), invoker).RunAsync(print: false, output, TestContext.Current.CancellationToken);

        Assert.Equal(1, code);
        // The digests' template uses no component: it is the one index template still sent.
        Assert.DoesNotContain(invoker.Sent, r => r.Path.StartsWith("/_index_template/audit-events-", StringComparison.Ordinal));
        Assert.Contains(invoker.Sent, r => r.Path == "/_index_template/audit-digests");
        Assert.Contains(invoker.Sent, r => r.Path == "/_security/role/audit_writer");
    }

    private static Func<SentRequest, Canned> SnapshotCluster(string licence, bool repositoryExists) => r => (r.Method, r.Path) switch
    {
        ("GET", "/_license") => Canned.Ok($$$"""{"license":{"status":"active","uid":"u","type":"{{{licence}}}","issue_date":"2026-01-01T00:00:00.000Z"}}"""),
        ("GET", "/_snapshot/audit-archive") => repositoryExists
            ? Canned.Ok("""{"audit-archive":{"type":"fs","settings":{"location":"/snapshots"}}}""")
            : Answers.Error(404, "repository_missing_exception", "[audit-archive] missing"),
        _ => Canned.Ok("""{"acknowledged":true}"""),
    };

    [Theory]
    [InlineData("basic", true, "Enterprise or trial")]
    [InlineData("platinum", true, "Enterprise or trial")]
    [InlineData("enterprise", false, "repository is not there")]
    public async Task Without_a_licence_or_repository_for_searchable_snapshots_setup_warns_and_archives_to_cold_nodes(string licence, bool repositoryExists, string why)
    {
        var invoker = new ScriptedInvoker(SnapshotCluster(licence, repositoryExists));
        using var output = new StringWriter();

        var code = await Setup(Definitions(repository: "audit-archive"), invoker).RunAsync(print: false, output, TestContext.Current.CancellationToken);

        Assert.Equal(0, code);
        Assert.Contains("WARNING: Elasticsearch:SnapshotRepository 'audit-archive' cannot be used", output.ToString(), StringComparison.Ordinal);
        Assert.Contains(why, output.ToString(), StringComparison.Ordinal);
        var policy = JsonNode.Parse(invoker.Sent.Single(r => r.Path == "/_ilm/policy/audit-events-e7y").Body)!;
        var cold = policy["policy"]!["phases"]!["cold"]!["actions"]!;
        Assert.Null(cold["searchable_snapshot"]);
        Assert.True((bool)cold["migrate"]!["enabled"]!);

        // The checks come before any policy is written.
        var paths = invoker.Sent.Select(r => r.Path).ToList();
        Assert.True(paths.IndexOf("/_license") < paths.FindIndex(p => p.StartsWith("/_ilm/", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("enterprise")]
    [InlineData("trial")]
    public async Task With_the_licence_and_the_repository_enterprise_data_is_archived_as_searchable_snapshots(string licence)
    {
        var invoker = new ScriptedInvoker(SnapshotCluster(licence, repositoryExists: true));
        using var output = new StringWriter();

        var code = await Setup(Definitions(repository: "audit-archive"), invoker).RunAsync(print: false, output, TestContext.Current.CancellationToken);

        Assert.Equal(0, code);
        Assert.DoesNotContain("WARNING", output.ToString(), StringComparison.Ordinal);
        var policy = JsonNode.Parse(invoker.Sent.Single(r => r.Path == "/_ilm/policy/audit-events-e7y").Body)!;
        Assert.Equal("audit-archive", (string)policy["policy"]!["phases"]!["cold"]!["actions"]!["searchable_snapshot"]!["snapshot_repository"]!);
    }

    [Fact]
    public async Task A_cluster_that_is_still_starting_is_asked_again()
    {
        var calls = 0;
        var invoker = new ScriptedInvoker(_ => ++calls <= 2 ? Answers.Error(503, "master_not_discovered_exception") : Canned.Ok("""{"acknowledged":true}"""));
        var setup = new ElasticsearchSetup(
            Definitions(),
            () => new ElasticsearchConnection(ElasticsearchConnection.CreateClient(EsTest.Options(), invoker)),
            NullLogger<ElasticsearchSetup>.Instance) { RetryDelay = TimeSpan.FromMilliseconds(1) };
        using var output = new StringWriter();

        var code = await setup.RunAsync(print: false, output, TestContext.Current.CancellationToken);

        Assert.Equal(0, code);
        Assert.Equal(23, invoker.Sent.Count);
        Assert.Equal(3, invoker.Sent.Count(r => r.Path == "/_ilm/policy/audit-events-p2y"));
    }

    [Fact]
    public async Task Roles_are_skipped_on_a_cluster_without_security()
    {
        var invoker = new ScriptedInvoker(r => r.Path.StartsWith("/_security", StringComparison.Ordinal)
            ? Answers.Error(500, "exception", "Security must be explicitly enabled when using a [basic] license.")
            : Canned.Ok("""{"acknowledged":true}"""));
        using var output = new StringWriter();

        var code = await Setup(Definitions(), invoker).RunAsync(print: false, output, TestContext.Current.CancellationToken);

        Assert.Equal(0, code);
        Assert.Contains("/_security/role/audit_writer: skipped", output.ToString(), StringComparison.Ordinal);
    }
}

public sealed class KibanaDashboardTests
{
    private sealed class RecordingHandler(HttpStatusCodeAnswer answer, string features = """[{"id":"discover_v2"},{"id":"dashboard_v2"},{"id":"discover"}]""") : HttpMessageHandler
    {
        public List<(HttpRequestMessage Request, string Body)> Requests { get; } = [];

        public IEnumerable<(HttpRequestMessage Request, string Body)> Imports => Requests.Where(r => r.Request.RequestUri!.AbsolutePath == "/api/saved_objects/_import");

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add((request, request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken)));
            var path = request.RequestUri!.AbsolutePath;
            return path == "/api/features" ? new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StringContent(features) }
                : path.StartsWith("/api/security/role/", StringComparison.Ordinal) ? new HttpResponseMessage(System.Net.HttpStatusCode.NoContent)
                : new HttpResponseMessage(answer.Status) { Content = new StringContent(answer.Body) };
        }
    }

    private sealed record HttpStatusCodeAnswer(System.Net.HttpStatusCode Status, string Body);

    [Fact]
    public async Task With_a_Kibana_url_setup_imports_every_dashboard_file_with_overwrite()
    {
        var handler = new RecordingHandler(new(System.Net.HttpStatusCode.OK, """{"success":true,"successCount":11}"""));
        var kibana = new KibanaOptions { Url = "http://kibana.test:5601", DashboardsPath = RepositoryFiles.Path("dashboards"), Username = "elastic", Password = "pw" };
        var invoker = new ScriptedInvoker(_ => Canned.Ok("""{"acknowledged":true}"""));
        var setup = new ElasticsearchSetup(
            new ElasticsearchSetupDefinitions(7, 90, null),
            () => new ElasticsearchConnection(ElasticsearchConnection.CreateClient(EsTest.Options(), invoker)),
            NullLogger<ElasticsearchSetup>.Instance,
            new KibanaDashboards(kibana, handler));
        using var output = new StringWriter();

        var code = await setup.RunAsync(print: false, output, TestContext.Current.CancellationToken);

        Assert.Equal(0, code);
        var (request, body) = Assert.Single(handler.Imports);
        Assert.Equal("http://kibana.test:5601/api/saved_objects/_import?overwrite=true", request.RequestUri!.ToString());
        Assert.Equal("true", request.Headers.GetValues("kbn-xsrf").Single());
        Assert.Equal("Basic", request.Headers.Authorization!.Scheme);
        Assert.Contains("audit-overview", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""[{"id":"discover_v2"},{"id":"dashboard_v2"},{"id":"discover"},{"id":"dashboard"}]""", "discover_v2", "dashboard_v2")]
    [InlineData("""[{"id":"discover"},{"id":"dashboard"}]""", "discover", "dashboard")]
    public async Task The_analyst_role_is_created_through_Kibana_with_read_only_Discover_and_Dashboards(string features, string discover, string dashboard)
    {
        var handler = new RecordingHandler(new(System.Net.HttpStatusCode.OK, """{"success":true,"successCount":11}"""), features);
        var kibana = new KibanaOptions { Url = "http://kibana.test:5601", DashboardsPath = RepositoryFiles.Path("dashboards"), ApiKey = "k" };
        using var output = new StringWriter();

        var failures = await new KibanaDashboards(kibana, handler).ImportAsync(output, TestContext.Current.CancellationToken);

        Assert.Equal(0, failures);
        var (request, body) = handler.Requests.Single(r => r.Request.Method == HttpMethod.Put);
        Assert.Equal("http://kibana.test:5601/api/security/role/audit_analyst", request.RequestUri!.ToString());
        Assert.Equal("true", request.Headers.GetValues("kbn-xsrf").Single());
        var role = JsonNode.Parse(body)!;
        var grant = role["kibana"]!.AsArray().Single()!;
        Assert.Equal(["*"], grant["spaces"]!.AsArray().Select(s => (string)s!));
        Assert.Empty(grant["base"]!.AsArray());
        Assert.Equal(
            new Dictionary<string, string[]> { [discover] = ["read"], [dashboard] = ["read"] },
            grant["feature"]!.AsObject().ToDictionary(f => f.Key, f => f.Value!.AsArray().Select(p => (string)p!).ToArray()));
        var indices = role["elasticsearch"]!["indices"]!.AsArray().Single()!;
        Assert.Equal(["audit-events-*"], indices["names"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(["read", "view_index_metadata"], indices["privileges"]!.AsArray().Select(n => (string)n!));
    }

    [Fact]
    public async Task A_refused_import_fails_setup()
    {
        var handler = new RecordingHandler(new(System.Net.HttpStatusCode.OK, """{"success":false,"errors":[{"id":"x"}]}"""));
        var kibana = new KibanaOptions { Url = "http://kibana.test:5601", DashboardsPath = RepositoryFiles.Path("dashboards") };
        using var output = new StringWriter();

        var failures = await new KibanaDashboards(kibana, handler).ImportAsync(output, TestContext.Current.CancellationToken);

        Assert.Equal(1, failures);
        Assert.Contains("FAILED", output.ToString(), StringComparison.Ordinal);
    }
}

public sealed partial class IndexNameTests
{
    [Theory]
    [InlineData("2026-11-29T10:32:00Z", "audit-events-p2y-2026.11.01")]
    [InlineData("2026-01-01T00:00:00Z", "audit-events-p2y-2026.01.01")]
    [InlineData("2025-12-31T23:59:59.999Z", "audit-events-p2y-2025.12.01")]
    public void A_month_index_is_named_by_the_first_day_of_the_event_month_in_UTC(string time, string expected) =>
        Assert.Equal(expected, AuditIndices.Month(RetentionClass.Professional, DateTimeOffset.Parse(time, System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void Month_and_late_index_names_end_in_a_date_ILM_parses_as_the_origination_date()
    {
        var now = new DateTimeOffset(2026, 12, 5, 0, 0, 0, TimeSpan.Zero);
        foreach (var c in RetentionClass.All)
        {
            var month = AuditIndices.Month(c, now);
            var late = AuditIndices.Late(c, now);
            Assert.Matches(OriginationPattern(), month);
            Assert.Matches(OriginationPattern(), late);
            Assert.Equal($"audit-events-{c.Name}-late-2026.12.01", late);
            Assert.StartsWith(AuditIndices.ClassPattern(c).TrimEnd('*'), late, StringComparison.Ordinal);
            Assert.True(AuditIndices.IsLate(late));
            Assert.False(AuditIndices.IsLate(month));
        }
    }

    /// <summary>Elasticsearch's rule for index.lifecycle.parse_origination_date: <c>^.*-{yyyy.MM.dd}(-\d+)?$</c>.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^.*-\d{4}\.\d{2}\.\d{2}(-\d+)?$")]
    private static partial System.Text.RegularExpressions.Regex OriginationPattern();
}
