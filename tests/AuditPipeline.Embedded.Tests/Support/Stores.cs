using AuditPipeline.Core.Retention;
using AuditPipeline.Embedded.Storage;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Embedded.Tests.Support;

internal static class Stores
{
    public static SqliteAuditStore Open(string path, RetentionPlanRegistry? registry = null, RetentionOptions? retention = null)
    {
        retention ??= new RetentionOptions();
        return new SqliteAuditStore(
            Options.Create(new EmbeddedStoreOptions { Path = path }),
            registry ?? new RetentionPlanRegistry(Options.Create(retention)),
            Options.Create(retention));
    }
}
