#!/usr/bin/python3
# Generates the saliency golden files (saliency-*.bin) that
# tests/core/test-saliency.c holds mmdnn_saliency_forward () to: an
# independent NumPy (float64) implementation of the definitions written in
# mmdnn-core/include/mmdnn/saliency.h.
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   /usr/bin/python3 tests/core/golden/make-saliency-golden.py          # write
#   /usr/bin/python3 tests/core/golden/make-saliency-golden.py --check  # compare
#
# The "MMDG" format of mmdg.py (see there and golden/README.md).
# Tensors per case: "geom" int32 [n, c, h, w, grid_h, grid_w], "x" float32
# (N, C, H, W), "y" float32 (N, grid_h·grid_w, 36). Deterministic: fixed
# seeds, float64 reference from the float32 inputs, rounded to float32.

import math
import os
import sys
from fractions import Fraction

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmdg  # noqa: E402


# ---------------------------------------------------------------- reference

def bounds(i, length, parts):
    """[floor(i·len/parts), ceil((i+1)·len/parts)), exactly (Fraction)."""
    return (math.floor(Fraction(i * length, parts)),
            math.ceil(Fraction((i + 1) * length, parts)))


def gradients(g):
    p = np.pad(g, 1, mode="edge")
    ix = (p[1:-1, 2:] - p[1:-1, :-2]) / 2.0
    iy = (p[2:, 1:-1] - p[:-2, 1:-1]) / 2.0
    return ix, iy


def gaussian(img, sigma):
    r = int(math.ceil(3.0 * sigma))
    k = np.arange(-r, r + 1, dtype=np.float64)
    wts = np.exp(-k * k / (2.0 * sigma * sigma))
    wts /= wts.sum()
    h, w = img.shape
    p = np.pad(img, r, mode="edge")
    # rows: a weighted sum of shifted copies, then columns
    rows = sum(wts[j] * p[r:r + h, j:j + w] for j in range(2 * r + 1))
    p = np.pad(rows, r, mode="edge")
    return sum(wts[j] * p[j:j + h, r:r + w] for j in range(2 * r + 1))


def histogram8(ix, iy):
    m = np.hypot(ix, iy).ravel()
    theta = np.arctan2(iy, ix).ravel()
    theta = np.where(theta < 0.0, theta + 2.0 * np.pi, theta)
    t = theta / (2.0 * np.pi / 8.0) - 0.5
    b0 = np.floor(t)
    f = t - b0
    b0 = b0.astype(np.int64)
    hist = np.zeros(8)
    np.add.at(hist, np.mod(b0, 8), m * (1.0 - f))
    np.add.at(hist, np.mod(b0 + 1, 8), m * f)
    return hist


def sift_normalise(h):
    h = h / max(np.linalg.norm(h), 1e-6)
    h = np.minimum(h, 0.2)
    return h / max(np.linalg.norm(h), 1e-6)


def saliency(sample, gh, gw):
    grey = sample.astype(np.float64).mean(axis=0)
    ix, iy = gradients(grey)
    dog = np.abs(gaussian(grey, 1.0) - gaussian(grey, 2.0))
    a = gaussian(ix * ix, 1.0)
    b = gaussian(iy * iy, 1.0)
    c = gaussian(ix * iy, 1.0)
    harris = np.maximum(a * b - c * c - 0.04 * (a + b) ** 2, 0.0)
    h, w = grey.shape
    out = np.zeros((gh * gw, 36))
    for i in range(gh):
        y0, y1 = bounds(i, h, gh)
        for j in range(gw):
            x0, x1 = bounds(j, w, gw)
            hists = []
            for sa in range(2):
                sy0, sy1 = bounds(sa, y1 - y0, 2)
                for sb in range(2):
                    sx0, sx1 = bounds(sb, x1 - x0, 2)
                    ys = slice(y0 + sy0, y0 + sy1)
                    xs = slice(x0 + sx0, x0 + sx1)
                    hists.append(histogram8(ix[ys, xs], iy[ys, xs]))
            d = dog[y0:y1, x0:x1]
            r = harris[y0:y1, x0:x1]
            out[i * gw + j] = np.concatenate([
                sift_normalise(np.concatenate(hists)),
                np.log1p([d.mean(), d.max(), r.mean(), r.max()])])
    return out


# ---------------------------------------------------------------- inputs

def shapes_image(rng, h, w):
    """Edges, corners and blobs on a gentle ramp, plus a little noise."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = 0.02 * xx - 0.01 * yy
    img[4:14, 5:17] += 1.0                                   # rectangle
    img += 1.5 * (((yy - 22) ** 2 + (xx - 28) ** 2) < 30)    # disc
    img += 0.8 * (np.abs((yy - 2) - 0.9 * (xx - 24)) < 1.5)  # diagonal line
    img += np.sin(xx / 3.0) * (yy > 26)                      # waves
    return img + rng.uniform(-0.05, 0.05, (h, w))


def smooth_noise(rng, h, w):
    return gaussian(rng.uniform(-2.0, 2.0, (h, w)), 1.5)


def build(seed, n, c, h, w, gh, gw, kind):
    rng = np.random.default_rng(seed)
    if kind == "noise":
        x = rng.uniform(-2.0, 2.0, (n, c, h, w))
    elif kind == "shapes":
        x = np.stack([np.stack([shapes_image(rng, h, w) for _ in range(c)])
                      for _ in range(n)])
    else:
        x = np.stack([np.stack([smooth_noise(rng, h, w) for _ in range(c)])
                      for _ in range(n)])
    x = x.astype(np.float32)
    y = np.stack([saliency(x[i], gh, gw) for i in range(n)])
    return [("geom", mmdg.I32, np.array([n, c, h, w, gh, gw])),
            ("x", mmdg.F32, x), ("y", mmdg.F32, y)]


# name -> (seed, n, c, h, w, grid_h, grid_w, input kind)
CASES = {
    # grids that do not divide the sizes: overlapping cells, odd sub-cells
    "saliency-noise": (1001, 2, 3, 21, 26, 2, 3, "noise"),
    "saliency-shapes": (1002, 1, 1, 32, 40, 4, 5, "shapes"),
    # the video layout (3 channels, 4×4 grid) at 32×32
    "saliency-video": (1003, 1, 3, 32, 32, 4, 4, "smooth"),
    # the audio layout: a 1×10 grid over frames, cells of 5 columns
    "saliency-audio": (1004, 1, 1, 16, 50, 1, 10, "smooth"),
}


if __name__ == "__main__":
    sys.exit(mmdg.main(CASES, lambda name, spec: build(*spec),
                       description=__doc__))
