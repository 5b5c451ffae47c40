using AuditPipeline.Core.Configuration;

namespace AuditPipeline.Core.Retention;

/// <summary>Every problem with the <c>Retention</c> section, each naming its key.</summary>
public sealed class RetentionOptionsValidator : ConfigurationValidator<RetentionOptions>
{
    private const string S = RetentionOptions.SectionName;

    public override IEnumerable<string> Problems(RetentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Check(options);
    }

    private static IEnumerable<string> Check(RetentionOptions o)
    {
        foreach (var e in CheckPlan($"{S}:DefaultPlan", o.DefaultPlan, $"{S}:DefaultYears", o.DefaultYears))
        {
            yield return e;
        }

        if (o.ArchiveAfterDays < 1)
        {
            yield return $"{S}:ArchiveAfterDays must be at least 1 (was {o.ArchiveAfterDays}).";
        }

        if (o.LateArrivalDays < 0)
        {
            yield return $"{S}:LateArrivalDays must not be negative (was {o.LateArrivalDays}).";
        }

        if (o.Interval <= TimeSpan.Zero)
        {
            yield return $"{S}:Interval must be positive (was {o.Interval}).";
        }

        foreach (var (org, plan) in o.Orgs)
        {
            foreach (var e in CheckPlan($"{S}:Orgs:{org}:Plan", plan.Plan, $"{S}:Orgs:{org}:Years", plan.Years))
            {
                yield return e;
            }
        }
    }

    private static IEnumerable<string> CheckPlan(string planKey, string? plan, string yearsKey, int? years)
    {
        if (plan is not (RetentionPlans.Professional or RetentionPlans.Enterprise))
        {
            yield return $"{planKey} must be 'professional' or 'enterprise' (was '{plan}').";
        }
        else if (plan == RetentionPlans.Enterprise && years is not null and not (>= 1 and <= 7))
        {
            yield return $"{yearsKey} must be 1 to 7 for an enterprise plan (was {years}).";
        }
        else if (plan == RetentionPlans.Professional && years is not null and not 2)
        {
            yield return $"{yearsKey} must be 2 or absent for a professional plan (was {years}).";
        }
    }
}
