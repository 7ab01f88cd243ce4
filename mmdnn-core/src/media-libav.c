/* mmdnn — decode media files with FFmpeg libav (demux, decode, convert).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The only core file that includes libavformat/libavcodec/libswresample:
 * video.c keeps swscale for the model-size scaling, audio.c av_tx. */
#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

#include <mmdnn/media.h>
#include "internal.h"

#define MIN_AUDIO_RATE 1000
#define MAX_AUDIO_RATE 384000

enum { KIND_VIDEO, KIND_AUDIO, KIND_SUBTITLE, N_KINDS };

typedef struct {
  const char        *path;
  const MmdnnMediaCallbacks *cb;
  void              *user;
  int64_t            audio_rate;

  AVFormatContext   *fmt;
  int                stream[N_KINDS];   /* index in fmt, -1 if unused */
  AVCodecContext    *dec[N_KINDS];
  AVFrame           *frame;
  gboolean           stop;              /* a callback returned FALSE */

  /* video */
  struct SwsContext *sws;
  uint8_t           *rgb[4];
  int                rgb_stride[4];
  int                rgb_w, rgb_h;
  double             last_video_pts;
  gboolean           have_video_pts;

  /* audio */
  SwrContext        *swr;
  AVChannelLayout    swr_in_layout;
  int                swr_in_rate, swr_in_fmt;
  float             *abuf;
  int                abuf_cap;
  gboolean           have_audio_base;
  double             audio_base_s;
  int64_t            audio_delivered;
} Decoder;

/* libav prints to stderr by default, and the core never prints: route its
 * messages to the core's log hook instead. Global (libav has one log
 * callback per process), installed once, at the first probe/decode. */
static void
av_log_to_mmdnn (void *avcl, int level, const char *fmt, va_list vl)
{
  char line[1024];
  int print_prefix = 1;
  MmdnnLogLevel l;

  if (level > av_log_get_level ())
    return;
  av_log_format_line (avcl, level, fmt, vl, line, sizeof line, &print_prefix);
  g_strchomp (line);
  if (level <= AV_LOG_ERROR)
    l = MMDNN_LOG_WARNING;   /* our own GError says what failed */
  else if (level <= AV_LOG_WARNING)
    l = MMDNN_LOG_INFO;
  else
    l = MMDNN_LOG_DEBUG;
  mmdnn_log (l, "libav: %s", line);
}

static void
install_log_hook (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once)) {
    av_log_set_callback (av_log_to_mmdnn);
    g_once_init_leave (&once, 1);
  }
}

static void
set_av_error (GError **error, MmdnnError code, const char *path,
              const char *what, int averr)
{
  char buf[AV_ERROR_MAX_STRING_SIZE] = "";

  av_strerror (averr, buf, sizeof buf);
  g_set_error (error, MMDNN_ERROR, code, "%s: %s: %s", path, what, buf);
}

/* Checks the path ourselves first: libav's answers for a directory or a
 * missing file are generic ("Invalid data", "Is a directory" only at the
 * first read), and users need to know which it was. */
static gboolean
check_path (const char *path, GError **error)
{
  GStatBuf st;

  if (g_stat (path, &st) != 0) {
    int e = errno;
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_IO, "%s: cannot open: %s",
                 path, g_strerror (e));
    return FALSE;
  }
  if (S_ISDIR (st.st_mode)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_IO,
                 "%s: cannot open: is a directory", path);
    return FALSE;
  }
  if (g_access (path, R_OK) != 0) {
    int e = errno;
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_IO, "%s: cannot open: %s",
                 path, g_strerror (e));
    return FALSE;
  }
  return TRUE;
}

static AVFormatContext *
open_input (const char *path, GError **error)
{
  AVFormatContext *fmt = NULL;
  int ret;

  install_log_hook ();
  if (!check_path (path, error))
    return NULL;

  ret = avformat_open_input (&fmt, path, NULL, NULL);
  if (ret < 0) {
    /* The file exists and is readable (check_path), so EIO/EOF here are
     * demuxers hitting the end of a truncated header. */
    if (ret == AVERROR_INVALIDDATA || ret == AVERROR (EIO)
        || ret == AVERROR_EOF)
      set_av_error (error, MMDNN_ERROR_FORMAT, path,
                    "not a media file FFmpeg can read", ret);
    else if (ret == AVERROR (ENOENT) || ret == AVERROR (EACCES)
             || ret == AVERROR (EISDIR))
      set_av_error (error, MMDNN_ERROR_IO, path, "cannot open", ret);
    else
      set_av_error (error, MMDNN_ERROR_BACKEND, path, "cannot open", ret);
    return NULL;
  }
  ret = avformat_find_stream_info (fmt, NULL);
  if (ret < 0) {
    set_av_error (error, MMDNN_ERROR_FORMAT, path,
                  "cannot read the stream headers", ret);
    avformat_close_input (&fmt);
    return NULL;
  }
  if (fmt->nb_streams == 0) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: no streams: not a media file", path);
    avformat_close_input (&fmt);
    return NULL;
  }
  return fmt;
}

static int
first_stream (const AVFormatContext *fmt, enum AVMediaType type)
{
  for (unsigned i = 0; i < fmt->nb_streams; i++) {
    const AVCodecParameters *par = fmt->streams[i]->codecpar;

    if (par->codec_type != type)
      continue;
    /* attached pictures (cover art) are not a video stream */
    if (type == AVMEDIA_TYPE_VIDEO
        && (fmt->streams[i]->disposition & AV_DISPOSITION_ATTACHED_PIC))
      continue;
    return (int) i;
  }
  return -1;
}

gboolean
mmdnn_media_probe (const char *path, MmdnnMediaInfo *info, GError **error)
{
  AVFormatContext *fmt;
  MmdnnMediaInfo out;
  int v, a, s;

  MMDNN_CHECK_NOT_NULL (path, error, FALSE);
  MMDNN_CHECK_NOT_NULL (info, error, FALSE);

  fmt = open_input (path, error);
  if (!fmt)
    return FALSE;

  memset (&out, 0, sizeof out);
  v = first_stream (fmt, AVMEDIA_TYPE_VIDEO);
  a = first_stream (fmt, AVMEDIA_TYPE_AUDIO);
  s = first_stream (fmt, AVMEDIA_TYPE_SUBTITLE);
  out.has_video = v >= 0;
  out.has_audio = a >= 0;
  out.has_subtitle = s >= 0;
  if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0)
    out.duration_s = fmt->duration / (double) AV_TIME_BASE;
  if (v >= 0) {
    const AVStream *st = fmt->streams[v];
    AVRational r = st->avg_frame_rate;

    out.width = st->codecpar->width;
    out.height = st->codecpar->height;
    if (r.num <= 0 || r.den <= 0)
      r = st->r_frame_rate;
    if (r.num > 0 && r.den > 0)
      out.fps = av_q2d (r);
  }
  if (a >= 0) {
    const AVCodecParameters *par = fmt->streams[a]->codecpar;

    out.sample_rate = par->sample_rate;
    out.channels = par->ch_layout.nb_channels;
  }
  avformat_close_input (&fmt);
  *info = out;
  return TRUE;
}

/* --- video --------------------------------------------------------------- */

/* swscale wants the range said explicitly, not via the deprecated YUVJ
 * formats (it warns about them). */
static enum AVPixelFormat
unj (enum AVPixelFormat f, int *full_range)
{
  switch (f) {
    case AV_PIX_FMT_YUVJ420P: *full_range = 1; return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: *full_range = 1; return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: *full_range = 1; return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: *full_range = 1; return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: *full_range = 1; return AV_PIX_FMT_YUV411P;
    default: return f;
  }
}

static int
sws_colorspace (enum AVColorSpace cs)
{
  switch (cs) {
    case AVCOL_SPC_BT709: return SWS_CS_ITU709;
    case AVCOL_SPC_FCC: return SWS_CS_FCC;
    case AVCOL_SPC_SMPTE240M: return SWS_CS_SMPTE240M;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL: return SWS_CS_BT2020;
    default: return SWS_CS_ITU601;   /* also unspecified: SD's default */
  }
}

static gboolean
video_frame (Decoder *d, GError **error)
{
  const AVFrame *f = d->frame;
  const AVStream *st = d->fmt->streams[d->stream[KIND_VIDEO]];
  int full_range = f->color_range == AVCOL_RANGE_JPEG;
  enum AVPixelFormat src = unj ((enum AVPixelFormat) f->format, &full_range);
  int64_t ts = f->best_effort_timestamp;
  double pts;

  if (f->width <= 0 || f->height <= 0 || src == AV_PIX_FMT_NONE) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_BACKEND,
                 "%s: video decoder gave an empty frame", d->path);
    return FALSE;
  }

  if (ts != AV_NOPTS_VALUE) {
    pts = ts * av_q2d (st->time_base);
  } else if (d->have_video_pts) {
    AVRational r = st->avg_frame_rate;
    pts = d->last_video_pts + (r.num > 0 && r.den > 0 ? 1.0 / av_q2d (r) : 0.0);
  } else {
    pts = 0.0;
  }
  d->last_video_pts = pts;
  d->have_video_pts = TRUE;

  if (!d->rgb[0] || d->rgb_w != f->width || d->rgb_h != f->height) {
    av_freep (&d->rgb[0]);
    if (av_image_alloc (d->rgb, d->rgb_stride, f->width, f->height,
                        AV_PIX_FMT_RGB24, 64) < 0) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                   "%s: cannot allocate a %dx%d RGB frame", d->path,
                   f->width, f->height);
      return FALSE;
    }
    d->rgb_w = f->width;
    d->rgb_h = f->height;
  }

  d->sws = sws_getCachedContext (d->sws, f->width, f->height, src,
                                 f->width, f->height, AV_PIX_FMT_RGB24,
                                 SWS_BILINEAR | SWS_ACCURATE_RND | SWS_BITEXACT
                                 | SWS_FULL_CHR_H_INP | SWS_FULL_CHR_H_INT,
                                 NULL, NULL, NULL);
  if (!d->sws) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_BACKEND,
                 "%s: cannot convert video format %s (%dx%d) to RGB", d->path,
                 av_get_pix_fmt_name ((enum AVPixelFormat) f->format),
                 f->width, f->height);
    return FALSE;
  }
  {
    const int *coefs = sws_getCoefficients (sws_colorspace (f->colorspace));
    /* brightness 0, contrast and saturation 1.0 in 16.16 fixed point */
    sws_setColorspaceDetails (d->sws, coefs, full_range, coefs, 1,
                              0, 1 << 16, 1 << 16);
  }
  if (sws_scale (d->sws, (const uint8_t *const *) f->data, f->linesize, 0,
                 f->height, d->rgb, d->rgb_stride) != f->height) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_BACKEND,
                 "%s: swscale failed on a %dx%d frame", d->path, f->width,
                 f->height);
    return FALSE;
  }
  if (!d->cb->video (d->user, pts, d->rgb[0], f->width, f->height,
                     d->rgb_stride[0]))
    d->stop = TRUE;
  return TRUE;
}

/* --- audio --------------------------------------------------------------- */

static gboolean
deliver_audio (Decoder *d, int n)
{
  double pts;

  if (n <= 0)
    return TRUE;
  pts = d->audio_base_s + (double) d->audio_delivered / (double) d->audio_rate;
  d->audio_delivered += n;
  if (!d->cb->audio (d->user, pts, d->abuf, n))
    d->stop = TRUE;
  return TRUE;
}

static gboolean
grow_abuf (Decoder *d, int n, GError **error)
{
  if (n <= d->abuf_cap)
    return TRUE;
  g_free (d->abuf);
  d->abuf = g_try_new (float, n);
  d->abuf_cap = d->abuf ? n : 0;
  if (!d->abuf) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                 "%s: cannot allocate %d audio samples", d->path, n);
    return FALSE;
  }
  return TRUE;
}

/* Drains what the resampler still holds (end of stream or format change). */
static gboolean
flush_swr (Decoder *d, GError **error)
{
  int n;

  if (!d->swr || d->stop)
    return TRUE;
  for (;;) {
    int want = swr_get_out_samples (d->swr, 0);

    if (want <= 0)
      return TRUE;
    if (!grow_abuf (d, want, error))
      return FALSE;
    n = swr_convert (d->swr, (uint8_t **) &d->abuf, want, NULL, 0);
    if (n < 0) {
      set_av_error (error, MMDNN_ERROR_BACKEND, d->path,
                    "audio resampling failed", n);
      return FALSE;
    }
    if (n == 0)
      return TRUE;
    deliver_audio (d, n);
    if (d->stop)
      return TRUE;
  }
}

/* Mono by averaging: an explicit matrix of 1/C, so a tone that is the same
 * in every channel keeps its amplitude (swresample's own stereo→mono
 * matrix sums at −3 dB each, i.e. ×1.41 for correlated channels). */
static gboolean
setup_swr (Decoder *d, const AVFrame *f, GError **error)
{
  AVChannelLayout in = { 0 }, mono = AV_CHANNEL_LAYOUT_MONO;
  double *matrix = NULL;
  int c, ret;

  if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
    av_channel_layout_default (&in, f->ch_layout.nb_channels);
  else if (av_channel_layout_copy (&in, &f->ch_layout) < 0)
    goto nomem;
  c = in.nb_channels;
  if (c <= 0) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_BACKEND,
                 "%s: audio frame without channels", d->path);
    av_channel_layout_uninit (&in);
    return FALSE;
  }

  if (d->swr
      && d->swr_in_rate == f->sample_rate && d->swr_in_fmt == f->format
      && av_channel_layout_compare (&d->swr_in_layout, &in) == 0) {
    av_channel_layout_uninit (&in);
    return TRUE;
  }
  if (!flush_swr (d, error)) {
    av_channel_layout_uninit (&in);
    return FALSE;
  }
  swr_free (&d->swr);
  av_channel_layout_uninit (&d->swr_in_layout);

  ret = swr_alloc_set_opts2 (&d->swr, &mono, AV_SAMPLE_FMT_FLT,
                             (int) d->audio_rate, &in,
                             (enum AVSampleFormat) f->format,
                             f->sample_rate, 0, NULL);
  if (ret >= 0) {
    matrix = g_new (double, c);
    for (int i = 0; i < c; i++)
      matrix[i] = 1.0 / c;
    ret = swr_set_matrix (d->swr, matrix, c);
    g_free (matrix);
  }
  if (ret >= 0)
    ret = swr_init (d->swr);
  if (ret < 0) {
    set_av_error (error, MMDNN_ERROR_BACKEND, d->path,
                  "cannot set up audio resampling", ret);
    swr_free (&d->swr);
    av_channel_layout_uninit (&in);
    return FALSE;
  }
  d->swr_in_layout = in;   /* takes over @in */
  d->swr_in_rate = f->sample_rate;
  d->swr_in_fmt = f->format;
  return TRUE;

nomem:
  g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
               "%s: cannot copy the audio channel layout", d->path);
  return FALSE;
}

static gboolean
audio_frame (Decoder *d, GError **error)
{
  const AVFrame *f = d->frame;
  int want, n;

  if (f->nb_samples <= 0)
    return TRUE;
  if (f->sample_rate <= 0) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_BACKEND,
                 "%s: audio frame without a sample rate", d->path);
    return FALSE;
  }
  if (!setup_swr (d, f, error))
    return FALSE;
  if (d->stop)
    return TRUE;
  if (!d->have_audio_base) {
    const AVStream *st = d->fmt->streams[d->stream[KIND_AUDIO]];
    int64_t ts = f->best_effort_timestamp;

    d->audio_base_s = ts != AV_NOPTS_VALUE ? ts * av_q2d (st->time_base) : 0.0;
    d->have_audio_base = TRUE;
  }
  want = swr_get_out_samples (d->swr, f->nb_samples);
  if (want < 0) {
    set_av_error (error, MMDNN_ERROR_BACKEND, d->path,
                  "audio resampling failed", want);
    return FALSE;
  }
  if (!grow_abuf (d, want + 1, error))
    return FALSE;
  n = swr_convert (d->swr, (uint8_t **) &d->abuf, want,
                   (const uint8_t **) f->extended_data, f->nb_samples);
  if (n < 0) {
    set_av_error (error, MMDNN_ERROR_BACKEND, d->path,
                  "audio resampling failed", n);
    return FALSE;
  }
  return deliver_audio (d, n);
}

/* --- subtitles ----------------------------------------------------------- */

/* An ASS event line as libav gives it: "ReadOrder,Layer,Style,Name,
 * MarginL,MarginR,MarginV,Effect,Text" (8 fields before Text), or an old
 * "Dialogue: Layer,Start,End,Style,Name,MarginL,MarginR,MarginV,Effect,
 * Text" (9). Text may itself contain commas. */
static const char *
ass_text (const char *ass)
{
  int skip = 8;
  const char *p = ass;

  if (g_str_has_prefix (p, "Dialogue:")) {
    p += strlen ("Dialogue:");
    skip = 9;
  }
  for (int i = 0; i < skip; i++) {
    p = strchr (p, ',');
    if (!p)
      return ass;   /* not an event line: take it whole */
    p++;
  }
  return p;
}

static gboolean
subtitle_packet (Decoder *d, AVPacket *pkt, GError **error)
{
  const AVStream *st = d->fmt->streams[d->stream[KIND_SUBTITLE]];
  double tb = av_q2d (st->time_base);
  AVSubtitle sub;
  int got = 0, ret;
  GString *text;
  double base, start, end;

  memset (&sub, 0, sizeof sub);
  ret = avcodec_decode_subtitle2 (d->dec[KIND_SUBTITLE], &sub, &got, pkt);
  if (ret < 0) {
    set_av_error (error, MMDNN_ERROR_BACKEND, d->path,
                  "cannot decode a subtitle", ret);
    return FALSE;
  }
  if (!got)
    return TRUE;

  text = g_string_new (NULL);
  for (unsigned i = 0; i < sub.num_rects; i++) {
    const AVSubtitleRect *r = sub.rects[i];
    const char *t = NULL;

    if (r->type == SUBTITLE_TEXT && r->text)
      t = r->text;
    else if (r->type == SUBTITLE_ASS && r->ass)
      t = ass_text (r->ass);
    if (!t || !*t)
      continue;
    if (text->len)
      g_string_append_c (text, '\n');
    g_string_append (text, t);
  }
  while (text->len && (text->str[text->len - 1] == '\n'
                       || text->str[text->len - 1] == '\r'))
    g_string_truncate (text, text->len - 1);

  if (pkt->pts != AV_NOPTS_VALUE)
    base = pkt->pts * tb;
  else if (sub.pts != AV_NOPTS_VALUE)
    base = sub.pts / (double) AV_TIME_BASE;
  else
    base = 0.0;
  start = base + sub.start_display_time / 1000.0;
  if (sub.end_display_time > sub.start_display_time
      && sub.end_display_time != UINT32_MAX)
    end = base + sub.end_display_time / 1000.0;
  else if (pkt->duration > 0)
    end = base + pkt->duration * tb;
  else
    end = start;

  if (text->len && g_utf8_validate (text->str, (gssize) text->len, NULL)) {
    if (!d->cb->subtitle (d->user, start, end, text->str))
      d->stop = TRUE;
  } else if (text->len) {
    mmdnn_log (MMDNN_LOG_WARNING, "%s: subtitle at %.3f s is not UTF-8: "
               "skipped", d->path, start);
  }
  g_string_free (text, TRUE);
  avsubtitle_free (&sub);
  return TRUE;
}

/* --- the loop ------------------------------------------------------------ */

static gboolean
open_decoder (Decoder *d, int kind, GError **error)
{
  static const char *const names[] = { "video", "audio", "subtitle" };
  const AVStream *st = d->fmt->streams[d->stream[kind]];
  const AVCodec *codec = avcodec_find_decoder (st->codecpar->codec_id);
  AVCodecContext *ctx;
  int ret;

  if (!codec) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_BACKEND,
                 "%s: no decoder for the %s codec %s", d->path, names[kind],
                 avcodec_get_name (st->codecpar->codec_id));
    return FALSE;
  }
  ctx = avcodec_alloc_context3 (codec);
  if (!ctx) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                 "%s: cannot allocate a %s decoder", d->path, names[kind]);
    return FALSE;
  }
  d->dec[kind] = ctx;
  ret = avcodec_parameters_to_context (ctx, st->codecpar);
  if (ret >= 0) {
    ctx->pkt_timebase = st->time_base;
    ctx->thread_count = 1;   /* deterministic, and no threads to clean up */
    ret = avcodec_open2 (ctx, codec, NULL);
  }
  if (ret < 0) {
    char *what = g_strdup_printf ("cannot open the %s decoder (%s)",
                                  names[kind], codec->name);
    set_av_error (error, MMDNN_ERROR_BACKEND, d->path, what, ret);
    g_free (what);
    return FALSE;
  }
  return TRUE;
}

/* Sends @pkt (NULL: flush) to the video or audio decoder and hands every
 * frame that comes out to the callback. */
static gboolean
decode_av (Decoder *d, int kind, const AVPacket *pkt, GError **error)
{
  AVCodecContext *ctx = d->dec[kind];
  int ret = avcodec_send_packet (ctx, pkt);

  if (ret < 0 && ret != AVERROR_EOF) {
    set_av_error (error, MMDNN_ERROR_BACKEND, d->path,
                  kind == KIND_VIDEO ? "cannot decode video"
                                     : "cannot decode audio", ret);
    return FALSE;
  }
  while (!d->stop) {
    gboolean ok;

    ret = avcodec_receive_frame (ctx, d->frame);
    if (ret == AVERROR (EAGAIN) || ret == AVERROR_EOF)
      return TRUE;
    if (ret < 0) {
      set_av_error (error, MMDNN_ERROR_BACKEND, d->path,
                    kind == KIND_VIDEO ? "cannot decode video"
                                       : "cannot decode audio", ret);
      return FALSE;
    }
    ok = kind == KIND_VIDEO ? video_frame (d, error) : audio_frame (d, error);
    av_frame_unref (d->frame);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

static void
decoder_clear (Decoder *d)
{
  for (int k = 0; k < N_KINDS; k++)
    avcodec_free_context (&d->dec[k]);
  av_frame_free (&d->frame);
  sws_freeContext (d->sws);
  av_freep (&d->rgb[0]);
  swr_free (&d->swr);
  av_channel_layout_uninit (&d->swr_in_layout);
  g_free (d->abuf);
  avformat_close_input (&d->fmt);
}

gboolean
mmdnn_media_decode (const char *path, int64_t audio_rate,
                    const MmdnnMediaCallbacks *cb, void *user, GError **error)
{
  Decoder d;
  AVPacket *pkt = NULL;
  gboolean ok = FALSE;
  const enum AVMediaType types[N_KINDS] = {
    AVMEDIA_TYPE_VIDEO, AVMEDIA_TYPE_AUDIO, AVMEDIA_TYPE_SUBTITLE };

  MMDNN_CHECK_NOT_NULL (path, error, FALSE);
  MMDNN_CHECK_NOT_NULL (cb, error, FALSE);
  MMDNN_CHECK (!cb->audio || (audio_rate >= MIN_AUDIO_RATE
                              && audio_rate <= MAX_AUDIO_RATE), error, FALSE,
               "%s: audio_rate %" G_GINT64_FORMAT " Hz is outside [%d, %d]",
               G_STRFUNC, audio_rate, MIN_AUDIO_RATE, MAX_AUDIO_RATE);

  memset (&d, 0, sizeof d);
  d.path = path;
  d.cb = cb;
  d.user = user;
  d.audio_rate = audio_rate;

  d.fmt = open_input (path, error);
  if (!d.fmt)
    return FALSE;

  for (int k = 0; k < N_KINDS; k++) {
    gboolean wanted = k == KIND_VIDEO ? cb->video != NULL
                    : k == KIND_AUDIO ? cb->audio != NULL
                    : cb->subtitle != NULL;

    d.stream[k] = wanted ? first_stream (d.fmt, types[k]) : -1;
  }
  for (unsigned i = 0; i < d.fmt->nb_streams; i++) {
    gboolean used = FALSE;

    for (int k = 0; k < N_KINDS; k++)
      used = used || d.stream[k] == (int) i;
    d.fmt->streams[i]->discard = used ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
  }
  for (int k = 0; k < N_KINDS; k++)
    if (d.stream[k] >= 0 && !open_decoder (&d, k, error))
      goto out;

  d.frame = av_frame_alloc ();
  pkt = av_packet_alloc ();
  if (!d.frame || !pkt) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                 "%s: cannot allocate a frame", path);
    goto out;
  }

  while (!d.stop) {
    int ret = av_read_frame (d.fmt, pkt);
    gboolean pok = TRUE;

    if (ret == AVERROR_EOF)
      break;
    if (ret < 0) {
      set_av_error (error, ret == AVERROR (EIO) ? MMDNN_ERROR_IO
                                                 : MMDNN_ERROR_BACKEND,
                    path, "cannot read", ret);
      goto out;
    }
    if (pkt->stream_index == d.stream[KIND_VIDEO])
      pok = decode_av (&d, KIND_VIDEO, pkt, error);
    else if (pkt->stream_index == d.stream[KIND_AUDIO])
      pok = decode_av (&d, KIND_AUDIO, pkt, error);
    else if (pkt->stream_index == d.stream[KIND_SUBTITLE])
      pok = subtitle_packet (&d, pkt, error);
    av_packet_unref (pkt);
    if (!pok)
      goto out;
  }

  /* drain the decoders and the resampler */
  if (!d.stop && d.stream[KIND_VIDEO] >= 0
      && !decode_av (&d, KIND_VIDEO, NULL, error))
    goto out;
  if (!d.stop && d.stream[KIND_AUDIO] >= 0
      && (!decode_av (&d, KIND_AUDIO, NULL, error) || !flush_swr (&d, error)))
    goto out;
  ok = TRUE;

out:
  av_packet_free (&pkt);
  decoder_clear (&d);
  return ok;
}
