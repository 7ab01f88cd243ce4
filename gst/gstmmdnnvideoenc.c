/* mmdnn — mmdnnvideoenc: raw video frames → video features.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

/**
 * SECTION:element-mmdnnvideoenc
 * @title: mmdnnvideoenc
 * @see_also: mmdnnaudioenc, mmdnntextenc, mmdnnfuse
 *
 * Encodes raw video frames with the video encoder of an mmdnn model: each
 * frame becomes K feature tokens of width D (for the default model 16 × 128,
 * one token per cell of a 4 × 4 grid), ready for mmdnnfuse.
 *
 * The frame goes through the model's own preprocessing first, the code the
 * `mmdnn` command-line tool uses for training (conversion and area scaling
 * to the model's input size, e.g. 64 × 64 RGB, then normalisation), so the
 * element sees exactly what the model was trained on, and neither
 * videoscale nor (for the formats below) videoconvert is needed.
 *
 * ## Caps
 *
 * * Sink: `video/x-raw` in RGB, BGR, RGBA, BGRA, RGBx, BGRx, GRAY8 or I420
 *   (I420 is read as BT.601, in the range its colorimetry says: full range
 *   from JPEG decoders, limited otherwise; alpha and padding bytes are
 *   ignored), any size from 1 × 1 to 16384 × 16384 and at most 128 times
 *   the model's input size each way (8192 × 8192 for a 64 × 64 model; the
 *   scaler cannot shrink more at once: once started the caps say so, so
 *   a `videoscale` before scales a larger frame down to them), odd sizes and padded strides are fine
 *   (GstVideoMeta is honoured), any framerate.
 * * Source: `application/x-mmdnn-features, modality=video, tokens=K, dim=D,
 *   model=<the model id>`; each buffer holds K × D float32, token-major.
 *
 * ## Timestamps
 *
 * The output keeps the frame's PTS. Its duration is the span the features
 * stand for: the frame's duration, else 1/framerate when the framerate is
 * known; with #GstMmdnnVideoEnc:max-rate set (and no
 * #GstMmdnnVideoEnc:phase), at least 1/max-rate. DTS and offsets are unset.
 *
 * ## Properties
 *
 * * #GstMmdnnEncoder:model (from the base class #GstMmdnnEncoder): the
 *   model file whose video encoder is used (default: the model installed
 *   with the plugin).
 * * #GstMmdnnVideoEnc:max-rate: at most this many feature buffers per
 *   second; frames in between are dropped before any work is done.
 * * #GstMmdnnVideoEnc:phase: with max-rate, keep the frames on screen at
 *   the instants phase + k/max-rate of running time, e.g. the one frame
 *   each window of mmdnnfuse or mmdnntrain takes.
 *
 * ## Bus messages
 *
 * No element messages. Errors:
 * * `GST_RESOURCE_ERROR_OPEN_READ`: the model file cannot be opened;
 * * `GST_RESOURCE_ERROR_READ`: the file is not an mmdnn model;
 * * `GST_STREAM_ERROR_WRONG_TYPE`: the model has no video encoder;
 * * `GST_STREAM_ERROR_FORMAT`: a buffer is smaller than its caps say.
 * Model errors are posted on the READY → PAUSED change, which then fails.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=30 ! videoconvert ! mmdnnvideoenc ! fakesink
 * ]| Encodes 30 test frames with the default model.
 * |[
 * gst-launch-1.0 -v videotestsrc num-buffers=90 ! video/x-raw,framerate=30/1 ! mmdnnvideoenc max-rate=5 ! fakesink silent=false
 * ]| Encodes 5 frames per second of a 30 fps stream (15 feature buffers,
 * each 200 ms long) and shows the negotiated features caps.
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=100 ! video/x-raw,framerate=10/1 ! mmdnnvideoenc max-rate=0.5 phase=1000000000 ! fakesink
 * ]| Encodes only the frames on screen at 1 s, 3 s, 5 s, … (5 feature
 * buffers): the frame each 2-second window of mmdnnfuse window=2000000000
 * takes.
 *
 * Since: 0.1
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/video/video.h>

#include "gstmmdnnelements.h"
#include "gstmmdnnutils.h"
#include "gstmmdnnvideoenc.h"

GST_DEBUG_CATEGORY_STATIC (mmdnn_video_enc_debug);
#define GST_CAT_DEFAULT mmdnn_video_enc_debug

#define DEFAULT_MAX_RATE 0.0
#define DEFAULT_PHASE GST_CLOCK_TIME_NONE

enum
{
  PROP_0,
  PROP_MAX_RATE,
  PROP_PHASE,
};

/* The formats mmdnn_video_prep_frame reads, and the sizes it accepts. */
#define VIDEO_FORMATS "{ RGB, BGR, RGBA, BGRA, RGBx, BGRx, GRAY8, I420 }"
#define MAX_SIDE 16384
#define SINK_CAPS                                                             \
  "video/x-raw, format=(string)" VIDEO_FORMATS ", "                           \
  "width=(int)[1,16384], height=(int)[1,16384], "                             \
  "framerate=(fraction)[0/1,2147483647/1]"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (SINK_CAPS));

struct _GstMmdnnVideoEnc
{
  GstMmdnnEncoder parent;

  /* properties, under the object lock */
  gdouble max_rate;
  GstClockTime phase;

  /* from start () to stop () (open/close) */
  MmdnnVideoPrep *prep;
  float *scratch;               /* (C, H, W): the preprocessed frame */
  /* the largest frame the model can take (object lock: caps queries) */
  gint max_width, max_height;

  /* from set_caps () */
  GstVideoInfo info;
  MmdnnPixelFormat format;

  /* rate limiter, streaming thread only */
  GstClockTime last_emitted;    /* running time of the last frame kept */
  GstClockTime interval;        /* 1/max-rate of the frame being encoded,
                                 * NONE when max-rate is 0 */
  gint64 last_instant;          /* phase: the last instant k sampled, or -1 */
};

#define gst_mmdnn_video_enc_parent_class parent_class
G_DEFINE_TYPE (GstMmdnnVideoEnc, gst_mmdnn_video_enc, GST_TYPE_MMDNN_ENCODER);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (mmdnnvideoenc, "mmdnnvideoenc",
    GST_RANK_NONE, GST_TYPE_MMDNN_VIDEO_ENC, mmdnn_element_init (plugin));

static void
gst_mmdnn_video_enc_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  GstMmdnnVideoEnc *self = GST_MMDNN_VIDEO_ENC (object);

  switch (prop_id) {
    case PROP_MAX_RATE:
      GST_OBJECT_LOCK (self);
      self->max_rate = g_value_get_double (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_PHASE:
      GST_OBJECT_LOCK (self);
      self->phase = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_mmdnn_video_enc_get_property (GObject *object, guint prop_id,
    GValue *value, GParamSpec *pspec)
{
  GstMmdnnVideoEnc *self = GST_MMDNN_VIDEO_ENC (object);

  switch (prop_id) {
    case PROP_MAX_RATE:
      GST_OBJECT_LOCK (self);
      g_value_set_double (value, self->max_rate);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_PHASE:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->phase);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static gboolean gst_mmdnn_video_enc_open (GstMmdnnEncoder *enc,
    const MmdnnModel *model, GError **error);
static void gst_mmdnn_video_enc_close (GstMmdnnEncoder *enc);
static GstCaps *gst_mmdnn_video_enc_get_raw_caps (GstMmdnnEncoder *enc);
static gboolean gst_mmdnn_video_enc_set_caps (GstBaseTransform *trans,
    GstCaps *incaps, GstCaps *outcaps);
static gboolean gst_mmdnn_video_enc_sink_event (GstBaseTransform *trans,
    GstEvent *event);
static gboolean gst_mmdnn_video_enc_propose_allocation (GstBaseTransform *trans,
    GstQuery *decide_query, GstQuery *query);
static GstFlowReturn gst_mmdnn_video_enc_submit_input_buffer (GstBaseTransform
    *trans, gboolean is_discont, GstBuffer *input);
static GstFlowReturn gst_mmdnn_video_enc_transform (GstBaseTransform *trans,
    GstBuffer *inbuf, GstBuffer *outbuf);

static void
gst_mmdnn_video_enc_class_init (GstMmdnnVideoEncClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstMmdnnEncoderClass *enc_class = GST_MMDNN_ENCODER_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (mmdnn_video_enc_debug, "mmdnnvideoenc", 0,
      "mmdnn video encoder");

  gobject_class->set_property = gst_mmdnn_video_enc_set_property;
  gobject_class->get_property = gst_mmdnn_video_enc_get_property;

  /**
   * GstMmdnnVideoEnc:max-rate:
   *
   * The most feature buffers to produce per second of running time; 0
   * encodes every frame. A frame whose running time is less than
   * 1/max-rate after that of the last encoded frame is dropped before any
   * work is done (no preprocessing, no encoding, no output buffer), and
   * the output buffers then last at least 1/max-rate. The limiter starts
   * afresh after a flush and on every new segment.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MAX_RATE,
      g_param_spec_double ("max-rate", "Maximum rate",
          "Most feature buffers per second (0 = encode every frame)",
          0.0, G_MAXDOUBLE, DEFAULT_MAX_RATE, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstMmdnnVideoEnc:phase:
   *
   * With #GstMmdnnVideoEnc:max-rate set, sample on a fixed grid of running
   * time instead: keep exactly the frame on screen at each instant
   * phase + k/max-rate (k = 0, 1, …), i.e. the frame whose running time is
   * at or before the instant and whose duration (else 1/framerate) reaches
   * past it; every other frame is dropped before any work. A frame with
   * neither duration nor framerate is taken as the first one at or after
   * an instant. The output keeps the frame's own duration.
   * GST_CLOCK_TIME_NONE (the default): no grid, max-rate keeps the first
   * frame 1/max-rate after the last one kept.
   *
   * This is the frame a window of mmdnnfuse or mmdnntrain takes (the one on
   * screen at its centre): for windows of W ns starting at running time 0,
   * max-rate = 10⁹/W and phase = W/2 encode one frame per window and no
   * other, as `mmdnn train` does with a data set of clips of W.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_PHASE,
      g_param_spec_uint64 ("phase", "Phase",
          "With max-rate: keep the frame on screen at running times phase + "
          "k/max-rate (ns; -1 = no grid)", 0, G_MAXUINT64, DEFAULT_PHASE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_set_static_metadata (element_class,
      "mmdnn video encoder", "Filter/Analyzer/Video",
      "Encodes raw video frames into mmdnn feature tokens",
      "mmdnn developers <dev@mmdnn.invalid>");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_mmdnn_encoder_class_set_modality (enc_class, MMDNN_MODALITY_VIDEO);

  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_mmdnn_video_enc_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_mmdnn_video_enc_sink_event);
  trans_class->propose_allocation =
      GST_DEBUG_FUNCPTR (gst_mmdnn_video_enc_propose_allocation);
  trans_class->submit_input_buffer =
      GST_DEBUG_FUNCPTR (gst_mmdnn_video_enc_submit_input_buffer);
  trans_class->transform = GST_DEBUG_FUNCPTR (gst_mmdnn_video_enc_transform);

  enc_class->open = GST_DEBUG_FUNCPTR (gst_mmdnn_video_enc_open);
  enc_class->close = GST_DEBUG_FUNCPTR (gst_mmdnn_video_enc_close);
  enc_class->get_raw_caps = GST_DEBUG_FUNCPTR (gst_mmdnn_video_enc_get_raw_caps);
}

static void
gst_mmdnn_video_enc_init (GstMmdnnVideoEnc *self)
{
  self->max_rate = DEFAULT_MAX_RATE;
  self->phase = DEFAULT_PHASE;
  self->last_emitted = GST_CLOCK_TIME_NONE;
  self->interval = GST_CLOCK_TIME_NONE;
  self->last_instant = -1;
  self->max_width = self->max_height = MAX_SIDE;
  gst_video_info_init (&self->info);
}

/* ------------------------------------------------------------ start/stop */

/* The model is loaded (start): make what a frame needs, so that the
 * streaming thread allocates nothing but output buffers. */
static gboolean
gst_mmdnn_video_enc_open (GstMmdnnEncoder *enc, const MmdnnModel *model,
    GError **error)
{
  GstMmdnnVideoEnc *self = GST_MMDNN_VIDEO_ENC (enc);
  const MmdnnModelConfig *c = model->config;
  int64_t n_in = mmdnn_model_config_input_size (c, MMDNN_MODALITY_VIDEO);

  if (n_in != c->video_prep.channels * c->video_prep.height
      * c->video_prep.width) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_MISMATCH,
        "the video encoder of \"%s\" takes %" G_GINT64_FORMAT " values, its "
        "preprocessing gives another size", GST_STR_NULL (c->model_id), n_in);
    return FALSE;
  }
  self->prep = mmdnn_video_prep_new (&c->video_prep, error);
  if (self->prep == NULL)
    return FALSE;
  self->scratch = g_try_new (float, n_in);
  if (self->scratch == NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
        "no memory for a preprocessed frame of %" G_GINT64_FORMAT " floats",
        n_in);
    return FALSE;
  }
  GST_OBJECT_LOCK (self);
  self->max_width = (gint) MIN (MAX_SIDE, MMDNN_VIDEO_MAX_DOWNSCALE
      * c->video_prep.width);
  self->max_height = (gint) MIN (MAX_SIDE, MMDNN_VIDEO_MAX_DOWNSCALE
      * c->video_prep.height);
  GST_OBJECT_UNLOCK (self);
  self->last_emitted = GST_CLOCK_TIME_NONE;
  self->interval = GST_CLOCK_TIME_NONE;
  self->last_instant = -1;
  GST_INFO_OBJECT (self, "%dx%dx%d input", (int) c->video_prep.channels,
      (int) c->video_prep.height, (int) c->video_prep.width);
  return TRUE;
}

static void
gst_mmdnn_video_enc_close (GstMmdnnEncoder *enc)
{
  GstMmdnnVideoEnc *self = GST_MMDNN_VIDEO_ENC (enc);

  g_clear_pointer (&self->prep, mmdnn_video_prep_free);
  g_clear_pointer (&self->scratch, g_free);
  GST_OBJECT_LOCK (self);
  self->max_width = self->max_height = MAX_SIDE;
  GST_OBJECT_UNLOCK (self);
}

/* The template, limited once started to the sizes the model can scale
 * down, so that a videoscale upstream knows to scale a larger frame. */
static GstCaps *
gst_mmdnn_video_enc_get_raw_caps (GstMmdnnEncoder *enc)
{
  GstMmdnnVideoEnc *self = GST_MMDNN_VIDEO_ENC (enc);
  GstCaps *caps = gst_static_pad_template_get_caps (&sink_template);
  gint w, h;

  GST_OBJECT_LOCK (self);
  w = self->max_width;
  h = self->max_height;
  GST_OBJECT_UNLOCK (self);
  if (w < MAX_SIDE || h < MAX_SIDE) {
    caps = gst_caps_make_writable (caps);
    gst_caps_set_simple (caps, "width", GST_TYPE_INT_RANGE, 1, w,
        "height", GST_TYPE_INT_RANGE, 1, h, NULL);
  }
  return caps;
}

/* ---------------------------------------------------------- negotiation */

/* I420 by its range: JPEG decoders give full range, most others limited */
static gboolean
pixel_format_from_video (const GstVideoInfo *info, MmdnnPixelFormat *out)
{
  switch (GST_VIDEO_INFO_FORMAT (info)) {
    case GST_VIDEO_FORMAT_RGB:
      *out = MMDNN_PIXEL_RGB;
      return TRUE;
    case GST_VIDEO_FORMAT_BGR:
      *out = MMDNN_PIXEL_BGR;
      return TRUE;
    case GST_VIDEO_FORMAT_RGBA:
      *out = MMDNN_PIXEL_RGBA;
      return TRUE;
    case GST_VIDEO_FORMAT_BGRA:
      *out = MMDNN_PIXEL_BGRA;
      return TRUE;
    case GST_VIDEO_FORMAT_RGBx:
      *out = MMDNN_PIXEL_RGBX;
      return TRUE;
    case GST_VIDEO_FORMAT_BGRx:
      *out = MMDNN_PIXEL_BGRX;
      return TRUE;
    case GST_VIDEO_FORMAT_GRAY8:
      *out = MMDNN_PIXEL_GRAY8;
      return TRUE;
    case GST_VIDEO_FORMAT_I420:
      *out = info->colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255
          ? MMDNN_PIXEL_I420_FULL : MMDNN_PIXEL_I420;
      return TRUE;
    default:
      return FALSE;
  }
}

static gboolean
gst_mmdnn_video_enc_set_caps (GstBaseTransform *trans, GstCaps *incaps,
    GstCaps *outcaps)
{
  GstMmdnnVideoEnc *self = GST_MMDNN_VIDEO_ENC (trans);
  MmdnnPixelFormat format;
  GstVideoInfo info;
  gint max_w, max_h;

  if (!gst_video_info_from_caps (&info, incaps)) {
    GST_WARNING_OBJECT (self, "cannot parse %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  if (!pixel_format_from_video (&info, &format)
      || GST_VIDEO_INFO_WIDTH (&info) < 1 || GST_VIDEO_INFO_HEIGHT (&info) < 1
      || GST_VIDEO_INFO_WIDTH (&info) > MAX_SIDE
      || GST_VIDEO_INFO_HEIGHT (&info) > MAX_SIDE) {
    GST_WARNING_OBJECT (self, "unsupported %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  GST_OBJECT_LOCK (self);
  max_w = self->max_width;
  max_h = self->max_height;
  GST_OBJECT_UNLOCK (self);
  if (GST_VIDEO_INFO_WIDTH (&info) > max_w
      || GST_VIDEO_INFO_HEIGHT (&info) > max_h) {
    GST_WARNING_OBJECT (self, "%dx%d is over the %dx%d the model can scale "
        "down: put videoscale before", GST_VIDEO_INFO_WIDTH (&info),
        GST_VIDEO_INFO_HEIGHT (&info), max_w, max_h);
    return FALSE;
  }
  /* the features side */
  if (!GST_BASE_TRANSFORM_CLASS (parent_class)->set_caps (trans, incaps,
          outcaps))
    return FALSE;
  self->info = info;
  self->format = format;
  return TRUE;
}

static gboolean
gst_mmdnn_video_enc_sink_event (GstBaseTransform *trans, GstEvent *event)
{
  GstMmdnnVideoEnc *self = GST_MMDNN_VIDEO_ENC (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_SEGMENT:
      /* serialized with the buffers: the streaming thread's state */
      self->last_emitted = GST_CLOCK_TIME_NONE;
      self->last_instant = -1;
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* Upstream may hand over frames with padded strides or plane offsets:
 * GstVideoFrame reads them from the GstVideoMeta. */
static gboolean
gst_mmdnn_video_enc_propose_allocation (GstBaseTransform *trans,
    GstQuery *decide_query, GstQuery *query)
{
  gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
  return TRUE;
}

/* ------------------------------------------------------------- streaming */

/* 1/max-rate in nanoseconds, rounded down (so that a frame exactly on the
 * rate's grid is kept: 30 fps at max-rate 15 keeps every second frame),
 * capped far beyond any stream so the sums below cannot overflow. */
static GstClockTime
rate_interval (gdouble max_rate)
{
  gdouble ns = (gdouble) GST_SECOND / max_rate;

  return ns >= 1e18 ? (GstClockTime) 1e18 : (GstClockTime) ns;
}

/* The rate limiter decides before anything else: a dropped frame costs no
 * preprocessing, no encoding and no output buffer. It is dropped by
 * returning OK with nothing queued rather than FLOW_DROPPED, which would
 * mark the next output DISCONT although the features stay continuous (the
 * kept buffers' durations cover the dropped frames). */
/* The phase grid: the instant k a frame at running time @rt lasting @dur
 * (0: unknown) is on screen at, or −1 when it shows none not yet sampled.
 * Instants are phase + k·interval; a frame lasting [rt, rt + dur) shows
 * the first instant at or after rt if that comes before rt + dur. */
static gint64
grid_instant (GstMmdnnVideoEnc *self, GstClockTime phase,
    GstClockTime interval, GstClockTime rt, GstClockTime dur)
{
  gint64 k;

  if (dur == 0) {
    /* no duration: the first frame at or after an instant */
    if (rt < phase)
      return -1;
    k = (gint64) ((rt - phase) / interval);
  } else {
    k = rt <= phase ? 0 : (gint64) ((rt - phase + interval - 1) / interval);
    if (phase + (GstClockTime) k * interval >= rt + dur)
      return -1;
  }
  return k > self->last_instant ? k : -1;
}

static GstFlowReturn
gst_mmdnn_video_enc_submit_input_buffer (GstBaseTransform *trans,
    gboolean is_discont, GstBuffer *input)
{
  GstMmdnnVideoEnc *self = GST_MMDNN_VIDEO_ENC (trans);
  GstClockTime rt = GST_CLOCK_TIME_NONE, interval = GST_CLOCK_TIME_NONE;
  GstClockTime phase;
  gint64 instant = -1;
  GstFlowReturn ret;
  gdouble max_rate;

  GST_OBJECT_LOCK (self);
  max_rate = self->max_rate;
  phase = self->phase;
  GST_OBJECT_UNLOCK (self);
  if (max_rate > 0.0)
    interval = rate_interval (max_rate);

  if (trans->segment.format == GST_FORMAT_TIME && GST_BUFFER_PTS_IS_VALID (input))
    rt = gst_segment_to_running_time (&trans->segment, GST_FORMAT_TIME,
        GST_BUFFER_PTS (input));
  if (GST_CLOCK_TIME_IS_VALID (interval) && GST_CLOCK_TIME_IS_VALID (rt)
      && GST_CLOCK_TIME_IS_VALID (phase)) {
    GstClockTime dur = GST_BUFFER_DURATION (input);

    if (!GST_CLOCK_TIME_IS_VALID (dur))
      dur = GST_VIDEO_INFO_FPS_N (&self->info) > 0
          ? gst_util_uint64_scale_int (GST_SECOND,
          GST_VIDEO_INFO_FPS_D (&self->info),
          GST_VIDEO_INFO_FPS_N (&self->info)) : 0;
    instant = grid_instant (self, phase, interval, rt, dur);
    if (instant < 0) {
      GST_LOG_OBJECT (self, "phase %" GST_TIME_FORMAT ": no instant on the "
          "frame at running time %" GST_TIME_FORMAT ", dropped",
          GST_TIME_ARGS (phase), GST_TIME_ARGS (rt));
      gst_buffer_unref (input);
      return GST_FLOW_OK;
    }
  } else if (GST_CLOCK_TIME_IS_VALID (interval) && GST_CLOCK_TIME_IS_VALID (rt)
      && GST_CLOCK_TIME_IS_VALID (self->last_emitted)
      && rt < self->last_emitted + interval) {
    GST_LOG_OBJECT (self, "max-rate %g: dropping the frame at running time %"
        GST_TIME_FORMAT " (last kept %" GST_TIME_FORMAT ")", max_rate,
        GST_TIME_ARGS (rt), GST_TIME_ARGS (self->last_emitted));
    gst_buffer_unref (input);
    return GST_FLOW_OK;
  }

  ret = GST_BASE_TRANSFORM_CLASS (parent_class)->submit_input_buffer (trans,
      is_discont, input);
  if (ret == GST_FLOW_OK && trans->queued_buf != NULL) {
    if (GST_CLOCK_TIME_IS_VALID (rt))
      self->last_emitted = rt;
    if (instant >= 0)
      self->last_instant = instant;
    /* a frame sampled at an instant stands for itself: stretched to the
     * grid's interval it would reach into windows after the stream's end */
    self->interval = instant >= 0 ? GST_CLOCK_TIME_NONE : interval;
  }
  return ret;
}

static GstFlowReturn
gst_mmdnn_video_enc_transform (GstBaseTransform *trans, GstBuffer *inbuf,
    GstBuffer *outbuf)
{
  GstMmdnnVideoEnc *self = GST_MMDNN_VIDEO_ENC (trans);
  const guint8 *planes[GST_VIDEO_MAX_PLANES] = { NULL, };
  int64_t strides[GST_VIDEO_MAX_PLANES] = { 0, };
  GstVideoFrame frame;
  GstClockTime duration;
  GError *error = NULL;
  GstFlowReturn ret;
  gboolean ok;

  if (!gst_video_frame_map (&frame, &self->info, inbuf, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
        ("a buffer of %" G_GSIZE_FORMAT " bytes is not a %s %dx%d frame "
            "(%" G_GSIZE_FORMAT " bytes)", gst_buffer_get_size (inbuf),
            GST_VIDEO_INFO_NAME (&self->info),
            GST_VIDEO_INFO_WIDTH (&self->info),
            GST_VIDEO_INFO_HEIGHT (&self->info),
            GST_VIDEO_INFO_SIZE (&self->info)));
    return GST_FLOW_ERROR;
  }
  for (guint i = 0; i < GST_VIDEO_FRAME_N_PLANES (&frame); i++) {
    planes[i] = GST_VIDEO_FRAME_PLANE_DATA (&frame, i);
    strides[i] = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, i);
  }
  ok = mmdnn_video_prep_frame (self->prep, self->format,
      GST_VIDEO_FRAME_WIDTH (&frame), GST_VIDEO_FRAME_HEIGHT (&frame),
      planes, strides, self->scratch, &error);
  gst_video_frame_unmap (&frame);
  if (!ok) {
    gst_mmdnn_encoder_post_error (GST_MMDNN_ENCODER (self), error);
    g_clear_error (&error);
    return GST_FLOW_ERROR;
  }

  ret = gst_mmdnn_encoder_encode (GST_MMDNN_ENCODER (self), self->scratch,
      outbuf);
  if (ret != GST_FLOW_OK)
    return ret;

  /* the span the features stand for */
  duration = GST_BUFFER_DURATION (inbuf);
  if (!GST_CLOCK_TIME_IS_VALID (duration) && GST_VIDEO_INFO_FPS_N (&self->info)
      > 0)
    duration = gst_util_uint64_scale_int (GST_SECOND,
        GST_VIDEO_INFO_FPS_D (&self->info), GST_VIDEO_INFO_FPS_N (&self->info));
  if (GST_CLOCK_TIME_IS_VALID (self->interval)
      && (!GST_CLOCK_TIME_IS_VALID (duration) || duration < self->interval))
    duration = self->interval;
  GST_BUFFER_DURATION (outbuf) = duration;
  GST_LOG_OBJECT (self, "features at %" GST_TIME_FORMAT " for %"
      GST_TIME_FORMAT, GST_TIME_ARGS (GST_BUFFER_PTS (outbuf)),
      GST_TIME_ARGS (duration));
  return GST_FLOW_OK;
}
