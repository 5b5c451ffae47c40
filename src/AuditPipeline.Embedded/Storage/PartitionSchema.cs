namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// The schema of a partition file. Append-only is enforced by the database itself: UPDATE and DELETE
/// abort in triggers, so not even a <c>sqlite3</c> shell can change or remove an event with them.
/// (A BEFORE INSERT guard against <c>INSERT OR REPLACE</c> was measured to cut append throughput by
/// more than half, so it is not there: see docs/PERFORMANCE-embedded.md.)
/// </summary>
internal static class PartitionSchema
{
    public const string Create = """
        PRAGMA page_size = 16384;
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS events (
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
        );
        CREATE UNIQUE INDEX IF NOT EXISTS ux_events_org_id ON events (org_id, id);
        CREATE INDEX IF NOT EXISTS ix_events_time ON events (org_id, time_ms, id, category, source, outcome, ai, action, entity_type, actor_id, entity_id, actor_name, actor_email, entity_name);
        CREATE INDEX IF NOT EXISTS ix_events_action ON events (org_id, action, time_ms, id, category, source, outcome, ai);
        CREATE INDEX IF NOT EXISTS ix_events_actor ON events (org_id, actor_id, time_ms, id, category, source, outcome, ai);
        CREATE INDEX IF NOT EXISTS ix_events_entity_id ON events (org_id, entity_id, time_ms, id, category, source, outcome, ai);
        CREATE VIRTUAL TABLE IF NOT EXISTS events_text USING fts5 (
            body, content = '', detail = none, columnsize = 0,
            tokenize = 'unicode61 remove_diacritics 0');
        CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE is not allowed'); END;
        CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE is not allowed'); END;
        """;

    /// <summary>Inserts one event unless (org_id, id) is already there: 1 row changed when stored, 0 for a duplicate.</summary>
    public const string Insert = """
        INSERT INTO events (seq, org_id, id, time_ms, action, actor_id, entity_type, entity_id, category, source,
                            outcome, ai, actor_name, actor_email, entity_name, doc)
        VALUES ($seq, $org, $id, $time, $action, $actor, $etype, $eid, $category, $source,
                $outcome, $ai, $aname, $aemail, $ename, $doc)
        ON CONFLICT (org_id, id) DO NOTHING
        """;

    public const string InsertText = "INSERT INTO events_text (rowid, body) VALUES ($seq, $body)";

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
