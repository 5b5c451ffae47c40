using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Kafka;

/// <summary>
/// Builds every client from the same options: the raw <c>Kafka:Client:*</c> properties first (SASL, TLS,
/// timeouts), then the properties the pipeline's guarantees rest on, which configuration cannot override.
/// librdkafka's own log lines and errors go to <see cref="ILogger"/>.
/// </summary>
internal sealed partial class KafkaClients(KafkaOptions options, ILoggerFactory loggerFactory)
{
    private readonly ILogger _librdkafka = loggerFactory.CreateLogger("AuditPipeline.Kafka.librdkafka");

    public KafkaOptions Options { get; } = options;

    public ConsumerConfig SourceConsumerConfig()
    {
        var config = new ConsumerConfig(new Dictionary<string, string>(Options.Client, StringComparer.Ordinal))
        {
            BootstrapServers = Options.BootstrapServers,
            GroupId = Options.GroupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = false,
            // Only what routing needs is marshalled: no headers, no timestamps.
            ConsumeResultFields = "topic",
        };
        config.AutoOffsetReset ??= AutoOffsetReset.Earliest;
        config.ClientId ??= "audit-pipeline-source";
        if (!string.IsNullOrWhiteSpace(Options.GroupInstanceId))
        {
            // Static membership: a restarted member with the same id gets its partitions back at once, without a rebalance.
            config.GroupInstanceId = Options.GroupInstanceId;
        }

        // A record up to the pipeline's message limit (and far beyond) is fetched whole: librdkafka returns a
        // record bigger than fetch.max.bytes on its own, and receive.message.max.bytes must exceed the fetch size.
        config.FetchMaxBytes ??= 52_428_800;
        config.ReceiveMessageMaxBytes ??= Math.Max(100_000_000, config.FetchMaxBytes.Value + 512);

        // The assignment strategy stays librdkafka's eager default: the revoke callback runs before the member
        // rejoins, while a broker still accepts this generation's commits, so revoked partitions hand over at
        // exactly their completed offsets. (librdkafka's cooperative-sticky can fail those commits with
        // ILLEGAL_GENERATION; it can still be chosen with Kafka:Client:partition.assignment.strategy.)

        // A topic created after start (or partitions added) is picked up within seconds, not librdkafka's 5 minutes.
        config.TopicMetadataRefreshIntervalMs ??= 10_000;
        return config;
    }

    public ConsumerConfig PlansConsumerConfig()
    {
        var config = new ConsumerConfig(new Dictionary<string, string>(Options.Client, StringComparer.Ordinal))
        {
            BootstrapServers = Options.BootstrapServers,
            // Manual assignment, never a group member, never commits: every start reads the whole topic.
            GroupId = Options.GroupId + ".plans",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            ConsumeResultFields = "topic",
        };
        config.ClientId ??= "audit-pipeline-plans";
        return config;
    }

    public ProducerConfig ProducerConfig()
    {
        var config = new ProducerConfig(new Dictionary<string, string>(Options.Client, StringComparer.Ordinal))
        {
            BootstrapServers = Options.BootstrapServers,
            EnableIdempotence = true,
            Acks = Acks.All,
        };
        config.ClientId ??= "audit-pipeline";
        // Dead letters and notifications are rare and awaited one by one: send at once.
        config.LingerMs ??= 1;

        // A rejected message may be as large as the source topic allowed; the client must not refuse it first.
        config.MessageMaxBytes ??= 16 * 1024 * 1024;

        // Never give up on a record: a record that timed out may still have been written, and sending it again
        // (a new record to the idempotent producer) would write a second copy. The producer retries it, in order,
        // until the broker acknowledges it; the caller's cancellation only stops waiting.
        config.MessageTimeoutMs = 0;
        return config;
    }

    public IConsumer<byte[]?, byte[]?> BuildConsumer(
        ConsumerConfig config,
        Action<IConsumer<byte[]?, byte[]?>, Error> onError,
        Action<ConsumerBuilder<byte[]?, byte[]?>>? configure = null)
    {
        var builder = new ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetLogHandler((_, m) => LogLibrdkafka(m))
            .SetErrorHandler(onError);
        configure?.Invoke(builder);
        return builder.Build();
    }

    public IProducer<byte[]?, byte[]?> BuildProducer(Action<Error>? onError = null) =>
        new ProducerBuilder<byte[]?, byte[]?>(ProducerConfig())
            .SetLogHandler((_, m) => LogLibrdkafka(m))
            .SetErrorHandler((_, e) =>
            {
                LogClientError(e.Reason, e.Code, e.IsFatal);
                onError?.Invoke(e);
            })
            .Build();

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Kafka producer was rebuilt after a fatal error ({Code}); producer {Builds} takes over, dead letters that failed are sent again")]
    public partial void LogProducerRebuilt(ErrorCode code, int builds);

    public void LogClientError(Error error) => LogClientError(error.Reason, error.Code, error.IsFatal);

    private void LogLibrdkafka(LogMessage m)
    {
        var level = m.Level switch
        {
            SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical => LogLevel.Critical,
            SyslogLevel.Error => LogLevel.Error,
            SyslogLevel.Warning => LogLevel.Warning,
            SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        LogLibrdkafka(level, m.Name, m.Facility, m.Message);
    }

    [LoggerMessage(Message = "{Client} {Facility}: {Text}")]
    private partial void LogLibrdkafka(LogLevel level, string client, string facility, string text);

    private void LogClientError(string reason, ErrorCode code, bool fatal)
    {
        if (fatal)
        {
            LogFatalClientError(code, reason);
        }
        else
        {
            LogTransientClientError(code, reason);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The Kafka client hit the fatal error {Code} ({Reason}); it will be rebuilt")]
    private partial void LogFatalClientError(ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Kafka client reported the error {Code}: {Reason}")]
    private partial void LogTransientClientError(ErrorCode code, string reason);
}
