/* mmdnn — decode media files (FFmpeg libav) for offline training and the CLI.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>

G_BEGIN_DECLS

/*
 * Reads any container FFmpeg can demux and hands the FIRST stream of each
 * kind to callbacks, already in the form the preprocessing front ends take:
 *
 *   video     packed RGB24 at the stream's native size (libswscale,
 *             sws_getCachedContext, BT.601 for YUV sources as swscale's
 *             default), so mmdnn_video_prep_frame (MMDNN_PIXEL_RGB) makes the
 *             model input from it;
 *   audio     mono float32 at the requested rate: the channels averaged
 *             with equal weights 1/C (an explicit libswresample matrix, so a
 *             tone present in every channel keeps its amplitude), resampled
 *             by libswresample; delivered in chunks as decoded (the
 *             resampler's tail is flushed at the end of the stream);
 *   subtitle  the UTF-8 text of each cue: plain text rects as they are;
 *             ASS rects ("ReadOrder,Layer,Style,Name,MarginL,MarginR,
 *             MarginV,Effect,Text", or the same with a "Dialogue: " prefix
 *             and Start/End fields as old decoders give) reduced to the Text
 *             field, override blocks and \N left in for the tokenizer to
 *             strip. Bitmap subtitles are skipped.
 *
 * Timestamps are seconds from the stream's time base, the container's start
 * time NOT subtracted (a file that starts at 0 gives 0). For a frame
 * without a timestamp the best-effort timestamp is used, else the previous
 * one plus one frame. Audio chunk timestamps are the timestamp of the first
 * decoded frame plus the samples delivered so far divided by the rate, so
 * chunks are contiguous. A cue with no duration gets end = start.
 *
 * libav's own log messages go to the core log hook (mmdnn_set_log_func),
 * not stderr: the first probe/decode installs a process-wide
 * av_log_set_callback () (libav has only one).
 *
 * Calls share no state besides that hook: decode different files from
 * different threads freely.
 */

/* Each callback may be NULL: that stream is then not decoded at all.
 * Returning FALSE stops decoding early; that is not an error. */
typedef struct {
  /* rgb:(height, stride) bytes, 3·width of each row used; valid during the call */
  gboolean (*video) (void *user, double pts_s, const uint8_t *rgb,
                     int64_t width, int64_t height, int64_t stride);
  /* samples:(n) mono float, nominally [−1, 1], at the requested rate */
  gboolean (*audio) (void *user, double pts_s, const float *samples,
                     int64_t n);
  /* text: NUL-terminated UTF-8 of one cue (may be multi-line) */
  gboolean (*subtitle) (void *user, double start_s, double end_s,
                        const char *text);
} MmdnnMediaCallbacks;

/* Decodes @path from start to end (or until a callback returns FALSE),
 * interleaved in file order. @audio_rate in [1000, 384000] Hz; it is only
 * checked when @cb->audio is set. A stream kind that the file lacks is
 * simply never reported (use mmdnn_media_probe () to ask first).
 * Errors, always naming @path: NULL/bad arguments → INVALID_ARGUMENT;
 * cannot open (missing, directory, permission) → IO; not a media file,
 * empty, or cut inside its header → FORMAT; a decoder or converter failed
 * (corrupt packet, unsupported codec) → BACKEND with libav's text; the
 * whole call then fails, even if frames were already delivered. A file
 * cut after its header decodes what is there: libav treats the cut like
 * an end of stream, which is not an error. */
MMDNN_API gboolean mmdnn_media_decode (const char *path, int64_t audio_rate,
                                       const MmdnnMediaCallbacks *cb,
                                       void *user, GError **error);

typedef struct {
  gboolean has_video, has_audio, has_subtitle;
  double   duration_s;       /* container duration; 0 if unknown           */
  int64_t  width, height;    /* first video stream; 0 without video        */
  double   fps;              /* average frame rate; 0 if unknown/no video  */
  int64_t  sample_rate;      /* first audio stream's native rate; else 0   */
  int64_t  channels;         /* first audio stream's channels; else 0      */
} MmdnnMediaInfo;

/* Fills @info from the container headers (avformat_find_stream_info, no
 * full decode). Errors as mmdnn_media_decode (); on error @info is left
 * untouched. */
MMDNN_API gboolean mmdnn_media_probe (const char *path, MmdnnMediaInfo *info,
                                      GError **error);

G_END_DECLS
