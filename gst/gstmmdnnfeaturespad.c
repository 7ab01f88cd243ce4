/* mmdnn — GstMmdnnFeaturesPad: the features sink pad of mmdnnfuse and
 * mmdnntrain.
 * Copyright (C) 2025 mmdnn developers
 * SPDX-License-Identifier: LGPL-2.1-or-later */

/**
 * SECTION:gstmmdnnfeaturespad
 * @title: GstMmdnnFeaturesPad
 * @short_description: Base class of the features sink pads of mmdnnfuse
 *   and mmdnntrain
 * @see_also: mmdnnfuse, mmdnntrain
 *
 * An abstract #GstAggregatorPad for the request pads `sink_%u` that take
 * `application/x-mmdnn-features` of one modality. It owns what the two
 * elements' pads share:
 *
 * * the #GstMmdnnFeaturesPad:modality and #GstMmdnnFeaturesPad:mute
 *   properties;
 * * which caps are accepted: fixed features caps of video, audio or text
 *   whose modality the model has, with its token count for that modality,
 *   its fusion dimension and, when the caps name one, its id, and whose
 *   modality no other sink pad of the element carries. Before the model is
 *   loaded a CAPS query answers the template;
 * * how a refusal is reported: accept-caps answers FALSE (upstream gets
 *   not-negotiated) and the element posts #GST_STREAM_ERROR_WRONG_TYPE
 *   naming the pad and the mismatch, once per caps (the same caps are
 *   asked about by accept-caps and then come with the caps event);
 * * the ring of features of the windows of running time (gstmmdnnwindow.h),
 *   emptied on a flush and when the format changes;
 * * GstChildProxy helpers for the elements, so that pad properties can be
 *   set from gst-launch: `mmdnnfuse name=f sink_1::mute=true`.
 *
 * A subclass (#GstMmdnnFusePad, #GstMmdnnTrainPad) gives the element's
 * error texts and, if it keeps more per slot than the tokens, its size.
 *
 * Since: 0.1
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <glib/gi18n-lib.h>

#include <string.h>

#include "gstmmdnnfeaturespad.h"
#include "gstmmdnnutils.h"

GST_DEBUG_CATEGORY_STATIC (mmdnn_features_pad_debug);
#define GST_CAT_DEFAULT mmdnn_features_pad_debug

#define DEFAULT_MUTE FALSE

enum
{
  PROP_0,
  PROP_MODALITY,
  PROP_MUTE,
};

G_DEFINE_ABSTRACT_TYPE (GstMmdnnFeaturesPad, gst_mmdnn_features_pad,
    GST_TYPE_AGGREGATOR_PAD);

static void
gst_mmdnn_features_pad_finalize (GObject *object)
{
  GstMmdnnFeaturesPad *pad = GST_MMDNN_FEATURES_PAD (object);

  gst_mmdnn_window_ring_clear (&pad->ring);
  gst_caps_replace (&pad->refused_caps, NULL);
  G_OBJECT_CLASS (gst_mmdnn_features_pad_parent_class)->finalize (object);
}

static void
gst_mmdnn_features_pad_get_property (GObject *object, guint prop_id,
    GValue *value, GParamSpec *pspec)
{
  GstMmdnnFeaturesPad *pad = GST_MMDNN_FEATURES_PAD (object);

  switch (prop_id) {
    case PROP_MODALITY:{
      GstCaps *caps = gst_pad_get_current_caps (GST_PAD (pad));
      int mod = -1;

      if (caps != NULL && !gst_mmdnn_features_caps_parse (caps, &mod, NULL,
              NULL, NULL))
        mod = -1;
      g_value_set_string (value, gst_mmdnn_modality_to_string (mod));
      if (caps != NULL)
        gst_caps_unref (caps);
      break;
    }
    case PROP_MUTE:
      GST_OBJECT_LOCK (pad);
      g_value_set_boolean (value, pad->mute);
      GST_OBJECT_UNLOCK (pad);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_mmdnn_features_pad_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  GstMmdnnFeaturesPad *pad = GST_MMDNN_FEATURES_PAD (object);

  switch (prop_id) {
    case PROP_MUTE:
      GST_OBJECT_LOCK (pad);
      pad->mute = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (pad);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static GstFlowReturn
gst_mmdnn_features_pad_flush (GstAggregatorPad *aggpad, GstAggregator *agg)
{
  gst_mmdnn_window_ring_reset (&GST_MMDNN_FEATURES_PAD (aggpad)->ring);
  return GST_FLOW_OK;
}

static void
gst_mmdnn_features_pad_class_init (GstMmdnnFeaturesPadClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstAggregatorPadClass *aggpad_class = GST_AGGREGATOR_PAD_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (mmdnn_features_pad_debug, "mmdnnfeaturespad", 0,
      "mmdnn features sink pads (mmdnnfuse, mmdnntrain)");

  gobject_class->finalize = gst_mmdnn_features_pad_finalize;
  gobject_class->get_property = gst_mmdnn_features_pad_get_property;
  gobject_class->set_property = gst_mmdnn_features_pad_set_property;
  aggpad_class->flush = GST_DEBUG_FUNCPTR (gst_mmdnn_features_pad_flush);

  /**
   * GstMmdnnFeaturesPad:modality:
   *
   * The modality of the features on this pad ("video", "audio" or "text"),
   * from its caps; NULL before caps.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MODALITY,
      g_param_spec_string ("modality", "Modality",
          "Modality of the features on this pad, from the caps", NULL,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstMmdnnFeaturesPad:mute:
   *
   * Ignore this pad's features: its modality counts as missing in every
   * window (for mmdnntrain: in the samples and in the results), and the
   * element does not wait for it. Can be changed while PLAYING; takes
   * effect at the next window computed.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MUTE,
      g_param_spec_boolean ("mute", "Mute",
          "Ignore this pad's features (the modality counts as missing)",
          DEFAULT_MUTE,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING |
          G_PARAM_STATIC_STRINGS));
}

static void
gst_mmdnn_features_pad_init (GstMmdnnFeaturesPad *pad)
{
  pad->mute = DEFAULT_MUTE;
  pad->modality = -1;
  gst_mmdnn_window_ring_init (&pad->ring);
}

/* ---------------------------------------------------------------- caps */

/* NULL when fixed features @caps fit @c (NULL: checked later, only the
 * caps themselves) and no other sink pad of @element than @pad carries
 * their modality; else why not (transfer full, translated). Call it with
 * @element's object lock held (its pads, and @c when it is the
 * element's). */
static gchar *
check_caps (GstElement *element, GstPad *pad, const MmdnnModelConfig *c,
    GstCaps *caps, int *mod_out, gint *k_out, gint *d_out)
{
  const gchar *model_id, *name;
  gint k, d;
  int mod;
  gchar *why = NULL;

  if (caps == NULL || !gst_caps_is_fixed (caps)
      || !gst_mmdnn_features_caps_parse (caps, &mod, &k, &d, &model_id)
      || mod == GST_MMDNN_MODALITY_FUSED) {
    gchar *s = caps != NULL ? gst_caps_to_string (caps) : g_strdup ("NULL");

    why = g_strdup_printf (_("it takes video, audio or text features "
            "(%s), not %s"), GST_MMDNN_FEATURES_MEDIA_TYPE, s);
    g_free (s);
    return why;
  }
  name = gst_mmdnn_modality_to_string (mod);

  if (c == NULL) {
    /* checked again against the model when the caps event arrives */
  } else if (!c->has[mod]) {
    why = g_strdup_printf (_("the model \"%s\" has no %s modality"),
        c->model_id, name);
  } else if (k != c->fusion.tokens[mod]) {
    why = g_strdup_printf (_("%d %s tokens where the model \"%s\" "
            "takes %d"), k, name, c->model_id, (int) c->fusion.tokens[mod]);
  } else if (d != c->fusion.dim) {
    why = g_strdup_printf (_("features of dimension %d where the model "
            "\"%s\" takes %d"), d, c->model_id, (int) c->fusion.dim);
  } else if (model_id != NULL && g_strcmp0 (model_id, c->model_id) != 0) {
    why = g_strdup_printf (_("features made by the model \"%s\", not by "
            "\"%s\""), model_id, c->model_id);
  } else {
    for (GList *l = element->sinkpads; l != NULL; l = l->next) {
      GstPad *other = l->data;
      GstCaps *oc;
      int omod = -1;

      if (other == pad)
        continue;
      oc = gst_pad_get_current_caps (other);
      if (oc != NULL && gst_mmdnn_features_caps_parse (oc, &omod, NULL, NULL,
              NULL) && omod == mod) {
        why = g_strdup_printf (_("pad %s already carries the %s "
                "modality"), GST_PAD_NAME (other), name);
      }
      if (oc != NULL)
        gst_caps_unref (oc);
      if (why != NULL)
        break;
    }
  }

  if (mod_out != NULL)
    *mod_out = mod;
  if (k_out != NULL)
    *k_out = k;
  if (d_out != NULL)
    *d_out = d;
  return why;
}

/* (transfer full): what the model takes on @pad: one structure per
 * modality it has that no other sink pad carries; without a model, the
 * template. Takes @element's object lock. */
static GstCaps *
sink_caps (GstElement *element, GstPad *pad, MmdnnModelConfig *const *config)
{
  gboolean taken[MMDNN_N_MODALITIES] = { FALSE, };
  const MmdnnModelConfig *c;
  GstCaps *caps;

  GST_OBJECT_LOCK (element);
  c = *config;
  if (c == NULL) {
    GST_OBJECT_UNLOCK (element);
    return gst_pad_get_pad_template_caps (pad);
  }
  for (GList *l = element->sinkpads; l != NULL; l = l->next) {
    GstCaps *oc;
    int omod;

    if (l->data == (gpointer) pad)
      continue;
    oc = gst_pad_get_current_caps (GST_PAD (l->data));
    if (oc != NULL && gst_mmdnn_features_caps_parse (oc, &omod, NULL, NULL,
            NULL) && omod >= 0 && omod < MMDNN_N_MODALITIES)
      taken[omod] = TRUE;
    if (oc != NULL)
      gst_caps_unref (oc);
  }
  caps = gst_caps_new_empty ();
  for (int m = 0; m < MMDNN_N_MODALITIES; m++)
    if (c->has[m] && !taken[m])
      gst_caps_append (caps, gst_mmdnn_features_caps_new (m,
              (gint) c->fusion.tokens[m], (gint) c->fusion.dim, NULL));
  GST_OBJECT_UNLOCK (element);
  return caps;
}

/* Posts the refusal of @caps on @pad, once per caps (accept-caps is asked
 * again for the same caps by the caps event). */
static void
post_refusal (GstMmdnnFeaturesPad *pad, GstElement *element, GstCaps *caps,
    const gchar *why)
{
  gboolean seen;
  gchar *text;

  GST_OBJECT_LOCK (pad);
  seen = pad->refused_caps != NULL && caps != NULL
      && gst_caps_is_equal (pad->refused_caps, caps);
  if (!seen)
    gst_caps_replace (&pad->refused_caps, caps);
  GST_OBJECT_UNLOCK (pad);
  if (seen)
    return;
  text = GST_MMDNN_FEATURES_PAD_GET_CLASS (pad)->refusal_text (pad, why);
  GST_ELEMENT_ERROR (element, STREAM, WRONG_TYPE, ("%s", text),
      ("refused caps %" GST_PTR_FORMAT, caps));
  g_free (text);
}

gboolean
gst_mmdnn_features_pad_sink_query (GstMmdnnFeaturesPad *pad,
    GstElement *element, MmdnnModelConfig *const *config, GstQuery *query)
{
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:{
      GstCaps *filter, *caps = sink_caps (element, GST_PAD (pad), config);

      gst_query_parse_caps (query, &filter);
      if (filter != NULL) {
        GstCaps *tmp = gst_caps_intersect_full (filter, caps,
            GST_CAPS_INTERSECT_FIRST);

        gst_caps_unref (caps);
        caps = tmp;
      }
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS:{
      GstCaps *caps;
      gchar *why;

      gst_query_parse_accept_caps (query, &caps);
      if (caps == NULL || !gst_caps_is_fixed (caps)) {
        /* a question, not caps about to come: no error */
        GstCaps *ours = sink_caps (element, GST_PAD (pad), config);

        gst_query_set_accept_caps_result (query, caps != NULL
            && gst_caps_is_subset (caps, ours));
        gst_caps_unref (ours);
        return TRUE;
      }
      GST_OBJECT_LOCK (element);
      why = check_caps (element, GST_PAD (pad), *config, caps, NULL, NULL,
          NULL);
      GST_OBJECT_UNLOCK (element);
      if (why != NULL) {
        GST_WARNING_OBJECT (pad, "refusing %" GST_PTR_FORMAT ": %s", caps,
            why);
        post_refusal (pad, element, caps, why);
        g_free (why);
      }
      gst_query_set_accept_caps_result (query, why == NULL);
      return TRUE;
    }
    default:
      return FALSE;
  }
}

gboolean
gst_mmdnn_features_pad_set_caps (GstMmdnnFeaturesPad *pad,
    GstElement *element, MmdnnModelConfig *const *config, GstCaps *caps)
{
  GstMmdnnFeaturesPadClass *klass = GST_MMDNN_FEATURES_PAD_GET_CLASS (pad);
  gint k = 0, d = 0;
  int mod = -1;
  gchar *why;
  gsize extra;

  GST_OBJECT_LOCK (element);
  if (*config == NULL) {
    GST_OBJECT_UNLOCK (element);
    GST_WARNING_OBJECT (pad, "caps before the model was loaded");
    return FALSE;
  }
  why = check_caps (element, GST_PAD (pad), *config, caps, &mod, &k, &d);
  GST_OBJECT_UNLOCK (element);
  if (why != NULL) {
    post_refusal (pad, element, caps, why);
    g_free (why);
    pad->refused = TRUE;
    return FALSE;
  }
  extra = klass->set_modality != NULL
      ? klass->set_modality (pad, element, mod) : 0;
  if (k != pad->tokens || d != pad->dim || extra != pad->extra
      || mod != pad->modality) {
    gst_mmdnn_window_ring_set_slot_size (&pad->ring,
        sizeof (float) * (gsize) k * d + extra);
    gst_mmdnn_window_ring_reset (&pad->ring);
  }
  pad->ring.rule = gst_mmdnn_window_rule_for (mod);
  pad->modality = mod;
  pad->tokens = k;
  pad->dim = d;
  pad->extra = extra;
  pad->refused = FALSE;
  GST_DEBUG_OBJECT (pad, "%s features, %d × %d, %" G_GSIZE_FORMAT
      " more bytes per slot", gst_mmdnn_modality_to_string (mod), k, d,
      extra);
  return TRUE;
}

/* -------------------------------------------------------- window funcs */

GstMmdnnWindowRing *
gst_mmdnn_features_pad_window_ring (GstAggregator *agg, GstAggregatorPad *pad)
{
  return GST_IS_MMDNN_FEATURES_PAD (pad)
      ? &GST_MMDNN_FEATURES_PAD (pad)->ring : NULL;
}

GstFlowReturn
gst_mmdnn_features_pad_window_check (GstAggregator *agg,
    GstAggregatorPad *pad)
{
  return GST_IS_MMDNN_FEATURES_PAD (pad)
      && GST_MMDNN_FEATURES_PAD (pad)->refused
      ? GST_FLOW_NOT_NEGOTIATED : GST_FLOW_OK;
}

static gboolean
is_muted (GstMmdnnFeaturesPad *pad)
{
  gboolean mute;

  GST_OBJECT_LOCK (pad);
  mute = pad->mute;
  GST_OBJECT_UNLOCK (pad);
  return mute;
}

gboolean
gst_mmdnn_features_pad_window_muted (GstAggregator *agg,
    GstAggregatorPad *pad)
{
  return GST_IS_MMDNN_FEATURES_PAD (pad)
      && is_muted (GST_MMDNN_FEATURES_PAD (pad));
}

GstFlowReturn
gst_mmdnn_features_pad_window_validate (GstAggregator *agg,
    GstAggregatorPad *aggpad, GstBuffer *buf)
{
  GstMmdnnFeaturesPad *pad;
  gsize size;

  if (!GST_IS_MMDNN_FEATURES_PAD (aggpad))
    return GST_FLOW_OK;
  pad = GST_MMDNN_FEATURES_PAD (aggpad);
  size = (gsize) pad->tokens * pad->dim * sizeof (float);
  if (pad->modality < 0) {
    GST_ELEMENT_ERROR (agg, CORE, NEGOTIATION, (NULL),
        ("features on %s before caps", GST_PAD_NAME (pad)));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  if (gst_buffer_get_size (buf) != size) {
    gchar *text = GST_MMDNN_FEATURES_PAD_GET_CLASS (pad)->size_text (pad);

    GST_ELEMENT_ERROR (agg, STREAM, FORMAT, ("%s", text),
        ("%" G_GSIZE_FORMAT " bytes where %d × %d float32 make %"
            G_GSIZE_FORMAT, gst_buffer_get_size (buf), pad->tokens,
            pad->dim, size));
    g_free (text);
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

GstFlowReturn
gst_mmdnn_features_pad_window_extract (GstAggregator *agg,
    GstAggregatorPad *aggpad, GstBuffer *buf, GstMmdnnWindowSlot *slot)
{
  GstMmdnnFeaturesPad *pad = GST_MMDNN_FEATURES_PAD (aggpad);

  gst_buffer_extract (buf, 0, slot->data,
      sizeof (float) * (gsize) pad->tokens * pad->dim);
  slot->n_real = pad->modality == MMDNN_MODALITY_TEXT
      ? mmdnn_tokens_mask (slot->data, pad->tokens, pad->dim, NULL)
      : pad->tokens;
  return GST_FLOW_OK;
}

const GstMmdnnWindowSlot *
gst_mmdnn_features_pad_select (GstMmdnnFeaturesPad *pad, GstClockTime ws,
    GstClockTime we, GstClockTime *age)
{
  const GstMmdnnWindowSlot *slot;

  *age = gst_mmdnn_window_ring_age (&pad->ring, we);
  if (is_muted (pad))
    return NULL;
  slot = gst_mmdnn_window_ring_select (&pad->ring, ws, we, NULL, NULL);
  if (slot == NULL)
    return NULL;
  GST_LOG_OBJECT (pad, "window %" GST_TIME_FORMAT " takes %"
      GST_TIME_FORMAT " – %" GST_TIME_FORMAT, GST_TIME_ARGS (ws),
      GST_TIME_ARGS (slot->start), GST_TIME_ARGS (slot->end));
  return slot;
}

void
gst_mmdnn_features_pads_take (GstAggregatorPad **pads, guint n,
    GstClockTime ws, GstClockTime we, float *mask, GstMmdnnWindowTake *take)
{
  memset (take, 0, sizeof (*take));
  for (int m = 0; m < MMDNN_N_MODALITIES; m++)
    take->age[m] = GST_CLOCK_TIME_NONE;
  for (guint p = 0; p < n; p++) {
    GstMmdnnFeaturesPad *pad;
    const GstMmdnnWindowSlot *slot;
    int m;

    if (!GST_IS_MMDNN_FEATURES_PAD (pads[p]))
      continue;
    pad = GST_MMDNN_FEATURES_PAD (pads[p]);
    m = pad->modality;
    if (m < 0 || m >= MMDNN_N_MODALITIES)
      continue;
    slot = gst_mmdnn_features_pad_select (pad, ws, we, &take->age[m]);
    if (slot == NULL)
      continue;
    take->pads[m] = pads[p];
    take->slots[m] = slot;
    take->tokens[m] = slot->data;
    take->presence[m] = 1.0f;
    /* only a text cue pads its tokens: the others have no mask */
    if (m == MMDNN_MODALITY_TEXT) {
      mmdnn_tokens_mask (slot->data, pad->tokens, pad->dim, mask);
      take->masks[m] = mask;
    }
    take->any = TRUE;
  }
}

/* --------------------------------------------------------- child proxy */

static GObject *
child_proxy_get_child_by_index (GstChildProxy *child_proxy, guint index)
{
  GstElement *element = GST_ELEMENT (child_proxy);
  GObject *obj;

  GST_OBJECT_LOCK (element);
  obj = g_list_nth_data (element->sinkpads, index);
  if (obj != NULL)
    gst_object_ref (obj);
  GST_OBJECT_UNLOCK (element);
  return obj;
}

static guint
child_proxy_get_children_count (GstChildProxy *child_proxy)
{
  GstElement *element = GST_ELEMENT (child_proxy);
  guint count;

  GST_OBJECT_LOCK (element);
  count = element->numsinkpads;
  GST_OBJECT_UNLOCK (element);
  return count;
}

void
gst_mmdnn_child_proxy_sink_pads_init (gpointer g_iface, gpointer iface_data)
{
  GstChildProxyInterface *iface = g_iface;

  iface->get_child_by_index = child_proxy_get_child_by_index;
  iface->get_children_count = child_proxy_get_children_count;
}

GstPad *
gst_mmdnn_child_proxy_request_pad (GstElementClass *parent_class,
    GstElement *element, GstPadTemplate *templ, const gchar *name,
    const GstCaps *caps)
{
  GstPad *pad = parent_class->request_new_pad (element, templ, name, caps);

  if (pad != NULL)
    gst_child_proxy_child_added (GST_CHILD_PROXY (element), G_OBJECT (pad),
        GST_OBJECT_NAME (pad));
  return pad;
}

void
gst_mmdnn_child_proxy_release_pad (GstElementClass *parent_class,
    GstElement *element, GstPad *pad)
{
  GST_DEBUG_OBJECT (element, "releasing %" GST_PTR_FORMAT, pad);
  gst_child_proxy_child_removed (GST_CHILD_PROXY (element), G_OBJECT (pad),
      GST_OBJECT_NAME (pad));
  /* GstAggregator (1.22) releases a pad by dropping the buffer a
   * subclass peeked at without the pad's lock, while the aggregate thread
   * may be popping that same buffer under it: unreffed twice
   * (tests/check/pipelines/stress.c saw it in about one run of 1000 pad
   * cycles in 15). So the peeked buffer goes first, under the lock: the
   * pad flushing (deactivated), nothing more is peeked, and popping takes
   * what was. */
  gst_pad_set_active (pad, FALSE);
  if (GST_IS_AGGREGATOR_PAD (pad))
    gst_aggregator_pad_drop_buffer (GST_AGGREGATOR_PAD (pad));
  parent_class->release_pad (element, pad);
}
