/* mmdnn — mmdnntrain: on-line training inside the pipeline (see the
 * SECTION doc in gstmmdnntrain.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstaggregator.h>

#include "gstmmdnnfeaturespad.h"

G_BEGIN_DECLS

/* the features pads, sink_%u */
#define GST_TYPE_MMDNN_TRAIN_PAD (gst_mmdnn_train_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstMmdnnTrainPad, gst_mmdnn_train_pad, GST,
                      MMDNN_TRAIN_PAD, GstMmdnnFeaturesPad)

/* the label pad */
#define GST_TYPE_MMDNN_TRAIN_LABEL_PAD (gst_mmdnn_train_label_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstMmdnnTrainLabelPad, gst_mmdnn_train_label_pad, GST,
                      MMDNN_TRAIN_LABEL_PAD, GstAggregatorPad)

#define GST_TYPE_MMDNN_TRAIN (gst_mmdnn_train_get_type ())
G_DECLARE_FINAL_TYPE (GstMmdnnTrain, gst_mmdnn_train, GST, MMDNN_TRAIN,
                      GstAggregator)

/**
 * GstMmdnnTrainOptimizer:
 * @GST_MMDNN_TRAIN_OPTIMIZER_CONFIG: the model config's (optim.kind)
 * @GST_MMDNN_TRAIN_OPTIMIZER_ADAMW: AdamW (β = 0.9, 0.999)
 * @GST_MMDNN_TRAIN_OPTIMIZER_SGD: SGD with momentum 0.9
 */
typedef enum
{
  GST_MMDNN_TRAIN_OPTIMIZER_CONFIG,
  GST_MMDNN_TRAIN_OPTIMIZER_ADAMW,
  GST_MMDNN_TRAIN_OPTIMIZER_SGD,
} GstMmdnnTrainOptimizer;

/**
 * GstMmdnnTrainLeaky:
 * @GST_MMDNN_TRAIN_LEAKY_AUTO: drop in a live pipeline, wait otherwise
 * @GST_MMDNN_TRAIN_LEAKY_NO: wait for room (back-pressure upstream)
 * @GST_MMDNN_TRAIN_LEAKY_YES: drop the window (counted)
 */
typedef enum
{
  GST_MMDNN_TRAIN_LEAKY_AUTO,
  GST_MMDNN_TRAIN_LEAKY_NO,
  GST_MMDNN_TRAIN_LEAKY_YES,
} GstMmdnnTrainLeaky;

G_END_DECLS
