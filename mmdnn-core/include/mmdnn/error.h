/* mmdnn — errors and logging.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#if defined(__GNUC__)
#define MMDNN_API __attribute__ ((visibility ("default")))
#else
#define MMDNN_API
#endif

/**
 * MMDNN_ERROR:
 *
 * The GError domain of every core function that can fail. The code says what
 * kind of failure it was, the message says exactly what and where.
 */
#define MMDNN_ERROR (mmdnn_error_quark ())

typedef enum {
  MMDNN_ERROR_INVALID_ARGUMENT,   /* bad shape, size, hyper-parameter or NULL */
  MMDNN_ERROR_NO_MEMORY,          /* an allocation failed or would overflow   */
  MMDNN_ERROR_IO,                 /* open/read/write failed                   */
  MMDNN_ERROR_FORMAT,             /* not an mmdnn file / wrong version        */
  MMDNN_ERROR_MISMATCH,           /* file shapes != model shapes              */
  MMDNN_ERROR_BACKEND,            /* BLAS / libav / MPI reported an error     */
  MMDNN_ERROR_DATA,               /* bad data: label out of range, NaN, ...   */
} MmdnnError;

MMDNN_API GQuark      mmdnn_error_quark (void);
MMDNN_API const char *mmdnn_error_code_to_string (MmdnnError code);

typedef enum {
  MMDNN_LOG_ERROR,
  MMDNN_LOG_WARNING,
  MMDNN_LOG_INFO,
  MMDNN_LOG_DEBUG,
} MmdnnLogLevel;

typedef void (*MmdnnLogFunc) (MmdnnLogLevel level, const char *message,
                              void *user_data);

/* The core never prints by itself: with no log function set (the default),
 * messages are dropped. The plugin forwards them to its debug category, the
 * CLI to stderr. Not thread-safe against concurrent logging: set it once at
 * start-up. */
MMDNN_API void mmdnn_set_log_func (MmdnnLogFunc func, void *user_data);

G_END_DECLS
