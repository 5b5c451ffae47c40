using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded.Storage;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing;
using AuditPipeline.Testing.StoreContract;

namespace AuditPipeline.Embedded.Tests.Storage;

/// <summary>
/// The embedded store passes the shared store contract with its events still in the partitions' tails
/// (the default: a test's few events never fill a tail), ...
/// </summary>
public sealed class SqliteAuditStoreContractTests : EmbeddedContractTests;

/// <summary>... with every batch merged into the indexes at once (every read goes through them) ...</summary>
public sealed class SqliteAuditStoreMergedContractTests : EmbeddedContractTests
{
    protected override int? MergeRows => 1;
}

/// <summary>... with tails merged every few rows, so a partition holds rows in both tables ...</summary>
public sealed class SqliteAuditStorePartlyMergedContractTests : EmbeddedContractTests
{
    protected override int? MergeRows => 7;
}

/// <summary>
/// ... and with every tail merged into <c>events_mid</c>, which moves into <c>events</c> every few
/// merges (as a backlog replayed into a large month does), so a partition holds rows in all three tables.
/// </summary>
public sealed class SqliteAuditStoreMidLevelContractTests : EmbeddedContractTests
{
    protected override int? MergeRows => 7;

    private protected override void Configure(SqliteAuditStore store)
    {
        store.Levels!.MidFromRows = 0;
        store.Levels.SpreadMs = -1;
    }
}

/// <summary>The shared contract on the embedded store, with a choice of when tails are merged.</summary>
public abstract class EmbeddedContractTests : AuditStoreContractTests
{
    protected virtual int? MergeRows => null;

    /// <summary>Called on every store opened, before it is used.</summary>
    private protected virtual void Configure(SqliteAuditStore store)
    {
    }

    private readonly Dictionary<IAuditStore, (TempDirectory Dir, RetentionPlanRegistry Registry, RetentionOptions Retention)> _directories = new(ReferenceEqualityComparer.Instance);

    protected override Task<IAuditStore> CreateStoreAsync(RetentionPlanRegistry registry, RetentionOptions retention)
    {
        var dir = new TempDirectory();
        var opened = Stores.Open(dir.Path, registry, retention, MergeRows);
        Configure(opened);
        IAuditStore store = opened;
        _directories[store] = (dir, registry, retention);
        return Task.FromResult(store);
    }

    /// <summary>A new process on the same directory: the old store is closed first (one process per directory).</summary>
    protected override Task<IAuditStore?> ReopenStoreAsync(IAuditStore store)
    {
        var (dir, registry, retention) = _directories[store];
        _directories.Remove(store);
        ((IDisposable)store).Dispose();
        var opened = Stores.Open(dir.Path, registry, retention, MergeRows);
        Configure(opened);
        IAuditStore reopened = opened;
        _directories[reopened] = (dir, registry, retention);
        return Task.FromResult<IAuditStore?>(reopened);
    }

    protected override async ValueTask DisposeStoreAsync(IAuditStore store)
    {
        await base.DisposeStoreAsync(store);
        if (_directories.Remove(store, out var entry))
        {
            entry.Dir.Dispose();
        }
    }
}
