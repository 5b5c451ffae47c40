using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;
using AuditPipeline.Embedded.Storage;
using AuditPipeline.Embedded.Tests.Support;
using AuditPipeline.Testing;
using AuditPipeline.Testing.StoreContract;

namespace AuditPipeline.Embedded.Tests.Storage;

/// <summary>
/// Free text reads the newest rows in order first and asks the text index only when that does not
/// fill the page (<see cref="MonthScan.WalkAllowance"/>: longer for a short prefix). Each test runs
/// with a term of each kind. The work budget makes the plan
/// observable: rows the index is asked for count against it, as do rows walked.
/// </summary>
public sealed class TextWalkFirstTests : IDisposable
{
    private static readonly DateTimeOffset Nov = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Oct = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("zanzi")]
    [InlineData("za")]
    public async Task A_term_common_enough_to_fill_the_page_by_walking_is_not_looked_up_in_the_text_index(string term)
    {
        // Every second event matches: more candidates than the index plan takes, so before this change
        // the probe counted its limit against the budget and the page stopped short at the budget.
        var events = Enumerable.Range(0, (ScanPlan.TextCandidateLimit * 2) + 400)
            .Select(i => Named(Nov.AddSeconds(i), i % 2 == 0 ? "Zanzibar Holdings" : "Plain Trading"))
            .ToList();
        using var store = Open(maxScanRows: ScanPlan.TextCandidateLimit + 50);
        await AppendAsync(store, events);
        store.MergeAllTails();

        var page = await store.QueryAsync(new AuditQuery { OrgId = "org_42", Terms = [term] }, 50, Ct);

        var expected = Newest(events.Where(e => e.Entity.Name == "Zanzibar Holdings")).Take(50).Select(e => e.Id);
        Assert.Equal(expected, page.Items.Select(e => e.Id));
        Assert.NotNull(page.Next);
    }

    [Theory]
    [InlineData("zanzi")]
    [InlineData("za")]
    public async Task A_rare_term_is_walked_for_the_allowance_and_then_read_from_the_text_index_from_the_row_reached(string term)
    {
        var allowance = (int)MonthScan.WalkAllowance([term]);
        // The newest month holds more rows than the walk's allowance, with matches on both sides of
        // it; the month before holds two more. Walking them all would exceed the budget, so a page with
        // every match and no cursor shows the index took over, from the right row, losing none.
        var nov = Enumerable.Range(0, allowance + 1000).Select(i => Named(Nov.AddSeconds(i), "Plain Trading")).ToList();
        var oct = Enumerable.Range(0, 1000).Select(i => Named(Oct.AddSeconds(i), "Plain Trading")).ToList();
        var newestFirst = nov.Count - 1;
        foreach (var fromNewest in new[] { 10, allowance - 100, allowance, allowance + 1, allowance + 500 })
        {
            nov[newestFirst - fromNewest] = Named(nov[newestFirst - fromNewest].Time, "Zanzibar Holdings");
        }

        oct[5] = Named(oct[5].Time, "Zanzibar Holdings");
        oct[900] = Named(oct[900].Time, "Zanzibar Holdings");
        using var store = Open(maxScanRows: allowance + 500);
        await AppendAsync(store, [.. oct, .. nov]);
        store.MergeAllTails();
        var expected = Newest(nov.Concat(oct).Where(e => e.Entity.Name == "Zanzibar Holdings")).Select(e => e.Id).ToList();

        var page = await store.QueryAsync(new AuditQuery { OrgId = "org_42", Terms = [term] }, 50, Ct);

        Assert.Equal(7, expected.Count);
        Assert.Equal(expected, page.Items.Select(e => e.Id));
        Assert.Null(page.Next);

        // Page by page, each page walking again from its cursor: the same events, once each, in order.
        Assert.Equal(expected, await StorePaging.PageAllAsync(store, new AuditQuery { OrgId = "org_42", Terms = [term] }, 2, Ct));
    }

    [Theory]
    [InlineData("zanzi")]
    [InlineData("za")]
    public async Task Rows_not_merged_yet_are_found_on_both_sides_of_the_switch(string term)
    {
        // Nothing merged: the tail is read in the walk and again, from the row reached, after it.
        var allowance = (int)MonthScan.WalkAllowance([term]);
        var events = Enumerable.Range(0, allowance + 300).Select(i => Named(Nov.AddSeconds(i), "Plain Trading")).ToList();
        var last = events.Count - 1;
        events[last - 3] = Named(events[last - 3].Time, "Zanzibar Holdings");
        events[last - allowance - 50] = Named(events[last - allowance - 50].Time, "Zanzibar Holdings");
        using var store = Open(maxScanRows: 50_000);
        await AppendAsync(store, events);

        var page = await store.QueryAsync(new AuditQuery { OrgId = "org_42", Terms = [term] }, 50, Ct);

        Assert.Equal(Newest(events.Where(e => e.Entity.Name == "Zanzibar Holdings")).Select(e => e.Id), page.Items.Select(e => e.Id));
    }

    [Theory]
    [InlineData("a", MonthScan.TextWalkFirstRows)]
    [InlineData("ana", MonthScan.TextWalkFirstRows)]
    [InlineData("ana chen", MonthScan.TextWalkFirstRows)]
    [InlineData("ana@acme deal", MonthScan.TextWalkFirstRowsLongWords)]
    [InlineData("ana@acme", MonthScan.TextWalkFirstRowsLongWords)]
    [InlineData("chen", MonthScan.TextWalkFirstRowsLongWords)]
    public void A_short_prefix_is_walked_longer_than_longer_words(string q, int allowance) =>
        Assert.Equal(allowance, MonthScan.WalkAllowance(TextMatch.Terms(q)));

    private static AuditEvent Named(DateTimeOffset time, string entityName) =>
        Some.Event(time: time) with { Entity = new AuditEntity("deal", "deal_1", entityName), Actor = new AuditActor(ActorTypes.User, "usr_7", "Bo Li", "bo@example.test") };

    private static IEnumerable<AuditEvent> Newest(IEnumerable<AuditEvent> events) =>
        events.OrderByDescending(e => e.Time).ThenByDescending(e => e.Id, IdOrder.Instance);

    private static async Task AppendAsync(SqliteAuditStore store, IEnumerable<AuditEvent> events)
    {
        foreach (var chunk in events.Chunk(1000))
        {
            await store.AppendAsync(chunk, Ct);
        }
    }

    private SqliteAuditStore Open(long maxScanRows) => Stores.Open(_dir.Path, maxScanRows: maxScanRows);
}
