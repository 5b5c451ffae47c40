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

    /// <summary>
    /// The page cache, in MiB, a partition may use while its middle level (<c>events_mid</c>, where a
    /// backlog replayed at random times into a large month goes first) moves into its indexed table:
    /// at most the file's size, only during that move, one partition at a time. Each index page is then
    /// read and written once per move rather than once per row landing on it (measured at 3M stored
    /// events: 13 KB instead of 36 KB written per event, docs/PERFORMANCE-embedded.md).
    /// </summary>
    public int MergeCacheMiB { get; set; } = 512;

    /// <summary>A tail older than this is merged when the writer is idle, however few rows it holds.</summary>
    public TimeSpan MergeAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// SQLite's <c>synchronous</c> for partition files: <c>Full</c> (default; a commit is on disk before the
    /// source is told, so it survives power loss) or <c>Normal</c> (survives a killed process, not
    /// necessarily a power loss: the last commits may be lost). See docs/GUARANTEES.md.
    /// </summary>
    public string Synchronous { get; set; } = "Full";

    /// <summary>
    /// How many partition files a batch commits at once (see <c>CommitLanes</c>); not bound from
    /// configuration, the benchmarks vary it.
    /// </summary>
    internal int CommitLanes { get; set; } = 4;

    internal string ResolvedArchivePath =>
        string.IsNullOrWhiteSpace(ArchivePath) ? System.IO.Path.Combine(Path, "archive") : ArchivePath;
}
