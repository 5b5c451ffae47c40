using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuditPipeline.Core.Events;

/// <summary>One top-level field whose value differs between before and after (null when absent).</summary>
public sealed record AuditChange
{
    private readonly JsonSlot _before;
    private readonly JsonSlot _after;

    public AuditChange(string field, JsonElement? before, JsonElement? after)
        : this(field, new JsonSlot(before), new JsonSlot(after))
    {
    }

    [JsonConstructor]
    internal AuditChange(string field, JsonSlot beforeJson, JsonSlot afterJson)
    {
        Field = field;
        _before = beforeJson;
        _after = afterJson;
    }

    public string Field { get; init; }

    [JsonIgnore]
    public JsonElement? Before { get => _before.Value; init => _before = new JsonSlot(value); }

    [JsonInclude]
    [JsonPropertyName("before")]
    internal JsonSlot BeforeJson { get => _before; init => _before = value; }

    [JsonIgnore]
    public JsonElement? After { get => _after.Value; init => _after = new JsonSlot(value); }

    [JsonInclude]
    [JsonPropertyName("after")]
    internal JsonSlot AfterJson { get => _after; init => _after = value; }

    public void Deconstruct(out string field, out JsonElement? before, out JsonElement? after)
    {
        field = Field;
        before = Before;
        after = After;
    }
}
