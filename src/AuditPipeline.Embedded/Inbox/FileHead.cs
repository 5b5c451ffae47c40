using System.Buffers;
using System.Security.Cryptography;

namespace AuditPipeline.Embedded.Inbox;

/// <summary>
/// A file's first bytes (up to <see cref="MaxLength"/>), as a SHA-256: what tells a file apart from
/// another under the same name or inode. Appends never change it; a truncation, a rewrite in place or
/// another file does (audit lines carry unique ids and times, so two files' first lines differ). While a
/// file is shorter than <see cref="MaxLength"/> the head covers what there is, and grows with the file.
/// </summary>
internal sealed record FileHead(int Length, byte[] Sha256)
{
    public const int MaxLength = 4096;

    public static FileHead Empty { get; } = new(0, SHA256.HashData(ReadOnlySpan<byte>.Empty));

    public string Hex => Convert.ToHexStringLower(Sha256);

    public bool Matches(FileHead other) => Length == other.Length && Sha256.AsSpan().SequenceEqual(other.Sha256);

    /// <summary>The head of the first <paramref name="length"/> bytes of <paramref name="stream"/>, or <c>null</c> if it is shorter.</summary>
    public static async Task<FileHead?> ReadAsync(Stream stream, int length, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, length));
        try
        {
            stream.Position = 0;
            var read = 0;
            while (read < length)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(read, length - read), ct);
                if (n == 0)
                {
                    return null;
                }

                read += n;
            }

            return new FileHead(length, SHA256.HashData(buffer.AsSpan(0, length)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The head as long as the file allows now (<c>min(length, MaxLength)</c>).</summary>
    public static Task<FileHead?> ReadFullAsync(Stream stream, CancellationToken ct) =>
        ReadAsync(stream, (int)Math.Min(stream.Length, MaxLength), ct);
}
