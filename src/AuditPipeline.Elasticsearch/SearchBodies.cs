using System.Buffers;
using System.Text.Json;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;

namespace AuditPipeline.Elasticsearch;

/// <summary>
/// Query DSL for the store's reads. Every <see cref="AuditQuery"/> filter is a bool <c>filter</c>
/// clause on a keyword field (OR within a filter as <c>terms</c>, AND across filters), free-text
/// terms are <c>prefix</c> clauses on <c>audit.search</c> (a text field with <c>index_prefixes</c>,
/// so clusters with <c>search.allow_expensive_queries: false</c> run them), and the order is
/// <c>@timestamp</c> desc then <c>event.id</c> desc with <c>search_after</c> continuing strictly
/// after a position (never a <c>range</c> on a keyword field).
/// Keyword order is byte order of UTF-8, which equals ordinal order for ids without surrogate pairs.
/// </summary>
internal static class SearchBodies
{
    /// <summary>A page of a plain search: <c>search_after</c> the position (time in epoch milliseconds, id).</summary>
    public static byte[] Search(AuditQuery query, int size, AuditPosition? after) =>
        Build(query, size, pointInTime: null, searchAfter: after is { } p ? new SearchAfter(p, null) : null);

    /// <summary>
    /// A page through a point in time, sorted by time, id and the point in time's <c>_shard_doc</c>.
    /// The first page continues after the query's position with <c>search_after</c> [time, id, the
    /// largest <c>_shard_doc</c>] (so nothing at that exact position comes back, and no <c>range</c>
    /// on a keyword field is needed, which hardened clusters refuse); the next ones continue after
    /// the last hit's own sort values.
    /// </summary>
    public static byte[] PointInTimePage(AuditQuery query, int size, string pointInTimeId, TimeSpan keepAlive, string? lastSortValues) =>
        Build(
            query,
            size,
            (pointInTimeId, keepAlive),
            searchAfter: lastSortValues is not null ? new SearchAfter(null, lastSortValues) : query.After is { } p ? new SearchAfter(p, null) : null);

    private sealed record SearchAfter(AuditPosition? Position, string? Raw);

    private static byte[] Build(AuditQuery query, int size, (string Id, TimeSpan KeepAlive)? pointInTime, SearchAfter? searchAfter)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("size"u8, size);
            w.WriteBoolean("track_total_hits"u8, false);
            if (pointInTime is { } pit)
            {
                w.WriteStartObject("pit"u8);
                w.WriteString("id"u8, pit.Id);
                w.WriteString("keep_alive"u8, Duration(pit.KeepAlive));
                w.WriteEndObject();
            }

            w.WritePropertyName("query"u8);
            WriteQuery(w, query);
            w.WriteStartArray("sort"u8);
            WriteSort(w, "@timestamp"u8);
            WriteSort(w, "event.id"u8);
            if (pointInTime is not null)
            {
                w.WriteStartObject();
                w.WriteString("_shard_doc"u8, "asc");
                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (searchAfter?.Raw is { } raw)
            {
                w.WritePropertyName("search_after"u8);
                w.WriteRawValue(raw);
            }
            else if (searchAfter?.Position is { } position)
            {
                w.WriteStartArray("search_after"u8);
                w.WriteNumberValue(position.Time.ToUnixTimeMilliseconds());
                w.WriteStringValue(position.Id);
                if (pointInTime is not null)
                {
                    w.WriteNumberValue(long.MaxValue);
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>One event of an organisation by id, across every audit index.</summary>
    public static byte[] Get(string orgId, string eventId)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("size"u8, 1);
            w.WriteStartObject("query"u8);
            w.WriteStartObject("bool"u8);
            w.WriteStartArray("filter"u8);
            Term(w, "organization.id", orgId);
            Term(w, "event.id", eventId);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Every copy of these event ids in the indices the path covers, with their organisations.</summary>
    public static byte[] Copies(IReadOnlyCollection<string> eventIds)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("size"u8, Math.Min(10_000, eventIds.Count * 10));
            w.WriteStartArray("_source"u8);
            w.WriteStringValue("organization.id"u8);
            w.WriteStringValue("event.id"u8);
            w.WriteEndArray();
            w.WriteStartObject("query"u8);
            w.WriteStartObject("terms"u8);
            w.WriteStartArray("event.id"u8);
            foreach (var id in eventIds)
            {
                w.WriteStringValue(id);
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The batch's search for stored copies: per organisation, its event ids (<c>terms</c> on
    /// <c>event.id</c>, which also finds a copy stored under the organisation-qualified document id),
    /// at most one hit per event, and only the two fields that identify a copy.
    /// </summary>
    public static byte[] StoredCopies(IReadOnlyCollection<(string OrgId, string EventId)> events)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + (events.Count * 24));
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("size"u8, Math.Min(10_000, events.Count));
            w.WriteBoolean("track_total_hits"u8, false);
            w.WriteStartArray("_source"u8);
            w.WriteStringValue("organization.id"u8);
            w.WriteStringValue("event.id"u8);
            w.WriteEndArray();
            w.WriteStartObject("query"u8);
            w.WriteStartObject("bool"u8);
            w.WriteStartArray("should"u8);
            foreach (var org in events.GroupBy(e => e.OrgId, StringComparer.Ordinal))
            {
                w.WriteStartObject();
                w.WriteStartObject("bool"u8);
                w.WriteStartArray("filter"u8);
                Term(w, "organization.id", org.Key);
                Terms(w, "event.id", [.. org.Select(e => e.EventId).Distinct(StringComparer.Ordinal)]);
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNumber("minimum_should_match"u8, 1);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A multi-get of documents by index and id.</summary>
    public static byte[] Docs(IEnumerable<(string Index, string Id)> docs)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("docs"u8);
            foreach (var (index, id) in docs)
            {
                w.WriteStartObject();
                w.WriteString("_index"u8, index);
                w.WriteString("_id"u8, id);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] ClosePointInTime(string id)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id"u8, id);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>An Elasticsearch time unit, whole seconds.</summary>
    public static string Duration(TimeSpan t) => $"{Math.Max(1, (long)Math.Ceiling(t.TotalSeconds))}s";

    private static void WriteQuery(Utf8JsonWriter w, AuditQuery q)
    {
        w.WriteStartObject();
        w.WriteStartObject("bool"u8);
        w.WriteStartArray("filter"u8);
        Term(w, "organization.id", q.OrgId);
        Terms(w, "event.action", q.Actions);
        Terms(w, "user.id", q.Users);
        Terms(w, "audit.entity.type", q.EntityTypes);
        Terms(w, "audit.entity.id", q.EntityIds);
        Terms(w, "audit.category", q.Categories);
        Terms(w, "audit.source", q.Sources);
        Terms(w, "event.outcome", q.Outcomes);

        var wantsAi = q.Ai.Contains(true);
        var wantsNotAi = q.Ai.Contains(false);
        if (wantsAi && !wantsNotAi)
        {
            ExistsAi(w);
        }
        else if (wantsNotAi && !wantsAi)
        {
            w.WriteStartObject();
            w.WriteStartObject("bool"u8);
            w.WriteStartArray("must_not"u8);
            ExistsAi(w);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        if (q.From is not null || q.To is not null)
        {
            w.WriteStartObject();
            w.WriteStartObject("range"u8);
            w.WriteStartObject("@timestamp"u8);
            if (q.From is { } from)
            {
                w.WriteString("gte"u8, AuditJson.FormatTime(from));
            }

            if (q.To is { } to)
            {
                w.WriteString("lt"u8, AuditJson.FormatTime(to));
            }

            w.WriteString("format"u8, "strict_date_optional_time");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        foreach (var term in q.Terms)
        {
            // At most the indexed prefix length: a prefix the index answers from its own terms (no
            // expensive query), a superset of the matches for a longer term; the post-filter decides.
            var value = SearchTexts.QueryValue(term);
            w.WriteStartObject();
            w.WriteStartObject("prefix"u8);
            w.WriteStartObject("audit.search"u8);
            w.WriteString("value"u8, value);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void ExistsAi(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteStartObject("exists"u8);
        w.WriteString("field"u8, "audit.ai.initiated");
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteSort(Utf8JsonWriter w, ReadOnlySpan<byte> field)
    {
        w.WriteStartObject();
        w.WriteStartObject(field);
        w.WriteString("order"u8, "desc");
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Term(Utf8JsonWriter w, string field, string value)
    {
        w.WriteStartObject();
        w.WriteStartObject("term"u8);
        w.WriteString(field, value);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Terms(Utf8JsonWriter w, string field, IReadOnlyList<string> values)
    {
        if (values.Count == 0)
        {
            return;
        }

        w.WriteStartObject();
        w.WriteStartObject("terms"u8);
        w.WriteStartArray(field);
        foreach (var v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
