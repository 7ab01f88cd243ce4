/* mmdnn — embedding bag (mean) over hashed ids.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include <mmdnn/embedding.h>
#include "internal.h"

/* y_i = (1/|B_i|) Σ_{k ∈ B_i} w[ids_ik],  B_i = { k : ids_ik ≥ 0 };  y_i = 0 if B_i = ∅
 *   ids: (N, L)   w: (V, D)   → y: (N, D) */
void
mmdnn_embedding_bag_forward (float *y, const int32_t *ids, const float *w,
                             int64_t n, int64_t l, int64_t d)
{
  for (int64_t i = 0; i < n; i++) {
    const int32_t *bag = ids + i * l;
    float *yr = y + i * d;
    int64_t count = 0;

    memset (yr, 0, sizeof (float) * d);
    for (int64_t k = 0; k < l; k++) {
      const float *row;
      if (bag[k] < 0)
        continue;
      row = w + (int64_t) bag[k] * d;
      for (int64_t j = 0; j < d; j++)
        yr[j] += row[j];
      count++;
    }
    if (count > 1) {
      float fc = (float) count;
      for (int64_t j = 0; j < d; j++)
        yr[j] /= fc;
    }
  }
}

/* dw[ids_ik] += dy_i / |B_i|   for every k ∈ B_i
 *   dy: (N, D)   ids: (N, L)   dw: (V, D) */
void
mmdnn_embedding_bag_backward (float *dw, const float *dy, const int32_t *ids,
                              int64_t n, int64_t l, int64_t d)
{
  if (dw == NULL)
    return;
  for (int64_t i = 0; i < n; i++) {
    const int32_t *bag = ids + i * l;
    const float *dyr = dy + i * d;
    int64_t count = 0;
    float fc;

    for (int64_t k = 0; k < l; k++)
      if (bag[k] >= 0)
        count++;
    if (count == 0)
      continue;
    fc = (float) count;
    for (int64_t k = 0; k < l; k++) {
      float *row;
      if (bag[k] < 0)
        continue;
      row = dw + (int64_t) bag[k] * d;
      for (int64_t j = 0; j < d; j++)
        row[j] += dyr[j] / fc;
    }
  }
}

gboolean
mmdnn_embedding_bag_check_ids (const int32_t *ids, int64_t count,
                               int64_t vocab, GError **error)
{
  MMDNN_CHECK (count >= 0, error, FALSE,
               "embedding bag: count=%" G_GINT64_FORMAT " must be ≥ 0", count);
  MMDNN_CHECK (ids != NULL || count == 0, error, FALSE,
               "embedding bag: ids must not be NULL (count=%" G_GINT64_FORMAT
               ")", count);
  MMDNN_CHECK (vocab >= 1, error, FALSE,
               "embedding bag: vocab=%" G_GINT64_FORMAT " must be ≥ 1", vocab);
  for (int64_t i = 0; i < count; i++) {
    if (G_UNLIKELY ((int64_t) ids[i] >= vocab)) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                   "embedding bag: ids[%" G_GINT64_FORMAT "] = %" G_GINT32_FORMAT
                   " is out of range for a vocabulary of %" G_GINT64_FORMAT,
                   i, ids[i], vocab);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
mmdnn_embedding_bag_init (MmdnnEmbeddingBag *m, MmdnnParamSet *ps,
                          const char *prefix, int64_t vocab, int64_t dim,
                          GError **error)
{
  MmdnnParam *weight;

  MMDNN_CHECK_NOT_NULL (m, error, FALSE);
  /* ids are int32: rows past 2³¹ could never be named */
  MMDNN_CHECK (vocab >= 1 && vocab <= (int64_t) G_MAXINT32 + 1, error, FALSE,
               "embedding bag '%s': vocab=%" G_GINT64_FORMAT
               " must be in [1, 2^31]", prefix, vocab);
  MMDNN_CHECK (dim >= 1, error, FALSE,
               "embedding bag '%s': dim=%" G_GINT64_FORMAT " must be ≥ 1",
               prefix, dim);
  if (!mmdnn_param_set_declare_layer (ps, "embedding bag", prefix, 2,
                                      (int64_t[]) { vocab, dim }, TRUE, 0,
                                      &weight, NULL, error))
    return FALSE;
  m->weight = weight;
  m->vocab = vocab;
  m->dim = dim;
  return TRUE;
}

void
mmdnn_embedding_bag_reset (MmdnnEmbeddingBag *m, MmdnnRng *rng)
{
  mmdnn_rng_fill_normal (rng, m->weight->value, m->weight->numel, 0.0f, 1.0f);
}
