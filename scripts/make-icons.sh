#!/usr/bin/env bash
# Regenerates the placeholder app icons in src-tauri/icons/ (green square, white "GD").
# Tauri wants RGBA PNGs, hence the PNG32: prefix. Needs ImageMagick.
set -euo pipefail
cd "$(dirname "$0")/../src-tauri/icons"
icon() { # size output
  convert -size "$1x$1" xc:'#1b7f3b' -fill white -gravity center -font DejaVu-Sans-Bold \
    -pointsize $(($1 * 45 / 100)) -annotate +0+0 'GD' "PNG32:$2"
}
icon 32 32x32.png
icon 128 128x128.png
icon 256 128x128@2x.png
icon 512 icon.png
