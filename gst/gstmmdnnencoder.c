/* mmdnn — GstMmdnnEncoder: the base class of the three encoders.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

/**
 * SECTION:gstmmdnnencoder
 * @title: GstMmdnnEncoder
 * @short_description: Base class of mmdnnvideoenc, mmdnnaudioenc and
 *   mmdnntextenc
 * @see_also: mmdnnvideoenc, mmdnnaudioenc, mmdnntextenc
 *
 * An abstract #GstBaseTransform that turns one modality's raw media into
 * mmdnn features with the encoder of an mmdnn model. It owns what the three
 * encoders share; a subclass sets the modality and adds only its sink caps
 * and input handling (preprocessing, windowing).
 *
 * * The #GstMmdnnEncoder:model property (changeable in NULL and READY only).
 * * start (the READY → PAUSED change): the model is taken from the model
 *   registry (elements naming the same file share one copy), checked for an
 *   encoder of the modality, handed to the subclass's open () and an encode
 *   stage is made for it. Any failure is posted as an error message (see
 *   gst_mmdnn_post_error(): `GST_RESOURCE_ERROR_OPEN_READ` for a file that
 *   cannot be opened, `GST_RESOURCE_ERROR_READ` for one that is not an mmdnn
 *   model, `GST_STREAM_ERROR_WRONG_TYPE` for a model without the encoder)
 *   and the state change fails. stop releases everything.
 * * Source caps: `application/x-mmdnn-features, modality=M, tokens=K,
 *   dim=D, model=<the model id>`, fixed by the model whatever the input;
 *   before start, the source pad template's.
 * * Output buffers: K × D float32, token-major, allocated at that size with
 *   the negotiated allocator (a pool proposed downstream is not used), and
 *   written by the core directly. Every buffer stands on its own: no DTS,
 *   no offsets, neither DELTA_UNIT nor HEADER.
 * * Every buffer is encoded with the model's current version (a trainer may
 *   publish new weights while the pipeline runs).
 * * When downstream asks for it in the ALLOCATION query (mmdnntrain does,
 *   and mmdnnfuse, so that a tee in front of both keeps it), every output
 *   buffer carries the preprocessed input it was encoded from as a
 *   #GstMmdnnInputMeta, so that a trainer can train the encoder too.
 *   Otherwise nothing is copied.
 *
 * Since: 0.1
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmmdnnencoder.h"
#include "gstmmdnnmeta.h"
#include "gstmmdnnregistry.h"
#include "gstmmdnnutils.h"

GST_DEBUG_CATEGORY_STATIC (mmdnn_encoder_debug);
#define GST_CAT_DEFAULT mmdnn_encoder_debug

#define DEFAULT_MODEL NULL

enum
{
  PROP_0,
  PROP_MODEL,
};

typedef struct
{
  /* property, under the object lock */
  gchar *model_path;

  /* from start () to stop () */
  GstMmdnnModelEntry *entry;
  MmdnnEncodeStage *stage;      /* NULL while stopped */
  gsize out_size;               /* K × D × sizeof (float) */
  gint64 input_size;            /* elements of the encoder input */
  GstCaps *src_caps;            /* the model's features caps; object lock */

  /* the streaming thread (decide_allocation): downstream wants the input
   * meta */
  gboolean attach_input;
} GstMmdnnEncoderPrivate;

#define gst_mmdnn_encoder_parent_class parent_class
G_DEFINE_ABSTRACT_TYPE_WITH_CODE (GstMmdnnEncoder, gst_mmdnn_encoder,
    GST_TYPE_BASE_TRANSFORM, G_ADD_PRIVATE (GstMmdnnEncoder);
    GST_DEBUG_CATEGORY_INIT (mmdnn_encoder_debug, "mmdnnencoder", 0,
        "mmdnn encoder base class"));

#define PRIV(enc) \
  ((GstMmdnnEncoderPrivate *) gst_mmdnn_encoder_get_instance_private (enc))

static void
gst_mmdnn_encoder_finalize (GObject *object)
{
  GstMmdnnEncoderPrivate *priv = PRIV (GST_MMDNN_ENCODER (object));

  g_free (priv->model_path);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_mmdnn_encoder_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  GstMmdnnEncoder *enc = GST_MMDNN_ENCODER (object);
  GstMmdnnEncoderPrivate *priv = PRIV (enc);

  switch (prop_id) {
    case PROP_MODEL:
      GST_OBJECT_LOCK (enc);
      if (GST_STATE (enc) > GST_STATE_READY) {
        GST_OBJECT_UNLOCK (enc);
        GST_WARNING_OBJECT (enc, "the model can only be changed in the NULL "
            "or READY state; keeping \"%s\"", GST_STR_NULL (priv->model_path));
        break;
      }
      g_free (priv->model_path);
      priv->model_path = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (enc);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_mmdnn_encoder_get_property (GObject *object, guint prop_id,
    GValue *value, GParamSpec *pspec)
{
  GstMmdnnEncoder *enc = GST_MMDNN_ENCODER (object);

  switch (prop_id) {
    case PROP_MODEL:
      GST_OBJECT_LOCK (enc);
      g_value_set_string (value, PRIV (enc)->model_path);
      GST_OBJECT_UNLOCK (enc);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static gboolean gst_mmdnn_encoder_start (GstBaseTransform *trans);
static gboolean gst_mmdnn_encoder_stop (GstBaseTransform *trans);
static GstCaps *gst_mmdnn_encoder_transform_caps (GstBaseTransform *trans,
    GstPadDirection direction, GstCaps *caps, GstCaps *filter);
static gboolean gst_mmdnn_encoder_set_caps (GstBaseTransform *trans,
    GstCaps *incaps, GstCaps *outcaps);
static gboolean gst_mmdnn_encoder_decide_allocation (GstBaseTransform *trans,
    GstQuery *query);
static GstFlowReturn gst_mmdnn_encoder_prepare_output_buffer (GstBaseTransform
    *trans, GstBuffer *input, GstBuffer **outbuf);
static GstCaps *gst_mmdnn_encoder_default_get_raw_caps (GstMmdnnEncoder *enc);
static gboolean gst_mmdnn_encoder_default_accept_raw_caps (GstMmdnnEncoder
    *enc, GstCaps *caps);

static void
gst_mmdnn_encoder_class_init (GstMmdnnEncoderClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->finalize = gst_mmdnn_encoder_finalize;
  gobject_class->set_property = gst_mmdnn_encoder_set_property;
  gobject_class->get_property = gst_mmdnn_encoder_get_property;

  /**
   * GstMmdnnEncoder:model:
   *
   * The mmdnn model file (safetensors) whose encoder for the element's
   * modality (and its preprocessing: video scaling, log-mel settings, the
   * tokenizer) is used. Unset or empty: the default model installed with
   * the plugin. Elements naming the same file share one copy of the model.
   * Can be changed only in the NULL and READY states (elsewhere the change
   * is ignored with a warning in the debug log); the file is loaded on the
   * READY → PAUSED change, and a missing or invalid file makes that change
   * fail with an error message.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "Path of the mmdnn model file (NULL: the default model)",
          DEFAULT_MODEL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->start = GST_DEBUG_FUNCPTR (gst_mmdnn_encoder_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_mmdnn_encoder_stop);
  trans_class->transform_caps =
      GST_DEBUG_FUNCPTR (gst_mmdnn_encoder_transform_caps);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_mmdnn_encoder_set_caps);
  trans_class->decide_allocation =
      GST_DEBUG_FUNCPTR (gst_mmdnn_encoder_decide_allocation);
  trans_class->prepare_output_buffer =
      GST_DEBUG_FUNCPTR (gst_mmdnn_encoder_prepare_output_buffer);

  klass->get_raw_caps = gst_mmdnn_encoder_default_get_raw_caps;
  klass->accept_raw_caps = gst_mmdnn_encoder_default_accept_raw_caps;

  gst_type_mark_as_plugin_api (GST_TYPE_MMDNN_ENCODER, 0);
}

static void
gst_mmdnn_encoder_init (GstMmdnnEncoder *enc)
{
  PRIV (enc)->model_path = g_strdup (DEFAULT_MODEL);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (enc), FALSE);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (enc), FALSE);
}

/* ------------------------------------------------------------ start/stop */

static void
gst_mmdnn_encoder_clear (GstMmdnnEncoder *enc)
{
  GstMmdnnEncoderClass *klass = GST_MMDNN_ENCODER_GET_CLASS (enc);
  GstMmdnnEncoderPrivate *priv = PRIV (enc);

  GST_OBJECT_LOCK (enc);
  gst_clear_caps (&priv->src_caps);
  GST_OBJECT_UNLOCK (enc);
  if (klass->close != NULL)
    klass->close (enc);
  g_clear_pointer (&priv->stage, mmdnn_encode_stage_free);
  g_clear_pointer (&priv->entry, gst_mmdnn_registry_release);
  priv->out_size = 0;
  priv->input_size = 0;
  priv->attach_input = FALSE;
}

/* Loads (or shares) the model and makes everything a buffer needs, so that
 * the streaming thread allocates nothing but output buffers. */
static gboolean
gst_mmdnn_encoder_start (GstBaseTransform *trans)
{
  GstMmdnnEncoder *enc = GST_MMDNN_ENCODER (trans);
  GstMmdnnEncoderClass *klass = GST_MMDNN_ENCODER_GET_CLASS (enc);
  GstMmdnnEncoderPrivate *priv = PRIV (enc);
  const MmdnnModality mod = klass->modality;
  GstMmdnnModelSnapshot *snap = NULL;
  const MmdnnModelConfig *c;
  GError *error = NULL;
  GstCaps *caps;
  gchar *path;
  int64_t k, d;

  GST_OBJECT_LOCK (enc);
  path = g_strdup (priv->model_path);
  GST_OBJECT_UNLOCK (enc);
  if (path == NULL || *path == '\0') {
    g_free (path);
    path = gst_mmdnn_default_model_path ();
  }

  priv->entry = gst_mmdnn_registry_acquire (path, &error);
  if (priv->entry == NULL)
    goto fail;
  snap = gst_mmdnn_model_entry_snapshot (priv->entry);
  c = snap->model->config;
  if (!c->has[mod]) {
    g_set_error (&error, MMDNN_ERROR, MMDNN_ERROR_MISMATCH,
        "the model \"%s\" has no %s encoder", GST_STR_NULL (c->model_id),
        gst_mmdnn_modality_to_string (mod));
    goto fail;
  }
  if (klass->open != NULL && !klass->open (enc, snap->model, &error))
    goto fail;
  priv->stage = mmdnn_encode_stage_new (snap->model, mod, 1, &error);
  if (priv->stage == NULL)
    goto fail;
  k = c->fusion.tokens[mod];
  d = c->fusion.dim;
  priv->out_size = (gsize) k * (gsize) d * sizeof (float);
  priv->input_size = mmdnn_model_config_input_size (c, mod);
  priv->attach_input = FALSE;
  caps = gst_mmdnn_features_caps_new (mod, (gint) k, (gint) d, c->model_id);
  GST_OBJECT_LOCK (enc);
  gst_caps_take (&priv->src_caps, caps);
  GST_OBJECT_UNLOCK (enc);

  GST_INFO_OBJECT (enc, "model %s (\"%s\"): %" G_GINT64_FORMAT " %s tokens "
      "of %" G_GINT64_FORMAT, gst_mmdnn_model_entry_get_path (priv->entry),
      GST_STR_NULL (c->model_id), k, gst_mmdnn_modality_to_string (mod), d);
  gst_mmdnn_model_snapshot_unref (snap);
  g_free (path);
  return TRUE;

fail:
  gst_mmdnn_post_error (GST_ELEMENT (enc), error, path);
  g_clear_error (&error);
  gst_mmdnn_model_snapshot_unref (snap);
  gst_mmdnn_encoder_clear (enc);
  g_free (path);
  return FALSE;
}

static gboolean
gst_mmdnn_encoder_stop (GstBaseTransform *trans)
{
  gst_mmdnn_encoder_clear (GST_MMDNN_ENCODER (trans));
  return TRUE;
}

/* ---------------------------------------------------------- negotiation */

static GstCaps *
gst_mmdnn_encoder_default_get_raw_caps (GstMmdnnEncoder *enc)
{
  return gst_pad_get_pad_template_caps (GST_BASE_TRANSFORM_SINK_PAD (enc));
}

static gboolean
gst_mmdnn_encoder_default_accept_raw_caps (GstMmdnnEncoder *enc,
    GstCaps *caps)
{
  GstCaps *raw = GST_MMDNN_ENCODER_GET_CLASS (enc)->get_raw_caps (enc);
  gboolean ok = gst_caps_can_intersect (caps, raw);

  gst_caps_unref (raw);
  return ok;
}

/* The features caps are fixed by the model, whatever the input: before
 * start () (no model yet) they are the template's. */
static GstCaps *
gst_mmdnn_encoder_transform_caps (GstBaseTransform *trans,
    GstPadDirection direction, GstCaps *caps, GstCaps *filter)
{
  GstMmdnnEncoder *enc = GST_MMDNN_ENCODER (trans);
  GstMmdnnEncoderClass *klass = GST_MMDNN_ENCODER_GET_CLASS (enc);
  GstCaps *features, *res;

  features = gst_mmdnn_encoder_get_features_caps (enc);
  if (features == NULL)
    features = gst_pad_get_pad_template_caps (GST_BASE_TRANSFORM_SRC_PAD
        (trans));

  if (direction == GST_PAD_SINK)
    res = klass->accept_raw_caps (enc, caps) ? gst_caps_ref (features)
        : gst_caps_new_empty ();
  else
    res = gst_caps_can_intersect (caps, features) ? klass->get_raw_caps (enc)
        : gst_caps_new_empty ();
  gst_caps_unref (features);

  if (filter != NULL) {
    GstCaps *tmp = gst_caps_intersect_full (filter, res,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (res);
    res = tmp;
  }
  GST_LOG_OBJECT (enc, "%s %" GST_PTR_FORMAT " → %" GST_PTR_FORMAT,
      direction == GST_PAD_SINK ? "sink" : "src", caps, res);
  return res;
}

/* Checks that @outcaps are the model's features caps; a subclass checks
 * @incaps and chains up. */
static gboolean
gst_mmdnn_encoder_set_caps (GstBaseTransform *trans, GstCaps *incaps,
    GstCaps *outcaps)
{
  GstMmdnnEncoder *enc = GST_MMDNN_ENCODER (trans);
  GstMmdnnEncoderPrivate *priv = PRIV (enc);
  gint mod, k, d;

  if (priv->stage == NULL
      || !gst_mmdnn_features_caps_parse (outcaps, &mod, &k, &d, NULL)
      || mod != (gint) GST_MMDNN_ENCODER_GET_CLASS (enc)->modality
      || (gsize) k * (gsize) d * sizeof (float) != priv->out_size) {
    GST_WARNING_OBJECT (enc, "output caps %" GST_PTR_FORMAT " are not the "
        "model's", outcaps);
    return FALSE;
  }
  GST_DEBUG_OBJECT (enc, "%" GST_PTR_FORMAT " → %d × %d features", incaps, k,
      d);
  return TRUE;
}

/* Output buffers are allocated at the features size with the negotiated
 * allocator; a pool proposed downstream would be sized for someone else's
 * idea of the caps, so none is used. */
static gboolean
gst_mmdnn_encoder_decide_allocation (GstBaseTransform *trans,
    GstQuery *query)
{
  GstMmdnnEncoderPrivate *priv = PRIV (GST_MMDNN_ENCODER (trans));

  /* before the base class, which drops the metas it does not know */
  priv->attach_input = gst_query_find_allocation_meta (query,
      GST_MMDNN_INPUT_META_API_TYPE, NULL);
  GST_DEBUG_OBJECT (trans, "downstream %s the encoder input",
      priv->attach_input ? "wants" : "does not want");
  while (gst_query_get_n_allocation_pools (query) > 0)
    gst_query_remove_nth_allocation_pool (query, 0);
  return GST_BASE_TRANSFORM_CLASS (parent_class)->decide_allocation (trans,
      query);
}

/* ------------------------------------------------------------- streaming */

static GstFlowReturn
gst_mmdnn_encoder_prepare_output_buffer (GstBaseTransform *trans,
    GstBuffer *input, GstBuffer **outbuf)
{
  return gst_mmdnn_encoder_allocate_output (GST_MMDNN_ENCODER (trans), input,
      outbuf);
}

/* ------------------------------------------------------ subclass helpers */

void
gst_mmdnn_encoder_class_set_modality (GstMmdnnEncoderClass *klass,
    MmdnnModality modality)
{
  static const gchar *const src_caps[] = {
    [MMDNN_MODALITY_VIDEO] = GST_MMDNN_FEATURES_CAPS_TEMPLATE ("video"),
    [MMDNN_MODALITY_AUDIO] = GST_MMDNN_FEATURES_CAPS_TEMPLATE ("audio"),
    [MMDNN_MODALITY_TEXT] = GST_MMDNN_FEATURES_CAPS_TEMPLATE ("text"),
  };
  GstCaps *caps;

  g_return_if_fail (GST_IS_MMDNN_ENCODER_CLASS (klass));
  g_return_if_fail ((guint) modality < G_N_ELEMENTS (src_caps));
  klass->modality = modality;
  caps = gst_caps_from_string (src_caps[modality]);
  gst_element_class_add_pad_template (GST_ELEMENT_CLASS (klass),
      gst_pad_template_new ("src", GST_PAD_SRC, GST_PAD_ALWAYS, caps));
  gst_caps_unref (caps);
}

const gchar *
gst_mmdnn_encoder_get_model_path (GstMmdnnEncoder *enc)
{
  GstMmdnnEncoderPrivate *priv;

  g_return_val_if_fail (GST_IS_MMDNN_ENCODER (enc), NULL);
  priv = PRIV (enc);
  return priv->entry != NULL ? gst_mmdnn_model_entry_get_path (priv->entry)
      : NULL;
}

GstCaps *
gst_mmdnn_encoder_get_features_caps (GstMmdnnEncoder *enc)
{
  GstMmdnnEncoderPrivate *priv;
  GstCaps *caps;

  g_return_val_if_fail (GST_IS_MMDNN_ENCODER (enc), NULL);
  priv = PRIV (enc);
  GST_OBJECT_LOCK (enc);
  caps = priv->src_caps != NULL ? gst_caps_ref (priv->src_caps) : NULL;
  GST_OBJECT_UNLOCK (enc);
  return caps;
}

void
gst_mmdnn_encoder_post_error (GstMmdnnEncoder *enc, const GError *error)
{
  g_return_if_fail (GST_IS_MMDNN_ENCODER (enc));
  gst_mmdnn_post_error (GST_ELEMENT (enc), error,
      gst_mmdnn_encoder_get_model_path (enc));
}

GstFlowReturn
gst_mmdnn_encoder_allocate_output (GstMmdnnEncoder *enc, GstBuffer *input,
    GstBuffer **outbuf)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (enc);
  GstMmdnnEncoderPrivate *priv = PRIV (enc);
  GstAllocator *allocator = NULL;
  GstAllocationParams params;

  gst_base_transform_get_allocator (trans, &allocator, &params);
  /* the core writes floats straight into the buffer */
  params.align |= 15;
  params.prefix = 0;
  *outbuf = gst_buffer_new_allocate (allocator, priv->out_size, &params);
  if (allocator != NULL)
    gst_object_unref (allocator);
  if (*outbuf == NULL) {
    GST_ELEMENT_ERROR (enc, RESOURCE, NO_SPACE_LEFT, (NULL),
        ("could not allocate an output buffer of %" G_GSIZE_FORMAT " bytes",
            priv->out_size));
    return GST_FLOW_ERROR;
  }
  if (input != NULL && !GST_BASE_TRANSFORM_GET_CLASS (trans)->copy_metadata
      (trans, input, *outbuf)) {
    gst_clear_buffer (outbuf);
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

GstFlowReturn
gst_mmdnn_encoder_encode (GstMmdnnEncoder *enc, const void *input,
    GstBuffer *outbuf)
{
  GstMmdnnEncoderPrivate *priv = PRIV (enc);
  GstMmdnnModelSnapshot *snap;
  GError *error = NULL;
  GstMapInfo map;
  gboolean ok;

  snap = gst_mmdnn_model_entry_snapshot (priv->entry);
  if (!mmdnn_encode_stage_fits (priv->stage, snap->model)) {
    /* only if a published version changed the encoder's sizes, which the
     * registry refuses: remake the activations rather than fail */
    MmdnnEncodeStage *stage = mmdnn_encode_stage_new (snap->model,
        GST_MMDNN_ENCODER_GET_CLASS (enc)->modality, 1, &error);

    if (stage == NULL) {
      gst_mmdnn_model_snapshot_unref (snap);
      goto core_error;
    }
    mmdnn_encode_stage_free (priv->stage);
    priv->stage = stage;
  }
  if (!gst_buffer_map (outbuf, &map, GST_MAP_WRITE)) {
    gst_mmdnn_model_snapshot_unref (snap);
    GST_ELEMENT_ERROR (enc, RESOURCE, WRITE, (NULL),
        ("could not map the output buffer"));
    return GST_FLOW_ERROR;
  }
  ok = mmdnn_encode_stage_run (priv->stage, snap->model, input, 1,
      (float *) map.data, &error);
  gst_buffer_unmap (outbuf, &map);
  gst_mmdnn_model_snapshot_unref (snap);
  if (!ok)
    goto core_error;

  /* what it was encoded from, for a trainer downstream */
  if (priv->attach_input)
    gst_buffer_add_mmdnn_input_meta (outbuf,
        GST_MMDNN_ENCODER_GET_CLASS (enc)->modality, input,
        priv->input_size);

  /* every features buffer stands on its own */
  GST_BUFFER_DTS (outbuf) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_OFFSET (outbuf) = GST_BUFFER_OFFSET_NONE;
  GST_BUFFER_OFFSET_END (outbuf) = GST_BUFFER_OFFSET_NONE;
  GST_BUFFER_FLAG_UNSET (outbuf, GST_BUFFER_FLAG_DELTA_UNIT);
  GST_BUFFER_FLAG_UNSET (outbuf, GST_BUFFER_FLAG_HEADER);
  return GST_FLOW_OK;

core_error:
  gst_mmdnn_encoder_post_error (enc, error);
  g_clear_error (&error);
  return GST_FLOW_ERROR;
}
