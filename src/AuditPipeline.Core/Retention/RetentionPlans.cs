namespace AuditPipeline.Core.Retention;

public static class RetentionPlans
{
    public const string Professional = "professional";
    public const string Enterprise = "enterprise";
}
