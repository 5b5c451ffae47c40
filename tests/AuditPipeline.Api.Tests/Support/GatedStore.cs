using AuditPipeline.Testing;
using System.Runtime.CompilerServices;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;

namespace AuditPipeline.Api.Tests.Support;

/// <summary>A store whose streams pause after a few events until the test opens the gate: an export caught mid-way.</summary>
public sealed class GatedStore(IAuditStore inner, int pauseAfter) : DelegatingAuditStore(inner)
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Paused { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => _gate.TrySetResult();

    private int _open;
    private int _mostOpen;

    /// <summary>True once a stream ran to its end.</summary>
    public bool Completed { get; private set; }

    /// <summary>The most streams that were open at the same time.</summary>
    public int MostOpenAtOnce => Volatile.Read(ref _mostOpen);

    public override async IAsyncEnumerable<AuditEvent> StreamAsync(AuditQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var open = Interlocked.Increment(ref _open);
        int most;
        while (open > (most = Volatile.Read(ref _mostOpen)) && Interlocked.CompareExchange(ref _mostOpen, open, most) != most)
        {
        }

        try
        {
            var n = 0;
            await foreach (var e in InnerStore.StreamAsync(query, cancellationToken))
            {
                if (n++ == pauseAfter)
                {
                    Paused.TrySetResult();
                    await _gate.Task.WaitAsync(cancellationToken);
                }

                yield return e;
            }

            Completed = true;
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }
}
