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

    /// <summary>
    /// Appends <paramref name="events"/> in chunks of 25 on another task while reading every event of
    /// <paramref name="org"/> over and over, until the appends are done. Each read holds no event twice,
    /// at least every event appended before it began and at most one batch more than were counted when
    /// it ended; <paramref name="afterEachRead"/> runs after each. <paramref name="stored"/> are already in the store.
    /// </summary>
    public static async Task ReadWhileAppending(IAuditStore store, string org, IReadOnlyList<AuditEvent> stored, IReadOnlyList<AuditEvent> events, CancellationToken ct, Action? afterEachRead = null)
    {
        const int chunk = 25;
        var all = stored.Concat(events).ToList();
        var appended = stored.Count;
        var writer = Task.Run(
            async () =>
            {
                foreach (var batch in events.Chunk(chunk))
                {
                    await store.AppendAsync(batch, ct);
                    Volatile.Write(ref appended, Volatile.Read(ref appended) + batch.Length);
                }
            },
            ct);

        var reads = 0;
        while (!writer.IsCompleted || reads == 0)
        {
            var before = Volatile.Read(ref appended);
            var seen = await All(store, org, ct);
            var after = Volatile.Read(ref appended);
            Assert.Equal(seen.Count, seen.Select(e => e.Id).Distinct(StringComparer.Ordinal).Count());
            // At most the one batch being appended (committed, not yet counted) more than was counted.
            Assert.InRange(seen.Count, before, after + chunk);

            // Every event appended before this read began is among the ones it returned.
            var seenIds = seen.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
            Assert.All(all.Take(before), e => Assert.Contains(e.Id, seenIds));
            afterEachRead?.Invoke();
            reads++;
        }

        await writer;
    }
}
