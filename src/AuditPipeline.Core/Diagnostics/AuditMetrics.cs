using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AuditPipeline.Core.Normalization;

namespace AuditPipeline.Core.Diagnostics;

/// <summary>
/// The pipeline's instruments (exported as Prometheus text at /metrics): consumed, stored, duplicate
/// and dead-lettered counters by <c>kind</c> (dead-lettered also by <c>reason</c>, a <see cref="RejectReason"/>
/// label), the consumer lag gauge, the bytes buffered in the ingest pipeline and the store write latency.
/// </summary>
public sealed class AuditMetrics : IDisposable
{
    public const string MeterName = "AuditPipeline";

    private readonly Meter _meter;
    private readonly Counter<long> _consumed;
    private readonly Counter<long> _stored;
    private readonly Counter<long> _duplicate;
    private readonly Counter<long> _deadLettered;
    private readonly Counter<long> _unknownType;
    private readonly Histogram<double> _storeWrite;
    private readonly ConcurrentDictionary<string, Func<long>> _lagSources = new(StringComparer.Ordinal);
    private Func<long>? _bufferedBytes;

    public AuditMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _consumed = _meter.CreateCounter<long>("audit_events_consumed", description: "Raw messages taken from a source.");
        _stored = _meter.CreateCounter<long>("audit_events_stored", description: "Events newly written to the store.");
        _duplicate = _meter.CreateCounter<long>("audit_events_duplicate", description: "Events already in the store (redeliveries).");
        _deadLettered = _meter.CreateCounter<long>("audit_events_dead_lettered", description: "Messages rejected to the dead-letter destination.");
        _unknownType = _meter.CreateCounter<long>("audit_events_unknown_type", description: "Events of a well-formed type the mapping does not list, stored with the generic rule.");
        _storeWrite = _meter.CreateHistogram(
            "audit_store_write_duration",
            unit: "s",
            description: "Time to append one batch to the store.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        _meter.CreateObservableGauge("audit_consumer_lag", ObserveLag, description: "High watermark minus committed offset, summed over assigned partitions.");
        _meter.CreateObservableGauge(
            "audit_ingest_buffered_bytes",
            () => _bufferedBytes?.Invoke() ?? 0,
            unit: "By",
            description: "Raw bytes of messages taken by the ingest pipeline and not yet completed (bounded by Ingest:MaxBufferedBytes).");
    }

    public void Consumed(string kind, long n = 1) => _consumed.Add(n, new KeyValuePair<string, object?>("kind", kind));

    public void Stored(string kind, long n = 1) => _stored.Add(n, new KeyValuePair<string, object?>("kind", kind));

    public void Duplicate(string kind, long n = 1) => _duplicate.Add(n, new KeyValuePair<string, object?>("kind", kind));

    /// <summary>A dead letter whose class the caller does not know; counted under reason <c>internal</c>. Prefer the overload with a reason.</summary>
    public void DeadLettered(string kind, long n = 1) => DeadLettered(kind, RejectReason.Internal, n);

    public void DeadLettered(string kind, RejectReason reason, long n = 1) =>
        _deadLettered.Add(n, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("reason", reason.Label()));

    /// <summary>The ingest pipeline reports its buffered bytes through this.</summary>
    public void RegisterBufferedBytes(Func<long> bytes) => _bufferedBytes = bytes;

    public void UnknownType(string kind) => _unknownType.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void StoreWrite(TimeSpan elapsed) => _storeWrite.Record(elapsed.TotalSeconds);

    /// <summary>A source reports its lag through this; the gauge sums every registered source.</summary>
    public void RegisterLag(string name, Func<long> lag) => _lagSources[name] = lag;

    public void UnregisterLag(string name) => _lagSources.TryRemove(name, out _);

    public void Dispose() => _meter.Dispose();

    private long ObserveLag()
    {
        long sum = 0;
        foreach (var f in _lagSources.Values)
        {
            try
            {
                sum += Math.Max(0, f());
            }
            catch (InvalidOperationException)
            {
                // A source shutting down; its lag is not known this scrape.
            }
        }

        return sum;
    }
}
