using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded.Storage;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing;
using AuditPipeline.Testing.StoreContract;
using Microsoft.Data.Sqlite;

using static AuditPipeline.Embedded.Tests.Support.RawSql;

namespace AuditPipeline.Embedded.Tests.Storage;

/// <summary>The id index across crashes, unavailable vs. permanent errors, and the work budget of a page.</summary>
public sealed class SqliteAuditStoreRobustnessTests : IDisposable
{
    private static readonly DateTimeOffset Nov = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_crash_after_the_partition_committed_and_before_its_ids_were_indexed_loses_nothing_and_a_resend_stays_a_duplicate()
    {
        var events = Enumerable.Range(0, 40).Select(i => Some.Event(orgId: "org_crash", time: Nov.AddHours(i))).ToList();
        using (var store = Stores.Open(_dir.Path))
        {
            await store.AppendAsync(events, Ct);
        }

        // What a SIGKILL between the two commits leaves: the rows in the partition, none in the index.
        SqliteConnection.ClearAllPools();
        using (var catalog = RawSql.Open(Path.Combine(_dir.Path, SqliteAuditStore.CatalogFileName)))
        {
            Execute(catalog, "DELETE FROM event_ids; UPDATE id_index SET indexed_seq = 0;");
        }

        SqliteConnection.ClearAllPools();
        using var reopened = Stores.Open(_dir.Path);
        var resent = await reopened.AppendAsync([.. events.Select(e => e with { Time = e.Time.AddMonths(-2) })], Ct);

        Assert.All(resent, r => Assert.Equal(AppendOutcome.Duplicate, r.Outcome));
        Assert.Equal(40, (await reopened.QueryAsync(new AuditQuery { OrgId = "org_crash" }, 500, Ct)).Items.Count);
        Assert.Single(reopened.Partitions);
    }

    [Fact]
    public async Task A_kill_with_ids_still_held_in_memory_loses_nothing_and_resends_stay_duplicates()
    {
        var events = ContractData.Generate(3000, seed: 9, orgs: ["org_kill", "org_other"], start: Nov.AddMonths(-4), end: Nov.AddDays(20));
        var copy = Path.Combine(_dir.Path, "after-kill");
        using (var store = Stores.Open(Path.Combine(_dir.Path, "live")))
        {
            store.IdIndexFlushAt = 1000;
            foreach (var chunk in events.Chunk(300))
            {
                await store.AppendAsync(chunk, Ct);
            }

            // The files as a SIGKILL now would leave them: some ids written, the last ones only in memory.
            Assert.InRange(store.PendingIds, 1, 999);
            // An open reader on every file keeps its log in place while copying (the last connection
            // to close would fold the log into the file and delete it); the -shm index is rebuilt.
            Directory.CreateDirectory(copy);
            var live = Path.Combine(_dir.Path, "live");
            var holders = Directory.GetFiles(live, "*.db").Select(RawSql.Open).ToList();
            foreach (var file in Directory.GetFiles(live).Where(f => f.EndsWith(".db", StringComparison.Ordinal) || f.EndsWith("-wal", StringComparison.Ordinal)))
            {
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            }

            holders.ForEach(h => h.Dispose());
        }

        SqliteConnection.ClearAllPools();
        using var restarted = Stores.Open(copy);
        var resent = await restarted.AppendAsync([.. events.Select((e, i) => e with { Time = e.Time.AddDays(i % 2 == 0 ? 35 : -35) })], Ct);

        Assert.All(resent, r => Assert.Equal(AppendOutcome.Duplicate, r.Outcome));
        foreach (var org in new[] { "org_kill", "org_other" })
        {
            var stored = new List<string>();
            await foreach (var e in restarted.StreamAsync(new AuditQuery { OrgId = org }, Ct))
            {
                stored.Add(e.Id);
            }

            Assert.Equal(ContractData.Expected(events, new AuditQuery { OrgId = org }).Select(e => e.Id), stored);
        }
    }

    [Fact]
    public async Task A_full_disk_is_store_unavailable_and_the_retried_batch_is_stored_once()
    {
        using var store = Stores.Open(_dir.Path);
        await store.AppendAsync([Some.Event(orgId: "org_full", time: Nov)], Ct);
        var batch = Enumerable.Range(0, 300).Select(i => Some.Event(orgId: "org_full", time: Nov.AddMinutes(i)) with
        {
            Details = System.Text.Json.JsonDocument.Parse($"{{\"pad\":\"{new string('x', 2000)}\"}}").RootElement,
        }).ToList();

        // No page may be added to the partition file: SQLite answers SQLITE_FULL, as on a full disk.
        store.Writer!.ConnectionOpened = conn => Execute(conn, "PRAGMA max_page_count = " + Convert.ToString(Scalar(conn, "PRAGMA page_count"), System.Globalization.CultureInfo.InvariantCulture));
        var ex = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.AppendAsync(batch, Ct));
        store.Writer.ConnectionOpened = null;
        SqliteConnection.ClearAllPools(); // the page limit stays on a pooled connection; a freed disk needs no such step
        var retried = await store.AppendAsync(batch, Ct);

        Assert.Contains("full", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.All(retried, r => Assert.Equal(AppendOutcome.Stored, r.Outcome));
        Assert.Equal(301, (await store.QueryAsync(new AuditQuery { OrgId = "org_full" }, 500, Ct)).Items.Count);
    }

    [Fact]
    public async Task A_vanished_data_directory_is_store_unavailable()
    {
        var path = Path.Combine(_dir.Path, "data");
        using var store = Stores.Open(path);
        await store.AppendAsync([Some.Event(time: Nov)], Ct);

        SqliteConnection.ClearAllPools();
        Directory.Delete(path, recursive: true);

        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.AppendAsync([Some.Event(time: Nov.AddDays(40))], Ct));
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.AppendAsync([Some.Event(time: Nov)], Ct));
    }

    [Fact]
    public async Task A_store_closed_then_opened_on_a_recreated_directory_writes_to_the_new_files_not_to_pooled_handles_of_the_deleted_ones()
    {
        // No ClearAllPools here: the store's own close must release every connection it pooled, or the
        // next store on the same path is handed a connection to the deleted catalog.
        var path = Path.Combine(_dir.Path, "data");
        using (var first = Stores.Open(path))
        {
            await first.AppendAsync([Some.Event(orgId: "org_old", time: Nov)], Ct);
        }

        Directory.Delete(path, recursive: true);
        var fresh = Some.Event(orgId: "org_new", time: Nov.AddDays(3));
        using (var second = Stores.Open(path))
        {
            Assert.Equal(AppendOutcome.Stored, Assert.Single(await second.AppendAsync([fresh], Ct)).Outcome);
        }

        using var third = Stores.Open(path);
        Assert.Equal(fresh.Id, Assert.Single((await third.QueryAsync(new AuditQuery { OrgId = "org_new" }, 10, Ct)).Items).Id);
        Assert.Empty((await third.QueryAsync(new AuditQuery { OrgId = "org_old" }, 10, Ct)).Items);
    }

    [Fact]
    public async Task A_held_write_lock_is_store_unavailable()
    {
        using var store = Stores.Open(_dir.Path);
        await store.AppendAsync([Some.Event(time: Nov)], Ct);
        using var other = RawSql.Open(Path.Combine(_dir.Path, "events-p2y-2026-11.db"));
        Execute(other, "BEGIN IMMEDIATE");

        store.Writer!.ConnectionOpened = conn => Execute(conn, "PRAGMA busy_timeout = 50");
        var ex = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.AppendAsync([Some.Event(time: Nov)], Ct));

        Assert.IsType<SqliteException>(ex.InnerException);
        Execute(other, "ROLLBACK");
    }

    [Fact]
    public async Task An_event_the_store_cannot_write_is_rejected_alone_with_a_reason_and_the_rest_are_stored()
    {
        using var store = Stores.Open(_dir.Path);
        var good1 = Some.Event(time: Nov);
        var missing = Some.Event(time: Nov) with { Action = null! };
        var badId = Some.Event(id: "evt_\udc00", time: Nov);
        var good2 = Some.Event(time: Nov.AddDays(3));

        var results = await store.AppendAsync([good1, missing, badId, good2], Ct);

        Assert.Equal(
            [AppendOutcome.Stored, AppendOutcome.Rejected, AppendOutcome.Rejected, AppendOutcome.Stored],
            results.Select(r => r.Outcome));
        Assert.All(results.Where(r => r.Outcome == AppendOutcome.Rejected), r => Assert.False(string.IsNullOrWhiteSpace(r.Error)));
        Assert.NotNull(await store.GetAsync(good2.OrgId, good2.Id, Ct));
        Assert.Null(await store.GetAsync(missing.OrgId, missing.Id, Ct));

        // A rejected id is not in the index: a corrected copy is stored.
        var fixedCopy = await store.AppendAsync([missing with { Action = "viewed" }], Ct);
        Assert.Equal(AppendOutcome.Stored, fixedCopy[0].Outcome);
    }

    [Fact]
    public async Task A_page_over_rows_that_match_nothing_stops_at_the_budget_with_a_cursor_and_paging_on_finds_every_match()
    {
        using var store = Open(maxScanRows: 1000);
        var events = ContractData.Generate(6000, seed: 21, orgs: ["org_budget"], start: Nov);
        var rare = events.Where((_, i) => i % 1500 == 7).Select(e => e with { Entity = new("vault", "vault_1", "Vault") }).ToList();
        var all = events.Where((_, i) => i % 1500 != 7).Concat(rare).ToList();
        foreach (var chunk in all.Chunk(1000))
        {
            await store.AppendAsync(chunk, Ct);
        }

        var nothing = await store.QueryAsync(new AuditQuery { OrgId = "org_budget", Outcomes = ["nonsense"] }, 50, Ct);
        var query = new AuditQuery { OrgId = "org_budget", EntityTypes = ["vault", "nonsense"] };
        var expected = ContractData.Expected(all, query).Select(e => e.Id).ToList();
        var paged = new List<string>();
        var pages = 0;
        for (var q = query; ; pages++)
        {
            var page = await store.QueryAsync(q, 50, Ct);
            paged.AddRange(page.Items.Select(e => e.Id));
            if (page.Next is not { } next)
            {
                break;
            }

            q = q with { After = next };
        }

        Assert.Empty(nothing.Items);
        Assert.NotNull(nothing.Next);
        Assert.Equal(expected, paged);
        Assert.InRange(pages, 5, 10);
    }

    [Fact]
    public async Task A_stream_stops_when_cancelled()
    {
        using var store = Stores.Open(_dir.Path);
        await store.AppendAsync(ContractData.Generate(3000, seed: 4, orgs: ["org_s"], start: Nov), Ct);
        using var cts = new CancellationTokenSource();
        var read = 0;

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var e in store.StreamAsync(new AuditQuery { OrgId = "org_s" }, cts.Token))
            {
                if (++read == 10)
                {
                    await cts.CancelAsync();
                }
            }
        });

        Assert.NotNull(ex);
        Assert.InRange(read, 10, 1000);
    }

    [Fact]
    public async Task A_word_frequent_in_one_organisation_does_not_lengthen_another_organisations_text_candidates()
    {
        using var store = Stores.Open(_dir.Path);
        var crowd = Enumerable.Range(0, ScanPlan.TextCandidateLimit + 500)
            .Select(i => Some.Event(orgId: "org_crowd", time: Nov.AddMinutes(i)) with { Entity = new("deal", $"deal_{i}", "Zanzibar Holdings") })
            .ToList();
        var quiet = Some.Event(orgId: "org_quiet", time: Nov.AddDays(2)) with { Entity = new("deal", "deal_q", "Zanzibar Trading") };
        foreach (var chunk in crowd.Append(quiet).Chunk(1000))
        {
            await store.AppendAsync(chunk, Ct);
        }

        // The plan under test is the indexed table's: the events leave the tail first.
        store.MergeAllTails();
        using var conn = SqliteAuditStore.Open(store.Partitions.Single().Location.ConnectionString);
        using var docs = new DocReader(conn);
        var quietStreams = new List<RowStream>();
        var crowdStreams = new List<RowStream>();
        var quietProbed = ScanPlan.For(new AuditQuery { OrgId = "org_quiet", Terms = ["zanzibar"] }).OpenStreams(conn, docs, quietStreams, textScopedByOrg: true);
        var crowdProbed = ScanPlan.For(new AuditQuery { OrgId = "org_crowd", Terms = ["zanzibar"] }).OpenStreams(conn, docs, crowdStreams, textScopedByOrg: true);
        var page = await store.QueryAsync(new AuditQuery { OrgId = "org_quiet", Terms = ["zanzi"] }, 10, Ct);

        Assert.Equal(1, quietProbed);
        Assert.True(crowdProbed > ScanPlan.TextCandidateLimit);
        Assert.Equal([quiet.Id], page.Items.Select(e => e.Id));
        foreach (var s in quietStreams.Concat(crowdStreams))
        {
            s.Dispose();
        }
    }

    private SqliteAuditStore Open(long maxScanRows) => Stores.Open(_dir.Path, maxScanRows: maxScanRows);
}
