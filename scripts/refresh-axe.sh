#!/usr/bin/env bash
# Refreshes the vendored axe-core (Deque Systems, MPL-2.0) used for accessibility findings:
# fetches the npm package and copies axe.min.js and its licence into crates/keel-preview/vendor/.
#
#   scripts/refresh-axe.sh            # the version pinned below
#   AXE_VERSION=4.15.0 scripts/refresh-axe.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${AXE_VERSION:-4.14.1}"
vendor="$root/crates/keel-preview/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "axe-core@$version" >/dev/null && tar xzf axe-core-*.tgz)
cp "$work/package/axe.min.js" "$vendor/axe.min.js"
cp "$work/package/LICENSE" "$vendor/LICENSE-axe-core"
printf 'axe-core %s\n' "$version" > "$vendor/VERSION"
sha256sum "$vendor/axe.min.js" | cut -d' ' -f1 >> "$vendor/VERSION"
echo "vendored axe-core $version into $vendor"
