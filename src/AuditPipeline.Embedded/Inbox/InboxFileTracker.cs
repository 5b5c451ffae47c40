using Microsoft.Extensions.Logging;

namespace AuditPipeline.Embedded.Inbox;

/// <summary>A directory entry worth a look this poll.</summary>
internal sealed record InboxCandidate(string Name, string Path, FileStat Stat);

/// <summary>
/// Decides, at every look at the directory, which file each followed content now is. A file is the same
/// when its device/inode is the same (where the platform gives one) and its first bytes still hash the
/// same and it is no shorter than what was read; then a rename is only a new name. Otherwise:
/// <list type="bullet">
/// <item>renamed (<c>mv crm.jsonl crm.jsonl.1</c>, or to another <c>*.jsonl</c> name): followed under the new name and read to its end;</item>
/// <item>copied then truncated (<c>copytruncate</c>): the copy with the same first bytes carries on from the read position,
/// and the truncated file starts again as new content;</item>
/// <item>replaced or rewritten under the same name (a new inode, or the same inode with other first bytes, or shorter than read):
/// the new content is read from its start;</item>
/// <item>gone (deleted, or moved to a name that is not followed, e.g. <c>.gz</c>): forgotten, with a warning naming
/// the bytes seen and not read, since they can no longer be.</item>
/// </list>
/// Nothing is opened for a file whose identity, length and time did not change since the last look.
/// </summary>
internal sealed partial class InboxFileTracker(Lock gate, ILogger logger)
{
    /// <summary>
    /// How often an unchanged file's first bytes are checked anyway: file times are as coarse as the
    /// kernel's clock tick, so a rewrite of the same length within one tick looks unchanged to a look.
    /// </summary>
    public static readonly TimeSpan ReverifyInterval = TimeSpan.FromSeconds(5);

    private readonly List<InboxFile> _active = [];
    private readonly HashSet<string> _ignored = new(StringComparer.Ordinal);
    private readonly HashSet<FileIdentity> _seenRotated = [];
    private bool _changed;
    private bool _looked;

    /// <summary>The followed files (a copy, taken under the lock).</summary>
    public IReadOnlyList<InboxFile> Active
    {
        get
        {
            lock (gate)
            {
                return [.. _active];
            }
        }
    }

    /// <summary>True once after a file was added, renamed or retired (the checkpoint must be written again).</summary>
    public bool TakeChanged()
    {
        lock (gate)
        {
            var changed = _changed;
            _changed = false;
            return changed;
        }
    }

    /// <summary>False until the first look (or a checkpoint) has recorded which rotated files predate the inbox.</summary>
    public bool HasLooked
    {
        get
        {
            lock (gate)
            {
                return _looked;
            }
        }
    }

    /// <summary>Takes back what a checkpoint recorded; from then on, rotated files nobody follows are content never read.</summary>
    public void Restore(IEnumerable<InboxCheckpointEntry> entries)
    {
        lock (gate)
        {
            _looked = true;
            foreach (var entry in entries)
            {
                _active.Add(new InboxFile(entry.Name, entry.Kind, entry.Identity, entry.Head, entry.Offset, entry.Line));
            }
        }
    }

    /// <summary>Matches this look's entries to the followed files; returns the files to read, in name order.</summary>
    public async Task<List<(InboxFile File, InboxCandidate Entry)>> MatchAsync(IReadOnlyList<InboxCandidate> entries, DateTimeOffset now, CancellationToken ct)
    {
        var claimed = new Dictionary<InboxCandidate, InboxFile>();
        var lost = new List<(InboxFile File, InboxCandidate? Rewritten)>();
        // Indexed: a backfill inbox may hold thousands of files, looked at every poll.
        var byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        var byIdentity = new Dictionary<FileIdentity, InboxCandidate>();
        foreach (var e in entries)
        {
            if (e.Stat.Identity is { } eid)
            {
                byIdentity.TryAdd(eid, e);
            }
        }

        foreach (var file in Active)
        {
            var sameName = byName.GetValueOrDefault(file.Name);
            var entry = sameName is not null && sameName.Stat == file.LastStat
                ? sameName
                : file.Identity is { } id ? byIdentity.GetValueOrDefault(id) : sameName;
            if (entry is not null && !claimed.ContainsKey(entry)
                && ((entry.Stat == file.LastStat && now - file.VerifiedAt < ReverifyInterval) || await SameContentAsync(file, entry, ct)))
            {
                claimed[entry] = file;
                file.VerifiedAt = entry.Stat == file.LastStat && now - file.VerifiedAt < ReverifyInterval ? file.VerifiedAt : now;
            }
            else
            {
                lost.Add((file, entry));
            }
        }

        // What is not where it was may be a rename without inodes, or the copy copytruncate made.
        foreach (var (file, rewritten) in lost)
        {
            InboxCandidate? copy = null;
            if (file.Head is { Length: > 0 })
            {
                foreach (var e in entries)
                {
                    if (!claimed.ContainsKey(e) && e != rewritten && e.Stat.Length >= file.ReadOffset && await SameContentAsync(file, e, ct))
                    {
                        copy = e;
                        break;
                    }
                }
            }

            if (copy is not null)
            {
                claimed[copy] = file;
                file.VerifiedAt = now;
                LogFollowed(file.Name, copy.Name, file.ReadOffset);
                lock (gate)
                {
                    file.Name = copy.Name;
                }
            }
            else
            {
                Retire(file, rewritten);
            }
        }

        // A rotated name nobody follows, holding no followed content's first bytes: lines written and
        // rotated away between two looks (two rotations in one poll interval, or while stopped). At the
        // very first look (no checkpoint yet) such files predate the inbox: taken as read, never read.
        var fresh = new HashSet<InboxCandidate>();
        var preexisting = new HashSet<InboxCandidate>();
        foreach (var e in entries)
        {
            if (!claimed.ContainsKey(e) && InboxNames.IsRotated(e.Name) && e.Stat.Identity is { } id && _seenRotated.Add(id))
            {
                if (!_looked)
                {
                    preexisting.Add(e);
                }
                else if (e.Stat.Length > 0 && !await IsCopyOfFollowedAsync(e, ct))
                {
                    fresh.Add(e);
                }
            }
        }

        _looked = true;
        var result = new List<(InboxFile, InboxCandidate)>();
        lock (gate)
        {
            foreach (var e in entries)
            {
                if (claimed.TryGetValue(e, out var file))
                {
                    if (file.Name != e.Name)
                    {
                        LogRenamed(file.Name, e.Name);
                    }

                    _changed |= file.Name != e.Name || file.Identity != (e.Stat.Identity ?? file.Identity);
                    file.Name = e.Name;
                    file.Identity = e.Stat.Identity ?? file.Identity;
                    Observe(file, e, now);
                    result.Add((file, e));
                }
                else if (preexisting.Contains(e) && InboxNames.TryKind(e.Name, out var oldKind))
                {
                    // Followed from its end, so that a later start knows it and does not take it for new content.
                    var old = new InboxFile(e.Name, oldKind, e.Stat.Identity, null, e.Stat.Length, 0) { VerifiedAt = now };
                    Observe(old, e, now);
                    _active.Add(old);
                    _changed = true;
                    result.Add((old, e));
                }
                else if (InboxNames.IsInput(e.Name) || fresh.Contains(e))
                {
                    if (fresh.Contains(e))
                    {
                        LogFreshRotated(e.Name);
                    }

                    if (!InboxNames.TryKind(e.Name, out var kind))
                    {
                        if (_ignored.Add(e.Name))
                        {
                            LogUnknownPrefix(e.Name);
                        }

                        continue;
                    }

                    var added = new InboxFile(e.Name, kind, e.Stat.Identity, null, 0, 0) { VerifiedAt = now };
                    Observe(added, e, now);
                    _active.Add(added);
                    _changed = true;
                    result.Add((added, e));
                }
            }
        }

        result.Sort((a, b) => StringComparer.Ordinal.Compare(a.Item2.Name, b.Item2.Name));
        return result;
    }

    private static void Observe(InboxFile file, InboxCandidate entry, DateTimeOffset now)
    {
        if (file.LastStat != entry.Stat)
        {
            file.LastStat = entry.Stat;
            file.LastChangeAt = now;
        }

        if (file.Oversized is { } o && o.ScannedTo > entry.Stat.Length)
        {
            file.Oversized = null;
        }
    }

    private void Retire(InboxFile file, InboxCandidate? rewritten)
    {
        long unread;
        lock (gate)
        {
            file.Retired = true;
            _changed = true;
            _active.Remove(file);
            unread = Math.Max(0, (file.LastStat?.Length ?? 0) - file.ReadOffset);
        }

        if (rewritten is not null)
        {
            // Truncated, rewritten in place, or a name or inode now holding other content.
            if (unread > 0)
            {
                LogReplacedWithUnread(file.Name, unread, file.ReadOffset, file.ReadLine + 1);
            }
            else
            {
                LogReplaced(file.Name, file.ReadOffset);
            }
        }
        else if (file.LastStat is null)
        {
            LogCheckpointedFileGone(file.Name);
        }
        else if (unread > 0)
        {
            LogVanishedWithUnread(file.Name, unread, file.ReadOffset, file.ReadLine + 1);
        }
        else
        {
            LogVanished(file.Name);
        }
    }

    private async Task<bool> IsCopyOfFollowedAsync(InboxCandidate entry, CancellationToken ct)
    {
        var heads = Active.Where(f => f.Head is { Length: > 0 }).Select(f => f.Head!).ToList();
        try
        {
            await using var stream = InboxSourceFiles.OpenRead(entry.Path);
            foreach (var head in heads)
            {
                if (await FileHead.ReadAsync(stream, head.Length, ct) is { } other && other.Matches(head))
                {
                    return true;
                }
            }

            return false;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return true;
        }
    }

    /// <summary>True when <paramref name="entry"/> holds the content <paramref name="file"/> followed: as long, same first bytes, same inode if known.</summary>
    private static async Task<bool> SameContentAsync(InboxFile file, InboxCandidate entry, CancellationToken ct)
    {
        if (entry.Stat.Length < file.ReadOffset)
        {
            return false;
        }

        if (file.Head is not { } head)
        {
            // Recorded before its first bytes were read (or by an older checkpoint): inode, else name.
            return file.Identity is { } id ? entry.Stat.Identity == id : entry.Name == file.Name;
        }

        try
        {
            await using var stream = InboxSourceFiles.OpenRead(entry.Path);
            if (entry.Stat.Identity is { } expected && FileIdentity.Get(stream.SafeFileHandle) is { } actual && actual != expected)
            {
                return false;
            }

            return await FileHead.ReadAsync(stream, head.Length, ct) is { } now && now.Matches(head);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Inbox file {File} was renamed to {NewName}; reading it on under its new name")]
    private partial void LogRenamed(string file, string newName);

    [LoggerMessage(Level = LogLevel.Information, Message = "Inbox file {File} is not where it was, and its content is in {Copy} (renamed, or copied before a truncation); reading {Copy} on from offset {Offset}")]
    private partial void LogFollowed(string file, string copy, long offset);

    [LoggerMessage(Level = LogLevel.Information, Message = "Inbox file {File} was truncated or replaced after {Offset} bytes were read; reading its new content from the start")]
    private partial void LogReplaced(string file, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inbox file {File} was truncated or replaced with {Unread} bytes not read yet after offset {Offset} (from line {Line}); no copy of them is in the inbox, so they are lost; reading the new content from the start")]
    private partial void LogReplacedWithUnread(string file, long unread, long offset, long line);

    [LoggerMessage(Level = LogLevel.Information, Message = "Inbox file {File} is gone after being read to its end")]
    private partial void LogVanished(string file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inbox file {File} is gone with {Unread} bytes not read yet after offset {Offset} (from line {Line}); they cannot be read any more")]
    private partial void LogVanishedWithUnread(string file, long unread, long offset, long line);

    [LoggerMessage(Level = LogLevel.Information, Message = "Inbox file {File} in the checkpoint is no longer there; forgetting it")]
    private partial void LogCheckpointedFileGone(string file);

    [LoggerMessage(Level = LogLevel.Information, Message = "Inbox file {File} appeared under a rotated name with content never read (rotated twice between two looks?); reading it from its start")]
    private partial void LogFreshRotated(string file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inbox file {File} is ignored: its name does not start with crm-, auth-, ai- or platform-")]
    private partial void LogUnknownPrefix(string file);
}
