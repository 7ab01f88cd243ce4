#!/bin/sh
# tests/tools/failures.py, which the Makefile runs when `meson test` fails:
# it must name every test that did not pass with its failing TAP cases and
# their explanations, leave passing and skipped tests out, and refuse bad
# usage. TAP output.
#   test-failures.sh SOURCE_ROOT
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
FAILURES="/usr/bin/python3 $1/tests/tools/failures.py"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mmdnn-test-failures-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/tap.sh"

# a testlog.json as meson writes it: one JSON object per line
cat > "$TMP/log.json" <<'JSON'
{"name": "s / good", "stdout": "1..1\nok 1 - fine\n", "result": "OK", "duration": 1.0, "returncode": 0}
{"name": "s / tap", "stdout": "1..3\nok 1 - a\nnot ok 2 - b\n#   exit status 1, expected 0\n#   stderr: boom\nok 3 - c\n", "result": "ERROR", "duration": 3.25, "returncode": 1}
{"name": "s / skipped", "stdout": "", "result": "SKIP", "duration": 0.1, "returncode": 77}
{"name": "s / crash", "stdout": "Running suite(s): x\n==1==ERROR: LeakSanitizer: detected memory leaks\n", "result": "FAIL", "duration": 9.5, "returncode": -6}
{"name": "s / memcheck", "stdout": "100%: Checks: 1, Failures: 0, Errors: 0\n", "stderr": "==7== Memcheck, a memory error detector\n==7== \n==7== Invalid read of size 1\n==7==    at 0x1: f (a.c:3)\n==7==  Address 0x2 is 0 bytes after a block\n==7== \n==7== HEAP SUMMARY:\n==7== 8 bytes in 1 blocks are definitely lost in loss record 1 of 2\n==7==    at 0x3: malloc\n==7== \n{\n   <insert_a_suppression_name_here>\n}\n", "result": "FAIL", "duration": 2.0, "returncode": 97}
JSON

names_failed_tests () {
  run $FAILURES "$TMP/log.json"
  expect_rc 0
  expect_out "==== s / tap: ERROR (exit status 1, 3.2 s)"
  expect_out "==== s / crash: FAIL (exit status -6, 9.5 s)"
  expect_out "failures.py: 3 test(s) did not pass"
  grep -q "good\|skipped" "$TMP/out" && fail "a passing or skipped test is listed"
}

shows_failing_cases_with_reasons () {
  run $FAILURES "$TMP/log.json"
  # the failing case, then its '#' lines, in order, before the rest
  sed -n '/^==== s \/ tap/,/^----/p' "$TMP/out" > "$TMP/tap"
  printf '%s\n' "==== s / tap: ERROR (exit status 1, 3.2 s)" "not ok 2 - b" \
    "#   exit status 1, expected 0" "#   stderr: boom" \
    "---- last 3 lines of its output" > "$TMP/want"
  cmp -s "$TMP/tap" "$TMP/want" || fail "got: $(cat "$TMP/tap")"
  expect_out "==1==ERROR: LeakSanitizer: detected memory leaks"
}

shows_memcheck_reports () {
  run $FAILURES "$TMP/log.json"
  # each report from its first line to the blank line, nothing else of
  # memcheck's output
  sed -n '/^==== s \/ memcheck/,$p' "$TMP/out" | grep '^----\|^==7==' > "$TMP/mc"
  printf '%s\n' "---- last 1 lines of its output" "---- memcheck" \
    "==7== Invalid read of size 1" "==7==    at 0x1: f (a.c:3)" \
    "==7==  Address 0x2 is 0 bytes after a block" "---- memcheck" \
    "==7== 8 bytes in 1 blocks are definitely lost in loss record 1 of 2" \
    "==7==    at 0x3: malloc" > "$TMP/want"
  cmp -s "$TMP/mc" "$TMP/want" || fail "got: $(cat "$TMP/mc")"
}

all_passed_n () {
  head -n 1 "$TMP/log.json" > "$TMP/ok.json"
  run $FAILURES "$TMP/ok.json"
  expect_rc 0
  [ "$(cat "$TMP/out")" = "failures.py: 0 test(s) did not pass" ] || fail "output: $(cat "$TMP/out")"
}

usage_n () {
  run $FAILURES
  [ "$rc" != 0 ] || fail "no argument accepted"
  expect_err "failures.py BUILD/meson-logs/testlog.json"
}

missing_log_n () {
  run $FAILURES "$TMP/none.json"
  [ "$rc" != 0 ] || fail "a missing log accepted"
  expect_err "failures.py: $TMP/none.json: No such file or directory"
}

echo "1..6"
for t in names_failed_tests shows_failing_cases_with_reasons shows_memcheck_reports all_passed_n usage_n missing_log_n; do
  check "$t"
done
[ $failed = 0 ]
