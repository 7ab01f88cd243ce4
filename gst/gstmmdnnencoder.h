/* mmdnn — GstMmdnnEncoder: the base class of the three encoders.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>
#include <mmdnn/mmdnn.h>

G_BEGIN_DECLS

#define GST_TYPE_MMDNN_ENCODER (gst_mmdnn_encoder_get_type ())
G_DECLARE_DERIVABLE_TYPE (GstMmdnnEncoder, gst_mmdnn_encoder, GST,
    MMDNN_ENCODER, GstBaseTransform)

/**
 * GstMmdnnEncoderClass:
 * @parent_class: the parent class
 * @modality: the modality whose encoder the subclass runs; set it in
 *   class_init with gst_mmdnn_encoder_class_set_modality()
 * @open: called by start () once the model is loaded and has an encoder
 *   for @modality: check the model's preprocessing settings and allocate
 *   what a buffer needs (never per buffer). @model is valid only during the
 *   call. On FALSE, set @error: the base class posts it and calls @close.
 * @close: frees what @open made; called by stop () and after a failed
 *   start, so it must cope with a partial or no @open.
 * @get_raw_caps: (transfer full) the raw caps the encoder takes now
 *   (default: the sink pad template's)
 * @accept_raw_caps: whether raw caps @caps give features (default: they
 *   intersect @get_raw_caps)
 *
 * The subclass keeps its sink pad template and input handling (set_caps
 * chaining up, sink events, transform or submit_input_buffer /
 * generate_output); the base class owns the `model` property, the model
 * registry entry, start/stop, the encode stage, the features caps,
 * transform_caps, output buffer allocation and decide_allocation.
 */
struct _GstMmdnnEncoderClass
{
  GstBaseTransformClass parent_class;

  MmdnnModality modality;

  gboolean (*open) (GstMmdnnEncoder *enc, const MmdnnModel *model,
                    GError **error);
  void (*close) (GstMmdnnEncoder *enc);
  GstCaps *(*get_raw_caps) (GstMmdnnEncoder *enc);
  gboolean (*accept_raw_caps) (GstMmdnnEncoder *enc, GstCaps *caps);

  /*< private >*/
  gpointer _gst_reserved[GST_PADDING];
};

/* In a subclass's class_init: sets @klass->modality and adds the "src" pad
 * template, the features caps of that modality
 * (GST_MMDNN_FEATURES_CAPS_TEMPLATE). The subclass adds its "sink" pad
 * template itself. */
void gst_mmdnn_encoder_class_set_modality (GstMmdnnEncoderClass *klass,
    MmdnnModality modality);

/* (transfer none): the resolved path of the loaded model, from start () to
 * stop (); NULL while stopped. */
const gchar *gst_mmdnn_encoder_get_model_path (GstMmdnnEncoder *enc);

/* (transfer full): the model's fixed features caps while started, else
 * NULL. Takes the object lock. */
GstCaps *gst_mmdnn_encoder_get_features_caps (GstMmdnnEncoder *enc);

/* A new output buffer of the features size (K × D float32), 16-byte
 * aligned, from the negotiated allocator; metadata (timestamps, flags) is
 * copied from @input when not NULL. Posts an error and returns
 * GST_FLOW_ERROR when it cannot be allocated. */
GstFlowReturn gst_mmdnn_encoder_allocate_output (GstMmdnnEncoder *enc,
    GstBuffer *input, GstBuffer **outbuf);

/* Runs the encode stage on one sample of @input (the modality's encoder
 * input, see mmdnn_model_config_input_size) with the model's current
 * version, writing straight into @outbuf; attaches a copy of @input as a
 * GstMmdnnInputMeta when downstream asked for it (a trainer); then marks
 * @outbuf as standing on its own (no DTS, offsets, DELTA_UNIT or HEADER).
 * Core failures are posted with gst_mmdnn_post_error (). */
GstFlowReturn gst_mmdnn_encoder_encode (GstMmdnnEncoder *enc,
    const void *input, GstBuffer *outbuf);

/* gst_mmdnn_post_error () naming the loaded model. */
void gst_mmdnn_encoder_post_error (GstMmdnnEncoder *enc,
    const GError *error);

G_END_DECLS
