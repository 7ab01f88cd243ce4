#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Prints what failed in a `meson test` run, from its testlog.json: for each
test that did not pass, its failing TAP cases with the lines that explain
them, then the last lines of its output. The Makefile calls it when a run
fails, so the reason is at the end of the log, where a CI summary shows it.

  failures.py BUILD/meson-logs/testlog.json"""

import json
import re
import sys

TAIL = 25
# memcheck's reports (make check-valgrind), from the test's stderr
MEMCHECK_BLOCKS = 3
MEMCHECK_LINES = 40
MEMCHECK_START = re.compile(r"^==\d+== (Invalid |Conditional jump|Use of "
                            r"uninitialised|Syscall param|Mismatched free|"
                            r".* definitely lost in loss record)")
MEMCHECK_LINE = re.compile(r"^==\d+== ")


def memcheck_reports(err):
    """The first MEMCHECK_BLOCKS error reports of memcheck in err, each
    from its first line to the blank line that ends it."""
    blocks, cur = [], None
    for line in err.splitlines():
        if cur is None:
            if MEMCHECK_START.match(line):
                cur = [line]
        elif MEMCHECK_LINE.match(line) and line.split(" ", 1)[1].strip():
            if len(cur) < MEMCHECK_LINES:
                cur.append(line)
        else:
            blocks.append(cur)
            cur = None
            if len(blocks) == MEMCHECK_BLOCKS:
                break
    if cur is not None and len(blocks) < MEMCHECK_BLOCKS:
        blocks.append(cur)
    return blocks


def report(t):
    out = t.get("stdout") or ""
    lines = out.splitlines()
    print("==== %s: %s (exit status %s, %.1f s)"
          % (t["name"], t["result"], t.get("returncode"), t.get("duration", 0)))
    shown = set()
    for i, line in enumerate(lines):
        if line.startswith("not ok") or line.startswith("Bail out!"):
            j = i + 1
            while j < len(lines) and lines[j].startswith("#"):
                j += 1
            for k in range(i, j):
                print(lines[k])
                shown.add(k)
    rest = [l for k, l in enumerate(lines) if k not in shown]
    if rest:
        print("---- last %d lines of its output" % min(TAIL, len(rest)))
        for line in rest[-TAIL:]:
            print(line)
    for block in memcheck_reports(t.get("stderr") or ""):
        print("---- memcheck")
        for line in block:
            print(line)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    bad = 0
    try:
        f = open(sys.argv[1], encoding="utf-8", errors="replace")
    except OSError as e:
        sys.exit("failures.py: %s: %s" % (sys.argv[1], e.strerror))
    with f:
        for line in f:
            t = json.loads(line)
            if t["result"] in ("OK", "SKIP", "EXPECTEDFAIL"):
                continue
            bad += 1
            report(t)
    print("failures.py: %d test(s) did not pass" % bad)


if __name__ == "__main__":
    main()
