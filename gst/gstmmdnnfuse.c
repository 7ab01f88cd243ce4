/* mmdnn — mmdnnfuse: windows of video, audio and text features → one
 * classification per window.
 * Copyright (C) 2025 mmdnn developers
 * SPDX-License-Identifier: LGPL-2.1-or-later */

/**
 * SECTION:element-mmdnnfuse
 * @title: mmdnnfuse
 * @short_description: fuses video, audio and text features by running time
 *   and classifies every window
 * @see_also: mmdnnvideoenc, mmdnnaudioenc, mmdnntextenc, textoverlay
 *
 * mmdnnfuse takes the features of up to three modalities — video, audio and
 * text, as mmdnnvideoenc, mmdnnaudioenc and mmdnntextenc make them — on
 * request pads, cuts the running time into windows, takes for every window
 * and modality the features that describe it best, and runs the model's
 * information-fusion module and task heads on them. Every window gives one
 * result: the class of every task of the model with its probabilities, the
 * fusion weight of every modality, which modalities were present, and how
 * old the newest features of each were. A modality without features in a
 * window is masked out of the fusion; it is never waited for forever.
 *
 * ## Caps
 *
 * Sink pads `sink_%u`: `application/x-mmdnn-features, modality=(string)
 * {video, audio, text}, tokens=(int)K, dim=(int)D, model=(string)ID`
 * (model optional); payload K×D float32, token after token. The caps are
 * accepted when the model has the modality, K is the model's token count
 * for it (fusion.tokens), D its fusion dimension, `model`, when present,
 * the model's id, and no other pad carries the same modality. Otherwise
 * they are refused (not-negotiated upstream) and an error
 * (#GST_STREAM_ERROR_WRONG_TYPE) names the pad and the mismatch. A text
 * token that is all zeros is padding; a cue without any real token (an
 * empty cue) counts as no text.
 *
 * Source pad, as downstream prefers (text when it has no preference):
 * - `text/x-raw, format=utf8`: one line per result, the first task's label
 *   and confidence in percent, e.g. `Sneaker 93%` (textoverlay's text pad
 *   takes it);
 * - `application/x-mmdnn-features, modality=fused, tokens=1, dim=D,
 *   model=ID`: the fused vector, D float32.
 *
 * Every output buffer carries a #GstMmdnnResultMeta (gstmmdnnmeta.h): per
 * task the class id, label, confidence and probabilities; per modality
 * the fusion weight, presence and age; the window and the model version.
 *
 * The sink pads answer the ALLOCATION query with the
 * #GstMmdnnInputMeta API, so that the encoders attach their preprocessed
 * input when a tee feeds mmdnnfuse and mmdnntrain alike (a tee passes on
 * only the metas every branch asks for); mmdnnfuse itself ignores it.
 *
 * ## Windows and which features they take
 *
 * Windows are [t, t + #GstMmdnnFuse:window) of running time with
 * t = t0 + i·#GstMmdnnFuse:hop, i = 0, 1, …; t0 follows
 * #GstAggregator:start-time-selection: 0 (`zero`, the default), the
 * running time of the first buffer (`first`), or
 * #GstAggregator:start-time (`set`). Every sink pad keeps the features it
 * received (copied into a ring of 64 slots per pad, the oldest dropped
 * when it is full) until they can no longer overlap a coming window.
 *
 * Features [s, e) overlap a window [t, u) when s < u and e > t (features
 * without a duration: when t ≤ s < u). Of the features of a modality that
 * overlap the window, the window takes one buffer:
 * - video: the frame on screen at the window's centre: the one with the
 *   latest PTS at or before the centre (a frame shows from its PTS until
 *   the next one: with #GstMmdnnVideoEnc:max-rate the kept frame stands
 *   for the dropped ones after it); if the video only starts after the
 *   centre, the earliest one; of equal PTS the later buffer. With 10 fps
 *   and a window [0, 2 s), the frame at 1.0 s (the one at 0.9 s has just
 *   ended); a frame at the window's end belongs to the next window;
 * - audio: the one that overlaps the window most; on a tie the one whose
 *   centre is nearest the window's centre, then the earlier. For
 *   mmdnnaudioenc's patches, all equally long, that is the patch whose
 *   nominal span is centred in the window: in [0, 2 s) the 1-s patch
 *   from 0.5 s (when mmdnnaudioenc's #GstMmdnnAudioEnc:hop puts one there);
 * - text: the cue that overlaps the window most, the later on a tie; a cue
 *   counts for its whole duration.
 *
 * That is exactly how `mmdnn train` builds a sample from a clip with the
 * window's span (see mmdnn_dataset_load ()): the same frame, the same
 * audio patch (the loader frames it from the clip's first sample), the
 * text of the cues overlapping it.
 *
 * ## When a window is computed
 *
 * - A window is computed as soon as every sink pad that is neither EOS nor
 *   muted has features, or a GAP event, reaching the window's end.
 * - Live: the window is computed with whatever arrived once the clock
 *   passes its end plus the upstream latency plus #GstAggregator:latency;
 *   the silent modalities are masked (presence 0, weight 0). mmdnnfuse
 *   reports the window as its own latency, since a result stamped with the
 *   window's start is known at its end at the earliest.
 * - EOS on a pad masks that modality from then on, the others go on. When
 *   every pad is EOS, the windows still holding features are computed and
 *   EOS goes downstream.
 * - A flush (flushing seek) forgets every pad's features and starts the
 *   windows again from t0.
 * - Pads can be requested and released in PLAYING.
 * - Like every aggregator, mmdnnfuse holds a pad's next buffer back while
 *   it waits for the other pads: branches that come from one streaming
 *   thread (one demuxer) need a queue each, big enough for a window.
 * - Late features (ending before the start of the window being computed)
 *   are dropped, with a QoS message (#GST_MESSAGE_QOS from the element,
 *   format buffers, processed/dropped counted on that pad).
 * - A window in which no modality is present gives no result: a GAP event
 *   goes downstream instead.
 *
 * Output buffers: PTS = the window's start (the source segment is a TIME
 * segment from 0, so PTS is the running time; after a flushing seek, the
 * position of that running time in the seek's segment); duration = the
 * smaller of window and hop, so the output stream tiles the timeline
 * without overlap (textoverlay shows each label until the next). The meta
 * and the message carry the window's own start and length.
 *
 * ## Pad properties
 *
 * The sink pads are #GstMmdnnFusePad, a #GstMmdnnFeaturesPad. Set their
 * properties from gst-launch through #GstChildProxy, after the element:
 * `mmdnnfuse name=f sink_1::mute=true`.
 *
 * - `modality` (string, read-only): "video", "audio" or "text" from the
 *   caps, NULL before caps.
 * - `mute` (boolean, default FALSE, changeable in PLAYING): the pad's
 *   features are ignored and its modality counts as missing; the element
 *   does not wait for a muted pad.
 *
 * ## Bus messages
 *
 * One element message per result, structure name `mmdnn-result`:
 * - `running-time` (#guint64): the window's start, running time in ns;
 * - `duration` (#guint64): the window's length in ns;
 * - `label` (#gchararray): the first task's class name;
 * - `confidence` (#gdouble): its probability, in [0, 1];
 * - `json` (#gchararray): the whole result as one JSON object on one line:
 *   `{"running_time": ns, "duration": ns, "model_version": n, "tasks":
 *   {"<task>": {"label": s, "class_id": n, "confidence": x,
 *   "probabilities": {"<class>": x, …}}, …}, "modalities": {"video":
 *   {"weight": x, "present": b, "age": ns or null}, "audio": …, "text": …}}`
 *   where age is the time from the end of the newest features received on
 *   that modality to the window's end (0 if they reach past it, null if
 *   none ever came).
 *
 * Errors: the model cannot be loaded (RESOURCE), caps that do not fit the
 * model (STREAM, WRONG_TYPE), features whose size is not what the caps say
 * (STREAM, FORMAT), non-finite values in the features used (STREAM,
 * DECODE).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m mmdnnfuse name=f ! text/x-raw,format=utf8 ! fakesink \
 *     videotestsrc num-buffers=50 ! video/x-raw,framerate=10/1 ! \
 *       videoconvert ! mmdnnvideoenc ! f.sink_0 \
 *     audiotestsrc num-buffers=80 ! audioconvert ! audioresample ! \
 *       audio/x-raw,rate=16000,channels=1 ! mmdnnaudioenc ! f.sink_1
 * ]| Classifies a test picture and a test tone in one-second windows with
 * the default model; `-m` prints the `mmdnn-result` messages. Write
 * `mmdnnfuse name=f sink_1::mute=true` to classify from the video alone.
 *
 * Since: 0.1
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "gstmmdnnelements.h"
#include "gstmmdnnfeaturespad.h"
#include "gstmmdnnfuse.h"
#include "gstmmdnnmeta.h"
#include "gstmmdnnregistry.h"
#include "gstmmdnnutils.h"
#include "gstmmdnnwindow.h"

GST_DEBUG_CATEGORY_STATIC (mmdnn_fuse_debug);
#define GST_CAT_DEFAULT mmdnn_fuse_debug

#define DEFAULT_MODEL  NULL
#define DEFAULT_WINDOW GST_SECOND
#define DEFAULT_HOP    0
#define MIN_WINDOW     GST_MSECOND
#define MAX_WINDOW     (3600 * GST_SECOND)


enum
{
  PROP_0,
  PROP_MODEL,
  PROP_WINDOW,
  PROP_HOP,
};

/* ------------------------------------------------------------------ pad */

/* GstMmdnnFeaturesPad does it all; this subclass names mmdnnfuse in the
 * errors (and keeps the pad type's name). */
struct _GstMmdnnFusePad
{
  GstMmdnnFeaturesPad parent;
};

G_DEFINE_TYPE (GstMmdnnFusePad, gst_mmdnn_fuse_pad,
    GST_TYPE_MMDNN_FEATURES_PAD);

static gchar *
fuse_pad_refusal_text (GstMmdnnFeaturesPad *pad, const gchar *why)
{
  return g_strdup_printf (_("Pad %s of mmdnnfuse cannot take these "
          "features: %s."), GST_PAD_NAME (pad), why);
}

static gchar *
fuse_pad_size_text (GstMmdnnFeaturesPad *pad)
{
  return g_strdup_printf (_("The features on pad %s of mmdnnfuse are not "
          "the size their caps say."), GST_PAD_NAME (pad));
}

static void
gst_mmdnn_fuse_pad_class_init (GstMmdnnFusePadClass *klass)
{
  GstMmdnnFeaturesPadClass *fpad_class = GST_MMDNN_FEATURES_PAD_CLASS (klass);

  fpad_class->refusal_text = fuse_pad_refusal_text;
  fpad_class->size_text = fuse_pad_size_text;
}

static void
gst_mmdnn_fuse_pad_init (GstMmdnnFusePad *pad)
{
}

/* -------------------------------------------------------------- element */

struct _GstMmdnnFuse
{
  GstAggregator parent;

  /* properties, object lock */
  gchar *model_path;
  GstClockTime window, hop;

  /* set in start (), cleared in stop (); config under the object lock
   * (accept-caps reads it from upstream threads) */
  GstMmdnnModelEntry *entry;
  gchar *model_name;            /* the path, for error texts */
  MmdnnModelConfig *config;     /* a copy of the loaded model's */
  MmdnnFuseStage *stage;
  float *mask;                  /* (max K) scratch */

  /* the streaming thread */
  GstMmdnnWindowClock clock;    /* window, hop of this run; t0, index */
  gboolean out_text;            /* negotiated output */
};

static GstStaticPadTemplate sink_template =
GST_STATIC_PAD_TEMPLATE ("sink_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS (GST_MMDNN_FEATURES_CAPS_TEMPLATE
        ("{ video, audio, text }")));

static GstStaticPadTemplate src_template =
GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("text/x-raw, format=(string)utf8; "
        GST_MMDNN_FEATURES_CAPS_TEMPLATE ("fused")));

G_DEFINE_TYPE_WITH_CODE (GstMmdnnFuse, gst_mmdnn_fuse, GST_TYPE_AGGREGATOR,
    G_IMPLEMENT_INTERFACE (GST_TYPE_CHILD_PROXY,
        gst_mmdnn_child_proxy_sink_pads_init));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (mmdnnfuse, "mmdnnfuse", GST_RANK_NONE,
    GST_TYPE_MMDNN_FUSE, mmdnn_element_init (plugin));

static gboolean gst_mmdnn_fuse_start (GstAggregator *agg);
static gboolean gst_mmdnn_fuse_stop (GstAggregator *agg);
static GstFlowReturn gst_mmdnn_fuse_flush (GstAggregator *agg);
static GstClockTime gst_mmdnn_fuse_get_next_time (GstAggregator *agg);
static GstFlowReturn gst_mmdnn_fuse_aggregate (GstAggregator *agg,
    gboolean timeout);
static gboolean gst_mmdnn_fuse_sink_event (GstAggregator *agg,
    GstAggregatorPad *aggpad, GstEvent *event);
static gboolean gst_mmdnn_fuse_sink_query (GstAggregator *agg,
    GstAggregatorPad *aggpad, GstQuery *query);
static GstFlowReturn gst_mmdnn_fuse_update_src_caps (GstAggregator *agg,
    GstCaps *caps, GstCaps **ret);
static gboolean gst_mmdnn_fuse_negotiated_src_caps (GstAggregator *agg,
    GstCaps *caps);
static gboolean gst_mmdnn_fuse_propose_allocation (GstAggregator *agg,
    GstAggregatorPad *pad, GstQuery *decide_query, GstQuery *query);
static GstPad *gst_mmdnn_fuse_request_new_pad (GstElement *element,
    GstPadTemplate *templ, const gchar *name, const GstCaps *caps);
static void gst_mmdnn_fuse_release_pad (GstElement *element, GstPad *pad);

static const GstMmdnnWindowFuncs window_funcs;

static void
gst_mmdnn_fuse_finalize (GObject *object)
{
  GstMmdnnFuse *self = GST_MMDNN_FUSE (object);

  g_free (self->model_path);
  G_OBJECT_CLASS (gst_mmdnn_fuse_parent_class)->finalize (object);
}

static void
gst_mmdnn_fuse_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  GstMmdnnFuse *self = GST_MMDNN_FUSE (object);

  switch (prop_id) {
    case PROP_MODEL:
      GST_OBJECT_LOCK (self);
      g_free (self->model_path);
      self->model_path = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_WINDOW:
      GST_OBJECT_LOCK (self);
      self->window = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_HOP:
      GST_OBJECT_LOCK (self);
      self->hop = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_mmdnn_fuse_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  GstMmdnnFuse *self = GST_MMDNN_FUSE (object);

  switch (prop_id) {
    case PROP_MODEL:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->model_path);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_WINDOW:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->window);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_HOP:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->hop);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_mmdnn_fuse_class_init (GstMmdnnFuseClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstAggregatorClass *agg_class = GST_AGGREGATOR_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (mmdnn_fuse_debug, "mmdnnfuse", 0,
      "mmdnn fusion and classification");

  gobject_class->finalize = gst_mmdnn_fuse_finalize;
  gobject_class->set_property = gst_mmdnn_fuse_set_property;
  gobject_class->get_property = gst_mmdnn_fuse_get_property;

  /**
   * GstMmdnnFuse:model:
   *
   * The model file (safetensors, as `mmdnn train` writes it); NULL: the
   * default model installed with the plugin. Read at the READY→PAUSED
   * change: elements naming the same file share one model in memory.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "Model file (NULL: the default model)", DEFAULT_MODEL,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  /**
   * GstMmdnnFuse:window:
   *
   * Length of a window of running time, in nanoseconds: every result
   * describes the features of one window. Also the latency the element
   * reports.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_WINDOW,
      g_param_spec_uint64 ("window", "Window",
          "Length of a window of running time (ns)", MIN_WINDOW, MAX_WINDOW,
          DEFAULT_WINDOW,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  /**
   * GstMmdnnFuse:hop:
   *
   * Running time between the starts of two windows, in nanoseconds; 0:
   * the window (windows follow each other without overlap). Smaller than
   * the window: overlapping windows, more results; larger: gaps between
   * windows.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_HOP,
      g_param_spec_uint64 ("hop", "Hop",
          "Running time between window starts (ns), 0 = window", 0,
          MAX_WINDOW, DEFAULT_HOP,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &sink_template, GST_TYPE_MMDNN_FUSE_PAD);
  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &src_template, GST_TYPE_AGGREGATOR_PAD);
  gst_element_class_set_static_metadata (element_class,
      "mmdnn fusion and classification", "Filter/Analyzer/Aggregator",
      "Fuses video, audio and text features in windows of running time "
      "and classifies every window with a multimodal model",
      "mmdnn developers <dev@mmdnn.invalid>");

  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_mmdnn_fuse_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_mmdnn_fuse_release_pad);

  agg_class->start = GST_DEBUG_FUNCPTR (gst_mmdnn_fuse_start);
  agg_class->stop = GST_DEBUG_FUNCPTR (gst_mmdnn_fuse_stop);
  agg_class->flush = GST_DEBUG_FUNCPTR (gst_mmdnn_fuse_flush);
  agg_class->get_next_time = GST_DEBUG_FUNCPTR (gst_mmdnn_fuse_get_next_time);
  agg_class->aggregate = GST_DEBUG_FUNCPTR (gst_mmdnn_fuse_aggregate);
  agg_class->sink_event = GST_DEBUG_FUNCPTR (gst_mmdnn_fuse_sink_event);
  agg_class->sink_query = GST_DEBUG_FUNCPTR (gst_mmdnn_fuse_sink_query);
  agg_class->update_src_caps =
      GST_DEBUG_FUNCPTR (gst_mmdnn_fuse_update_src_caps);
  agg_class->fixate_src_caps =
      GST_DEBUG_FUNCPTR (gst_mmdnn_window_fixate_src_caps);
  agg_class->negotiated_src_caps =
      GST_DEBUG_FUNCPTR (gst_mmdnn_fuse_negotiated_src_caps);
  agg_class->propose_allocation =
      GST_DEBUG_FUNCPTR (gst_mmdnn_fuse_propose_allocation);

  gst_type_mark_as_plugin_api (GST_TYPE_MMDNN_FEATURES_PAD, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_MMDNN_FUSE_PAD, 0);
}

static void
gst_mmdnn_fuse_init (GstMmdnnFuse *self)
{
  self->model_path = g_strdup (DEFAULT_MODEL);
  self->window = DEFAULT_WINDOW;
  self->hop = DEFAULT_HOP;
  gst_mmdnn_window_clock_reset (&self->clock);
  self->out_text = TRUE;
}

/* --------------------------------------------------------- child proxy */

static GstPad *
gst_mmdnn_fuse_request_new_pad (GstElement *element, GstPadTemplate *templ,
    const gchar *name, const GstCaps *caps)
{
  return gst_mmdnn_child_proxy_request_pad (GST_ELEMENT_CLASS
      (gst_mmdnn_fuse_parent_class), element, templ, name, caps);
}

static void
gst_mmdnn_fuse_release_pad (GstElement *element, GstPad *pad)
{
  gst_mmdnn_child_proxy_release_pad (GST_ELEMENT_CLASS
      (gst_mmdnn_fuse_parent_class), element, pad);
}

/* ------------------------------------------------------------- vmethods */

static void
reset_streaming (GstMmdnnFuse *self)
{
  gst_mmdnn_window_clock_reset (&self->clock);
}

static gboolean
gst_mmdnn_fuse_start (GstAggregator *agg)
{
  GstMmdnnFuse *self = GST_MMDNN_FUSE (agg);
  GstMmdnnModelSnapshot *snap;
  GstMmdnnModelEntry *entry;
  MmdnnFuseStage *stage;
  GError *err = NULL;
  gchar *path;
  gint64 kmax = 1;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->model_path);
  self->clock.window = self->window;
  self->clock.hop = self->hop != 0 ? self->hop : self->window;
  GST_OBJECT_UNLOCK (self);
  if (path == NULL || *path == '\0') {
    g_free (path);
    path = gst_mmdnn_default_model_path ();
  }

  entry = gst_mmdnn_registry_acquire (path, &err);
  if (entry == NULL) {
    gst_mmdnn_post_error (GST_ELEMENT (self), err, path);
    g_clear_error (&err);
    g_free (path);
    return FALSE;
  }
  snap = gst_mmdnn_model_entry_snapshot (entry);
  stage = mmdnn_fuse_stage_new (snap->model, 1, &err);
  if (stage == NULL) {
    gst_mmdnn_post_error (GST_ELEMENT (self), err, path);
    g_clear_error (&err);
    gst_mmdnn_model_snapshot_unref (snap);
    gst_mmdnn_registry_release (entry);
    g_free (path);
    return FALSE;
  }
  for (int m = 0; m < MMDNN_N_MODALITIES; m++)
    kmax = MAX (kmax, snap->model->config->fusion.tokens[m]);

  GST_OBJECT_LOCK (self);
  self->entry = entry;
  self->model_name = path;
  self->config = mmdnn_model_config_copy (snap->model->config);
  self->stage = stage;
  self->mask = g_new0 (float, kmax);
  GST_OBJECT_UNLOCK (self);
  GST_INFO_OBJECT (self, "model %s (\"%s\", version %" G_GUINT64_FORMAT
      "), window %" GST_TIME_FORMAT ", hop %" GST_TIME_FORMAT, path,
      snap->model->config->model_id, snap->version,
      GST_TIME_ARGS (self->clock.window), GST_TIME_ARGS (self->clock.hop));
  gst_mmdnn_model_snapshot_unref (snap);

  reset_streaming (self);
  /* a result stamped with its window's start exists at the window's end */
  gst_aggregator_set_latency (agg, self->clock.window, self->clock.window);
  return TRUE;
}

static gboolean
gst_mmdnn_fuse_stop (GstAggregator *agg)
{
  GstMmdnnFuse *self = GST_MMDNN_FUSE (agg);
  GstMmdnnModelEntry *entry;
  MmdnnModelConfig *config;

  GST_OBJECT_LOCK (self);
  entry = self->entry;
  config = self->config;
  self->entry = NULL;
  self->config = NULL;
  GST_OBJECT_UNLOCK (self);

  mmdnn_fuse_stage_free (self->stage);
  self->stage = NULL;
  g_clear_pointer (&self->mask, g_free);
  g_clear_pointer (&self->model_name, g_free);
  if (config != NULL)
    mmdnn_model_config_free (config);
  gst_mmdnn_registry_release (entry);
  reset_streaming (self);
  return TRUE;
}

static GstFlowReturn
gst_mmdnn_fuse_flush (GstAggregator *agg)
{
  GstMmdnnFuse *self = GST_MMDNN_FUSE (agg);

  GST_DEBUG_OBJECT (self, "flush");
  reset_streaming (self);
  return GST_FLOW_OK;
}

/* The timeout machinery waits for base time + this + the latency, which
 * includes the window we report (start ()): the current window's end
 * plus the upstream latency and the latency property. */
static GstClockTime
gst_mmdnn_fuse_get_next_time (GstAggregator *agg)
{
  GstMmdnnFuse *self = GST_MMDNN_FUSE (agg);

  return gst_mmdnn_window_clock_next_time (&self->clock, agg, &window_funcs);
}

/* ----------------------------------------------------------------- caps */

static gboolean
gst_mmdnn_fuse_sink_query (GstAggregator *agg, GstAggregatorPad *aggpad,
    GstQuery *query)
{
  GstMmdnnFuse *self = GST_MMDNN_FUSE (agg);

  if (gst_mmdnn_features_pad_sink_query (GST_MMDNN_FEATURES_PAD (aggpad),
          GST_ELEMENT (self), &self->config, query))
    return TRUE;
  return GST_AGGREGATOR_CLASS (gst_mmdnn_fuse_parent_class)->sink_query
      (agg, aggpad, query);
}

static gboolean
gst_mmdnn_fuse_sink_event (GstAggregator *agg, GstAggregatorPad *aggpad,
    GstEvent *event)
{
  GstMmdnnFuse *self = GST_MMDNN_FUSE (agg);

  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
    GstCaps *caps;

    gst_event_parse_caps (event, &caps);
    if (!gst_mmdnn_features_pad_set_caps (GST_MMDNN_FEATURES_PAD (aggpad),
            GST_ELEMENT (self), &self->config, caps)) {
      gst_event_unref (event);
      return FALSE;
    }
  }
  return GST_AGGREGATOR_CLASS (gst_mmdnn_fuse_parent_class)->sink_event (agg,
      aggpad, event);
}

static GstFlowReturn
gst_mmdnn_fuse_update_src_caps (GstAggregator *agg, GstCaps *downstream,
    GstCaps **ret)
{
  return gst_mmdnn_window_update_src_caps (agg,
      &GST_MMDNN_FUSE (agg)->config, downstream, ret);
}

static gboolean
gst_mmdnn_fuse_negotiated_src_caps (GstAggregator *agg, GstCaps *caps)
{
  GstMmdnnFuse *self = GST_MMDNN_FUSE (agg);

  self->out_text = gst_mmdnn_window_caps_are_text (caps);
  GST_INFO_OBJECT (self, "output %" GST_PTR_FORMAT, caps);
  return TRUE;
}

/* Upstream encoders attach their preprocessed input (GstMmdnnInputMeta)
 * when asked here. mmdnnfuse does not use it, but a tee feeding mmdnnfuse
 * and mmdnntrain passes on only the metas every branch asks for, and the
 * trainer needs it. */
static gboolean
gst_mmdnn_fuse_propose_allocation (GstAggregator *agg, GstAggregatorPad *pad,
    GstQuery *decide_query, GstQuery *query)
{
  gst_query_add_allocation_meta (query, GST_MMDNN_INPUT_META_API_TYPE, NULL);
  return TRUE;
}

/* ------------------------------------------------------------ features */

/* Computes the window [ws, we) from @pads and pushes its result. */
static GstFlowReturn
fuse_emit (GstAggregator *agg, GstAggregatorPad **pads, guint n,
    GstClockTime ws, GstClockTime we)
{
  GstMmdnnFuse *self = GST_MMDNN_FUSE (agg);
  GstClockTime dur = MIN (self->clock.window, self->clock.hop);
  GstMmdnnWindowTake take;

  gst_mmdnn_features_pads_take (pads, n, ws, we, self->mask, &take);
  if (!take.any)
    return gst_mmdnn_window_push_gap (agg, ws, dur);
  return gst_mmdnn_window_classify (agg, self->entry, &self->stage, &take,
      ws, self->clock.window, dur, self->out_text, self->model_name);
}

static const GstMmdnnWindowFuncs window_funcs = {
  .ring = gst_mmdnn_features_pad_window_ring,
  .check_pad = gst_mmdnn_features_pad_window_check,
  .muted = gst_mmdnn_features_pad_window_muted,
  .validate = gst_mmdnn_features_pad_window_validate,
  .extract = gst_mmdnn_features_pad_window_extract,
  .emit = fuse_emit,
};

static GstFlowReturn
gst_mmdnn_fuse_aggregate (GstAggregator *agg, gboolean timeout)
{
  GstMmdnnFuse *self = GST_MMDNN_FUSE (agg);

  if (!gst_pad_has_current_caps (GST_AGGREGATOR_SRC_PAD (self))) {
    GST_DEBUG_OBJECT (self, "not negotiated");
    return GST_FLOW_NOT_NEGOTIATED;
  }
  return gst_mmdnn_window_aggregate (agg, &self->clock, &window_funcs,
      timeout);
}
