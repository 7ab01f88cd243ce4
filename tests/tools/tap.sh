# A small TAP harness for the shell tests of tests/tools, sourced after the
# test sets TMP (a scratch directory) and before it defines its cases.
#
#   run CMD...       runs CMD: stdout in $TMP/out, stderr in $TMP/err, status in $rc
#   check NAME       runs the function NAME as one TAP case; any `fail` in it
#                    fails the case, which then shows the last command's output
#   fail MESSAGE     marks the current case failed
#   expect_rc N, expect_out TEXT, expect_err TEXT (fixed strings),
#   expect_no_crash  (no death by signal)
# SPDX-License-Identifier: LGPL-2.1-or-later

n=0
failed=0

run () {
  "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
}

check () {
  n=$((n + 1))
  ok=1
  "$1"
  if [ $ok = 1 ]; then
    echo "ok $n - $1"
  else
    echo "not ok $n - $1"
    failed=$((failed + 1))
    sed 's/^/#   stdout: /' "$TMP/out" | tail -n 20
    sed 's/^/#   stderr: /' "$TMP/err" | head -n 20
  fi
}

fail () {
  # every line a TAP comment: a message may quote a tool's multi-line output
  printf '%s\n' "$1" | sed 's/^/#   /'
  ok=0
}

expect_rc () {
  [ "$rc" = "$1" ] || fail "exit status $rc, expected $1"
}

expect_out () {
  grep -qF -- "$1" "$TMP/out" || fail "stdout lacks '$1'"
}

expect_err () {
  grep -qF -- "$1" "$TMP/err" || fail "stderr lacks '$1'"
}

expect_no_crash () {
  [ "$rc" -lt 128 ] || fail "killed by signal $((rc - 128))"
}
