/* Video front end: exact values where swscale must be exact (identity size,
 * flat colours, format permutations), documented tolerances where YUV
 * quantisation or luma rounding is involved, strides and padding, and
 * argument checks.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <mmdnn/video.h>
#include <mmdnn/rng.h>
#include "gradcheck.h"

/* Tolerances, in 8-bit levels (a tensor made with mean 0, std 1 holds
 * level/255, so these are the spec's "n/255 after normalisation"):
 * - I420 against the RGB picture it was made from: the test quantises the
 *   picture to 8-bit limited-range YUV, which alone moves R, G, B by up to
 *   ~1.6 levels (half a Y step of 255/219 plus half a chroma step of
 *   255/224 times the largest matrix coefficient 1.772); swscale's own
 *   15-bit arithmetic adds at most about half a level. 2 levels
 *   (measured: 1).
 * - I420 against the exact (double) BT.601 decode of the same YUV bytes:
 *   only the final rounding to 8 bits plus swscale's fixed point, so 1
 *   level (measured: 0.46).
 * - Grey output against 0.299 R + 0.587 G + 0.114 B: rounding to 8 bits
 *   plus fixed point; 1 level (measured: 0.43).
 * - GRAY8 against the same grey picture given as RGB: RGB input goes
 *   through swscale's internal 15-bit YUV and back, one rounding each way;
 *   1 level (measured: exactly 1, on a few pixels).
 * Everything else is compared exactly. (Measured with FFmpeg 5.1, with
 * SWS_BITEXACT, so independent of the CPU.) */
#define TOL_I420_VS_RGB   2.0
#define TOL_I420_DECODE   1.0
#define TOL_LUMA          1.0
#define TOL_GRAY8_VS_RGB  1.0

/* ---- pictures and frames ------------------------------------------------ */

typedef struct {
  int64_t  w, h;
  uint8_t *rgb;          /* (h, w, 3) */
} Picture;

static Picture
picture_new (int64_t w, int64_t h)
{
  Picture p = { w, h, g_new0 (uint8_t, w * h * 3) };

  return p;
}

static void
picture_set (Picture *p, int64_t x, int64_t y, int r, int g, int b)
{
  uint8_t *px = p->rgb + (y * p->w + x) * 3;

  px[0] = (uint8_t) r;
  px[1] = (uint8_t) g;
  px[2] = (uint8_t) b;
}

static Picture
picture_flat (int64_t w, int64_t h, int r, int g, int b)
{
  Picture p = picture_new (w, h);

  for (int64_t y = 0; y < h; y++)
    for (int64_t x = 0; x < w; x++)
      picture_set (&p, x, y, r, g, b);
  return p;
}

static Picture
picture_random (MmdnnRng *rng, int64_t w, int64_t h, gboolean grey)
{
  Picture p = picture_new (w, h);

  for (int64_t i = 0; i < w * h; i++)
    for (int c = 0; c < 3; c++)
      p.rgb[i * 3 + c] = grey && c > 0 ? p.rgb[i * 3]
                                       : (uint8_t) mmdnn_rng_below (rng, 256);
  return p;
}

/* Flat blocks of bs×bs pixels (bs even, so every 2×2 chroma site of I420
 * lies inside one block), colours from a fixed palette. */
static const int palette[][3] = {
  { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 }, { 255, 255, 255 },
  { 0, 0, 0 }, { 200, 30, 90 }, { 17, 250, 3 }, { 128, 128, 128 },
  { 60, 120, 240 }, { 250, 200, 10 }, { 1, 2, 254 }, { 90, 45, 20 },
};

static int
block_index (int64_t x, int64_t y, int64_t bs)
{
  return (int) ((x / bs * 5 + y / bs * 3) % G_N_ELEMENTS (palette));
}

static Picture
picture_blocks (int64_t w, int64_t h, int64_t bs)
{
  Picture p = picture_new (w, h);

  for (int64_t y = 0; y < h; y++)
    for (int64_t x = 0; x < w; x++) {
      const int *col = palette[block_index (x, y, bs)];

      picture_set (&p, x, y, col[0], col[1], col[2]);
    }
  return p;
}

static void
picture_clear (Picture *p)
{
  g_clear_pointer (&p->rgb, g_free);
}

typedef enum { PAD_NONE, PAD_GARBAGE, PAD_UNINIT } PadMode;

typedef struct {
  MmdnnPixelFormat fmt;
  int64_t          w, h;
  uint8_t         *buf[3];
  const uint8_t   *planes[3];
  int64_t          strides[3];
} Frame;

/* BT.601 limited range, the textbook 8-bit formulas, rounded. */
static uint8_t
clamp_u8 (double v)
{
  return (uint8_t) CLAMP (lround (v), 0, 255);
}

static void
rgb_to_yuv (double r, double g, double b, uint8_t *y, uint8_t *u, uint8_t *v)
{
  if (y)
    *y = clamp_u8 (16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0);
  if (u)
    *u = clamp_u8 (128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0);
  if (v)
    *v = clamp_u8 (128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0);
}

/* The exact inverse, in levels, not rounded or clamped. */
static void
yuv_to_rgb (int y, int u, int v, double rgb[3])
{
  double yy = (y - 16) * 255.0 / 219.0;
  double cb = (u - 128) * 255.0 / 224.0, cr = (v - 128) * 255.0 / 224.0;

  rgb[0] = yy + 1.402 * cr;
  rgb[1] = yy - 0.344136 * cb - 0.714136 * cr;
  rgb[2] = yy + 1.772 * cb;
}

/* Lays out plane @p of @rows rows of @row bytes at @stride; the buffer ends
 * right after the last byte of the last row, so memcheck sees any read past
 * it. The row padding is random (GARBAGE) or left uninitialised (UNINIT). */
static uint8_t *
plane_alloc (int64_t row, int64_t rows, int64_t stride, PadMode mode,
             MmdnnRng *rng)
{
  int64_t size = stride * (rows - 1) + row;
  uint8_t *buf = g_malloc (size);

  if (mode == PAD_GARBAGE)
    for (int64_t i = 0; i < size; i++)
      buf[i] = (uint8_t) mmdnn_rng_below (rng, 256);
  return buf;
}

static void
frame_make (Frame *f, MmdnnPixelFormat fmt, const Picture *p, int64_t pad,
            PadMode mode, MmdnnRng *rng)
{
  /* byte offsets of R, G, B and the ignored 4th byte inside a pixel */
  static const int order[][4] = {
    [MMDNN_PIXEL_RGB] = { 0, 1, 2, -1 },  [MMDNN_PIXEL_BGR] = { 2, 1, 0, -1 },
    [MMDNN_PIXEL_RGBA] = { 0, 1, 2, 3 },  [MMDNN_PIXEL_BGRA] = { 2, 1, 0, 3 },
    [MMDNN_PIXEL_RGBX] = { 0, 1, 2, 3 },  [MMDNN_PIXEL_BGRX] = { 2, 1, 0, 3 },
  };
  int64_t w = p->w, h = p->h;

  memset (f, 0, sizeof (*f));
  f->fmt = fmt;
  f->w = w;
  f->h = h;
  if (mode == PAD_NONE)
    pad = 0;

  if (fmt == MMDNN_PIXEL_GRAY8) {
    f->strides[0] = w + pad;
    f->buf[0] = plane_alloc (w, h, f->strides[0], mode, rng);
    for (int64_t y = 0; y < h; y++)
      for (int64_t x = 0; x < w; x++) {
        const uint8_t *px = p->rgb + (y * w + x) * 3;

        g_assert_true (px[0] == px[1] && px[1] == px[2]);
        f->buf[0][y * f->strides[0] + x] = px[0];
      }
  } else if (fmt == MMDNN_PIXEL_I420) {
    int64_t cw = (w + 1) / 2, chh = (h + 1) / 2;

    f->strides[0] = w + pad;
    /* chroma padding differs from luma's and between U and V */
    f->strides[1] = mode == PAD_NONE ? cw : cw + pad + 3;
    f->strides[2] = cw + pad / 2;
    f->buf[0] = plane_alloc (w, h, f->strides[0], mode, rng);
    f->buf[1] = plane_alloc (cw, chh, f->strides[1], mode, rng);
    f->buf[2] = plane_alloc (cw, chh, f->strides[2], mode, rng);
    for (int64_t y = 0; y < h; y++)
      for (int64_t x = 0; x < w; x++) {
        const uint8_t *px = p->rgb + (y * w + x) * 3;

        rgb_to_yuv (px[0], px[1], px[2], &f->buf[0][y * f->strides[0] + x],
                    NULL, NULL);
      }
    /* chroma of the mean colour of each (up to) 2×2 site */
    for (int64_t cy = 0; cy < chh; cy++)
      for (int64_t cx = 0; cx < cw; cx++) {
        double sum[3] = { 0, 0, 0 };
        int n = 0;

        for (int64_t y = 2 * cy; y < MIN (2 * cy + 2, h); y++)
          for (int64_t x = 2 * cx; x < MIN (2 * cx + 2, w); x++, n++)
            for (int c = 0; c < 3; c++)
              sum[c] += p->rgb[(y * w + x) * 3 + c];
        rgb_to_yuv (sum[0] / n, sum[1] / n, sum[2] / n, NULL,
                    &f->buf[1][cy * f->strides[1] + cx],
                    &f->buf[2][cy * f->strides[2] + cx]);
      }
  } else {
    const int *o = order[fmt];
    int bpp = o[3] < 0 ? 3 : 4;

    f->strides[0] = w * bpp + pad;
    f->buf[0] = plane_alloc (w * bpp, h, f->strides[0], mode, rng);
    for (int64_t y = 0; y < h; y++)
      for (int64_t x = 0; x < w; x++) {
        const uint8_t *px = p->rgb + (y * w + x) * 3;
        uint8_t *d = f->buf[0] + y * f->strides[0] + x * bpp;

        for (int c = 0; c < 3; c++)
          d[o[c]] = px[c];
        if (bpp == 4)   /* alpha / x: random, must not matter */
          d[3] = (uint8_t) mmdnn_rng_below (rng, 256);
      }
  }
  for (int i = 0; i < 3; i++)
    f->planes[i] = f->buf[i];
}

static void
frame_clear (Frame *f)
{
  for (int i = 0; i < 3; i++)
    g_clear_pointer (&f->buf[i], g_free);
}

/* ---- running ------------------------------------------------------------ */

static MmdnnVideoConfig
config_make (int64_t channels, int64_t h, int64_t w, float mean, float std)
{
  MmdnnVideoConfig c;

  mmdnn_video_config_init (&c);
  c.channels = channels;
  c.height = h;
  c.width = w;
  for (int i = 0; i < 3; i++) {
    c.mean[i] = mean;
    c.std[i] = std;
  }
  return c;
}

static int64_t
out_numel (const MmdnnVideoConfig *c)
{
  return c->channels * c->height * c->width;
}

static float *
run_prep (MmdnnVideoPrep *vp, const MmdnnVideoConfig *c, const Frame *f)
{
  float *out = g_new (float, out_numel (c));
  GError *err = NULL;

  if (!mmdnn_video_prep_frame (vp, f->fmt, f->w, f->h, f->planes, f->strides,
                               out, &err))
    g_error ("prep_frame failed: %s", err->message);
  return out;
}

static float *
run (const MmdnnVideoConfig *c, const Frame *f)
{
  GError *err = NULL;
  MmdnnVideoPrep *vp = mmdnn_video_prep_new (c, &err);
  float *out;

  g_assert_no_error (err);
  out = run_prep (vp, c, f);
  mmdnn_video_prep_free (vp);
  return out;
}

static float *
run_picture (const MmdnnVideoConfig *c, MmdnnPixelFormat fmt,
             const Picture *p, int64_t pad, PadMode mode, uint64_t seed)
{
  MmdnnRng rng;
  Frame f;
  float *out;

  mmdnn_rng_init (&rng, seed);
  frame_make (&f, fmt, p, pad, mode, &rng);
  out = run (c, &f);
  frame_clear (&f);
  return out;
}

/* The documented normalisation, float32, written as in video.h. */
static float
norm (const MmdnnVideoConfig *c, int ch, int level)
{
  return ((float) level / 255.0f - c->mean[ch]) / c->std[ch];
}

/* A tensor made with mean 0, std 1 back in 8-bit levels. */
static double
level (float v)
{
  return (double) v * 255.0;
}

static const char *
fmt_name (MmdnnPixelFormat f)
{
  static const char *names[] = { "RGB", "BGR", "RGBA", "BGRA", "RGBx", "BGRx",
                                 "GRAY8", "I420", "I420 (full range)" };

  return names[f];
}

static const MmdnnPixelFormat rgb_formats[] = {
  MMDNN_PIXEL_RGB, MMDNN_PIXEL_BGR, MMDNN_PIXEL_RGBA, MMDNN_PIXEL_BGRA,
  MMDNN_PIXEL_RGBX, MMDNN_PIXEL_BGRX,
};

static const MmdnnPixelFormat all_formats[] = {
  MMDNN_PIXEL_RGB, MMDNN_PIXEL_BGR, MMDNN_PIXEL_RGBA, MMDNN_PIXEL_BGRA,
  MMDNN_PIXEL_RGBX, MMDNN_PIXEL_BGRX, MMDNN_PIXEL_GRAY8, MMDNN_PIXEL_I420,
};

/* ---- positive tests ----------------------------------------------------- */

static void
test_config_defaults (void)
{
  MmdnnVideoConfig c;

  memset (&c, 0xab, sizeof (c));
  mmdnn_video_config_init (&c);
  g_assert_cmpint (c.channels, ==, 3);
  g_assert_cmpint (c.height, ==, 64);
  g_assert_cmpint (c.width, ==, 64);
  for (int i = 0; i < 3; i++) {
    g_assert_cmpfloat (c.mean[i], ==, 0.5f);
    g_assert_cmpfloat (c.std[i], ==, 0.25f);
  }
  mmdnn_video_config_init (NULL);       /* no-op */
  mmdnn_video_prep_free (NULL);         /* no-op */
  /* defaults map black and white to ±2 and mid-level 0.5 to 0 */
  g_assert_cmpfloat (norm (&c, 0, 0), ==, -2.0f);
  g_assert_cmpfloat (norm (&c, 0, 255), ==, 2.0f);
}

/* 64×64 in, 64×64 out: every value is exactly the normalised input level,
 * for every RGB-like format and for GRAY8 into a grey config, with the
 * default normalisation and with per-channel statistics. */
static void
test_identity_exact (void)
{
  MmdnnRng rng;
  Picture colour, grey;
  MmdnnVideoConfig cfgs[2], g = config_make (1, 64, 64, 0.45f, 0.2f);

  mmdnn_rng_init (&rng, 1);
  colour = picture_random (&rng, 64, 64, FALSE);
  grey = picture_random (&rng, 64, 64, TRUE);
  mmdnn_video_config_init (&cfgs[0]);
  cfgs[1] = config_make (3, 64, 64, 0.0f, 1.0f);
  cfgs[1].mean[0] = 0.485f;   cfgs[1].std[0] = 0.229f;
  cfgs[1].mean[1] = 0.456f;   cfgs[1].std[1] = 0.224f;
  cfgs[1].mean[2] = 0.406f;   cfgs[1].std[2] = 0.225f;

  for (guint ci = 0; ci < G_N_ELEMENTS (cfgs); ci++)
    for (guint fi = 0; fi < G_N_ELEMENTS (rgb_formats); fi++) {
      const MmdnnVideoConfig *c = &cfgs[ci];
      float *out = run_picture (c, rgb_formats[fi], &colour, 0, PAD_NONE, 2);

      for (int ch = 0; ch < 3; ch++)
        for (int64_t i = 0; i < 64 * 64; i++)
          if (out[ch * 64 * 64 + i] != norm (c, ch, colour.rgb[i * 3 + ch]))
            g_error ("%s cfg %u: c%d px %" G_GINT64_FORMAT ": %.9g != %.9g",
                     fmt_name (rgb_formats[fi]), ci, ch, i,
                     (double) out[ch * 64 * 64 + i],
                     (double) norm (c, ch, colour.rgb[i * 3 + ch]));
      g_free (out);
    }
  {
    float *out = run_picture (&g, MMDNN_PIXEL_GRAY8, &grey, 0, PAD_NONE, 3);

    for (int64_t i = 0; i < 64 * 64; i++)
      g_assert_cmpfloat (out[i], ==, norm (&g, 0, grey.rgb[i * 3]));
    g_free (out);
  }
  picture_clear (&colour);
  picture_clear (&grey);
}

/* A red picture has its R plane at white and G, B at black, whatever the
 * byte order of the format; the same for green and blue. */
static void
test_channel_order (void)
{
  MmdnnVideoConfig c;
  const int primaries[3][3] = { { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 } };

  mmdnn_video_config_init (&c);
  for (int k = 0; k < 3; k++) {
    Picture p = picture_flat (40, 30, primaries[k][0], primaries[k][1],
                              primaries[k][2]);

    for (guint fi = 0; fi < G_N_ELEMENTS (rgb_formats); fi++) {
      float *out = run_picture (&c, rgb_formats[fi], &p, 0, PAD_NONE, 4);

      for (int ch = 0; ch < 3; ch++)
        for (int64_t i = 0; i < 64 * 64; i++)
          g_assert_cmpfloat (out[ch * 64 * 64 + i], ==,
                             ch == k ? 2.0f : -2.0f);
      g_free (out);
    }
    {
      /* I420 red/green/blue: limited-range quantisation, so compare in
       * levels; the primary channel must dominate anyway */
      MmdnnVideoConfig u = config_make (3, 64, 64, 0.0f, 1.0f);
      float *out = run_picture (&u, MMDNN_PIXEL_I420, &p, 0, PAD_NONE, 4);

      for (int ch = 0; ch < 3; ch++)
        for (int64_t i = 0; i < 64 * 64; i++)
          g_assert_cmpfloat (fabs (level (out[ch * 64 * 64 + i])
                                   - primaries[k][ch]), <=, TOL_I420_VS_RGB);
      g_free (out);
    }
    picture_clear (&p);
  }
}

/* The same colour picture as RGB, BGR, RGBA, BGRA, RGBx and BGRx (with
 * random alpha / x bytes) gives bit-identical tensors, downscaled,
 * upscaled, and at odd sizes. */
static void
test_formats_same_picture (void)
{
  const int64_t sizes[][2] = { { 100, 75 }, { 33, 17 }, { 64, 64 }, { 65, 3 } };
  MmdnnVideoConfig c;
  MmdnnRng rng;

  mmdnn_video_config_init (&c);
  mmdnn_rng_init (&rng, 5);
  for (guint si = 0; si < G_N_ELEMENTS (sizes); si++) {
    Picture p = picture_random (&rng, sizes[si][0], sizes[si][1], FALSE);
    float *ref = run_picture (&c, MMDNN_PIXEL_RGB, &p, 0, PAD_NONE, 6);

    for (guint fi = 1; fi < G_N_ELEMENTS (rgb_formats); fi++) {
      float *out = run_picture (&c, rgb_formats[fi], &p, 0, PAD_NONE,
                                7 + fi);

      g_assert_true (check_close (fmt_name (rgb_formats[fi]), out, ref,
                                  out_numel (&c), 0.0));
      g_free (out);
    }
    g_free (ref);
    picture_clear (&p);
  }
}

/* A grey picture as RGB, BGRx, RGBA and GRAY8, into RGB and grey configs:
 * the RGB-like formats agree exactly, GRAY8 within TOL_GRAY8_VS_RGB, and
 * every channel of the RGB output is the same. */
static void
test_formats_grey_picture (void)
{
  const int64_t sizes[][2] = { { 128, 96 }, { 33, 17 }, { 64, 64 } };
  const MmdnnPixelFormat fmts[] = { MMDNN_PIXEL_BGRX, MMDNN_PIXEL_RGBA,
                                    MMDNN_PIXEL_GRAY8 };
  MmdnnRng rng;

  mmdnn_rng_init (&rng, 8);
  for (int64_t channels = 1; channels <= 3; channels += 2)
    for (guint si = 0; si < G_N_ELEMENTS (sizes); si++) {
      MmdnnVideoConfig c = config_make (channels, 64, 64, 0.0f, 1.0f);
      Picture p = picture_random (&rng, sizes[si][0], sizes[si][1], TRUE);
      float *ref = run_picture (&c, MMDNN_PIXEL_RGB, &p, 0, PAD_NONE, 9);
      int64_t plane = 64 * 64;

      for (int ch = 1; ch < channels; ch++)
        g_assert_true (check_close ("grey R = G = B", ref + ch * plane, ref,
                                    plane, 0.0));
      for (guint fi = 0; fi < G_N_ELEMENTS (fmts); fi++) {
        float *out = run_picture (&c, fmts[fi], &p, 0, PAD_NONE, 10);
        double tol = fmts[fi] == MMDNN_PIXEL_GRAY8 ? TOL_GRAY8_VS_RGB : 0.0;

        g_assert_true (check_close (fmt_name (fmts[fi]), out, ref,
                                    out_numel (&c), tol / 255.0 + 1e-7));
        g_free (out);
      }
      g_free (ref);
      picture_clear (&p);
    }
}

/* Flat colour blocks as I420 against the same picture as RGB: within
 * TOL_I420_VS_RGB levels of the RGB tensor and within TOL_I420_DECODE of
 * the exact BT.601 limited-range decode of the YUV bytes. Identity size,
 * 2:1 downscale and odd-size upscale; output pixels whose neighbourhood
 * straddles a block edge (where chroma interpolation legitimately mixes
 * colours) are skipped. */
static void
test_i420_blocks (void)
{
  /* w, h, block size in input pixels */
  const int64_t cases[][3] = { { 64, 64, 16 }, { 128, 128, 32 },
                               { 34, 18, 10 } };
  MmdnnVideoConfig c = config_make (3, 64, 64, 0.0f, 1.0f);

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++) {
    int64_t w = cases[k][0], h = cases[k][1], bs = cases[k][2];
    Picture p = picture_blocks (w, h, bs);
    float *rgb = run_picture (&c, MMDNN_PIXEL_RGB, &p, 0, PAD_NONE, 11);
    float *yuv = run_picture (&c, MMDNN_PIXEL_I420, &p, 0, PAD_NONE, 11);
    int64_t checked = 0;

    for (int64_t oy = 0; oy < 64; oy++)
      for (int64_t ox = 0; ox < 64; ox++) {
        /* the input area this output pixel and its neighbours see, plus 2
         * luma pixels for the interpolation of the half-size chroma */
        int64_t x0 = MAX (0, (ox - 2) * w / 64 - 2);
        int64_t x1 = MIN (w - 1, (ox + 3) * w / 64 + 2);
        int64_t y0 = MAX (0, (oy - 2) * h / 64 - 2);
        int64_t y1 = MIN (h - 1, (oy + 3) * h / 64 + 2);
        int b = block_index (x0, y0, bs);
        const int *col = palette[b];
        uint8_t yy, uu, vv;
        double dec[3];

        if (block_index (x1, y0, bs) != b || block_index (x0, y1, bs) != b
            || x0 / bs != x1 / bs || y0 / bs != y1 / bs)
          continue;
        rgb_to_yuv (col[0], col[1], col[2], &yy, &uu, &vv);
        yuv_to_rgb (yy, uu, vv, dec);
        for (int ch = 0; ch < 3; ch++) {
          int64_t i = ch * 64 * 64 + oy * 64 + ox;
          double got = level (yuv[i]);

          if (fabs (got - level (rgb[i])) > TOL_I420_VS_RGB + 1e-4
              || fabs (got - CLAMP (dec[ch], 0.0, 255.0)) > TOL_I420_DECODE + 1e-4)
            g_error ("%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " (%" G_GINT64_FORMAT
                     ",%" G_GINT64_FORMAT ") c%d: I420 %.3f, RGB %.3f, decode %.3f",
                     w, h, ox, oy, ch, got, level (rgb[i]), dec[ch]);
        }
        checked++;
      }
    /* a good part of the picture is block interior */
    g_test_message ("%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT ": %"
                    G_GINT64_FORMAT " pixels checked", w, h, checked);
    g_assert_cmpint (checked, >=, 64 * 64 / 4);
    g_free (rgb);
    g_free (yuv);
    picture_clear (&p);
  }
}

/* A flat colour, downscaled (area) or upscaled (bilinear), from any format
 * and any size, is exactly that colour: no ringing, no edge darkening. */
static void
test_flat_exact (void)
{
  const int64_t sizes[][2] = { { 640, 360 }, { 200, 150 }, { 65, 64 },
                               { 64, 65 }, { 33, 17 }, { 1, 1 }, { 1, 100 },
                               { 300, 1 }, { 64, 64 } };
  MmdnnVideoConfig c, g = config_make (1, 64, 64, 0.5f, 0.25f);
  MmdnnRng rng;

  mmdnn_video_config_init (&c);
  mmdnn_rng_init (&rng, 12);
  for (guint si = 0; si < G_N_ELEMENTS (sizes); si++) {
    int r = (int) mmdnn_rng_below (&rng, 256), gg = (int) mmdnn_rng_below (&rng, 256);
    int b = (int) mmdnn_rng_below (&rng, 256), v = (int) mmdnn_rng_below (&rng, 256);
    Picture p = picture_flat (sizes[si][0], sizes[si][1], r, gg, b);
    Picture q = picture_flat (sizes[si][0], sizes[si][1], v, v, v);
    const int rgb[3] = { r, gg, b };

    for (guint fi = 0; fi < G_N_ELEMENTS (rgb_formats); fi++) {
      float *out = run_picture (&c, rgb_formats[fi], &p, 0, PAD_NONE, 13);

      for (int ch = 0; ch < 3; ch++)
        for (int64_t i = 0; i < 64 * 64; i++)
          g_assert_cmpfloat (out[ch * 64 * 64 + i], ==, norm (&c, ch, rgb[ch]));
      g_free (out);
    }
    {
      /* GRAY8 into RGB and grey configs */
      float *out = run_picture (&c, MMDNN_PIXEL_GRAY8, &q, 0, PAD_NONE, 14);
      float *out1 = run_picture (&g, MMDNN_PIXEL_GRAY8, &q, 0, PAD_NONE, 14);

      for (int64_t i = 0; i < 3 * 64 * 64; i++)
        g_assert_cmpfloat (out[i], ==, norm (&c, 0, v));
      for (int64_t i = 0; i < 64 * 64; i++)
        g_assert_cmpfloat (out1[i], ==, norm (&g, 0, v));
      g_free (out);
      g_free (out1);
    }
    {
      /* I420: flat in, flat out (every pixel equal to the first) */
      float *out = run_picture (&c, MMDNN_PIXEL_I420, &p, 0, PAD_NONE, 15);

      for (int ch = 0; ch < 3; ch++)
        for (int64_t i = 0; i < 64 * 64; i++)
          g_assert_cmpfloat (out[ch * 64 * 64 + i], ==, out[ch * 64 * 64]);
      g_free (out);
    }
    picture_clear (&p);
    picture_clear (&q);
  }
}

/* A left-to-right gradient (R rising, G falling, B constant) stays
 * monotonic along every row, keeps its full direction, and rows stay equal,
 * whether downscaled or upscaled. */
static void
test_gradient_monotonic (void)
{
  const int64_t sizes[][2] = { { 300, 40 }, { 33, 17 }, { 64, 64 },
                               { 1000, 7 } };
  MmdnnVideoConfig c = config_make (3, 48, 40, 0.0f, 1.0f);
  int64_t hw = c.height * c.width;

  for (guint si = 0; si < G_N_ELEMENTS (sizes); si++) {
    int64_t w = sizes[si][0], h = sizes[si][1];
    Picture p = picture_new (w, h);
    MmdnnPixelFormat fmts[] = { MMDNN_PIXEL_RGB, MMDNN_PIXEL_BGRX,
                                MMDNN_PIXEL_I420 };

    for (int64_t y = 0; y < h; y++)
      for (int64_t x = 0; x < w; x++) {
        int r = (int) lround (255.0 * (double) x / (double) (w - 1));

        picture_set (&p, x, y, r, 255 - r, 77);
      }
    for (guint fi = 0; fi < G_N_ELEMENTS (fmts); fi++) {
      float *out = run_picture (&c, fmts[fi], &p, 0, PAD_NONE, 16);

      for (int64_t y = 0; y < c.height; y++) {
        const float *rr = out + y * c.width, *gg = out + hw + y * c.width;
        const float *bb = out + 2 * hw + y * c.width;

        g_assert_true (check_close ("rows equal R", rr, out, c.width, 0.0));
        g_assert_true (check_close ("rows equal G", gg, out + hw, c.width, 0.0));
        for (int64_t x = 1; x < c.width; x++) {
          g_assert_cmpfloat (rr[x], >=, rr[x - 1]);
          g_assert_cmpfloat (gg[x], <=, gg[x - 1]);
        }
        /* from near black to near white across the width */
        g_assert_cmpfloat (level (rr[0]), <, 40.0);
        g_assert_cmpfloat (level (rr[c.width - 1]), >, 215.0);
        g_assert_cmpfloat (level (gg[0]), >, 215.0);
        if (fmts[fi] != MMDNN_PIXEL_I420)
          for (int64_t x = 0; x < c.width; x++)
            g_assert_cmpfloat (bb[x], ==, 77.0f / 255.0f);
      }
      g_free (out);
    }
    picture_clear (&p);
  }
}

/* Stride > row size: garbage (or uninitialised bytes, for valgrind) in the
 * padding does not change the result, for every format at odd sizes; the
 * buffers end right after the last pixel, so memcheck catches over-reads. */
static void
test_padded_strides (void)
{
  const int64_t sizes[][2] = { { 33, 17 }, { 101, 63 }, { 7, 5 }, { 64, 64 } };
  const int64_t pads[] = { 1, 13, 64 };
  MmdnnVideoConfig cfgs[2];
  MmdnnRng rng;

  mmdnn_video_config_init (&cfgs[0]);
  cfgs[1] = config_make (1, 24, 40, 0.3f, 0.7f);
  mmdnn_rng_init (&rng, 17);
  for (guint si = 0; si < G_N_ELEMENTS (sizes); si++) {
    Picture colour = picture_random (&rng, sizes[si][0], sizes[si][1], FALSE);
    Picture grey = picture_random (&rng, sizes[si][0], sizes[si][1], TRUE);

    for (guint ci = 0; ci < G_N_ELEMENTS (cfgs); ci++)
      for (guint fi = 0; fi < G_N_ELEMENTS (all_formats); fi++) {
        MmdnnPixelFormat fmt = all_formats[fi];
        const Picture *p = fmt == MMDNN_PIXEL_GRAY8 ? &grey : &colour;
        float *ref = run_picture (&cfgs[ci], fmt, p, 0, PAD_NONE, 18);

        for (guint pi = 0; pi < G_N_ELEMENTS (pads); pi++)
          for (PadMode m = PAD_GARBAGE; m <= PAD_UNINIT; m++) {
            float *out = run_picture (&cfgs[ci], fmt, p, pads[pi], m, 19 + pi);

            g_assert_true (check_close (fmt_name (fmt), out, ref,
                                        out_numel (&cfgs[ci]), 0.0));
            g_free (out);
          }
        g_free (ref);
      }
    picture_clear (&colour);
    picture_clear (&grey);
  }
}

/* Odd sizes: a 33×17 I420 frame has 17×9 chroma; its last chroma column
 * and row (covering one luma column/row only) are used. */
static void
test_odd_sizes (void)
{
  MmdnnVideoConfig c = config_make (3, 34, 66, 0.0f, 1.0f);
  Picture p = picture_flat (33, 17, 0, 0, 255);
  float *out;

  /* last column and last row red, everything else blue */
  for (int64_t y = 0; y < 17; y++)
    picture_set (&p, 32, y, 255, 0, 0);
  for (int64_t x = 0; x < 33; x++)
    picture_set (&p, x, 16, 255, 0, 0);
  for (guint fi = 0; fi < G_N_ELEMENTS (all_formats); fi++) {
    MmdnnPixelFormat fmt = all_formats[fi];

    if (fmt == MMDNN_PIXEL_GRAY8)
      continue;
    out = run_picture (&c, fmt, &p, 0, PAD_NONE, 20);
    /* 2× upscale: the bottom-right output pixel is fully red, the top-left
     * fully blue (I420 within the quantisation tolerance) */
    {
      int64_t hw = 34 * 66, br = 33 * 66 + 65;
      double tol = fmt == MMDNN_PIXEL_I420 ? TOL_I420_VS_RGB : 0.0;

      g_assert_cmpfloat (fabs (level (out[br]) - 255.0), <=, tol);
      g_assert_cmpfloat (fabs (level (out[2 * hw + br])), <=, tol);
      g_assert_cmpfloat (fabs (level (out[0])), <=, tol);
      g_assert_cmpfloat (fabs (level (out[2 * hw]) - 255.0), <=, tol);
      /* the last row is red all along */
      for (int64_t x = 0; x < 66; x++)
        g_assert_cmpfloat (fabs (level (out[33 * 66 + x]) - 255.0), <=, tol);
    }
    g_free (out);
  }
  picture_clear (&p);
}

/* Grey config from RGB: BT.601 luma 0.299 R + 0.587 G + 0.114 B within
 * TOL_LUMA; from I420 the Y plane expanded from limited to full range. */
static void
test_grey_luma (void)
{
  MmdnnVideoConfig g = config_make (1, 16, 16, 0.0f, 1.0f);

  for (guint k = 0; k < G_N_ELEMENTS (palette); k++) {
    const int *col = palette[k];
    double luma = 0.299 * col[0] + 0.587 * col[1] + 0.114 * col[2];
    Picture p = picture_flat (48, 40, col[0], col[1], col[2]);

    for (guint fi = 0; fi < G_N_ELEMENTS (rgb_formats); fi++) {
      float *out = run_picture (&g, rgb_formats[fi], &p, 0, PAD_NONE, 21);

      for (int64_t i = 0; i < 16 * 16; i++)
        if (fabs (level (out[i]) - luma) > TOL_LUMA)
          g_error ("%s (%d,%d,%d): %.3f, luma %.3f", fmt_name (rgb_formats[fi]),
                   col[0], col[1], col[2], level (out[i]), luma);
      g_free (out);
    }
    picture_clear (&p);
  }
  {
    /* I420 Y 16 → 0, 235 → 255, 126 → (126 − 16)·255/219 */
    const int ys[] = { 16, 235, 126, 0, 255 };
    const double want[] = { 0.0, 255.0, 110.0 * 255.0 / 219.0, 0.0, 255.0 };

    for (guint k = 0; k < G_N_ELEMENTS (ys); k++) {
      uint8_t yp[8 * 6], up[4 * 3], vp[4 * 3];
      const uint8_t *planes[3] = { yp, up, vp };
      const int64_t strides[3] = { 8, 4, 4 };
      float out[16 * 16];
      MmdnnVideoPrep *vp_ = mmdnn_video_prep_new (&g, NULL);

      memset (yp, ys[k], sizeof (yp));
      memset (up, 200, sizeof (up));    /* chroma must not leak into grey */
      memset (vp, 30, sizeof (vp));
      g_assert_true (mmdnn_video_prep_frame (vp_, MMDNN_PIXEL_I420, 8, 6,
                                             planes, strides, out, NULL));
      for (int64_t i = 0; i < 16 * 16; i++)
        g_assert_cmpfloat (fabs (level (out[i]) - want[k]), <=, 0.5 + 1e-4);
      mmdnn_video_prep_free (vp_);
    }
  }
}

/* One prep fed a changing stream (format and size switching back and
 * forth, repeated frames) gives exactly what a fresh prep gives for each
 * frame: the cached context is reused or rebuilt, colour details
 * included. */
static void
test_cache_switching (void)
{
  MmdnnVideoConfig c;
  MmdnnRng rng;
  GError *err = NULL;
  MmdnnVideoPrep *vp;
  Picture pics[2];
  const MmdnnPixelFormat seq[] = {
    MMDNN_PIXEL_I420, MMDNN_PIXEL_I420, MMDNN_PIXEL_RGB, MMDNN_PIXEL_I420,
    MMDNN_PIXEL_BGRA, MMDNN_PIXEL_BGRA, MMDNN_PIXEL_I420, MMDNN_PIXEL_RGB,
  };

  mmdnn_video_config_init (&c);
  mmdnn_rng_init (&rng, 22);
  pics[0] = picture_random (&rng, 80, 60, FALSE);
  pics[1] = picture_random (&rng, 31, 90, FALSE);
  vp = mmdnn_video_prep_new (&c, &err);
  g_assert_no_error (err);
  for (guint k = 0; k < 3 * G_N_ELEMENTS (seq); k++) {
    const Picture *p = &pics[(k / 3) % 2];
    Frame f;
    float *got, *want;

    frame_make (&f, seq[k % G_N_ELEMENTS (seq)], p, 0, PAD_NONE, &rng);
    got = run_prep (vp, &c, &f);
    want = run (&c, &f);
    g_assert_true (check_close ("cached", got, want, out_numel (&c), 0.0));
    g_free (got);
    g_free (want);
    frame_clear (&f);
  }
  mmdnn_video_prep_free (vp);
  picture_clear (&pics[0]);
  picture_clear (&pics[1]);
}

/* Non-square and extreme model sizes: 1×1 output (the mean of a 2-colour
 * picture by area), 1-pixel-wide input into a wide output. */
static void
test_extreme_sizes (void)
{
  MmdnnVideoConfig one = config_make (3, 1, 1, 0.0f, 1.0f);
  Picture p = picture_new (4, 2);
  float out[3];
  float *o;

  /* left half (0, 100, 200), right half (200, 100, 0): area mean 100 */
  for (int64_t y = 0; y < 2; y++)
    for (int64_t x = 0; x < 4; x++)
      picture_set (&p, x, y, x < 2 ? 0 : 200, 100, x < 2 ? 200 : 0);
  o = run_picture (&one, MMDNN_PIXEL_RGB, &p, 0, PAD_NONE, 23);
  memcpy (out, o, sizeof (out));
  g_free (o);
  for (int ch = 0; ch < 3; ch++)
    g_assert_cmpfloat (fabs (level (out[ch]) - 100.0), <=, 1.0);
  picture_clear (&p);

  {
    MmdnnVideoConfig wide = config_make (3, 3, 200, 0.5f, 0.25f);
    Picture q = picture_flat (1, 9, 10, 20, 30);
    float *w = run_picture (&wide, MMDNN_PIXEL_RGBX, &q, 0, PAD_NONE, 24);
    const int col[3] = { 10, 20, 30 };

    for (int ch = 0; ch < 3; ch++)
      for (int64_t i = 0; i < 3 * 200; i++)
        g_assert_cmpfloat (w[ch * 600 + i], ==, norm (&wide, ch, col[ch]));
    g_free (w);
    picture_clear (&q);
  }
}

/* The scaling algorithms themselves. Downscaling is an exact box (area)
 * filter: an output pixel depends only on the input pixels under its
 * footprint, so a step edge on a footprint boundary stays sharp and one
 * inside a footprint gives the covered fraction (a bicubic or bilinear
 * downscale blurs across footprints). Upscaling is linear interpolation
 * between pixel centres, clamped at the borders. */
static void
test_scaling_kernels (void)
{
  MmdnnVideoConfig g = config_make (1, 8, 64, 0.0f, 1.0f);
  MmdnnVideoConfig gt = config_make (1, 64, 8, 0.0f, 1.0f);
  MmdnnVideoConfig rgb = config_make (3, 8, 64, 0.0f, 1.0f);

  for (int step = 128; step <= 130; step += 2) {
    /* 256×32 → 64×8 (4:1): the step at 128 is on a footprint boundary,
     * the step at 130 covers half of footprint 32 */
    Picture p = picture_new (256, 32), pt = picture_new (32, 256);
    float *o1, *o3, *ot;

    for (int64_t y = 0; y < 32; y++)
      for (int64_t x = 0; x < 256; x++) {
        int v = x >= step ? 255 : 0;

        picture_set (&p, x, y, v, v, v);
        picture_set (&pt, y, x, v, v, v);
      }
    o1 = run_picture (&g, MMDNN_PIXEL_GRAY8, &p, 0, PAD_NONE, 25);
    o3 = run_picture (&rgb, MMDNN_PIXEL_RGB, &p, 0, PAD_NONE, 25);
    ot = run_picture (&gt, MMDNN_PIXEL_GRAY8, &pt, 0, PAD_NONE, 25);
    for (int64_t y = 0; y < 8; y++)
      for (int64_t x = 0; x < 64; x++) {
        double want = x < 32 ? 0.0 : x > 32 || step == 128 ? 255.0 : 127.5;
        double tol = want == 127.5 ? 0.5 + 1e-4 : 0.0;

        g_assert_cmpfloat (fabs (level (o1[y * 64 + x]) - want), <=, tol);
        g_assert_cmpfloat (fabs (level (ot[x * 8 + y]) - want), <=, tol);
        for (int ch = 0; ch < 3; ch++)
          g_assert_cmpfloat (fabs (level (o3[ch * 512 + y * 64 + x]) - want),
                             <=, tol);
      }
    g_free (o1);
    g_free (o3);
    g_free (ot);
    picture_clear (&p);
    picture_clear (&pt);
  }
  {
    /* 4×3 columns 0, 255, 0, 255 → 16 wide (4×): output x samples input
     * position (x + ½)/4 − ½, clamped to [0, 3] */
    MmdnnVideoConfig up = config_make (1, 3, 16, 0.0f, 1.0f);
    Picture p = picture_new (4, 3);
    float *o;

    for (int64_t y = 0; y < 3; y++)
      for (int64_t x = 0; x < 4; x++)
        picture_set (&p, x, y, 255 * (int) (x % 2), 255 * (int) (x % 2),
                     255 * (int) (x % 2));
    o = run_picture (&up, MMDNN_PIXEL_GRAY8, &p, 0, PAD_NONE, 26);
    for (int64_t y = 0; y < 3; y++)
      for (int64_t x = 0; x < 16; x++) {
        double pos = CLAMP (((double) x + 0.5) / 4.0 - 0.5, 0.0, 3.0);
        int64_t i0 = MIN ((int64_t) pos, 2);
        double f = pos - (double) i0;
        double want = 255.0 * ((1.0 - f) * (double) (i0 % 2)
                               + f * (double) ((i0 + 1) % 2));

        g_assert_cmpfloat (fabs (level (o[y * 16 + x]) - want), <=, 1.0);
      }
    g_free (o);
    picture_clear (&p);
  }
}

/* ---- negative tests ----------------------------------------------------- */

static void
expect_bad_config (const MmdnnVideoConfig *c, const char *field)
{
  GError *err = NULL;

  g_assert_null (mmdnn_video_prep_new (c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  if (field != NULL && strstr (err->message, field) == NULL)
    g_error ("message \"%s\" does not name %s", err->message, field);
  g_clear_error (&err);
}

static void
test_config_null_n (void)
{
  expect_bad_config (NULL, "c");
}

static void
test_config_channels_n (void)
{
  const int64_t bad[] = { 0, 2, 4, -1, -3, INT64_MAX };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    MmdnnVideoConfig c;

    mmdnn_video_config_init (&c);
    c.channels = bad[i];
    expect_bad_config (&c, "channels");
  }
}

static void
test_config_size_n (void)
{
  const int64_t bad[] = { 0, -1, 4097, 5000, INT64_MAX, INT64_MIN };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    MmdnnVideoConfig c;

    mmdnn_video_config_init (&c);
    c.height = bad[i];
    expect_bad_config (&c, "height");
    mmdnn_video_config_init (&c);
    c.width = bad[i];
    expect_bad_config (&c, "width");
  }
}

static void
test_config_std_n (void)
{
  const float bad[] = { 0.0f, -0.0f, -0.25f, NAN, INFINITY, -INFINITY };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    for (int ch = 0; ch < 3; ch++) {
      MmdnnVideoConfig c;
      char field[16];

      mmdnn_video_config_init (&c);
      c.std[ch] = bad[i];
      g_snprintf (field, sizeof (field), "std[%d]", ch);
      expect_bad_config (&c, field);
    }
}

static void
test_config_mean_n (void)
{
  const float bad[] = { NAN, INFINITY, -INFINITY };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    for (int ch = 0; ch < 3; ch++) {
      MmdnnVideoConfig c;
      char field[16];

      /* also on a grey config, where mean[1..2] are unused */
      mmdnn_video_config_init (&c);
      c.channels = 1 + 2 * (ch == 0);
      c.mean[ch] = bad[i];
      g_snprintf (field, sizeof (field), "mean[%d]", ch);
      expect_bad_config (&c, field);
    }
}

/* Every failing call below must leave @out as it was. */
#define SENTINEL 12345.0f

typedef struct {
  MmdnnVideoConfig c;
  MmdnnVideoPrep  *vp;
  float           *out;
  Frame            rgb, i420;
  Picture          pic;
  MmdnnRng         rng;
} Fixture;

static void
fixture_init (Fixture *fx)
{
  GError *err = NULL;

  mmdnn_video_config_init (&fx->c);
  fx->vp = mmdnn_video_prep_new (&fx->c, &err);
  g_assert_no_error (err);
  fx->out = g_new (float, out_numel (&fx->c));
  for (int64_t i = 0; i < out_numel (&fx->c); i++)
    fx->out[i] = SENTINEL;
  mmdnn_rng_init (&fx->rng, 30);
  fx->pic = picture_random (&fx->rng, 33, 17, FALSE);
  frame_make (&fx->rgb, MMDNN_PIXEL_RGB, &fx->pic, 0, PAD_NONE, &fx->rng);
  frame_make (&fx->i420, MMDNN_PIXEL_I420, &fx->pic, 0, PAD_NONE, &fx->rng);
}

/* Checks @out untouched, then that the prep still works and matches a fresh
 * one: a rejected frame leaves the cache usable. */
static void
fixture_clear (Fixture *fx)
{
  float *want;

  for (int64_t i = 0; i < out_numel (&fx->c); i++)
    g_assert_cmpfloat (fx->out[i], ==, SENTINEL);
  g_assert_true (mmdnn_video_prep_frame (fx->vp, fx->i420.fmt, fx->i420.w,
                                         fx->i420.h, fx->i420.planes,
                                         fx->i420.strides, fx->out, NULL));
  want = run (&fx->c, &fx->i420);
  g_assert_true (check_close ("after error", fx->out, want,
                              out_numel (&fx->c), 0.0));
  g_free (want);
  mmdnn_video_prep_free (fx->vp);
  g_free (fx->out);
  frame_clear (&fx->rgb);
  frame_clear (&fx->i420);
  picture_clear (&fx->pic);
}

static void
expect_bad_frame (Fixture *fx, MmdnnVideoPrep *vp, MmdnnPixelFormat fmt,
                  int64_t w, int64_t h, const uint8_t *const planes[],
                  const int64_t strides[], float *out, const char *what)
{
  GError *err = NULL;

  g_assert_false (mmdnn_video_prep_frame (vp, fmt, w, h, planes, strides, out,
                                          &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  if (strstr (err->message, what) == NULL)
    g_error ("message \"%s\" does not name %s", err->message, what);
  g_clear_error (&err);
  /* a NULL error is fine too */
  g_assert_false (mmdnn_video_prep_frame (vp, fmt, w, h, planes, strides, out,
                                          NULL));
  (void) fx;
}

static void
test_frame_null_prep_n (void)
{
  Fixture fx;

  fixture_init (&fx);
  expect_bad_frame (&fx, NULL, MMDNN_PIXEL_RGB, 33, 17, fx.rgb.planes,
                    fx.rgb.strides, fx.out, "vp");
  fixture_clear (&fx);
}

static void
test_frame_null_out_n (void)
{
  Fixture fx;

  fixture_init (&fx);
  expect_bad_frame (&fx, fx.vp, MMDNN_PIXEL_RGB, 33, 17, fx.rgb.planes,
                    fx.rgb.strides, NULL, "out");
  expect_bad_frame (&fx, fx.vp, MMDNN_PIXEL_I420, 33, 17, fx.i420.planes,
                    fx.i420.strides, NULL, "out");
  fixture_clear (&fx);
}

static void
test_frame_null_planes_n (void)
{
  Fixture fx;

  fixture_init (&fx);
  expect_bad_frame (&fx, fx.vp, MMDNN_PIXEL_RGB, 33, 17, NULL,
                    fx.rgb.strides, fx.out, "planes");
  for (int p = 0; p < 3; p++) {
    const uint8_t *planes[3] = { fx.i420.planes[0], fx.i420.planes[1],
                                 fx.i420.planes[2] };
    char what[16];

    planes[p] = NULL;
    g_snprintf (what, sizeof (what), "planes[%d]", p);
    expect_bad_frame (&fx, fx.vp, MMDNN_PIXEL_I420, 33, 17, planes,
                      fx.i420.strides, fx.out, what);
    if (p == 0)
      expect_bad_frame (&fx, fx.vp, MMDNN_PIXEL_GRAY8, 33, 17, planes,
                        fx.i420.strides, fx.out, what);
  }
  fixture_clear (&fx);
}

static void
test_frame_null_strides_n (void)
{
  Fixture fx;

  fixture_init (&fx);
  expect_bad_frame (&fx, fx.vp, MMDNN_PIXEL_RGB, 33, 17, fx.rgb.planes, NULL,
                    fx.out, "strides");
  fixture_clear (&fx);
}

static void
test_frame_zero_size_n (void)
{
  const int64_t bad[] = { 0, -1, -33, INT64_MIN };
  Fixture fx;

  fixture_init (&fx);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    expect_bad_frame (&fx, fx.vp, MMDNN_PIXEL_RGB, bad[i], 17, fx.rgb.planes,
                      fx.rgb.strides, fx.out, "width");
    expect_bad_frame (&fx, fx.vp, MMDNN_PIXEL_I420, 33, bad[i],
                      fx.i420.planes, fx.i420.strides, fx.out, "height");
  }
  fixture_clear (&fx);
}

/* More than MMDNN_VIDEO_MAX_DOWNSCALE times the config's size either way
 * (libswscale's area filter crashes from about 160 times on): refused,
 * naming the limit; exactly that much still works. */
static void
test_frame_over_downscale_n (void)
{
  Fixture fx;
  int64_t wmax, hmax;
  uint8_t *zeros;
  GError *err = NULL;

  fixture_init (&fx);
  wmax = MMDNN_VIDEO_MAX_DOWNSCALE * fx.c.width;
  hmax = MMDNN_VIDEO_MAX_DOWNSCALE * fx.c.height;
  zeros = g_malloc0 ((gsize) MAX (wmax, hmax) + 64);
  {
    const uint8_t *planes[3] = { zeros, NULL, NULL };
    const int64_t wide[3] = { wmax + 1, 0, 0 }, narrow[3] = { 1, 0, 0 };
    float *out = g_new (float, out_numel (&fx.c));

    expect_bad_frame (&fx, fx.vp, MMDNN_PIXEL_GRAY8, wmax + 1, 1, planes,
                      wide, fx.out, "times the model's");
    expect_bad_frame (&fx, fx.vp, MMDNN_PIXEL_GRAY8, 1, hmax + 1, planes,
                      narrow, fx.out, "times the model's");
    g_assert_true (mmdnn_video_prep_frame (fx.vp, MMDNN_PIXEL_GRAY8, wmax, 1,
                                           planes, wide, out, &err));
    g_assert_no_error (err);
    g_assert_true (mmdnn_video_prep_frame (fx.vp, MMDNN_PIXEL_GRAY8, 1, hmax,
                                           planes, narrow, out, &err));
    g_assert_no_error (err);
    g_free (out);
  }
  g_free (zeros);
  fixture_clear (&fx);
}

static void
test_frame_huge_size_n (void)
{
  const int64_t bad[] = { 16385, 1 << 20, (int64_t) G_MAXINT + 1, INT64_MAX };
  Fixture fx;

  fixture_init (&fx);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    /* strides large enough, so only the size itself is at fault */
    const int64_t big[3] = { INT64_MAX, INT64_MAX, INT64_MAX };

    expect_bad_frame (&fx, fx.vp, MMDNN_PIXEL_GRAY8, bad[i], 17,
                      fx.rgb.planes, big, fx.out, "width");
    expect_bad_frame (&fx, fx.vp, MMDNN_PIXEL_RGB, 33, bad[i], fx.rgb.planes,
                      fx.rgb.strides, fx.out, "height");
  }
  fixture_clear (&fx);
}

static void
test_frame_stride_too_small_n (void)
{
  Fixture fx;

  fixture_init (&fx);
  for (guint fi = 0; fi < G_N_ELEMENTS (all_formats); fi++) {
    MmdnnPixelFormat fmt = all_formats[fi];
    const int bpp[] = { 3, 3, 4, 4, 4, 4, 1, 1 };
    const Frame *f = fmt == MMDNN_PIXEL_I420 ? &fx.i420 : &fx.rgb;
    int64_t strides[3] = { 33 * bpp[fmt], 17, 17 };

    /* one byte short on plane 0, then zero and negative */
    strides[0] = 33 * bpp[fmt] - 1;
    expect_bad_frame (&fx, fx.vp, fmt, 33, 17, f->planes, strides, fx.out,
                      "strides[0]");
    strides[0] = 0;
    expect_bad_frame (&fx, fx.vp, fmt, 33, 17, f->planes, strides, fx.out,
                      "strides[0]");
    strides[0] = -33 * bpp[fmt];
    expect_bad_frame (&fx, fx.vp, fmt, 33, 17, f->planes, strides, fx.out,
                      "strides[0]");
  }
  {
    /* I420 33 wide: chroma rows are ceil(33/2) = 17 bytes, 16 is short */
    int64_t strides[3] = { 33, 16, 17 };

    expect_bad_frame (&fx, fx.vp, MMDNN_PIXEL_I420, 33, 17, fx.i420.planes,
                      strides, fx.out, "strides[1]");
    strides[1] = 17;
    strides[2] = 16;
    expect_bad_frame (&fx, fx.vp, MMDNN_PIXEL_I420, 33, 17, fx.i420.planes,
                      strides, fx.out, "strides[2]");
  }
  fixture_clear (&fx);
}

static void
test_frame_stride_huge_n (void)
{
  Fixture fx;
  int64_t strides[3] = { 0, 0, 0 };

  fixture_init (&fx);
  strides[0] = (int64_t) G_MAXINT + 1;
  expect_bad_frame (&fx, fx.vp, MMDNN_PIXEL_RGB, 33, 17, fx.rgb.planes,
                    strides, fx.out, "strides[0]");
  strides[0] = 33;
  strides[1] = INT64_MAX;
  strides[2] = 17;
  expect_bad_frame (&fx, fx.vp, MMDNN_PIXEL_I420, 33, 17, fx.i420.planes,
                    strides, fx.out, "strides[1]");
  fixture_clear (&fx);
}

static void
test_frame_unknown_format_n (void)
{
  const int bad[] = { -1, MMDNN_PIXEL_I420_FULL + 1, 10, 100, G_MAXINT };
  Fixture fx;

  fixture_init (&fx);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    expect_bad_frame (&fx, fx.vp, (MmdnnPixelFormat) bad[i], 33, 17,
                      fx.rgb.planes, fx.rgb.strides, fx.out, "format");
  fixture_clear (&fx);
}

/* A bad frame between good ones of another geometry does not disturb the
 * cached context: the next good frame equals a fresh prep's result. */
static void
test_frame_error_mid_stream_n (void)
{
  Fixture fx;
  GError *err = NULL;
  float *want;
  int64_t short_strides[3] = { 32, 17, 17 };

  fixture_init (&fx);
  g_assert_true (mmdnn_video_prep_frame (fx.vp, MMDNN_PIXEL_RGB, 33, 17,
                                         fx.rgb.planes, fx.rgb.strides,
                                         fx.out, &err));
  want = run (&fx.c, &fx.rgb);
  g_assert_true (check_close ("before", fx.out, want, out_numel (&fx.c), 0.0));
  g_free (want);
  for (int64_t i = 0; i < out_numel (&fx.c); i++)
    fx.out[i] = SENTINEL;
  /* same geometry as I420 but a short luma stride: rejected */
  expect_bad_frame (&fx, fx.vp, MMDNN_PIXEL_I420, 33, 17, fx.i420.planes,
                    short_strides, fx.out, "strides[0]");
  fixture_clear (&fx);
}

/* The same YUV bytes read as limited range (video) and as full range
 * (JPEG): Y 16/235 are black/white in the first, 0/255 in the second.
 * Alternating on one prep also proves the cached swscale context is
 * re-tuned when only the range changes. */
static float
flat_yuv (MmdnnVideoPrep *vp, MmdnnPixelFormat fmt, uint8_t y)
{
  enum { W = 16, H = 16 };
  uint8_t yp[W * H], up[W * H / 4], vp_[W * H / 4];
  const uint8_t *planes[3] = { yp, up, vp_ };
  const int64_t strides[3] = { W, W / 2, W / 2 };
  float out[3 * 8 * 8];
  GError *error = NULL;

  memset (yp, y, sizeof (yp));
  memset (up, 128, sizeof (up));
  memset (vp_, 128, sizeof (vp_));
  g_assert_true (mmdnn_video_prep_frame (vp, fmt, W, H, planes, strides, out,
                                         &error));
  g_assert_no_error (error);
  for (int i = 1; i < 3 * 8 * 8; i++)
    g_assert_cmpfloat (out[i], ==, out[0]);
  return out[0];
}

static void
test_i420_full_range (void)
{
  MmdnnVideoConfig c = config_make (3, 8, 8, 0.0f, 1.0f);
  MmdnnVideoPrep *vp = mmdnn_video_prep_new (&c, NULL);
  float white = flat_yuv (vp, MMDNN_PIXEL_I420_FULL, 255);
  float scale = white;          /* the config's value of RGB level 255 */

  g_assert_cmpfloat (scale, >, 0.0f);
  for (int round = 0; round < 2; round++) {
    /* limited: 16 black, 235 white; full: 16 is a dark grey */
    g_assert_cmpfloat_with_epsilon (flat_yuv (vp, MMDNN_PIXEL_I420, 16), 0.0f,
                                    1.5f * scale / 255.0f);
    g_assert_cmpfloat_with_epsilon (flat_yuv (vp, MMDNN_PIXEL_I420_FULL, 16),
                                    16.0f * scale / 255.0f,
                                    1.5f * scale / 255.0f);
    g_assert_cmpfloat_with_epsilon (flat_yuv (vp, MMDNN_PIXEL_I420, 235),
                                    scale, 1.5f * scale / 255.0f);
    g_assert_cmpfloat_with_epsilon (flat_yuv (vp, MMDNN_PIXEL_I420_FULL, 235),
                                    235.0f * scale / 255.0f,
                                    1.5f * scale / 255.0f);
    g_assert_cmpfloat_with_epsilon (flat_yuv (vp, MMDNN_PIXEL_I420_FULL, 0),
                                    0.0f, 1.5f * scale / 255.0f);
  }
  mmdnn_video_prep_free (vp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/video/config-defaults", test_config_defaults);
  g_test_add_func ("/video/identity-exact", test_identity_exact);
  g_test_add_func ("/video/channel-order", test_channel_order);
  g_test_add_func ("/video/formats-same-picture", test_formats_same_picture);
  g_test_add_func ("/video/formats-grey-picture", test_formats_grey_picture);
  g_test_add_func ("/video/i420-blocks", test_i420_blocks);
  g_test_add_func ("/video/i420-full-range", test_i420_full_range);
  g_test_add_func ("/video/flat-exact", test_flat_exact);
  g_test_add_func ("/video/gradient-monotonic", test_gradient_monotonic);
  g_test_add_func ("/video/padded-strides", test_padded_strides);
  g_test_add_func ("/video/odd-sizes", test_odd_sizes);
  g_test_add_func ("/video/grey-luma", test_grey_luma);
  g_test_add_func ("/video/cache-switching", test_cache_switching);
  g_test_add_func ("/video/extreme-sizes", test_extreme_sizes);
  g_test_add_func ("/video/scaling-kernels", test_scaling_kernels);

  g_test_add_func ("/video/config-null_n", test_config_null_n);
  g_test_add_func ("/video/config-channels_n", test_config_channels_n);
  g_test_add_func ("/video/config-size_n", test_config_size_n);
  g_test_add_func ("/video/config-std_n", test_config_std_n);
  g_test_add_func ("/video/config-mean_n", test_config_mean_n);
  g_test_add_func ("/video/frame-null-prep_n", test_frame_null_prep_n);
  g_test_add_func ("/video/frame-null-out_n", test_frame_null_out_n);
  g_test_add_func ("/video/frame-null-planes_n", test_frame_null_planes_n);
  g_test_add_func ("/video/frame-null-strides_n", test_frame_null_strides_n);
  g_test_add_func ("/video/frame-zero-size_n", test_frame_zero_size_n);
  g_test_add_func ("/video/frame-huge-size_n", test_frame_huge_size_n);
  g_test_add_func ("/video/frame-over-downscale_n",
                   test_frame_over_downscale_n);
  g_test_add_func ("/video/frame-stride-too-small_n",
                   test_frame_stride_too_small_n);
  g_test_add_func ("/video/frame-stride-huge_n", test_frame_stride_huge_n);
  g_test_add_func ("/video/frame-unknown-format_n",
                   test_frame_unknown_format_n);
  g_test_add_func ("/video/frame-error-mid-stream_n",
                   test_frame_error_mid_stream_n);
  return g_test_run ();
}
