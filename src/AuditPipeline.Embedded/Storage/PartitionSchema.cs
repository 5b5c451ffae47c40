namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// The schema of a partition file. Append-only is enforced by the database itself: UPDATE and DELETE
/// abort, and an INSERT that would replace a row (INSERT OR REPLACE on the id or the row number) is
/// ignored or aborted, so not even a <c>sqlite3</c> shell can change or remove an event.
/// </summary>
internal static class PartitionSchema
{
    public const string Create = """
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
        CREATE INDEX IF NOT EXISTS ix_events_time ON events (org_id, time_ms, id, category, source, outcome, ai, action, entity_type, actor_id, entity_id);
        CREATE INDEX IF NOT EXISTS ix_events_action ON events (org_id, action, time_ms, id, category, source, outcome, ai);
        CREATE INDEX IF NOT EXISTS ix_events_actor ON events (org_id, actor_id, time_ms, id, category, source, outcome, ai);
        CREATE INDEX IF NOT EXISTS ix_events_entity_id ON events (org_id, entity_id, time_ms, id, category, source, outcome, ai);
        CREATE INDEX IF NOT EXISTS ix_events_entity_type ON events (org_id, entity_type, time_ms, id, category, source, outcome, ai);
        CREATE INDEX IF NOT EXISTS ix_events_category ON events (org_id, category, time_ms, id, source, outcome, ai);
        CREATE VIRTUAL TABLE IF NOT EXISTS events_text USING fts5 (
            body, content = '', detail = none, columnsize = 0,
            tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3');
        CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE is not allowed'); END;
        CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE is not allowed'); END;
        CREATE TRIGGER IF NOT EXISTS events_no_replace BEFORE INSERT ON events
        WHEN EXISTS (SELECT 1 FROM events WHERE seq = NEW.seq)
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: a row cannot be replaced'); END;
        CREATE TRIGGER IF NOT EXISTS events_once BEFORE INSERT ON events
        WHEN EXISTS (SELECT 1 FROM events WHERE org_id = NEW.org_id AND id = NEW.id)
        BEGIN SELECT RAISE(IGNORE); END;
        """;

    public const string Insert = """
        INSERT INTO events (seq, org_id, id, time_ms, action, actor_id, entity_type, entity_id, category, source,
                            outcome, ai, actor_name, actor_email, entity_name, doc)
        VALUES ($seq, $org, $id, $time, $action, $actor, $etype, $eid, $category, $source,
                $outcome, $ai, $aname, $aemail, $ename, $doc)
        """;

    public const string InsertText = "INSERT INTO events_text (rowid, body) VALUES ($seq, $body)";

    /// <summary>Columns every row stream selects, in this order.</summary>
    public const string RowColumns = "e.time_ms, e.id, e.doc, e.actor_name, e.actor_email, e.entity_name, e.entity_id";

    public const string CatalogCreate = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS partitions (
            name       TEXT PRIMARY KEY,
            class      TEXT NOT NULL,
            month      TEXT NOT NULL,
            archived   INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        );
        """;
}
