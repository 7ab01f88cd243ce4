/* Tests of the batched cosine-similarity matrix.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/similarity.h>
#include "gradcheck.h"

#define N 3
#define KM 3
#define KN 5
#define D 7
#define NX (N * KM * D)
#define NY (N * KN * D)
#define NS (N * KM * KN)

typedef struct {
  float *s, *xnorm, *ynorm, *x, *y;
  float eps;
} CosCtx;

static void
cos_forward (void *p)
{
  CosCtx *c = p;
  mmdnn_cosine_matrix_forward (c->s, c->xnorm, c->ynorm, c->x, c->y, c->eps,
                               N, KM, KN, D);
}

static double
naive_norm (const float *v, double eps)
{
  double ss = 0.0;
  for (int k = 0; k < D; k++)
    ss += (double) v[k] * v[k];
  return MAX (sqrt (ss), eps);
}

/* F.normalize each row, then every dot product, in double */
static void
naive_cosine (float *s, float *xnorm, float *ynorm, const float *x,
              const float *y, double eps)
{
  for (int b = 0; b < N; b++)
    for (int i = 0; i < KM; i++) {
      const float *xi = x + (b * KM + i) * D;
      double a = naive_norm (xi, eps);
      xnorm[b * KM + i] = (float) a;
      for (int j = 0; j < KN; j++) {
        const float *yj = y + (b * KN + j) * D;
        double bn = naive_norm (yj, eps), acc = 0.0;
        ynorm[b * KN + j] = (float) bn;
        for (int k = 0; k < D; k++)
          acc += (xi[k] / a) * (yj[k] / bn);
        s[(b * KM + i) * KN + j] = (float) acc;
      }
    }
}


static void
ctx_new (CosCtx *c, guint64 seed, float eps)
{
  MmdnnRng rng;

  mmdnn_rng_init (&rng, seed);
  c->x = gc_random (&rng, NX, -1, 1);
  c->y = gc_random (&rng, NY, -1, 1);
  c->s = gc_random (&rng, NS, -9, 9);   /* garbage: forward overwrites */
  c->xnorm = gc_zeros (N * KM);
  c->ynorm = gc_zeros (N * KN);
  c->eps = eps;
}

static void
ctx_free (CosCtx *c)
{
  g_free (c->x); g_free (c->y); g_free (c->s);
  g_free (c->xnorm); g_free (c->ynorm);
}

static void
check_forward (CosCtx *c, double tol)
{
  float want[NS], wx[N * KM], wy[N * KN];

  cos_forward (c);
  naive_cosine (want, wx, wy, c->x, c->y, c->eps);
  g_assert_true (check_close ("cosine s", c->s, want, NS, tol));
  g_assert_true (check_close ("cosine xnorm", c->xnorm, wx, N * KM, 1e-6));
  g_assert_true (check_close ("cosine ynorm", c->ynorm, wy, N * KN, 1e-6));
}

static void
test_forward (void)
{
  CosCtx c;

  ctx_new (&c, 1, 1e-8f);
  /* y's first row of batch item 1 is x's second row scaled: cos = 1 */
  for (int k = 0; k < D; k++)
    c.y[(1 * KN + 0) * D + k] = 3.0f * c.x[(1 * KM + 1) * D + k];
  check_forward (&c, 1e-6);
  g_assert_cmpfloat_with_epsilon (c.s[(1 * KM + 1) * KN + 0], 1.0, 1e-6);
  for (int i = 0; i < NS; i++)
    g_assert_cmpfloat (fabs (c.s[i]), <=, 1.0 + 1e-6);
  ctx_free (&c);
}

static void
run_gradcheck (CosCtx *c, guint64 seed)
{
  MmdnnRng rng;
  float *r, *dx, *dy;
  GradcheckInput inputs[2];

  mmdnn_rng_init (&rng, seed);
  r = gc_random (&rng, NS, -1, 1);
  dx = gc_zeros (NX);
  dy = gc_zeros (NY);
  cos_forward (c);
  mmdnn_cosine_matrix_backward (dx, dy, r, c->x, c->y, c->xnorm, c->ynorm,
                                c->eps, N, KM, KN, D);
  inputs[0] = (GradcheckInput) { "x", c->x, dx, NX };
  inputs[1] = (GradcheckInput) { "y", c->y, dy, NY };
  g_assert_true (gradcheck ("cosine", cos_forward, c, c->s, NS, r, inputs, 2,
                            1e-2, 2e-3, 1e-2));
  g_free (r); g_free (dx); g_free (dy);
}

static void
test_gradcheck (void)
{
  CosCtx c;

  ctx_new (&c, 2, 1e-8f);
  run_gradcheck (&c, 3);
  ctx_free (&c);
}

static void
test_accumulate (void)
{
  MmdnnRng rng;
  CosCtx c;
  float *ds, *dx1, *dy1, *dx2, *dy2, *dy3;

  ctx_new (&c, 4, 1e-8f);
  mmdnn_rng_init (&rng, 5);
  ds = gc_random (&rng, NS, -1, 1);
  dx1 = gc_zeros (NX); dy1 = gc_zeros (NY);
  dx2 = gc_zeros (NX); dy2 = gc_zeros (NY);
  dy3 = gc_zeros (NY);
  cos_forward (&c);
  mmdnn_cosine_matrix_backward (dx1, dy1, ds, c.x, c.y, c.xnorm, c.ynorm,
                                c.eps, N, KM, KN, D);
  mmdnn_cosine_matrix_backward (dx2, dy2, ds, c.x, c.y, c.xnorm, c.ynorm,
                                c.eps, N, KM, KN, D);
  mmdnn_cosine_matrix_backward (dx2, dy2, ds, c.x, c.y, c.xnorm, c.ynorm,
                                c.eps, N, KM, KN, D);
  g_assert_true (check_doubled ("dx", dx1, dx2, NX));
  g_assert_true (check_doubled ("dy", dy1, dy2, NY));
  mmdnn_cosine_matrix_backward (NULL, dy3, ds, c.x, c.y, c.xnorm, c.ynorm,
                                c.eps, N, KM, KN, D);
  g_assert_true (check_close ("dy alone", dy3, dy1, NY, 0.0));
  g_free (ds); g_free (dx1); g_free (dy1); g_free (dx2); g_free (dy2);
  g_free (dy3);
  ctx_free (&c);
}

/* A zero row and a near-zero row are divided by eps, not by their norm:
 * finite similarities (0 for the zero row) and finite gradients. */
static void
test_eps_forward (void)
{
  CosCtx c;
  float ds[NS], dx[NX] = { 0 }, dy[NY] = { 0 };

  ctx_new (&c, 6, 1e-8f);
  for (int k = 0; k < D; k++) {
    c.x[(0 * KM + 1) * D + k] = 0.0f;
    c.x[(2 * KM + 0) * D + k] *= 1e-10f;
    c.y[(1 * KN + 3) * D + k] = 0.0f;
  }
  check_forward (&c, 1e-5);
  g_assert_cmpfloat (c.xnorm[0 * KM + 1], ==, 1e-8f);
  g_assert_cmpfloat (c.xnorm[2 * KM + 0], ==, 1e-8f);
  for (int j = 0; j < KN; j++)
    g_assert_cmpfloat (c.s[(0 * KM + 1) * KN + j], ==, 0.0f);
  for (int i = 0; i < NS; i++) {
    g_assert_true (isfinite (c.s[i]));
    ds[i] = 1.0f;
  }
  mmdnn_cosine_matrix_backward (dx, dy, ds, c.x, c.y, c.xnorm, c.ynorm, c.eps,
                                N, KM, KN, D);
  for (int i = 0; i < NX; i++)
    g_assert_true (isfinite (dx[i]));
  for (int i = 0; i < NY; i++)
    g_assert_true (isfinite (dy[i]));
  ctx_free (&c);
}

/* The clamped branch's gradient, checked numerically: with eps = 0.5 a row
 * of norm ~0.15 stays clamped under the ±0.01 finite-difference steps. */
static void
test_eps_gradcheck (void)
{
  CosCtx c;

  ctx_new (&c, 7, 0.5f);
  for (int k = 0; k < D; k++) {
    c.x[(1 * KM + 2) * D + k] *= 0.1f;
    c.y[(2 * KN + 4) * D + k] *= 0.1f;
  }
  check_forward (&c, 1e-6);
  g_assert_cmpfloat (c.xnorm[1 * KM + 2], ==, 0.5f);
  g_assert_cmpfloat (c.ynorm[2 * KN + 4], ==, 0.5f);
  run_gradcheck (&c, 8);
  ctx_free (&c);
}

/* ---- negative tests ---- */

static void
expect_check_fails (float eps, int64_t n, int64_t km, int64_t kn, int64_t d)
{
  GError *err = NULL;

  g_assert_false (mmdnn_cosine_matrix_check (eps, n, km, kn, d, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_check_ok (void)
{
  GError *err = NULL;

  g_assert_true (mmdnn_cosine_matrix_check (1e-8f, N, KM, KN, D, &err));
  g_assert_no_error (err);
  g_assert_true (mmdnn_cosine_matrix_check (1e-8f, 1, 1, 1, 1, &err));
  g_assert_no_error (err);
}

static void
test_eps_zero_n (void)
{
  expect_check_fails (0.0f, N, KM, KN, D);
}

static void
test_eps_negative_n (void)
{
  expect_check_fails (-1e-8f, N, KM, KN, D);
}

static void
test_eps_nan_n (void)
{
  expect_check_fails (NAN, N, KM, KN, D);
}

static void
test_eps_inf_n (void)
{
  expect_check_fails (INFINITY, N, KM, KN, D);
}

static void
test_n_zero_n (void)
{
  expect_check_fails (1e-8f, 0, KM, KN, D);
}

static void
test_km_zero_n (void)
{
  expect_check_fails (1e-8f, N, 0, KN, D);
}

static void
test_kn_negative_n (void)
{
  expect_check_fails (1e-8f, N, KM, -5, D);
}

static void
test_d_zero_n (void)
{
  expect_check_fails (1e-8f, N, KM, KN, 0);
}

static void
test_d_too_big_n (void)
{
  expect_check_fails (1e-8f, 1, 1, 1, (int64_t) G_MAXINT32 + 1);
}

static void
test_too_many_elements_n (void)
{
  /* every size fine, s would hold 2⁴² floats */
  expect_check_fails (1e-8f, INT64_C (1) << 20, 1 << 11, 1 << 11, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/similarity/forward", test_forward);
  g_test_add_func ("/similarity/gradcheck", test_gradcheck);
  g_test_add_func ("/similarity/accumulate", test_accumulate);
  g_test_add_func ("/similarity/eps-forward", test_eps_forward);
  g_test_add_func ("/similarity/eps-gradcheck", test_eps_gradcheck);
  g_test_add_func ("/similarity/check", test_check_ok);

  g_test_add_func ("/similarity/check-eps-zero_n", test_eps_zero_n);
  g_test_add_func ("/similarity/check-eps-negative_n", test_eps_negative_n);
  g_test_add_func ("/similarity/check-eps-nan_n", test_eps_nan_n);
  g_test_add_func ("/similarity/check-eps-inf_n", test_eps_inf_n);
  g_test_add_func ("/similarity/check-n-zero_n", test_n_zero_n);
  g_test_add_func ("/similarity/check-km-zero_n", test_km_zero_n);
  g_test_add_func ("/similarity/check-kn-negative_n", test_kn_negative_n);
  g_test_add_func ("/similarity/check-d-zero_n", test_d_zero_n);
  g_test_add_func ("/similarity/check-d-too-big_n", test_d_too_big_n);
  g_test_add_func ("/similarity/check-too-many-elements_n",
                   test_too_many_elements_n);

  return g_test_run ();
}
