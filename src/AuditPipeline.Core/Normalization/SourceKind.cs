namespace AuditPipeline.Core.Normalization;

/// <summary>The four kinds of raw message, one topic (or inbox file prefix) each.</summary>
public enum SourceKind
{
    Crm,
    Auth,
    Ai,
    Platform,
}
