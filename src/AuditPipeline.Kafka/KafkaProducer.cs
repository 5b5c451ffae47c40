using AuditPipeline.Kafka.Clients;
using Confluent.Kafka;

namespace AuditPipeline.Kafka;

/// <summary>
/// The process's one idempotent producer (<c>acks=all</c>), shared by the dead-letter writer and the
/// notification channel; built on first use so that an api-only process that never publishes opens no
/// connection. After a fatal error (a fenced or broken idempotent producer fails everything it holds) the
/// next produce builds a new one: a dead letter that failed with it is retried by its caller on the new one.
/// </summary>
internal sealed class KafkaProducer(KafkaClients clients) : IDisposable
{
    private readonly Lock _gate = new();
    private Instance? _current;
    private int _builds;
    private bool _disposed;

    /// <summary>How many producers were built (more than one after a fatal error).</summary>
    public int Builds => Volatile.Read(ref _builds);

    /// <summary>The live producer (built now if none is).</summary>
    public IProducer<byte[]?, byte[]?> Producer => Current().Producer;

    /// <summary>Produces and returns once the record is acknowledged by all in-sync replicas.</summary>
    public async Task<DeliveryResult<byte[]?, byte[]?>> ProduceAsync(string topic, Message<byte[]?, byte[]?> message, CancellationToken cancellationToken)
    {
        var instance = Current();
        try
        {
            return await instance.Producer.ProduceAsync(topic, message, cancellationToken);
        }
        catch (KafkaException ex) when (ex.Error.IsFatal || instance.Signal.Fatal is not null)
        {
            // The error callback may come after the failed delivery: retire this instance now, not on the next call.
            instance.Signal.Observe(new Error(ex.Error.Code, ex.Error.Reason, isFatal: true));
            throw;
        }
    }

    public void Dispose()
    {
        Instance? current;
        lock (_gate)
        {
            _disposed = true;
            current = _current;
            _current = null;
        }

        if (current is not null)
        {
            // Whatever is still queued had no caller waiting for it, or its caller will retry.
            current.Producer.Flush(TimeSpan.FromSeconds(5));
            current.Producer.Dispose();
        }
    }

    private Instance Current()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_current is { } live && live.Signal.Fatal is null)
            {
                return live;
            }

            var failed = _current;
            var signal = new FatalErrorSignal();
            _current = new Instance(clients.BuildProducer(signal.Observe), signal);
            var builds = Interlocked.Increment(ref _builds);
            if (failed is not null)
            {
                clients.LogProducerRebuilt(failed.Signal.Fatal!.Code, builds);

                // A fatal producer has already failed what it held; destroying it may wait on its threads, so not here.
                _ = Task.Run(() => failed.Producer.Dispose());
            }

            return _current;
        }
    }

    private sealed record Instance(IProducer<byte[]?, byte[]?> Producer, FatalErrorSignal Signal);
}
