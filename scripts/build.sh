#!/usr/bin/env bash
# Configures (once) and builds sgfw into build/ (or $SGFW_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${SGFW_BUILD_DIR:-build}
if [[ ! -f $BUILD_DIR/build.ninja ]]; then
  meson setup "$BUILD_DIR" --buildtype=debugoptimized >/dev/null
fi
ninja -C "$BUILD_DIR"
