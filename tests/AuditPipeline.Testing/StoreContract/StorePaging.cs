using AuditPipeline.Core.Storage;
using Xunit;

namespace AuditPipeline.Testing.StoreContract;

public static class StorePaging
{
    /// <summary>
    /// The ids of every page of <paramref name="query"/>, following each page's cursor to the end;
    /// asserts that every page with a cursor is full.
    /// </summary>
    public static async Task<List<string>> PageAllAsync(IAuditStore store, AuditQuery query, int limit, CancellationToken ct)
    {
        var ids = new List<string>();
        var q = query;
        for (var pages = 0; pages < 100_000; pages++)
        {
            var page = await store.QueryAsync(q, limit, ct);
            ids.AddRange(page.Items.Select(e => e.Id));
            if (page.Next is not { } next)
            {
                return ids;
            }

            Assert.Equal(limit, page.Items.Count);
            q = q with { After = next };
        }

        throw new InvalidOperationException("Paging did not end.");
    }
}
