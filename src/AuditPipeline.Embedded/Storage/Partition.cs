using System.Globalization;
using AuditPipeline.Core.Retention;
using Microsoft.Data.Sqlite;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// One SQLite file holding the events of one retention class and one UTC month, e.g.
/// <c>events-p2y-2026-11.db</c>. Where an event goes is a pure function of the event and the plan
/// history, so a redelivery always meets its first copy here.
/// </summary>
internal sealed class Partition
{
    private const string Prefix = "events-";
    private const string Extension = ".db";
    private volatile PartitionLocation _location;

    public Partition(RetentionClass retentionClass, int year, int month, string filePath, bool archived, bool readOnly = false)
    {
        ReadOnly = readOnly;
        Class = retentionClass;
        MonthStart = new DateTimeOffset(year, month, 1, 0, 0, 0, TimeSpan.Zero);
        Name = FormattableString.Invariant($"{Prefix}{retentionClass.Name}-{year:D4}-{month:D2}");
        _location = new PartitionLocation(filePath, archived, readOnly);
    }

    public bool ReadOnly { get; }

    public string Name { get; }

    public string FileName => Name + Extension;

    public RetentionClass Class { get; }

    public DateTimeOffset MonthStart { get; }

    public PartitionLocation Location => _location;

    /// <summary>The next row sequence number; only read and written under the store's write gate.</summary>
    public long NextSeq { get; set; } = 1;

    /// <summary>True after a failed write: <see cref="NextSeq"/> is read from the file again before the next one.</summary>
    public bool SeqUnknown { get; set; }

    /// <summary>This partition's number in the catalog's id index (never reused, even after a drop).</summary>
    public long Number { get; set; }

    /// <summary>Every row up to this sequence number is in the catalog's id index (the watermark).</summary>
    public long IndexedSeq { get; set; }

    /// <summary>
    /// True when the free-text rows carry the organisation's key (<see cref="SearchText.OrgKey"/>), so
    /// one organisation's words never lengthen another's candidate lists. Older files have plain words.
    /// </summary>
    public bool TextScopedByOrg { get; set; } = true;

    /// <summary>
    /// True once the file is known to have the <c>events_tail</c> table (files written before it existed
    /// get it when the writer opens them; a read-only reader checks again until it appears).
    /// </summary>
    public bool HasTail { get; set; }

    /// <summary>Rows in the tail, not yet merged into the indexed table; only used under the write gate.</summary>
    public long TailRows { get; set; }

    /// <summary>
    /// True once the file is known to have the <c>events_mid</c> table (<see cref="MergeLevels"/>);
    /// files written before it existed get it when the writer opens them.
    /// </summary>
    public bool HasMid { get; set; }

    /// <summary>Rows in <c>events_mid</c>, not yet moved into <c>events</c>; only used under the write gate.</summary>
    public long MidRows { get; set; }

    /// <summary>About how many rows <c>events</c> holds (row numbers are dense); only used under the write gate.</summary>
    public long EventsRows => Math.Max(0, NextSeq - 1 - TailRows - MidRows);

    /// <summary>
    /// About the newest event time at the right edge of <c>events</c>'s time index (ms; the 99th
    /// percentile of the rows merged there last, so one event from the future does not move it): where
    /// live rows append. Null until known (read from the file when the writer loads it, set by each
    /// merge into <c>events</c>); only used under the write gate (<see cref="MergeLevels.Route"/>).
    /// </summary>
    public long? EdgeMs { get; set; }

    /// <summary>When the oldest row now in the tail was appended (<see cref="Environment.TickCount64"/>).</summary>
    public long TailSince { get; set; }

    public void MoveTo(string filePath, bool archived) => _location = new PartitionLocation(filePath, archived, ReadOnly);

    public static string FileNameFor(RetentionClass c, DateTimeOffset monthStart) =>
        FormattableString.Invariant($"{Prefix}{c.Name}-{monthStart.Year:D4}-{monthStart.Month:D2}{Extension}");

    public static bool TryParse(string fileName, out RetentionClass retentionClass, out int year, out int month)
    {
        retentionClass = RetentionClass.Professional;
        year = month = 0;
        if (!fileName.StartsWith(Prefix, StringComparison.Ordinal) || !fileName.EndsWith(Extension, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = fileName[Prefix.Length..^Extension.Length].Split('-');
        if (parts.Length != 3 || RetentionClass.FromName(parts[0]) is not { } c ||
            !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out year) ||
            !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out month) ||
            year is < 1 or > 9999 || month is < 1 or > 12)
        {
            return false;
        }

        retentionClass = c;
        return true;
    }
}

/// <summary>Where a partition file is now; swapped as a whole when the file moves to the archive.</summary>
internal sealed class PartitionLocation
{
    public PartitionLocation(string filePath, bool archived, bool readOnly)
    {
        FilePath = filePath;
        Archived = archived;
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = filePath,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWrite,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        CreateConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = filePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = false,
        }.ToString();
    }

    public string FilePath { get; }

    public bool Archived { get; }

    /// <summary>Never creates the file: a partition dropped meanwhile fails to open instead of reappearing empty.</summary>
    public string ConnectionString { get; }

    public string CreateConnectionString { get; }
}
