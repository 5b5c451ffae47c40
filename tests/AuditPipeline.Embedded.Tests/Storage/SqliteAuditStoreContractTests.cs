using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing.StoreContract;

namespace AuditPipeline.Embedded.Tests.Storage;

/// <summary>The embedded store passes the shared store contract.</summary>
public sealed class SqliteAuditStoreContractTests : AuditStoreContractTests
{
    private readonly List<TempDirectory> _directories = [];

    protected override Task<IAuditStore> CreateStoreAsync(RetentionPlanRegistry registry, RetentionOptions retention)
    {
        var dir = new TempDirectory();
        _directories.Add(dir);
        return Task.FromResult<IAuditStore>(Stores.Open(dir.Path, registry, retention));
    }

    protected override async ValueTask DisposeStoreAsync(IAuditStore store)
    {
        await base.DisposeStoreAsync(store);
        foreach (var d in _directories)
        {
            d.Dispose();
        }

        _directories.Clear();
    }
}
