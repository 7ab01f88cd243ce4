/* mmdnn — what the elements share: the features caps, the default model,
 * and core errors turned into element errors.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include <mmdnn/mmdnn.h>

G_BEGIN_DECLS

/*
 * Features caps (DESIGN.md §4):
 *   application/x-mmdnn-features, modality=(string){video,audio,text,fused},
 *     tokens=(int)K, dim=(int)D, model=(string)ID
 * Payload: K×D float32 in host order, token-major (row k = token k). PTS and
 * duration: the span of media the features describe. A text token that is
 * all zeros is padding (mmdnn_tokens_mask), so the mask survives any
 * transport that carries caps and bytes.
 */
#define GST_MMDNN_FEATURES_MEDIA_TYPE "application/x-mmdnn-features"
#define GST_MMDNN_FEATURES_CAPS_TEMPLATE(modalities)                          \
  GST_MMDNN_FEATURES_MEDIA_TYPE ", modality=(string)" modalities ", "        \
  "tokens=(int)[1,4096], dim=(int)[1,1048576]"
#define GST_MMDNN_FEATURES_CAPS_ANY                                           \
  GST_MMDNN_FEATURES_CAPS_TEMPLATE ("{ video, audio, text, fused }")

/* "video", "audio", "text" (MmdnnModality) or "fused". */
#define GST_MMDNN_MODALITY_FUSED MMDNN_N_MODALITIES

/* (transfer full): fixed features caps; @modality is an MmdnnModality or
 * GST_MMDNN_MODALITY_FUSED. */
GstCaps *gst_mmdnn_features_caps_new (int modality, gint tokens, gint dim,
                                      const gchar *model_id);
/* Reads fixed features caps: FALSE if they are not features caps, or a
 * field is missing or out of range. Outputs may be NULL; *model_id
 * (transfer none) is NULL when the caps carry no model field. */
gboolean gst_mmdnn_features_caps_parse (const GstCaps *caps, int *modality,
                                        gint *tokens, gint *dim,
                                        const gchar **model_id);
/* "video", "audio", "text", "fused"; NULL otherwise. And back (−1). */
const gchar *gst_mmdnn_modality_to_string (int modality);
int          gst_mmdnn_modality_from_string (const gchar *s);

/* (transfer full): the model used when an element's `model` is unset:
 * $MMDNN_DEFAULT_MODEL if set; else, when the plugin runs from the build
 * tree, the copy of models/mmdnn-default.safetensors there; else the one
 * installed under the data dir. Never NULL (the file may not exist: the
 * load then reports it). */
gchar *gst_mmdnn_default_model_path (void);

/* Posts @error (an MMDNN_ERROR or a GLib file error) as GST_ELEMENT_ERROR
 * with a translatable text chosen by its code; @model_path (may be NULL)
 * is quoted in the text when the failure is about loading it. The core's
 * message goes into the debug string. */
void gst_mmdnn_post_error (GstElement *element, const GError *error,
                           const gchar *model_path);

G_END_DECLS
