/* mmdnn — direct stride-1 convolution for few input channels, private.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <mmdnn/conv.h>

/* Widest vector any kernel uses, in floats: padded rows are laid out for it
 * whatever the ISA, so a shape needs the same scratch on every machine. */
#define MMDNN_DIRECT_LANES 16

/* From this many input channels on (exclusive), the forward pass runs the
 * wide register blocks where the ISA has them (AVX2, AVX-512), else GEMM;
 * so does dx from this many output channels on (the forward loop over dy
 * with the kernel transposed and turned). */
#define MMDNN_DIRECT_WIDE_C_IN 8

typedef struct {
  /* y (cout, oh, ow) += w (cout, cin, kh, kw) ⋆ xp (cin, xph, xpw) */
  void (*corr) (float *y, const float *xp, const float *w, int64_t cin,
                int64_t cout, int64_t oh, int64_t ow, int64_t kh, int64_t kw,
                int64_t xph, int64_t xpw);
  /* dw[co0 … co0 + cb) += dyp (cb, oh, dyp_w) ⋆ xp, columns past ow zero */
  void (*dw) (float *dw, const float *dyp, const float *xp, int64_t cin,
              int64_t oh, int64_t ow, int64_t dyp_w, int64_t kh, int64_t kw,
              int64_t xph, int64_t xpw, int64_t co0, int cb);
  int lanes;
  int wide;                     /* output channels per wide block, 0: none */
} MmdnnDirectKernels;

/* The kernels of the selected ISA, or NULL when im2col + GEMM is selected. */
const MmdnnDirectKernels *mmdnn_conv_direct_kernels (void);

/* Whether the direct path takes this shape for the forward pass, dw, dx:
 * stride 1, padding below the kernel size, scratch that fits in col_size,
 * and at most MMDNN_DIRECT_MAX_C_IN input channels (dx: at least 3), or
 * with kernels that have wide blocks more than MMDNN_DIRECT_WIDE_C_IN
 * input channels (forward; dx with that many output channels too). */
gboolean mmdnn_conv_direct_forward_ok (const MmdnnDirectKernels *k,
                                       const MmdnnConv2dShape *s);
gboolean mmdnn_conv_direct_dw_ok (const MmdnnConv2dShape *s);
gboolean mmdnn_conv_direct_dx_ok (const MmdnnDirectKernels *k,
                                  const MmdnnConv2dShape *s);

void mmdnn_conv_direct_forward (const MmdnnDirectKernels *k, float *y,
                                float *col, const float *x, const float *w,
                                const float *b, const MmdnnConv2dShape *s,
                                int64_t n);
void mmdnn_conv_direct_dw (const MmdnnDirectKernels *k, float *dw, float *col,
                           const float *dy, const float *x,
                           const MmdnnConv2dShape *s, int64_t n);
void mmdnn_conv_direct_dx (const MmdnnDirectKernels *k, float *dx, float *col,
                           const float *dy, const float *w,
                           const MmdnnConv2dShape *s, int64_t n);
