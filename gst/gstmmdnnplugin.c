/* mmdnn — the gstmmdnn plugin: registration only.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmmdnnelements.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (mmdnnvideoenc, plugin);
  ret |= GST_ELEMENT_REGISTER (mmdnnaudioenc, plugin);
  ret |= GST_ELEMENT_REGISTER (mmdnntextenc, plugin);
  ret |= GST_ELEMENT_REGISTER (mmdnnfuse, plugin);
  ret |= GST_ELEMENT_REGISTER (mmdnntrain, plugin);
  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, mmdnn,
    "Multimodal deep neural network: encode video, audio and subtitles, "
    "fuse and classify them", plugin_init, VERSION, "LGPL", GST_PACKAGE_NAME,
    GST_PACKAGE_ORIGIN)
