using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded.Storage;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing;
using AuditPipeline.Testing.StoreContract;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

using static AuditPipeline.Embedded.Tests.Support.RawSql;

namespace AuditPipeline.Embedded.Tests.Storage;

public sealed class SqliteAuditStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task An_update_through_a_raw_connection_fails_and_changes_nothing()
    {
        var e = Some.Event();
        using (var store = Stores.Open(_dir.Path))
        {
            await store.AppendAsync([e], Ct);
        }

        using var conn = RawSql.Open(PartitionFile("p2y", 2026, 11));
        var ex = Assert.Throws<SqliteException>(() => Execute(conn, "UPDATE events SET action = 'tampered', doc = x'00'"));

        Assert.Contains("append-only", ex.Message, StringComparison.Ordinal);
        Assert.Equal("stage_changed", Scalar(conn, "SELECT action FROM events"));
        using var reopened = Stores.Open(_dir.Path);
        Assert.Equal("stage_changed", (await reopened.GetAsync(e.OrgId, e.Id, Ct))?.Action);
    }

    [Fact]
    public async Task A_delete_through_a_raw_connection_fails_and_removes_nothing()
    {
        using (var store = Stores.Open(_dir.Path))
        {
            await store.AppendAsync([Some.Event(), Some.Event()], Ct);
        }

        using var conn = RawSql.Open(PartitionFile("p2y", 2026, 11));
        var ex = Assert.Throws<SqliteException>(() => Execute(conn, "DELETE FROM events"));

        Assert.Contains("append-only", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2L, Scalar(conn, "SELECT count(*) FROM events"));
    }

    [Fact]
    public async Task Inserting_a_second_copy_of_an_event_through_a_raw_connection_fails()
    {
        var e = Some.Event();
        using (var store = Stores.Open(_dir.Path))
        {
            await store.AppendAsync([e], Ct);
        }

        using var conn = RawSql.Open(PartitionFile("p2y", 2026, 11));
        Assert.Throws<SqliteException>(() => Execute(conn, $"""
            INSERT INTO events (org_id, id, time_ms, action, entity_type, category, source, outcome, ai, doc)
            VALUES ('{e.OrgId}', '{e.Id}', 0, 'tampered', 'x', 'x', 'x', 'x', 0, x'00')
            """));

        Assert.Equal(1L, Scalar(conn, "SELECT count(*) FROM events"));
        Assert.Equal("stage_changed", Scalar(conn, "SELECT action FROM events"));
    }

    [Theory]
    [InlineData("INSERT OR REPLACE INTO events SELECT * FROM events")]
    [InlineData("REPLACE INTO events (seq, org_id, id, time_ms, action, entity_type, category, source, outcome, ai, doc) SELECT seq, org_id, id, time_ms, 'tampered', entity_type, category, source, outcome, ai, x'00' FROM events")]
    [InlineData("REPLACE INTO events (seq, org_id, id, time_ms, action, entity_type, category, source, outcome, ai, doc) SELECT seq + 1000, org_id, id, time_ms, 'tampered', entity_type, category, source, outcome, ai, x'00' FROM events")]
    [InlineData("INSERT INTO events (seq, org_id, id, time_ms, action, entity_type, category, source, outcome, ai, doc) SELECT seq, org_id, 'other', time_ms, 'tampered', entity_type, category, source, outcome, ai, x'00' FROM events WHERE true ON CONFLICT DO UPDATE SET action = 'tampered'")]
    public async Task An_insert_that_would_replace_an_event_through_a_raw_connection_fails_and_changes_nothing(string sql)
    {
        // INSERT OR REPLACE deletes the row it conflicts with (on the row number or the org and id)
        // without firing DELETE triggers; the BEFORE INSERT guard is what stops it.
        var e = Some.Event();
        using (var store = Stores.Open(_dir.Path))
        {
            await store.AppendAsync([e], Ct);
        }

        using var conn = RawSql.Open(PartitionFile("p2y", 2026, 11));
        Assert.Equal(1L, Count(conn, "SELECT count(*) FROM events"));
        var ex = Assert.Throws<SqliteException>(() => Execute(conn, sql));

        Assert.Contains("append-only", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1L, Count(conn, "SELECT count(*) FROM events"));
        Assert.Equal("stage_changed", Scalar(conn, "SELECT action FROM events"));
        using var reopened = Stores.Open(_dir.Path);
        Assert.Equal("stage_changed", (await reopened.GetAsync(e.OrgId, e.Id, Ct))?.Action);
    }

    [Fact]
    public async Task Events_survive_reopening_the_store_and_a_redelivery_after_reopening_is_a_duplicate()
    {
        var events = ContractData.Generate(200, seed: 11);
        using (var store = Stores.Open(_dir.Path))
        {
            await store.AppendAsync(events, Ct);
        }

        SqliteConnection.ClearAllPools();
        using var reopened = Stores.Open(_dir.Path);
        var again = await reopened.AppendAsync(events, Ct);
        var fresh = await reopened.AppendAsync([Some.Event(time: events[0].Time)], Ct);

        Assert.All(again, r => Assert.Equal(AppendOutcome.Duplicate, r.Outcome));
        Assert.Equal(AppendOutcome.Stored, fresh[0].Outcome);
        Assert.NotNull(await reopened.GetAsync(events[^1].OrgId, events[^1].Id, Ct));
    }

    [Fact]
    public void A_second_store_on_the_same_directory_is_refused_while_the_first_is_open()
    {
        using (var store = Stores.Open(_dir.Path))
        {
            var ex = Assert.Throws<InvalidOperationException>(() => Stores.Open(_dir.Path));
            Assert.Contains("Store:Embedded:Path", ex.Message, StringComparison.Ordinal);
        }

        using var after = Stores.Open(_dir.Path);
        Assert.NotNull(after);
    }

    [Fact]
    public async Task Events_are_partitioned_by_the_retention_class_in_force_and_their_month()
    {
        var retention = new RetentionOptions();
        retention.Orgs["org_ent"] = new OrgPlanOptions { Plan = RetentionPlans.Enterprise, Years = 5 };
        using var store = Stores.Open(_dir.Path, retention: retention);

        await store.AppendAsync(
            [
                Some.Event(orgId: "org_pro", time: new DateTimeOffset(2026, 11, 30, 23, 59, 59, TimeSpan.Zero)),
                Some.Event(orgId: "org_pro", time: new DateTimeOffset(2026, 12, 1, 0, 30, 0, TimeSpan.FromHours(2))),
                Some.Event(orgId: "org_ent", time: new DateTimeOffset(2026, 10, 5, 0, 0, 0, TimeSpan.Zero)),
            ],
            Ct);

        Assert.Equal(
            ["events-e5y-2026-10.db", "events-p2y-2026-11.db"],
            Directory.GetFiles(_dir.Path, "events-*.db").Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_redelivery_after_a_plan_change_is_still_a_duplicate()
    {
        var registry = new RetentionPlanRegistry(Options.Create(new RetentionOptions()));
        using var store = Stores.Open(_dir.Path, registry);
        var e = Some.Event(orgId: "org_up");
        await store.AppendAsync([e], Ct);

        registry.Record("org_up", RetentionClass.Enterprise(3), DateTimeOffset.MinValue);
        var again = await store.AppendAsync([e], Ct);

        Assert.Equal(AppendOutcome.Duplicate, again[0].Outcome);
        Assert.Single((await store.QueryAsync(new AuditQuery { OrgId = "org_up" }, 10, Ct)).Items);
    }

    [Fact]
    public async Task Organisations_on_different_plans_share_a_month_and_redeliveries_of_either_are_duplicates()
    {
        var retention = new RetentionOptions();
        retention.Orgs["org_ent"] = new OrgPlanOptions { Plan = RetentionPlans.Enterprise, Years = 7 };
        using var store = Stores.Open(_dir.Path, retention: retention);
        var events = new[] { Some.Event(orgId: "org_pro"), Some.Event(orgId: "org_ent"), Some.Event(orgId: "org_pro") };

        var first = await store.AppendAsync(events, Ct);
        var again = await store.AppendAsync([.. events.Reverse()], Ct);

        Assert.All(first, r => Assert.Equal(AppendOutcome.Stored, r.Outcome));
        Assert.All(again, r => Assert.Equal(AppendOutcome.Duplicate, r.Outcome));
        Assert.Equal(2, store.Partitions.Count);
    }

    [Fact]
    public async Task The_store_is_not_ready_when_its_data_directory_is_gone()
    {
        var path = Path.Combine(_dir.Path, "data");
        using var store = Stores.Open(path);
        var before = await store.IsReadyAsync(Ct);

        SqliteConnection.ClearAllPools();
        Directory.Delete(path, recursive: true);

        Assert.True(before);
        Assert.False(await store.IsReadyAsync(Ct));
    }

    [Fact]
    public async Task Events_at_the_ends_of_the_calendar_are_stored_queried_and_left_alone_by_retention()
    {
        using var store = Stores.Open(_dir.Path);
        var first = Some.Event(orgId: "org_edge", time: new DateTimeOffset(1, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var last = Some.Event(orgId: "org_edge", time: new DateTimeOffset(9999, 12, 31, 23, 59, 58, TimeSpan.Zero));
        await store.AppendAsync([first, last], Ct);

        var report = await store.ApplyRetentionAsync(new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero), Ct);
        var page = await store.QueryAsync(new AuditQuery { OrgId = "org_edge", From = new DateTimeOffset(9999, 12, 1, 0, 0, 0, TimeSpan.Zero) }, 10, Ct);

        Assert.Equal(["events-p2y-0001-01"], report.Dropped);
        Assert.Equal([last.Id], page.Items.Select(e => e.Id));
    }

    [Fact]
    public async Task Retention_deletes_expired_partition_files_and_moves_archived_ones_to_the_archive_directory()
    {
        var retention = new RetentionOptions { ArchiveAfterDays = 90 };
        retention.Orgs["org_ent"] = new OrgPlanOptions { Plan = RetentionPlans.Enterprise, Years = 1 };
        var store = Stores.Open(_dir.Path, retention: retention);
        await store.AppendAsync(
            [
                Some.Event(orgId: "org_pro", time: new DateTimeOffset(2024, 1, 10, 0, 0, 0, TimeSpan.Zero)),
                Some.Event(orgId: "org_ent", time: new DateTimeOffset(2026, 2, 10, 0, 0, 0, TimeSpan.Zero)),
            ],
            Ct);

        var report = await store.ApplyRetentionAsync(new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero), Ct);
        store.Dispose();

        Assert.Equal(["events-p2y-2024-01"], report.Dropped);
        Assert.Equal(["events-e1y-2026-02"], report.Archived);
        Assert.False(File.Exists(Path.Combine(_dir.Path, "events-p2y-2024-01.db")));
        Assert.False(File.Exists(Path.Combine(_dir.Path, "events-e1y-2026-02.db")));
        Assert.True(File.Exists(Path.Combine(_dir.Path, "archive", "events-e1y-2026-02.db")));
        using var reopened = Stores.Open(_dir.Path, retention: retention);
        Assert.Single((await reopened.QueryAsync(new AuditQuery { OrgId = "org_ent" }, 10, Ct)).Items);
        Assert.Empty((await reopened.QueryAsync(new AuditQuery { OrgId = "org_pro" }, 10, Ct)).Items);
    }

    [Theory]
    [InlineData("walk", "")]
    [InlineData("action", "ix_events_action")]
    [InlineData("user", "ix_events_actor")]
    [InlineData("entity id", "ix_events_entity_id")]
    [InlineData("entity type", "")]
    [InlineData("category", "")]
    public async Task Filtered_pages_read_an_index_in_order_without_sorting(string filter, string index)
    {
        using var store = Stores.Open(_dir.Path);
        await store.AppendAsync([Some.Event()], Ct);
        var q = filter switch
        {
            "action" => new AuditQuery { OrgId = "org_42", Actions = ["deleted"], Outcomes = ["failure"] },
            "user" => new AuditQuery { OrgId = "org_42", Users = ["usr_7"], Sources = ["Chat"] },
            "entity id" => new AuditQuery { OrgId = "org_42", EntityIds = ["deal_1"], Actions = ["deleted"] },
            "entity type" => new AuditQuery { OrgId = "org_42", EntityTypes = ["deal"], Ai = [true] },
            "category" => new AuditQuery { OrgId = "org_42", Categories = ["ai"], From = Some.BaseTime },
            _ => new AuditQuery { OrgId = "org_42", Outcomes = ["failure"], Sources = ["API"], To = Some.BaseTime },
        };
        var plan = ScanPlan.For(q with { After = new AuditPosition(Some.BaseTime, "evt_5") });

        using var conn = SqliteAuditStore.Open(store.Partitions.Single().Location.ConnectionString);
        using var cmd = plan.Command(conn, index.Length == 0 ? "ix_events_time" : index, index.Length == 0 ? null : "v", index.Length == 0 ? -1 : 0);
        cmd.CommandText = "EXPLAIN QUERY PLAN " + cmd.CommandText;
        var details = new List<string>();
        using (var reader = cmd.ExecuteReader())
        {
            while (reader.Read())
            {
                details.Add(reader.GetString(3));
            }
        }

        var text = string.Join(" | ", details);
        Assert.DoesNotContain("TEMP B-TREE", text, StringComparison.Ordinal);
        Assert.Contains(index.Length == 0 ? "ix_events_time" : index, text, StringComparison.Ordinal);
        Assert.Contains("(time_ms,id)<(?,?)", text.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        if (index.Length == 0)
        {
            // Every filter and the free-text columns are checked on index entries, without reading rows.
            Assert.Contains("COVERING INDEX ix_events_time", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_new_partitions_seek_indexes_hold_only_their_order()
    {
        using (var store = Stores.Open(_dir.Path))
        {
            await store.AppendAsync([Some.Event()], Ct);
        }

        using var conn = RawSql.Open(PartitionFile("p2y", 2026, 11));
        Assert.Equal(["org_id", "action", "time_ms", "id"], IndexColumns(conn, "ix_events_action"));
        Assert.Equal(["org_id", "actor_id", "time_ms", "id"], IndexColumns(conn, "ix_events_actor"));
        Assert.Equal(["org_id", "entity_id", "time_ms", "id"], IndexColumns(conn, "ix_events_entity_id"));
        Assert.Equal(14, IndexColumns(conn, "ix_events_time").Count);
    }

    [Fact]
    public async Task A_partition_with_the_earlier_wide_seek_indexes_answers_every_seek_page_as_before()
    {
        var events = ContractData.Generate(3000, seed: 17, orgs: ["org_42", "org_b"], start: new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), end: new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero));
        var queries = new List<AuditQuery>
        {
            new() { OrgId = "org_42", Users = ["usr_7"] },
            new() { OrgId = "org_42", Users = ["usr_7", "usr_2"], Categories = ["crm"], Outcomes = ["success"] },
            new() { OrgId = "org_42", Actions = ["deleted", "updated"], Sources = ["API", "Chat"] },
            new() { OrgId = "org_42", EntityIds = ["deal_1", "contact_9"], Ai = [false] },
            new() { OrgId = "org_b", Actions = ["created"], From = new DateTimeOffset(2026, 11, 5, 0, 0, 0, TimeSpan.Zero) },
        };
        List<List<string>> narrow, wide;
        using (var store = Stores.Open(_dir.Path, mergeRows: 1))
        {
            await store.AppendAsync(events, Ct);
            narrow = [.. await Task.WhenAll(queries.Select(async q => await StorePaging.PageAllAsync(store, q, 7, Ct)))];
        }

        Assert.All(narrow, ids => Assert.NotEmpty(ids));
        var file = Directory.EnumerateFiles(_dir.Path, "events-*.db").Single();
        SqliteConnection.ClearAllPools();
        using (var conn = RawSql.Open(file))
        {
            // What a file written before the seek indexes were narrowed holds.
            foreach (var (index, column) in new[] { ("ix_events_action", "action"), ("ix_events_actor", "actor_id"), ("ix_events_entity_id", "entity_id") })
            {
                Execute(conn, $"DROP INDEX {index}; CREATE INDEX {index} ON events (org_id, {column}, time_ms, id, category, source, outcome, ai)");
            }
        }

        using (var reopened = Stores.Open(_dir.Path, mergeRows: 1))
        {
            wide = [.. await Task.WhenAll(queries.Select(async q => await StorePaging.PageAllAsync(reopened, q, 7, Ct)))];
        }

        Assert.Equal(narrow, wide);
        using var check = RawSql.Open(file);
        Assert.Equal(8, IndexColumns(check, "ix_events_actor").Count);
    }

    private static List<string> IndexColumns(SqliteConnection conn, string index) =>
        Strings(conn, $"SELECT name FROM pragma_index_info('{index}') ORDER BY seqno");

    [Fact]
    public async Task Free_text_candidates_are_fetched_by_row_number_not_by_scanning()
    {
        using var store = Stores.Open(_dir.Path);
        await store.AppendAsync([Some.Event()], Ct);
        var plan = ScanPlan.For(new AuditQuery { OrgId = "org_42", Terms = ["acme"], Actions = ["deleted"], After = new AuditPosition(Some.BaseTime, "x") });

        using var conn = SqliteAuditStore.Open(store.Partitions.Single().Location.ConnectionString);
        using var cmd = plan.Command(conn, "text", null, -1);
        cmd.CommandText = "EXPLAIN QUERY PLAN " + cmd.CommandText;
        var details = new List<string>();
        using (var reader = cmd.ExecuteReader())
        {
            while (reader.Read())
            {
                details.Add(reader.GetString(3));
            }
        }

        var text = string.Join(" | ", details);
        Assert.Contains("VIRTUAL TABLE", text, StringComparison.Ordinal);
        Assert.Contains("SEARCH e USING INTEGER PRIMARY KEY (rowid=?)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("SCAN e", details);
    }

    [Fact]
    public async Task A_rare_free_text_term_is_answered_from_the_text_index()
    {
        using var store = Stores.Open(_dir.Path);
        var events = ContractData.Generate(500, seed: 5, orgs: ["org_42"], start: new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        var needle = Some.Event(orgId: "org_42", time: new DateTimeOffset(2026, 11, 20, 0, 0, 0, TimeSpan.Zero)) with
        {
            Entity = new("deal", "deal_999", "Zanzibar Holdings"),
        };
        await store.AppendAsync([.. events, needle], Ct);

        // The plan under test is the indexed table's: the events leave the tail first.
        store.MergeAllTails();
        var plan = ScanPlan.For(new AuditQuery { OrgId = "org_42", Terms = ["zanzi"] });

        using var conn = SqliteAuditStore.Open(store.Partitions.Single().Location.ConnectionString);
        var streams = new List<RowStream>();
        using var docs = new DocReader(conn);
        plan.OpenStreams(conn, docs, streams, textScopedByOrg: true);
        var page = await store.QueryAsync(new AuditQuery { OrgId = "org_42", Terms = ["zanzi"] }, 10, Ct);

        using var only = Assert.Single(streams);
        Assert.True(only.HasRow);
        Assert.Equal(needle.Id, only.Id);
        Assert.Equal([needle.Id], page.Items.Select(e => e.Id));
    }

    private string PartitionFile(string retentionClass, int year, int month) =>
        Path.Combine(_dir.Path, FormattableString.Invariant($"events-{retentionClass}-{year:D4}-{month:D2}.db"));
}
