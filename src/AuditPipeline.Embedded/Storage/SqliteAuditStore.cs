using AuditPipeline.Core.Events;
using AuditPipeline.Core.Retention;
using AuditPipeline.Core.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// The embedded write-once store: one SQLite file (WAL, synchronous=FULL) per retention class and UTC
/// month, plus a catalog holding the partition list and the id index. An event is identified by
/// (organisation, id) and stored once, wherever a re-send's time would place it. Retention deletes
/// whole partition files; enterprise partitions past ArchiveAfterDays move to the archive directory
/// and stay readable. A facade over <see cref="PartitionCatalog"/> (files), <see cref="PartitionWriter"/>
/// (the batch append) and <see cref="MonthScan"/> (reads).
/// </summary>
internal sealed partial class SqliteAuditStore : IAuditStore, IDisposable
{
    internal const string CatalogFileName = "catalog.db";
    internal const string LockFileName = "store.lock";
    private const int StreamChunk = 1000;

    private readonly string _path;
    private readonly string _archivePath;
    private readonly bool _readOnly;
    private readonly long _maxScanRows;
    private readonly int _archiveAfterDays;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly PartitionCatalog _catalog;
    private readonly PartitionWriter? _writer;
    private readonly FileStream? _lock;
    private readonly string _synchronous = "FULL";
    private readonly long _mergeAfterMs;
    private readonly Timer? _idleMerge;
    private readonly CommitLanes? _lanes;
    private int _disposed;
    private long _lastWriteMs;

    public SqliteAuditStore(
        IOptions<EmbeddedStoreOptions> options,
        RetentionPlanRegistry registry,
        IOptions<RetentionOptions> retention,
        ILogger<SqliteAuditStore>? logger = null)
    {
        _path = Path.GetFullPath(options.Value.Path);
        _archivePath = Path.GetFullPath(options.Value.ResolvedArchivePath);
        _readOnly = options.Value.ReadOnly;
        _maxScanRows = options.Value.MaxScanRows;
        _archiveAfterDays = retention.Value.ArchiveAfterDays;
        _logger = logger ?? NullLogger<SqliteAuditStore>.Instance;
        if (_readOnly)
        {
            // Beside the worker that owns the directory: no lock, nothing created, WAL readers only.
            _catalog = new PartitionCatalog(_path, _archivePath, readOnly: true, _logger);
            return;
        }

        Directory.CreateDirectory(_path);
        Directory.CreateDirectory(_archivePath);

        // One process per data directory: sequence numbers, the partition list and archive moves are
        // kept in this process. The ingest and api roles share a store by running in one process.
        try
        {
            _lock = new FileStream(Path.Combine(_path, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException(
                $"{EmbeddedStoreOptions.SectionName}:Path '{_path}' is in use by another process; an embedded store serves one worker process at a time ({ex.Message}).", ex);
        }

        try
        {
            _catalog = new PartitionCatalog(_path, _archivePath, readOnly: false, _logger);
        }
        catch
        {
            _lock.Dispose();
            throw;
        }

        _synchronous = options.Value.Synchronous;
        _mergeAfterMs = (long)options.Value.MergeAfter.TotalMilliseconds;
        _lanes = new CommitLanes(options.Value.CommitLanes);
        var levels = new MergeLevels(options.Value.MergeRows, options.Value.MergeCacheMiB);
        Levels = levels;
        _writer = new PartitionWriter(_catalog, registry, levels, _synchronous, _lanes, _logger);
        _idleMerge = new Timer(static s => ((SqliteAuditStore)s!).MergeIdleTails(), this, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
    }

    internal string DataPath => _path;

    internal string ArchivePath => _archivePath;

    internal IReadOnlyCollection<Partition> Partitions => [.. _catalog.All];

    internal PartitionWriter? Writer => _writer;

    /// <summary>Where merged tails go (tests lower its thresholds); null for a read-only store.</summary>
    internal MergeLevels? Levels { get; }

    /// <summary>How many ids the index holds in memory before writing them (tests lower it).</summary>
    internal int IdIndexFlushAt
    {
        get => _catalog.Ids.FlushAt;
        set => _catalog.Ids.FlushAt = value;
    }

    internal int PendingIds => _catalog.Ids.PendingCount;

    internal string CatalogConnectionString => _catalog.CatalogConnectionString;

    public Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken)
    {
        if (_writer is null)
        {
            throw new InvalidOperationException($"This embedded store on '{_path}' was opened read-only ({nameof(EmbeddedStoreOptions)}.{nameof(EmbeddedStoreOptions.ReadOnly)}); it cannot append events.");
        }

        if (events.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<AppendResult>>([]);
        }

        return AppendCoreAsync(_writer, events, cancellationToken);
    }

    public Task<AuditEvent?> GetAsync(string orgId, string eventId, CancellationToken cancellationToken)
    {
        _catalog.Refresh();
        foreach (var p in _catalog.All.OrderByDescending(p => p.MonthStart))
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var conn = TryOpen(p);
            if (conn is null)
            {
                continue;
            }

            using var cmd = conn.CreateCommand();
            // The tail (not merged yet) first: a merge in between then shows the row in events instead.
            cmd.CommandText = ById(p);
            cmd.Parameters.AddWithValue("$org", orgId);
            cmd.Parameters.AddWithValue("$id", eventId);
            using var reader = cmd.ExecuteReader();
            if (reader.Read())
            {
                return Task.FromResult<AuditEvent?>(DocDecoder.Decode(reader.GetFieldValue<byte[]>(0)));
            }
        }

        return Task.FromResult<AuditEvent?>(null);
    }

    /// <summary>
    /// One event by id from every table of <paramref name="p"/>, in the order rows move (tail, then
    /// <c>events_mid</c>, then <c>events</c>): a merge in between then shows the row in the later table instead.
    /// </summary>
    private static string ById(Partition p)
    {
        const string where = " WHERE org_id = $org AND id = $id";
        var sql = "SELECT doc FROM events" + where;
        if (p.HasMid)
        {
            sql = "SELECT doc FROM events_mid" + where + " UNION ALL " + sql;
        }

        return p.HasTail ? "SELECT doc FROM events_tail" + where + " UNION ALL " + sql : sql;
    }

    public Task<AuditPage> QueryAsync(AuditQuery query, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var scan = Scan(query, limit + 1, _maxScanRows, cancellationToken);
        var found = scan.Found;
        if (scan.StoppedAt is { } stopped)
        {
            // The work budget ran out before the page filled: what was found, and where to go on.
            if (found.Count > limit)
            {
                found.RemoveRange(limit, found.Count - limit);
                return Task.FromResult(new AuditPage(found, AuditPosition.Of(found[^1])));
            }

            LogScanCut(query.OrgId, _maxScanRows, found.Count);
            return Task.FromResult(new AuditPage(found, stopped));
        }

        if (found.Count <= limit)
        {
            return Task.FromResult(new AuditPage(found, null));
        }

        found.RemoveAt(found.Count - 1);
        return Task.FromResult(new AuditPage(found, AuditPosition.Of(found[^1])));
    }

    public async Task<RetentionReport> ApplyRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var dropped = new List<string>();
        var archived = new List<string>();
        if (_readOnly)
        {
            return new RetentionReport(dropped, archived);
        }

        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            foreach (var p in _catalog.All.OrderBy(p => p.MonthStart).ThenBy(p => p.Name, StringComparer.Ordinal).ToList())
            {
                cancellationToken.ThrowIfCancellationRequested();

                // Months at the very end of the calendar (an event dated 9999) never expire nor archive.
                if (now - p.MonthStart > TimeSpan.FromDays(31) && p.Class.IsMonthExpired(p.MonthStart, now))
                {
                    _catalog.Drop(p);
                    dropped.Add(p.Name);
                }
                else if (p.Class.Archives && !p.Location.Archived && now - p.MonthStart > TimeSpan.FromDays(31) &&
                         p.MonthStart.AddMonths(1).AddDays(_archiveAfterDays) <= now)
                {
                    if (_catalog.TryArchive(p))
                    {
                        archived.Add(p.Name);
                    }
                }
            }
        }
        finally
        {
            _writeGate.Release();
        }

        return new RetentionReport(dropped, archived);
    }

    public Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        if (_readOnly)
        {
            return Task.FromResult(Directory.Exists(_path));
        }

        try
        {
            using var conn = new SqliteConnection(_catalog.CatalogConnectionString);
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = "SELECT count(*) FROM partitions";
            cmd.ExecuteScalar();
            return Task.FromResult(true);
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            LogNotReady(ex);
            return Task.FromResult(false);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _idleMerge?.Dispose();
        if (_writer is not null && _writeGate.Wait(TimeSpan.FromSeconds(30)))
        {
            // On a graceful stop every tail goes into its indexes, so the files at rest hold one table of events.
            MergeEveryTail(_writer);

            try
            {
                // Ids still held in memory; if this fails, start-up indexes them again from the partitions.
                _catalog.Ids.Flush();
            }
            catch (Exception ex) when (StoreErrors.IsUnavailable(ex))
            {
                LogFlushFailed(ex);
            }

            // Only once no batch can be using them (a writer still in its batch keeps its background threads).
            _lanes?.Dispose();
        }

        // Only this store's pools: a process-wide ClearAllPools would dispose the handle of a connection
        // another store (or anything else in the process) is opening at that moment.
        foreach (var p in _catalog.All)
        {
            SqliteConnection.ClearPool(new SqliteConnection(p.Location.ConnectionString));
        }

        SqliteConnection.ClearPool(new SqliteConnection(_catalog.CatalogConnectionString));
        _writeGate.Dispose();
        _lock?.Dispose();
    }

    /// <summary>Up to <paramref name="take"/> matches newest first, examining at most <paramref name="budget"/> rows.</summary>
    internal ScanResult Scan(AuditQuery query, int take, long budget, CancellationToken ct)
    {
        _catalog.Refresh();
        return MonthScan.Run(_catalog.All, query, take, budget, ct);
    }

    private async Task<IReadOnlyList<AppendResult>> AppendCoreAsync(PartitionWriter writer, IReadOnlyList<AuditEvent> events, CancellationToken ct)
    {
        // The CPU-heavy part (JSON documents, search words) starts now and runs beside the writer.
        var encoded = Encoded.Start(events);
        await _writeGate.WaitAsync(ct);
        try
        {
            return writer.Append(events, encoded, ct);
        }
        catch (Exception ex) when (StoreErrors.IsUnavailable(ex))
        {
            LogAppendFailed(ex);
            throw new StoreUnavailableException($"The embedded store could not append a batch: {ex.Message}", ex);
        }
        finally
        {
            Volatile.Write(ref _lastWriteMs, Environment.TickCount64);
            _writeGate.Release();
        }
    }

    /// <summary>The page cache of every partition connection, in KiB (a move of a middle level raises it for its duration).</summary>
    internal const int PageCacheKiB = 65536;

    /// <summary>The pragma that sets <see cref="PageCacheKiB"/>.</summary>
    internal static readonly string PageCachePragma = FormattableString.Invariant($"PRAGMA cache_size = -{PageCacheKiB}");

    internal static SqliteConnection Open(string connectionString, string synchronous = "FULL") =>
        // Checkpoints every 8,192 pages (128 MiB of 16 KiB pages) rather than 1,000: hot index pages
        // are copied back to the database file far less often; the log is cut back to 64 MiB afterwards.
        PooledConnection.Open(
            connectionString,
            (string.Equals(synchronous, "NORMAL", StringComparison.OrdinalIgnoreCase) ? "PRAGMA synchronous = NORMAL; " : "PRAGMA synchronous = FULL; ") +
            PageCachePragma + "; PRAGMA mmap_size = 268435456; PRAGMA wal_autocheckpoint = 8192; PRAGMA journal_size_limit = 67108864;");

    /// <summary>Opens a partition for reading, or null when it was dropped meanwhile; follows a move to the archive.</summary>
    internal static SqliteConnection? TryOpen(Partition p)
    {
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var location = p.Location;
            if (File.Exists(location.FilePath))
            {
                try
                {
                    return Open(location.ConnectionString);
                }
                catch (SqliteException) when (!File.Exists(location.FilePath))
                {
                    // Moved or dropped between the check and the open.
                }
            }

            if (ReferenceEquals(location, p.Location))
            {
                Thread.Sleep(5);
            }
        }

        return null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The embedded store is not ready")]
    private partial void LogNotReady(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The embedded store could not write its id index on closing; the next start indexes those ids again from the partitions")]
    private partial void LogFlushFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The embedded store could not append a batch; it will be retried")]
    private partial void LogAppendFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "A page for {OrgId} stopped after examining {MaxScanRows} rows (Store:Embedded:MaxScanRows) with {Found} matches; it answers with a cursor to go on from")]
    private partial void LogScanCut(string orgId, long maxScanRows, int found);
}
