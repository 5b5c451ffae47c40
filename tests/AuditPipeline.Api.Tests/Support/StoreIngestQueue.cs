using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Storage;

namespace AuditPipeline.Api.Tests.Support;

/// <summary>An ingest queue that appends prebuilt events straight to the store and completes them.</summary>
public sealed class StoreIngestQueue(IAuditStore store) : IIngestQueue
{
    private int _written;

    public int Written => Volatile.Read(ref _written);

    public async ValueTask WriteAsync(IngestMessage message, CancellationToken cancellationToken)
    {
        var e = message.Prebuilt ?? throw new InvalidOperationException("The API only writes prebuilt events.");
        await store.AppendAsync([e], cancellationToken);
        Interlocked.Increment(ref _written);
        message.Origin.Complete(message);
    }

    public bool TryWrite(IngestMessage message)
    {
        WriteAsync(message, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return true;
    }

    public ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken) => ValueTask.FromResult(true);

    public Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
