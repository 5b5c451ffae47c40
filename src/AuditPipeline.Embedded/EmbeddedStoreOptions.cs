using AuditPipeline.Core.Configuration;

namespace AuditPipeline.Embedded;

/// <summary>
/// <code>
/// "Store": { "Embedded": { "Path": "./data", "ArchivePath": "./data/archive", "MaxScanRows": 50000 } }
/// </code>
/// </summary>
public sealed class EmbeddedStoreOptions
{
    public const string SectionName = "Store:Embedded";

    /// <summary>Directory of the catalog and the live partition files.</summary>
    public string Path { get; set; } = "./data";

    /// <summary>Directory of archived (enterprise, older than ArchiveAfterDays) partitions; default <c>&lt;Path&gt;/archive</c>.</summary>
    public string? ArchivePath { get; set; }

    /// <summary>
    /// Opens the store for reading only (the <c>verify</c> verb): no lock file, no catalog or partition
    /// created, no retention, appends refused, and it can run beside the worker that owns the directory.
    /// Not bound from configuration; set in code by read-only tools.
    /// </summary>
    public bool ReadOnly { get; set; }

    /// <summary>
    /// The most rows one page request examines (index entries walked, text candidates probed). A page
    /// over rows that match nothing stops there and answers with what it found and a cursor, so no
    /// list request searches without bound. CSV streams have no such budget. A walk examines about
    /// 1 µs per row on the 2-core reference machine (180,000 rows: 181 ms), so the default 50,000
    /// bounds a page at roughly 50 ms of work (docs/PERFORMANCE-embedded.md).
    /// </summary>
    public long MaxScanRows { get; set; } = DefaultMaxScanRows;

    internal const long DefaultMaxScanRows = 50_000;

    internal string ResolvedArchivePath =>
        string.IsNullOrWhiteSpace(ArchivePath) ? System.IO.Path.Combine(Path, "archive") : ArchivePath;
}

internal sealed class EmbeddedStoreOptionsValidator : ConfigurationValidator<EmbeddedStoreOptions>
{
    public override IEnumerable<string> Problems(EmbeddedStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            errors.Add($"{EmbeddedStoreOptions.SectionName}:Path must not be empty.");
            return errors;
        }

        if (options.MaxScanRows < 1000)
        {
            errors.Add($"{EmbeddedStoreOptions.SectionName}:MaxScanRows must be at least 1000 (it is {options.MaxScanRows}).");
        }

        if (options.ReadOnly)
        {
            // A read-only store creates nothing. A missing directory reads as an empty store: verify then
            // names every sealed event as missing instead of refusing to look (a deleted store is tampering too).
            return errors;
        }

        CheckDirectory($"{EmbeddedStoreOptions.SectionName}:Path", options.Path, errors);
        if (options.ArchivePath is not null && string.IsNullOrWhiteSpace(options.ArchivePath))
        {
            errors.Add($"{EmbeddedStoreOptions.SectionName}:ArchivePath must not be blank (leave it out for <Path>/archive).");
        }
        else if (string.Equals(System.IO.Path.GetFullPath(options.ResolvedArchivePath), System.IO.Path.GetFullPath(options.Path), StringComparison.Ordinal))
        {
            errors.Add($"{EmbeddedStoreOptions.SectionName}:ArchivePath must differ from {EmbeddedStoreOptions.SectionName}:Path.");
        }
        else
        {
            CheckDirectory($"{EmbeddedStoreOptions.SectionName}:ArchivePath", options.ResolvedArchivePath, errors);
        }

        return errors;
    }

    private static void CheckDirectory(string key, string path, List<string> errors)
    {
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            errors.Add($"{key} '{path}' cannot be used as a directory: {ex.Message}");
        }
    }
}
