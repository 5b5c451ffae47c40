using System.Runtime.CompilerServices;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;

namespace AuditPipeline.Embedded.Storage;

/// <summary>The store's streamed read (a CSV of every match): chunked, prefetched, decoded by the consumer.</summary>
internal sealed partial class SqliteAuditStore
{
    public async IAsyncEnumerable<AuditEvent> StreamAsync(AuditQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Keyset pagination in chunks: constant memory, and no read transaction stays open while a
        // slow consumer (a CSV download) takes its time, so WAL checkpoints are never held back. A
        // stream has no work budget (a CSV is every match) but stops at a cancellation within
        // 1,024 rows examined. The next chunk is read on the thread pool while the consumer takes
        // this one (at most two chunks in memory), and its documents are decoded on the consumer's
        // thread: SQLite's reads on one core, decoding and formatting a CSV on the other.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var next = ReadChunkAsync(query, stop.Token);
        try
        {
            while (true)
            {
                var chunk = await next;
                next = chunk.Count == StreamChunk ? ReadChunkAsync(query with { After = chunk[^1].Position }, stop.Token) : null;
                foreach (var row in chunk)
                {
                    // Rows already read are not served after a cancellation either.
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return DocDecoder.Decode(row.Doc);
                }

                if (next is null)
                {
                    yield break;
                }
            }
        }
        finally
        {
            if (next is not null)
            {
                // A consumer that stops early: the chunk being read is cancelled and awaited, so no
                // read outlives the stream (nor touches the store after it is disposed).
                await stop.CancelAsync();
                try
                {
                    await next;
                }
                catch (Exception)
                {
                    // Nobody asked for that chunk: whatever it ended with is no one's answer.
                }
            }
        }
    }

    private Task<List<StoredDoc>> ReadChunkAsync(AuditQuery query, CancellationToken ct) =>
        Task.Run(
            () =>
            {
                _catalog.Refresh();
                return MonthScan.Run(_catalog.All, query, StreamChunk, long.MaxValue, static s => s.ReadStored(), withDocs: true, ct).Found;
            },
            ct);
}
