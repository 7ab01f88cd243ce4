/* mmdnn — embedding bag (mean) over hashed ids.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>
#include <mmdnn/rng.h>
#include <mmdnn/tensor.h>

G_BEGIN_DECLS

/* nn.EmbeddingBag(mode='mean') over fixed-length, padded bags: each row of
 * ids is one bag (e.g. the hashed tokens of one text), an id < 0 is padding
 * and skipped, and the bag's vector is the mean of the rows of w it names.
 * A bag with no valid id gives 0 (as PyTorch). Ids must be < V: check data
 * with mmdnn_embedding_bag_check_ids () first.
 *   ids: (N, L)   w: (V, D)   → y: (N, D) (overwritten) */
MMDNN_API void mmdnn_embedding_bag_forward (float *y, const int32_t *ids,
                                            const float *w, int64_t n,
                                            int64_t l, int64_t d);

/* Accumulates (+=) dy[i] / count_i into every row of dw that bag i names
 * (an id repeated in a bag gets it once per occurrence).
 *   dy: (N, D)   ids: (N, L)   dw: (V, D) */
MMDNN_API void mmdnn_embedding_bag_backward (float *dw, const float *dy,
                                             const int32_t *ids, int64_t n,
                                             int64_t l, int64_t d);

/* Data check of @count ids against a vocabulary of @vocab rows: every id
 * must be < vocab (negative ids are padding). An out-of-range id gives
 * MMDNN_ERROR_DATA naming its position and value; bad arguments (NULL ids
 * with count > 0, count < 0, vocab < 1) give MMDNN_ERROR_INVALID_ARGUMENT. */
MMDNN_API gboolean mmdnn_embedding_bag_check_ids (const int32_t *ids,
                                                  int64_t count, int64_t vocab,
                                                  GError **error);

typedef struct {
  MmdnnParam *weight;           /* (VOCAB, DIM), weight decay */
  int64_t     vocab, dim;
} MmdnnEmbeddingBag;

/* Declares "<prefix>.weight" (VOCAB, DIM) in @ps (transfer none).
 * 1 ≤ vocab ≤ 2³¹ (ids are int32), dim ≥ 1, @prefix non-empty and unused.
 * On failure nothing is declared and @m is untouched. */
MMDNN_API gboolean mmdnn_embedding_bag_init (MmdnnEmbeddingBag *m,
                                             MmdnnParamSet *ps,
                                             const char *prefix, int64_t vocab,
                                             int64_t dim, GError **error);

/* PyTorch's init, after mmdnn_param_set_allocate (): weight ~ N(0, 1). */
MMDNN_API void mmdnn_embedding_bag_reset (MmdnnEmbeddingBag *m, MmdnnRng *rng);

G_END_DECLS
