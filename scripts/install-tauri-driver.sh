#!/usr/bin/env bash
# Installs tauri-driver (the WebDriver proxy for Tauri apps) unless it is already on PATH.
# Also checks that WebKitWebDriver (Debian package webkit2gtk-driver) is present, since
# tauri-driver only proxies to it on Linux.
set -euo pipefail

TAURI_DRIVER_VERSION="${TAURI_DRIVER_VERSION:-^2}"
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$CARGO_BIN:$PATH"

if command -v tauri-driver >/dev/null 2>&1; then
  echo "tauri-driver already installed: $(command -v tauri-driver)"
else
  echo "installing tauri-driver ${TAURI_DRIVER_VERSION} with cargo install (about 30 s)..."
  cargo install tauri-driver --locked --version "${TAURI_DRIVER_VERSION}"
fi

if ! command -v WebKitWebDriver >/dev/null 2>&1; then
  echo "error: WebKitWebDriver not found; install the Debian package webkit2gtk-driver" >&2
  exit 1
fi
