namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// Instants as Unix milliseconds (events are stored at millisecond precision). Bounds with a finer
/// fraction are rounded so that the integer comparison equals the comparison of the instants.
/// </summary>
internal static class SqlTime
{
    private static readonly long EpochTicks = DateTimeOffset.UnixEpoch.UtcTicks;

    public static long ToUnixMs(DateTimeOffset t) => FloorDiv(t.UtcTicks - EpochTicks, TimeSpan.TicksPerMillisecond);

    /// <summary>The smallest whole millisecond not before <paramref name="t"/>: <c>time &gt;= t</c> iff <c>ms &gt;= CeilMs(t)</c>.</summary>
    public static long CeilMs(DateTimeOffset t) => CeilDiv(t.UtcTicks - EpochTicks, TimeSpan.TicksPerMillisecond);

    public static bool IsWholeMs(DateTimeOffset t) => (t.UtcTicks - EpochTicks) % TimeSpan.TicksPerMillisecond == 0;

    private static long FloorDiv(long a, long b) => (a / b) - (a % b < 0 ? 1 : 0);

    private static long CeilDiv(long a, long b) => (a / b) + (a % b > 0 ? 1 : 0);
}
