using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using AuditPipeline.Core.Ingest;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Kafka;

/// <summary>
/// Writes a rejected message to <c>Kafka:DeadLetterTopic</c>: the original key and value, and the headers
/// <c>audit.error</c>, <c>audit.source.topic</c>, <c>audit.source.partition</c>, <c>audit.source.offset</c>.
/// Returns only once the record is acknowledged, so the source commits past it only then.
/// Each source position is sent at most once per process (<see cref="DeadLetterLedger"/>), and the producer
/// never times a record out, so without a crash a message is dead-lettered exactly once; the cases where a
/// second copy can still appear are listed in docs/RELIABILITY.md, and the three source headers identify it.
/// </summary>
internal sealed partial class KafkaDeadLetterWriter(KafkaProducer producer, KafkaOptions options, DeadLetterLedger ledger, ILogger<KafkaDeadLetterWriter> logger)
{
    public const string ErrorHeader = "audit.error";
    public const string TopicHeader = "audit.source.topic";
    public const string PartitionHeader = "audit.source.partition";
    public const string OffsetHeader = "audit.source.offset";

    /// <summary>Added when the broker refuses a record as large as the original: the value is cut to <see cref="TruncatedValueBytes"/>.</summary>
    public const string ValueTruncatedHeader = "audit.value.truncated";

    /// <summary>How much of a value too large for the dead-letter topic is kept: enough to recognise it, small enough for any broker.</summary>
    public const int TruncatedValueBytes = 64 * 1024;

    /// <summary>Stands for a record whose value was null (a tombstone), so the dead-letter copy is null too.</summary>
    private static readonly byte[] NullValueMarker = [0];

    private readonly string _topic = options.DeadLetterTopic;

    public KafkaDeadLetterWriter(KafkaProducer producer, KafkaOptions options, ILogger<KafkaDeadLetterWriter> logger)
        : this(producer, options, new DeadLetterLedger(Microsoft.Extensions.Logging.Abstractions.NullLogger<DeadLetterLedger>.Instance), logger)
    {
    }

    /// <summary>The producer behind the writer (for tests and diagnostics).</summary>
    public KafkaProducer Producer => producer;

    public DeadLetterLedger Ledger => ledger;

    /// <summary>The value to put in an <see cref="IngestMessage"/> for a record's value, keeping null apart from empty.</summary>
    public static ReadOnlyMemory<byte> ValueOf(byte[]? value) => value ?? new ReadOnlyMemory<byte>(NullValueMarker, 0, 0);

    public static byte[]? OriginalValue(ReadOnlyMemory<byte> value) =>
        MemoryMarshal.TryGetArray(value, out var segment) && ReferenceEquals(segment.Array, NullValueMarker) ? null : value.ToArray();

    public Task WriteAsync(IngestMessage message, string reason, CancellationToken cancellationToken)
    {
        if (message.Position is not TopicPartitionOffset source)
        {
            return SendAsync(message, reason, null);
        }

        // The send itself is not cancelled (a record handed to the producer may be written anyway); only the wait is.
        return ledger.SendOnceAsync(source, () => SendAsync(message, reason, source)).WaitAsync(cancellationToken);
    }

    private async Task SendAsync(IngestMessage message, string reason, TopicPartitionOffset? source)
    {
        var headers = new Headers
        {
            { ErrorHeader, Encoding.UTF8.GetBytes(reason) },
        };
        if (source is not null)
        {
            headers.Add(TopicHeader, Encoding.UTF8.GetBytes(source.Topic));
            headers.Add(PartitionHeader, Encoding.UTF8.GetBytes(source.Partition.Value.ToString(CultureInfo.InvariantCulture)));
            headers.Add(OffsetHeader, Encoding.UTF8.GetBytes(source.Offset.Value.ToString(CultureInfo.InvariantCulture)));
        }

        var record = new Message<byte[]?, byte[]?>
        {
            Key = message.Key?.ToArray(),
            Value = OriginalValue(message.Value),
            Headers = headers,
        };

        try
        {
            await ProduceAsync(record, source);
        }
        catch (ProduceException<byte[]?, byte[]?> ex) when (ex.Error.Code == ErrorCode.MsgSizeTooLarge && record.Value is { Length: > TruncatedValueBytes } value)
        {
            // Retrying the same record would block its partition forever: keep the key, the headers and the start of the value.
            LogValueTruncated(_topic, value.Length, source);
            headers.Add(ValueTruncatedHeader, Encoding.UTF8.GetBytes(
                $"the original value of {value.Length.ToString(CultureInfo.InvariantCulture)} bytes was too large for {_topic}; its first {TruncatedValueBytes.ToString(CultureInfo.InvariantCulture)} bytes are kept"));
            record.Value = value[..TruncatedValueBytes];
            await ProduceAsync(record, source);
        }
    }

    private async Task ProduceAsync(Message<byte[]?, byte[]?> record, TopicPartitionOffset? source)
    {
        try
        {
            await producer.ProduceAsync(_topic, record, CancellationToken.None);
        }
        catch (ProduceException<byte[]?, byte[]?> ex) when (ex.DeliveryResult?.Status == PersistenceStatus.PossiblyPersisted)
        {
            // E.g. a producer failed fatally with the record sent but not acknowledged: the retry (on a new producer,
            // which cannot know the first one's sequence numbers) may write a second copy.
            LogPossiblyWritten(ex.Error.Code, source);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The dead-letter topic {Topic} refused a {Size}-byte record from {Source}; it is dead-lettered with the start of its value and the header audit.value.truncated")]
    private partial void LogValueTruncated(string topic, int size, TopicPartitionOffset? source);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The dead letter of {Source} failed ({Code}) after it may have reached the broker; it is sent again, so the dead-letter topic may hold two copies with the same audit.source.* headers")]
    private partial void LogPossiblyWritten(ErrorCode code, TopicPartitionOffset? source);
}
