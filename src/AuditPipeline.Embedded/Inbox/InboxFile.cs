using AuditPipeline.Core.Normalization;

namespace AuditPipeline.Embedded.Inbox;

/// <summary>
/// One input file's content as the inbox follows it: the name it has now (it may be renamed), its
/// identity and first bytes, and how far it is read and completed. Every field is guarded by the
/// source's lock; <see cref="Complete"/> comes from the pipeline's thread.
/// </summary>
internal sealed class InboxFile(string name, SourceKind kind, FileIdentity? identity, FileHead? head, long offset, long line)
{
    public string Name { get; set; } = name;

    public SourceKind Kind { get; } = kind;

    public FileIdentity? Identity { get; set; } = identity;

    /// <summary><c>null</c> for a file taken over from a checkpoint that did not record it (learned at the next read).</summary>
    public FileHead? Head { get; set; } = head;

    /// <summary>What the last look at the directory saw; equal at the next look means nothing changed.</summary>
    public FileStat? LastStat { get; set; }

    /// <summary>What the directory said when the file was last read up to its end (a held-back tail is not read again until it changes).</summary>
    public FileStat? ReadStat { get; set; }

    /// <summary>When the first bytes were last checked against <see cref="Head"/>.</summary>
    public DateTimeOffset VerifiedAt { get; set; }

    /// <summary>When <see cref="LastStat"/> last changed: the start of the quiet period.</summary>
    public DateTimeOffset LastChangeAt { get; set; }

    /// <summary>Offset after the last line read (handed to the queue, skipped as blank, or dead-lettered here).</summary>
    public long ReadOffset { get; set; } = offset;

    public long ReadLine { get; set; } = line;

    /// <summary>Offset after the last line whose message (and every one before it) is completed: what the checkpoint records.</summary>
    public long CompletedOffset { get; set; } = offset;

    public long CompletedLine { get; set; } = line;

    public int InFlight { get; set; }

    /// <summary>A line longer than the limit being skipped: its start, length so far and kept prefix.</summary>
    public OversizedLine? Oversized { get; set; }

    /// <summary>The offset whose unterminated final line was last reported as held back (-1: none), so the warning comes once.</summary>
    public long HeldBackReported { get; set; } = -1;

    /// <summary>Could not be compared with its directory entry at the last look (it moved on since the listing): kept, not read, until a look can tell.</summary>
    public bool Held { get; set; }

    /// <summary>No longer followed (vanished, truncated or replaced): completions still count, the checkpoint leaves it out.</summary>
    public bool Retired { get; set; }

    /// <summary>Bytes seen in the file that are not completed yet (the inbox lag).</summary>
    public long Unread => Math.Max(0, (LastStat?.Length ?? CompletedOffset) - CompletedOffset);

    /// <summary>A line read and then done without the pipeline (blank, or dead-lettered here): completed at once unless messages before it are in flight.</summary>
    public void SkipTo(long end, long lineNumber)
    {
        ReadOffset = end;
        ReadLine = lineNumber;
        if (InFlight == 0)
        {
            CompletedOffset = end;
            CompletedLine = lineNumber;
        }
    }

    /// <summary>The pipeline completed the message of line <paramref name="lineNumber"/> ending at <paramref name="end"/> (in order).</summary>
    public void Complete(long end, long lineNumber)
    {
        InFlight--;
        (CompletedOffset, CompletedLine) = InFlight == 0 ? (ReadOffset, ReadLine) : (end, lineNumber);
    }
}

/// <summary>The part of a too-long line kept for its dead-letter record, and how long it is so far.</summary>
internal sealed class OversizedLine(long start, int prefixCapacity)
{
    private readonly byte[] _prefix = new byte[prefixCapacity];

    public long Start { get; } = start;

    public long Length { get; private set; }

    /// <summary>Where scanning for its newline goes on at the next read.</summary>
    public long ScannedTo { get; set; }

    public int PrefixLength { get; private set; }

    public ReadOnlyMemory<byte> Prefix => _prefix.AsMemory(0, PrefixLength);

    public void Append(ReadOnlySpan<byte> bytes)
    {
        var keep = Math.Min(bytes.Length, _prefix.Length - PrefixLength);
        bytes[..keep].CopyTo(_prefix.AsSpan(PrefixLength));
        PrefixLength += keep;
        Length += bytes.Length;
    }
}
