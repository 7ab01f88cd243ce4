/* Tests of the model configuration (JSON) and the model/checkpoint files.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <mmdnn/model.h>
#include <mmdnn/safetensors.h>
#include "gradcheck.h"

/* A model small enough for a fast suite, every modality and loss term on,
 * built through from_json (which also exercises the derived defaults:
 * encoder input sizes, dims and token counts are not written). */
static const char tiny_json[] =
  "{\"model_id\": \"tiny\","
  " \"preprocessing\": {"
  "   \"video\": {\"channels\": 1, \"height\": 16, \"width\": 16},"
  "   \"audio\": {\"n_mels\": 16, \"patch_frames\": 32},"
  "   \"text\": {\"buckets\": 257, \"max_tokens\": 6, \"max_ids_per_token\": 4}},"
  " \"encoders\": {"
  "   \"video\": {\"grid_h\": 2, \"grid_w\": 2, \"ae_width\": 3, \"ae_latent\": 4,"
  "              \"ms_width\": 3, \"ms_width2\": 4, \"ms_width3\": 5, \"sal_width\": 4},"
  "   \"audio\": {\"grid_h\": 1, \"grid_w\": 4, \"ae_width\": 3, \"ae_latent\": 4,"
  "              \"ms_width\": 3, \"ms_width2\": 4, \"ms_width3\": 5, \"sal_width\": 4},"
  "   \"text\": {\"embed\": 8, \"ae_latent\": 4, \"ms_width\": 3, \"ms_width2\": 4,"
  "             \"sal_width\": 4}},"
  " \"fusion\": {\"dim\": 16, \"attn_hidden\": 8},"
  " \"tasks\": [{\"name\": \"class\", \"classes\": [\"a\", \"b\", \"c\"]},"
  "           {\"name\": \"gender\", \"classes\": [\"f\", \"m\"], \"weight\": 0.5}],"
  " \"loss\": {\"disc_hidden\": 8},"
  " \"virtual_data\": {\"p_recombine\": 0.3, \"p_modality_dropout\": 0.3,"
  "                   \"p_latent\": 0.3},"
  " \"optim\": {\"lr\": 0.01, \"warmup_steps\": 2, \"total_steps\": 50}}";

static MmdnnModelConfig *
tiny_config (void)
{
  GError *err = NULL;
  MmdnnModelConfig *c = mmdnn_model_config_from_json (tiny_json, -1, &err);

  g_assert_no_error (err);
  g_assert_nonnull (c);
  return c;
}

static char *
tmp_path (const char *name)
{
  static char *dir = NULL;

  if (dir == NULL) {
    GError *err = NULL;
    dir = g_dir_make_tmp ("mmdnn-model-io-XXXXXX", &err);
    g_assert_no_error (err);
  }
  return g_build_filename (dir, name, NULL);
}

/* A deterministic batch: random inputs, some modalities missing (with NaN
 * in their inputs, which must never matter), text padding, labels. */
static MmdnnBatch *
make_batch (const MmdnnModelConfig *c, int64_t n, uint64_t seed)
{
  GError *err = NULL;
  MmdnnBatch *b = mmdnn_batch_new (c, n, &err);
  MmdnnRng rng;
  int64_t nv = c->video.channels * c->video.height * c->video.width;
  int64_t na = c->audio.height * c->audio.width;
  int64_t L = c->text.max_tokens, M = c->text.ids_per_token;

  g_assert_no_error (err);
  mmdnn_rng_init (&rng, seed);
  mmdnn_rng_fill_normal (&rng, b->video, n * nv, 0.0f, 1.0f);
  mmdnn_rng_fill_normal (&rng, b->audio, n * na, 0.0f, 1.0f);
  for (int64_t i = 0; i < n; i++) {
    int64_t words = 1 + (int64_t) mmdnn_rng_below (&rng, (uint64_t) L);
    for (int64_t t = 0; t < L; t++)
      for (int64_t k = 0; k < M; k++)
        b->text_ids[(i * L + t) * M + k] = t < words && (k == 0 || k < 2)
            ? (int32_t) mmdnn_rng_below (&rng, (uint64_t) c->text.buckets) : -1;
    for (int t = 0; t < c->n_tasks; t++)
      b->labels[i * c->n_tasks + t]
          = (int32_t) mmdnn_rng_below (&rng, (uint64_t) c->tasks[t].n_classes);
  }
  /* sample 1: no audio; sample 2: only text */
  if (n > 2) {
    b->presence[1 * 3 + 1] = 0.0f;
    b->audio[1 * na] = NAN;
    b->presence[2 * 3 + 0] = 0.0f;
    b->presence[2 * 3 + 1] = 0.0f;
  }
  return b;
}

static void
assert_same_params (const MmdnnModel *a, const MmdnnModel *b)
{
  g_assert_cmpint (a->params->numel, ==, b->params->numel);
  g_assert_true (memcmp (a->params->values, b->params->values,
                         sizeof (float) * a->params->numel) == 0);
}

static void
assert_error_contains (GError *err, int code, const char *needle)
{
  g_assert_error (err, MMDNN_ERROR, code);
  if (strstr (err->message, needle) == NULL)
    g_error ("error message \"%s\" lacks \"%s\"", err->message, needle);
}

/* ================================================================ config */

static void
test_config_default (void)
{
  GError *err = NULL;
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();

  g_assert_true (mmdnn_model_config_check (c, &err));
  g_assert_no_error (err);
  g_assert_cmpstr (c->model_id, ==, "mmdnn-default");
  for (int m = 0; m < MMDNN_N_MODALITIES; m++)
    g_assert_true (c->has[m]);
  g_assert_cmpint (c->fusion.dim, ==, 128);
  g_assert_cmpint (c->fusion.tokens[0], ==, 16);
  g_assert_cmpint (c->fusion.tokens[1], ==, 10);
  g_assert_cmpint (c->fusion.tokens[2], ==, 32);
  g_assert_cmpint (c->audio.height, ==, 64);
  g_assert_cmpint (c->audio.width, ==, 100);
  g_assert_cmpint (c->n_tasks, ==, 2);
  g_assert_cmpstr (c->tasks[0].name, ==, "class");
  g_assert_cmpint (c->tasks[0].n_classes, ==, 10);
  g_assert_cmpstr (c->tasks[0].classes[9], ==, "Ankle boot");
  g_assert_cmpstr (c->tasks[1].classes[1], ==, "male");
  g_assert_cmpint (c->optim.kind, ==, MMDNN_OPTIM_ADAMW);
  g_assert_cmpfloat (c->w_adv, ==, 0.05f);
  g_assert_cmpfloat (c->min_lr, ==, 1e-5f);
  g_assert_cmpint (c->total_steps, ==, 10000);
  mmdnn_model_config_free (c);
}

static void
assert_round_trip (const MmdnnModelConfig *c)
{
  GError *err = NULL;
  char *j1 = mmdnn_model_config_to_json (c);
  MmdnnModelConfig *d = mmdnn_model_config_from_json (j1, -1, &err);
  char *j2;

  g_assert_no_error (err);
  g_assert_nonnull (d);
  j2 = mmdnn_model_config_to_json (d);
  g_assert_cmpstr (j1, ==, j2);
  /* every float field exact, not just its printout */
  g_assert_true (d->optim.lr == c->optim.lr && d->nce_tau == c->nce_tau
                 && d->video_prep.std[2] == c->video_prep.std[2]
                 && d->logmel.log_floor == c->logmel.log_floor);
  mmdnn_model_config_free (d);
  g_free (j1);
  g_free (j2);
}

static void
test_config_round_trip (void)
{
  static const char *const odd[] = { "ünïcode \"quoted\" \\ back", "two", NULL };
  GError *err = NULL;
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();

  assert_round_trip (c);
  /* awkward values: floats with no short decimal, SGD, HTK, a missing
   * modality, three tasks, escapes */
  c->optim.lr = 1.0f / 3.0f;
  c->min_lr = 1e-7f;
  c->nce_tau = 0.07f;
  c->video_prep.std[2] = 0.2257f;
  c->logmel.log_floor = 1.17549435e-38f;
  c->logmel.scale = MMDNN_MEL_HTK;
  mmdnn_optim_config_init_sgd (&c->optim, 0.05f, 0.9f, 1e-4f);
  c->optim.nesterov = TRUE;
  c->min_lr = 0.0f;
  c->has[MMDNN_MODALITY_AUDIO] = FALSE;
  g_free (c->model_id);
  c->model_id = g_strdup ("id with \"quotes\" and ümlauts");
  g_assert_true (mmdnn_model_config_set_task (c, 2, "odd-task_3", odd, 0.125f,
                                              &err));
  g_assert_no_error (err);
  g_assert_true (mmdnn_model_config_check (c, &err));
  g_assert_no_error (err);
  assert_round_trip (c);
  mmdnn_model_config_free (c);
}

static void
test_config_defaults_and_derived (void)
{
  GError *err = NULL;
  MmdnnModelConfig *c, *d = mmdnn_model_config_new_default ();
  char *j1, *j2;

  /* {} and a bare version are the default */
  c = mmdnn_model_config_from_json ("{}", -1, &err);
  g_assert_no_error (err);
  j1 = mmdnn_model_config_to_json (c);
  j2 = mmdnn_model_config_to_json (d);
  g_assert_cmpstr (j1, ==, j2);
  g_free (j1);
  mmdnn_model_config_free (c);
  c = mmdnn_model_config_from_json ("{\"format_version\": 1}trailing", 21,
                                    &err);
  g_assert_no_error (err);
  j1 = mmdnn_model_config_to_json (c);
  g_assert_cmpstr (j1, ==, j2);
  g_free (j1);
  g_free (j2);
  mmdnn_model_config_free (c);

  /* one dim, one size: everything that must agree follows */
  c = mmdnn_model_config_from_json (
      "{\"fusion\": {\"dim\": 64}, \"preprocessing\": {\"video\": "
      "{\"height\": 32, \"width\": 48}, \"audio\": {\"n_mels\": 40}}, "
      "\"encoders\": {\"video\": {\"grid_h\": 2}}, "
      "\"optim\": {\"total_steps\": 2e3}}", -1, &err);
  g_assert_no_error (err);
  g_assert_cmpint (c->video.dim, ==, 64);
  g_assert_cmpint (c->audio.dim, ==, 64);
  g_assert_cmpint (c->text.dim, ==, 64);
  g_assert_cmpint (c->video.height, ==, 32);
  g_assert_cmpint (c->video.width, ==, 48);
  g_assert_cmpint (c->audio.height, ==, 40);
  g_assert_cmpint (c->fusion.tokens[0], ==, 2 * 4);
  g_assert_cmpint (c->total_steps, ==, 2000);
  g_assert_cmpfloat (c->w_aux, ==, 0.3f);      /* untouched default */
  mmdnn_model_config_free (c);

  /* an encoder dim alone sets D */
  c = mmdnn_model_config_from_json ("{\"encoders\": {\"audio\": {\"dim\": 32}}}",
                                    -1, &err);
  g_assert_no_error (err);
  g_assert_cmpint (c->fusion.dim, ==, 32);
  g_assert_cmpint (c->video.dim, ==, 32);
  mmdnn_model_config_free (c);

  /* modalities: video only */
  c = mmdnn_model_config_from_json ("{\"modalities\": [\"video\"]}", -1, &err);
  g_assert_no_error (err);
  g_assert_true (c->has[0] && !c->has[1] && !c->has[2]);
  mmdnn_model_config_free (c);
  mmdnn_model_config_free (d);
}

static void
test_config_copy_set_task (void)
{
  static const char *const yn[] = { "no", "yes", NULL };
  GError *err = NULL;
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  MmdnnModelConfig *d = mmdnn_model_config_copy (c);
  char *j1, *j2;

  g_assert_true (d->model_id != c->model_id);
  g_assert_true (d->tasks[0].classes != c->tasks[0].classes);
  g_assert_true (mmdnn_model_config_set_task (c, 0, "binary", yn, 2.0f, &err));
  g_assert_no_error (err);
  g_assert_cmpint (c->tasks[0].n_classes, ==, 2);
  g_assert_cmpstr (d->tasks[0].name, ==, "class");      /* deep copy */
  g_assert_cmpint (d->tasks[0].n_classes, ==, 10);
  g_assert_true (mmdnn_model_config_set_task (c, 2, "third", yn, 1.0f, &err));
  g_assert_cmpint (c->n_tasks, ==, 3);
  g_assert_true (mmdnn_model_config_check (c, &err));
  j1 = mmdnn_model_config_to_json (d);
  mmdnn_model_config_free (c);
  c = mmdnn_model_config_new_default ();
  j2 = mmdnn_model_config_to_json (c);
  g_assert_cmpstr (j1, ==, j2);
  g_free (j1);
  g_free (j2);
  mmdnn_model_config_free (c);
  mmdnn_model_config_free (d);
  mmdnn_model_config_free (NULL);
}

/* from_json must fail with @code and a message containing @needle */
static void
expect_json_error (const char *json, int code, const char *needle)
{
  GError *err = NULL;
  MmdnnModelConfig *c = mmdnn_model_config_from_json (json, -1, &err);

  if (c != NULL)
    g_error ("accepted: %s", json);
  assert_error_contains (err, code, needle);
  g_clear_error (&err);
}

#define INVALID MMDNN_ERROR_INVALID_ARGUMENT

static void
test_config_unknown_key_n (void)
{
  expect_json_error ("{\"modell_id\": \"x\"}", INVALID,
                     "modell_id: unknown key");
  expect_json_error ("{\"encoders\": {\"video\": {\"dimm\": 3}}}", INVALID,
                     "encoders.video.dimm: unknown key");
  expect_json_error ("{\"encoders\": {\"speech\": {}}}", INVALID,
                     "encoders.speech: unknown key");
  expect_json_error ("{\"optim\": {\"learning_rate\": 0.1}}", INVALID,
                     "optim.learning_rate: unknown key (allowed here: kind, lr");
  expect_json_error ("{\"fusion\": {\"tokens\": {\"vidoe\": 3}}}", INVALID,
                     "fusion.tokens.vidoe: unknown key");
  expect_json_error ("{\"tasks\": [{\"name\": \"a\", \"classes\": [\"x\", \"y\"],"
                     " \"wieght\": 1}]}", INVALID, "tasks[0].wieght: unknown key");
}

static void
test_config_wrong_type_n (void)
{
  expect_json_error ("{\"encoders\": {\"video\": {\"dim\": \"128\"}}}", INVALID,
                     "encoders.video.dim: expected an integer, got a string");
  expect_json_error ("{\"encoders\": {\"video\": {\"dim\": 64.5}}}", INVALID,
                     "encoders.video.dim: expected an integer");
  expect_json_error ("{\"encoders\": {\"video\": {\"use_ae\": 1}}}", INVALID,
                     "encoders.video.use_ae: expected true or false");
  expect_json_error ("{\"optim\": {\"lr\": null}}", INVALID,
                     "optim.lr: expected a number, got null");
  expect_json_error ("{\"optim\": {\"kind\": \"adam\"}}", INVALID,
                     "optim.kind = \"adam\": must be \"sgd\" or \"adamw\"");
  expect_json_error ("{\"loss\": [1]}", INVALID, "loss: expected an object");
  expect_json_error ("{\"model_id\": 7}", INVALID, "model_id: expected a string");
  expect_json_error ("{\"preprocessing\": {\"video\": {\"mean\": [1, 2]}}}",
                     INVALID, "preprocessing.video.mean: expected an array of 3");
  expect_json_error ("{\"preprocessing\": {\"audio\": {\"mel_scale\": \"mel\"}}}",
                     INVALID, "preprocessing.audio.mel_scale");
  expect_json_error ("{\"tasks\": {\"name\": \"a\"}}", INVALID,
                     "tasks: expected an array");
  expect_json_error ("{\"modalities\": [\"video\", \"smell\"]}", INVALID,
                     "modalities[1] = \"smell\"");
  expect_json_error ("{\"loss\": {\"w_aux\": 1e39}}", INVALID,
                     "loss.w_aux = 1e+39: out of the range of a 32-bit float");
}

static void
test_config_out_of_range_n (void)
{
  expect_json_error ("{\"loss\": {\"w_aux\": -0.5}}", INVALID,
                     "loss.w_aux = -0.5: must be a finite number in [0, inf)");
  expect_json_error ("{\"virtual_data\": {\"p_latent\": 1.5}}", INVALID,
                     "virtual_data.p_latent = 1.5: must be a finite number in [0, 1]");
  expect_json_error ("{\"loss\": {\"nce_tau\": 0}}", INVALID,
                     "loss.nce_tau = 0: must be a finite number in (0, inf)");
  expect_json_error ("{\"fusion\": {\"attn_hidden\": 0}}", INVALID,
                     "fusion.attn_hidden = 0: must be an integer in [1, 1048576]");
  expect_json_error ("{\"preprocessing\": {\"video\": {\"channels\": 2}}}", INVALID,
                     "preprocessing.video.channels = 2: must be 1 (grey) or 3");
  expect_json_error ("{\"preprocessing\": {\"audio\": {\"n_fft\": 500}}}", INVALID,
                     "preprocessing.audio.n_fft = 500: must be a power of two");
  expect_json_error ("{\"optim\": {\"beta2\": 1}}", INVALID, "optim.beta2 = 1");
  expect_json_error ("{\"optim\": {\"warmup_steps\": 20000}}", INVALID,
                     "optim.warmup_steps = 20000: must be an integer in [0, 10000]");
  expect_json_error ("{\"optim\": {\"min_lr\": 0.1}}", INVALID, "optim.min_lr = 0.1");
  expect_json_error ("{\"optim\": {\"nesterov\": true}}", INVALID,
                     "optim.nesterov = true: only for kind \"sgd\"");
  expect_json_error ("{\"encoders\": {\"video\": {\"grid_h\": 9}}}", INVALID,
                     "encoders.video: ");
  expect_json_error ("{\"encoders\": {\"text\": {\"use_ae\": false, \"use_ms\": "
                     "false, \"use_sal\": false}}}", INVALID,
                     "encoders.text: at least one of use_ae");
  expect_json_error ("{\"format_version\": 0}", INVALID, "format_version = 0");
}

static void
test_config_inconsistent_n (void)
{
  expect_json_error ("{\"fusion\": {\"dim\": 64}, \"encoders\": {\"video\": "
                     "{\"dim\": 32}}}", INVALID,
                     "encoders.video.dim = 32 must equal fusion.dim = 64");
  expect_json_error ("{\"fusion\": {\"tokens\": {\"audio\": 5}}}", INVALID,
                     "fusion.tokens.audio = 5 must equal the token count of "
                     "encoders.audio = 10");
  expect_json_error ("{\"encoders\": {\"video\": {\"height\": 32}}}", INVALID,
                     "encoders.video.height = 32 must equal "
                     "preprocessing.video.height = 64");
  expect_json_error ("{\"encoders\": {\"text\": {\"buckets\": 1000}}}", INVALID,
                     "encoders.text.buckets = 1000 must equal "
                     "preprocessing.text.buckets = 16384");
  expect_json_error ("{\"encoders\": {\"audio\": {\"width\": 50, \"grid_w\": 5}}}",
                     INVALID, "encoders.audio.width = 50 must equal "
                     "preprocessing.audio.patch_frames = 100");
}

static void
test_config_tasks_n (void)
{
  expect_json_error ("{\"tasks\": [{\"name\": \"a\", \"classes\": [\"x\", \"y\"]},"
                     " {\"name\": \"a\", \"classes\": [\"p\", \"q\"]}]}", INVALID,
                     "tasks[1].name = \"a\": duplicate task name (also tasks[0])");
  expect_json_error ("{\"tasks\": [{\"name\": \"a\", \"classes\": [\"x\"]}]}",
                     INVALID, "tasks[0].classes: task \"a\" has 1 class");
  expect_json_error ("{\"tasks\": [{\"name\": \"a\", \"classes\": [\"x\", \"x\"]}]}",
                     INVALID, "tasks[0].classes[1] = \"x\": duplicate class name");
  expect_json_error ("{\"tasks\": [{\"name\": \"a\", \"classes\": [\"x\", \"\"]}]}",
                     INVALID, "tasks[0].classes[1]: a class name must not be empty");
  expect_json_error ("{\"tasks\": [{\"name\": \"a.b\", \"classes\": [\"x\", \"y\"]}]}",
                     INVALID, "tasks[0].name = \"a.b\": a task name is");
  expect_json_error ("{\"tasks\": [{\"classes\": [\"x\", \"y\"]}]}", INVALID,
                     "tasks[0]: a task needs \"name\" and \"classes\"");
  expect_json_error ("{\"tasks\": []}", INVALID, "tasks: 0 tasks");
  expect_json_error ("{\"tasks\": [{\"name\": \"a\", \"classes\": [\"x\", \"y\"],"
                     " \"weight\": -1}]}", INVALID, "tasks[0].weight = -1");
  expect_json_error ("{\"tasks\": [{\"name\": \"a\", \"classes\": [\"x\", 3]}]}",
                     INVALID, "tasks[0].classes[1]: expected a string");
  expect_json_error ("{\"modalities\": []}", INVALID,
                     "modalities: at least one of");
  expect_json_error ("{\"modalities\": [\"text\", \"text\"]}", INVALID,
                     "modalities[1] = \"text\": listed twice");
}

/* Only strict JSON of bounded depth reaches json-glib, which recurses once
 * per level: 100 kB of "[" overflowed the stack
 * (tests/fuzz/regress/config/stack-overflow-nesting). */
static void
test_config_strict_json_n (void)
{
  char *deep = g_strnfill (100000, '[');
  GString *s = g_string_new ("{\"model_id\": ");

  expect_json_error (deep, MMDNN_ERROR_FORMAT,
                     "not valid JSON: text byte 32: JSON nested deeper than "
                     "32 levels");
  /* 33 levels below a valid start */
  for (int i = 0; i < 32; i++)
    g_string_append_c (s, '[');
  for (int i = 0; i < 32; i++)
    g_string_append_c (s, ']');
  g_string_append_c (s, '}');
  expect_json_error (s->str, MMDNN_ERROR_FORMAT, "nested deeper than 32 levels");
  /* json-glib would wrap 2^64 + 10 to 10 and take it */
  expect_json_error ("{\"optim\": {\"total_steps\": 18446744073709551626}}",
                     MMDNN_ERROR_FORMAT, "integer out of the 64-bit range");
  expect_json_error ("{\"model_id\": \"x\" /* comment */}", MMDNN_ERROR_FORMAT,
                     "text byte 17: expected ',' or '}'");
  expect_json_error ("{'model_id': 'x'}", MMDNN_ERROR_FORMAT,
                     "text byte 1: expected a quoted member name");
  expect_json_error ("{} {}", MMDNN_ERROR_FORMAT,
                     "text byte 3: data after the JSON value");
  expect_json_error ("{\"model_id\": 0x10}", MMDNN_ERROR_FORMAT,
                     "not valid JSON");
  g_string_free (s, TRUE);
  g_free (deep);
}

static void
test_config_syntax_n (void)
{
  expect_json_error ("{\"optim\": {\"lr\": 0.1, \"lr\": 0.2}}", INVALID,
                     "key \"lr\" appears twice");
  expect_json_error ("{\"model_id\": \"x\"", MMDNN_ERROR_FORMAT, "not valid JSON");
  expect_json_error ("[1, 2]", MMDNN_ERROR_FORMAT, "must be an object");
  expect_json_error ("", MMDNN_ERROR_FORMAT, "model config");
  expect_json_error ("{\"format_version\": 2, \"future\": 1}", MMDNN_ERROR_FORMAT,
                     "format_version = 2: this config is newer");
  expect_json_error ("{\"model_id\": \"\\u0007bell\"}", INVALID,
                     "model_id = \"\abell\": the model id must not contain control");
  {
    GError *err = NULL;
    g_assert_null (mmdnn_model_config_from_json (NULL, -1, &err));
    g_assert_error (err, MMDNN_ERROR, INVALID);
    g_clear_error (&err);
    g_assert_null (mmdnn_model_config_from_json ("{}", -2, &err));
    g_assert_error (err, MMDNN_ERROR, INVALID);
    g_clear_error (&err);
    g_assert_null (mmdnn_model_config_from_json ("{\"model_id\": \"\xff\"}", -1,
                                                 &err));
    g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_FORMAT);
    g_clear_error (&err);
  }
}

static void
test_config_check_n (void)
{
  static const char *const one[] = { "only", NULL };
  static const char *const two[] = { "x", "y", NULL };
  GError *err = NULL;
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  char *before = mmdnn_model_config_to_json (c), *after;

  g_assert_false (mmdnn_model_config_check (NULL, &err));
  g_assert_error (err, MMDNN_ERROR, INVALID);
  g_clear_error (&err);

  /* set_task: bad index, one class, duplicate name, NULL name; c untouched */
  g_assert_false (mmdnn_model_config_set_task (c, 3, "t", two, 1.0f, &err));
  assert_error_contains (err, INVALID, "tasks[3]: index must be in [0, 2]");
  g_clear_error (&err);
  g_assert_false (mmdnn_model_config_set_task (c, 0, "t", one, 1.0f, &err));
  assert_error_contains (err, INVALID, "has 1 class");
  g_clear_error (&err);
  g_assert_false (mmdnn_model_config_set_task (c, 0, "speaker_gender", two,
                                               1.0f, &err));
  assert_error_contains (err, INVALID, "duplicate task name (also tasks[1])");
  g_clear_error (&err);
  g_assert_false (mmdnn_model_config_set_task (c, 2, NULL, two, 1.0f, &err));
  assert_error_contains (err, INVALID, "tasks[2].name");
  g_clear_error (&err);
  g_assert_false (mmdnn_model_config_set_task (c, 2, "t", two, NAN, &err));
  assert_error_contains (err, INVALID, "tasks[2].weight = nan");
  g_clear_error (&err);
  after = mmdnn_model_config_to_json (c);
  g_assert_cmpstr (before, ==, after);
  g_free (after);

  /* fields set directly in C */
  c->optim.lr = NAN;
  g_assert_false (mmdnn_model_config_check (c, &err));
  assert_error_contains (err, INVALID, "optim.lr = nan");
  g_clear_error (&err);
  c->optim.lr = 1e-3f;
  c->tasks[1].n_classes = 3;
  g_assert_false (mmdnn_model_config_check (c, &err));
  assert_error_contains (err, INVALID, "tasks[1]: n_classes = 3 but 2");
  g_clear_error (&err);
  c->tasks[1].n_classes = 2;
  g_free (c->model_id);
  c->model_id = NULL;
  g_assert_false (mmdnn_model_config_check (c, &err));
  assert_error_contains (err, INVALID, "model_id");
  g_clear_error (&err);
  c->model_id = g_strdup ("x");
  c->has[0] = c->has[1] = c->has[2] = FALSE;
  g_assert_false (mmdnn_model_config_check (c, &err));
  assert_error_contains (err, INVALID, "modalities");
  g_clear_error (&err);
  /* an absent modality is only range-checked, not matched */
  c->has[0] = TRUE;
  c->audio.dim = 7;
  g_assert_true (mmdnn_model_config_check (c, &err));
  g_assert_no_error (err);
  c->has[1] = TRUE;
  g_assert_false (mmdnn_model_config_check (c, &err));
  assert_error_contains (err, INVALID, "encoders.audio.dim = 7");
  g_clear_error (&err);
  g_free (before);
  mmdnn_model_config_free (c);
}

/* ================================================================ files */

static void
train (MmdnnModel *m, MmdnnBatch **batches, int first, int count,
       MmdnnLosses *losses)
{
  GError *err = NULL;

  for (int k = 0; k < count; k++) {
    g_assert_true (mmdnn_model_train_step (m, batches[first + k],
                                           &losses[k], &err));
    g_assert_no_error (err);
  }
}

static void
assert_same_outputs (MmdnnModel *a, MmdnnModel *b, const MmdnnBatch *batch)
{
  GError *err = NULL;
  MmdnnOutputs oa, ob;
  MmdnnLosses la, lb;
  const MmdnnModelConfig *c = a->config;
  float *keep[MMDNN_MAX_TASKS];
  float *omega;

  g_assert_true (mmdnn_model_forward (a, batch, FALSE, &oa, &la, &err));
  g_assert_no_error (err);
  for (int t = 0; t < c->n_tasks; t++)
    keep[t] = g_memdup2 (oa.probs[t], sizeof (float) * batch->n
                         * c->tasks[t].n_classes);
  omega = g_memdup2 (oa.modality_weights, sizeof (float) * batch->n * 3);
  g_assert_true (mmdnn_model_forward (b, batch, FALSE, &ob, &lb, &err));
  g_assert_no_error (err);
  for (int t = 0; t < c->n_tasks; t++) {
    g_assert_true (memcmp (keep[t], ob.probs[t], sizeof (float) * batch->n
                           * c->tasks[t].n_classes) == 0);
    g_assert_true (la.task[t] == lb.task[t]);
    g_free (keep[t]);
  }
  g_assert_true (memcmp (omega, ob.modality_weights,
                         sizeof (float) * batch->n * 3) == 0);
  g_free (omega);
}

static MmdnnModel *
trained_model (MmdnnBatch **batch_out)
{
  GError *err = NULL;
  MmdnnModelConfig *c = tiny_config ();
  MmdnnModel *m = mmdnn_model_new (c, 11, 5, &err);
  MmdnnBatch *b;
  MmdnnLosses l[2];

  g_assert_no_error (err);
  b = make_batch (c, 5, 3);
  train (m, &b, 0, 1, l);
  train (m, &b, 0, 1, l + 1);
  mmdnn_model_config_free (c);
  if (batch_out)
    *batch_out = b;
  else
    mmdnn_batch_free (b);
  return m;
}

static void
test_save_load (void)
{
  GError *err = NULL;
  MmdnnBatch *b;
  MmdnnModel *m = trained_model (&b), *l;
  char *path = tmp_path ("model.safetensors");
  char *j1, *j2;

  g_assert_true (mmdnn_model_save (m, path, &err));
  g_assert_no_error (err);
  l = mmdnn_model_load (path, 7, &err);
  g_assert_no_error (err);
  g_assert_nonnull (l);
  g_assert_cmpint (l->max_batch, ==, 7);
  assert_same_params (m, l);
  j1 = mmdnn_model_config_to_json (m->config);
  j2 = mmdnn_model_config_to_json (l->config);
  g_assert_cmpstr (j1, ==, j2);
  assert_same_outputs (m, l, b);
  /* saving over an existing file replaces it */
  g_assert_true (mmdnn_model_save (l, path, &err));
  g_assert_no_error (err);
  g_free (j1);
  g_free (j2);
  g_free (path);
  mmdnn_batch_free (b);
  mmdnn_model_free (l);
  mmdnn_model_free (m);
}

/* N steps, save, load, N steps == 2N steps, bit for bit: for AdamW (m and
 * v) and SGD with momentum (m only), with every kind of virtual data on so
 * the RNG state matters. */
static void
resume_case (const char *opt_json)
{
  enum { N = 3 };
  GError *err = NULL;
  MmdnnModelConfig *c;
  MmdnnModel *a, *r;
  MmdnnBatch *batches[2 * N];
  MmdnnLosses la[2 * N], lr[N];
  char *path = tmp_path ("resume.ckpt");
  const char *p = strstr (tiny_json, "\"optim\"");
  char *head, *json;

  /* splice the optimiser section in */
  g_assert_nonnull (p);
  head = g_strndup (tiny_json, (gsize) (p - tiny_json));
  json = g_strconcat (head, opt_json, NULL);
  g_free (head);
  c = mmdnn_model_config_from_json (json, -1, &err);
  g_assert_no_error (err);
  for (int k = 0; k < 2 * N; k++)
    batches[k] = make_batch (c, 4, 100 + (uint64_t) k);
  a = mmdnn_model_new (c, 5, 4, &err);
  g_assert_no_error (err);
  train (a, batches, 0, N, la);
  g_assert_true (mmdnn_model_save_checkpoint (a, path, &err));
  g_assert_no_error (err);
  train (a, batches, N, N, la + N);

  r = mmdnn_model_load_checkpoint (path, 4, &err);
  g_assert_no_error (err);
  g_assert_nonnull (r);
  g_assert_cmpint (r->step, ==, N);
  train (r, batches, N, N, lr);

  assert_same_params (a, r);
  g_assert_cmpint (a->step, ==, r->step);
  g_assert_cmpint (a->optim->step, ==, r->optim->step);
  g_assert_true ((a->optim->m == NULL) == (r->optim->m == NULL));
  g_assert_true ((a->optim->v == NULL) == (r->optim->v == NULL));
  if (a->optim->m)
    g_assert_true (memcmp (a->optim->m, r->optim->m,
                           sizeof (float) * a->optim->numel) == 0);
  if (a->optim->v)
    g_assert_true (memcmp (a->optim->v, r->optim->v,
                           sizeof (float) * a->optim->numel) == 0);
  g_assert_true (memcmp (a->rng.s, r->rng.s, sizeof a->rng.s) == 0);
  g_assert_true (a->rng.have_spare == r->rng.have_spare);
  for (int k = 0; k < N; k++)
    g_assert_true (memcmp (&la[N + k], &lr[k], sizeof lr[k]) == 0);
  /* and the run did something: the steps changed the loss */
  g_assert_true (la[0].total != la[N].total);

  for (int k = 0; k < 2 * N; k++)
    mmdnn_batch_free (batches[k]);
  mmdnn_model_free (a);
  mmdnn_model_free (r);
  mmdnn_model_config_free (c);
  g_free (json);
  g_free (path);
}

static void
test_checkpoint_resume (void)
{
  resume_case ("\"optim\": {\"lr\": 0.01, \"warmup_steps\": 2, "
               "\"total_steps\": 50}}");
  resume_case ("\"optim\": {\"kind\": \"sgd\", \"lr\": 0.05, \"momentum\": 0.9, "
               "\"nesterov\": true, \"weight_decay\": 0.001, \"min_lr\": 0, "
               "\"warmup_steps\": 1, \"total_steps\": 8}}");
  resume_case ("\"optim\": {\"kind\": \"sgd\", \"lr\": 0.05, \"min_lr\": 0, "
               "\"warmup_steps\": 0, \"total_steps\": 8}}");
}

/* The file read by an independent parser (the safetensors layout written
 * out in 30 lines), and by mmdnn_safetensors: names are the parameter
 * names, data the parameter values. */
static void
test_file_layout (void)
{
  GError *err = NULL;
  MmdnnModel *m = trained_model (NULL);
  char *path = tmp_path ("layout.safetensors"), *contents;
  gsize len;
  uint64_t hlen = 0;
  JsonParser *parser = json_parser_new ();
  JsonObject *hdr, *meta;
  MmdnnSafetensors *st;
  guint np = m->params->params->len;

  g_assert_true (mmdnn_model_save (m, path, &err));
  g_assert_no_error (err);
  g_assert_true (g_file_get_contents (path, &contents, &len, &err));
  for (int k = 7; k >= 0; k--)
    hlen = hlen << 8 | (uint8_t) contents[k];
  g_assert_cmpuint (8 + hlen, <=, len);
  g_assert_cmpuint ((8 + hlen) % 8, ==, 0);
  g_assert_true (json_parser_load_from_data (parser, contents + 8,
                                             (gssize) hlen, &err));
  hdr = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpuint (json_object_get_size (hdr), ==, np + 1);
  meta = json_object_get_object_member (hdr, "__metadata__");
  g_assert_cmpstr (json_object_get_string_member (meta, "mmdnn.format_version"),
                   ==, "1");
  g_assert_cmpstr (json_object_get_string_member (meta, "mmdnn.model_id"), ==,
                   "tiny");
  g_assert_nonnull (strstr (json_object_get_string_member (meta, "mmdnn.config"),
                            "\"fusion\""));
  for (guint i = 0; i < np; i++) {
    const MmdnnParam *p = g_ptr_array_index (m->params->params, i);
    JsonObject *t = json_object_get_object_member (hdr, p->name);
    JsonArray *shape, *off;
    g_assert_nonnull (t);
    g_assert_cmpstr (json_object_get_string_member (t, "dtype"), ==, "F32");
    shape = json_object_get_array_member (t, "shape");
    g_assert_cmpint (json_array_get_length (shape), ==, p->ndim);
    for (int k = 0; k < p->ndim; k++)
      g_assert_cmpint (json_array_get_int_element (shape, k), ==, p->shape[k]);
    off = json_object_get_array_member (t, "data_offsets");
    g_assert_cmpint (json_array_get_int_element (off, 1)
                     - json_array_get_int_element (off, 0), ==, 4 * p->numel);
    g_assert_true (memcmp (contents + 8 + hlen
                           + json_array_get_int_element (off, 0),
                           p->value, 4 * (size_t) p->numel) == 0);
  }
  /* PyTorch names, e.g. */
  g_assert_nonnull (json_object_get_member (hdr, "head.class.weight"));
  g_assert_nonnull (json_object_get_member (hdr, "fusion.attn_v"));

  st = mmdnn_safetensors_open (path, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (mmdnn_safetensors_count (st), ==, np);
  for (guint i = 0; i < np; i++)
    g_assert_cmpstr (mmdnn_safetensors_name (st, i), ==,
                     ((MmdnnParam *) g_ptr_array_index (m->params->params,
                                                        i))->name);
  mmdnn_safetensors_close (st);
  g_object_unref (parser);
  g_free (contents);
  g_free (path);
  mmdnn_model_free (m);
}

static void
test_checkpoint_as_model (void)
{
  GError *err = NULL;
  MmdnnBatch *b;
  MmdnnModel *m = trained_model (&b), *l;
  char *path = tmp_path ("as-model.ckpt");
  MmdnnSafetensors *st;

  g_assert_true (mmdnn_model_save_checkpoint (m, path, &err));
  g_assert_no_error (err);
  st = mmdnn_safetensors_open (path, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (mmdnn_safetensors_count (st), ==,
                    3 * m->params->params->len);
  g_assert_true (mmdnn_safetensors_get (st, "optim.v.fusion.attn_v", NULL,
                                        NULL, NULL));
  g_assert_cmpstr (mmdnn_safetensors_get_metadata (st, "mmdnn.step"), ==, "2");
  mmdnn_safetensors_close (st);
  l = mmdnn_model_load (path, 5, &err);
  g_assert_no_error (err);
  assert_same_params (m, l);
  assert_same_outputs (m, l, b);
  g_assert_cmpint (l->step, ==, 0);         /* a model, not a resumed run */
  mmdnn_model_free (l);
  mmdnn_batch_free (b);
  mmdnn_model_free (m);
  g_free (path);
}

/* ---------------------------------------------------------------- file _n */

static void
expect_load_error (const char *path, gboolean checkpoint, int code,
                   const char *needle)
{
  GError *err = NULL;
  MmdnnModel *m = checkpoint ? mmdnn_model_load_checkpoint (path, 4, &err)
      : mmdnn_model_load (path, 4, &err);

  g_assert_null (m);
  assert_error_contains (err, code, needle);
  g_clear_error (&err);
}

static void
test_load_missing_n (void)
{
  char *path = tmp_path ("does-not-exist.safetensors");

  expect_load_error (path, FALSE, MMDNN_ERROR_IO, "does-not-exist");
  expect_load_error (path, TRUE, MMDNN_ERROR_IO, "does-not-exist");
  expect_load_error (g_get_tmp_dir (), FALSE, MMDNN_ERROR_IO, "");
  g_free (path);
}

static void
test_load_corrupt_n (void)
{
  GError *err = NULL;
  MmdnnModel *m = trained_model (NULL);
  char *path = tmp_path ("good.safetensors");
  char *bad = tmp_path ("bad.safetensors");
  char *contents;
  gsize len;

  g_assert_true (mmdnn_model_save (m, path, &err));
  g_assert_true (g_file_get_contents (path, &contents, &len, &err));

  /* truncated: in the data, in the header, before the length */
  g_assert_true (g_file_set_contents (bad, contents, (gssize) len - 5, &err));
  expect_load_error (bad, FALSE, MMDNN_ERROR_FORMAT, bad);
  g_assert_true (g_file_set_contents (bad, contents, 100, &err));
  expect_load_error (bad, FALSE, MMDNN_ERROR_FORMAT, bad);
  g_assert_true (g_file_set_contents (bad, contents, 3, &err));
  expect_load_error (bad, FALSE, MMDNN_ERROR_FORMAT, bad);
  g_assert_true (g_file_set_contents (bad, "", 0, &err));
  expect_load_error (bad, TRUE, MMDNN_ERROR_FORMAT, bad);
  /* garbage header */
  memset (contents + 8, 'x', 16);
  g_assert_true (g_file_set_contents (bad, contents, (gssize) len, &err));
  expect_load_error (bad, FALSE, MMDNN_ERROR_FORMAT, bad);
  /* absurd header length */
  contents[7] = 0x7f;
  g_assert_true (g_file_set_contents (bad, contents, (gssize) len, &err));
  expect_load_error (bad, FALSE, MMDNN_ERROR_FORMAT, bad);

  g_free (contents);
  g_free (bad);
  g_free (path);
  mmdnn_model_free (m);
}

/* a file with the tensors of @m and the given metadata (NULL: left out) */
static void
write_custom (const MmdnnModel *m, const char *path, const char *version,
              const char *config, const char *id, gboolean extra_tensor)
{
  GError *err = NULL;
  MmdnnSafetensorsWriter *w = mmdnn_safetensors_writer_new ();
  int64_t shape[1] = { 2 };
  static const float two[2] = { 1, 2 };

  g_assert_true (mmdnn_safetensors_writer_add_params (w, m->params, NULL, &err));
  if (extra_tensor)
    g_assert_true (mmdnn_safetensors_writer_add (w, "head.extra.weight", 1,
                                                 shape, two, &err));
  if (version)
    mmdnn_safetensors_writer_set_metadata (w, "mmdnn.format_version", version);
  if (id)
    mmdnn_safetensors_writer_set_metadata (w, "mmdnn.model_id", id);
  if (config)
    mmdnn_safetensors_writer_set_metadata (w, "mmdnn.config", config);
  g_assert_true (mmdnn_safetensors_writer_save (w, path, &err));
  g_assert_no_error (err);
  mmdnn_safetensors_writer_free (w);
}

static void
test_load_metadata_n (void)
{
  MmdnnModel *m = trained_model (NULL);
  char *path = tmp_path ("meta.safetensors");
  char *json = mmdnn_model_config_to_json (m->config);

  write_custom (m, path, NULL, json, NULL, FALSE);
  expect_load_error (path, FALSE, MMDNN_ERROR_FORMAT,
                     "not an mmdnn model file");
  write_custom (m, path, "2", json, NULL, FALSE);
  expect_load_error (path, FALSE, MMDNN_ERROR_FORMAT,
                     "written by a newer mmdnn (file format 2");
  write_custom (m, path, "one", json, NULL, FALSE);
  expect_load_error (path, FALSE, MMDNN_ERROR_FORMAT, "is not a positive");
  write_custom (m, path, "1", NULL, NULL, FALSE);
  expect_load_error (path, FALSE, MMDNN_ERROR_FORMAT, "no \"mmdnn.config\"");
  write_custom (m, path, "1", "{\"tasks\": 3}", NULL, FALSE);
  expect_load_error (path, FALSE, MMDNN_ERROR_FORMAT,
                     "bad \"mmdnn.config\": tasks: expected an array");
  write_custom (m, path, "1", "{", NULL, FALSE);
  expect_load_error (path, FALSE, MMDNN_ERROR_FORMAT, "bad \"mmdnn.config\"");
  write_custom (m, path, "1", json, "other-id", FALSE);
  expect_load_error (path, FALSE, MMDNN_ERROR_FORMAT, "\"other-id\"");
  g_free (json);
  g_free (path);
  mmdnn_model_free (m);
}

static void
test_load_mismatch_n (void)
{
  GError *err = NULL;
  MmdnnModel *m = trained_model (NULL);
  MmdnnModelConfig *c = mmdnn_model_config_copy (m->config);
  char *path = tmp_path ("mismatch.safetensors");
  char *json;

  /* the config says 4 classes, the tensors have 3 */
  g_free (c->tasks[0].classes[2]);
  c->tasks[0].classes[2] = g_strdup ("c");
  {
    static const char *const four[] = { "a", "b", "c", "d", NULL };
    g_assert_true (mmdnn_model_config_set_task (c, 0, "class", four, 1.0f,
                                                &err));
  }
  json = mmdnn_model_config_to_json (c);
  write_custom (m, path, "1", json, NULL, FALSE);
  expect_load_error (path, FALSE, MMDNN_ERROR_MISMATCH, "head.class.weight");
  g_free (json);
  /* the config has no discriminator, the file does */
  mmdnn_model_config_free (c);
  c = mmdnn_model_config_copy (m->config);
  c->w_adv = 0.0f;
  json = mmdnn_model_config_to_json (c);
  write_custom (m, path, "1", json, NULL, FALSE);
  expect_load_error (path, FALSE, MMDNN_ERROR_MISMATCH, "disc.fc1");
  g_free (json);
  /* a tensor the model lacks */
  json = mmdnn_model_config_to_json (m->config);
  write_custom (m, path, "1", json, NULL, TRUE);
  expect_load_error (path, FALSE, MMDNN_ERROR_MISMATCH, "head.extra.weight");
  /* a model file is no checkpoint */
  write_custom (m, path, "1", json, NULL, FALSE);
  expect_load_error (path, TRUE, MMDNN_ERROR_FORMAT, "not a checkpoint");
  g_free (json);
  mmdnn_model_config_free (c);
  g_free (path);
  mmdnn_model_free (m);
}

/* checkpoint metadata and optimiser tensors */
static void
test_checkpoint_corrupt_n (void)
{
  GError *err = NULL;
  MmdnnModel *m = trained_model (NULL);
  char *path = tmp_path ("c.ckpt");
  char *json = mmdnn_model_config_to_json (m->config);
  const char *bad_rng[] = {
    "0:0:0:0:0:0", "zz", "0000000000000000:0000000000000000:0000000000000000:"
    "0000000000000000:0:0000000000000000",
    "0000000000000001:0000000000000000:0000000000000000:0000000000000000:2:"
    "0000000000000000",
    "0000000000000001:0000000000000000:0000000000000000:0000000000000000:1:"
    "7ff8000000000000",
  };

  for (size_t k = 0; k < G_N_ELEMENTS (bad_rng); k++) {
    MmdnnSafetensorsWriter *w = mmdnn_safetensors_writer_new ();
    g_assert_true (mmdnn_safetensors_writer_add_params (w, m->params, NULL,
                                                        &err));
    g_assert_true (mmdnn_safetensors_writer_add_params (w, m->params,
                                                        "optim.m.", &err));
    g_assert_true (mmdnn_safetensors_writer_add_params (w, m->params,
                                                        "optim.v.", &err));
    mmdnn_safetensors_writer_set_metadata (w, "mmdnn.format_version", "1");
    mmdnn_safetensors_writer_set_metadata (w, "mmdnn.config", json);
    mmdnn_safetensors_writer_set_metadata (w, "mmdnn.step", "3");
    mmdnn_safetensors_writer_set_metadata (w, "mmdnn.rng", bad_rng[k]);
    g_assert_true (mmdnn_safetensors_writer_save (w, path, &err));
    mmdnn_safetensors_writer_free (w);
    expect_load_error (path, TRUE, MMDNN_ERROR_FORMAT, "\"mmdnn.rng\"");
  }
  /* step not a number; optimiser slabs missing */
  {
    MmdnnSafetensorsWriter *w = mmdnn_safetensors_writer_new ();
    g_assert_true (mmdnn_safetensors_writer_add_params (w, m->params, NULL,
                                                        &err));
    mmdnn_safetensors_writer_set_metadata (w, "mmdnn.format_version", "1");
    mmdnn_safetensors_writer_set_metadata (w, "mmdnn.config", json);
    mmdnn_safetensors_writer_set_metadata (w, "mmdnn.step", "-1");
    g_assert_true (mmdnn_safetensors_writer_save (w, path, &err));
    expect_load_error (path, TRUE, MMDNN_ERROR_FORMAT, "\"mmdnn.step\" = \"-1\"");
    mmdnn_safetensors_writer_set_metadata (w, "mmdnn.step", "3");
    mmdnn_safetensors_writer_set_metadata (w, "mmdnn.rng",
        "0000000000000001:0000000000000000:0000000000000000:"
        "0000000000000000:0:0000000000000000");
    g_assert_true (mmdnn_safetensors_writer_save (w, path, &err));
    expect_load_error (path, TRUE, MMDNN_ERROR_MISMATCH, "optim.m.");
    mmdnn_safetensors_writer_free (w);
  }
  g_free (json);
  g_free (path);
  mmdnn_model_free (m);
}

static void
test_load_nan_n (void)
{
  GError *err = NULL;
  MmdnnModel *m = trained_model (NULL);
  char *path = tmp_path ("nan.safetensors");
  MmdnnParam *p = mmdnn_param_set_lookup (m->params, "fusion.attn.bias");

  g_assert_nonnull (p);
  p->value[1] = NAN;
  g_assert_true (mmdnn_model_save (m, path, &err));
  expect_load_error (path, FALSE, MMDNN_ERROR_DATA,
                     "tensor 'fusion.attn.bias' element 1 is nan");
  g_free (path);
  mmdnn_model_free (m);
}

/* A checkpoint's optimiser state must be finite, Adam's v ≥ 0: either
 * would make the first step after resuming write NaN weights
 * (tests/fuzz/regress/checkpoint/). */
static void
test_load_checkpoint_bad_optim_n (void)
{
  static const struct {
    gboolean v;
    float value;
    const char *needle;
  } cases[] = {
    { FALSE, NAN, "tensor 'optim.m.fusion.attn.bias' element 1 is nan" },
    { FALSE, -INFINITY, "tensor 'optim.m.fusion.attn.bias' element 1 is -inf" },
    { TRUE, NAN, "tensor 'optim.v.fusion.attn.bias' element 1 is nan" },
    { TRUE, INFINITY, "tensor 'optim.v.fusion.attn.bias' element 1 is inf" },
    { TRUE, -1e-30f, "tensor 'optim.v.fusion.attn.bias' element 1 is -1e-30 "
      "(a second moment is never negative)" },
  };
  GError *err = NULL;
  MmdnnModel *m = trained_model (NULL), *l;
  char *path = tmp_path ("bad-optim.safetensors");
  MmdnnParam *p = mmdnn_param_set_lookup (m->params, "fusion.attn.bias");

  g_assert_nonnull (p);
  g_assert_nonnull (m->optim->m);
  g_assert_nonnull (m->optim->v);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    float *slab = cases[i].v ? m->optim->v : m->optim->m;
    float old = slab[p->offset + 1];

    slab[p->offset + 1] = cases[i].value;
    g_assert_true (mmdnn_model_save_checkpoint (m, path, &err));
    expect_load_error (path, TRUE, MMDNN_ERROR_DATA, cases[i].needle);
    /* the weights alone are fine: it still loads as a model */
    l = mmdnn_model_load (path, 1, &err);
    g_assert_no_error (err);
    mmdnn_model_free (l);
    slab[p->offset + 1] = old;
  }
  /* -0 is a valid second moment */
  m->optim->v[p->offset + 1] = -0.0f;
  g_assert_true (mmdnn_model_save_checkpoint (m, path, &err));
  l = mmdnn_model_load_checkpoint (path, 1, &err);
  g_assert_no_error (err);
  mmdnn_model_free (l);
  g_free (path);
  mmdnn_model_free (m);
}

/* The parameters are matched against the file before anything is
 * allocated: a config declaring 2^39 of them in a file holding none fails
 * at once, naming a missing tensor. The loader used to allocate first:
 * this failed as out of memory, and 800 million parameters were allocated
 * and filled (tests/fuzz/regress/model/oom-params-not-in-file.safetensors). */
static void
test_load_huge_config_n (void)
{
  GError *err = NULL;
  char *path = tmp_path ("huge-config.safetensors");
  MmdnnSafetensorsWriter *w = mmdnn_safetensors_writer_new ();

  mmdnn_safetensors_writer_set_metadata (w, "mmdnn.format_version", "1");
  mmdnn_safetensors_writer_set_metadata (w, "mmdnn.config",
      "{\"modalities\": [\"text\"], \"preprocessing\": {\"text\": "
      "{\"buckets\": 2147483647}}, \"encoders\": {\"text\": {\"embed\": 256}}}");
  g_assert_true (mmdnn_safetensors_writer_save (w, path, &err));
  expect_load_error (path, FALSE, MMDNN_ERROR_MISMATCH,
                     "no tensor 'text.emb.weight' for parameter");
  mmdnn_safetensors_writer_set_metadata (w, "mmdnn.step", "1");
  g_assert_true (mmdnn_safetensors_writer_save (w, path, &err));
  expect_load_error (path, TRUE, MMDNN_ERROR_MISMATCH,
                     "no tensor 'text.emb.weight' for parameter");
  mmdnn_safetensors_writer_free (w);
  g_free (path);
}

static void
test_save_unwritable_n (void)
{
  GError *err = NULL;
  MmdnnModel *m = trained_model (NULL), *l;
  char *dir = tmp_path ("ro"), *path, *missing;
  float old;

  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  path = g_build_filename (dir, "m.safetensors", NULL);
  g_assert_true (mmdnn_model_save (m, path, &err));
  g_assert_no_error (err);
  g_assert_cmpint (chmod (dir, 0555), ==, 0);
  if (access (dir, W_OK) == 0) {
    /* root ignores the mode bits: use a path under a regular file */
    g_assert_cmpint (chmod (dir, 0755), ==, 0);
    g_free (dir);
    dir = g_strdup (path);
  }
  /* change the weights: the old file must survive the failed save */
  missing = g_build_filename (dir, "sub", "m.safetensors", NULL);
  old = m->params->values[0];
  m->params->values[0] += 1.0f;
  g_assert_false (mmdnn_model_save (m, missing, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_IO);
  g_clear_error (&err);
  g_assert_false (mmdnn_model_save_checkpoint (m, missing, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_IO);
  g_clear_error (&err);
  if (!g_str_equal (dir, path)) {
    char *inside = g_build_filename (dir, "m.safetensors", NULL);
    g_assert_false (mmdnn_model_save (m, inside, &err));
    g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_IO);
    g_clear_error (&err);
    g_free (inside);
  }
  l = mmdnn_model_load (path, 2, &err);
  g_assert_no_error (err);
  g_assert_true (l->params->values[0] == old);
  mmdnn_model_free (l);
  chmod (dir, 0755);
  g_free (missing);
  g_free (path);
  g_free (dir);
  mmdnn_model_free (m);
}

/* A full disk, as a file size limit (RLIMIT_FSIZE: EFBIG, what a plain
 * container allows; SIGXFSZ ignored, as a signal would only end the test):
 * the save fails with MMDNN_ERROR_IO naming the file and the reason, the
 * previous file is left byte for byte, and no temporary file remains. */
static void
test_save_full_n (void)
{
  GError *err = NULL;
  MmdnnModel *m = trained_model (NULL);
  char *dir = tmp_path ("full"), *path, *before, *after;
  gsize len_before, len_after;
  struct rlimit old, small;
  void (*old_handler) (int);

  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  path = g_build_filename (dir, "m.ckpt", NULL);
  g_assert_true (mmdnn_model_save_checkpoint (m, path, &err));
  g_assert_no_error (err);
  g_assert_true (g_file_get_contents (path, &before, &len_before, NULL));
  m->params->values[0] += 1.0f;

  for (int which = 0; which < 2; which++) {
    GDir *d;
    const char *name;
    gboolean ok;

    g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &old), ==, 0);
    small = old;
    /* room for the header, not for the tensors */
    small.rlim_cur = 4096;
    old_handler = signal (SIGXFSZ, SIG_IGN);
    g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &small), ==, 0);
    ok = which == 0 ? mmdnn_model_save_checkpoint (m, path, &err)
        : mmdnn_model_save (m, path, &err);
    g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &old), ==, 0);
    signal (SIGXFSZ, old_handler);
    g_assert_false (ok);
    g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_IO);
    g_assert_nonnull (strstr (err->message, path));
    g_assert_nonnull (strstr (err->message, g_strerror (EFBIG)));
    g_clear_error (&err);

    g_assert_true (g_file_get_contents (path, &after, &len_after, NULL));
    g_assert_cmpmem (before, len_before, after, len_after);
    g_free (after);
    d = g_dir_open (dir, 0, NULL);
    g_assert_nonnull (d);
    while ((name = g_dir_read_name (d)) != NULL)
      g_assert_cmpstr (name, ==, "m.ckpt");
    g_dir_close (d);
  }
  /* and with room again, the same save goes through */
  g_assert_true (mmdnn_model_save_checkpoint (m, path, &err));
  g_assert_no_error (err);
  g_unlink (path);
  g_rmdir (dir);
  g_free (before);
  g_free (path);
  g_free (dir);
  mmdnn_model_free (m);
}

static void
test_args_n (void)
{
  GError *err = NULL;
  MmdnnModel *m = trained_model (NULL);
  char *path = tmp_path ("args.safetensors");

  g_assert_false (mmdnn_model_save (NULL, path, &err));
  g_assert_error (err, MMDNN_ERROR, INVALID);
  g_clear_error (&err);
  g_assert_false (mmdnn_model_save (m, NULL, &err));
  g_assert_error (err, MMDNN_ERROR, INVALID);
  g_clear_error (&err);
  g_assert_false (mmdnn_model_save_checkpoint (NULL, path, &err));
  g_assert_error (err, MMDNN_ERROR, INVALID);
  g_clear_error (&err);
  g_assert_null (mmdnn_model_load (NULL, 1, &err));
  g_assert_error (err, MMDNN_ERROR, INVALID);
  g_clear_error (&err);
  g_assert_true (mmdnn_model_save (m, path, &err));
  g_assert_null (mmdnn_model_load (path, 0, &err));
  assert_error_contains (err, INVALID, "max_batch");
  g_clear_error (&err);
  g_free (path);
  mmdnn_model_free (m);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/model-io/config/default", test_config_default);
  g_test_add_func ("/model-io/config/json-round-trip", test_config_round_trip);
  g_test_add_func ("/model-io/config/defaults-and-derived",
                   test_config_defaults_and_derived);
  g_test_add_func ("/model-io/config/copy-set-task", test_config_copy_set_task);
  g_test_add_func ("/model-io/save-load", test_save_load);
  g_test_add_func ("/model-io/checkpoint-resume-exact", test_checkpoint_resume);
  g_test_add_func ("/model-io/file-layout", test_file_layout);
  g_test_add_func ("/model-io/checkpoint-as-model", test_checkpoint_as_model);

  g_test_add_func ("/model-io/config/unknown-key_n", test_config_unknown_key_n);
  g_test_add_func ("/model-io/config/wrong-type_n", test_config_wrong_type_n);
  g_test_add_func ("/model-io/config/out-of-range_n",
                   test_config_out_of_range_n);
  g_test_add_func ("/model-io/config/inconsistent_n",
                   test_config_inconsistent_n);
  g_test_add_func ("/model-io/config/tasks_n", test_config_tasks_n);
  g_test_add_func ("/model-io/config/syntax_n", test_config_syntax_n);
  g_test_add_func ("/model-io/config/strict-json_n", test_config_strict_json_n);
  g_test_add_func ("/model-io/config/check-set-task_n", test_config_check_n);
  g_test_add_func ("/model-io/load-missing_n", test_load_missing_n);
  g_test_add_func ("/model-io/load-corrupt_n", test_load_corrupt_n);
  g_test_add_func ("/model-io/load-metadata_n", test_load_metadata_n);
  g_test_add_func ("/model-io/load-mismatch_n", test_load_mismatch_n);
  g_test_add_func ("/model-io/checkpoint-corrupt_n",
                   test_checkpoint_corrupt_n);
  g_test_add_func ("/model-io/load-nan_n", test_load_nan_n);
  g_test_add_func ("/model-io/load-huge-config_n", test_load_huge_config_n);
  g_test_add_func ("/model-io/load-checkpoint-bad-optim_n",
                   test_load_checkpoint_bad_optim_n);
  g_test_add_func ("/model-io/save-unwritable_n", test_save_unwritable_n);
  g_test_add_func ("/model-io/save-full_n", test_save_full_n);
  g_test_add_func ("/model-io/args_n", test_args_n);
  return g_test_run ();
}
