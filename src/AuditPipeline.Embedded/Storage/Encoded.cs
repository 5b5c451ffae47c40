using AuditPipeline.Core.Events;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// The stored forms of a batch's events (JSON document, search words), encoded in input order on
/// another thread while the writer inserts the ones already encoded: the CPU work of encoding
/// overlaps the single SQLite writer instead of preceding it. An event that cannot be encoded (a
/// string the serializer refuses) gets its reason instead, and the others go on.
/// </summary>
internal sealed class Encoded
{
    private const int Chunk = 32;
    private readonly object _gate = new();
    private readonly IReadOnlyList<AuditEvent> _events;
    private readonly byte[]?[] _docs;
    private readonly string?[] _bodies;
    private readonly string?[] _errors;
    private int _ready;

    private Encoded(IReadOnlyList<AuditEvent> events)
    {
        _events = events;
        _docs = new byte[events.Count][];
        _bodies = new string[events.Count];
        _errors = new string[events.Count];
    }

    public static Encoded Start(IReadOnlyList<AuditEvent> events)
    {
        var encoded = new Encoded(events);
        ThreadPool.UnsafeQueueUserWorkItem(static e => e.Run(), encoded, preferLocal: false);
        return encoded;
    }

    /// <summary>The document of event <paramref name="i"/>, or null with the reason it cannot be stored.</summary>
    public byte[]? Doc(int i, out string? error)
    {
        WaitFor(i);
        error = _errors[i];
        return _docs[i];
    }

    public string Body(int i)
    {
        WaitFor(i);
        return _bodies[i] ?? "";
    }

    private void Run()
    {
        for (var start = 0; start < _events.Count; start += Chunk)
        {
            var end = Math.Min(start + Chunk, _events.Count);
            for (var i = start; i < end; i++)
            {
                try
                {
                    var e = _events[i];
                    _docs[i] = AuditJson.SerializeToUtf8Bytes(e);
                    _bodies[i] = SearchText.Body(e);
                }
                catch (Exception ex)
                {
                    // Whatever one event holds must not stop the batch: it is rejected with the reason.
                    _docs[i] = null;
                    _errors[i] = $"the event cannot be encoded for the store: {ex.Message}";
                }
            }

            lock (_gate)
            {
                _ready = end;
                Monitor.PulseAll(_gate);
            }
        }
    }

    private void WaitFor(int i)
    {
        if (Volatile.Read(ref _ready) > i)
        {
            return;
        }

        lock (_gate)
        {
            while (_ready <= i)
            {
                Monitor.Wait(_gate);
            }
        }
    }
}
