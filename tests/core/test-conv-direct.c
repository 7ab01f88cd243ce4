/* The direct Conv2d loops for few input channels (conv-direct.c), and their
 * wide blocks for many: every instruction set this CPU runs, and the
 * im2col + GEMM path, against a double-precision loop on odd shapes —
 * forward, dx, dw, db, accumulation, garbage in the scratch — plus a
 * finite-difference check through the direct path, and the shapes and
 * kernel names it must refuse.
 *
 * Tolerance: each output within 1e-5 · Σ|terms| of the double sum (the
 * terms of that output: products for y, dx, dw; dy values for db). The
 * paths differ in summation order and fused multiply-add only, so float
 * rounding of a few thousand terms stays well inside it.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/conv.h>
#include "gradcheck.h"

#define TOL 1e-5

typedef struct {
  int64_t n, c_in, h, w, c_out, kh, kw, ph, pw;
  gboolean bias;
} Config;

/* stride 1, c_in ≤ 4: all taken by the direct path */
static const Config configs[] = {
  { 2, 3, 7, 6, 4, 3, 3, 1, 1, TRUE },      /* small, "same" */
  { 3, 1, 5, 13, 5, 3, 5, 0, 2, TRUE },     /* non-square kernel, odd C_out */
  { 2, 2, 9, 17, 7, 5, 5, 2, 2, FALSE },    /* no bias, width past a vector */
  { 1, 4, 6, 33, 3, 7, 7, 3, 3, TRUE },     /* 4 channels, k7 */
  { 2, 3, 11, 9, 6, 7, 3, 3, 1, TRUE },     /* tall kernel */
  { 2, 1, 1, 40, 3, 1, 5, 0, 2, TRUE },     /* Conv1d-like row */
  { 1, 3, 8, 8, 2, 3, 3, 0, 0, TRUE },      /* valid, no padding */
  { 2, 2, 6, 10, 9, 2, 4, 1, 3, TRUE },     /* even kernel, asymmetric pad */
  { 1, 3, 64, 64, 16, 7, 7, 3, 3, TRUE },   /* the video encoder's k7 */
  { 1, 1, 64, 100, 16, 5, 5, 2, 2, TRUE },  /* the audio encoder's k5 */
};

/* Many channels: the forward pass and dx through the wide blocks with
 * AVX2 and AVX-512 (portable and GEMM stay on im2col + sgemm, and dw on
 * every kernel). Output channels that are not a multiple of the blocks,
 * rows of one vector and of several, widths past a vector, even and
 * non-square kernels, no padding. */
static const Config wide_configs[] = {
  { 2, 13, 9, 21, 29, 3, 3, 1, 1, TRUE },
  { 1, 9, 16, 16, 30, 3, 3, 1, 1, FALSE },    /* one vector a row */
  { 1, 10, 34, 33, 9, 3, 5, 1, 2, TRUE },     /* 9 output channels */
  { 2, 12, 7, 19, 14, 2, 4, 0, 0, TRUE },     /* even, no padding */
  { 1, 9, 5, 40, 12, 5, 3, 2, 1, TRUE },      /* 9 input channels */
  { 1, 48, 32, 32, 64, 3, 3, 1, 1, TRUE },    /* video 48 → 64 */
  { 1, 64, 16, 25, 128, 3, 3, 1, 1, TRUE },   /* audio 64 → 128 */
};

static gboolean
has_wide (MmdnnConvKernel k)
{
  return k == MMDNN_CONV_KERNEL_AVX2 || k == MMDNN_CONV_KERNEL_AVX512;
}

typedef struct {
  const Config     *cfg;
  MmdnnConv2dShape  s;
  int64_t           nx, nw, ny;
  float            *x, *w, *b, *dy;
  /* double results and the Σ|terms| of each */
  double           *y, *my, *dx, *mdx, *dw, *mdw, *db, *mdb;
} Case;

static Case *
case_new (const Config *c, uint64_t seed)
{
  Case *t = g_new0 (Case, 1);
  const MmdnnConv2dShape *s = &t->s;
  MmdnnRng rng;

  t->cfg = c;
  g_assert_true (mmdnn_conv2d_shape_init (&t->s, c->c_in, c->h, c->w,
                                          c->c_out, c->kh, c->kw, 1, 1,
                                          c->ph, c->pw, NULL));
  t->nx = c->n * c->c_in * c->h * c->w;
  t->nw = c->c_out * c->c_in * c->kh * c->kw;
  t->ny = c->n * c->c_out * s->h_out * s->w_out;
  mmdnn_rng_init (&rng, seed);
  t->x = gc_random (&rng, t->nx, -1, 1);
  t->w = gc_random (&rng, t->nw, -1, 1);
  t->b = c->bias ? gc_random (&rng, c->c_out, -1, 1) : NULL;
  t->dy = gc_random (&rng, t->ny, -1, 1);
  t->y = g_new0 (double, t->ny);
  t->my = g_new0 (double, t->ny);
  t->dx = g_new0 (double, t->nx);
  t->mdx = g_new0 (double, t->nx);
  t->dw = g_new0 (double, t->nw);
  t->mdw = g_new0 (double, t->nw);
  t->db = g_new0 (double, c->c_out);
  t->mdb = g_new0 (double, c->c_out);

  /* the definition, in double */
  for (int64_t i = 0; i < c->n; i++)
    for (int64_t co = 0; co < c->c_out; co++)
      for (int64_t oy = 0; oy < s->h_out; oy++)
        for (int64_t ox = 0; ox < s->w_out; ox++) {
          int64_t yi = ((i * c->c_out + co) * s->h_out + oy) * s->w_out + ox;
          double g = t->dy[yi];

          if (t->b != NULL) {
            t->y[yi] = t->b[co];
            t->my[yi] = fabs (t->b[co]);
          }
          t->db[co] += g;
          t->mdb[co] += fabs (g);
          for (int64_t ci = 0; ci < c->c_in; ci++)
            for (int64_t ki = 0; ki < c->kh; ki++)
              for (int64_t kj = 0; kj < c->kw; kj++) {
                int64_t iy = oy - c->ph + ki, ix = ox - c->pw + kj;
                int64_t xi, wi;

                if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w)
                  continue;
                xi = ((i * c->c_in + ci) * c->h + iy) * c->w + ix;
                wi = ((co * c->c_in + ci) * c->kh + ki) * c->kw + kj;
                t->y[yi] += (double) t->w[wi] * t->x[xi];
                t->my[yi] += fabs ((double) t->w[wi] * t->x[xi]);
                t->dx[xi] += (double) t->w[wi] * g;
                t->mdx[xi] += fabs ((double) t->w[wi] * g);
                t->dw[wi] += (double) t->x[xi] * g;
                t->mdw[wi] += fabs ((double) t->x[xi] * g);
              }
        }
  return t;
}

static void
case_free (Case *t)
{
  void *bufs[] = { t->x, t->w, t->b, t->dy, t->y, t->my, t->dx, t->mdx,
                   t->dw, t->mdw, t->db, t->mdb };

  for (guint i = 0; i < G_N_ELEMENTS (bufs); i++)
    g_free (bufs[i]);
  g_free (t);
}

/* got[i] − base[i] against want[i], within TOL·mag[i] (+ a floor for an
 * output with no terms at all) */
static gboolean
close_to (const char *label, const float *got, const float *base,
          const double *want, const double *mag, int64_t n)
{
  for (int64_t i = 0; i < n; i++) {
    double v = (double) got[i] - (base != NULL ? base[i] : 0.0);
    double tol = TOL * mag[i] + 1e-6;

    if (!(fabs (v - want[i]) <= tol)) {
      g_test_message ("%s[%" G_GINT64_FORMAT "] = %.9g, want %.9g (tol %.3g)",
                      label, i, v, want[i], tol);
      return FALSE;
    }
  }
  return TRUE;
}

static void
set_kernel (MmdnnConvKernel k)
{
  GError *error = NULL;

  g_assert_true (mmdnn_conv_kernel_set (k, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mmdnn_conv_kernel_get (), ==, k);
}

/* Forward into NaN-filled y and backward onto non-zero dx, dw, db, with the
 * scratch full of NaN: y must be overwritten, the gradients added to.
 * direct, forward_direct: what mmdnn_conv2d_is_direct and
 * mmdnn_conv2d_forward_is_direct must say under kernel k. */
static void
run_case (Case *t, MmdnnConvKernel k, gboolean direct,
          gboolean forward_direct)
{
  const Config *c = t->cfg;
  const MmdnnConv2dShape *s = &t->s;
  float *y = g_new (float, t->ny), *col = g_new (float, s->col_size);
  float *dx0 = g_new (float, t->nx), *dw0 = g_new (float, t->nw);
  float *db0 = g_new (float, c->c_out);
  float *dx = g_new (float, t->nx), *dw = g_new (float, t->nw);
  float *db = g_new (float, c->c_out);
  char *label = g_strdup_printf ("%s c_in %" G_GINT64_FORMAT " %"
                                 G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                                 " k%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT,
                                 mmdnn_conv_kernel_name (k), c->c_in, c->h,
                                 c->w, c->kh, c->kw);
  MmdnnRng rng;

  set_kernel (k);
  g_assert_cmpint (mmdnn_conv2d_is_direct (s), ==, direct);
  g_assert_cmpint (mmdnn_conv2d_forward_is_direct (s), ==, forward_direct);
  mmdnn_rng_init (&rng, 7);
  mmdnn_rng_fill_uniform (&rng, dx0, t->nx, -1, 1);
  mmdnn_rng_fill_uniform (&rng, dw0, t->nw, -1, 1);
  mmdnn_rng_fill_uniform (&rng, db0, c->c_out, -1, 1);
  memcpy (dx, dx0, sizeof (float) * t->nx);
  memcpy (dw, dw0, sizeof (float) * t->nw);
  memcpy (db, db0, sizeof (float) * c->c_out);
  for (int64_t i = 0; i < t->ny; i++)
    y[i] = NAN;
  for (int64_t i = 0; i < s->col_size; i++)
    col[i] = NAN;

  mmdnn_conv2d_forward (y, col, t->x, t->w, t->b, s, c->n);
  g_assert_true (close_to (label, y, NULL, t->y, t->my, t->ny));

  for (int64_t i = 0; i < s->col_size; i++)
    col[i] = NAN;
  mmdnn_conv2d_backward (dx, dw, db, col, t->dy, t->x, t->w, s, c->n);
  g_assert_true (close_to (label, dx, dx0, t->dx, t->mdx, t->nx));
  g_assert_true (close_to (label, dw, dw0, t->dw, t->mdw, t->nw));
  g_assert_true (close_to (label, db, db0, t->db, t->mdb, c->c_out));

  /* each gradient alone gives the same as all three together */
  memcpy (dw, dw0, sizeof (float) * t->nw);
  mmdnn_conv2d_backward (NULL, dw, NULL, col, t->dy, t->x, t->w, s, c->n);
  g_assert_true (close_to (label, dw, dw0, t->dw, t->mdw, t->nw));
  memcpy (dx, dx0, sizeof (float) * t->nx);
  mmdnn_conv2d_backward (dx, NULL, NULL, col, t->dy, t->x, t->w, s, c->n);
  g_assert_true (close_to (label, dx, dx0, t->dx, t->mdx, t->nx));

  g_free (label);
  g_free (y);
  g_free (col);
  g_free (dx0);
  g_free (dw0);
  g_free (db0);
  g_free (dx);
  g_free (dw);
  g_free (db);
}

static void
test_kernel (gconstpointer data)
{
  MmdnnConvKernel k = GPOINTER_TO_INT (data);

  if (!mmdnn_conv_kernel_supported (k)) {
    g_test_skip ("this CPU does not run these kernels");
    return;
  }
  for (guint i = 0; i < G_N_ELEMENTS (configs); i++) {
    Case *t = case_new (&configs[i], 100 + i);

    run_case (t, k, k != MMDNN_CONV_KERNEL_GEMM, k != MMDNN_CONV_KERNEL_GEMM);
    case_free (t);
  }
  for (guint i = 0; i < G_N_ELEMENTS (wide_configs); i++) {
    Case *t = case_new (&wide_configs[i], 200 + i);

    run_case (t, k, FALSE, has_wide (k));
    case_free (t);
  }
}

/* The wide blocks of AVX2 and AVX-512 agree with GEMM well inside the
 * tolerance, on the video encoder's 48 → 64. */
static void
test_wide_paths_agree (void)
{
  Case *t = case_new (&wide_configs[5], 43);
  const MmdnnConv2dShape *s = &t->s;
  float *col = g_new (float, s->col_size);
  float *ref = g_new (float, t->ny), *y = g_new (float, t->ny);
  int compared = 0;

  set_kernel (MMDNN_CONV_KERNEL_GEMM);
  mmdnn_conv2d_forward (ref, col, t->x, t->w, t->b, s, t->cfg->n);
  for (int k = MMDNN_CONV_KERNEL_AVX2; k <= MMDNN_CONV_KERNEL_AVX512; k++) {
    if (!mmdnn_conv_kernel_supported (k))
      continue;
    set_kernel (k);
    g_assert_true (mmdnn_conv2d_forward_is_direct (s));
    mmdnn_conv2d_forward (y, col, t->x, t->w, t->b, s, t->cfg->n);
    g_assert_true (check_close (mmdnn_conv_kernel_name (k), y, ref, t->ny,
                                1e-4));
    compared++;
  }
  if (compared == 0)
    g_test_skip ("this CPU runs neither AVX2 nor AVX-512");
  g_free (ref);
  g_free (y);
  g_free (col);
  case_free (t);
}

/* Every direct ISA gives what the others give, well inside the tolerance
 * against the definition. */
static void
test_paths_agree (void)
{
  Case *t = case_new (&configs[8], 42);
  const MmdnnConv2dShape *s = &t->s;
  float *col = g_new (float, s->col_size);
  float *ref = NULL;

  for (int k = MMDNN_CONV_KERNEL_GEMM; k <= MMDNN_CONV_KERNEL_AVX512; k++) {
    float *y = g_new (float, t->ny);

    if (!mmdnn_conv_kernel_supported (k)) {
      g_free (y);
      continue;
    }
    set_kernel (k);
    mmdnn_conv2d_forward (y, col, t->x, t->w, t->b, s, t->cfg->n);
    if (ref == NULL) {
      ref = y;
      continue;
    }
    g_assert_true (check_close (mmdnn_conv_kernel_name (k), y, ref, t->ny,
                                1e-4));
    g_free (y);
  }
  g_free (ref);
  g_free (col);
  case_free (t);
}

/* Finite differences through the direct path of the best ISA. */
typedef struct {
  MmdnnConv2dShape s;
  float *x, *w, *b, *y, *col;
  int64_t n;
} Fd;

static void
fd_forward (void *ctx)
{
  Fd *f = ctx;

  mmdnn_conv2d_forward (f->y, f->col, f->x, f->w, f->b, &f->s, f->n);
}

static void
test_gradcheck (void)
{
  Fd f = { .n = 2 };
  MmdnnRng rng;
  float *r, *dx, *dw, *db;
  int64_t nx, nw, ny;

  for (int k = MMDNN_CONV_KERNEL_AVX512; k > MMDNN_CONV_KERNEL_GEMM; k--)
    if (mmdnn_conv_kernel_supported (k)) {
      set_kernel (k);
      break;
    }
  g_assert_true (mmdnn_conv2d_shape_init (&f.s, 2, 5, 7, 3, 3, 5, 1, 1, 1,
                                          2, NULL));
  g_assert_true (mmdnn_conv2d_is_direct (&f.s));
  nx = f.n * 2 * 5 * 7, nw = 3 * 2 * 3 * 5, ny = f.n * 3 * 5 * 7;
  mmdnn_rng_init (&rng, 3);
  f.x = gc_random (&rng, nx, -1, 1);
  f.w = gc_random (&rng, nw, -1, 1);
  f.b = gc_random (&rng, 3, -1, 1);
  f.y = gc_zeros (ny);
  f.col = gc_zeros (f.s.col_size);
  r = gc_random (&rng, ny, -1, 1);
  dx = gc_zeros (nx), dw = gc_zeros (nw), db = gc_zeros (3);
  mmdnn_conv2d_backward (dx, dw, db, f.col, r, f.x, f.w, &f.s, f.n);
  {
    GradcheckInput in[] = {
      { "x", f.x, dx, nx }, { "w", f.w, dw, nw }, { "b", f.b, db, 3 },
    };

    g_assert_true (gradcheck ("conv-direct", fd_forward, &f, f.y, ny, r, in,
                              G_N_ELEMENTS (in), 1e-2, 1e-3, 1e-2));
  }
  g_free (f.x);
  g_free (f.w);
  g_free (f.b);
  g_free (f.y);
  g_free (f.col);
  g_free (r);
  g_free (dx);
  g_free (dw);
  g_free (db);
}

/* ---- what the direct path must refuse ---------------------------------- */

static void
test_bad_kernel (void)
{
  MmdnnConvKernel before = mmdnn_conv_kernel_get ();
  GError *error = NULL;

  g_assert_false (mmdnn_conv_kernel_set ((MmdnnConvKernel) 99, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mmdnn_conv_kernel_set ((MmdnnConvKernel) -1, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpint (mmdnn_conv_kernel_get (), ==, before);
  g_assert_false (mmdnn_conv_kernel_supported ((MmdnnConvKernel) 99));
  g_assert_null (mmdnn_conv_kernel_name ((MmdnnConvKernel) 99));
  g_assert_null (mmdnn_conv_kernel_name ((MmdnnConvKernel) -1));
  g_assert_cmpstr (mmdnn_conv_kernel_name (MMDNN_CONV_KERNEL_GEMM), ==,
                   "gemm");
  g_assert_true (mmdnn_conv_kernel_supported (MMDNN_CONV_KERNEL_PORTABLE));
}

/* A kernel the CPU cannot run is refused (only testable on such a CPU). */
static void
test_unsupported_kernel (void)
{
  MmdnnConvKernel before = mmdnn_conv_kernel_get ();
  GError *error = NULL;
  gboolean tested = FALSE;

  for (int k = MMDNN_CONV_KERNEL_AVX2; k <= MMDNN_CONV_KERNEL_AVX512; k++)
    if (!mmdnn_conv_kernel_supported (k)) {
      g_assert_false (mmdnn_conv_kernel_set (k, &error));
      g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
      g_assert_cmpint (mmdnn_conv_kernel_get (), ==, before);
      tested = TRUE;
    }
  if (!tested)
    g_test_skip ("this CPU runs every kernel");
}

/* Shapes that stay on im2col + GEMM under every kernel — and still give
 * the definition's result. */
static void
test_refused_shapes (void)
{
  static const struct {
    int64_t c_in, h, w, k, stride, pad;
  } refused[] = {
    { 3, 9, 9, 3, 2, 1 },     /* stride 2 */
    { 5, 9, 9, 3, 1, 1 },     /* 5 input channels */
    { 8, 9, 9, 3, 1, 1 },     /* 8: not yet the wide blocks' */
    { 16, 9, 9, 3, 2, 1 },    /* wide, stride 2 */
    { 16, 9, 9, 3, 1, 3 },    /* wide, padding ≥ kernel */
    { 2, 9, 9, 3, 1, 3 },     /* padding ≥ kernel */
    { 1, 1, 1, 3, 1, 1 },     /* padded rows larger than col */
  };

  for (int k = MMDNN_CONV_KERNEL_GEMM; k <= MMDNN_CONV_KERNEL_AVX512; k++) {
    if (!mmdnn_conv_kernel_supported (k))
      continue;
    set_kernel (k);
    for (guint i = 0; i < G_N_ELEMENTS (refused); i++) {
      MmdnnConv2dShape s;

      g_assert_true (mmdnn_conv2d_shape_init (&s, refused[i].c_in,
                                              refused[i].h, refused[i].w, 4,
                                              refused[i].k, refused[i].k,
                                              refused[i].stride,
                                              refused[i].stride,
                                              refused[i].pad, refused[i].pad,
                                              NULL));
      g_assert_false (mmdnn_conv2d_is_direct (&s));
      g_assert_false (mmdnn_conv2d_forward_is_direct (&s));
    }
  }
  g_assert_false (mmdnn_conv2d_is_direct (NULL));
  g_assert_false (mmdnn_conv2d_forward_is_direct (NULL));
}

/* A refused shape under a direct kernel still computes the definition. */
static void
test_refused_computes (void)
{
  Config c = { 1, 1, 1, 1, 3, 3, 3, 1, 1, TRUE };
  Case *t = case_new (&c, 9);
  float *y = g_new (float, t->ny), *col = g_new (float, t->s.col_size);

  for (int k = MMDNN_CONV_KERNEL_PORTABLE; k <= MMDNN_CONV_KERNEL_AVX512; k++) {
    if (!mmdnn_conv_kernel_supported (k))
      continue;
    set_kernel (k);
    g_assert_false (mmdnn_conv2d_is_direct (&t->s));
    mmdnn_conv2d_forward (y, col, t->x, t->w, t->b, &t->s, c.n);
    g_assert_true (close_to ("refused", y, NULL, t->y, t->my, t->ny));
  }
  g_free (y);
  g_free (col);
  case_free (t);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (int k = MMDNN_CONV_KERNEL_GEMM; k <= MMDNN_CONV_KERNEL_AVX512; k++) {
    char *path = g_strdup_printf ("/conv-direct/%s", mmdnn_conv_kernel_name (k));

    g_test_add_data_func (path, GINT_TO_POINTER (k), test_kernel);
    g_free (path);
  }
  g_test_add_func ("/conv-direct/wide-paths-agree", test_wide_paths_agree);
  g_test_add_func ("/conv-direct/paths-agree", test_paths_agree);
  g_test_add_func ("/conv-direct/gradcheck", test_gradcheck);
  g_test_add_func ("/conv-direct/bad-kernel", test_bad_kernel);
  g_test_add_func ("/conv-direct/unsupported-kernel", test_unsupported_kernel);
  g_test_add_func ("/conv-direct/refused-shapes", test_refused_shapes);
  g_test_add_func ("/conv-direct/refused-computes", test_refused_computes);
  return g_test_run ();
}
