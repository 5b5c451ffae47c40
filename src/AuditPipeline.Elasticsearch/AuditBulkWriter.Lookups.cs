using AuditPipeline.Core.Storage;
using Microsoft.Extensions.Logging;
using EsMethod = Elastic.Transport.HttpMethod;

namespace AuditPipeline.Elasticsearch;

/// <summary>
/// The writer's look-ups of what is already stored: the batch's search for copies under any month
/// or class, the owner of an id that answered 409, and a copy of a late arrival.
/// </summary>
internal sealed partial class AuditBulkWriter
{
    /// <summary>
    /// One search per batch over every audit index for the batch's (organisation, id) pairs: a copy
    /// stored under another month or class (the same id re-sent with another time, or after a plan
    /// change) makes the event a duplicate, and it is not sent. Two workers writing the same id to
    /// different indices at the same instant can still both miss each other (see docs/ELASTICSEARCH.md).
    /// </summary>
    private async Task<List<BulkItem>> DropStoredCopiesAsync(List<BulkItem> pending, AppendResult?[] results, CancellationToken cancellationToken)
    {
        var body = SearchBodies.StoredCopies(pending.Select(i => (i.OrgId, i.EventId)).ToList());
        for (var attempt = 1; ; attempt++)
        {
            var response = await connection.SendAsync(EsMethod.POST, CopiesPath, body, cancellationToken);
            if (response.Success)
            {
                var found = EsHits.Copies(response.Body);
                if (found.Count == 0)
                {
                    return pending;
                }

                var rest = new List<BulkItem>(pending.Count);
                foreach (var item in pending)
                {
                    if (found.Contains((item.OrgId, item.EventId)))
                    {
                        results[item.Position] = AppendResult.Duplicate;
                    }
                    else
                    {
                        rest.Add(item);
                    }
                }

                return rest;
            }

            if (!response.Retryable || attempt >= options.MaxAttempts)
            {
                throw new StoreUnavailableException($"Elasticsearch could not look for stored copies of {pending.Count} events (the ingest user needs the audit_reader role as well as audit_writer): {response.Describe()}");
            }

            await PauseAsync(attempt, pending.Count, response.Describe(), cancellationToken);
        }
    }

    /// <summary>
    /// A 409 means the document id is taken. It is this event (a redelivery: duplicate) unless the
    /// copy belongs to another organisation; then this organisation's event gets the id
    /// <c>{orgId}/{eventId}</c>, so appends stay idempotent per organisation. Returns a failure
    /// description when a copy vanished in between (it is written again after a back-off).
    /// </summary>
    private async Task<string?> ResolveConflictsAsync(List<BulkItem> conflicts, AppendResult?[] results, List<BulkItem> retry, CancellationToken cancellationToken)
    {
        var response = await connection.SendAsync(EsMethod.POST, "/_mget?_source_includes=organization.id", SearchBodies.Docs(conflicts.Select(c => (c.Index, c.Id))), cancellationToken);
        if (!response.Success)
        {
            throw new StoreUnavailableException($"Elasticsearch could not look up the owners of {conflicts.Count} existing documents: {response.Describe()}");
        }

        var owners = EsHits.Owners(response.Body);
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
    /// the class's indices makes them a duplicate (looked for again: the batch's search may be
    /// minutes old after retries); the others go to the class's late-arrivals index of the current month.
    /// </summary>
    private async Task RouteLateArrivalsAsync(List<BulkItem> late, AppendResult?[] results, List<BulkItem> retry, CancellationToken cancellationToken)
    {
        foreach (var group in late.GroupBy(i => i.Class))
        {
            var ids = group.Select(i => i.EventId).Distinct(StringComparer.Ordinal).ToList();
            var path = $"/{AuditIndices.ClassPattern(group.Key)}/_search?ignore_unavailable=true&allow_no_indices=true";
            var response = await connection.SendAsync(EsMethod.POST, path, SearchBodies.Copies(ids), cancellationToken);
            if (!response.Success)
            {
                throw new StoreUnavailableException($"Elasticsearch could not check late arrivals for copies: {response.Describe()}");
            }

            var found = EsHits.Copies(response.Body);
            var lateIndex = AuditIndices.Late(group.Key, time.GetUtcNow());
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} arrived after {Index} became read-only; storing it in {LateIndex}")]
    private partial void LogLateArrival(string eventId, string index, string lateIndex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event id {EventId} is taken in {Index} by another organisation; storing this one as {DocumentId}")]
    private partial void LogIdTakenByOtherOrg(string eventId, string index, string documentId);
}
