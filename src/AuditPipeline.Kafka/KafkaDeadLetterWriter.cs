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
/// </summary>
internal sealed partial class KafkaDeadLetterWriter(KafkaProducer producer, KafkaOptions options, ILogger<KafkaDeadLetterWriter> logger)
{
    public const string ErrorHeader = "audit.error";
    public const string TopicHeader = "audit.source.topic";
    public const string PartitionHeader = "audit.source.partition";
    public const string OffsetHeader = "audit.source.offset";

    /// <summary>Set instead of the value when the broker refuses a record as large as the original.</summary>
    public const string ValueOmittedHeader = "audit.value.omitted";

    /// <summary>Stands for a record whose value was null (a tombstone), so the dead-letter copy is null too.</summary>
    private static readonly byte[] NullValueMarker = [0];

    private readonly string _topic = options.DeadLetterTopic;

    /// <summary>The value to put in an <see cref="IngestMessage"/> for a record's value, keeping null apart from empty.</summary>
    public static ReadOnlyMemory<byte> ValueOf(byte[]? value) => value ?? new ReadOnlyMemory<byte>(NullValueMarker, 0, 0);

    public static byte[]? OriginalValue(ReadOnlyMemory<byte> value) =>
        MemoryMarshal.TryGetArray(value, out var segment) && ReferenceEquals(segment.Array, NullValueMarker) ? null : value.ToArray();

    public async Task WriteAsync(IngestMessage message, string reason, CancellationToken cancellationToken)
    {
        var source = message.Position as TopicPartitionOffset;
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
            await producer.ProduceAsync(_topic, record, cancellationToken);
        }
        catch (ProduceException<byte[]?, byte[]?> ex) when (ex.Error.Code == ErrorCode.MsgSizeTooLarge)
        {
            // Retrying the same record would block its partition forever: keep the key, the headers and the size.
            var size = message.Value.Length;
            LogValueOmitted(_topic, size, source);
            headers.Add(ValueOmittedHeader, Encoding.UTF8.GetBytes($"the original value of {size.ToString(CultureInfo.InvariantCulture)} bytes was too large for {_topic}"));
            record.Value = null;
            await producer.ProduceAsync(_topic, record, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The dead-letter topic {Topic} refused a {Size}-byte record from {Source}; it is dead-lettered without its value")]
    private partial void LogValueOmitted(string topic, int size, TopicPartitionOffset? source);
}
