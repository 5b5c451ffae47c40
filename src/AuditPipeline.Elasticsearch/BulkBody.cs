using System.Buffers;
using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Elasticsearch;

/// <summary>
/// Builds <c>_bulk</c> NDJSON: for each event a <c>create</c> action line (<c>_index</c>, <c>_id</c> =
/// event id) and its document line. A document is serialized once; the action line is rebuilt
/// when an event is re-targeted (late arrival), and only pending events go into a retry.
/// </summary>
internal static class BulkBody
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = false };

    /// <summary>The document line of one event (UTF-8 JSON, no newline).</summary>
    public static byte[] Document(AuditEvent e) =>
        JsonSerializer.SerializeToUtf8Bytes(AuditDocument.From(e), AuditDocumentJsonContext.Default.AuditDocument);

    /// <summary>Appends one <c>create</c> action line and the document line, each ending in a newline.</summary>
    public static void Append(ArrayBufferWriter<byte> buffer, string index, string id, ReadOnlySpan<byte> document)
    {
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("create"u8);
            writer.WriteString("_index"u8, index);
            writer.WriteString("_id"u8, id);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        buffer.Write("\n"u8);
        buffer.Write(document);
        buffer.Write("\n"u8);
    }

    /// <summary>Bytes one event adds to a bulk body (action line estimate plus document).</summary>
    public static int Size(string index, string id, int documentLength) =>
        documentLength + index.Length + id.Length + 40;
}
