using System.Runtime.CompilerServices;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;
using Microsoft.Extensions.Logging;
using EsMethod = Elastic.Transport.HttpMethod;

namespace AuditPipeline.Elasticsearch;

/// <summary>
/// The read side: searches over <c>audit-events-*</c> newest first. A page is a plain search with
/// <c>search_after</c>; a stream walks a point in time. The index filters exactly for everything but
/// free-text terms longer than the indexed prefixes; the query's own semantics have the last word,
/// and a page's work is capped (<see cref="ElasticsearchOptions.QueryMaxExamined"/>): when the cap is
/// reached the page ends with what it has and a position to go on from.
/// </summary>
internal sealed partial class AuditEventReader(ElasticsearchConnection connection, ElasticsearchOptions options, ILogger logger)
{
    /// <summary>The biggest page fetched while looking for more matches than the first page gave.</summary>
    internal const int MaxPageSize = 1000;

    internal static string SearchPath => $"/{AuditIndices.AllPattern}/_search?ignore_unavailable=true&allow_no_indices=true";

    public async Task<AuditEvent?> GetAsync(string orgId, string eventId, CancellationToken cancellationToken)
    {
        var response = await connection.SendAsync(EsMethod.POST, SearchPath, SearchBodies.Get(orgId, eventId), cancellationToken);
        EnsureSucceeded(response, "get an event");
        var page = EsHits.Read(response.Body);
        return page.Events.Count == 0 ? null : page.Events[0];
    }

    public async Task<AuditPage> QueryAsync(AuditQuery query, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var matches = new List<AuditEvent>(limit + 1);
        var after = query.After;
        var size = limit + 1;
        var examined = 0;
        var exhausted = false;
        while (matches.Count <= limit)
        {
            if (examined >= options.QueryMaxExamined)
            {
                break;
            }

            size = Math.Min(size, Math.Max(1, options.QueryMaxExamined - examined));
            var response = await connection.SendAsync(EsMethod.POST, SearchPath, SearchBodies.Search(query, size, after), cancellationToken);
            EnsureSucceeded(response, "search events");
            var page = EsHits.Read(response.Body);
            foreach (var e in page.Events)
            {
                examined++;
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
                exhausted = true;
                break;
            }

            // Only reached when the post-filter dropped hits: look further in bigger steps.
            size = Math.Min(MaxPageSize, Math.Max(size, limit + 1) * 4);
        }

        if (matches.Count > limit)
        {
            var items = matches.GetRange(0, limit);
            return new AuditPage(items, AuditPosition.Of(items[^1]));
        }

        if (!exhausted && after is { } position && examined > 0)
        {
            // Cut off by the work cap: what was found, and a cursor after the last event looked at.
            LogCutOff(query.OrgId, examined, matches.Count);
            return new AuditPage(matches, position);
        }

        return new AuditPage(matches, null);
    }

    public async IAsyncEnumerable<AuditEvent> StreamAsync(AuditQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var keepAlive = SearchBodies.Duration(options.PointInTimeKeepAlive);
        var opened = await connection.SendAsync(EsMethod.POST, $"/{AuditIndices.AllPattern}/_pit?keep_alive={keepAlive}", null, cancellationToken);
        if (opened.Status == 404)
        {
            yield break;
        }

        EnsureSucceeded(opened, "open a point in time");
        var pitId = EsHits.PointInTimeId(opened.Body) ?? throw new StoreUnavailableException("Elasticsearch opened a point in time without an id.");
        try
        {
            string? lastSort = null;
            while (true)
            {
                var body = SearchBodies.PointInTimePage(query, options.StreamPageSize, pitId, options.PointInTimeKeepAlive, lastSort);
                var response = await connection.SendAsync(EsMethod.POST, "/_search", body, cancellationToken);
                EnsureSucceeded(response, "read a page of events");
                var page = EsHits.Read(response.Body);
                pitId = page.PointInTimeId ?? pitId;
                lastSort = page.LastSort ?? lastSort;
                foreach (var e in page.Events)
                {
                    if (query.Matches(e))
                    {
                        yield return e;
                    }
                }

                if (page.Events.Count < options.StreamPageSize || page.LastSort is null)
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

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        // HEAD / needs the monitor privilege; a 403 still proves the cluster answers and knows us.
        var response = await connection.SendAsync(EsMethod.HEAD, "/", null, cancellationToken);
        return response.Success || response.Status == 403;
    }

    private async Task ClosePointInTimeAsync(string pitId)
    {
        // Closed also after cancellation or a failure: with its own short deadline, never the caller's token.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            var response = await connection.SendAsync(EsMethod.DELETE, "/_pit", SearchBodies.ClosePointInTime(pitId), timeout.Token);
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

    private static void EnsureSucceeded(EsResponse response, string what)
    {
        if (!response.Success)
        {
            throw new StoreUnavailableException($"Elasticsearch could not {what}: {response.Describe()}");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "A search of organisation {OrgId} was cut off after looking at {Examined} events ({Matches} matched); the page ends with a cursor to go on from")]
    private partial void LogCutOff(string orgId, int examined, int matches);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A point in time could not be closed (it expires by itself): {Reason}")]
    private partial void LogPointInTimeNotClosed(string reason);
}
