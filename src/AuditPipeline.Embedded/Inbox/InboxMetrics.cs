using System.Diagnostics.Metrics;
using AuditPipeline.Core.Diagnostics;

namespace AuditPipeline.Embedded.Inbox;

/// <summary>
/// The inbox's own instrument, on the pipeline's meter (so /metrics exports it with the rest):
/// <c>audit_inbox_unread_bytes</c>, the bytes seen in the inbox files and not yet completed, per inbox
/// directory. It is the inbox's lag: it grows while producers write faster than the store takes events,
/// and stays above zero while a final line without a newline is held back.
/// </summary>
internal sealed class InboxMetrics
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Func<long>> _inboxes = new(StringComparer.Ordinal);

    public InboxMetrics(IMeterFactory meterFactory)
    {
        // The factory hands back the pipeline's Meter (same name), which it owns and disposes.
        meterFactory.Create(AuditMetrics.MeterName).CreateObservableGauge("audit_inbox_unread_bytes", Observe, description: "Bytes in inbox files not yet read and completed (stored, duplicate or dead-lettered).");
    }

    public void Register(string directory, Func<long> unread)
    {
        lock (_gate)
        {
            _inboxes[directory] = unread;
        }
    }

    public void Unregister(string directory)
    {
        lock (_gate)
        {
            _inboxes.Remove(directory);
        }
    }

    private IEnumerable<Measurement<long>> Observe()
    {
        KeyValuePair<string, Func<long>>[] inboxes;
        lock (_gate)
        {
            inboxes = [.. _inboxes];
        }

        foreach (var (directory, unread) in inboxes)
        {
            yield return new Measurement<long>(unread(), new KeyValuePair<string, object?>("inbox", directory));
        }
    }
}
