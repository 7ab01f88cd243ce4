/* mmdnn — 2-D, transposed 2-D and 1-D convolution (NCHW, im2col + GEMM).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/blas.h>
#include <mmdnn/conv.h>
#include "conv-direct.h"
#include "internal.h"

/* ---- geometry shared by every kernel --------------------------------- */

/* An image (C, H, W) seen through a KH×KW kernel at OH×OW positions: its
 * im2col matrix is (C·KH·KW, OH·OW). Conv2d reads x through it and
 * ConvTranspose2d writes y through it (the same map, used as its adjoint). */
typedef struct {
  int64_t c, h, w;
  int64_t kh, kw, sh, sw, ph, pw;
  int64_t oh, ow;
} Geom;

static Geom
conv2d_geom (const MmdnnConv2dShape *s)
{
  Geom g = { s->c_in, s->h_in, s->w_in, s->kh, s->kw, s->stride_h,
             s->stride_w, s->pad_h, s->pad_w, s->h_out, s->w_out };
  return g;
}

static Geom
convt2d_geom (const MmdnnConvT2dShape *s)
{
  Geom g = { s->c_out, s->h_out, s->w_out, s->kh, s->kw, s->stride_h,
             s->stride_w, s->pad_h, s->pad_w, s->h_in, s->w_in };
  return g;
}

/* Conv1d is Conv2d with H = KH = 1: the weight (C_out, C_in, K) already has
 * the layout of (C_out, C_in, 1, K). */
static MmdnnConv2dShape
conv1d_as_2d (const MmdnnConv1dShape *s)
{
  MmdnnConv2dShape s2 = { s->c_in, 1, s->l_in, s->c_out, 1, s->k, 1,
                          s->stride, 0, s->pad, 1, s->l_out, s->col_size };
  return s2;
}

/* A 1×1 kernel with stride 1 and no padding: the image is its own im2col
 * matrix, so the copy is skipped. */
static gboolean
geom_is_pointwise (const Geom *g)
{
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 &&
      g->ph == 0 && g->pw == 0;
}

/* The positions o in [lo, hi) ⊆ [0, out) whose tap o·stride − pad + k lies
 * inside [0, in); the others read padding. Hoisting this out of the inner
 * loops leaves them branch-free. */
static void
tap_range (int64_t k, int64_t stride, int64_t pad, int64_t in, int64_t out,
           int64_t *lo, int64_t *hi)
{
  int64_t first = pad - k, last = in - 1 + pad - k;  /* first ≤ o·s ≤ last */

  *hi = last < 0 ? 0 : MIN (last / stride + 1, out);
  *lo = MIN (first <= 0 ? 0 : (first + stride - 1) / stride, *hi);
}

/* col: (C·KH·KW, OH·OW) = the patches of img: (C, H, W), zero in padding */
static void
im2col (float *col, const float *img, const Geom *g)
{
  for (int64_t c = 0; c < g->c; c++)
    for (int64_t ki = 0; ki < g->kh; ki++)
      for (int64_t kj = 0; kj < g->kw; kj++) {
        const float *plane = img + c * g->h * g->w;
        float *row = col + ((c * g->kh + ki) * g->kw + kj) * g->oh * g->ow;
        int64_t y0, y1, x0, x1;

        tap_range (ki, g->sh, g->ph, g->h, g->oh, &y0, &y1);
        tap_range (kj, g->sw, g->pw, g->w, g->ow, &x0, &x1);
        memset (row, 0, sizeof (float) * y0 * g->ow);
        for (int64_t oy = y0; oy < y1; oy++) {
          const float *src = plane + (oy * g->sh - g->ph + ki) * g->w;
          float *dst = row + oy * g->ow;
          int64_t off = kj - g->pw;

          for (int64_t ox = 0; ox < x0; ox++)
            dst[ox] = 0.0f;
          if (g->sw == 1)
            memcpy (dst + x0, src + x0 + off, sizeof (float) * (x1 - x0));
          else
            for (int64_t ox = x0; ox < x1; ox++)
              dst[ox] = src[ox * g->sw + off];
          for (int64_t ox = x1; ox < g->ow; ox++)
            dst[ox] = 0.0f;
        }
        memset (row + y1 * g->ow, 0, sizeof (float) * (g->oh - y1) * g->ow);
      }
}

/* d[i] += s[i]: contiguous, unaliased, so it vectorises at -O2 */
static void
add_row (float *restrict d, const float *restrict s, int64_t n)
{
  int64_t i = 0;

  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      d[i + j] += s[i + j];
  for (; i < n; i++)
    d[i] += s[i];
}

/* img: (C, H, W) += the patches in col: (C·KH·KW, OH·OW), the adjoint of
 * im2col; entries that fall in the padding are dropped. */
static void
col2im (float *img, const float *col, const Geom *g)
{
  for (int64_t c = 0; c < g->c; c++)
    for (int64_t ki = 0; ki < g->kh; ki++)
      for (int64_t kj = 0; kj < g->kw; kj++) {
        float *plane = img + c * g->h * g->w;
        const float *row =
            col + ((c * g->kh + ki) * g->kw + kj) * g->oh * g->ow;
        int64_t y0, y1, x0, x1;

        tap_range (ki, g->sh, g->ph, g->h, g->oh, &y0, &y1);
        tap_range (kj, g->sw, g->pw, g->w, g->ow, &x0, &x1);
        for (int64_t oy = y0; oy < y1; oy++) {
          float *dst = plane + (oy * g->sh - g->ph + ki) * g->w;
          const float *src = row + oy * g->ow;
          int64_t off = kj - g->pw;

          if (g->sw == 1)
            add_row (dst + off + x0, src + x0, x1 - x0);
          else
            for (int64_t ox = x0; ox < x1; ox++)
              dst[ox * g->sw + off] += src[ox];
        }
      }
}

/* y: (C, P) = b broadcast along P, or 0 when b is NULL */
static void
fill_bias (float *y, const float *b, int64_t c, int64_t p)
{
  for (int64_t i = 0; i < c; i++) {
    float v = b != NULL ? b[i] : 0.0f;
    float *row = y + i * p;
    int64_t j = 0;

    for (; j + 8 <= p; j += 8)
      for (int l = 0; l < 8; l++)
        row[j + l] = v;
    for (; j < p; j++)
      row[j] = v;
  }
}

/* db: (C) += Σ_p dy: (C, P) */
static void
bias_backward (float *db, const float *dy, int64_t c, int64_t p)
{
  for (int64_t i = 0; i < c; i++) {
    const float *row = dy + i * p;
    float lane[8] = { 0 };
    double acc = 0.0;
    int64_t j = 0;

    /* 8 independent float lanes per block of 512, folded into double: no
     * latency-bound chain, and the double still carries the long sum */
    while (j + 8 <= p) {
      int64_t end = MIN (p, j + 512) & ~(int64_t) 7;

      for (; j < end; j += 8)
        for (int l = 0; l < 8; l++)
          lane[l] += row[j + l];
      for (int l = 0; l < 8; l++) {
        acc += lane[l];
        lane[l] = 0.0f;
      }
    }
    for (; j < p; j++)
      acc += row[j];
    db[i] += (float) acc;
  }
}

/* ---- shape checks ----------------------------------------------------- */

static gboolean
check_axis (const char *fn, const char *in_name, int64_t in,
            const char *k_name, int64_t k, const char *stride_name,
            int64_t stride, const char *pad_name, int64_t pad, GError **error)
{
  MMDNN_CHECK (in >= 1 && in <= MMDNN_MAX_NUMEL, error, FALSE,
               "%s: %s = %" G_GINT64_FORMAT " must be ≥ 1", fn, in_name, in);
  MMDNN_CHECK (k >= 1 && k <= MMDNN_MAX_NUMEL, error, FALSE,
               "%s: %s = %" G_GINT64_FORMAT " must be ≥ 1", fn, k_name, k);
  MMDNN_CHECK (stride >= 1 && stride <= MMDNN_MAX_NUMEL, error, FALSE,
               "%s: %s = %" G_GINT64_FORMAT " must be ≥ 1", fn, stride_name,
               stride);
  MMDNN_CHECK (pad >= 0 && pad <= MMDNN_MAX_NUMEL, error, FALSE,
               "%s: %s = %" G_GINT64_FORMAT " must be ≥ 0", fn, pad_name, pad);
  return TRUE;
}

static gboolean
check_channels (const char *fn, int64_t c_in, int64_t c_out, GError **error)
{
  MMDNN_CHECK (c_in >= 1 && c_in <= MMDNN_MAX_NUMEL, error, FALSE,
               "%s: c_in = %" G_GINT64_FORMAT " must be ≥ 1", fn, c_in);
  MMDNN_CHECK (c_out >= 1 && c_out <= MMDNN_MAX_NUMEL, error, FALSE,
               "%s: c_out = %" G_GINT64_FORMAT " must be ≥ 1", fn, c_out);
  return TRUE;
}

/* Conv output extent, 0 when the kernel does not fit the padded input
 * (C division truncates towards zero, so a negative span is tested first). */
static int64_t
conv_out (int64_t in, int64_t k, int64_t stride, int64_t pad)
{
  int64_t span = in + 2 * pad - k;
  return span < 0 ? 0 : span / stride + 1;
}

/* a·b, or -1 when an operand is -1 or the product exceeds MMDNN_MAX_NUMEL */
static int64_t
bounded_mul (int64_t a, int64_t b)
{
  return a < 0 || b < 0 || (b > 0 && a > MMDNN_MAX_NUMEL / b) ? -1 : a * b;
}

/* The GEMMs multiply (other, patch) by (patch, pix) matrices: each size must
 * fit BLAS's 32-bit ints, each tensor MMDNN_MAX_NUMEL. Returns col_size. */
static int64_t
check_gemm_sizes (const char *fn, int64_t other, int64_t patch, int64_t pix,
                  int64_t x_numel, int64_t y_numel, GError **error)
{
  int64_t col = bounded_mul (patch, pix), w = bounded_mul (other, patch);

  MMDNN_CHECK (other <= G_MAXINT32 && patch <= G_MAXINT32 &&
               pix <= G_MAXINT32 && col >= 0 && w >= 0 && x_numel >= 0 &&
               y_numel >= 0, error, -1,
               "%s: too large for BLAS (GEMM %" G_GINT64_FORMAT " × %"
               G_GINT64_FORMAT " × %" G_GINT64_FORMAT ")", fn, other, patch,
               pix);
  return col;
}

/* ---- Conv2d ----------------------------------------------------------- */

gboolean
mmdnn_conv2d_shape_init (MmdnnConv2dShape *s, int64_t c_in, int64_t h_in,
                         int64_t w_in, int64_t c_out, int64_t kh, int64_t kw,
                         int64_t stride_h, int64_t stride_w, int64_t pad_h,
                         int64_t pad_w, GError **error)
{
  int64_t h_out, w_out, col_size;

  MMDNN_CHECK_NOT_NULL (s, error, FALSE);
  if (!check_channels (G_STRFUNC, c_in, c_out, error) ||
      !check_axis (G_STRFUNC, "h_in", h_in, "kh", kh, "stride_h", stride_h,
                   "pad_h", pad_h, error) ||
      !check_axis (G_STRFUNC, "w_in", w_in, "kw", kw, "stride_w", stride_w,
                   "pad_w", pad_w, error))
    return FALSE;
  h_out = conv_out (h_in, kh, stride_h, pad_h);
  w_out = conv_out (w_in, kw, stride_w, pad_w);
  MMDNN_CHECK (h_out >= 1 && w_out >= 1, error, FALSE,
               "%s: kernel %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
               " is larger than the padded input %" G_GINT64_FORMAT "×%"
               G_GINT64_FORMAT, G_STRFUNC, kh, kw, h_in + 2 * pad_h,
               w_in + 2 * pad_w);
  col_size = check_gemm_sizes (G_STRFUNC, c_out,
                               bounded_mul (bounded_mul (c_in, kh), kw),
                               bounded_mul (h_out, w_out),
                               bounded_mul (bounded_mul (c_in, h_in), w_in),
                               bounded_mul (bounded_mul (c_out, h_out), w_out),
                               error);
  if (col_size < 0)
    return FALSE;

  *s = (MmdnnConv2dShape) { c_in, h_in, w_in, c_out, kh, kw, stride_h,
                            stride_w, pad_h, pad_w, h_out, w_out, col_size };
  return TRUE;
}

/* Per sample: y_i (C_out, P) = w (C_out, K) · col_i (K, P) + b, with
 * K = C_in·KH·KW and P = H_out·W_out. */
void
mmdnn_conv2d_forward (float *y, float *col, const float *x, const float *w,
                      const float *b, const MmdnnConv2dShape *s, int64_t n)
{
  Geom g = conv2d_geom (s);
  int64_t k = s->c_in * s->kh * s->kw, p = s->h_out * s->w_out;
  gboolean pointwise = geom_is_pointwise (&g);
  const MmdnnDirectKernels *direct = mmdnn_conv_direct_kernels ();

  if (direct != NULL && mmdnn_conv_direct_forward_ok (direct, s)) {
    mmdnn_conv_direct_forward (direct, y, col, x, w, b, s, n);
    return;
  }
  for (int64_t i = 0; i < n; i++) {
    const float *xi = x + i * s->c_in * s->h_in * s->w_in;
    float *yi = y + i * s->c_out * p;

    if (!pointwise)
      im2col (col, xi, &g);
    if (b != NULL)
      fill_bias (yi, b, s->c_out, p);
    mmdnn_gemm (MMDNN_NO_TRANS, MMDNN_NO_TRANS, s->c_out, p, k, 1.0f, w, k,
                pointwise ? xi : col, p, b != NULL ? 1.0f : 0.0f, yi, p);
  }
}

/* Per sample: db += Σ dy_i;  dw (C_out, K) += dy_i · col_iᵀ;
 * dx_i += col2im (wᵀ · dy_i). */
void
mmdnn_conv2d_backward (float *dx, float *dw, float *db, float *col,
                       const float *dy, const float *x, const float *w,
                       const MmdnnConv2dShape *s, int64_t n)
{
  Geom g = conv2d_geom (s);
  int64_t k = s->c_in * s->kh * s->kw, p = s->h_out * s->w_out;
  gboolean pointwise = geom_is_pointwise (&g);
  const MmdnnDirectKernels *direct = mmdnn_conv_direct_kernels ();

  /* The direct loops do a whole batch per pass, each reusing col; what
   * they do not take stays on the per-sample GEMM loop below. */
  if (direct != NULL && dw != NULL && mmdnn_conv_direct_dw_ok (s)) {
    if (db != NULL)
      for (int64_t i = 0; i < n; i++)
        bias_backward (db, dy + i * s->c_out * p, s->c_out, p);
    mmdnn_conv_direct_dw (direct, dw, col, dy, x, s, n);
    dw = NULL;
    db = NULL;
  }
  if (direct != NULL && dx != NULL && mmdnn_conv_direct_dx_ok (direct, s)) {
    mmdnn_conv_direct_dx (direct, dx, col, dy, w, s, n);
    dx = NULL;
  }
  if (dx == NULL && dw == NULL && db == NULL)
    return;
  for (int64_t i = 0; i < n; i++) {
    const float *xi = x + i * s->c_in * s->h_in * s->w_in;
    const float *dyi = dy + i * s->c_out * p;
    float *dxi = dx != NULL ? dx + i * s->c_in * s->h_in * s->w_in : NULL;

    if (db != NULL)
      bias_backward (db, dyi, s->c_out, p);
    if (dw != NULL) {
      if (!pointwise)
        im2col (col, xi, &g);
      mmdnn_gemm (MMDNN_NO_TRANS, MMDNN_TRANS, s->c_out, k, p, 1.0f, dyi, p,
                  pointwise ? xi : col, p, 1.0f, dw, k);
    }
    if (dxi != NULL && pointwise) {
      mmdnn_gemm (MMDNN_TRANS, MMDNN_NO_TRANS, k, p, s->c_out, 1.0f, w, k,
                  dyi, p, 1.0f, dxi, p);
    } else if (dxi != NULL) {
      mmdnn_gemm (MMDNN_TRANS, MMDNN_NO_TRANS, k, p, s->c_out, 1.0f, w, k,
                  dyi, p, 0.0f, col, p);
      col2im (dxi, col, &g);
    }
  }
}

/* ---- ConvTranspose2d -------------------------------------------------- */

gboolean
mmdnn_conv_transpose2d_shape_init (MmdnnConvT2dShape *s, int64_t c_in,
                                   int64_t h_in, int64_t w_in, int64_t c_out,
                                   int64_t kh, int64_t kw, int64_t stride_h,
                                   int64_t stride_w, int64_t pad_h,
                                   int64_t pad_w, int64_t out_pad_h,
                                   int64_t out_pad_w, GError **error)
{
  int64_t h_out, w_out, col_size;

  MMDNN_CHECK_NOT_NULL (s, error, FALSE);
  if (!check_channels (G_STRFUNC, c_in, c_out, error) ||
      !check_axis (G_STRFUNC, "h_in", h_in, "kh", kh, "stride_h", stride_h,
                   "pad_h", pad_h, error) ||
      !check_axis (G_STRFUNC, "w_in", w_in, "kw", kw, "stride_w", stride_w,
                   "pad_w", pad_w, error))
    return FALSE;
  /* PyTorch: "output padding must be smaller than either stride or
   * dilation"; with dilation 1 that is the stride. */
  MMDNN_CHECK (out_pad_h >= 0 && out_pad_h < stride_h, error, FALSE,
               "%s: out_pad_h = %" G_GINT64_FORMAT " must be in [0, stride_h "
               "= %" G_GINT64_FORMAT ")", G_STRFUNC, out_pad_h, stride_h);
  MMDNN_CHECK (out_pad_w >= 0 && out_pad_w < stride_w, error, FALSE,
               "%s: out_pad_w = %" G_GINT64_FORMAT " must be in [0, stride_w "
               "= %" G_GINT64_FORMAT ")", G_STRFUNC, out_pad_w, stride_w);
  h_out = bounded_mul (h_in - 1, stride_h);
  w_out = bounded_mul (w_in - 1, stride_w);
  MMDNN_CHECK (h_out >= 0 && w_out >= 0, error, FALSE,
               "%s: input × stride is too large", G_STRFUNC);
  h_out += kh + out_pad_h - 2 * pad_h;
  w_out += kw + out_pad_w - 2 * pad_w;
  MMDNN_CHECK (h_out >= 1 && w_out >= 1, error, FALSE,
               "%s: padding %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
               " leaves an empty output (%" G_GINT64_FORMAT "×%"
               G_GINT64_FORMAT ")", G_STRFUNC, pad_h, pad_w, h_out, w_out);
  col_size = check_gemm_sizes (G_STRFUNC, c_in,
                               bounded_mul (bounded_mul (c_out, kh), kw),
                               bounded_mul (h_in, w_in),
                               bounded_mul (bounded_mul (c_in, h_in), w_in),
                               bounded_mul (bounded_mul (c_out, h_out), w_out),
                               error);
  if (col_size < 0)
    return FALSE;

  *s = (MmdnnConvT2dShape) { c_in, h_in, w_in, c_out, kh, kw, stride_h,
                             stride_w, pad_h, pad_w, out_pad_h, out_pad_w,
                             h_out, w_out, col_size };
  return TRUE;
}

/* Per sample: y_i = b + col2im (col_i), col_i (K, P) = wᵀ · x_i (C_in, P),
 * with K = C_out·KH·KW and P = H_in·W_in: Conv2d's backward-data pass. */
void
mmdnn_conv_transpose2d_forward (float *y, float *col, const float *x,
                                const float *w, const float *b,
                                const MmdnnConvT2dShape *s, int64_t n)
{
  Geom g = convt2d_geom (s);
  int64_t k = s->c_out * s->kh * s->kw, p = s->h_in * s->w_in;
  int64_t p_out = s->h_out * s->w_out;
  gboolean pointwise = geom_is_pointwise (&g);

  for (int64_t i = 0; i < n; i++) {
    const float *xi = x + i * s->c_in * p;
    float *yi = y + i * s->c_out * p_out;

    fill_bias (yi, b, s->c_out, p_out);
    if (pointwise) {
      mmdnn_gemm (MMDNN_TRANS, MMDNN_NO_TRANS, k, p, s->c_in, 1.0f, w, k,
                  xi, p, 1.0f, yi, p);
    } else {
      mmdnn_gemm (MMDNN_TRANS, MMDNN_NO_TRANS, k, p, s->c_in, 1.0f, w, k,
                  xi, p, 0.0f, col, p);
      col2im (yi, col, &g);
    }
  }
}

/* Per sample, with col_i = im2col (dy_i) (K, P): db += Σ dy_i;
 * dx_i (C_in, P) += w · col_i;  dw (C_in, K) += x_i · col_iᵀ. */
void
mmdnn_conv_transpose2d_backward (float *dx, float *dw, float *db, float *col,
                                 const float *dy, const float *x,
                                 const float *w, const MmdnnConvT2dShape *s,
                                 int64_t n)
{
  Geom g = convt2d_geom (s);
  int64_t k = s->c_out * s->kh * s->kw, p = s->h_in * s->w_in;
  int64_t p_out = s->h_out * s->w_out;
  gboolean pointwise = geom_is_pointwise (&g);

  for (int64_t i = 0; i < n; i++) {
    const float *dyi = dy + i * s->c_out * p_out, *ci = dyi;

    if (db != NULL)
      bias_backward (db, dyi, s->c_out, p_out);
    if (dx == NULL && dw == NULL)
      continue;
    if (!pointwise) {
      im2col (col, dyi, &g);
      ci = col;
    }
    if (dx != NULL)
      mmdnn_gemm (MMDNN_NO_TRANS, MMDNN_NO_TRANS, s->c_in, p, k, 1.0f, w, k,
                  ci, p, 1.0f, dx + i * s->c_in * p, p);
    if (dw != NULL)
      mmdnn_gemm (MMDNN_NO_TRANS, MMDNN_TRANS, s->c_in, k, p, 1.0f,
                  x + i * s->c_in * p, p, ci, p, 1.0f, dw, k);
  }
}

/* ---- Conv1d ----------------------------------------------------------- */

gboolean
mmdnn_conv1d_shape_init (MmdnnConv1dShape *s, int64_t c_in, int64_t l_in,
                         int64_t c_out, int64_t k, int64_t stride, int64_t pad,
                         GError **error)
{
  int64_t l_out, col_size;

  MMDNN_CHECK_NOT_NULL (s, error, FALSE);
  if (!check_channels (G_STRFUNC, c_in, c_out, error) ||
      !check_axis (G_STRFUNC, "l_in", l_in, "k", k, "stride", stride, "pad",
                   pad, error))
    return FALSE;
  l_out = conv_out (l_in, k, stride, pad);
  MMDNN_CHECK (l_out >= 1, error, FALSE,
               "%s: kernel %" G_GINT64_FORMAT " is larger than the padded "
               "input %" G_GINT64_FORMAT, G_STRFUNC, k, l_in + 2 * pad);
  col_size = check_gemm_sizes (G_STRFUNC, c_out, bounded_mul (c_in, k), l_out,
                               bounded_mul (c_in, l_in),
                               bounded_mul (c_out, l_out), error);
  if (col_size < 0)
    return FALSE;

  *s = (MmdnnConv1dShape) { c_in, l_in, c_out, k, stride, pad, l_out,
                            col_size };
  return TRUE;
}

void
mmdnn_conv1d_forward (float *y, float *col, const float *x, const float *w,
                      const float *b, const MmdnnConv1dShape *s, int64_t n)
{
  MmdnnConv2dShape s2 = conv1d_as_2d (s);
  mmdnn_conv2d_forward (y, col, x, w, b, &s2, n);
}

void
mmdnn_conv1d_backward (float *dx, float *dw, float *db, float *col,
                       const float *dy, const float *x, const float *w,
                       const MmdnnConv1dShape *s, int64_t n)
{
  MmdnnConv2dShape s2 = conv1d_as_2d (s);
  mmdnn_conv2d_backward (dx, dw, db, col, dy, x, w, &s2, n);
}

/* ---- modules ---------------------------------------------------------- */

/* U(−1/√fan_in, 1/√fan_in) for weight and bias: PyTorch's kaiming-uniform
 * with a = √5 and its matching bias init. */
static void
reset_params (MmdnnParam *weight, MmdnnParam *bias, int64_t fan_in,
              MmdnnRng *rng)
{
  float bound = (float) (1.0 / sqrt ((double) fan_in));

  mmdnn_rng_fill_uniform (rng, weight->value, weight->numel, -bound, bound);
  if (bias != NULL)
    mmdnn_rng_fill_uniform (rng, bias->value, bias->numel, -bound, bound);
}

gboolean
mmdnn_conv2d_init (MmdnnConv2d *m, MmdnnParamSet *ps, const char *prefix,
                   int64_t c_in, int64_t h_in, int64_t w_in, int64_t c_out,
                   int64_t kh, int64_t kw, int64_t stride_h, int64_t stride_w,
                   int64_t pad_h, int64_t pad_w, gboolean has_bias,
                   GError **error)
{
  MmdnnConv2d tmp;

  MMDNN_CHECK_NOT_NULL (m, error, FALSE);
  if (!mmdnn_conv2d_shape_init (&tmp.shape, c_in, h_in, w_in, c_out, kh, kw,
                                stride_h, stride_w, pad_h, pad_w, error) ||
      !mmdnn_param_set_declare_layer (ps, "conv2d", prefix, 4,
                                      (int64_t[]) { c_out, c_in, kh, kw },
                                      TRUE, has_bias ? c_out : 0, &tmp.weight,
                                      &tmp.bias, error))
    return FALSE;
  *m = tmp;
  return TRUE;
}

void
mmdnn_conv2d_reset (MmdnnConv2d *m, MmdnnRng *rng)
{
  reset_params (m->weight, m->bias, m->shape.c_in * m->shape.kh * m->shape.kw,
                rng);
}

gboolean
mmdnn_conv_transpose2d_init (MmdnnConvTranspose2d *m, MmdnnParamSet *ps,
                             const char *prefix, int64_t c_in, int64_t h_in,
                             int64_t w_in, int64_t c_out, int64_t kh,
                             int64_t kw, int64_t stride_h, int64_t stride_w,
                             int64_t pad_h, int64_t pad_w, int64_t out_pad_h,
                             int64_t out_pad_w, gboolean has_bias,
                             GError **error)
{
  MmdnnConvTranspose2d tmp;

  MMDNN_CHECK_NOT_NULL (m, error, FALSE);
  if (!mmdnn_conv_transpose2d_shape_init (&tmp.shape, c_in, h_in, w_in, c_out,
                                          kh, kw, stride_h, stride_w, pad_h,
                                          pad_w, out_pad_h, out_pad_w, error) ||
      !mmdnn_param_set_declare_layer (ps, "conv_transpose2d", prefix, 4,
                                      (int64_t[]) { c_in, c_out, kh, kw },
                                      TRUE, has_bias ? c_out : 0, &tmp.weight,
                                      &tmp.bias, error))
    return FALSE;
  *m = tmp;
  return TRUE;
}

void
mmdnn_conv_transpose2d_reset (MmdnnConvTranspose2d *m, MmdnnRng *rng)
{
  reset_params (m->weight, m->bias,
                m->shape.c_out * m->shape.kh * m->shape.kw, rng);
}

gboolean
mmdnn_conv1d_init (MmdnnConv1d *m, MmdnnParamSet *ps, const char *prefix,
                   int64_t c_in, int64_t l_in, int64_t c_out, int64_t k,
                   int64_t stride, int64_t pad, gboolean has_bias,
                   GError **error)
{
  MmdnnConv1d tmp;

  MMDNN_CHECK_NOT_NULL (m, error, FALSE);
  if (!mmdnn_conv1d_shape_init (&tmp.shape, c_in, l_in, c_out, k, stride, pad,
                                error) ||
      !mmdnn_param_set_declare_layer (ps, "conv1d", prefix, 3,
                                      (int64_t[]) { c_out, c_in, k }, TRUE,
                                      has_bias ? c_out : 0, &tmp.weight,
                                      &tmp.bias, error))
    return FALSE;
  *m = tmp;
  return TRUE;
}

void
mmdnn_conv1d_reset (MmdnnConv1d *m, MmdnnRng *rng)
{
  reset_params (m->weight, m->bias, m->shape.c_in * m->shape.k, rng);
}
