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
    public static byte[] Compute(AuditEvent e)
    {
        using var doc = JsonDocument.Parse(AuditJson.SerializeToUtf8Bytes(e));
        return SHA256.HashData(Jcs.Canonicalize(doc.RootElement));
    }

    /// <summary>The hash as the digests write it: lower-case hex.</summary>
    public static string ComputeHex(AuditEvent e) => Convert.ToHexStringLower(Compute(e));
}
