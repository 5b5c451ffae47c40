using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing;
using AuditPipeline.Testing.StoreContract;

namespace AuditPipeline.Embedded.Tests.Storage;

/// <summary>
/// Events at the same millisecond whose ids order differently by UTF-16 code units and by UTF-8 bytes
/// (a character above U+FFFF against one in U+E000–U+FFFF), split between a partition's merged rows
/// and its tail: the merge of the two sorted streams must compare as SQLite's index does, or a page
/// boundary between them skips an event.
/// </summary>
public sealed class IdOrderPagingTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Paging_over_merged_rows_and_the_tail_returns_every_event_once_in_id_order()
    {
        var t = Some.BaseTime;
        string[] merged = ["evt_\uE000", "evt_\U00010000", "evt_m", "evt_\uFFFD"];
        string[] tail = ["evt_\U0001F600", "evt_\uF8FF", "evt_z", "evt_\U0010FFFF"];
        using var store = Stores.Open(_dir.Path);
        await store.AppendAsync([.. merged.Select(id => Some.Event(id: id, time: t))], Ct);
        store.MergeAllTails();
        await store.AppendAsync([.. tail.Select(id => Some.Event(id: id, time: t))], Ct);
        var expected = merged.Concat(tail).OrderByDescending(i => i, IdOrder.Instance).ToList();

        foreach (var limit in new[] { 1, 2, 3 })
        {
            Assert.Equal(expected, await StorePaging.PageAllAsync(store, new AuditQuery { OrgId = "org_42" }, limit, Ct));
        }

        var streamed = new List<string>();
        await foreach (var e in store.StreamAsync(new AuditQuery { OrgId = "org_42" }, Ct))
        {
            streamed.Add(e.Id);
        }

        Assert.Equal(expected, streamed);
    }
}
