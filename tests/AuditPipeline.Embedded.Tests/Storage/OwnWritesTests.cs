using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded.Storage;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing;
using Microsoft.Data.Sqlite;

using static AuditPipeline.Embedded.Tests.Support.RawSql;

namespace AuditPipeline.Embedded.Tests.Storage;

/// <summary>
/// The store's own writes (a batch's tail insert, the merges) run with the connection's triggers off
/// (<see cref="OwnWrites"/>); every other connection, a pooled one of the store's included, keeps the
/// append-only guards, and the store's statements still cannot replace a row.
/// </summary>
public sealed class OwnWritesTests : IDisposable
{
    private const string Org = "org_own";
    private static readonly DateTimeOffset Nov = new(2026, 11, 3, 0, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string File => Path.Combine(_dir.Path, "events-p2y-2026-11.db");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Appends_and_merges_fire_no_trigger_and_every_pooled_connection_has_its_triggers_back()
    {
        var events = Enumerable.Range(0, 130).Select(i => Some.Event(orgId: Org, time: Nov.AddMinutes(i))).ToList();
        using var store = Stores.Open(_dir.Path, mergeRows: 100);
        Assert.All(await store.AppendAsync(events[..60], Ct), r => Assert.Equal(AppendOutcome.Stored, r.Outcome));

        // Tripwires any trigger-firing write of the store's would hit: inserts into the tail and the
        // indexed table, and the tail's delete at the end of a merge.
        using (var conn = RawSql.Open(File))
        {
            foreach (var (table, when) in new[] { ("events_tail", "INSERT"), ("events", "INSERT"), ("events_tail", "DELETE") })
            {
                Execute(conn, $"CREATE TRIGGER tripwire_{table}_{when} BEFORE {when} ON {table} BEGIN SELECT RAISE(ABORT, 'tripwire'); END");
            }
        }

        Assert.All(await store.AppendAsync(events[60..110], Ct), r => Assert.Equal(AppendOutcome.Stored, r.Outcome));
        Assert.Equal((110L, 0L), Counts());
        Assert.All(await store.AppendAsync(events[110..], Ct), r => Assert.Equal(AppendOutcome.Stored, r.Outcome));
        store.MergeAllTails();
        Assert.Equal((130L, 0L), Counts());
        Assert.Equal(events.Select(e => e.Id).Reverse(), (await Stores.All(store, Org, Ct)).Select(e => e.Id));

        // Every idle handle in the pool is handed out before a new one is opened: hold 16 at once.
        var location = new PartitionLocation(File, archived: false, readOnly: false);
        var pooled = Enumerable.Range(0, 16).Select(_ => SqliteAuditStore.Open(location.ConnectionString)).ToList();
        try
        {
            foreach (var conn in pooled)
            {
                Assert.True(OwnWrites.TriggersOn(conn));
                Assert.Contains("append-only", Assert.Throws<SqliteException>(() => Execute(conn, "UPDATE events SET action = 'tampered'")).Message, StringComparison.Ordinal);
                Assert.Contains("tripwire", Assert.Throws<SqliteException>(() => Execute(conn, "INSERT INTO events_tail SELECT *, 'body' FROM events LIMIT 1")).Message, StringComparison.Ordinal);
            }
        }
        finally
        {
            pooled.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task Without_its_guard_a_merge_still_cannot_replace_a_row_and_leaves_the_tail_as_it_was()
    {
        var events = Enumerable.Range(0, 3).Select(i => Some.Event(orgId: Org, time: Nov.AddMinutes(i))).ToList();
        using var store = Stores.Open(_dir.Path);
        await store.AppendAsync(events, Ct);

        // A row planted in the indexed table under the (org, id) of a tail row, with a row number of its own.
        using (var conn = RawSql.Open(File))
        {
            Execute(conn, "INSERT INTO events SELECT seq + 1000, org_id, id, time_ms, 'planted', actor_id, entity_type, entity_id, category, source, outcome, ai, actor_name, actor_email, entity_name, doc FROM events_tail WHERE seq = (SELECT min(seq) FROM events_tail)");
        }

        store.MergeAllTails();

        Assert.Equal((1L, 3L), Counts());
        using (var conn = RawSql.Open(File))
        {
            Assert.Equal(3L, Count(conn, "SELECT count(*) FROM events_tail WHERE action <> 'planted'"));
            Assert.True(OwnWrites.TriggersOn(conn));
        }

        // And a merge that fails hands its connection back with the guards on.
        var location = new PartitionLocation(File, archived: false, readOnly: false);
        using var pooled = SqliteAuditStore.Open(location.ConnectionString);
        Assert.True(OwnWrites.TriggersOn(pooled));
    }

    private (long Events, long Tail) Counts() => EventsAndTail(File);
}
