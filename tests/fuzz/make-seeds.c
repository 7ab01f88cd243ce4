/* mmdnn — writes the model and checkpoint seeds of the fuzz corpus with
 * the core's own writer: `make-seeds DIR` makes DIR/model/ and
 * DIR/checkpoint/ (tests/fuzz/README.md). Tiny configs, so that a seed is
 * a few kilobytes and the fuzzer mutates the header and the metadata, not
 * megabytes of weights.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include <glib/gstdio.h>
#include <mmdnn/model.h>

/* text only, AdamW (checkpoints carry m and v) */
static const char text_json[] =
  "{\"model_id\": \"fuzz-text\", \"modalities\": [\"text\"],"
  " \"preprocessing\": {\"text\": {\"buckets\": 8, \"max_tokens\": 2,"
  "                                 \"max_ids_per_token\": 2}},"
  " \"encoders\": {\"text\": {\"embed\": 2, \"ae_latent\": 1, \"ms_width\": 1,"
  "                           \"ms_width2\": 1, \"sal_width\": 1}},"
  " \"fusion\": {\"dim\": 2, \"attn_hidden\": 1},"
  " \"tasks\": [{\"name\": \"class\", \"classes\": [\"a\", \"b\"]}],"
  " \"loss\": {\"disc_hidden\": 1}}";

/* grey video only, one branch, SGD with momentum (checkpoints carry m) */
static const char video_json[] =
  "{\"model_id\": \"fuzz-video\", \"modalities\": [\"video\"],"
  " \"preprocessing\": {\"video\": {\"channels\": 1, \"height\": 8,"
  "                                  \"width\": 8}},"
  " \"encoders\": {\"video\": {\"grid_h\": 1, \"grid_w\": 1, \"use_ae\": false,"
  "                            \"use_ms\": false, \"sal_width\": 1}},"
  " \"fusion\": {\"dim\": 2, \"attn_hidden\": 1},"
  " \"tasks\": [{\"name\": \"t\", \"classes\": [\"x\", \"y\"]},"
  "             {\"name\": \"u\", \"classes\": [\"p\", \"q\", \"r\"]}],"
  " \"loss\": {\"disc_hidden\": 1},"
  " \"optim\": {\"kind\": \"sgd\", \"momentum\": 0.9}}";

static MmdnnModel *
tiny_model (const char *json, GError **error)
{
  MmdnnModelConfig *c = mmdnn_model_config_from_json (json, -1, error);
  MmdnnModel *m;

  if (c == NULL)
    return NULL;
  m = mmdnn_model_new (c, 1, 2, error);
  mmdnn_model_config_free (c);
  return m;
}

/* one optimiser step on a zero batch: a checkpoint then has a step count,
 * a used generator and non-zero optimiser state */
static gboolean
one_step (MmdnnModel *m, GError **error)
{
  MmdnnBatch *b = mmdnn_batch_new (m->config, 2, error);
  gboolean ok;

  if (b == NULL)
    return FALSE;
  for (int64_t i = 0; i < 2 * m->config->n_tasks; i++)
    b->labels[i] = (int32_t) (i % 2);
  if (b->text_ids != NULL)
    for (int64_t i = 0; i < 2 * m->config->text_prep.max_tokens
         * m->config->text_prep.max_ids_per_token; i++)
      b->text_ids[i] = (int32_t) (i % 3);
  ok = mmdnn_model_train_step (m, b, NULL, error);
  mmdnn_batch_free (b);
  return ok;
}

int
main (int argc, char **argv)
{
  static const struct { const char *name, *json; } models[] = {
    { "text", text_json }, { "video", video_json },
  };
  GError *err = NULL;

  if (argc != 2) {
    fprintf (stderr, "Usage: make-seeds DIR\n");
    return 2;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (models); i++) {
    MmdnnModel *m = tiny_model (models[i].json, &err);
    char *dir, *path;
    gboolean ok;

    if (m == NULL)
      goto fail;
    dir = g_build_filename (argv[1], "model", NULL);
    g_mkdir_with_parents (dir, 0755);
    path = g_strdup_printf ("%s/%s.safetensors", dir, models[i].name);
    ok = mmdnn_model_save (m, path, &err);
    g_free (path);
    g_free (dir);
    dir = g_build_filename (argv[1], "checkpoint", NULL);
    g_mkdir_with_parents (dir, 0755);
    path = g_strdup_printf ("%s/%s.safetensors", dir, models[i].name);
    ok = ok && one_step (m, &err) && mmdnn_model_save_checkpoint (m, path, &err);
    g_free (path);
    g_free (dir);
    mmdnn_model_free (m);
    if (!ok)
      goto fail;
  }
  return 0;

fail:
  fprintf (stderr, "make-seeds: %s\n", err->message);
  g_error_free (err);
  return 1;
}
