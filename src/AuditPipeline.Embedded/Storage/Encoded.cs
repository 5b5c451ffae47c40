using AuditPipeline.Core.Events;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// The stored forms of a batch's events (JSON document, search words), encoded in chunks of 32 by a
/// thread-pool work item in input order, starting as the append is called, while the writer looks
/// up ids and inserts the events already encoded: the CPU work of encoding overlaps the single SQLite
/// writer instead of preceding it. A partition lane that needs a chunk nobody has started encodes it
/// itself instead of waiting (on two busy cores the work item may not even have been scheduled yet),
/// so encoding is never a queue the lanes stand in. An event that cannot be encoded (a string the
/// serializer refuses) gets its reason instead, and the others go on.
/// </summary>
internal sealed class Encoded
{
    private const int Chunk = 32;
    private const int Unclaimed = 0;
    private const int Claimed = 1;
    private const int Done = 2;
    private readonly object _gate = new();
    private readonly IReadOnlyList<AuditEvent> _events;
    private readonly byte[]?[] _docs;
    private readonly string?[] _bodies;
    private readonly string?[] _errors;
    private readonly int[] _chunks;

    private Encoded(IReadOnlyList<AuditEvent> events)
    {
        _events = events;
        _docs = new byte[events.Count][];
        _bodies = new string[events.Count];
        _errors = new string[events.Count];
        _chunks = new int[(events.Count + Chunk - 1) / Chunk];
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
        for (var c = 0; c < _chunks.Length; c++)
        {
            TryEncode(c);
        }
    }

    /// <summary>Encodes chunk <paramref name="c"/> unless another thread has claimed it; true when this thread did.</summary>
    private bool TryEncode(int c)
    {
        if (Interlocked.CompareExchange(ref _chunks[c], Claimed, Unclaimed) != Unclaimed)
        {
            return false;
        }

        try
        {
            var end = Math.Min((c + 1) * Chunk, _events.Count);
            for (var i = c * Chunk; i < end; i++)
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
        }
        finally
        {
            // Even if something escaped (memory ran out formatting a reason), no lane may wait for this
            // chunk forever: an event left without a document is rejected by the writer.
            lock (_gate)
            {
                Volatile.Write(ref _chunks[c], Done);
                Monitor.PulseAll(_gate);
            }
        }

        return true;
    }

    private void WaitFor(int i)
    {
        var c = i / Chunk;
        if (Volatile.Read(ref _chunks[c]) == Done || TryEncode(c))
        {
            return;
        }

        lock (_gate)
        {
            while (Volatile.Read(ref _chunks[c]) != Done)
            {
                Monitor.Wait(_gate);
            }
        }
    }
}
