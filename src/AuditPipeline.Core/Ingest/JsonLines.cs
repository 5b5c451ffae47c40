using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace AuditPipeline.Core.Ingest;

/// <summary>Reads newline-delimited messages as raw bytes (no decoding), dropping a trailing CR and a leading BOM.</summary>
public static class JsonLines
{
    /// <summary>Every line, including blank ones (so line numbers stay right); a final line without a newline counts.</summary>
    public static async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        var first = true;
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(cancellationToken);
                var buffer = read.Buffer;
                while (TryLine(ref buffer, out var line))
                {
                    yield return Trim(line.ToArray(), ref first);
                }

                if (read.IsCompleted)
                {
                    if (!buffer.IsEmpty)
                    {
                        yield return Trim(buffer.ToArray(), ref first);
                    }

                    break;
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    public static bool IsBlank(ReadOnlySpan<byte> line) => line.Trim(" \t\r\n"u8).IsEmpty;

    private static bool TryLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        var newline = buffer.PositionOf((byte)'\n');
        if (newline is null)
        {
            line = default;
            return false;
        }

        line = buffer.Slice(0, newline.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
        return true;
    }

    private static ReadOnlyMemory<byte> Trim(byte[] line, ref bool first)
    {
        ReadOnlyMemory<byte> m = line;
        if (first)
        {
            first = false;
            if (m.Span.StartsWith("\uFEFF"u8))
            {
                m = m[3..];
            }
        }

        return m.Span.EndsWith("\r"u8) ? m[..^1] : m;
    }
}
