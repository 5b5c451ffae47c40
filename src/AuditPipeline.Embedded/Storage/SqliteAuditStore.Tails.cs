namespace AuditPipeline.Embedded.Storage;

/// <summary>The store's merges of partition tails into their indexes: on demand, when idle, at close.</summary>
internal sealed partial class SqliteAuditStore
{
    /// <summary>Merges every partition's tail into its indexes now (tests; a graceful close does the same).</summary>
    internal void MergeAllTails()
    {
        if (_writer is null)
        {
            return;
        }

        _writeGate.Wait();
        try
        {
            MergeEveryTail(_writer);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Under the write gate: every partition's tail into its indexes.</summary>
    private void MergeEveryTail(PartitionWriter writer)
    {
        writer.MergeAll([.. _catalog.All]);
    }

    /// <summary>
    /// Merges tails that have waited <see cref="EmbeddedStoreOptions.MergeAfter"/>, when no batch is
    /// being written (it never waits for the gate: a busy writer merges full tails itself).
    /// </summary>
    internal void MergeIdleTails()
    {
        if (_writer is null || Volatile.Read(ref _disposed) == 1)
        {
            return;
        }

        try
        {
            if (!_writeGate.Wait(0))
            {
                return;
            }
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        try
        {
            var now = Environment.TickCount64;
            foreach (var p in _catalog.All)
            {
                if (p.TailRows > 0 && now - p.TailSince >= _mergeAfterMs)
                {
                    _writer.Merge(p);
                }
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }
}
