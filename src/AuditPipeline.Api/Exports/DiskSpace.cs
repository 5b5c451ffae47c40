namespace AuditPipeline.Api.Exports;

/// <summary>Free bytes on the file system holding a directory; replaceable so tests can fill a disk.</summary>
internal interface IDiskSpace
{
    /// <summary>Bytes available to this process, or null when the file system does not say.</summary>
    long? AvailableBytes(string directory);

    /// <summary>How many bytes an export writes between two checks (statfs is cheap, not free).</summary>
    int CheckEveryBytes => 4 * 1024 * 1024;
}

internal sealed class DriveDiskSpace : IDiskSpace
{
    public long? AvailableBytes(string directory)
    {
        try
        {
            // On Unix any path names the file system it lives on; on Windows its root is the drive.
            return new DriveInfo(Path.GetFullPath(directory)).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>An export stopped because its disk would drop below <c>Exports:MinFreeBytes</c>.</summary>
internal sealed class ExportDiskSpaceException(string message) : IOException(message);

/// <summary>
/// Keeps an export from filling its disk: <see cref="Ensure"/> before the first byte, then a check every
/// <see cref="IDiskSpace.CheckEveryBytes"/> written. Free space can shrink for reasons of its own (another export,
/// the store), so checking while writing matters as much as checking before.
/// </summary>
internal sealed class DiskSpaceGuard(IDiskSpace disk, string directory, long minFreeBytes)
{
    private long _sinceCheck;

    /// <summary>Throws <see cref="ExportDiskSpaceException"/> when the disk is already below the floor.</summary>
    public void Ensure(long pendingBytes = 0)
    {
        if (disk.AvailableBytes(directory) is { } free && free - pendingBytes < minFreeBytes)
        {
            throw new ExportDiskSpaceException(Message(free));
        }
    }

    /// <summary>Counts written bytes and checks once enough have gone by.</summary>
    public void Wrote(int bytes)
    {
        _sinceCheck += bytes;
        if (_sinceCheck >= disk.CheckEveryBytes)
        {
            _sinceCheck = 0;
            Ensure();
        }
    }

    public string Message(long free) =>
        $"The export was stopped: its disk has {free} bytes free and must keep at least {minFreeBytes} (Exports:MinFreeBytes); free some space or ask the operator, then request it again.";
}

/// <summary>Passes writes to the file and lets the guard check the disk between them.</summary>
internal sealed class GuardedStream(Stream inner, DiskSpaceGuard guard) : WriteThroughStream(inner)
{
    protected override void Observe(ReadOnlySpan<byte> buffer) => guard.Wrote(buffer.Length);
}
