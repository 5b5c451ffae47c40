namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// The schema of a partition file. A batch appends to <c>events_tail</c>, a table with no index but
/// its row number, so a commit writes little more than the new rows; <see cref="TailMerge"/> later
/// moves the tail into <c>events</c> (the indexed, full-text searchable table) in one transaction of
/// thousands of rows, where each index page is written once rather than once per batch. A tail spread
/// over a month that is already large goes to <c>events_mid</c> instead, the same columns and
/// indexes kept small, which moves into <c>events</c> whole once full (<see cref="MergeLevels"/>).
/// Reads cover the three tables. Append-only is enforced by the database itself: UPDATE aborts in
/// triggers on every table, DELETE aborts on <c>events</c>, on <c>events_mid</c> unless the row is
/// already in <c>events</c>, and on the tail unless it is in <c>events</c> or <c>events_mid</c>, and
/// an INSERT that would take the row number or (on the indexed tables) the (org, id) of a row already
/// there aborts too: <c>INSERT OR REPLACE</c> deletes the row it conflicts with without
/// firing DELETE triggers (unless the connection turned on <c>recursive_triggers</c>), so without that
/// guard it would be an UPDATE by another name. So not even a <c>sqlite3</c> shell can change or
/// remove an event. The guards cost a row-number (and on <c>events</c> an (org, id)) lookup per row and a
/// trigger program: about a quarter of a row's CPU from its tail insert to the end of its merge, so the
/// store's own writes, whose statements cannot do what the guards refuse, run with the connection's
/// triggers off (<see cref="OwnWrites"/>; docs/PERFORMANCE-embedded.md, <c>cycle-cost.sh</c>).
/// <para>The time index covers every filter and free-text column, so a walk reads index entries
/// alone. The three seek indexes (action, actor, entity) hold only their order, (org, value, time,
/// id): a seek stream returns the free-text columns of every row it examines, so it reads each row
/// anyway, and filter columns in those indexes saved no read while making them a quarter larger and,
/// with a real tenant's many actors and entities, every merged row 15–25 % dearer
/// (docs/PERFORMANCE-embedded.md; tests/AuditPipeline.Benchmarks/scripts/merge-cost.sh measures what
/// each index costs a merge).
/// Files created before keep their wider seek indexes; the same statements read both.</para>
/// </summary>
internal static class PartitionSchema
{
    /// <summary>The event columns, the same in <c>events</c> and <c>events_tail</c> (the tail adds the free-text body).</summary>
    private const string EventColumns = """
        seq         INTEGER PRIMARY KEY,
        org_id      TEXT    NOT NULL,
        id          TEXT    NOT NULL,
        time_ms     INTEGER NOT NULL,
        action      TEXT    NOT NULL,
        actor_id    TEXT,
        entity_type TEXT    NOT NULL,
        entity_id   TEXT,
        category    TEXT    NOT NULL,
        source      TEXT    NOT NULL,
        outcome     TEXT    NOT NULL,
        ai          INTEGER NOT NULL,
        actor_name  TEXT,
        actor_email TEXT,
        entity_name TEXT,
        doc         BLOB    NOT NULL
        """;

    /// <summary>The time index's key: it covers every filter and free-text column (the same in <c>events</c> and <c>events_mid</c>).</summary>
    private const string TimeKey = "org_id, time_ms, id, category, source, outcome, ai, action, entity_type, actor_id, entity_id, actor_name, actor_email, entity_name";

    /// <summary>The names of <see cref="EventColumns"/>, in order.</summary>
    private const string EventColumnNames =
        "seq, org_id, id, time_ms, action, actor_id, entity_type, entity_id, category, source, outcome, ai, actor_name, actor_email, entity_name, doc";

    /// <summary>
    /// An indexed table (<c>events</c>, <c>events_mid</c>; the name stands for <c>{t}</c>): its indexes,
    /// and the triggers that refuse an update and an insert replacing a row (its DELETE guard differs).
    /// </summary>
    private const string IndexedTable = $$"""
        CREATE TABLE IF NOT EXISTS {t} ({{EventColumns}});
        CREATE UNIQUE INDEX IF NOT EXISTS ux_{t}_org_id ON {t} (org_id, id);
        CREATE INDEX IF NOT EXISTS ix_{t}_time ON {t} ({{TimeKey}});
        CREATE INDEX IF NOT EXISTS ix_{t}_action ON {t} (org_id, action, time_ms, id);
        CREATE INDEX IF NOT EXISTS ix_{t}_actor ON {t} (org_id, actor_id, time_ms, id);
        CREATE INDEX IF NOT EXISTS ix_{t}_entity_id ON {t} (org_id, entity_id, time_ms, id);
        CREATE TRIGGER IF NOT EXISTS {t}_no_update BEFORE UPDATE ON {t}
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE is not allowed'); END;
        CREATE TRIGGER IF NOT EXISTS {t}_no_replace BEFORE INSERT ON {t}
        WHEN EXISTS (SELECT 1 FROM {t} WHERE seq = NEW.seq)
          OR EXISTS (SELECT 1 FROM {t} WHERE org_id = NEW.org_id AND id = NEW.id)
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: an insert may not replace an event'); END;

        """;

    public static readonly string Create = """
        PRAGMA page_size = 16384;
        PRAGMA journal_mode = WAL;

        """ + IndexedTable.Replace("{t}", "events", StringComparison.Ordinal) + """
        CREATE VIRTUAL TABLE IF NOT EXISTS events_text USING fts5 (
            body, content = '', detail = none, columnsize = 0,
            tokenize = 'unicode61 remove_diacritics 0');
        CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE is not allowed'); END;

        """ + IndexedTable.Replace("{t}", "events_mid", StringComparison.Ordinal) + $$"""
        CREATE TRIGGER IF NOT EXISTS events_mid_no_delete BEFORE DELETE ON events_mid
        WHEN NOT EXISTS (SELECT 1 FROM events WHERE seq = OLD.seq AND id = OLD.id AND org_id = OLD.org_id)
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: a row leaves events_mid only once it is in events'); END;
        CREATE TABLE IF NOT EXISTS events_tail ({{EventColumns}}, body TEXT NOT NULL);
        CREATE TRIGGER IF NOT EXISTS events_tail_no_update BEFORE UPDATE ON events_tail
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE is not allowed'); END;
        CREATE TRIGGER IF NOT EXISTS events_tail_no_delete BEFORE DELETE ON events_tail
        WHEN NOT EXISTS (SELECT 1 FROM events WHERE seq = OLD.seq AND id = OLD.id AND org_id = OLD.org_id)
         AND NOT EXISTS (SELECT 1 FROM events_mid WHERE seq = OLD.seq AND id = OLD.id AND org_id = OLD.org_id)
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: a row leaves the tail only once it is in events or events_mid'); END;
        CREATE TRIGGER IF NOT EXISTS events_tail_no_replace BEFORE INSERT ON events_tail
        WHEN EXISTS (SELECT 1 FROM events_tail WHERE seq = NEW.seq)
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: an insert may not replace an event'); END;
        """;

    /// <summary>
    /// Appends one event to the tail. Positional parameters (bound by number, not looked up by name):
    /// the id index has already made sure the (org, id) is new.
    /// </summary>
    public const string InsertTail = $$"""
        INSERT INTO events_tail ({{EventColumnNames}}, body)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
        """;

    /// <summary>
    /// A tail's merge, one transaction of these statements (<see cref="TailMerge"/>): its rows up to
    /// <c>$upto</c> into <c>events</c>, or <c>events_mid</c> when they are spread over the month, or
    /// split at <c>$cut</c> (from it on into <c>events</c>, older ones into <c>events_mid</c>: live
    /// traffic with a few late events); every row into the full-text index; all in row order (the
    /// tables' pages fill sequentially); then the tail gives them up.
    /// </summary>
    private const string MergeTailInto = $$"""
        INSERT INTO {0} ({{EventColumnNames}})
        SELECT {{EventColumnNames}}
        FROM events_tail WHERE seq <= $upto{1} ORDER BY seq
        """;

    public static readonly string MergeTail = TailInto("events", "");

    public static readonly string MergeTailToMid = TailInto("events_mid", "");

    /// <summary>The rows from <c>$cut</c> on, into <c>events</c>; with <see cref="MergeTailBeforeCut"/>, every row once (the two conditions are each other's complement for any value but NULL, which the column refuses).</summary>
    public static readonly string MergeTailFromCut = TailInto("events", " AND time_ms >= $cut");

    public static readonly string MergeTailBeforeCut = TailInto("events_mid", " AND NOT (time_ms >= $cut)");

    public const string MergeTailText = "INSERT INTO events_text (rowid, body) SELECT seq, body FROM events_tail WHERE seq <= $upto ORDER BY seq";

    public const string MergeTailDelete = "DELETE FROM events_tail WHERE seq <= $upto";

    private static string TailInto(string table, string condition) =>
        MergeTailInto.Replace("{0}", table, StringComparison.Ordinal).Replace("{1}", condition, StringComparison.Ordinal);

    /// <summary>
    /// Moves every row of <c>events_mid</c> into <c>events</c> (the text index already has them), in row
    /// order, then empties <c>events_mid</c>: one transaction.
    /// </summary>
    public const string MergeMid = $$"""
        INSERT INTO events ({{EventColumnNames}})
        SELECT {{EventColumnNames}}
        FROM events_mid ORDER BY seq;
        DELETE FROM events_mid;
        """;

    /// <summary>
    /// Run before <see cref="Create"/> on a file written before <c>events_mid</c> existed: its tail's
    /// delete guard allows a row to leave only for <c>events</c>, so it is replaced by the one that
    /// also allows <c>events_mid</c>.
    /// </summary>
    public const string BeforeMidLevel = "DROP TRIGGER IF EXISTS events_tail_no_delete";

    /// <summary>The highest row number in either table (0 for an empty partition).</summary>
    public const string MaxSeq = "SELECT max(coalesce((SELECT max(seq) FROM events), 0), coalesce((SELECT max(seq) FROM events_tail), 0), coalesce((SELECT max(seq) FROM events_mid), 0))";

    /// <summary>
    /// Columns every row stream selects, in this order. All are in the time index, so a walk filters
    /// (and checks free text) on index entries alone; the document is fetched only for rows returned.
    /// </summary>
    public const string RowColumns = "e.time_ms, e.id, e.seq, e.actor_name, e.actor_email, e.entity_name, e.entity_id";

    /// <summary>
    /// <c>PRAGMA user_version</c> of a partition whose free-text rows carry the organisation's key;
    /// files from before (version 0) keep plain words and are searched the old way.
    /// </summary>
    public const int OrgScopedTextVersion = 2;

    /// <summary>
    /// The store's format, kept as the catalog's <c>PRAGMA user_version</c>: 1 since partition files
    /// hold a middle level (<c>events_mid</c>); 0 is a store from before any build recorded it. A build
    /// refuses to open a store of a later format than its own, because it would not read all of it.
    /// </summary>
    public const int StoreFormat = 1;

    /// <summary>
    /// The catalog: the partition list, and the id index that makes an event id one event per
    /// organisation wherever a re-send's time would place it. <c>event_ids</c> maps (org, id) to the
    /// partition (by number, never reused) and row holding the first copy; <c>id_index</c> holds each
    /// partition's number and watermark (every row up to <c>indexed_seq</c> is in <c>event_ids</c>).
    /// A partition commits first and its ids after, so a crash between the two leaves rows above the
    /// watermark, which start-up indexes before anything is appended.
    /// </summary>
    public const string CatalogCreate = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS partitions (
            name       TEXT PRIMARY KEY,
            class      TEXT NOT NULL,
            month      TEXT NOT NULL,
            archived   INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS id_index (
            part        INTEGER PRIMARY KEY AUTOINCREMENT,
            name        TEXT    NOT NULL UNIQUE,
            indexed_seq INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS event_ids (
            org_id TEXT    NOT NULL,
            id     TEXT    NOT NULL,
            part   INTEGER NOT NULL,
            seq    INTEGER NOT NULL,
            PRIMARY KEY (org_id, id)
        ) WITHOUT ROWID;
        """;
}
