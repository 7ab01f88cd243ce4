/* mmdnn — once-only set-up shared by every element of the plugin.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <glib/gi18n-lib.h>
#include <mmdnn/mmdnn.h>

#include "gstmmdnnelements.h"
#include "gstmmdnnmeta.h"

GST_DEBUG_CATEGORY_STATIC (mmdnn_core_debug);
#define GST_CAT_DEFAULT mmdnn_core_debug

/* The core never prints; its messages (and libav's, which media-libav
 * routes through the same hook) land in the "mmdnn" debug category. */
static void
core_log (MmdnnLogLevel level, const char *message, void *user_data)
{
  static const GstDebugLevel map[] = {
    [MMDNN_LOG_ERROR] = GST_LEVEL_ERROR,
    [MMDNN_LOG_WARNING] = GST_LEVEL_WARNING,
    [MMDNN_LOG_INFO] = GST_LEVEL_INFO,
    [MMDNN_LOG_DEBUG] = GST_LEVEL_DEBUG,
  };
  GstDebugLevel l = (guint) level < G_N_ELEMENTS (map) ? map[level]
      : GST_LEVEL_DEBUG;

  GST_CAT_LEVEL_LOG (mmdnn_core_debug, l, NULL, "%s", message);
}

void
mmdnn_element_init (GstPlugin *plugin)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (mmdnn_core_debug, "mmdnn", 0,
        "mmdnn core library");
#ifdef ENABLE_NLS
    bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
    bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
#endif
    mmdnn_set_log_func (core_log, NULL);
    /* A pipeline already runs one streaming thread per encoder and one
     * for fusion, each doing its own small GEMMs: OpenBLAS threads on top
     * only compete with them and spin while waiting (on 2 cores the demo
     * pipeline ran at 33x real time with 2 OpenBLAS threads, at 67x with
     * one, and used a third of the CPU). One thread per GEMM, unless the
     * user chose with OPENBLAS_NUM_THREADS. */
    if (g_getenv ("OPENBLAS_NUM_THREADS") == NULL)
      mmdnn_blas_set_threads (1);
    gst_mmdnn_result_meta_api_get_type ();
    gst_mmdnn_input_meta_api_get_type ();
    g_once_init_leave (&done, 1);
  }
}
