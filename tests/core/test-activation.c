/* Tests of activations, softmax, dropout and gradient reversal.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <float.h>
#include <math.h>
#include <string.h>

#include <mmdnn/activation.h>
#include "gradcheck.h"

#define NE 35                   /* elementwise tests: an odd 5 × 7 */
#define ROWS 3
#define COLS 7

typedef void (*ActForward) (float *y, const float *x, int64_t n);
typedef void (*ActBackward) (float *dx, const float *dy, const float *xy,
                             int64_t n);

typedef struct {
  ActForward forward;
  float *y, *x;
  int64_t n;
} EwCtx;

static void
ew_forward (void *p)
{
  EwCtx *c = p;
  c->forward (c->y, c->x, c->n);
}


/* The three checks every elementwise kernel gets: forward against @ref in
 * double, gradcheck, and accumulation. @bwd_takes_y: backward reads the
 * forward output (sigmoid, tanh) rather than the input. */
static void
check_elementwise (const char *label, ActForward fwd, ActBackward bwd,
                   gboolean bwd_takes_y, double (*ref) (double), float lo,
                   float hi, gboolean avoid_zero, guint64 seed)
{
  MmdnnRng rng;
  EwCtx c;
  float *want, *r, *dx, *dx2;
  GradcheckInput input;

  mmdnn_rng_init (&rng, seed);
  c.forward = fwd;
  c.n = NE;
  c.x = gc_random (&rng, NE, lo, hi);
  if (avoid_zero)               /* keep the kink at 0 out of the ±eps window */
    for (int i = 0; i < NE; i++)
      c.x[i] += c.x[i] >= 0.0f ? 0.1f : -0.1f;
  c.y = gc_random (&rng, NE, -9, 9);
  want = gc_zeros (NE);
  r = gc_random (&rng, NE, -1, 1);
  dx = gc_zeros (NE);
  dx2 = gc_zeros (NE);

  fwd (c.y, c.x, NE);
  for (int i = 0; i < NE; i++)
    want[i] = (float) ref (c.x[i]);
  g_assert_true (check_close (label, c.y, want, NE, 2e-6));

  bwd (dx, r, bwd_takes_y ? c.y : c.x, NE);
  input = (GradcheckInput) { "x", c.x, dx, NE };
  g_assert_true (gradcheck (label, ew_forward, &c, c.y, NE, r, &input, 1,
                            1e-2, 2e-3, 1e-2));

  fwd (c.y, c.x, NE);
  bwd (dx2, r, bwd_takes_y ? c.y : c.x, NE);
  bwd (dx2, r, bwd_takes_y ? c.y : c.x, NE);
  g_assert_true (check_doubled (label, dx, dx2, NE));
  bwd (NULL, r, bwd_takes_y ? c.y : c.x, NE);   /* NULL dx: a no-op */

  g_free (c.x); g_free (c.y); g_free (want); g_free (r);
  g_free (dx); g_free (dx2);
}

static double
ref_relu (double x)
{
  return x > 0.0 ? x : 0.0;
}

static double
ref_gelu (double x)
{
  return 0.5 * x * (1.0 + erf (x / sqrt (2.0)));
}

static double
ref_sigmoid (double x)
{
  return 1.0 / (1.0 + exp (-x));
}

static void
test_relu (void)
{
  check_elementwise ("relu", mmdnn_relu_forward, mmdnn_relu_backward, FALSE,
                     ref_relu, -2, 2, TRUE, 11);
}

/* The overwriting backward: over NaN-filled dx, bit for bit what the
 * accumulating one leaves in zeros (−0 included: both give +0), over every
 * length up to past a vector block; NULL dx is a no-op. */
static void
test_relu_backward_set (void)
{
  float x[37], dy[37], one[37], two[37];
  MmdnnRng rng;

  mmdnn_rng_init (&rng, 21);
  for (int n = 0; n <= 37; n++) {
    mmdnn_rng_fill_uniform (&rng, x, 37, -1, 1);
    mmdnn_rng_fill_uniform (&rng, dy, 37, -1, 1);
    if (n > 3) {
      x[0] = 0.0f;              /* the subgradient at 0 is 0 */
      dy[1] = -0.0f;
      x[1] = 1.0f;
      dy[2] = NAN;              /* blocked where x ≤ 0 */
      x[2] = -1.0f;
    }
    for (int i = 0; i < 37; i++) {
      one[i] = NAN;
      two[i] = 0.0f;
    }
    mmdnn_relu_backward_set (one, dy, x, n);
    mmdnn_relu_backward (two, dy, x, n);
    g_assert_true (memcmp (one, two, sizeof (float) * n) == 0);
    for (int i = n; i < 37; i++)
      g_assert_true (isnan (one[i]));   /* nothing past n */
    if (n > 3) {
      g_assert_cmpfloat (one[0], ==, 0.0f);
      g_assert_false (signbit (one[1]));
      g_assert_cmpfloat (one[2], ==, 0.0f);
    }
  }
  mmdnn_relu_backward_set (NULL, dy, x, 37);
}

/* It overwrites: what dx held before (NaN, ∞, a gradient) never shows,
 * unlike the accumulating backward. */
static void
test_relu_backward_set_overwrites (void)
{
  float x[4] = { 1.0f, -1.0f, 2.0f, 0.0f }, dy[4] = { 3.0f, 3.0f, -4.0f, 5.0f };
  float dx[4] = { INFINITY, NAN, 7.0f, -INFINITY }, acc[4] = { 1, 1, 1, 1 };

  mmdnn_relu_backward_set (dx, dy, x, 4);
  g_assert_cmpfloat (dx[0], ==, 3.0f);
  g_assert_cmpfloat (dx[1], ==, 0.0f);
  g_assert_cmpfloat (dx[2], ==, -4.0f);
  g_assert_cmpfloat (dx[3], ==, 0.0f);
  mmdnn_relu_backward (acc, dy, x, 4);
  g_assert_cmpfloat (acc[0], ==, 4.0f);
  g_assert_cmpfloat (acc[1], ==, 1.0f);
}

static void
test_gelu (void)
{
  check_elementwise ("gelu", mmdnn_gelu_forward, mmdnn_gelu_backward, FALSE,
                     ref_gelu, -4, 4, FALSE, 12);
}

static void
test_sigmoid (void)
{
  float x[4] = { -100.0f, -89.0f, 89.0f, 100.0f }, y[4];

  check_elementwise ("sigmoid", mmdnn_sigmoid_forward, mmdnn_sigmoid_backward,
                     TRUE, ref_sigmoid, -5, 5, FALSE, 13);
  /* e^100 overflows float: the stable form must still give 0 and 1 */
  mmdnn_sigmoid_forward (y, x, 4);
  for (int i = 0; i < 4; i++)
    g_assert_true (isfinite (y[i]));
  g_assert_cmpfloat (y[0], <, 1e-38);
  g_assert_cmpfloat (y[3], ==, 1.0f);
}

static void
test_tanh (void)
{
  check_elementwise ("tanh", mmdnn_tanh_forward, mmdnn_tanh_backward, TRUE,
                     tanh, -3, 3, FALSE, 14);
}

typedef struct {
  float *y, *x;
} SmCtx;

static void
sm_forward (void *p)
{
  SmCtx *c = p;
  mmdnn_softmax_forward (c->y, c->x, ROWS, COLS);
}

static void
naive_softmax (float *y, const float *x, int64_t rows, int64_t cols)
{
  for (int64_t r = 0; r < rows; r++) {
    double sum = 0.0, max = -INFINITY;
    for (int64_t j = 0; j < cols; j++)
      max = MAX (max, x[r * cols + j]);
    for (int64_t j = 0; j < cols; j++)
      sum += exp ((double) x[r * cols + j] - max);
    for (int64_t j = 0; j < cols; j++)
      y[r * cols + j] = (float) (exp ((double) x[r * cols + j] - max) / sum);
  }
}

static void
test_softmax (void)
{
  MmdnnRng rng;
  SmCtx c;
  float *want, *r, *dx, *dx2;
  GradcheckInput input;

  mmdnn_rng_init (&rng, 15);
  c.x = gc_random (&rng, ROWS * COLS, -3, 3);
  c.y = gc_zeros (ROWS * COLS);
  want = gc_zeros (ROWS * COLS);
  r = gc_random (&rng, ROWS * COLS, -1, 1);
  dx = gc_zeros (ROWS * COLS);
  dx2 = gc_zeros (ROWS * COLS);

  sm_forward (&c);
  naive_softmax (want, c.x, ROWS, COLS);
  g_assert_true (check_close ("softmax", c.y, want, ROWS * COLS, 1e-6));
  for (int i = 0; i < ROWS; i++) {
    double s = 0.0;
    for (int j = 0; j < COLS; j++)
      s += c.y[i * COLS + j];
    g_assert_cmpfloat_with_epsilon (s, 1.0, 1e-6);
  }

  mmdnn_softmax_backward (dx, r, c.y, ROWS, COLS);
  input = (GradcheckInput) { "x", c.x, dx, ROWS * COLS };
  g_assert_true (gradcheck ("softmax", sm_forward, &c, c.y, ROWS * COLS, r,
                            &input, 1, 1e-2, 2e-3, 1e-2));

  sm_forward (&c);
  mmdnn_softmax_backward (dx2, r, c.y, ROWS, COLS);
  mmdnn_softmax_backward (dx2, r, c.y, ROWS, COLS);
  g_assert_true (check_doubled ("softmax dx", dx, dx2, ROWS * COLS));

  g_free (c.x); g_free (c.y); g_free (want); g_free (r);
  g_free (dx); g_free (dx2);
}

/* Logits far beyond expf's range give the same answer as shifted ones. */
static void
test_softmax_large_logits (void)
{
  float x[2 * 5] = { 1000, 1001, 1002, 999, 1000,
                     -1000, -1001, -1002, -999, -1000 };
  float shifted[2 * 5], y[2 * 5], want[2 * 5];

  for (int j = 0; j < 5; j++) {
    shifted[j] = x[j] - 1000.0f;
    shifted[5 + j] = x[5 + j] + 1000.0f;
  }
  mmdnn_softmax_forward (y, x, 2, 5);
  naive_softmax (want, shifted, 2, 5);
  g_assert_true (check_close ("softmax large", y, want, 10, 1e-6));
}

/* ---- dropout ---- */

static void
test_dropout_seed (void)
{
  enum { NN = 1001 };
  MmdnnRng rng;
  float *x, *y1, *y2, *y3, *m1, *m2, *m3;

  mmdnn_rng_init (&rng, 20);
  x = gc_random (&rng, NN, -1, 1);
  y1 = gc_zeros (NN); y2 = gc_zeros (NN); y3 = gc_zeros (NN);
  m1 = gc_zeros (NN); m2 = gc_zeros (NN); m3 = gc_zeros (NN);

  mmdnn_rng_init (&rng, 7);
  mmdnn_dropout_forward (y1, m1, x, 0.3f, &rng, NN);
  mmdnn_rng_init (&rng, 7);
  mmdnn_dropout_forward (y2, m2, x, 0.3f, &rng, NN);
  g_assert_true (memcmp (m1, m2, sizeof (float) * NN) == 0);
  g_assert_true (memcmp (y1, y2, sizeof (float) * NN) == 0);
  /* the next call (same rng, advanced) and another seed differ */
  mmdnn_dropout_forward (y3, m3, x, 0.3f, &rng, NN);
  g_assert_false (memcmp (m1, m3, sizeof (float) * NN) == 0);
  mmdnn_rng_init (&rng, 8);
  mmdnn_dropout_forward (y3, m3, x, 0.3f, &rng, NN);
  g_assert_false (memcmp (m1, m3, sizeof (float) * NN) == 0);

  g_free (x); g_free (y1); g_free (y2); g_free (y3);
  g_free (m1); g_free (m2); g_free (m3);
}

/* The mask holds only 0 and 1/(1−p), y = x ⊙ mask, and the zeros make up
 * a fraction p: over 10⁵ elements its standard error is ~0.0015. */
static void
test_dropout_mask (void)
{
  enum { NN = 100001 };
  const float ps[] = { 0.1f, 0.5f, 0.9f };
  MmdnnRng rng;
  float *x, *y, *mask;

  mmdnn_rng_init (&rng, 21);
  x = gc_random (&rng, NN, -1, 1);
  y = gc_zeros (NN);
  mask = gc_zeros (NN);
  for (guint t = 0; t < G_N_ELEMENTS (ps); t++) {
    float p = ps[t], scale = 1.0f / (1.0f - p);
    int64_t zeros = 0;

    g_assert_true (mmdnn_dropout_check (p, NULL));
    mmdnn_dropout_forward (y, mask, x, p, &rng, NN);
    for (int64_t i = 0; i < NN; i++) {
      g_assert_true (mask[i] == 0.0f || mask[i] == scale);
      g_assert_cmpfloat (y[i], ==, x[i] * mask[i]);
      zeros += mask[i] == 0.0f;
    }
    g_assert_cmpfloat (fabs ((double) zeros / NN - p), <, 0.01);
  }
  g_free (x); g_free (y); g_free (mask);
}

/* p = 0 is the identity and does not touch the generator. */
static void
test_dropout_identity (void)
{
  MmdnnRng rng, fresh;
  float x[NE], y[NE], mask[NE], dx[NE] = { 0 };

  mmdnn_rng_init (&rng, 22);
  mmdnn_rng_fill_uniform (&rng, x, NE, -1, 1);
  mmdnn_rng_init (&rng, 5);
  fresh = rng;
  g_assert_true (mmdnn_dropout_check (0.0f, NULL));
  mmdnn_dropout_forward (y, mask, x, 0.0f, &rng, NE);
  g_assert_true (memcmp (y, x, sizeof y) == 0);
  for (int i = 0; i < NE; i++)
    g_assert_cmpfloat (mask[i], ==, 1.0f);
  /* not advanced: the next draw is a fresh generator's first */
  g_assert_cmpuint (mmdnn_rng_next_u64 (&rng), ==, mmdnn_rng_next_u64 (&fresh));
  mmdnn_dropout_forward (y, mask, x, 0.0f, NULL, NE);
  g_assert_true (memcmp (y, x, sizeof y) == 0);
  mmdnn_dropout_backward (dx, x, mask, NE);
  g_assert_true (memcmp (dx, x, sizeof dx) == 0);
}

typedef struct {
  float *y, *mask, *x;
  float p;
} DropCtx;

static void
drop_forward (void *ptr)
{
  DropCtx *c = ptr;
  MmdnnRng rng;

  /* the same seed on every call: the mask stays fixed while x moves */
  mmdnn_rng_init (&rng, 99);
  mmdnn_dropout_forward (c->y, c->mask, c->x, c->p, &rng, NE);
}

static void
test_dropout_gradcheck (void)
{
  MmdnnRng rng;
  DropCtx c;
  float *r, *dx, *dx2;
  GradcheckInput input;
  int zeros = 0;

  mmdnn_rng_init (&rng, 23);
  c.x = gc_random (&rng, NE, -1, 1);
  c.y = gc_zeros (NE);
  c.mask = gc_zeros (NE);
  c.p = 0.4f;
  r = gc_random (&rng, NE, -1, 1);
  dx = gc_zeros (NE);
  dx2 = gc_zeros (NE);

  drop_forward (&c);
  for (int i = 0; i < NE; i++)
    zeros += c.mask[i] == 0.0f;
  g_assert_cmpint (zeros, >, 0);     /* both branches are exercised */
  g_assert_cmpint (zeros, <, NE);
  mmdnn_dropout_backward (dx, r, c.mask, NE);
  input = (GradcheckInput) { "x", c.x, dx, NE };
  g_assert_true (gradcheck ("dropout", drop_forward, &c, c.y, NE, r, &input,
                            1, 1e-2, 2e-3, 1e-2));

  mmdnn_dropout_backward (dx2, r, c.mask, NE);
  mmdnn_dropout_backward (dx2, r, c.mask, NE);
  g_assert_true (check_doubled ("dropout dx", dx, dx2, NE));

  g_free (c.x); g_free (c.y); g_free (c.mask); g_free (r);
  g_free (dx); g_free (dx2);
}

/* ---- gradient reversal ---- */

typedef struct {
  float *y, *x;
} GrCtx;

static void
gr_forward (void *p)
{
  GrCtx *c = p;
  mmdnn_grad_reverse_forward (c->y, c->x, NE);
}

static void
test_grad_reverse (void)
{
  MmdnnRng rng;
  GrCtx c;
  float *dy, *dx, *dx2, *inplace;
  const float lambda = 0.75f;
  GradcheckInput input;

  mmdnn_rng_init (&rng, 30);
  c.x = gc_random (&rng, NE, -1, 1);
  c.y = gc_random (&rng, NE, -9, 9);
  dy = gc_random (&rng, NE, -1, 1);
  dx = gc_zeros (NE);
  dx2 = gc_zeros (NE);

  g_assert_true (mmdnn_grad_reverse_check (lambda, NULL));
  gr_forward (&c);
  g_assert_true (memcmp (c.y, c.x, sizeof (float) * NE) == 0);
  inplace = g_memdup2 (c.x, sizeof (float) * NE);
  mmdnn_grad_reverse_forward (inplace, inplace, NE);
  g_assert_true (memcmp (inplace, c.x, sizeof (float) * NE) == 0);

  mmdnn_grad_reverse_backward (dx, dy, lambda, NE);
  for (int i = 0; i < NE; i++)
    g_assert_cmpfloat (dx[i], ==, -lambda * dy[i]);
  mmdnn_grad_reverse_backward (dx2, dy, lambda, NE);
  mmdnn_grad_reverse_backward (dx2, dy, lambda, NE);
  g_assert_true (check_doubled ("grad reverse dx", dx, dx2, NE));

  /* λ = −1 undoes the reversal: then backward is the true gradient of the
   * identity, which gradcheck can confirm */
  memset (dx, 0, sizeof (float) * NE);
  mmdnn_grad_reverse_backward (dx, dy, -1.0f, NE);
  input = (GradcheckInput) { "x", c.x, dx, NE };
  g_assert_true (gradcheck ("grad reverse", gr_forward, &c, c.y, NE, dy,
                            &input, 1, 1e-2, 2e-3, 1e-2));

  g_free (c.x); g_free (c.y); g_free (dy); g_free (dx); g_free (dx2);
  g_free (inplace);
}

/* ---- negative tests ---- */

static void
expect_dropout_rejects (float p)
{
  GError *err = NULL;

  g_assert_false (mmdnn_dropout_check (p, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_dropout_negative_n (void)
{
  expect_dropout_rejects (-0.1f);
}

static void
test_dropout_tiny_negative_n (void)
{
  expect_dropout_rejects (-FLT_TRUE_MIN);
}

static void
test_dropout_one_n (void)
{
  expect_dropout_rejects (1.0f);
}

static void
test_dropout_above_one_n (void)
{
  expect_dropout_rejects (1.5f);
}

static void
test_dropout_nan_n (void)
{
  expect_dropout_rejects (NAN);
}

static void
test_dropout_negative_nan_n (void)
{
  expect_dropout_rejects (-NAN);
}

static void
test_dropout_inf_n (void)
{
  expect_dropout_rejects (INFINITY);
}

static void
test_dropout_negative_inf_n (void)
{
  expect_dropout_rejects (-INFINITY);
}

static void
test_dropout_null_error_n (void)
{
  /* a NULL GError** is allowed: the check still fails, quietly */
  g_assert_false (mmdnn_dropout_check (2.0f, NULL));
}

static void
expect_lambda_rejects (float lambda)
{
  GError *err = NULL;

  g_assert_false (mmdnn_grad_reverse_check (lambda, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_lambda_nan_n (void)
{
  expect_lambda_rejects (NAN);
}

static void
test_lambda_inf_n (void)
{
  expect_lambda_rejects (INFINITY);
}

static void
test_lambda_negative_inf_n (void)
{
  expect_lambda_rejects (-INFINITY);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/activation/relu", test_relu);
  g_test_add_func ("/activation/relu-backward-set", test_relu_backward_set);
  g_test_add_func ("/activation/relu-backward-set-overwrites",
                   test_relu_backward_set_overwrites);
  g_test_add_func ("/activation/gelu", test_gelu);
  g_test_add_func ("/activation/sigmoid", test_sigmoid);
  g_test_add_func ("/activation/tanh", test_tanh);
  g_test_add_func ("/activation/softmax", test_softmax);
  g_test_add_func ("/activation/softmax-large-logits",
                   test_softmax_large_logits);
  g_test_add_func ("/activation/dropout-seed", test_dropout_seed);
  g_test_add_func ("/activation/dropout-mask", test_dropout_mask);
  g_test_add_func ("/activation/dropout-identity", test_dropout_identity);
  g_test_add_func ("/activation/dropout-gradcheck", test_dropout_gradcheck);
  g_test_add_func ("/activation/grad-reverse", test_grad_reverse);

  g_test_add_func ("/activation/dropout-negative_n", test_dropout_negative_n);
  g_test_add_func ("/activation/dropout-tiny-negative_n",
                   test_dropout_tiny_negative_n);
  g_test_add_func ("/activation/dropout-one_n", test_dropout_one_n);
  g_test_add_func ("/activation/dropout-above-one_n",
                   test_dropout_above_one_n);
  g_test_add_func ("/activation/dropout-nan_n", test_dropout_nan_n);
  g_test_add_func ("/activation/dropout-negative-nan_n",
                   test_dropout_negative_nan_n);
  g_test_add_func ("/activation/dropout-inf_n", test_dropout_inf_n);
  g_test_add_func ("/activation/dropout-negative-inf_n",
                   test_dropout_negative_inf_n);
  g_test_add_func ("/activation/dropout-null-error_n",
                   test_dropout_null_error_n);
  g_test_add_func ("/activation/grad-reverse-nan_n", test_lambda_nan_n);
  g_test_add_func ("/activation/grad-reverse-inf_n", test_lambda_inf_n);
  g_test_add_func ("/activation/grad-reverse-negative-inf_n",
                   test_lambda_negative_inf_n);

  return g_test_run ();
}
