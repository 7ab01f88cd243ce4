/* mmdnn — errors and logging.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>

#include "internal.h"

G_DEFINE_QUARK (mmdnn-error-quark, mmdnn_error)

const char *
mmdnn_error_code_to_string (MmdnnError code)
{
  switch (code) {
    case MMDNN_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case MMDNN_ERROR_NO_MEMORY:        return "out of memory";
    case MMDNN_ERROR_IO:               return "input/output error";
    case MMDNN_ERROR_FORMAT:           return "bad file format";
    case MMDNN_ERROR_MISMATCH:         return "shape or configuration mismatch";
    case MMDNN_ERROR_BACKEND:          return "backend error";
    case MMDNN_ERROR_DATA:             return "bad data";
  }
  return "unknown error";
}

static MmdnnLogFunc log_func;
static void *log_user_data;

void
mmdnn_set_log_func (MmdnnLogFunc func, void *user_data)
{
  log_func = func;
  log_user_data = user_data;
}

void
mmdnn_log (MmdnnLogLevel level, const char *format, ...)
{
  va_list ap;
  char *msg;

  if (log_func == NULL)
    return;
  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  log_func (level, msg, log_user_data);
  g_free (msg);
}
