#!/usr/bin/env bash
# Browser tests of the default theme in a real Chromium.
#
# Builds the bundled archive with a sub-path base URL (http://127.0.0.1:PORT/annals/)
# into a temporary folder, then runs the tests (node's built-in runner), which serve
# that folder on 127.0.0.1 under /annals/ and drive Debian's /usr/bin/chromium through
# playwright-core. Screenshots land in tests/browser/screenshots/.
#
# Needs: node >= 20 with npm, chromium (apt-get install chromium), a Rust toolchain.
# Set CHROMIUM to use another binary.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

node -e 'if (+process.versions.node.split(".")[0] < 20) { console.error("node >= 20 is required, found " + process.version); process.exit(1) }'
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "chromium not found at $chromium (apt-get install chromium, or set CHROMIUM)" >&2
  exit 1
fi

cd "$here"
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/axe-core ]; then
  npm ci --no-audit --no-fund
fi

port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && cargo run --release --quiet -- build --quiet \
  --base-url "http://127.0.0.1:$port/annals/" --output "$work/site")

export ANNALS_SITE_DIR="$work/site" ANNALS_PORT="$port" CHROMIUM="$chromium"
# The XSS test (test/xss.test.mjs) builds its own archives with the binary just built.
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
export ANNALS_BIN="$target/release/annals"
node --test --test-concurrency=1 test/
