/* mmdnn — private helpers, never installed.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <mmdnn/error.h>

void mmdnn_log (MmdnnLogLevel level, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* Argument checks of entry points that can fail: set @error, return @ret. */
#define MMDNN_CHECK(cond, error, ret, ...)                                     \
  G_STMT_START {                                                               \
    if (G_UNLIKELY (!(cond))) {                                                \
      g_set_error ((error), MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,         \
                   __VA_ARGS__);                                               \
      return (ret);                                                            \
    }                                                                          \
  } G_STMT_END

#define MMDNN_CHECK_NOT_NULL(ptr, error, ret)                                  \
  MMDNN_CHECK ((ptr) != NULL, error, ret, "%s: %s must not be NULL",           \
               G_STRFUNC, #ptr)

/* Strict RFC 8259 syntax of @len bytes of UTF-8 (checked before): what
 * json-glib may parse. It alone would take comments, single quotes, hex
 * numbers and trailing values, wrap integers beyond int64 without telling,
 * and recurse once per nesting level (a deep enough text overflows the
 * stack). Also refused: nesting deeper than MMDNN_JSON_MAX_DEPTH, "\u0000",
 * lone surrogates, control characters in strings; with @object_root, a
 * root that is not an object. MMDNN_ERROR_FORMAT, the message starting
 * with @what ("header byte 12: ..."). */
#define MMDNN_JSON_MAX_DEPTH 32
gboolean mmdnn_json_check_strict (const char *s, gsize len, const char *what,
                                  gboolean object_root, GError **error);
/* Borrowed scratch for virtual data inside a training forward (model.c). */
#include <mmdnn/model.h>
MmdnnImageEncoderActs *mmdnn_model_borrow_image_acts (MmdnnModel *m, int mod,
                                                      int64_t n, float **rows);
