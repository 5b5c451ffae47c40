using AuditPipeline.Core.Events;

namespace AuditPipeline.Integrity.Tests.Support;

/// <summary>Instants for the canonical writers' property tests.</summary>
internal static class HostileTime
{
    /// <summary>Any instant from year 1 to 9999 in any offset, sometimes with sub-millisecond ticks.</summary>
    public static DateTimeOffset Instant(Random r)
    {
        var ticks = r.NextInt64(DateTimeOffset.MinValue.UtcTicks + TimeSpan.TicksPerDay, DateTimeOffset.MaxValue.UtcTicks - TimeSpan.TicksPerDay);
        var t = new DateTimeOffset(ticks, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(r.Next(-14 * 60, 14 * 60)));
        return r.Next(2) == 0 ? AuditJson.TruncateToMilliseconds(t) : t;
    }
}
