namespace AuditPipeline.Elasticsearch;

/// <summary>
/// <code>
/// "Elasticsearch": {
///   "Url": "https://elasticsearch:9200",
///   "ApiKey": "base64(id:key)",            // or Username + Password
///   "Username": "audit_writer", "Password": "...",
///   "CertificateFingerprint": "AB:CD:...",  // optional: pin the cluster's CA by SHA-256
///   "CaCertificatePath": "/certs/ca.crt",   // optional: trust this CA
///   "SnapshotRepository": null,             // set to archive enterprise data as searchable snapshots
///   "RequestTimeout": "00:00:30",
///   "BulkMaxBytes": 5242880, "BulkMaxDocuments": 1000,
///   "MaxAttempts": 6, "RetryMinDelay": "00:00:00.200", "RetryMaxDelay": "00:00:05",
///   "StreamPageSize": 1000, "PointInTimeKeepAlive": "00:02:00",
///   "QueryMaxExamined": 5000,               // events one list page may look at before it ends with a cursor
///   "RefreshOnWrite": false                 // tests only: make writes visible to the next search
/// }
/// </code>
/// </summary>
public sealed class ElasticsearchOptions
{
    public const string SectionName = "Elasticsearch";

    public string? Url { get; set; }

    /// <summary>An encoded API key (the <c>encoded</c> value Elasticsearch returns).</summary>
    public string? ApiKey { get; set; }

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>SHA-256 fingerprint of the cluster's CA certificate (as printed by Elasticsearch on first start).</summary>
    public string? CertificateFingerprint { get; set; }

    /// <summary>PEM or DER file of a CA the cluster's certificate must chain to.</summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>When set, enterprise classes move to the archive tier as searchable snapshots in this repository.</summary>
    public string? SnapshotRepository { get; set; }

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Upper bound of one bulk request body; a batch is split into several requests above it.</summary>
    public int BulkMaxBytes { get; set; } = 5 * 1024 * 1024;

    public int BulkMaxDocuments { get; set; } = 1000;

    /// <summary>Attempts at one append (429, 5xx, unreachable) before the store reports itself unavailable.</summary>
    public int MaxAttempts { get; set; } = 6;

    public TimeSpan RetryMinDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Hits per page when streaming through a point in time.</summary>
    public int StreamPageSize { get; set; } = 1000;

    public TimeSpan PointInTimeKeepAlive { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The most events one page of a list request looks at (the index filters exactly except for
    /// free-text terms longer than the indexed prefixes). Reached, the page ends with what it found
    /// and a cursor to go on from.
    /// </summary>
    public int QueryMaxExamined { get; set; } = 5000;

    /// <summary>Adds <c>refresh=wait_for</c> to writes. For tests that read right after writing; never in production.</summary>
    public bool RefreshOnWrite { get; set; }
}
