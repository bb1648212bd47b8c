#!/usr/bin/env bash
# Contact import throughput: a seeded, messy 1M-row Salesforce Lead export imported with
# `keel contacts import` into SQLite and PostgreSQL, with and without the real-time duplicate
# check, then imported a second time (idempotency: every row must come back unchanged).
#
#   bench/contacts/run.sh                 # 1M rows, all four imports and their re-imports
#   ROWS=100000 bench/contacts/run.sh     # a smaller file
#   CASES="sqlite-nodup pg-dedupe" bench/contacts/run.sh
#   KEEL_BIN=path/to/keel bench/contacts/run.sh   # an already built binary
#   DB_DIR=/dev/shm bench/contacts/run.sh          # SQLite files elsewhere (1M rows take ~4 GB)
#
# Prints, per import: rows/second, wall time, peak memory (/usr/bin/time -v) and the counts,
# and checks that nothing was lost: new + updated + unchanged + merged + quarantined = rows
# read, the counts stored with the import agree with the printed ones, and the database holds
# exactly one record per new or merged row and one quarantine row per quarantined row.
#
# Needs python3, /usr/bin/time, sqlite3, and PostgreSQL's createdb/dropdb/psql reaching
# PGHOST (default 127.0.0.1) as PGUSER (default postgres). Everything it writes goes to
# bench/contacts/out/ (ignored by git).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$here/out
rows=${ROWS:-1000000}
cases=${CASES:-sqlite-nodup sqlite-dedupe pg-nodup pg-dedupe}
export PGHOST=${PGHOST:-127.0.0.1}
export PGUSER=${PGUSER:-postgres}
pg_port=${PGPORT:-5432}
mkdir -p "$out" "${DB_DIR:-$out}"

csv=$out/leads-$rows.csv
[[ $rows == 1000000 ]] && csv=$out/leads-1m.csv
if [[ ! -s $csv ]]; then
    echo "== generating $rows rows into $csv"
    python3 "$here/generate.py" --rows "$rows" --seed 42 --out "$csv"
fi

if [[ -n ${KEEL_BIN:-} ]]; then
    keel=$KEEL_BIN
else
    echo "== building keel (release)"
    (cd "$root" && cargo build --release -p keel --quiet)
    keel=${CARGO_TARGET_DIR:-$root/target}/release/keel
fi

results=$out/results.tsv
printf 'case\trun\trows\tseconds\trows_per_s\tcpu_s\tpeak_rss_mib\tnew\tupdated\tunchanged\tmerged\tqueued\tquarantined\tload_1m\n' >"$results"
failures=0

# query DB SQL: one value per column, tab-separated.
query() {
    if [[ $1 == postgres://* ]]; then
        psql -X -At -F $'\t' -d "$1" -c "$2"
    else
        sqlite3 -separator $'\t' "$1" "$2"
    fi
}

fail() {
    echo "   FAILED: $*"
    failures=$((failures + 1))
}

# import CASE RUN DB FLAGS...: one import, timed, checked and appended to the results.
import() {
    local name=$1 run=$2 db=$3
    shift 3
    local log=$out/$name-$run.log timing=$out/$name-$run.time
    local load records_before
    load=$(cut -d' ' -f1 /proc/loadavg)
    records_before=$(query "$db" "SELECT COUNT(*) FROM contact_records" 2>/dev/null || echo 0)
    echo "== $name ($run): keel contacts import $(basename "$csv") --layout salesforce-lead --db $db $* (load $load)"
    # stdout is kept for the summary; the progress bar (stderr) stays on the terminal.
    /usr/bin/time -v -o "$timing" "$keel" contacts import "$csv" --layout salesforce-lead --db "$db" "$@" | tee "$log"
    local id read secs rate new upd unch merged queued quar rss
    read -r id read secs rate < <(sed -nE 's/^import ([0-9]+) of .*: ([0-9]+) rows in ([0-9.]+)s \(([0-9]+) rows\/s\)$/\1 \2 \3 \4/p' "$log")
    read -r new upd unch merged queued quar < <(sed -nE 's/^ +([0-9]+) new, ([0-9]+) updated, ([0-9]+) unchanged, ([0-9]+) merged into duplicates, ([0-9]+) queued for review, ([0-9]+) quarantined$/\1 \2 \3 \4 \5 \6/p' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$timing")
    local wall cpu
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$timing")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$timing")
    echo "   $rate rows/s, import ${secs}s (process wall $wall, CPU ${cpu}s user+sys), peak RSS ${rss} MiB"
    local sum=$((new + upd + unch + merged + quar))
    if ((sum != read)); then
        fail "new+updated+unchanged+merged+quarantined = $sum, rows read = $read"
    fi
    local stored
    stored=$(query "$db" "SELECT rows_read, accepted, updated, unchanged, merged, queued_for_review, quarantined, status FROM contact_imports WHERE id = $id")
    if [[ $stored != "$read"$'\t'"$new"$'\t'"$upd"$'\t'"$unch"$'\t'"$merged"$'\t'"$queued"$'\t'"$quar"$'\t'done ]]; then
        fail "stored counts ($stored) differ from the printed ones"
    fi
    local records_after quarantine_rows
    records_after=$(query "$db" "SELECT COUNT(*) FROM contact_records")
    quarantine_rows=$(query "$db" "SELECT COUNT(*) FROM contact_quarantine WHERE import_id = $id")
    if ((records_after - records_before != new + merged)); then
        fail "$((records_after - records_before)) records written for $new new and $merged merged rows"
    fi
    if [[ $run == first ]] && ((quarantine_rows != quar)); then
        fail "$quarantine_rows quarantine rows stored for $quar quarantined rows"
    fi
    if [[ $run == again ]] && ((unch + quar != read || new + upd + merged != 0)); then
        fail "re-import changed something: $new new, $upd updated, $merged merged"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$run" "$read" "$secs" "$rate" "$cpu" "$rss" \
        "$new" "$upd" "$unch" "$merged" "$queued" "$quar" "$load" >>"$results"
}

for c in $cases; do
    flags=()
    [[ $c == *-nodup ]] && flags=(--no-duplicate-check)
    case $c in
    sqlite-*)
        db=${DB_DIR:-$out}/bench-$c.db
        rm -f "$db" "$db-wal" "$db-shm"
        ;;
    pg-*)
        name=bench_contacts_${c#pg-}
        dropdb --if-exists -p "$pg_port" "$name"
        createdb -p "$pg_port" "$name"
        db=postgres://$PGUSER@$PGHOST:$pg_port/$name
        ;;
    *)
        echo "unknown case $c" >&2
        exit 2
        ;;
    esac
    import "$c" first "$db" "${flags[@]}"
    import "$c" again "$db" "${flags[@]}"
    if [[ $c == pg-* ]]; then
        dropdb -p "$pg_port" "$name"
    else
        rm -f "$db" "$db-wal" "$db-shm"
    fi
done

echo
echo "== summary ($(nproc) cores; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
column -t -s $'\t' "$results"
if ((failures > 0)); then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed: every row accounted for"
