using System.Security.Cryptography;

namespace AuditPipeline.Core.Integrity;

/// <summary>
/// The Merkle tree hash of RFC 6962 section 2.1 (Certificate Transparency): leaves hashed as
/// SHA-256(0x00 || data), inner nodes as SHA-256(0x01 || left || right), the list split at the largest
/// power of two smaller than its length. A digest's leaves are its entries' 32-byte event hashes, in order.
/// </summary>
public static class MerkleTree
{
    /// <summary>MTH of the given leaf inputs; SHA-256 of the empty string for none.</summary>
    public static byte[] Root(IReadOnlyList<byte[]> leaves)
    {
        if (leaves.Count == 0)
        {
            return SHA256.HashData([]);
        }

        // Bottom-up, level by level, which gives the same tree as the recursive split: an odd node at
        // the end of a level is carried up unchanged.
        var level = new List<byte[]>(leaves.Count);
        foreach (var leaf in leaves)
        {
            level.Add(LeafHash(leaf));
        }

        while (level.Count > 1)
        {
            var next = new List<byte[]>((level.Count + 1) / 2);
            for (var i = 0; i + 1 < level.Count; i += 2)
            {
                next.Add(NodeHash(level[i], level[i + 1]));
            }

            if (level.Count % 2 == 1)
            {
                next.Add(level[^1]);
            }

            level = next;
        }

        return level[0];
    }

    public static byte[] LeafHash(ReadOnlySpan<byte> data)
    {
        var buffer = new byte[data.Length + 1];
        data.CopyTo(buffer.AsSpan(1));
        return SHA256.HashData(buffer);
    }

    public static byte[] NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        var buffer = new byte[1 + left.Length + right.Length];
        buffer[0] = 1;
        left.CopyTo(buffer.AsSpan(1));
        right.CopyTo(buffer.AsSpan(1 + left.Length));
        return SHA256.HashData(buffer);
    }
}
