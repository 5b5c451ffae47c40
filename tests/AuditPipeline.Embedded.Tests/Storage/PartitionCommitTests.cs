using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded.Storage;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing;
using Microsoft.Data.Sqlite;

using static AuditPipeline.Embedded.Tests.Support.RawSql;

namespace AuditPipeline.Embedded.Tests.Storage;

/// <summary>
/// A batch spread over several partition files commits them side by side (their fsyncs overlap), and
/// a partition that fails does not take the others' committed rows out of the id index.
/// </summary>
public sealed class PartitionCommitTests : IDisposable
{
    private static readonly DateTimeOffset Sep = new(2026, 9, 10, 0, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_partitions_of_one_batch_are_written_side_by_side()
    {
        using var store = Stores.Open(_dir.Path);
        var events = Enumerable.Range(0, 30).Select(i => Some.Event(orgId: "org_lanes", time: Sep.AddMonths(i % 3).AddMinutes(i))).ToList();
        using var both = new CountdownEvent(2);
        var entered = 0;
        var metWhileOpen = new List<bool>();

        // The first two partition connections each wait for the other: written one after another, the
        // first would wait for a partition that is only opened once it has committed.
        store.Writer!.ConnectionOpened = _ =>
        {
            if (Interlocked.Increment(ref entered) <= 2)
            {
                both.Signal();
                var met = both.Wait(TimeSpan.FromSeconds(20), Ct);
                lock (metWhileOpen)
                {
                    metWhileOpen.Add(met);
                }
            }
        };

        var results = await store.AppendAsync(events, Ct);

        Assert.Equal([true, true], metWhileOpen);
        Assert.All(results, r => Assert.Equal(AppendOutcome.Stored, r.Outcome));
        Assert.Equal(30, (await store.QueryAsync(new AuditQuery { OrgId = "org_lanes" }, 100, Ct)).Items.Count);
    }

    [Fact]
    public async Task When_one_partition_of_a_batch_fails_the_others_are_stored_and_the_retry_stores_every_event_once()
    {
        using var store = Stores.Open(_dir.Path);
        await store.AppendAsync([Some.Event(orgId: "org_part", time: Sep.AddMonths(1))], Ct);
        var batch = Enumerable.Range(0, 90).Select(i => Some.Event(orgId: "org_part", time: Sep.AddMonths(i % 3).AddMinutes(i)) with
        {
            Details = System.Text.Json.JsonDocument.Parse($"{{\"pad\":\"{new string('x', 2000)}\"}}").RootElement,
        }).ToList();
        var october = Path.Combine(_dir.Path, "events-p2y-2026-10.db");

        // October's file may not grow (SQLite answers SQLITE_FULL, as on a full disk); September and
        // November commit beside it.
        store.Writer!.ConnectionOpened = conn =>
        {
            if (string.Equals(conn.DataSource, october, StringComparison.Ordinal))
            {
                Execute(conn, "PRAGMA max_page_count = " + Convert.ToString(Scalar(conn, "PRAGMA page_count"), System.Globalization.CultureInfo.InvariantCulture));
            }
        };
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.AppendAsync(batch, Ct));
        store.Writer.ConnectionOpened = null;
        SqliteConnection.ClearAllPools();

        var stored = (await store.QueryAsync(new AuditQuery { OrgId = "org_part" }, 500, Ct)).Items;
        Assert.Equal(61, stored.Count);
        Assert.Single(stored, e => e.Time.Month == 10);

        var retried = await store.AppendAsync(batch, Ct);

        for (var i = 0; i < batch.Count; i++)
        {
            Assert.Equal(batch[i].Time.Month == 10 ? AppendOutcome.Stored : AppendOutcome.Duplicate, retried[i].Outcome);
        }

        var all = (await store.QueryAsync(new AuditQuery { OrgId = "org_part" }, 500, Ct)).Items;
        Assert.Equal(91, all.Count);
        Assert.Equal(91, all.Select(e => e.Id).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Lanes_run_every_job_exactly_once_and_all_have_finished_when_Run_returns()
    {
        using var lanes = new CommitLanes(3);
        for (var round = 0; round < 200; round++)
        {
            var count = round % 7;
            var runs = new int[count];
            var finished = 0;
            lanes.Run(count, i =>
            {
                Interlocked.Increment(ref runs[i]);
                Interlocked.Increment(ref finished);
            });

            Assert.Equal(count, Volatile.Read(ref finished));
            Assert.All(runs, r => Assert.Equal(1, r));
        }
    }
}
