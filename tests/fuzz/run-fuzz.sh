#!/usr/bin/env bash
# Runs every fuzz target of a -Dfuzz=true build tree for a bounded time
# (make fuzz; tests/fuzz/README.md):
#
#   tests/fuzz/run-fuzz.sh BUILD_DIR [SECONDS] [TARGET...]
#
# Each target starts from a copy of its committed seeds and regression
# inputs in a temporary folder (what it learns is thrown away: the source
# tree stays as it is). A crash, leak, sanitizer report, timeout or
# out-of-memory fails the run; the input that caused it is kept in
# BUILD_DIR/fuzz-artifacts/ and its path and stack are printed.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: run-fuzz.sh BUILD_DIR [SECONDS] [TARGET...]}
seconds=${2:-30}
shift $(($# >= 2 ? 2 : 1))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(model checkpoint text labels config)

artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"
work=$(mktemp -d "${TMPDIR:-/tmp}/mmdnn-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0:allocator_may_return_null=1
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

failed=()
for t in "${targets[@]}"; do
  exe=$build/tests/fuzz/fuzz-$t
  [ -x "$exe" ] || { echo "run-fuzz.sh: $exe missing (meson setup -Dfuzz=true, then compile)" >&2; exit 2; }
  corpus=$work/$t
  mkdir -p "$corpus"
  find tests/fuzz/corpus/"$t" tests/fuzz/regress/"$t" -type f ! -name '.*' \
    -exec cp {} "$corpus"/ \;
  log=$work/$t.log
  echo "== fuzz-$t: ${seconds} s"
  # -timeout: an input slower than 10 s is a hang; -rss_limit_mb also
  # bounds single allocations (-malloc_limit_mb defaults to it)
  "$exe" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$t-" "$corpus" >"$log" 2>&1
  rc=$?
  grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" \
    | sed 's/^/   /'
  if [ $rc -ne 0 ]; then
    failed+=("$t")
    echo "fuzz-$t FAILED (exit $rc):"
    # the report: from the sanitizer's or libFuzzer's first line on
    sed -n '/^==[0-9]*==\|^INFO: libFuzzer\|fuzz oracle failed\|runtime error/,$p' "$log" \
      | grep -v '^#[0-9]' | head -n 80
    grep -h 'Test unit written to' "$log" | sed 's/^.*written to /reproducer: /'
    echo "replay: $exe REPRODUCER"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "make fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "make fuzz: ${#targets[@]} targets, ${seconds} s each: nothing found"
