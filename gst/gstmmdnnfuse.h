/* mmdnn — mmdnnfuse: windows of video, audio and text features → one
 * classification per window (see the SECTION doc in gstmmdnnfuse.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstaggregator.h>

#include "gstmmdnnfeaturespad.h"

G_BEGIN_DECLS

#define GST_TYPE_MMDNN_FUSE_PAD (gst_mmdnn_fuse_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstMmdnnFusePad, gst_mmdnn_fuse_pad, GST, MMDNN_FUSE_PAD,
                      GstMmdnnFeaturesPad)

#define GST_TYPE_MMDNN_FUSE (gst_mmdnn_fuse_get_type ())
G_DECLARE_FINAL_TYPE (GstMmdnnFuse, gst_mmdnn_fuse, GST, MMDNN_FUSE,
                      GstAggregator)

G_END_DECLS
