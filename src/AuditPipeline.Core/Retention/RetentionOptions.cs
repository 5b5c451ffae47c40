namespace AuditPipeline.Core.Retention;

/// <summary>
/// <code>
/// "Retention": {
///   "DefaultPlan": "professional",
///   "ArchiveAfterDays": 90,
///   "LateArrivalDays": 7,
///   "Orgs": { "org_42": { "Plan": "enterprise", "Years": 5 } }
/// }
/// </code>
/// </summary>
public sealed class RetentionOptions
{
    public const string SectionName = "Retention";

    public string DefaultPlan { get; set; } = RetentionPlans.Professional;

    /// <summary>Years for an enterprise default plan.</summary>
    public int? DefaultYears { get; set; }

    public int ArchiveAfterDays { get; set; } = 90;

    public int LateArrivalDays { get; set; } = 7;

    /// <summary>How often the retention job runs (it also runs at start).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    public Dictionary<string, OrgPlanOptions> Orgs { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Every problem, each naming the configuration key to fix.</summary>
    public IEnumerable<string> Validate()
    {
        foreach (var e in ValidatePlan($"{SectionName}:DefaultPlan", DefaultPlan, $"{SectionName}:DefaultYears", DefaultYears))
        {
            yield return e;
        }

        if (ArchiveAfterDays < 1)
        {
            yield return $"{SectionName}:ArchiveAfterDays must be at least 1 (was {ArchiveAfterDays}).";
        }

        if (LateArrivalDays < 0)
        {
            yield return $"{SectionName}:LateArrivalDays must not be negative (was {LateArrivalDays}).";
        }

        if (Interval <= TimeSpan.Zero)
        {
            yield return $"{SectionName}:Interval must be positive (was {Interval}).";
        }

        foreach (var (org, plan) in Orgs)
        {
            foreach (var e in ValidatePlan($"{SectionName}:Orgs:{org}:Plan", plan.Plan, $"{SectionName}:Orgs:{org}:Years", plan.Years))
            {
                yield return e;
            }
        }
    }

    private static IEnumerable<string> ValidatePlan(string planKey, string? plan, string yearsKey, int? years)
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

public sealed class OrgPlanOptions
{
    public string Plan { get; set; } = RetentionPlans.Professional;

    public int? Years { get; set; }
}
