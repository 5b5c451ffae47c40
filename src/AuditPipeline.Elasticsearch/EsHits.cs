using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Elasticsearch;

/// <summary>Reads the parts of search, multi-get and point-in-time answers the store uses.</summary>
internal static class EsHits
{
    // A hit's _source holds the event's before/after (up to 64 levels) a few levels below the root.
    private static readonly JsonDocumentOptions Deep = new() { MaxDepth = 256 };

    public static (List<AuditEvent> Events, string? PointInTimeId, string? LastSort) Read(byte[] body)
    {
        using var doc = JsonDocument.Parse(body, Deep);
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
    public static HashSet<(string Org, string Id)> Copies(byte[] body)
    {
        using var doc = JsonDocument.Parse(body, Deep);
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
    public static List<string?> Owners(byte[] body)
    {
        using var doc = JsonDocument.Parse(body, Deep);
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

    public static string? PointInTimeId(byte[] body)
    {
        using var doc = JsonDocument.Parse(body, Deep);
        return doc.RootElement.TryGetProperty("id", out var id) ? id.GetString() : null;
    }
}
