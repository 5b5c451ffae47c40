using System.Buffers;
using System.Text.Json;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using Microsoft.Extensions.Logging;
using EsMethod = Elastic.Transport.HttpMethod;

namespace AuditPipeline.Elasticsearch;

/// <summary>
/// The write side. Before the bulk, one search per batch finds the events already stored anywhere
/// (another month or retention class: the same id re-sent with another time); those are duplicates
/// and are not sent. The rest are <c>_bulk</c> <c>create</c>s with <c>_id</c> = event id into the
/// event's class-and-month index, so a redelivery to the same index is a 409, never a second copy
/// (only when another organisation holds that id is the event stored as <c>{orgId}/{eventId}</c>).
/// <para>
/// What fails, and how: no answer, 429 and 5xx are retried (failed items alone) and, after
/// <see cref="ElasticsearchOptions.MaxAttempts"/>, as refused credentials, cluster blocks and a
/// version mismatch, throw <see cref="StoreUnavailableException"/> (the pipeline pauses and retries).
/// A document the cluster refuses (400 mapping errors) comes back as
/// <see cref="AppendResult.Rejected(string)"/>. A whole request refused for another reason throws
/// <see cref="BulkRequestRefusedException"/> so the pipeline splits the batch to find the culprit.
/// A month already read-only sends the event to the class's late-arrivals index.
/// </para>
/// </summary>
internal sealed partial class AuditBulkWriter(
    ElasticsearchConnection connection,
    RetentionPlanRegistry plans,
    ElasticsearchOptions options,
    ILogger logger,
    TimeProvider time)
{
    /// <summary>Elasticsearch's limit on a document id.</summary>
    internal const int MaxIdBytes = 512;

    /// <summary>Only what the outcome needs comes back: per item its status and error (a bulk answer is otherwise ~200 bytes per item).</summary>
    internal const string BulkFilter = "filter_path=errors,error,status,items.*.status,items.*.error";

    /// <summary>The search for stored copies: only the two fields of each hit come back.</summary>
    internal static string CopiesPath => $"/{AuditIndices.AllPattern}/_search?ignore_unavailable=true&allow_no_indices=true&filter_path=hits.hits._source";

    private string BulkPath => options.RefreshOnWrite ? "/_bulk?refresh=wait_for&" + BulkFilter : "/_bulk?" + BulkFilter;

    public async Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken)
    {
        var results = new AppendResult?[events.Count];
        var pending = Prepare(events, results);
        if (pending.Count > 0)
        {
            pending = await DropStoredCopiesAsync(pending, results, cancellationToken);
        }

        var attempt = 0;
        while (pending.Count > 0)
        {
            var retry = new List<BulkItem>();
            var late = new List<BulkItem>();
            var conflicts = new List<BulkItem>();
            string? lastFailure = null;
            foreach (var chunk in Chunks(pending))
            {
                var response = await SendBulkAsync(chunk, cancellationToken);
                if (response.Retryable)
                {
                    lastFailure = response.Describe();
                    retry.AddRange(chunk);
                    continue;
                }

                if (!response.Success)
                {
                    RefuseRequest(response, chunk, results);
                    continue;
                }

                ReadItems(response.Body, chunk, results, retry, late, conflicts, ref lastFailure);
            }

            if (conflicts.Count > 0)
            {
                lastFailure = await ResolveConflictsAsync(conflicts, results, retry, cancellationToken) ?? lastFailure;
            }

            if (late.Count > 0)
            {
                await RouteLateArrivalsAsync(late, results, retry, cancellationToken);
            }

            pending = retry;
            if (pending.Count == 0)
            {
                break;
            }

            // Items re-targeted to a late index go out at once; only failures count as attempts.
            if (lastFailure is null)
            {
                continue;
            }

            attempt++;
            if (attempt >= options.MaxAttempts)
            {
                throw new StoreUnavailableException($"Elasticsearch did not take {pending.Count} of {events.Count} events after {attempt} attempts; last answer: {lastFailure}");
            }

            await PauseAsync(attempt, pending.Count, lastFailure, cancellationToken);
        }

        var final = new AppendResult[events.Count];
        for (var i = 0; i < final.Length; i++)
        {
            final[i] = results[i] ?? throw new InvalidOperationException($"No outcome for event {events[i].Id}.");
        }

        return final;
    }

    /// <summary>
    /// The bulk items of the batch. Events that can never be written get their rejection here (an id
    /// Elasticsearch cannot take, a document that cannot be serialized), and a second event with the
    /// same organisation and id in one batch is a duplicate of the first, wherever its time points.
    /// </summary>
    private List<BulkItem> Prepare(IReadOnlyList<AuditEvent> events, AppendResult?[] results)
    {
        var pending = new List<BulkItem>(events.Count);
        var seen = new HashSet<(string, string)>();
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];

            // Elasticsearch refuses the whole bulk request for an _id over 512 bytes: refuse just that event.
            if (System.Text.Encoding.UTF8.GetByteCount(e.Id) > MaxIdBytes)
            {
                results[i] = AppendResult.Rejected($"The event id is longer than {MaxIdBytes} bytes, the most Elasticsearch takes as a document id.");
                continue;
            }

            if (!seen.Add((e.OrgId, e.Id)))
            {
                results[i] = AppendResult.Duplicate;
                continue;
            }

            byte[] document;
            try
            {
                document = BulkBody.Document(e);
            }
            catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException or NotSupportedException)
            {
                results[i] = AppendResult.Rejected($"The event cannot be written as an Elasticsearch document: {ex.Message}");
                continue;
            }

            var retentionClass = plans.ClassFor(e.OrgId, e.Time);
            pending.Add(new BulkItem(i, e.Id, e.Id, e.OrgId, retentionClass, AuditIndices.Month(retentionClass, e.Time), document));
        }

        return pending;
    }

    /// <summary>A whole bulk request refused without per-item answers.</summary>
    private void RefuseRequest(EsResponse response, List<BulkItem> chunk, AppendResult?[] results)
    {
        var type = response.ErrorType;
        if (response.Unauthorized || response.Status == 404 || type is "media_type_header_exception" or "cluster_block_exception" or "security_exception")
        {
            throw new StoreUnavailableException($"Elasticsearch refused the bulk request ({response.Describe()}); check Elasticsearch:Url, Elasticsearch:ApiKey or Elasticsearch:Username/Password, the writer role, the cluster's version and cluster blocks.");
        }

        if (chunk.Count == 1)
        {
            // Nothing else was in the request: this event is the cause.
            var item = chunk[0];
            LogRejected(item.EventId, item.Index, response.Status ?? 0, type, response.Describe());
            results[item.Position] = AppendResult.Rejected($"Elasticsearch refused the request that carried this event: {response.Describe()}");
            return;
        }

        throw new BulkRequestRefusedException($"Elasticsearch refused a bulk request of {chunk.Count} events for good ({response.Describe()}); a smaller batch isolates the event that causes it.");
    }

    private Task PauseAsync(int attempt, int count, string failure, CancellationToken cancellationToken)
    {
        var delay = Backoff.Delay(attempt - 1, options.RetryMinDelay, options.RetryMaxDelay);
        LogBulkRetry(count, attempt, delay, failure);
        return Task.Delay(delay, time, cancellationToken);
    }

    private IEnumerable<List<BulkItem>> Chunks(List<BulkItem> pending)
    {
        var chunk = new List<BulkItem>();
        var bytes = 0;
        foreach (var item in pending)
        {
            var size = BulkBody.Size(item.Index, item.Id, item.Document.Length);
            if (chunk.Count > 0 && (chunk.Count >= options.BulkMaxDocuments || bytes + size > options.BulkMaxBytes))
            {
                yield return chunk;
                chunk = [];
                bytes = 0;
            }

            chunk.Add(item);
            bytes += size;
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    private Task<EsResponse> SendBulkAsync(List<BulkItem> chunk, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(chunk.Sum(i => BulkBody.Size(i.Index, i.Id, i.Document.Length)) + 64);
        foreach (var item in chunk)
        {
            BulkBody.Append(buffer, item.Index, item.Id, item.Document);
        }

        return connection.SendAsync(EsMethod.POST, BulkPath, buffer.WrittenMemory, cancellationToken, ndjson: true);
    }

    private void ReadItems(byte[] body, List<BulkItem> chunk, AppendResult?[] results, List<BulkItem> retry, List<BulkItem> late, List<BulkItem> conflicts, ref string? lastFailure)
    {
        using var doc = JsonDocument.Parse(body);
        if (!doc.RootElement.TryGetProperty("items", out var itemsJson) || itemsJson.GetArrayLength() != chunk.Count)
        {
            throw new StoreUnavailableException($"Elasticsearch answered a bulk request of {chunk.Count} items without one result per item.");
        }

        var n = 0;
        foreach (var entry in itemsJson.EnumerateArray())
        {
            var item = chunk[n++];
            var result = entry.EnumerateObject().First().Value;
            var status = result.TryGetProperty("status", out var s) ? s.GetInt32() : 0;
            string? type = null;
            string? reason = null;
            if (result.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                type = error.TryGetProperty("type", out var t) ? t.GetString() : null;
                reason = error.TryGetProperty("reason", out var r) ? r.GetString() : null;
            }

            switch (Classify(status, type, reason, item.Index))
            {
                case ItemOutcome.Stored:
                    results[item.Position] = AppendResult.Stored;
                    break;
                case ItemOutcome.Duplicate:
                    conflicts.Add(item);
                    break;
                case ItemOutcome.Retry:
                    lastFailure = $"item {item.Id}: HTTP {status} {type}: {reason}";
                    retry.Add(item);
                    break;
                case ItemOutcome.Late:
                    late.Add(item);
                    break;
                case ItemOutcome.Rejected:
                    LogRejected(item.EventId, item.Index, status, type, reason);
                    results[item.Position] = AppendResult.Rejected($"Elasticsearch rejected the document ({status} {type}): {reason}");
                    break;
                default:
                    throw new StoreUnavailableException($"Elasticsearch cannot take writes to {item.Index} ({status} {type}): {reason}");
            }
        }
    }

    internal static ItemOutcome Classify(int status, string? type, string? reason, string index)
    {
        if (status is 200 or 201)
        {
            return ItemOutcome.Stored;
        }

        if (status == 409)
        {
            return ItemOutcome.Duplicate;
        }

        if (status is 429 or >= 500)
        {
            return ItemOutcome.Retry;
        }

        if (type is "cluster_block_exception" or "index_closed_exception" or "security_exception" or "index_not_found_exception" || status is 401 or 403 or 404)
        {
            // Only an index made read-only by ILM (a write block) means "this month is closed":
            // cluster-wide or disk-watermark blocks mean the store cannot take writes now.
            return IsIndexWriteBlock(type, reason) && !AuditIndices.IsLate(index)
                ? ItemOutcome.Late
                : ItemOutcome.Unavailable;
        }

        return ItemOutcome.Rejected;
    }

    private static bool IsIndexWriteBlock(string? type, string? reason) =>
        type == "cluster_block_exception" && reason is not null &&
        (reason.Contains("index write (api)", StringComparison.Ordinal) ||
         (reason.Contains("index read-only (api)", StringComparison.Ordinal) && !reason.Contains("allow delete", StringComparison.Ordinal)));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Elasticsearch did not take {Count} events (attempt {Attempt}); retrying them in {Delay}: {Failure}")]
    private partial void LogBulkRetry(int count, int attempt, TimeSpan delay, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Elasticsearch rejected event {EventId} for {Index} ({Status} {ErrorType}): {Reason}")]
    private partial void LogRejected(string eventId, string index, int status, string? errorType, string? reason);

    internal enum ItemOutcome
    {
        Stored,
        Duplicate,
        Retry,
        Late,
        Rejected,
        Unavailable,
    }

    /// <summary>One event on its way: <see cref="Id"/> is the document id (the event id, or org/id when another organisation holds it).</summary>
    private sealed record BulkItem(int Position, string Id, string EventId, string OrgId, RetentionClass Class, string Index, byte[] Document);
}
