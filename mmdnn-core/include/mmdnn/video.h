/* mmdnn — video preprocessing: a raw frame → (C, H, W) float tensor.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>

G_BEGIN_DECLS

/*
 * The video front end turns one raw frame of any size, stride and of the
 * pixel formats below into the model's input tensor, deterministically and
 * with no weights, so a model trained offline (CLI) sees exactly what the
 * GStreamer element sees live. Two steps:
 *
 * 1. Convert and scale, in ONE libswscale pass, straight from the input
 *    format to packed 8-bit RGB (channels 3) or grey (channels 1) at the
 *    model size (width × height of the config):
 *    - Scaling algorithm: SWS_AREA (box/area averaging) when the frame is
 *      downscaled in either direction, the closest thing swscale has to
 *      videoscale's default area-weighted downscale, and alias-free for the
 *      big reductions typical here (1920×1080 → 64×64); swscale uses a
 *      linear filter for a direction that SWS_AREA upscales. SWS_BILINEAR
 *      when neither direction is downscaled (upscale or identity). A
 *      direction whose size does not change is copied exactly.
 *    - Also SWS_ACCURATE_RND | SWS_BITEXACT (no CPU-dependent SIMD
 *      shortcuts, so every machine gives the same bytes) and
 *      SWS_FULL_CHR_H_INP | SWS_FULL_CHR_H_INT (no horizontal chroma
 *      subsampling inside swscale for RGB input or RGB output).
 *    - Colour, set explicitly with sws_setColorspaceDetails, never left to
 *      swscale's defaults: I420 is BT.601 LIMITED range (Y 16–235, Cb/Cr
 *      16–240; GStreamer's default for SD; there is no way to say otherwise
 *      yet). Chroma is ceil(w/2) × ceil(h/2) so odd sizes are legal.
 *      GRAY8 input is full range (0 = black, 255 = white). The RGB and grey
 *      outputs are full range.
 *    - Grey output (channels 1) is BT.601 luma: for RGB-like input
 *      Y = 0.299 R + 0.587 G + 0.114 B (full range, rounded); for I420 the
 *      Y plane expanded from 16–235 to 0–255; GRAY8 is taken as is.
 *    - Alpha (RGBA, BGRA) and the padding byte (RGBx, BGRx) are ignored:
 *      no blending, no premultiplication.
 *    - Flat colours stay exactly flat after any scaling; RGB, BGR, RGBA,
 *      BGRA, RGBx and BGRx give identical tensors for the same picture.
 *
 * 2. Normalise each channel c (in R, G, B order; grey uses index 0) with
 *    float32 arithmetic, exactly as written:
 *        out[c][y][x] = ((float) v / 255.0f − mean[c]) / std[c]
 *    where v is the 8-bit value of step 1. The defaults mean 0.5, std 0.25
 *    map [0, 255] onto [−2, 2], centred on mid-grey (no ImageNet statistics
 *    are assumed, since the encoder is trained from scratch).
 *
 * Memory safety: swscale's SIMD readers run up to a vector past the end of
 * a row. So that they never touch the caller's row padding (possibly
 * uninitialised, GstVideoFrame makes no promise) or run off the end of
 * the buffer, rows are copied, 16 at a time, into a staging buffer with
 * zeroed slack after each row, and fed to sws_scale as slices (which gives
 * bit-identical output to one call). Only the pixels of each row are read.
 * Cost: that copy (one pass over the input, cache-resident chunks), then
 * swscale. The SwsContext is cached for the last input format and size
 * (sws_getCachedContext), the staging buffers only grow, and the 8-bit
 * output scratch is allocated once in _new, so a stream whose caps do not
 * change allocates nothing per frame. A caps change rebuilds the context
 * once.
 * Not thread-safe: one streaming thread owns an MmdnnVideoPrep.
 */

/* GStreamer's names for these layouts (GST_VIDEO_FORMAT_RGB, ...): one
 * packed plane except I420 (planes Y, U=Cb, V=Cr, chroma halved in both
 * directions, rounded up). */
typedef enum {
  MMDNN_PIXEL_RGB,      /* R G B, 3 bytes per pixel                         */
  MMDNN_PIXEL_BGR,      /* B G R                                            */
  MMDNN_PIXEL_RGBA,     /* R G B A, 4 bytes per pixel (alpha ignored)       */
  MMDNN_PIXEL_BGRA,     /* B G R A                                          */
  MMDNN_PIXEL_RGBX,     /* R G B x (x ignored)                              */
  MMDNN_PIXEL_BGRX,     /* B G R x                                          */
  MMDNN_PIXEL_GRAY8,    /* Y, 1 byte per pixel, full range                  */
  MMDNN_PIXEL_I420,     /* planar Y, U, V 4:2:0, BT.601 limited range       */
  MMDNN_PIXEL_I420_FULL,/* the same in full range, as JPEG decoders give    */
} MmdnnPixelFormat;

typedef struct {
  int64_t channels;     /* 3 (RGB) or 1 (grey, BT.601 luma)                 */
  int64_t height;       /* output rows, in [1, 4096]                        */
  int64_t width;        /* output columns, in [1, 4096]                     */
  float   mean[3];      /* per channel, finite (all three checked)          */
  float   std[3];       /* per channel, > 0 and finite (all three checked)  */
} MmdnnVideoConfig;

/* The defaults: 3 channels, 64 × 64, mean 0.5 and std 0.25 for every
 * channel (so outputs lie in [−2, 2]). NULL is a no-op. */
MMDNN_API void mmdnn_video_config_init (MmdnnVideoConfig *c);

/* Opaque: the validated config, one normalisation table per channel, the
 * cached SwsContext with the input geometry it was made for, and the 8-bit
 * RGB/grey scratch at the model size. */
typedef struct _MmdnnVideoPrep MmdnnVideoPrep;

/* (transfer full): validates @c (copied): channels 1 or 3, height and width
 * in [1, 4096], every mean finite, every std finite and > 0. NULL with
 * MMDNN_ERROR_INVALID_ARGUMENT naming the field. */
MMDNN_API MmdnnVideoPrep *mmdnn_video_prep_new (const MmdnnVideoConfig *c,
                                                GError **error);
/* NULL is a no-op. */
MMDNN_API void mmdnn_video_prep_free (MmdnnVideoPrep *vp);

/* The most a frame may be scaled down in one direction: libswscale 5.1's
 * area filter crashes (out-of-bounds writes) from about 160 times on
 * (measured: a 10693-wide frame to 64 fails, 10692 does not), so a frame
 * wider or taller than this many times the model's input is refused with
 * an error instead; scale it down first (videoscale in a pipeline). */
#define MMDNN_VIDEO_MAX_DOWNSCALE 128

/* One frame → out:(channels, height, width) of the config, row-major
 * float32, normalised as above.
 * @planes: one plane pointer for the packed formats and GRAY8, three (Y, U,
 *   V) for I420, as GstVideoFrame gives them (GST_VIDEO_FRAME_PLANE_DATA).
 * @strides: bytes from one row to the next, per plane (GST_VIDEO_FRAME_
 *   PLANE_STRIDE); each ≥ the bytes of one row of that plane (width × bytes
 *   per pixel; ceil(width/2) for the I420 chroma planes) and ≤ G_MAXINT.
 *   Only the pixels of each row are read: not the padding between rows,
 *   nor anything after the last row.
 * @width, @height: the frame's, each in [1, 16384] (odd is fine) and at
 *   most MMDNN_VIDEO_MAX_DOWNSCALE times the config's width and height.
 * Bad arguments (NULL @vp, @planes, @strides, a needed plane or @out;
 * unknown @format; sizes or strides out of range) fail with
 * MMDNN_ERROR_INVALID_ARGUMENT naming the argument, and @out is not
 * touched. If swscale cannot make a context for the geometry or fails to
 * scale: MMDNN_ERROR_BACKEND (@out is not touched either). */
MMDNN_API gboolean mmdnn_video_prep_frame (MmdnnVideoPrep *vp,
                                           MmdnnPixelFormat format,
                                           int64_t width, int64_t height,
                                           const uint8_t *const planes[],
                                           const int64_t strides[],
                                           float *out, GError **error);

G_END_DECLS
