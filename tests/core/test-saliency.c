/* Saliency descriptors: NumPy goldens (make-saliency-golden.py), the
 * orientation bins of known edges, flat images, Harris on a corner against
 * an edge, translation tolerance, batching and scratch bounds, and bad
 * shapes.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/saliency.h>
#include "golden-file.h"
#include "gradcheck.h"

#define F MMDNN_SALIENCY_FEATURES

/* ---- helpers ------------------------------------------------------------ */

typedef struct {
  MmdnnSaliencyShape s;
  int64_t            n, nx, ny;
  float             *x, *out, *ws;
} Run;

static Run *
run_new (int64_t n, int64_t c, int64_t h, int64_t w, int64_t gh, int64_t gw)
{
  Run *r = g_new0 (Run, 1);
  GError *err = NULL;

  g_assert_true (mmdnn_saliency_shape_init (&r->s, c, h, w, gh, gw, &err));
  g_assert_no_error (err);
  r->n = n;
  r->nx = n * c * h * w;
  r->ny = n * gh * gw * F;
  r->x = gc_zeros (r->nx);
  r->out = gc_zeros (r->ny);
  r->ws = gc_zeros (r->s.ws_size);
  return r;
}

static void
run_free (Run *r)
{
  g_free (r->x);
  g_free (r->out);
  g_free (r->ws);
  g_free (r);
}

static void
run_forward (Run *r)
{
  for (int64_t i = 0; i < r->ny; i++)
    r->out[i] = NAN;                    /* forward must write every value */
  mmdnn_saliency_forward (r->out, r->ws, r->x, &r->s, r->n);
  for (int64_t i = 0; i < r->ny; i++)
    g_assert_true (isfinite (r->out[i]));
}

/* Grey value for pixel (y, x) of every channel of sample 0. */
typedef float (*Pattern) (int64_t y, int64_t x, gconstpointer data);

static void
run_fill (Run *r, Pattern p, gconstpointer data)
{
  int64_t h = r->s.h, w = r->s.w;

  for (int64_t c = 0; c < r->s.c; c++)
    for (int64_t y = 0; y < h; y++)
      for (int64_t x = 0; x < w; x++)
        r->x[(c * h + y) * w + x] = p (y, x, data);
}

static double
distance (const float *a, const float *b, int64_t n)
{
  double ss = 0.0;
  for (int64_t i = 0; i < n; i++)
    ss += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
  return sqrt (ss);
}

/* ---- golden files ------------------------------------------------------- */

static void
test_golden (gconstpointer data)
{
  const char *case_name = data;
  Golden *g = golden_open (case_name);
  const int32_t *geom;
  const float *x, *want;
  Run *r;
  double worst = 0.0;

  g_assert_nonnull (g);
  geom = GI32 (g, "geom", 6);
  g_assert_nonnull (geom);
  r = run_new (geom[0], geom[1], geom[2], geom[3], geom[4], geom[5]);
  x = GF32 (g, "x", geom[0], geom[1], geom[2], geom[3]);
  g_assert_nonnull (x);
  want = GF32 (g, "y", geom[0], geom[4] * geom[5], F);
  g_assert_nonnull (want);
  memcpy (r->x, x, sizeof (float) * r->nx);

  run_forward (r);
  for (int64_t i = 0; i < r->ny; i++)
    worst = MAX (worst, fabs ((double) r->out[i] - want[i]));
  g_test_message ("%s: max-abs-diff %.3g against NumPy", case_name, worst);
  g_assert_true (check_close (case_name, r->out, want, r->ny, 1e-4));

  golden_free (g);
  run_free (r);
}

/* ---- properties --------------------------------------------------------- */

typedef struct { int64_t at; gboolean vertical, rising; } Step;

static float
step_pattern (int64_t y, int64_t x, gconstpointer data)
{
  const Step *e = data;
  int64_t pos = e->vertical ? x : y;

  return (pos >= e->at) == e->rising ? 1.0f : 0.0f;
}

/* bins b and b' (and only they) hold energy, equally, in every sub-cell */
static void
assert_two_bins (const float *hist, int b, int b2)
{
  for (int sub = 0; sub < 4; sub++) {
    const float *h = hist + sub * 8;
    for (int k = 0; k < 8; k++) {
      if (k == b || k == b2)
        g_assert_cmpfloat (h[k], >, 0.1f);
      else
        g_assert_cmpfloat (h[k], ==, 0.0f);
    }
    g_assert_cmpfloat_with_epsilon (h[b], h[b2], 1e-6);
  }
}

/* θ = atan2 (Iy, Ix) with bin centres at 22.5° + k·45°: a vertical edge
 * (Ix only) sits exactly between two centres. Brighter to the right,
 * θ = 0: bins 7 and 0; brighter to the left, θ = π: bins 3 and 4. A
 * horizontal edge brighter downwards, θ = π/2: bins 1 and 2; upwards,
 * θ = 3π/2: bins 5 and 6. */
static void
test_edges (void)
{
  static const struct { Step e; int b, b2; } cases[] = {
    { { 8, TRUE, TRUE }, 7, 0 },
    { { 8, TRUE, FALSE }, 3, 4 },
    { { 8, FALSE, TRUE }, 1, 2 },
    { { 8, FALSE, FALSE }, 5, 6 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    Run *r = run_new (1, 2, 16, 16, 1, 1);

    run_fill (r, step_pattern, &cases[i].e);
    run_forward (r);
    assert_two_bins (r->out, cases[i].b, cases[i].b2);
    g_assert_cmpfloat (r->out[32], >, 0.0f);      /* DoG sees the edge */
    g_assert_cmpfloat (r->out[33], >, r->out[32]);
    g_assert_cmpfloat (r->out[35], ==, 0.0f);     /* a straight edge: R ≤ 0 */
    run_free (r);
  }
}

static float
flat_pattern (int64_t y, int64_t x, gconstpointer data)
{
  (void) y;
  (void) x;
  return *(const float *) data;
}

static void
test_flat (void)
{
  static const float levels[] = { 0.0f, 0.7f, -1.75f };

  for (guint i = 0; i < G_N_ELEMENTS (levels); i++) {
    Run *r = run_new (2, 3, 13, 17, 3, 4);

    run_fill (r, flat_pattern, &levels[i]);
    memcpy (r->x + r->nx / 2, r->x, sizeof (float) * (r->nx / 2));
    run_forward (r);
    for (int64_t k = 0; k < r->ny; k++) {
      /* histograms and Harris exactly 0; DoG up to the rounding of the
       * normalised Gaussian weights */
      if (k % F == 32 || k % F == 33)
        g_assert_cmpfloat (fabsf (r->out[k]), <=, 1e-6f);
      else
        g_assert_cmpfloat (r->out[k], ==, 0.0f);
    }
    run_free (r);
  }
}

static float
corner_pattern (int64_t y, int64_t x, gconstpointer data)
{
  (void) data;
  return x >= 12 && y >= 12 ? 2.0f : 0.0f;
}

static float
edge_pattern (int64_t y, int64_t x, gconstpointer data)
{
  (void) y;
  (void) data;
  return x >= 12 ? 2.0f : 0.0f;
}

static void
test_corner_vs_edge (void)
{
  Run *corner = run_new (1, 1, 24, 24, 1, 1);
  Run *edge = run_new (1, 1, 24, 24, 1, 1);

  run_fill (corner, corner_pattern, NULL);
  run_fill (edge, edge_pattern, NULL);
  run_forward (corner);
  run_forward (edge);
  g_test_message ("Harris mean/max: corner %g %g, edge %g %g",
                  corner->out[34], corner->out[35], edge->out[34],
                  edge->out[35]);
  g_assert_cmpfloat (corner->out[35], >, 1e-3f);
  g_assert_cmpfloat (corner->out[34], >, 0.0f);
  g_assert_cmpfloat (corner->out[35], >, 10.0f * edge->out[35]);
  g_assert_cmpfloat (corner->out[34], >, edge->out[34]);
  run_free (corner);
  run_free (edge);
}

typedef struct { double cy, cx, var; int kind; } Blob;

static float
blob_pattern (int64_t y, int64_t x, gconstpointer data)
{
  const Blob *b = data;
  double dy = (double) y - b->cy, dx = (double) x - b->cx;

  if (b->kind == 0)                     /* a round blob */
    return (float) exp (-(dy * dy + dx * dx) / (2.0 * b->var));
  /* a bar along a diagonal */
  return (float) (exp (-(dy - dx) * (dy - dx) / (2.0 * b->var)) *
                  (fabs (dy) < 8.0));
}

/* A pattern moved by a pixel inside a 32×32 cell (sub-cells 16×16) keeps
 * its descriptor: nearly exactly while it stays inside one sub-cell, and
 * roughly when it sits across sub-cell borders (some energy changes
 * sub-cell: the price of the 2×2 spatial layout); a different pattern is
 * far away. */
static void
test_translation (void)
{
  static const Blob small = { 7, 7, 2, 0 }, small_moved = { 8, 7, 2, 0 };
  static const Blob big = { 15.5, 15.5, 9, 0 }, big_moved = { 16.5, 15.5, 9, 0 };
  static const Blob bar = { 15.5, 15.5, 4, 1 };
  const Blob *pats[] = { &small, &small_moved, &big, &big_moved, &bar };
  float hist[5][32];
  double d_inside, d_moved, d_other;

  for (int i = 0; i < 5; i++) {
    Run *r = run_new (1, 1, 32, 32, 1, 1);
    run_fill (r, blob_pattern, pats[i]);
    run_forward (r);
    memcpy (hist[i], r->out, sizeof hist[i]);
    run_free (r);
  }
  d_inside = distance (hist[0], hist[1], 32);
  d_moved = distance (hist[2], hist[3], 32);
  d_other = distance (hist[2], hist[4], 32);
  g_test_message ("distances: inside %g, across sub-cells %g, other %g",
                  d_inside, d_moved, d_other);
  g_assert_cmpfloat (d_inside, <, 0.05);
  g_assert_cmpfloat (d_moved, <, 0.3);
  g_assert_cmpfloat (d_moved, <, 0.4 * d_other);
}

/* A batch gives what each sample gives alone (the scratch is reused and
 * its old contents do not matter), and the result is deterministic. */
static void
test_batch (void)
{
  Run *r = run_new (3, 2, 11, 14, 2, 3);
  Run *one = run_new (1, 2, 11, 14, 2, 3);
  int64_t per_x = one->nx, per_y = one->ny;
  MmdnnRng rng;
  float *first, *rnd;

  mmdnn_rng_init (&rng, 7);
  rnd = gc_random (&rng, r->nx, -2, 2);
  memcpy (r->x, rnd, sizeof (float) * r->nx);
  run_forward (r);
  first = g_memdup2 (r->out, sizeof (float) * r->ny);
  for (int64_t i = 0; i < r->s.ws_size; i++)
    r->ws[i] = 1e30f;
  run_forward (r);
  g_assert_cmpmem (first, sizeof (float) * r->ny, r->out,
                   sizeof (float) * r->ny);
  for (int64_t i = 2; i >= 0; i--) {
    memcpy (one->x, rnd + i * per_x, sizeof (float) * per_x);
    run_forward (one);
    g_assert_cmpmem (one->out, sizeof (float) * per_y, first + i * per_y,
                     sizeof (float) * per_y);
  }
  g_free (first);
  g_free (rnd);
  run_free (r);
  run_free (one);
}

/* The grey image is the channel mean: 3 channels a, b, c give what one
 * channel (a + b + c)/3 gives. */
static void
test_channel_mean (void)
{
  Run *rgb = run_new (1, 3, 12, 16, 3, 2);
  Run *grey = run_new (1, 1, 12, 16, 3, 2);
  MmdnnRng rng;
  int64_t hw = 12 * 16;
  float *src;

  mmdnn_rng_init (&rng, 11);
  src = gc_random (&rng, 3 * hw, -2, 2);
  memcpy (rgb->x, src, sizeof (float) * 3 * hw);
  for (int64_t i = 0; i < hw; i++)
    grey->x[i] = (float) (((double) src[i] + src[hw + i] + src[2 * hw + i])
                          / 3.0);
  run_forward (rgb);
  run_forward (grey);
  g_assert_true (check_close ("channel mean", rgb->out, grey->out, rgb->ny,
                              1e-6));
  g_free (src);
  run_free (rgb);
  run_free (grey);
}

/* Every cell's 32 histogram values are ≥ 0 with unit norm (or all 0) after
 * the SIFT clip-renormalise; the four log1p values are ≥ 0. */
static void
test_normalised (void)
{
  Run *r = run_new (2, 1, 20, 27, 4, 5);
  MmdnnRng rng;
  float *rnd;

  mmdnn_rng_init (&rng, 13);
  rnd = gc_random (&rng, r->nx, -2, 2);
  memcpy (r->x, rnd, sizeof (float) * r->nx);
  run_forward (r);
  for (int64_t k = 0; k < r->ny / F; k++) {
    const float *f = r->out + k * F;
    double ss = 0.0;

    for (int i = 0; i < 32; i++) {
      g_assert_cmpfloat (f[i], >=, 0.0f);
      ss += (double) f[i] * f[i];
    }
    g_assert_cmpfloat_with_epsilon (ss, 1.0, 1e-5);
    for (int i = 32; i < F; i++)
      g_assert_cmpfloat (f[i], >=, 0.0f);
    g_assert_cmpfloat (f[33], >=, f[32]);       /* max ≥ mean */
    g_assert_cmpfloat (f[35], >=, f[34]);
  }
  g_free (rnd);
  run_free (r);
}

/* forward touches exactly ws_size floats of scratch and N·K·36 of out */
static void
test_bounds (void)
{
  const int64_t guard = 64;
  MmdnnSaliencyShape s;
  int64_t nx = 2 * 3 * 9 * 13, ny = 2 * 2 * 3 * F;
  float *x, *ws, *out;
  MmdnnRng rng;

  g_assert_true (mmdnn_saliency_shape_init (&s, 3, 9, 13, 2, 3, NULL));
  g_assert_cmpint (s.ws_size, ==, 9 * 9 * 13);
  mmdnn_rng_init (&rng, 17);
  x = gc_random (&rng, nx, -1, 1);
  ws = g_new (float, s.ws_size + guard);
  out = g_new (float, ny + guard);
  for (int64_t i = 0; i < s.ws_size + guard; i++)
    ws[i] = -7.0f;
  for (int64_t i = 0; i < ny + guard; i++)
    out[i] = -7.0f;
  mmdnn_saliency_forward (out, ws, x, &s, 2);
  for (int64_t i = 0; i < guard; i++) {
    g_assert_cmpfloat (ws[s.ws_size + i], ==, -7.0f);
    g_assert_cmpfloat (out[ny + i], ==, -7.0f);
  }
  for (int64_t i = 0; i < ny; i++)
    g_assert_cmpfloat (out[i], >=, 0.0f);
  g_free (x);
  g_free (ws);
  g_free (out);
}

static void
test_shape (void)
{
  MmdnnSaliencyShape s;

  g_assert_true (mmdnn_saliency_shape_init (&s, 3, 64, 64, 4, 4, NULL));
  g_assert_cmpint (s.c, ==, 3);
  g_assert_cmpint (s.h, ==, 64);
  g_assert_cmpint (s.w, ==, 64);
  g_assert_cmpint (s.grid_h, ==, 4);
  g_assert_cmpint (s.grid_w, ==, 4);
  g_assert_cmpint (s.ws_size, ==, 9 * 64 * 64);
  g_assert_true (mmdnn_saliency_shape_init (&s, 1, 64, 100, 1, 10, NULL));
  g_assert_cmpint (s.ws_size, ==, 9 * 6400);
  /* the smallest cell decides: 7 rows in 2 cells are rows 0..3 and 3..6;
   * 15 in 4 are 0..3, 3..7, 7..11, 11..14; a single 4×4 cell */
  g_assert_true (mmdnn_saliency_shape_init (&s, 1, 7, 15, 2, 4, NULL));
  g_assert_true (mmdnn_saliency_shape_init (&s, 1, 4, 4, 1, 1, NULL));
}

/* ---- negative tests ----------------------------------------------------- */

typedef struct {
  const char *path;
  gboolean    null_shape;
  int64_t     a[5];                     /* c h w grid_h grid_w */
} ShapeNeg;

static const ShapeNeg shape_neg[] = {
  { "/saliency/shape-null_n", TRUE, { 3, 64, 64, 4, 4 } },
  { "/saliency/shape-zero-channels_n", FALSE, { 0, 64, 64, 4, 4 } },
  { "/saliency/shape-negative-channels_n", FALSE, { -3, 64, 64, 4, 4 } },
  { "/saliency/shape-zero-height_n", FALSE, { 3, 0, 64, 1, 4 } },
  { "/saliency/shape-negative-height_n", FALSE, { 3, -64, 64, 4, 4 } },
  { "/saliency/shape-zero-width_n", FALSE, { 3, 64, 0, 4, 1 } },
  { "/saliency/shape-zero-grid-h_n", FALSE, { 3, 64, 64, 0, 4 } },
  { "/saliency/shape-zero-grid-w_n", FALSE, { 3, 64, 64, 4, 0 } },
  { "/saliency/shape-negative-grid-h_n", FALSE, { 3, 64, 64, -4, 4 } },
  { "/saliency/shape-negative-grid-w_n", FALSE, { 3, 64, 64, 4, -1 } },
  { "/saliency/shape-grid-h-above-h_n", FALSE, { 3, 8, 64, 9, 4 } },
  { "/saliency/shape-grid-w-above-w_n", FALSE, { 3, 64, 8, 4, 9 } },
  { "/saliency/shape-cells-too-short_n", FALSE, { 3, 12, 64, 4, 4 } },
  { "/saliency/shape-cells-too-narrow_n", FALSE, { 1, 64, 9, 4, 3 } },
  { "/saliency/shape-image-too-small_n", FALSE, { 1, 3, 3, 1, 1 } },
  { "/saliency/shape-one-row_n", FALSE, { 1, 1, 64, 1, 4 } },
  { "/saliency/shape-too-many-channels_n", FALSE,
    { INT64_C (1) << 40, 8, 8, 1, 1 } },
  { "/saliency/shape-plane-too-large_n", FALSE,
    { 1, INT64_C (1) << 20, INT64_C (1) << 20, 4, 4 } },
};

static void
test_shape_n (gconstpointer data)
{
  const ShapeNeg *t = data;
  MmdnnSaliencyShape s, before;
  GError *err = NULL;

  memset (&s, 0x5a, sizeof s);
  before = s;
  g_assert_false (mmdnn_saliency_shape_init (t->null_shape ? NULL : &s,
                                             t->a[0], t->a[1], t->a[2],
                                             t->a[3], t->a[4], &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", err->message);
  g_assert_true (memcmp (&s, &before, sizeof s) == 0);
  g_error_free (err);
}

int
main (int argc, char **argv)
{
  static const char *golden[] = {
    "saliency-noise", "saliency-shapes", "saliency-video", "saliency-audio",
  };

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/saliency/shape", test_shape);
  for (guint i = 0; i < G_N_ELEMENTS (golden); i++) {
    char *path = g_strdup_printf ("/saliency/golden-%.*s",
                                  (int) strlen (golden[i]) - 9,
                                  golden[i] + 9);
    g_test_add_data_func (path, golden[i], test_golden);
    g_free (path);
  }
  g_test_add_func ("/saliency/edges", test_edges);
  g_test_add_func ("/saliency/flat", test_flat);
  g_test_add_func ("/saliency/corner-vs-edge", test_corner_vs_edge);
  g_test_add_func ("/saliency/translation", test_translation);
  g_test_add_func ("/saliency/batch", test_batch);
  g_test_add_func ("/saliency/channel-mean", test_channel_mean);
  g_test_add_func ("/saliency/normalised", test_normalised);
  g_test_add_func ("/saliency/bounds", test_bounds);

  for (guint i = 0; i < G_N_ELEMENTS (shape_neg); i++)
    g_test_add_data_func (shape_neg[i].path, &shape_neg[i], test_shape_n);

  return g_test_run ();
}
