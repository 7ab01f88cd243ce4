/* mmdnn — model and checkpoint files in the safetensors format.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <mmdnn/error.h>
#include <mmdnn/tensor.h>

G_BEGIN_DECLS

/* The file format is huggingface's safetensors, so a model written here reads
 * in PyTorch (safetensors.torch.load_file) and the other way round:
 *
 *   u64 N (little-endian)  the header length in bytes
 *   N bytes                a UTF-8 JSON object:
 *                            {"__metadata__": {"key": "value", ...},
 *                             "<name>": {"dtype": "F32", "shape": [2, 3],
 *                                        "data_offsets": [begin, end]}, ...}
 *                          padded with spaces so the data starts 8-aligned
 *   data                   the tensors, little-endian, row-major; offsets
 *                          are relative to the first byte after the header
 *
 * Only F32 tensors are supported. The reader accepts what the reference
 * implementation accepts and nothing more, so a file that opens here opens
 * everywhere:
 *  - strict RFC 8259 JSON (json-glib alone would take comments, single
 *    quotes, hex numbers and trailing values, and silently saturates
 *    integers beyond int64), nested at most 32 deep, no "\u0000", no lone
 *    surrogates, no duplicate member names at any level;
 *  - 0-d tensors (shape []) are scalars with one element; sizes of 0 are
 *    allowed (no data) — both exist in PyTorch state dicts;
 *  - the tensors cover the data area exactly: no overlap, no gap, nothing
 *    after the last tensor;
 *  - __metadata__ is optional, and is an object of string values.
 * Tensor names are non-empty, without control characters, and never
 * "__metadata__". Header lengths above 100 MiB are refused. */
#define MMDNN_SAFETENSORS_MAX_HEADER (INT64_C (100) << 20)

typedef struct _MmdnnSafetensors MmdnnSafetensors;

/* (transfer full): opens and validates @path; the tensor data is mapped,
 * not read. Every name, dtype, shape, offset and the header length are
 * checked before any tensor byte is touched. Errors: MMDNN_ERROR_IO when
 * the file cannot be opened or mapped (or is not a regular file),
 * MMDNN_ERROR_FORMAT for anything malformed; messages name the path and the
 * offending tensor. The file must not be truncated while open (mmap). */
MMDNN_API MmdnnSafetensors *mmdnn_safetensors_open (const char *path,
                                                    GError **error);
MMDNN_API void              mmdnn_safetensors_close (MmdnnSafetensors *st);

/* (transfer none) (nullable): the metadata value of @key, NULL if absent. */
MMDNN_API const char *mmdnn_safetensors_get_metadata (const MmdnnSafetensors *st,
                                                      const char *key);
/* Tensors are numbered in header order, 0..count-1. */
MMDNN_API guint       mmdnn_safetensors_count (const MmdnnSafetensors *st);
/* (transfer none) (nullable): the name of tensor @i, NULL out of range. */
MMDNN_API const char *mmdnn_safetensors_name (const MmdnnSafetensors *st,
                                              guint i);
/* Looks up @name: FALSE if absent. Otherwise sets *ndim (0..MMDNN_MAX_DIMS),
 * shape[0..ndim-1] (the rest zeroed) and *data, (transfer none) into the
 * file's mapping, float-aligned, valid until close. Any out pointer may be
 * NULL. */
MMDNN_API gboolean    mmdnn_safetensors_get (const MmdnnSafetensors *st,
                                             const char *name, int *ndim,
                                             int64_t shape[MMDNN_MAX_DIMS],
                                             const float **data);
/* Loads every parameter of the allocated set @ps from tensor
 * "<prefix><param name>", which must have exactly the parameter's shape.
 * A missing tensor, a different shape, or a tensor named "<prefix>..." that
 * the set lacks → MMDNN_ERROR_MISMATCH naming it. Everything is checked
 * before anything is copied: on failure no parameter changes. @prefix may
 * be "" or NULL (then every tensor of the file must be a parameter). */
MMDNN_API gboolean    mmdnn_safetensors_read_params (const MmdnnSafetensors *st,
                                                     MmdnnParamSet *ps,
                                                     const char *prefix,
                                                     GError **error);

typedef struct _MmdnnSafetensorsWriter MmdnnSafetensorsWriter;

/* (transfer full) */
MMDNN_API MmdnnSafetensorsWriter *mmdnn_safetensors_writer_new (void);
MMDNN_API void mmdnn_safetensors_writer_free (MmdnnSafetensorsWriter *w);

/* Queues tensor @name of shape (ndim 0..MMDNN_MAX_DIMS, sizes ≥ 0); @data
 * (transfer none) must hold its elements and stay valid until save (it may
 * be NULL only when there are none). A bad name (empty, control characters,
 * "__metadata__", not UTF-8), a duplicate name or a bad shape →
 * MMDNN_ERROR_INVALID_ARGUMENT and nothing is queued. */
MMDNN_API gboolean mmdnn_safetensors_writer_add (MmdnnSafetensorsWriter *w,
                                                 const char *name, int ndim,
                                                 const int64_t *shape,
                                                 const float *data,
                                                 GError **error);
/* Queues every parameter of the allocated set @ps as "<prefix><name>", in
 * declaration order; all names are checked first, so on failure nothing is
 * queued. @prefix may be "" or NULL. The values are borrowed until save. */
MMDNN_API gboolean mmdnn_safetensors_writer_add_params (MmdnnSafetensorsWriter *w,
                                                        const MmdnnParamSet *ps,
                                                        const char *prefix,
                                                        GError **error);
/* Sets (or replaces) a metadata entry; both strings are copied. Keys keep
 * their first insertion order. Invalid UTF-8 is reported by save. */
MMDNN_API void     mmdnn_safetensors_writer_set_metadata (MmdnnSafetensorsWriter *w,
                                                          const char *key,
                                                          const char *value);
/* Writes the file atomically: "<path>.tmp-XXXXXX" in the same directory,
 * fsync, rename over @path, fsync the directory. On failure
 * (MMDNN_ERROR_IO, or MMDNN_ERROR_INVALID_ARGUMENT for bad metadata) the file
 * previously at @path is untouched and the temporary file is removed. The
 * writer can be saved again or extended afterwards. */
MMDNN_API gboolean mmdnn_safetensors_writer_save (MmdnnSafetensorsWriter *w,
                                                  const char *path,
                                                  GError **error);

G_END_DECLS
