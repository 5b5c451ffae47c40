using System.Globalization;
using System.Text.Json;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Retention;

namespace AuditPipeline.Core.Normalization;

/// <summary>
/// A time is plausible when it is at most <c>Ingest:MaxFutureSkew</c> after the pipeline received the
/// message and not yet past the retention of the plan in force for its organisation at that time
/// (such an event would be deleted by the next retention pass). The reason names the likely mistake:
/// an auth <c>ts</c> in seconds, microseconds or nanoseconds, an ISO time with the wrong year, an unset date.
/// </summary>
internal sealed class PlausibleTime(RetentionPlanRegistry registry, TimeSpan maxFutureSkew)
{
    /// <summary>The widest window a hint considers: the longest retention there is, and a day ahead.</summary>
    private static readonly TimeSpan LongestRetention = TimeSpan.FromDays(7 * RetentionClass.DaysPerYear);

    /// <summary>The reason <paramref name="e"/>'s time is not plausible, or null.</summary>
    /// <param name="message">The raw message, valid JSON: it is parsed again only to explain a time found implausible.</param>
    public string? Check(SourceKind kind, ReadOnlyMemory<byte> message, AuditEvent e)
    {
        // DateTimeOffset spans fewer ticks than TimeSpan holds, so the difference never overflows.
        var ahead = e.Time - e.ReceivedAt;
        var retention = registry.ClassFor(e.OrgId, e.Time);
        if (ahead > maxFutureSkew)
        {
            using var doc = Parse(message);
            var root = doc.RootElement;
            return $"{Given(kind, root, e)}, {Human(ahead)} after the pipeline received it, more than Ingest:MaxFutureSkew ({Human(maxFutureSkew)}) allows{Hint(kind, root, e)}";
        }

        if (-ahead > retention.RetentionPeriod)
        {
            using var doc = Parse(message);
            var root = doc.RootElement;
            return $"{Given(kind, root, e)}, older than the {retention.Years}-year retention of {e.OrgId}{Hint(kind, root, e)}";
        }

        return null;
    }

    private static JsonDocument Parse(ReadOnlyMemory<byte> message) =>
        JsonDocument.Parse(message, new JsonDocumentOptions { MaxDepth = StorableJson.MaxDepth });

    /// <summary>For an auth <c>ts</c> out of the representable range: the unit it was probably sent in, or nothing.</summary>
    public static string OutOfRangeHint(long ts, DateTimeOffset receivedAt) =>
        Plausible(ts / 1000, receivedAt) ? ": microseconds instead of milliseconds?"
        : Plausible(ts / 1_000_000, receivedAt) ? ": nanoseconds instead of milliseconds?"
        : string.Empty;

    /// <summary>"ts 1764412320 is 1970-01-21T10:06:52.320Z" or "created_at '...' is ...".</summary>
    private static string Given(SourceKind kind, JsonElement root, AuditEvent e)
    {
        var field = FieldOf(kind);
        var raw = root.TryGetProperty(field, out var v)
            ? v.ValueKind == JsonValueKind.String ? $"'{RawMessage.Shorten(v.GetString()!)}'" : RawMessage.Shorten(v.GetRawText())
            : "?";
        return $"{field} {raw} is {AuditJson.FormatTime(e.Time)}";
    }

    private static string Hint(SourceKind kind, JsonElement root, AuditEvent e)
    {
        var t = e.Time.UtcDateTime;
        if (kind == SourceKind.Auth)
        {
            if (root.TryGetProperty("ts", out var v) && v.TryGetInt64(out var ts))
            {
                if (ts == 0)
                {
                    return ": an unset date?";
                }

                if (ts is > long.MinValue / 1000 and < long.MaxValue / 1000 && Plausible(ts * 1000, e.ReceivedAt))
                {
                    return ": seconds instead of milliseconds?";
                }

                return OutOfRangeHint(ts, e.ReceivedAt);
            }

            return string.Empty;
        }

        if (t.Year == 1 || t == DateTime.UnixEpoch)
        {
            return ": an unset date?";
        }

        // Only a time in another year than its reception can have the wrong year.
        for (var year = Math.Max(1, e.ReceivedAt.Year - 1); year <= e.ReceivedAt.Year && t.Year != e.ReceivedAt.Year; year++)
        {
            if (t.Month == 2 && t.Day == 29 && !DateTime.IsLeapYear(year))
            {
                continue;
            }

            var moved = new DateTimeOffset(year, t.Month, t.Day, t.Hour, t.Minute, t.Second, TimeSpan.Zero);
            if (moved - e.ReceivedAt <= TimeSpan.FromDays(1) && e.ReceivedAt - moved <= LongestRetention)
            {
                return ": wrong year?";
            }
        }

        return string.Empty;
    }

    private static bool Plausible(long ms, DateTimeOffset receivedAt)
    {
        if (!Instants.TryFromUnixMilliseconds(ms, out var t))
        {
            return false;
        }

        var ahead = t - receivedAt;
        return ahead <= TimeSpan.FromDays(1) && -ahead <= LongestRetention;
    }

    private static string FieldOf(SourceKind kind) => kind switch
    {
        SourceKind.Crm => "created_at",
        SourceKind.Auth => "ts",
        SourceKind.Ai => "timestamp",
        _ => "occurred_at",
    };

    /// <summary>A duration in the largest whole unit that fits: "3 days", "1 day", "5 hours", "40 seconds".</summary>
    internal static string Human(TimeSpan d)
    {
        static string Unit(double n, string one) =>
            string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(n):0} {one}{(Math.Floor(n) == 1 ? string.Empty : "s")}");

        return d.TotalDays >= 1 ? Unit(d.TotalDays, "day")
            : d.TotalHours >= 1 ? Unit(d.TotalHours, "hour")
            : d.TotalMinutes >= 1 ? Unit(d.TotalMinutes, "minute")
            : Unit(Math.Max(0, d.TotalSeconds), "second");
    }
}
