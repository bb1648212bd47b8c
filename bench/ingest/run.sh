#!/usr/bin/env bash
# Sustained ingestion through the Segment-compatible API into SQLite and PostgreSQL, with every
# batch committed durably before its 200. Prints events/second and request latency percentiles.
#
# Usage: bench/ingest/run.sh [seconds=15] [clients=16] [batch=100]
# PostgreSQL is taken from KEEL_BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_RUN=${1:-15}; CLIENTS=${2:-16}; BATCH=${3:-100}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/keel/target}"
PG=${KEEL_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}
cargo build --release -q -p keel --bin keel
cargo build --release -q -p keel-web --example ingest_load
BIN="$CARGO_TARGET_DIR/release/keel"
LOAD="$CARGO_TARGET_DIR/release/examples/ingest_load"
OUT=bench/ingest/out; mkdir -p "$OUT"

run_one() { # label db-url
  local label=$1 db=$2 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local key; key=$("$BIN" source add --db "$db" --name "bench-$RANDOM$RANDOM")
  KEEL_LOG=warn "$BIN" serve --db "$db" --addr "127.0.0.1:$port" > "$OUT/$label-server.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
  printf '%-10s ' "$label"
  "$LOAD" "http://127.0.0.1:$port" "$key" "$CLIENTS" "$BATCH" "$SECONDS_RUN"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

rm -f "$OUT/bench.db"*
run_one sqlite "$OUT/bench.db"
if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  psql "$PG" -qc "DROP SCHEMA IF EXISTS keel_bench CASCADE; CREATE SCHEMA keel_bench" >/dev/null
  run_one postgres "$PG?options=-c%20search_path%3Dkeel_bench"
else
  echo "postgres   skipped: no server at 127.0.0.1:5432"
fi
