namespace AuditPipeline.Embedded.Inbox;

/// <summary>What comparing a followed file with a directory entry can tell.</summary>
internal enum ContentMatch
{
    /// <summary>The entry holds the followed content: same inode where known, same first bytes, no shorter than what was read.</summary>
    Same,

    /// <summary>The entry holds other content: the listed file's own bytes differ, or it is shorter than what was read.</summary>
    Different,

    /// <summary>
    /// Nothing could be read as listed: the name moved on to another file or vanished since the directory
    /// was listed (a rotation landing between the listing and the open), or the file cannot be opened now.
    /// Neither "same" nor "different": decided again at the next look, from a fresh listing.
    /// </summary>
    Unknown,
}

/// <summary>
/// Reads an entry's first bytes to compare them with followed content, and only when the file opened is
/// the file listed (same device/inode): a name that points at another file by the time it is opened says
/// nothing about the listed one. Taking such a moment for "other content" retired a followed file, and
/// its content, found again at the next look under its new name, was read again from its start.
/// </summary>
internal static class InboxContentCheck
{
    /// <summary>Whether <paramref name="entry"/> holds the content <paramref name="file"/> follows.</summary>
    public static async Task<ContentMatch> CompareAsync(InboxFile file, InboxCandidate entry, CancellationToken ct)
    {
        if (entry.Stat.Length < file.ReadOffset)
        {
            // What the listing says of the listed file: it is shorter than what was read (truncated, or another file).
            return ContentMatch.Different;
        }

        if (file.Head is not { } head)
        {
            // Recorded before its first bytes were read (or by an older checkpoint): inode, else name.
            var same = file.Identity is { } id ? entry.Stat.Identity == id : entry.Name == file.Name;
            return same ? ContentMatch.Same : ContentMatch.Different;
        }

        try
        {
            await using var stream = InboxSourceFiles.OpenRead(entry.Path);
            if (!IsListed(stream, entry))
            {
                return ContentMatch.Unknown;
            }

            if (stream.Length < entry.Stat.Length)
            {
                // Shrunk since it was listed (copytruncate's truncation): its old content may be in a copy this
                // listing does not show yet. Retiring it now would leave that copy to be taken for new content.
                return ContentMatch.Unknown;
            }

            return await FileHead.ReadAsync(stream, head.Length, ct) is { } now && now.Matches(head) ? ContentMatch.Same : ContentMatch.Different;
        }
        catch (Exception ex) when (IsUnreadable(ex))
        {
            return ContentMatch.Unknown;
        }
    }

    /// <summary>
    /// Whether a rotated entry nobody follows holds followed content: a followed file's first bytes (a copy
    /// left by <c>copytruncate</c>), or, while it is shorter than those, a prefix of them (a copy still
    /// being written: taken for content never read, it was read from its start and every line in it twice).
    /// </summary>
    public static async Task<ContentMatch> IsCopyOfFollowedAsync(InboxCandidate entry, IReadOnlyList<(InboxFile File, InboxCandidate? Entry)> followed, CancellationToken ct)
    {
        if (entry.Stat.Length == 0)
        {
            // Empty: a copy not begun, or nothing at all; nothing to read either way, decided once it has bytes.
            return ContentMatch.Unknown;
        }

        try
        {
            await using var stream = InboxSourceFiles.OpenRead(entry.Path);
            if (!IsListed(stream, entry) || stream.Length < entry.Stat.Length)
            {
                return ContentMatch.Unknown;
            }

            var length = stream.Length;
            foreach (var (file, at) in followed)
            {
                if (file.Head is not { Length: > 0 } head)
                {
                    continue;
                }

                if (length >= head.Length)
                {
                    if (await FileHead.ReadAsync(stream, head.Length, ct) is { } other && other.Matches(head))
                    {
                        return ContentMatch.Same;
                    }
                }
                else if (at is not null && await IsPrefixAsync(stream, (int)length, at, ct))
                {
                    return ContentMatch.Same;
                }
            }

            return ContentMatch.Different;
        }
        catch (Exception ex) when (IsUnreadable(ex))
        {
            return ContentMatch.Unknown;
        }
    }

    /// <summary>True unless the platform tells that the open file is not the listed one.</summary>
    private static bool IsListed(FileStream stream, InboxCandidate entry) =>
        entry.Stat.Identity is not { } expected || FileIdentity.Get(stream.SafeFileHandle) is not { } actual || actual == expected;

    /// <summary>Whether the first <paramref name="length"/> bytes of <paramref name="stream"/> are the first bytes of the followed entry.</summary>
    private static async Task<bool> IsPrefixAsync(FileStream stream, int length, InboxCandidate followed, CancellationToken ct)
    {
        await using var other = InboxSourceFiles.OpenRead(followed.Path);
        if (!IsListed(other, followed))
        {
            throw new IOException($"{followed.Name} moved on since the listing");
        }

        var mine = await FileHead.ReadAsync(stream, length, ct);
        var theirs = await FileHead.ReadAsync(other, length, ct);
        return mine is not null && theirs is not null && mine.Matches(theirs);
    }

    private static bool IsUnreadable(Exception ex) => ex is IOException or UnauthorizedAccessException;
}
