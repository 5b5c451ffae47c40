using System.Security.Cryptography;

namespace AuditPipeline.Api.Exports;

/// <summary>Passes writes through and hashes them (SHA-256 of exactly the bytes written).</summary>
internal sealed class HashingStream(Stream inner) : WriteThroughStream(inner)
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public string HashHex() => Convert.ToHexStringLower(_hash.GetHashAndReset());

    protected override void Observe(ReadOnlySpan<byte> buffer) => _hash.AppendData(buffer);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
