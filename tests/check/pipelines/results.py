#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reads `gst-launch-1.0 -m` output on stdin and prints one line per
`mmdnn-result` element message, in the order they were posted:

  RUNNING_TIME_NS LABEL_PERCENT V_PRESENT V_WEIGHT A_PRESENT A_WEIGHT T_PRESENT T_WEIGHT

(presence "true"/"false", weights with 4 decimals, the label with spaces
replaced by '_'); with --json, the message's whole JSON result instead,
exactly as posted. The `json` field of the message is a serialized GstStructure
string (backslash-escaped); it is unescaped and parsed, and checked against
the message's own running-time, label and confidence fields."""

import json
import re
import sys

FIELD = r"%s=\(%s\)(\"(?:[^\"\\]|\\.)*\"|[^,;]+)"


def unescape(v):
    if v.startswith('"'):
        v = v[1:-1]
    return re.sub(r"\\(.)", r"\1", v)


def field(line, name, typ):
    m = re.search(FIELD % (re.escape(name), typ), line)
    if m is None:
        raise SystemExit("results.py: no %s in: %s" % (name, line[:200]))
    return unescape(m.group(1))


def main():
    whole = sys.argv[1:] == ["--json"]
    for line in sys.stdin:
        if "mmdnn-result" not in line or "Got message" not in line:
            continue
        text = field(line, "json", "string")
        r = json.loads(text)
        rt = int(field(line, "running-time", "guint64"))
        label = field(line, "label", "string")
        conf = float(field(line, "confidence", "double"))
        first = next(iter(r["tasks"].values()))
        if (r["running_time"] != rt or first["label"] != label
                or abs(first["confidence"] - conf) > 1e-5):
            raise SystemExit("results.py: message fields disagree with its "
                             "json: %s" % line[:300])
        if whole:
            print(text)
            continue
        mods = r["modalities"]
        print(rt, "%s_%d" % (label.replace(" ", "_"), round(conf * 100)),
              " ".join("%s %.4f" % ("true" if mods[m]["present"] else "false",
                                    mods[m]["weight"])
                       for m in ("video", "audio", "text")))


if __name__ == "__main__":
    main()
