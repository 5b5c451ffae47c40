using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuditPipeline.Core.Events;

/// <summary>The one JSON shape of an <see cref="AuditEvent"/> (the API's, the embedded store's, the normalize verb's).</summary>
public static class AuditJson
{
    public static JsonElement EmptyObject { get; } = JsonDocument.Parse("{}").RootElement.Clone();

    /// <summary>The JSON null, what a document's <c>"details": null</c> reads as.</summary>
    internal static JsonElement Null { get; } = JsonDocument.Parse("null").RootElement.Clone();

    public static JsonSerializerOptions Options => AuditJsonContext.Default.Options;

    public static string Serialize(AuditEvent e) => JsonSerializer.Serialize(e, AuditJsonContext.Default.AuditEvent);

    public static byte[] SerializeToUtf8Bytes(AuditEvent e) => JsonSerializer.SerializeToUtf8Bytes(e, AuditJsonContext.Default.AuditEvent);

    public static void Serialize(Utf8JsonWriter writer, AuditEvent e) => JsonSerializer.Serialize(writer, e, AuditJsonContext.Default.AuditEvent);

    public static AuditEvent Deserialize(ReadOnlySpan<byte> utf8) =>
        JsonSerializer.Deserialize(utf8, AuditJsonContext.Default.AuditEvent)
        ?? throw new JsonException("An audit event document was null.");

    public static AuditEvent Deserialize(string json) =>
        JsonSerializer.Deserialize(json, AuditJsonContext.Default.AuditEvent)
        ?? throw new JsonException("An audit event document was null.");

    /// <summary>ISO-8601 UTC with exactly three fractional digits, e.g. 2026-11-29T10:32:00.000Z.</summary>
    public static string FormatTime(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Truncates to whole milliseconds, in UTC.</summary>
    public static DateTimeOffset TruncateToMilliseconds(DateTimeOffset t)
    {
        var utc = t.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
    }
}

// The normalizer accepts raw messages nested up to 64 deep; an event nests them up to two levels
// deeper (changes[].before), a page or a store document a few more: 128 leaves room for all.
[JsonSourceGenerationOptions(
    MaxDepth = 128,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    Converters = [typeof(UtcMillisecondsConverter)])]
[JsonSerializable(typeof(AuditEvent))]
[JsonSerializable(typeof(List<AuditEvent>))]
internal sealed partial class AuditJsonContext : JsonSerializerContext;
