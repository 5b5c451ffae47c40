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

    /// <summary>How long no batch must have been written before the writer counts as idle (tests change it).</summary>
    internal long IdleAfterMs { get; set; } = 200;

    /// <summary>
    /// Merges tails that have waited <see cref="EmbeddedStoreOptions.MergeAfter"/>, when the writer is
    /// idle: no batch for <see cref="IdleAfterMs"/>, and none being written (it never waits for the
    /// gate). Under steady ingest the gaps between batches (the writer waiting for the stage before or
    /// after it) are not idleness: merging a slow-filling tail in each would merge it in small pieces,
    /// rewriting its index pages far more often (measured with a writer that paused for a sync after
    /// every batch: 3,443 instead of 3,162 bytes written per event, 9 % more); a busy writer merges
    /// full tails itself.
    /// </summary>
    internal void MergeIdleTails()
    {
        if (_writer is null || Volatile.Read(ref _disposed) == 1 ||
            Environment.TickCount64 - Volatile.Read(ref _lastWriteMs) < IdleAfterMs)
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
