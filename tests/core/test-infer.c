/* Tests of inference by stage: encoders and fusion + heads run apart (as
 * the elements run them) give exactly what the whole model gives.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/infer.h>
#include <mmdnn/rng.h>
#include "gradcheck.h"

#define N_MOD MMDNN_N_MODALITIES
#define N 3

static MmdnnModel *
default_model (int64_t max_batch)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "..",
                                                 "models",
                                                 "mmdnn-default.safetensors",
                                                 NULL);
  GError *error = NULL;
  MmdnnModel *m = mmdnn_model_load (path, max_batch, &error);

  g_assert_no_error (error);
  return m;
}

/* A batch of N samples: random video and audio, a real cue per sample;
 * sample 1 lacks audio, sample 2 has only text. */
static MmdnnBatch *
make_batch (const MmdnnModel *m)
{
  static const char *const cues[N] = {
    "a pair of sneakers", "<i>this is a coat</i>", "ankle boot, leather",
  };
  const MmdnnModelConfig *c = m->config;
  MmdnnBatch *b = mmdnn_batch_new (c, N, NULL);
  int64_t vs = mmdnn_model_config_input_size (c, MMDNN_MODALITY_VIDEO);
  int64_t as = mmdnn_model_config_input_size (c, MMDNN_MODALITY_AUDIO);
  int64_t ts = mmdnn_model_config_input_size (c, MMDNN_MODALITY_TEXT);
  MmdnnRng rng;

  g_assert_nonnull (b);
  mmdnn_rng_init (&rng, 7);
  for (int64_t i = 0; i < N * vs; i++)
    b->video[i] = mmdnn_rng_normal (&rng);
  for (int64_t i = 0; i < N * as; i++)
    b->audio[i] = mmdnn_rng_normal (&rng) - 5.0f;
  for (int i = 0; i < N; i++) {
    int64_t nt = 0;
    g_assert_true (mmdnn_text_tokenize (&c->text_prep, cues[i], -1,
                                        b->text_ids + i * ts, &nt, NULL));
    g_assert_cmpint (nt, >, 0);
  }
  b->presence[1 * N_MOD + MMDNN_MODALITY_AUDIO] = 0.0f;
  b->presence[2 * N_MOD + MMDNN_MODALITY_VIDEO] = 0.0f;
  b->presence[2 * N_MOD + MMDNN_MODALITY_AUDIO] = 0.0f;
  return b;
}

/* Encodes every modality of @b with stages into tokens[m]: (N, K_m, D).
 * @batched: the present samples of a modality in one run (as the model
 * does), else one sample per run (as an element does). Absent samples stay
 * NaN, which fusion must ignore. */
static void
encode_all (const MmdnnModel *m, const MmdnnBatch *b, gboolean batched,
            float *tokens[N_MOD])
{
  const MmdnnModelConfig *c = m->config;
  int64_t d = c->fusion.dim;

  for (int mod = 0; mod < N_MOD; mod++) {
    int64_t k = c->fusion.tokens[mod];
    int64_t sz = mmdnn_model_config_input_size (c, mod);
    gboolean text = mod == MMDNN_MODALITY_TEXT;
    MmdnnEncodeStage *s = mmdnn_encode_stage_new (m, mod, N, NULL);
    const char *src = text ? (const char *) b->text_ids
        : (const char *) (mod == MMDNN_MODALITY_VIDEO ? b->video : b->audio);
    size_t esz = text ? sizeof (int32_t) : sizeof (float);
    char *packed = g_malloc (N * sz * esz);
    float *out = g_new (float, N * k * d);
    int64_t idx[N], cnt = 0;

    g_assert_nonnull (s);
    tokens[mod] = g_new (float, N * k * d);
    for (int64_t i = 0; i < N * k * d; i++)
      tokens[mod][i] = NAN;
    for (int i = 0; i < N; i++)
      if (b->presence[i * N_MOD + mod] != 0.0f) {
        memcpy (packed + cnt * sz * esz, src + i * sz * esz, sz * esz);
        idx[cnt++] = i;
      }
    for (int64_t r = 0; r < cnt; r += batched ? cnt : 1) {
      GError *error = NULL;
      int64_t n = batched ? cnt : 1;

      g_assert_true (mmdnn_encode_stage_run (s, m, packed + r * sz * esz, n,
                                             out + r * k * d, &error));
      g_assert_no_error (error);
    }
    for (int64_t r = 0; r < cnt; r++)
      memcpy (tokens[mod] + idx[r] * k * d, out + r * k * d,
              sizeof (float) * k * d);
    g_free (packed);
    g_free (out);
    mmdnn_encode_stage_free (s);
  }
}

static void
staged_equals_model (gconstpointer data)
{
  gboolean batched = GPOINTER_TO_INT (data);
  MmdnnModel *m = default_model (N);
  const MmdnnModelConfig *c = m->config;
  MmdnnBatch *b = make_batch (m);
  float *tokens[N_MOD], *masks[N_MOD] = { NULL, NULL, NULL };
  MmdnnOutputs whole, staged;
  MmdnnFuseStage *fs;
  GError *error = NULL;
  int64_t d = c->fusion.dim, kt = c->fusion.tokens[MMDNN_MODALITY_TEXT];

  g_assert_true (mmdnn_model_forward (m, b, FALSE, &whole, NULL, &error));
  g_assert_no_error (error);

  encode_all (m, b, batched, tokens);
  /* the text mask comes back from the tokens alone */
  masks[MMDNN_MODALITY_TEXT] = g_new (float, N * kt);
  for (int i = 0; i < N; i++) {
    int32_t *ids = b->text_ids + i * kt * c->text.ids_per_token;
    int64_t real = mmdnn_tokens_mask (tokens[MMDNN_MODALITY_TEXT] + i * kt * d,
                                      kt, d, masks[MMDNN_MODALITY_TEXT] + i * kt);
    int64_t want = 0;

    for (int64_t t = 0; t < kt; t++)
      want += ids[t * c->text.ids_per_token] >= 0;
    g_assert_cmpint (real, ==, want);
  }

  fs = mmdnn_fuse_stage_new (m, N, &error);
  g_assert_no_error (error);
  g_assert_true (mmdnn_fuse_stage_fits (fs, m));
  g_assert_true (mmdnn_fuse_stage_run (fs, m, (const float *const *) tokens,
                                       (const float *const *) masks,
                                       b->presence, N, &staged, &error));
  g_assert_no_error (error);

  if (batched) {
    /* the same GEMMs on the same rows: bit for bit */
    for (int t = 0; t < c->n_tasks; t++)
      g_assert_cmpmem (staged.probs[t],
                       sizeof (float) * N * c->tasks[t].n_classes,
                       whole.probs[t],
                       sizeof (float) * N * c->tasks[t].n_classes);
    g_assert_cmpmem (staged.modality_weights, sizeof (float) * N * N_MOD,
                     whole.modality_weights, sizeof (float) * N * N_MOD);
    g_assert_cmpmem (staged.fused, sizeof (float) * N * d,
                     whole.fused, sizeof (float) * N * d);
  } else {
    /* one sample per GEMM blocks the sums differently: rounding only */
    for (int t = 0; t < c->n_tasks; t++)
      for (int64_t i = 0; i < N * c->tasks[t].n_classes; i++)
        g_assert_cmpfloat_with_epsilon (staged.probs[t][i], whole.probs[t][i],
                                        1e-5);
    for (int64_t i = 0; i < N * d; i++)
      g_assert_cmpfloat_with_epsilon (staged.fused[i], whole.fused[i], 1e-4);
  }
  /* a missing modality weighs exactly 0 */
  g_assert_cmpfloat (staged.modality_weights[1 * N_MOD + 1], ==, 0.0f);
  g_assert_cmpfloat (staged.modality_weights[2 * N_MOD + 2], ==, 1.0f);

  for (int mod = 0; mod < N_MOD; mod++) {
    g_free (tokens[mod]);
    g_free (masks[mod]);
  }
  mmdnn_fuse_stage_free (fs);
  mmdnn_batch_free (b);
  mmdnn_model_free (m);
}

/* A stage made for one model runs another of the same architecture (new
 * weights published by a trainer) and gives that model's answer. */
static void
test_stage_follows_new_weights (void)
{
  MmdnnModel *a = default_model (1), *b = default_model (1);
  MmdnnEncodeStage *s = mmdnn_encode_stage_new (a, MMDNN_MODALITY_VIDEO, 1,
                                                NULL);
  int64_t sz = mmdnn_model_config_input_size (a->config, MMDNN_MODALITY_VIDEO);
  int64_t out = a->config->fusion.tokens[0] * a->config->fusion.dim;
  float *x = g_new0 (float, sz), *ya = g_new (float, out);
  float *yb = g_new (float, out), *yb2 = g_new (float, out);
  MmdnnEncodeStage *sb = mmdnn_encode_stage_new (b, MMDNN_MODALITY_VIDEO, 1,
                                                 NULL);

  for (int64_t i = 0; i < sz; i++)
    x[i] = sinf ((float) i);
  for (int64_t i = 0; i < b->params->numel; i++)
    b->params->values[i] *= 0.5f;
  g_assert_true (mmdnn_encode_stage_fits (s, b));
  g_assert_true (mmdnn_encode_stage_run (s, a, x, 1, ya, NULL));
  g_assert_true (mmdnn_encode_stage_run (s, b, x, 1, yb, NULL));
  g_assert_true (mmdnn_encode_stage_run (sb, b, x, 1, yb2, NULL));
  g_assert_cmpmem (yb, sizeof (float) * out, yb2, sizeof (float) * out);
  g_assert_true (memcmp (ya, yb, sizeof (float) * out) != 0);

  mmdnn_encode_stage_free (s);
  mmdnn_encode_stage_free (sb);
  g_free (x);
  g_free (ya);
  g_free (yb);
  g_free (yb2);
  mmdnn_model_free (a);
  mmdnn_model_free (b);
}

static void
test_tokens_mask (void)
{
  float t[4 * 3] = { 0, 0, 0,  1, 0, 0,  0, 0, -0.0f,  0, 0, 1e-30f };
  float mask[4];

  g_assert_cmpint (mmdnn_tokens_mask (t, 4, 3, mask), ==, 2);
  g_assert_cmpfloat (mask[0], ==, 0.0f);
  g_assert_cmpfloat (mask[1], ==, 1.0f);
  g_assert_cmpfloat (mask[2], ==, 0.0f);      /* −0 is zero too */
  g_assert_cmpfloat (mask[3], ==, 1.0f);
  g_assert_cmpint (mmdnn_tokens_mask (t, 4, 3, NULL), ==, 2);
  g_assert_cmpint (mmdnn_model_config_input_size (NULL, 0), ==, 0);
}

/* --------------------------------------------------------------- negative */

static MmdnnModel *
model_without_audio (void)
{
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  MmdnnModel *m;

  c->has[MMDNN_MODALITY_AUDIO] = FALSE;
  c->fusion.dim = c->video.dim = c->audio.dim = c->text.dim = 16;
  c->text_prep.buckets = c->text.buckets = 64;
  m = mmdnn_model_new (c, 1, 1, NULL);
  mmdnn_model_config_free (c);
  g_assert_nonnull (m);
  return m;
}

static void
test_encode_stage_bad_n (void)
{
  MmdnnModel *m = default_model (1), *other = model_without_audio ();
  GError *error = NULL;
  MmdnnEncodeStage *s;
  float x[4] = { 0 }, y[4];

  g_assert_null (mmdnn_encode_stage_new (NULL, 0, 1, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (mmdnn_encode_stage_new (m, MMDNN_N_MODALITIES, 1, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (mmdnn_encode_stage_new (m, -1, 1, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (mmdnn_encode_stage_new (m, MMDNN_MODALITY_VIDEO, 0, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* the model has no audio encoder */
  g_assert_null (mmdnn_encode_stage_new (other, MMDNN_MODALITY_AUDIO, 1,
                                         &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "audio"));
  g_clear_error (&error);

  s = mmdnn_encode_stage_new (m, MMDNN_MODALITY_VIDEO, 1, &error);
  g_assert_no_error (error);
  y[0] = 42.0f;
  g_assert_false (mmdnn_encode_stage_run (s, m, x, 2, y, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mmdnn_encode_stage_run (s, m, x, 0, y, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mmdnn_encode_stage_run (s, m, NULL, 1, y, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* a model of other sizes does not fit: refused, nothing written */
  g_assert_false (mmdnn_encode_stage_fits (s, other));
  g_assert_false (mmdnn_encode_stage_run (s, other, x, 1, y, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpfloat (y[0], ==, 42.0f);
  g_assert_false (mmdnn_encode_stage_fits (NULL, m));

  mmdnn_encode_stage_free (s);
  mmdnn_encode_stage_free (NULL);
  mmdnn_model_free (other);
  mmdnn_model_free (m);
}

static void
test_encode_stage_bad_ids (void)
{
  MmdnnModel *m = default_model (1);
  int64_t sz = mmdnn_model_config_input_size (m->config, MMDNN_MODALITY_TEXT);
  int64_t out = m->config->fusion.tokens[2] * m->config->fusion.dim;
  int32_t *ids = g_new (int32_t, sz);
  float *y = g_new0 (float, out);
  GError *error = NULL;
  MmdnnEncodeStage *s = mmdnn_encode_stage_new (m, MMDNN_MODALITY_TEXT, 1,
                                                NULL);

  for (int64_t i = 0; i < sz; i++)
    ids[i] = -1;
  ids[0] = (int32_t) m->config->text.buckets;       /* one past the table */
  g_assert_false (mmdnn_encode_stage_run (s, m, ids, 1, y, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA);
  g_clear_error (&error);
  mmdnn_encode_stage_free (s);
  g_free (ids);
  g_free (y);
  mmdnn_model_free (m);
}

static void
test_fuse_stage_bad_input (void)
{
  MmdnnModel *m = default_model (1), *other = model_without_audio ();
  const MmdnnModelConfig *c = m->config;
  int64_t d = c->fusion.dim;
  float *tok[N_MOD];
  float presence[N_MOD] = { 1, 1, 0 };
  MmdnnOutputs out;
  GError *error = NULL;
  MmdnnFuseStage *s = mmdnn_fuse_stage_new (m, 1, &error);

  g_assert_no_error (error);
  for (int mod = 0; mod < N_MOD; mod++) {
    tok[mod] = g_new (float, c->fusion.tokens[mod] * d);
    for (int64_t i = 0; i < c->fusion.tokens[mod] * d; i++)
      tok[mod][i] = cosf ((float) i);
  }
  g_assert_true (mmdnn_fuse_stage_run (s, m, (const float *const *) tok, NULL,
                                       presence, 1, &out, &error));
  g_assert_no_error (error);

  /* a NaN in a present modality: DATA */
  tok[0][5] = NAN;
  g_assert_false (mmdnn_fuse_stage_run (s, m, (const float *const *) tok,
                                        NULL, presence, 1, &out, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA);
  g_clear_error (&error);
  /* ... but ignored in a missing one */
  presence[0] = 0.0f;
  g_assert_true (mmdnn_fuse_stage_run (s, m, (const float *const *) tok, NULL,
                                       presence, 1, &out, &error));
  g_assert_cmpfloat (out.modality_weights[0], ==, 0.0f);
  g_assert_cmpfloat (out.modality_weights[1], ==, 1.0f);
  /* nothing present: DATA */
  presence[1] = 0.0f;
  g_assert_false (mmdnn_fuse_stage_run (s, m, (const float *const *) tok,
                                        NULL, presence, 1, &out, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA);
  g_clear_error (&error);
  /* a present text modality whose tokens are all padding: DATA */
  presence[2] = 1.0f;
  memset (tok[2], 0, sizeof (float) * c->fusion.tokens[2] * d);
  {
    float *mask = g_new (float, c->fusion.tokens[2]);
    const float *masks[N_MOD] = { NULL, NULL, mask };

    mmdnn_tokens_mask (tok[2], c->fusion.tokens[2], d, mask);
    g_assert_false (mmdnn_fuse_stage_run (s, m, (const float *const *) tok,
                                          masks, presence, 1, &out, &error));
    g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA);
    g_clear_error (&error);
    g_free (mask);
  }
  /* bad n, wrong model */
  g_assert_false (mmdnn_fuse_stage_run (s, m, (const float *const *) tok,
                                        NULL, NULL, 2, &out, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mmdnn_fuse_stage_fits (s, other));
  g_assert_false (mmdnn_fuse_stage_run (s, other, (const float *const *) tok,
                                        NULL, NULL, 1, &out, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (mmdnn_fuse_stage_new (NULL, 1, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (mmdnn_fuse_stage_new (m, 0, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  for (int mod = 0; mod < N_MOD; mod++)
    g_free (tok[mod]);
  mmdnn_fuse_stage_free (s);
  mmdnn_fuse_stage_free (NULL);
  mmdnn_model_free (other);
  mmdnn_model_free (m);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/infer/staged-equals-model/batched",
                        GINT_TO_POINTER (TRUE), staged_equals_model);
  g_test_add_data_func ("/infer/staged-equals-model/one-by-one",
                        GINT_TO_POINTER (FALSE), staged_equals_model);
  g_test_add_func ("/infer/stage-follows-new-weights",
                   test_stage_follows_new_weights);
  g_test_add_func ("/infer/tokens-mask", test_tokens_mask);
  g_test_add_func ("/infer/encode-stage-bad-arguments", test_encode_stage_bad_n);
  g_test_add_func ("/infer/encode-stage-bad-ids", test_encode_stage_bad_ids);
  g_test_add_func ("/infer/fuse-stage-bad-input", test_fuse_stage_bad_input);
  return g_test_run ();
}
