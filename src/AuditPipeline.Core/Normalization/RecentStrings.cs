using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace AuditPipeline.Core.Normalization;

/// <summary>
/// The strings decoded lately (by any thread) from values that recur across messages (an organisation, an
/// actor's id, name and e-mail, an address, a user agent, a type, a changed field's name), so that the
/// next message with the same bytes gets the same string: no decoding, no allocation.
/// </summary>
/// <remarks>
/// <para>
/// A direct-mapped table of 8,192 strings, indexed by a seeded multiplicative hash of a value's first and
/// last 8 bytes and its length; a hit is confirmed by comparing every byte, so a collision only costs a
/// decoding, and a stream of distinct values (or values chosen to collide) costs one more compare each
/// and at most 8,192 strings held. Only unescaped values of at most 64 bytes are looked up; text that is
/// not ASCII never matches (it is decoded as before).
/// </para>
/// <para>
/// One table for the process, shared by the normalizing threads without a lock: a slot is one reference,
/// read and written whole, and a string is immutable once published, so a thread reads either nothing,
/// the string another thread stored, or the one it is replacing; the byte compare decides, and a race
/// costs at most a decoding. (A table per thread cost a thread-local access per lookup, ~3 % of a
/// message, on Linux a call into <c>__tls_get_addr</c>.) CommunityToolkit.HighPerformance's StringPool
/// does the same, but decodes the bytes before looking up and takes a lock per call.
/// </para>
/// </remarks>
internal sealed class RecentStrings
{
    public const int MaxBytes = 64;

    private const int Bits = 13;

    /// <summary>The normalizer's table (tests that look at instances use their own).</summary>
    public static readonly RecentStrings Shared = new();

    private readonly ulong _seed = (ulong)Random.Shared.NextInt64();

    private readonly string?[] _table = new string?[1 << Bits];

    /// <summary>The string of the UTF-8 bytes (the caller has checked they are valid UTF-8).</summary>
    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxBytes)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        var slot = Slot(utf8);
        var s = _table[slot];
        if (s is not null && s.Length == utf8.Length && Ascii.Equals(utf8, s))
        {
            return s;
        }

        s = Encoding.UTF8.GetString(utf8);
        _table[slot] = s;
        return s;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private int Slot(ReadOnlySpan<byte> b)
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

        x ^= _seed ^ (ulong)b.Length;
        return (int)((x * 0x9E3779B97F4A7C15UL) >> (64 - Bits));
    }
}
