using System.Collections.Concurrent;
using System.Globalization;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Retention;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// The partition files of a data directory and its catalog: finds them at start-up (the files are the
/// truth, the catalog follows them), creates a month's file on its first event, drops whole files past
/// retention and moves enterprise files to the archive directory. Read-only, it only finds files and
/// never creates, changes or moves anything.
/// </summary>
internal sealed partial class PartitionCatalog
{
    private readonly string _path;
    private readonly string _archivePath;
    private readonly bool _readOnly;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Partition> _partitions = new(StringComparer.Ordinal);
    private readonly object _refreshGate = new();
    private readonly string _catalogConnectionString;

    public PartitionCatalog(string path, string archivePath, bool readOnly, ILogger logger)
    {
        _path = path;
        _archivePath = archivePath;
        _readOnly = readOnly;
        _logger = logger;
        var catalog = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(_path, SqliteAuditStore.CatalogFileName),
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        };
        _catalogConnectionString = catalog.ToString();
        Ids = new IdIndex(_catalogConnectionString, logger);
        if (readOnly)
        {
            if (File.Exists(catalog.DataSource))
            {
                using var conn = new SqliteConnection(_catalogConnectionString);
                conn.Open();
                CheckFormat(conn);
            }

            Refresh();
            return;
        }

        Load();

        // The connections Load pooled under the creating string are released now, not at close (which
        // clears only the strings in use then): a store opened later on a recreated directory would
        // otherwise be handed a pooled connection to the deleted catalog and write into it.
        SqliteConnection.ClearPool(new SqliteConnection(_catalogConnectionString));

        // From now on the catalog is only opened, never created: a vanished data directory is "not ready".
        catalog.Mode = SqliteOpenMode.ReadWrite;
        _catalogConnectionString = catalog.ToString();
        Ids = new IdIndex(_catalogConnectionString, logger);
    }

    public IdIndex Ids { get; }

    public string CatalogConnectionString => _catalogConnectionString;

    public ICollection<Partition> All => _partitions.Values;

    /// <summary>Read-only: picks up files a writer beside us created (a new month) or dropped since.</summary>
    public void Refresh()
    {
        if (!_readOnly)
        {
            return;
        }

        lock (_refreshGate)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (file, archived) in Files())
            {
                if (!Partition.TryParse(Path.GetFileName(file), out var c, out var year, out var month))
                {
                    continue;
                }

                var p = new Partition(c, year, month, file, archived, readOnly: true);
                seen.Add(p.Name);
                if (_partitions.TryGetValue(p.Name, out var known))
                {
                    if (archived && known.Location.FilePath != file && !File.Exists(known.Location.FilePath))
                    {
                        known.MoveTo(file, archived);
                    }

                    if (!known.HasTail || !known.HasMid)
                    {
                        // Written before tails (or the middle level) existed; the writer beside us adds them when it opens the file.
                        ReadTextVersion(known);
                    }

                    continue;
                }

                if (ReadTextVersion(p) is { } scoped)
                {
                    p.TextScopedByOrg = scoped;
                    _partitions[p.Name] = p;
                }
            }

            foreach (var name in _partitions.Keys.Where(n => !seen.Contains(n)).ToList())
            {
                _partitions.TryRemove(name, out _);
            }
        }
    }

    public Partition GetOrCreate(RetentionClass c, DateTimeOffset month)
    {
        var fileName = Partition.FileNameFor(c, month);
        if (_partitions.TryGetValue(fileName[..^3], out var existing))
        {
            return existing;
        }

        var p = new Partition(c, month.Year, month.Month, Path.Combine(_path, fileName), archived: false);
        Initialize(p);
        Catalog(p);
        Ids.Register(p);
        _partitions[p.Name] = p;
        LogPartitionCreated(p.Name);
        return p;
    }

    /// <summary>Reads the next row number from the file again (after a write that failed).</summary>
    public void ReloadSeq(Partition p)
    {
        using var conn = SqliteAuditStore.Open(p.Location.ConnectionString);
        using var cmd = conn.CreateCommand();
        cmd.CommandText = PartitionSchema.MaxSeq;
        p.NextSeq = Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) + 1;
        p.TailRows = TailMerge.Count(conn);
        p.MidRows = TailMerge.CountMid(conn);
        p.SeqUnknown = false;
    }

    public void Drop(Partition p)
    {
        _partitions.TryRemove(p.Name, out _);
        using (var c = new SqliteConnection(p.Location.ConnectionString))
        {
            SqliteConnection.ClearPool(c);
        }

        DeleteFiles(p.Location.FilePath);
        Ids.Forget(p.Name);
        Uncatalog(p.Name);
        LogPartitionDropped(p.Name, p.Class.Name);
    }

    public bool TryArchive(Partition p)
    {
        var from = p.Location;
        var to = Path.Combine(_archivePath, p.FileName);
        using (var conn = SqliteAuditStore.Open(from.ConnectionString))
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

    private IEnumerable<(string File, bool Archived)> Files()
    {
        static IEnumerable<string> In(string dir) =>
            Directory.Exists(dir) ? Directory.EnumerateFiles(dir, "events-*.db") : [];

        return In(_path).Select(f => (f, false)).Concat(In(_archivePath).Select(f => (f, true)));
    }

    private void Load()
    {
        long format;
        using (var conn = new SqliteConnection(_catalogConnectionString))
        {
            conn.Open();
            format = CheckFormat(conn);
            using var cmd = conn.CreateCommand();
            cmd.CommandText = PartitionSchema.CatalogCreate;
            cmd.ExecuteNonQuery();
        }

        foreach (var (file, archived) in Files())
        {
            if (!Partition.TryParse(Path.GetFileName(file), out var c, out var year, out var month))
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

        // Partitions the catalog or the id index still list but whose files are gone (a crash during a drop).
        foreach (var name in Ids.Names().Where(n => !_partitions.ContainsKey(n)))
        {
            Ids.Forget(name);
        }

        foreach (var p in _partitions.Values)
        {
            Initialize(p);
            Catalog(p);
            Ids.Register(p);
            Ids.CatchUp(p);
        }

        Ids.BuildFilter();

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

            // Every file is in this build's format now: from here an older build refuses the store.
            if (format < PartitionSchema.StoreFormat)
            {
                using var mark = conn.CreateCommand();
                mark.CommandText = FormattableString.Invariant($"PRAGMA user_version = {PartitionSchema.StoreFormat}");
                mark.ExecuteNonQuery();
            }
        }
    }

    /// <summary>The store's format; refuses one later than this build reads (a downgrade would not see all of it).</summary>
    private long CheckFormat(SqliteConnection conn)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "PRAGMA user_version";
        var format = Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
        if (format > PartitionSchema.StoreFormat)
        {
            throw new InvalidOperationException(FormattableString.Invariant(
                $"{EmbeddedStoreOptions.SectionName}:Path '{_path}' holds a store in format {format}, written by a newer AuditPipeline; this build reads formats up to {PartitionSchema.StoreFormat} and would not see all of its events. Run the newer build (a store is upgraded in place, never downgraded)."));
        }

        return format;
    }

    private static void Initialize(Partition p)
    {
        using var conn = new SqliteConnection(p.Location.CreateConnectionString);
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM sqlite_master WHERE name = 'events'";
        var isNew = Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) == 0;
        if (!isNew && !TailMerge.Exists(conn, "events_mid"))
        {
            cmd.CommandText = PartitionSchema.BeforeMidLevel;
            cmd.ExecuteNonQuery();
        }

        cmd.CommandText = PartitionSchema.Create;
        cmd.ExecuteNonQuery();
        if (isNew)
        {
            cmd.CommandText = FormattableString.Invariant($"PRAGMA user_version = {PartitionSchema.OrgScopedTextVersion}");
            cmd.ExecuteNonQuery();
        }

        cmd.CommandText = "PRAGMA user_version";
        p.TextScopedByOrg = Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) >= PartitionSchema.OrgScopedTextVersion;
        cmd.CommandText = PartitionSchema.MaxSeq;
        p.NextSeq = Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) + 1;
        p.HasTail = true;
        p.HasMid = true;
        p.TailRows = TailMerge.Count(conn);
        p.MidRows = TailMerge.CountMid(conn);
        p.EdgeMs = TailMerge.Edge(conn);
        p.TailSince = Environment.TickCount64;
    }

    /// <summary>
    /// Read-only: whether the file's text rows are org-scoped, or null when it cannot be read (yet);
    /// also notes whether it has a tail table and a middle level.
    /// </summary>
    private static bool? ReadTextVersion(Partition p)
    {
        try
        {
            using var conn = SqliteAuditStore.Open(p.Location.ConnectionString);
            using var cmd = conn.CreateCommand();
            cmd.CommandText = "PRAGMA user_version";
            var scoped = Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) >= PartitionSchema.OrgScopedTextVersion;
            p.HasTail = TailMerge.Exists(conn);
            p.HasMid = TailMerge.Exists(conn, "events_mid");
            return scoped;
        }
        catch (SqliteException)
        {
            // Being created by the writer this very moment, or dropped; the next refresh sees it.
            return null;
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

    private static void DeleteFiles(string dbFile)
    {
        foreach (var suffix in (string[])["", "-wal", "-shm", "-journal"])
        {
            File.Delete(dbFile + suffix);
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
}
