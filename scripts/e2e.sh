#!/usr/bin/env bash
# End-to-end tests of the real desktop app: builds ghidanh-app, installs tauri-driver if missing,
# and runs `cargo test -p ghidanh-tests --test app_e2e`. Extra arguments go to the test binary
# (a name filter, --nocapture, ...).
#
# Works without a display: the harness starts its own Xvfb when $DISPLAY is unset
# (GHIDANH_E2E_XVFB=1 forces that even with a display). Safe for CI: no prompts, no stdin.
# Screenshots: target/e2e-screens/, logs of tauri-driver and Xvfb: target/e2e-logs/.
#
# The app embeds ui/dist at build time. The Makefile builds the UI first; when ui/dist is
# missing this script builds it too (npm ci + npm run build).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

"$root/scripts/install-tauri-driver.sh"

if [ ! -f ui/dist/index.html ]; then
  echo "ui/dist/index.html missing: building the UI"
  if [ ! -d ui/node_modules ]; then
    (cd ui && npm ci --ignore-scripts --no-audit --no-fund </dev/null)
  fi
  (cd ui && npm run build </dev/null)
fi

start=$(date +%s)
cargo build -p ghidanh-app </dev/null
echo "built ghidanh-app in $(($(date +%s) - start)) s"

start=$(date +%s)
cargo test -p ghidanh-tests --test app_e2e -- "$@" </dev/null
echo "e2e tests passed in $(($(date +%s) - start)) s; screenshots in target/e2e-screens/"
