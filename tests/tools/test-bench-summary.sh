#!/bin/sh
# tests/bench/summary.py, the line `make bench` ends with: it must take each
# figure from its benchmark's own output (the 1-thread rows, the median
# real-time factor), print exactly one line in the documented format, and
# refuse — naming what is missing — rather than print a made-up value.
# TAP output.
#   test-bench-summary.sh SOURCE_ROOT
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
SUMMARY="/usr/bin/python3 $1/tests/bench/summary.py"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mmdnn-test-bench-summary-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/tap.sh"

# the lines as the benchmarks print them, among others
logs () {
  rm -rf "$TMP/logs"
  mkdir -p "$TMP/logs"
  cat > "$TMP/logs/model.log" <<'LOG'
| threads | ours train samples/s | PyTorch train samples/s | train ratio | ours batch-1 ms | PyTorch batch-1 ms | batch-1 ratio |
|---:|---:|---:|---:|---:|---:|---:|
| 1 | 57.9 | 92.2 | 0.63× | 7.71 | 9.36 | 1.21× |
| 2 | 53.8 | 104.5 | 0.51× | 8.35 | 9.37 | 1.12× |
LOG
  cat > "$TMP/logs/layers.log" <<'LOG'
summary threads=2: min ratio 0.530 (conv 3->16 k7), geometric mean 0.670, target 0.70 NOT met

summary threads=1: min ratio 0.780 (conv 3->16 k5), geometric mean 0.853, target 0.70 met
LOG
  cat > "$TMP/logs/pipeline.log" <<'LOG'
real-time factor     74.6x  best, 71.2x median  (demo pipeline, 60 s of media)
real-time factor     60.8x  best, 57.6x median  (demo pipeline + annotated MJPEG output)
LOG
}

one_line_from_the_logs () {
  logs
  run $SUMMARY "$TMP/logs"
  expect_rc 0
  [ "$(cat "$TMP/out")" = "bench: train_vs_torch=0.63 infer_vs_torch=1.21 gemm_vs_sgemm=0.85 pipeline_rtf=71.2" ] \
    || fail "output: $(cat "$TMP/out")"
}

missing_log_n () {
  logs
  rm "$TMP/logs/layers.log"
  run $SUMMARY "$TMP/logs"
  expect_rc 1
  expect_err "layers.log: No such file or directory"
  [ -s "$TMP/out" ] && fail "printed: $(cat "$TMP/out")"
}

no_one_thread_row_n () {
  logs
  grep -v '^| 1 |' "$TMP/logs/model.log" > "$TMP/m" && mv "$TMP/m" "$TMP/logs/model.log"
  run $SUMMARY "$TMP/logs"
  expect_rc 1
  expect_err "model.log: no 1-thread row"
}

only_two_thread_summary_n () {
  logs
  grep -v 'threads=1' "$TMP/logs/layers.log" > "$TMP/l" && mv "$TMP/l" "$TMP/logs/layers.log"
  run $SUMMARY "$TMP/logs"
  expect_rc 1
  expect_err "layers.log: no 'summary threads=1' line"
}

failed_pipeline_run_n () {
  logs
  echo "bench-pipeline.py: pipeline error: no element mmdnnfuse" > "$TMP/logs/pipeline.log"
  run $SUMMARY "$TMP/logs"
  expect_rc 1
  expect_err "pipeline.log: no 'real-time factor' line"
}

usage_n () {
  run $SUMMARY
  expect_rc 2
  expect_err "usage: summary.py LOG_DIR"
}

echo "1..6"
for t in one_line_from_the_logs missing_log_n no_one_thread_row_n \
    only_two_thread_summary_n failed_pipeline_run_n usage_n; do
  check "$t"
done
[ $failed = 0 ]
