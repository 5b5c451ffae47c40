using System.Buffers;
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

    /// <summary>
    /// MTH over leaves that are all <see cref="SHA256.HashSizeInBytes"/> long, given end to end (a
    /// digest's event hashes): the same root as <see cref="Root"/>, computed in place in one buffer with
    /// no allocation per node.
    /// </summary>
    public static byte[] RootOfHashes(ReadOnlySpan<byte> leaves)
    {
        const int size = SHA256.HashSizeInBytes;
        if (leaves.Length % size != 0)
        {
            throw new ArgumentException($"The leaves must be {size} bytes each.", nameof(leaves));
        }

        var count = leaves.Length / size;
        if (count == 0)
        {
            return SHA256.HashData([]);
        }

        // One hash object for every node: a one-shot SHA256.HashData sets up and tears down the
        // platform's digest context per call, which costs more than hashing 33 or 65 bytes.
        var nodes = ArrayPool<byte>.Shared.Rent(leaves.Length);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        try
        {
            Span<byte> input = stackalloc byte[1 + (2 * size)];
            input[0] = 0;
            for (var i = 0; i < count; i++)
            {
                leaves.Slice(i * size, size).CopyTo(input[1..]);
                sha.AppendData(input[..(1 + size)]);
                sha.GetHashAndReset(nodes.AsSpan(i * size, size));
            }

            // Level by level as Root does; node j of the next level overwrites slot j, which both of its
            // children (slots 2j and 2j + 1) have been read from already.
            input[0] = 1;
            while (count > 1)
            {
                var next = 0;
                for (var i = 0; i + 1 < count; i += 2, next++)
                {
                    nodes.AsSpan(i * size, 2 * size).CopyTo(input[1..]);
                    sha.AppendData(input);
                    sha.GetHashAndReset(nodes.AsSpan(next * size, size));
                }

                if (count % 2 == 1)
                {
                    nodes.AsSpan((count - 1) * size, size).CopyTo(nodes.AsSpan(next * size, size));
                    next++;
                }

                count = next;
            }

            return nodes.AsSpan(0, size).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(nodes);
        }
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
