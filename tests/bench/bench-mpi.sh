#!/bin/bash
# mmdnn — data-parallel `mmdnn train`: samples/s of one process against
# N ranks under mpirun on this machine, one OpenBLAS thread per process
# (so 2 ranks use the 2 cores one process with 2 threads would), default
# architecture from scratch, global batch 32 (the default), the training
# loop only (the data set is decoded beforehand, validation is off). Also
# the gradient slab every step all-reduces (bytes) and the share of the
# step time rank 0 spent in the all-reduces. The numbers feed the scaling
# model of docs/scaling.md.
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   tests/bench/bench-mpi.sh [BUILD_DIR [CLIPS [RANKS]]]   (default build, 96, 2)
#
# The data: CLIPS AVT-Fashion training clips (made once into
# BUILD_DIR/bench-mpi/ by tools/make-dataset). Each run is 3 epochs of
# CLIPS / 32 steps; the figure is the mean rate of epochs 2 and 3 (the
# first pays for warming caches and OpenBLAS buffers).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-build}" && pwd)
CLIPS=${2:-96}
RANKS=${3:-2}
DIR=$BUILD/bench-mpi
BATCH=32
MMDNN=$BUILD/tools/mmdnn

[ -x "$MMDNN" ] || { echo "bench-mpi.sh: no $MMDNN (meson compile -C $BUILD)" >&2; exit 1; }
MPIRUN=$(command -v mpirun || true)
if [ -z "$MPIRUN" ] || ! "$MMDNN" train --help | grep -q "built with MPI"; then
  echo "bench-mpi.sh: skipped: $MMDNN was built without MPI (meson feature 'mpi', Debian openmpi-bin libopenmpi-dev)"
  exit 0
fi
. "$HERE/common.sh"
bench_dataset "$ROOT" "$DIR" "$CLIPS" --split train --seed 11
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mmdnn-bench-mpi-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export OPENBLAS_NUM_THREADS=1
# mpirun as root (a container, CI)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# samples/s of epochs 2 and 3 (the epoch lines, rank 0's log)
rate () {
  sed -nE 's/^epoch [23]\/3 step .* val_acc .* samples\/s ([0-9.]+).*/\1/p' "$1" \
    | awk '{ s += $1; n++ } END { if (n) printf "%.1f", s / n; else print "?" }'
}

train () {
  "$@" "$MMDNN" train "$DIR" --batch "$BATCH" --epochs 3 --val-fraction 0 \
    --seed 1 --out "$TMP/m.safetensors"
}

echo "data-parallel training, $CLIPS clips, global batch $BATCH, default architecture, 1 BLAS thread per process"
train env > "$TMP/one.log" 2>&1 || { cat "$TMP/one.log" >&2; exit 1; }
one=$(rate "$TMP/one.log")
printf '%-22s %7s samples/s\n' "1 process" "$one"
train "$MPIRUN" --oversubscribe --bind-to none -np "$RANKS" > "$TMP/n.log" 2>&1 \
  || { cat "$TMP/n.log" >&2; exit 1; }
n=$(rate "$TMP/n.log")
printf '%-22s %7s samples/s  (%.2fx)\n' "$RANKS ranks (mpirun)" "$n" \
  "$(awk -v a="$n" -v b="$one" 'BEGIN { print a / b }')"
slab=$(sed -nE 's/.*gradient slab ([0-9]+) floats.*/\1/p' "$TMP/n.log")
echo "gradient slab: $slab floats = $((slab * 4)) bytes, one all-reduce a step"
grep '^rank 0 spent' "$TMP/n.log" || true
awk -v s="$one" -v b=$BATCH 'BEGIN { printf "compute per sample (1 process, 1 thread): %.1f ms; per step of %d: %.0f ms\n", 1000 / s, b, 1000 * b / s }'
# the slice a rank trains on at 8 machines (32 / 8): small GEMMs cost more
# per sample, which the scaling model must use at that N
BATCH=4 train env > "$TMP/four.log" 2>&1 || { cat "$TMP/four.log" >&2; exit 1; }
four=$(rate "$TMP/four.log")
awk -v s="$four" 'BEGIN { printf "1 process, batch 4:    %7.1f samples/s  (compute per sample %.1f ms)\n", s, 1000 / s }'
