/* mmdnn — video preprocessing: a raw frame → (C, H, W) float tensor.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <libavutil/mem.h>
#include <libavutil/pixfmt.h>
#include <libswscale/swscale.h>

#include <mmdnn/video.h>
#include "internal.h"

#define MAX_OUT_SIZE 4096
#define MAX_IN_SIZE  16384

/* swscale's SIMD input converters read up to a vector past the end of a
 * row (28 bytes measured under valgrind with AVX2; 64 for an AVX-512
 * vector), and with zero filter weights memcheck still sees the values
 * flow into the output. Rows are therefore handed to swscale from a
 * staging buffer with this much defined slack after each of them, CHUNK
 * rows at a time (even, as I420 slices must be; sws_scale slices give
 * bit-identical output to a single call). */
#define ROW_SLACK 128
#define CHUNK     16

/* Fixed flags: see video.h for why each one is there. */
#define BASE_FLAGS (SWS_ACCURATE_RND | SWS_BITEXACT | SWS_FULL_CHR_H_INP       \
                    | SWS_FULL_CHR_H_INT)

struct _MmdnnVideoPrep {
  MmdnnVideoConfig   config;
  float              lut[3][256];   /* normalised value of each 8-bit level */

  struct SwsContext *sws;
  /* The input geometry @sws was made for; valid when sws != NULL. Kept
   * here so the colour details are set once per context, not per frame. */
  enum AVPixelFormat src_fmt;
  gboolean           src_limited;   /* limited-range YUV */
  int                src_w, src_h, flags;

  uint8_t           *scratch;       /* (height, scratch_stride) bytes      */
  int                scratch_stride;

  /* Staging: CHUNK rows of each input plane at a padded stride (see
   * stage_rows); grow-only, zeroed when allocated, rows only ever written
   * up to their width, so the slack after every row stays defined. */
  uint8_t           *stage[3];
  size_t             stage_cap[3];
  int                stage_stride[4];   /* 4: sws_scale reads four */
};

typedef struct {
  enum AVPixelFormat av;
  int                bytes;         /* per pixel of plane 0 */
  int                n_planes;
  const char        *name;
} FormatInfo;

static const FormatInfo formats[] = {
  [MMDNN_PIXEL_RGB]   = { AV_PIX_FMT_RGB24,   3, 1, "RGB"   },
  [MMDNN_PIXEL_BGR]   = { AV_PIX_FMT_BGR24,   3, 1, "BGR"   },
  [MMDNN_PIXEL_RGBA]  = { AV_PIX_FMT_RGBA,    4, 1, "RGBA"  },
  [MMDNN_PIXEL_BGRA]  = { AV_PIX_FMT_BGRA,    4, 1, "BGRA"  },
  [MMDNN_PIXEL_RGBX]  = { AV_PIX_FMT_RGB0,    4, 1, "RGBx"  },
  [MMDNN_PIXEL_BGRX]  = { AV_PIX_FMT_BGR0,    4, 1, "BGRx"  },
  [MMDNN_PIXEL_GRAY8] = { AV_PIX_FMT_GRAY8,   1, 1, "GRAY8" },
  [MMDNN_PIXEL_I420]  = { AV_PIX_FMT_YUV420P, 1, 3, "I420"  },
  [MMDNN_PIXEL_I420_FULL] = { AV_PIX_FMT_YUV420P, 1, 3, "I420 (full range)" },
};

void
mmdnn_video_config_init (MmdnnVideoConfig *c)
{
  if (c == NULL)
    return;
  c->channels = 3;
  c->height = 64;
  c->width = 64;
  for (int i = 0; i < 3; i++) {
    c->mean[i] = 0.5f;
    c->std[i] = 0.25f;
  }
}

static gboolean
config_check (const MmdnnVideoConfig *c, GError **error)
{
  MMDNN_CHECK_NOT_NULL (c, error, FALSE);
  MMDNN_CHECK (c->channels == 1 || c->channels == 3, error, FALSE,
               "channels is %" G_GINT64_FORMAT ", must be 1 or 3",
               c->channels);
  MMDNN_CHECK (c->height >= 1 && c->height <= MAX_OUT_SIZE, error, FALSE,
               "height is %" G_GINT64_FORMAT ", must be in [1, %d]",
               c->height, MAX_OUT_SIZE);
  MMDNN_CHECK (c->width >= 1 && c->width <= MAX_OUT_SIZE, error, FALSE,
               "width is %" G_GINT64_FORMAT ", must be in [1, %d]",
               c->width, MAX_OUT_SIZE);
  for (int i = 0; i < 3; i++) {
    MMDNN_CHECK (isfinite (c->mean[i]), error, FALSE,
                 "mean[%d] is %g, must be finite", i, (double) c->mean[i]);
    MMDNN_CHECK (isfinite (c->std[i]) && c->std[i] > 0.0f, error, FALSE,
                 "std[%d] is %g, must be finite and > 0", i,
                 (double) c->std[i]);
  }
  return TRUE;
}

MmdnnVideoPrep *
mmdnn_video_prep_new (const MmdnnVideoConfig *c, GError **error)
{
  MmdnnVideoPrep *vp;
  int row;

  if (!config_check (c, error))
    return NULL;

  vp = g_new0 (MmdnnVideoPrep, 1);
  vp->config = *c;
  for (int ch = 0; ch < 3; ch++)
    for (int v = 0; v < 256; v++)
      vp->lut[ch][v] = ((float) v / 255.0f - c->mean[ch]) / c->std[ch];

  /* swscale's output writers may store whole SIMD vectors: keep rows
   * 64-byte aligned with slack after each, and a spare row at the end. */
  row = (int) (c->width * c->channels);
  vp->scratch_stride = (row + 64 + 63) & ~63;
  vp->scratch = av_mallocz ((size_t) vp->scratch_stride
                            * (size_t) (c->height + 1));
  if (vp->scratch == NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                 "out of memory for a %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
                 " scratch", c->width, c->height);
    g_free (vp);
    return NULL;
  }
  return vp;
}

void
mmdnn_video_prep_free (MmdnnVideoPrep *vp)
{
  if (vp == NULL)
    return;
  sws_freeContext (vp->sws);
  av_free (vp->scratch);
  for (int p = 0; p < 3; p++)
    av_free (vp->stage[p]);
  g_free (vp);
}

static gboolean
frame_check (const MmdnnVideoPrep *vp, MmdnnPixelFormat format,
             int64_t width, int64_t height, const uint8_t *const planes[],
             const int64_t strides[], const float *out, GError **error)
{
  const FormatInfo *fi;

  MMDNN_CHECK_NOT_NULL (vp, error, FALSE);
  MMDNN_CHECK ((int) format >= 0 && (int) format < (int) G_N_ELEMENTS (formats),
               error, FALSE, "format is %d, not a known MmdnnPixelFormat",
               (int) format);
  fi = &formats[format];
  MMDNN_CHECK (width >= 1 && width <= MAX_IN_SIZE, error, FALSE,
               "width is %" G_GINT64_FORMAT ", must be in [1, %d]", width,
               MAX_IN_SIZE);
  MMDNN_CHECK (height >= 1 && height <= MAX_IN_SIZE, error, FALSE,
               "height is %" G_GINT64_FORMAT ", must be in [1, %d]", height,
               MAX_IN_SIZE);
  MMDNN_CHECK (width <= MMDNN_VIDEO_MAX_DOWNSCALE * vp->config.width
               && height <= MMDNN_VIDEO_MAX_DOWNSCALE * vp->config.height,
               error, FALSE, "a %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
               " frame is more than %d times the model's %" G_GINT64_FORMAT
               "×%" G_GINT64_FORMAT " input: scale it down first", width,
               height, MMDNN_VIDEO_MAX_DOWNSCALE, (int64_t) vp->config.width,
               (int64_t) vp->config.height);
  MMDNN_CHECK_NOT_NULL (planes, error, FALSE);
  MMDNN_CHECK_NOT_NULL (strides, error, FALSE);
  MMDNN_CHECK_NOT_NULL (out, error, FALSE);
  for (int p = 0; p < fi->n_planes; p++) {
    /* I420 chroma: ceil (width/2) bytes per row */
    int64_t row = p == 0 ? width * fi->bytes : (width + 1) / 2;

    MMDNN_CHECK (planes[p] != NULL, error, FALSE,
                 "planes[%d] must not be NULL for %s", p, fi->name);
    MMDNN_CHECK (strides[p] >= row && strides[p] <= G_MAXINT, error, FALSE,
                 "strides[%d] is %" G_GINT64_FORMAT ", must be in [%"
                 G_GINT64_FORMAT ", %d] for a %s frame %" G_GINT64_FORMAT
                 " wide", p, strides[p], row, G_MAXINT, fi->name, width);
  }
  return TRUE;
}

/* The cached context for this input geometry, with its colour details set
 * when (and only when) swscale had to make a new one. */
static gboolean
ensure_context (MmdnnVideoPrep *vp, MmdnnPixelFormat format, int w, int h,
                GError **error)
{
  const MmdnnVideoConfig *c = &vp->config;
  enum AVPixelFormat src_fmt = formats[format].av;
  enum AVPixelFormat dst_fmt = c->channels == 3 ? AV_PIX_FMT_RGB24
                                                : AV_PIX_FMT_GRAY8;
  int dst_w = (int) c->width, dst_h = (int) c->height;
  int flags = BASE_FLAGS | (dst_w < w || dst_h < h ? SWS_AREA : SWS_BILINEAR);
  gboolean limited = format == MMDNN_PIXEL_I420;
  gboolean same = vp->sws != NULL && vp->src_fmt == src_fmt
                  && vp->src_limited == limited
                  && vp->src_w == w && vp->src_h == h && vp->flags == flags;
  const int *coefs = sws_getCoefficients (SWS_CS_ITU601);

  /* Returns @vp->sws itself for an unchanged geometry; otherwise frees it
   * and makes a new one (NULL on failure, the old one freed all the same). */
  vp->sws = sws_getCachedContext (vp->sws, w, h, src_fmt, dst_w, dst_h,
                                  dst_fmt, flags, NULL, NULL, NULL);
  if (vp->sws == NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_BACKEND,
                 "swscale cannot convert %s %d×%d to %s %d×%d",
                 formats[format].name, w, h, c->channels == 3 ? "RGB" : "GRAY8",
                 dst_w, dst_h);
    return FALSE;
  }
  if (same)
    return TRUE;

  /* BT.601 both ways; I420 limited range, everything else full range;
   * neutral brightness, contrast and saturation. */
  if (sws_setColorspaceDetails (vp->sws, coefs, limited ? 0 : 1,
                                coefs, 1, 0, 1 << 16, 1 << 16) < 0) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_BACKEND,
                 "swscale refused the BT.601 colour details for %s → %s",
                 formats[format].name, c->channels == 3 ? "RGB" : "GRAY8");
    sws_freeContext (vp->sws);
    vp->sws = NULL;
    return FALSE;
  }
  vp->src_fmt = src_fmt;
  vp->src_limited = limited;
  vp->src_w = w;
  vp->src_h = h;
  vp->flags = flags;
  return TRUE;
}

/* Bytes of one row of plane @p. */
static int64_t
plane_row (MmdnnPixelFormat format, int p, int64_t width)
{
  return p == 0 ? width * formats[format].bytes : (width + 1) / 2;
}

/* Staging strides for this width; the buffers grow only when too small,
 * so a stable stream allocates nothing. */
static gboolean
ensure_stage (MmdnnVideoPrep *vp, MmdnnPixelFormat format, int64_t width,
              GError **error)
{
  for (int p = 0; p < formats[format].n_planes; p++) {
    int64_t stride = (plane_row (format, p, width) + ROW_SLACK + 63) & ~63;
    size_t need = (size_t) stride * (p == 0 ? CHUNK : CHUNK / 2);

    if (need > vp->stage_cap[p]) {
      av_free (vp->stage[p]);
      vp->stage_cap[p] = 0;
      vp->stage[p] = av_mallocz (need);
      if (vp->stage[p] == NULL) {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                     "out of memory for %zu staging bytes", need);
        return FALSE;
      }
      vp->stage_cap[p] = need;
    }
    vp->stage_stride[p] = (int) stride;
  }
  return TRUE;
}

gboolean
mmdnn_video_prep_frame (MmdnnVideoPrep *vp, MmdnnPixelFormat format,
                        int64_t width, int64_t height,
                        const uint8_t *const planes[], const int64_t strides[],
                        float *out, GError **error)
{
  const MmdnnVideoConfig *c;
  const FormatInfo *fi;
  const uint8_t *src[4] = { NULL };
  uint8_t *dst[4] = { NULL };
  int dst_strides[4] = { 0 };
  int64_t plane_size, rows = 0;

  if (!frame_check (vp, format, width, height, planes, strides, out, error))
    return FALSE;
  if (!ensure_context (vp, format, (int) width, (int) height, error)
      || !ensure_stage (vp, format, width, error))
    return FALSE;

  c = &vp->config;
  fi = &formats[format];
  dst[0] = vp->scratch;
  dst_strides[0] = vp->scratch_stride;
  for (int p = 0; p < fi->n_planes; p++)
    src[p] = vp->stage[p];

  /* Slices of CHUNK rows, top to bottom, through the staging buffer. */
  for (int64_t y = 0; y < height; y += CHUNK) {
    int64_t n = MIN (CHUNK, height - y);
    int got;

    for (int p = 0; p < fi->n_planes; p++) {
      int64_t row = plane_row (format, p, width);
      int64_t y0 = p == 0 ? y : y / 2, ny = p == 0 ? n : (n + 1) / 2;

      for (int64_t r = 0; r < ny; r++)
        memcpy (vp->stage[p] + r * vp->stage_stride[p],
                planes[p] + (y0 + r) * strides[p], (size_t) row);
    }
    got = sws_scale (vp->sws, src, vp->stage_stride, (int) y, (int) n, dst,
                     dst_strides);
    if (got < 0)
      break;
    rows += got;
  }
  if (rows != c->height) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_BACKEND,
                 "sws_scale gave %" G_GINT64_FORMAT " rows for %"
                 G_GINT64_FORMAT " output rows", rows, c->height);
    return FALSE;
  }

  /* packed 8-bit (H, W, C) → normalised float (C, H, W) */
  plane_size = c->height * c->width;
  for (int64_t y = 0; y < c->height; y++) {
    const uint8_t *s = vp->scratch + y * vp->scratch_stride;
    float *o = out + y * c->width;

    if (c->channels == 1) {
      for (int64_t x = 0; x < c->width; x++)
        o[x] = vp->lut[0][s[x]];
    } else {
      for (int64_t x = 0; x < c->width; x++) {
        o[x] = vp->lut[0][s[3 * x]];
        o[plane_size + x] = vp->lut[1][s[3 * x + 1]];
        o[2 * plane_size + x] = vp->lut[2][s[3 * x + 2]];
      }
    }
  }
  return TRUE;
}
