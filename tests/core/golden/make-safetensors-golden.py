#!/usr/bin/python3
# Writes the safetensors files that tests/core/test-safetensors.c reads, and
# checks files that mmdnn wrote, so both directions of the format are held
# to an implementation that shares no code with mmdnn.
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Debian has no python3-safetensors, so the format is written by hand here
# from torch/numpy tensors, exactly as the specification describes it:
#
#   u64 N little-endian | N bytes of UTF-8 JSON, space padded | data
#
# Run with Debian's python (torch + numpy):
#
#   /usr/bin/python3 tests/core/golden/make-safetensors-golden.py           # (re)write
#   /usr/bin/python3 tests/core/golden/make-safetensors-golden.py --check   # compare only
#   /usr/bin/python3 tests/core/golden/make-safetensors-golden.py --verify FILE
#
# --verify parses FILE strictly (duplicate names, exact entry members, F32
# only, offsets tiling the data area, 8-byte aligned data start) and
# compares every tensor bit for bit and every metadata value with the ones
# of model.safetensors. test-safetensors writes such a file — model.safetensors
# read by mmdnn and written back by mmdnn — into the directory named by
# MMDNN_SAFETENSORS_KEEP:
#
#   MMDNN_SAFETENSORS_KEEP=/tmp/st build/tests/core/test-safetensors
#   /usr/bin/python3 tests/core/golden/make-safetensors-golden.py --verify /tmp/st/roundtrip.safetensors
#
# Files (the values are exact in float32, so the C test recomputes them):
#   model.safetensors            metadata (non-ASCII, escapes, a JSON config
#                                string), six tensors: 0-d, empty (0, 3), 1-d
#                                to 4-d, special bit patterns (±0, ±inf, NaN
#                                with payload, subnormal, max); header keys
#                                unsorted, "__metadata__" in the middle, data
#                                in yet another order, JSON with spaces.
#   model-unaligned.safetensors  a header of odd length (no padding), as old
#                                writers made: the data starts misaligned.

import argparse
import json
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))

METADATA = {
    "format": "mmdnn",
    "version": "1",
    "config": json.dumps({"dim": 128, "tokens": [16, 10, 32], "tau": 0.1,
                          "classes": ["calm", "tense"]}),
    "note": "café ✓ \"quoted\" back\\slash\nnew line\ttab",
}

SPECIAL_BITS = [0x00000000, 0x80000000, 0x7F800000, 0xFF800000,
                0x7FC00001, 0x00000001, 0x7F7FFFFF, 0x3F800000]


def expected_tensors():
    """name -> float32 numpy array (C order)."""
    t = {}
    t["video.proj.weight"] = ((torch.arange(15, dtype=torch.float32) - 7)
                              .reshape(5, 3) / 8).numpy()
    t["video.proj.bias"] = (np.arange(5) ** 2 / 4 - 3).astype(np.float32)
    i = np.arange(18)
    t["audio.conv.weight"] = (np.where(i % 2 == 0, 1, -1) * i / 16) \
        .astype(np.float32).reshape(2, 3, 1, 3)
    t["logit_scale"] = torch.tensor(4.5, dtype=torch.float32).numpy()
    t["empty"] = np.zeros((0, 3), dtype=np.float32)
    t["special"] = np.array(SPECIAL_BITS, dtype="<u4").view("<f4")
    return t


def build(tensors, key_order, data_order, metadata, pad=True,
          separators=(", ", ": ")):
    offsets = {}
    data = b""
    for name in data_order:
        raw = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        offsets[name] = [len(data), len(data) + len(raw)]
        data += raw
    header = {}
    for name in key_order:
        if name == "__metadata__":
            header[name] = metadata
        else:
            header[name] = {"dtype": "F32",
                            "shape": list(tensors[name].shape),
                            "data_offsets": offsets[name]}
    text = json.dumps(header, ensure_ascii=False,
                      separators=separators).encode("utf-8")
    if pad:
        text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def golden_files():
    t = expected_tensors()
    model = build(t,
                  ["video.proj.weight", "logit_scale", "__metadata__",
                   "audio.conv.weight", "empty", "special", "video.proj.bias"],
                  ["special", "video.proj.bias", "audio.conv.weight",
                   "logit_scale", "empty", "video.proj.weight"],
                  METADATA)
    small = {"x": np.array([1.5, -2.25, 3.0], dtype=np.float32)}
    unaligned = build(small, ["x"], ["x"], None, pad=False,
                      separators=(",", ":"))
    # the header is 55 bytes: the floats start 63 bytes into the file
    assert (len(unaligned) - 12) % 4 != 0
    return {"model.safetensors": model,
            "model-unaligned.safetensors": unaligned}


class FormatError(Exception):
    pass


def no_duplicates(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise FormatError("duplicate name %r" % k)
        seen[k] = v
    return seen


def parse(blob):
    """Strict reader: returns (metadata, {name: array}, header key order)."""
    if len(blob) < 8:
        raise FormatError("shorter than 8 bytes")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise FormatError("header length %d past the end" % n)
    text = blob[8:8 + n]
    if (8 + n) % 8 != 0:
        raise FormatError("data start %d is not 8-byte aligned" % (8 + n))
    stripped = text.rstrip(b" ")
    if not stripped.startswith(b"{") or not stripped.endswith(b"}"):
        raise FormatError("header is not a space-padded JSON object")
    header = json.loads(text.decode("utf-8"), object_pairs_hook=no_duplicates)
    data = blob[8 + n:]
    meta = header.pop("__metadata__", {})
    if not all(isinstance(v, str) for v in meta.values()):
        raise FormatError("metadata value not a string")
    tensors = {}
    spans = []
    for name, e in header.items():
        if sorted(e) != ["data_offsets", "dtype", "shape"]:
            raise FormatError("%s: members %s" % (name, sorted(e)))
        if e["dtype"] != "F32":
            raise FormatError("%s: dtype %s" % (name, e["dtype"]))
        shape = e["shape"]
        if not all(isinstance(d, int) and d >= 0 for d in shape):
            raise FormatError("%s: shape %s" % (name, shape))
        b, end = e["data_offsets"]
        if end - b != 4 * int(np.prod(shape, dtype=np.int64)):
            raise FormatError("%s: offsets %s for shape %s" % (name, [b, end],
                                                              shape))
        spans.append((b, end, name))
        tensors[name] = np.frombuffer(data[b:end], dtype="<f4").reshape(shape)
    pos = 0
    for b, end, name in sorted(spans):
        if b != pos:
            raise FormatError("%s: starts at %d, expected %d" % (name, b, pos))
        pos = end
    if pos != len(data):
        raise FormatError("%d bytes after the last tensor" % (len(data) - pos))
    return meta, tensors, list(header)


def same_bits(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and \
        a.view("<u4").tobytes() == b.view("<u4").tobytes()


def verify(path):
    with open(path, "rb") as f:
        blob = f.read()
    meta, tensors, order = parse(blob)
    want = expected_tensors()
    errors = []
    if meta != METADATA:
        errors.append("metadata %r != %r" % (meta, METADATA))
    if sorted(tensors) != sorted(want):
        errors.append("names %s != %s" % (sorted(tensors), sorted(want)))
    for name in sorted(set(tensors) & set(want)):
        if not same_bits(np.ascontiguousarray(tensors[name]),
                         np.ascontiguousarray(want[name], dtype="<f4")):
            errors.append("%s differs: %s vs %s" % (name, tensors[name],
                                                    want[name]))
    # mmdnn writes the tensors in insertion order, offsets ascending
    starts = [json.loads(blob[8:8 + struct.unpack("<Q", blob[:8])[0]])[k]
              ["data_offsets"][0] for k in order]
    if starts != sorted(starts):
        errors.append("data not in header order")
    for e in errors:
        print("%s: %s" % (path, e), file=sys.stderr)
    if not errors:
        print("%s: OK (%d tensors, %d metadata keys, header order %s)"
              % (path, len(tensors), len(meta), order))
    return not errors


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true",
                    help="compare with the committed files, write nothing")
    ap.add_argument("--verify", metavar="FILE",
                    help="check a file mmdnn wrote against model.safetensors")
    args = ap.parse_args()

    if args.verify:
        return 0 if verify(args.verify) else 1

    ok = True
    for name, blob in golden_files().items():
        path = os.path.join(HERE, name)
        # the reader here must accept what the writer here made
        meta, tensors, _ = parse(blob) if name == "model.safetensors" else \
            (None, None, None)
        if tensors is not None:
            want = expected_tensors()
            assert meta == METADATA
            assert all(same_bits(tensors[k], want[k]) for k in want)
        if args.check:
            with open(path, "rb") as f:
                same = f.read() == blob
            print("%s: %s" % (name, "identical" if same else "DIFFERS"))
            ok = ok and same
        else:
            with open(path, "wb") as f:
                f.write(blob)
            print("wrote %s (%d bytes)" % (path, len(blob)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
