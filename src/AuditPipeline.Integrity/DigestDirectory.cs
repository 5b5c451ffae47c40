using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AuditPipeline.Core.Integrity;

namespace AuditPipeline.Integrity;

/// <summary>
/// The digest directory: <c>&lt;root&gt;/&lt;org&gt;/&lt;seq:D12&gt;.json</c>, one canonical digest per
/// file, written once (temp file, fsync, rename) and never rewritten; <c>public-key.pem</c> at the root.
/// An organisation id that is not a plain file name is stored under <c>~&lt;hex of its SHA-256&gt;</c>.
/// </summary>
internal sealed class DigestDirectory(string root)
{
    public const string PublicKeyFileName = "public-key.pem";
    private const string Extension = ".json";

    public string Root { get; } = root;

    public static string FolderName(string orgId)
    {
        var plain = orgId.Length is > 0 and <= 128 && orgId is not ("." or "..") &&
                    orgId.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');
        return plain ? orgId : "~" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(orgId)).AsSpan(0, 16));
    }

    public string FileFor(string orgId, long seq) =>
        Path.Combine(Root, FolderName(orgId), seq.ToString("D12", CultureInfo.InvariantCulture) + Extension);

    /// <summary>Writes a digest once. An existing file with the same bytes is fine; a different one is never replaced.</summary>
    public bool Write(Digest digest, ReadOnlySpan<byte> canonical)
    {
        var path = FileFor(digest.OrgId, digest.Seq);
        if (File.Exists(path))
        {
            return File.ReadAllBytes(path).AsSpan().SequenceEqual(canonical);
        }

        AtomicFile.Write(path, canonical, overwrite: false);
        return true;
    }

    public void WritePublicKey(string pem)
    {
        var path = Path.Combine(Root, PublicKeyFileName);
        if (File.Exists(path) && File.ReadAllText(path) == pem)
        {
            return;
        }

        AtomicFile.Write(path, Encoding.ASCII.GetBytes(pem));
    }

    /// <summary>The organisation folders (names as on disk).</summary>
    public IEnumerable<string> Folders() =>
        Directory.Exists(Root) ? Directory.EnumerateDirectories(Root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal) : [];

    /// <summary>The digest files of one folder by seq ascending, as (seq, path); names that are not a seq are skipped.</summary>
    public IReadOnlyList<(long Seq, string Path)> Files(string folder)
    {
        var dir = Path.Combine(Root, folder);
        if (!Directory.Exists(dir))
        {
            return [];
        }

        var list = new List<(long, string)>();
        foreach (var f in Directory.EnumerateFiles(dir, "*" + Extension))
        {
            var name = Path.GetFileNameWithoutExtension(f);
            if (name.Length == 12 && long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
            {
                list.Add((seq, f));
            }
        }

        list.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return list;
    }
}

internal static class AtomicFile
{
    /// <summary>Temp file in the same directory, flushed to disk, renamed over; the directory is created when needed.</summary>
    public static void Write(string path, ReadOnlySpan<byte> bytes, UnixFileMode? mode = null, bool overwrite = true)
    {
        var dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (mode is { } m && !OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = m;
            }

            using (var fs = new FileStream(temp, options))
            {
                fs.Write(bytes);
                fs.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
