#!/usr/bin/env bash
# Starts the demo: a registry on 127.0.0.1:$PORT over an embedded SQLite store, and the kit app
# provisioned against it. Data lives in $DEMO_DIR and survives Ctrl-C for the next run.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
DEMO_DIR="${DEMO_DIR:-$root/.ghidanh-demo}"
PORT="${PORT:-8640}"
# The simulated fingerprint scanner (docs/sbi.md); the kit looks on SBI's ports 4501–4510.
SBI_PORT="${SBI_PORT:-4501}"
target="${CARGO_TARGET_DIR:-$root/target}/debug"
ghidanh="$target/ghidanh"
app="$target/ghidanh-app"

mkdir -p "$DEMO_DIR"
if [ ! -f "$DEMO_DIR/registry/registry.key" ]; then
  echo "creating demo registry keys in $DEMO_DIR/registry"
  "$ghidanh" registry init --data "$DEMO_DIR/registry"
fi
if [ ! -f "$DEMO_DIR/device.gdprov" ]; then
  echo "provisioning a demo device"
  "$ghidanh" device provision --data "$DEMO_DIR/registry" --url "http://127.0.0.1:$PORT" \
    --out "$DEMO_DIR/device.gdprov" --label "Thiết bị thử nghiệm"
fi

"$ghidanh" registry serve --data "$DEMO_DIR/registry" --listen "127.0.0.1:$PORT" &
registry_pid=$!
"$ghidanh" sbi-sim --port "$SBI_PORT" &
sbi_pid=$!
cleanup() {
  trap - EXIT INT TERM
  kill "$registry_pid" "$sbi_pid" 2>/dev/null || true
  wait "$registry_pid" "$sbi_pid" 2>/dev/null || true
  echo "stopped; demo data kept in $DEMO_DIR (make clean-demo removes it)"
}
trap cleanup EXIT
# Ctrl-C is how the demo is meant to end: stop cleanly and report success.
trap 'cleanup; exit 0' INT TERM

export GHIDANH_DATA_DIR="$DEMO_DIR/kit"
export GHIDANH_PROVISIONING="$DEMO_DIR/device.gdprov"
export GHIDANH_SBI_PORTS="$SBI_PORT"
# The portrait comes from the first webcam, or GHIDANH_CAMERA (frames:/folder or /dev/videoN);
# without either, import a photo file from the capture panel.
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "no display found: running the app under a virtual X server (xvfb-run); the window is not visible"
  xvfb-run -a "$app"
else
  "$app"
fi
