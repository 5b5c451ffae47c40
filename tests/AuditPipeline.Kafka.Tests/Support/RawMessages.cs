using System.Globalization;
using System.Text;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Testing;

namespace AuditPipeline.Kafka.Tests.Support;

/// <summary>One raw message to produce, and what must become of it.</summary>
internal sealed record RawMessage(SourceKind Kind, string? Key, byte[]? Value, string? EventId, string OrgId)
{
    /// <summary>True when the contract rejects it to the dead-letter topic.</summary>
    public bool Malformed => EventId is null;
}

/// <summary>Raw messages of the four kinds in the shapes of CONTRACT.md section 2, and every kind of malformed one.</summary>
internal static class RawMessages
{
    private static long _ids;

    public static string RunId { get; } = Guid.NewGuid().ToString("N")[..8];

    public static RawMessage Valid(SourceKind kind, string orgId = "org_42", DateTimeOffset? time = null)
    {
        var n = Interlocked.Increment(ref _ids).ToString(CultureInfo.InvariantCulture);
        var t = (time ?? SamplePayloads.ExampleTime).ToUniversalTime();
        var id = kind switch
        {
            SourceKind.Crm => $"evt_{RunId}_{n}",
            SourceKind.Auth => $"au_{RunId}_{n}",
            SourceKind.Ai => $"ai_{RunId}_{n}",
            _ => $"pl_{RunId}_{n}",
        };
        var json = SamplePayloads.For(kind, id, orgId, t);
        return new RawMessage(kind, orgId, Encoding.UTF8.GetBytes(json), id, orgId);
    }

    /// <summary>Every reject rule of the contract, for each kind (a fresh id each, so none is a duplicate of another).</summary>
    public static IEnumerable<RawMessage> Malformed(SourceKind kind)
    {
        var valid = Encoding.UTF8.GetString(Valid(kind).Value!);
        var (idField, orgField, typeField, timeField) = kind switch
        {
            SourceKind.Crm => ("id", "org_id", "type", "created_at"),
            SourceKind.Auth => ("event_id", "tenant", "event", "ts"),
            SourceKind.Ai => ("action_id", "workspace_id", "operation", "timestamp"),
            _ => ("event_id", "org_id", "action", "occurred_at"),
        };
        var node = System.Text.Json.Nodes.JsonNode.Parse(valid)!.AsObject();
        string With(string field, System.Text.Json.Nodes.JsonNode? value)
        {
            var copy = node.DeepClone().AsObject();
            copy[idField] = idField + "_" + Interlocked.Increment(ref _ids).ToString(CultureInfo.InvariantCulture);
            copy[field] = value;
            return copy.ToJsonString();
        }

        string Without(string field)
        {
            var copy = node.DeepClone().AsObject();
            copy.Remove(field);
            return copy.ToJsonString();
        }

        RawMessage M(string? json, string? key = "org_42") => new(kind, key, json is null ? null : Encoding.UTF8.GetBytes(json), null, "org_42");

        yield return M(null);
        yield return M("");
        yield return M("not json at all {");
        yield return M("[1,2,3]");
        yield return M("\"a string\"");
        yield return M(Without(idField), key: null);
        yield return M(With(idField, 12345));
        yield return M(With(orgField, 42));
        yield return M(With(orgField, ""));
        yield return M(With(orgField, new string('o', 257)));
        yield return M(With(typeField, kind == SourceKind.Ai ? "Not An Operation" : "NoDotHere"));
        yield return M(With(timeField, kind == SourceKind.Auth ? "1764412320000" : "2026-11-29T10:32:00"));
        if (kind == SourceKind.Platform)
        {
            yield return M(With("category", "finance"));
        }

        if (kind is SourceKind.Crm or SourceKind.Platform)
        {
            yield return M(With("actor", "not an object"));
        }
    }
}
