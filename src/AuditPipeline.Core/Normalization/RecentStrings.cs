using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace AuditPipeline.Core.Normalization;

/// <summary>
/// The strings this thread decoded lately from values that recur across messages (an organisation, an
/// actor's id, name and e-mail, an address, a user agent, a type, a changed field's name), so that the
/// next message with the same bytes gets the same string: no decoding, no allocation.
/// </summary>
/// <remarks>
/// A direct-mapped table of 1,024 strings per thread, indexed by a seeded multiplicative hash of a value's
/// first and last 8 bytes and its length; a hit is confirmed by comparing every byte, so a collision only
/// costs a decoding, and a stream of distinct values (or values chosen to collide) costs one more compare
/// each and at most 1,024 strings held. Only unescaped values of at most 64 bytes are looked up; text that
/// is not ASCII never matches (it is decoded as before). CommunityToolkit.HighPerformance's StringPool does
/// the same for many threads, but decodes the bytes before looking up and takes a lock per call.
/// </remarks>
internal static class RecentStrings
{
    public const int MaxBytes = 64;

    private const int Bits = 13;

    private static readonly ulong Seed = (ulong)Random.Shared.NextInt64();

    [ThreadStatic]
    private static string?[]? t_table;

    /// <summary>The string of the UTF-8 bytes (the caller has checked they are valid UTF-8).</summary>
    public static string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxBytes)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        var table = t_table ??= new string?[1 << Bits];
        var slot = Slot(utf8);
        var s = table[slot];
        if (s is not null && s.Length == utf8.Length && Ascii.Equals(utf8, s))
        {
            return s;
        }

        s = Encoding.UTF8.GetString(utf8);
        table[slot] = s;
        return s;
    }

    private static int Slot(ReadOnlySpan<byte> b)
    {
        ulong x;
        if (b.Length >= 8)
        {
            x = BinaryPrimitives.ReadUInt64LittleEndian(b) ^ BitOperations.RotateLeft(BinaryPrimitives.ReadUInt64LittleEndian(b[^8..]), 29);
        }
        else
        {
            x = 0;
            foreach (var c in b)
            {
                x = (x << 8) | c;
            }
        }

        x ^= Seed ^ (ulong)b.Length;
        return (int)((x * 0x9E3779B97F4A7C15UL) >> (64 - Bits));
    }
}
