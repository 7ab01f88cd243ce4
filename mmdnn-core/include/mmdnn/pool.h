/* mmdnn — max, average, global and adaptive average pooling (NCHW).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>

G_BEGIN_DECLS

/* Pool2d geometry (PyTorch, floor mode, no dilation):
 *   h_out = (h_in + 2 pad_h − kh) / stride_h + 1, likewise w_out.
 * Fails on a size or stride < 1, a padding < 0 or > k/2 (PyTorch's rule,
 * which keeps every window touching the input), an empty output, or a plane
 * h_in·w_in beyond the int32 range of argmax; @s is only written on success. */
typedef struct {
  int64_t c, h_in, w_in, kh, kw, stride_h, stride_w, pad_h, pad_w;
  int64_t h_out, w_out;
} MmdnnPool2dShape;

MMDNN_API gboolean mmdnn_pool2d_shape_init (MmdnnPool2dShape *s, int64_t c,
                                            int64_t h_in, int64_t w_in,
                                            int64_t kh, int64_t kw,
                                            int64_t stride_h,
                                            int64_t stride_w, int64_t pad_h,
                                            int64_t pad_w, GError **error);

/* x: (N, C, H_in, W_in) → y: (N, C, H_out, W_out) and
 * argmax: (N, C, H_out, W_out), the index h·w_in + w of each maximum within
 * its input plane. Padding acts as −inf; on a tie the first element in
 * row-major order wins and a NaN wins over any number, as in PyTorch.    */
MMDNN_API void mmdnn_maxpool2d_forward (float *y, int32_t *argmax,
                                        const float *x,
                                        const MmdnnPool2dShape *s, int64_t n);

/* dy: (N, C, H_out, W_out) → dx: (N, C, H_in, W_in) += dy at argmax.      */
MMDNN_API void mmdnn_maxpool2d_backward (float *dx, const float *dy,
                                         const int32_t *argmax,
                                         const MmdnnPool2dShape *s,
                                         int64_t n);

/* The backward of ReLU then max-pool in one pass, when the ReLU's input
 * gradient is what is wanted: dx += dy at argmax where the ReLU's output
 * r (the pool's input) is > 0. Into a zeroed dx, the same values as
 * mmdnn_maxpool2d_backward into a zeroed buffer then mmdnn_relu_backward
 * (r), without that full-size buffer and its two passes (onto a non-zero
 * dx, overlapping windows add their terms one by one).                   */
MMDNN_API void mmdnn_maxpool2d_relu_backward (float *dx, const float *dy,
                                              const int32_t *argmax,
                                              const float *r,
                                              const MmdnnPool2dShape *s,
                                              int64_t n);

/* The same overwriting dx: (N, C, H_in, W_in), bit for bit
 * mmdnn_maxpool2d_relu_backward into a zeroed dx, without a separate pass
 * zeroing it first (each plane is zeroed just before its scatter).       */
MMDNN_API void mmdnn_maxpool2d_relu_backward_set (float *dx, const float *dy,
                                                  const int32_t *argmax,
                                                  const float *r,
                                                  const MmdnnPool2dShape *s,
                                                  int64_t n);

/* x: (N, C, H_in, W_in) → y: (N, C, H_out, W_out), each window's sum / (kh·kw)
 * (count_include_pad=True, PyTorch's default: padding counts as zeros).  */
MMDNN_API void mmdnn_avgpool2d_forward (float *y, const float *x,
                                        const MmdnnPool2dShape *s, int64_t n);

/* dy: (N, C, H_out, W_out) → dx: (N, C, H_in, W_in) += dy / (kh·kw) over
 * each window.                                                            */
MMDNN_API void mmdnn_avgpool2d_backward (float *dx, const float *dy,
                                         const MmdnnPool2dShape *s,
                                         int64_t n);

/* x: (N, C, S) → y: (N, C), the mean over S (e.g. S = H·W), in double.   */
MMDNN_API void mmdnn_global_avgpool_forward (float *y, const float *x,
                                             int64_t n, int64_t c, int64_t s);

/* dy: (N, C) → dx: (N, C, S) += dy / S.                                   */
MMDNN_API void mmdnn_global_avgpool_backward (float *dx, const float *dy,
                                              int64_t n, int64_t c, int64_t s);

/* Adaptive average pooling (PyTorch AdaptiveAvgPool2d): output cell (i, j)
 * averages input rows [floor(i·H_in/H_out), ceil((i+1)·H_in/H_out)) and
 * columns likewise, so cells may overlap by one row or column when H_out
 * does not divide H_in, and every input element lies in at least one cell.
 * Valid when c ≥ 1 and 1 ≤ h_out ≤ h_in, 1 ≤ w_out ≤ w_in (checked by
 * mmdnn_adaptive_pool2d_check (); the kernels trust their sizes).         */
MMDNN_API gboolean mmdnn_adaptive_pool2d_check (int64_t c, int64_t h_in,
                                                int64_t w_in, int64_t h_out,
                                                int64_t w_out,
                                                GError **error);

/* x: (N, C, H_in, W_in) → y: (N, C, H_out, W_out), each cell's mean.      */
MMDNN_API void mmdnn_adaptive_avgpool2d_forward (float *y, const float *x,
                                                 int64_t n, int64_t c,
                                                 int64_t h_in, int64_t w_in,
                                                 int64_t h_out,
                                                 int64_t w_out);

/* dy: (N, C, H_out, W_out) → dx: (N, C, H_in, W_in) += dy / (cell size)
 * over each cell.                                                         */
MMDNN_API void mmdnn_adaptive_avgpool2d_backward (float *dx, const float *dy,
                                                  int64_t n, int64_t c,
                                                  int64_t h_in, int64_t w_in,
                                                  int64_t h_out,
                                                  int64_t w_out);

G_END_DECLS
