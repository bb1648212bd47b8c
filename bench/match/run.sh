#!/usr/bin/env bash
# Keel vs Splink on seeded synthetic lead data: accuracy, wall time, CPU time and peak memory.
#
#   bench/match/run.sh [SIZES...]      e.g. bench/match/run.sh 100000 1000000 (default: 100000)
#
# Installs Splink from PyPI into bench/match/.peers/, builds keel in release mode, generates the
# data into bench/match/out/, runs both tools on the same file with 2 threads, and prints
# precision, recall and F1 (pairwise and from clusters), wall time, CPU time, peak memory and
# ratios.
#
# Environment:
#   THREADS=2 THRESHOLD=0.9     threads and match-probability threshold for both tools
#   SPLINK_MAX=1000000          largest size Splink is run at
#   SPLINK_MEMORY_LIMIT=12GB    DuckDB memory limit for Splink (spills to out/splink_tmp beyond)
#   TOOLS="keel splink"         tools to run now; a tool left out is still reported from its
#                               outputs of an earlier run on the same data, if there are any
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PEERS="$HERE/.peers"
OUT="$HERE/out"
SIZES=("${@:-100000}")
THREADS="${THREADS:-2}"
THRESHOLD="${THRESHOLD:-0.9}"
SPLINK_MAX="${SPLINK_MAX:-1000000}"
TOOLS=" ${TOOLS:-keel splink} "
mkdir -p "$PEERS" "$OUT"

if [ ! -x "$PEERS/venv/bin/python" ] || ! "$PEERS/venv/bin/python" -c "import splink, duckdb" 2>/dev/null; then
  echo "Installing Splink into $PEERS/venv ..."
  python3 -m venv "$PEERS/venv"
  "$PEERS/venv/bin/pip" install -q "splink==5.0.0" pandas
fi
PY="$PEERS/venv/bin/python"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
GEN="$CARGO_TARGET_DIR/release/examples/gen_leads"
for N in "${SIZES[@]}"; do
  [ -f "$OUT/leads_$N.csv" ] || { (cd "$ROOT" && cargo build --release -q -p keel-match --example gen_leads); break; }
done
[[ "$TOOLS" == *" keel "* ]] && (cd "$ROOT" && cargo build --release -q -p keel --bin keel)
KEEL="$CARGO_TARGET_DIR/release/keel"

measure() { # measure LOG command...: runs the command under GNU time (wall s, peak KB, user s, sys s)
  local log="$1"; shift
  echo "  running $(basename "$log" .log) ..."
  /usr/bin/time -f "%e %M %U %S" -o "$log.time" "$@" >"$log" 2>&1 || { echo "FAILED, see $log"; tail -20 "$log"; return 1; }
}

for N in "${SIZES[@]}"; do
  DATA="$OUT/leads_$N.csv"
  [ -f "$DATA" ] || "$GEN" "$N" 42 "$DATA"
  echo "== $N records ($(($(wc -l <"$DATA") - 1)) rows; load average $(cut -d' ' -f1-3 /proc/loadavg)) =="
  if [[ "$TOOLS" == *" keel "* ]]; then
    measure "$OUT/keel_$N.log" "$KEEL" match --input "$DATA" --id-column id --threads "$THREADS" \
      --threshold "$THRESHOLD" --pairs "$OUT/keel_pairs_$N.csv" --clusters "$OUT/keel_clusters_$N.csv"
  fi
  if [[ "$TOOLS" == *" splink "* ]]; then
    if [ "$N" -le "$SPLINK_MAX" ]; then
      measure "$OUT/splink_$N.log" env OMP_NUM_THREADS="$THREADS" "$PY" "$HERE/splink_run.py" "$DATA" \
        "$OUT/splink_pairs_$N.csv" "$OUT/splink_clusters_$N.csv" "$THREADS" "$THRESHOLD" "$OUT/splink_tmp"
      rm -rf "$OUT/splink_tmp"
    else
      echo "(Splink skipped above SPLINK_MAX=$SPLINK_MAX records)"
    fi
  fi
  REPORT=()
  for T in keel splink; do
    if [ -f "$OUT/${T}_$N.log.time" ] && [ -f "$OUT/${T}_pairs_$N.csv" ] && [ "$OUT/${T}_pairs_$N.csv" -nt "$DATA" ]; then
      [[ "$TOOLS" == *" $T "* ]] || echo "($T: reported from an earlier run, $(date -r "$OUT/${T}_$N.log.time" -u '+%F %H:%M UTC'))"
      REPORT+=("$T" "$OUT/${T}_pairs_$N.csv" "$OUT/${T}_clusters_$N.csv" "$OUT/${T}_$N.log.time")
    fi
  done
  "$PY" "$HERE/evaluate.py" "$DATA" "${REPORT[@]}"
done
