using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Normalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Embedded.Inbox;

/// <summary>Where an inbox line came from: file, 1-based line number, and the byte offsets of the line.</summary>
internal sealed record InboxPosition(string File, long Line, long StartOffset, long EndOffset)
{
    public override string ToString() => $"{File}:{Line}";
}

/// <summary>
/// Tails the <c>*.jsonl</c> files of a directory like a topic: one raw message per line, the kind from
/// the file name prefix, appended lines and new files picked up by polling. Only complete lines (ending
/// in a newline) are read. The checkpoint records, per file, the offset after the last line whose
/// message is completed (stored, duplicate or dead-lettered), so after a crash reading resumes there:
/// no line is skipped, and lines completed after the last checkpoint come again as harmless duplicates.
/// </summary>
internal sealed partial class InboxSource : BackgroundService, IMessageOrigin
{
    /// <summary>Rejected lines with their reason; the name never ends in <c>.jsonl</c>, so it is never read as input.</summary>
    public const string DeadLetterFileName = "_deadletter.jsonl.rejected";

    private const int ReadBufferSize = 64 * 1024;

    private readonly IIngestQueue _queue;
    private readonly ILogger<InboxSource> _logger;
    private readonly TimeProvider _time;
    private readonly string _directory;
    private readonly TimeSpan _pollInterval;
    private readonly InboxCheckpoint _checkpoint;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _deadLetterGate = new(1, 1);
    private readonly Dictionary<string, FileState> _files = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ignored = new(StringComparer.Ordinal);
    private bool _dirty;

    public InboxSource(IIngestQueue queue, IOptions<InboxOptions> options, ILogger<InboxSource> logger, TimeProvider? time = null)
    {
        _queue = queue;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _directory = Path.GetFullPath(options.Value.Path ?? throw new InvalidOperationException("Inbox:Path must not be empty."));
        _pollInterval = options.Value.PollInterval;
        Directory.CreateDirectory(_directory);
        _checkpoint = new InboxCheckpoint(_directory);
        foreach (var (name, (offset, line)) in _checkpoint.Load())
        {
            _files[name] = new FileState(offset, line);
        }
    }

    public void Complete(IngestMessage message)
    {
        var pos = (InboxPosition)message.Position!;
        lock (_gate)
        {
            var f = _files[pos.File];
            f.InFlight--;
            (f.CompletedOffset, f.CompletedLine) = f.InFlight == 0 ? (f.ReadOffset, f.ReadLine) : (pos.EndOffset, pos.Line);
            _dirty = true;
        }
    }

    public async Task DeadLetterAsync(IngestMessage message, string reason, CancellationToken cancellationToken)
    {
        var pos = (InboxPosition)message.Position!;
        var buffer = new ArrayBufferWriter<byte>(message.Value.Length + 256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("file", pos.File);
            writer.WriteNumber("line", pos.Line);
            writer.WriteNumber("offset", pos.StartOffset);
            writer.WriteString("kind", message.Kind.Name());
            writer.WriteString("reason", reason);
            writer.WriteString("deadLetteredAt", AuditJson.FormatTime(_time.GetUtcNow()));
            if (Utf8.IsValid(message.Value.Span))
            {
                writer.WriteString("raw", message.Value.Span);
            }
            else
            {
                writer.WriteBase64String("rawBase64", message.Value.Span);
            }

            writer.WriteEndObject();
        }

        buffer.Write("\n"u8);
        await _deadLetterGate.WaitAsync(cancellationToken);
        try
        {
            await using var stream = new FileStream(Path.Combine(_directory, DeadLetterFileName), FileMode.Append, FileAccess.Write, FileShare.Read);
            await stream.WriteAsync(buffer.WrittenMemory, cancellationToken);
            stream.Flush(flushToDisk: true);
        }
        finally
        {
            _deadLetterGate.Release();
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Stop reading, let everything read so far be completed, then record how far that is.
        await base.StopAsync(cancellationToken);
        try
        {
            await _queue.FlushAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            LogFlushTimedOut();
        }

        SaveCheckpoint(force: true);
    }

    public override void Dispose()
    {
        base.Dispose();
        _deadLetterGate.Dispose();
    }

    /// <summary>Writes the checkpoint now if anything completed since the last one (tests and the periodic loop).</summary>
    internal void SaveCheckpoint(bool force = false)
    {
        List<KeyValuePair<string, (long, long)>> snapshot;
        lock (_gate)
        {
            if (!_dirty && !force)
            {
                return;
            }

            snapshot = [.. _files.Select(f => KeyValuePair.Create(f.Key, (f.Value.CompletedOffset, f.Value.CompletedLine)))];
            _dirty = false;
        }

        try
        {
            _checkpoint.Save(snapshot);
        }
        catch (IOException ex)
        {
            lock (_gate)
            {
                _dirty = true;
            }

            LogCheckpointFailed(ex);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogStarted(_directory, _files.Count);
        await Task.WhenAll(ReadLoopAsync(stoppingToken), CheckpointLoopAsync(stoppingToken));
    }

    private async Task ReadLoopAsync(CancellationToken ct)
    {
        await Task.Yield();
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await PollOnceAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogPollFailed(ex);
            }

            if (!await DelayAsync(ct))
            {
                return;
            }
        }
    }

    private async Task CheckpointLoopAsync(CancellationToken ct)
    {
        while (await DelayAsync(ct))
        {
            SaveCheckpoint();
        }
    }

    private async Task<bool> DelayAsync(CancellationToken ct)
    {
        try
        {
            await Task.Delay(_pollInterval, _time, ct);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Reads every complete line not read yet from every input file, in file name order.</summary>
    internal async Task PollOnceAsync(CancellationToken ct)
    {
        var files = new DirectoryInfo(_directory).EnumerateFiles("*.jsonl")
            .Where(f => f.Name.EndsWith(".jsonl", StringComparison.Ordinal))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
        foreach (var file in files)
        {
            ct.ThrowIfCancellationRequested();
            var name = file.Name;
            if (!TryKind(name, out var kind))
            {
                if (_ignored.Add(name))
                {
                    LogUnknownPrefix(name);
                }

                continue;
            }

            FileState state;
            lock (_gate)
            {
                if (!_files.TryGetValue(name, out state!))
                {
                    state = new FileState(0, 0);
                    _files[name] = state;
                }

                // Unchanged since the last read (the usual case for old files): not even opened.
                if (file.Length == state.ReadOffset)
                {
                    continue;
                }
            }

            await ReadFileAsync(name, kind, state, ct);
        }
    }

    private static bool TryKind(string fileName, out SourceKind kind)
    {
        var end = fileName.IndexOfAny(['-', '_', '.']);
        return SourceKinds.TryParse(end > 0 ? fileName[..end] : null, out kind);
    }

    private async Task ReadFileAsync(string name, SourceKind kind, FileState state, CancellationToken ct)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(Path.Combine(_directory, name), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        }
        catch (FileNotFoundException)
        {
            return;
        }

        await using (stream)
        {
            var length = stream.Length;
            long offset;
            lock (_gate)
            {
                if (length < state.ReadOffset && state.InFlight == 0)
                {
                    // Truncated or replaced: read it again from the start (the store absorbs repeats).
                    LogFileShrank(name, length, state.ReadOffset);
                    state.ReadOffset = state.CompletedOffset = 0;
                    state.ReadLine = state.CompletedLine = 0;
                    _dirty = true;
                }

                offset = state.ReadOffset;
            }

            if (length <= offset)
            {
                return;
            }

            stream.Position = offset;
            var buffer = ArrayPool<byte>.Shared.Rent(ReadBufferSize);
            var pending = new ArrayBufferWriter<byte>();
            try
            {
                var lineStart = offset;
                var position = offset;
                int read;
                while (position < length && (read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - position)), ct)) > 0)
                {
                    var chunk = buffer.AsMemory(0, read);
                    var chunkStart = position;
                    position += read;
                    var from = 0;
                    while (true)
                    {
                        var nl = chunk.Span[from..].IndexOf((byte)'\n');
                        if (nl < 0)
                        {
                            pending.Write(chunk.Span[from..]);
                            break;
                        }

                        var lineEnd = chunkStart + from + nl + 1;
                        byte[] line;
                        if (pending.WrittenCount > 0)
                        {
                            pending.Write(chunk.Span.Slice(from, nl));
                            line = pending.WrittenSpan.ToArray();
                            pending.ResetWrittenCount();
                        }
                        else
                        {
                            line = chunk.Span.Slice(from, nl).ToArray();
                        }

                        await EmitAsync(name, kind, state, line, lineStart, lineEnd, ct);
                        lineStart = lineEnd;
                        from += nl + 1;
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private async Task EmitAsync(string name, SourceKind kind, FileState state, byte[] line, long start, long end, CancellationToken ct)
    {
        ReadOnlyMemory<byte> value = line;
        if (start == 0 && value.Span.StartsWith("\uFEFF"u8))
        {
            value = value[3..];
        }

        if (value.Span.EndsWith("\r"u8))
        {
            value = value[..^1];
        }

        long lineNumber;
        lock (_gate)
        {
            lineNumber = ++state.ReadLine;
            state.ReadOffset = end;
            if (IsBlank(value.Span))
            {
                if (state.InFlight == 0)
                {
                    state.CompletedOffset = end;
                    state.CompletedLine = lineNumber;
                    _dirty = true;
                }

                return;
            }

            state.InFlight++;
        }

        var message = new IngestMessage(kind, value, this)
        {
            Position = new InboxPosition(name, lineNumber, start, end),
            ReceivedAt = _time.GetUtcNow(),
        };
        await _queue.WriteAsync(message, ct);
    }

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.IndexOfAnyExcept(" \t\r"u8) < 0;

    [LoggerMessage(Level = LogLevel.Information, Message = "Inbox {Directory} tailed from {Files} checkpointed files")]
    private partial void LogStarted(string directory, int files);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inbox file {File} is ignored: its name does not start with crm-, auth-, ai- or platform-")]
    private partial void LogUnknownPrefix(string file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inbox file {File} shrank to {Length} bytes below its read position {Offset}; reading it again from the start")]
    private partial void LogFileShrank(string file, long length, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the inbox failed; trying again at the next poll")]
    private partial void LogPollFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing the inbox checkpoint failed; trying again")]
    private partial void LogCheckpointFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping before every inbox line read was completed; the rest is read again at the next start")]
    private partial void LogFlushTimedOut();

    private sealed class FileState(long offset, long line)
    {
        /// <summary>Offset after the last line read (handed to the queue or skipped as blank).</summary>
        public long ReadOffset { get; set; } = offset;

        public long ReadLine { get; set; } = line;

        /// <summary>Offset after the last line whose message (and every one before it) is completed.</summary>
        public long CompletedOffset { get; set; } = offset;

        public long CompletedLine { get; set; } = line;

        public int InFlight { get; set; }
    }
}
