/* mmdnn — the result meta: what mmdnnfuse (and mmdnntrain) concluded about
 * one window, attached to every output buffer; and the input meta: what an
 * encoder's features were computed from, for mmdnntrain.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include <mmdnn/mmdnn.h>

G_BEGIN_DECLS

/*
 * Shaped after GStreamer's analytics classification metadata
 * (GstAnalyticsClsMtd, 1.24+, which Debian 12's 1.22 lacks): per task a
 * class id, its label as a GQuark, a confidence, and the whole probability
 * vector with the class quarks; plus what is particular to fusion: the
 * per-modality fusion weights, which modalities were present, and the age
 * of the newest features of each.
 */
typedef struct {
  GQuark  task;                 /* "class", "speaker_gender" */
  gint    class_id;             /* argmax of probs */
  GQuark  label;                /* class name of class_id */
  gfloat  confidence;           /* probs[class_id] */
  guint   n_classes;
  gfloat *probs;                /* (n_classes), owned by the meta */
  GQuark *classes;              /* (n_classes), owned by the meta */
} GstMmdnnTaskResult;

typedef struct {
  GstMeta            meta;
  GstClockTime       running_time;          /* window start */
  GstClockTime       duration;              /* window length */
  guint64            model_version;         /* registry version used */
  guint              n_tasks;
  GstMmdnnTaskResult tasks[MMDNN_MAX_TASKS];
  gfloat             weights[MMDNN_N_MODALITIES];   /* ω, Σ = 1 */
  gboolean           present[MMDNN_N_MODALITIES];
  /* running time from the newest features of the modality to the window's
   * end; GST_CLOCK_TIME_NONE if none was ever received */
  GstClockTime       age[MMDNN_N_MODALITIES];
} GstMmdnnResultMeta;

GType gst_mmdnn_result_meta_api_get_type (void);
#define GST_MMDNN_RESULT_META_API_TYPE (gst_mmdnn_result_meta_api_get_type ())
const GstMetaInfo *gst_mmdnn_result_meta_get_info (void);
#define GST_MMDNN_RESULT_META_INFO (gst_mmdnn_result_meta_get_info ())

#define gst_buffer_get_mmdnn_result_meta(b)                                   \
  ((GstMmdnnResultMeta *) gst_buffer_get_meta ((b), GST_MMDNN_RESULT_META_API_TYPE))

/* (transfer none): a meta on @buffer filled from @out's sample @i: per
 * task of @config the probabilities and argmax, ω and presence of the
 * sample; running_time, duration, model_version and age are the caller's
 * to set. */
GstMmdnnResultMeta *gst_buffer_add_mmdnn_result_meta (GstBuffer *buffer,
                                                      const MmdnnModelConfig *config,
                                                      const MmdnnOutputs *out,
                                                      const float *presence,
                                                      gint64 i);

/* (transfer full): the whole result as one JSON object on one line
 * (mmdnn_json_to_string_compact; shown spread out here):
 *   {"running_time": ns, "duration": ns, "model_version": n,
 *    "tasks": {"class": {"label": "Sneaker", "class_id": 7,
 *              "confidence": 0.93, "probabilities": {"T-shirt/top": …}}, …},
 *    "modalities": {"video": {"weight": 0.4, "present": true,
 *                              "age": ns or null}, …}} */
gchar *gst_mmdnn_result_meta_to_json (const GstMmdnnResultMeta *meta);

/*
 * The preprocessed input an encoder ran on to make one features buffer
 * (DESIGN.md §4: "the preprocessed input rides along in a GstMeta when a
 * trainer downstream needs it"), exactly the encoder input of one sample
 * (mmdnn_model_config_input_size elements):
 *   video: C·H·W float32 (mmdnn_video_prep_frame's output);
 *   audio: n_mels·patch_frames float32, the patch (1, n_mels, frames);
 *   text:  L·M int32 ids (mmdnn_text_tokenize's, −1 padding).
 * mmdnntrain trains the whole model (encoders included) on these, as
 * `mmdnn train` does on the samples of a data set.
 *
 * The encoders attach it only when downstream asks for it: an element that
 * wants it answers the ALLOCATION query with
 * gst_query_add_allocation_meta (query, GST_MMDNN_INPUT_META_API_TYPE,
 * NULL) (mmdnntrain, and mmdnnfuse so that a tee feeding both keeps it:
 * a tee passes on only the metas every branch accepts). It survives
 * buffer copies, so queues and tees keep it.
 */
typedef struct {
  GstMeta  meta;
  gint     modality;            /* MmdnnModality */
  gint64   size;                /* elements */
  gboolean ids;                 /* int32 ids (text), else float32 */
  gpointer data;                /* size × 4 bytes, owned by the meta */
} GstMmdnnInputMeta;

GType gst_mmdnn_input_meta_api_get_type (void);
#define GST_MMDNN_INPUT_META_API_TYPE (gst_mmdnn_input_meta_api_get_type ())
const GstMetaInfo *gst_mmdnn_input_meta_get_info (void);
#define GST_MMDNN_INPUT_META_INFO (gst_mmdnn_input_meta_get_info ())

#define gst_buffer_get_mmdnn_input_meta(b)                                    \
  ((GstMmdnnInputMeta *) gst_buffer_get_meta ((b), GST_MMDNN_INPUT_META_API_TYPE))

/* (transfer none): a meta on @buffer holding a copy of @size elements of
 * @data: int32 ids for MMDNN_MODALITY_TEXT, float32 otherwise. */
GstMmdnnInputMeta *gst_buffer_add_mmdnn_input_meta (GstBuffer *buffer,
                                                    gint modality,
                                                    gconstpointer data,
                                                    gint64 size);

G_END_DECLS
