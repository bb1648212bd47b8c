#!/usr/bin/env bash
# Keel vs Splink on seeded synthetic lead data: accuracy, wall time and peak memory.
#
#   bench/match/run.sh [SIZES...]      e.g. bench/match/run.sh 100000 1000000 (default: 100000)
#
# Installs Splink from PyPI into bench/match/.peers/, builds keel in release mode, generates the
# data into bench/match/out/, runs both tools on the same file with 2 threads, and prints
# precision, recall and F1 (pairwise and from clusters), wall time, peak memory and ratios.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PEERS="$HERE/.peers"
OUT="$HERE/out"
SIZES=("${@:-100000}")
THREADS="${THREADS:-2}"
THRESHOLD="${THRESHOLD:-0.9}"
# Splink needed ~6 GB at 100k records on colleague-rich data; above this size it is skipped so
# that the run does not exhaust the machine's memory (set SPLINK_MAX to force it).
SPLINK_MAX="${SPLINK_MAX:-200000}"
mkdir -p "$PEERS" "$OUT"

if [ ! -x "$PEERS/venv/bin/python" ] || ! "$PEERS/venv/bin/python" -c "import splink, pandas" 2>/dev/null; then
  echo "Installing Splink into $PEERS/venv ..."
  python3 -m venv "$PEERS/venv"
  "$PEERS/venv/bin/pip" install -q "splink==5.0.0" pandas
fi
PY="$PEERS/venv/bin/python"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
(cd "$ROOT" && cargo build --release -q -p keel --bin keel && cargo build --release -q -p keel-match --example gen_leads)
KEEL="$CARGO_TARGET_DIR/release/keel"
GEN="$CARGO_TARGET_DIR/release/examples/gen_leads"

measure() { # measure NAME LOG -- command...: runs the command under GNU time
  local log="$2"; shift 3
  /usr/bin/time -f "%e %M" -o "$log.time" "$@" >"$log" 2>&1 || { echo "FAILED, see $log"; tail -20 "$log"; return 1; }
}

for N in "${SIZES[@]}"; do
  DATA="$OUT/leads_$N.csv"
  [ -f "$DATA" ] || "$GEN" "$N" 42 "$DATA"
  echo "== $N records ($(($(wc -l <"$DATA") - 1)) rows) =="
  measure keel "$OUT/keel_$N.log" -- "$KEEL" match --input "$DATA" --id-column id --threads "$THREADS" \
    --threshold "$THRESHOLD" --pairs "$OUT/keel_pairs_$N.csv" --clusters "$OUT/keel_clusters_$N.csv"
  PEER=()
  if [ "$N" -le "$SPLINK_MAX" ]; then
    measure splink "$OUT/splink_$N.log" -- env OMP_NUM_THREADS="$THREADS" "$PY" "$HERE/splink_run.py" "$DATA" \
      "$OUT/splink_pairs_$N.csv" "$OUT/splink_clusters_$N.csv" "$THREADS" "$THRESHOLD"
    PEER=(splink "$OUT/splink_pairs_$N.csv" "$OUT/splink_clusters_$N.csv" "$OUT/splink_$N.log.time")
  else
    echo "(Splink skipped above SPLINK_MAX=$SPLINK_MAX records)"
  fi
  "$PY" "$HERE/evaluate.py" "$DATA" \
    keel "$OUT/keel_pairs_$N.csv" "$OUT/keel_clusters_$N.csv" "$OUT/keel_$N.log.time" "${PEER[@]}"
done
