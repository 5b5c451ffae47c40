using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing.StoreContract;

namespace AuditPipeline.Embedded.Tests.Storage;

/// <summary>The embedded store passes the shared store contract.</summary>
public sealed class SqliteAuditStoreContractTests : AuditStoreContractTests
{
    private readonly Dictionary<IAuditStore, TempDirectory> _directories = new(ReferenceEqualityComparer.Instance);

    protected override Task<IAuditStore> CreateStoreAsync(RetentionPlanRegistry registry, RetentionOptions retention)
    {
        var dir = new TempDirectory();
        IAuditStore store = Stores.Open(dir.Path, registry, retention);
        _directories[store] = dir;
        return Task.FromResult(store);
    }

    protected override async ValueTask DisposeStoreAsync(IAuditStore store)
    {
        await base.DisposeStoreAsync(store);
        if (_directories.Remove(store, out var dir))
        {
            dir.Dispose();
        }
    }
}
