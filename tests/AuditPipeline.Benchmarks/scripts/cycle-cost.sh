#!/usr/bin/env bash
# What the append-only triggers cost the store's own writes: the whole life of a row in a partition
# file as the product writes it (a batch's tail insert, the merge into events and the FTS5 index, the
# tail's delete), run by the sqlite3 shell with the connection's triggers firing and with them off
# (.dbconfig enable_trigger off, what OwnWrites does for the store's writes).
#
#   dotnet run -c Release --project tests/AuditPipeline.Benchmarks -- embedded-append --events 200000 --rounds 1 --dir /tmp/ap-append
#   [REPEAT=3] bash tests/AuditPipeline.Benchmarks/scripts/cycle-cost.sh /tmp/ap-append [work-dir]
#
# The schema is read from a partition file the product wrote (every table and trigger), the rows are
# the store's own (random times, as the Kafka-shaped corpus), tail inserts of 1,024 rows per
# transaction and merges of 8,192, with the product's pragmas. Prints the median user plus system CPU
# of REPEAT runs per mode, both modes twice (on, off, on, off), and the row counts each run ends with.
set -euo pipefail
store=${1:?usage: cycle-cost.sh STORE_DIR [WORK_DIR]}; work=${2:-/tmp/ap-cycle-cost}; repeat=${REPEAT:-3}
mkdir -p "$work"; src="$work/src.db"; first=$(ls "$store"/events-*.db | head -1)
cols="org_id, id, time_ms, action, actor_id, entity_type, entity_id, category, source, outcome, ai, actor_name, actor_email, entity_name, doc"
rm -f "$src"
sqlite3 "$src" "PRAGMA page_size = 16384; CREATE TABLE src (seq INTEGER PRIMARY KEY, $cols, body TEXT);"
for f in "$store"/events-*.db; do
  sqlite3 "$src" "ATTACH '$f' AS p; INSERT INTO src ($cols, body) SELECT $cols, org_id || ' ' || coalesce(actor_name, '') || ' ' || coalesce(actor_email, '') || ' ' || coalesce(entity_name, '') || ' ' || coalesce(entity_id, '') || ' ' || id FROM p.events;"
done
rows=$(sqlite3 "$src" "SELECT count(*) FROM src")
db="$work/v.db"; rm -f "$db" "$db-wal" "$db-shm"
{ echo "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL;"; sqlite3 "$first" "SELECT sql || ';' FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'events_text_%' ORDER BY type = 'trigger', rowid"; } | sqlite3 "$db" > /dev/null
sql="PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456; PRAGMA wal_autocheckpoint = 8192; ATTACH '$src' AS s;"
for ((lo = 0; lo < rows; lo += 8192)); do
  hi=$((lo + 8192))
  for ((b = lo; b < hi; b += 1024)); do
    sql+="BEGIN; INSERT INTO events_tail (seq, $cols, body) SELECT seq, $cols, body FROM s.src WHERE seq > $b AND seq <= $((b + 1024)); COMMIT;"
  done
  sql+="BEGIN; INSERT INTO events (seq, $cols) SELECT seq, $cols FROM events_tail WHERE seq <= $hi ORDER BY seq; INSERT INTO events_text (rowid, body) SELECT seq, body FROM events_tail WHERE seq <= $hi ORDER BY seq; DELETE FROM events_tail WHERE seq <= $hi; COMMIT;"
done
for mode in on off on off; do
  times=""
  for ((k = 0; k < repeat; k++)); do
    rm -f "$db-run" "$db-run-wal" "$db-run-shm"; cp "$db" "$db-run"
    times+="$( { /usr/bin/time -f "%U %S" sqlite3 -cmd ".dbconfig enable_trigger $mode" "$db-run" "$sql" > /dev/null; } 2>&1 | tail -1 | awk '{ print $1 + $2 }') "
  done
  echo "$times" | tr ' ' '\n' | grep . | sort -n | awk -v n="triggers $mode" -v r="$rows" -v all="$times" '{ t[NR] = $1 } END { m = t[int((NR + 1) / 2)]; printf "%-14s %6.2f s CPU (runs %s) %5.1f us/row\n", n, m, all, m * 1e6 / r }'
  sqlite3 "$db-run" "SELECT 'events ' || (SELECT count(*) FROM events) || ' tail ' || (SELECT count(*) FROM events_tail)"
done
