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

/* Borrowed scratch for virtual data inside a training forward (model.c). */
#include <mmdnn/model.h>
MmdnnImageEncoderActs *mmdnn_model_borrow_image_acts (MmdnnModel *m, int mod,
                                                      int64_t n, float **rows);
