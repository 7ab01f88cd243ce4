/* mmdnn — mmdnntextenc: subtitle cues → text features.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gstmmdnnencoder.h"

G_BEGIN_DECLS

#define GST_TYPE_MMDNN_TEXT_ENC (gst_mmdnn_text_enc_get_type ())
G_DECLARE_FINAL_TYPE (GstMmdnnTextEnc, gst_mmdnn_text_enc, GST,
    MMDNN_TEXT_ENC, GstMmdnnEncoder)

G_END_DECLS
