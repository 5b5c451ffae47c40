namespace AuditPipeline.Core.Ingest;

/// <summary>
/// <code>
/// "Ingest": { "ChannelCapacity": 10000, "BatchSize": 1000, "BatchDelay": "00:00:00.050",
///             "MaxMessageBytes": 1048576, "MaxBufferedBytes": 268435456, "MaxFutureSkew": "1.00:00:00",
///             "RetryMin": "00:00:00.200", "RetryMax": "00:00:30" }
/// </code>
/// </summary>
public sealed class IngestOptions
{
    public const string SectionName = "Ingest";

    /// <summary>Messages buffered between sources and the store; bounds memory when the store stalls.</summary>
    public int ChannelCapacity { get; set; } = 10_000;

    public int BatchSize { get; set; } = 1_000;

    /// <summary>How long a partial batch waits for more messages.</summary>
    public TimeSpan BatchDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Messages larger than this are dead-lettered (contract: MaxMessageBytes, default 1 MiB).</summary>
    public int MaxMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Raw bytes of messages written to the pipeline and not yet completed; with ChannelCapacity it bounds
    /// memory when the store stalls (contract: Ingest:MaxBufferedBytes, default 256 MiB). A message larger
    /// than the whole budget is still taken when nothing else is buffered.
    /// </summary>
    public long MaxBufferedBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How far after its reception an event's time may lie before it is rejected as implausible (default 1 day).</summary>
    public TimeSpan MaxFutureSkew { get; set; } = TimeSpan.FromDays(1);

    public TimeSpan RetryMin { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan RetryMax { get; set; } = TimeSpan.FromSeconds(30);
}
