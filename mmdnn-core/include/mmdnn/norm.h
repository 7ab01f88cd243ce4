/* mmdnn — layer normalisation.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>
#include <mmdnn/tensor.h>

G_BEGIN_DECLS

/* y = (x − mean) · rstd · w + b over the last dimension C, with
 * rstd = 1/√(var + eps) and the biased variance (divided by C), as PyTorch.
 *   x: (N, C)   w, b: (C), either may be NULL (no scale / no shift)
 *   → y: (N, C); mean, rstd: (N) saved for backward. */
MMDNN_API void mmdnn_layernorm_forward (float *y, float *mean, float *rstd,
                                        const float *x, const float *w,
                                        const float *b, float eps, int64_t n,
                                        int64_t c);

/* Accumulates (+=) into dx: (N, C), dw, db: (C); any may be NULL.
 *   dy, x: (N, C)   w: (C) or NULL as given to forward   mean, rstd: (N)
 * With x̂ = (x − mean)·rstd and g = dy·w:
 *   dx = rstd · (g − mean_C(g) − x̂ · mean_C(g ⊙ x̂)),  dw = Σ_N dy ⊙ x̂,  db = Σ_N dy */
MMDNN_API void mmdnn_layernorm_backward (float *dx, float *dw, float *db,
                                         const float *dy, const float *x,
                                         const float *w, const float *mean,
                                         const float *rstd, int64_t n,
                                         int64_t c);

typedef struct {
  MmdnnParam *weight;           /* (C), no decay */
  MmdnnParam *bias;             /* (C), no decay */
  int64_t     c;
  float       eps;
} MmdnnLayerNorm;

/* Declares "<prefix>.weight" and "<prefix>.bias" (C) in @ps (transfer none).
 * c ≥ 1, eps > 0 and finite, @prefix non-empty and unused. On failure
 * nothing is declared and @m is untouched. */
MMDNN_API gboolean mmdnn_layernorm_init (MmdnnLayerNorm *m, MmdnnParamSet *ps,
                                         const char *prefix, int64_t c,
                                         float eps, GError **error);

/* PyTorch's init, after mmdnn_param_set_allocate (): weight = 1, bias = 0. */
MMDNN_API void mmdnn_layernorm_reset (MmdnnLayerNorm *m);

G_END_DECLS
