using AuditPipeline.Core.Events;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using Microsoft.Extensions.Options;
using Xunit;

namespace AuditPipeline.Testing.StoreContract;

/// <summary>
/// What every <see cref="IAuditStore"/> must do, checked against <see cref="AuditQuery.Matches"/> (the
/// reference semantics) over a realistic data set. A store's test class inherits this and says how to
/// create a fresh, empty store. A store that leaves retention to something else names it in
/// <see cref="RetentionLeftTo"/>: the two retention cases are then skipped with that reason, and the
/// store's test class checks under names of its own what it does instead.
/// </summary>
public abstract class AuditStoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset RetentionNow = new(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);

    private readonly List<IAuditStore> _created = [];

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Why this store's <c>ApplyRetentionAsync</c> does not drop or archive (the retention cases are skipped with it); null when it does.</summary>
    protected virtual string? RetentionLeftTo => null;

    /// <summary>A fresh, empty store routing events with <paramref name="registry"/> and archiving per <paramref name="retention"/>.</summary>
    protected abstract Task<IAuditStore> CreateStoreAsync(RetentionPlanRegistry registry, RetentionOptions retention);

    /// <summary>Releases a store created by <see cref="CreateStoreAsync"/>.</summary>
    protected virtual async ValueTask DisposeStoreAsync(IAuditStore store)
    {
        switch (store)
        {
            case IAsyncDisposable d:
                await d.DisposeAsync();
                break;
            case IDisposable d:
                d.Dispose();
                break;
        }
    }

    /// <summary>
    /// The same store as a restarted process would open it (same data, same routing), or null when the
    /// store cannot say; the restart test is then skipped with that reason. The old instance may be
    /// disposed by the override.
    /// </summary>
    protected virtual Task<IAuditStore?> ReopenStoreAsync(IAuditStore store) => Task.FromResult<IAuditStore?>(null);

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _created)
        {
            await DisposeStoreAsync(store);
        }

        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Appending_the_same_event_twice_across_batches_stores_it_once()
    {
        var store = await NewStoreAsync();
        var e = Some.Event();

        var first = await store.AppendAsync([e], Ct);
        var second = await store.AppendAsync([e], Ct);

        Assert.Equal(AppendOutcome.Stored, first[0].Outcome);
        Assert.Equal(AppendOutcome.Duplicate, second[0].Outcome);
        Assert.Single(await AllAsync(store, e.OrgId));
    }

    [Fact]
    public async Task Appending_the_same_event_twice_within_one_batch_stores_it_once()
    {
        var store = await NewStoreAsync();
        var e = Some.Event();
        var other = Some.Event();

        var results = await store.AppendAsync([e, other, e], Ct);

        Assert.Equal([AppendOutcome.Stored, AppendOutcome.Stored, AppendOutcome.Duplicate], results.Select(r => r.Outcome));
        Assert.Equal(2, (await AllAsync(store, e.OrgId)).Count);
    }

    [Fact]
    public async Task A_redelivered_batch_reports_each_event_as_a_duplicate_in_input_order()
    {
        var store = await NewStoreAsync();
        var events = ContractData.Generate(300, seed: 3);
        await store.AppendAsync(events[..100], Ct);

        var results = await store.AppendAsync(events, Ct);

        Assert.Equal(events.Count, results.Count);
        Assert.All(results.Take(100), r => Assert.Equal(AppendOutcome.Duplicate, r.Outcome));
        Assert.All(results.Skip(100), r => Assert.Equal(AppendOutcome.Stored, r.Outcome));
        foreach (var org in ContractData.Orgs)
        {
            Assert.Equal(events.Count(e => e.OrgId == org), (await AllAsync(store, org)).Count);
        }
    }

    [Fact]
    public async Task A_resend_with_a_time_in_another_month_is_a_duplicate_and_the_first_copy_stays()
    {
        var store = await NewStoreAsync();
        var first = Some.Event(orgId: "org_resend", time: new DateTimeOffset(2026, 10, 31, 23, 59, 0, TimeSpan.Zero));
        var later = first with { Time = new DateTimeOffset(2026, 11, 1, 0, 1, 0, TimeSpan.Zero), Action = "deleted" };
        var earlier = first with { Time = new DateTimeOffset(2026, 8, 3, 9, 0, 0, TimeSpan.Zero), Action = "viewed" };

        var stored = await store.AppendAsync([first], Ct);
        var again = await store.AppendAsync([later], Ct);
        var older = await store.AppendAsync([earlier], Ct);

        Assert.Equal(AppendOutcome.Stored, stored[0].Outcome);
        Assert.Equal(AppendOutcome.Duplicate, again[0].Outcome);
        Assert.Equal(AppendOutcome.Duplicate, older[0].Outcome);
        await AssertOnlyCopyAsync(store, first);
    }

    [Fact]
    public async Task A_resend_that_a_plan_change_routes_to_another_retention_class_is_a_duplicate()
    {
        var retention = new RetentionOptions();
        var registry = new RetentionPlanRegistry(Options.Create(retention));
        var store = await NewStoreAsync(registry, retention);
        var first = Some.Event(orgId: "org_plan", time: new DateTimeOffset(2026, 9, 10, 8, 0, 0, TimeSpan.Zero));
        await store.AppendAsync([first], Ct);

        // The plan history now says enterprise throughout: the same event (and a later copy of it in
        // another month) would go to another retention class.
        registry.Record("org_plan", RetentionClass.Enterprise(5), DateTimeOffset.MinValue);
        var sameTime = await store.AppendAsync([first], Ct);
        var otherMonth = await store.AppendAsync([first with { Time = first.Time.AddDays(45) }], Ct);

        Assert.Equal(AppendOutcome.Duplicate, sameTime[0].Outcome);
        Assert.Equal(AppendOutcome.Duplicate, otherMonth[0].Outcome);
        await AssertOnlyCopyAsync(store, first);
    }

    [Fact]
    public async Task The_same_id_twice_in_one_batch_with_different_times_is_stored_once_and_again_is_all_duplicates()
    {
        var store = await NewStoreAsync();
        var first = Some.Event(orgId: "org_twice", time: new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero));
        var copy = first with { Time = new DateTimeOffset(2026, 6, 2, 8, 0, 0, TimeSpan.Zero) };
        var other = Some.Event(orgId: "org_twice");

        var results = await store.AppendAsync([first, other, copy], Ct);
        var again = await store.AppendAsync([copy, first, other], Ct);

        Assert.Equal([AppendOutcome.Stored, AppendOutcome.Stored, AppendOutcome.Duplicate], results.Select(r => r.Outcome));
        Assert.All(again, r => Assert.Equal(AppendOutcome.Duplicate, r.Outcome));
        await AssertOnlyCopyAsync(store, first);
        Assert.Equal(2, (await AllAsync(store, "org_twice")).Count);
    }

    [Fact]
    public async Task The_same_id_in_two_organisations_is_two_events_whatever_their_times()
    {
        var store = await NewStoreAsync();
        var a = Some.Event(orgId: "org_a", time: new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero));
        var b = a with { OrgId = "org_b", Time = new DateTimeOffset(2026, 7, 20, 8, 0, 0, TimeSpan.Zero) };

        var results = await store.AppendAsync([a, b], Ct);

        Assert.All(results, r => Assert.Equal(AppendOutcome.Stored, r.Outcome));
        await AssertOnlyCopyAsync(store, a);
        await AssertOnlyCopyAsync(store, b);
    }

    [Fact]
    public async Task A_resend_with_another_time_after_a_restart_is_a_duplicate()
    {
        var store = await NewStoreAsync();
        var events = Enumerable.Range(0, 50)
            .Select(i => Some.Event(orgId: "org_restart", time: new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero).AddHours(i * 7)))
            .ToList();
        await store.AppendAsync(events, Ct);

        var reopened = await ReopenStoreAsync(store);
        if (reopened is null)
        {
            Assert.Skip("this store's test class does not say how to reopen it (ReopenStoreAsync)");
        }

        _created.Add(reopened);
        var resent = await reopened.AppendAsync([.. events.Select((e, i) => e with { Time = e.Time.AddMonths(-1 - (i % 3)) })], Ct);

        Assert.All(resent, r => Assert.Equal(AppendOutcome.Duplicate, r.Outcome));
        Assert.Equal(Ids(ContractData.Expected(events, new AuditQuery { OrgId = "org_restart" })), Ids(await AllAsync(reopened, "org_restart")));
    }

    [Fact]
    public async Task Getting_an_event_returns_it_in_full()
    {
        var store = await NewStoreAsync();
        var events = new[] { Some.Event(), Some.AiEvent(), Some.FailedLogin() };
        await store.AppendAsync(events, Ct);

        foreach (var e in events)
        {
            var found = await store.GetAsync(e.OrgId, e.Id, Ct);
            Assert.NotNull(found);
            Assert.Equal(AuditJson.Serialize(e), AuditJson.Serialize(found));
        }
    }

    [Fact]
    public async Task Getting_an_event_of_another_organisation_or_an_unknown_id_returns_null()
    {
        var store = await NewStoreAsync();
        var e = Some.Event(orgId: "org_42");
        await store.AppendAsync([e], Ct);

        Assert.Null(await store.GetAsync("org_7", e.Id, Ct));
        Assert.Null(await store.GetAsync("org_42", e.Id + "x", Ct));
        Assert.Empty((await store.QueryAsync(new AuditQuery { OrgId = "org_7" }, 50, Ct)).Items);
    }

    [Fact]
    public async Task Every_filter_alone_and_combined_returns_exactly_the_reference_matches_newest_first()
    {
        var (store, all) = await DataSetStoreAsync();
        foreach (var org in ContractData.Orgs)
        {
            foreach (var (name, query) in ContractData.Queries(org))
            {
                var expected = Ids(ContractData.Expected(all, query));
                var streamed = new List<string>();
                await foreach (var e in store.StreamAsync(query, Ct))
                {
                    streamed.Add(e.Id);
                }

                Assert.True(expected.SequenceEqual(streamed), $"{org} / {name}: expected {expected.Count} events, the store streamed {streamed.Count} (or another order)");
                var page = await store.QueryAsync(query, 25, Ct);
                Assert.True(expected.Take(25).SequenceEqual(Ids(page.Items)), $"{org} / {name}: the first page differs");
                Assert.True((expected.Count > 25) == page.Next.HasValue, $"{org} / {name}: a next cursor must be given exactly when more matches exist");
            }
        }
    }

    [Fact]
    public async Task Events_come_back_exactly_as_they_were_stored()
    {
        var (store, all) = await DataSetStoreAsync();
        var org = ContractData.Orgs[0];

        var expected = ContractData.Expected(all, new AuditQuery { OrgId = org }).Select(AuditJson.Serialize).ToList();
        var actual = new List<string>();
        await foreach (var e in store.StreamAsync(new AuditQuery { OrgId = org }, Ct))
        {
            actual.Add(AuditJson.Serialize(e));
        }

        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task Events_at_the_same_time_are_ordered_by_id_descending_by_ordinal_comparison()
    {
        var store = await NewStoreAsync();
        var t = Some.BaseTime;
        string[] ids = ["evt_B", "evt_a", "evt_A", "evt_b", "evt_10", "evt_9", "evt_"];
        await store.AppendAsync([.. ids.Select(id => Some.Event(id: id, orgId: "org_tie", time: t))], Ct);

        var page = await store.QueryAsync(new AuditQuery { OrgId = "org_tie" }, 100, Ct);

        Assert.Equal(ids.OrderByDescending(i => i, StringComparer.Ordinal), Ids(page.Items));
    }

    [Fact]
    public async Task Ids_beyond_the_basic_multilingual_plane_page_in_one_order_with_none_lost()
    {
        // By UTF-16 code units a character above U+FFFF sorts before U+E000–U+FFFF, by code points
        // (UTF-8 bytes, what SQLite and Elasticsearch compare) after: a store must use one order for its
        // index, its cursor and its merges, the order of IdOrder.
        var store = await NewStoreAsync();
        var t = Some.BaseTime;
        string[] ids = ["evt_\uE000", "evt_\U0001F600", "evt_\uFFFD", "evt_\U00010000", "evt_z", "evt_\uF8FF", "evt_\U0010FFFF"];
        await store.AppendAsync([.. ids.Take(3).Select(id => Some.Event(id: id, orgId: "org_bmp", time: t))], Ct);
        await store.AppendAsync([.. ids.Skip(3).Select(id => Some.Event(id: id, orgId: "org_bmp", time: t))], Ct);

        var paged = await PageAllAsync(store, new AuditQuery { OrgId = "org_bmp" }, 1);

        Assert.Equal(ids.OrderByDescending(i => i, IdOrder.Instance), paged);
    }

    [Fact]
    public async Task From_is_inclusive_and_to_is_exclusive()
    {
        var store = await NewStoreAsync();
        var t = Some.BaseTime;
        var before = Some.Event(orgId: "org_b", time: t.AddMilliseconds(-1));
        var at = Some.Event(orgId: "org_b", time: t);
        var end = Some.Event(orgId: "org_b", time: t.AddMinutes(1));
        await store.AppendAsync([before, at, end], Ct);

        var page = await store.QueryAsync(new AuditQuery { OrgId = "org_b", From = t, To = t.AddMinutes(1) }, 10, Ct);

        Assert.Equal([at.Id], Ids(page.Items));
    }

    [Fact]
    public async Task A_page_of_exactly_the_remaining_matches_has_no_next_cursor()
    {
        var store = await NewStoreAsync();
        var events = Enumerable.Range(0, 10).Select(i => Some.Event(orgId: "org_p", time: Some.BaseTime.AddMinutes(i))).ToList();
        await store.AppendAsync(events, Ct);

        var exact = await store.QueryAsync(new AuditQuery { OrgId = "org_p" }, 10, Ct);
        var short1 = await store.QueryAsync(new AuditQuery { OrgId = "org_p" }, 9, Ct);

        Assert.Equal(10, exact.Items.Count);
        Assert.Null(exact.Next);
        Assert.Equal(AuditPosition.Of(short1.Items[^1]), short1.Next);
    }

    [Fact]
    public async Task Paging_with_the_cursor_yields_every_match_exactly_once_and_equals_streaming()
    {
        var (store, all) = await DataSetStoreAsync();
        var org = ContractData.Orgs[1];
        foreach (var (name, query) in ContractData.Queries(org).Where((_, i) => i % 4 == 0))
        {
            foreach (var limit in new[] { 1, 7, 50 })
            {
                var paged = await PageAllAsync(store, query, limit);
                var streamed = new List<string>();
                await foreach (var e in store.StreamAsync(query, Ct))
                {
                    streamed.Add(e.Id);
                }

                Assert.True(paged.Distinct().Count() == paged.Count, $"{name} / limit {limit}: an event came twice");
                Assert.True(streamed.SequenceEqual(paged), $"{name} / limit {limit}: paging and streaming differ");
                Assert.True(Ids(ContractData.Expected(all, query)).SequenceEqual(paged), $"{name} / limit {limit}: paging differs from the reference");
            }
        }
    }

    [Fact]
    public async Task A_cursor_stays_stable_while_older_and_newer_events_arrive()
    {
        var store = await NewStoreAsync();
        var org = "org_live";
        var t0 = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
        var first = Enumerable.Range(0, 60).Select(i => Some.Event(id: $"evt_{i:D3}", orgId: org, time: t0.AddMinutes(i / 2))).ToList();
        await store.AppendAsync(first, Ct);
        var query = new AuditQuery { OrgId = org };

        var page1 = await store.QueryAsync(query, 20, Ct);
        var cursor = page1.Next!.Value;
        var newer = Enumerable.Range(0, 10).Select(i => Some.Event(id: $"evt_new{i}", orgId: org, time: t0.AddDays(40 + i))).ToList();
        var older = Enumerable.Range(0, 10).Select(i => Some.Event(id: $"evt_old{i}", orgId: org, time: t0.AddDays(-40 - i))).ToList();
        var sameTimeBefore = Some.Event(id: cursor.Id + "z", orgId: org, time: cursor.Time);
        var sameTimeAfter = Some.Event(id: cursor.Id[..^1], orgId: org, time: cursor.Time);
        await store.AppendAsync([.. newer, .. older, sameTimeBefore, sameTimeAfter], Ct);
        var rest = await PageAllAsync(store, query with { After = cursor }, 20);

        var everything = first.Concat(newer).Concat(older).Append(sameTimeBefore).Append(sameTimeAfter).ToList();
        Assert.Equal(Ids(ContractData.Expected(everything, query with { After = cursor })), rest);
        Assert.Empty(Ids(page1.Items).Intersect(rest));
        Assert.Equal(first.Select(e => e.Id).Order(StringComparer.Ordinal), Ids(page1.Items).Concat(rest).Intersect(first.Select(e => e.Id)).Order(StringComparer.Ordinal));
        Assert.Contains(sameTimeAfter.Id, rest);
        Assert.DoesNotContain(sameTimeBefore.Id, rest);
    }

    [Fact]
    public async Task Streaming_a_large_result_returns_every_match_in_order()
    {
        var store = await NewStoreAsync();
        var events = ContractData.Generate(20_000, seed: 7, orgs: ["org_big"], start: new DateTimeOffset(2026, 8, 1, 0, 0, 0, TimeSpan.Zero));
        foreach (var batch in events.Chunk(1000))
        {
            await store.AppendAsync(batch, Ct);
        }

        var expected = Ids(ContractData.Expected(events, new AuditQuery { OrgId = "org_big" }));
        var streamed = new List<string>(expected.Count);
        await foreach (var e in store.StreamAsync(new AuditQuery { OrgId = "org_big" }, Ct))
        {
            streamed.Add(e.Id);
        }

        Assert.Equal(20_000, streamed.Count);
        Assert.True(expected.SequenceEqual(streamed), "the stream is not in newest-first order");
    }

    [Fact]
    public async Task The_store_is_ready()
    {
        var store = await NewStoreAsync();

        Assert.True(await store.IsReadyAsync(Ct));
    }

    [Fact]
    public async Task Retention_drops_expired_months_and_keeps_the_rest()
    {
        Assert.SkipWhen(RetentionLeftTo is not null, RetentionLeftTo ?? "");
        var (store, events) = await RetentionStoreAsync();

        var report = await store.ApplyRetentionAsync(RetentionNow, Ct);

        Assert.NotEmpty(report.Dropped);
        foreach (var (name, e, kept) in events)
        {
            var found = await store.GetAsync(e.OrgId, e.Id, Ct);
            Assert.True(kept == (found is not null), $"{name}: expected {(kept ? "kept" : "dropped")}");
        }

        var pro = await AllAsync(store, "org_pro");
        Assert.Equal(events.Where(x => x.Kept && x.Event.OrgId == "org_pro").Select(x => x.Event.Id).OrderDescending(StringComparer.Ordinal), pro.Select(e => e.Id).OrderDescending(StringComparer.Ordinal));
        var again = await store.ApplyRetentionAsync(RetentionNow, Ct);
        Assert.Empty(again.Dropped);
    }

    [Fact]
    public async Task Archived_events_stay_readable_and_late_events_for_archived_months_are_kept()
    {
        Assert.SkipWhen(RetentionLeftTo is not null, RetentionLeftTo ?? "");
        var (store, events) = await RetentionStoreAsync();

        var report = await store.ApplyRetentionAsync(RetentionNow, Ct);
        var late = Some.Event(orgId: "org_ent", time: new DateTimeOffset(2025, 12, 20, 8, 0, 0, TimeSpan.Zero));
        var lateResult = await store.AppendAsync([late], Ct);

        Assert.NotEmpty(report.Archived);
        Assert.Equal(AppendOutcome.Stored, lateResult[0].Outcome);
        var archived = events.Single(x => x.Name == "enterprise archived").Event;
        Assert.NotNull(await store.GetAsync(archived.OrgId, archived.Id, Ct));
        var expected = events.Where(x => x.Kept && x.Event.OrgId == "org_ent").Select(x => x.Event).Append(late).ToList();
        Assert.Equal(Ids(ContractData.Expected(expected, new AuditQuery { OrgId = "org_ent" })), Ids(await AllAsync(store, "org_ent")));
        var old = new AuditQuery { OrgId = "org_ent", To = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero) };
        var page = await store.QueryAsync(old, 10, Ct);
        Assert.Equal(Ids(ContractData.Expected(expected, old)), Ids(page.Items));
        Assert.Contains(archived.Id, Ids(page.Items));
        Assert.Equal(AppendOutcome.Duplicate, (await store.AppendAsync([archived], Ct))[0].Outcome);
    }

    /// <summary>Creates a store and remembers it for disposal.</summary>
    protected async Task<IAuditStore> NewStoreAsync(RetentionPlanRegistry? registry = null, RetentionOptions? retention = null)
    {
        retention ??= new RetentionOptions();
        var store = await CreateStoreAsync(registry ?? new RetentionPlanRegistry(Options.Create(retention)), retention);
        _created.Add(store);
        return store;
    }

    private async Task<(IAuditStore Store, List<AuditEvent> All)> DataSetStoreAsync()
    {
        // Mixed plans: org_7 is enterprise throughout, org_acme upgrades mid-month, so one month's
        // events of an organisation sit in two retention classes and must still come back as one list.
        var retention = new RetentionOptions();
        retention.Orgs["org_7"] = new OrgPlanOptions { Plan = RetentionPlans.Enterprise, Years = 3 };
        var registry = new RetentionPlanRegistry(Options.Create(retention));
        registry.Record("org_acme", RetentionClass.Enterprise(5), new DateTimeOffset(2025, 9, 15, 12, 0, 0, TimeSpan.Zero));
        var store = await NewStoreAsync(registry, retention);
        var all = ContractData.Generate(3000);

        // Shuffled batches: the order of arrival must not matter.
        foreach (var batch in all.OrderBy(e => e.Id.GetHashCode(StringComparison.Ordinal)).Chunk(500))
        {
            await store.AppendAsync(batch, Ct);
        }

        return (store, all);
    }

    private async Task<(IAuditStore Store, List<(string Name, AuditEvent Event, bool Kept)> Events)> RetentionStoreAsync()
    {
        // now = 2026-11-30. p2y: a month is gone once its end is 732 days past (Oct 2024 and before).
        // e1y: gone once its end is 366 days past (Oct 2025 and before); archived 90 days after its end.
        var retention = new RetentionOptions { ArchiveAfterDays = 90 };
        retention.Orgs["org_ent"] = new OrgPlanOptions { Plan = RetentionPlans.Enterprise, Years = 1 };
        var store = await NewStoreAsync(new RetentionPlanRegistry(Options.Create(retention)), retention);
        static DateTimeOffset At(int y, int m, int d) => new(y, m, d, 12, 0, 0, TimeSpan.Zero);
        var events = new List<(string, AuditEvent, bool)>
        {
            ("professional expired", Some.Event(orgId: "org_pro", time: At(2024, 9, 15)), false),
            ("professional last expired month", Some.Event(orgId: "org_pro", time: At(2024, 10, 31)), false),
            ("professional first kept month", Some.Event(orgId: "org_pro", time: At(2024, 11, 1)), true),
            ("professional recent", Some.Event(orgId: "org_pro", time: At(2026, 11, 1)), true),
            ("enterprise expired", Some.Event(orgId: "org_ent", time: At(2025, 9, 10)), false),
            ("enterprise first kept month", Some.Event(orgId: "org_ent", time: At(2025, 11, 2)), true),
            ("enterprise archived", Some.Event(orgId: "org_ent", time: At(2025, 12, 10)), true),
            ("enterprise live", Some.Event(orgId: "org_ent", time: At(2026, 10, 10)), true),
        };
        await store.AppendAsync([.. events.Select(x => x.Item2)], Ct);
        return (store, events);
    }

    private static Task<List<string>> PageAllAsync(IAuditStore store, AuditQuery query, int limit) =>
        StorePaging.PageAllAsync(store, query, limit, Ct);

    private static async Task<List<AuditEvent>> AllAsync(IAuditStore store, string orgId)
    {
        var all = new List<AuditEvent>();
        await foreach (var e in store.StreamAsync(new AuditQuery { OrgId = orgId }, Ct))
        {
            all.Add(e);
        }

        return all;
    }

    /// <summary>Exactly one event with this id in its organisation, and it is <paramref name="first"/> as stored first.</summary>
    private static async Task AssertOnlyCopyAsync(IAuditStore store, AuditEvent first)
    {
        var found = await store.GetAsync(first.OrgId, first.Id, Ct);
        Assert.NotNull(found);
        Assert.Equal(AuditJson.Serialize(first), AuditJson.Serialize(found));
        var copies = (await AllAsync(store, first.OrgId)).Where(e => e.Id == first.Id).ToList();
        var single = Assert.Single(copies);
        Assert.Equal(first.Time, single.Time);
        if (first.Entity.Id is { } entityId)
        {
            var filtered = await store.QueryAsync(new AuditQuery { OrgId = first.OrgId, EntityIds = [entityId] }, 500, Ct);
            Assert.Single(filtered.Items, e => e.Id == first.Id);
        }
    }

    private static List<string> Ids(IEnumerable<AuditEvent> events) => [.. events.Select(e => e.Id)];
}
