namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// Runs a batch's per-partition work side by side: the calling thread and a few dedicated threads take
/// the jobs <c>0 … count-1</c> in turn, and <see cref="Run"/> returns once every job has finished. A
/// batch spread over ten partition files commits each file on its own, and each commit waits for its
/// fsync; run one after another those waits add up (about 1 ms each on the reference machine), run side
/// by side the disk flushes them together and the inserts use both cores. Dedicated threads rather
/// than the thread pool: a job blocks in fsync, and blocked pool threads would starve the rest of the
/// process. A job must not throw (the writer records each job's failure itself). One caller at a time
/// (the store's write gate).
/// </summary>
internal sealed class CommitLanes : IDisposable
{
    private readonly Thread[] _helpers;
    private readonly SemaphoreSlim _wake = new(0);
    private Action<int>? _job;
    private int _next;
    private int _count;
    private CountdownEvent? _done;
    private volatile bool _disposed;

    /// <param name="lanes">How many jobs run at once, the caller included (1: all on the caller).</param>
    public CommitLanes(int lanes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lanes, 1);
        _helpers = new Thread[lanes - 1];
        for (var i = 0; i < _helpers.Length; i++)
        {
            _helpers[i] = new Thread(Loop) { IsBackground = true, Name = "embedded-commit-" + (i + 1) };
            _helpers[i].Start();
        }
    }

    public int Lanes => _helpers.Length + 1;

    public void Run(int count, Action<int> job)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var helpers = Math.Min(_helpers.Length, count - 1);
        if (helpers <= 0)
        {
            for (var i = 0; i < count; i++)
            {
                job(i);
            }

            return;
        }

        using var done = new CountdownEvent(helpers);
        _job = job;
        _count = count;
        _next = -1;
        _done = done;
        _wake.Release(helpers);
        Take(job, count);
        done.Wait();
        _job = null;
        _done = null;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_helpers.Length > 0)
        {
            _wake.Release(_helpers.Length);
        }

        foreach (var t in _helpers)
        {
            t.Join();
        }

        _wake.Dispose();
    }

    private void Take(Action<int> job, int count)
    {
        int i;
        while ((i = Interlocked.Increment(ref _next)) < count)
        {
            job(i);
        }
    }

    private void Loop()
    {
        while (true)
        {
            _wake.Wait();
            if (_disposed)
            {
                return;
            }

            // Run published these before releasing the semaphore, and clears them only after every
            // woken helper has signalled, so they are the current batch's.
            Take(_job!, _count);
            _done!.Signal();
        }
    }
}
