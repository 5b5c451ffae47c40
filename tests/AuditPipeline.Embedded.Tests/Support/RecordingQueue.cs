using AuditPipeline.Core.Ingest;

namespace AuditPipeline.Embedded.Tests.Support;

/// <summary>
/// An ingest queue that records what a source writes. Messages are completed only when the test says
/// so (<see cref="CompleteUpTo"/>), or at once with <see cref="AutoComplete"/>; a flush completes the rest.
/// </summary>
internal sealed class RecordingQueue : IIngestQueue
{
    private readonly Lock _gate = new();
    private readonly List<IngestMessage> _messages = [];
    private int _completed;

    public bool AutoComplete { get; init; }

    public IReadOnlyList<IngestMessage> Messages
    {
        get
        {
            lock (_gate)
            {
                return [.. _messages];
            }
        }
    }

    public ValueTask WriteAsync(IngestMessage message, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _messages.Add(message);
        }

        if (AutoComplete)
        {
            CompleteUpTo(int.MaxValue);
        }

        return ValueTask.CompletedTask;
    }

    public bool TryWrite(IngestMessage message)
    {
        WriteAsync(message, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return true;
    }

    public ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken) => ValueTask.FromResult(true);

    public Task FlushAsync(CancellationToken cancellationToken)
    {
        CompleteUpTo(int.MaxValue);
        return Task.CompletedTask;
    }

    /// <summary>Completes, in order, every message up to the first <paramref name="count"/> written.</summary>
    public void CompleteUpTo(int count)
    {
        lock (_gate)
        {
            while (_completed < Math.Min(count, _messages.Count))
            {
                var m = _messages[_completed++];
                m.Origin.Complete(m);
            }
        }
    }
}
