/* mmdnn — inference split by stage (see infer.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <float.h>
#include <string.h>

#include <mmdnn/infer.h>
#include <mmdnn/loss.h>

#include "internal.h"

#define N_MOD MMDNN_N_MODALITIES

int64_t
mmdnn_model_config_input_size (const MmdnnModelConfig *c, MmdnnModality mod)
{
  const MmdnnImageEncoderConfig *ic;

  if (c == NULL || (int) mod < 0 || mod >= N_MOD || !c->has[mod])
    return 0;
  if (mod == MMDNN_MODALITY_TEXT)
    return c->text.max_tokens * c->text.ids_per_token;
  ic = mod == MMDNN_MODALITY_VIDEO ? &c->video : &c->audio;
  return ic->channels * ic->height * ic->width;
}

/* ---------------------------------------------------------------- encode */

struct _MmdnnEncodeStage {
  MmdnnModality          mod;
  int64_t                max_n;
  MmdnnImageEncoderActs *image;
  MmdnnTextEncoderActs  *text;
  /* what a model must match for these activations: the encoder config
   * (which fixes every activation size) */
  MmdnnImageEncoderConfig image_config;
  MmdnnTextEncoderConfig  text_config;
};

static const MmdnnImageEncoder *
image_encoder (const MmdnnModel *m, MmdnnModality mod)
{
  return mod == MMDNN_MODALITY_VIDEO ? &m->video : &m->audio;
}

MmdnnEncodeStage *
mmdnn_encode_stage_new (const MmdnnModel *m, MmdnnModality mod,
                        int64_t max_n, GError **error)
{
  MmdnnEncodeStage *s;

  MMDNN_CHECK_NOT_NULL (m, error, NULL);
  MMDNN_CHECK ((int) mod >= 0 && mod < N_MOD && m->config->has[mod], error,
               NULL, "encode stage: the model has no %s encoder",
               (int) mod >= 0 && mod < N_MOD ? mmdnn_modality_name (mod)
               : "such");
  MMDNN_CHECK (max_n >= 1, error, NULL,
               "encode stage: max_n=%" G_GINT64_FORMAT " must be ≥ 1", max_n);

  s = g_new0 (MmdnnEncodeStage, 1);
  s->mod = mod;
  s->max_n = max_n;
  if (mod == MMDNN_MODALITY_TEXT) {
    s->text_config = m->text.config;
    s->text = mmdnn_text_encoder_acts_new (&m->text, max_n, error);
  } else {
    s->image_config = image_encoder (m, mod)->config;
    s->image = mmdnn_image_encoder_acts_new (image_encoder (m, mod), max_n,
                                             error);
  }
  if (s->text == NULL && s->image == NULL) {
    mmdnn_encode_stage_free (s);
    return NULL;
  }
  return s;
}

void
mmdnn_encode_stage_free (MmdnnEncodeStage *s)
{
  if (s == NULL)
    return;
  mmdnn_image_encoder_acts_free (s->image);
  mmdnn_text_encoder_acts_free (s->text);
  g_free (s);
}

gboolean
mmdnn_encode_stage_fits (const MmdnnEncodeStage *s, const MmdnnModel *m)
{
  if (s == NULL || m == NULL || !m->config->has[s->mod])
    return FALSE;
  if (s->mod == MMDNN_MODALITY_TEXT)
    return memcmp (&s->text_config, &m->text.config,
                   sizeof (s->text_config)) == 0;
  return memcmp (&s->image_config, &image_encoder (m, s->mod)->config,
                 sizeof (s->image_config)) == 0;
}

gboolean
mmdnn_encode_stage_run (MmdnnEncodeStage *s, const MmdnnModel *m,
                        const void *input, int64_t n, float *tokens,
                        GError **error)
{
  const float *tok = NULL, *mask = NULL;
  int64_t k, d;
  gboolean ok;

  MMDNN_CHECK_NOT_NULL (s, error, FALSE);
  MMDNN_CHECK_NOT_NULL (m, error, FALSE);
  MMDNN_CHECK_NOT_NULL (input, error, FALSE);
  MMDNN_CHECK_NOT_NULL (tokens, error, FALSE);
  MMDNN_CHECK (n >= 1 && n <= s->max_n, error, FALSE,
               "encode stage: n=%" G_GINT64_FORMAT " outside [1, %"
               G_GINT64_FORMAT "]", n, s->max_n);
  MMDNN_CHECK (mmdnn_encode_stage_fits (s, m), error, FALSE,
               "encode stage: the model's %s encoder has other sizes than "
               "the one this stage was made for",
               mmdnn_modality_name (s->mod));

  k = m->config->fusion.tokens[s->mod];
  d = m->config->fusion.dim;
  if (s->mod == MMDNN_MODALITY_TEXT)
    ok = mmdnn_text_encoder_forward (&m->text, s->text, input, n, &tok, &mask,
                                     NULL, error);
  else
    ok = mmdnn_image_encoder_forward (image_encoder (m, s->mod), s->image,
                                      input, n, &tok, NULL, error);
  if (!ok)
    return FALSE;
  memcpy (tokens, tok, sizeof (float) * n * k * d);
  /* A real text token that came out exactly zero (it cannot in practice:
   * layer norm then a learned position) would read as padding downstream;
   * nudge it to the smallest normal float so the mask survives. */
  for (int64_t r = 0; mask != NULL && r < n * k; r++)
    if (mask[r] != 0.0f && mmdnn_tokens_mask (tokens + r * d, 1, d, NULL) == 0)
      tokens[r * d] = FLT_MIN;
  return TRUE;
}

int64_t
mmdnn_tokens_mask (const float *tokens, int64_t k, int64_t d, float *mask)
{
  int64_t real = 0;

  for (int64_t r = 0; r < k; r++) {
    gboolean nz = FALSE;

    for (int64_t j = 0; j < d && !nz; j++)
      nz = tokens[r * d + j] != 0.0f;
    if (mask != NULL)
      mask[r] = nz ? 1.0f : 0.0f;
    real += nz;
  }
  return real;
}

/* ------------------------------------------------------------------ fuse */

struct _MmdnnFuseStage {
  int64_t           max_n;
  MmdnnFusionActs  *fusion;
  MmdnnModelConfig *config;     /* the sizes a model must match */
  float            *presence;   /* (max_n, 3) */
  float            *logits;     /* (max_n, max C_t) */
  float            *probs[MMDNN_MAX_TASKS];
  int32_t          *no_labels;  /* (max_n) of −1 */
};

static gboolean
same_shape (const MmdnnModelConfig *a, const MmdnnModelConfig *b)
{
  if (memcmp (&a->fusion, &b->fusion, sizeof (a->fusion)) != 0
      || a->n_tasks != b->n_tasks)
    return FALSE;
  for (int mod = 0; mod < N_MOD; mod++)
    if (a->has[mod] != b->has[mod])
      return FALSE;
  for (int t = 0; t < a->n_tasks; t++)
    if (a->tasks[t].n_classes != b->tasks[t].n_classes)
      return FALSE;
  return TRUE;
}

MmdnnFuseStage *
mmdnn_fuse_stage_new (const MmdnnModel *m, int64_t max_n, GError **error)
{
  MmdnnFuseStage *s;
  int64_t cmax = 1;

  MMDNN_CHECK_NOT_NULL (m, error, NULL);
  MMDNN_CHECK (max_n >= 1 && max_n <= m->max_batch * 1024, error, NULL,
               "fuse stage: max_n=%" G_GINT64_FORMAT " out of range", max_n);

  s = g_new0 (MmdnnFuseStage, 1);
  s->max_n = max_n;
  s->config = mmdnn_model_config_copy (m->config);
  s->fusion = mmdnn_fusion_acts_new (&m->fusion, max_n, error);
  if (s->fusion == NULL)
    goto fail;
  for (int t = 0; t < m->config->n_tasks; t++)
    cmax = MAX (cmax, m->config->tasks[t].n_classes);
  s->presence = mmdnn_floats_new (max_n * N_MOD, error);
  s->logits = s->presence != NULL ? mmdnn_floats_new (max_n * cmax, error)
      : NULL;
  if (s->logits == NULL)
    goto fail;
  for (int t = 0; t < m->config->n_tasks; t++) {
    s->probs[t] = mmdnn_floats_new (max_n * m->config->tasks[t].n_classes,
                                    error);
    if (s->probs[t] == NULL)
      goto fail;
  }
  s->no_labels = g_new (int32_t, max_n);
  for (int64_t i = 0; i < max_n; i++)
    s->no_labels[i] = -1;
  return s;

fail:
  mmdnn_fuse_stage_free (s);
  return NULL;
}

void
mmdnn_fuse_stage_free (MmdnnFuseStage *s)
{
  if (s == NULL)
    return;
  mmdnn_fusion_acts_free (s->fusion);
  mmdnn_floats_free (s->presence);
  mmdnn_floats_free (s->logits);
  for (int t = 0; t < MMDNN_MAX_TASKS; t++)
    mmdnn_floats_free (s->probs[t]);
  g_free (s->no_labels);
  if (s->config != NULL)
    mmdnn_model_config_free (s->config);
  g_free (s);
}

gboolean
mmdnn_fuse_stage_fits (const MmdnnFuseStage *s, const MmdnnModel *m)
{
  return s != NULL && m != NULL && same_shape (s->config, m->config);
}

gboolean
mmdnn_fuse_stage_run (MmdnnFuseStage *s, const MmdnnModel *m,
                      const float *const tokens[MMDNN_N_MODALITIES],
                      const float *const masks[MMDNN_N_MODALITIES],
                      const float *presence, int64_t n, MmdnnOutputs *out,
                      GError **error)
{
  const MmdnnModelConfig *c;
  const float *tok[N_MOD], *fused = NULL, *omega = NULL;
  int64_t d;

  MMDNN_CHECK_NOT_NULL (s, error, FALSE);
  MMDNN_CHECK_NOT_NULL (m, error, FALSE);
  MMDNN_CHECK_NOT_NULL (tokens, error, FALSE);
  MMDNN_CHECK_NOT_NULL (out, error, FALSE);
  MMDNN_CHECK (n >= 1 && n <= s->max_n, error, FALSE,
               "fuse stage: n=%" G_GINT64_FORMAT " outside [1, %"
               G_GINT64_FORMAT "]", n, s->max_n);
  MMDNN_CHECK (mmdnn_fuse_stage_fits (s, m), error, FALSE,
               "fuse stage: the model's fusion or heads have other sizes "
               "than the ones this stage was made for");
  c = m->config;
  d = c->fusion.dim;

  /* a modality the model lacks is missing, whatever the caller says */
  for (int mod = 0; mod < N_MOD; mod++) {
    tok[mod] = c->has[mod] ? tokens[mod] : NULL;
    for (int64_t i = 0; i < n; i++)
      s->presence[i * N_MOD + mod] = !c->has[mod] ? 0.0f
          : presence != NULL ? presence[i * N_MOD + mod] : 1.0f;
  }
  if (!mmdnn_fusion_forward (&m->fusion, s->fusion, tok, masks, s->presence,
                             n, &fused, &omega, error))
    return FALSE;

  memset (out, 0, sizeof (*out));
  for (int t = 0; t < c->n_tasks; t++) {
    const MmdnnLinear *h = &m->heads[t];
    float loss;

    /* the heads exactly as mmdnn_model_forward runs them (the softmax of
     * the cross-entropy, every label unknown), so the results agree */
    mmdnn_linear_forward (s->logits, fused, h->weight->value, h->bias->value,
                          n, d, h->out);
    mmdnn_cross_entropy_forward (&loss, s->probs[t], s->logits, s->no_labels,
                                 NULL, -1, n, h->out, NULL);
    out->probs[t] = s->probs[t];
  }
  out->modality_weights = omega;
  out->fused = fused;
  return TRUE;
}
