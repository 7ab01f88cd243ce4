/* mmdnn — the whole MMDNN: encoders, fusion, heads, the joint objective,
 * training and evaluation (see model.h and DESIGN.md §2.3–§2.4).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A composition of the modules, written llm.c style: the arena (sized once,
 * in mmdnn_model_new, for max_batch samples) holds one named buffer per
 * activation and per activation gradient; forward is a list of stages and
 * mmdnn_model_backward is the same list in reverse, one call per stage.
 *
 * Missing modalities: each encoder runs only on the samples where its
 * modality is present. Their inputs are gathered into a packed sub-batch,
 * the encoder runs on those n_m samples, and its tokens are scattered back
 * into (N, K_m, D) buffers for the fusion (zeros and presence 0 elsewhere).
 * Backward gathers the token gradients the same way. A missing modality's
 * input is therefore never read: NaN or garbage there cannot reach any
 * computation.
 *
 * The objective (train forward):
 *   total = Σ_t w_t·CE_t + w_aux·aux + w_recon·recon + w_adv·adv + w_nce·nce
 *   CE_t   head "head.<task>" (D → C_t) on the fused vector, labels −1
 *          ignored; a mixup batch uses λ·CE(labels) + (1 − λ)·CE(labels_b).
 *   aux    per present modality m, head "aux.<m>" (D → C_0) on the fusion
 *          summary s_m of the samples where m is present, CE with the task-0
 *          labels (mixed like the task heads); the mean over the modalities
 *          that had samples.
 *   recon  Σ over the encoders that ran of their reconstruction losses.
 *   adv    discriminator (GRL → fc1 → ReLU → fc2 → 3 classes) on every real
 *          token of every present modality, CE against the modality index,
 *          the mean over those tokens.
 *   nce    symmetric InfoNCE between s_m and s_n for every pair over the
 *          samples where both are present (≥ 2 of them), the mean over the
 *          pairs that qualified.
 * Inference runs the encoders (no decoders), the fusion and the heads only.
 */
#include <math.h>
#include <string.h>

#include <mmdnn/model.h>
#include <mmdnn/activation.h>
#include <mmdnn/augment.h>
#include <mmdnn/loss.h>
#include "internal.h"
#include "model-internal.h"

#define N_MOD      MMDNN_N_MODALITIES
#define N_PAIR     MMDNN_N_PAIRS
#define MAX_BATCH  (INT64_C (1) << 20)

/* the modalities (m, n) of each pair, in fusion.h's pair order */
static const int pair_mod[N_PAIR][2] = { { 0, 1 }, { 0, 2 }, { 1, 2 } };

struct _MmdnnModelActs {
  int64_t   max_n;
  int64_t   n;                  /* batch of the last forward, 0 = none/failed */
  gboolean  train;              /* that forward was a training one          */
  gboolean  mixed;              /* it had labels_b                          */
  float     mix;                /* its λ (1 when unmixed)                   */
  int64_t   in_size[N_MOD];     /* floats (ids for text) per sample         */

  MmdnnImageEncoderActs *image[2];      /* video, audio */
  MmdnnTextEncoderActs  *text;
  MmdnnFusionActs       *fusion;

  float   *slab;
  int32_t *islab;
  int64_t *lslab;

  /* the model's copy of a batch: the training copy that virtual data
   * rewrites, or evaluate's packed eligible samples */
  MmdnnBatch copy;
  float   *in_x[2];             /* (N, C, H, W) video, audio */
  int32_t *in_ids;              /* (N, L, M) */
  float   *in_presence;         /* (N, 3) */
  int32_t *in_labels, *in_labels_b;     /* (N, T) */

  /* encoders: gather present samples, run, scatter */
  int64_t  count[N_MOD];        /* n_m: samples with m present */
  int64_t *idx[N_MOD];          /* (N) those samples, ascending */
  float   *packed_x[2];         /* (N, C, H, W) */
  int32_t *packed_ids;          /* (N, L, M) */
  float   *tok[N_MOD];          /* (N, K_m, D) 0 where m is missing */
  float   *mask;                /* (N, L) text mask, 0 where text is missing */
  float   *presence;            /* (N, 3) restricted to the model's modalities */
  float    recon[N_MOD];        /* each encoder's reconstruction loss */
  const float *fused, *omega;   /* (N, D), (N, 3): views into the fusion arena */

  /* heads */
  int32_t *lab[MMDNN_MAX_TASKS], *lab_b[MMDNN_MAX_TASKS];       /* (N) */
  float   *logits[MMDNN_MAX_TASKS], *probs[MMDNN_MAX_TASKS];    /* (N, C_t) */

  /* auxiliary heads */
  int64_t  aux_mods;            /* modalities that had samples */
  float   *aux_in[N_MOD];       /* (N, D) s_m of the samples idx[m] */
  int32_t *aux_lab[N_MOD], *aux_lab_b[N_MOD];                  /* (N) */
  float   *aux_logits[N_MOD], *aux_probs[N_MOD];               /* (N, C_0) */

  /* modality discriminator, over R real tokens */
  int64_t  disc_rows;           /* R */
  int64_t *disc_src;            /* (R) token row (i·K_m + k) in tok[m] */
  int32_t *disc_target;         /* (R) its modality m */
  float   *disc_in;             /* (R, D) GRL output */
  float   *disc_h, *disc_r;     /* (R, H) fc1, ReLU */
  float   *disc_logits, *disc_probs;        /* (R, 3) */

  /* InfoNCE per pair */
  int64_t  nce_pairs;           /* pairs with ≥ 2 samples */
  int64_t  nce_count[N_PAIR];
  int64_t *nce_idx[N_PAIR];     /* (N) samples with both modalities */
  float   *nce_a[N_PAIR], *nce_b[N_PAIR];   /* (N, D) s_m, s_n rows */
  float   *nce_ws[N_PAIR];

  /* backward: d<name> is the gradient of <name> */
  float *dtok[N_MOD];           /* (N, K_m, D) */
  float *dpacked[N_MOD];        /* (N, K_m, D) gathered for the encoder */
  float *dfused;                /* (N, D) */
  float *dsumm;                 /* (N, 3, D) */
  float *dlogits;               /* (N, max C_t) one head at a time */
  float *daux_in;               /* (N, D) */
  float *ddisc_logits;          /* (R, 3) */
  float *ddisc_r, *ddisc_h;     /* (R, H) */
  float *ddisc_in;              /* (R, D) */
  float *dnce_a, *dnce_b;       /* (N, D) */

  /* each term's value in the last train forward, and its weight in the
   * backward: 1 for a whole batch, the slice's share of the batch's count
   * in data-parallel training (mmdnn_model_backward_shared) */
  float    task_ce[MMDNN_MAX_TASKS], aux_ce[N_MOD], adv_ce, nce_loss;
  float    share_task[MMDNN_MAX_TASKS], share_aux[N_MOD], share_recon[N_MOD];
  float    share_adv, share_nce;
  int64_t  aux_div;             /* modalities the auxiliary mean is over */
};

/* ---------------------------------------------------------------- helpers */

static const char *
mod_name (int mod)
{
  return mmdnn_modality_name ((MmdnnModality) mod);
}

static MmdnnImageEncoder *
image_encoder (MmdnnModel *m, int mod)
{
  return mod == MMDNN_MODALITY_VIDEO ? &m->video : &m->audio;
}

static const MmdnnImageEncoderConfig *
image_config (const MmdnnModelConfig *c, int mod)
{
  return mod == MMDNN_MODALITY_VIDEO ? &c->video : &c->audio;
}

static float *
batch_input (const MmdnnBatch *b, int mod)
{
  return mod == MMDNN_MODALITY_VIDEO ? b->video : b->audio;
}

/* whether the batch provides an input array for modality @mod */
static gboolean
batch_has_input (const MmdnnBatch *b, int mod)
{
  return mod == MMDNN_MODALITY_TEXT ? b->text_ids != NULL
      : batch_input (b, mod) != NULL;
}

/* floats (image) or ids (text) per sample of modality @mod */
static int64_t
input_size (const MmdnnModelConfig *c, int mod)
{
  const MmdnnImageEncoderConfig *ic;

  if (mod == MMDNN_MODALITY_TEXT)
    return c->text.max_tokens * c->text.ids_per_token;
  ic = image_config (c, mod);
  return ic->channels * ic->height * ic->width;
}

static int64_t
max_classes (const MmdnnModelConfig *c)
{
  int64_t cm = 0;

  for (int t = 0; t < c->n_tasks; t++)
    cm = MAX (cm, c->tasks[t].n_classes);
  return cm;
}

/* ---------------------------------------------------------------- ablations */

const char *
mmdnn_ablation_name (MmdnnAblation a)
{
  static const char *const names[MMDNN_N_ABLATIONS] = {
    "full", "video", "audio", "text", "no_video", "no_audio", "no_text"
  };

  return (int) a >= 0 && (int) a < MMDNN_N_ABLATIONS ? names[a] : NULL;
}

/* whether modality @mod survives ablation @a */
static gboolean
ablation_keeps (MmdnnAblation a, int mod)
{
  switch (a) {
    case MMDNN_ABLATION_FULL:
      return TRUE;
    case MMDNN_ABLATION_ONLY_VIDEO:
    case MMDNN_ABLATION_ONLY_AUDIO:
    case MMDNN_ABLATION_ONLY_TEXT:
      return mod == (int) a - MMDNN_ABLATION_ONLY_VIDEO;
    case MMDNN_ABLATION_NO_VIDEO:
    case MMDNN_ABLATION_NO_AUDIO:
    case MMDNN_ABLATION_NO_TEXT:
      return mod != (int) a - MMDNN_ABLATION_NO_VIDEO;
    default:
      return FALSE;
  }
}

/* ---------------------------------------------------------------- batch */

MmdnnBatch *
mmdnn_batch_new (const MmdnnModelConfig *c, int64_t n, GError **error)
{
  MmdnnBatch *b;
  gboolean ok = TRUE;

  MMDNN_CHECK_NOT_NULL (c, error, NULL);
  MMDNN_CHECK (n >= 1 && n <= MAX_BATCH, error, NULL,
               "batch: n=%" G_GINT64_FORMAT " must be in [1, %" G_GINT64_FORMAT
               "]", n, MAX_BATCH);
  MMDNN_CHECK (c->n_tasks >= 1 && c->n_tasks <= MMDNN_MAX_TASKS, error, NULL,
               "batch: the config has n_tasks=%d, must be in [1, %d]",
               c->n_tasks, MMDNN_MAX_TASKS);
  for (int mod = 0; mod < N_MOD; mod++)
    MMDNN_CHECK (!c->has[mod] || (input_size (c, mod) >= 1
                                  && input_size (c, mod) <= MMDNN_MAX_NUMEL / n),
                 error, NULL, "batch: %s inputs of %" G_GINT64_FORMAT
                 " samples do not fit", mod_name (mod), n);

  b = g_new0 (MmdnnBatch, 1);
  b->n = n;
  b->mix = 1.0f;
  if (c->has[MMDNN_MODALITY_VIDEO])
    ok &= (b->video = g_try_new0 (float, n * input_size (c, 0))) != NULL;
  if (c->has[MMDNN_MODALITY_AUDIO])
    ok &= (b->audio = g_try_new0 (float, n * input_size (c, 1))) != NULL;
  if (c->has[MMDNN_MODALITY_TEXT])
    ok &= (b->text_ids = g_try_new0 (int32_t, n * input_size (c, 2))) != NULL;
  ok &= (b->presence = g_try_new0 (float, n * N_MOD)) != NULL;
  ok &= (b->labels = g_try_new (int32_t, n * c->n_tasks)) != NULL;
  if (!ok) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                 "batch: out of memory for %" G_GINT64_FORMAT " samples", n);
    mmdnn_batch_free (b);
    return NULL;
  }
  for (int64_t i = 0; i < n; i++)
    for (int mod = 0; mod < N_MOD; mod++)
      b->presence[i * N_MOD + mod] = c->has[mod] ? 1.0f : 0.0f;
  for (int64_t k = 0; k < n * c->n_tasks; k++)
    b->labels[k] = -1;
  return b;
}

/* Frees every array, labels_b included (whoever allocated it: mixup
 * allocates it with g_new when the batch had none). */
void
mmdnn_batch_free (MmdnnBatch *b)
{
  if (b == NULL)
    return;
  g_free (b->video);
  g_free (b->audio);
  g_free (b->text_ids);
  g_free (b->presence);
  g_free (b->labels);
  g_free (b->labels_b);
  g_free (b);
}

/* ---------------------------------------------------------------- arena */

/* Hand out the next @count elements of a slab (64-byte aligned), or only
 * count them when the base is NULL. */
static float *
take (float *base, int64_t *off, int64_t count)
{
  float *p = base != NULL ? base + *off : NULL;

  *off += (count + 15) & ~INT64_C (15);
  return p;
}

static int32_t *
take_i32 (int32_t *base, int64_t *off, int64_t count)
{
  int32_t *p = base != NULL ? base + *off : NULL;

  *off += (count + 15) & ~INT64_C (15);
  return p;
}

static int64_t *
take_i64 (int64_t *base, int64_t *off, int64_t count)
{
  int64_t *p = base != NULL ? base + *off : NULL;

  *off += (count + 7) & ~INT64_C (7);
  return p;
}

/* Points every buffer of @a into the slabs (or just counts with NULL bases)
 * for a batch of @n; the three sizes are returned in @sizes. */
static void
acts_layout (MmdnnModelActs *a, const MmdnnModel *m, int64_t n, float *fb,
             int32_t *ib, int64_t *lb, int64_t sizes[3])
{
  const MmdnnModelConfig *c = m->config;
  int64_t d = c->fusion.dim, t = c->n_tasks, off = 0, ioff = 0, loff = 0;
  int64_t c0 = c->tasks[0].n_classes, rows = 0;
  int64_t hd = c->disc_hidden;

  for (int mod = 0; mod < N_MOD; mod++)
    if (c->has[mod])
      rows += n * c->fusion.tokens[mod];

  /* batch copy */
  for (int mod = 0; mod < 2; mod++)
    a->in_x[mod] = c->has[mod] ? take (fb, &off, n * a->in_size[mod]) : NULL;
  a->in_ids = c->has[2] ? take_i32 (ib, &ioff, n * a->in_size[2]) : NULL;
  a->in_presence = take (fb, &off, n * N_MOD);
  a->in_labels = take_i32 (ib, &ioff, n * t);
  a->in_labels_b = take_i32 (ib, &ioff, n * t);

  /* encoders */
  for (int mod = 0; mod < N_MOD; mod++) {
    int64_t k = c->fusion.tokens[mod];
    gboolean has = c->has[mod];

    a->idx[mod] = take_i64 (lb, &loff, n);
    a->tok[mod] = has ? take (fb, &off, n * k * d) : NULL;
    a->dtok[mod] = has ? take (fb, &off, n * k * d) : NULL;
    a->dpacked[mod] = has ? take (fb, &off, n * k * d) : NULL;
  }
  for (int mod = 0; mod < 2; mod++)
    a->packed_x[mod] = c->has[mod] ? take (fb, &off, n * a->in_size[mod])
        : NULL;
  a->packed_ids = c->has[2] ? take_i32 (ib, &ioff, n * a->in_size[2]) : NULL;
  a->mask = c->has[2] ? take (fb, &off, n * c->fusion.tokens[2]) : NULL;
  a->presence = take (fb, &off, n * N_MOD);

  /* heads */
  for (int k = 0; k < t; k++) {
    int64_t ck = c->tasks[k].n_classes;
    a->lab[k] = take_i32 (ib, &ioff, n);
    a->lab_b[k] = take_i32 (ib, &ioff, n);
    a->logits[k] = take (fb, &off, n * ck);
    a->probs[k] = take (fb, &off, n * ck);
  }
  a->dfused = take (fb, &off, n * d);
  a->dsumm = take (fb, &off, n * N_MOD * d);
  a->dlogits = take (fb, &off, n * max_classes (c));

  /* auxiliary heads */
  for (int mod = 0; mod < N_MOD; mod++) {
    gboolean on = c->w_aux > 0.0f && c->has[mod];
    a->aux_in[mod] = on ? take (fb, &off, n * d) : NULL;
    a->aux_lab[mod] = on ? take_i32 (ib, &ioff, n) : NULL;
    a->aux_lab_b[mod] = on ? take_i32 (ib, &ioff, n) : NULL;
    a->aux_logits[mod] = on ? take (fb, &off, n * c0) : NULL;
    a->aux_probs[mod] = on ? take (fb, &off, n * c0) : NULL;
  }
  a->daux_in = c->w_aux > 0.0f ? take (fb, &off, n * d) : NULL;

  /* discriminator */
  if (c->w_adv > 0.0f) {
    a->disc_src = take_i64 (lb, &loff, rows);
    a->disc_target = take_i32 (ib, &ioff, rows);
    a->disc_in = take (fb, &off, rows * d);
    a->disc_h = take (fb, &off, rows * hd);
    a->disc_r = take (fb, &off, rows * hd);
    a->disc_logits = take (fb, &off, rows * N_MOD);
    a->disc_probs = take (fb, &off, rows * N_MOD);
    a->ddisc_logits = take (fb, &off, rows * N_MOD);
    a->ddisc_r = take (fb, &off, rows * hd);
    a->ddisc_h = take (fb, &off, rows * hd);
    a->ddisc_in = take (fb, &off, rows * d);
  }

  /* InfoNCE */
  if (c->w_nce > 0.0f) {
    for (int p = 0; p < N_PAIR; p++) {
      a->nce_idx[p] = take_i64 (lb, &loff, n);
      a->nce_a[p] = take (fb, &off, n * d);
      a->nce_b[p] = take (fb, &off, n * d);
      a->nce_ws[p] = take (fb, &off, mmdnn_info_nce_workspace_size (n, d));
    }
    a->dnce_a = take (fb, &off, n * d);
    a->dnce_b = take (fb, &off, n * d);
  }
  sizes[0] = off;
  sizes[1] = ioff;
  sizes[2] = loff;
}

static void
acts_free (MmdnnModelActs *a)
{
  if (a == NULL)
    return;
  for (int k = 0; k < 2; k++)
    mmdnn_image_encoder_acts_free (a->image[k]);
  mmdnn_text_encoder_acts_free (a->text);
  mmdnn_fusion_acts_free (a->fusion);
  mmdnn_floats_free (a->slab);
  g_free (a->islab);
  g_free (a->lslab);
  g_free (a);
}

static MmdnnModelActs *
acts_new (MmdnnModel *m, int64_t max_n, GError **error)
{
  const MmdnnModelConfig *c = m->config;
  MmdnnModelActs *a = g_new0 (MmdnnModelActs, 1);
  int64_t per[3], sizes[3];

  a->max_n = max_n;
  for (int mod = 0; mod < N_MOD; mod++)
    a->in_size[mod] = input_size (c, mod);
  for (int mod = 0; mod < 2; mod++)
    if (c->has[mod]) {
      a->image[mod] = mmdnn_image_encoder_acts_new (image_encoder (m, mod),
                                                    max_n, error);
      if (a->image[mod] == NULL)
        goto fail;
    }
  if (c->has[MMDNN_MODALITY_TEXT]) {
    a->text = mmdnn_text_encoder_acts_new (&m->text, max_n, error);
    if (a->text == NULL)
      goto fail;
  }
  a->fusion = mmdnn_fusion_acts_new (&m->fusion, max_n, error);
  if (a->fusion == NULL)
    goto fail;

  /* every buffer is linear in n (the InfoNCE workspace quadratic): bound
   * the total from the layout of one sample before sizing it for max_n */
  acts_layout (a, m, 1, NULL, NULL, NULL, per);
  if (max_n > MMDNN_MAX_NUMEL / (per[0] + per[1] + per[2] + 3 * max_n)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                 "model: max_batch=%" G_GINT64_FORMAT " needs too large an "
                 "activation arena", max_n);
    goto fail;
  }
  acts_layout (a, m, max_n, NULL, NULL, NULL, sizes);
  a->slab = mmdnn_floats_new (MAX (sizes[0], 1), error);
  if (a->slab == NULL)
    goto fail;
  a->islab = g_try_new0 (int32_t, MAX (sizes[1], 1));
  a->lslab = g_try_new0 (int64_t, MAX (sizes[2], 1));
  if (a->islab == NULL || a->lslab == NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                 "model: out of memory for the activations of %"
                 G_GINT64_FORMAT " samples", max_n);
    goto fail;
  }
  acts_layout (a, m, max_n, a->slab, a->islab, a->lslab, sizes);
  return a;

fail:
  acts_free (a);
  return NULL;
}

/* ---------------------------------------------------------------- model */

/* Declares every parameter the config uses, in the documented order. */
static gboolean
declare_params (MmdnnModel *m, GError **error)
{
  const MmdnnModelConfig *c = m->config;
  MmdnnParamSet *ps = m->params;
  int64_t d = c->fusion.dim;
  gboolean ok = TRUE;

  if (c->has[MMDNN_MODALITY_VIDEO])
    ok = mmdnn_image_encoder_init (&m->video, ps, "video", &c->video, error);
  if (ok && c->has[MMDNN_MODALITY_AUDIO])
    ok = mmdnn_image_encoder_init (&m->audio, ps, "audio", &c->audio, error);
  if (ok && c->has[MMDNN_MODALITY_TEXT])
    ok = mmdnn_text_encoder_init (&m->text, ps, "text", &c->text, error);
  if (ok)
    ok = mmdnn_fusion_init (&m->fusion, ps, "fusion", &c->fusion, error);
  for (int t = 0; ok && t < c->n_tasks; t++) {
    char *name = g_strdup_printf ("head.%s", c->tasks[t].name);
    ok = mmdnn_linear_init (&m->heads[t], ps, name, d, c->tasks[t].n_classes,
                            TRUE, error);
    g_free (name);
  }
  for (int mod = 0; ok && c->w_aux > 0.0f && mod < N_MOD; mod++)
    if (c->has[mod]) {
      char *name = g_strdup_printf ("aux.%s", mod_name (mod));
      ok = mmdnn_linear_init (&m->aux[mod], ps, name, d,
                              c->tasks[0].n_classes, TRUE, error);
      g_free (name);
    }
  if (ok && c->w_adv > 0.0f)
    ok = mmdnn_linear_init (&m->disc1, ps, "disc.fc1", d, c->disc_hidden,
                            TRUE, error)
        && mmdnn_linear_init (&m->disc2, ps, "disc.fc2", c->disc_hidden,
                              N_MOD, TRUE, error);
  return ok;
}

/* Initial values, drawn in declaration order from @rng. */
static void
reset_params (MmdnnModel *m, MmdnnRng *rng)
{
  const MmdnnModelConfig *c = m->config;

  if (c->has[MMDNN_MODALITY_VIDEO])
    mmdnn_image_encoder_reset (&m->video, rng);
  if (c->has[MMDNN_MODALITY_AUDIO])
    mmdnn_image_encoder_reset (&m->audio, rng);
  if (c->has[MMDNN_MODALITY_TEXT])
    mmdnn_text_encoder_reset (&m->text, rng);
  mmdnn_fusion_reset (&m->fusion, rng);
  for (int t = 0; t < c->n_tasks; t++)
    mmdnn_linear_reset (&m->heads[t], rng);
  for (int mod = 0; c->w_aux > 0.0f && mod < N_MOD; mod++)
    if (c->has[mod])
      mmdnn_linear_reset (&m->aux[mod], rng);
  if (c->w_adv > 0.0f) {
    mmdnn_linear_reset (&m->disc1, rng);
    mmdnn_linear_reset (&m->disc2, rng);
  }
}

MmdnnModel *
mmdnn_model_new (const MmdnnModelConfig *c, uint64_t seed, int64_t max_batch,
                 GError **error)
{
  MmdnnModel *m = mmdnn_model_declare (c, max_batch, error);

  if (m != NULL && !mmdnn_model_allocate (m, seed, error))
    g_clear_pointer (&m, mmdnn_model_free);
  return m;
}

MmdnnModel *
mmdnn_model_declare (const MmdnnModelConfig *c, int64_t max_batch,
                     GError **error)
{
  MmdnnModel *m;

  MMDNN_CHECK_NOT_NULL (c, error, NULL);
  MMDNN_CHECK (max_batch >= 1 && max_batch <= MAX_BATCH, error, NULL,
               "model: max_batch=%" G_GINT64_FORMAT " must be in [1, %"
               G_GINT64_FORMAT "]", max_batch, MAX_BATCH);
  if (!mmdnn_model_config_check (c, error))
    return NULL;
  if (c->w_nce > 0.0f
      && !mmdnn_info_nce_check (c->nce_tau, max_batch, c->fusion.dim, error))
    return NULL;

  m = g_new0 (MmdnnModel, 1);
  m->config = mmdnn_model_config_copy (c);
  m->params = mmdnn_param_set_new ();
  m->max_batch = max_batch;
  if (!declare_params (m, error)) {
    mmdnn_model_free (m);
    return NULL;
  }
  return m;
}

gboolean
mmdnn_model_allocate (MmdnnModel *m, uint64_t seed, GError **error)
{
  const MmdnnModelConfig *mc = m->config;

  if (!mmdnn_param_set_allocate (m->params, error))
    return FALSE;
  /* the parameters first, then the stream of virtual data continues from
   * the same generator: one seed reproduces a whole run */
  mmdnn_rng_init (&m->rng, seed);
  reset_params (m, &m->rng);
  m->optim = mmdnn_optim_new (&mc->optim, m->params, error);
  if (m->optim == NULL
      || !mmdnn_lr_schedule_init (&m->schedule, mc->optim.lr, mc->min_lr,
                                  mc->warmup_steps, mc->total_steps, error))
    return FALSE;
  m->acts = acts_new (m, m->max_batch, error);
  return m->acts != NULL;
}

void
mmdnn_model_free (MmdnnModel *m)
{
  if (m == NULL)
    return;
  acts_free (m->acts);
  mmdnn_optim_free (m->optim);
  mmdnn_param_set_free (m->params);
  mmdnn_model_config_free (m->config);
  g_free (m);
}

/* ---------------------------------------------------------------- checks */

static gboolean
check_labels (const MmdnnModelConfig *c, const int32_t *labels,
              const char *what, int64_t i, GError **error)
{
  for (int t = 0; t < c->n_tasks; t++) {
    int32_t l = labels[i * c->n_tasks + t];
    if (l < -1 || l >= c->tasks[t].n_classes) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                   "model: sample %" G_GINT64_FORMAT ": %s of task '%s' is %d, "
                   "must be -1 (unknown) or in [0, %" G_GINT64_FORMAT ")", i,
                   what, c->tasks[t].name, (int) l, c->tasks[t].n_classes);
      return FALSE;
    }
  }
  return TRUE;
}

/* The input of present modality @mod of sample @i: finite values (images)
 * or ids in [-1, buckets) with at least one word (text). */
static gboolean
check_input (const MmdnnModelConfig *c, const MmdnnBatch *b, int mod,
             int64_t i, GError **error)
{
  int64_t size = input_size (c, mod);

  if (mod == MMDNN_MODALITY_TEXT) {
    const int32_t *ids = b->text_ids + i * size;
    int64_t mm = c->text.ids_per_token;
    gboolean word = FALSE;

    for (int64_t k = 0; k < size; k++)
      if (ids[k] < -1 || ids[k] >= c->text.buckets) {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                     "model: sample %" G_GINT64_FORMAT ": text id %d at word %"
                     G_GINT64_FORMAT " must be -1 or in [0, %" G_GINT64_FORMAT
                     ")", i, (int) ids[k], k / mm, c->text.buckets);
        return FALSE;
      }
    for (int64_t k = 0; k < size; k += mm)
      word |= ids[k] >= 0;
    if (!word) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                   "model: sample %" G_GINT64_FORMAT ": text is present but "
                   "has no word", i);
      return FALSE;
    }
  } else {
    const float *x = batch_input (b, mod) + i * size;
    for (int64_t k = 0; k < size; k++)
      if (!isfinite (x[k])) {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                     "model: sample %" G_GINT64_FORMAT ": %s input has a "
                     "non-finite value %g at element %" G_GINT64_FORMAT, i,
                     mod_name (mod), (double) x[k], k);
        return FALSE;
      }
  }
  return TRUE;
}

/* Every check of a batch, before anything is written. A modality the model
 * does not have is ignored (its presence is not even read). */
static gboolean
check_batch (const MmdnnModel *m, const MmdnnBatch *b, GError **error)
{
  const MmdnnModelConfig *c = m->config;

  MMDNN_CHECK_NOT_NULL (b, error, FALSE);
  MMDNN_CHECK (b->n >= 1 && b->n <= m->max_batch, error, FALSE,
               "model: batch n=%" G_GINT64_FORMAT " must be in [1, %"
               G_GINT64_FORMAT "] (max_batch)", b->n, m->max_batch);
  MMDNN_CHECK (b->presence != NULL, error, FALSE,
               "model: batch presence must not be NULL");
  MMDNN_CHECK (b->labels_b == NULL || b->labels != NULL, error, FALSE,
               "model: a mixup batch (labels_b) needs labels");
  MMDNN_CHECK (b->labels_b == NULL || (isfinite (b->mix) && b->mix >= 0.0f
                                       && b->mix <= 1.0f), error, FALSE,
               "model: mix=%g must be in [0, 1]", (double) b->mix);
  for (int64_t i = 0; i < b->n; i++) {
    gboolean any = FALSE;

    for (int mod = 0; mod < N_MOD; mod++) {
      float p;

      if (!c->has[mod])
        continue;
      p = b->presence[i * N_MOD + mod];
      if (p != 0.0f && p != 1.0f) {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                     "model: sample %" G_GINT64_FORMAT ": presence of %s is "
                     "%g, must be 0 or 1", i, mod_name (mod), (double) p);
        return FALSE;
      }
      if (p == 0.0f)
        continue;
      MMDNN_CHECK (batch_has_input (b, mod), error, FALSE,
                   "model: %s is present in sample %" G_GINT64_FORMAT
                   " but the batch has no %s input (NULL)", mod_name (mod), i,
                   mod_name (mod));
      if (!check_input (c, b, mod, i, error))
        return FALSE;
      any = TRUE;
    }
    if (!any) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                   "model: sample %" G_GINT64_FORMAT " has no present "
                   "modality", i);
      return FALSE;
    }
    if (b->labels != NULL && !check_labels (c, b->labels, "label", i, error))
      return FALSE;
    if (b->labels_b != NULL
        && !check_labels (c, b->labels_b, "labels_b", i, error))
      return FALSE;
  }
  return TRUE;
}

/* ---------------------------------------------------------------- batch copies */

/* Points a->copy at the arena buffers for a batch of @n like @like (an
 * input absent from @like stays NULL). */
static void
copy_reset (MmdnnModelActs *a, const MmdnnBatch *like, int64_t n)
{
  MmdnnBatch *cp = &a->copy;

  cp->n = n;
  cp->video = like->video != NULL ? a->in_x[0] : NULL;
  cp->audio = like->audio != NULL ? a->in_x[1] : NULL;
  cp->text_ids = like->text_ids != NULL ? a->in_ids : NULL;
  cp->presence = a->in_presence;
  cp->labels = a->in_labels;
  cp->labels_b = like->labels_b != NULL ? a->in_labels_b : NULL;
  cp->mix = like->labels_b != NULL ? like->mix : 1.0f;
}

/* Copies sample @i of @b into slot @j of a->copy, with presence @pres. */
static void
copy_sample (MmdnnModel *m, const MmdnnBatch *b, int64_t i, int64_t j,
             const float *pres)
{
  MmdnnModelActs *a = m->acts;
  MmdnnBatch *cp = &a->copy;
  int t = m->config->n_tasks;

  for (int mod = 0; mod < N_MOD; mod++) {
    int64_t sz = a->in_size[mod];
    if (!m->config->has[mod] || !batch_has_input (b, mod))
      continue;
    if (mod == MMDNN_MODALITY_TEXT)
      memcpy (cp->text_ids + j * sz, b->text_ids + i * sz,
              sizeof (int32_t) * sz);
    else
      memcpy (batch_input (cp, mod) + j * sz, batch_input (b, mod) + i * sz,
              sizeof (float) * sz);
  }
  memcpy (cp->presence + j * N_MOD, pres, sizeof (float) * N_MOD);
  for (int k = 0; k < t; k++) {
    cp->labels[j * t + k] = b->labels != NULL ? b->labels[i * t + k] : -1;
    if (cp->labels_b != NULL)
      cp->labels_b[j * t + k] = b->labels_b[i * t + k];
  }
}

/* ---------------------------------------------------------------- encoders */

/* The samples of @b where @mod is present → a->idx[mod], a->count[mod]. */
static void
gather_present (MmdnnModel *m, const MmdnnBatch *b, int mod)
{
  MmdnnModelActs *a = m->acts;
  int64_t cnt = 0;

  for (int64_t i = 0; m->config->has[mod] && i < b->n; i++)
    if (b->presence[i * N_MOD + mod] != 0.0f)
      a->idx[mod][cnt++] = i;
  a->count[mod] = cnt;
}

/* Gather the present samples' inputs, run the encoder on them, scatter the
 * tokens (and the text mask) back into (N, K, D). */
static gboolean
encoder_forward (MmdnnModel *m, const MmdnnBatch *b, int mod, gboolean train,
                 GError **error)
{
  MmdnnModelActs *a = m->acts;
  const MmdnnModelConfig *c = m->config;
  int64_t k = c->fusion.tokens[mod], d = c->fusion.dim, sz = a->in_size[mod];
  int64_t cnt = a->count[mod];
  float *recon = train && c->w_recon > 0.0f ? &a->recon[mod] : NULL;
  const float *tok = NULL, *mask = NULL;
  gboolean ok;

  a->recon[mod] = 0.0f;
  memset (a->tok[mod], 0, sizeof (float) * b->n * k * d);
  if (mod == MMDNN_MODALITY_TEXT)
    memset (a->mask, 0, sizeof (float) * b->n * k);
  if (cnt == 0)
    return TRUE;

  if (mod == MMDNN_MODALITY_TEXT) {
    for (int64_t r = 0; r < cnt; r++)
      memcpy (a->packed_ids + r * sz, b->text_ids + a->idx[mod][r] * sz,
              sizeof (int32_t) * sz);
    ok = mmdnn_text_encoder_forward (&m->text, a->text, a->packed_ids, cnt,
                                     &tok, &mask, recon, error);
  } else {
    for (int64_t r = 0; r < cnt; r++)
      memcpy (a->packed_x[mod] + r * sz,
              batch_input (b, mod) + a->idx[mod][r] * sz, sizeof (float) * sz);
    ok = mmdnn_image_encoder_forward (image_encoder (m, mod), a->image[mod],
                                      a->packed_x[mod], cnt, &tok, recon,
                                      error);
  }
  if (!ok)
    return FALSE;

  for (int64_t r = 0; r < cnt; r++) {
    int64_t i = a->idx[mod][r];
    memcpy (a->tok[mod] + i * k * d, tok + r * k * d, sizeof (float) * k * d);
    if (mask != NULL)
      memcpy (a->mask + i * k, mask + r * k, sizeof (float) * k);
  }
  return TRUE;
}

/* Reverse of encoder_forward: gather the token gradients of the present
 * samples and run the encoder's backward (with the recon term). */
static void
encoder_backward (MmdnnModel *m, int mod)
{
  MmdnnModelActs *a = m->acts;
  const MmdnnModelConfig *c = m->config;
  int64_t k = c->fusion.tokens[mod], d = c->fusion.dim, cnt = a->count[mod];
  float drecon = c->w_recon > 0.0f ? c->w_recon * a->share_recon[mod] : 0.0f;

  if (cnt == 0)
    return;
  for (int64_t r = 0; r < cnt; r++)
    memcpy (a->dpacked[mod] + r * k * d, a->dtok[mod] + a->idx[mod][r] * k * d,
            sizeof (float) * k * d);
  if (mod == MMDNN_MODALITY_TEXT)
    mmdnn_text_encoder_backward (&m->text, a->text, a->dpacked[mod], drecon,
                                 cnt);
  else
    mmdnn_image_encoder_backward (image_encoder (m, mod), a->image[mod],
                                  a->dpacked[mod], drecon, cnt);
}

static gboolean
encoders_forward (MmdnnModel *m, const MmdnnBatch *b, gboolean train,
                  GError **error)
{
  for (int mod = 0; mod < N_MOD; mod++) {
    gather_present (m, b, mod);
    if (m->config->has[mod] && !encoder_forward (m, b, mod, train, error))
      return FALSE;
  }
  return TRUE;
}

static void
encoders_backward (MmdnnModel *m)
{
  for (int mod = N_MOD - 1; mod >= 0; mod--)
    if (m->config->has[mod])
      encoder_backward (m, mod);
}

/* ---------------------------------------------------------------- fusion */

static gboolean
fusion_forward (MmdnnModel *m, const MmdnnBatch *b, GError **error)
{
  MmdnnModelActs *a = m->acts;
  const float *tokens[N_MOD], *masks[N_MOD] = { NULL, NULL, a->mask };

  for (int mod = 0; mod < N_MOD; mod++) {
    tokens[mod] = a->count[mod] > 0 ? a->tok[mod] : NULL;
    for (int64_t i = 0; i < b->n; i++)
      a->presence[i * N_MOD + mod] = m->config->has[mod]
          ? b->presence[i * N_MOD + mod] : 0.0f;
  }
  return mmdnn_fusion_forward (&m->fusion, a->fusion, tokens, masks,
                               a->presence, b->n, &a->fused, &a->omega, error);
}

static void
fusion_backward (MmdnnModel *m)
{
  MmdnnModelActs *a = m->acts;

  mmdnn_fusion_backward_full (&m->fusion, a->fusion, a->dfused, a->dsumm,
                              a->dtok, a->n);
}

/* ---------------------------------------------------------------- heads */

/* Column @t of labels (N, T) into out: (N); −1 for NULL labels. */
static void
labels_column (int32_t *out, const int32_t *labels, int t, int n_tasks,
               int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    out[i] = labels != NULL ? labels[i * n_tasks + t] : -1;
}

/* The (possibly mixed) cross-entropy of logits against lab (and lab_b):
 * probs saved; labels were validated, so it cannot fail. */
static float
mixed_ce (MmdnnModelActs *a, float *probs, const float *logits,
          const int32_t *lab, const int32_t *lab_b, int64_t n, int64_t c)
{
  float la = 0.0f, lb = 0.0f;

  mmdnn_cross_entropy_forward (&la, probs, logits, lab, NULL, -1, n, c, NULL);
  if (!a->mixed)
    return la;
  mmdnn_cross_entropy_forward (&lb, probs, logits, lab_b, NULL, -1, n, c,
                               NULL);
  return a->mix * la + (1.0f - a->mix) * lb;
}

/* dlogits += dloss · ∂(mixed CE)/∂logits */
static void
mixed_ce_backward (MmdnnModelActs *a, float *dlogits, float dloss,
                   const float *probs, const int32_t *lab,
                   const int32_t *lab_b, int64_t n, int64_t c)
{
  if (!a->mixed) {
    mmdnn_cross_entropy_backward (dlogits, dloss, probs, lab, NULL, -1, n, c);
    return;
  }
  mmdnn_cross_entropy_backward (dlogits, dloss * a->mix, probs, lab, NULL, -1,
                                n, c);
  mmdnn_cross_entropy_backward (dlogits, dloss * (1.0f - a->mix), probs,
                                lab_b, NULL, -1, n, c);
}

static void
heads_forward (MmdnnModel *m, const MmdnnBatch *b, MmdnnLosses *l)
{
  MmdnnModelActs *a = m->acts;
  const MmdnnModelConfig *c = m->config;
  int64_t n = b->n, d = c->fusion.dim;

  for (int t = 0; t < c->n_tasks; t++) {
    const MmdnnLinear *h = &m->heads[t];

    labels_column (a->lab[t], b->labels, t, c->n_tasks, n);
    if (a->mixed)
      labels_column (a->lab_b[t], b->labels_b, t, c->n_tasks, n);
    mmdnn_linear_forward (a->logits[t], a->fused, h->weight->value,
                          h->bias->value, n, d, h->out);
    l->task[t] = mixed_ce (a, a->probs[t], a->logits[t], a->lab[t],
                           a->lab_b[t], n, h->out);
    a->task_ce[t] = l->task[t];
    l->total += c->tasks[t].weight * l->task[t];
  }
}

static void
heads_backward (MmdnnModel *m)
{
  MmdnnModelActs *a = m->acts;
  const MmdnnModelConfig *c = m->config;
  int64_t n = a->n, d = c->fusion.dim;

  for (int t = c->n_tasks - 1; t >= 0; t--) {
    const MmdnnLinear *h = &m->heads[t];

    memset (a->dlogits, 0, sizeof (float) * n * h->out);
    mixed_ce_backward (a, a->dlogits, c->tasks[t].weight * a->share_task[t],
                       a->probs[t], a->lab[t], a->lab_b[t], n, h->out);
    mmdnn_linear_backward (a->dfused, h->weight->grad, h->bias->grad,
                           a->dlogits, a->fused, h->weight->value, n, d,
                           h->out);
  }
}

/* ---------------------------------------------------------------- aux heads */

static void
aux_forward (MmdnnModel *m, MmdnnLosses *l)
{
  MmdnnModelActs *a = m->acts;
  const MmdnnModelConfig *c = m->config;
  const float *summ = mmdnn_fusion_summaries (a->fusion);
  int64_t d = c->fusion.dim, c0 = c->tasks[0].n_classes;
  double sum = 0.0;

  a->aux_mods = 0;
  for (int mod = 0; mod < N_MOD; mod++) {
    const MmdnnLinear *h = &m->aux[mod];
    int64_t cnt = a->count[mod];

    if (cnt == 0)
      continue;
    for (int64_t r = 0; r < cnt; r++) {
      int64_t i = a->idx[mod][r];
      memcpy (a->aux_in[mod] + r * d, summ + (i * N_MOD + mod) * d,
              sizeof (float) * d);
      a->aux_lab[mod][r] = a->lab[0][i];
      a->aux_lab_b[mod][r] = a->mixed ? a->lab_b[0][i] : -1;
    }
    mmdnn_linear_forward (a->aux_logits[mod], a->aux_in[mod],
                          h->weight->value, h->bias->value, cnt, d, c0);
    a->aux_ce[mod] = mixed_ce (a, a->aux_probs[mod], a->aux_logits[mod],
                               a->aux_lab[mod], a->aux_lab_b[mod], cnt, c0);
    sum += a->aux_ce[mod];
    a->aux_mods++;
  }
  l->aux = a->aux_mods > 0 ? (float) (sum / a->aux_mods) : 0.0f;
  l->total += c->w_aux * l->aux;
}

static void
aux_backward (MmdnnModel *m)
{
  MmdnnModelActs *a = m->acts;
  const MmdnnModelConfig *c = m->config;
  int64_t d = c->fusion.dim, c0 = c->tasks[0].n_classes;

  for (int mod = N_MOD - 1; mod >= 0; mod--) {
    const MmdnnLinear *h = &m->aux[mod];
    int64_t cnt = a->count[mod];

    if (cnt == 0)
      continue;
    memset (a->dlogits, 0, sizeof (float) * cnt * c0);
    mixed_ce_backward (a, a->dlogits, c->w_aux / (float) a->aux_div
                       * a->share_aux[mod], a->aux_probs[mod], a->aux_lab[mod],
                       a->aux_lab_b[mod], cnt, c0);
    memset (a->daux_in, 0, sizeof (float) * cnt * d);
    mmdnn_linear_backward (a->daux_in, h->weight->grad, h->bias->grad,
                           a->dlogits, a->aux_in[mod], h->weight->value, cnt,
                           d, c0);
    for (int64_t r = 0; r < cnt; r++) {
      float *ds = a->dsumm + (a->idx[mod][r] * N_MOD + mod) * d;
      for (int64_t e = 0; e < d; e++)
        ds[e] += a->daux_in[r * d + e];
    }
  }
}

/* ---------------------------------------------------------------- discriminator */

static void
adv_forward (MmdnnModel *m, MmdnnLosses *l)
{
  MmdnnModelActs *a = m->acts;
  const MmdnnModelConfig *c = m->config;
  int64_t d = c->fusion.dim, hd = c->disc_hidden, rows = 0;

  /* every real token of every present modality */
  for (int mod = 0; mod < N_MOD; mod++) {
    int64_t k = c->fusion.tokens[mod];
    for (int64_t r = 0; r < a->count[mod]; r++)
      for (int64_t t = 0; t < k; t++) {
        int64_t row = a->idx[mod][r] * k + t;
        if (mod == MMDNN_MODALITY_TEXT && a->mask[row] == 0.0f)
          continue;
        a->disc_src[rows] = row;
        a->disc_target[rows] = mod;
        mmdnn_grad_reverse_forward (a->disc_in + rows * d,
                                    a->tok[mod] + row * d, d);
        rows++;
      }
  }
  a->disc_rows = rows;
  mmdnn_linear_forward (a->disc_h, a->disc_in, m->disc1.weight->value,
                        m->disc1.bias->value, rows, d, hd);
  mmdnn_relu_forward (a->disc_r, a->disc_h, rows * hd);
  mmdnn_linear_forward (a->disc_logits, a->disc_r, m->disc2.weight->value,
                        m->disc2.bias->value, rows, hd, N_MOD);
  mmdnn_cross_entropy_forward (&l->adv, a->disc_probs, a->disc_logits,
                               a->disc_target, NULL, -1, rows, N_MOD, NULL);
  a->adv_ce = l->adv;
  l->total += c->w_adv * l->adv;
}

static void
adv_backward (MmdnnModel *m)
{
  MmdnnModelActs *a = m->acts;
  const MmdnnModelConfig *c = m->config;
  int64_t d = c->fusion.dim, hd = c->disc_hidden, rows = a->disc_rows;

  memset (a->ddisc_logits, 0, sizeof (float) * rows * N_MOD);
  memset (a->ddisc_r, 0, sizeof (float) * rows * hd);
  memset (a->ddisc_h, 0, sizeof (float) * rows * hd);
  memset (a->ddisc_in, 0, sizeof (float) * rows * d);
  mmdnn_cross_entropy_backward (a->ddisc_logits, c->w_adv * a->share_adv,
                                a->disc_probs, a->disc_target, NULL, -1, rows,
                                N_MOD);
  mmdnn_linear_backward (a->ddisc_r, m->disc2.weight->grad,
                         m->disc2.bias->grad, a->ddisc_logits, a->disc_r,
                         m->disc2.weight->value, rows, hd, N_MOD);
  mmdnn_relu_backward (a->ddisc_h, a->ddisc_r, a->disc_h, rows * hd);
  mmdnn_linear_backward (a->ddisc_in, m->disc1.weight->grad,
                         m->disc1.bias->grad, a->ddisc_h, a->disc_in,
                         m->disc1.weight->value, rows, d, hd);
  for (int64_t r = 0; r < rows; r++)
    mmdnn_grad_reverse_backward (a->dtok[a->disc_target[r]]
                                 + a->disc_src[r] * d, a->ddisc_in + r * d,
                                 c->grl_lambda, d);
}

/* ---------------------------------------------------------------- InfoNCE */

static void
nce_forward (MmdnnModel *m, MmdnnLosses *l)
{
  MmdnnModelActs *a = m->acts;
  const MmdnnModelConfig *c = m->config;
  const float *summ = mmdnn_fusion_summaries (a->fusion);
  int64_t d = c->fusion.dim;
  double sum = 0.0;

  a->nce_pairs = 0;
  for (int p = 0; p < N_PAIR; p++) {
    int mm = pair_mod[p][0], nn = pair_mod[p][1];
    int64_t cnt = 0;

    for (int64_t i = 0; i < a->n; i++)
      if (a->presence[i * N_MOD + mm] != 0.0f
          && a->presence[i * N_MOD + nn] != 0.0f) {
        memcpy (a->nce_a[p] + cnt * d, summ + (i * N_MOD + mm) * d,
                sizeof (float) * d);
        memcpy (a->nce_b[p] + cnt * d, summ + (i * N_MOD + nn) * d,
                sizeof (float) * d);
        a->nce_idx[p][cnt++] = i;
      }
    a->nce_count[p] = cnt;
    if (cnt < 2)
      continue;
    sum += mmdnn_info_nce_forward (a->nce_ws[p], a->nce_a[p], a->nce_b[p],
                                   c->nce_tau, cnt, d);
    a->nce_pairs++;
  }
  l->nce = a->nce_pairs > 0 ? (float) (sum / a->nce_pairs) : 0.0f;
  a->nce_loss = l->nce;
  l->total += c->w_nce * l->nce;
}

static void
nce_backward (MmdnnModel *m)
{
  MmdnnModelActs *a = m->acts;
  const MmdnnModelConfig *c = m->config;
  int64_t d = c->fusion.dim;

  for (int p = N_PAIR - 1; p >= 0; p--) {
    int mm = pair_mod[p][0], nn = pair_mod[p][1];
    int64_t cnt = a->nce_count[p];

    if (cnt < 2)
      continue;
    memset (a->dnce_a, 0, sizeof (float) * cnt * d);
    memset (a->dnce_b, 0, sizeof (float) * cnt * d);
    mmdnn_info_nce_backward (a->dnce_a, a->dnce_b,
                             c->w_nce / (float) a->nce_pairs * a->share_nce,
                             a->nce_ws[p],
                             a->nce_a[p], a->nce_b[p], c->nce_tau, cnt, d);
    for (int64_t r = 0; r < cnt; r++) {
      float *da = a->dsumm + (a->nce_idx[p][r] * N_MOD + mm) * d;
      float *db = a->dsumm + (a->nce_idx[p][r] * N_MOD + nn) * d;
      for (int64_t e = 0; e < d; e++) {
        da[e] += a->dnce_a[r * d + e];
        db[e] += a->dnce_b[r * d + e];
      }
    }
  }
}

/* ---------------------------------------------------------------- forward */

/* The stages on a validated batch (the model's copy when training). */
static gboolean
model_run (MmdnnModel *m, const MmdnnBatch *b, gboolean train,
           MmdnnOutputs *out, MmdnnLosses *losses, GError **error)
{
  MmdnnModelActs *a = m->acts;
  const MmdnnModelConfig *c = m->config;
  MmdnnLosses l;

  memset (&l, 0, sizeof (l));
  memset (a->task_ce, 0, sizeof (a->task_ce));
  memset (a->aux_ce, 0, sizeof (a->aux_ce));
  a->adv_ce = a->nce_loss = 0.0f;
  a->n = 0;
  a->train = FALSE;
  a->mixed = b->labels_b != NULL;
  a->mix = a->mixed ? b->mix : 1.0f;

  if (!encoders_forward (m, b, train, error)
      || !fusion_forward (m, b, error))
    return FALSE;
  a->n = b->n;
  heads_forward (m, b, &l);
  if (train) {
    if (c->w_aux > 0.0f)
      aux_forward (m, &l);
    if (c->w_recon > 0.0f) {
      l.recon = a->recon[0] + a->recon[1] + a->recon[2];
      l.total += c->w_recon * l.recon;
    }
    if (c->w_adv > 0.0f)
      adv_forward (m, &l);
    if (c->w_nce > 0.0f)
      nce_forward (m, &l);
  }
  a->train = train;

  if (out != NULL) {
    memset (out, 0, sizeof (*out));
    for (int t = 0; t < c->n_tasks; t++)
      out->probs[t] = a->probs[t];
    out->modality_weights = a->omega;
    out->fused = a->fused;
  }
  if (losses != NULL)
    *losses = l;
  return TRUE;
}

/* Virtual data runs before the encoders, in the middle of a training
 * forward (a->n is 0 then): the image encoder's arena and its packed input
 * rows are free, so latent perturbation borrows them instead of allocating
 * its own every step. NULL outside that window or past max_n. */
MmdnnImageEncoderActs *
mmdnn_model_borrow_image_acts (MmdnnModel *m, int mod, int64_t n,
                               float **rows)
{
  MmdnnModelActs *a = m->acts;

  if (a == NULL || a->n != 0 || n > a->max_n || a->image[mod] == NULL)
    return NULL;
  *rows = a->packed_x[mod];
  return a->image[mod];
}

gboolean
mmdnn_model_forward (MmdnnModel *m, const MmdnnBatch *b, gboolean train,
                     MmdnnOutputs *out, MmdnnLosses *losses, GError **error)
{
  MmdnnModelActs *a;
  gboolean unmixed;

  MMDNN_CHECK_NOT_NULL (m, error, FALSE);
  if (!check_batch (m, b, error))
    return FALSE;
  a = m->acts;
  if (!train)
    return model_run (m, b, FALSE, out, losses, error);

  /* virtual data rewrites the model's copy, never the caller's batch */
  a->n = 0;
  a->train = FALSE;
  copy_reset (a, b, b->n);
  for (int64_t i = 0; i < b->n; i++)
    copy_sample (m, b, i, i, b->presence + i * N_MOD);
  /* mixup writes labels_b into the arena's buffer (it allocates only when
   * given none); an unmixed copy (mix still 1) goes on without it */
  unmixed = a->copy.labels_b == NULL;
  if (unmixed)
    a->copy.labels_b = a->in_labels_b;
  if (!mmdnn_augment_apply (m, &a->copy, error))
    return FALSE;
  if (unmixed && a->copy.mix == 1.0f)
    a->copy.labels_b = NULL;
  return model_run (m, &a->copy, TRUE, out, losses, error);
}

/* ---------------------------------------------------------------- backward */

/* The gradients of the last train forward's loss, each term weighted by
 * its share (a->share_*, a->aux_div). */
static void
backward_run (MmdnnModel *m)
{
  MmdnnModelActs *a = m->acts;
  const MmdnnModelConfig *c = m->config;
  int64_t n = a->n, d = c->fusion.dim;

  mmdnn_param_set_zero_grad (m->params);
  memset (a->dfused, 0, sizeof (float) * n * d);
  memset (a->dsumm, 0, sizeof (float) * n * N_MOD * d);
  for (int mod = 0; mod < N_MOD; mod++)
    if (c->has[mod])
      memset (a->dtok[mod], 0, sizeof (float) * n * c->fusion.tokens[mod] * d);

  if (c->w_nce > 0.0f)
    nce_backward (m);           /* → dsumm */
  if (c->w_adv > 0.0f)
    adv_backward (m);           /* → dtok, through the GRL */
  if (c->w_aux > 0.0f)
    aux_backward (m);           /* → dsumm */
  heads_backward (m);           /* → dfused */
  fusion_backward (m);          /* dfused, dsumm → dtok */
  encoders_backward (m);        /* dtok (+ recon) → encoder weights */
}

static gboolean
have_train_forward (const MmdnnModel *m)
{
  return m->acts->n >= 1 && m->acts->train;
}

void
mmdnn_model_backward (MmdnnModel *m)
{
  MmdnnModelActs *a;

  g_return_if_fail (m != NULL);
  a = m->acts;
  if (!have_train_forward (m)) {
    mmdnn_log (MMDNN_LOG_ERROR, "model backward: no training forward to "
               "differentiate; ignored");
    return;
  }
  /* the whole batch: every term at its full weight */
  for (int t = 0; t < MMDNN_MAX_TASKS; t++)
    a->share_task[t] = 1.0f;
  for (int mod = 0; mod < N_MOD; mod++)
    a->share_aux[mod] = a->share_recon[mod] = 1.0f;
  a->share_adv = a->share_nce = 1.0f;
  a->aux_div = a->aux_mods;
  backward_run (m);
}

gboolean
mmdnn_model_loss_counts (const MmdnnModel *m, MmdnnLossCounts *counts,
                         GError **error)
{
  const MmdnnModelActs *a;
  const MmdnnModelConfig *c;

  MMDNN_CHECK_NOT_NULL (m, error, FALSE);
  MMDNN_CHECK_NOT_NULL (counts, error, FALSE);
  MMDNN_CHECK (have_train_forward (m), error, FALSE,
               "model loss counts: no training forward to count");
  a = m->acts;
  c = m->config;
  memset (counts, 0, sizeof (*counts));
  counts->samples = a->n;
  for (int t = 0; t < c->n_tasks; t++)
    for (int64_t i = 0; i < a->n; i++)
      counts->task[t] += a->lab[t][i] >= 0;
  for (int mod = 0; mod < N_MOD; mod++) {
    counts->present[mod] = a->count[mod];
    for (int64_t r = 0; r < a->count[mod]; r++)
      counts->aux[mod] += a->lab[0][a->idx[mod][r]] >= 0;
  }
  if (c->has[MMDNN_MODALITY_TEXT])
    for (int64_t r = 0; r < a->n * c->fusion.tokens[MMDNN_MODALITY_TEXT]; r++)
      counts->text_words += a->mask[r] != 0.0f;
  counts->adv = c->w_adv > 0.0f ? a->disc_rows : 0;
  return TRUE;
}

/* mine / total, exactly 1 when they are equal */
static float
share_of (int64_t mine, int64_t total)
{
  return total > 0 ? (float) ((double) mine / (double) total) : 0.0f;
}

/* Each term of the last train forward times its share, summed as
 * model_run sums the whole batch's (so one process's share is its loss,
 * bit for bit). */
static void
losses_share (const MmdnnModel *m, MmdnnLosses *l)
{
  const MmdnnModelActs *a = m->acts;
  const MmdnnModelConfig *c = m->config;

  memset (l, 0, sizeof (*l));
  for (int t = 0; t < c->n_tasks; t++) {
    l->task[t] = a->task_ce[t] * a->share_task[t];
    l->total += c->tasks[t].weight * l->task[t];
  }
  if (c->w_aux > 0.0f) {
    double sum = 0.0;
    for (int mod = 0; mod < N_MOD; mod++)
      if (a->count[mod] > 0)
        sum += a->aux_ce[mod] * a->share_aux[mod];
    l->aux = a->aux_div > 0 ? (float) (sum / a->aux_div) : 0.0f;
    l->total += c->w_aux * l->aux;
  }
  if (c->w_recon > 0.0f) {
    l->recon = a->recon[0] * a->share_recon[0]
        + a->recon[1] * a->share_recon[1] + a->recon[2] * a->share_recon[2];
    l->total += c->w_recon * l->recon;
  }
  if (c->w_adv > 0.0f) {
    l->adv = a->adv_ce * a->share_adv;
    l->total += c->w_adv * l->adv;
  }
  if (c->w_nce > 0.0f) {
    l->nce = a->nce_loss * a->share_nce;
    l->total += c->w_nce * l->nce;
  }
}

gboolean
mmdnn_model_backward_shared (MmdnnModel *m, const MmdnnLossCounts *total,
                             MmdnnLosses *share, GError **error)
{
  MmdnnModelActs *a;
  MmdnnLossCounts mine;
  const int64_t *tv = (const int64_t *) total, *mv = (const int64_t *) &mine;

  MMDNN_CHECK_NOT_NULL (total, error, FALSE);
  if (!mmdnn_model_loss_counts (m, &mine, error))
    return FALSE;
  for (int i = 0; i < MMDNN_LOSS_COUNTS_LEN; i++)
    MMDNN_CHECK (tv[i] >= mv[i], error, FALSE, "model backward: count %d of "
                 "the whole batch (%" G_GINT64_FORMAT ") is below the "
                 "slice's own (%" G_GINT64_FORMAT ")", i, tv[i], mv[i]);
  a = m->acts;
  for (int t = 0; t < MMDNN_MAX_TASKS; t++)
    a->share_task[t] = share_of (mine.task[t], total->task[t]);
  a->aux_div = 0;
  for (int mod = 0; mod < N_MOD; mod++) {
    a->share_aux[mod] = share_of (mine.aux[mod], total->aux[mod]);
    a->share_recon[mod] = mod == MMDNN_MODALITY_TEXT
        ? share_of (mine.text_words, total->text_words)
        : share_of (mine.present[mod], total->present[mod]);
    a->aux_div += m->config->has[mod] && total->present[mod] > 0;
  }
  a->share_adv = share_of (mine.adv, total->adv);
  /* InfoNCE couples the slice's samples: weighted by its share of them */
  a->share_nce = share_of (mine.samples, total->samples);
  backward_run (m);
  if (share != NULL)
    losses_share (m, share);
  return TRUE;
}

/* ---------------------------------------------------------------- update */

gboolean
mmdnn_model_update (MmdnnModel *m, GError **error)
{
  MmdnnParamSet *ps;
  double norm;
  float lr;

  MMDNN_CHECK_NOT_NULL (m, error, FALSE);
  ps = m->params;
  norm = m->config->clip_norm > 0.0f
      ? mmdnn_clip_grad_norm (ps->grads, ps->numel, m->config->clip_norm)
      : mmdnn_grad_global_norm (ps->grads, ps->numel);
  if (!isfinite (norm)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                 "model: the gradient norm is %g at step %" G_GINT64_FORMAT
                 "; step skipped, weights unchanged", norm, m->step);
    return FALSE;
  }
  lr = mmdnn_lr_schedule_get (&m->schedule, m->step);
  if (!mmdnn_optim_step_finite (m->optim, ps, lr)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                 "model: the update at step %" G_GINT64_FORMAT " (learning "
                 "rate %g) would make a weight non-finite; step skipped, "
                 "weights unchanged", m->step, (double) lr);
    return FALSE;
  }
  mmdnn_optim_step (m->optim, ps, lr);
  m->step++;
  return TRUE;
}

gboolean
mmdnn_model_train_step (MmdnnModel *m, const MmdnnBatch *b,
                        MmdnnLosses *losses, GError **error)
{
  if (!mmdnn_model_forward (m, b, TRUE, NULL, losses, error))
    return FALSE;
  mmdnn_model_backward (m);
  return mmdnn_model_update (m, error);
}

/* ---------------------------------------------------------------- evaluate */

static int64_t
argmax (const float *x, int64_t n)
{
  int64_t best = 0;

  for (int64_t k = 1; k < n; k++)
    if (x[k] > x[best])
      best = k;
  return best;
}

void
mmdnn_outputs_score (const MmdnnModelConfig *c, const MmdnnOutputs *out,
                     const int32_t *labels, int64_t n, int64_t *correct,
                     int64_t *count)
{
  g_return_if_fail (c != NULL && out != NULL && labels != NULL);
  g_return_if_fail (correct != NULL && count != NULL);
  for (int t = 0; t < c->n_tasks; t++)
    for (int64_t i = 0; i < n; i++) {
      int32_t label = labels[i * c->n_tasks + t];
      int64_t ct = c->tasks[t].n_classes;

      if (label < 0)
        continue;
      correct[t] += argmax (out->probs[t] + i * ct, ct) == label;
      count[t]++;
    }
}

/* Packs the samples of @b that keep a present modality under @abl into
 * a->copy (presence ablated); returns how many. */
static int64_t
pack_ablation (MmdnnModel *m, const MmdnnBatch *b, MmdnnAblation abl)
{
  int64_t j = 0;

  copy_reset (m->acts, b, b->n);
  m->acts->copy.labels_b = NULL;      /* evaluation scores the labels */
  m->acts->copy.mix = 1.0f;
  for (int64_t i = 0; i < b->n; i++) {
    float pres[N_MOD];
    gboolean any = FALSE;

    for (int mod = 0; mod < N_MOD; mod++) {
      pres[mod] = m->config->has[mod] && ablation_keeps (abl, mod)
          ? b->presence[i * N_MOD + mod] : 0.0f;
      any |= pres[mod] != 0.0f;
    }
    if (any)
      copy_sample (m, b, i, j++, pres);
  }
  m->acts->copy.n = j;
  return j;
}

gboolean
mmdnn_model_evaluate (MmdnnModel *m, const MmdnnBatch *b,
                      MmdnnEvalResult *results, GError **error)
{
  const MmdnnModelConfig *c;
  MmdnnModelActs *a;

  MMDNN_CHECK_NOT_NULL (m, error, FALSE);
  MMDNN_CHECK_NOT_NULL (results, error, FALSE);
  if (!check_batch (m, b, error))
    return FALSE;
  c = m->config;
  a = m->acts;
  for (int abl = 0; abl < MMDNN_N_ABLATIONS; abl++)
    for (int t = 0; t < c->n_tasks; t++)
      if (results[abl].confusion[t] == NULL)
        results[abl].confusion[t] = g_new0 (int64_t, c->tasks[t].n_classes
                                            * c->tasks[t].n_classes);

  for (int abl = 0; abl < MMDNN_N_ABLATIONS; abl++) {
    MmdnnEvalResult *r = &results[abl];
    int64_t n = pack_ablation (m, b, (MmdnnAblation) abl);

    if (n == 0)
      continue;
    if (!model_run (m, &a->copy, FALSE, NULL, NULL, error))
      return FALSE;
    for (int t = 0; t < c->n_tasks; t++) {
      int64_t ct = c->tasks[t].n_classes;
      for (int64_t i = 0; i < n; i++) {
        int32_t label = a->copy.labels[i * c->n_tasks + t];
        int64_t pred;
        if (label < 0)
          continue;
        pred = argmax (a->probs[t] + i * ct, ct);
        r->count[t]++;
        r->correct[t] += pred == label;
        r->confusion[t][label * ct + pred]++;
      }
    }
  }
  return TRUE;
}

void
mmdnn_eval_result_clear (MmdnnEvalResult *r)
{
  if (r == NULL)
    return;
  for (int t = 0; t < MMDNN_MAX_TASKS; t++)
    g_free (r->confusion[t]);
  memset (r, 0, sizeof (*r));
}

/* correct / count, or NaN when the task had no labelled sample. */
double
mmdnn_eval_result_accuracy (const MmdnnEvalResult *r, int task)
{
  g_return_val_if_fail (r != NULL, NAN);
  g_return_val_if_fail (task >= 0 && task < MMDNN_MAX_TASKS, NAN);
  return r->count[task] > 0
      ? (double) r->correct[task] / (double) r->count[task] : NAN;
}
