namespace AuditPipeline.Core.Integrity;

/// <summary>One finding of a verification, as the contract names them.</summary>
/// <param name="Kind">missing, altered, unsealed (with an event id) or chain, signature (with a seq).</param>
public sealed record IntegrityProblem(string Kind, string OrgId, string? EventId, long? Seq, string Detail)
{
    public const string Missing = "missing";
    public const string Altered = "altered";
    public const string Unsealed = "unsealed";
    public const string Chain = "chain";
    public const string Signature = "signature";

    /// <summary>The verify verb's line: <c>missing &lt;eventId&gt;</c> or <c>chain &lt;orgId&gt; &lt;seq&gt;</c>.</summary>
    public string Line => EventId is not null ? $"{Kind} {EventId}" : $"{Kind} {OrgId} {Seq}";
}

/// <summary>The outcome of one verification.</summary>
public sealed record IntegrityReport(long Events, long Digests, IReadOnlyList<IntegrityProblem> Problems, long ProblemCount);

/// <summary>The same check as the verify verb, for the API: one organisation, the configured digests and key.</summary>
public interface IIntegrityCheck
{
    /// <summary>The PEM of the public key digests are checked against (and signed with, in a sealing worker).</summary>
    string PublicKeyPem { get; }

    /// <param name="maxProblems">Problems kept in the report (all are counted).</param>
    Task<IntegrityReport> CheckAsync(string orgId, DateTimeOffset? from, DateTimeOffset? to, int maxProblems, CancellationToken cancellationToken);

    /// <summary>The store's copy of the digests of one organisation (for offline checks of an export).</summary>
    IAsyncEnumerable<Digest> DigestsAsync(string orgId, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken);
}
