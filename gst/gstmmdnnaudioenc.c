/* mmdnn — mmdnnaudioenc: audio windows to audio features.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

/**
 * SECTION:element-mmdnnaudioenc
 * @title: mmdnnaudioenc
 * @see_also: mmdnnvideoenc, mmdnntextenc, mmdnnfuse
 *
 * Encodes raw audio with the audio encoder of an mmdnn model: one
 * application/x-mmdnn-features buffer (K tokens × D floats) per window of
 * log-mel frames, exactly as the `mmdnn` command line builds its audio
 * patches, so a model trained offline sees the same input live.
 *
 * The samples are mixed down to mono with equal weights 1/C (the same
 * matrix the command line gives libswresample), framed by the model's
 * streaming log-mel front end (mmdnn-core audio.h; 25 ms window, 10 ms hop
 * and 64 mels for the default model) and grouped into windows of
 * `audio_patch_frames` frames (100 = 1 s by default) laid out mel-major,
 * (1, n_mels, frames), the encoder's input. A new window starts every
 * #GstMmdnnAudioEnc:hop.
 *
 * ## Caps
 *
 * - sink: `audio/x-raw, format={F32LE, S16LE}, layout=interleaved,
 *   channels=[1, 8]` at the model's sample rate (16000 Hz for the default
 *   model). Before the element is started any rate is advertised; once
 *   started (READY→PAUSED, when the model is loaded) caps queries and
 *   accept-caps only allow the model's rate, so an `audioresample` upstream
 *   converts. Channel positions are ignored (every channel weighs 1/C).
 * - src: `application/x-mmdnn-features, modality=audio, tokens=K, dim=D,
 *   model=<model id>`, K the model's audio token count (10 for the default
 *   model) and D its feature width (128); each buffer holds K×D float32,
 *   token-major.
 *
 * ## Timing
 *
 * Frame t (counted from the first sample after the start, a flush or a
 * discontinuity) covers samples [t·hop_length, t·hop_length + win_length).
 * Windows start at frames f = phase + k·hop (both in frames, k = 0, 1, …).
 * The window that starts at frame f covers frames [f, f + P), P =
 * `audio_patch_frames`; it is emitted as soon as its last frame is complete,
 * i.e. once (P − 1)·hop_length + win_length samples from its start have
 * arrived (16240 samples = 1.015 s for the default model). Its buffer has
 *
 * - PTS = T0 + f·hop_length / rate, where T0 is the timestamp of the first
 *   sample after the start/flush/discontinuity (gst_util_uint64_scale_int,
 *   from the sample count, never accumulated from durations);
 * - duration = P·hop_length samples (exactly 1 s for the default model):
 *   the span from the window's first frame to the first frame of the next
 *   window without overlap, so that windows with the default hop tile the
 *   stream without gaps. The last frame reads win_length − hop_length
 *   samples (15 ms) past PTS + duration.
 *
 * The output is identical whatever the input buffer sizes (down to one
 * sample, or a sample frame split across buffers).
 *
 * Discontinuities: a buffer flagged DISCONT, a buffer whose timestamp is
 * more than half a frame hop (5 ms by default) away from the one the sample
 * count predicts, a GAP event, a FLUSH_STOP, a STREAM_START and EOS each
 * drop the samples and frames of the unfinished window and restart framing
 * and timing from the next buffer's timestamp (the first output after that
 * is flagged DISCONT). A buffer without timestamp continues the count; a
 * restart whose first buffer has no timestamp resumes where the previous
 * samples (or the GAP) ended, or at the segment start after a start, a
 * flush or a new stream.
 *
 * End of stream: the last, unfinished window is dropped, never padded, so
 * every output is made of real samples only. A stream shorter than one
 * window (1.015 s by default) gives no output.
 *
 * Invalid samples: a NaN or infinite F32 sample is replaced by 0 (silence)
 * before the mixdown, so the features stay finite and the stream goes on;
 * the first such sample after the start or a flush posts a warning message
 * on the bus (STREAM, DECODE), later ones are only counted in the debug log.
 * (mmdnn_logmel_push_f32 would refuse the whole push instead.)
 *
 * Latency: the element adds the span of one window, ((P − 1)·hop_length +
 * win_length) / rate, to the latency it reports downstream.
 *
 * ## Properties
 *
 * - #GstMmdnnEncoder:model (from the base class #GstMmdnnEncoder): the
 *   model file whose audio encoder and log-mel settings are used (default:
 *   the default model); changeable in the NULL and READY states only.
 * - #GstMmdnnAudioEnc:hop: the time between window starts (default 0 = one
 *   window, non-overlapping), rounded to whole log-mel frames.
 * - #GstMmdnnAudioEnc:phase: the time from the first sample to the first
 *   window (default 0), e.g. to encode only the patch centred in each
 *   window of mmdnnfuse or mmdnntrain.
 *
 * ## Bus messages
 *
 * - error RESOURCE/OPEN_READ when the model file cannot be read,
 *   RESOURCE/READ when it is not an mmdnn model, STREAM/WRONG_TYPE when the
 *   model has no audio encoder (at the READY→PAUSED change, which fails);
 *   other core failures as documented in gstmmdnnutils.h.
 * - warning STREAM/DECODE at the first non-finite sample (see above).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 audiotestsrc num-buffers=100 ! audioconvert ! audioresample ! audio/x-raw,rate=16000 ! mmdnnaudioenc ! fakesink
 * ]| Encodes 6.4 s of a test tone into six 1-second feature buffers.
 * |[
 * gst-launch-1.0 -v audiotestsrc num-buffers=100 ! audio/x-raw,rate=44100,channels=2 ! audioconvert ! audioresample ! mmdnnaudioenc hop=250000000 ! fakesink silent=false
 * ]| Stereo 44.1 kHz, mixed down and resampled to the model's rate: one
 * window of 1 s every 250 ms (overlapping windows); the 2.3 s of audio give
 * six buffers.
 *
 * Since: 0.1
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <gst/base/gstadapter.h>

#include "gstmmdnnaudioenc.h"
#include "gstmmdnnelements.h"
#include "gstmmdnnutils.h"

GST_DEBUG_CATEGORY_STATIC (mmdnn_audio_enc_debug);
#define GST_CAT_DEFAULT mmdnn_audio_enc_debug

#define DEFAULT_HOP 0
#define DEFAULT_PHASE 0
#define MAX_HOP (3600 * GST_SECOND)

/* Samples mixed and pushed to the log-mel front end at a time: bounds the
 * scratch whatever the input buffer size. */
#define CHUNK_SAMPLES 4096
#define MAX_CHANNELS 8
#define MAX_BPF (MAX_CHANNELS * 4)

enum
{
  PROP_0,
  PROP_HOP,
  PROP_PHASE,
};

#define SINK_CAPS                                                            \
  "audio/x-raw, format=(string){ F32LE, S16LE }, layout=(string)interleaved, " \
  "rate=(int)[1, MAX], channels=(int)[1, 8]"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (SINK_CAPS));

struct _GstMmdnnAudioEnc
{
  GstMmdnnEncoder parent;

  /* properties (object lock) */
  guint64 hop;
  guint64 phase;

  /* negotiation (object lock): set by start (open), cleared by stop */
  gint model_rate;              /* 0 while stopped */

  /* set in start (open), freed in stop (close); used by the streaming
   * thread only */
  MmdnnLogMelConfig lmc;
  gint64 patch_frames;          /* P */
  gint64 n_mels;
  gint64 hop_frames;            /* frames between window starts, ≥ 1 */
  gint64 phase_frames;          /* frames before the first window */
  MmdnnLogMel *lm;
  GstAdapter *adapter;
  float *ring;                  /* (P, n_mels): frames of the window */
  float *patch;                 /* (1, n_mels, P): the encoder's input */
  float *mono;                  /* (CHUNK_SAMPLES + win_length) */
  guint8 *raw;                  /* (CHUNK_SAMPLES · MAX_BPF) */

  /* input format (set_caps) */
  gboolean configured;
  gboolean is_s16;
  gint channels;
  gint bpf;

  /* stream state, reset by stream_reset */
  gboolean need_base;           /* the next buffer sets base_ts */
  GstClockTime base_ts;         /* time of sample 0 of the stream */
  GstClockTime resume_ts;       /* where a restart without PTS resumes */
  guint64 bytes_in;             /* since sample 0 */
  gint64 win_start;             /* frame index of the window's first frame */
  gint64 ring_start;            /* ring slot of frame win_start */
  gint64 n_have;                /* frames of the window in the ring */
  gint64 skip;                  /* frames to drop before the window (hop > P) */
  gboolean discont;             /* flag the next output DISCONT */

  /* non-finite samples since start or flush */
  guint64 n_nonfinite;
};

#define gst_mmdnn_audio_enc_parent_class parent_class
G_DEFINE_TYPE (GstMmdnnAudioEnc, gst_mmdnn_audio_enc, GST_TYPE_MMDNN_ENCODER);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (mmdnnaudioenc, "mmdnnaudioenc",
    GST_RANK_NONE, GST_TYPE_MMDNN_AUDIO_ENC, mmdnn_element_init (plugin));

static void gst_mmdnn_audio_enc_set_property (GObject * object,
    guint prop_id, const GValue * value, GParamSpec * pspec);
static void gst_mmdnn_audio_enc_get_property (GObject * object,
    guint prop_id, GValue * value, GParamSpec * pspec);
static gboolean gst_mmdnn_audio_enc_open (GstMmdnnEncoder * enc,
    const MmdnnModel * model, GError ** error);
static void gst_mmdnn_audio_enc_close (GstMmdnnEncoder * enc);
static GstCaps *gst_mmdnn_audio_enc_get_raw_caps (GstMmdnnEncoder * enc);
static gboolean gst_mmdnn_audio_enc_accept_raw_caps (GstMmdnnEncoder * enc,
    GstCaps * caps);
static gboolean gst_mmdnn_audio_enc_set_caps (GstBaseTransform * trans,
    GstCaps * incaps, GstCaps * outcaps);
static gboolean gst_mmdnn_audio_enc_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static gboolean gst_mmdnn_audio_enc_query (GstBaseTransform * trans,
    GstPadDirection direction, GstQuery * query);
static GstFlowReturn gst_mmdnn_audio_enc_transform (GstBaseTransform * trans,
    GstBuffer * inbuf, GstBuffer * outbuf);
static GstFlowReturn gst_mmdnn_audio_enc_submit_input_buffer (GstBaseTransform *
    trans, gboolean is_discont, GstBuffer * input);
static GstFlowReturn gst_mmdnn_audio_enc_generate_output (GstBaseTransform *
    trans, GstBuffer ** outbuf);

static void stream_reset (GstMmdnnAudioEnc * self, GstClockTime resume_ts,
    const gchar * why);

static void
gst_mmdnn_audio_enc_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstMmdnnAudioEnc *self = GST_MMDNN_AUDIO_ENC (object);

  switch (prop_id) {
    case PROP_HOP:
      GST_OBJECT_LOCK (self);
      self->hop = g_value_get_uint64 (value);
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
gst_mmdnn_audio_enc_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstMmdnnAudioEnc *self = GST_MMDNN_AUDIO_ENC (object);

  switch (prop_id) {
    case PROP_HOP:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->hop);
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

static void
gst_mmdnn_audio_enc_class_init (GstMmdnnAudioEncClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstMmdnnEncoderClass *enc_class = GST_MMDNN_ENCODER_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (mmdnn_audio_enc_debug, "mmdnnaudioenc", 0,
      "mmdnn audio encoder");

  gobject_class->set_property = gst_mmdnn_audio_enc_set_property;
  gobject_class->get_property = gst_mmdnn_audio_enc_get_property;

  /**
   * GstMmdnnAudioEnc:hop:
   *
   * Time in nanoseconds between the starts of two successive windows;
   * 0 (the default) means one window, i.e. non-overlapping windows. A
   * shorter hop gives overlapping windows, a longer one skips frames
   * between windows. Windows start on log-mel frames, so the hop is
   * rounded to the nearest whole number of frame hops (10 ms for the
   * default model; ties round up), and at least one frame:
   * frames = max (1, round (hop · rate / (hop_length · 10⁹))). Read at the
   * READY→PAUSED change.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_HOP,
      g_param_spec_uint64 ("hop", "Hop",
          "Time between window starts in ns, rounded to whole log-mel "
          "frames (0: one window, no overlap)", 0, MAX_HOP, DEFAULT_HOP,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstMmdnnAudioEnc:phase:
   *
   * Time in nanoseconds from the first sample (after the start, a flush or
   * a discontinuity) to the start of the first window, rounded to whole
   * log-mel frames as #GstMmdnnAudioEnc:hop is; the frames before it are
   * not encoded. With the hop set to the window W of mmdnnfuse or
   * mmdnntrain and phase = (W − P·hop_length/rate) / 2 (for the default
   * model and W = 2 s: hop=2000000000 phase=500000000), each window gets
   * one patch, the one centred in it (the patch `mmdnn train` takes from a
   * clip of W), and no other is encoded. Read at the READY→PAUSED change.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_PHASE,
      g_param_spec_uint64 ("phase", "Phase",
          "Time from the first sample to the first window in ns, rounded to "
          "whole log-mel frames", 0, MAX_HOP, DEFAULT_PHASE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_mmdnn_encoder_class_set_modality (enc_class, MMDNN_MODALITY_AUDIO);
  gst_element_class_set_static_metadata (element_class,
      "mmdnn audio encoder", "Filter/Analyzer/Audio",
      "Encodes windows of audio into mmdnn features with the audio encoder "
      "of an mmdnn model", "mmdnn developers <dev@mmdnn.invalid>");

  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_mmdnn_audio_enc_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_mmdnn_audio_enc_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_mmdnn_audio_enc_query);
  trans_class->transform = GST_DEBUG_FUNCPTR (gst_mmdnn_audio_enc_transform);
  trans_class->submit_input_buffer =
      GST_DEBUG_FUNCPTR (gst_mmdnn_audio_enc_submit_input_buffer);
  trans_class->generate_output =
      GST_DEBUG_FUNCPTR (gst_mmdnn_audio_enc_generate_output);

  enc_class->open = GST_DEBUG_FUNCPTR (gst_mmdnn_audio_enc_open);
  enc_class->close = GST_DEBUG_FUNCPTR (gst_mmdnn_audio_enc_close);
  enc_class->get_raw_caps =
      GST_DEBUG_FUNCPTR (gst_mmdnn_audio_enc_get_raw_caps);
  enc_class->accept_raw_caps =
      GST_DEBUG_FUNCPTR (gst_mmdnn_audio_enc_accept_raw_caps);
}

static void
gst_mmdnn_audio_enc_init (GstMmdnnAudioEnc * self)
{
  self->hop = DEFAULT_HOP;
  self->phase = DEFAULT_PHASE;
  self->base_ts = GST_CLOCK_TIME_NONE;
  self->resume_ts = GST_CLOCK_TIME_NONE;
  self->need_base = TRUE;
}

/* ------------------------------------------------------------ start/stop */

/* The model is loaded (start): check its audio settings and make what the
 * stream needs, so that streaming allocates nothing but output buffers. */
static gboolean
gst_mmdnn_audio_enc_open (GstMmdnnEncoder * enc, const MmdnnModel * model,
    GError ** error)
{
  GstMmdnnAudioEnc *self = GST_MMDNN_AUDIO_ENC (enc);
  const MmdnnModelConfig *c = model->config;
  guint64 hop, phase;
  gint64 win_span;

  GST_OBJECT_LOCK (self);
  hop = self->hop;
  phase = self->phase;
  GST_OBJECT_UNLOCK (self);

  self->lmc = c->logmel;
  self->patch_frames = c->audio_patch_frames;
  self->n_mels = c->logmel.n_mels;
  if (self->lmc.sample_rate > G_MAXINT || self->patch_frames < 1
      || mmdnn_model_config_input_size (c, MMDNN_MODALITY_AUDIO)
      != self->n_mels * self->patch_frames) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_MISMATCH,
        "model \"%s\": unsupported audio settings (rate %" G_GINT64_FORMAT
        ", %" G_GINT64_FORMAT " mels × %" G_GINT64_FORMAT " frames)",
        gst_mmdnn_encoder_get_model_path (enc), self->lmc.sample_rate,
        self->n_mels, self->patch_frames);
    return FALSE;
  }

  /* hop: nearest whole number of frames, at least one; 0 = one window */
  if (hop == 0) {
    self->hop_frames = self->patch_frames;
  } else {
    self->hop_frames = (gint64) gst_util_uint64_scale_round (hop,
        (guint64) self->lmc.sample_rate,
        (guint64) self->lmc.hop_length * GST_SECOND);
    self->hop_frames = MAX (self->hop_frames, 1);
  }
  self->phase_frames = (gint64) gst_util_uint64_scale_round (phase,
      (guint64) self->lmc.sample_rate,
      (guint64) self->lmc.hop_length * GST_SECOND);

  self->lm = mmdnn_logmel_new (&self->lmc, error);
  if (self->lm == NULL)
    return FALSE;
  self->adapter = gst_adapter_new ();
  self->ring = g_new0 (float, self->patch_frames * self->n_mels);
  self->patch = g_new0 (float, self->patch_frames * self->n_mels);
  self->mono = g_new0 (float, CHUNK_SAMPLES + self->lmc.win_length);
  self->raw = g_new0 (guint8, CHUNK_SAMPLES * MAX_BPF);
  /* the front end's sample buffer grows to what one push can leave
   * pending (< win_length before a push, plus a chunk): reserve it now so
   * streaming never reallocates */
  if (!mmdnn_logmel_push_f32 (self->lm, self->mono,
          CHUNK_SAMPLES + self->lmc.win_length, error))
    return FALSE;
  mmdnn_logmel_reset (self->lm);

  GST_OBJECT_LOCK (self);
  self->model_rate = (gint) self->lmc.sample_rate;
  GST_OBJECT_UNLOCK (self);

  win_span = (self->patch_frames - 1) * self->lmc.hop_length
      + self->lmc.win_length;
  GST_INFO_OBJECT (self, "model \"%s\": %" G_GINT64_FORMAT " Hz, window %"
      G_GINT64_FORMAT " frames (%" G_GINT64_FORMAT " samples), hop %"
      G_GINT64_FORMAT " frames, phase %" G_GINT64_FORMAT " frames",
      gst_mmdnn_encoder_get_model_path (enc), self->lmc.sample_rate,
      self->patch_frames, win_span, self->hop_frames, self->phase_frames);

  self->n_nonfinite = 0;
  self->configured = FALSE;
  stream_reset (self, GST_CLOCK_TIME_NONE, "start");
  return TRUE;
}

static void
gst_mmdnn_audio_enc_close (GstMmdnnEncoder * enc)
{
  GstMmdnnAudioEnc *self = GST_MMDNN_AUDIO_ENC (enc);

  if (self->n_nonfinite > 0)
    GST_INFO_OBJECT (self, "%" G_GUINT64_FORMAT " non-finite samples were "
        "replaced by 0", self->n_nonfinite);
  self->n_nonfinite = 0;

  GST_OBJECT_LOCK (self);
  self->model_rate = 0;
  GST_OBJECT_UNLOCK (self);

  mmdnn_logmel_free (self->lm);
  self->lm = NULL;
  if (self->adapter != NULL) {
    gst_adapter_clear (self->adapter);
    g_object_unref (self->adapter);
    self->adapter = NULL;
  }
  g_clear_pointer (&self->ring, g_free);
  g_clear_pointer (&self->patch, g_free);
  g_clear_pointer (&self->mono, g_free);
  g_clear_pointer (&self->raw, g_free);
  self->configured = FALSE;
}

/* ------------------------------------------------------------------ caps */

/* Whether structure @s allows @rate (no rate field allows any). */
static gboolean
structure_allows_rate (const GstStructure * s, gint rate)
{
  const GValue *v = gst_structure_get_value (s, "rate");
  GValue r = G_VALUE_INIT;
  gboolean ok;

  if (v == NULL)
    return TRUE;
  g_value_init (&r, G_TYPE_INT);
  g_value_set_int (&r, rate);
  /* (gst_value_can_intersect only compares the types) */
  ok = gst_value_intersect (NULL, v, &r);
  g_value_unset (&r);
  return ok;
}

/* What the model can take: the template, at the model's rate once
 * started. */
static GstCaps *
gst_mmdnn_audio_enc_get_raw_caps (GstMmdnnEncoder * enc)
{
  GstMmdnnAudioEnc *self = GST_MMDNN_AUDIO_ENC (enc);
  GstCaps *caps = gst_static_pad_template_get_caps (&sink_template);
  gint rate;

  GST_OBJECT_LOCK (self);
  rate = self->model_rate;
  GST_OBJECT_UNLOCK (self);
  if (rate != 0) {
    caps = gst_caps_make_writable (caps);
    gst_caps_set_simple (caps, "rate", G_TYPE_INT, rate, NULL);
  }
  return caps;
}

/* Audio gives features unless no structure allows the model's rate. */
static gboolean
gst_mmdnn_audio_enc_accept_raw_caps (GstMmdnnEncoder * enc, GstCaps * caps)
{
  GstMmdnnAudioEnc *self = GST_MMDNN_AUDIO_ENC (enc);
  gboolean any = gst_caps_is_any (caps);
  gint rate;

  GST_OBJECT_LOCK (self);
  rate = self->model_rate;
  GST_OBJECT_UNLOCK (self);
  for (guint i = 0; i < gst_caps_get_size (caps) && !any; i++) {
    const GstStructure *s = gst_caps_get_structure (caps, i);

    any = gst_structure_has_name (s, "audio/x-raw")
        && (rate == 0 || structure_allows_rate (s, rate));
  }
  return any;
}

static gboolean
gst_mmdnn_audio_enc_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  GstMmdnnAudioEnc *self = GST_MMDNN_AUDIO_ENC (trans);
  const GstStructure *s = gst_caps_get_structure (incaps, 0);
  const gchar *format = gst_structure_get_string (s, "format");
  const gchar *layout = gst_structure_get_string (s, "layout");
  gint rate = 0, channels = 0;
  gboolean is_s16;

  /* the features side (and whether the model is loaded) */
  if (!GST_BASE_TRANSFORM_CLASS (parent_class)->set_caps (trans, incaps,
          outcaps))
    return FALSE;
  if (!gst_structure_get_int (s, "rate", &rate)
      || !gst_structure_get_int (s, "channels", &channels)
      || format == NULL || layout == NULL
      || !g_str_equal (layout, "interleaved"))
    goto refused;
  if (g_str_equal (format, "S16LE"))
    is_s16 = TRUE;
  else if (g_str_equal (format, "F32LE"))
    is_s16 = FALSE;
  else
    goto refused;
  if (rate != self->lmc.sample_rate || channels < 1
      || channels > MAX_CHANNELS)
    goto refused;

  if (self->configured && (is_s16 != self->is_s16
          || channels != self->channels))
    stream_reset (self, GST_CLOCK_TIME_NONE, "new format");
  self->is_s16 = is_s16;
  self->channels = channels;
  self->bpf = channels * (is_s16 ? 2 : 4);
  self->configured = TRUE;
  GST_DEBUG_OBJECT (self, "input %s, %d channel(s), %d Hz → %" GST_PTR_FORMAT,
      format, channels, rate, outcaps);
  return TRUE;

refused:
  GST_WARNING_OBJECT (self, "refused caps %" GST_PTR_FORMAT " (model rate %"
      G_GINT64_FORMAT ")", incaps, self->lmc.sample_rate);
  return FALSE;
}

/* ---------------------------------------------------------------- events */

/* Expected timestamp of the next input sample. */
static GstClockTime
next_ts (GstMmdnnAudioEnc * self)
{
  if (self->need_base || !GST_CLOCK_TIME_IS_VALID (self->base_ts)
      || self->bpf == 0)
    return GST_CLOCK_TIME_NONE;
  return self->base_ts + gst_util_uint64_scale_int (self->bytes_in /
      (guint64) self->bpf, GST_SECOND, (gint) self->lmc.sample_rate);
}

/* Drops the unfinished window (samples and frames) and restarts framing
 * and timing at the next buffer. @resume_ts: the time to restart from if
 * that buffer has no timestamp (GST_CLOCK_TIME_NONE: the segment start). */
static void
stream_reset (GstMmdnnAudioEnc * self, GstClockTime resume_ts,
    const gchar * why)
{
  GST_DEBUG_OBJECT (self, "reset (%s): dropping %" G_GSIZE_FORMAT " bytes "
      "and %" G_GINT64_FORMAT " frames", why, self->adapter != NULL
      ? gst_adapter_available (self->adapter) : 0, self->n_have);
  if (self->adapter != NULL)
    gst_adapter_clear (self->adapter);
  mmdnn_logmel_reset (self->lm);
  self->need_base = TRUE;
  self->base_ts = GST_CLOCK_TIME_NONE;
  self->resume_ts = resume_ts;
  self->bytes_in = 0;
  /* the frames before the phase are skipped as those between windows */
  self->win_start = self->phase_frames;
  self->ring_start = 0;
  self->n_have = 0;
  self->skip = self->phase_frames;
  self->discont = TRUE;
}

static gboolean
gst_mmdnn_audio_enc_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstMmdnnAudioEnc *self = GST_MMDNN_AUDIO_ENC (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_STOP:
      stream_reset (self, GST_CLOCK_TIME_NONE, "flush");
      self->n_nonfinite = 0;
      break;
    case GST_EVENT_GAP:{
      GstClockTime ts, dur;

      gst_event_parse_gap (event, &ts, &dur);
      stream_reset (self, GST_CLOCK_TIME_IS_VALID (ts)
          && GST_CLOCK_TIME_IS_VALID (dur) ? ts + dur : GST_CLOCK_TIME_NONE,
          "gap");
      break;
    }
    case GST_EVENT_STREAM_START:
      stream_reset (self, GST_CLOCK_TIME_NONE, "stream start");
      break;
    case GST_EVENT_EOS:
      /* the unfinished window is dropped (documented) */
      stream_reset (self, GST_CLOCK_TIME_NONE, "eos");
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static gboolean
gst_mmdnn_audio_enc_query (GstBaseTransform * trans,
    GstPadDirection direction, GstQuery * query)
{
  GstMmdnnAudioEnc *self = GST_MMDNN_AUDIO_ENC (trans);
  gboolean res;

  res = GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction,
      query);
  if (res && direction == GST_PAD_SRC
      && GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    gboolean live;
    GstClockTime min, max, lat;
    gint rate;
    gint64 span;

    GST_OBJECT_LOCK (self);
    rate = self->model_rate;
    GST_OBJECT_UNLOCK (self);
    if (rate == 0)
      return res;
    /* the window's samples must all arrive before it is emitted */
    span = (self->patch_frames - 1) * self->lmc.hop_length
        + self->lmc.win_length;
    lat = gst_util_uint64_scale_int ((guint64) span, GST_SECOND, rate);
    gst_query_parse_latency (query, &live, &min, &max);
    min += lat;
    if (GST_CLOCK_TIME_IS_VALID (max))
      max += lat;
    gst_query_set_latency (query, live, min, max);
    GST_DEBUG_OBJECT (self, "latency + %" GST_TIME_FORMAT,
        GST_TIME_ARGS (lat));
  }
  return res;
}

/* -------------------------------------------------------------- streaming */

/* Never called: generate_output does the work. Present so that
 * GstBaseTransform does not consider the element passthrough. */
static GstFlowReturn
gst_mmdnn_audio_enc_transform (GstBaseTransform * trans, GstBuffer * inbuf,
    GstBuffer * outbuf)
{
  return GST_FLOW_NOT_SUPPORTED;
}

static GstFlowReturn
gst_mmdnn_audio_enc_submit_input_buffer (GstBaseTransform * trans,
    gboolean is_discont, GstBuffer * input)
{
  GstMmdnnAudioEnc *self = GST_MMDNN_AUDIO_ENC (trans);
  GstFlowReturn ret;
  GstBuffer *buf;
  GstClockTime pts;

  /* the default does (re)negotiation and QoS and queues the buffer */
  ret = GST_BASE_TRANSFORM_CLASS (parent_class)->submit_input_buffer (trans,
      is_discont, input);
  if (ret != GST_FLOW_OK || trans->queued_buf == NULL)
    return ret;
  buf = trans->queued_buf;
  trans->queued_buf = NULL;
  if (!self->configured) {
    gst_buffer_unref (buf);
    return GST_FLOW_NOT_NEGOTIATED;
  }

  /* (is_discont stays TRUE until the next output: use the buffer's flag) */
  pts = GST_BUFFER_PTS (buf);
  if (!self->need_base) {
    if (GST_BUFFER_IS_DISCONT (buf)) {
      stream_reset (self, next_ts (self), "discont buffer");
    } else if (GST_CLOCK_TIME_IS_VALID (pts)) {
      GstClockTime expected = next_ts (self);
      GstClockTime tol = gst_util_uint64_scale_int (self->lmc.hop_length,
          GST_SECOND, 2 * (gint) self->lmc.sample_rate);

      if (GST_CLOCK_TIME_IS_VALID (expected)
          && (pts > expected + tol || pts + tol < expected)) {
        GST_INFO_OBJECT (self, "timestamp jump: %" GST_TIME_FORMAT
            " where %" GST_TIME_FORMAT " was expected", GST_TIME_ARGS (pts),
            GST_TIME_ARGS (expected));
        stream_reset (self, GST_CLOCK_TIME_NONE, "timestamp jump");
      }
    }
  }
  if (self->need_base) {
    if (GST_CLOCK_TIME_IS_VALID (pts))
      self->base_ts = pts;
    else if (GST_CLOCK_TIME_IS_VALID (self->resume_ts))
      self->base_ts = self->resume_ts;
    else if (trans->segment.format == GST_FORMAT_TIME)
      self->base_ts = trans->segment.start;
    else
      self->base_ts = 0;
    self->need_base = FALSE;
    GST_DEBUG_OBJECT (self, "stream time base %" GST_TIME_FORMAT,
        GST_TIME_ARGS (self->base_ts));
  }
  self->bytes_in += gst_buffer_get_size (buf);
  gst_adapter_push (self->adapter, buf);
  return GST_FLOW_OK;
}

/* @n samples of self->raw mixed down into self->mono, non-finite samples
 * replaced by 0; returns how many were replaced. The arithmetic is
 * libswresample's for a 1/C matrix in float (s16 → float first as s/32768,
 * then Σ_c x_c·(float) (1/C) from 0 in channel order), so the result equals
 * the command line's. */
static guint64
mix_to_mono (GstMmdnnAudioEnc * self, gint64 n)
{
  const gint C = self->channels;
  const float coef = (float) (1.0 / C);
  float *mono = self->mono;
  guint64 bad = 0;

  if (self->is_s16) {
    const gint16 *s = (const gint16 *) self->raw;

    if (C == 1) {
      for (gint64 i = 0; i < n; i++)
        mono[i] = (float) GINT16_FROM_LE (s[i]) * (1.0f / 32768.0f);
    } else {
      for (gint64 i = 0; i < n; i++) {
        float v = 0.0f;

        for (gint c = 0; c < C; c++)
          v += ((float) GINT16_FROM_LE (s[i * C + c]) * (1.0f / 32768.0f))
              * coef;
        mono[i] = v;
      }
    }
  } else {
    const float *x = (const float *) self->raw;

    if (C == 1) {
      for (gint64 i = 0; i < n; i++) {
        float a = x[i];

        if (G_UNLIKELY (!isfinite (a))) {
          a = 0.0f;
          bad++;
        }
        mono[i] = a;
      }
    } else {
      for (gint64 i = 0; i < n; i++) {
        float v = 0.0f;

        for (gint c = 0; c < C; c++) {
          float a = x[i * C + c];

          if (G_UNLIKELY (!isfinite (a))) {
            a = 0.0f;
            bad++;
          }
          v += a * coef;
        }
        mono[i] = v;
      }
    }
  }
  return bad;
}

/* Moves complete frames from the front end into the ring: first the
 * frames skipped between windows, then the window's frames up to P. */
static void
pull_frames (GstMmdnnAudioEnc * self)
{
  const gint64 P = self->patch_frames;

  while (self->skip > 0) {
    /* the ring is empty while skipping: use it as the bin */
    int64_t got = mmdnn_logmel_pull (self->lm, self->ring,
        MIN (self->skip, P));

    if (got <= 0)
      return;
    self->skip -= got;
  }
  while (self->n_have < P) {
    gint64 slot = (self->ring_start + self->n_have) % P;
    int64_t got = mmdnn_logmel_pull (self->lm, self->ring + slot * self->n_mels,
        MIN (P - self->n_have, P - slot));

    if (got <= 0)
      return;
    self->n_have += got;
  }
}

/* The full window in the ring → an output buffer; advances the window. */
static GstFlowReturn
emit_window (GstMmdnnAudioEnc * self, GstBuffer ** outbuf)
{
  const gint64 P = self->patch_frames, M = self->n_mels;
  const gint rate = (gint) self->lmc.sample_rate;
  GstBuffer *buf;
  GstClockTime start, end;
  GstFlowReturn ret;

  /* (P, n_mels) frames → (1, n_mels, P), as the command line lays it */
  for (gint64 f = 0; f < P; f++) {
    const float *frame = self->ring + ((self->ring_start + f) % P) * M;

    for (gint64 m = 0; m < M; m++)
      self->patch[m * P + f] = frame[m];
  }

  ret = gst_mmdnn_encoder_allocate_output (GST_MMDNN_ENCODER (self), NULL,
      &buf);
  if (ret != GST_FLOW_OK)
    return ret;
  ret = gst_mmdnn_encoder_encode (GST_MMDNN_ENCODER (self), self->patch, buf);
  if (ret != GST_FLOW_OK) {
    gst_buffer_unref (buf);
    return ret;
  }

  start = gst_util_uint64_scale_int ((guint64) (self->win_start
          * self->lmc.hop_length), GST_SECOND, rate);
  end = gst_util_uint64_scale_int ((guint64) ((self->win_start + P)
          * self->lmc.hop_length), GST_SECOND, rate);
  GST_BUFFER_PTS (buf) = self->base_ts + start;
  GST_BUFFER_DURATION (buf) = end - start;
  if (self->discont) {
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    self->discont = FALSE;
  }
  GST_LOG_OBJECT (self, "window at frame %" G_GINT64_FORMAT ": %"
      GST_TIME_FORMAT " + %" GST_TIME_FORMAT, self->win_start,
      GST_TIME_ARGS (GST_BUFFER_PTS (buf)),
      GST_TIME_ARGS (GST_BUFFER_DURATION (buf)));

  self->win_start += self->hop_frames;
  if (self->hop_frames < P) {
    self->ring_start = (self->ring_start + self->hop_frames) % P;
    self->n_have -= self->hop_frames;
  } else {
    self->ring_start = 0;
    self->n_have = 0;
    self->skip = self->hop_frames - P;
  }
  *outbuf = buf;
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_mmdnn_audio_enc_generate_output (GstBaseTransform * trans,
    GstBuffer ** outbuf)
{
  GstMmdnnAudioEnc *self = GST_MMDNN_AUDIO_ENC (trans);

  *outbuf = NULL;
  if (!self->configured || self->adapter == NULL)
    return GST_FLOW_OK;

  for (;;) {
    gsize avail;
    gint64 n;
    guint64 bad;
    GError *err = NULL;

    pull_frames (self);
    if (self->n_have == self->patch_frames)
      return emit_window (self, outbuf);

    avail = gst_adapter_available (self->adapter) / (gsize) self->bpf;
    if (avail == 0)
      return GST_FLOW_OK;
    n = (gint64) MIN (avail, (gsize) CHUNK_SAMPLES);
    gst_adapter_copy (self->adapter, self->raw, 0, (gsize) (n * self->bpf));
    gst_adapter_flush (self->adapter, (gsize) (n * self->bpf));

    bad = mix_to_mono (self, n);
    if (G_UNLIKELY (bad > 0)) {
      if (self->n_nonfinite == 0)
        GST_ELEMENT_WARNING (self, STREAM, DECODE,
            (_("The audio contains invalid samples (NaN or infinity); they "
                    "were replaced by silence.")),
            ("%" G_GUINT64_FORMAT " non-finite sample(s) in a chunk of %"
                G_GINT64_FORMAT " frames, replaced by 0; later ones are only "
                "logged", bad, n));
      else
        GST_WARNING_OBJECT (self, "%" G_GUINT64_FORMAT " more non-finite "
            "sample(s) replaced by 0", bad);
      self->n_nonfinite += bad;
    }
    if (!mmdnn_logmel_push_f32 (self->lm, self->mono, n, &err)) {
      gst_mmdnn_encoder_post_error (GST_MMDNN_ENCODER (self), err);
      g_clear_error (&err);
      return GST_FLOW_ERROR;
    }
  }
}
