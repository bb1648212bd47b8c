#!/usr/bin/env bash
# Checks that two builds of the engine report exactly the same findings on the bench corpus
# (run `run.sh` first to generate bench/checks/out/corpus): the JSON rows of both, for the
# client-support-only policy and for all rules, must be byte-identical.
#
#   bench/checks/same-findings.sh OLD/check_json NEW/check_json
#
# Build each side with `cargo build --release -p keel-checks --example check_json` (copy the
# binary away before building the other side).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
old="$1"
new="$2"
cd "$here"
status=0
for policy in support-only all-rules; do
  args=()
  if [ "$policy" = support-only ]; then args=(--policy support-only.yaml); fi
  "$old" "${args[@]}" out/corpus/*.html > "out/old-$policy.json"
  "$new" "${args[@]}" out/corpus/*.html > "out/new-$policy.json"
  if cmp -s "out/old-$policy.json" "out/new-$policy.json"; then
    rows=$(python3 -c "import json; print(len(json.load(open('out/new-$policy.json'))))")
    echo "$policy: identical ($rows findings, $(wc -c < "out/new-$policy.json") bytes)"
  else
    echo "$policy: DIFFERENT (out/old-$policy.json vs out/new-$policy.json)"
    status=1
  fi
done
exit $status
