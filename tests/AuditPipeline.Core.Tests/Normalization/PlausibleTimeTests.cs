using System.Text;
using System.Text.Json.Nodes;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Core.Retention;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Core.Tests.Normalization;

/// <summary>Times more than Ingest:MaxFutureSkew ahead of reception, or already past the org's retention, are rejected with the likely mistake.</summary>
public class PlausibleTimeTests
{
    // Raw.Received is 2026-11-29T10:32:00.412Z; professional retention is 2 × 366 days.
    private static readonly DateTimeOffset Received = Raw.Received;

    public static TheoryData<SourceKind, string> IsoKinds => new()
    {
        { SourceKind.Crm, "created_at" }, { SourceKind.Ai, "timestamp" }, { SourceKind.Platform, "occurred_at" },
    };

    [Theory]
    [MemberData(nameof(IsoKinds))]
    public void An_iso_time_more_than_a_day_ahead_is_rejected_and_exactly_a_day_is_accepted(SourceKind kind, string field)
    {
        Assert.True(Raw.Normalize(kind, Raw.For(kind).With(field, "2026-11-30T10:32:00.412Z").ToJsonString()).IsSuccess);
        var r = Raw.Normalize(kind, Raw.For(kind).With(field, "2026-11-30T10:32:00.413Z").ToJsonString());
        Assert.Equal(RejectReason.ImplausibleTime, r.Reason);
        Assert.Equal(
            $"{field} '2026-11-30T10:32:00.413Z' is 2026-11-30T10:32:00.413Z, 1 day after the pipeline received it, more than Ingest:MaxFutureSkew (1 day) allows",
            r.Error);
    }

    [Theory]
    [MemberData(nameof(IsoKinds))]
    public void An_iso_time_past_the_two_year_retention_is_rejected_and_the_day_before_is_accepted(SourceKind kind, string field)
    {
        var edge = Received.AddDays(-2 * 366);
        Assert.True(Raw.Normalize(kind, Raw.For(kind).With(field, Iso(edge)).ToJsonString()).IsSuccess);
        var r = Raw.Normalize(kind, Raw.For(kind).With(field, Iso(edge.AddMilliseconds(-1))).ToJsonString());
        Assert.Equal(RejectReason.ImplausibleTime, r.Reason);
        Assert.Equal($"{field} '2024-11-27T10:32:00.411Z' is 2024-11-27T10:32:00.411Z, older than the 2-year retention of org_42: wrong year?", r.Error);
    }

    [Theory]
    [InlineData("9999-12-31T23:59:59.999Z", "2912110 days")]
    [InlineData("2027-11-29T10:32:00Z", "364 days")]
    public void A_time_a_year_or_more_ahead_suggests_the_wrong_year(string time, string ahead)
    {
        var r = Raw.Normalize(SourceKind.Crm, Raw.Crm().With("created_at", time).ToJsonString());
        Assert.Equal(RejectReason.ImplausibleTime, r.Reason);
        Assert.Contains($"after the pipeline received it, more than Ingest:MaxFutureSkew (1 day) allows: wrong year?", r.Error, StringComparison.Ordinal);
        Assert.Contains($", {ahead} after", r.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0001-01-01T00:00:00Z")]
    [InlineData("1970-01-01T00:00:00Z")]
    public void An_unset_date_is_rejected_and_named_so(string time) =>
        Assert.EndsWith(": an unset date?", Raw.Error(SourceKind.Platform, Raw.Platform().With("occurred_at", time).ToJsonString()));

    [Theory]
    [InlineData("0001-01-01T00:00:00+01:00")]
    [InlineData("9999-12-31T23:59:59-01:00")]
    public void An_instant_outside_what_a_date_can_hold_is_rejected_not_thrown(string time) =>
        Assert.Equal($"created_at '{time}' is not an ISO-8601 instant (a date and time with Z or an offset)", Raw.Error(SourceKind.Crm, Raw.Crm().With("created_at", time).ToJsonString()));

    [Fact]
    public void An_auth_ts_in_seconds_is_rejected_with_the_contracts_sentence()
    {
        var raw = Raw.Auth().With("ts", 1764412320).With("tenant", "org_acme").ToJsonString();
        var r = Raw.Normalize(SourceKind.Auth, raw);
        Assert.Equal(RejectReason.ImplausibleTime, r.Reason);
        Assert.Equal("ts 1764412320 is 1970-01-21T10:06:52.320Z, older than the 2-year retention of org_acme: seconds instead of milliseconds?", r.Error);
    }

    [Theory]
    [InlineData(1764412320000000L, "microseconds")]
    [InlineData(1764412320000000000L, "nanoseconds")]
    public void An_auth_ts_in_a_finer_unit_is_rejected_suggesting_it(long ts, string unit)
    {
        var r = Raw.Normalize(SourceKind.Auth, Raw.Auth().With("ts", ts).ToJsonString());
        Assert.Equal(RejectReason.ImplausibleTime, r.Reason);
        Assert.Equal($"ts {ts} is not an instant in integer epoch milliseconds: {unit} instead of milliseconds?", r.Error);
    }

    [Fact]
    public void An_auth_ts_ahead_or_at_zero_is_rejected()
    {
        var ahead = Received.AddDays(2).ToUnixTimeMilliseconds();
        Assert.Equal(
            $"ts {ahead} is 2026-12-01T10:32:00.412Z, 2 days after the pipeline received it, more than Ingest:MaxFutureSkew (1 day) allows",
            Raw.Error(SourceKind.Auth, Raw.Auth().With("ts", ahead).ToJsonString()));
        Assert.Equal(
            "ts 0 is 1970-01-01T00:00:00.000Z, older than the 2-year retention of org_42: an unset date?",
            Raw.Error(SourceKind.Auth, Raw.Auth().With("ts", 0).ToJsonString()));
    }

    [Fact]
    public void The_retention_is_the_plan_in_force_for_the_org_at_the_events_time()
    {
        var registry = new RetentionPlanRegistry(Options.Create(new RetentionOptions
        {
            Orgs = { ["org_42"] = new OrgPlanOptions { Plan = RetentionPlans.Enterprise, Years = 7 } },
        }));

        // From 2026 the org is professional; events before that were under seven years.
        registry.Record("org_42", RetentionClass.Professional, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var normalizer = new AuditNormalizer(Options.Create(new IngestOptions()), registry);
        Assert.True(Normalize(normalizer, Raw.Crm().With("created_at", "2021-01-01T00:00:00Z")).IsSuccess);
        Assert.Equal(
            "created_at '2019-11-01T00:00:00Z' is 2019-11-01T00:00:00.000Z, older than the 7-year retention of org_42: wrong year?",
            Normalize(normalizer, Raw.Crm().With("created_at", "2019-11-01T00:00:00Z")).Error);
        Assert.True(Raw.Normalize(SourceKind.Crm, Raw.Crm().With("org_id", "org_other").With("created_at", "2025-01-01T00:00:00Z").ToJsonString()).IsSuccess);
        Assert.StartsWith(
            "created_at '2021-01-01T00:00:00Z' is 2021-01-01T00:00:00.000Z, older than the 2-year retention of org_other",
            Raw.Error(SourceKind.Crm, Raw.Crm().With("org_id", "org_other").With("created_at", "2021-01-01T00:00:00Z").ToJsonString()));
    }

    [Fact]
    public void Max_future_skew_is_configurable()
    {
        var normalizer = new AuditNormalizer(Options.Create(new IngestOptions { MaxFutureSkew = TimeSpan.FromMinutes(5) }));
        Assert.True(Normalize(normalizer, Raw.Crm().With("created_at", Iso(Received.AddMinutes(5)))).IsSuccess);
        Assert.Equal(
            "created_at '2026-11-29T10:42:00.412Z' is 2026-11-29T10:42:00.412Z, 10 minutes after the pipeline received it, more than Ingest:MaxFutureSkew (5 minutes) allows",
            Normalize(normalizer, Raw.Crm().With("created_at", Iso(Received.AddMinutes(10)))).Error);
    }

    [Theory]
    [InlineData(0L, "Ingest:MaxBufferedBytes must be positive (was 0).")]
    [InlineData(-1L, "Ingest:MaxBufferedBytes must be positive (was -1).")]
    public void Max_buffered_bytes_is_validated_naming_the_key(long bytes, string problem) =>
        Assert.Contains(problem, new IngestOptionsValidator().Problems(new IngestOptions { MaxBufferedBytes = bytes }));

    [Fact]
    public void Max_future_skew_is_validated_naming_the_key()
    {
        Assert.Contains("Ingest:MaxFutureSkew must be a duration from 00:00:00 to 3650.00:00:00 (was -00:00:01).", new IngestOptionsValidator().Problems(new IngestOptions { MaxFutureSkew = TimeSpan.FromSeconds(-1) }));
        Assert.Empty(new IngestOptionsValidator().Problems(new IngestOptions()));
        Assert.Equal((TimeSpan.FromDays(1), 256L * 1024 * 1024), (new IngestOptions().MaxFutureSkew, new IngestOptions().MaxBufferedBytes));
    }

    [Theory]
    [MemberData(nameof(ExtremeReceptions))]
    public void Absurd_reception_times_never_throw(DateTimeOffset received)
    {
        foreach (var kind in SourceKinds.All)
        {
            var r = new AuditNormalizer().Normalize(kind, Encoding.UTF8.GetBytes(Raw.For(kind).ToJsonString()), received);
            Assert.True(r.IsSuccess || r.Reason == RejectReason.ImplausibleTime, r.Error);
        }
    }

    public static TheoryData<DateTimeOffset> ExtremeReceptions => [DateTimeOffset.MinValue, DateTimeOffset.MaxValue, DateTimeOffset.UnixEpoch];

    private static NormalizeResult Normalize(AuditNormalizer n, JsonObject raw) =>
        n.Normalize(SourceKind.Crm, Encoding.UTF8.GetBytes(raw.ToJsonString()), Received);

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
