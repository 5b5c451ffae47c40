using System.Text.Json;

namespace AuditPipeline.Core.Events;

/// <summary>One top-level field whose value differs between before and after (null when absent).</summary>
public sealed record AuditChange(string Field, JsonElement? Before, JsonElement? After);
