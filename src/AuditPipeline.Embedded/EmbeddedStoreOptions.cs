using Microsoft.Extensions.Options;

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

    /// <summary>
    /// A partition's tail (events appended but not yet in its indexes, see docs/PERFORMANCE-embedded.md)
    /// is merged into the indexed table once it holds this many rows. Larger merges write each index
    /// page fewer times; every query also reads the tail without an index, so this bounds that cost.
    /// </summary>
    public int MergeRows { get; set; } = 8192;

    /// <summary>A tail older than this is merged when the writer is idle, however few rows it holds.</summary>
    public TimeSpan MergeAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// SQLite's <c>synchronous</c> for partition files: <c>Full</c> (default; a commit is on disk before the
    /// source is told, so it survives power loss) or <c>Normal</c> (survives a killed process, not
    /// necessarily a power loss: the last commits may be lost). See docs/GUARANTEES.md.
    /// </summary>
    public string Synchronous { get; set; } = "Full";

    internal string ResolvedArchivePath =>
        string.IsNullOrWhiteSpace(ArchivePath) ? System.IO.Path.Combine(Path, "archive") : ArchivePath;
}

internal sealed class EmbeddedStoreOptionsValidator : IValidateOptions<EmbeddedStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, EmbeddedStoreOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            errors.Add($"{EmbeddedStoreOptions.SectionName}:Path must not be empty.");
            return ValidateOptionsResult.Fail(errors);
        }

        if (options.MaxScanRows < 1000)
        {
            errors.Add($"{EmbeddedStoreOptions.SectionName}:MaxScanRows must be at least 1000 (it is {options.MaxScanRows}).");
        }

        if (options.MergeRows is < 64 or > 1_000_000)
        {
            errors.Add($"{EmbeddedStoreOptions.SectionName}:MergeRows must be 64 to 1000000 (it is {options.MergeRows}).");
        }

        if (options.MergeAfter <= TimeSpan.Zero || options.MergeAfter > TimeSpan.FromHours(1))
        {
            errors.Add($"{EmbeddedStoreOptions.SectionName}:MergeAfter must be positive and at most 01:00:00 (it is {options.MergeAfter}).");
        }

        if (!string.Equals(options.Synchronous, "Full", StringComparison.OrdinalIgnoreCase) &&
            !string.Equals(options.Synchronous, "Normal", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{EmbeddedStoreOptions.SectionName}:Synchronous must be Full or Normal (it is '{options.Synchronous}').");
        }

        if (options.ReadOnly)
        {
            // A read-only store creates nothing. A missing directory reads as an empty store: verify then
            // names every sealed event as missing instead of refusing to look (a deleted store is tampering too).
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
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

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
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
