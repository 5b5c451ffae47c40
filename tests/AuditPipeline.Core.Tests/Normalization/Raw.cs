using System.Text;
using System.Text.Json.Nodes;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Normalization;
using AuditPipeline.Testing;

namespace AuditPipeline.Core.Tests.Normalization;

/// <summary>The contract's example payloads (<see cref="SamplePayloads"/>), as mutable JSON so each test changes only what it is about.</summary>
internal static class Raw
{
    public static readonly DateTimeOffset Received = new(2026, 11, 29, 10, 32, 0, 412, TimeSpan.Zero);

    public static JsonObject Crm() => Parse(SamplePayloads.Crm());

    public static JsonObject Auth() => Parse(SamplePayloads.Auth());

    public static JsonObject Ai() => Parse(SamplePayloads.Ai());

    public static JsonObject Platform() => Parse(SamplePayloads.Platform());

    public static JsonObject For(SourceKind kind) => kind switch
    {
        SourceKind.Crm => Crm(),
        SourceKind.Auth => Auth(),
        SourceKind.Ai => Ai(),
        _ => Platform(),
    };

    public static JsonObject With(this JsonObject o, string name, JsonNode? value)
    {
        o[name] = value;
        return o;
    }

    public static JsonObject Without(this JsonObject o, string name)
    {
        o.Remove(name);
        return o;
    }

    public static NormalizeResult Normalize(SourceKind kind, string json) =>
        new AuditNormalizer().Normalize(kind, Encoding.UTF8.GetBytes(json), Received);

    public static AuditEvent Event(SourceKind kind, JsonObject raw)
    {
        var r = Normalize(kind, raw.ToJsonString());
        Assert.True(r.IsSuccess, $"expected an event, got: {r.Error}");
        return r.Event;
    }

    public static string Error(SourceKind kind, string json)
    {
        var r = Normalize(kind, json);
        Assert.False(r.IsSuccess, $"expected a rejection, got an event {r.Event?.Id}");
        return r.Error;
    }

    /// <summary>An event's JSON as the API writes it, for comparing whole sub-objects.</summary>
    public static JsonObject Json(AuditEvent e) => JsonNode.Parse(AuditJson.Serialize(e))!.AsObject();

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();
}
