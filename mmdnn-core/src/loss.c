/* mmdnn — training losses: cross-entropy, MSE, BCE with logits, InfoNCE.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>

#include <mmdnn/loss.h>
#include <mmdnn/blas.h>
#include <mmdnn/tensor.h>
#include "internal.h"

/* F.normalize's default eps, which InfoNCE uses */
#define NORMALIZE_EPS 1e-8

static inline gboolean
ce_row_counts (int32_t t, int32_t ignore_index, int64_t c)
{
  return t != ignore_index && t >= 0 && t < c;
}

gboolean
mmdnn_cross_entropy_forward (float *loss, float *probs, const float *logits,
                             const int32_t *targets,
                             const float *class_weights, int32_t ignore_index,
                             int64_t n, int64_t c, GError **error)
{
  double num = 0.0, den = 0.0;

  MMDNN_CHECK_NOT_NULL (loss, error, FALSE);
  MMDNN_CHECK_NOT_NULL (probs, error, FALSE);
  MMDNN_CHECK_NOT_NULL (logits, error, FALSE);
  MMDNN_CHECK_NOT_NULL (targets, error, FALSE);
  MMDNN_CHECK (n >= 1 && c >= 1 && n <= MMDNN_MAX_NUMEL / c, error, FALSE,
               "cross_entropy: n=%" G_GINT64_FORMAT " c=%" G_GINT64_FORMAT
               " must be ≥ 1 and n·c ≤ %" G_GINT64_FORMAT, n, c,
               MMDNN_MAX_NUMEL);

  /* every target first, so a bad label leaves the outputs as they were */
  for (int64_t i = 0; i < n; i++) {
    int32_t t = targets[i];
    if (t != ignore_index && (t < 0 || t >= c)) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                   "cross_entropy: row %" G_GINT64_FORMAT " has target %"
                   G_GINT32_FORMAT ", outside [0, %" G_GINT64_FORMAT
                   ") and not ignore_index (%" G_GINT32_FORMAT ")",
                   i, t, c, ignore_index);
      return FALSE;
    }
  }

  for (int64_t i = 0; i < n; i++) {
    const float *x = logits + i * c;
    float *p = probs + i * c;
    int32_t t = targets[i];
    float mx = x[0];
    double sum = 0.0;
    float inv;

    for (int64_t j = 1; j < c; j++)
      if (x[j] > mx)
        mx = x[j];
    for (int64_t j = 0; j < c; j++) {
      p[j] = expf (x[j] - mx);
      sum += p[j];
    }
    inv = (float) (1.0 / sum);
    for (int64_t j = 0; j < c; j++)
      p[j] *= inv;

    if (ce_row_counts (t, ignore_index, c)) {
      double w = class_weights != NULL ? class_weights[t] : 1.0;
      /* −log p[t] = log Σ exp (x − max) − (x[t] − max), no log of a tiny p */
      num += w * (log (sum) - ((double) x[t] - (double) mx));
      den += w;
    }
  }
  *loss = den != 0.0 ? (float) (num / den) : 0.0f;
  return TRUE;
}

void
mmdnn_cross_entropy_backward (float *dlogits, float dloss, const float *probs,
                              const int32_t *targets,
                              const float *class_weights,
                              int32_t ignore_index, int64_t n, int64_t c)
{
  double den = 0.0, scale;

  if (dlogits == NULL)
    return;
  for (int64_t i = 0; i < n; i++)
    if (ce_row_counts (targets[i], ignore_index, c))
      den += class_weights != NULL ? class_weights[targets[i]] : 1.0;
  if (den == 0.0)
    return;                     /* forward gave the constant 0 */
  scale = (double) dloss / den;

  for (int64_t i = 0; i < n; i++) {
    const float *p = probs + i * c;
    float *dl = dlogits + i * c;
    int32_t t = targets[i];
    double g;

    if (!ce_row_counts (t, ignore_index, c))
      continue;
    g = scale * (class_weights != NULL ? class_weights[t] : 1.0);
    for (int64_t j = 0; j < c; j++)
      dl[j] += (float) (g * ((double) p[j] - (j == t ? 1.0 : 0.0)));
  }
}

float
mmdnn_mse_forward (const float *pred, const float *target, int64_t n)
{
  double acc = 0.0;

  for (int64_t i = 0; i < n; i++) {
    double e = (double) pred[i] - (double) target[i];
    acc += e * e;
  }
  return (float) (acc / (double) n);
}

void
mmdnn_mse_backward (float *dpred, float dloss, const float *pred,
                    const float *target, int64_t n)
{
  double scale = 2.0 * (double) dloss / (double) n;

  if (dpred == NULL)
    return;
  for (int64_t i = 0; i < n; i++)
    dpred[i] += (float) (scale * ((double) pred[i] - (double) target[i]));
}

float
mmdnn_bce_logits_forward (const float *logits, const float *targets,
                          int64_t n)
{
  double acc = 0.0;

  for (int64_t i = 0; i < n; i++) {
    double x = logits[i], t = targets[i];
    acc += (x > 0.0 ? x : 0.0) - x * t + log1p (exp (-fabs (x)));
  }
  return (float) (acc / (double) n);
}

static inline double
sigmoid (double x)
{
  /* exp of a non-positive number only */
  if (x >= 0.0)
    return 1.0 / (1.0 + exp (-x));
  else {
    double e = exp (x);
    return e / (1.0 + e);
  }
}

void
mmdnn_bce_logits_backward (float *dlogits, float dloss, const float *logits,
                           const float *targets, int64_t n)
{
  double scale = (double) dloss / (double) n;

  if (dlogits == NULL)
    return;
  for (int64_t i = 0; i < n; i++)
    dlogits[i] += (float) (scale * (sigmoid (logits[i]) - (double) targets[i]));
}

gboolean
mmdnn_info_nce_check (float tau, int64_t n, int64_t d, GError **error)
{
  MMDNN_CHECK (isfinite (tau) && tau > 0.0f, error, FALSE,
               "info_nce: tau=%g must be finite and > 0", (double) tau);
  MMDNN_CHECK (n >= 1 && d >= 1, error, FALSE,
               "info_nce: n=%" G_GINT64_FORMAT " d=%" G_GINT64_FORMAT
               " must be ≥ 1", n, d);
  /* n, d go to BLAS as 32-bit ints; n·d and n·n are allocated */
  MMDNN_CHECK (n <= G_MAXINT32 && d <= G_MAXINT32 &&
               n <= MMDNN_MAX_NUMEL / d && n <= MMDNN_MAX_NUMEL / n,
               error, FALSE, "info_nce: n=%" G_GINT64_FORMAT " d=%"
               G_GINT64_FORMAT " is too large", n, d);
  return TRUE;
}

int64_t
mmdnn_info_nce_workspace_size (int64_t n, int64_t d)
{
  if (!mmdnn_info_nce_check (1.0f, n, d, NULL))
    return -1;
  return 2 * n * d + 2 * n + 3 * n * n;
}

/* Workspace layout, shared by forward and backward. */
typedef struct {
  float *ah, *bh;               /* (N, D) normalised rows */
  float *an, *bn;               /* (N) ‖row‖, unclamped    */
  float *s;                     /* (N, N) logits           */
  float *p;                     /* (N, N) softmax over each row (a → b)    */
  float *q;                     /* (N, N) softmax over each column (b → a) */
} InfoNceWs;

static InfoNceWs
info_nce_ws (const float *ws, int64_t n, int64_t d)
{
  InfoNceWs w;
  float *base = (float *) ws;   /* backward only reads through it */

  w.ah = base;
  w.bh = w.ah + n * d;
  w.an = w.bh + n * d;
  w.bn = w.an + n;
  w.s = w.bn + n;
  w.p = w.s + n * n;
  w.q = w.p + n * n;
  return w;
}

static void
normalize_rows (float *xh, float *norm, const float *x, int64_t n, int64_t d)
{
  for (int64_t i = 0; i < n; i++) {
    double ss = 0.0, nr;
    float denom;

    for (int64_t k = 0; k < d; k++)
      ss += (double) x[i * d + k] * (double) x[i * d + k];
    nr = sqrt (ss);
    norm[i] = (float) nr;
    denom = (float) (nr > NORMALIZE_EPS ? nr : NORMALIZE_EPS);
    for (int64_t k = 0; k < d; k++)
      xh[i * d + k] = x[i * d + k] / denom;
  }
}

float
mmdnn_info_nce_forward (float *ws, const float *a, const float *b, float tau,
                        int64_t n, int64_t d)
{
  InfoNceWs w = info_nce_ws (ws, n, d);
  double l_ab = 0.0, l_ba = 0.0;

  normalize_rows (w.ah, w.an, a, n, d);
  normalize_rows (w.bh, w.bn, b, n, d);
  mmdnn_gemm (MMDNN_NO_TRANS, MMDNN_TRANS, n, n, d, 1.0f, w.ah, d, w.bh, d,
              0.0f, w.s, n);

  /* a → b: softmax over each row, target the diagonal */
  for (int64_t i = 0; i < n; i++) {
    float *s = w.s + i * n, *p = w.p + i * n;
    float mx;
    double sum = 0.0;

    for (int64_t j = 0; j < n; j++)
      s[j] /= tau;
    mx = s[0];
    for (int64_t j = 1; j < n; j++)
      if (s[j] > mx)
        mx = s[j];
    for (int64_t j = 0; j < n; j++) {
      p[j] = expf (s[j] - mx);
      sum += p[j];
    }
    for (int64_t j = 0; j < n; j++)
      p[j] = (float) (p[j] / sum);
    l_ab += log (sum) - ((double) s[i] - (double) mx);
  }

  /* b → a: the same on logitsᵀ, i.e. over each column */
  for (int64_t j = 0; j < n; j++) {
    float mx = w.s[j];
    double sum = 0.0;

    for (int64_t i = 1; i < n; i++)
      if (w.s[i * n + j] > mx)
        mx = w.s[i * n + j];
    for (int64_t i = 0; i < n; i++) {
      w.q[i * n + j] = expf (w.s[i * n + j] - mx);
      sum += w.q[i * n + j];
    }
    for (int64_t i = 0; i < n; i++)
      w.q[i * n + j] = (float) (w.q[i * n + j] / sum);
    l_ba += log (sum) - ((double) w.s[j * n + j] - (double) mx);
  }
  return (float) (0.5 * (l_ab + l_ba) / (double) n);
}

/* ∂loss/∂logits[i,j] (times dloss): both cross-entropies put (softmax − 1 at
 * the target) / N on the logit, each weighted ½. */
static inline double
info_nce_ds (const InfoNceWs *w, double c, int64_t i, int64_t j, int64_t n)
{
  return c * ((double) w->p[i * n + j] + (double) w->q[i * n + j]
              - (i == j ? 2.0 : 0.0));
}

void
mmdnn_info_nce_backward (float *da, float *db, float dloss, const float *ws,
                         const float *a, const float *b, float tau, int64_t n,
                         int64_t d)
{
  InfoNceWs w = info_nce_ws (ws, n, d);
  double c = 0.5 * (double) dloss / (double) n;
  double inv_tau = 1.0 / (double) tau;

  /* Through x̂ = x / max(‖x‖, eps): dx = (dx̂ − x̂ (x̂·dx̂)) / ‖x‖, or dx̂ / eps
   * where the clamp is active (PyTorch's clamp_min passes the gradient where
   * ‖x‖ ≥ eps). logits = â·b̂ᵀ/τ, so dâ_i = Σ_j ds_ij b̂_j / τ and
   * â_i·dâ_i = Σ_j ds_ij s_ij: no (N, D) scratch is needed. */
  if (da != NULL) {
    for (int64_t i = 0; i < n; i++) {
      double dot = 0.0, inv;
      gboolean clamped = w.an[i] < NORMALIZE_EPS;

      if (!clamped)
        for (int64_t j = 0; j < n; j++)
          dot += info_nce_ds (&w, c, i, j, n) * (double) w.s[i * n + j];
      inv = 1.0 / (clamped ? NORMALIZE_EPS : (double) w.an[i]);
      for (int64_t k = 0; k < d; k++) {
        double g = 0.0;
        for (int64_t j = 0; j < n; j++)
          g += info_nce_ds (&w, c, i, j, n) * (double) w.bh[j * d + k];
        g *= inv_tau;
        da[i * d + k] += (float) (inv * (g - (double) w.ah[i * d + k] * dot));
      }
    }
  }
  if (db != NULL) {
    for (int64_t j = 0; j < n; j++) {
      double dot = 0.0, inv;
      gboolean clamped = w.bn[j] < NORMALIZE_EPS;

      if (!clamped)
        for (int64_t i = 0; i < n; i++)
          dot += info_nce_ds (&w, c, i, j, n) * (double) w.s[i * n + j];
      inv = 1.0 / (clamped ? NORMALIZE_EPS : (double) w.bn[j]);
      for (int64_t k = 0; k < d; k++) {
        double g = 0.0;
        for (int64_t i = 0; i < n; i++)
          g += info_nce_ds (&w, c, i, j, n) * (double) w.ah[i * d + k];
        g *= inv_tau;
        db[j * d + k] += (float) (inv * (g - (double) w.bh[j * d + k] * dot));
      }
    }
  }
}
