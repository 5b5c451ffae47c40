using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Integrity;
using AuditPipeline.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using EsMethod = Elastic.Transport.HttpMethod;

namespace AuditPipeline.Elasticsearch;

/// <summary>
/// The cluster's own copy of the digests: the write-once index <c>audit-digests</c>, one document per
/// (organisation, seq) created with <c>op_type=create</c> (a second write is a harmless 409), holding
/// the digest's canonical JSON as a string beside the fields the API selects on. The index's mapping
/// is <see cref="IndexTemplate"/> (setup installs it; the writer role needs <c>create_doc</c> on it).
/// </summary>
internal sealed class ElasticsearchDigestCopy(ElasticsearchConnection connection) : IDigestStoreCopy
{
    public const string IndexName = "audit-digests";
    private const int PageSize = 100;

    /// <summary>The composable index template of <c>audit-digests</c>: strict, keywords and dates only, the body not indexed.</summary>
    public const string IndexTemplate = """
        {"index_patterns":["audit-digests"],"priority":500,
         "template":{"settings":{"number_of_shards":1},
          "mappings":{"dynamic":"strict","properties":{
            "orgId":{"type":"keyword"},"seq":{"type":"long"},"sealedAt":{"type":"date"},
            "eventsFrom":{"type":"date"},"eventsTo":{"type":"date"},"keyId":{"type":"keyword"},
            "digest":{"type":"keyword","index":false,"doc_values":false}}}}}
        """;

    public string Name => "elasticsearch";

    public static string DocumentId(string orgId, long seq) => Uri.EscapeDataString($"{orgId}:{seq}");

    public async Task PublishAsync(Digest digest, ReadOnlyMemory<byte> canonical, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(canonical.Length + 256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("orgId", digest.OrgId);
            w.WriteNumber("seq", digest.Seq);
            w.WriteString("sealedAt", AuditJson.FormatTime(digest.SealedAt));
            w.WriteString("eventsFrom", AuditJson.FormatTime(digest.EventsFrom));
            w.WriteString("eventsTo", AuditJson.FormatTime(digest.EventsTo));
            w.WriteString("keyId", digest.KeyId);
            w.WriteString("digest", Encoding.UTF8.GetString(canonical.Span));
            w.WriteEndObject();
        }

        var response = await connection.SendAsync(EsMethod.PUT, $"/{IndexName}/_create/{DocumentId(digest.OrgId, digest.Seq)}", buffer.WrittenMemory, cancellationToken);
        if (!response.Success && response.Status != 409)
        {
            throw new StoreUnavailableException($"Elasticsearch did not take digest {digest.Seq} of {digest.OrgId}: {response.Describe()}");
        }
    }

    public async IAsyncEnumerable<Digest> ReadAsync(string orgId, DateTimeOffset? from, DateTimeOffset? to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long after = 0;
        while (true)
        {
            var response = await connection.SendAsync(EsMethod.POST, $"/{IndexName}/_search", SearchBody(orgId, from, to, after), cancellationToken);
            if (response.Status == 404)
            {
                yield break; // nothing sealed yet
            }

            if (!response.Success)
            {
                throw new StoreUnavailableException($"Elasticsearch did not answer the digest search: {response.Describe()}");
            }

            var page = new List<Digest>(PageSize);
            using (var doc = JsonDocument.Parse(response.Body))
            {
                foreach (var hit in doc.RootElement.GetProperty("hits").GetProperty("hits").EnumerateArray())
                {
                    page.Add(DigestCodec.Decode(Encoding.UTF8.GetBytes(hit.GetProperty("_source").GetProperty("digest").GetString()!)));
                }
            }

            foreach (var d in page)
            {
                after = d.Seq;
                yield return d;
            }

            if (page.Count < PageSize)
            {
                yield break;
            }
        }
    }

    private static byte[] SearchBody(string orgId, DateTimeOffset? from, DateTimeOffset? to, long after)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("size", PageSize);
            w.WriteStartArray("sort");
            w.WriteStartObject();
            w.WriteString("seq", "asc");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartObject("query");
            w.WriteStartObject("bool");
            w.WriteStartArray("filter");
            Term(w, "orgId", orgId);
            Range(w, "seq", "gt", after.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (from is { } f)
            {
                Range(w, "eventsTo", "gte", AuditJson.FormatTime(f));
            }

            if (to is { } t)
            {
                Range(w, "eventsFrom", "lt", AuditJson.FormatTime(t));
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Term(Utf8JsonWriter w, string field, string value)
    {
        w.WriteStartObject();
        w.WriteStartObject("term");
        w.WriteString(field, value);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Range(Utf8JsonWriter w, string field, string op, string value)
    {
        w.WriteStartObject();
        w.WriteStartObject("range");
        w.WriteStartObject(field);
        w.WriteString(op, value);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }
}

public static class ElasticsearchDigestCopyServiceCollectionExtensions
{
    /// <summary>The <c>audit-digests</c> index as the store's copy of the digests (and a digest sink).</summary>
    public static IServiceCollection AddElasticsearchDigestCopy(this IServiceCollection services)
    {
        services.AddSingleton<IDigestStoreCopy>(sp => new ElasticsearchDigestCopy(sp.GetRequiredService<ElasticsearchConnection>()));
        services.AddSingleton<IDigestSink>(sp => sp.GetRequiredService<IDigestStoreCopy>());
        return services;
    }
}
