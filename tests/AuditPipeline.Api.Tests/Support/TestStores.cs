using AuditPipeline.Core.Storage;
using AuditPipeline.Testing;

namespace AuditPipeline.Api.Tests.Support;

/// <summary>
/// The one place the suite creates a store. It is the in-memory reference store today; to run the whole
/// suite on another store (the embedded SQLite one), change only this method.
/// </summary>
public static class TestStores
{
    public static IAuditStore Create(string directory)
    {
        _ = directory; // a file-backed store keeps its files here
        return new InMemoryAuditStore();
    }

    /// <summary>A store in a fresh directory of its own.</summary>
    public static IAuditStore CreateTemp()
    {
        var directory = Path.Combine(Path.GetTempPath(), "auditpipeline-api-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return Create(directory);
    }
}
