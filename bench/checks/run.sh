#!/usr/bin/env bash
# Benchmark: Keel's email checks vs the npm linter doiuse-email, on the same seeded corpus,
# in the same run. Prints templates/second, failures to process, peak memory and the ratio.
#
#   bench/checks/run.sh            # 1000 generated templates + 100 compiled with mjml
#   COUNT=3000 MJML=300 bench/checks/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
COUNT="${COUNT:-1000}"
MJML="${MJML:-100}"
SEED="${SEED:-42}"
target="${CARGO_TARGET_DIR:-$root/target}"

# Peers, installed locally (git-ignored).
if [ ! -d .peers/node_modules/doiuse-email ] || [ ! -d .peers/node_modules/mjml ]; then
  mkdir -p .peers
  (cd .peers && [ -f package.json ] || echo '{"name":"keel-bench-peers","private":true}' > package.json
   npm install --no-audit --no-fund --silent doiuse-email@0.4.1 mjml@5.4.1)
fi

# Corpus: seeded templates (about 3% hostile inputs) plus MJML sources compiled by mjml.
rm -rf out && mkdir -p out
python3 gen.py --seed "$SEED" --count "$COUNT" --mjml "$MJML" --out out
if [ "$MJML" -gt 0 ]; then
  node .peers/node_modules/mjml/bin/mjml out/mjml/*.mjml -o out/corpus/ >/dev/null 2>out/mjml.log || true
fi
n=$(find out/corpus -name '*.html' | wc -l)
bytes=$(du -sb out/corpus | cut -f1)
echo "corpus: $n templates, $((bytes / 1024)) KB (seed $SEED)"

# The CLI (all cores) and the engine alone on one thread (the check_json example: read, check,
# JSON rows to stdout, as `keel check-email --format json` does). SKIP_CLI=1 measures only the
# engine (a release build of the whole CLI takes long on a small machine).
if [ "${SKIP_CLI:-0}" != 1 ]; then
  (cd "$root" && cargo build --release -q -p keel)
fi
(cd "$root" && cargo build --release -q -p keel-checks --example check_json)
keel="$target/release/keel"
engine="$target/release/examples/check_json"

# Runs a command under /usr/bin/time; sets secs (wall), cpu (user+sys) and mem_kb (peak RSS).
timed() {
  local code=0
  /usr/bin/time -f "%e %U %S %M" -o out/time.txt "$@" || code=$?
  read -r secs user sys mem_kb < <(tail -1 out/time.txt)
  cpu=$(python3 -c "print(f'{$user + $sys:.2f}')")
  return $code
}

# Keel exits 1 when error-level findings exist; only 2 (or a crash) is a failure.
# run_keel LABEL COMMAND...: COMMAND gets the corpus files appended.
# A Keel run takes well under a second, so one run's wall clock is at the mercy of the
# scheduler on a busy machine: each is run REPEAT times (default 5) and the median wall and
# median CPU time are reported (doiuse-email's single run lasts long enough to average out).
REPEAT="${REPEAT:-5}"
run_keel() {
  local label="$1"; shift
  local code=0 failures=0 walls=() cpus=() peak=0
  for _ in $(seq "$REPEAT"); do
    code=0
    timed "$@" out/corpus/*.html > "out/keel-$label.json" 2> "out/keel-$label.err" || code=$?
    if [ "$code" -gt 1 ]; then failures="$n (exit $code)"; fi
    walls+=("$secs"); cpus+=("$cpu")
    if [ "$mem_kb" -gt "$peak" ]; then peak=$mem_kb; fi
  done
  secs=$(IFS=,; python3 -c "import statistics; print(statistics.median([${walls[*]}]))")
  cpu=$(IFS=,; python3 -c "import statistics; print(statistics.median([${cpus[*]}]))")
  mem_kb=$peak
  local tps cps
  tps=$(python3 -c "print(f'{$n / max($secs, 1e-9):.0f}')")
  cps=$(python3 -c "print(f'{$n / max($cpu, 1e-9):.0f}')")
  local crashed
  # Compact JSON: one line, so count occurrences rather than lines.
  crashed=$( (grep -o '"rule":"input-unreadable"' "out/keel-$label.json" || true) | wc -l)
  printf '%-36s %7s templates/s wall  %7s templates/CPU-s  %6ss  %5s MB  failures: %s  (unreadable-input findings: %s)\n' \
    "keel ($label)" "$tps" "$cps" "$secs" "$((mem_kb / 1024))" "$failures" "$crashed"
  eval "keel_${label//-/_}_tps=$tps"
  eval "keel_${label//-/_}_cps=$cps"
}

if [ "${SKIP_CLI:-0}" != 1 ]; then
  run_keel client-support "$keel" check-email --format json --policy support-only.yaml
  run_keel all-rules "$keel" check-email --format json
fi
run_keel engine-client-support "$engine" --policy support-only.yaml
run_keel engine-all-rules "$engine"

# doiuse-email: wall is the checking loop only (reading and checking each file; Node start-up
# and module loading excluded, which favours doiuse-email); CPU is the whole process's.
timed node doiuse-run.mjs out/corpus > out/doiuse.json 2> out/doiuse.err
read -r d_tps d_fail <<<"$(python3 -c "
import json; d = json.load(open('out/doiuse.json'))
print(f\"{d['templates'] / max(d['seconds'], 1e-9):.1f} {d['failures']}\")")"
d_cps=$(python3 -c "print(f'{$n / max($cpu, 1e-9):.1f}')")
d_ptps=$(python3 -c "print(f'{$n / max($secs, 1e-9):.1f}')")
printf '%-36s %7s templates/s wall  %7s templates/CPU-s  %6ss  %5s MB  failures: %s  (whole process: %s templates/s wall)\n' \
  "doiuse-email 0.4.1 (client support)" "$d_tps" "$d_cps" "$secs" "$((mem_kb / 1024))" "$d_fail" "$d_ptps"
head -3 out/doiuse.err | sed 's/^/  /'

ratio() {
  python3 -c "print(f'ratio, $1 / doiuse-email client support: {$2 / max($d_tps, 1e-9):.0f}x wall, {$3 / max($d_cps, 1e-9):.0f}x CPU')"
}
if [ "${SKIP_CLI:-0}" != 1 ]; then
  ratio "keel CLI client support" "$keel_client_support_tps" "$keel_client_support_cps"
  ratio "keel CLI all rules" "$keel_all_rules_tps" "$keel_all_rules_cps"
fi
ratio "keel engine (1 thread) client support" "$keel_engine_client_support_tps" "$keel_engine_client_support_cps"
ratio "keel engine (1 thread) all rules" "$keel_engine_all_rules_tps" "$keel_engine_all_rules_cps"
