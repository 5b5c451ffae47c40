using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
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

/// <summary>... and with tails merged every few rows, so a partition holds rows in both tables.</summary>
public sealed class SqliteAuditStorePartlyMergedContractTests : EmbeddedContractTests
{
    protected override int? MergeRows => 7;
}

/// <summary>The shared contract on the embedded store, with a choice of when tails are merged.</summary>
public abstract class EmbeddedContractTests : AuditStoreContractTests
{
    protected virtual int? MergeRows => null;

    private readonly Dictionary<IAuditStore, (TempDirectory Dir, RetentionPlanRegistry Registry, RetentionOptions Retention)> _directories = new(ReferenceEqualityComparer.Instance);

    protected override Task<IAuditStore> CreateStoreAsync(RetentionPlanRegistry registry, RetentionOptions retention)
    {
        var dir = new TempDirectory();
        IAuditStore store = Stores.Open(dir.Path, registry, retention, MergeRows);
        _directories[store] = (dir, registry, retention);
        return Task.FromResult(store);
    }

    /// <summary>A new process on the same directory: the old store is closed first (one process per directory).</summary>
    protected override Task<IAuditStore?> ReopenStoreAsync(IAuditStore store)
    {
        var (dir, registry, retention) = _directories[store];
        _directories.Remove(store);
        ((IDisposable)store).Dispose();
        IAuditStore reopened = Stores.Open(dir.Path, registry, retention, MergeRows);
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
