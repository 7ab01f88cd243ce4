/* Max, average and global average pooling: values against direct loops,
 * finite-difference gradients, accumulation, and bad shapes; adaptive
 * average pooling likewise.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/activation.h>
#include <mmdnn/pool.h>
#include "gradcheck.h"

/* n c h w kh kw sh sw ph pw */
static const int64_t configs[][10] = {
  { 2, 3, 7, 6, 3, 3, 2, 2, 1, 1 },
  { 3, 2, 5, 8, 2, 3, 1, 2, 1, 0 },   /* non-square, overlapping rows */
  { 1, 2, 6, 5, 2, 2, 2, 2, 0, 0 },   /* non-overlapping, a column left out */
  { 2, 1, 5, 5, 3, 2, 1, 3, 0, 1 },
  { 2, 3, 8, 10, 2, 2, 2, 2, 0, 0 },  /* the encoders' 2×2 pools */
};

typedef enum { MAXPOOL, AVGPOOL, GLOBAL } Kind;

typedef struct {
  Kind              kind;
  MmdnnPool2dShape  s;
  int64_t           n, nx, ny;
  float            *x, *y, *dy, *dx;
  int32_t          *argmax;
} Case;

/* Inputs are a shuffled ramp with steps of 0.05, so no two are within the
 * 2·eps of a finite difference: max-pool has no tie, hence no kink. */
static Case *
case_new (Kind kind, const int64_t *c, uint64_t seed)
{
  Case *t = g_new0 (Case, 1);
  int64_t *perm;
  MmdnnRng rng;

  t->kind = kind;
  t->n = c[0];
  g_assert_true (mmdnn_pool2d_shape_init (&t->s, c[1], c[2], c[3], c[4], c[5],
                                          c[6], c[7], c[8], c[9], NULL));
  t->nx = t->n * c[1] * c[2] * c[3];
  t->ny = kind == GLOBAL ? t->n * c[1] : t->n * c[1] * t->s.h_out * t->s.w_out;
  mmdnn_rng_init (&rng, seed);
  perm = g_new (int64_t, t->nx);
  for (int64_t i = 0; i < t->nx; i++)
    perm[i] = i;
  mmdnn_rng_shuffle (&rng, perm, t->nx);
  t->x = g_new (float, t->nx);
  for (int64_t i = 0; i < t->nx; i++)
    t->x[i] = 0.05f * (float) (perm[i] - t->nx / 2);
  g_free (perm);
  t->dy = gc_random (&rng, t->ny, -1, 1);
  t->y = gc_zeros (t->ny);
  t->dx = gc_zeros (t->nx);
  t->argmax = g_new0 (int32_t, t->ny);
  return t;
}

static void
case_free (Case *t)
{
  g_free (t->x);
  g_free (t->y);
  g_free (t->dy);
  g_free (t->dx);
  g_free (t->argmax);
  g_free (t);
}

static void
case_forward (void *ctx)
{
  Case *t = ctx;

  switch (t->kind) {
  case MAXPOOL:
    mmdnn_maxpool2d_forward (t->y, t->argmax, t->x, &t->s, t->n);
    break;
  case AVGPOOL:
    mmdnn_avgpool2d_forward (t->y, t->x, &t->s, t->n);
    break;
  case GLOBAL:
    mmdnn_global_avgpool_forward (t->y, t->x, t->n, t->s.c,
                                  t->s.h_in * t->s.w_in);
    break;
  }
}

static void
case_backward (Case *t, float *dx)
{
  switch (t->kind) {
  case MAXPOOL:
    mmdnn_maxpool2d_backward (dx, t->dy, t->argmax, &t->s, t->n);
    break;
  case AVGPOOL:
    mmdnn_avgpool2d_backward (dx, t->dy, &t->s, t->n);
    break;
  case GLOBAL:
    mmdnn_global_avgpool_backward (dx, t->dy, t->n, t->s.c,
                                   t->s.h_in * t->s.w_in);
    break;
  }
}

/* Direct loops in double over each window [o·s − p, o·s − p + k), padding
 * excluded from the max and counted as zeros in the mean. Global pooling is
 * the 2-D average with the whole plane as the window. */
static float *
reference_forward (const Case *t, int32_t **argmax)
{
  const MmdnnPool2dShape *s = &t->s;
  float *y = g_new (float, t->ny);
  int64_t kh = s->kh, kw = s->kw, sh = s->stride_h, sw = s->stride_w;
  int64_t ph = s->pad_h, pw = s->pad_w, oh = s->h_out, ow = s->w_out;

  *argmax = g_new (int32_t, t->ny);
  if (t->kind == GLOBAL)
    kh = s->h_in, kw = s->w_in, sh = sw = 1, ph = pw = 0, oh = ow = 1;
  for (int64_t p = 0; p < t->n * s->c; p++)
    for (int64_t oy = 0; oy < oh; oy++)
      for (int64_t ox = 0; ox < ow; ox++) {
        double sum = 0.0, best = -INFINITY;
        int64_t best_i = -1, o = (p * oh + oy) * ow + ox;

        for (int64_t ki = 0; ki < kh; ki++)
          for (int64_t kj = 0; kj < kw; kj++) {
            int64_t iy = oy * sh - ph + ki, ix = ox * sw - pw + kj;
            double v;
            if (iy < 0 || iy >= s->h_in || ix < 0 || ix >= s->w_in)
              continue;
            v = t->x[(p * s->h_in + iy) * s->w_in + ix];
            sum += v;
            if (v > best) {
              best = v;
              best_i = iy * s->w_in + ix;
            }
          }
        y[o] = (float) (t->kind == MAXPOOL ? best : sum / (double) (kh * kw));
        (*argmax)[o] = (int32_t) best_i;
      }
  return y;
}

static void
run_forward (Kind kind)
{
  for (guint k = 0; k < G_N_ELEMENTS (configs); k++) {
    Case *t = case_new (kind, configs[k], 100 + k);
    int32_t *want_argmax;
    float *want = reference_forward (t, &want_argmax);

    memset (t->y, 0xff, sizeof (float) * t->ny);   /* NaN: must be overwritten */
    case_forward (t);
    g_assert_true (check_close ("pool forward", t->y, want, t->ny, 1e-6));
    if (kind == MAXPOOL)
      for (int64_t i = 0; i < t->ny; i++)
        g_assert_cmpint (t->argmax[i], ==, want_argmax[i]);
    g_free (want);
    g_free (want_argmax);
    case_free (t);
  }
}

static void
run_grad (Kind kind)
{
  for (guint k = 0; k < G_N_ELEMENTS (configs); k++) {
    Case *t = case_new (kind, configs[k], 200 + k);
    GradcheckInput in[] = { { "x", t->x, t->dx, t->nx } };

    /* pooled gradients are dy/(kh·kw) or dy/S, small: a tight atol keeps a
     * wrong divisor from hiding under it */
    case_forward (t);
    case_backward (t, t->dx);
    g_assert_true (gradcheck ("pool grad", case_forward, t, t->y, t->ny,
                              t->dy, in, 1, 1e-2, 1e-4, 1e-2));
    case_free (t);
  }
}

static void
run_accumulate (Kind kind)
{
  for (guint k = 0; k < G_N_ELEMENTS (configs); k++) {
    Case *t = case_new (kind, configs[k], 300 + k);
    float *once;
    double scale = 0.0, worst = 0.0;

    case_forward (t);
    case_backward (t, t->dx);
    once = g_memdup2 (t->dx, sizeof (float) * t->nx);
    case_backward (t, t->dx);
    for (int64_t i = 0; i < t->nx; i++) {
      scale = MAX (scale, fabs (2.0 * once[i]));
      worst = MAX (worst, fabs (t->dx[i] - 2.0 * once[i]));
    }
    g_assert_cmpfloat (scale, >, 0.0);
    g_assert_cmpfloat (worst, <=, 1e-6 * scale);
    g_free (once);
    case_free (t);
  }
}

static void test_maxpool_forward (void) { run_forward (MAXPOOL); }
static void test_maxpool_grad (void) { run_grad (MAXPOOL); }
static void test_maxpool_accumulate (void) { run_accumulate (MAXPOOL); }
static void test_avgpool_forward (void) { run_forward (AVGPOOL); }
static void test_avgpool_grad (void) { run_grad (AVGPOOL); }
static void test_avgpool_accumulate (void) { run_accumulate (AVGPOOL); }
static void test_global_forward (void) { run_forward (GLOBAL); }
static void test_global_grad (void) { run_grad (GLOBAL); }
static void test_global_accumulate (void) { run_accumulate (GLOBAL); }

/* PyTorch's choices where the maximum is not unique: the first in row-major
 * order wins a tie, a NaN wins over numbers; padding never wins. */
static void
test_maxpool_ties_nan (void)
{
  MmdnnPool2dShape s;
  float x[9] = { -5, -5, -5, -5, -5, -5, -5, -5, -5 }, y[4];
  int32_t argmax[4];

  /* 3×3, k 2, stride 2, pad 1: windows rows/cols {0}, {1,2} */
  g_assert_true (mmdnn_pool2d_shape_init (&s, 1, 3, 3, 2, 2, 2, 2, 1, 1,
                                          NULL));
  g_assert_cmpint (s.h_out, ==, 2);
  mmdnn_maxpool2d_forward (y, argmax, x, &s, 1);
  g_assert_cmpint (argmax[0], ==, 0);
  g_assert_cmpint (argmax[1], ==, 1);
  g_assert_cmpint (argmax[2], ==, 3);
  g_assert_cmpint (argmax[3], ==, 4);
  g_assert_cmpfloat (y[3], ==, -5.0f);

  x[8] = NAN;
  x[4] = 100.0f;
  mmdnn_maxpool2d_forward (y, argmax, x, &s, 1);
  g_assert_true (isnan (y[3]));
  g_assert_cmpint (argmax[3], ==, 8);
}

/* The same choices on the 2×2 stride-2 path: ties go to the first in
 * row-major order, a NaN wins, a later NaN over an earlier one, and a
 * window of −∞ keeps its first element. */
static void
test_maxpool_2x2_ties_nan (void)
{
  MmdnnPool2dShape s;
  float x[16], y[4];
  int32_t argmax[4];

  g_assert_true (mmdnn_pool2d_shape_init (&s, 1, 4, 4, 2, 2, 2, 2, 0, 0,
                                          NULL));
  for (int i = 0; i < 16; i++)
    x[i] = -5.0f;
  x[2] = x[3] = x[6] = x[7] = -INFINITY;       /* window 1 */
  x[9] = NAN;                                  /* window 2: 8 9 12 13 */
  x[12] = 7.0f;
  x[13] = NAN;
  x[11] = 3.0f;                                /* window 3: 10 11 14 15 */
  x[15] = 3.0f;
  mmdnn_maxpool2d_forward (y, argmax, x, &s, 1);
  g_assert_cmpint (argmax[0], ==, 0);
  g_assert_cmpfloat (y[0], ==, -5.0f);
  g_assert_cmpint (argmax[1], ==, 2);
  g_assert_true (isinf (y[1]) && y[1] < 0.0f);
  g_assert_cmpint (argmax[2], ==, 13);
  g_assert_true (isnan (y[2]));
  g_assert_cmpint (argmax[3], ==, 11);
  g_assert_cmpfloat (y[3], ==, 3.0f);
}

/* ReLU then max-pool, backward in one pass: into zeros, bit for bit what
 * the two backward passes give through a zeroed buffer, on every configuration
 * (overlapping windows, padding, the 2×2 pools) with r of both signs and
 * zeros. */
static void
test_maxpool_relu_backward (void)
{
  for (guint k = 0; k < G_N_ELEMENTS (configs); k++) {
    Case *t = case_new (MAXPOOL, configs[k], 400 + k);
    float *r = g_new (float, t->nx), *mid = gc_zeros (t->nx);
    float *two = g_new (float, t->nx), *one = g_new (float, t->nx);
    MmdnnRng rng;
    int64_t kept = 0;

    /* r = relu (x) with x of both signs: about half the maxima are 0 */
    mmdnn_relu_forward (r, t->x, t->nx);
    mmdnn_maxpool2d_forward (t->y, t->argmax, r, &t->s, t->n);
    memset (one, 0, sizeof (float) * t->nx);
    memset (two, 0, sizeof (float) * t->nx);
    mmdnn_maxpool2d_backward (mid, t->dy, t->argmax, &t->s, t->n);
    mmdnn_relu_backward (two, mid, r, t->nx);
    mmdnn_maxpool2d_relu_backward (one, t->dy, t->argmax, r, &t->s, t->n);
    g_assert_true (memcmp (one, two, sizeof (float) * t->nx) == 0);
    for (int64_t i = 0; i < t->nx; i++)
      kept += mid[i] != 0.0f && r[i] > 0.0f;
    g_assert_cmpint (kept, >, 0);

    /* onto non-zero dx: added (an element of overlapping windows takes
     * its terms one by one, so only to rounding) */
    mmdnn_rng_init (&rng, 9 + k);
    mmdnn_rng_fill_uniform (&rng, mid, t->nx, -1, 1);
    for (int64_t i = 0; i < t->nx; i++)
      two[i] += mid[i];
    mmdnn_maxpool2d_relu_backward (mid, t->dy, t->argmax, r, &t->s, t->n);
    g_assert_true (check_close ("accumulated", mid, two, t->nx, 1e-6));
    g_free (r);
    g_free (mid);
    g_free (two);
    g_free (one);
    case_free (t);
  }
}

/* The overwriting form, over a NaN-filled dx: bit for bit the accumulating
 * one into zeros on every configuration (the general scatter, the 2×2
 * pools, odd sizes whose last row or column no window covers), on dy with
 * −0 and NaN. */
static void
test_maxpool_relu_backward_set (void)
{
  /* n c h w kh kw sh sw ph pw: the configs plus 2×2 pools on odd sizes */
  static const int64_t odd[][10] = {
    { 2, 2, 5, 7, 2, 2, 2, 2, 0, 0 },
    { 1, 3, 3, 4, 2, 2, 2, 2, 0, 0 },
    { 1, 1, 2, 3, 2, 2, 2, 2, 0, 0 },
  };

  for (guint k = 0; k < G_N_ELEMENTS (configs) + G_N_ELEMENTS (odd); k++) {
    const int64_t *cfg = k < G_N_ELEMENTS (configs)
        ? configs[k] : odd[k - G_N_ELEMENTS (configs)];
    Case *t = case_new (MAXPOOL, cfg, 500 + k);
    float *r = g_new (float, t->nx), *set = g_new (float, t->nx);
    float *acc = gc_zeros (t->nx);
    int64_t passed = 0, blocked = 0;

    mmdnn_relu_forward (r, t->x, t->nx);
    mmdnn_maxpool2d_forward (t->y, t->argmax, r, &t->s, t->n);
    if (t->ny > 2) {
      t->dy[0] = -0.0f;
      t->dy[t->ny - 1] = NAN;
    }
    for (int64_t i = 0; i < t->nx; i++)
      set[i] = NAN;
    mmdnn_maxpool2d_relu_backward_set (set, t->dy, t->argmax, r, &t->s, t->n);
    mmdnn_maxpool2d_relu_backward (acc, t->dy, t->argmax, r, &t->s, t->n);
    g_assert_true (memcmp (set, acc, sizeof (float) * t->nx) == 0);
    for (int64_t i = 0; i < t->nx; i++) {
      passed += set[i] != 0.0f;
      blocked += set[i] == 0.0f;
    }
    g_assert_cmpint (passed, >, 0);
    g_assert_cmpint (blocked, >, 0);
    g_free (r);
    g_free (set);
    g_free (acc);
    case_free (t);
  }
}

/* What dx held before never shows; a NaN dy passes only where its argmax
 * has r > 0, and the uncovered last row and column are zeroed. */
static void
test_maxpool_relu_backward_set_overwrites (void)
{
  MmdnnPool2dShape s;
  float r[15], dx[15], y[2], dy[2] = { NAN, 2.0f };
  int32_t argmax[2];

  /* 3×5 plane: one row of two windows, row 2 and column 4 left out */
  g_assert_true (mmdnn_pool2d_shape_init (&s, 1, 3, 5, 2, 2, 2, 2, 0, 0,
                                          NULL));
  for (int i = 0; i < 15; i++) {
    r[i] = 0.0f;
    dx[i] = INFINITY;
  }
  r[6] = 1.0f;                  /* window 0's maximum, but r = 0 there */
  r[2] = -1.0f;
  r[8] = 3.0f;                  /* window 1's maximum, passes */
  r[0] = -1.0f;
  mmdnn_maxpool2d_forward (y, argmax, r, &s, 1);
  g_assert_cmpint (argmax[0], ==, 6);
  g_assert_cmpint (argmax[1], ==, 8);
  mmdnn_maxpool2d_relu_backward_set (dx, dy, argmax, r, &s, 1);
  for (int i = 0; i < 15; i++)
    if (i == 6)
      g_assert_true (isnan (dx[i]));
    else if (i == 8)
      g_assert_cmpfloat (dx[i], ==, 2.0f);
    else
      g_assert_cmpfloat (dx[i], ==, 0.0f);
  /* with r ≤ 0 at the argmax the NaN is blocked */
  r[6] = 0.0f;
  r[1] = 0.5f;
  mmdnn_maxpool2d_forward (y, argmax, r, &s, 1);
  g_assert_cmpint (argmax[0], ==, 1);
  r[1] = -0.5f;                 /* the pool's input as if the ReLU gave ≤ 0 */
  mmdnn_maxpool2d_relu_backward_set (dx, dy, argmax, r, &s, 1);
  for (int i = 0; i < 15; i++)
    g_assert_cmpfloat (dx[i], ==, i == 8 ? 2.0f : 0.0f);
}

/* Where the ReLU's output is not positive nothing passes, whatever dy
 * holds (NaN and ∞ included). */
static void
test_maxpool_relu_backward_blocked (void)
{
  MmdnnPool2dShape s;
  float r[16], dx[16], dy[4] = { NAN, INFINITY, -INFINITY, 1.0f };
  int32_t argmax[4];
  float y[4];

  g_assert_true (mmdnn_pool2d_shape_init (&s, 1, 4, 4, 2, 2, 2, 2, 0, 0,
                                          NULL));
  for (int i = 0; i < 16; i++) {
    r[i] = 0.0f;
    dx[i] = 0.5f;
  }
  mmdnn_maxpool2d_forward (y, argmax, r, &s, 1);
  mmdnn_maxpool2d_relu_backward (dx, dy, argmax, r, &s, 1);
  for (int i = 0; i < 16; i++)
    g_assert_cmpfloat (dx[i], ==, 0.5f);
}

static void
test_shape (void)
{
  MmdnnPool2dShape s;

  g_assert_true (mmdnn_pool2d_shape_init (&s, 3, 7, 6, 3, 3, 2, 2, 1, 1,
                                          NULL));
  /* (7 + 2 − 3)/2 + 1 = 4, (6 + 2 − 3)/2 + 1 = 3 */
  g_assert_cmpint (s.h_out, ==, 4);
  g_assert_cmpint (s.w_out, ==, 3);
  g_assert_cmpint (s.c, ==, 3);
  g_assert_true (mmdnn_pool2d_shape_init (&s, 1, 5, 8, 5, 2, 1, 3, 2, 1,
                                          NULL));
  g_assert_cmpint (s.h_out, ==, 5);
  g_assert_cmpint (s.w_out, ==, 3);
}

/* ---- negative tests ----------------------------------------------------- */

typedef struct {
  const char *path;
  gboolean    null_shape;
  int64_t     a[9];                     /* c h w kh kw sh sw ph pw */
} ShapeNeg;

static const ShapeNeg shape_neg[] = {
  { "/pool/shape-zero-channels_n", FALSE, { 0, 7, 6, 3, 3, 2, 2, 1, 1 } },
  { "/pool/shape-zero-height_n", FALSE, { 3, 0, 6, 3, 3, 2, 2, 1, 1 } },
  { "/pool/shape-negative-width_n", FALSE, { 3, 7, -6, 3, 3, 2, 2, 1, 1 } },
  { "/pool/shape-zero-kernel_n", FALSE, { 3, 7, 6, 0, 3, 2, 2, 0, 1 } },
  { "/pool/shape-negative-kernel_n", FALSE, { 3, 7, 6, 3, -3, 2, 2, 1, 0 } },
  { "/pool/shape-stride-h-zero_n", FALSE, { 3, 7, 6, 3, 3, 0, 2, 1, 1 } },
  { "/pool/shape-stride-w-zero_n", FALSE, { 3, 7, 6, 3, 3, 2, 0, 1, 1 } },
  { "/pool/shape-negative-pad-h_n", FALSE, { 3, 7, 6, 3, 3, 2, 2, -1, 1 } },
  { "/pool/shape-negative-pad-w_n", FALSE, { 3, 7, 6, 3, 3, 2, 2, 1, -1 } },
  { "/pool/shape-pad-h-over-half-k_n", FALSE, { 3, 7, 6, 3, 3, 2, 2, 2, 1 } },
  { "/pool/shape-pad-w-over-half-k_n", FALSE, { 3, 7, 6, 3, 1, 2, 2, 1, 1 } },
  { "/pool/shape-kernel-too-big-h_n", FALSE, { 3, 3, 6, 5, 3, 1, 1, 0, 1 } },
  { "/pool/shape-kernel-too-big-w_n", FALSE, { 3, 7, 2, 3, 4, 1, 1, 1, 0 } },
  { "/pool/shape-plane-beyond-int32_n", FALSE, { 1, 1 << 16, 1 << 16, 1, 1, 1, 1, 0, 0 } },
  { "/pool/shape-too-large_n", FALSE, { INT64_C (1) << 40, 4, 4, 1, 1, 1, 1, 0, 0 } },
  { "/pool/shape-null_n", TRUE, { 3, 7, 6, 3, 3, 2, 2, 1, 1 } },
};

static void
test_shape_n (gconstpointer data)
{
  const ShapeNeg *t = data;
  const int64_t *a = t->a;
  MmdnnPool2dShape s, before;
  GError *err = NULL;

  memset (&s, 0x5a, sizeof s);
  before = s;
  g_assert_false (mmdnn_pool2d_shape_init (t->null_shape ? NULL : &s, a[0],
                                           a[1], a[2], a[3], a[4], a[5], a[6],
                                           a[7], a[8], &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", err->message);
  g_assert_true (memcmp (&s, &before, sizeof s) == 0);
  g_error_free (err);
}

/* ---- adaptive average pooling ------------------------------------------ */

/* n c h_in w_in h_out w_out */
static const int64_t adaptive_configs[][6] = {
  { 2, 3, 7, 6, 3, 4 },     /* overlapping cells on both axes */
  { 3, 1, 9, 10, 4, 1 },    /* one output column: a row mean per cell */
  { 2, 2, 6, 8, 3, 4 },     /* divisible: plain 2×2 average pooling */
  { 1, 2, 5, 5, 5, 5 },     /* output = input size: the identity */
  { 2, 1, 4, 5, 1, 1 },     /* global average */
};

typedef struct {
  int64_t  n, c, h, w, oh, ow, nx, ny;
  float   *x, *y, *dy, *dx;
} Adaptive;

static Adaptive *
adaptive_new (const int64_t *c, uint64_t seed)
{
  Adaptive *t = g_new0 (Adaptive, 1);
  MmdnnRng rng;

  t->n = c[0], t->c = c[1], t->h = c[2], t->w = c[3], t->oh = c[4];
  t->ow = c[5];
  g_assert_true (mmdnn_adaptive_pool2d_check (t->c, t->h, t->w, t->oh, t->ow,
                                              NULL));
  t->nx = t->n * t->c * t->h * t->w;
  t->ny = t->n * t->c * t->oh * t->ow;
  mmdnn_rng_init (&rng, seed);
  t->x = gc_random (&rng, t->nx, -1, 1);
  t->dy = gc_random (&rng, t->ny, -1, 1);
  t->y = gc_zeros (t->ny);
  t->dx = gc_zeros (t->nx);
  return t;
}

static void
adaptive_free (Adaptive *t)
{
  g_free (t->x);
  g_free (t->y);
  g_free (t->dy);
  g_free (t->dx);
  g_free (t);
}

static void
adaptive_forward (void *ctx)
{
  Adaptive *t = ctx;

  mmdnn_adaptive_avgpool2d_forward (t->y, t->x, t->n, t->c, t->h, t->w, t->oh,
                                    t->ow);
}

static void
adaptive_backward (Adaptive *t, float *dx)
{
  mmdnn_adaptive_avgpool2d_backward (dx, t->dy, t->n, t->c, t->h, t->w, t->oh,
                                     t->ow);
}

/* The bounds straight from their definition, floor(i·H/OH) and
 * ceil((i+1)·H/OH) in floating point, and the mean in double. */
static float *
adaptive_reference (const Adaptive *t)
{
  float *y = g_new (float, t->ny);

  for (int64_t p = 0; p < t->n * t->c; p++)
    for (int64_t i = 0; i < t->oh; i++)
      for (int64_t j = 0; j < t->ow; j++) {
        int64_t y0 = (int64_t) floor ((double) (i * t->h) / (double) t->oh);
        int64_t y1 = (int64_t) ceil ((double) ((i + 1) * t->h) / (double) t->oh);
        int64_t x0 = (int64_t) floor ((double) (j * t->w) / (double) t->ow);
        int64_t x1 = (int64_t) ceil ((double) ((j + 1) * t->w) / (double) t->ow);
        double sum = 0.0;

        for (int64_t a = y0; a < y1; a++)
          for (int64_t b = x0; b < x1; b++)
            sum += t->x[(p * t->h + a) * t->w + b];
        y[(p * t->oh + i) * t->ow + j] =
            (float) (sum / (double) ((y1 - y0) * (x1 - x0)));
      }
  return y;
}

static void
test_adaptive_forward (void)
{
  for (guint k = 0; k < G_N_ELEMENTS (adaptive_configs); k++) {
    Adaptive *t = adaptive_new (adaptive_configs[k], 400 + k);
    float *want = adaptive_reference (t);

    memset (t->y, 0xff, sizeof (float) * t->ny);   /* NaN: must be overwritten */
    adaptive_forward (t);
    g_assert_true (check_close ("adaptive forward", t->y, want, t->ny, 1e-6));
    if (t->oh == t->h && t->ow == t->w)
      g_assert_true (check_close ("adaptive identity", t->y, t->x, t->nx,
                                  0.0));
    g_free (want);
    adaptive_free (t);
  }
}

/* 5 → 3 on a ramp: cells {0,1}, {1,2,3}, {3,4} (PyTorch's overlap) */
static void
test_adaptive_values (void)
{
  const float x[5] = { 1, 2, 4, 8, 16 };
  float y[3], dx[5] = { 0 };
  const float dy[3] = { 6, 3, 2 };

  mmdnn_adaptive_avgpool2d_forward (y, x, 1, 1, 1, 5, 1, 3);
  g_assert_cmpfloat (y[0], ==, 1.5f);
  g_assert_cmpfloat_with_epsilon (y[1], 14.0f / 3.0f, 1e-6);
  g_assert_cmpfloat (y[2], ==, 12.0f);
  mmdnn_adaptive_avgpool2d_backward (dx, dy, 1, 1, 1, 5, 1, 3);
  g_assert_cmpfloat (dx[0], ==, 3.0f);
  g_assert_cmpfloat (dx[1], ==, 4.0f);
  g_assert_cmpfloat (dx[2], ==, 1.0f);
  g_assert_cmpfloat (dx[3], ==, 2.0f);
  g_assert_cmpfloat (dx[4], ==, 1.0f);
}

static void
test_adaptive_grad (void)
{
  for (guint k = 0; k < G_N_ELEMENTS (adaptive_configs); k++) {
    Adaptive *t = adaptive_new (adaptive_configs[k], 500 + k);
    GradcheckInput in[] = { { "x", t->x, t->dx, t->nx } };

    adaptive_forward (t);
    adaptive_backward (t, t->dx);
    g_assert_true (gradcheck ("adaptive grad", adaptive_forward, t, t->y,
                              t->ny, t->dy, in, 1, 1e-2, 1e-4, 1e-2));
    adaptive_free (t);
  }
}

static void
test_adaptive_accumulate (void)
{
  for (guint k = 0; k < G_N_ELEMENTS (adaptive_configs); k++) {
    Adaptive *t = adaptive_new (adaptive_configs[k], 600 + k);
    float *once;

    adaptive_forward (t);
    adaptive_backward (t, t->dx);
    once = g_memdup2 (t->dx, sizeof (float) * t->nx);
    adaptive_backward (t, t->dx);
    g_assert_true (check_doubled ("adaptive accumulate", once, t->dx, t->nx));
    g_free (once);
    adaptive_free (t);
  }
}

typedef struct {
  const char *path;
  int64_t     a[5];                     /* c h_in w_in h_out w_out */
} AdaptiveNeg;

static const AdaptiveNeg adaptive_neg[] = {
  { "/pool/adaptive-zero-channels_n", { 0, 7, 6, 3, 3 } },
  { "/pool/adaptive-negative-channels_n", { -2, 7, 6, 3, 3 } },
  { "/pool/adaptive-zero-h-in_n", { 3, 0, 6, 1, 3 } },
  { "/pool/adaptive-zero-w-in_n", { 3, 7, 0, 3, 1 } },
  { "/pool/adaptive-zero-h-out_n", { 3, 7, 6, 0, 3 } },
  { "/pool/adaptive-negative-w-out_n", { 3, 7, 6, 3, -1 } },
  { "/pool/adaptive-h-out-above-h-in_n", { 3, 7, 6, 8, 3 } },
  { "/pool/adaptive-w-out-above-w-in_n", { 3, 7, 6, 3, 7 } },
  { "/pool/adaptive-too-large_n", { INT64_C (1) << 40, 4, 4, 2, 2 } },
};

static void
test_adaptive_check_n (gconstpointer data)
{
  const AdaptiveNeg *t = data;
  GError *err = NULL;

  g_assert_false (mmdnn_adaptive_pool2d_check (t->a[0], t->a[1], t->a[2],
                                               t->a[3], t->a[4], &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", err->message);
  g_error_free (err);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pool/shape", test_shape);
  g_test_add_func ("/pool/maxpool2d-forward", test_maxpool_forward);
  g_test_add_func ("/pool/maxpool2d-ties-nan", test_maxpool_ties_nan);
  g_test_add_func ("/pool/maxpool2d-2x2-ties-nan", test_maxpool_2x2_ties_nan);
  g_test_add_func ("/pool/maxpool2d-relu-backward", test_maxpool_relu_backward);
  g_test_add_func ("/pool/maxpool2d-relu-backward-blocked_n",
                   test_maxpool_relu_backward_blocked);
  g_test_add_func ("/pool/maxpool2d-relu-backward-set",
                   test_maxpool_relu_backward_set);
  g_test_add_func ("/pool/maxpool2d-relu-backward-set-overwrites",
                   test_maxpool_relu_backward_set_overwrites);
  g_test_add_func ("/pool/maxpool2d-grad", test_maxpool_grad);
  g_test_add_func ("/pool/maxpool2d-accumulate", test_maxpool_accumulate);
  g_test_add_func ("/pool/avgpool2d-forward", test_avgpool_forward);
  g_test_add_func ("/pool/avgpool2d-grad", test_avgpool_grad);
  g_test_add_func ("/pool/avgpool2d-accumulate", test_avgpool_accumulate);
  g_test_add_func ("/pool/global-avgpool-forward", test_global_forward);
  g_test_add_func ("/pool/global-avgpool-grad", test_global_grad);
  g_test_add_func ("/pool/global-avgpool-accumulate", test_global_accumulate);

  for (guint i = 0; i < G_N_ELEMENTS (shape_neg); i++)
    g_test_add_data_func (shape_neg[i].path, &shape_neg[i], test_shape_n);
  g_test_add_func ("/pool/adaptive-avgpool2d-forward", test_adaptive_forward);
  g_test_add_func ("/pool/adaptive-avgpool2d-values", test_adaptive_values);
  g_test_add_func ("/pool/adaptive-avgpool2d-grad", test_adaptive_grad);
  g_test_add_func ("/pool/adaptive-avgpool2d-accumulate",
                   test_adaptive_accumulate);
  for (guint i = 0; i < G_N_ELEMENTS (adaptive_neg); i++)
    g_test_add_data_func (adaptive_neg[i].path, &adaptive_neg[i],
                          test_adaptive_check_n);

  return g_test_run ();
}
