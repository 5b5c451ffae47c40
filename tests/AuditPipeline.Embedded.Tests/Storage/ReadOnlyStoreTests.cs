using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded.Storage;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing;

namespace AuditPipeline.Embedded.Tests.Storage;

/// <summary><see cref="EmbeddedStoreOptions.ReadOnly"/>: the store the verify verb reads beside a running worker.</summary>
public sealed class ReadOnlyStoreTests : IDisposable
{
    private static readonly DateTimeOffset Nov = new(2026, 11, 3, 0, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_read_only_store_beside_a_writing_one_sees_every_committed_event_and_new_months()
    {
        using var writer = Stores.Open(_dir.Path);
        var first = Enumerable.Range(0, 30).Select(i => Some.Event(orgId: "org_ro", time: Nov.AddHours(i))).ToList();
        await writer.AppendAsync(first, Ct);

        using var reader = OpenReadOnly(_dir.Path);
        var before = await AllAsync(reader, "org_ro");
        var later = new[] { Some.Event(orgId: "org_ro", time: Nov.AddHours(40)), Some.Event(orgId: "org_ro", time: Nov.AddMonths(-3)) };
        await writer.AppendAsync(later, Ct);
        var after = await AllAsync(reader, "org_ro");

        Assert.Equal(30, before.Count);
        Assert.Equal(32, after.Count);
        Assert.NotNull(await reader.GetAsync("org_ro", later[1].Id, Ct));
        Assert.Equal(10, (await reader.QueryAsync(new AuditQuery { OrgId = "org_ro" }, 10, Ct)).Items.Count);
        Assert.True(await reader.IsReadyAsync(Ct));

        // The writer goes on as before.
        Assert.Equal(AppendOutcome.Stored, (await writer.AppendAsync([Some.Event(orgId: "org_ro", time: Nov)], Ct))[0].Outcome);
    }

    [Fact]
    public async Task A_read_only_store_refuses_appends_and_applies_no_retention()
    {
        var old = Some.Event(orgId: "org_ro", time: new DateTimeOffset(2020, 1, 5, 0, 0, 0, TimeSpan.Zero));
        using (var writer = Stores.Open(_dir.Path))
        {
            await writer.AppendAsync([old], Ct);
        }

        using var reader = OpenReadOnly(_dir.Path);
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => reader.AppendAsync([Some.Event()], Ct));
        var report = await reader.ApplyRetentionAsync(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), Ct);

        Assert.Contains("read-only", ex.Message, StringComparison.Ordinal);
        Assert.Empty(report.Dropped);
        Assert.NotNull(await reader.GetAsync(old.OrgId, old.Id, Ct));
        Assert.True(File.Exists(Path.Combine(_dir.Path, "events-p2y-2020-01.db")));
    }

    [Fact]
    public async Task A_read_only_store_on_a_closed_directory_reads_it_and_creates_nothing()
    {
        var data = Path.Combine(_dir.Path, "data");
        var e = Some.Event(orgId: "org_ro", time: Nov);
        using (var writer = Stores.Open(data))
        {
            await writer.AppendAsync([e], Ct);
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(Path.Combine(data, SqliteAuditStore.CatalogFileName));
        File.Delete(Path.Combine(data, SqliteAuditStore.LockFileName));
        Directory.Delete(Path.Combine(data, "archive"));
        var filesBefore = Directory.GetFiles(data).Select(Path.GetFileName).Where(f => !f!.EndsWith("-wal", StringComparison.Ordinal) && !f.EndsWith("-shm", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

        using (var reader = OpenReadOnly(data))
        {
            Assert.Equal([e.Id], (await AllAsync(reader, "org_ro")).Select(x => x.Id));
        }

        var filesAfter = Directory.GetFiles(data).Select(Path.GetFileName).Where(f => !f!.EndsWith("-wal", StringComparison.Ordinal) && !f.EndsWith("-shm", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(filesBefore, filesAfter);
        Assert.False(File.Exists(Path.Combine(data, SqliteAuditStore.CatalogFileName)));
        Assert.False(Directory.Exists(Path.Combine(data, "archive")));
    }

    [Fact]
    public async Task A_read_only_store_on_a_missing_directory_is_empty_and_creates_nothing()
    {
        // verify must name every sealed event of a deleted store as missing, not refuse to look.
        var missing = Path.Combine(_dir.Path, "nowhere");
        var validator = new EmbeddedStoreOptionsValidator();

        Assert.True(validator.Validate(null, new EmbeddedStoreOptions { Path = missing, ReadOnly = true }).Succeeded);
        using (var store = OpenReadOnly(missing))
        {
            Assert.Empty(await AllAsync(store, "org_42"));
            Assert.Null(await store.GetAsync("org_42", "evt_1", Ct));
        }

        Assert.False(Directory.Exists(missing));
        Assert.True(validator.Validate(null, new EmbeddedStoreOptions { Path = _dir.Path, ReadOnly = true }).Succeeded);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "archive")));
    }

    private static SqliteAuditStore OpenReadOnly(string path) => Stores.OpenReadOnly(path);

    private static async Task<List<Core.Events.AuditEvent>> AllAsync(IAuditStore store, string orgId)
    {
        var all = new List<Core.Events.AuditEvent>();
        await foreach (var e in store.StreamAsync(new AuditQuery { OrgId = orgId }, Ct))
        {
            all.Add(e);
        }

        return all;
    }
}
