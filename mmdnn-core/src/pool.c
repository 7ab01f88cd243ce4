/* mmdnn — max, average, global and adaptive average pooling (NCHW).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/pool.h>
#include <mmdnn/tensor.h>
#include "internal.h"

static gboolean
check_axis (const char *fn, const char *in_name, int64_t in,
            const char *k_name, int64_t k, const char *stride_name,
            int64_t stride, const char *pad_name, int64_t pad, GError **error)
{
  MMDNN_CHECK (in >= 1 && in <= G_MAXINT32, error, FALSE,
               "%s: %s = %" G_GINT64_FORMAT " must be in [1, %d]", fn,
               in_name, in, G_MAXINT32);
  MMDNN_CHECK (k >= 1 && k <= G_MAXINT32, error, FALSE,
               "%s: %s = %" G_GINT64_FORMAT " must be ≥ 1", fn, k_name, k);
  MMDNN_CHECK (stride >= 1 && stride <= G_MAXINT32, error, FALSE,
               "%s: %s = %" G_GINT64_FORMAT " must be ≥ 1", fn, stride_name,
               stride);
  MMDNN_CHECK (pad >= 0 && pad <= k / 2, error, FALSE,
               "%s: %s = %" G_GINT64_FORMAT " must be in [0, %s/2 = %"
               G_GINT64_FORMAT "]", fn, pad_name, pad, k_name, k / 2);
  MMDNN_CHECK (in + 2 * pad >= k, error, FALSE,
               "%s: %s = %" G_GINT64_FORMAT " is larger than the padded "
               "input %" G_GINT64_FORMAT, fn, k_name, k, in + 2 * pad);
  return TRUE;
}

gboolean
mmdnn_pool2d_shape_init (MmdnnPool2dShape *s, int64_t c, int64_t h_in,
                         int64_t w_in, int64_t kh, int64_t kw,
                         int64_t stride_h, int64_t stride_w, int64_t pad_h,
                         int64_t pad_w, GError **error)
{
  MMDNN_CHECK_NOT_NULL (s, error, FALSE);
  MMDNN_CHECK (c >= 1 && c <= MMDNN_MAX_NUMEL, error, FALSE,
               "%s: c = %" G_GINT64_FORMAT " must be ≥ 1", G_STRFUNC, c);
  if (!check_axis (G_STRFUNC, "h_in", h_in, "kh", kh, "stride_h", stride_h,
                   "pad_h", pad_h, error) ||
      !check_axis (G_STRFUNC, "w_in", w_in, "kw", kw, "stride_w", stride_w,
                   "pad_w", pad_w, error))
    return FALSE;
  /* argmax is an int32 index into one plane */
  MMDNN_CHECK (h_in * w_in <= G_MAXINT32 &&
               c <= MMDNN_MAX_NUMEL / (h_in * w_in), error, FALSE,
               "%s: input %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT "×%"
               G_GINT64_FORMAT " is too large", G_STRFUNC, c, h_in, w_in);

  *s = (MmdnnPool2dShape) { c, h_in, w_in, kh, kw, stride_h, stride_w,
                            pad_h, pad_w,
                            (h_in + 2 * pad_h - kh) / stride_h + 1,
                            (w_in + 2 * pad_w - kw) / stride_w + 1 };
  return TRUE;
}

/* The input rows [*lo, *hi) under output row o, padding dropped: with
 * pad ≤ k/2 the range is never empty. */
static void
window (int64_t o, int64_t k, int64_t stride, int64_t pad, int64_t in,
        int64_t *lo, int64_t *hi)
{
  int64_t start = o * stride - pad;

  *lo = MAX (start, 0);
  *hi = MIN (start + k, in);
}

/* One candidate of a max-pool window, in scan order: it takes over when
 * larger or NaN (a later NaN over an earlier one), as the general loop. */
#define MAX_TAKE(v, at)                                                        \
  G_STMT_START {                                                               \
    float v_ = (v);                                                            \
    gboolean take_ = v_ > best || v_ != v_;                                   \
    best = take_ ? v_ : best;                                                  \
    best_i = take_ ? (at) : best_i;                                           \
  } G_STMT_END

/* 2×2 windows, stride 2, no padding (every pool of the default image
 * encoders): the four candidates of a window without bounds or branches,
 * so GCC vectorises along the row. */
static void
maxpool_2x2 (float *restrict y, int32_t *restrict argmax,
             const float *restrict xp, const MmdnnPool2dShape *s)
{
  for (int64_t oy = 0; oy < s->h_out; oy++) {
    const float *r0 = xp + 2 * oy * s->w_in, *r1 = r0 + s->w_in;
    int32_t i0 = (int32_t) (2 * oy * s->w_in), i1 = i0 + (int32_t) s->w_in;
    float *yr = y + oy * s->w_out;
    int32_t *ar = argmax + oy * s->w_out;

    for (int64_t ox = 0; ox < s->w_out; ox++) {
      int32_t c = (int32_t) (2 * ox);
      float best = r0[c];
      int32_t best_i = i0 + c;

      MAX_TAKE (r0[c + 1], i0 + c + 1);
      MAX_TAKE (r1[c], i1 + c);
      MAX_TAKE (r1[c + 1], i1 + c + 1);
      yr[ox] = best;
      ar[ox] = best_i;
    }
  }
}

void
mmdnn_maxpool2d_forward (float *y, int32_t *argmax, const float *x,
                         const MmdnnPool2dShape *s, int64_t n)
{
  if (s->kh == 2 && s->kw == 2 && s->stride_h == 2 && s->stride_w == 2 &&
      s->pad_h == 0 && s->pad_w == 0) {
    for (int64_t p = 0; p < n * s->c; p++)
      maxpool_2x2 (y + p * s->h_out * s->w_out,
                   argmax + p * s->h_out * s->w_out,
                   x + p * s->h_in * s->w_in, s);
    return;
  }
  for (int64_t p = 0; p < n * s->c; p++) {
    const float *xp = x + p * s->h_in * s->w_in;

    for (int64_t oy = 0; oy < s->h_out; oy++)
      for (int64_t ox = 0; ox < s->w_out; ox++) {
        int64_t y0, y1, x0, x1, o = (p * s->h_out + oy) * s->w_out + ox;
        int64_t best_i;
        float best = -INFINITY;

        window (oy, s->kh, s->stride_h, s->pad_h, s->h_in, &y0, &y1);
        window (ox, s->kw, s->stride_w, s->pad_w, s->w_in, &x0, &x1);
        best_i = y0 * s->w_in + x0;
        for (int64_t iy = y0; iy < y1; iy++)
          for (int64_t ix = x0; ix < x1; ix++) {
            float v = xp[iy * s->w_in + ix];
            if (v > best || isnan (v)) {
              best = v;
              best_i = iy * s->w_in + ix;
            }
          }
        y[o] = best;
        argmax[o] = (int32_t) best_i;
      }
  }
}

void
mmdnn_maxpool2d_backward (float *dx, const float *dy, const int32_t *argmax,
                          const MmdnnPool2dShape *s, int64_t n)
{
  int64_t per_plane = s->h_out * s->w_out;

  for (int64_t p = 0; p < n * s->c; p++)
    for (int64_t o = 0; o < per_plane; o++)
      dx[p * s->h_in * s->w_in + argmax[p * per_plane + o]] +=
          dy[p * per_plane + o];
}

void
mmdnn_maxpool2d_relu_backward (float *dx, const float *dy,
                               const int32_t *argmax, const float *r,
                               const MmdnnPool2dShape *s, int64_t n)
{
  int64_t per_plane = s->h_out * s->w_out, in_plane = s->h_in * s->w_in;

  for (int64_t p = 0; p < n * s->c; p++)
    for (int64_t o = 0; o < per_plane; o++) {
      int64_t at = p * in_plane + argmax[p * per_plane + o];

      dx[at] += r[at] > 0.0f ? dy[p * per_plane + o] : 0.0f;
    }
}

/* Plane by plane: zeroing 16 KB that the scatter then finds in L1 costs
 * less than a separate memset of the whole (N, C, H, W) gradient (25–39 MB
 * for the encoders' multi-scale maps), and far less than writing the four
 * elements of each window in turn, which GCC does not vectorise. */
void
mmdnn_maxpool2d_relu_backward_set (float *dx, const float *dy,
                                   const int32_t *argmax, const float *r,
                                   const MmdnnPool2dShape *s, int64_t n)
{
  int64_t per_plane = s->h_out * s->w_out, in_plane = s->h_in * s->w_in;

  for (int64_t p = 0; p < n * s->c; p++) {
    float *dxp = dx + p * in_plane;
    const float *rp = r + p * in_plane, *dyp = dy + p * per_plane;
    const int32_t *ap = argmax + p * per_plane;

    memset (dxp, 0, sizeof (float) * in_plane);
    for (int64_t o = 0; o < per_plane; o++)
      dxp[ap[o]] += rp[ap[o]] > 0.0f ? dyp[o] : 0.0f;
  }
}

void
mmdnn_avgpool2d_forward (float *y, const float *x, const MmdnnPool2dShape *s,
                         int64_t n)
{
  double scale = 1.0 / (double) (s->kh * s->kw);

  for (int64_t p = 0; p < n * s->c; p++) {
    const float *xp = x + p * s->h_in * s->w_in;

    for (int64_t oy = 0; oy < s->h_out; oy++)
      for (int64_t ox = 0; ox < s->w_out; ox++) {
        int64_t y0, y1, x0, x1;
        double acc = 0.0;

        window (oy, s->kh, s->stride_h, s->pad_h, s->h_in, &y0, &y1);
        window (ox, s->kw, s->stride_w, s->pad_w, s->w_in, &x0, &x1);
        for (int64_t iy = y0; iy < y1; iy++)
          for (int64_t ix = x0; ix < x1; ix++)
            acc += xp[iy * s->w_in + ix];
        y[(p * s->h_out + oy) * s->w_out + ox] = (float) (acc * scale);
      }
  }
}

void
mmdnn_avgpool2d_backward (float *dx, const float *dy,
                          const MmdnnPool2dShape *s, int64_t n)
{
  float scale = 1.0f / (float) (s->kh * s->kw);

  for (int64_t p = 0; p < n * s->c; p++) {
    float *dxp = dx + p * s->h_in * s->w_in;

    for (int64_t oy = 0; oy < s->h_out; oy++)
      for (int64_t ox = 0; ox < s->w_out; ox++) {
        int64_t y0, y1, x0, x1;
        float g = dy[(p * s->h_out + oy) * s->w_out + ox] * scale;

        window (oy, s->kh, s->stride_h, s->pad_h, s->h_in, &y0, &y1);
        window (ox, s->kw, s->stride_w, s->pad_w, s->w_in, &x0, &x1);
        for (int64_t iy = y0; iy < y1; iy++)
          for (int64_t ix = x0; ix < x1; ix++)
            dxp[iy * s->w_in + ix] += g;
      }
  }
}

void
mmdnn_global_avgpool_forward (float *y, const float *x, int64_t n, int64_t c,
                              int64_t s)
{
  for (int64_t p = 0; p < n * c; p++) {
    double acc = 0.0;
    for (int64_t i = 0; i < s; i++)
      acc += x[p * s + i];
    y[p] = (float) (acc / (double) s);
  }
}

void
mmdnn_global_avgpool_backward (float *dx, const float *dy, int64_t n,
                               int64_t c, int64_t s)
{
  for (int64_t p = 0; p < n * c; p++) {
    float g = dy[p] / (float) s;
    for (int64_t i = 0; i < s; i++)
      dx[p * s + i] += g;
  }
}

gboolean
mmdnn_adaptive_pool2d_check (int64_t c, int64_t h_in, int64_t w_in,
                             int64_t h_out, int64_t w_out, GError **error)
{
  MMDNN_CHECK (c >= 1 && c <= MMDNN_MAX_NUMEL, error, FALSE,
               "%s: c = %" G_GINT64_FORMAT " must be ≥ 1", G_STRFUNC, c);
  MMDNN_CHECK (h_in >= 1 && h_in <= G_MAXINT32, error, FALSE,
               "%s: h_in = %" G_GINT64_FORMAT " must be in [1, %d]",
               G_STRFUNC, h_in, G_MAXINT32);
  MMDNN_CHECK (w_in >= 1 && w_in <= G_MAXINT32, error, FALSE,
               "%s: w_in = %" G_GINT64_FORMAT " must be in [1, %d]",
               G_STRFUNC, w_in, G_MAXINT32);
  MMDNN_CHECK (h_out >= 1 && h_out <= h_in, error, FALSE,
               "%s: h_out = %" G_GINT64_FORMAT " must be in [1, h_in = %"
               G_GINT64_FORMAT "]", G_STRFUNC, h_out, h_in);
  MMDNN_CHECK (w_out >= 1 && w_out <= w_in, error, FALSE,
               "%s: w_out = %" G_GINT64_FORMAT " must be in [1, w_in = %"
               G_GINT64_FORMAT "]", G_STRFUNC, w_out, w_in);
  MMDNN_CHECK (c <= MMDNN_MAX_NUMEL / (h_in * w_in), error, FALSE,
               "%s: input %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT "×%"
               G_GINT64_FORMAT " is too large", G_STRFUNC, c, h_in, w_in);
  return TRUE;
}

/* PyTorch's adaptive cell [*lo, *hi) of output index o: floor(o·in/out) to
 * ceil((o+1)·in/out), in integer arithmetic as ATen does. */
static void
adaptive_window (int64_t o, int64_t in, int64_t out, int64_t *lo,
                 int64_t *hi)
{
  *lo = (o * in) / out;
  *hi = ((o + 1) * in + out - 1) / out;
}

void
mmdnn_adaptive_avgpool2d_forward (float *y, const float *x, int64_t n,
                                  int64_t c, int64_t h_in, int64_t w_in,
                                  int64_t h_out, int64_t w_out)
{
  for (int64_t p = 0; p < n * c; p++) {
    const float *xp = x + p * h_in * w_in;

    for (int64_t oy = 0; oy < h_out; oy++)
      for (int64_t ox = 0; ox < w_out; ox++) {
        int64_t y0, y1, x0, x1;
        double acc = 0.0;

        adaptive_window (oy, h_in, h_out, &y0, &y1);
        adaptive_window (ox, w_in, w_out, &x0, &x1);
        for (int64_t iy = y0; iy < y1; iy++)
          for (int64_t ix = x0; ix < x1; ix++)
            acc += xp[iy * w_in + ix];
        y[(p * h_out + oy) * w_out + ox] =
            (float) (acc / (double) ((y1 - y0) * (x1 - x0)));
      }
  }
}

void
mmdnn_adaptive_avgpool2d_backward (float *dx, const float *dy, int64_t n,
                                   int64_t c, int64_t h_in, int64_t w_in,
                                   int64_t h_out, int64_t w_out)
{
  for (int64_t p = 0; p < n * c; p++) {
    float *dxp = dx + p * h_in * w_in;

    for (int64_t oy = 0; oy < h_out; oy++)
      for (int64_t ox = 0; ox < w_out; ox++) {
        int64_t y0, y1, x0, x1;
        float g;

        adaptive_window (oy, h_in, h_out, &y0, &y1);
        adaptive_window (ox, w_in, w_out, &x0, &x1);
        g = dy[(p * h_out + oy) * w_out + ox] /
            (float) ((y1 - y0) * (x1 - x0));
        for (int64_t iy = y0; iy < y1; iy++)
          for (int64_t ix = x0; ix < x1; ix++)
            dxp[iy * w_in + ix] += g;
      }
  }
}
