/* mmdnn — fully connected layer.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>
#include <mmdnn/rng.h>
#include <mmdnn/tensor.h>

G_BEGIN_DECLS

/* y = x · wᵀ + b, one GEMM (PyTorch nn.Linear layout, so weights load as-is).
 *   x: (N, IN)   w: (OUT, IN)   b: (OUT) or NULL   →   y: (N, OUT)
 * y is overwritten. */
MMDNN_API void mmdnn_linear_forward (float *y, const float *x, const float *w,
                                     const float *b, int64_t n, int64_t in,
                                     int64_t out);

/* Accumulates (+=) dx = dy · w, dw = dyᵀ · x (one GEMM each) and db = the
 * column sums of dy. Any of dx, dw, db may be NULL (skipped).
 *   dy: (N, OUT)   x: (N, IN)   w: (OUT, IN)
 *   dx: (N, IN)    dw: (OUT, IN)   db: (OUT) */
MMDNN_API void mmdnn_linear_backward (float *dx, float *dw, float *db,
                                      const float *dy, const float *x,
                                      const float *w, int64_t n, int64_t in,
                                      int64_t out);

/* The module: views into a parameter set. bias is NULL without a bias. */
typedef struct {
  MmdnnParam *weight;           /* (OUT, IN), weight decay */
  MmdnnParam *bias;             /* (OUT) or NULL, no decay */
  int64_t     in, out;
} MmdnnLinear;

/* Declares "<prefix>.weight" and, with @has_bias, "<prefix>.bias" in @ps
 * (transfer none: @ps must outlive @l). 1 ≤ in, out ≤ G_MAXINT32 (BLAS range);
 * @prefix non-empty and not yet used. On failure nothing is declared and
 * @l is untouched. */
MMDNN_API gboolean mmdnn_linear_init (MmdnnLinear *l, MmdnnParamSet *ps,
                                      const char *prefix, int64_t in,
                                      int64_t out, gboolean has_bias,
                                      GError **error);

/* PyTorch's default init, after mmdnn_param_set_allocate (): weight and bias
 * ~ U(−1/√IN, 1/√IN) (kaiming-uniform with a = √5). */
MMDNN_API void mmdnn_linear_reset (MmdnnLinear *l, MmdnnRng *rng);

G_END_DECLS
