using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
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
/// month, plus a small catalog. A batch is one transaction per partition it touches; an event is
/// identified by (organisation, id) and stored once. Retention deletes whole partition files; enterprise
/// partitions past ArchiveAfterDays move to the archive directory and stay readable.
/// </summary>
internal sealed partial class SqliteAuditStore : IAuditStore, IDisposable
{
    internal const string CatalogFileName = "catalog.db";
    internal const string LockFileName = "store.lock";
    private const int StreamChunk = 1000;

    private readonly string _path;
    private readonly string _archivePath;
    private readonly RetentionPlanRegistry _registry;
    private readonly int _archiveAfterDays;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly ConcurrentDictionary<string, Partition> _partitions = new(StringComparer.Ordinal);
    private readonly string _catalogConnectionString;
    private readonly FileStream _lock;

    public SqliteAuditStore(
        IOptions<EmbeddedStoreOptions> options,
        RetentionPlanRegistry registry,
        IOptions<RetentionOptions> retention,
        ILogger<SqliteAuditStore>? logger = null)
    {
        _path = Path.GetFullPath(options.Value.Path);
        _archivePath = Path.GetFullPath(options.Value.ResolvedArchivePath);
        _registry = registry;
        _archiveAfterDays = retention.Value.ArchiveAfterDays;
        _logger = logger ?? NullLogger<SqliteAuditStore>.Instance;
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

        var catalog = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(_path, CatalogFileName),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
        };
        _catalogConnectionString = catalog.ToString();
        Load();

        // From now on the catalog is only opened, never created: a vanished data directory is "not ready".
        catalog.Mode = SqliteOpenMode.ReadWrite;
        _catalogConnectionString = catalog.ToString();
    }

    internal string DataPath => _path;

    internal string ArchivePath => _archivePath;

    internal IReadOnlyCollection<Partition> Partitions => [.. _partitions.Values];

    public Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<AppendResult>>([]);
        }

        return AppendCoreAsync(events, cancellationToken);
    }

    public Task<AuditEvent?> GetAsync(string orgId, string eventId, CancellationToken cancellationToken)
    {
        foreach (var p in _partitions.Values.OrderByDescending(p => p.MonthStart))
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var conn = TryOpen(p);
            if (conn is null)
            {
                continue;
            }

            using var cmd = conn.CreateCommand();
            cmd.CommandText = "SELECT doc FROM events WHERE org_id = $org AND id = $id";
            cmd.Parameters.AddWithValue("$org", orgId);
            cmd.Parameters.AddWithValue("$id", eventId);
            using var reader = cmd.ExecuteReader();
            if (reader.Read())
            {
                return Task.FromResult<AuditEvent?>(AuditJson.Deserialize(reader.GetFieldValue<byte[]>(0)));
            }
        }

        return Task.FromResult<AuditEvent?>(null);
    }

    public Task<AuditPage> QueryAsync(AuditQuery query, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var found = Scan(query, limit + 1, cancellationToken);
        if (found.Count <= limit)
        {
            return Task.FromResult(new AuditPage(found, null));
        }

        found.RemoveAt(found.Count - 1);
        return Task.FromResult(new AuditPage(found, AuditPosition.Of(found[^1])));
    }

    public async IAsyncEnumerable<AuditEvent> StreamAsync(AuditQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Keyset pagination in chunks: constant memory, and no read transaction stays open while a
        // slow consumer (a CSV download) takes its time, so WAL checkpoints are never held back.
        var q = query;
        while (true)
        {
            var chunk = Scan(q, StreamChunk, cancellationToken);
            foreach (var e in chunk)
            {
                yield return e;
            }

            if (chunk.Count < StreamChunk)
            {
                yield break;
            }

            q = q with { After = AuditPosition.Of(chunk[^1]) };
            await Task.Yield();
        }
    }

    public async Task<RetentionReport> ApplyRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var dropped = new List<string>();
        var archived = new List<string>();
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            foreach (var p in _partitions.Values.OrderBy(p => p.MonthStart).ThenBy(p => p.Name, StringComparer.Ordinal))
            {
                cancellationToken.ThrowIfCancellationRequested();

                // Months at the very end of the calendar (an event dated 9999) never expire nor archive.
                if (now - p.MonthStart > TimeSpan.FromDays(31) && p.Class.IsMonthExpired(p.MonthStart, now))
                {
                    Drop(p);
                    dropped.Add(p.Name);
                }
                else if (p.Class.Archives && !p.Location.Archived && now - p.MonthStart > TimeSpan.FromDays(31) &&
                         p.MonthStart.AddMonths(1).AddDays(_archiveAfterDays) <= now)
                {
                    if (TryArchive(p))
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
        try
        {
            using var conn = new SqliteConnection(_catalogConnectionString);
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
        SqliteConnection.ClearAllPools();
        _writeGate.Dispose();
        _lock.Dispose();
    }

    private async Task<IReadOnlyList<AppendResult>> AppendCoreAsync(IReadOnlyList<AuditEvent> events, CancellationToken ct)
    {
        // The CPU-heavy part (JSON documents, search words) starts now and runs beside the writer.
        var encoded = Encoded.Start(events);
        await _writeGate.WaitAsync(ct);
        try
        {
            var results = new AppendResult[events.Count];
            var groups = new Dictionary<string, (RetentionClass Class, DateTimeOffset Month, List<int> Indexes)>(StringComparer.Ordinal);
            for (var i = 0; i < events.Count; i++)
            {
                var e = events[i];
                if (string.IsNullOrEmpty(e.Id) || string.IsNullOrEmpty(e.OrgId))
                {
                    results[i] = AppendResult.Rejected("an event needs a non-empty id and organisation");
                    continue;
                }

                var utc = e.Time.UtcDateTime;
                var month = new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero);
                var c = _registry.ClassFor(e.OrgId, e.Time);
                var key = Partition.FileNameFor(c, month);
                if (!groups.TryGetValue(key, out var g))
                {
                    g = (c, month, []);
                    groups[key] = g;
                }

                g.Indexes.Add(i);
            }

            foreach (var (_, g) in groups)
            {
                ct.ThrowIfCancellationRequested();
                AppendToPartition(GetOrCreate(g.Class, g.Month), events, g.Indexes, results, encoded);
            }

            return results;
        }
        catch (SqliteException ex)
        {
            throw new StoreUnavailableException($"The embedded store could not append a batch: {ex.Message}", ex);
        }
        catch (IOException ex)
        {
            throw new StoreUnavailableException($"The embedded store could not append a batch: {ex.Message}", ex);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private void AppendToPartition(Partition p, IReadOnlyList<AuditEvent> events, List<int> indexes, AppendResult[] results, Encoded encoded)
    {
        // A plan change recorded after an event was first stored could route its redelivery to a
        // sibling class of the same month: look there first so it is never stored twice.
        var pending = new List<int>(indexes.Count);
        using (var siblings = new SiblingLookup(_partitions.Values.Where(s => s != p && s.MonthStart == p.MonthStart)))
        {
            foreach (var i in indexes)
            {
                if (siblings.Contains(events[i].OrgId, events[i].Id))
                {
                    results[i] = AppendResult.Duplicate;
                }
                else
                {
                    pending.Add(i);
                }
            }
        }

        if (pending.Count == 0)
        {
            return;
        }

        using var conn = Open(p.Location.ConnectionString);
        using var tx = conn.BeginTransaction();
        using var insert = conn.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = PartitionSchema.Insert;
        var seq = insert.Parameters.Add("$seq", SqliteType.Integer);
        var org = insert.Parameters.Add("$org", SqliteType.Text);
        var id = insert.Parameters.Add("$id", SqliteType.Text);
        var time = insert.Parameters.Add("$time", SqliteType.Integer);
        var action = insert.Parameters.Add("$action", SqliteType.Text);
        var actor = insert.Parameters.Add("$actor", SqliteType.Text);
        var etype = insert.Parameters.Add("$etype", SqliteType.Text);
        var eid = insert.Parameters.Add("$eid", SqliteType.Text);
        var category = insert.Parameters.Add("$category", SqliteType.Text);
        var source = insert.Parameters.Add("$source", SqliteType.Text);
        var outcome = insert.Parameters.Add("$outcome", SqliteType.Text);
        var ai = insert.Parameters.Add("$ai", SqliteType.Integer);
        var aname = insert.Parameters.Add("$aname", SqliteType.Text);
        var aemail = insert.Parameters.Add("$aemail", SqliteType.Text);
        var ename = insert.Parameters.Add("$ename", SqliteType.Text);
        var doc = insert.Parameters.Add("$doc", SqliteType.Blob);
        insert.Prepare();
        using var text = conn.CreateCommand();
        text.Transaction = tx;
        text.CommandText = PartitionSchema.InsertText;
        var textSeq = text.Parameters.Add("$seq", SqliteType.Integer);
        var body = text.Parameters.Add("$body", SqliteType.Text);
        text.Prepare();

        foreach (var i in pending)
        {
            var e = events[i];
            seq.Value = p.NextSeq;
            org.Value = e.OrgId;
            id.Value = e.Id;
            time.Value = SqlTime.ToUnixMs(e.Time);
            action.Value = e.Action;
            actor.Value = (object?)e.Actor.Id ?? DBNull.Value;
            etype.Value = e.Entity.Type;
            eid.Value = (object?)e.Entity.Id ?? DBNull.Value;
            category.Value = e.Category;
            source.Value = e.Source;
            outcome.Value = e.Outcome;
            ai.Value = e.Ai is null ? 0 : 1;
            aname.Value = (object?)e.Actor.Name ?? DBNull.Value;
            aemail.Value = (object?)e.Actor.Email ?? DBNull.Value;
            ename.Value = (object?)e.Entity.Name ?? DBNull.Value;
            doc.Value = encoded.Doc(i);

            // Nothing changes for a duplicate: stored before, or earlier in this very batch.
            if (insert.ExecuteNonQuery() == 1)
            {
                textSeq.Value = p.NextSeq;
                body.Value = encoded.Body(i);
                text.ExecuteNonQuery();
                p.NextSeq++;
                results[i] = AppendResult.Stored;
            }
            else
            {
                results[i] = AppendResult.Duplicate;
            }
        }

        tx.Commit();
    }

    private Partition GetOrCreate(RetentionClass c, DateTimeOffset month)
    {
        var fileName = Partition.FileNameFor(c, month);
        var name = fileName[..^3];
        if (_partitions.TryGetValue(name, out var existing))
        {
            return existing;
        }

        var p = new Partition(c, month.Year, month.Month, Path.Combine(_path, fileName), archived: false);
        Initialize(p);
        Catalog(p);
        _partitions[p.Name] = p;
        LogPartitionCreated(p.Name);
        return p;
    }

    private static void Initialize(Partition p)
    {
        using (var conn = new SqliteConnection(p.Location.CreateConnectionString))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = PartitionSchema.Create;
            cmd.ExecuteNonQuery();
            cmd.CommandText = "SELECT coalesce(max(seq), 0) FROM events";
            p.NextSeq = Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) + 1;
        }

    }

    private void Load()
    {
        using (var conn = new SqliteConnection(_catalogConnectionString))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = PartitionSchema.CatalogCreate;
            cmd.ExecuteNonQuery();
        }

        // The files on disk are the truth; the catalog follows them (a crash may fall between the two).
        var live = Directory.EnumerateFiles(_path, "events-*.db").Select(f => (File: f, Archived: false));
        var archivedFiles = Directory.EnumerateFiles(_archivePath, "events-*.db").Select(f => (File: f, Archived: true));
        foreach (var (file, archived) in live.Concat(archivedFiles))
        {
            var fileName = Path.GetFileName(file);
            if (!Partition.TryParse(fileName, out var c, out var year, out var month))
            {
                continue;
            }

            var p = new Partition(c, year, month, file, archived);
            if (_partitions.TryGetValue(p.Name, out var other))
            {
                // Both copies exist only when a move to the archive was interrupted; the live one is
                // complete. The other is set aside (never deleted), under a name that is not read again.
                var (keep, discard) = other.Location.Archived ? (p, other) : (other, p);
                var aside = discard.Location.FilePath + ".interrupted-" + DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                File.Move(discard.Location.FilePath, aside);
                LogSetAside(discard.Location.FilePath, aside);
                _partitions[keep.Name] = keep;
                continue;
            }

            _partitions[p.Name] = p;
        }

        foreach (var p in _partitions.Values)
        {
            Initialize(p);
            Catalog(p);
        }

        using (var conn = new SqliteConnection(_catalogConnectionString))
        {
            conn.Open();
            using var names = conn.CreateCommand();
            names.CommandText = "SELECT name FROM partitions";
            var stale = new List<string>();
            using (var reader = names.ExecuteReader())
            {
                while (reader.Read())
                {
                    if (!_partitions.ContainsKey(reader.GetString(0)))
                    {
                        stale.Add(reader.GetString(0));
                    }
                }
            }

            foreach (var name in stale)
            {
                Uncatalog(name);
            }
        }
    }

    private void Catalog(Partition p)
    {
        using var conn = new SqliteConnection(_catalogConnectionString);
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = """
            INSERT INTO partitions (name, class, month, archived, updated_at) VALUES ($name, $class, $month, $archived, $at)
            ON CONFLICT (name) DO UPDATE SET archived = excluded.archived, updated_at = excluded.updated_at
            """;
        cmd.Parameters.AddWithValue("$name", p.Name);
        cmd.Parameters.AddWithValue("$class", p.Class.Name);
        cmd.Parameters.AddWithValue("$month", p.MonthStart.ToString("yyyy-MM", CultureInfo.InvariantCulture));
        cmd.Parameters.AddWithValue("$archived", p.Location.Archived ? 1 : 0);
        cmd.Parameters.AddWithValue("$at", AuditJson.FormatTime(DateTimeOffset.UtcNow));
        cmd.ExecuteNonQuery();
    }

    private void Uncatalog(string name)
    {
        using var conn = new SqliteConnection(_catalogConnectionString);
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "DELETE FROM partitions WHERE name = $name";
        cmd.Parameters.AddWithValue("$name", name);
        cmd.ExecuteNonQuery();
    }

    private void Drop(Partition p)
    {
        _partitions.TryRemove(p.Name, out _);
        using (var c = new SqliteConnection(p.Location.ConnectionString))
        {
            SqliteConnection.ClearPool(c);
        }

        DeleteFiles(p.Location.FilePath);
        Uncatalog(p.Name);
        LogPartitionDropped(p.Name, p.Class.Name);
    }

    private bool TryArchive(Partition p)
    {
        var from = p.Location;
        var to = Path.Combine(_archivePath, p.FileName);
        using (var conn = Open(from.ConnectionString))
        {
            using var cmd = conn.CreateCommand();
            cmd.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            using var reader = cmd.ExecuteReader();
            if (!reader.Read() || reader.GetInt32(0) != 0)
            {
                // A reader holds the WAL; everything must be in the main file before it moves. Next run.
                LogArchiveDeferred(p.Name);
                return false;
            }
        }

        SqliteConnection.ClearPool(new SqliteConnection(from.ConnectionString));
        File.Move(from.FilePath, to, overwrite: true);
        DeleteFiles(from.FilePath);
        p.MoveTo(to, archived: true);
        Catalog(p);
        LogPartitionArchived(p.Name, to);
        return true;
    }

    private static void DeleteFiles(string dbFile)
    {
        foreach (var suffix in (string[])["", "-wal", "-shm", "-journal"])
        {
            File.Delete(dbFile + suffix);
        }
    }

    internal static SqliteConnection Open(string connectionString)
    {
        var conn = new SqliteConnection(connectionString);
        try
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            // Checkpoints every 8,192 pages (32 MiB) rather than 1,000: hot index pages are copied back
            // to the database file far less often; the log is cut back to 64 MiB afterwards.
            cmd.CommandText = "PRAGMA synchronous = FULL; PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456; " +
                "PRAGMA wal_autocheckpoint = 8192; PRAGMA journal_size_limit = 67108864;";
            cmd.ExecuteNonQuery();
            return conn;
        }
        catch
        {
            conn.Dispose();
            throw;
        }
    }

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

    /// <summary>Up to <paramref name="take"/> matches in newest-first order, walking months from the newest.</summary>
    internal List<AuditEvent> Scan(AuditQuery query, int take, CancellationToken ct)
    {
        var result = new List<AuditEvent>(Math.Min(take, 1024));
        var plan = ScanPlan.For(query);
        if (plan.IsEmpty)
        {
            return result;
        }

        var months = _partitions.Values
            .Where(p => plan.Overlaps(p.MonthStart))
            .GroupBy(p => p.MonthStart)
            .OrderByDescending(g => g.Key);
        foreach (var month in months)
        {
            ct.ThrowIfCancellationRequested();
            ScanMonth(month, plan, take, result, ct);
            if (result.Count >= take)
            {
                break;
            }
        }

        return result;
    }

    /// <summary>Merges the streams of one month's partitions (classes), which are disjoint and each ordered.</summary>
    private static void ScanMonth(IEnumerable<Partition> partitions, ScanPlan plan, int take, List<AuditEvent> result, CancellationToken ct)
    {
        var connections = new List<SqliteConnection>();
        var docs = new List<DocReader>();
        var streams = new List<RowStream>();
        try
        {
            foreach (var p in partitions)
            {
                if (TryOpen(p) is { } conn)
                {
                    connections.Add(conn);
                    var reader = new DocReader(conn);
                    docs.Add(reader);
                    plan.OpenStreams(conn, reader, streams);
                }
            }

            for (var n = 1; ; n++)
            {
                RowStream? best = null;
                foreach (var s in streams)
                {
                    if (s.HasRow && (best is null || s.IsNewerThan(best)))
                    {
                        best = s;
                    }
                }

                if (best is null)
                {
                    return;
                }

                if (plan.Terms.Count == 0 || best.TextMatches(plan.Terms))
                {
                    result.Add(best.ReadEvent());
                    if (result.Count >= take)
                    {
                        return;
                    }
                }

                best.Advance();
                if ((n & 1023) == 0)
                {
                    ct.ThrowIfCancellationRequested();
                }
            }
        }
        finally
        {
            foreach (var s in streams)
            {
                s.Dispose();
            }

            foreach (var d in docs)
            {
                d.Dispose();
            }

            foreach (var c in connections)
            {
                c.Dispose();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created partition {Partition}")]
    private partial void LogPartitionCreated(string partition);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dropped partition {Partition}: every event in it is past the {RetentionClass} retention")]
    private partial void LogPartitionDropped(string partition, string retentionClass);

    [LoggerMessage(Level = LogLevel.Information, Message = "Archived partition {Partition} to {ArchiveFile}")]
    private partial void LogPartitionArchived(string partition, string archiveFile);

    [LoggerMessage(Level = LogLevel.Information, Message = "Archiving partition {Partition} waits for the next run: a reader holds its log")]
    private partial void LogArchiveDeferred(string partition);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition file {File} also exists in the other directory (an interrupted archive move); set aside as {Aside}")]
    private partial void LogSetAside(string file, string aside);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The embedded store is not ready")]
    private partial void LogNotReady(Exception ex);
}

/// <summary>
/// The stored forms of a batch's events (JSON document, search words), encoded in input order on
/// another thread while the writer inserts the ones already encoded: the CPU work of encoding
/// overlaps the single SQLite writer instead of preceding it.
/// </summary>
internal sealed class Encoded
{
    private const int Chunk = 32;
    private readonly object _gate = new();
    private readonly IReadOnlyList<AuditEvent> _events;
    private int _ready;
    private Exception? _error;

    private Encoded(IReadOnlyList<AuditEvent> events)
    {
        _events = events;
        Docs = new byte[events.Count][];
        Bodies = new string[events.Count];
    }

    private byte[][] Docs { get; }

    private string[] Bodies { get; }

    public static Encoded Start(IReadOnlyList<AuditEvent> events)
    {
        var encoded = new Encoded(events);
        ThreadPool.UnsafeQueueUserWorkItem(static e => e.Run(), encoded, preferLocal: false);
        return encoded;
    }

    public byte[] Doc(int i)
    {
        WaitFor(i);
        return Docs[i];
    }

    public string Body(int i)
    {
        WaitFor(i);
        return Bodies[i];
    }

    private void Run()
    {
        try
        {
            for (var start = 0; start < _events.Count; start += Chunk)
            {
                var end = Math.Min(start + Chunk, _events.Count);
                for (var i = start; i < end; i++)
                {
                    Docs[i] = AuditJson.SerializeToUtf8Bytes(_events[i]);
                    Bodies[i] = SearchText.Body(_events[i]);
                }

                lock (_gate)
                {
                    _ready = end;
                    Monitor.PulseAll(_gate);
                }
            }
        }
        catch (Exception ex)
        {
            lock (_gate)
            {
                _error = ex;
                Monitor.PulseAll(_gate);
            }
        }
    }

    private void WaitFor(int i)
    {
        if (Volatile.Read(ref _ready) > i)
        {
            return;
        }

        lock (_gate)
        {
            while (_ready <= i)
            {
                if (_error is not null)
                {
                    throw new InvalidOperationException("Encoding an event for the store failed.", _error);
                }

                Monitor.Wait(_gate);
            }
        }
    }
}

/// <summary>
/// Looks an event up in the other classes' partitions of the same month. An organisation with no
/// event at all in a sibling (the usual case: its plan never changed) costs one query per batch.
/// </summary>
internal sealed class SiblingLookup(IEnumerable<Partition> siblings) : IDisposable
{
    private readonly List<Partition> _siblings = [.. siblings];
    private readonly Dictionary<Partition, (SqliteConnection Conn, SqliteCommand Any, SqliteCommand Exists)?> _open = [];
    private readonly Dictionary<(Partition, string), bool> _orgPresent = [];

    public bool Contains(string orgId, string eventId)
    {
        foreach (var s in _siblings)
        {
            if (Lookup(s) is not { } l)
            {
                continue;
            }

            if (!_orgPresent.TryGetValue((s, orgId), out var present))
            {
                l.Any.Parameters["$org"].Value = orgId;
                present = l.Any.ExecuteScalar() is not null;
                _orgPresent[(s, orgId)] = present;
            }

            if (present)
            {
                l.Exists.Parameters["$org"].Value = orgId;
                l.Exists.Parameters["$id"].Value = eventId;
                if (l.Exists.ExecuteScalar() is not null)
                {
                    return true;
                }
            }
        }

        return false;
    }

    public void Dispose()
    {
        foreach (var l in _open.Values)
        {
            if (l is { } x)
            {
                x.Any.Dispose();
                x.Exists.Dispose();
                x.Conn.Dispose();
            }
        }
    }

    private (SqliteConnection Conn, SqliteCommand Any, SqliteCommand Exists)? Lookup(Partition s)
    {
        if (_open.TryGetValue(s, out var l))
        {
            return l;
        }

        var conn = SqliteAuditStore.TryOpen(s);
        if (conn is null)
        {
            _open[s] = null;
            return null;
        }

        var any = conn.CreateCommand();
        any.CommandText = "SELECT 1 FROM events WHERE org_id = $org LIMIT 1";
        any.Parameters.Add("$org", SqliteType.Text);
        var exists = conn.CreateCommand();
        exists.CommandText = "SELECT 1 FROM events WHERE org_id = $org AND id = $id";
        exists.Parameters.Add("$org", SqliteType.Text);
        exists.Parameters.Add("$id", SqliteType.Text);
        _open[s] = (conn, any, exists);
        return _open[s];
    }
}
