#!/usr/bin/env bash
# Eligibility benchmark: Keel's engine against a NumPy implementation of the same rules, on the
# same seeded audience, in the same run. Prints times, contacts/second, peak memory and the ratio,
# and checks both give the same reason counts.
#
#   bench/eligibility/run.sh [CONTACTS] [SEED]      (default 10000000 42)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
contacts="${1:-10000000}"
seed="${2:-42}"
out="$here/out"
peers="$here/.peers"
mkdir -p "$out"

if [ ! -x "$peers/venv/bin/python" ]; then
  python3 -m venv "$peers/venv"
  "$peers/venv/bin/pip" install --quiet numpy
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
cargo build --quiet --release -p keel-consent --example eligibility_bench --manifest-path "$root/Cargo.toml"
bin="$CARGO_TARGET_DIR/release/examples/eligibility_bench"

echo "== Keel ($contacts contacts, seed $seed)"
/usr/bin/time -v "$bin" --contacts "$contacts" --seed "$seed" --runs 5 --dump "$out/data" \
  > "$out/keel.json" 2> "$out/keel.time"
cat "$out/keel.json"
keel_rss=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$out/keel.time")

echo "== NumPy peer ($("$peers/venv/bin/python" -c 'import numpy; print(numpy.__version__)'))"
/usr/bin/time -v "$peers/venv/bin/python" "$here/peer.py" "$out/data" 5 \
  > "$out/peer.json" 2> "$out/peer.time"
cat "$out/peer.json"
peer_rss=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$out/peer.time")

"$peers/venv/bin/python" - "$out/keel.json" "$out/peer.json" "$keel_rss" "$peer_rss" <<'PY'
import json, sys
keel, peer = (json.load(open(p)) for p in sys.argv[1:3])
keel_rss, peer_rss = (int(x) / 1024 for x in sys.argv[3:5])
same = keel["by_reason"] == peer["by_reason"] and keel["eligible"] == peer["eligible"]
print("== Summary")
print(f"same answers:          {'yes' if same else 'NO'}")
print(f"Keel  best {keel['best_seconds']:.3f} s  {keel['contacts_per_second']:>12,.0f} contacts/s  peak RSS {keel_rss:,.0f} MiB (incl. data generation)")
print(f"NumPy best {peer['best_seconds']:.3f} s  {peer['contacts_per_second']:>12,.0f} contacts/s  peak RSS {peer_rss:,.0f} MiB")
print(f"ratio (NumPy time / Keel time): {peer['best_seconds'] / keel['best_seconds']:.1f}x")
sys.exit(0 if same else 1)
PY
