namespace AuditPipeline.Integrity;

/// <summary>
/// <code>
/// "Integrity": {
///   "Enabled": true,                      // seal digests in this process (one sealing process per chain)
///   "SealInterval": "00:01:00",
///   "DigestPath": "./data/digests",       // default &lt;Store:Embedded:Path&gt;/digests
///   "StatePath": "./data/integrity",      // default &lt;Store:Embedded:Path&gt;/integrity
///   "SigningKeyPath": "/run/secrets/digest-key.pem",   // PEM PKCS#8 EC P-256; generated beside the store when absent
///   "MaxEntriesPerDigest": 10000,
///   "PruneAfter": "7.00:00:00"            // the state forgets the entries of digests delivered this long ago
/// }
/// </code>
/// </summary>
public sealed class IntegrityOptions
{
    public const string SectionName = "Integrity";

    public bool Enabled { get; set; } = true;

    public TimeSpan SealInterval { get; set; } = TimeSpan.FromMinutes(1);

    public string? DigestPath { get; set; }

    public string? StatePath { get; set; }

    public string? SigningKeyPath { get; set; }

    /// <summary>A busy interval is sealed as several digests of at most this many entries (bounded memory).</summary>
    public int MaxEntriesPerDigest { get; set; } = 10_000;

    /// <summary>
    /// The state keeps a delivered digest's entries this long, to recognise a redelivery of its events;
    /// then they go (the digest holds them). Seven days is Kafka's default retention: no redelivery is older.
    /// </summary>
    public TimeSpan PruneAfter { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Set from <c>Store:Embedded:Path</c> (default ./data); the base of the defaults above.</summary>
    public string StorePath { get; set; } = "./data";

    public string ResolvedDigestPath => Path.GetFullPath(string.IsNullOrWhiteSpace(DigestPath) ? Path.Combine(StorePath, "digests") : DigestPath);

    public string ResolvedStatePath => Path.GetFullPath(string.IsNullOrWhiteSpace(StatePath) ? Path.Combine(StorePath, "integrity") : StatePath);

    /// <summary>The generated key lives with the state, beside the store (never in the digest directory).</summary>
    public string ResolvedSigningKeyPath => Path.GetFullPath(string.IsNullOrWhiteSpace(SigningKeyPath) ? Path.Combine(ResolvedStatePath, "signing-key.pem") : SigningKeyPath);

    public bool SigningKeyConfigured => !string.IsNullOrWhiteSpace(SigningKeyPath);

    public IEnumerable<string> Validate()
    {
        if (SealInterval < TimeSpan.FromSeconds(1) || SealInterval > TimeSpan.FromDays(1))
        {
            yield return $"{SectionName}:SealInterval must be between 00:00:01 and 1.00:00:00 (was {SealInterval}).";
        }

        if (MaxEntriesPerDigest is < 1 or > 1_000_000)
        {
            yield return $"{SectionName}:MaxEntriesPerDigest must be between 1 and 1000000 (was {MaxEntriesPerDigest}).";
        }

        if (PruneAfter < TimeSpan.Zero)
        {
            yield return $"{SectionName}:PruneAfter must not be negative (was {PruneAfter}).";
        }

        if (SigningKeyConfigured && !File.Exists(SigningKeyPath))
        {
            yield return $"{SectionName}:SigningKeyPath '{SigningKeyPath}' does not exist; give a PEM PKCS#8 EC P-256 private key, or leave it out to generate one.";
        }
    }
}
