/* mmdnn — the result meta (see gstmmdnnmeta.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gstmmdnnmeta.h"
#include "gstmmdnnutils.h"

GType
gst_mmdnn_result_meta_api_get_type (void)
{
  static GType type = 0;
  static const gchar *tags[] = { NULL };

  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("GstMmdnnResultMetaAPI", tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
result_meta_init (GstMeta *meta, gpointer params, GstBuffer *buffer)
{
  GstMmdnnResultMeta *m = (GstMmdnnResultMeta *) meta;

  m->running_time = GST_CLOCK_TIME_NONE;
  m->duration = GST_CLOCK_TIME_NONE;
  m->model_version = 0;
  m->n_tasks = 0;
  memset (m->tasks, 0, sizeof (m->tasks));
  memset (m->weights, 0, sizeof (m->weights));
  memset (m->present, 0, sizeof (m->present));
  for (int i = 0; i < MMDNN_N_MODALITIES; i++)
    m->age[i] = GST_CLOCK_TIME_NONE;
  return TRUE;
}

static void
result_meta_free (GstMeta *meta, GstBuffer *buffer)
{
  GstMmdnnResultMeta *m = (GstMmdnnResultMeta *) meta;

  for (guint t = 0; t < m->n_tasks; t++) {
    g_free (m->tasks[t].probs);
    g_free (m->tasks[t].classes);
  }
}

static void
copy_into (GstMmdnnResultMeta *dst, const GstMmdnnResultMeta *src)
{
  dst->running_time = src->running_time;
  dst->duration = src->duration;
  dst->model_version = src->model_version;
  dst->n_tasks = src->n_tasks;
  for (guint t = 0; t < src->n_tasks; t++) {
    dst->tasks[t] = src->tasks[t];
    dst->tasks[t].probs = g_memdup2 (src->tasks[t].probs,
        sizeof (gfloat) * src->tasks[t].n_classes);
    dst->tasks[t].classes = g_memdup2 (src->tasks[t].classes,
        sizeof (GQuark) * src->tasks[t].n_classes);
  }
  memcpy (dst->weights, src->weights, sizeof (dst->weights));
  memcpy (dst->present, src->present, sizeof (dst->present));
  memcpy (dst->age, src->age, sizeof (dst->age));
}

static gboolean
result_meta_transform (GstBuffer *dest, GstMeta *meta, GstBuffer *buffer,
    GQuark type, gpointer data)
{
  GstMmdnnResultMeta *src = (GstMmdnnResultMeta *) meta, *dst;

  /* the result describes the window, not the bytes: it survives copies
   * and region copies alike */
  if (!GST_META_TRANSFORM_IS_COPY (type))
    return FALSE;
  dst = (GstMmdnnResultMeta *) gst_buffer_add_meta (dest,
      GST_MMDNN_RESULT_META_INFO, NULL);
  if (dst == NULL)
    return FALSE;
  copy_into (dst, src);
  return TRUE;
}

const GstMetaInfo *
gst_mmdnn_result_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi =
        gst_meta_register (GST_MMDNN_RESULT_META_API_TYPE,
        "GstMmdnnResultMeta", sizeof (GstMmdnnResultMeta),
        result_meta_init, result_meta_free, result_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

GstMmdnnResultMeta *
gst_buffer_add_mmdnn_result_meta (GstBuffer *buffer,
    const MmdnnModelConfig *config, const MmdnnOutputs *out,
    const float *presence, gint64 i)
{
  GstMmdnnResultMeta *m;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (config != NULL && out != NULL && i >= 0, NULL);

  m = (GstMmdnnResultMeta *) gst_buffer_add_meta (buffer,
      GST_MMDNN_RESULT_META_INFO, NULL);
  m->n_tasks = config->n_tasks;
  for (int t = 0; t < config->n_tasks; t++) {
    GstMmdnnTaskResult *r = &m->tasks[t];
    guint c = (guint) config->tasks[t].n_classes;
    const float *p = out->probs[t] + i * c;
    guint best = 0;

    r->task = g_quark_from_string (config->tasks[t].name);
    r->n_classes = c;
    r->probs = g_memdup2 (p, sizeof (gfloat) * c);
    r->classes = g_new (GQuark, c);
    for (guint k = 0; k < c; k++) {
      r->classes[k] = g_quark_from_string (config->tasks[t].classes[k]);
      if (p[k] > p[best])
        best = k;
    }
    r->class_id = (gint) best;
    r->label = r->classes[best];
    r->confidence = p[best];
  }
  for (int mod = 0; mod < MMDNN_N_MODALITIES; mod++) {
    m->weights[mod] = out->modality_weights != NULL
        ? out->modality_weights[i * MMDNN_N_MODALITIES + mod] : 0.0f;
    m->present[mod] = presence != NULL
        && presence[i * MMDNN_N_MODALITIES + mod] != 0.0f;
  }
  return m;
}

static void
add_time (JsonBuilder *b, const gchar *name, GstClockTime t)
{
  json_builder_set_member_name (b, name);
  if (GST_CLOCK_TIME_IS_VALID (t))
    json_builder_add_int_value (b, (gint64) t);
  else
    json_builder_add_null_value (b);
}

gchar *
gst_mmdnn_result_meta_to_json (const GstMmdnnResultMeta *m)
{
  JsonBuilder *b;
  JsonNode *root;
  gchar *s;

  g_return_val_if_fail (m != NULL, NULL);
  b = json_builder_new ();
  json_builder_begin_object (b);
  add_time (b, "running_time", m->running_time);
  add_time (b, "duration", m->duration);
  json_builder_set_member_name (b, "model_version");
  json_builder_add_int_value (b, (gint64) m->model_version);

  json_builder_set_member_name (b, "tasks");
  json_builder_begin_object (b);
  for (guint t = 0; t < m->n_tasks; t++) {
    const GstMmdnnTaskResult *r = &m->tasks[t];

    json_builder_set_member_name (b, g_quark_to_string (r->task));
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "label");
    json_builder_add_string_value (b, g_quark_to_string (r->label));
    json_builder_set_member_name (b, "class_id");
    json_builder_add_int_value (b, r->class_id);
    json_builder_set_member_name (b, "confidence");
    json_builder_add_double_value (b, mmdnn_json_float (r->confidence));
    json_builder_set_member_name (b, "probabilities");
    json_builder_begin_object (b);
    for (guint k = 0; k < r->n_classes; k++) {
      json_builder_set_member_name (b, g_quark_to_string (r->classes[k]));
      json_builder_add_double_value (b, mmdnn_json_float (r->probs[k]));
    }
    json_builder_end_object (b);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);

  json_builder_set_member_name (b, "modalities");
  json_builder_begin_object (b);
  for (int mod = 0; mod < MMDNN_N_MODALITIES; mod++) {
    json_builder_set_member_name (b, gst_mmdnn_modality_to_string (mod));
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "weight");
    json_builder_add_double_value (b, mmdnn_json_float (m->weights[mod]));
    json_builder_set_member_name (b, "present");
    json_builder_add_boolean_value (b, m->present[mod]);
    add_time (b, "age", m->age[mod]);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  s = mmdnn_json_to_string_compact (root);
  json_node_unref (root);
  g_object_unref (b);
  return s;
}

/* ------------------------------------------------------------ input meta */

GType
gst_mmdnn_input_meta_api_get_type (void)
{
  static GType type = 0;
  static const gchar *tags[] = { NULL };

  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("GstMmdnnInputMetaAPI", tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
input_meta_init (GstMeta *meta, gpointer params, GstBuffer *buffer)
{
  GstMmdnnInputMeta *m = (GstMmdnnInputMeta *) meta;

  m->modality = -1;
  m->size = 0;
  m->ids = FALSE;
  m->data = NULL;
  return TRUE;
}

static void
input_meta_free (GstMeta *meta, GstBuffer *buffer)
{
  g_free (((GstMmdnnInputMeta *) meta)->data);
}

static gboolean
input_meta_transform (GstBuffer *dest, GstMeta *meta, GstBuffer *buffer,
    GQuark type, gpointer data)
{
  GstMmdnnInputMeta *src = (GstMmdnnInputMeta *) meta;

  /* the input of the whole features buffer: copies keep it */
  if (!GST_META_TRANSFORM_IS_COPY (type))
    return FALSE;
  return gst_buffer_add_mmdnn_input_meta (dest, src->modality, src->data,
      src->size) != NULL;
}

const GstMetaInfo *
gst_mmdnn_input_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi =
        gst_meta_register (GST_MMDNN_INPUT_META_API_TYPE,
        "GstMmdnnInputMeta", sizeof (GstMmdnnInputMeta),
        input_meta_init, input_meta_free, input_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

GstMmdnnInputMeta *
gst_buffer_add_mmdnn_input_meta (GstBuffer *buffer, gint modality,
    gconstpointer data, gint64 size)
{
  GstMmdnnInputMeta *m;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (modality >= 0 && modality < MMDNN_N_MODALITIES, NULL);
  g_return_val_if_fail (data != NULL && size > 0, NULL);

  m = (GstMmdnnInputMeta *) gst_buffer_add_meta (buffer,
      GST_MMDNN_INPUT_META_INFO, NULL);
  if (m == NULL)
    return NULL;
  m->modality = modality;
  m->size = size;
  m->ids = modality == MMDNN_MODALITY_TEXT;
  m->data = g_memdup2 (data, (gsize) size * 4);
  return m;
}
