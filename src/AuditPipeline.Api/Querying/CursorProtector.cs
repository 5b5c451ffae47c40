using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using AuditPipeline.Api.Exports;
using AuditPipeline.Core.Storage;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Api.Querying;

internal enum CursorCheck
{
    Valid,

    /// <summary>Not issued by this server (malformed, tampered, or signed with another key).</summary>
    Forged,

    /// <summary>Issued by this server for other filters (or another organisation).</summary>
    OtherFilters,
}

/// <summary>
/// Page cursors: a keyset position (time, id) and the first 16 bytes of the filters' fingerprint,
/// signed with HMAC-SHA256, in URL-safe base64. Opaque and tamper-evident; bound to its filters, and
/// stable while new events arrive because it names a position, not an offset.
/// Layout: version(1) | utc ticks(8) | id length(2) | id (UTF-8) | fingerprint(16) | mac(32).
/// </summary>
internal sealed class CursorProtector
{
    private const byte Version = 1;
    private const int FingerprintBytes = 16;
    private const int MacBytes = 32;
    private const int MaxCursorChars = 2048;
    private readonly byte[] _key;

    public CursorProtector(byte[] key) => _key = key;

    public string Protect(AuditPosition position, ReadOnlySpan<byte> fingerprint)
    {
        var id = Encoding.UTF8.GetBytes(position.Id);
        var buffer = new byte[1 + 8 + 2 + id.Length + FingerprintBytes + MacBytes];
        buffer[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(buffer.AsSpan(1), position.Time.UtcTicks);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(9), checked((ushort)id.Length));
        id.CopyTo(buffer.AsSpan(11));
        fingerprint[..FingerprintBytes].CopyTo(buffer.AsSpan(11 + id.Length));
        var signed = buffer.AsSpan(0, buffer.Length - MacBytes);
        HMACSHA256.HashData(_key, signed, buffer.AsSpan(signed.Length));
        return Base64Url.EncodeToString(buffer);
    }

    public CursorCheck Unprotect(string cursor, ReadOnlySpan<byte> fingerprint, out AuditPosition position)
    {
        position = default;
        if (cursor.Length > MaxCursorChars || !Base64Url.IsValid(cursor))
        {
            return CursorCheck.Forged;
        }

        byte[] buffer;
        try
        {
            buffer = Base64Url.DecodeFromChars(cursor);
        }
        catch (FormatException)
        {
            return CursorCheck.Forged;
        }

        // Base64 tolerates non-zero padding bits; only the one canonical spelling of a cursor is accepted.
        if (!string.Equals(Base64Url.EncodeToString(buffer), cursor, StringComparison.Ordinal))
        {
            return CursorCheck.Forged;
        }

        if (buffer.Length < 1 + 8 + 2 + FingerprintBytes + MacBytes || buffer[0] != Version)
        {
            return CursorCheck.Forged;
        }

        var idLength = BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(9));
        if (buffer.Length != 1 + 8 + 2 + idLength + FingerprintBytes + MacBytes)
        {
            return CursorCheck.Forged;
        }

        var signed = buffer.AsSpan(0, buffer.Length - MacBytes);
        Span<byte> mac = stackalloc byte[MacBytes];
        HMACSHA256.HashData(_key, signed, mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, buffer.AsSpan(signed.Length)))
        {
            return CursorCheck.Forged;
        }

        if (!buffer.AsSpan(11 + idLength, FingerprintBytes).SequenceEqual(fingerprint[..FingerprintBytes]))
        {
            return CursorCheck.OtherFilters;
        }

        var ticks = BinaryPrimitives.ReadInt64BigEndian(buffer.AsSpan(1));
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return CursorCheck.Forged;
        }

        string id;
        try
        {
            id = new UTF8Encoding(false, true).GetString(buffer, 11, idLength);
        }
        catch (DecoderFallbackException)
        {
            return CursorCheck.Forged;
        }

        position = new AuditPosition(new DateTimeOffset(ticks, TimeSpan.Zero), id);
        return CursorCheck.Valid;
    }
}

/// <summary>
/// The cursor signing key: <c>Api:CursorKey</c> when configured, else a random key generated once and
/// kept in <c>{Exports:Path}/cursor.key</c> so cursors survive restarts.
/// </summary>
internal static class CursorKeyProvider
{
    public const string FileName = "cursor.key";

    public static byte[] Load(IOptions<ApiOptions> api, IOptions<ExportOptions> exports)
    {
        if (!string.IsNullOrEmpty(api.Value.CursorKey))
        {
            return Convert.FromBase64String(api.Value.CursorKey);
        }

        var dir = Path.GetFullPath(exports.Value.Path);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, FileName);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (File.Exists(path))
            {
                var text = File.ReadAllText(path).Trim();
                var bytes = new byte[text.Length];
                if (Convert.TryFromBase64String(text, bytes, out var n) && n >= 32)
                {
                    return bytes[..n];
                }

                if (text.Length > 0)
                {
                    throw new InvalidOperationException(
                        $"The cursor key at {path} is not base64 of at least 32 bytes; delete it (issued cursors stop working) or set {ApiOptions.SectionName}:CursorKey.");
                }

                // Empty: a writer that crashed before the rename cannot leave this, but an operator's
                // "touch" can; a fresh key replaces it below.
            }

            var key = RandomNumberGenerator.GetBytes(32);
            var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            WritePrivately(temp, Convert.ToBase64String(key));
            try
            {
                // No overwrite: when two processes race, both end up with the first key written. An
                // empty file left by someone else is replaced (the loop reads it again otherwise).
                File.Move(temp, path, overwrite: File.Exists(path) && new FileInfo(path).Length == 0);
                return key;
            }
            catch (IOException)
            {
                File.Delete(temp);
            }
        }

        throw new InvalidOperationException($"Could not create or read the cursor key at {path}; set {ApiOptions.SectionName}:CursorKey.");
    }

    /// <summary>
    /// Creates the file with its final permissions (0600 on Unix) in the same call that creates it, so
    /// the key is never readable by others, not even between create and chmod; flushed to disk before
    /// the caller renames it into place.
    /// </summary>
    private static void WritePrivately(string path, string content)
    {
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var file = new FileStream(path, fileOptions);
        file.Write(System.Text.Encoding.ASCII.GetBytes(content));
        file.Flush(flushToDisk: true);
    }
}
