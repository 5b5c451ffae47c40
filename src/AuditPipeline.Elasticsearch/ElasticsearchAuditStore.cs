using AuditPipeline.Core.Events;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Elasticsearch;

/// <summary>
/// The production store: <see cref="AuditBulkWriter"/> appends, <see cref="AuditEventReader"/> reads.
/// Retention is ILM's job (see <see cref="ApplyRetentionAsync"/>).
/// </summary>
internal sealed class ElasticsearchAuditStore : IAuditStore
{
    /// <summary>Elasticsearch's limit on a document id.</summary>
    internal const int MaxIdBytes = AuditBulkWriter.MaxIdBytes;

    private readonly AuditBulkWriter _writer;
    private readonly AuditEventReader _reader;

    public ElasticsearchAuditStore(
        ElasticsearchConnection connection,
        RetentionPlanRegistry plans,
        IOptions<ElasticsearchOptions> options,
        ILogger<ElasticsearchAuditStore> logger,
        TimeProvider? time = null)
    {
        _writer = new AuditBulkWriter(connection, plans, options.Value, logger, time ?? TimeProvider.System);
        _reader = new AuditEventReader(connection, options.Value, logger);
    }

    internal static string SearchPath => AuditEventReader.SearchPath;

    public Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken) =>
        _writer.AppendAsync(events, cancellationToken);

    public Task<AuditEvent?> GetAsync(string orgId, string eventId, CancellationToken cancellationToken) =>
        _reader.GetAsync(orgId, eventId, cancellationToken);

    public Task<AuditPage> QueryAsync(AuditQuery query, int limit, CancellationToken cancellationToken) =>
        _reader.QueryAsync(query, limit, cancellationToken);

    public IAsyncEnumerable<AuditEvent> StreamAsync(AuditQuery query, CancellationToken cancellationToken) =>
        _reader.StreamAsync(query, cancellationToken);

    /// <summary>
    /// Nothing to do here: each class's ILM policy archives and deletes whole monthly indices by the
    /// month in their names. Reported empty on purpose.
    /// </summary>
    public Task<RetentionReport> ApplyRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        Task.FromResult(new RetentionReport([], []));

    public Task<bool> IsReadyAsync(CancellationToken cancellationToken) => _reader.IsReadyAsync(cancellationToken);
}
