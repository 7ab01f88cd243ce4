/* mmdnn — max, average and global average pooling (NCHW).
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

G_END_DECLS
