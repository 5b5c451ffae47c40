
namespace AuditPipeline.Core.Notifications;

/// <summary>
/// One way to tell the Outsprint app that an export is ready (a Kafka topic, a signed webhook).
/// The export service calls every registered channel and retries each with backoff.
/// </summary>
public interface INotificationChannel
{
    string Name { get; }

    /// <summary>Delivers the notification's JSON body; throws on failure so the caller retries.</summary>
    Task PublishAsync(string orgId, ReadOnlyMemory<byte> jsonBody, CancellationToken cancellationToken);
}
