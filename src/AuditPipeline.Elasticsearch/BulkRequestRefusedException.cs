namespace AuditPipeline.Elasticsearch;

/// <summary>
/// Elasticsearch refused a whole bulk request of several events for a reason that will not pass
/// (not unavailability): the pipeline splits the batch until the event that causes it is alone.
/// </summary>
public sealed class BulkRequestRefusedException(string message) : Exception(message);
