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
#                  time. The encoders encode only what each two-second
#                  window takes, as `mmdnn train` takes it from a clip: the
#                  frame on screen at its centre (mmdnnvideoenc max-rate=0.5
#                  phase=1 s) and the audio patch centred in it
#                  (mmdnnaudioenc hop=2 s phase=0.5 s);
#   pipeline-all   the same with every video frame encoded and an audio
#                  patch every 0.5 s: what a pipeline pays for features no
#                  window takes.
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   [ROUNDS=3] tests/bench/bench-train.sh [BUILD_DIR [CLIPS]]   (default build, 48)
#
# Each of the four runs ROUNDS times, interleaved (the machine's load
# changes over a run); the ratios are those of the medians.
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
ROUNDS=${ROUNDS:-3}
DIR=$BUILD/bench-train
BATCH=16

[ -f "$BUILD/gst/libgstmmdnn.so" ] || { echo "bench-train.sh: no $BUILD/gst/libgstmmdnn.so (meson compile -C $BUILD)" >&2; exit 1; }
. "$HERE/common.sh"
bench_dataset "$ROOT" "$DIR" "$CLIPS" --split train --seed 11 --concat all.mkv
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
  echo "$sps" >> "$TMP/$name"
  awk -v a="$t0" -v b="$t1" -v c="$CLIPS" 'BEGIN { print c / (b - a) }' >> "$TMP/$name.whole"
}

pipeline () {
  local name=$1 vprops=$2 aprops=$3 t0 t1 samples elapsed
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086 # the properties are words
  gst-launch-1.0 -e -m filesrc location="$DIR/all.mkv" ! decodebin name=d \
    d. ! video/x-raw ! queue ! videoconvert ! video/x-raw,format=RGB ! \
      mmdnnvideoenc $vprops ! queue ! t.sink_0 \
    d. ! audio/x-raw ! queue ! audioconvert ! audioresample ! \
      mmdnnaudioenc $aprops ! queue ! t.sink_1 \
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
  awk -v s="$samples" -v e="$elapsed" 'BEGIN { print s / e }' >> "$TMP/$name"
  awk -v a="$t0" -v b="$t1" -v c="$CLIPS" 'BEGIN { print c / (b - a) }' >> "$TMP/$name.whole"
}

echo "training throughput, $CLIPS clips of 2 s, batches of $BATCH, default architecture;" \
  "$ROUNDS interleaved rounds, ratios of the medians"
for r in $(seq "$ROUNDS"); do
  cli cli env
  cli cli-1thread env OPENBLAS_NUM_THREADS=1
  pipeline pipeline "max-rate=0.5 phase=1000000000" \
    "hop=2000000000 phase=500000000"
  pipeline pipeline-all "" "hop=500000000"
done
median () { sort -g "$TMP/$1" | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio () { awk -v a="$(median "$1")" -v b="$(median "$2")" 'BEGIN { printf "%.2f", a / b }'; }
echo "ratio, training loop: pipeline/cli $(ratio pipeline cli)," \
  "all frames $(ratio pipeline-all cli);" \
  "against cli-1thread $(ratio pipeline cli-1thread)"
echo "ratio, whole runs from the file: pipeline/cli $(ratio pipeline.whole cli.whole)," \
  "all frames $(ratio pipeline-all.whole cli.whole); target >= 0.8"
