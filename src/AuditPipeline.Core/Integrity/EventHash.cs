using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using AuditPipeline.Core.Events;

namespace AuditPipeline.Core.Integrity;

/// <summary>
/// The event hash of the contract: SHA-256 over the RFC 8785 canonical JSON of the event exactly as
/// <c>GET /v1/orgs/{orgId}/events/{eventId}</c> returns it (that is <see cref="AuditJson"/>'s shape).
/// Anyone holding the API's output recomputes it: <c>sha256(jcs(body))</c>.
/// </summary>
public static class EventHash
{
    // Past this the buffer is let go after use, so one huge event does not pin its size per thread.
    private const int KeepBufferBytes = 256 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    public static byte[] Compute(AuditEvent e)
    {
        var hash = new byte[SHA256.HashSizeInBytes];
        Compute(e, hash);
        return hash;
    }

    /// <summary>Writes the 32-byte hash into <paramref name="destination"/>, allocating nothing per event.</summary>
    public static void Compute(AuditEvent e, Span<byte> destination)
    {
        // Hashing is on ingestion's path, once per stored event: the canonical bytes are written straight
        // from the event into a reused buffer (CanonicalEventWriter), not serialized, parsed and rewritten.
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        try
        {
            if (CanonicalEventWriter.TryWrite(buffer, e))
            {
                SHA256.HashData(buffer.WrittenSpan, destination);
                return;
            }
        }
        finally
        {
            if (buffer.Capacity > KeepBufferBytes)
            {
                t_buffer = null;
            }
        }

        ComputeReference(e).CopyTo(destination);
    }

    /// <summary>The hash as the digests write it: lower-case hex.</summary>
    public static string ComputeHex(AuditEvent e)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Compute(e, hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>
    /// The definition, step by step: the API's JSON of the event, parsed, canonicalized, hashed. Slow
    /// (it serializes and parses every event); kept as the reference the fast path is tested against and
    /// taken for the rare event the fast path cannot write exactly.
    /// </summary>
    public static byte[] ComputeReference(AuditEvent e) => SHA256.HashData(CanonicalReference(e));

    /// <summary>The reference path's canonical bytes.</summary>
    public static byte[] CanonicalReference(AuditEvent e)
    {
        // An event nests its raw message's JSON (itself up to 64 deep) a few levels deeper; the default
        // depth of 64 would refuse an event the store accepted.
        using var doc = JsonDocument.Parse(AuditJson.SerializeToUtf8Bytes(e), new JsonDocumentOptions { MaxDepth = 256 });
        return Jcs.Canonicalize(doc.RootElement);
    }

    /// <summary>The fast path's canonical bytes, or null where only the reference path is exact.</summary>
    public static byte[]? CanonicalFast(AuditEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        return CanonicalEventWriter.TryWrite(buffer, e) ? buffer.WrittenSpan.ToArray() : null;
    }
}
