namespace AuditPipeline.Core.Events;

public static class ActorTypes
{
    public const string User = "user";
    public const string System = "system";
    public const string ApiKey = "api_key";
    public const string Workflow = "workflow";

    /// <summary>Every actor type the contract names.</summary>
    internal static readonly string[] All = [User, System, ApiKey, Workflow];
}
