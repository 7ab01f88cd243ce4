/* mmdnn — the elements of the gstmmdnn plugin.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* Once per process, from every element's registration: the text domain,
 * the shared "mmdnn" debug category, the core's log hook and the meta
 * types. */
void mmdnn_element_init (GstPlugin *plugin);

GST_ELEMENT_REGISTER_DECLARE (mmdnnvideoenc);
GST_ELEMENT_REGISTER_DECLARE (mmdnnaudioenc);
GST_ELEMENT_REGISTER_DECLARE (mmdnntextenc);
GST_ELEMENT_REGISTER_DECLARE (mmdnnfuse);
GST_ELEMENT_REGISTER_DECLARE (mmdnntrain);

G_END_DECLS
