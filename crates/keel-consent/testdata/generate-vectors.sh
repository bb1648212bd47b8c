#!/usr/bin/env bash
# Regenerates the decoder test vectors from the IAB's reference JavaScript libraries.
#
# The libraries are installed into testdata/npm/node_modules (git-ignored); the vectors written
# here (tcf.json, gpp.json) are committed, so the test suite never needs node or the network.
# Every vector is a string encoded by the reference library from seeded random models, plus the
# value the reference library decodes from that string, mapped onto Keel's JSON field names.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
npm_dir="$here/npm"
mkdir -p "$npm_dir"
cd "$npm_dir"
if [ ! -f package.json ]; then
  echo '{"private": true, "name": "keel-consent-vectors", "version": "0.0.0"}' > package.json
fi
npm install --no-audit --no-fund --silent @iabtcf/core@1.5.6 @iabgpp/cmpapi@3.2.0 >/dev/null
node "$here/generate-vectors.js" "$here"
echo "wrote $here/tcf.json and $here/gpp.json"
