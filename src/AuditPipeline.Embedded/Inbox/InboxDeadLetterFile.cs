using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Normalization;

namespace AuditPipeline.Embedded.Inbox;

/// <summary>
/// The inbox's dead-letter destination: one JSON record per rejected line (file, line, offset, kind,
/// reason, time, and the raw line) appended to <see cref="FileName"/> and flushed to disk before the
/// line counts as done. The name never ends in <c>.jsonl</c>, so it is never read as input.
/// </summary>
internal sealed class InboxDeadLetterFile(string directory, TimeProvider time) : IDisposable
{
    public const string FileName = "_deadletter.jsonl.rejected";

    private readonly string _path = Path.Combine(directory, FileName);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>A line rejected whole: <c>raw</c> holds it (or <c>rawBase64</c> when it is not UTF-8).</summary>
    public Task WriteAsync(InboxPosition position, SourceKind kind, ReadOnlyMemory<byte> raw, string reason, CancellationToken ct) =>
        AppendAsync(Record(position, kind, reason, raw.Span, fullLength: null), ct);

    /// <summary>
    /// A line too long to keep: <c>rawPrefix</c> holds its first bytes (cut at a character boundary) and
    /// <c>length</c> its full size, so the record stays small and is never mistaken for the message itself.
    /// </summary>
    public Task WriteOversizedAsync(InboxPosition position, SourceKind kind, ReadOnlyMemory<byte> prefix, long length, string reason, CancellationToken ct) =>
        AppendAsync(Record(position, kind, reason, prefix.Span, length), ct);

    public void Dispose() => _gate.Dispose();

    private byte[] Record(InboxPosition position, SourceKind kind, string reason, ReadOnlySpan<byte> raw, long? fullLength)
    {
        var buffer = new ArrayBufferWriter<byte>(raw.Length + 256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("file", position.File);
            writer.WriteNumber("line", position.Line);
            writer.WriteNumber("offset", position.StartOffset);
            writer.WriteString("kind", kind.Name());
            writer.WriteString("reason", reason);
            writer.WriteString("deadLetteredAt", AuditJson.FormatTime(time.GetUtcNow()));
            if (fullLength is { } length)
            {
                writer.WriteNumber("length", length);
                var cut = Utf8Boundary(raw);
                if (Utf8.IsValid(raw[..cut]))
                {
                    writer.WriteString("rawPrefix", raw[..cut]);
                }
                else
                {
                    writer.WriteBase64String("rawPrefixBase64", raw);
                }
            }
            else if (Utf8.IsValid(raw))
            {
                writer.WriteString("raw", raw);
            }
            else
            {
                writer.WriteBase64String("rawBase64", raw);
            }

            writer.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Where a prefix cut in the middle of a UTF-8 sequence should end instead.</summary>
    private static int Utf8Boundary(ReadOnlySpan<byte> bytes)
    {
        var end = bytes.Length;
        for (var back = 0; back < 3 && end - back > 0; back++)
        {
            var b = bytes[end - back - 1];
            if ((b & 0xC0) != 0x80)
            {
                // The lead byte of the last sequence: keep it only if the sequence is complete.
                var needed = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
                return needed <= back + 1 ? end : end - back - 1;
            }
        }

        return end;
    }

    private async Task AppendAsync(byte[] record, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await using var stream = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read);
            await stream.WriteAsync(record, ct);
            stream.Flush(flushToDisk: true);
        }
        finally
        {
            _gate.Release();
        }
    }
}
