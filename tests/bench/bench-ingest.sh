#!/bin/bash
# mmdnn — how fast `mmdnn train` ingests a data set: decoding (FFmpeg
# libav), conversion (libswscale, libswresample) and the elements'
# preprocessing of every clip, before any training (issue 9, target ≥ 20×
# real time on 2 cores). SPDX-License-Identifier: LGPL-2.1-or-later
#
#   tests/bench/bench-ingest.sh [BUILD_DIR [CLIPS]]    (default build, 200)
#
# The data: CLIPS AVT-Fashion training clips, one Matroska file per clip as
# tools/make-dataset writes them (made once into BUILD_DIR/bench-ingest/).
# `mmdnn train` reports how long decoding the whole set took ("N clips
# decoded in X s"); the media seconds are the clips' spans in labels.csv.
# One epoch of training follows, which this figure does not count.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-build}" && pwd)
CLIPS=${2:-200}
DIR=$BUILD/bench-ingest
MMDNN=$BUILD/tools/mmdnn

[ -x "$MMDNN" ] || { echo "bench-ingest.sh: no $MMDNN (meson compile -C $BUILD)" >&2; exit 1; }
. "$HERE/common.sh"
bench_dataset "$ROOT" "$DIR" "$CLIPS" --split train --seed 5
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mmdnn-bench-ingest-XXXXXX")
trap 'rm -rf "$TMP"' EXIT

media=$(awk -F, 'NR > 1 { s += $3 - $2 } END { printf "%.1f", s }' "$DIR/labels.csv")
"$MMDNN" train "$DIR" --epochs 1 --batch 16 --val-fraction 0 \
  --out "$TMP/m.safetensors" > "$TMP/log" 2>&1 || { cat "$TMP/log" >&2; exit 1; }
secs=$(sed -nE 's/^data set .*: [0-9]+ clips decoded in ([0-9.]+) s.*/\1/p' "$TMP/log")
[ -n "$secs" ] || { echo "bench-ingest.sh: no 'decoded in' line from mmdnn train" >&2; cat "$TMP/log" >&2; exit 1; }
awk -v n="$CLIPS" -v m="$media" -v s="$secs" 'BEGIN {
  printf "ingest             %6.1fx  real time  (%d clips, %.1f media s decoded and preprocessed in %.1f s; target >= 20x)\n",
    m / (s > 0 ? s : 0.05), n, m, s }'
