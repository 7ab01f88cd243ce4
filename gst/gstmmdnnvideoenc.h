/* mmdnn — mmdnnvideoenc: raw video frames → video features.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gstmmdnnencoder.h"

G_BEGIN_DECLS

#define GST_TYPE_MMDNN_VIDEO_ENC (gst_mmdnn_video_enc_get_type ())
G_DECLARE_FINAL_TYPE (GstMmdnnVideoEnc, gst_mmdnn_video_enc, GST,
    MMDNN_VIDEO_ENC, GstMmdnnEncoder)

G_END_DECLS
