namespace AuditPipeline.Core.Ingest;

/// <summary>
/// Bounds the raw bytes of messages taken and not yet completed. A message that does not fit waits
/// for releases; one larger than the whole budget is admitted when nothing else is held, or it would
/// wait forever. Waiters are woken by a release, never by polling.
/// </summary>
internal sealed class ByteBudget(long capacity)
{
    private readonly object _gate = new();
    private long _used;

    // The size a caller was last refused: WaitForRoomAsync waits until that much fits, so a source that
    // retries the same message after waiting does not spin on a budget with a little room.
    private long _wanted;
    private TaskCompletionSource? _released;

    public long Used
    {
        get
        {
            lock (_gate)
            {
                return _used;
            }
        }
    }

    public long Capacity => capacity;

    public bool TryReserve(long bytes)
    {
        lock (_gate)
        {
            if (Fits(bytes))
            {
                _used += bytes;
                return true;
            }

            _wanted = bytes;
            return false;
        }
    }

    public async ValueTask ReserveAsync(long bytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task released;
            lock (_gate)
            {
                if (Fits(bytes))
                {
                    _used += bytes;
                    return;
                }

                released = Released();
            }

            await released.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Completes once the size last refused would fit (or nothing is held).</summary>
    public async ValueTask WaitForRoomAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task released;
            lock (_gate)
            {
                if (Fits(_wanted))
                {
                    return;
                }

                released = Released();
            }

            await released.WaitAsync(cancellationToken);
        }
    }

    public void Release(long bytes)
    {
        if (bytes == 0)
        {
            return;
        }

        TaskCompletionSource? wake;
        lock (_gate)
        {
            _used -= bytes;
            wake = _released;
            _released = null;
        }

        wake?.TrySetResult();
    }

    private bool Fits(long bytes) => _used == 0 || _used + bytes <= capacity;

    private Task Released() =>
        (_released ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
}
