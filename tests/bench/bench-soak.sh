#!/bin/sh
# mmdnn — the soak of mmdnnfuse (issue 10, item 5): 100 000 windows, the
# resident set at a few points and its drift from 10 000 windows to the end
# (bound ±2 %; exit status 1 beyond it). tests/bench/README.md,
# "bench-soak", says what it runs and what it measured.
#
#   tests/bench/bench-soak.sh [BUILD_DIR [bench-soak options]]
#                             (default build; e.g. --windows 20000)
#
# The plugin and the default model are taken from the build tree.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu
BUILD=$(cd "${1:-build}" && pwd)
[ $# -gt 0 ] && shift
[ -f "$BUILD/gst/libgstmmdnn.so" ] || { echo "bench-soak.sh: no $BUILD/gst/libgstmmdnn.so (meson compile -C $BUILD)" >&2; exit 1; }
mkdir -p "$BUILD/bench"
export GST_PLUGIN_PATH_1_0=$BUILD/gst
export GST_REGISTRY_1_0=$BUILD/bench/registry.bin
exec "$BUILD/tests/bench/bench-soak" \
  --model "$BUILD/models/mmdnn-default.safetensors" "$@"
