using AuditPipeline.Core.Events;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded.Storage;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

using static AuditPipeline.Embedded.Tests.Support.RawSql;

namespace AuditPipeline.Embedded.Tests.Storage;

/// <summary>
/// A batch appends to its partitions' tails; full tails, idle tails and every tail at close are merged
/// into the indexed table. Reads cover both tables at every moment, and both are append-only.
/// </summary>
public sealed class TailTests : IDisposable
{
    private static readonly DateTimeOffset Nov = new(2026, 11, 3, 0, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_tail_that_reaches_MergeRows_is_merged_into_the_indexed_table_and_reads_cover_both()
    {
        using var store = Stores.Open(_dir.Path, mergeRows: 100);
        var events = Enumerable.Range(0, 130).Select(i => Some.Event(orgId: "org_t", time: Nov.AddMinutes(i))).ToList();

        await store.AppendAsync(events[..60], Ct);
        Assert.Equal((0L, 60L), Counts());
        await store.AppendAsync(events[60..110], Ct);
        Assert.Equal((110L, 0L), Counts());
        await store.AppendAsync(events[110..], Ct);
        Assert.Equal((110L, 20L), Counts());

        var all = await All(store, "org_t");
        Assert.Equal(events.Select(e => e.Id).Reverse(), all.Select(e => e.Id));
        Assert.NotNull(await store.GetAsync("org_t", events[5].Id, Ct));
        Assert.NotNull(await store.GetAsync("org_t", events[^1].Id, Ct));
        var filtered = await store.QueryAsync(new AuditQuery { OrgId = "org_t", Users = [events[0].Actor!.Id!], Terms = [events[^1].Id] }, 10, Ct);
        Assert.Equal([events[^1].Id], filtered.Items.Select(e => e.Id));
    }

    [Fact]
    public async Task A_tail_row_can_be_neither_updated_nor_deleted_and_leaves_the_tail_only_into_the_indexed_table()
    {
        var e = Some.Event(orgId: "org_t", time: Nov);
        using var store = Stores.Open(_dir.Path);
        await store.AppendAsync([e], Ct);

        using (var conn = Raw())
        {
            Assert.Contains("append-only", Assert.Throws<SqliteException>(() => Execute(conn, "UPDATE events_tail SET action = 'tampered'")).Message, StringComparison.Ordinal);
            Assert.Contains("append-only", Assert.Throws<SqliteException>(() => Execute(conn, "DELETE FROM events_tail")).Message, StringComparison.Ordinal);
            Assert.Contains("append-only", Assert.Throws<SqliteException>(() => Execute(conn, "INSERT OR REPLACE INTO events_tail SELECT * FROM events_tail")).Message, StringComparison.Ordinal);
            Assert.Contains("append-only", Assert.Throws<SqliteException>(() => Execute(conn, "REPLACE INTO events_tail (seq, org_id, id, time_ms, action, entity_type, category, source, outcome, ai, doc, body) SELECT seq, org_id, id, time_ms, 'tampered', entity_type, category, source, outcome, ai, doc, body FROM events_tail")).Message, StringComparison.Ordinal);
        }

        Assert.Equal((0L, 1L), Counts());
        store.MergeAllTails();
        Assert.Equal((1L, 0L), Counts());
        using (var conn = Raw())
        {
            Assert.Contains("append-only", Assert.Throws<SqliteException>(() => Execute(conn, "DELETE FROM events")).Message, StringComparison.Ordinal);
        }

        Assert.Equal(e.Action, (await store.GetAsync("org_t", e.Id, Ct))?.Action);
    }

    [Fact]
    public async Task Closing_the_store_merges_every_tail_and_the_next_start_has_nothing_left_to_merge()
    {
        var events = Enumerable.Range(0, 50).Select(i => Some.Event(orgId: "org_t", time: Nov.AddMinutes(i))).ToList();
        using (var store = Stores.Open(_dir.Path))
        {
            await store.AppendAsync(events, Ct);
            Assert.Equal((0L, 50L), Counts());
        }

        Assert.Equal((50L, 0L), Counts());
        using var reopened = Stores.Open(_dir.Path);
        Assert.Equal(0, reopened.Partitions.Single().TailRows);
        Assert.Equal(50, (await All(reopened, "org_t")).Count);
    }

    [Fact]
    public async Task An_idle_tail_is_merged_once_it_is_older_than_MergeAfter()
    {
        using var store = OpenMergingAfter(TimeSpan.FromMilliseconds(100));
        await store.AppendAsync([Some.Event(orgId: "org_t", time: Nov)], Ct);

        // The merge is the signal: the row moves to the indexed table without any further append.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Counts() != (1L, 0L) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Ct);
        }

        Assert.Equal((1L, 0L), Counts());
    }

    [Fact]
    public async Task A_tail_is_not_merged_as_idle_while_batches_keep_coming_only_once_they_stop()
    {
        using var store = OpenMergingAfter(TimeSpan.FromMilliseconds(1));
        store.IdleAfterMs = long.MaxValue / 2;
        await store.AppendAsync([Some.Event(orgId: "org_t", time: Nov)], Ct);
        await Task.Delay(5, Ct);

        // Older than MergeAfter and the write gate is free, but a batch was written within IdleAfterMs.
        store.MergeIdleTails();
        Assert.Equal((0L, 1L), Counts());

        store.IdleAfterMs = 0;
        store.MergeIdleTails();
        Assert.Equal((1L, 0L), Counts());
    }

    [Fact]
    public async Task Rows_a_killed_run_left_in_the_tail_are_read_deduplicated_and_merged_by_the_next_run()
    {
        var events = Enumerable.Range(0, 40).Select(i => Some.Event(orgId: "org_t", time: Nov.AddMinutes(i))).ToList();
        var copy = Path.Combine(_dir.Path, "copy");
        Directory.CreateDirectory(copy);
        using (var store = Stores.Open(Path.Combine(_dir.Path, "live")))
        {
            await store.AppendAsync(events, Ct);

            // The files as a SIGKILL leaves them: rows committed to the tail, no merge, no close.
            foreach (var file in Directory.GetFiles(Path.Combine(_dir.Path, "live")).Where(f => f.EndsWith(".db", StringComparison.Ordinal) || f.EndsWith("-wal", StringComparison.Ordinal)))
            {
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            }
        }

        using var restarted = Stores.Open(copy, mergeRows: 1_000);
        Assert.Equal(40, restarted.Partitions.Single().TailRows);
        Assert.Equal(40, (await All(restarted, "org_t")).Count);
        var again = await restarted.AppendAsync(events, Ct);
        Assert.All(again, r => Assert.Equal(AppendOutcome.Duplicate, r.Outcome));

        restarted.MergeAllTails();
        Assert.Equal(0, restarted.Partitions.Single().TailRows);
        Assert.Equal(events.Select(e => e.Id).Reverse(), (await All(restarted, "org_t")).Select(e => e.Id));
    }

    [Fact]
    public async Task Reads_while_tails_are_being_merged_never_miss_or_repeat_an_event()
    {
        using var store = Stores.Open(_dir.Path, mergeRows: 64);
        var events = Enumerable.Range(0, 2_000).Select(i => Some.Event(orgId: "org_t", time: Nov.AddSeconds(i))).ToList();

        await Stores.ReadWhileAppending(store, "org_t", [], events, Ct);

        Assert.Equal(2_000, (await All(store, "org_t")).Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Filter_columns_keep_every_character_in_the_tail_and_after_the_merge(bool merged)
    {
        // Bound by position through SQLitePCLRaw: a NUL, U+FFFF or an astral character must not cut a value short.
        const string user = "usr_a\u0000b\uffff\U0001F600";
        var e = Some.Event(orgId: "org_t", time: Nov) with
        {
            Actor = new AuditActor(ActorTypes.User, user, "Ana\u0000Silva", "ana@acme.test"),
            Entity = new AuditEntity("deal", "deal_\u0000x", "Zanzi\u0000bar"),
        };
        using var store = Stores.Open(_dir.Path);
        await store.AppendAsync([e, Some.Event(orgId: "org_t", time: Nov.AddMinutes(1)) with { Actor = new AuditActor(ActorTypes.User, "usr_a", "Ana", "a@acme.test") }], Ct);
        if (merged)
        {
            store.MergeAllTails();
        }

        var byUser = await store.QueryAsync(new AuditQuery { OrgId = "org_t", Users = [user] }, 10, Ct);
        var byEntity = await store.QueryAsync(new AuditQuery { OrgId = "org_t", EntityIds = ["deal_\u0000x"] }, 10, Ct);

        Assert.Equal([e.Id], byUser.Items.Select(x => x.Id));
        Assert.Equal(user, byUser.Items[0].Actor!.Id);
        Assert.Equal([e.Id], byEntity.Items.Select(x => x.Id));
        Assert.Equal("Zanzi\u0000bar", (await store.GetAsync("org_t", e.Id, Ct))!.Entity!.Name);
    }

    [Fact]
    public async Task A_read_only_store_beside_the_writer_reads_rows_still_in_the_tail()
    {
        var events = Enumerable.Range(0, 30).Select(i => Some.Event(orgId: "org_t", time: Nov.AddMinutes(i))).ToList();
        using var writer = Stores.Open(_dir.Path);
        await writer.AppendAsync(events[..10], Ct);
        using var reader = Stores.OpenReadOnly(_dir.Path);

        Assert.Equal(10, (await All(reader, "org_t")).Count);
        await writer.AppendAsync(events[10..], Ct);
        writer.MergeAllTails();
        await writer.AppendAsync([Some.Event(orgId: "org_t", time: Nov.AddHours(5))], Ct);

        Assert.Equal((30L, 1L), Counts());
        Assert.Equal(31, (await All(reader, "org_t")).Count);
        Assert.NotNull(await reader.GetAsync("org_t", events[^1].Id, Ct));
    }

    [Theory]
    [InlineData(nameof(EmbeddedStoreOptions.MergeRows), "Store:Embedded:MergeRows")]
    [InlineData(nameof(EmbeddedStoreOptions.MergeAfter), "Store:Embedded:MergeAfter")]
    [InlineData(nameof(EmbeddedStoreOptions.MergeCacheMiB), "Store:Embedded:MergeCacheMiB")]
    [InlineData(nameof(EmbeddedStoreOptions.Synchronous), "Store:Embedded:Synchronous")]
    public void A_bad_merge_or_durability_setting_is_refused_naming_its_key(string property, string key)
    {
        var options = new EmbeddedStoreOptions { Path = _dir.Path };
        switch (property)
        {
            case nameof(EmbeddedStoreOptions.MergeRows):
                options.MergeRows = 10;
                break;
            case nameof(EmbeddedStoreOptions.MergeAfter):
                options.MergeAfter = TimeSpan.Zero;
                break;
            case nameof(EmbeddedStoreOptions.MergeCacheMiB):
                options.MergeCacheMiB = 8;
                break;
            default:
                options.Synchronous = "OFF";
                break;
        }

        var result = new EmbeddedStoreOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(key, result.FailureMessage, StringComparison.Ordinal);
    }

    private static Task<List<AuditEvent>> All(IAuditStore store, string org) => Stores.All(store, org, Ct);

    private SqliteAuditStore OpenMergingAfter(TimeSpan mergeAfter)
    {
        var retention = new RetentionOptions();
        return new SqliteAuditStore(
            Options.Create(new EmbeddedStoreOptions { Path = _dir.Path, MergeAfter = mergeAfter }),
            new RetentionPlanRegistry(Options.Create(retention)),
            Options.Create(retention));
    }

    private (long Events, long Tail) Counts() => EventsAndTail(Path.Combine(_dir.Path, "events-p2y-2026-11.db"));

    private SqliteConnection Raw() => RawSql.Open(Path.Combine(_dir.Path, "events-p2y-2026-11.db"));
}
