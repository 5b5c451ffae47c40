using System.Globalization;
using System.Text.Json;
using AuditPipeline.Core.Retention;

namespace AuditPipeline.Kafka.Plans;

/// <summary>
/// One record of the plans topic: <c>{"org_id","plan","retention_years","effective_from"}</c>.
/// <c>retention_years</c> may be absent or null (enterprise then keeps 7 years); <c>effective_from</c> may be
/// absent or null (the plan is then in force since always), a date (midnight UTC) or an instant with an offset.
/// </summary>
internal readonly record struct PlanRecord(string OrgId, RetentionClass RetentionClass, DateTimeOffset EffectiveFrom)
{
    /// <summary>The record, or the reason it cannot be used.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out PlanRecord record, out string error)
    {
        record = default;
        if (utf8.IsEmpty)
        {
            error = "the record has no value";
            return false;
        }

        try
        {
            using var doc = JsonDocument.Parse(utf8.ToArray());
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "the record is not a JSON object";
                return false;
            }

            if (!root.TryGetProperty("org_id", out var org) || org.ValueKind != JsonValueKind.String || org.GetString() is not { Length: > 0 and <= 256 } orgId)
            {
                error = "org_id must be a non-empty string of at most 256 characters";
                return false;
            }

            if (!root.TryGetProperty("plan", out var planElement) || planElement.ValueKind != JsonValueKind.String)
            {
                error = "plan must be a string";
                return false;
            }

            int? years = null;
            if (root.TryGetProperty("retention_years", out var y) && y.ValueKind != JsonValueKind.Null)
            {
                if (y.ValueKind != JsonValueKind.Number || !y.TryGetInt32(out var n))
                {
                    error = "retention_years must be an integer";
                    return false;
                }

                years = n;
            }

            var plan = planElement.GetString()!;
            RetentionClass retentionClass;
            switch (plan)
            {
                case RetentionPlans.Professional:
                    retentionClass = RetentionClass.Professional;
                    break;
                case RetentionPlans.Enterprise when years is null or (>= 1 and <= 7):
                    retentionClass = RetentionClass.Enterprise(years ?? 7);
                    break;
                case RetentionPlans.Enterprise:
                    error = $"retention_years must be 1 to 7 for an enterprise plan (was {years})";
                    return false;
                default:
                    error = $"plan must be 'professional' or 'enterprise' (was '{plan}')";
                    return false;
            }

            var from = DateTimeOffset.MinValue;
            if (root.TryGetProperty("effective_from", out var f) && f.ValueKind != JsonValueKind.Null)
            {
                if (f.ValueKind != JsonValueKind.String || !TryParseInstant(f.GetString()!, out from))
                {
                    error = "effective_from must be an ISO-8601 date or a time with Z or an offset";
                    return false;
                }
            }

            record = new PlanRecord(orgId, retentionClass, from);
            error = "";
            return true;
        }
        catch (JsonException ex)
        {
            error = "the record is not valid JSON: " + ex.Message;
            return false;
        }
    }

    private static bool TryParseInstant(string text, out DateTimeOffset value)
    {
        if (DateTime.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var date))
        {
            value = new DateTimeOffset(date, TimeSpan.Zero);
            return true;
        }

        // Without Z or an offset a time is not an instant.
        if (DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var dt) && dt.Kind != DateTimeKind.Unspecified
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out value))
        {
            value = value.ToUniversalTime();
            return true;
        }

        value = default;
        return false;
    }
}
