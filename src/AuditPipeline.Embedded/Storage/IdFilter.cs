namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// A Bloom filter over every (org, id) in the id index: "certainly not stored" for almost every id of a
/// fresh batch without touching the catalog, so only the few possible re-sends are looked up there
/// (measured: the look-up of 1,000 ids cost ≈ 7 ms under load; see docs/PERFORMANCE-embedded.md).
/// About 10 bits per id (12 MiB for 10M), 1 % false positives, which only cost a look-up; it grows by
/// rebuilding from the index when it fills. Process-local hashes: it is never persisted.
/// </summary>
internal sealed class IdFilter
{
    private const int Hashes = 7;
    private const int BitsPerId = 10;
    private readonly ulong[] _bits;
    private readonly long _bitCount;

    public IdFilter(long capacity)
    {
        Capacity = Math.Max(capacity, 1 << 16);
        _bitCount = Capacity * BitsPerId;
        _bits = new ulong[(_bitCount + 63) / 64];
    }

    /// <summary>Ids it was sized for; past that the owner rebuilds a larger one.</summary>
    public long Capacity { get; }

    public long Count { get; private set; }

    public void Add(string org, string id)
    {
        var (h1, h2) = Hash(org, id);
        for (var i = 0; i < Hashes; i++)
        {
            var bit = (long)((h1 + ((ulong)i * h2)) % (ulong)_bitCount);
            _bits[bit >> 6] |= 1UL << (int)(bit & 63);
        }

        Count++;
    }

    /// <summary>False means certainly never added; true means maybe.</summary>
    public bool MayContain(string org, string id)
    {
        var (h1, h2) = Hash(org, id);
        for (var i = 0; i < Hashes; i++)
        {
            var bit = (long)((h1 + ((ulong)i * h2)) % (ulong)_bitCount);
            if ((_bits[bit >> 6] & (1UL << (int)(bit & 63))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    private static (ulong, ulong) Hash(string org, string id)
    {
        var a = (uint)HashCode.Combine(org, id);
        var b = (uint)HashCode.Combine(id, org, 0x5bd1e995);
        var c = (uint)HashCode.Combine(org.Length, id, org);
        return (((ulong)a << 32) | b, ((ulong)c << 1) | 1);
    }
}
