/* The one reader of the "MMDG" golden files in tests/core/golden (format:
 * golden/README.md and golden/mmdg.py). It trusts nothing in a file: magic,
 * version, counts, name lengths and bytes, dtypes, ndim and every size are
 * checked, each shape is bounded by the bytes left before it is multiplied
 * or allocated, and trailing bytes and duplicate names are rejected.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <glib.h>
#include <mmdnn/error.h>
#include <mmdnn/tensor.h>

#define GOLDEN_MAGIC       "MMDG"
#define GOLDEN_VERSION     1
#define GOLDEN_MAX_NAME    255
#define GOLDEN_MAX_TENSORS 1024
/* in a lookup shape: any size (one the test then reads from the tensor) */
#define GOLDEN_ANY         (-1)

typedef enum {
  GOLDEN_F32 = 0,
  GOLDEN_I32 = 1,
} GoldenDtype;

typedef struct {
  char        *name;
  GoldenDtype  dtype;
  int          ndim;            /* 0: a scalar, one element */
  int64_t      shape[MMDNN_MAX_DIMS];
  int64_t      numel;
  gpointer     data;            /* float or int32_t, host byte order */
} GoldenTensor;

typedef struct {
  char      *label;             /* case name, for messages */
  GPtrArray *tensors;           /* GoldenTensor*, in file order */
  GPtrArray *scratch;           /* golden_zeros () buffers, freed with it */
  gboolean   failed;            /* a golden_get () failed: skip comparing */
} Golden;

/* (transfer full): the tensors of the file held in @buf[@len]; NULL with
 * MMDNN_ERROR_FORMAT on anything malformed. @label prefixes messages. */
Golden *golden_parse (const guint8 *buf, gsize len, const char *label,
                      GError **error);
/* As golden_parse () on the file at @path; MMDNN_ERROR_IO if unreadable. */
Golden *golden_load_path (const char *path, const char *label,
                          GError **error);
/* G_TEST_SRCDIR/golden/<case_name>.bin (g_free) */
char   *golden_path (const char *case_name);
/* The case's file; a failed load fails the test with the reader's message
 * and returns NULL. */
Golden *golden_open (const char *case_name);
void    golden_free (Golden *g);

/* (transfer none): the tensor @name, which must have exactly @dtype and
 * @ndim, and @shape[d] for every d where it is not GOLDEN_ANY;
 * MMDNN_ERROR_MISMATCH otherwise. */
const GoldenTensor *golden_lookup (const Golden *g, const char *name,
                                   GoldenDtype dtype, int ndim,
                                   const int64_t *shape, GError **error);
/* golden_lookup ()'s data; on a mismatch fails the test (non-fatally),
 * sets @g->failed and returns NULL. */
gconstpointer golden_get (Golden *g, const char *name, GoldenDtype dtype,
                          int ndim, const int64_t *shape);
/* 0-d scalars through golden_get (); NAN / 0 after a failure */
float   golden_scalar_f (Golden *g, const char *name);
int32_t golden_scalar_i (Golden *g, const char *name);
/* Zero-filled floats owned by @g. */
float  *golden_zeros (Golden *g, int64_t n);

#define SHAPE(...) ((const int64_t[]) { __VA_ARGS__ })
#define NDIM(...)  ((int) (sizeof (SHAPE (__VA_ARGS__)) / sizeof (int64_t)))
#define GF32(g, name, ...) \
  ((const float *) golden_get ((g), (name), GOLDEN_F32, NDIM (__VA_ARGS__), \
                               SHAPE (__VA_ARGS__)))
#define GF32_SCALAR(g, name) \
  ((const float *) golden_get ((g), (name), GOLDEN_F32, 0, NULL))
#define GI32(g, name, ...) \
  ((const int32_t *) golden_get ((g), (name), GOLDEN_I32, \
                                 NDIM (__VA_ARGS__), SHAPE (__VA_ARGS__)))
