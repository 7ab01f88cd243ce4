#!/bin/sh
# The memcheck run's own test: `make check-valgrind` runs the element and
# pipeline suites under VALGRIND ARGS… (the options and suppressions of
# tests/valgrind/meson.build); here the same command must pass a clean
# GStreamer process and fail each planted fault with memcheck's report of
# it, so that no option or suppression hides a leak, an invalid read or
# write or a jump on uninitialised memory in our code. TAP.
#   test-canary.sh CANARY VALGRIND ARGS…
set -u
canary=$1
shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT
n=0
fails=0

# check MODE STATUS PATTERN VALGRIND…: the canary run as MODE ends with
# STATUS and memcheck's log says PATTERN
check () {
  mode=$1 want=$2 pattern=$3
  shift 3
  n=$((n + 1))
  "$@" --log-file="$log" "$canary" "$mode" >/dev/null 2>&1
  got=$?
  if [ "$got" -ne "$want" ]; then
    echo "not ok $n - $mode: exit status $got, expected $want"
    sed 's/^/# /' "$log" | tail -n 30
    fails=$((fails + 1))
  elif ! grep -q -- "$pattern" "$log"; then
    echo "not ok $n - $mode: memcheck did not say \"$pattern\""
    sed 's/^/# /' "$log" | tail -n 30
    fails=$((fails + 1))
  else
    echo "ok $n - $mode: exit $got, \"$pattern\""
  fi
}

echo "1..5"
check clean 0 "ERROR SUMMARY: 0 errors" "$@"
check leak 97 "definitely lost in loss record" "$@"
check read 97 "Invalid read of size 1" "$@"
check write 97 "Invalid write of size 1" "$@"
check cond 97 "Conditional jump or move depends on uninitialised" "$@"
exit $((fails > 0))
