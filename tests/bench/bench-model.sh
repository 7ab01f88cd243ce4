#!/bin/bash
# mmdnn — whole-model benchmark: ours (bench-model) against the same model in
# PyTorch 1.13 on CPU (torch_mmdnn.py), interleaved, several rounds.
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   [BENCH_CLOCK=cpu] [BENCH_NATIVE_BLAS=1] tests/bench/bench-model.sh [BUILD_DIR] [ROUNDS] [MIN_TIME]
#       BUILD_DIR  default build; ROUNDS default 3; MIN_TIME seconds per
#                  measurement, default 3
#
# Each round runs, for 1 then 2 threads, ours then PyTorch (the order swaps
# every round), training (batch 32) and batch-1 inference in separate
# processes. The table shows the median over the rounds of each side's
# median step. Ratio = how many times faster ours is (PyTorch time / ours).
# Targets (issue 4): ≥ 2× for training, ≥ 3× at batch 1; the 1-thread ratios
# are the headline.
#
# The peer's configuration (the performance issue's "fair peer"):
#   MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736  (no mmap/trim churn
#     in glibc's malloc; set for both sides — ours allocates once anyway)
#   OPENBLAS_NUM_THREADS=1 for PyTorch only, with torch.set_num_threads(n)
#     (its intra-op pool and oneDNN use OpenMP; ours sets its OpenBLAS
#     threads with mmdnn_blas_set_threads (n))
#   OPENBLAS_CORETYPE is left as the machine sets it, unless
#     BENCH_NATIVE_BLAS=1: then OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are
#     unset for both sides alike, so OpenBLAS picks the kernels of the CPU
#     it runs on (e.g. SkylakeX/Cooperlake AVX-512 where the machine forces
#     Haswell). Both sides print the core OpenBLAS picked ("info" lines).
#     Only this benchmark does that; tests never change those variables.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-build}
ROUNDS=${2:-3}
MIN_TIME=${3:-3}
OURS="$BUILD/tests/bench/bench-model"
PY=/usr/bin/python3
TORCH="$HERE/torch_mmdnn.py"
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT

[ -x "$OURS" ] || { echo "bench-model.sh: no $OURS (meson compile -C $BUILD)" >&2; exit 1; }

export MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736
if [ "${BENCH_NATIVE_BLAS:-0}" = 1 ]; then
  echo "blas: native (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)} and" \
       "OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-(unset)} unset for both sides)"
  unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
else
  echo "blas: as the machine sets it (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)})"
fi

# same parameter names and shapes on both sides
if ! diff <("$OURS" --params | awk '{print $1, $2}' | sort) \
          <("$PY" "$TORCH" --params | awk '{print $1, $2}' | sort) >/dev/null 2>&1; then
  echo "bench-model.sh: WARNING: parameter sets differ:" >&2
  diff <("$OURS" --params | awk '{print $1, $2}' | sort) \
       <("$PY" "$TORCH" --params | awk '{print $1, $2}' | sort) >&2 || true
fi

# BENCH_CLOCK=cpu: both sides time each step by their process's CPU clock
# (--cpu-time), for a machine busy with other jobs; the 1-thread ratios are
# then the ones to read (with 2 threads it is CPU cost, not latency).
# BENCH_THREADS="1" runs one thread count only (default "1 2").
CLOCK_ARG=()
[ "${BENCH_CLOCK:-wall}" = cpu ] && CLOCK_ARG=(--cpu-time)
ours () { "$OURS" --threads "$1" --min-time "$MIN_TIME" "${CLOCK_ARG[@]}" --what "$2"; }
peer () { OPENBLAS_NUM_THREADS=1 "$PY" "$TORCH" --threads "$1" --min-time "$MIN_TIME" "${CLOCK_ARG[@]}" --what "$2"; }

echo "clock: ${BENCH_CLOCK:-wall}; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
r=1
while [ "$r" -le "$ROUNDS" ]; do
  for t in ${BENCH_THREADS:-1 2}; do
    for what in train infer; do
      if [ $((r % 2)) -eq 1 ]; then
        ours "$t" "$what" >>"$OUT"; peer "$t" "$what" >>"$OUT"
      else
        peer "$t" "$what" >>"$OUT"; ours "$t" "$what" >>"$OUT"
      fi
    done
  done
  echo "round $r/$ROUNDS done (load $(cut -d' ' -f1 /proc/loadavg))"
  r=$((r + 1))
done
# where our time goes: one split run per thread count
for t in ${BENCH_THREADS:-1 2}; do "$OURS" --threads "$t" --min-time "$MIN_TIME" "${CLOCK_ARG[@]}" --what split >>"$OUT"; done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

grep ' info ' "$OUT" | sort -u
echo
awk '
  function median(s,   n, a, i, j, t) {
    n = split(s, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  $2 == "train" || $2 == "infer" {
    split($3, kv, "="); k = $1 " " $2 " " kv[2]
    v[k] = v[k] " " $4
  }
  END {
    printf "| threads | ours train samples/s | PyTorch train samples/s | train ratio | ours batch-1 ms | PyTorch batch-1 ms | batch-1 ratio |\n"
    printf "|---:|---:|---:|---:|---:|---:|---:|\n"
    for (t = 1; t <= 2; t++) {
      if (!(("ours train " t) in v) || !(("torch train " t) in v)) continue
      ot = median(v["ours train " t]); pt = median(v["torch train " t])
      oi = median(v["ours infer " t]); pi = median(v["torch infer " t])
      printf "| %d | %.1f | %.1f | %.2f× | %.2f | %.2f | %.2f× |\n", t, ot, pt, ot / pt, oi, pi, pi / oi
    }
    printf "\nratio = ours / PyTorch throughput (training), PyTorch / ours latency (batch 1); >1 means ours is faster.\n"
    printf "targets: training >= 2x, batch 1 >= 3x (1 thread is the headline).\n"
  }' "$OUT"
echo
echo "per-round values (medians of each process):"
grep -E ' (train|infer) ' "$OUT" | sort -s -k2,3 | sed 's/^/  /'
echo
grep ' split ' "$OUT"
