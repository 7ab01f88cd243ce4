/* mmdnn — test helper for test-cli.sh: writes a tiny model and its kin.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   make-tiny-model DIR
 *
 * writes into DIR
 *   tiny.json              a small but complete config (all three modalities,
 *                          two tasks, class names with '/', ',' and '"')
 *   tiny.safetensors       mmdnn_model_new (tiny.json) + mmdnn_model_save
 *   tiny-ckpt.safetensors  the same model after one training step, saved as
 *                          a checkpoint (step 1)
 *   mismatch.safetensors   tiny.json's metadata over the tensors of a model
 *                          with fusion.dim 6: every shape disagrees
 *   future.safetensors     tiny.safetensors claiming file format 99
 * and prints "params N" (the sum of the parameters' element counts) and
 * "tensors T" on stdout, for the test to compare with `mmdnn info`. */
#include <stdio.h>
#include <stdlib.h>

#include <mmdnn/model.h>
#include <mmdnn/safetensors.h>

static const char tiny_json[] =
  "{\n"
  "  \"model_id\": \"tiny-test\",\n"
  "  \"modalities\": [\"video\", \"audio\", \"text\"],\n"
  "  \"preprocessing\": {\n"
  "    \"video\": {\"channels\": 1, \"height\": 16, \"width\": 16},\n"
  "    \"audio\": {\"n_mels\": 16, \"patch_frames\": 16},\n"
  "    \"text\": {\"buckets\": 97, \"max_tokens\": 4, \"max_ids_per_token\": 3}\n"
  "  },\n"
  "  \"encoders\": {\n"
  "    \"video\": {\"grid_h\": 2, \"grid_w\": 2, \"ae_width\": 2, \"ae_latent\": 3,\n"
  "              \"ms_width\": 2, \"ms_width2\": 4, \"ms_width3\": 5, \"sal_width\": 3},\n"
  "    \"audio\": {\"grid_h\": 1, \"grid_w\": 2, \"ae_width\": 2, \"ae_latent\": 3,\n"
  "              \"ms_width\": 2, \"ms_width2\": 4, \"ms_width3\": 5, \"sal_width\": 3},\n"
  "    \"text\": {\"embed\": 4, \"ae_latent\": 3, \"ms_width\": 2, \"ms_width2\": 4,\n"
  "             \"sal_width\": 3}\n"
  "  },\n"
  "  \"fusion\": {\"dim\": 8, \"attn_hidden\": 4},\n"
  "  \"tasks\": [\n"
  "    {\"name\": \"garment\", \"classes\": [\"T-shirt/top\", \"Bag, small\", "
  "\"Say \\\"hi\\\"\"]},\n"
  "    {\"name\": \"speaker_gender\", \"classes\": [\"female\", \"male\"], "
  "\"weight\": 0.5}\n"
  "  ],\n"
  "  \"loss\": {\"disc_hidden\": 4}\n"
  "}\n";

static void
die (const char *what, GError *error)
{
  fprintf (stderr, "make-tiny-model: %s: %s\n", what,
           error ? error->message : "failed");
  exit (1);
}

static MmdnnModelConfig *
tiny_config (void)
{
  GError *error = NULL;
  MmdnnModelConfig *c = mmdnn_model_config_from_json (tiny_json, -1, &error);

  if (c == NULL)
    die ("tiny.json", error);
  return c;
}

/* tiny.safetensors with its metadata, but the tensors of @other */
static void
write_foreign (const MmdnnModel *other, const MmdnnModelConfig *c,
               const char *version, const char *path)
{
  GError *error = NULL;
  MmdnnSafetensorsWriter *w = mmdnn_safetensors_writer_new ();
  char *json = mmdnn_model_config_to_json (c);

  if (!mmdnn_safetensors_writer_add_params (w, other->params, NULL, &error))
    die (path, error);
  mmdnn_safetensors_writer_set_metadata (w, "mmdnn.format_version", version);
  mmdnn_safetensors_writer_set_metadata (w, "mmdnn.model_id", c->model_id);
  mmdnn_safetensors_writer_set_metadata (w, "mmdnn.config", json);
  if (!mmdnn_safetensors_writer_save (w, path, &error))
    die (path, error);
  g_free (json);
  mmdnn_safetensors_writer_free (w);
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  MmdnnModelConfig *c, *c6;
  MmdnnModel *m, *m6;
  MmdnnBatch *b;
  MmdnnRng rng;
  int64_t n = 0;
  char *path;

  if (argc != 2) {
    fprintf (stderr, "usage: make-tiny-model DIR\n");
    return 2;
  }
  c = tiny_config ();
  path = g_build_filename (argv[1], "tiny.json", NULL);
  if (!g_file_set_contents (path, tiny_json, -1, &error))
    die (path, error);
  g_free (path);

  m = mmdnn_model_new (c, 7, 4, &error);
  if (m == NULL)
    die ("mmdnn_model_new", error);
  path = g_build_filename (argv[1], "tiny.safetensors", NULL);
  if (!mmdnn_model_save (m, path, &error))
    die (path, error);
  g_free (path);

  /* the mismatch and the future version before training changes m */
  c6 = mmdnn_model_config_copy (c);
  c6->fusion.dim = c6->video.dim = c6->audio.dim = c6->text.dim = 6;
  m6 = mmdnn_model_new (c6, 7, 1, &error);
  if (m6 == NULL)
    die ("mmdnn_model_new (dim 6)", error);
  path = g_build_filename (argv[1], "mismatch.safetensors", NULL);
  write_foreign (m6, c, "1", path);
  g_free (path);
  path = g_build_filename (argv[1], "future.safetensors", NULL);
  write_foreign (m, c, "99", path);
  g_free (path);

  /* one step on random data: a checkpoint of step 1 */
  b = mmdnn_batch_new (c, 4, &error);
  if (b == NULL)
    die ("mmdnn_batch_new", error);
  mmdnn_rng_init (&rng, 3);
  mmdnn_rng_fill_uniform (&rng, b->video, 4 * 1 * 16 * 16, -2, 2);
  mmdnn_rng_fill_uniform (&rng, b->audio, 4 * 1 * 16 * 16, -2, 2);
  for (int64_t i = 0; i < 4 * 4 * 3; i++)
    b->text_ids[i] = (int32_t) mmdnn_rng_below (&rng, 97);
  for (int64_t i = 0; i < 4; i++) {
    b->labels[2 * i] = (int32_t) (i % 3);
    b->labels[2 * i + 1] = (int32_t) (i % 2);
  }
  if (!mmdnn_model_train_step (m, b, NULL, &error))
    die ("mmdnn_model_train_step", error);
  path = g_build_filename (argv[1], "tiny-ckpt.safetensors", NULL);
  if (!mmdnn_model_save_checkpoint (m, path, &error))
    die (path, error);
  g_free (path);

  for (guint i = 0; i < m->params->params->len; i++)
    n += ((const MmdnnParam *) g_ptr_array_index (m->params->params, i))->numel;
  printf ("params %" G_GINT64_FORMAT "\ntensors %u\n", n,
          m->params->params->len);

  mmdnn_batch_free (b);
  mmdnn_model_free (m);
  mmdnn_model_free (m6);
  mmdnn_model_config_free (c);
  mmdnn_model_config_free (c6);
  return 0;
}
