#!/usr/bin/env bash
# Refreshes data/caniemail/caniemail.json from the caniemail data (MIT, © HTeuMeuLeu).
#
# Two sources, in order of preference:
#   1. the published API file, https://www.caniemail.com/api/data.json (built by the site from
#      github.com/hteumeuleu/caniemail, _features/*.md front matter + _data/nicenames.yml);
#   2. the `caniemail` npm package, which ships a copy as caniemail/caniemail.json.
# The file keeps the schema of api/data.json (api_version 1.0.4); see caniemail/README.md.
# After refreshing, run `cargo test -p keel-checks` (the data is embedded at build time) and
# update the commit/date table in caniemail/README.md. Keep caniemail/LICENSE next to the data.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="$here/caniemail/caniemail.json"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if [ "${1:-}" != "--npm" ] && curl -fsSL https://www.caniemail.com/api/data.json -o "$tmp/data.json"; then
  echo "fetched api/data.json from caniemail.com"
else
  echo "falling back to the caniemail npm package"
  (cd "$tmp" && npm pack caniemail --silent >/dev/null && tar xzf caniemail-*.tgz)
  file="$(find "$tmp/package" -name caniemail.json | head -1)"
  [ -n "$file" ] || { echo "caniemail.json not found in the npm package" >&2; exit 2; }
  cp "$file" "$tmp/data.json"
fi

python3 - "$tmp/data.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d.get("data"), list) and d["data"], "no features in data.json"
for f in d["data"]:
    assert "slug" in f and "stats" in f, f.get("slug")
print(f'{len(d["data"])} features, last_update_date {d.get("last_update_date")}')
PY
cp "$tmp/data.json" "$dest"
echo "wrote $dest"
