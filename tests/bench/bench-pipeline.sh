#!/bin/bash
# mmdnn — the plugin's figures (issue 6), one line each:
#   real-time factor of the demo pipeline from a file, sync=false (target
#     ≥ 50× on 2 cores), with and without the annotated video output;
#   peak RSS (the Python process of the demo; and gst-launch-1.0 running
#     pipelines/file-annotate.sh, pure C);
#   latency added per window by mmdnnfuse in a live pipeline (target ≤ 5 ms).
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   tests/bench/bench-pipeline.sh [BUILD_DIR]      (default build)
#
# The media: 30 held-out AVT-Fashion test clips back to back (60 s, made
# once into BUILD_DIR/bench/ by tools/make-dataset --concat). The plugin is
# used from the build tree (GST_PLUGIN_PATH_1_0=BUILD_DIR/gst). The live
# measurement runs 10 s in real time. tests/bench/README.md explains the
# figures.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-build}" && pwd)
DIR=$BUILD/bench
PY=/usr/bin/python3

[ -f "$BUILD/gst/libgstmmdnn.so" ] || { echo "bench-pipeline.sh: no $BUILD/gst/libgstmmdnn.so (meson compile -C $BUILD)" >&2; exit 1; }
. "$HERE/common.sh"
bench_dataset "$ROOT" "$DIR" 30 --split test --seed 3 --voices heldout \
  --concat avt-bench.mkv
export GST_PLUGIN_PATH_1_0=$BUILD/gst
export GST_REGISTRY_1_0=$DIR/registry.bin
F=$DIR/avt-bench.mkv

"$PY" "$HERE/bench-pipeline.py" rtf "$F" --window 2
"$PY" "$HERE/bench-pipeline.py" rtf "$F" --window 2 --out "$DIR/annotated.mkv" --no-rss
"$PY" "$HERE/bench-pipeline.py" rss "$ROOT/pipelines/file-annotate.sh" "$F" "$DIR/annotated.mkv"
"$PY" "$HERE/bench-pipeline.py" latency --seconds 10
