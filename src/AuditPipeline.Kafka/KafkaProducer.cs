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
            var produce = instance.Producer.ProduceAsync(topic, message, cancellationToken);
            if (await Task.WhenAny(produce, instance.Destroyed) != produce)
            {
                // Destroyed before it reported: the record may or may not have been written.
                throw new KafkaException(new Error(ErrorCode.Local_Fatal, "the producer failed fatally before it reported this record; it may have been written", isFatal: true));
            }

            return await produce;
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
            current.Destroy();
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
            Instance? built = null;
            built = new Instance(
                clients.BuildProducer(e =>
                {
                    signal.Observe(e);
                    if (e.IsFatal)
                    {
                        // Not on librdkafka's thread: retiring waits for the failed producer's reports.
                        _ = Task.Run(() => Retire(built!));
                    }
                }),
                signal);
            _current = built;
            var builds = Interlocked.Increment(ref _builds);
            if (builds > 1)
            {
                clients.LogProducerRebuilt(failed?.Signal.Fatal?.Code ?? ErrorCode.Local_Fatal, builds);
            }

            if (failed is not null)
            {
                _ = Task.Run(() => Retire(failed));
            }

            return built;
        }
    }

    /// <summary>
    /// Destroys a fatal producer once it has reported what it holds. librdkafka fails its queued records at once
    /// on a fatal error and the records in flight when their requests end; their callers retry on the next
    /// producer. A record that never reported by then is failed here, as one that may have been written.
    /// </summary>
    private void Retire(Instance failed)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_current, failed))
            {
                _current = null;
            }

            if (failed.Retired)
            {
                return;
            }

            failed.Retired = true;
        }

        try
        {
            failed.Producer.Flush(TimeSpan.FromSeconds(30));
        }
        catch (KafkaException)
        {
            // A fatal producer may refuse even this; its queue dies with it.
        }
        finally
        {
            failed.Destroy();
            failed.Producer.Dispose();
        }
    }

    private sealed class Instance(IProducer<byte[]?, byte[]?> producer, FatalErrorSignal signal)
    {
        public IProducer<byte[]?, byte[]?> Producer { get; } = producer;

        public FatalErrorSignal Signal { get; } = signal;

        private readonly TaskCompletionSource _destroyed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Retired { get; set; }

        /// <summary>Completes when the producer is destroyed: a produce still waiting then will never hear back.</summary>
        public Task Destroyed => _destroyed.Task;

        public void Destroy() => _destroyed.TrySetResult();
    }
}
