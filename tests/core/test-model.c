/* Tests of the whole model: gradients of the joint objective, training,
 * evaluation with ablations, the proof that fusion works, and bad input.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>


#include <mmdnn/model.h>
#include <mmdnn/augment.h>
#include "gradcheck.h"

#define N_MOD MMDNN_N_MODALITIES

/* ---------------------------------------------------------------- helpers */

/* A tiny model: video 1×16×16 grid 2×2, audio 1×16×32 grid 1×4 (the AE
 * latent needs ⌈W/8⌉ ≥ grid_w), text L 6 M 4 over 257 buckets, D 16; every
 * loss term on, virtual data off. Tasks: "class" (3) and "gender" (2). */
static MmdnnModelConfig *
tiny_config (gboolean video, gboolean audio, gboolean text)
{
  static const char *const cls[] = { "a", "b", "c", NULL };
  static const char *const gender[] = { "f", "m", NULL };
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  MmdnnImageEncoderConfig *e[2] = { &c->video, &c->audio };

  c->has[0] = video;
  c->has[1] = audio;
  c->has[2] = text;
  c->video_prep.channels = 1;
  c->video_prep.height = 16;
  c->video_prep.width = 16;
  c->logmel.n_mels = 16;
  c->audio_patch_frames = 32;
  for (int k = 0; k < 2; k++) {
    e[k]->channels = 1;
    e[k]->dim = 16;
    e[k]->ae_width = 3;
    e[k]->ae_latent = 4;
    e[k]->ms_width = 3;
    e[k]->ms_width2 = 5;
    e[k]->ms_width3 = 6;
    e[k]->sal_width = 4;
  }
  c->video.height = 16;
  c->video.width = 16;
  c->video.grid_h = 2;
  c->video.grid_w = 2;
  c->audio.height = 16;
  c->audio.width = 32;
  c->audio.grid_h = 1;
  c->audio.grid_w = 4;
  c->text_prep.buckets = 257;
  c->text_prep.max_tokens = 6;
  c->text_prep.max_ids_per_token = 4;
  c->text.buckets = 257;
  c->text.max_tokens = 6;
  c->text.ids_per_token = 4;
  c->text.embed = 8;
  c->text.dim = 16;
  c->text.ae_latent = 4;
  c->text.ms_width = 3;
  c->text.ms_width2 = 6;
  c->text.sal_width = 4;
  c->fusion.dim = 16;
  c->fusion.tokens[0] = 4;
  c->fusion.tokens[1] = 4;
  c->fusion.tokens[2] = 6;
  c->fusion.attn_hidden = 8;
  g_assert_true (mmdnn_model_config_set_task (c, 0, "class", cls, 1.0f, NULL));
  g_assert_true (mmdnn_model_config_set_task (c, 1, "gender", gender, 0.5f,
                                              NULL));
  c->disc_hidden = 8;
  c->mixup_alpha = 0.0f;
  c->p_recombine = 0.0f;
  c->p_modality_dropout = 0.0f;
  c->p_latent = 0.0f;
  c->warmup_steps = 0;
  c->total_steps = 1000;
  return c;
}

/* keeps only the first task (the test owns the config) */
static void
one_task (MmdnnModelConfig *c, const char *const *classes)
{
  for (int t = 1; t < c->n_tasks; t++) {
    g_free (c->tasks[t].name);
    g_strfreev (c->tasks[t].classes);
    memset (&c->tasks[t], 0, sizeof (c->tasks[t]));
  }
  c->n_tasks = 1;
  g_assert_true (mmdnn_model_config_set_task (c, 0, "class", classes, 1.0f,
                                              NULL));
}

static MmdnnModel *
tiny_model (gboolean video, gboolean audio, gboolean text, int64_t max_batch)
{
  MmdnnModelConfig *c = tiny_config (video, audio, text);
  GError *err = NULL;
  MmdnnModel *m = mmdnn_model_new (c, 7, max_batch, &err);

  g_assert_no_error (err);
  g_assert_nonnull (m);
  mmdnn_model_config_free (c);
  return m;
}

static int64_t
input_size (const MmdnnModelConfig *c, int mod)
{
  const MmdnnImageEncoderConfig *e = mod == 0 ? &c->video : &c->audio;

  if (mod == 2)
    return c->text.max_tokens * c->text.ids_per_token;
  return e->channels * e->height * e->width;
}

/* A batch of random inputs; text: cue i has 1 + i % L words with random
 * ids (some sub-word slots −1), the rest padding. Labels random. */
static MmdnnBatch *
random_batch (const MmdnnModelConfig *c, int64_t n, uint64_t seed)
{
  MmdnnBatch *b = mmdnn_batch_new (c, n, NULL);
  MmdnnRng rng;
  int64_t l = c->text.max_tokens, mm = c->text.ids_per_token;

  g_assert_nonnull (b);
  mmdnn_rng_init (&rng, seed);
  if (b->video != NULL)
    mmdnn_rng_fill_uniform (&rng, b->video, n * input_size (c, 0), -1.0f, 1.0f);
  if (b->audio != NULL)
    mmdnn_rng_fill_uniform (&rng, b->audio, n * input_size (c, 1), -1.0f, 1.0f);
  for (int64_t i = 0; b->text_ids != NULL && i < n; i++)
    for (int64_t t = 0; t < l; t++)
      for (int64_t k = 0; k < mm; k++)
        b->text_ids[(i * l + t) * mm + k] =
            t <= i % l && (k == 0 || mmdnn_rng_uniform (&rng) < 0.6)
            ? (int32_t) mmdnn_rng_below (&rng, c->text.buckets) : -1;
  for (int64_t i = 0; i < n; i++)
    for (int t = 0; t < c->n_tasks; t++)
      b->labels[i * c->n_tasks + t] =
          (int32_t) mmdnn_rng_below (&rng, c->tasks[t].n_classes);
  return b;
}

static float *
param_copy (const MmdnnModel *m, gboolean grads)
{
  return g_memdup2 (grads ? m->params->grads : m->params->values,
                    sizeof (float) * m->params->numel);
}

/* ---------------------------------------------------------------- construction */

static void
test_new_default (void)
{
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  GError *err = NULL;
  MmdnnModel *m = mmdnn_model_new (c, 1, 2, &err);
  const char *names[] = {
    "video.ae.enc1.weight", "video.pos", "audio.proj.weight", "text.emb.weight",
    "fusion.attn_v", "fusion.match.audio_text.weight", "head.class.weight",
    "head.speaker_gender.bias", "aux.video.weight", "aux.text.bias",
    "disc.fc1.weight", "disc.fc2.bias",
  };
  int64_t total = 0;

  g_assert_no_error (err);
  g_assert_nonnull (m);
  for (guint k = 0; k < G_N_ELEMENTS (names); k++)
    g_assert_nonnull (mmdnn_param_set_lookup (m->params, names[k]));
  for (guint k = 0; k < m->params->params->len; k++)
    total += ((MmdnnParam *) g_ptr_array_index (m->params->params, k))->numel;
  g_test_message ("default model: %u tensors, %" G_GINT64_FORMAT
                  " parameters", m->params->params->len, total);
  g_assert_cmpint (mmdnn_param_set_lookup (m->params, "head.class.weight")
                   ->shape[0], ==, 10);
  g_assert_cmpint (mmdnn_param_set_lookup (m->params, "disc.fc2.weight")
                   ->shape[0], ==, 3);
  g_assert_cmpint (m->step, ==, 0);
  mmdnn_model_free (m);
  mmdnn_model_config_free (c);
  mmdnn_model_free (NULL);
}

/* Only what the config uses is declared. */
static void
test_declares_only_used (void)
{
  MmdnnModelConfig *c = tiny_config (TRUE, FALSE, TRUE);
  MmdnnModel *m;

  c->w_aux = 0.0f;
  c->w_adv = 0.0f;
  m = mmdnn_model_new (c, 1, 4, NULL);
  g_assert_nonnull (m);
  for (guint k = 0; k < m->params->params->len; k++) {
    const char *name = ((MmdnnParam *) g_ptr_array_index (m->params->params,
                                                          k))->name;
    g_assert_false (g_str_has_prefix (name, "audio."));
    g_assert_false (g_str_has_prefix (name, "aux."));
    g_assert_false (g_str_has_prefix (name, "disc."));
  }
  g_assert_nonnull (mmdnn_param_set_lookup (m->params, "video.proj.weight"));
  g_assert_nonnull (mmdnn_param_set_lookup (m->params, "head.gender.weight"));
  mmdnn_model_free (m);
  mmdnn_model_config_free (c);
}

/* Same seed, same weights; another seed, others. */
static void
test_seeded (void)
{
  MmdnnModelConfig *c = tiny_config (TRUE, TRUE, TRUE);
  MmdnnModel *a = mmdnn_model_new (c, 5, 2, NULL);
  MmdnnModel *b = mmdnn_model_new (c, 5, 3, NULL);
  MmdnnModel *d = mmdnn_model_new (c, 6, 2, NULL);

  g_assert_cmpmem (a->params->values, a->params->numel * sizeof (float),
                   b->params->values, b->params->numel * sizeof (float));
  g_assert_true (memcmp (a->params->values, d->params->values,
                         a->params->numel * sizeof (float)) != 0);
  mmdnn_model_free (a);
  mmdnn_model_free (b);
  mmdnn_model_free (d);
  mmdnn_model_config_free (c);
}

static void
test_batch_new (void)
{
  MmdnnModelConfig *c = tiny_config (TRUE, FALSE, TRUE);
  MmdnnBatch *b = mmdnn_batch_new (c, 3, NULL);

  g_assert_nonnull (b);
  g_assert_cmpint (b->n, ==, 3);
  g_assert_nonnull (b->video);
  g_assert_null (b->audio);
  g_assert_nonnull (b->text_ids);
  g_assert_null (b->labels_b);
  g_assert_cmpfloat (b->mix, ==, 1.0f);
  for (int64_t i = 0; i < 3; i++) {
    g_assert_cmpfloat (b->presence[i * 3 + 0], ==, 1.0f);
    g_assert_cmpfloat (b->presence[i * 3 + 1], ==, 0.0f);
    g_assert_cmpfloat (b->presence[i * 3 + 2], ==, 1.0f);
    g_assert_cmpint (b->labels[i * 2], ==, -1);
    g_assert_cmpint (b->labels[i * 2 + 1], ==, -1);
  }
  g_assert_cmpfloat (b->video[3 * 256 - 1], ==, 0.0f);
  mmdnn_batch_free (b);
  mmdnn_batch_free (NULL);
  mmdnn_model_config_free (c);
}

static void
test_ablation_names (void)
{
  g_assert_cmpstr (mmdnn_ablation_name (MMDNN_ABLATION_FULL), ==, "full");
  g_assert_cmpstr (mmdnn_ablation_name (MMDNN_ABLATION_ONLY_AUDIO), ==,
                   "audio");
  g_assert_cmpstr (mmdnn_ablation_name (MMDNN_ABLATION_NO_TEXT), ==,
                   "no_text");
  g_assert_null (mmdnn_ablation_name (MMDNN_N_ABLATIONS));
}

/* ---------------------------------------------------------------- gradients */

typedef struct {
  MmdnnModel *m;
  MmdnnBatch *b;
  float       total;
} LossCtx;

static void
loss_forward (void *p)
{
  LossCtx *ctx = p;
  MmdnnLosses l;

  g_assert_true (mmdnn_model_forward (ctx->m, ctx->b, TRUE, NULL, &l, NULL));
  ctx->total = l.total;
}

/* A window of up to 10 elements in the middle of every parameter tensor:
 * every parameter of every stage is checked against the finite difference
 * of the total loss. */
static gboolean
check_model_gradient (LossCtx *ctx, const char *label)
{
  MmdnnParamSet *ps = ctx->m->params;
  guint np = ps->params->len;
  GradcheckInput *in = g_new0 (GradcheckInput, np);
  float r = 1.0f;
  gboolean ok;

  loss_forward (ctx);
  mmdnn_model_backward (ctx->m);
  for (guint k = 0; k < np; k++) {
    MmdnnParam *p = g_ptr_array_index (ps->params, k);
    int64_t cnt = MIN (p->numel, 10), off = (p->numel - cnt) / 2;
    in[k] = (GradcheckInput) { p->name, p->value + off, p->grad + off, cnt };
  }
  ok = gradcheck (label, loss_forward, ctx, &ctx->total, 1, &r, in, (int) np,
                  3e-4, 1e-3, 2e-2);
  g_free (in);
  return ok;
}

/* Presence: all, no audio, only video, no video, only text; text cues of
 * 1..5 words (padding); one unknown label per task. */
static MmdnnBatch *
gradcheck_batch (const MmdnnModelConfig *c)
{
  static const float pres[5][3] = {
    { 1, 1, 1 }, { 1, 0, 1 }, { 1, 0, 0 }, { 0, 1, 1 }, { 0, 0, 1 }
  };
  MmdnnBatch *b = random_batch (c, 5, 11);

  memcpy (b->presence, pres, sizeof (pres));
  b->labels[1 * 2 + 0] = -1;
  b->labels[3 * 2 + 1] = -1;
  /* garbage in the missing inputs must not matter */
  b->audio[1 * input_size (c, 1)] = NAN;
  b->video[3 * input_size (c, 0) + 5] = INFINITY;
  return b;
}

/* λ = −1 makes the GRL the identity for gradients, so the analytic gradient
 * is the true gradient of the total (the reversal itself is checked in
 * test_grl_reverses). */
static void
test_gradcheck (void)
{
  MmdnnModel *m = tiny_model (TRUE, TRUE, TRUE, 5);
  MmdnnBatch *b = gradcheck_batch (m->config);
  LossCtx ctx = { m, b, 0.0f };
  MmdnnLosses l;

  m->config->grl_lambda = -1.0f;
  g_assert_true (mmdnn_model_forward (m, b, TRUE, NULL, &l, NULL));
  g_assert_cmpfloat (l.aux, >, 0.0f);
  g_assert_cmpfloat (l.recon, >, 0.0f);
  g_assert_cmpfloat (l.adv, >, 0.0f);
  g_assert_cmpfloat (l.nce, >, 0.0f);
  g_assert_cmpfloat (fabsf (l.total - (l.task[0] + 0.5f * l.task[1]
                                       + m->config->w_aux * l.aux
                                       + m->config->w_recon * l.recon
                                       + m->config->w_adv * l.adv
                                       + m->config->w_nce * l.nce)), <, 1e-5f);
  g_assert_true (check_model_gradient (&ctx, "model"));
  mmdnn_batch_free (b);
  mmdnn_model_free (m);
}

static void
test_gradcheck_mixup (void)
{
  MmdnnModel *m = tiny_model (TRUE, TRUE, TRUE, 5);
  MmdnnBatch *b = gradcheck_batch (m->config);
  LossCtx ctx = { m, b, 0.0f };
  MmdnnLosses l, l1;

  m->config->grl_lambda = -1.0f;
  b->labels_b = g_new (int32_t, 5 * 2);
  for (int k = 0; k < 10; k++)
    b->labels_b[k] = (b->labels[k] + 1) % m->config->tasks[k % 2].n_classes;
  b->labels_b[4 * 2] = -1;
  /* λ = 1 is exactly the unmixed loss */
  b->mix = 1.0f;
  g_assert_true (mmdnn_model_forward (m, b, TRUE, NULL, &l1, NULL));
  g_free (b->labels_b);
  b->labels_b = NULL;
  g_assert_true (mmdnn_model_forward (m, b, TRUE, NULL, &l, NULL));
  g_assert_cmpfloat (l.total, ==, l1.total);

  b->labels_b = g_new (int32_t, 5 * 2);
  for (int k = 0; k < 10; k++)
    b->labels_b[k] = (b->labels[k] + 1) % m->config->tasks[k % 2].n_classes;
  b->mix = 0.7f;
  g_assert_true (mmdnn_model_forward (m, b, TRUE, NULL, &l, NULL));
  g_assert_cmpfloat (fabsf (l.task[0] - l1.task[0]), >, 1e-4f);
  g_assert_true (check_model_gradient (&ctx, "model-mixup"));
  mmdnn_batch_free (b);
  mmdnn_model_free (m);
}

/* grad(λ) = g_rest − λ·g_adv for the encoders (linear in λ), the
 * discriminator's own gradient independent of λ: so g(1) + g(−1) = 2 g(0),
 * and g(1) ≠ g(0) for the encoders. */
static void
test_grl_reverses (void)
{
  MmdnnModel *m = tiny_model (TRUE, TRUE, TRUE, 5);
  MmdnnBatch *b = gradcheck_batch (m->config);
  float *g[3];
  float lambdas[3] = { 1.0f, -1.0f, 0.0f };
  MmdnnParam *enc = mmdnn_param_set_lookup (m->params, "video.proj.weight");
  MmdnnParam *disc = mmdnn_param_set_lookup (m->params, "disc.fc1.weight");
  int64_t n = m->params->numel;
  double worst = 0.0, scale = 0.0, diff = 0.0;

  for (int k = 0; k < 3; k++) {
    m->config->grl_lambda = lambdas[k];
    g_assert_true (mmdnn_model_forward (m, b, TRUE, NULL, NULL, NULL));
    mmdnn_model_backward (m);
    g[k] = param_copy (m, TRUE);
  }
  for (int64_t i = 0; i < n; i++) {
    worst = MAX (worst, fabs ((double) g[0][i] + g[1][i] - 2.0 * g[2][i]));
    scale = MAX (scale, fabs ((double) g[2][i]));
  }
  g_assert_cmpfloat (worst, <, 1e-5 * scale + 1e-7);
  for (int64_t i = 0; i < enc->numel; i++)
    diff = MAX (diff, fabs ((double) g[0][enc->offset + i]
                            - g[2][enc->offset + i]));
  g_assert_cmpfloat (diff, >, 1e-6);
  g_assert_cmpmem (g[0] + disc->offset, disc->numel * sizeof (float),
                   g[1] + disc->offset, disc->numel * sizeof (float));
  for (int k = 0; k < 3; k++)
    g_free (g[k]);
  mmdnn_batch_free (b);
  mmdnn_model_free (m);
}

/* backward zeroes the gradients first: twice gives the same, not double */
static void
test_backward_zeroes (void)
{
  MmdnnModel *m = tiny_model (TRUE, TRUE, TRUE, 5);
  MmdnnBatch *b = gradcheck_batch (m->config);
  float *once;

  g_assert_true (mmdnn_model_forward (m, b, TRUE, NULL, NULL, NULL));
  mmdnn_model_backward (m);
  once = param_copy (m, TRUE);
  mmdnn_model_backward (m);
  g_assert_cmpmem (once, m->params->numel * sizeof (float), m->params->grads,
                   m->params->numel * sizeof (float));
  g_free (once);
  mmdnn_batch_free (b);
  mmdnn_model_free (m);
}

/* A missing modality's input is never read: NaN there or zeros give the
 * same outputs, losses and gradients, bit for bit. */
static void
test_missing_input_ignored (void)
{
  MmdnnModel *m = tiny_model (TRUE, TRUE, TRUE, 5);
  MmdnnBatch *b = gradcheck_batch (m->config);
  MmdnnOutputs out;
  MmdnnLosses l1, l2;
  float *g1, *p1, *w1;
  int64_t na = input_size (m->config, 1);

  g_assert_true (mmdnn_model_forward (m, b, TRUE, &out, &l1, NULL));
  mmdnn_model_backward (m);
  g1 = param_copy (m, TRUE);
  p1 = g_memdup2 (out.probs[0], sizeof (float) * 5 * 3);
  w1 = g_memdup2 (out.modality_weights, sizeof (float) * 5 * 3);
  for (int64_t k = 0; k < na; k++)
    b->audio[1 * na + k] = 0.0f;
  b->video[3 * input_size (m->config, 0) + 5] = 0.0f;
  g_assert_true (mmdnn_model_forward (m, b, TRUE, &out, &l2, NULL));
  mmdnn_model_backward (m);
  g_assert_cmpfloat (l1.total, ==, l2.total);
  g_assert_cmpmem (g1, m->params->numel * sizeof (float), m->params->grads,
                   m->params->numel * sizeof (float));
  g_assert_cmpmem (p1, 15 * sizeof (float), out.probs[0], 15 * sizeof (float));
  g_assert_cmpmem (w1, 15 * sizeof (float), out.modality_weights,
                   15 * sizeof (float));
  /* ω of a missing modality is 0; each row sums to 1 */
  g_assert_cmpfloat (out.modality_weights[1 * 3 + 1], ==, 0.0f);
  for (int i = 0; i < 5; i++)
    g_assert_cmpfloat (fabsf (out.modality_weights[i * 3]
                              + out.modality_weights[i * 3 + 1]
                              + out.modality_weights[i * 3 + 2] - 1.0f), <,
                       1e-5f);
  g_free (g1);
  g_free (p1);
  g_free (w1);
  mmdnn_batch_free (b);
  mmdnn_model_free (m);
}

/* Inference: only the task cross-entropies; unknown labels allowed; the
 * caller's batch is never modified by training's virtual data. */
static void
test_inference (void)
{
  MmdnnModelConfig *c = tiny_config (TRUE, TRUE, TRUE);
  MmdnnModel *m;
  MmdnnBatch *b;
  MmdnnOutputs out;
  MmdnnLosses l;
  float *before;
  int64_t nv;

  c->mixup_alpha = 0.4f;
  c->p_recombine = 0.5f;
  c->p_modality_dropout = 0.5f;
  c->p_latent = 0.5f;
  m = mmdnn_model_new (c, 3, 6, NULL);
  b = random_batch (c, 6, 5);
  nv = 6 * input_size (c, 0);
  g_assert_true (mmdnn_model_forward (m, b, FALSE, &out, &l, NULL));
  g_assert_cmpfloat (l.aux, ==, 0.0f);
  g_assert_cmpfloat (l.recon, ==, 0.0f);
  g_assert_cmpfloat (l.adv, ==, 0.0f);
  g_assert_cmpfloat (l.nce, ==, 0.0f);
  g_assert_cmpfloat (l.total, >, 0.0f);
  for (int i = 0; i < 6; i++) {
    float s = 0.0f;
    for (int k = 0; k < 3; k++)
      s += out.probs[0][i * 3 + k];
    g_assert_cmpfloat (fabsf (s - 1.0f), <, 1e-5f);
  }
  g_assert_true (mmdnn_model_forward (m, b, FALSE, NULL, NULL, NULL));

  before = g_memdup2 (b->video, sizeof (float) * nv);
  for (int k = 0; k < 3; k++)
    g_assert_true (mmdnn_model_train_step (m, b, &l, NULL));
  g_assert_cmpmem (before, nv * sizeof (float), b->video, nv * sizeof (float));
  g_assert_null (b->labels_b);
  g_assert_cmpfloat (b->mix, ==, 1.0f);
  g_assert_cmpint (m->step, ==, 3);
  g_free (before);
  mmdnn_batch_free (b);
  mmdnn_model_free (m);
  mmdnn_model_config_free (c);
}

/* ---------------------------------------------------------------- data parallel */

/* Six samples: presence all, no audio, no video, no text, only text, all;
 * text cues of 1..6 words; unknown labels in samples 1 (task 0) and 4
 * (task 1). */
static MmdnnBatch *
parallel_batch (const MmdnnModelConfig *c)
{
  static const float pres[6][3] = {
    { 1, 1, 1 }, { 1, 0, 1 }, { 0, 1, 1 }, { 1, 1, 0 }, { 0, 0, 1 }, { 1, 1, 1 }
  };
  MmdnnBatch *b = random_batch (c, 6, 13);

  memcpy (b->presence, pres, sizeof (pres));
  b->labels[1 * 2 + 0] = -1;
  b->labels[4 * 2 + 1] = -1;
  return b;
}

/* samples [off, off + n) of @b as a batch of their own */
static MmdnnBatch *
slice_batch (const MmdnnModelConfig *c, const MmdnnBatch *b, int64_t off,
             int64_t n)
{
  MmdnnBatch *s = mmdnn_batch_new (c, n, NULL);
  int64_t sv = input_size (c, 0), sa = input_size (c, 1), st = input_size (c, 2);

  memcpy (s->video, b->video + off * sv, sizeof (float) * n * sv);
  memcpy (s->audio, b->audio + off * sa, sizeof (float) * n * sa);
  memcpy (s->text_ids, b->text_ids + off * st, sizeof (int32_t) * n * st);
  memcpy (s->presence, b->presence + off * N_MOD, sizeof (float) * n * N_MOD);
  memcpy (s->labels, b->labels + off * c->n_tasks,
          sizeof (int32_t) * n * c->n_tasks);
  return s;
}

/* The batch in three slices (4, 1 with text alone, 1): the slices' shares
 * of the gradient and of every loss term sum to the whole batch's. All
 * terms on but InfoNCE, which couples the samples of a slice. */
static void
test_backward_shared_sums (void)
{
  static const int64_t off[] = { 0, 4, 5, 6 };
  MmdnnModelConfig *c = tiny_config (TRUE, TRUE, TRUE);
  MmdnnModel *m;
  MmdnnBatch *b;
  MmdnnLossCounts k[3], total;
  MmdnnLosses whole, part, sum;
  GError *err = NULL;
  float *g_whole;
  double *g_sum, max_diff = 0.0, max_g = 0.0;

  c->w_nce = 0.0f;
  m = mmdnn_model_new (c, 5, 6, &err);
  g_assert_no_error (err);
  b = parallel_batch (c);
  g_assert_true (mmdnn_model_forward (m, b, TRUE, NULL, &whole, NULL));
  mmdnn_model_backward (m);
  g_whole = param_copy (m, TRUE);
  g_assert_true (mmdnn_model_loss_counts (m, &total, &err));
  g_assert_no_error (err);
  g_assert_cmpint (total.samples, ==, 6);
  g_assert_cmpint (total.present[0], ==, 4);
  g_assert_cmpint (total.present[1], ==, 4);
  g_assert_cmpint (total.present[2], ==, 5);
  g_assert_cmpint (total.task[0], ==, 5);
  g_assert_cmpint (total.task[1], ==, 5);
  g_assert_cmpint (total.aux[0], ==, 3);     /* video: 0, 1, 3, 5; 1 unknown */
  g_assert_cmpint (total.text_words, >, 5);
  g_assert_cmpint (total.adv, ==, 4 * 4 + 4 * 4 + total.text_words);

  /* the counts of the slices sum to the whole batch's */
  memset (&total, 0, sizeof (total));
  for (int s = 0; s < 3; s++) {
    MmdnnBatch *sl = slice_batch (c, b, off[s], off[s + 1] - off[s]);
    g_assert_true (mmdnn_model_forward (m, sl, TRUE, NULL, NULL, NULL));
    g_assert_true (mmdnn_model_loss_counts (m, &k[s], NULL));
    for (int i = 0; i < MMDNN_LOSS_COUNTS_LEN; i++)
      ((int64_t *) &total)[i] += ((int64_t *) &k[s])[i];
    mmdnn_batch_free (sl);
  }
  g_assert_cmpint (total.samples, ==, 6);
  g_assert_cmpint (k[1].present[0], ==, 0);
  g_assert_cmpint (total.present[2], ==, 5);

  g_sum = g_new0 (double, m->params->numel);
  memset (&sum, 0, sizeof (sum));
  for (int s = 0; s < 3; s++) {
    MmdnnBatch *sl = slice_batch (c, b, off[s], off[s + 1] - off[s]);
    g_assert_true (mmdnn_model_forward (m, sl, TRUE, NULL, NULL, NULL));
    g_assert_true (mmdnn_model_backward_shared (m, &total, &part, &err));
    g_assert_no_error (err);
    for (int64_t i = 0; i < m->params->numel; i++)
      g_sum[i] += m->params->grads[i];
    sum.total += part.total;
    sum.task[0] += part.task[0];
    sum.task[1] += part.task[1];
    sum.aux += part.aux;
    sum.recon += part.recon;
    sum.adv += part.adv;
    mmdnn_batch_free (sl);
  }
  for (int64_t i = 0; i < m->params->numel; i++) {
    max_diff = MAX (max_diff, fabs (g_sum[i] - g_whole[i]));
    max_g = MAX (max_g, fabs (g_whole[i]));
  }
  g_test_message ("max |Σ slices − whole| = %g (max |g| %g)", max_diff, max_g);
  g_assert_cmpfloat (max_g, >, 1e-3);
  g_assert_cmpfloat (max_diff, <=, 1e-5 * max_g);
  g_assert_cmpfloat (fabsf (sum.total - whole.total), <=, 1e-5f * whole.total);
  g_assert_cmpfloat (fabsf (sum.task[0] - whole.task[0]), <=, 1e-5f);
  g_assert_cmpfloat (fabsf (sum.task[1] - whole.task[1]), <=, 1e-5f);
  g_assert_cmpfloat (fabsf (sum.aux - whole.aux), <=, 1e-5f);
  g_assert_cmpfloat (fabsf (sum.recon - whole.recon), <=, 1e-5f);
  g_assert_cmpfloat (fabsf (sum.adv - whole.adv), <=, 1e-5f);
  g_free (g_sum);
  g_free (g_whole);
  mmdnn_batch_free (b);
  mmdnn_model_free (m);
  mmdnn_model_config_free (c);
}

/* One slice that is the whole batch (InfoNCE on too): exactly
 * mmdnn_model_backward, the share exactly the losses. */
static void
test_backward_shared_whole (void)
{
  MmdnnModel *m = tiny_model (TRUE, TRUE, TRUE, 6);
  MmdnnBatch *b = parallel_batch (m->config);
  MmdnnLossCounts own;
  MmdnnLosses l, share;
  float *g;

  g_assert_cmpfloat (m->config->w_nce, >, 0.0f);
  g_assert_true (mmdnn_model_forward (m, b, TRUE, NULL, &l, NULL));
  mmdnn_model_backward (m);
  g = param_copy (m, TRUE);
  g_assert_true (mmdnn_model_loss_counts (m, &own, NULL));
  g_assert_true (mmdnn_model_backward_shared (m, &own, &share, NULL));
  g_assert_cmpmem (g, m->params->numel * sizeof (float), m->params->grads,
                   m->params->numel * sizeof (float));
  g_assert_cmpmem (&l, sizeof (l), &share, sizeof (share));
  g_assert_cmpfloat (l.nce, >, 0.0f);
  g_free (g);
  mmdnn_batch_free (b);
  mmdnn_model_free (m);
}

/* ---------------------------------------------------------------- training */

static void
test_train_lowers_loss (void)
{
  MmdnnModel *m = tiny_model (TRUE, TRUE, TRUE, 8);
  MmdnnBatch *b = random_batch (m->config, 8, 3);
  MmdnnLosses first, l;

  m->config->optim.lr = 3e-3f;
  m->schedule.base_lr = 3e-3f;
  g_assert_true (mmdnn_model_train_step (m, b, &first, NULL));
  for (int s = 0; s < 40; s++)
    g_assert_true (mmdnn_model_train_step (m, b, &l, NULL));
  g_assert_true (mmdnn_model_forward (m, b, TRUE, NULL, &l, NULL));
  g_test_message ("fixed batch: total loss %.4f → %.4f", first.total, l.total);
  g_assert_cmpfloat (l.total, <, 0.7f * first.total);
  g_assert_cmpfloat (l.task[0], <, first.task[0]);
  g_assert_cmpint (m->step, ==, 41);
  mmdnn_batch_free (b);
  mmdnn_model_free (m);
}

/* Sample 0 has only video, 1 video + audio, 2 only text. */
static void
test_evaluate_ablations (void)
{
  static const float pres[3][3] = { { 1, 0, 0 }, { 1, 1, 0 }, { 0, 0, 1 } };
  static const int64_t want[MMDNN_N_ABLATIONS] = {
    /* full video audio text no_video no_audio no_text */
    3, 2, 1, 1, 2, 3, 2
  };
  MmdnnModel *m = tiny_model (TRUE, TRUE, TRUE, 4);
  MmdnnBatch *b = random_batch (m->config, 3, 9);
  MmdnnEvalResult res[MMDNN_N_ABLATIONS];
  MmdnnEvalResult res1[MMDNN_N_ABLATIONS];
  GError *err = NULL;

  memset (res, 0, sizeof (res));
  memset (res1, 0, sizeof (res1));
  memcpy (b->presence, pres, sizeof (pres));
  b->labels[2 * 2 + 1] = -1;           /* sample 2: gender unknown */
  g_assert_true (mmdnn_model_evaluate (m, b, res, &err));
  g_assert_no_error (err);
  for (int a = 0; a < MMDNN_N_ABLATIONS; a++) {
    int64_t conf = 0;
    g_assert_cmpint (res[a].count[0], ==, want[a]);
    g_assert_cmpint (res[a].count[1], ==, want[a] - (a == 0 || a == 3
                                                     || a == 4 || a == 5));
    for (int k = 0; k < 9; k++)
      conf += res[a].confusion[0][k];
    g_assert_cmpint (conf, ==, want[a]);
    g_assert_cmpint (res[a].correct[0], <=, res[a].count[0]);
  }
  /* a sample with only video: in full/video/no_audio/no_text, not in
   * audio/no_video */
  b->presence[1 * 3 + 1] = 0.0f;
  b->presence[2 * 3 + 0] = 1.0f;
  b->presence[2 * 3 + 2] = 0.0f;
  g_assert_true (mmdnn_model_evaluate (m, b, res1, NULL));
  g_assert_cmpint (res1[MMDNN_ABLATION_FULL].count[0], ==, 3);
  g_assert_cmpint (res1[MMDNN_ABLATION_ONLY_VIDEO].count[0], ==, 3);
  g_assert_cmpint (res1[MMDNN_ABLATION_NO_AUDIO].count[0], ==, 3);
  g_assert_cmpint (res1[MMDNN_ABLATION_NO_TEXT].count[0], ==, 3);
  g_assert_cmpint (res1[MMDNN_ABLATION_ONLY_AUDIO].count[0], ==, 0);
  g_assert_cmpint (res1[MMDNN_ABLATION_NO_VIDEO].count[0], ==, 0);
  g_assert_true (isnan (mmdnn_eval_result_accuracy (&res1[MMDNN_ABLATION_NO_VIDEO], 0)));
  /* accumulates */
  g_assert_true (mmdnn_model_evaluate (m, b, res1, NULL));
  g_assert_cmpint (res1[MMDNN_ABLATION_FULL].count[0], ==, 6);
  g_assert_cmpfloat (mmdnn_eval_result_accuracy (&res1[0], 0), ==,
                     res1[0].correct[0] / 6.0);
  for (int a = 0; a < MMDNN_N_ABLATIONS; a++) {
    mmdnn_eval_result_clear (&res[a]);
    mmdnn_eval_result_clear (&res1[a]);
  }
  g_assert_null (res[0].confusion[0]);
  mmdnn_batch_free (b);
  mmdnn_model_free (m);
}

/* ---------------------------------------------------------------- fusion proofs */

/* video bit: the bright half of the frame (left 0 / right 1); audio bit:
 * the loud mel bands (low 0 / high 1); both with noise. */
static void
fill_video (float *x, int bit, MmdnnRng *rng)
{
  for (int y = 0; y < 16; y++)
    for (int w = 0; w < 16; w++)
      x[y * 16 + w] = ((w < 8) == (bit == 0) ? 1.0f : -1.0f)
          + 0.3f * (float) mmdnn_rng_normal (rng);
}

static void
fill_audio (float *x, int bit, MmdnnRng *rng)
{
  for (int f = 0; f < 16; f++)
    for (int t = 0; t < 32; t++)
      x[f * 32 + t] = ((f < 8) == (bit == 0) ? 1.0f : -1.0f)
          + 0.3f * (float) mmdnn_rng_normal (rng);
}

/* class = video bit XOR audio bit; inputs for the model's modalities. */
static void
xor_batch (const MmdnnModelConfig *c, MmdnnBatch *b, MmdnnRng *rng)
{
  for (int64_t i = 0; i < b->n; i++) {
    int v = (int) mmdnn_rng_below (rng, 2), a = (int) mmdnn_rng_below (rng, 2);
    if (c->has[0])
      fill_video (b->video + i * 256, v, rng);
    if (c->has[1])
      fill_audio (b->audio + i * 512, a, rng);
    b->labels[i] = v ^ a;
  }
}

static MmdnnModelConfig *
proof_config (gboolean video, gboolean audio, gboolean text)
{
  static const char *const two[] = { "zero", "one", NULL };
  MmdnnModelConfig *c = tiny_config (video, audio, text);

  one_task (c, two);
  c->w_aux = 0.0f;
  c->w_recon = 0.0f;
  c->w_adv = 0.0f;
  c->w_nce = 0.0f;
  c->optim.lr = 1e-2f;
  c->optim.weight_decay = 0.0f;
  c->min_lr = 1e-3f;
  c->warmup_steps = 10;
  return c;
}

/* Trains on fresh XOR batches and returns the held-out accuracy. */
static double
xor_accuracy (gboolean video, gboolean audio, int steps)
{
  MmdnnModelConfig *c = proof_config (video, audio, FALSE);
  MmdnnModel *m;
  MmdnnBatch *b, *test;
  MmdnnEvalResult res[MMDNN_N_ABLATIONS];
  MmdnnRng rng;
  double acc;

  c->total_steps = steps;
  m = mmdnn_model_new (c, 42, 200, NULL);
  g_assert_nonnull (m);
  b = mmdnn_batch_new (c, 32, NULL);
  test = mmdnn_batch_new (c, 200, NULL);
  mmdnn_rng_init (&rng, 1234);
  xor_batch (c, test, &rng);
  for (int s = 0; s < steps; s++) {
    xor_batch (c, b, &rng);
    g_assert_true (mmdnn_model_train_step (m, b, NULL, NULL));
  }
  memset (res, 0, sizeof (res));
  g_assert_true (mmdnn_model_evaluate (m, test, res, NULL));
  acc = mmdnn_eval_result_accuracy (&res[MMDNN_ABLATION_FULL], 0);
  for (int a = 0; a < MMDNN_N_ABLATIONS; a++)
    mmdnn_eval_result_clear (&res[a]);
  mmdnn_batch_free (b);
  mmdnn_batch_free (test);
  mmdnn_model_free (m);
  mmdnn_model_config_free (c);
  return acc;
}

/* The class is a function of video and audio together (XOR): the fused
 * model learns it, a model that sees one of them cannot. */
static void
test_fusion_xor (void)
{
  double fused = xor_accuracy (TRUE, TRUE, 150);
  double video = xor_accuracy (TRUE, FALSE, 150);
  double audio = xor_accuracy (FALSE, TRUE, 150);

  g_test_message ("XOR held-out accuracy: fused %.3f, video only %.3f, "
                  "audio only %.3f", fused, video, audio);
  g_assert_cmpfloat (fused, >=, 0.95);
  g_assert_cmpfloat (video, <=, 0.65);
  g_assert_cmpfloat (audio, <=, 0.65);
}

/* Two classes, told independently by the bright half of the frame and by
 * the words of the text (disjoint id ranges); audio is pure noise. */
static void
noise_batch (MmdnnBatch *b, MmdnnRng *rng)
{
  for (int64_t i = 0; i < b->n; i++) {
    int cls = (int) mmdnn_rng_below (rng, 2);
    int words = 2 + (int) mmdnn_rng_below (rng, 5);
    /* each informative modality tells the class 85 % of the time, on its
     * own: the model gains from both */
    int vcls = mmdnn_rng_uniform (rng) < 0.85 ? cls : 1 - cls;
    int tcls = mmdnn_rng_uniform (rng) < 0.85 ? cls : 1 - cls;
    fill_video (b->video + i * 256, vcls, rng);
    for (int k = 0; k < 512; k++)
      b->audio[i * 512 + k] = (float) mmdnn_rng_normal (rng);
    for (int t = 0; t < 6; t++)
      for (int k = 0; k < 4; k++)
        b->text_ids[(i * 6 + t) * 4 + k] = t < words && k < 2
            ? (int32_t) (1 + 128 * tcls + mmdnn_rng_below (rng, 100)) : -1;
    b->labels[i] = cls;
  }
}

static void
mean_omega (MmdnnModel *m, const MmdnnBatch *b, double omega[3])
{
  MmdnnOutputs out;

  g_assert_true (mmdnn_model_forward (m, b, FALSE, &out, NULL, NULL));
  for (int k = 0; k < 3; k++) {
    omega[k] = 0.0;
    for (int64_t i = 0; i < b->n; i++)
      omega[k] += out.modality_weights[i * 3 + k] / (double) b->n;
  }
}

static void
test_fusion_noise_weight (void)
{
  MmdnnModelConfig *c = proof_config (TRUE, TRUE, TRUE);
  MmdnnModel *m;
  MmdnnBatch *b, *test;
  MmdnnRng rng;
  double before[3], after[3];

  c->total_steps = 200;
  m = mmdnn_model_new (c, 42, 100, NULL);
  b = mmdnn_batch_new (c, 32, NULL);
  test = mmdnn_batch_new (c, 100, NULL);
  mmdnn_rng_init (&rng, 99);
  noise_batch (test, &rng);
  mean_omega (m, test, before);
  for (int s = 0; s < 200; s++) {
    noise_batch (b, &rng);
    g_assert_true (mmdnn_model_train_step (m, b, NULL, NULL));
  }
  mean_omega (m, test, after);
  g_test_message ("mean ω (video, audio = noise, text): before %.3f %.3f "
                  "%.3f, after %.3f %.3f %.3f", before[0], before[1],
                  before[2], after[0], after[1], after[2]);
  g_assert_cmpfloat (after[1], <, before[1]);
  g_assert_cmpfloat (after[1], <, after[0]);
  g_assert_cmpfloat (after[1], <, after[2]);
  mmdnn_batch_free (b);
  mmdnn_batch_free (test);
  mmdnn_model_free (m);
  mmdnn_model_config_free (c);
}

/* ---------------------------------------------------------------- negative */

static void
test_new_null_config_n (void)
{
  GError *err = NULL;

  g_assert_null (mmdnn_model_new (NULL, 1, 4, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_new_bad_max_batch_n (void)
{
  MmdnnModelConfig *c = tiny_config (TRUE, TRUE, TRUE);
  GError *err = NULL;

  g_assert_null (mmdnn_model_new (c, 1, 0, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  mmdnn_model_config_free (c);
}

static void
test_new_bad_config_n (void)
{
  MmdnnModelConfig *c = tiny_config (TRUE, TRUE, TRUE);
  GError *err = NULL;

  c->video.dim = 8;                     /* ≠ fusion.dim */
  g_assert_null (mmdnn_model_new (c, 1, 4, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  mmdnn_model_config_free (c);
}

static void
test_batch_new_bad_n (void)
{
  MmdnnModelConfig *c = tiny_config (TRUE, TRUE, TRUE);
  GError *err = NULL;

  g_assert_null (mmdnn_batch_new (c, 0, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_null (mmdnn_batch_new (NULL, 2, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  mmdnn_model_config_free (c);
}

/* A forward that must fail with @code and a message containing @needle
 * (NULL: any); the previous training forward stays valid for backward. */
static void
expect_forward_error (MmdnnModel *m, MmdnnBatch *b, gboolean train, int code,
                      const char *needle)
{
  GError *err = NULL;
  MmdnnLosses l;

  l.total = 123.0f;
  g_assert_false (mmdnn_model_forward (m, b, train, NULL, &l, &err));
  g_assert_error (err, MMDNN_ERROR, code);
  if (needle != NULL && strstr (err->message, needle) == NULL)
    g_error ("message \"%s\" lacks \"%s\"", err->message, needle);
  g_assert_cmpfloat (l.total, ==, 123.0f);
  g_clear_error (&err);
}

typedef struct {
  MmdnnModel *m;
  MmdnnBatch *b;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  (void) data;
  f->m = tiny_model (TRUE, TRUE, TRUE, 5);
  f->b = random_batch (f->m->config, 4, 21);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  (void) data;
  mmdnn_batch_free (f->b);
  mmdnn_model_free (f->m);
}

static void
test_forward_too_large_n (Fixture *f, gconstpointer data)
{
  MmdnnBatch *big = random_batch (f->m->config, 6, 1);

  (void) data;
  expect_forward_error (f->m, big, TRUE, MMDNN_ERROR_INVALID_ARGUMENT,
                        "max_batch");
  expect_forward_error (f->m, big, FALSE, MMDNN_ERROR_INVALID_ARGUMENT, NULL);
  mmdnn_batch_free (big);
}

static void
test_forward_null_batch_n (Fixture *f, gconstpointer data)
{
  GError *err = NULL;

  (void) data;
  g_assert_false (mmdnn_model_forward (f->m, NULL, TRUE, NULL, NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_model_forward (NULL, f->b, TRUE, NULL, NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_forward_nan_present_n (Fixture *f, gconstpointer data)
{
  (void) data;
  f->b->audio[2 * 512 + 17] = NAN;
  expect_forward_error (f->m, f->b, TRUE, MMDNN_ERROR_DATA, "sample 2: audio");
  expect_forward_error (f->m, f->b, FALSE, MMDNN_ERROR_DATA, "sample 2: audio");
  /* once audio is missing in that sample, the NaN is ignored */
  f->b->presence[2 * 3 + 1] = 0.0f;
  g_assert_true (mmdnn_model_forward (f->m, f->b, TRUE, NULL, NULL, NULL));
}

static void
test_forward_label_range_n (Fixture *f, gconstpointer data)
{
  (void) data;
  f->b->labels[3 * 2 + 1] = 2;          /* gender has 2 classes */
  expect_forward_error (f->m, f->b, TRUE, MMDNN_ERROR_DATA,
                        "sample 3: label of task 'gender'");
  f->b->labels[3 * 2 + 1] = -2;
  expect_forward_error (f->m, f->b, FALSE, MMDNN_ERROR_DATA, "sample 3");
}

static void
test_forward_labels_b_range_n (Fixture *f, gconstpointer data)
{
  (void) data;
  f->b->labels_b = g_new0 (int32_t, 4 * 2);
  f->b->mix = 0.6f;
  f->b->labels_b[1 * 2] = 3;
  expect_forward_error (f->m, f->b, TRUE, MMDNN_ERROR_DATA, "labels_b");
}

static void
test_forward_bad_mix_n (Fixture *f, gconstpointer data)
{
  (void) data;
  f->b->labels_b = g_new0 (int32_t, 4 * 2);
  f->b->mix = 1.5f;
  expect_forward_error (f->m, f->b, TRUE, MMDNN_ERROR_INVALID_ARGUMENT, "mix");
  f->b->mix = NAN;
  expect_forward_error (f->m, f->b, TRUE, MMDNN_ERROR_INVALID_ARGUMENT, "mix");
}

static void
test_forward_no_modality_n (Fixture *f, gconstpointer data)
{
  (void) data;
  for (int k = 0; k < 3; k++)
    f->b->presence[1 * 3 + k] = 0.0f;
  expect_forward_error (f->m, f->b, TRUE, MMDNN_ERROR_DATA,
                        "sample 1 has no present modality");
}

static void
test_forward_null_input_n (Fixture *f, gconstpointer data)
{
  (void) data;
  g_free (f->b->video);
  f->b->video = NULL;
  expect_forward_error (f->m, f->b, TRUE, MMDNN_ERROR_INVALID_ARGUMENT,
                        "video");
  g_free (f->b->presence);
  f->b->presence = NULL;
  expect_forward_error (f->m, f->b, FALSE, MMDNN_ERROR_INVALID_ARGUMENT,
                        "presence");
}

static void
test_forward_bad_presence_n (Fixture *f, gconstpointer data)
{
  (void) data;
  f->b->presence[2 * 3 + 2] = 0.5f;
  expect_forward_error (f->m, f->b, TRUE, MMDNN_ERROR_DATA,
                        "sample 2: presence of text");
}

static void
test_forward_text_id_n (Fixture *f, gconstpointer data)
{
  (void) data;
  f->b->text_ids[1 * 24 + 0] = 257;     /* buckets = 257 */
  expect_forward_error (f->m, f->b, TRUE, MMDNN_ERROR_DATA, "sample 1: text");
  f->b->text_ids[1 * 24 + 0] = -5;
  expect_forward_error (f->m, f->b, FALSE, MMDNN_ERROR_DATA, "sample 1: text");
}

static void
test_forward_text_no_word_n (Fixture *f, gconstpointer data)
{
  (void) data;
  for (int k = 0; k < 24; k++)
    f->b->text_ids[0 * 24 + k] = -1;
  expect_forward_error (f->m, f->b, TRUE, MMDNN_ERROR_DATA, "sample 0: text");
}

/* A failed forward leaves nothing for backward to use wrongly: backward
 * after it still differentiates the last good training forward. */
static void
test_forward_error_keeps_state_n (Fixture *f, gconstpointer data)
{
  float *g1;

  (void) data;
  g_assert_true (mmdnn_model_forward (f->m, f->b, TRUE, NULL, NULL, NULL));
  mmdnn_model_backward (f->m);
  g1 = param_copy (f->m, TRUE);
  f->b->labels[0] = 99;
  expect_forward_error (f->m, f->b, TRUE, MMDNN_ERROR_DATA, "sample 0");
  mmdnn_model_backward (f->m);
  g_assert_cmpmem (g1, f->m->params->numel * sizeof (float),
                   f->m->params->grads, f->m->params->numel * sizeof (float));
  g_free (g1);
}

/* backward without a training forward (none yet, or an inference one in
 * between) does nothing: the gradients stay as they were */
static void
test_backward_without_train_n (Fixture *f, gconstpointer data)
{
  (void) data;
  f->m->params->grads[0] = 42.0f;
  mmdnn_model_backward (f->m);
  g_assert_cmpfloat (f->m->params->grads[0], ==, 42.0f);
  g_assert_true (mmdnn_model_forward (f->m, f->b, TRUE, NULL, NULL, NULL));
  g_assert_true (mmdnn_model_forward (f->m, f->b, FALSE, NULL, NULL, NULL));
  mmdnn_model_backward (f->m);
  g_assert_cmpfloat (f->m->params->grads[0], ==, 42.0f);
}

/* A non-finite gradient skips the step: weights, optimiser state and the
 * step counter untouched. */
static void
test_update_nonfinite_n (Fixture *f, gconstpointer data)
{
  GError *err = NULL;
  float *before;
  int64_t n = f->m->params->numel;

  (void) data;
  g_assert_true (mmdnn_model_forward (f->m, f->b, TRUE, NULL, NULL, NULL));
  mmdnn_model_backward (f->m);
  f->m->params->grads[n / 2] = NAN;
  before = param_copy (f->m, FALSE);
  g_assert_false (mmdnn_model_update (f->m, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_DATA);
  g_clear_error (&err);
  g_assert_cmpmem (before, n * sizeof (float), f->m->params->values,
                   n * sizeof (float));
  g_assert_cmpint (f->m->step, ==, 0);
  g_assert_cmpint (f->m->optim->step, ==, 0);
  f->m->params->grads[n / 2] = INFINITY;
  g_assert_false (mmdnn_model_update (f->m, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_DATA);
  g_clear_error (&err);
  g_assert_cmpmem (before, n * sizeof (float), f->m->params->values,
                   n * sizeof (float));
  g_free (before);
  g_assert_false (mmdnn_model_update (NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static gboolean
floats_finite (const float *x, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    if (!isfinite (x[i]))
      return FALSE;
  return TRUE;
}

/* A diverging run: a learning rate so large that a step overflows the
 * weights (AdamW at 1e38: the first step's size is 1e39; SGD at 1e30 with
 * weight decay: the first step is taken, then the forward overflows and
 * the gradient is NaN). Every such step is skipped with
 * MMDNN_ERROR_DATA (from the update, or once the weights are huge from
 * the forward), and the weights, the optimiser's moments and the
 * checkpoint written afterwards stay finite. */
static void
test_diverging_run_n (void)
{
  static const struct { MmdnnOptimKind kind; float lr; } runs[] = {
    { MMDNN_OPTIM_ADAMW, 1e38f }, { MMDNN_OPTIM_SGD, 1e30f },
  };

  for (guint r = 0; r < G_N_ELEMENTS (runs); r++) {
    MmdnnModelConfig *c = tiny_config (TRUE, TRUE, TRUE);
    GError *err = NULL;
    MmdnnModel *m, *l;
    MmdnnBatch *b;
    MmdnnLosses losses;
    char *dir, *path;
    int64_t n, skipped = 0, taken = 0;

    if (runs[r].kind == MMDNN_OPTIM_ADAMW)
      mmdnn_optim_config_init_adamw (&c->optim, runs[r].lr, 0.01f);
    else
      mmdnn_optim_config_init_sgd (&c->optim, runs[r].lr, 0.9f, 0.01f);
    c->warmup_steps = 0;
    c->clip_norm = 0.0f;
    m = mmdnn_model_new (c, 7, 4, &err);
    g_assert_no_error (err);
    b = random_batch (c, 4, 21);
    n = m->params->numel;
    for (int step = 0; step < 6; step++) {
      /* once the weights are huge the forward itself is not finite: a
       * DATA error the callers (CLI, mmdnntrain) count as a skipped step */
      if (!mmdnn_model_forward (m, b, TRUE, NULL, &losses, &err)) {
        g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_DATA);
        g_clear_error (&err);
        skipped++;
      } else if (mmdnn_model_backward (m), mmdnn_model_update (m, &err)) {
        taken++;
      } else {
        g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_DATA);
        g_assert_nonnull (strstr (err->message, "skipped"));
        g_clear_error (&err);
        skipped++;
      }
      g_assert_true (floats_finite (m->params->values, n));
      g_assert_true (floats_finite (m->optim->m, n));
      if (m->optim->v != NULL)
        g_assert_true (floats_finite (m->optim->v, n));
      g_assert_cmpint (m->step, ==, taken);
    }
    g_assert_cmpint (skipped, >=, 1);
    /* AdamW overflows at once; SGD takes one step, then diverges */
    g_assert_cmpint (taken, ==, runs[r].kind == MMDNN_OPTIM_ADAMW ? 0 : 1);

    dir = g_dir_make_tmp ("mmdnn-diverge-XXXXXX", &err);
    g_assert_no_error (err);
    path = g_build_filename (dir, "d.ckpt", NULL);
    g_assert_true (mmdnn_model_save_checkpoint (m, path, &err));
    g_assert_no_error (err);
    l = mmdnn_model_load_checkpoint (path, 4, &err);
    g_assert_no_error (err);
    g_assert_true (floats_finite (l->params->values, n));
    g_assert_true (floats_finite (l->optim->m, n));
    g_assert_cmpint (l->step, ==, taken);
    mmdnn_model_free (l);
    g_unlink (path);
    g_rmdir (dir);
    g_free (path);
    g_free (dir);
    mmdnn_batch_free (b);
    mmdnn_model_free (m);
    mmdnn_model_config_free (c);
  }
}

static void
test_train_step_bad_batch_n (Fixture *f, gconstpointer data)
{
  GError *err = NULL;
  float *before;
  int64_t n = f->m->params->numel;

  (void) data;
  before = param_copy (f->m, FALSE);
  f->b->labels[1 * 2] = 3;
  g_assert_false (mmdnn_model_train_step (f->m, f->b, NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_DATA);
  g_clear_error (&err);
  g_assert_cmpmem (before, n * sizeof (float), f->m->params->values,
                   n * sizeof (float));
  g_assert_cmpint (f->m->step, ==, 0);
  g_free (before);
}

static void
test_evaluate_bad_n (Fixture *f, gconstpointer data)
{
  MmdnnEvalResult res[MMDNN_N_ABLATIONS];
  GError *err = NULL;

  (void) data;
  memset (res, 0, sizeof (res));
  g_assert_false (mmdnn_model_evaluate (f->m, f->b, NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  f->b->video[5] = NAN;
  g_assert_false (mmdnn_model_evaluate (f->m, f->b, res, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_DATA);
  g_clear_error (&err);
  /* nothing was counted */
  g_assert_cmpint (res[0].count[0], ==, 0);
  for (int a = 0; a < MMDNN_N_ABLATIONS; a++)
    mmdnn_eval_result_clear (&res[a]);
}

static void
test_loss_counts_no_forward_n (Fixture *f, gconstpointer data)
{
  MmdnnLossCounts k;
  GError *err = NULL;

  (void) data;
  g_assert_false (mmdnn_model_loss_counts (f->m, &k, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  /* an inference forward is not one either */
  g_assert_true (mmdnn_model_forward (f->m, f->b, FALSE, NULL, NULL, NULL));
  g_assert_false (mmdnn_model_loss_counts (f->m, &k, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_model_loss_counts (f->m, NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_model_loss_counts (NULL, &k, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

/* Totals below the slice's own counts (a summing bug) are refused and the
 * gradients left as they were. */
static void
test_backward_shared_bad_total_n (Fixture *f, gconstpointer data)
{
  MmdnnLossCounts own = { 0 }, bad;
  GError *err = NULL;

  (void) data;
  g_assert_false (mmdnn_model_backward_shared (f->m, &own, NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_true (mmdnn_model_forward (f->m, f->b, TRUE, NULL, NULL, NULL));
  g_assert_true (mmdnn_model_loss_counts (f->m, &own, NULL));
  f->m->params->grads[0] = 42.0f;
  for (int i = 0; i < MMDNN_LOSS_COUNTS_LEN; i++) {
    bad = own;
    if (((int64_t *) &own)[i] == 0)
      continue;
    ((int64_t *) &bad)[i]--;
    g_assert_false (mmdnn_model_backward_shared (f->m, &bad, NULL, &err));
    g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
    g_clear_error (&err);
  }
  g_assert_false (mmdnn_model_backward_shared (f->m, NULL, NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_cmpfloat (f->m->params->grads[0], ==, 42.0f);
}

/* Inside a training forward, latent perturbation borrows the model's
 * encoder arena; called with a forward pending, it allocates its own. The
 * virtual samples are the same bit for bit. */
static void
test_latent_borrowed_arena (void)
{
  MmdnnModel *m = tiny_model (TRUE, TRUE, FALSE, 4);
  const MmdnnModelConfig *c = m->config;
  MmdnnBatch *b1 = random_batch (c, 4, 21), *b2 = random_batch (c, 4, 21);
  MmdnnBatch *orig = random_batch (c, 4, 21), *other = random_batch (c, 3, 5);
  int64_t nv = 4 * input_size (c, 0), na = 4 * input_size (c, 1);
  MmdnnRng saved = m->rng;
  MmdnnLosses l1;

  /* no forward yet: the arena is free and borrowed */
  g_assert_true (mmdnn_augment_latent (m, b1, 1.0f, 0.3f, NULL));
  g_assert_false (memcmp (b1->video, orig->video, sizeof (float) * nv) == 0);
  g_assert_false (memcmp (b1->audio, orig->audio, sizeof (float) * na) == 0);

  /* a forward pending: the arena is the forward's, so it allocates */
  g_assert_true (mmdnn_model_forward (m, other, TRUE, NULL, &l1, NULL));
  m->rng = saved;
  g_assert_true (mmdnn_augment_latent (m, b2, 1.0f, 0.3f, NULL));
  g_assert_true (memcmp (b1->video, b2->video, sizeof (float) * nv) == 0);
  g_assert_true (memcmp (b1->audio, b2->audio, sizeof (float) * na) == 0);

  mmdnn_batch_free (b1);
  mmdnn_batch_free (b2);
  mmdnn_batch_free (orig);
  mmdnn_batch_free (other);
  mmdnn_model_free (m);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/model/new-default", test_new_default);
  g_test_add_func ("/model/latent-borrowed-arena", test_latent_borrowed_arena);
  g_test_add_func ("/model/declares-only-used", test_declares_only_used);
  g_test_add_func ("/model/seeded", test_seeded);
  g_test_add_func ("/model/batch-new", test_batch_new);
  g_test_add_func ("/model/ablation-names", test_ablation_names);
  g_test_add_func ("/model/gradcheck", test_gradcheck);
  g_test_add_func ("/model/gradcheck-mixup", test_gradcheck_mixup);
  g_test_add_func ("/model/grl-reverses", test_grl_reverses);
  g_test_add_func ("/model/backward-zeroes", test_backward_zeroes);
  g_test_add_func ("/model/missing-input-ignored", test_missing_input_ignored);
  g_test_add_func ("/model/inference", test_inference);
  g_test_add_func ("/model/train-lowers-loss", test_train_lowers_loss);
  g_test_add_func ("/model/backward-shared-sums", test_backward_shared_sums);
  g_test_add_func ("/model/backward-shared-whole", test_backward_shared_whole);
  g_test_add_func ("/model/evaluate-ablations", test_evaluate_ablations);
  g_test_add_func ("/model/fusion-xor", test_fusion_xor);
  g_test_add_func ("/model/fusion-noise-weight", test_fusion_noise_weight);

  g_test_add_func ("/model/new-null-config_n", test_new_null_config_n);
  g_test_add_func ("/model/new-bad-max-batch_n", test_new_bad_max_batch_n);
  g_test_add_func ("/model/new-bad-config_n", test_new_bad_config_n);
  g_test_add_func ("/model/diverging-run_n", test_diverging_run_n);
  g_test_add_func ("/model/batch-new-bad-n_n", test_batch_new_bad_n);
#define ADD_F(path, fn) \
  g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD_F ("/model/forward-too-large_n", test_forward_too_large_n);
  ADD_F ("/model/forward-null-batch_n", test_forward_null_batch_n);
  ADD_F ("/model/forward-nan-present_n", test_forward_nan_present_n);
  ADD_F ("/model/forward-label-range_n", test_forward_label_range_n);
  ADD_F ("/model/forward-labels-b-range_n", test_forward_labels_b_range_n);
  ADD_F ("/model/forward-bad-mix_n", test_forward_bad_mix_n);
  ADD_F ("/model/forward-no-modality_n", test_forward_no_modality_n);
  ADD_F ("/model/forward-null-input_n", test_forward_null_input_n);
  ADD_F ("/model/forward-bad-presence_n", test_forward_bad_presence_n);
  ADD_F ("/model/forward-text-id_n", test_forward_text_id_n);
  ADD_F ("/model/forward-text-no-word_n", test_forward_text_no_word_n);
  ADD_F ("/model/forward-error-keeps-state_n",
         test_forward_error_keeps_state_n);
  ADD_F ("/model/backward-without-train_n", test_backward_without_train_n);
  ADD_F ("/model/update-nonfinite_n", test_update_nonfinite_n);
  ADD_F ("/model/train-step-bad-batch_n", test_train_step_bad_batch_n);
  ADD_F ("/model/evaluate-bad_n", test_evaluate_bad_n);
  ADD_F ("/model/loss-counts-no-forward_n", test_loss_counts_no_forward_n);
  ADD_F ("/model/backward-shared-bad-total_n",
         test_backward_shared_bad_total_n);
  return g_test_run ();
}
