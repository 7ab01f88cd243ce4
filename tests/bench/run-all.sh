#!/bin/bash
# mmdnn — `make bench`: every benchmark in turn, each one's output shown and
# kept in BUILD_DIR/bench-logs/NAME.log, then the one summary line
# (tests/bench/summary.py). SPDX-License-Identifier: LGPL-2.1-or-later
#
#   tests/bench/run-all.sh [BUILD_DIR]     (default build)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-build}" && pwd)
LOGS=$BUILD/bench-logs
mkdir -p "$LOGS"
rm -f "$LOGS"/*.log

run () {
  local name=$1
  shift
  echo "== $name: $*"
  "$@" 2>&1 | tee "$LOGS/$name.log"
  echo
}

run layers "$BUILD/tests/bench/bench-layers"
run encoders "$BUILD/tests/bench/bench-encoders"
run model "$HERE/bench-model.sh" "$BUILD"
# the same with OpenBLAS choosing its kernels for this CPU on both sides
# (OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset); reported beside the
# summary's figures, which stay those of the machine as configured
BENCH_NATIVE_BLAS=1 run model-native "$HERE/bench-model.sh" "$BUILD"
run pipeline "$HERE/bench-pipeline.sh" "$BUILD"
run train "$HERE/bench-train.sh" "$BUILD"
run ingest "$HERE/bench-ingest.sh" "$BUILD"
run mpi "$HERE/bench-mpi.sh" "$BUILD"
run soak "$HERE/bench-soak.sh" "$BUILD"
/usr/bin/python3 "$HERE/summary.py" "$LOGS"
