using AuditPipeline.Core.Events;
using AuditPipeline.Core.Normalization;

namespace AuditPipeline.Core.Ingest;

/// <summary>One raw message on its way into the store (or an event built in-process, like the audit of an export).</summary>
public sealed class IngestMessage
{
    public IngestMessage(SourceKind kind, ReadOnlyMemory<byte> value, IMessageOrigin origin)
    {
        Kind = kind;
        Value = value;
        Origin = origin;
    }

    /// <summary>An event already built in-process (it skips normalization).</summary>
    public IngestMessage(AuditEvent prebuilt, IMessageOrigin origin)
    {
        Kind = SourceKind.Platform;
        Prebuilt = prebuilt;
        Origin = origin;
    }

    public SourceKind Kind { get; }

    public ReadOnlyMemory<byte> Value { get; }

    public AuditEvent? Prebuilt { get; }

    public IMessageOrigin Origin { get; }

    /// <summary>The source's own position (a Kafka TopicPartitionOffset, an inbox file offset...).</summary>
    public object? Position { get; init; }

    /// <summary>The original key, kept for the dead-letter record.</summary>
    public ReadOnlyMemory<byte>? Key { get; init; }

    /// <summary>When the pipeline took it (set by the source).</summary>
    public DateTimeOffset ReceivedAt { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The label used in metrics: the kind, or <c>internal</c> for prebuilt events.</summary>
    public string KindLabel => Prebuilt is null ? Kind.Name() : "internal";
}
