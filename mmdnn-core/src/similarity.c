/* mmdnn — batched cosine-similarity matrix.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>

#include <mmdnn/blas.h>
#include <mmdnn/similarity.h>
#include <mmdnn/tensor.h>
#include "internal.h"

/* norm[r] = max(‖rows[r]‖, eps), the norm summed in double */
static void
row_norms (float *norm, const float *rows, float eps, int64_t count,
           int64_t d)
{
  for (int64_t r = 0; r < count; r++) {
    const float *v = rows + r * d;
    double ss = 0.0;
    float nr;

    for (int64_t j = 0; j < d; j++)
      ss += (double) v[j] * (double) v[j];
    nr = (float) sqrt (ss);
    norm[r] = nr > eps ? nr : eps;
  }
}

static double
dot (const float *a, const float *b, int64_t d)
{
  double acc = 0.0;
  for (int64_t j = 0; j < d; j++)
    acc += (double) a[j] * (double) b[j];
  return acc;
}

/* s_b = diag(1/xnorm_b) · x_b · y_bᵀ · diag(1/ynorm_b)   per batch item b
 *   x: (N, KM, D)   y: (N, KN, D)   → s: (N, KM, KN), xnorm: (N, KM), ynorm: (N, KN)
 * One GEMM per batch item for the raw dot products, then the scaling:
 * the same as normalising the rows first, without a normalised copy. */
void
mmdnn_cosine_matrix_forward (float *s, float *xnorm, float *ynorm,
                             const float *x, const float *y, float eps,
                             int64_t n, int64_t km, int64_t kn, int64_t d)
{
  if (n <= 0 || km <= 0 || kn <= 0 || d <= 0)
    return;
  row_norms (xnorm, x, eps, n * km, d);
  row_norms (ynorm, y, eps, n * kn, d);
  for (int64_t b = 0; b < n; b++) {
    float *sb = s + b * km * kn;
    const float *xn = xnorm + b * km, *yn = ynorm + b * kn;

    mmdnn_gemm (MMDNN_NO_TRANS, MMDNN_TRANS, km, kn, d, 1.0f, x + b * km * d,
                d, y + b * kn * d, d, 0.0f, sb, kn);
    for (int64_t i = 0; i < km; i++)
      for (int64_t j = 0; j < kn; j++)
        sb[i * kn + j] /= xn[i] * yn[j];
  }
}

/* One side of the backward, for rows u (count CU) against rows v (CV):
 *   du_i += Σ_j c_ij v_j − [‖u_i‖ > eps] u_i · (Σ_j c_ij p_ij) / a_i²
 * with c_ij = ds_ij / (a_i b_j), p_ij = u_i·v_j, a = unorm, b = vnorm, and ds
 * read at ds[i·si + j·sj] so the same code serves dx (ds) and dy (dsᵀ).
 * Each element's whole contribution is summed first and added once, so a
 * second call adds exactly the same amount (the += contract). */
static void
cosine_side_backward (float *du, const float *ds, int64_t si, int64_t sj,
                      const float *u, const float *v, const float *unorm,
                      const float *vnorm, float eps, int64_t cu, int64_t cv,
                      int64_t d)
{
  for (int64_t i = 0; i < cu; i++) {
    const float *ui = u + i * d;
    float *dui = du + i * d;
    double proj = 0.0, f = 0.0;

    /* the unit-sphere projection; a row clamped to eps was divided by a
     * constant and has none */
    if (unorm[i] > eps) {
      for (int64_t j = 0; j < cv; j++) {
        float c = ds[i * si + j * sj] / (unorm[i] * vnorm[j]);
        proj += (double) c * dot (ui, v + j * d, d);
      }
      f = proj / ((double) unorm[i] * (double) unorm[i]);
    }
    for (int64_t k = 0; k < d; k++) {
      double acc = -f * ui[k];
      for (int64_t j = 0; j < cv; j++) {
        float c = ds[i * si + j * sj] / (unorm[i] * vnorm[j]);
        acc += (double) c * v[j * d + k];
      }
      dui[k] += (float) acc;
    }
  }
}

/* With a_i = xnorm_i, b_j = ynorm_j, c_ij = ds_ij / (a_i b_j), p_ij = x_i·y_j:
 *   dx_i += Σ_j c_ij y_j − [‖x_i‖ > eps] x_i · (Σ_j c_ij p_ij) / a_i²
 *   dy_j += Σ_i c_ij x_i − [‖y_j‖ > eps] y_j · (Σ_i c_ij p_ij) / b_j²
 * No scratch is passed in, so p_ij is recomputed (O(KM·KN·D), like forward).
 *   ds: (N, KM, KN)   x, dx: (N, KM, D)   y, dy: (N, KN, D) */
void
mmdnn_cosine_matrix_backward (float *dx, float *dy, const float *ds,
                              const float *x, const float *y,
                              const float *xnorm, const float *ynorm,
                              float eps, int64_t n, int64_t km, int64_t kn,
                              int64_t d)
{
  for (int64_t b = 0; b < n; b++) {
    const float *xb = x + b * km * d, *yb = y + b * kn * d;
    const float *dsb = ds + b * km * kn;
    const float *xn = xnorm + b * km, *yn = ynorm + b * kn;

    if (dx != NULL)
      cosine_side_backward (dx + b * km * d, dsb, kn, 1, xb, yb, xn, yn, eps,
                            km, kn, d);
    if (dy != NULL)
      cosine_side_backward (dy + b * kn * d, dsb, 1, kn, yb, xb, yn, xn, eps,
                            kn, km, d);
  }
}

gboolean
mmdnn_cosine_matrix_check (float eps, int64_t n, int64_t km, int64_t kn,
                           int64_t d, GError **error)
{
  MMDNN_CHECK (eps > 0.0f && isfinite (eps), error, FALSE,
               "cosine matrix: eps=%g must be finite and > 0", (double) eps);
  MMDNN_CHECK (n >= 1, error, FALSE,
               "cosine matrix: n=%" G_GINT64_FORMAT " must be ≥ 1", n);
  MMDNN_CHECK (km >= 1 && km <= G_MAXINT32, error, FALSE,
               "cosine matrix: km=%" G_GINT64_FORMAT " must be in [1, %d]",
               km, G_MAXINT32);
  MMDNN_CHECK (kn >= 1 && kn <= G_MAXINT32, error, FALSE,
               "cosine matrix: kn=%" G_GINT64_FORMAT " must be in [1, %d]",
               kn, G_MAXINT32);
  MMDNN_CHECK (d >= 1 && d <= G_MAXINT32, error, FALSE,
               "cosine matrix: d=%" G_GINT64_FORMAT " must be in [1, %d]",
               d, G_MAXINT32);
  /* every tensor of the pair, s and both inputs, stays within one tensor's limit */
  MMDNN_CHECK (km <= MMDNN_MAX_NUMEL / kn && n <= MMDNN_MAX_NUMEL / (km * kn)
               && n <= MMDNN_MAX_NUMEL / km / d
               && n <= MMDNN_MAX_NUMEL / kn / d, error, FALSE,
               "cosine matrix: a tensor of n=%" G_GINT64_FORMAT " km=%"
               G_GINT64_FORMAT " kn=%" G_GINT64_FORMAT " d=%" G_GINT64_FORMAT
               " would exceed %" G_GINT64_FORMAT " elements", n, km, kn, d,
               MMDNN_MAX_NUMEL);
  return TRUE;
}
