/* mmdnn — fixed SIFT/HOG-like local descriptors per grid cell (no weights).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>

G_BEGIN_DECLS

/*
 * The saliency branch of the encoders: hand-made descriptors that say where
 * the edges, blobs and corners of a picture (or a log-mel patch) are, per
 * token cell, before a learned projection. Nothing here is learned and no
 * gradient flows through it: the input is data.
 *
 * Definitions, exactly as computed (tests/core/golden/make-saliency-golden.py
 * is an independent NumPy implementation of this text). Per sample, with
 * x:(C, H, W), rows y = 0..H−1 top to bottom, columns x = 0..W−1 left to
 * right, and "replicate border" meaning an index is clamped into the image:
 *
 * 1. grey(y, x) = mean over the C channels of x(c, y, x).
 *
 * 2. Gradients by central differences, replicate border:
 *      Ix(y, x) = (grey(y, x+1) − grey(y, x−1)) / 2
 *      Iy(y, x) = (grey(y+1, x) − grey(y−1, x)) / 2
 *    (so at the border, e.g. x = 0: (grey(y, 1) − grey(y, 0)) / 2).
 *    Magnitude m = √(Ix² + Iy²); angle θ = atan2 (Iy, Ix) taken into
 *    [0, 2π) by adding 2π when negative. Iy points DOWN the image: a
 *    picture getting brighter downwards has θ = π/2.
 *
 * 3. Cells. Cell (i, j) of the grid_h × grid_w grid covers rows
 *      [floor(i·H/grid_h), ceil((i+1)·H/grid_h))
 *    and columns likewise with W and grid_w — PyTorch's adaptive-pool
 *    bounds, so neighbouring cells share a row/column when the grid does
 *    not divide the size. Cells are numbered row-major: k = i·grid_w + j.
 *    Each cell of R rows × S columns starting at (r0, s0) is split into
 *    2 × 2 sub-cells by the same rule inside the cell: sub-cell (a, b)
 *    covers rows r0 + [floor(a·R/2), ceil((a+1)·R/2)) and columns
 *    s0 + [floor(b·S/2), ceil((b+1)·S/2)) (an odd R or S puts the middle
 *    row/column in both halves).
 *
 * 4. Orientation histograms: per sub-cell, 8 bins with centres
 *    (b + 0.5)·2π/8, b = 0..7 (22.5°, 67.5°, ...). Every pixel of the
 *    sub-cell adds its magnitude m, split linearly between the two nearest
 *    bin centres, circularly: with t = θ·8/(2π) − 0.5, b0 = floor(t),
 *    f = t − b0, bin (b0 mod 8) gets m·(1 − f) and bin ((b0 + 1) mod 8)
 *    gets m·f. (A vertical edge, dark on the left, has θ = 0 and puts half
 *    its energy in bin 7 and half in bin 0; dark on the right, θ = π: bins
 *    3 and 4. A horizontal edge: bins 1, 2 (brighter downwards) or 5, 6.)
 *    The four sub-cell histograms in sub-cell row-major order, (0,0),
 *    (0,1), (1,0), (1,1), make 32 values h, normalised like SIFT:
 *      h ← h / max(‖h‖₂, 1e-6);  h ← min(h, 0.2);  h ← h / max(‖h‖₂, 1e-6).
 *    A cell with no gradient at all keeps h = 0.
 *
 * 5. Difference of Gaussians: DoG = G(σ=1)∗grey − G(σ=2)∗grey, where G(σ)
 *    is the separable Gaussian with radius r = ceil(3σ) (3 and 6), weights
 *    exp(−k²/(2σ²)) for k = −r..r divided by their sum, replicate border,
 *    applied along rows then along columns. Per cell, over all its pixels:
 *    value 32 = log1p(mean |DoG|), value 33 = log1p(max |DoG|).
 *
 * 6. Harris: the structure tensor Ix², Iy², Ix·Iy (gradients of step 2),
 *    each smoothed by G(σ=1) as in step 5 → A, B, C;
 *    R = A·B − C² − 0.04·(A + B)². Per cell, over all its pixels:
 *    value 34 = log1p(mean max(R, 0)), value 35 = log1p(max max(R, 0)).
 *
 * So out(n, k, :) = [32 histogram values | DoG mean, max | Harris mean,
 * max], MMDNN_SALIENCY_FEATURES = 36 values per cell. The images stored
 * in the scratch are float; the sums, norms and Harris products are in
 * double.
 */

#define MMDNN_SALIENCY_FEATURES 36

/* Geometry of one call: input (C, H, W) per sample, a grid_h × grid_w grid
 * of cells, and ws_size, the floats of scratch forward needs (9·H·W: the
 * grey image, two gradients, a blur buffer, two blurred images and the
 * three structure-tensor images; reused for every sample of a batch). */
typedef struct {
  int64_t c, h, w, grid_h, grid_w, ws_size;
} MmdnnSaliencyShape;

/* Fails (MMDNN_ERROR_INVALID_ARGUMENT) on a NULL @s, a size < 1, an input
 * too large, or a grid whose smallest cell (by the bounds of step 3) is
 * below 4 rows or 4 columns: each sub-cell then has at least 2×2 pixels.
 * (So H ≥ 4·grid_h always passes; H = 7, grid_h = 2 passes too, with
 * cells of rows 0..3 and 3..6.) @s is only written on success. */
MMDNN_API gboolean mmdnn_saliency_shape_init (MmdnnSaliencyShape *s,
                                              int64_t c, int64_t h,
                                              int64_t w, int64_t grid_h,
                                              int64_t grid_w, GError **error);

/* x: (N, C, H, W) → out: (N, grid_h·grid_w, 36), as defined above.
 * ws: s->ws_size floats of scratch (not n times that: samples run one
 * after the other); its contents are garbage afterwards. No allocation. */
MMDNN_API void mmdnn_saliency_forward (float *out, float *ws, const float *x,
                                       const MmdnnSaliencyShape *s,
                                       int64_t n);

G_END_DECLS
