#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Prints what failed in a `meson test` run, from its testlog.json: for each
test that did not pass, its failing TAP cases with the lines that explain
them, then the last lines of its output. The Makefile calls it when a run
fails, so the reason is at the end of the log, where a CI summary shows it.

  failures.py BUILD/meson-logs/testlog.json"""

import json
import sys

TAIL = 25


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
