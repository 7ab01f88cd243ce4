/* mmdnn — 2-D, transposed 2-D and 1-D convolution (NCHW, im2col + GEMM).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>
#include <mmdnn/rng.h>
#include <mmdnn/tensor.h>

G_BEGIN_DECLS

/* Every kernel here takes `col`, caller-provided scratch of shape->col_size
 * floats (the im2col matrix of one sample), so a call never allocates. A
 * shape is checked once by its _shape_init; the kernels then trust it.
 * Groups and dilation are not supported. */

/* Conv2d geometry (PyTorch, floor mode):
 *   h_out = (h_in + 2 pad_h − kh) / stride_h + 1, likewise w_out;
 *   col_size = c_in·kh·kw · h_out·w_out.
 * Fails on a size or stride < 1, a padding < 0, an empty output, or sizes
 * too large for BLAS; @s is only written on success. */
typedef struct {
  int64_t c_in, h_in, w_in, c_out, kh, kw, stride_h, stride_w, pad_h, pad_w;
  int64_t h_out, w_out, col_size;
} MmdnnConv2dShape;

MMDNN_API gboolean mmdnn_conv2d_shape_init (MmdnnConv2dShape *s, int64_t c_in,
                                            int64_t h_in, int64_t w_in,
                                            int64_t c_out, int64_t kh,
                                            int64_t kw, int64_t stride_h,
                                            int64_t stride_w, int64_t pad_h,
                                            int64_t pad_w, GError **error);

/* x: (N, C_in, H_in, W_in)   w: (C_out, C_in, KH, KW)   b: (C_out) or NULL
 * → y: (N, C_out, H_out, W_out)                                          */
MMDNN_API void mmdnn_conv2d_forward (float *y, float *col, const float *x,
                                     const float *w, const float *b,
                                     const MmdnnConv2dShape *s, int64_t n);

/* dy: (N, C_out, H_out, W_out) → accumulates (+=) dx: like x, dw: like w,
 * db: (C_out); any of them may be NULL. x and w as given to forward.     */
MMDNN_API void mmdnn_conv2d_backward (float *dx, float *dw, float *db,
                                      float *col, const float *dy,
                                      const float *x, const float *w,
                                      const MmdnnConv2dShape *s, int64_t n);

/* Which loops run a stride-1 Conv2d (and Conv1d) with at most 4 input
 * channels (the image encoders' first layers). Every other shape, and every shape under GEMM, runs im2col +
 * sgemm. The direct loops are picked once per process: the widest the CPU
 * runs (AVX-512F, else AVX2 + FMA, else portable; GEMM in a build under
 * AddressSanitizer), or the one the environment variable MMDNN_CONV_KERNEL
 * names (gemm, portable, avx2, avx512, auto). They agree with GEMM up to rounding (another summation
 * order, fused multiply-add on AVX2/AVX-512). */
typedef enum {
  MMDNN_CONV_KERNEL_GEMM = 0,
  MMDNN_CONV_KERNEL_PORTABLE,
  MMDNN_CONV_KERNEL_AVX2,
  MMDNN_CONV_KERNEL_AVX512,
} MmdnnConvKernel;

MMDNN_API MmdnnConvKernel mmdnn_conv_kernel_get (void);
/* Fails on a kernel this CPU cannot run; set it before any convolution
 * runs on another thread. */
MMDNN_API gboolean        mmdnn_conv_kernel_set (MmdnnConvKernel k,
                                                 GError **error);
MMDNN_API gboolean        mmdnn_conv_kernel_supported (MmdnnConvKernel k);
/* "gemm", "portable", "avx2", "avx512", or NULL for an unknown value */
MMDNN_API const char     *mmdnn_conv_kernel_name (MmdnnConvKernel k);
/* Whether the forward pass, dw and db of @s run the direct loops under the
 * selected kernel (else im2col + sgemm). dx runs them too from 3 input
 * channels on. */
MMDNN_API gboolean        mmdnn_conv2d_is_direct (const MmdnnConv2dShape *s);
/* Whether the forward pass of @s runs the direct loops: the shapes above,
 * and with the AVX2 or AVX-512 kernels also stride-1 shapes of more than 8
 * input channels (their wide register blocks; so does dx with more than 8
 * output channels too; dw stays on GEMM). */
MMDNN_API gboolean        mmdnn_conv2d_forward_is_direct (const MmdnnConv2dShape *s);

/* ConvTranspose2d geometry (PyTorch):
 *   h_out = (h_in − 1)·stride_h − 2 pad_h + kh + out_pad_h, likewise w_out;
 *   col_size = c_out·kh·kw · h_in·w_in.
 * Also requires 0 ≤ out_pad < stride; @s is only written on success. */
typedef struct {
  int64_t c_in, h_in, w_in, c_out, kh, kw, stride_h, stride_w, pad_h, pad_w;
  int64_t out_pad_h, out_pad_w, h_out, w_out, col_size;
} MmdnnConvT2dShape;

MMDNN_API gboolean mmdnn_conv_transpose2d_shape_init (MmdnnConvT2dShape *s,
                                                      int64_t c_in,
                                                      int64_t h_in,
                                                      int64_t w_in,
                                                      int64_t c_out,
                                                      int64_t kh, int64_t kw,
                                                      int64_t stride_h,
                                                      int64_t stride_w,
                                                      int64_t pad_h,
                                                      int64_t pad_w,
                                                      int64_t out_pad_h,
                                                      int64_t out_pad_w,
                                                      GError **error);

/* The adjoint of Conv2d: each input pixel scatters a kernel-sized patch.
 * x: (N, C_in, H_in, W_in)   w: (C_in, C_out, KH, KW) (PyTorch's layout)
 * b: (C_out) or NULL   → y: (N, C_out, H_out, W_out)                     */
MMDNN_API void mmdnn_conv_transpose2d_forward (float *y, float *col,
                                               const float *x, const float *w,
                                               const float *b,
                                               const MmdnnConvT2dShape *s,
                                               int64_t n);

/* dy: (N, C_out, H_out, W_out) → accumulates (+=) dx: like x, dw: like w,
 * db: (C_out); any of them may be NULL.                                  */
MMDNN_API void mmdnn_conv_transpose2d_backward (float *dx, float *dw,
                                                float *db, float *col,
                                                const float *dy,
                                                const float *x,
                                                const float *w,
                                                const MmdnnConvT2dShape *s,
                                                int64_t n);

/* Conv1d geometry: l_out = (l_in + 2 pad − k) / stride + 1;
 * col_size = c_in·k · l_out. Same checks as Conv2d. */
typedef struct {
  int64_t c_in, l_in, c_out, k, stride, pad, l_out, col_size;
} MmdnnConv1dShape;

MMDNN_API gboolean mmdnn_conv1d_shape_init (MmdnnConv1dShape *s, int64_t c_in,
                                            int64_t l_in, int64_t c_out,
                                            int64_t k, int64_t stride,
                                            int64_t pad, GError **error);

/* x: (N, C_in, L_in)   w: (C_out, C_in, K)   b: (C_out) or NULL
 * → y: (N, C_out, L_out)                                                 */
MMDNN_API void mmdnn_conv1d_forward (float *y, float *col, const float *x,
                                     const float *w, const float *b,
                                     const MmdnnConv1dShape *s, int64_t n);

/* dy: (N, C_out, L_out) → accumulates (+=) dx, dw, db; any may be NULL.  */
MMDNN_API void mmdnn_conv1d_backward (float *dx, float *dw, float *db,
                                      float *col, const float *dy,
                                      const float *x, const float *w,
                                      const MmdnnConv1dShape *s, int64_t n);

/* Modules. _init checks the shape and declares "<prefix>.weight" (weight
 * decay) and, with has_bias, "<prefix>.bias" (no decay; else bias is NULL).
 * On failure @m is untouched and (bad shape, prefix or name taken) nothing
 * is declared. The params are views (transfer none) owned by @ps, which
 * must outlive the module.
 * _reset (after mmdnn_param_set_allocate) draws weight and bias from
 * U(−1/√fan_in, 1/√fan_in) like PyTorch, with fan_in = c_in·kh·kw, except
 * for ConvTranspose2d where PyTorch takes it from weight dim 1: c_out·kh·kw. */
typedef struct {
  MmdnnParam       *weight;     /* (C_out, C_in, KH, KW) */
  MmdnnParam       *bias;       /* (C_out) or NULL       */
  MmdnnConv2dShape  shape;
} MmdnnConv2d;

MMDNN_API gboolean mmdnn_conv2d_init (MmdnnConv2d *m, MmdnnParamSet *ps,
                                      const char *prefix, int64_t c_in,
                                      int64_t h_in, int64_t w_in,
                                      int64_t c_out, int64_t kh, int64_t kw,
                                      int64_t stride_h, int64_t stride_w,
                                      int64_t pad_h, int64_t pad_w,
                                      gboolean has_bias, GError **error);
MMDNN_API void     mmdnn_conv2d_reset (MmdnnConv2d *m, MmdnnRng *rng);

typedef struct {
  MmdnnParam        *weight;    /* (C_in, C_out, KH, KW) */
  MmdnnParam        *bias;      /* (C_out) or NULL       */
  MmdnnConvT2dShape  shape;
} MmdnnConvTranspose2d;

MMDNN_API gboolean mmdnn_conv_transpose2d_init (MmdnnConvTranspose2d *m,
                                                MmdnnParamSet *ps,
                                                const char *prefix,
                                                int64_t c_in, int64_t h_in,
                                                int64_t w_in, int64_t c_out,
                                                int64_t kh, int64_t kw,
                                                int64_t stride_h,
                                                int64_t stride_w,
                                                int64_t pad_h, int64_t pad_w,
                                                int64_t out_pad_h,
                                                int64_t out_pad_w,
                                                gboolean has_bias,
                                                GError **error);
MMDNN_API void     mmdnn_conv_transpose2d_reset (MmdnnConvTranspose2d *m,
                                                 MmdnnRng *rng);

typedef struct {
  MmdnnParam       *weight;     /* (C_out, C_in, K) */
  MmdnnParam       *bias;       /* (C_out) or NULL  */
  MmdnnConv1dShape  shape;
} MmdnnConv1d;

MMDNN_API gboolean mmdnn_conv1d_init (MmdnnConv1d *m, MmdnnParamSet *ps,
                                      const char *prefix, int64_t c_in,
                                      int64_t l_in, int64_t c_out, int64_t k,
                                      int64_t stride, int64_t pad,
                                      gboolean has_bias, GError **error);
MMDNN_API void     mmdnn_conv1d_reset (MmdnnConv1d *m, MmdnnRng *rng);

G_END_DECLS
