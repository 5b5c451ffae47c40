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
}
