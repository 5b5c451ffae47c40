using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using EsMethod = Elastic.Transport.HttpMethod;

namespace AuditPipeline.Elasticsearch;

/// <summary>
/// The production store. Writes are <c>_bulk</c> <c>create</c>s with <c>_id</c> = event id into the
/// event's class-and-month index, so a redelivery is a 409, never a second copy (only when another
/// organisation already holds that id is the event stored as <c>{orgId}/{eventId}</c>). 429 and 5xx
/// are retried for the failed items alone; a mapping error rejects one event; refused credentials
/// and cluster blocks make the store unavailable; a month already read-only sends the event to the
/// class's late-arrivals index. Reads search <c>audit-events-*</c> newest first; streams walk a
/// point in time with <c>search_after</c>. Retention is ILM's job (see <see cref="ApplyRetentionAsync"/>).
/// </summary>
internal sealed partial class ElasticsearchAuditStore : IAuditStore
{
    /// <summary>Elasticsearch's limit on a document id.</summary>
    internal const int MaxIdBytes = 512;

    private readonly ElasticsearchConnection _connection;
    private readonly RetentionPlanRegistry _plans;
    private readonly ElasticsearchOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ElasticsearchAuditStore> _logger;

    public ElasticsearchAuditStore(
        ElasticsearchConnection connection,
        RetentionPlanRegistry plans,
        IOptions<ElasticsearchOptions> options,
        ILogger<ElasticsearchAuditStore> logger,
        TimeProvider? time = null)
    {
        _connection = connection;
        _plans = plans;
        _options = options.Value;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Only what the outcome needs comes back: per item its status and error (a bulk answer is otherwise ~200 bytes per item).</summary>
    internal const string BulkFilter = "filter_path=errors,error,status,items.*.status,items.*.error";

    private string BulkPath => _options.RefreshOnWrite ? "/_bulk?refresh=wait_for&" + BulkFilter : "/_bulk?" + BulkFilter;

    public async Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken)
    {
        var results = new AppendResult?[events.Count];
        var items = new BulkItem[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var retentionClass = _plans.ClassFor(e.OrgId, e.Time);
            items[i] = new BulkItem(i, e.Id, e.Id, e.OrgId, retentionClass, AuditIndices.Month(retentionClass, e.Time), BulkBody.Document(e));
        }

        var pending = new List<BulkItem>(events.Count);
        foreach (var item in items)
        {
            // Elasticsearch refuses the whole bulk request for an _id over 512 bytes: refuse just that event.
            if (System.Text.Encoding.UTF8.GetByteCount(item.Id) > MaxIdBytes)
            {
                results[item.Position] = AppendResult.Rejected($"The event id is longer than {MaxIdBytes} bytes, the most Elasticsearch takes as a document id.");
            }
            else
            {
                pending.Add(item);
            }
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
                if (response.Unauthorized)
                {
                    throw new StoreUnavailableException($"Elasticsearch refused the bulk request ({response.Describe()}); check Elasticsearch:ApiKey or Elasticsearch:Username/Password, the writer role and cluster blocks.");
                }

                if (response.Retryable)
                {
                    lastFailure = response.Describe();
                    retry.AddRange(chunk);
                    continue;
                }

                if (!response.Success)
                {
                    throw new StoreUnavailableException($"Elasticsearch rejected a bulk request: {response.Describe()}");
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
            if (attempt >= _options.MaxAttempts)
            {
                throw new StoreUnavailableException($"Elasticsearch did not take {pending.Count} of {events.Count} events after {attempt} attempts; last answer: {lastFailure}");
            }

            var delay = Backoff(attempt);
            LogBulkRetry(pending.Count, attempt, delay, lastFailure);
            await Task.Delay(delay, _time, cancellationToken);
        }

        var final = new AppendResult[events.Count];
        for (var i = 0; i < final.Length; i++)
        {
            final[i] = results[i] ?? throw new InvalidOperationException($"No outcome for event {events[i].Id}.");
        }

        return final;
    }

    public async Task<AuditEvent?> GetAsync(string orgId, string eventId, CancellationToken cancellationToken)
    {
        var response = await _connection.SendAsync(EsMethod.POST, SearchPath, SearchBodies.Get(orgId, eventId), cancellationToken);
        EnsureReadSucceeded(response, "get an event");
        var page = ReadHits(response.Body);
        return page.Events.Count == 0 ? null : page.Events[0];
    }

    public async Task<AuditPage> QueryAsync(AuditQuery query, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var matches = new List<AuditEvent>(limit + 1);
        var after = query.After;
        var size = limit + 1;
        while (matches.Count <= limit)
        {
            var response = await _connection.SendAsync(EsMethod.POST, SearchPath, SearchBodies.Search(query, size, after), cancellationToken);
            EnsureReadSucceeded(response, "search events");
            var page = ReadHits(response.Body);
            foreach (var e in page.Events)
            {
                after = AuditPosition.Of(e);

                // The index is built to match exactly; the reference semantics have the last word.
                if (query.Matches(e))
                {
                    matches.Add(e);
                    if (matches.Count > limit)
                    {
                        break;
                    }
                }
            }

            if (page.Events.Count < size)
            {
                break;
            }
        }

        var items = matches.Count > limit ? matches.GetRange(0, limit) : matches;
        var next = matches.Count > limit ? AuditPosition.Of(items[^1]) : (AuditPosition?)null;
        return new AuditPage(items, next);
    }

    public async IAsyncEnumerable<AuditEvent> StreamAsync(AuditQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var keepAlive = SearchBodies.Duration(_options.PointInTimeKeepAlive);
        var opened = await _connection.SendAsync(EsMethod.POST, $"/{AuditIndices.AllPattern}/_pit?keep_alive={keepAlive}", null, cancellationToken);
        if (opened.Status == 404)
        {
            yield break;
        }

        EnsureReadSucceeded(opened, "open a point in time");
        var pitId = ReadPointInTimeId(opened.Body) ?? throw new StoreUnavailableException("Elasticsearch opened a point in time without an id.");
        try
        {
            string? lastSort = null;
            while (true)
            {
                var body = SearchBodies.PointInTimePage(query, _options.StreamPageSize, pitId, _options.PointInTimeKeepAlive, lastSort);
                var response = await _connection.SendAsync(EsMethod.POST, "/_search", body, cancellationToken);
                EnsureReadSucceeded(response, "read a page of events");
                var page = ReadHits(response.Body);
                pitId = page.PointInTimeId ?? pitId;
                lastSort = page.LastSort ?? lastSort;
                foreach (var e in page.Events)
                {
                    if (query.Matches(e))
                    {
                        yield return e;
                    }
                }

                if (page.Events.Count < _options.StreamPageSize || page.LastSort is null)
                {
                    yield break;
                }
            }
        }
        finally
        {
            await ClosePointInTimeAsync(pitId);
        }
    }

    /// <summary>
    /// Nothing to do here: each class's ILM policy archives and deletes whole monthly indices by the
    /// month in their names. Reported empty on purpose.
    /// </summary>
    public Task<RetentionReport> ApplyRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        Task.FromResult(new RetentionReport([], []));

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        // HEAD / needs the monitor privilege; a 403 still proves the cluster answers and knows us.
        var response = await _connection.SendAsync(EsMethod.HEAD, "/", null, cancellationToken);
        return response.Success || response.Status == 403;
    }

    internal static string SearchPath => $"/{AuditIndices.AllPattern}/_search?ignore_unavailable=true&allow_no_indices=true";

    private async Task ClosePointInTimeAsync(string pitId)
    {
        // Closed also after cancellation or a failure: with its own short deadline, never the caller's token.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            var response = await _connection.SendAsync(EsMethod.DELETE, "/_pit", SearchBodies.ClosePointInTime(pitId), timeout.Token);
            if (!response.Success && response.Status != 404)
            {
                LogPointInTimeNotClosed(response.Describe());
            }
        }
        catch (Exception ex)
        {
            LogPointInTimeNotClosed(ex.Message);
        }
    }

    private IEnumerable<List<BulkItem>> Chunks(List<BulkItem> pending)
    {
        var chunk = new List<BulkItem>();
        var bytes = 0;
        foreach (var item in pending)
        {
            var size = BulkBody.Size(item.Index, item.Id, item.Document.Length);
            if (chunk.Count > 0 && (chunk.Count >= _options.BulkMaxDocuments || bytes + size > _options.BulkMaxBytes))
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

        return _connection.SendAsync(EsMethod.POST, BulkPath, buffer.WrittenMemory, cancellationToken, ndjson: true);
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

        if (type == "cluster_block_exception" || type == "index_closed_exception" || status is 401 or 403 or 404)
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

    /// <summary>
    /// A 409 means the document id is taken. It is this event (a redelivery: duplicate) unless the
    /// copy belongs to another organisation; then this organisation's event gets the id
    /// <c>{orgId}/{eventId}</c>, so appends stay idempotent per organisation. Returns a failure
    /// description when a copy vanished in between (it is written again after a back-off).
    /// </summary>
    private async Task<string?> ResolveConflictsAsync(List<BulkItem> conflicts, AppendResult?[] results, List<BulkItem> retry, CancellationToken cancellationToken)
    {
        var response = await _connection.SendAsync(EsMethod.POST, "/_mget?_source_includes=organization.id", SearchBodies.Docs(conflicts.Select(c => (c.Index, c.Id))), cancellationToken);
        if (!response.Success)
        {
            throw new StoreUnavailableException($"Elasticsearch could not look up the owners of {conflicts.Count} existing documents: {response.Describe()}");
        }

        var owners = ReadOwners(response.Body);
        if (owners.Count != conflicts.Count)
        {
            throw new StoreUnavailableException($"Elasticsearch answered {owners.Count} documents for {conflicts.Count} looked up.");
        }

        string? failure = null;
        for (var i = 0; i < conflicts.Count; i++)
        {
            var item = conflicts[i];
            switch (owners[i])
            {
                case null:
                    failure = $"document {item.Id} in {item.Index} conflicted but is gone";
                    retry.Add(item);
                    break;
                case var owner when owner == item.OrgId || item.Id != item.EventId:
                    results[item.Position] = AppendResult.Duplicate;
                    break;
                default:
                    var own = item.OrgId + "/" + item.EventId;
                    if (System.Text.Encoding.UTF8.GetByteCount(own) > MaxIdBytes)
                    {
                        results[item.Position] = AppendResult.Rejected($"The event id is taken by another organisation and '{own}' is longer than {MaxIdBytes} bytes.");
                    }
                    else
                    {
                        LogIdTakenByOtherOrg(item.EventId, item.Index, own);
                        retry.Add(item with { Id = own });
                    }

                    break;
            }
        }

        return failure;
    }

    /// <summary>
    /// Events whose month index is read-only: a copy of the same organisation's event anywhere in
    /// the class's indices makes them a duplicate; the others go to the class's late-arrivals index
    /// of the current month.
    /// </summary>
    private async Task RouteLateArrivalsAsync(List<BulkItem> late, AppendResult?[] results, List<BulkItem> retry, CancellationToken cancellationToken)
    {
        foreach (var group in late.GroupBy(i => i.Class))
        {
            var ids = group.Select(i => i.EventId).Distinct(StringComparer.Ordinal).ToList();
            var path = $"/{AuditIndices.ClassPattern(group.Key)}/_search?ignore_unavailable=true&allow_no_indices=true";
            var response = await _connection.SendAsync(EsMethod.POST, path, SearchBodies.Copies(ids), cancellationToken);
            if (!response.Success)
            {
                throw new StoreUnavailableException($"Elasticsearch could not check late arrivals for copies: {response.Describe()}");
            }

            var found = ReadCopies(response.Body);
            var lateIndex = AuditIndices.Late(group.Key, _time.GetUtcNow());
            foreach (var item in group)
            {
                if (found.Contains((item.OrgId, item.EventId)))
                {
                    results[item.Position] = AppendResult.Duplicate;
                }
                else
                {
                    LogLateArrival(item.EventId, item.Index, lateIndex);
                    retry.Add(item with { Index = lateIndex });
                }
            }
        }
    }

    private TimeSpan Backoff(int attempt)
    {
        var min = _options.RetryMinDelay.TotalMilliseconds;
        var max = _options.RetryMaxDelay.TotalMilliseconds;
        var ceiling = Math.Min(max, min * Math.Pow(2, attempt - 1));

        // Equal jitter: half fixed, half random, so many writers do not retry in step.
        return TimeSpan.FromMilliseconds((ceiling / 2) + (Random.Shared.NextDouble() * ceiling / 2));
    }

    private static void EnsureReadSucceeded(EsResponse response, string what)
    {
        if (!response.Success)
        {
            throw new StoreUnavailableException($"Elasticsearch could not {what}: {response.Describe()}");
        }
    }

    private static (List<AuditEvent> Events, string? PointInTimeId, string? LastSort) ReadHits(byte[] body)
    {
        using var doc = JsonDocument.Parse(body);
        var events = new List<AuditEvent>();
        string? lastSort = null;
        var root = doc.RootElement;
        if (root.TryGetProperty("hits", out var hits) && hits.TryGetProperty("hits", out var list))
        {
            foreach (var hit in list.EnumerateArray())
            {
                if (hit.TryGetProperty("_source", out var source))
                {
                    var document = source.Deserialize(AuditDocumentJsonContext.Default.AuditDocument)
                        ?? throw new JsonException("A search hit had a null _source.");
                    events.Add(document.ToEvent());
                }

                lastSort = hit.TryGetProperty("sort", out var sort) ? sort.GetRawText() : null;
            }
        }

        var pit = root.TryGetProperty("pit_id", out var p) ? p.GetString() : null;
        return (events, pit, lastSort);
    }

    /// <summary>(organisation, event id) of every hit.</summary>
    private static HashSet<(string Org, string Id)> ReadCopies(byte[] body)
    {
        using var doc = JsonDocument.Parse(body);
        var copies = new HashSet<(string, string)>();
        if (doc.RootElement.TryGetProperty("hits", out var hits) && hits.TryGetProperty("hits", out var list))
        {
            foreach (var hit in list.EnumerateArray())
            {
                if (hit.TryGetProperty("_source", out var source) &&
                    source.TryGetProperty("organization", out var org) && org.TryGetProperty("id", out var orgId) &&
                    source.TryGetProperty("event", out var ev) && ev.TryGetProperty("id", out var id))
                {
                    copies.Add((orgId.GetString()!, id.GetString()!));
                }
            }
        }

        return copies;
    }

    /// <summary>The organisation of each looked-up document, in request order; null when it is not there.</summary>
    private static List<string?> ReadOwners(byte[] body)
    {
        using var doc = JsonDocument.Parse(body);
        var owners = new List<string?>();
        if (doc.RootElement.TryGetProperty("docs", out var docs))
        {
            foreach (var d in docs.EnumerateArray())
            {
                var found = d.TryGetProperty("found", out var f) && f.ValueKind == JsonValueKind.True;
                owners.Add(found && d.TryGetProperty("_source", out var source) &&
                    source.TryGetProperty("organization", out var org) && org.TryGetProperty("id", out var id)
                    ? id.GetString()
                    : null);
            }
        }

        return owners;
    }

    private static string? ReadPointInTimeId(byte[] body)
    {
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.TryGetProperty("id", out var id) ? id.GetString() : null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Elasticsearch did not take {Count} events (attempt {Attempt}); retrying them in {Delay}: {Failure}")]
    private partial void LogBulkRetry(int count, int attempt, TimeSpan delay, string failure);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} arrived after {Index} became read-only; storing it in {LateIndex}")]
    private partial void LogLateArrival(string eventId, string index, string lateIndex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Elasticsearch rejected event {EventId} for {Index} ({Status} {ErrorType}): {Reason}")]
    private partial void LogRejected(string eventId, string index, int status, string? errorType, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event id {EventId} is taken in {Index} by another organisation; storing this one as {DocumentId}")]
    private partial void LogIdTakenByOtherOrg(string eventId, string index, string documentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A point in time could not be closed (it expires by itself): {Reason}")]
    private partial void LogPointInTimeNotClosed(string reason);

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
