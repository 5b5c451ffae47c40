using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;

namespace AuditPipeline.Kafka.Tests.Support;

/// <summary>
/// A Kafka cluster without Docker: librdkafka's built-in mock brokers (<c>test.mock.num.brokers</c>) on
/// 127.0.0.1, owned by a producer kept alive for the cluster's life. Any client pointed at
/// <see cref="BootstrapServers"/> talks to it: produce, consume, consumer groups and commits work.
/// What it does not do faithfully: CreateTopics (use <see cref="CreateTopic"/>, which calls
/// <c>rd_kafka_mock_topic_create</c> directly; auto-created topics get 4 partitions), transactions, and
/// it keeps only a few MiB per partition (spread big tests over partitions).
/// Set <c>session.timeout.ms</c> ≈ 6000 on group consumers, or a rejoin waits 45 s.
/// Self-contained on purpose: copy this one file to reuse it.
/// </summary>
public sealed class MockKafkaCluster : IDisposable
{
    private static long _names;
    private readonly IProducer<byte[]?, byte[]?> _owner;
    private readonly IntPtr _mockCluster;
    private readonly Lazy<IProducer<byte[]?, byte[]?>> _producer;

    /// <summary>Three mock brokers (the usual test fixture).</summary>
    public MockKafkaCluster()
        : this(3, unused: true)
    {
    }

    private MockKafkaCluster(int brokers, bool unused)
    {
        _ = unused;
        var config = new ProducerConfig { BootstrapServers = "mock:9092", LogConnectionClose = false };
        config.Set("test.mock.num.brokers", brokers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _owner = new ProducerBuilder<byte[]?, byte[]?>(config).SetLogHandler((_, _) => { }).Build();
        using (var admin = new DependentAdminClientBuilder(_owner.Handle).Build())
        {
            var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
            BootstrapServers = string.Join(",", metadata.Brokers.Select(b => $"{b.Host}:{b.Port}"));
        }

        _mockCluster = Native.MockCluster(_owner.Handle);
        _producer = new(() => new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig
        {
            BootstrapServers = BootstrapServers,
            LingerMs = 5,
            Acks = Acks.All,
            EnableIdempotence = true,
            QueueBufferingMaxMessages = 1_000_000,

            // Records beyond the pipeline's 1 MiB message limit, to prove they are dead-lettered.
            MessageMaxBytes = 8 * 1024 * 1024,
        }).SetLogHandler((_, _) => { }).Build());
    }

    /// <summary>A cluster of <paramref name="brokers"/> mock brokers.</summary>
    public static MockKafkaCluster Create(int brokers) => new(brokers, unused: true);

    /// <summary>The mock brokers' addresses, e.g. <c>127.0.0.1:40123,127.0.0.1:40125,127.0.0.1:40127</c>.</summary>
    public string BootstrapServers { get; }

    /// <summary>A name no other test run uses (topics and groups get a per-run suffix so reruns never collide).</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Environment.ProcessId}-{Interlocked.Increment(ref _names)}";

    /// <summary>Creates a topic with <paramref name="partitions"/> partitions (the mock has no CreateTopics API).</summary>
    public void CreateTopic(string topic, int partitions, int replicationFactor = 1)
    {
        var err = Native.TopicCreate(_mockCluster, topic, partitions, replicationFactor);
        if (err != 0)
        {
            throw new InvalidOperationException($"rd_kafka_mock_topic_create({topic}) failed with error {err}.");
        }
    }

    /// <summary>
    /// Makes the brokers answer every metadata request for <paramref name="topic"/> with an error (e.g. 5,
    /// LEADER_NOT_AVAILABLE) so that nothing can be produced to it; 0 makes it available again.
    /// </summary>
    public void SetTopicError(string topic, int error) => Native.TopicSetError(_mockCluster, topic, error);

    /// <summary>Raises a fatal error in any client (<c>rd_kafka_test_fatal_error</c>), as a fenced or broken client would see.</summary>
    public static void TriggerFatalError(Handle client, string reason)
    {
        var err = Native.TestFatalError(client, reason);
        if (err != 0)
        {
            throw new InvalidOperationException($"rd_kafka_test_fatal_error failed with error {err}.");
        }
    }

    /// <summary>Produces one record and waits for its acknowledgement.</summary>
    public Task<DeliveryResult<byte[]?, byte[]?>> ProduceAsync(string topic, string? key, string? value, int? partition = null, Headers? headers = null) =>
        ProduceAsync(topic, key is null ? null : Encoding.UTF8.GetBytes(key), value is null ? null : Encoding.UTF8.GetBytes(value), partition, headers);

    public Task<DeliveryResult<byte[]?, byte[]?>> ProduceAsync(string topic, byte[]? key, byte[]? value, int? partition = null, Headers? headers = null)
    {
        var message = new Message<byte[]?, byte[]?> { Key = key, Value = value, Headers = headers };
        return partition is { } p
            ? _producer.Value.ProduceAsync(new TopicPartition(topic, p), message)
            : _producer.Value.ProduceAsync(topic, message);
    }

    /// <summary>Produces many records fast (fire and forget), then waits until all are acknowledged.</summary>
    public void ProduceMany(IEnumerable<(string Topic, byte[]? Key, byte[]? Value, int? Partition)> records, TimeSpan? timeout = null)
    {
        var failed = 0;
        Error? firstError = null;
        void Report(DeliveryReport<byte[]?, byte[]?> r)
        {
            if (r.Error.IsError)
            {
                firstError ??= r.Error;
                Interlocked.Increment(ref failed);
            }
        }

        var producer = _producer.Value;
        foreach (var (topic, key, value, partition) in records)
        {
            var message = new Message<byte[]?, byte[]?> { Key = key, Value = value };
            while (true)
            {
                try
                {
                    if (partition is { } p)
                    {
                        producer.Produce(new TopicPartition(topic, p), message, Report);
                    }
                    else
                    {
                        producer.Produce(topic, message, Report);
                    }

                    break;
                }
                catch (ProduceException<byte[]?, byte[]?> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(50));
                }
            }
        }

        if (producer.Flush(timeout ?? TimeSpan.FromSeconds(60)) > 0)
        {
            throw new TimeoutException("Producing to the mock cluster did not finish in time.");
        }

        if (failed > 0)
        {
            throw new InvalidOperationException($"{failed} records were not acknowledged: {firstError}");
        }
    }

    /// <summary>Every record of a topic from the beginning to its current end, across partitions.</summary>
    public IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> ReadAll(string topic, TimeSpan? timeout = null)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = UniqueName("reader"),
            EnableAutoCommit = false,
            EnablePartitionEof = true,
        }).SetLogHandler((_, _) => { }).Build();
        var ends = HighWatermarks(consumer, topic);
        var records = new List<ConsumeResult<byte[]?, byte[]?>>();
        var open = ends.Where(e => e.Value > 0).Select(e => e.Key).ToHashSet();
        consumer.Assign(ends.Keys.Select(tp => new TopicPartitionOffset(tp, Offset.Beginning)));
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (open.Count > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Reading {topic} to its end did not finish in time.");
            }

            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null)
            {
                continue;
            }

            if (!r.IsPartitionEOF)
            {
                records.Add(r);
            }

            if (r.IsPartitionEOF || r.Offset.Value + 1 >= ends[r.TopicPartition])
            {
                open.Remove(r.TopicPartition);
            }
        }

        return records;
    }

    /// <summary>The high watermark of every partition of a topic.</summary>
    public Dictionary<TopicPartition, long> HighWatermarks(string topic)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig { BootstrapServers = BootstrapServers, GroupId = UniqueName("wm") })
            .SetLogHandler((_, _) => { }).Build();
        return HighWatermarks(consumer, topic);
    }

    /// <summary>The offsets a consumer group committed for every partition of the topics (<see cref="Offset.Unset"/> when none).</summary>
    public Dictionary<TopicPartition, long> CommittedOffsets(string groupId, params string[] topics)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig { BootstrapServers = BootstrapServers, GroupId = groupId, EnableAutoCommit = false })
            .SetLogHandler((_, _) => { }).Build();
        var partitions = topics.SelectMany(t => HighWatermarks(consumer, t).Keys).ToList();
        return consumer.Committed(partitions, TimeSpan.FromSeconds(10)).ToDictionary(tpo => tpo.TopicPartition, tpo => tpo.Offset.Value);
    }

    public void Dispose()
    {
        if (_producer.IsValueCreated)
        {
            _producer.Value.Flush(TimeSpan.FromSeconds(5));
            _producer.Value.Dispose();
        }

        _owner.Dispose();
    }

    private static Dictionary<TopicPartition, long> HighWatermarks(IConsumer<byte[]?, byte[]?> consumer, string topic)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
        var partitions = metadata.Topics.Single(t => t.Topic == topic).Partitions;
        return partitions.ToDictionary(
            p => new TopicPartition(topic, p.PartitionId),
            p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p.PartitionId), TimeSpan.FromSeconds(10)).High.Value);
    }

    /// <summary>The two mock-cluster functions of librdkafka's C API that Confluent.Kafka does not expose.</summary>
    private static class Native
    {
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        private delegate IntPtr HandleMockClusterFn(IntPtr rk);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        private delegate int MockTopicCreateFn(IntPtr mockCluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic, int partitionCount, int replicationFactor);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        private delegate void TopicSetErrorFn(IntPtr mockCluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic, int error);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        private delegate int TestFatalErrorFn(IntPtr rk, int err, [MarshalAs(UnmanagedType.LPUTF8Str)] string reason);

        private static readonly Lazy<IntPtr> Library = new(LoadLibrdkafka);

        public static IntPtr MockCluster(Handle handle)
        {
            var fn = Marshal.GetDelegateForFunctionPointer<HandleMockClusterFn>(NativeLibrary.GetExport(Library.Value, "rd_kafka_handle_mock_cluster"));
            var cluster = fn(RawHandle(handle));
            return cluster != IntPtr.Zero ? cluster : throw new InvalidOperationException("The client owns no mock cluster.");
        }

        public static void TopicSetError(IntPtr cluster, string topic, int error)
        {
            var fn = Marshal.GetDelegateForFunctionPointer<TopicSetErrorFn>(NativeLibrary.GetExport(Library.Value, "rd_kafka_mock_topic_set_error"));
            fn(cluster, topic, error);
        }

        public static int TestFatalError(Handle handle, string reason)
        {
            var fn = Marshal.GetDelegateForFunctionPointer<TestFatalErrorFn>(NativeLibrary.GetExport(Library.Value, "rd_kafka_test_fatal_error"));

            // RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID (82): what a fenced static group member sees.
            return fn(RawHandle(handle), 82, reason);
        }

        private static IntPtr RawHandle(Handle handle)
        {
            // Confluent.Kafka keeps the native rd_kafka_t* in an internal SafeHandle.
            var property = typeof(Handle).GetProperty("LibrdkafkaHandle", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
                ?? throw new InvalidOperationException("Confluent.Kafka's Handle.LibrdkafkaHandle was not found.");
            return ((SafeHandle)property.GetValue(handle)!).DangerousGetHandle();
        }

        public static int TopicCreate(IntPtr cluster, string topic, int partitions, int replicationFactor)
        {
            var fn = Marshal.GetDelegateForFunctionPointer<MockTopicCreateFn>(NativeLibrary.GetExport(Library.Value, "rd_kafka_mock_topic_create"));
            return fn(cluster, topic, partitions, replicationFactor);
        }

        /// <summary>The very librdkafka build Confluent.Kafka loaded (it picks one of several variants at run time).</summary>
        private static IntPtr LoadLibrdkafka()
        {
            if (File.Exists("/proc/self/maps"))
            {
                foreach (var line in File.ReadLines("/proc/self/maps"))
                {
                    var path = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(5);
                    if (path is not null && Path.GetFileName(path).Contains("librdkafka", StringComparison.Ordinal))
                    {
                        return NativeLibrary.Load(path);
                    }
                }
            }

            foreach (var name in new[] { "librdkafka", "librdkafka.so.1", "librdkafka.dylib" })
            {
                if (NativeLibrary.TryLoad(name, typeof(MockKafkaCluster).Assembly, null, out var lib))
                {
                    return lib;
                }
            }

            throw new DllNotFoundException("librdkafka is not loaded; create a Confluent.Kafka client first.");
        }
    }
}
