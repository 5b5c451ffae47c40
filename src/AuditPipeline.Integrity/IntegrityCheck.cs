using AuditPipeline.Core.Integrity;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;

namespace AuditPipeline.Integrity;

/// <summary>The API's check: the verify verb's, on the configured digest directory and this worker's public key.</summary>
internal sealed class IntegrityCheck(
    IAuditStore store, RetentionPlanRegistry plans, IntegrityOptions options, PublicKeySource publicKey, TimeProvider time, IDigestStoreCopy? copy = null)
    : IIntegrityCheck
{
    public string PublicKeyPem => publicKey.Pem;

    public async Task<IntegrityReport> CheckAsync(string orgId, DateTimeOffset? from, DateTimeOffset? to, int maxProblems, CancellationToken cancellationToken)
    {
        using var key = new DigestSignatureCheck(publicKey.Pem);
        var kept = new List<IntegrityProblem>();
        var verifier = new IntegrityVerifier(store, plans, options.SealInterval, time);
        var (events, digests, problems) = await verifier.RunAsync(
            new DigestDirectory(options.ResolvedDigestPath), key, orgId, from, to,
            p =>
            {
                if (kept.Count < maxProblems)
                {
                    kept.Add(p);
                }
            },
            cancellationToken);
        return new IntegrityReport(events, digests, kept, problems);
    }

    public IAsyncEnumerable<Digest> DigestsAsync(string orgId, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken) =>
        copy is null ? AsyncEnumerable.Empty<Digest>() : copy.ReadAsync(orgId, from, to, cancellationToken);
}

/// <summary>The public key of this worker's chain: the signing key's, or public-key.pem of the digest directory.</summary>
internal sealed class PublicKeySource(Func<string> load)
{
    private readonly Lazy<string> _pem = new(load);

    public string Pem => _pem.Value;
}
