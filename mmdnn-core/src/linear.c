/* mmdnn — fully connected layer.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/blas.h>
#include <mmdnn/linear.h>
#include "internal.h"

/* y = x · wᵀ + b
 *   x: (N, IN)   w: (OUT, IN)   b: (OUT) or NULL   →   y: (N, OUT)
 * The bias is broadcast into y first so the GEMM adds onto it (beta = 1). */
void
mmdnn_linear_forward (float *y, const float *x, const float *w, const float *b,
                      int64_t n, int64_t in, int64_t out)
{
  if (n <= 0 || out <= 0)
    return;
  if (b != NULL)
    for (int64_t i = 0; i < n; i++)
      memcpy (y + i * out, b, sizeof (float) * out);
  mmdnn_gemm (MMDNN_NO_TRANS, MMDNN_TRANS, n, out, in, 1.0f, x, in, w, in,
              b != NULL ? 1.0f : 0.0f, y, out);
}

/* dx += dy · w      (N, OUT) · (OUT, IN) → (N, IN)
 * dw += dyᵀ · x     (OUT, N) · (N, IN)   → (OUT, IN)
 * db += Σ_N dy      (OUT), summed in double: N is the whole batch */
void
mmdnn_linear_backward (float *dx, float *dw, float *db, const float *dy,
                       const float *x, const float *w, int64_t n, int64_t in,
                       int64_t out)
{
  if (n <= 0 || out <= 0 || in <= 0)
    return;
  if (dx != NULL)
    mmdnn_gemm (MMDNN_NO_TRANS, MMDNN_NO_TRANS, n, in, out, 1.0f, dy, out, w,
                in, 1.0f, dx, in);
  if (dw != NULL)
    mmdnn_gemm (MMDNN_TRANS, MMDNN_NO_TRANS, out, in, n, 1.0f, dy, out, x, in,
                1.0f, dw, in);
  if (db != NULL) {
    for (int64_t o = 0; o < out; o++) {
      double acc = 0.0;
      for (int64_t i = 0; i < n; i++)
        acc += dy[i * out + o];
      db[o] += (float) acc;
    }
  }
}

gboolean
mmdnn_linear_init (MmdnnLinear *l, MmdnnParamSet *ps, const char *prefix,
                   int64_t in, int64_t out, gboolean has_bias, GError **error)
{
  MmdnnParam *weight, *bias = NULL;

  MMDNN_CHECK_NOT_NULL (l, error, FALSE);
  MMDNN_CHECK (in >= 1 && in <= G_MAXINT32, error, FALSE,
               "linear '%s': in=%" G_GINT64_FORMAT " must be in [1, %d]",
               prefix, in, G_MAXINT32);
  MMDNN_CHECK (out >= 1 && out <= G_MAXINT32, error, FALSE,
               "linear '%s': out=%" G_GINT64_FORMAT " must be in [1, %d]",
               prefix, out, G_MAXINT32);
  if (!mmdnn_param_set_declare_layer (ps, "linear", prefix, 2,
                                      (int64_t[]) { out, in }, TRUE,
                                      has_bias ? out : 0, &weight, &bias,
                                      error))
    return FALSE;
  l->weight = weight;
  l->bias = bias;
  l->in = in;
  l->out = out;
  return TRUE;
}

void
mmdnn_linear_reset (MmdnnLinear *l, MmdnnRng *rng)
{
  float bound = (float) (1.0 / sqrt ((double) l->in));

  mmdnn_rng_fill_uniform (rng, l->weight->value, l->weight->numel, -bound,
                          bound);
  if (l->bias != NULL)
    mmdnn_rng_fill_uniform (rng, l->bias->value, l->bias->numel, -bound,
                            bound);
}
