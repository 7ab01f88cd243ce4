/* Tests of layer normalisation.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/norm.h>
#include "gradcheck.h"

#define N 3
#define C 7
#define EPS 1e-5f

typedef struct {
  float *y, *mean, *rstd, *x, *w, *b;
} LnCtx;

static void
ln_forward (void *p)
{
  LnCtx *c = p;
  mmdnn_layernorm_forward (c->y, c->mean, c->rstd, c->x, c->w, c->b, EPS, N,
                           C);
}

/* PyTorch's definition written out in double */
static void
naive_layernorm (float *y, float *mean, float *rstd, const float *x,
                 const float *w, const float *b, int64_t n, int64_t c)
{
  for (int64_t i = 0; i < n; i++) {
    double m = 0.0, v = 0.0, rs;
    for (int64_t j = 0; j < c; j++)
      m += x[i * c + j];
    m /= c;
    for (int64_t j = 0; j < c; j++)
      v += (x[i * c + j] - m) * (x[i * c + j] - m);
    v /= c;
    rs = 1.0 / sqrt (v + EPS);
    for (int64_t j = 0; j < c; j++)
      y[i * c + j] = (float) ((x[i * c + j] - m) * rs
                              * (w != NULL ? w[j] : 1.0)
                              + (b != NULL ? b[j] : 0.0));
    mean[i] = (float) m;
    rstd[i] = (float) rs;
  }
}


static void
test_forward_common (gboolean affine)
{
  MmdnnRng rng;
  LnCtx c;
  float *want, wmean[N], wrstd[N];

  mmdnn_rng_init (&rng, 1);
  c.x = gc_random (&rng, N * C, -2, 3);   /* off-centre rows */
  c.w = affine ? gc_random (&rng, C, 0.5, 1.5) : NULL;
  c.b = affine ? gc_random (&rng, C, -1, 1) : NULL;
  c.y = gc_random (&rng, N * C, -9, 9);
  c.mean = gc_zeros (N);
  c.rstd = gc_zeros (N);
  want = gc_zeros (N * C);

  ln_forward (&c);
  naive_layernorm (want, wmean, wrstd, c.x, c.w, c.b, N, C);
  g_assert_true (check_close ("layernorm y", c.y, want, N * C, 2e-6));
  g_assert_true (check_close ("layernorm mean", c.mean, wmean, N, 1e-6));
  g_assert_true (check_close ("layernorm rstd", c.rstd, wrstd, N, 1e-5));

  g_free (c.x); g_free (c.w); g_free (c.b); g_free (c.y);
  g_free (c.mean); g_free (c.rstd); g_free (want);
}

static void
test_forward (void)
{
  test_forward_common (TRUE);
}

static void
test_forward_no_affine (void)
{
  test_forward_common (FALSE);
}

/* A constant row has variance 0: eps keeps it finite, the output is b. */
static void
test_constant_row (void)
{
  float x[C], w[C], b[C], y[C], mean, rstd;

  for (int j = 0; j < C; j++) {
    x[j] = 4.25f;
    w[j] = 2.0f;
    b[j] = (float) j;
  }
  mmdnn_layernorm_forward (y, &mean, &rstd, x, w, b, EPS, 1, C);
  g_assert_cmpfloat (mean, ==, 4.25f);
  g_assert_cmpfloat_with_epsilon (rstd, 1.0 / sqrt (EPS), 1e-2);
  for (int j = 0; j < C; j++)
    g_assert_cmpfloat (y[j], ==, b[j]);
}

static void
test_gradcheck_common (gboolean affine)
{
  MmdnnRng rng;
  LnCtx c;
  float *r, *dx, *dw, *db;
  GradcheckInput inputs[3];

  mmdnn_rng_init (&rng, 2);
  c.x = gc_random (&rng, N * C, -1, 1);
  c.w = affine ? gc_random (&rng, C, 0.5, 1.5) : NULL;
  c.b = affine ? gc_random (&rng, C, -1, 1) : NULL;
  c.y = gc_zeros (N * C);
  c.mean = gc_zeros (N);
  c.rstd = gc_zeros (N);
  r = gc_random (&rng, N * C, -1, 1);
  dx = gc_zeros (N * C);
  dw = gc_zeros (C);
  db = gc_zeros (C);

  ln_forward (&c);
  mmdnn_layernorm_backward (dx, affine ? dw : NULL, affine ? db : NULL, r,
                            c.x, c.w, c.mean, c.rstd, N, C);
  inputs[0] = (GradcheckInput) { "x", c.x, dx, N * C };
  inputs[1] = (GradcheckInput) { "w", c.w, dw, C };
  inputs[2] = (GradcheckInput) { "b", c.b, db, C };
  g_assert_true (gradcheck ("layernorm", ln_forward, &c, c.y, N * C, r,
                            inputs, affine ? 3 : 1, 1e-2, 2e-3, 1e-2));

  g_free (c.x); g_free (c.w); g_free (c.b); g_free (c.y);
  g_free (c.mean); g_free (c.rstd); g_free (r);
  g_free (dx); g_free (dw); g_free (db);
}

static void
test_gradcheck (void)
{
  test_gradcheck_common (TRUE);
}

static void
test_gradcheck_no_affine (void)
{
  test_gradcheck_common (FALSE);
}

static void
test_accumulate (void)
{
  MmdnnRng rng;
  LnCtx c;
  float *dy, *dx1, *dw1, *db1, *dx2, *dw2, *db2, *dx3;

  mmdnn_rng_init (&rng, 3);
  c.x = gc_random (&rng, N * C, -1, 1);
  c.w = gc_random (&rng, C, 0.5, 1.5);
  c.b = gc_random (&rng, C, -1, 1);
  c.y = gc_zeros (N * C);
  c.mean = gc_zeros (N);
  c.rstd = gc_zeros (N);
  dy = gc_random (&rng, N * C, -1, 1);
  dx1 = gc_zeros (N * C); dw1 = gc_zeros (C); db1 = gc_zeros (C);
  dx2 = gc_zeros (N * C); dw2 = gc_zeros (C); db2 = gc_zeros (C);
  dx3 = gc_zeros (N * C);

  ln_forward (&c);
  mmdnn_layernorm_backward (dx1, dw1, db1, dy, c.x, c.w, c.mean, c.rstd, N, C);
  mmdnn_layernorm_backward (dx2, dw2, db2, dy, c.x, c.w, c.mean, c.rstd, N, C);
  mmdnn_layernorm_backward (dx2, dw2, db2, dy, c.x, c.w, c.mean, c.rstd, N, C);
  g_assert_true (check_doubled ("dx", dx1, dx2, N * C));
  g_assert_true (check_doubled ("dw", dw1, dw2, C));
  g_assert_true (check_doubled ("db", db1, db2, C));
  /* the parameter gradients are optional and do not change dx */
  mmdnn_layernorm_backward (dx3, NULL, NULL, dy, c.x, c.w, c.mean, c.rstd, N,
                            C);
  g_assert_true (check_close ("dx alone", dx3, dx1, N * C, 0.0));

  g_free (c.x); g_free (c.w); g_free (c.b); g_free (c.y);
  g_free (c.mean); g_free (c.rstd); g_free (dy);
  g_free (dx1); g_free (dw1); g_free (db1);
  g_free (dx2); g_free (dw2); g_free (db2); g_free (dx3);
}

static void
test_init_reset (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnLayerNorm m;
  GError *err = NULL;

  g_assert_true (mmdnn_layernorm_init (&m, ps, "enc.ln1", C, EPS, &err));
  g_assert_no_error (err);
  g_assert_true (m.weight == mmdnn_param_set_lookup (ps, "enc.ln1.weight"));
  g_assert_true (m.bias == mmdnn_param_set_lookup (ps, "enc.ln1.bias"));
  g_assert_cmpint (m.weight->ndim, ==, 1);
  g_assert_cmpint (m.weight->shape[0], ==, C);
  g_assert_cmpint (m.bias->shape[0], ==, C);
  g_assert_false (m.weight->decay);
  g_assert_false (m.bias->decay);
  g_assert_cmpint (m.c, ==, C);
  g_assert_cmpfloat (m.eps, ==, EPS);

  g_assert_true (mmdnn_param_set_allocate (ps, NULL));
  m.weight->value[0] = 5.0f;
  m.bias->value[0] = 5.0f;
  mmdnn_layernorm_reset (&m);
  for (int j = 0; j < C; j++) {
    g_assert_cmpfloat (m.weight->value[j], ==, 1.0f);
    g_assert_cmpfloat (m.bias->value[j], ==, 0.0f);
  }
  mmdnn_param_set_free (ps);
}

/* ---- negative tests ---- */

static const MmdnnLayerNorm sentinel = { NULL, NULL, -7, -7.0f };

static void
expect_init_fails (MmdnnParamSet *ps, const char *prefix, int64_t c,
                   float eps)
{
  MmdnnLayerNorm m = sentinel;
  GError *err = NULL;
  guint before = ps != NULL ? ps->params->len : 0;

  g_assert_false (mmdnn_layernorm_init (&m, ps, prefix, c, eps, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  /* field by field: the struct has padding that memcmp would read */
  g_assert_null (m.weight);
  g_assert_null (m.bias);
  g_assert_cmpint (m.c, ==, sentinel.c);
  g_assert_cmpfloat (m.eps, ==, sentinel.eps);
  if (ps != NULL)
    g_assert_cmpuint (ps->params->len, ==, before);
  g_clear_error (&err);
}

static void
with_new_set_expect_fails (const char *prefix, int64_t c, float eps)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  expect_init_fails (ps, prefix, c, eps);
  mmdnn_param_set_free (ps);
}

static void
test_c_zero_n (void)
{
  with_new_set_expect_fails ("ln", 0, EPS);
}

static void
test_c_negative_n (void)
{
  with_new_set_expect_fails ("ln", -5, EPS);
}

static void
test_eps_zero_n (void)
{
  with_new_set_expect_fails ("ln", C, 0.0f);
}

static void
test_eps_negative_n (void)
{
  with_new_set_expect_fails ("ln", C, -1e-5f);
}

static void
test_eps_nan_n (void)
{
  with_new_set_expect_fails ("ln", C, NAN);
}

static void
test_eps_inf_n (void)
{
  with_new_set_expect_fails ("ln", C, INFINITY);
}

static void
test_null_param_set_n (void)
{
  expect_init_fails (NULL, "ln", C, EPS);
}

static void
test_null_module_n (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  GError *err = NULL;

  g_assert_false (mmdnn_layernorm_init (NULL, ps, "ln", C, EPS, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (ps->params->len, ==, 0);
  g_clear_error (&err);
  mmdnn_param_set_free (ps);
}

static void
test_null_prefix_n (void)
{
  with_new_set_expect_fails (NULL, C, EPS);
}

static void
test_empty_prefix_n (void)
{
  with_new_set_expect_fails ("", C, EPS);
}

static void
test_duplicate_prefix_n (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnLayerNorm m;
  int64_t shape[1] = { C };

  g_assert_true (mmdnn_layernorm_init (&m, ps, "ln", C, EPS, NULL));
  expect_init_fails (ps, "ln", C, EPS);
  /* a clash on the bias alone must not leave "ln2.weight" behind */
  g_assert_nonnull (mmdnn_param_set_declare (ps, "ln2.bias", 1, shape, FALSE,
                                             NULL));
  expect_init_fails (ps, "ln2", C, EPS);
  g_assert_null (mmdnn_param_set_lookup (ps, "ln2.weight"));
  mmdnn_param_set_free (ps);
}

static void
test_allocated_set_n (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnLayerNorm m;

  g_assert_true (mmdnn_layernorm_init (&m, ps, "a", C, EPS, NULL));
  g_assert_true (mmdnn_param_set_allocate (ps, NULL));
  expect_init_fails (ps, "b", C, EPS);
  mmdnn_param_set_free (ps);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/norm/forward", test_forward);
  g_test_add_func ("/norm/forward-no-affine", test_forward_no_affine);
  g_test_add_func ("/norm/constant-row", test_constant_row);
  g_test_add_func ("/norm/gradcheck", test_gradcheck);
  g_test_add_func ("/norm/gradcheck-no-affine", test_gradcheck_no_affine);
  g_test_add_func ("/norm/accumulate", test_accumulate);
  g_test_add_func ("/norm/init-reset", test_init_reset);

  g_test_add_func ("/norm/init-c-zero_n", test_c_zero_n);
  g_test_add_func ("/norm/init-c-negative_n", test_c_negative_n);
  g_test_add_func ("/norm/init-eps-zero_n", test_eps_zero_n);
  g_test_add_func ("/norm/init-eps-negative_n", test_eps_negative_n);
  g_test_add_func ("/norm/init-eps-nan_n", test_eps_nan_n);
  g_test_add_func ("/norm/init-eps-inf_n", test_eps_inf_n);
  g_test_add_func ("/norm/init-null-param-set_n", test_null_param_set_n);
  g_test_add_func ("/norm/init-null-module_n", test_null_module_n);
  g_test_add_func ("/norm/init-null-prefix_n", test_null_prefix_n);
  g_test_add_func ("/norm/init-empty-prefix_n", test_empty_prefix_n);
  g_test_add_func ("/norm/init-duplicate-prefix_n", test_duplicate_prefix_n);
  g_test_add_func ("/norm/init-allocated-set_n", test_allocated_set_n);

  return g_test_run ();
}
