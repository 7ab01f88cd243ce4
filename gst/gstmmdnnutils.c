/* mmdnn — helpers shared by the elements (see gstmmdnnutils.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <dlfcn.h>
#include <glib/gi18n-lib.h>

#include "gstmmdnnutils.h"

static const gchar *const modality_names[] = {
  [MMDNN_MODALITY_VIDEO] = "video",
  [MMDNN_MODALITY_AUDIO] = "audio",
  [MMDNN_MODALITY_TEXT] = "text",
  [GST_MMDNN_MODALITY_FUSED] = "fused",
};

const gchar *
gst_mmdnn_modality_to_string (int modality)
{
  if (modality < 0 || modality >= (int) G_N_ELEMENTS (modality_names))
    return NULL;
  return modality_names[modality];
}

int
gst_mmdnn_modality_from_string (const gchar *s)
{
  for (guint i = 0; s != NULL && i < G_N_ELEMENTS (modality_names); i++)
    if (g_str_equal (s, modality_names[i]))
      return (int) i;
  return -1;
}

GstCaps *
gst_mmdnn_features_caps_new (int modality, gint tokens, gint dim,
                             const gchar *model_id)
{
  const gchar *name = gst_mmdnn_modality_to_string (modality);
  GstCaps *caps;

  g_return_val_if_fail (name != NULL && tokens > 0 && dim > 0, NULL);
  caps = gst_caps_new_simple (GST_MMDNN_FEATURES_MEDIA_TYPE,
      "modality", G_TYPE_STRING, name,
      "tokens", G_TYPE_INT, tokens, "dim", G_TYPE_INT, dim, NULL);
  if (model_id != NULL)
    gst_caps_set_simple (caps, "model", G_TYPE_STRING, model_id, NULL);
  return caps;
}

gboolean
gst_mmdnn_features_caps_parse (const GstCaps *caps, int *modality,
                               gint *tokens, gint *dim,
                               const gchar **model_id)
{
  const GstStructure *s;
  gint k = 0, d = 0, mod;

  if (caps == NULL || gst_caps_get_size (caps) != 1)
    return FALSE;
  s = gst_caps_get_structure (caps, 0);
  if (!gst_structure_has_name (s, GST_MMDNN_FEATURES_MEDIA_TYPE))
    return FALSE;
  mod = gst_mmdnn_modality_from_string (gst_structure_get_string (s,
          "modality"));
  if (mod < 0 || !gst_structure_get_int (s, "tokens", &k)
      || !gst_structure_get_int (s, "dim", &d)
      || k < 1 || k > 4096 || d < 1 || d > (1 << 20))
    return FALSE;
  if (modality != NULL)
    *modality = mod;
  if (tokens != NULL)
    *tokens = k;
  if (dim != NULL)
    *dim = d;
  if (model_id != NULL)
    *model_id = gst_structure_get_string (s, "model");
  return TRUE;
}

#define DEFAULT_MODEL_FILE "mmdnn-default.safetensors"

gchar *
gst_mmdnn_default_model_path (void)
{
  const gchar *env = g_getenv ("MMDNN_DEFAULT_MODEL");
  Dl_info info;

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  /* running from the build tree: the plugin is build/gst/libgstmmdnn.so */
  if (dladdr ((void *) gst_mmdnn_default_model_path, &info) != 0
      && info.dli_fname != NULL) {
    gchar *dir = g_path_get_dirname (info.dli_fname);
    gchar *real = realpath (dir, NULL);
    gboolean uninstalled = real != NULL
        && g_str_equal (real, MMDNN_BUILD_PLUGIN_DIR);

    free (real);
    g_free (dir);
    if (uninstalled)
      return g_build_filename (MMDNN_BUILD_MODEL_DIR, DEFAULT_MODEL_FILE,
          NULL);
  }
  return g_build_filename (MMDNN_DATADIR, DEFAULT_MODEL_FILE, NULL);
}

void
gst_mmdnn_post_error (GstElement *element, const GError *error,
                      const gchar *model_path)
{
  const gchar *msg = error != NULL ? error->message : "unknown error";
  const gchar *path = model_path != NULL ? model_path : "";
  gchar *dbg = g_strdup_printf ("%s (%s)", msg, error == NULL ? "?"
      : error->domain == MMDNN_ERROR
      ? mmdnn_error_code_to_string ((MmdnnError) error->code)
      : g_quark_to_string (error->domain));

  if (error != NULL && error->domain == MMDNN_ERROR) {
    switch (error->code) {
      case MMDNN_ERROR_IO:
        GST_ELEMENT_ERROR (element, RESOURCE, OPEN_READ,
            (_("Could not open model file \"%s\"."), path), ("%s", dbg));
        break;
      case MMDNN_ERROR_FORMAT:
        GST_ELEMENT_ERROR (element, RESOURCE, READ,
            (_("\"%s\" is not a valid mmdnn model file."), path),
            ("%s", dbg));
        break;
      case MMDNN_ERROR_MISMATCH:
        GST_ELEMENT_ERROR (element, STREAM, WRONG_TYPE,
            (_("The model file \"%s\" is not compatible with this element's "
                    "settings."), path), ("%s", dbg));
        break;
      case MMDNN_ERROR_NO_MEMORY:
        GST_ELEMENT_ERROR (element, CORE, FAILED, (NULL), ("%s", dbg));
        break;
      case MMDNN_ERROR_BACKEND:
        GST_ELEMENT_ERROR (element, LIBRARY, FAILED, (NULL), ("%s", dbg));
        break;
      case MMDNN_ERROR_DATA:
        GST_ELEMENT_ERROR (element, STREAM, DECODE,
            (_("The input could not be processed.")), ("%s", dbg));
        break;
      case MMDNN_ERROR_INVALID_ARGUMENT:
      default:
        GST_ELEMENT_ERROR (element, LIBRARY, SETTINGS,
            (_("Invalid settings for the model in use.")), ("%s", dbg));
        break;
    }
  } else if (error != NULL && error->domain == G_FILE_ERROR) {
    GST_ELEMENT_ERROR (element, RESOURCE, OPEN_READ,
        (_("Could not open model file \"%s\"."), path), ("%s", dbg));
  } else {
    GST_ELEMENT_ERROR (element, CORE, FAILED, (NULL), ("%s", dbg));
  }
  g_free (dbg);
}
