#!/usr/bin/python3
# Compares two safetensors files tensor by tensor: the same names, dtypes
# and shapes, and every value within TOL (max abs difference).
#
#   compare-models.py A B TOL
#
# Prints the largest difference and its tensor; exits 0 when within TOL,
# 1 when not (or when the files differ in structure), 2 on bad usage.
# Debian's python3-numpy only: the format is an 8-byte little-endian
# header length, a JSON header, then the raw data.
# SPDX-License-Identifier: LGPL-2.1-or-later
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4"}


def load(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype=DTYPES[info["dtype"]])
        out[name] = arr.reshape(info["shape"])
    return out


def main():
    if len(sys.argv) != 4:
        print("usage: compare-models.py A B TOL", file=sys.stderr)
        return 2
    a, b, tol = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
    if sorted(a) != sorted(b):
        print("different tensors: %s" % sorted(set(a) ^ set(b)))
        return 1
    worst, where = 0.0, None
    for name in sorted(a):
        if a[name].shape != b[name].shape:
            print("%s: shape %s vs %s" % (name, a[name].shape, b[name].shape))
            return 1
        if a[name].size == 0:
            continue
        d = float(np.max(np.abs(a[name].astype(np.float64)
                                - b[name].astype(np.float64))))
        if not d <= worst:          # NaN counts as the worst
            worst, where = d, name
    print("%d tensors, max abs difference %.3g (%s)" % (len(a), worst, where))
    return 0 if worst <= tol else 1


if __name__ == "__main__":
    sys.exit(main())
