using System.Text.Json;
using System.Text.Json.Serialization;
using AuditPipeline.Api.Exports;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Notifications;

namespace AuditPipeline.Api;

/// <summary>Writes events through <see cref="AuditJson"/>, so the API has exactly the one AuditEvent shape.</summary>
internal sealed class AuditEventJsonConverter : JsonConverter<AuditEvent>
{
    public override AuditEvent Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var doc = JsonDocument.ParseValue(ref reader);
        return AuditJson.Deserialize(doc.RootElement.GetRawText());
    }

    public override void Write(Utf8JsonWriter writer, AuditEvent value, JsonSerializerOptions options) =>
        AuditJson.Serialize(writer, value);
}

// Events hold raw JSON nested up to 64 deep, plus the event's own levels (see AuditJsonContext).
[JsonSourceGenerationOptions(
    MaxDepth = 128,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    Converters = [typeof(AuditEventJsonConverter), typeof(UtcMillisecondsConverter)])]
[JsonSerializable(typeof(EventPage))]
[JsonSerializable(typeof(AuditEvent))]
[JsonSerializable(typeof(ExportAccepted))]
[JsonSerializable(typeof(ExportStatus))]
[JsonSerializable(typeof(ExportJob))]
[JsonSerializable(typeof(ExportCompletedNotification))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
