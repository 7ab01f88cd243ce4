/* mmdnn — layer normalisation.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>

#include <mmdnn/norm.h>
#include "internal.h"

/* y = (x − mean)·rstd·w + b per row, rstd = 1/√(var + eps), var biased
 *   x, y: (N, C)   w, b: (C) or NULL   mean, rstd: (N)
 * Mean and variance in double and in two passes: C can be large and the
 * one-pass E[x²] − E[x]² cancels badly for rows with a large offset. */
void
mmdnn_layernorm_forward (float *y, float *mean, float *rstd, const float *x,
                         const float *w, const float *b, float eps, int64_t n,
                         int64_t c)
{
  for (int64_t i = 0; i < n; i++) {
    const float *xr = x + i * c;
    float *yr = y + i * c;
    double m = 0.0, var = 0.0;
    float fm, fr;

    for (int64_t j = 0; j < c; j++)
      m += xr[j];
    m /= (double) c;
    for (int64_t j = 0; j < c; j++) {
      double dv = (double) xr[j] - m;
      var += dv * dv;
    }
    var /= (double) c;
    fm = (float) m;
    fr = (float) (1.0 / sqrt (var + (double) eps));
    for (int64_t j = 0; j < c; j++) {
      float v = (xr[j] - fm) * fr;
      if (w != NULL)
        v *= w[j];
      if (b != NULL)
        v += b[j];
      yr[j] = v;
    }
    mean[i] = fm;
    rstd[i] = fr;
  }
}

/* With x̂ = (x − mean)·rstd and g = dy ⊙ w (g = dy without w):
 *   dx += rstd · (g − mean_C(g) − x̂ · mean_C(g ⊙ x̂))
 *   dw += Σ_N dy ⊙ x̂        db += Σ_N dy
 * x̂ is recomputed from the saved mean/rstd rather than stored: one (N, C)
 * buffer less for a few flops. */
void
mmdnn_layernorm_backward (float *dx, float *dw, float *db, const float *dy,
                          const float *x, const float *w, const float *mean,
                          const float *rstd, int64_t n, int64_t c)
{
  /* dw, db: sums over the whole batch, so in double, column by column, and
   * added once (a second call then adds exactly the same amount) */
  if (dw != NULL || db != NULL) {
    for (int64_t j = 0; j < c; j++) {
      double sw = 0.0, sb = 0.0;
      for (int64_t i = 0; i < n; i++) {
        float g = dy[i * c + j];
        sw += (double) g * (double) ((x[i * c + j] - mean[i]) * rstd[i]);
        sb += g;
      }
      if (dw != NULL)
        dw[j] += (float) sw;
      if (db != NULL)
        db[j] += (float) sb;
    }
  }
  if (dx == NULL)
    return;
  for (int64_t i = 0; i < n; i++) {
    const float *xr = x + i * c, *dyr = dy + i * c;
    float *dxr = dx + i * c;
    float m = mean[i], r = rstd[i];
    double sum_g = 0.0, sum_gx = 0.0;
    float mean_g, mean_gx;

    for (int64_t j = 0; j < c; j++) {
      float xhat = (xr[j] - m) * r;
      float g = w != NULL ? dyr[j] * w[j] : dyr[j];
      sum_g += g;
      sum_gx += (double) g * (double) xhat;
    }
    mean_g = (float) (sum_g / (double) c);
    mean_gx = (float) (sum_gx / (double) c);
    for (int64_t j = 0; j < c; j++) {
      float xhat = (xr[j] - m) * r;
      float g = w != NULL ? dyr[j] * w[j] : dyr[j];
      dxr[j] += r * (g - mean_g - xhat * mean_gx);
    }
  }
}

gboolean
mmdnn_layernorm_init (MmdnnLayerNorm *m, MmdnnParamSet *ps, const char *prefix,
                      int64_t c, float eps, GError **error)
{
  MmdnnParam *weight, *bias;

  MMDNN_CHECK_NOT_NULL (m, error, FALSE);
  MMDNN_CHECK (c >= 1, error, FALSE,
               "layernorm '%s': c=%" G_GINT64_FORMAT " must be ≥ 1", prefix, c);
  /* eps > 0 keeps rstd finite for a constant row; NaN fails this too */
  MMDNN_CHECK (eps > 0.0f && isfinite (eps), error, FALSE,
               "layernorm '%s': eps=%g must be finite and > 0", prefix,
               (double) eps);
  /* the gain is a scale, not a weight to shrink: no decay */
  if (!mmdnn_param_set_declare_layer (ps, "layernorm", prefix, 1,
                                      (int64_t[]) { c }, FALSE, c, &weight,
                                      &bias, error))
    return FALSE;
  m->weight = weight;
  m->bias = bias;
  m->c = c;
  m->eps = eps;
  return TRUE;
}

void
mmdnn_layernorm_reset (MmdnnLayerNorm *m)
{
  for (int64_t j = 0; j < m->c; j++) {
    m->weight->value[j] = 1.0f;
    m->bias->value[j] = 0.0f;
  }
}
