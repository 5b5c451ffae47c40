namespace AuditPipeline.Core.Events;

public sealed record AuditActor(string Type, string? Id, string? Name, string? Email)
{
    public static AuditActor System { get; } = new(ActorTypes.System, null, "System", null);
}
