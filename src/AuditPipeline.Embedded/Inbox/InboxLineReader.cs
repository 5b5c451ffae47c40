using System.Buffers;

namespace AuditPipeline.Embedded.Inbox;

/// <summary>What the line reader hands over: every complete line, and every line too long to keep.</summary>
internal interface IInboxLineSink
{
    /// <summary>A line without its newline; <paramref name="end"/> is the offset after the newline (or after the last byte of an unterminated final line).</summary>
    ValueTask LineAsync(InboxFile file, ReadOnlyMemory<byte> line, long start, long end, CancellationToken ct);

    /// <summary>A line longer than the limit, ended at <paramref name="end"/>; only its prefix was kept.</summary>
    ValueTask OversizedAsync(InboxFile file, OversizedLine line, long end, CancellationToken ct);
}

/// <summary>
/// Splits a file into lines in fixed chunks. A line is buffered only up to <c>maxLineBytes</c>; past that
/// it is an <see cref="OversizedLine"/>: a bounded prefix is kept, the rest is counted and skipped up to
/// its newline, and scanning resumes where it stopped at the next read (so a 100 MiB line without a
/// newline costs one pass and a few KiB of memory, however often it is polled). The bytes after the
/// last newline are handed over only when <c>takeTail</c> says the file has been quiet long enough.
/// </summary>
internal sealed class InboxLineReader(int maxLineBytes, int keptPrefixBytes)
{
    private const int ChunkSize = 64 * 1024;

    /// <summary>Reads <paramref name="file"/> from where it stopped to <paramref name="length"/>; returns how many bytes at the end were held back.</summary>
    public async Task<long> ReadAsync(Stream stream, InboxFile file, long length, bool takeTail, IInboxLineSink sink, CancellationToken ct)
    {
        var oversized = file.Oversized;
        var lineStart = oversized?.Start ?? file.ReadOffset;
        var position = oversized?.ScannedTo ?? file.ReadOffset;
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        ArrayBufferWriter<byte>? pending = null;
        try
        {
            stream.Position = position;
            while (position < length)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(ChunkSize, length - position)), ct);
                if (read == 0)
                {
                    // Shorter than it said a moment ago: what is left is read at the next poll.
                    length = position;
                    break;
                }

                var chunkStart = position;
                position += read;
                var from = 0;
                while (from < read)
                {
                    var rest = buffer.AsSpan(from, read - from);
                    var nl = rest.IndexOf((byte)'\n');
                    var segment = nl < 0 ? rest : rest[..nl];
                    if (oversized is not null)
                    {
                        oversized.Append(segment);
                    }
                    else if ((pending?.WrittenCount ?? 0) + segment.Length > maxLineBytes)
                    {
                        oversized = new OversizedLine(lineStart, keptPrefixBytes);
                        if (pending is not null)
                        {
                            oversized.Append(pending.WrittenSpan);
                            pending.ResetWrittenCount();
                        }

                        oversized.Append(segment);
                    }
                    else if (nl < 0 || pending?.WrittenCount > 0)
                    {
                        (pending ??= new ArrayBufferWriter<byte>(Math.Min(maxLineBytes, ChunkSize))).Write(segment);
                    }

                    if (nl < 0)
                    {
                        break;
                    }

                    var lineEnd = chunkStart + from + nl + 1;
                    if (oversized is not null)
                    {
                        file.Oversized = null;
                        await sink.OversizedAsync(file, oversized, lineEnd, ct);
                        oversized = null;
                    }
                    else if (pending?.WrittenCount > 0)
                    {
                        await sink.LineAsync(file, pending.WrittenMemory.ToArray(), lineStart, lineEnd, ct);
                        pending.ResetWrittenCount();
                    }
                    else
                    {
                        await sink.LineAsync(file, segment.ToArray(), lineStart, lineEnd, ct);
                    }

                    lineStart = lineEnd;
                    from += nl + 1;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (oversized is not null)
        {
            oversized.ScannedTo = length;
            file.Oversized = oversized;
            if (takeTail && length > lineStart)
            {
                file.Oversized = null;
                await sink.OversizedAsync(file, oversized, length, ct);
                return 0;
            }
        }
        else if (takeTail && pending?.WrittenCount > 0 && length > lineStart)
        {
            await sink.LineAsync(file, pending.WrittenMemory.ToArray(), lineStart, length, ct);
            return 0;
        }

        return length - lineStart;
    }
}
