#!/bin/bash
# mmdnn — training throughput through the pipeline (mmdnntrain) against
# `mmdnn train` on the same data (issue 7; target: the pipeline ≥ 0.8× the
# CLI), one line each, default model architecture from scratch, batches of
# 16, one epoch:
#   cli            `mmdnn train` as it runs (OpenBLAS with its default
#                  threads), its own samples/s: the training loop only, the
#                  data set decoded beforehand; and its whole run (decoding,
#                  training, writing), as a pipeline from the file does it;
#   cli-1thread    the same with OPENBLAS_NUM_THREADS=1, as the plugin runs
#                  OpenBLAS (one thread per GEMM, gstmmdnnelement.c);
#   pipeline       decodebin, the three encoders, the label track and
#                  mmdnntrain, from the file: samples over the time from
#                  the first optimiser step to the last (what mmdnntrain
#                  reports as samples / elapsed), and the whole run's wall
#                  time. Every video frame is encoded; the audio encoder
#                  steps by 0.5 s, which gives each two-second window the
#                  same patch (from 0.5 s into it) as a step of one log-mel
#                  frame would, for a fiftieth of the work;
#   pipeline-10ms  the same with the audio encoder stepping by one log-mel
#                  frame (10 ms), as test-train-pipelines.sh runs it: 100
#                  audio encodings per second of media, which then bound
#                  the run;
#   pipeline-lean  video encoded twice a second (max-rate=2): the window
#                  takes another frame, less work still.
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   tests/bench/bench-train.sh [BUILD_DIR [CLIPS]]    (default build, 48)
#
# The data: CLIPS AVT-Fashion training clips back to back (made once into
# BUILD_DIR/bench-train/ by tools/make-dataset --concat), its labels.csv as
# a label track (tools/labels-to-srt). tests/bench/README.md explains the
# figures.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-build}" && pwd)
CLIPS=${2:-48}
DIR=$BUILD/bench-train
BATCH=16

[ -f "$BUILD/gst/libgstmmdnn.so" ] || { echo "bench-train.sh: no $BUILD/gst/libgstmmdnn.so (meson compile -C $BUILD)" >&2; exit 1; }
if [ ! -f "$DIR/all.mkv" ] || [ "$(($(wc -l < "$DIR/labels.csv") - 1))" != "$CLIPS" ]; then
  rm -rf "$DIR"
  "$ROOT/tools/make-dataset" "$DIR" --clips "$CLIPS" --split train --seed 11 \
    --concat all.mkv > "$DIR.log" 2>&1 || { cat "$DIR.log" >&2; exit 1; }
  rm -f "$DIR.log"
fi
[ -f "$DIR/labels.srt" ] || "$ROOT/tools/labels-to-srt" "$DIR" --task class \
  --task speaker_gender -o "$DIR/labels.srt"
export GST_PLUGIN_PATH_1_0=$BUILD/gst
export GST_REGISTRY_1_0=$DIR/registry.bin
MMDNN=$BUILD/tools/mmdnn
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mmdnn-bench-train-XXXXXX")
trap 'rm -rf "$TMP"' EXIT

cli () {
  local name=$1 sps t0 t1
  shift
  t0=$(date +%s.%N)
  "$@" "$MMDNN" train "$DIR" --batch $BATCH --epochs 1 --val-fraction 0 \
    --seed 1 --out "$TMP/cli.safetensors" > "$TMP/cli.log" 2>&1 \
    || { cat "$TMP/cli.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  sps=$(grep val_acc "$TMP/cli.log" | sed -nE 's/^epoch 1\/1 .* samples\/s ([0-9.]+).*/\1/p')
  awk -v n="$name" -v s="$sps" -v w="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" -v c="$CLIPS" \
    'BEGIN { printf "%-14s %7.1f samples/s  (training loop only; whole run, decoding included, %.1f s, %.1f samples/s)\n", n, s, w, c / w }'
  echo "$sps" > "$TMP/$name"
  awk -v a="$t0" -v b="$t1" -v c="$CLIPS" 'BEGIN { print c / (b - a) }' > "$TMP/$name.whole"
}

pipeline () {
  local name=$1 ahop=$2 vrate=$3 t0 t1 samples elapsed
  t0=$(date +%s.%N)
  gst-launch-1.0 -e -m filesrc location="$DIR/all.mkv" ! decodebin name=d \
    d. ! video/x-raw ! queue ! videoconvert ! video/x-raw,format=RGB ! \
      mmdnnvideoenc max-rate="$vrate" ! queue ! t.sink_0 \
    d. ! audio/x-raw ! queue ! audioconvert ! audioresample ! \
      mmdnnaudioenc hop="$ahop" ! queue ! t.sink_1 \
    d. ! text/x-raw ! queue ! mmdnntextenc ! queue ! t.sink_2 \
    filesrc location="$DIR/labels.srt" ! subparse ! queue ! t.label \
    mmdnntrain name=t window=2000000000 batch-size=$BATCH seed=1 \
      publish-interval=0 message-interval=0 total-steps=$(( (CLIPS + BATCH - 1) / BATCH )) \
      ! fakesink > "$TMP/pipe.log" 2>&1 || { cat "$TMP/pipe.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  samples=$(grep 'final=(boolean)true' "$TMP/pipe.log" | sed -nE 's/.* samples=\(guint64\)([0-9]+).*/\1/p')
  elapsed=$(grep 'final=(boolean)true' "$TMP/pipe.log" | sed -nE 's/.* elapsed=\(double\)([0-9.]+).*/\1/p')
  awk -v n="$name" -v s="$samples" -v e="$elapsed" -v w="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" -v c="$CLIPS" \
    'BEGIN { printf "%-14s %7.1f samples/s  (%d samples in %.1f s from the first step; whole run %.1f s, %.1f samples/s)\n", n, s / e, s, e, w, c / w }'
  awk -v s="$samples" -v e="$elapsed" 'BEGIN { print s / e }' > "$TMP/$name"
  awk -v a="$t0" -v b="$t1" -v c="$CLIPS" 'BEGIN { print c / (b - a) }' > "$TMP/$name.whole"
}

echo "training throughput, $CLIPS clips of 2 s, batches of $BATCH, default architecture"
cli cli env
cli cli-1thread env OPENBLAS_NUM_THREADS=1
pipeline pipeline 500000000 0
pipeline pipeline-10ms 10000000 0
pipeline pipeline-lean 500000000 2
ratio () { awk -v a="$(cat "$TMP/$1")" -v b="$(cat "$TMP/$2")" 'BEGIN { printf "%.2f", a / b }'; }
echo "ratio, training loop: pipeline/cli $(ratio pipeline cli)," \
  "10ms $(ratio pipeline-10ms cli), lean $(ratio pipeline-lean cli);" \
  "against cli-1thread $(ratio pipeline cli-1thread), lean $(ratio pipeline-lean cli-1thread)"
echo "ratio, whole runs from the file: pipeline/cli $(ratio pipeline.whole cli.whole)," \
  "10ms $(ratio pipeline-10ms.whole cli.whole)," \
  "lean $(ratio pipeline-lean.whole cli.whole); target >= 0.8"
