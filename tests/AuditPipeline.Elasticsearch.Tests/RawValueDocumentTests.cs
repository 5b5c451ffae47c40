using System.Text;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Testing;

namespace AuditPipeline.Elasticsearch.Tests;

/// <summary>
/// A normalized event holds before, after, details and the change values as the bytes they came in,
/// and its document writes those bytes; the same event holding the parsed elements instead (as events
/// did before) must give the same Elasticsearch document, a JSON null change value included.
/// </summary>
public sealed class RawValueDocumentTests
{
    public static TheoryData<SourceKind, string> Messages()
    {
        var data = new TheoryData<SourceKind, string>();
        foreach (var kind in SourceKinds.All)
        {
            data.Add(kind, SamplePayloads.For(kind));
        }

        // Whitespace inside the values, characters the encoder escapes, escapes in names and strings.
        data.Add(SourceKind.Crm, """{"id":"e1","type":"deal.updated","created_at":"2026-11-29T10:32:00Z","org_id":"o","before":{ "stage" : "A", "n":1.0, "x":{"y":[1, 2]}, "é":"<b>&'+`"},"after":{"stage":"B","n":1,"x":{"y":[1,2]},"z":"\u00e9\n"}}""");
        data.Add(SourceKind.Crm, """{"id":"e2","type":"deal.created","created_at":"2026-11-29T10:32:00Z","org_id":"o","before":null,"after":{"st\u0061ge":"A","amount":null}}""");
        data.Add(SourceKind.Platform, """{"event_id":"p1","occurred_at":"2026-11-29T12:00:00Z","org_id":"o","category":"data","action":"import.completed","details":{"rows":1, "rows":2, "a+b":"<x>", "n":[1 , 2]}}""");
        data.Add(SourceKind.Ai, """{"action_id":"a1","timestamp":"2026-11-29T11:00:05Z","workspace_id":"o","tool":"t","operation":"update","target":{"type":"deal","id":"d"},"changes":[{"field":"amount","from":1000,"to":{ "v" : 2 }},{"field":"s\u0074","from":"é","to":null}],"status":"failed","error":{"code": "E<1>"}}""");
        return data;
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void A_normalized_event_gives_the_document_its_parsed_elements_give(SourceKind kind, string message)
    {
        var e = new AuditNormalizer().Normalize(kind, Encoding.UTF8.GetBytes(message), SamplePayloads.ExampleTime).Event!;
        var elements = e with
        {
            Before = e.Before,
            After = e.After,
            Details = e.Details,
            Changes = [.. e.Changes.Select(c => new AuditChange(c.Field, c.Before, c.After))],
        };

        Assert.Equal(Encoding.UTF8.GetString(BulkBody.Document(elements)), Encoding.UTF8.GetString(BulkBody.Document(e)));
    }
}
