using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded;
using AuditPipeline.Embedded.Storage;
using AuditPipeline.Testing;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Api.Tests.Support;

/// <summary>
/// The one place the suite creates a store: the embedded SQLite store, the one the facade serves from
/// by default. Set <c>AUDIT_API_TESTS_STORE=memory</c> to run the suite on the in-memory reference store
/// instead (both must pass).
/// </summary>
public static class TestStores
{
    public static IAuditStore Create(string directory)
    {
        if (Environment.GetEnvironmentVariable("AUDIT_API_TESTS_STORE") == "memory")
        {
            return new InMemoryAuditStore();
        }

        var retention = Options.Create(new RetentionOptions());
        return new SqliteAuditStore(
            Options.Create(new EmbeddedStoreOptions { Path = Path.Combine(directory, "store") }),
            new RetentionPlanRegistry(retention),
            retention);
    }

    /// <summary>A store in a fresh directory of its own.</summary>
    public static IAuditStore CreateTemp()
    {
        var directory = Path.Combine(Path.GetTempPath(), "auditpipeline-api-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return Create(directory);
    }
}
