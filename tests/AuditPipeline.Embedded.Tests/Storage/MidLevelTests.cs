using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded.Storage;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing;
using Microsoft.Data.Sqlite;

using static AuditPipeline.Embedded.Tests.Support.RawSql;

namespace AuditPipeline.Embedded.Tests.Storage;

/// <summary>
/// A tail spread over a month that is already large goes to <c>events_mid</c>, which moves into
/// <c>events</c> whole once full (<see cref="MergeLevels"/>). Reads cover all three tables at every
/// moment, each is append-only, and files from before the middle level are upgraded when opened.
/// The thresholds are lowered so a few hundred rows exercise what a month of millions does.
/// </summary>
public sealed class MidLevelTests : IDisposable
{
    private const string File = "events-p2y-2026-11.db";
    private static readonly DateTimeOffset Nov = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_spread_tail_into_a_large_month_goes_to_events_mid_every_read_covers_it_and_a_full_mid_moves_into_events()
    {
        using var store = Open(_dir.Path);
        var live = Live(128);
        await store.AppendAsync(live, Ct);
        Assert.Equal((128L, 0L, 0L), Counts());

        // Spread over the month and the month holds MidFromRows: the middle level.
        var spread = Spread(64, seed: 1);
        await store.AppendAsync(spread, Ct);
        Assert.Equal((128L, 64L, 0L), Counts());
        Assert.Equal(64, store.Partitions.Single().MidRows);

        var expected = live.Concat(spread).ToList();
        await AssertReadsSee(store, expected, spread[7]);
        AssertTextCandidatesFound(store, spread[7]);

        // MidCap is max(4 × 64, sqrt(2 × 64 × 128)) = 256: three more spread tails fill it, and it moves on whole.
        for (var k = 2; k <= 4; k++)
        {
            var more = Spread(64, seed: k);
            expected.AddRange(more);
            await store.AppendAsync(more, Ct);
        }

        Assert.Equal((384L, 0L, 0L), Counts());
        Assert.Equal(0, store.Partitions.Single().MidRows);
        await AssertReadsSee(store, expected, expected[^1]);
    }

    [Fact]
    public async Task Live_tails_go_straight_to_events_however_large_the_month_is()
    {
        using var store = Open(_dir.Path);
        var events = Live(640);
        foreach (var chunk in events.Chunk(64))
        {
            await store.AppendAsync(chunk, Ct);
        }

        Assert.Equal((640L, 0L, 0L), Counts());
        Assert.Equal(events.Select(e => e.Id).Reverse(), (await All(store)).Select(e => e.Id));
    }

    [Fact]
    public async Task A_live_tail_with_a_few_late_events_sends_those_to_events_mid_and_the_rest_straight_to_events()
    {
        using var store = Open(_dir.Path);
        var live = Enumerable.Range(0, 128).Select(i => Unique(Nov.AddDays(2).AddMinutes(i))).ToList();
        await store.AppendAsync(live, Ct);

        // 64 more live events, three of them from two days earlier (a client that was offline).
        var next = Enumerable.Range(0, 64).Select(i => Unique(Nov.AddDays(3).AddMinutes(i))).ToList();
        var late = new[] { 10, 30, 50 }.Select(i => next[i] = Unique(Nov.AddMinutes(i))).ToList();
        await store.AppendAsync(next, Ct);

        Assert.Equal((128L + 61, 3L, 0L), Counts());
        Assert.Equal(3, store.Partitions.Single().MidRows);
        using (var conn = Raw())
        {
            Assert.Equal(late.Select(e => e.Id).Order(StringComparer.Ordinal), Strings(conn, "SELECT id FROM events_mid ORDER BY id"));
        }

        var expected = live.Concat(next).ToList();
        await AssertReadsSee(store, expected, late[1]);
    }

    [Fact]
    public async Task Slow_live_traffic_whose_tails_span_more_than_SpreadMs_goes_straight_to_events()
    {
        // One event every 12 minutes: a tail of 64 spans almost 13 hours, every row newer than events.
        var events = Enumerable.Range(0, 256).Select(i => Unique(Nov.AddMinutes(12 * i))).ToList();
        using (var store = Open(_dir.Path))
        {
            foreach (var chunk in events[..192].Chunk(64))
            {
                await store.AppendAsync(chunk, Ct);
            }

            Assert.Equal((192L, 0L, 0L), Counts());
        }

        // A new run reads the edge from the file.
        using (var store = Open(_dir.Path))
        {
            await store.AppendAsync(events[192..], Ct);
            Assert.Equal((256L, 0L, 0L), Counts());
            Assert.Equal(events.Select(e => e.Id).Reverse(), (await All(store)).Select(e => e.Id));
        }
    }

    [Fact]
    public async Task A_small_month_takes_spread_tails_straight_into_events()
    {
        using var store = Open(_dir.Path);
        await store.AppendAsync(Spread(64, seed: 1), Ct);
        await store.AppendAsync(Spread(64, seed: 2), Ct);

        // The first tail found an empty month, the second one of 64 rows: both under MidFromRows.
        Assert.Equal((128L, 0L, 0L), Counts());
    }

    [Fact]
    public async Task An_events_mid_row_can_be_neither_updated_nor_deleted_nor_replaced_and_leaves_only_into_events()
    {
        using var store = Open(_dir.Path);
        await store.AppendAsync(Live(128), Ct);
        var spread = Spread(64, seed: 1);
        await store.AppendAsync(spread, Ct);
        Assert.Equal((128L, 64L, 0L), Counts());

        using (var conn = Raw())
        {
            Assert.Contains("append-only", Assert.Throws<SqliteException>(() => Execute(conn, "UPDATE events_mid SET action = 'tampered'")).Message, StringComparison.Ordinal);
            Assert.Contains("append-only", Assert.Throws<SqliteException>(() => Execute(conn, "DELETE FROM events_mid")).Message, StringComparison.Ordinal);
            Assert.Contains("append-only", Assert.Throws<SqliteException>(() => Execute(conn, "INSERT OR REPLACE INTO events_mid SELECT * FROM events_mid")).Message, StringComparison.Ordinal);
            Assert.Contains("append-only", Assert.Throws<SqliteException>(() => Execute(conn, "REPLACE INTO events_mid (seq, org_id, id, time_ms, action, entity_type, category, source, outcome, ai, doc) SELECT seq + 100000, org_id, id, time_ms, 'tampered', entity_type, category, source, outcome, ai, doc FROM events_mid")).Message, StringComparison.Ordinal);

            // The tail's guard: a row leaves it for events_mid only once it is there.
            Execute(conn, "DROP TRIGGER events_tail_no_replace");
            Execute(conn, "INSERT INTO events_tail SELECT *, 'body' FROM events_mid LIMIT 1");
            Execute(conn, "DELETE FROM events_tail");
            Execute(conn, "INSERT INTO events_tail (seq, org_id, id, time_ms, action, entity_type, category, source, outcome, ai, doc, body) SELECT seq + 100000, org_id, id, time_ms, action, entity_type, category, source, outcome, ai, doc, 'body' FROM events_mid LIMIT 1");
            Assert.Contains("append-only", Assert.Throws<SqliteException>(() => Execute(conn, "DELETE FROM events_tail")).Message, StringComparison.Ordinal);
        }

        Assert.Equal(spread[3].Action, (await store.GetAsync("org_t", spread[3].Id, Ct))?.Action);
    }

    [Fact]
    public async Task A_file_from_before_the_middle_level_gets_it_when_the_writer_opens_it()
    {
        var live = Live(128);
        using (var store = Open(_dir.Path))
        {
            await store.AppendAsync(live, Ct);
        }

        // The file as the version before wrote it: no events_mid, and a tail guard that knows only events.
        using (var conn = Raw())
        {
            Execute(conn, """
                DROP TABLE events_mid;
                DROP TRIGGER events_tail_no_delete;
                CREATE TRIGGER events_tail_no_delete BEFORE DELETE ON events_tail
                WHEN NOT EXISTS (SELECT 1 FROM events WHERE seq = OLD.seq AND id = OLD.id AND org_id = OLD.org_id)
                BEGIN SELECT RAISE(ABORT, 'audit events are append-only: a row leaves the tail only once it is in events'); END;
                """);
        }

        using var reader = ReadOnly(_dir.Path);
        Assert.Equal(128, (await All(reader)).Count);

        using var reopened = Open(_dir.Path);
        var spread = Spread(64, seed: 1);
        await reopened.AppendAsync(spread, Ct);

        Assert.Equal((128L, 64L, 0L), Counts());
        Assert.Equal(192, (await All(reopened)).Count);
        Assert.Equal(192, (await All(reader)).Count);
        Assert.NotNull(await reader.GetAsync("org_t", spread[0].Id, Ct));
    }

    [Fact]
    public async Task Rows_a_killed_run_left_in_events_mid_are_read_and_moved_on_by_the_next_run()
    {
        var live = Live(128);
        var spread = Spread(64, seed: 1);
        var copy = Path.Combine(_dir.Path, "copy");
        Directory.CreateDirectory(copy);
        var source = Path.Combine(_dir.Path, "live");
        using (var store = Open(source))
        {
            await store.AppendAsync(live, Ct);
            await store.AppendAsync(spread, Ct);

            // The files as a SIGKILL leaves them.
            foreach (var file in Directory.GetFiles(source).Where(f => f.EndsWith(".db", StringComparison.Ordinal) || f.EndsWith("-wal", StringComparison.Ordinal)))
            {
                System.IO.File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            }
        }

        using var restarted = Open(copy);
        Assert.Equal(64, restarted.Partitions.Single().MidRows);
        Assert.Equal(192, (await All(restarted)).Count);
        Assert.All(await restarted.AppendAsync(spread, Ct), r => Assert.Equal(AppendOutcome.Duplicate, r.Outcome));

        var expected = live.Concat(spread).ToList();
        for (var k = 2; k <= 4; k++)
        {
            var more = Spread(64, seed: k);
            expected.AddRange(more);
            await restarted.AppendAsync(more, Ct);
        }

        Assert.Equal((384L, 0L, 0L), Counts(Path.Combine(copy, File)));
        Assert.Equal(Newest(expected), (await All(restarted)).Select(e => e.Id));
    }

    [Fact]
    public async Task Reads_while_rows_move_through_three_tables_never_miss_or_repeat_an_event()
    {
        using var store = Open(_dir.Path);
        var live = Live(128);
        await store.AppendAsync(live, Ct);
        var events = Enumerable.Range(1, 24).SelectMany(k => Spread(50, seed: k)).ToList();
        var sawMid = false;

        await Stores.ReadWhileAppending(store, "org_t", live, events, Ct, () => sawMid |= store.Partitions.Single().MidRows > 0);

        var (inEvents, inMid, inTail) = Counts();
        Assert.True(sawMid || inMid > 0, "rows must have gone through events_mid");
        Assert.Equal(128 + events.Count, inEvents + inMid + inTail);
        Assert.Equal(128 + events.Count, (await All(store)).Count);
    }

    /// <summary>Every way a store reads sees exactly <paramref name="expected"/>, and <paramref name="probe"/> by id, user, entity and free text.</summary>
    private static async Task AssertReadsSee(SqliteAuditStore store, List<AuditEvent> expected, AuditEvent probe)
    {
        Assert.Equal(Newest(expected), (await All(store)).Select(e => e.Id));
        var paged = new List<string>();
        AuditPosition? after = null;
        do
        {
            var page = await store.QueryAsync(new AuditQuery { OrgId = "org_t", After = after }, 50, Ct);
            paged.AddRange(page.Items.Select(e => e.Id));
            after = page.Next;
        }
        while (after is not null);

        Assert.Equal(Newest(expected), paged);
        Assert.Equal(probe.Id, (await store.GetAsync("org_t", probe.Id, Ct))?.Id);
        Assert.Equal([probe.Id], (await store.QueryAsync(new AuditQuery { OrgId = "org_t", EntityIds = [probe.Entity.Id!] }, 10, Ct)).Items.Select(e => e.Id));
        Assert.Equal([probe.Id], (await store.QueryAsync(new AuditQuery { OrgId = "org_t", Users = [probe.Actor.Id!] }, 10, Ct)).Items.Select(e => e.Id));
        Assert.Equal([probe.Id], (await store.QueryAsync(new AuditQuery { OrgId = "org_t", Terms = [probe.Entity.Name!] }, 10, Ct)).Items.Select(e => e.Id));
    }

    /// <summary>
    /// The free-text plan joins the text index's candidates with both indexed tables (a month this small
    /// is searched by walking, so the plan is opened directly).
    /// </summary>
    private static void AssertTextCandidatesFound(SqliteAuditStore store, AuditEvent probe)
    {
        using var conn = SqliteAuditStore.Open(store.Partitions.Single().Location.ConnectionString);
        var streams = new List<RowStream>();
        using var docs = new DocReader(conn);
        using var mid = new DocReader(conn, "events_mid");
        try
        {
            ScanPlan.For(new AuditQuery { OrgId = "org_t", Terms = [probe.Entity.Name!] }).OpenStreams(conn, docs, streams, textScopedByOrg: true, mid: mid);
            Assert.Equal(2, streams.Count);
            Assert.Equal([probe.Id], streams.Where(s => s.HasRow).Select(s => s.Id));
        }
        finally
        {
            streams.ForEach(s => s.Dispose());
        }
    }

    private static IEnumerable<string> Newest(IEnumerable<AuditEvent> events) =>
        events.OrderByDescending(e => e.Time).ThenByDescending(e => e.Id, Comparer<string>.Create(IdOrder.CompareIds)).Select(e => e.Id);

    /// <summary>Live traffic: a minute apart from the month's last day, so a spread tail lies behind its edge.</summary>
    private static List<AuditEvent> Live(int n) =>
        [.. Enumerable.Range(0, n).Select(i => Unique(Nov.AddDays(29).AddMinutes(i)))];

    /// <summary>A replayed backlog: times all over the month.</summary>
    private static List<AuditEvent> Spread(int n, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => Unique(Nov.AddMilliseconds(random.NextInt64((long)TimeSpan.FromDays(29).TotalMilliseconds))))];
    }

    /// <summary>An event with its own user, entity and entity name, so each can be looked up alone.</summary>
    private static AuditEvent Unique(DateTimeOffset time)
    {
        var id = Some.Id();
        var tag = id.Replace("evt_", "", StringComparison.Ordinal);
        return Some.Event(id, "org_t", time) with
        {
            Actor = new AuditActor(ActorTypes.User, "usr_" + tag, "User " + tag, "u" + tag + "@acme.test"),
            Entity = new AuditEntity("deal", "deal_" + tag, "Deal" + tag + "name"),
        };
    }

    private static SqliteAuditStore Open(string path)
    {
        var store = Stores.Open(path, mergeRows: 64);
        store.Levels!.MidFromRows = 128;
        return store;
    }

    private static SqliteAuditStore ReadOnly(string path) => Stores.OpenReadOnly(path);

    private static Task<List<AuditEvent>> All(IAuditStore store) => Stores.All(store, "org_t", Ct);

    private (long Events, long Mid, long Tail) Counts() => Counts(Path.Combine(_dir.Path, File));

    private static (long Events, long Mid, long Tail) Counts(string file)
    {
        using var conn = RawSql.Open(file);
        return (Count(conn, "SELECT count(*) FROM events"), Count(conn, "SELECT count(*) FROM events_mid"), Count(conn, "SELECT count(*) FROM events_tail"));
    }

    private SqliteConnection Raw() => RawSql.Open(Path.Combine(_dir.Path, File));
}
