/* mmdnn — mmdnnaudioenc: audio windows to audio features.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gstmmdnnencoder.h"

G_BEGIN_DECLS

#define GST_TYPE_MMDNN_AUDIO_ENC (gst_mmdnn_audio_enc_get_type ())
G_DECLARE_FINAL_TYPE (GstMmdnnAudioEnc, gst_mmdnn_audio_enc, GST,
    MMDNN_AUDIO_ENC, GstMmdnnEncoder)

G_END_DECLS
