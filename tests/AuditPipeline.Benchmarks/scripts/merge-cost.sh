#!/usr/bin/env bash
# What each index of a partition costs the tail merge, measured with the sqlite3 shell on real rows.
#
#   dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- embedded-append --events 300000 --rounds 1 --dir /tmp/ap-append
#   [REPEAT=3] [SPREAD=1] bash tests/AuditPipeline.Benchmarks/scripts/merge-cost.sh /tmp/ap-append [work-dir]
#
# SPREAD=1 gives the rows 5,000 actors and 200,000 entity ids instead of the corpus's 7 and 27.
#
# Copies every event of the store's partitions into one source table (random times, as the
# Kafka-shaped corpus), then, for each schema variant, creates an empty partition from the schema the
# product wrote (read from sqlite_master, so it cannot drift from PartitionSchema.cs) minus the parts
# the variant drops, and moves the rows in as the merge does: 8,192 rows per transaction, the table
# and then the FTS5 index, with the product's pragmas. Prints the median of REPEAT runs of user plus
# system CPU seconds per variant (single runs vary by ±20 % on a shared machine), after one discarded
# warm-up run. "as the product" and the wide or narrowed variant that matches the product's schema
# are the same schema: their difference is the noise of the measurement.
set -euo pipefail
store=${1:?usage: merge-cost.sh STORE_DIR [WORK_DIR]}
work=${2:-/tmp/ap-merge-cost}
repeat=${REPEAT:-3}
mkdir -p "$work"
src="$work/src.db"
first=$(ls "$store"/events-*.db | head -1)
rm -f "$src"
cols="org_id, id, time_ms, action, actor_id, entity_type, entity_id, category, source, outcome, ai, actor_name, actor_email, entity_name, doc"
sqlite3 "$src" "PRAGMA page_size = 16384; CREATE TABLE src (seq INTEGER PRIMARY KEY, org_id TEXT, id TEXT, time_ms INTEGER, action TEXT, actor_id TEXT, entity_type TEXT, entity_id TEXT, category TEXT, source TEXT, outcome TEXT, ai INTEGER, actor_name TEXT, actor_email TEXT, entity_name TEXT, doc BLOB, body TEXT);"
for f in "$store"/events-*.db; do
  # The free-text words are not stored (contentless FTS5): the same fields, as SearchText.Body indexes them.
  sqlite3 "$src" "ATTACH '$f' AS p; INSERT INTO src ($cols, body) SELECT $cols, org_id || ' ' || coalesce(actor_name, '') || ' ' || coalesce(actor_email, '') || ' ' || coalesce(entity_name, '') || ' ' || coalesce(entity_id, '') || ' ' || id FROM p.events;"
done
if [ "${SPREAD:-0}" = 1 ]; then
  # The corpus has 7 actors and 27 entity ids; real tenants have thousands and hundreds of thousands,
  # which makes the actor and entity indexes random inserts even for live traffic.
  sqlite3 "$src" "UPDATE src SET actor_id = 'usr_' || (abs(random()) % 5000), entity_id = 'ent_' || (abs(random()) % 200000)"
fi
rows=$(sqlite3 "$src" "SELECT count(*) FROM src")
schema() { sqlite3 "$first" "SELECT sql || ';' FROM sqlite_master WHERE tbl_name IN ('events', 'events_text') AND sql IS NOT NULL AND name NOT LIKE 'events_text_%' ORDER BY type = 'trigger', rowid"; }
run() {
  local name=$1 filter=$2 runs=${3:-$repeat} db="$work/v.db"
  rm -f "$db" "$db-wal" "$db-shm"
  { echo "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL;"; schema | perl -0pe "$filter"; } | sqlite3 "$db" > /dev/null
  local fts=0; sqlite3 "$db" "SELECT count(*) FROM sqlite_master WHERE name = 'events_text'" | grep -q 1 && fts=1
  local sql="PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456; PRAGMA wal_autocheckpoint = 8192; ATTACH '$src' AS s;"
  for ((lo = 0; lo < rows; lo += 8192)); do
    sql+="BEGIN; INSERT INTO events (seq, $cols) SELECT seq, $cols FROM s.src WHERE seq > $lo AND seq <= $((lo + 8192)) ORDER BY seq;"
    [ $fts = 1 ] && sql+="INSERT INTO events_text (rowid, body) SELECT seq, body FROM s.src WHERE seq > $lo AND seq <= $((lo + 8192)) ORDER BY seq;"
    sql+="COMMIT;"
  done
  local shape; shape=$(sqlite3 "$db" "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL) || ' indexes, FTS5 ' || $fts || ', guard ' || (SELECT count(*) FROM sqlite_master WHERE name = 'events_no_replace') || ', guard checks id ' || (SELECT count(*) FROM sqlite_master WHERE name = 'events_no_replace' AND sql LIKE '%NEW.id%')")
  local times=""
  for ((k = 0; k < runs; k++)); do
    # Each repeat into a fresh copy of the empty partition.
    rm -f "$db-run" "$db-run-wal" "$db-run-shm"; cp "$db" "$db-run"
    times+="$( { /usr/bin/time -f "%U %S" sqlite3 "$db-run" "$sql" > /dev/null; } 2>&1 | tail -1 | awk '{ print $1 + $2 }') "
  done
  echo "$times" | tr ' ' '\n' | grep . | sort -n | awk -v n="$name" -v r="$rows" -v s="$shape" -v all="$times" \
    '{ t[NR] = $1 } END { m = t[int((NR + 1) / 2)]; printf "%-58s %6.2f s CPU (median of %s)  %5.1f us/row  (%s)\n", n, m, all, m * 1e6 / r, s }'
}
echo "$rows rows, one partition, merges of 8,192"
# The first run reads the source from disk: once, discarded, so no variant pays for a cold cache.
run "(warm-up, discarded)" 's/^$//' 1 > /dev/null
run "as the product (5 indexes, FTS5, append-only triggers)" 's/^$//'
run "seek indexes wide (with category, source, outcome, ai)" 's/(ix_events_(?:action|actor|entity_id) ON events ?\(org_id, \w+, time_ms, id)\)/$1, category, source, outcome, ai)/g'
run "without the (org, id) unique index and its trigger clause" 's/CREATE UNIQUE INDEX[^;]*;\n//; s/\s*OR EXISTS \(SELECT 1 FROM events WHERE org_id = NEW.org_id AND id = NEW.id\)//'
run "without the three seek indexes (action, actor, entity)" 's/CREATE INDEX ix_events_(action|actor|entity_id)[^;]*;\n//g'
run "seek indexes narrowed to (org, value, time, id)" 's/(ix_events_(?:action|actor|entity_id) ON events ?\(org_id, \w+, time_ms, id)[^)]*\)/$1)/g'
run "without FTS5" 's/CREATE VIRTUAL TABLE[^;]*;\n//'
run "without the insert guard trigger" 's/CREATE TRIGGER events_no_replace.*?END;\n//s'
run "the table alone (no index, no FTS5, no insert guard)" 's/CREATE (UNIQUE )?INDEX[^;]*;\n//g; s/CREATE VIRTUAL TABLE[^;]*;\n//; s/CREATE TRIGGER events_no_replace.*?END;\n//s'
