# The "MMDG" golden-file format: the one writer and reader the make-*-golden.py
# generators share (the C reader is tests/core/golden-file.c).
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# One file per case, everything little-endian:
#
#   header   char[4]  magic "MMDG"
#            u32      version (1)
#            u32      tensor count (1..1024)
#   tensor   u32      name length in bytes (1..255), then the name (printable
#                     ASCII, no spaces, no terminating NUL, unique in the file)
#            u32      dtype: 0 = float32, 1 = int32
#            u32      ndim (0..4; 0 is a scalar with one element)
#            i64      shape[ndim], every size >= 1
#            raw      the elements, row-major, 4 bytes each
#
# Nothing follows the last tensor.
#
# A generator imports this module (after putting its own directory first on
# sys.path, so it runs from any cwd) and ends with
#     sys.exit(mmdg.main(CASES, build, description=__doc__))
# where build(name, spec) returns the case's tensors as a list of
# (name, dtype, array-like) in file order.

import argparse
import os
import struct
import sys

import numpy as np

MAGIC = b"MMDG"
VERSION = 1
F32 = 0
I32 = 1
MAX_NAME = 255
MAX_TENSORS = 1024
MAX_NDIM = 4

_NP = {F32: "<f4", I32: "<i4"}


def _check_name(name, seen):
    nb = name.encode("ascii")
    assert 1 <= len(nb) <= MAX_NAME, name
    assert all(0x21 <= b <= 0x7e for b in nb), name
    assert name not in seen, "duplicate tensor %r" % name
    seen.add(name)
    return nb


def encode(tensors):
    """bytes of a file holding @tensors, (name, dtype, array-like) in order.
    float32 values are rounded from whatever the array holds (float64
    references round once, here); int32 values must fit exactly."""
    tensors = list(tensors)
    assert 1 <= len(tensors) <= MAX_TENSORS
    out = [MAGIC, struct.pack("<II", VERSION, len(tensors))]
    seen = set()
    for name, dtype, a in tensors:
        nb = _check_name(name, seen)
        src = np.asarray(a)
        if dtype == I32:
            assert np.all(src == src.astype(np.int32)), name
        else:
            assert dtype == F32, (name, dtype)
        a = np.array(src, dtype=_NP[dtype], order="C", copy=True)
        assert a.ndim <= MAX_NDIM and all(s >= 1 for s in a.shape), \
            (name, a.shape)
        out.append(struct.pack("<I", len(nb)))
        out.append(nb)
        out.append(struct.pack("<II", dtype, a.ndim))
        out.append(struct.pack("<%dq" % a.ndim, *a.shape))
        out.append(a.tobytes())
    return b"".join(out)


def decode(data):
    """[(name, dtype, array)] of a file's bytes; ValueError when malformed
    (the same checks as the C reader)."""
    def take(n, what):
        nonlocal pos
        if len(data) - pos < n:
            raise ValueError("truncated at byte %d: %s needs %d bytes"
                             % (pos, what, n))
        pos += n
        return data[pos - n:pos]

    pos = 0
    if take(4, "magic") != MAGIC:
        raise ValueError("bad magic")
    version, count = struct.unpack("<II", take(8, "header"))
    if version != VERSION:
        raise ValueError("version %d, want %d" % (version, VERSION))
    if not 1 <= count <= MAX_TENSORS:
        raise ValueError("tensor count %d" % count)
    tensors, seen = [], set()
    for _ in range(count):
        (nlen,) = struct.unpack("<I", take(4, "name length"))
        if not 1 <= nlen <= MAX_NAME:
            raise ValueError("name length %d" % nlen)
        nb = take(nlen, "name")
        if not all(0x21 <= b <= 0x7e for b in nb):
            raise ValueError("name %r not printable ASCII" % nb)
        name = nb.decode("ascii")
        if name in seen:
            raise ValueError("duplicate tensor %r" % name)
        seen.add(name)
        dtype, ndim = struct.unpack("<II", take(8, "dtype, ndim"))
        if dtype not in _NP or ndim > MAX_NDIM:
            raise ValueError("%s: dtype %d, ndim %d" % (name, dtype, ndim))
        shape = struct.unpack("<%dq" % ndim, take(8 * ndim, "shape"))
        if any(s < 1 for s in shape):
            raise ValueError("%s: shape %s" % (name, shape))
        numel = int(np.prod(shape, dtype=object))
        raw = take(4 * numel, name + " data")
        tensors.append((name, dtype,
                        np.frombuffer(raw, dtype=_NP[dtype]).reshape(shape)))
    if pos != len(data):
        raise ValueError("%d trailing bytes" % (len(data) - pos))
    return tensors


def diff(old, new):
    """Lines saying how two files' bytes differ, tensor by tensor."""
    try:
        a = {n: (d, v) for n, d, v in decode(old)}
    except ValueError as e:
        return ["  on disk: unreadable (%s)" % e]
    b = {n: (d, v) for n, d, v in decode(new)}
    lines = ["  only on disk: %s" % n for n in a if n not in b]
    lines += ["  only new: %s" % n for n in b if n not in a]
    for n in b:
        if n not in a:
            continue
        (da, va), (db, vb) = a[n], b[n]
        if da != db or va.shape != vb.shape:
            lines.append("  %s: dtype/shape %d%s -> %d%s"
                         % (n, da, va.shape, db, vb.shape))
        elif va.tobytes() != vb.tobytes():
            lines.append("  %s: max-abs-diff %g" % (n, np.max(np.abs(
                va.astype(np.float64) - vb.astype(np.float64)))))
    if not lines:
        lines.append("  same tensors, different order")
    return lines


def main(cases, build, description=None, argv=None):
    """The command line every generator shares: write <outdir>/<case>.bin
    for each case of @cases (name -> spec; build(name, spec) gives its
    tensors), or with --check compare and write nothing. Exit status."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--check", action="store_true",
                    help="compare with the files on disk instead of writing")
    ap.add_argument("--outdir",
                    default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args(argv)

    bad = total = 0
    for name, spec in cases.items():
        data = encode(build(name, spec))
        total += len(data)
        path = os.path.join(args.outdir, name + ".bin")
        if args.check:
            try:
                with open(path, "rb") as f:
                    old = f.read()
            except OSError as e:
                print("%s: cannot read: %s" % (path, e.strerror),
                      file=sys.stderr)
                bad += 1
                continue
            if old != data:
                print("differs: %s" % path, file=sys.stderr)
                for line in diff(old, data):
                    print(line, file=sys.stderr)
                bad += 1
        else:
            with open(path, "wb") as f:
                f.write(data)
    print("%d cases, %d bytes%s%s" % (
        len(cases), total, ", checked" if args.check else ", written",
        ", %d differ" % bad if bad else ""))
    return 1 if bad else 0
