/* Tests of the fully connected layer.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/linear.h>
#include "gradcheck.h"

#define N 3
#define IN 5
#define OUT 7

typedef struct {
  float *y, *x, *w, *b;
} LinCtx;

static void
lin_forward (void *p)
{
  LinCtx *c = p;
  mmdnn_linear_forward (c->y, c->x, c->w, c->b, N, IN, OUT);
}

/* y = x·wᵀ + b in double, the obvious way */
static void
naive_linear (float *y, const float *x, const float *w, const float *b)
{
  for (int i = 0; i < N; i++)
    for (int o = 0; o < OUT; o++) {
      double acc = b != NULL ? b[o] : 0.0;
      for (int k = 0; k < IN; k++)
        acc += (double) x[i * IN + k] * (double) w[o * IN + k];
      y[i * OUT + o] = (float) acc;
    }
}


static void
test_forward_common (gboolean bias)
{
  MmdnnRng rng;
  float *x, *w, *b, *y, *want;

  mmdnn_rng_init (&rng, 1);
  x = gc_random (&rng, N * IN, -1, 1);
  w = gc_random (&rng, OUT * IN, -1, 1);
  b = gc_random (&rng, OUT, -1, 1);
  y = gc_random (&rng, N * OUT, -9, 9);   /* garbage: forward overwrites */
  want = gc_zeros (N * OUT);
  mmdnn_linear_forward (y, x, w, bias ? b : NULL, N, IN, OUT);
  naive_linear (want, x, w, bias ? b : NULL);
  g_assert_true (check_close ("linear y", y, want, N * OUT, 1e-5));
  g_free (x); g_free (w); g_free (b); g_free (y); g_free (want);
}

static void
test_forward (void)
{
  test_forward_common (TRUE);
}

static void
test_forward_no_bias (void)
{
  test_forward_common (FALSE);
}

static void
test_gradcheck_common (gboolean bias)
{
  MmdnnRng rng;
  LinCtx c;
  float *r, *dx, *dw, *db;
  GradcheckInput inputs[3];

  mmdnn_rng_init (&rng, 2);
  c.x = gc_random (&rng, N * IN, -1, 1);
  c.w = gc_random (&rng, OUT * IN, -1, 1);
  c.b = bias ? gc_random (&rng, OUT, -1, 1) : NULL;
  c.y = gc_zeros (N * OUT);
  r = gc_random (&rng, N * OUT, -1, 1);
  dx = gc_zeros (N * IN);
  dw = gc_zeros (OUT * IN);
  db = gc_zeros (OUT);

  lin_forward (&c);
  mmdnn_linear_backward (dx, dw, bias ? db : NULL, r, c.x, c.w, N, IN, OUT);
  inputs[0] = (GradcheckInput) { "x", c.x, dx, N * IN };
  inputs[1] = (GradcheckInput) { "w", c.w, dw, OUT * IN };
  inputs[2] = (GradcheckInput) { "b", c.b, db, OUT };
  g_assert_true (gradcheck ("linear", lin_forward, &c, c.y, N * OUT, r,
                            inputs, bias ? 3 : 2, 1e-2, 2e-3, 1e-2));
  if (!bias)
    for (int o = 0; o < OUT; o++)
      g_assert_cmpfloat (db[o], ==, 0.0f);
  g_free (c.x); g_free (c.w); g_free (c.b); g_free (c.y);
  g_free (r); g_free (dx); g_free (dw); g_free (db);
}

static void
test_gradcheck (void)
{
  test_gradcheck_common (TRUE);
}

static void
test_gradcheck_no_bias (void)
{
  test_gradcheck_common (FALSE);
}

/* Backward twice onto the same gradients gives exactly twice the once-result;
 * a NULL gradient is skipped and does not change the others. */
static void
test_accumulate (void)
{
  MmdnnRng rng;
  float *x, *w, *dy, *dx1, *dw1, *db1, *dx2, *dw2, *db2, *dw3;

  mmdnn_rng_init (&rng, 3);
  x = gc_random (&rng, N * IN, -1, 1);
  w = gc_random (&rng, OUT * IN, -1, 1);
  dy = gc_random (&rng, N * OUT, -1, 1);
  dx1 = gc_zeros (N * IN); dw1 = gc_zeros (OUT * IN); db1 = gc_zeros (OUT);
  dx2 = gc_zeros (N * IN); dw2 = gc_zeros (OUT * IN); db2 = gc_zeros (OUT);
  dw3 = gc_zeros (OUT * IN);

  mmdnn_linear_backward (dx1, dw1, db1, dy, x, w, N, IN, OUT);
  mmdnn_linear_backward (dx2, dw2, db2, dy, x, w, N, IN, OUT);
  mmdnn_linear_backward (dx2, dw2, db2, dy, x, w, N, IN, OUT);
  g_assert_true (check_doubled ("dx", dx1, dx2, N * IN));
  g_assert_true (check_doubled ("dw", dw1, dw2, OUT * IN));
  g_assert_true (check_doubled ("db", db1, db2, OUT));

  mmdnn_linear_backward (NULL, dw3, NULL, dy, x, w, N, IN, OUT);
  g_assert_true (check_close ("dw alone", dw3, dw1, OUT * IN, 0.0));

  g_free (x); g_free (w); g_free (dy);
  g_free (dx1); g_free (dw1); g_free (db1);
  g_free (dx2); g_free (dw2); g_free (db2); g_free (dw3);
}

static void
test_init (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnLinear a, b;
  GError *err = NULL;

  g_assert_true (mmdnn_linear_init (&a, ps, "head.proj", IN, OUT, TRUE, &err));
  g_assert_no_error (err);
  g_assert_true (mmdnn_linear_init (&b, ps, "head.out", OUT, 2, FALSE, &err));
  g_assert_no_error (err);

  g_assert_true (a.weight == mmdnn_param_set_lookup (ps, "head.proj.weight"));
  g_assert_true (a.bias == mmdnn_param_set_lookup (ps, "head.proj.bias"));
  g_assert_cmpint (a.weight->ndim, ==, 2);
  g_assert_cmpint (a.weight->shape[0], ==, OUT);
  g_assert_cmpint (a.weight->shape[1], ==, IN);
  g_assert_cmpint (a.bias->ndim, ==, 1);
  g_assert_cmpint (a.bias->shape[0], ==, OUT);
  g_assert_true (a.weight->decay);
  g_assert_false (a.bias->decay);
  g_assert_cmpint (a.in, ==, IN);
  g_assert_cmpint (a.out, ==, OUT);

  g_assert_null (b.bias);
  g_assert_null (mmdnn_param_set_lookup (ps, "head.out.bias"));
  g_assert_cmpint (ps->params->len, ==, 3);
  mmdnn_param_set_free (ps);
}

/* PyTorch's default: U(−1/√IN, 1/√IN) for weight and bias */
static void
test_reset (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnLinear l;
  MmdnnRng rng;
  const int64_t in = 49, out = 31;
  const float bound = 1.0f / 7.0f;
  double wmin = 1, wmax = -1, sum = 0;

  g_assert_true (mmdnn_linear_init (&l, ps, "fc", in, out, TRUE, NULL));
  g_assert_true (mmdnn_param_set_allocate (ps, NULL));
  mmdnn_rng_init (&rng, 4);
  mmdnn_linear_reset (&l, &rng);
  for (int64_t i = 0; i < l.weight->numel; i++) {
    float v = l.weight->value[i];
    wmin = MIN (wmin, v);
    wmax = MAX (wmax, v);
    sum += v;
  }
  g_assert_cmpfloat (wmin, >=, -bound);
  g_assert_cmpfloat (wmax, <=, bound);
  /* the whole range is used (1519 draws), and it is centred */
  g_assert_cmpfloat (wmin, <, -0.9 * bound);
  g_assert_cmpfloat (wmax, >, 0.9 * bound);
  g_assert_cmpfloat (fabs (sum / l.weight->numel), <, 0.1 * bound);
  for (int64_t i = 0; i < out; i++) {
    g_assert_cmpfloat (l.bias->value[i], >=, -bound);
    g_assert_cmpfloat (l.bias->value[i], <=, bound);
  }
  g_assert_cmpfloat (l.bias->value[0], !=, l.bias->value[1]);
  mmdnn_param_set_free (ps);
}

/* ---- negative tests: each must fail with the exact code, declare nothing
 * and leave the module struct alone ---- */

static const MmdnnLinear sentinel = { NULL, NULL, -7, -7 };

static void
expect_init_fails (MmdnnParamSet *ps, const char *prefix, int64_t in,
                   int64_t out, gboolean has_bias)
{
  MmdnnLinear l = sentinel;
  GError *err = NULL;
  guint before = ps != NULL ? ps->params->len : 0;

  g_assert_false (mmdnn_linear_init (&l, ps, prefix, in, out, has_bias, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_true (memcmp (&l, &sentinel, sizeof l) == 0);
  if (ps != NULL)
    g_assert_cmpuint (ps->params->len, ==, before);
  g_clear_error (&err);
}

static void
test_in_zero_n (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  expect_init_fails (ps, "fc", 0, OUT, TRUE);
  mmdnn_param_set_free (ps);
}

static void
test_in_negative_n (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  expect_init_fails (ps, "fc", -3, OUT, TRUE);
  mmdnn_param_set_free (ps);
}

static void
test_out_zero_n (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  expect_init_fails (ps, "fc", IN, 0, FALSE);
  mmdnn_param_set_free (ps);
}

static void
test_out_negative_n (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  expect_init_fails (ps, "fc", IN, -1, TRUE);
  mmdnn_param_set_free (ps);
}

static void
test_in_too_big_n (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  expect_init_fails (ps, "fc", (int64_t) G_MAXINT32 + 1, 1, FALSE);
  mmdnn_param_set_free (ps);
}

static void
test_too_many_weights_n (void)
{
  /* each size in range, their product over MMDNN_MAX_NUMEL */
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  expect_init_fails (ps, "fc", G_MAXINT32, G_MAXINT32, TRUE);
  mmdnn_param_set_free (ps);
}

static void
test_null_param_set_n (void)
{
  expect_init_fails (NULL, "fc", IN, OUT, TRUE);
}

static void
test_null_module_n (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  GError *err = NULL;

  g_assert_false (mmdnn_linear_init (NULL, ps, "fc", IN, OUT, TRUE, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (ps->params->len, ==, 0);
  g_clear_error (&err);
  mmdnn_param_set_free (ps);
}

static void
test_null_prefix_n (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  expect_init_fails (ps, NULL, IN, OUT, TRUE);
  mmdnn_param_set_free (ps);
}

static void
test_empty_prefix_n (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  expect_init_fails (ps, "", IN, OUT, TRUE);
  mmdnn_param_set_free (ps);
}

static void
test_duplicate_prefix_n (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnLinear l;

  g_assert_true (mmdnn_linear_init (&l, ps, "fc", IN, OUT, TRUE, NULL));
  expect_init_fails (ps, "fc", IN, OUT, TRUE);
  expect_init_fails (ps, "fc", OUT, IN, FALSE);
  mmdnn_param_set_free (ps);
}

static void
test_duplicate_bias_only_n (void)
{
  /* only "fc.bias" clashes: "fc.weight" must not be left declared */
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  int64_t shape[1] = { OUT };

  g_assert_nonnull (mmdnn_param_set_declare (ps, "fc.bias", 1, shape, FALSE,
                                             NULL));
  expect_init_fails (ps, "fc", IN, OUT, TRUE);
  g_assert_null (mmdnn_param_set_lookup (ps, "fc.weight"));
  mmdnn_param_set_free (ps);
}

static void
test_allocated_set_n (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnLinear l;

  g_assert_true (mmdnn_linear_init (&l, ps, "a", IN, OUT, TRUE, NULL));
  g_assert_true (mmdnn_param_set_allocate (ps, NULL));
  expect_init_fails (ps, "b", IN, OUT, TRUE);
  mmdnn_param_set_free (ps);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/linear/forward", test_forward);
  g_test_add_func ("/linear/forward-no-bias", test_forward_no_bias);
  g_test_add_func ("/linear/gradcheck", test_gradcheck);
  g_test_add_func ("/linear/gradcheck-no-bias", test_gradcheck_no_bias);
  g_test_add_func ("/linear/accumulate", test_accumulate);
  g_test_add_func ("/linear/init", test_init);
  g_test_add_func ("/linear/reset", test_reset);

  g_test_add_func ("/linear/init-in-zero_n", test_in_zero_n);
  g_test_add_func ("/linear/init-in-negative_n", test_in_negative_n);
  g_test_add_func ("/linear/init-out-zero_n", test_out_zero_n);
  g_test_add_func ("/linear/init-out-negative_n", test_out_negative_n);
  g_test_add_func ("/linear/init-in-too-big_n", test_in_too_big_n);
  g_test_add_func ("/linear/init-too-many-weights_n", test_too_many_weights_n);
  g_test_add_func ("/linear/init-null-param-set_n", test_null_param_set_n);
  g_test_add_func ("/linear/init-null-module_n", test_null_module_n);
  g_test_add_func ("/linear/init-null-prefix_n", test_null_prefix_n);
  g_test_add_func ("/linear/init-empty-prefix_n", test_empty_prefix_n);
  g_test_add_func ("/linear/init-duplicate-prefix_n", test_duplicate_prefix_n);
  g_test_add_func ("/linear/init-duplicate-bias-only_n",
                   test_duplicate_bias_only_n);
  g_test_add_func ("/linear/init-allocated-set_n", test_allocated_set_n);

  return g_test_run ();
}
