namespace AuditPipeline.Kafka;

/// <summary>One topic per kind (<c>Kafka:Topics:crm</c>, <c>auth</c>, <c>ai</c>, <c>platform</c>).</summary>
public sealed class KafkaTopicsOptions
{
    public string Crm { get; set; } = "outsprint.crm.events";

    public string Auth { get; set; } = "outsprint.auth.events";

    public string Ai { get; set; } = "outsprint.ai.actions";

    public string Platform { get; set; } = "outsprint.platform.events";
}
