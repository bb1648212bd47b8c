#!/usr/bin/env bash
# Keel attribution vs ChannelAttribution (PyPI) on the same seeded journeys, in the same run.
#
#   bench/attribution/run.sh                 # 100k, 1M and 10M paths
#   SIZES="100000" bench/attribution/run.sh  # quicker
#
# Installs ChannelAttribution, numpy, scipy and pandas into bench/attribution/.peers (a venv),
# builds Keel in release mode, generates data into bench/attribution/out, and prints for each
# size and model: wall time, CPU time and peak memory (/usr/bin/time -v) of both, ChannelAttribution's
# model call alone (wall and CPU, excluding its CSV read), the speed ratios (CA call ÷ whole Keel
# process, which includes reading the CSV), the largest difference between the
# two results, and Keel's difference from an independent scipy sparse direct solution.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
SIZES="${SIZES:-100000 1000000 10000000}"
NCORE="${NCORE:-2}"
# Keel parses the paths file on as many threads as ChannelAttribution gets cores.
KEEL_THREADS="${KEEL_THREADS:-$NCORE}"
mkdir -p out
if [ ! -x .peers/bin/python ]; then python3 -m venv .peers; fi
if ! .peers/bin/pip install -q channelattribution matplotlib numpy scipy pandas >out/pip.log 2>&1; then
  echo "ChannelAttribution could not be installed; see $here/out/pip.log" >&2
  exit 2
fi
PY=.peers/bin/python
if [ -z "${KEEL_BIN:-}" ]; then
  (cd "$root" && cargo build --release -q -p keel)
fi
KEEL="${KEEL_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/keel}"

# measure NAME CMD... → appends "NAME wall_s max_rss_mb cpu_s" to out/measure.txt, keeps stdout.
measure() {
  local name="$1"; shift
  /usr/bin/time -v "$@" >"out/$name.stdout" 2>"out/$name.time"
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "out/$name.time" | awk -F': ' '{print $2}' |
    awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep "Maximum resident set size" "out/$name.time" | awk -F': ' '{printf "%.0f", $2/1024}')
  cpu=$(grep -E "(User|System) time \(seconds\)" "out/$name.time" | awk -F': ' '{s += $2} END {printf "%.2f", s}')
  echo "$name $wall $rss $cpu" >>out/measure.txt
}

diff_results() { # KEEL.csv CA.csv MODEL → max abs and relative difference of conversions
  $PY - "$1" "$2" "$3" <<'PY'
import sys, pandas as pd
k = pd.read_csv(sys.argv[1]); c = pd.read_csv(sys.argv[2]); m = sys.argv[3]
k = k[k.model == m].set_index("channel"); c = c[c.model == m].set_index("channel")
d = (k.conversions - c.conversions.reindex(k.index)).abs()
print(f"{d.max():.4g} ({(d / c.conversions.reindex(k.index)).max() * 100:.3g}%)")
PY
}

: >out/measure.txt
row() { printf "%-9s %-17s %7s %7s %7s | %8s %8s %8s %7s | %8s %8s | %-22s %s\n" "$@" | tee -a out/results.txt; }
: >out/results.txt
row rows model keel_s keel_cpu keel_MB ca_call_s ca_cpu ca_proc_s ca_MB "x(wall)" "x(cpu)" "keel-vs-CA max diff" "keel-vs-scipy exact"
for n in $SIZES; do
  data="out/paths_$n.csv"
  [ -s "$data" ] || $PY generate.py "$n" "$data" 42
  # The machine is shared: record how loaded it was around each size's measurements.
  echo "# $n rows: load average before $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a out/results.txt
  measure "keel_h_$n" "$KEEL" attribute --threads "$KEEL_THREADS" --paths "$data" --model first_touch,last_touch,linear --output "out/keel_h_$n.csv"
  measure "ca_h_$n" $PY peer_ca.py heuristic "$data" "out/ca_h_$n.csv"
  for order in 1 3; do
    measure "keel_m${order}_$n" "$KEEL" attribute --threads "$KEEL_THREADS" --paths "$data" --model markov --order "$order" --output "out/keel_m${order}_$n.csv"
    measure "ca_m${order}_$n" $PY peer_ca.py markov "$data" "out/ca_m${order}_$n.csv" "$order" "$NCORE"
  done
  for spec in h m1 m3; do
    case $spec in h) model=linear; label="first/last/linear";; m1) model=markov_order_1; label="markov order 1";; m3) model=markov_order_3; label="markov order 3";; esac
    read -r _ kw km kc < <(grep "^keel_${spec}_$n " out/measure.txt)
    read -r _ cw cm _ < <(grep "^ca_${spec}_$n " out/measure.txt)
    call=$(grep -o '^seconds=[0-9.]*' "out/ca_${spec}_$n.stdout" | cut -d= -f2)
    callcpu=$(grep -o '^cpu_seconds=[0-9.]*' "out/ca_${spec}_$n.stdout" | cut -d= -f2)
    speed=$(awk -v a="$call" -v b="$kw" 'BEGIN { printf "%.1fx", a / (b > 0.005 ? b : 0.005) }')
    speedcpu=$(awk -v a="$callcpu" -v b="$kc" 'BEGIN { printf "%.1fx", a / (b > 0.005 ? b : 0.005) }')
    d=$(diff_results "out/keel_${spec}_$n.csv" "out/ca_${spec}_$n.csv" "$model")
    exact="-"
    if [ "$spec" != h ] && [ "${SKIP_EXACT:-0}" != 1 ]; then
      exact=$($PY check_exact.py "$data" "${spec#m}" "out/keel_${spec}_$n.csv")
    fi
    row "$n" "$label" "$kw" "$kc" "$km" "$call" "$callcpu" "$cw" "$cm" "$speed" "$speedcpu" "$d" "$exact"
  done
  echo "# $n rows: load average after $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a out/results.txt
done
