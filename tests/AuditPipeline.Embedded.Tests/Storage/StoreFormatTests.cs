using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded.Storage;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing;

namespace AuditPipeline.Embedded.Tests.Storage;

/// <summary>
/// The store's format in the catalog: a store is upgraded in place and marked with this build's
/// format, and a build refuses a store of a later format (it would not see all of its events) before
/// it writes anything, writer and read-only reader alike.
/// </summary>
public sealed class StoreFormatTests : IDisposable
{
    private static readonly DateTimeOffset Nov = new(2026, 11, 3, 0, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Catalog => Path.Combine(_dir.Path, SqliteAuditStore.CatalogFileName);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_store_from_before_the_format_was_recorded_is_marked_with_this_builds_format()
    {
        var e = Some.Event(orgId: "org_f", time: Nov);
        using (var store = Stores.Open(_dir.Path))
        {
            await store.AppendAsync([e], Ct);
        }

        SetFormat(0);
        using (var store = Stores.Open(_dir.Path))
        {
            Assert.NotNull(await store.GetAsync("org_f", e.Id, Ct));
        }

        Assert.Equal(PartitionSchema.StoreFormat, Format());
    }

    [Fact]
    public async Task A_store_of_a_later_format_is_refused_by_writer_and_reader_and_left_as_it_was()
    {
        using (var store = Stores.Open(_dir.Path))
        {
            await store.AppendAsync([Some.Event(orgId: "org_f", time: Nov)], Ct);
        }

        SetFormat(PartitionSchema.StoreFormat + 1);
        var partition = Directory.GetFiles(_dir.Path, "events-*.db").Single();
        var written = File.GetLastWriteTimeUtc(partition);

        var writer = Assert.Throws<InvalidOperationException>(() => Stores.Open(_dir.Path));
        var reader = Assert.Throws<InvalidOperationException>(() => Stores.OpenReadOnly(_dir.Path));

        foreach (var ex in new[] { writer, reader })
        {
            Assert.Contains("Store:Embedded:Path", ex.Message, StringComparison.Ordinal);
            Assert.Contains($"format {PartitionSchema.StoreFormat + 1}", ex.Message, StringComparison.Ordinal);
            Assert.Contains("newer AuditPipeline", ex.Message, StringComparison.Ordinal);
        }

        Assert.Equal(PartitionSchema.StoreFormat + 1, Format());
        Assert.Equal(written, File.GetLastWriteTimeUtc(partition));

        // The lock is released with the refusal: the right build can open the store at once.
        SetFormat(PartitionSchema.StoreFormat);
        using var again = Stores.Open(_dir.Path);
        Assert.Equal(AppendOutcome.Stored, (await again.AppendAsync([Some.Event(orgId: "org_f", time: Nov)], Ct))[0].Outcome);
    }

    private void SetFormat(int format)
    {
        using var conn = RawSql.Open(Catalog);
        RawSql.Execute(conn, $"PRAGMA user_version = {format}");
    }

    private long Format()
    {
        using var conn = RawSql.Open(Catalog);
        return RawSql.Count(conn, "PRAGMA user_version");
    }
}
