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
/// The listing is older than the opens that check it: a rename, copy or delete can land in between. A
/// file that cannot be read as listed (<see cref="ContentMatch.Unknown"/>) is therefore held: not read,
/// not retired, its entry taken for nothing else, until a later look can tell.
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

        // Entries a followed file could not be compared with (see ContentMatch.Unknown): they may be that
        // file, so this look takes them neither for new content nor for a copy.
        var held = new HashSet<InboxCandidate>();
        var heldIdentities = new HashSet<FileIdentity>();

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
            if (entry is not null && !claimed.ContainsKey(entry))
            {
                var recent = entry.Stat == file.LastStat && now - file.VerifiedAt < ReverifyInterval;
                var match = recent ? ContentMatch.Same : await InboxContentCheck.CompareAsync(file, entry, ct);
                if (match == ContentMatch.Same)
                {
                    claimed[entry] = file;
                    file.VerifiedAt = recent ? file.VerifiedAt : now;
                    continue;
                }

                if (match == ContentMatch.Unknown)
                {
                    Hold(file, entry, held, heldIdentities, now);
                    continue;
                }
            }

            lost.Add((file, entry));
        }

        // What is not where it was may be a rename without inodes, or the copy copytruncate made.
        foreach (var (file, rewritten) in lost)
        {
            InboxCandidate? copy = null;
            var undecided = false;
            if (file.Head is { Length: > 0 })
            {
                foreach (var e in entries)
                {
                    if (!claimed.ContainsKey(e) && !held.Contains(e) && e != rewritten && e.Stat.Length >= file.ReadOffset)
                    {
                        var match = await InboxContentCheck.CompareAsync(file, e, ct);
                        if (match == ContentMatch.Same)
                        {
                            copy = e;
                            break;
                        }

                        undecided |= match == ContentMatch.Unknown;
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
            else if (undecided)
            {
                // Its copy may be the entry that could not be read: never retired on a guess.
                Hold(file, null, held, heldIdentities, now);
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
        List<(InboxFile File, InboxCandidate? Entry)>? followed = null;
        foreach (var e in entries)
        {
            if (claimed.ContainsKey(e) || held.Contains(e) || !InboxNames.IsRotated(e.Name)
                || e.Stat.Identity is not { } id || heldIdentities.Contains(id) || _seenRotated.Contains(id))
            {
                continue;
            }

            if (!_looked)
            {
                _seenRotated.Add(id);
                preexisting.Add(e);
                continue;
            }

            if (followed is null)
            {
                var at = claimed.ToDictionary(c => c.Value, c => c.Key);
                followed = [.. Active.Select(f => (f, at.GetValueOrDefault(f)))];
            }

            switch (await InboxContentCheck.IsCopyOfFollowedAsync(e, followed, ct))
            {
                case ContentMatch.Different:
                    _seenRotated.Add(id);
                    fresh.Add(e);
                    break;
                case ContentMatch.Same:
                    _seenRotated.Add(id);
                    break;
                default:
                    // Empty, or not readable as listed: looked at again next time.
                    break;
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
                    file.Held = false;
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
                else if (held.Contains(e))
                {
                    continue;
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

    /// <summary>Keeps a followed file as it is this look (not read, not retired): the next look, with a fresh listing, decides.</summary>
    private void Hold(InboxFile file, InboxCandidate? entry, HashSet<InboxCandidate> held, HashSet<FileIdentity> heldIdentities, DateTimeOffset now)
    {
        if (file.Identity is { } id)
        {
            heldIdentities.Add(id);
        }

        if (entry is not null)
        {
            held.Add(entry);
            if (entry.Stat.Identity is { } listed && listed == file.Identity)
            {
                // The listing's size of this very file: what a warning names as unread if it is gone next time.
                // Not verified, so the next look reads its first bytes instead of trusting an unchanged stat.
                lock (gate)
                {
                    Observe(file, entry, now);
                    file.VerifiedAt = DateTimeOffset.MinValue;
                }
            }
        }

        if (!file.Held)
        {
            // Once per spell: a file that stays unreadable is held at every look.
            file.Held = true;
            LogHeld(file.Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Inbox file {File} could not be compared with what was read of it (moved on, vanished or unreadable since the directory was listed); it is neither read nor forgotten until the next look")]
    private partial void LogHeld(string file);

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
