using AuditPipeline.Core.Retention;
using AuditPipeline.Embedded.Storage;

namespace AuditPipeline.Embedded.Tests.Storage;

/// <summary>
/// Where a merge sends a tail's rows: by the month's size and how far their times lie behind the right
/// edge of the month's time index.
/// </summary>
public sealed class MergeLevelsTests
{
    private const long Hour = 3_600_000;
    private static readonly long Now = new DateTimeOffset(2026, 11, 20, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    [Fact]
    public void A_month_under_MidFromRows_or_without_a_middle_level_takes_every_tail_into_events_however_spread()
    {
        var levels = new MergeLevels(64) { MidFromRows = 128 };

        Assert.Equal(TailRoute.Events, levels.Route(Month(eventsRows: 127), Spread()));
        Assert.Equal(TailRoute.Mid, levels.Route(Month(eventsRows: 128), Spread()));
        Assert.Equal(TailRoute.Events, levels.Route(Month(eventsRows: 1_000, hasMid: false), Spread()));
        Assert.Equal(TailRoute.Events, levels.Route(Month(eventsRows: 1_000), []));
    }

    [Fact]
    public void Rows_at_or_after_the_edge_go_into_events_however_long_the_tail_took_to_fill()
    {
        var levels = new MergeLevels(64) { MidFromRows = 128 };

        // Live traffic slow enough that a tail spans 21 hours: newer than everything in events.
        var slow = Enumerable.Range(0, 64).Select(i => Now + (i * 20 * 60_000L)).ToArray();
        Assert.Equal(TailRoute.Events, levels.Route(Month(eventsRows: 10_000, edgeMs: Now - 60_000), slow.ToArray()));

        // Until the edge is known, the tail's own 99th percentile stands in for it.
        Assert.Equal(TailRoute.Mid, levels.Route(Month(eventsRows: 10_000), slow.ToArray()));
        var fast = Enumerable.Range(0, 64).Select(i => Now - (i * 6 * Hour / 70)).ToArray();
        Assert.Equal(TailRoute.Events, levels.Route(Month(eventsRows: 10_000), fast));
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(6, true)]
    [InlineData(7, false)]
    [InlineData(32, false)]
    public void Up_to_a_tenth_of_rows_behind_the_edge_split_the_tail_there_more_send_it_to_events_mid(int late, bool split)
    {
        var levels = new MergeLevels(64) { MidFromRows = 128 };
        var times = Enumerable.Range(0, 64).Select(i => i < late ? Now - (72 * Hour) - i : Now + i).ToArray();

        var route = levels.Route(Month(eventsRows: 10_000, edgeMs: Now), times);

        Assert.Equal(split ? new TailRoute(TailDestination.Split, Now - levels.SpreadMs) : TailRoute.Mid, route);
    }

    [Fact]
    public void One_event_from_the_future_does_not_move_the_edge()
    {
        var times = Enumerable.Range(0, 63).Select(i => Now - i).Append(Now + (20 * 24 * Hour)).Order().ToArray();

        Assert.Equal(Now, MergeLevels.High(times));
    }

    private static long[] Spread()
    {
        var random = new Random(5);
        return [.. Enumerable.Range(0, 64).Select(_ => Now - random.NextInt64(20 * 24 * Hour))];
    }

    private static Partition Month(long eventsRows, bool hasMid = true, long? edgeMs = null) =>
        new(RetentionClass.Professional, 2026, 11, "/nowhere/events-p2y-2026-11.db", archived: false)
        {
            HasMid = hasMid,
            NextSeq = eventsRows + 1,
            EdgeMs = edgeMs,
        };
}
