using AuditPipeline.Core.Events;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded.Storage;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Embedded.Tests.Support;

internal static class Stores
{
    /// <param name="mergeRows">
    /// When a partition's tail is merged into its indexes: the default keeps a test's few events in the
    /// tail; 1 merges after every batch (every read then goes through the indexes).
    /// </param>
    /// <param name="maxScanRows">The rows a query may examine (<c>Store:Embedded:MaxScanRows</c>); the default when null.</param>
    public static SqliteAuditStore Open(string path, RetentionPlanRegistry? registry = null, RetentionOptions? retention = null, int? mergeRows = null, long? maxScanRows = null)
    {
        retention ??= new RetentionOptions();
        var options = new EmbeddedStoreOptions { Path = path };
        if (mergeRows is { } rows)
        {
            options.MergeRows = rows;
        }

        if (maxScanRows is { } scan)
        {
            options.MaxScanRows = scan;
        }

        return new SqliteAuditStore(
            Options.Create(options),
            registry ?? new RetentionPlanRegistry(Options.Create(retention)),
            Options.Create(retention));
    }

    /// <summary>A read-only store on <paramref name="path"/>, as another process (verify, the api beside a writer) opens it.</summary>
    public static SqliteAuditStore OpenReadOnly(string path)
    {
        var retention = new RetentionOptions();
        return new SqliteAuditStore(
            Options.Create(new EmbeddedStoreOptions { Path = path, ReadOnly = true }),
            new RetentionPlanRegistry(Options.Create(retention)),
            Options.Create(retention));
    }

    /// <summary>Every event of <paramref name="org"/>, newest first, as the stream gives them.</summary>
    public static async Task<List<AuditEvent>> All(IAuditStore store, string org, CancellationToken ct)
    {
        var all = new List<AuditEvent>();
        await foreach (var e in store.StreamAsync(new AuditQuery { OrgId = org }, ct))
        {
            all.Add(e);
        }

        return all;
    }
}
