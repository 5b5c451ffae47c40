using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace AuditPipeline.Embedded.Inbox;

/// <summary>
/// Which file a name points at: device and inode, the identity that survives a rename and changes when a
/// new file is created under an old name. Read with Linux <c>statx(2)</c>, whose structure has one layout
/// on every architecture (unlike <c>struct stat</c>), so no native package is needed. Elsewhere (Windows,
/// macOS, a libc without <c>statx</c>) <see cref="Get(string)"/> gives <c>null</c> and the inbox tells
/// files apart by their first bytes alone (<see cref="FileHead"/>).
/// </summary>
internal readonly record struct FileIdentity(ulong Device, ulong Inode)
{
    private const int AtFdCwd = -100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7ff;
    private const int StatxSize = 256;

    private static volatile bool s_unavailable = !OperatingSystem.IsLinux();

    /// <summary>True where identities can be read at all (tests use it to skip inode-only cases visibly).</summary>
    public static bool Supported => !s_unavailable;

    public override string ToString() => $"{Device}:{Inode}";

    /// <summary>Identity, size and modification time of a path, or <c>null</c> (no statx, or the file is gone).</summary>
    public static FileStat? Stat(string path)
    {
        var buffer = new byte[StatxSize];
        // Symbolic links are followed: the file read is the target, so its identity is what counts.
        return Call(AtFdCwd, path, 0, buffer) ? Parse(buffer) : null;
    }

    /// <summary>Identity of an open file: the file actually read, whatever its name points at now.</summary>
    public static FileIdentity? Get(SafeFileHandle handle)
    {
        if (s_unavailable || handle.IsInvalid)
        {
            return null;
        }

        var buffer = new byte[StatxSize];
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var fd = (int)handle.DangerousGetHandle();
            return Call(fd, string.Empty, AtEmptyPath, buffer) ? Parse(buffer).Identity : null;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Identity of a path, or <c>null</c>.</summary>
    public static FileIdentity? Get(string path) => Stat(path)?.Identity;

    private static bool Call(int dirFd, string path, int flags, byte[] buffer)
    {
        if (s_unavailable)
        {
            return false;
        }

        try
        {
            return NativeMethods.statx(dirFd, path, flags, StatxBasicStats, buffer) == 0;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            // An old libc (musl before 1.2.5, glibc before 2.28): names and first bytes only.
            s_unavailable = true;
            return false;
        }
    }

    private static FileStat Parse(ReadOnlySpan<byte> b)
    {
        // Offsets of struct statx (linux/stat.h): stx_ino 32, stx_size 40, stx_mtime 112 (tv_sec s64,
        // tv_nsec u32), stx_dev_major 136, stx_dev_minor 140.
        var inode = MemoryMarshal.Read<ulong>(b[32..]);
        var size = MemoryMarshal.Read<long>(b[40..]);
        var mtime = (MemoryMarshal.Read<long>(b[112..]) * 1_000_000_000L) + MemoryMarshal.Read<uint>(b[120..]);
        var device = ((ulong)MemoryMarshal.Read<uint>(b[136..]) << 32) | MemoryMarshal.Read<uint>(b[140..]);
        return new FileStat(new FileIdentity(device, inode), size, mtime);
    }

    private static class NativeMethods
    {
        // Resolved by hand: the plain name "libc" maps to libc.so, a linker script present only where
        // the C development files are installed (not in a runtime container image).
        private static readonly StatxFunction? Function = Resolve();

        [UnmanagedFunctionPointer(CallingConvention.Cdecl, SetLastError = true)]
        private delegate int StatxFunction(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string pathname, int flags, uint mask, [Out] byte[] statxbuf);

        public static int statx(int dirfd, string pathname, int flags, uint mask, byte[] buffer) =>
            Function is { } f ? f(dirfd, pathname, flags, mask, buffer) : throw new EntryPointNotFoundException("statx");

        private static StatxFunction? Resolve()
        {
            foreach (var name in (string[])["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1", "libc.so"])
            {
                if (NativeLibrary.TryLoad(name, out var lib) && NativeLibrary.TryGetExport(lib, "statx", out var address))
                {
                    return Marshal.GetDelegateForFunctionPointer<StatxFunction>(address);
                }
            }

            return null;
        }
    }
}

/// <summary>What one look at a directory entry tells: identity (where known), length and modification time.</summary>
internal readonly record struct FileStat(FileIdentity? Identity, long Length, long ModifiedTicks)
{
    /// <summary>Identity where the platform gives one, else length and time from <see cref="FileInfo"/>.</summary>
    public static FileStat? Of(FileInfo file)
    {
        if (FileIdentity.Stat(file.FullName) is { } stat)
        {
            return stat;
        }

        try
        {
            file.Refresh();
            return file.Exists ? new FileStat(null, file.Length, file.LastWriteTimeUtc.Ticks) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
