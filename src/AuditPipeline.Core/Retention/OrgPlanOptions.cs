namespace AuditPipeline.Core.Retention;

/// <summary>One organisation's plan (<c>Retention:Orgs:{orgId}</c>).</summary>
public sealed class OrgPlanOptions
{
    public string Plan { get; set; } = RetentionPlans.Professional;

    public int? Years { get; set; }
}
