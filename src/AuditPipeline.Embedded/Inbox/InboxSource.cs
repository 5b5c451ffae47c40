using AuditPipeline.Core.Diagnostics;
using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Normalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Embedded.Inbox;

/// <summary>Where an inbox line came from: file, 1-based line number, and the byte offsets of the line.</summary>
internal sealed record InboxPosition(string File, long Line, long StartOffset, long EndOffset)
{
    /// <summary>The followed file the line belongs to (its name may change later; this stays).</summary>
    public InboxFile? Source { get; init; }

    public override string ToString() => $"{File}:{Line}";
}

/// <summary>
/// Tails the <c>*.jsonl</c> files of a directory like a topic: one raw message per line, the kind from
/// the file name prefix, appended lines and new files picked up by polling. Files are followed by
/// identity (<see cref="InboxFileTracker"/>) through renames, truncation and replacement; lines are read
/// in bounded chunks (<see cref="InboxLineReader"/>), a line longer than <c>MaxMessageBytes</c> is
/// dead-lettered here without ever being held whole, and a final line without a newline is read once the
/// file has been quiet for <c>Inbox:QuietPeriod</c>. The checkpoint records, per file, the offset after
/// the last line whose message is completed (stored, duplicate or dead-lettered), so after a crash
/// reading resumes there: no line is skipped, and lines completed after the last checkpoint come again
/// as harmless duplicates.
/// </summary>
internal sealed partial class InboxSource : BackgroundService, IMessageOrigin, IInboxLineSink
{
    /// <summary>Rejected lines with their reason; the name never ends in <c>.jsonl</c>, so it is never read as input.</summary>
    public const string DeadLetterFileName = InboxDeadLetterFile.FileName;

    /// <summary>How much of a too-long line its dead-letter record keeps.</summary>
    internal const int KeptPrefixBytes = 4096;

    private readonly IIngestQueue _queue;
    private readonly ILogger<InboxSource> _logger;
    private readonly TimeProvider _time;
    private readonly string _directory;
    private readonly InboxOptions _options;
    private readonly int _maxMessageBytes;
    private readonly AuditMetrics? _metrics;
    private readonly InboxMetrics? _inboxMetrics;
    private readonly InboxCheckpoint _checkpoint;
    private readonly InboxDeadLetterFile _deadLetters;
    private readonly InboxFileTracker _tracker;
    private readonly InboxLineReader _reader;
    private readonly Lock _gate = new();
    private bool _dirty;

    public InboxSource(
        IIngestQueue queue,
        IOptions<InboxOptions> options,
        ILogger<InboxSource> logger,
        TimeProvider? time = null,
        IOptions<IngestOptions>? ingest = null,
        AuditMetrics? metrics = null,
        InboxMetrics? inboxMetrics = null)
    {
        _queue = queue;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _options = options.Value;
        _directory = Path.GetFullPath(_options.Path ?? throw new InvalidOperationException("Inbox:Path must not be empty."));
        _maxMessageBytes = (ingest?.Value ?? new IngestOptions()).MaxMessageBytes;
        _metrics = metrics;
        _inboxMetrics = inboxMetrics;
        Directory.CreateDirectory(_directory);
        _checkpoint = new InboxCheckpoint(_directory);
        _deadLetters = new InboxDeadLetterFile(_directory, _time);
        _tracker = new InboxFileTracker(_gate, logger);

        // Room for a BOM and a CR around a line of the limit: the normalizer applies the exact limit.
        _reader = new InboxLineReader(_maxMessageBytes + 4, Math.Min(KeptPrefixBytes, _maxMessageBytes));
        if (_checkpoint.Load() is { } entries)
        {
            _tracker.Restore(entries);
        }

        _inboxMetrics?.Register(_directory, UnreadBytes);
    }

    /// <summary>
    /// Called after each look has listed the directory and before the listing is matched: the gap in which
    /// a producer's rename makes the listing stale. Tests land their renames here.
    /// </summary>
    internal Action? AfterListing { get; set; }

    /// <summary>Bytes seen in the followed files and not completed yet.</summary>
    public long UnreadBytes()
    {
        lock (_gate)
        {
            return _tracker.Active.Sum(f => f.Unread);
        }
    }

    public void Complete(IngestMessage message)
    {
        var pos = (InboxPosition)message.Position!;
        lock (_gate)
        {
            pos.Source!.Complete(pos.EndOffset, pos.Line);
            _dirty = true;
        }
    }

    public Task DeadLetterAsync(IngestMessage message, string reason, CancellationToken cancellationToken) =>
        _deadLetters.WriteAsync((InboxPosition)message.Position!, message.Kind, message.Value, reason, cancellationToken);

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
        _inboxMetrics?.Unregister(_directory);
        base.Dispose();
        _deadLetters.Dispose();
    }

    /// <summary>Writes the checkpoint now if anything completed since the last one (tests and the periodic loop).</summary>
    internal void SaveCheckpoint(bool force = false)
    {
        List<InboxCheckpointEntry> snapshot;
        lock (_gate)
        {
            if (!_dirty && !force)
            {
                return;
            }

            snapshot = [.. _tracker.Active.Select(f => new InboxCheckpointEntry(f.Name, f.Kind, f.Identity, f.Head, f.CompletedOffset, f.CompletedLine))];
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
        LogStarted(_directory, _tracker.Active.Count);
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
            await Task.Delay(_options.PollInterval, _time, ct);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Looks at the directory once and reads every line ready to be read, in file name order.</summary>
    internal async Task PollOnceAsync(CancellationToken ct)
    {
        var entries = new List<InboxCandidate>();
        foreach (var info in new DirectoryInfo(_directory).EnumerateFiles())
        {
            if ((InboxNames.IsInput(info.Name) || InboxNames.IsRotated(info.Name)) && FileStat.Of(info) is { } stat)
            {
                entries.Add(new InboxCandidate(info.Name, info.FullName, stat));
            }
        }

        AfterListing?.Invoke();
        var now = _time.GetUtcNow();
        var firstLook = !_tracker.HasLooked;
        var files = await _tracker.MatchAsync(entries, now, ct);
        if (_tracker.TakeChanged())
        {
            lock (_gate)
            {
                // Retirements, renames and new files change what the checkpoint holds.
                _dirty = true;
            }
        }

        if (firstLook)
        {
            // At once: a restart must know that rotated files appearing from now on are new content.
            SaveCheckpoint(force: true);
        }

        foreach (var (file, entry) in files)
        {
            ct.ThrowIfCancellationRequested();
            await ReadAsync(file, entry, now, ct);
        }
    }

    private async Task ReadAsync(InboxFile file, InboxCandidate entry, DateTimeOffset now, CancellationToken ct)
    {
        var length = entry.Stat.Length;
        var scanned = file.Oversized?.ScannedTo ?? file.ReadOffset;
        var quiet = now - file.LastChangeAt >= _options.QuietPeriod;
        var headDone = file.Head is { } h && (h.Length == FileHead.MaxLength || h.Length >= length);
        var unchanged = entry.Stat == file.ReadStat || length <= scanned;
        if (unchanged && !(quiet && length > file.ReadOffset) && headDone)
        {
            // Nothing new since the last read (the usual case for old files), or only a tail still held back: not even opened.
            return;
        }

        FileStream stream;
        try
        {
            stream = InboxSourceFiles.OpenRead(entry.Path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return;
        }

        await using (stream)
        {
            if (entry.Stat.Identity is { } expected && FileIdentity.Get(stream.SafeFileHandle) is { } actual && actual != expected)
            {
                // Replaced between the look and the open: the next look sorts it out.
                return;
            }

            if (!headDone && await FileHead.ReadFullAsync(stream, ct) is { } head)
            {
                lock (_gate)
                {
                    file.Head = head;
                    _dirty = true;
                }
            }

            // A tail is taken only if the file did not grow since it was found quiet.
            var takeTail = quiet && stream.Length == length;
            var heldBack = await _reader.ReadAsync(stream, file, Math.Min(length, stream.Length), takeTail, this, ct);
            file.ReadStat = entry.Stat;
            if (heldBack > 0 && file.HeldBackReported != file.ReadOffset)
            {
                file.HeldBackReported = file.ReadOffset;
                LogHeldBack(file.Name, heldBack, file.ReadOffset, file.ReadLine + 1, _options.QuietPeriod);
            }
        }
    }

    async ValueTask IInboxLineSink.LineAsync(InboxFile file, ReadOnlyMemory<byte> line, long start, long end, CancellationToken ct)
    {
        var value = line;
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
            lineNumber = file.ReadLine + 1;
            if (IsBlank(value.Span))
            {
                file.SkipTo(end, lineNumber);
                _dirty = true;
                return;
            }

            file.ReadOffset = end;
            file.ReadLine = lineNumber;
            file.InFlight++;
        }

        var message = new IngestMessage(file.Kind, value, this)
        {
            Position = new InboxPosition(file.Name, lineNumber, start, end) { Source = file },
            ReceivedAt = _time.GetUtcNow(),
        };
        await _queue.WriteAsync(message, ct);
    }

    async ValueTask IInboxLineSink.OversizedAsync(InboxFile file, OversizedLine line, long end, CancellationToken ct)
    {
        long lineNumber;
        lock (_gate)
        {
            lineNumber = file.ReadLine + 1;
        }

        var position = new InboxPosition(file.Name, lineNumber, line.Start, end) { Source = file };
        var reason = $"the line is {line.Length} bytes, larger than the limit of {_maxMessageBytes} bytes (MaxMessageBytes); its first {line.PrefixLength} bytes are kept here";

        // Written before the line counts as read: a crash in between dead-letters it again, never skips it.
        await _deadLetters.WriteOversizedAsync(position, file.Kind, line.Prefix, line.Length, reason, ct);
        lock (_gate)
        {
            file.SkipTo(end, lineNumber);
            _dirty = true;
        }

        _metrics?.Consumed(file.Kind.Name());
        _metrics?.DeadLettered(file.Kind.Name());
        LogOversized(position.ToString(), line.Length, _maxMessageBytes);
    }

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.IndexOfAnyExcept(" \t\r"u8) < 0;

    [LoggerMessage(Level = LogLevel.Information, Message = "Tailing the inbox {Directory}, resuming {Files} files from the checkpoint")]
    private partial void LogStarted(string directory, int files);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the inbox failed; trying again at the next poll")]
    private partial void LogPollFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing the inbox checkpoint failed; trying again")]
    private partial void LogCheckpointFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping before every inbox line read was completed; the rest is read again at the next start")]
    private partial void LogFlushTimedOut();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inbox file {File} ends in {Bytes} bytes without a newline at offset {Offset} (line {Line}); holding them back until the file has been unchanged for {QuietPeriod} (Inbox:QuietPeriod), as a producer may be writing them")]
    private partial void LogHeldBack(string file, long bytes, long offset, long line, TimeSpan quietPeriod);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dead-lettered the inbox line at {Position}: it is {Length} bytes, larger than MaxMessageBytes ({Limit}); reading on after it")]
    private partial void LogOversized(string position, long length, int limit);
}
