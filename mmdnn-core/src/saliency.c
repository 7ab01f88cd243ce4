/* mmdnn — fixed SIFT/HOG-like local descriptors per grid cell (no weights).
 * The definitions are in saliency.h; this file follows them step by step.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>

#include <mmdnn/saliency.h>
#include <mmdnn/tensor.h>
#include "internal.h"

#define N_BINS        8
#define HIST_VALUES   (4 * N_BINS)
#define MAX_RADIUS    6         /* ceil(3σ) for the largest σ, 2 */
#define SIFT_CLIP     0.2
#define NORM_FLOOR    1e-6
#define HARRIS_K      0.04
#define WS_IMAGES     9         /* see MmdnnSaliencyShape.ws_size */

/* Cell @i of @parts over [0, @len): PyTorch's adaptive bounds
 * [floor(i·len/parts), ceil((i+1)·len/parts)), in integer arithmetic. */
static void
cell_bounds (int64_t i, int64_t len, int64_t parts, int64_t *lo, int64_t *hi)
{
  *lo = (i * len) / parts;
  *hi = ((i + 1) * len + parts - 1) / parts;
}

static int64_t
smallest_cell (int64_t len, int64_t parts)
{
  int64_t best = len;

  for (int64_t i = 0; i < parts; i++) {
    int64_t lo, hi;
    cell_bounds (i, len, parts, &lo, &hi);
    best = MIN (best, hi - lo);
  }
  return best;
}

gboolean
mmdnn_saliency_shape_init (MmdnnSaliencyShape *s, int64_t c, int64_t h,
                           int64_t w, int64_t grid_h, int64_t grid_w,
                           GError **error)
{
  MMDNN_CHECK_NOT_NULL (s, error, FALSE);
  MMDNN_CHECK (c >= 1 && c <= MMDNN_MAX_NUMEL, error, FALSE,
               "%s: c = %" G_GINT64_FORMAT " must be ≥ 1", G_STRFUNC, c);
  MMDNN_CHECK (h >= 1 && h <= G_MAXINT32, error, FALSE,
               "%s: h = %" G_GINT64_FORMAT " must be in [1, %d]", G_STRFUNC,
               h, G_MAXINT32);
  MMDNN_CHECK (w >= 1 && w <= G_MAXINT32, error, FALSE,
               "%s: w = %" G_GINT64_FORMAT " must be in [1, %d]", G_STRFUNC,
               w, G_MAXINT32);
  MMDNN_CHECK (grid_h >= 1 && grid_h <= h, error, FALSE,
               "%s: grid_h = %" G_GINT64_FORMAT " must be in [1, h = %"
               G_GINT64_FORMAT "]", G_STRFUNC, grid_h, h);
  MMDNN_CHECK (grid_w >= 1 && grid_w <= w, error, FALSE,
               "%s: grid_w = %" G_GINT64_FORMAT " must be in [1, w = %"
               G_GINT64_FORMAT "]", G_STRFUNC, grid_w, w);
  MMDNN_CHECK (h * w <= MMDNN_MAX_NUMEL / WS_IMAGES &&
               c <= MMDNN_MAX_NUMEL / (h * w), error, FALSE,
               "%s: input %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT "×%"
               G_GINT64_FORMAT " is too large", G_STRFUNC, c, h, w);
  MMDNN_CHECK (smallest_cell (h, grid_h) >= 4, error, FALSE,
               "%s: grid_h = %" G_GINT64_FORMAT " splits h = %"
               G_GINT64_FORMAT " into cells of %" G_GINT64_FORMAT
               " rows; every cell needs at least 4", G_STRFUNC, grid_h, h,
               smallest_cell (h, grid_h));
  MMDNN_CHECK (smallest_cell (w, grid_w) >= 4, error, FALSE,
               "%s: grid_w = %" G_GINT64_FORMAT " splits w = %"
               G_GINT64_FORMAT " into cells of %" G_GINT64_FORMAT
               " columns; every cell needs at least 4", G_STRFUNC, grid_w,
               w, smallest_cell (w, grid_w));

  *s = (MmdnnSaliencyShape) { c, h, w, grid_h, grid_w, WS_IMAGES * h * w };
  return TRUE;
}

/* ---- image helpers (one H×W float plane each) --------------------------- */

static void
grey_image (float *grey, const float *x, int64_t c, int64_t hw)
{
  for (int64_t i = 0; i < hw; i++) {
    double acc = 0.0;
    for (int64_t ch = 0; ch < c; ch++)
      acc += x[ch * hw + i];
    grey[i] = (float) (acc / (double) c);
  }
}

/* Central differences with a replicate border (step 2 of saliency.h). */
static void
gradients (float *gx, float *gy, const float *img, int64_t h, int64_t w)
{
  for (int64_t y = 0; y < h; y++) {
    const float *up = img + MAX (y - 1, 0) * w;
    const float *down = img + MIN (y + 1, h - 1) * w;
    const float *row = img + y * w;

    for (int64_t x = 0; x < w; x++) {
      gx[y * w + x] = 0.5f * (row[MIN (x + 1, w - 1)] - row[MAX (x - 1, 0)]);
      gy[y * w + x] = 0.5f * (down[x] - up[x]);
    }
  }
}

/* Normalised weights exp(−k²/2σ²), k = −r..r, r = ceil(3σ); returns r.
 * Only σ = 1 and 2 are used, so r ≤ MAX_RADIUS. */
static int64_t
gaussian_weights (double *wts, double sigma)
{
  int64_t r = (int64_t) ceil (3.0 * sigma);
  double sum = 0.0;

  for (int64_t k = -r; k <= r; k++) {
    wts[k + r] = exp (-(double) (k * k) / (2.0 * sigma * sigma));
    sum += wts[k + r];
  }
  for (int64_t k = 0; k <= 2 * r; k++)
    wts[k] /= sum;
  return r;
}

/* dst = G(σ) ∗ src, separable, replicate border: along rows into tmp, then
 * along columns into dst. dst may be src (tmp holds the intermediate). */
static void
gaussian_blur (float *dst, float *tmp, const float *src, double sigma,
               int64_t h, int64_t w)
{
  double wts[2 * MAX_RADIUS + 1];
  int64_t r = gaussian_weights (wts, sigma);

  for (int64_t y = 0; y < h; y++)
    for (int64_t x = 0; x < w; x++) {
      double acc = 0.0;
      for (int64_t k = -r; k <= r; k++)
        acc += wts[k + r] * src[y * w + CLAMP (x + k, 0, w - 1)];
      tmp[y * w + x] = (float) acc;
    }
  for (int64_t y = 0; y < h; y++)
    for (int64_t x = 0; x < w; x++) {
      double acc = 0.0;
      for (int64_t k = -r; k <= r; k++)
        acc += wts[k + r] * tmp[CLAMP (y + k, 0, h - 1) * w + x];
      dst[y * w + x] = (float) acc;
    }
}

/* ---- per-cell features -------------------------------------------------- */

/* hist[0..7] += the magnitude-weighted, linearly interpolated orientation
 * histogram of rows [y0, y1) × columns [x0, x1) (step 4). */
static void
orientation_histogram (double *hist, const float *gx, const float *gy,
                       int64_t w, int64_t y0, int64_t y1, int64_t x0,
                       int64_t x1)
{
  for (int64_t y = y0; y < y1; y++)
    for (int64_t x = x0; x < x1; x++) {
      double dx = gx[y * w + x], dy = gy[y * w + x];
      double m = sqrt (dx * dx + dy * dy), theta, t, f;
      int64_t b0;

      if (m == 0.0)
        continue;
      theta = atan2 (dy, dx);
      if (theta < 0.0)
        theta += 2.0 * G_PI;
      t = theta * (double) N_BINS / (2.0 * G_PI) - 0.5;
      b0 = (int64_t) floor (t);
      f = t - (double) b0;
      hist[(b0 + N_BINS) % N_BINS] += m * (1.0 - f);
      hist[(b0 + 1 + N_BINS) % N_BINS] += m * f;
    }
}

static void
l2_normalise (double *v, int64_t n)
{
  double ss = 0.0, scale;

  for (int64_t i = 0; i < n; i++)
    ss += v[i] * v[i];
  scale = 1.0 / MAX (sqrt (ss), NORM_FLOOR);
  for (int64_t i = 0; i < n; i++)
    v[i] *= scale;
}

/* The 32 SIFT values of the cell rows [y0, y1) × columns [x0, x1). */
static void
cell_histograms (float *out, const float *gx, const float *gy, int64_t w,
                 int64_t y0, int64_t y1, int64_t x0, int64_t x1)
{
  double h[HIST_VALUES] = { 0 };

  for (int64_t a = 0; a < 2; a++)
    for (int64_t b = 0; b < 2; b++) {
      int64_t sy0, sy1, sx0, sx1;

      cell_bounds (a, y1 - y0, 2, &sy0, &sy1);
      cell_bounds (b, x1 - x0, 2, &sx0, &sx1);
      orientation_histogram (h + (a * 2 + b) * N_BINS, gx, gy, w,
                             y0 + sy0, y0 + sy1, x0 + sx0, x0 + sx1);
    }
  l2_normalise (h, HIST_VALUES);
  for (int64_t i = 0; i < HIST_VALUES; i++)
    h[i] = MIN (h[i], SIFT_CLIP);
  l2_normalise (h, HIST_VALUES);
  for (int64_t i = 0; i < HIST_VALUES; i++)
    out[i] = (float) h[i];
}

/* log1p of the mean and of the max of |a − b| (b NULL: of max(a, 0)) over
 * the cell rows [y0, y1) × columns [x0, x1). */
static void
cell_mean_max (float *out, const float *a, const float *b, int64_t w,
               int64_t y0, int64_t y1, int64_t x0, int64_t x1)
{
  double sum = 0.0, best = 0.0;

  for (int64_t y = y0; y < y1; y++)
    for (int64_t x = x0; x < x1; x++) {
      double v = b ? fabs ((double) a[y * w + x] - (double) b[y * w + x])
                   : MAX ((double) a[y * w + x], 0.0);
      sum += v;
      best = MAX (best, v);
    }
  out[0] = (float) log1p (sum / (double) ((y1 - y0) * (x1 - x0)));
  out[1] = (float) log1p (best);
}

/* R = A·B − C² − k·(A + B)² in place of A, in double (step 6). */
static void
harris_response (float *a, const float *b, const float *c, int64_t hw)
{
  for (int64_t i = 0; i < hw; i++) {
    double sa = a[i], sb = b[i], sc = c[i], tr = sa + sb;
    a[i] = (float) (sa * sb - sc * sc - HARRIS_K * tr * tr);
  }
}

void
mmdnn_saliency_forward (float *out, float *ws, const float *x,
                        const MmdnnSaliencyShape *s, int64_t n)
{
  int64_t h = s->h, w = s->w, hw = h * w, cells = s->grid_h * s->grid_w;
  float *grey = ws, *gx = ws + hw, *gy = ws + 2 * hw, *tmp = ws + 3 * hw;
  float *g1 = ws + 4 * hw, *g2 = ws + 5 * hw;
  float *sxx = ws + 6 * hw, *syy = ws + 7 * hw, *sxy = ws + 8 * hw;

  for (int64_t i = 0; i < n; i++) {
    float *o = out + i * cells * MMDNN_SALIENCY_FEATURES;

    grey_image (grey, x + i * s->c * hw, s->c, hw);
    gradients (gx, gy, grey, h, w);
    gaussian_blur (g1, tmp, grey, 1.0, h, w);
    gaussian_blur (g2, tmp, grey, 2.0, h, w);
    for (int64_t p = 0; p < hw; p++) {
      sxx[p] = gx[p] * gx[p];
      syy[p] = gy[p] * gy[p];
      sxy[p] = gx[p] * gy[p];
    }
    gaussian_blur (sxx, tmp, sxx, 1.0, h, w);
    gaussian_blur (syy, tmp, syy, 1.0, h, w);
    gaussian_blur (sxy, tmp, sxy, 1.0, h, w);
    harris_response (sxx, syy, sxy, hw);

    for (int64_t ci = 0; ci < s->grid_h; ci++)
      for (int64_t cj = 0; cj < s->grid_w; cj++) {
        float *f = o + (ci * s->grid_w + cj) * MMDNN_SALIENCY_FEATURES;
        int64_t y0, y1, x0, x1;

        cell_bounds (ci, h, s->grid_h, &y0, &y1);
        cell_bounds (cj, w, s->grid_w, &x0, &x1);
        cell_histograms (f, gx, gy, w, y0, y1, x0, x1);
        cell_mean_max (f + HIST_VALUES, g1, g2, w, y0, y1, x0, x1);
        cell_mean_max (f + HIST_VALUES + 2, sxx, NULL, w, y0, y1, x0, x1);
      }
  }
}
