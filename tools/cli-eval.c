/* mmdnn — `mmdnn eval MODEL DATASET [--json] [--batch N]`: how well a model
 * does on a data set, with every modality, each alone and each missing.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The data set is read with the model's own config (its tasks, class
 * names and preprocessing), so a labels.csv naming a class the model does
 * not know is an error naming the line. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include <mmdnn/dataset.h>
#include <mmdnn/model.h>

#include "cli.h"

#define MAX_BATCH 4096

/* rows of the ablation table, in this order */
static const MmdnnAblation rows[] = {
  MMDNN_ABLATION_FULL, MMDNN_ABLATION_ONLY_VIDEO, MMDNN_ABLATION_ONLY_AUDIO,
  MMDNN_ABLATION_ONLY_TEXT, MMDNN_ABLATION_NO_VIDEO, MMDNN_ABLATION_NO_AUDIO,
  MMDNN_ABLATION_NO_TEXT,
};

static double
class_accuracy (const int64_t *conf, int64_t n, int64_t k, int64_t *count)
{
  int64_t total = 0;

  for (int64_t p = 0; p < n; p++)
    total += conf[k * n + p];
  *count = total;
  return total > 0 ? (double) conf[k * n + k] / total : NAN;
}

static void
json_add_accuracy (JsonBuilder *b, double a)
{
  if (isnan (a))
    json_builder_add_null_value (b);   /* no labelled sample */
  else
    json_builder_add_double_value (b, a);
}

static void
print_json (const MmdnnModelConfig *c, const MmdnnEvalResult *res,
            int64_t samples)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "tasks");
  json_builder_begin_object (b);
  for (int t = 0; t < c->n_tasks; t++) {
    const MmdnnTask *task = &c->tasks[t];
    json_builder_set_member_name (b, task->name);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "accuracy");
    json_add_accuracy (b, mmdnn_eval_result_accuracy (&res[0], t));
    json_builder_set_member_name (b, "count");
    json_builder_add_int_value (b, res[0].count[t]);
    json_builder_set_member_name (b, "per_class");
    json_builder_begin_object (b);
    for (int64_t k = 0; k < task->n_classes; k++) {
      int64_t cnt;
      json_builder_set_member_name (b, task->classes[k]);
      json_add_accuracy (b, class_accuracy (res[0].confusion[t],
                                            task->n_classes, k, &cnt));
    }
    json_builder_end_object (b);
    json_builder_set_member_name (b, "confusion");
    json_builder_begin_array (b);
    for (int64_t k = 0; k < task->n_classes; k++) {
      json_builder_begin_array (b);
      for (int64_t p = 0; p < task->n_classes; p++)
        json_builder_add_int_value (b, res[0].confusion[t][k * task->n_classes
                                                           + p]);
      json_builder_end_array (b);
    }
    json_builder_end_array (b);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);

  json_builder_set_member_name (b, "ablation");
  json_builder_begin_object (b);
  for (gsize r = 0; r < G_N_ELEMENTS (rows); r++) {
    json_builder_set_member_name (b, mmdnn_ablation_name (rows[r]));
    json_builder_begin_object (b);
    for (int t = 0; t < c->n_tasks; t++) {
      json_builder_set_member_name (b, c->tasks[t].name);
      json_add_accuracy (b, mmdnn_eval_result_accuracy (&res[rows[r]], t));
    }
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "samples");
  json_builder_add_int_value (b, samples);
  json_builder_end_object (b);
  cli_print_json (b);
  g_object_unref (b);
}

static int
text_width (const char *s)
{
  return (int) g_utf8_strlen (s, -1);
}

/* "%-*s" by characters, not bytes (class names may be UTF-8) */
static void
print_padded (const char *s, int width, gboolean right)
{
  int pad = MAX (width - text_width (s), 0);

  if (right)
    printf ("%*s%s", pad, "", s);
  else
    printf ("%s%*s", s, pad, "");
}

static void
print_acc_cell (double a, int width)
{
  char buf[32];

  if (isnan (a))
    g_snprintf (buf, sizeof buf, "-");
  else
    g_snprintf (buf, sizeof buf, "%.3f", a);
  print_padded (buf, width, TRUE);
}

static void
print_text (const char *model, const char *dir, const MmdnnModelConfig *c,
            const MmdnnEvalResult *res, int64_t samples)
{
  int name_w = 8;

  printf ("model %s, data set %s: %" G_GINT64_FORMAT " clips\n", model, dir,
          samples);
  for (int t = 0; t < c->n_tasks; t++) {
    const MmdnnTask *task = &c->tasks[t];
    int64_t n = task->n_classes, maxc = 1;
    int cw, lw = 16;     /* "true \\ predicted" */

    printf ("\ntask %s: accuracy ", task->name);
    print_acc_cell (mmdnn_eval_result_accuracy (&res[0], t), 0);
    printf (" (%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " labelled clips)\n",
            res[0].correct[t], res[0].count[t]);
    for (int64_t k = 0; k < n; k++)
      lw = MAX (lw, text_width (task->classes[k]));
    for (int64_t k = 0; k < n * n; k++)
      maxc = MAX (maxc, res[0].confusion[t][k]);
    cw = MAX ((int) floor (log10 ((double) maxc)) + 1, 3) + 1;

    /* per class: accuracy and count, then the confusion row */
    printf ("  ");
    print_padded ("true \\ predicted", lw, FALSE);
    printf (" %8s %6s  ", "accuracy", "clips");
    for (int64_t p = 0; p < n; p++)
      printf ("%*" G_GINT64_FORMAT, cw, p);
    printf ("\n");
    for (int64_t k = 0; k < n; k++) {
      int64_t cnt;
      double a = class_accuracy (res[0].confusion[t], n, k, &cnt);
      printf ("  ");
      print_padded (task->classes[k], lw, FALSE);
      printf (" ");
      print_acc_cell (a, 8);
      printf (" %6" G_GINT64_FORMAT "  ", cnt);
      for (int64_t p = 0; p < n; p++)
        printf ("%*" G_GINT64_FORMAT, cw, res[0].confusion[t][k * n + p]);
      printf ("   (%" G_GINT64_FORMAT ")\n", k);
    }
    name_w = MAX (name_w, text_width (task->name));
  }

  printf ("\nablation (accuracy; a clip counts if one of its modalities "
          "survives)\n  %-10s", "input");
  for (int t = 0; t < c->n_tasks; t++) {
    printf (" ");
    print_padded (c->tasks[t].name, name_w, TRUE);
  }
  printf (" %8s\n", "clips");
  for (gsize r = 0; r < G_N_ELEMENTS (rows); r++) {
    printf ("  %-10s", mmdnn_ablation_name (rows[r]));
    for (int t = 0; t < c->n_tasks; t++) {
      printf (" ");
      print_acc_cell (mmdnn_eval_result_accuracy (&res[rows[r]], t), name_w);
    }
    printf (" %8" G_GINT64_FORMAT "\n", res[rows[r]].count[0]);
  }
}

static GOptionContext *
eval_context (gboolean *json, gint64 *batch)
{
  GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, json,
      "Print one JSON object instead of text", NULL },
    { "batch", 'b', 0, G_OPTION_ARG_INT64, batch,
      "Clips per forward pass (default 32)", "N" },
    { NULL }
  };
  GOptionContext *ctx = g_option_context_new ("MODEL DATASET - accuracy of a "
                                              "model on a data set");

  g_option_context_set_description (ctx,
      "Loads MODEL (a model or checkpoint file), reads DATASET (a folder with\n"
      "labels.csv) with the model's tasks, classes and preprocessing, and\n"
      "prints per task the accuracy, per-class accuracy and the confusion\n"
      "matrix (rows: true class, columns: predicted), then the ablation\n"
      "table: every modality (full), each alone (video, audio, text) and\n"
      "each missing (no_video, no_audio, no_text). Clips without a label for\n"
      "a task are not counted for it; an accuracy without any clip is '-'\n"
      "(null in JSON).\n"
      "\n"
      "--json prints one object: {\"tasks\": {TASK: {\"accuracy\", \"count\",\n"
      "\"per_class\": {CLASS: accuracy}, \"confusion\": [[...]]}}, \"ablation\":\n"
      "{\"full\"|\"video\"|\"audio\"|\"text\"|\"no_video\"|\"no_audio\"|\"no_text\":\n"
      "{TASK: accuracy}}, \"samples\": N}.\n"
      "\n"
      "Exit status: 0 ok, 1 a bad model, data set or media file, 2 bad\n"
      "arguments.\n"
      "\nExample:\n  mmdnn eval model.safetensors data/test --json\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  return ctx;
}

void
cli_eval_help (void)
{
  gboolean json = FALSE;
  gint64 batch = 32;
  GOptionContext *ctx;
  char *help;

  g_set_prgname ("mmdnn eval");
  ctx = eval_context (&json, &batch);
  help = g_option_context_get_help (ctx, TRUE, NULL);
  fputs (help, stdout);
  g_free (help);
  g_option_context_free (ctx);
}

int
cli_eval_run (int argc, char **argv)
{
  gboolean json = FALSE;
  gint64 batch = 32;
  GOptionContext *ctx;
  GError *error = NULL;
  MmdnnModel *m = NULL;
  MmdnnDataset *ds = NULL;
  MmdnnBatch *b = NULL;
  MmdnnEvalResult res[MMDNN_N_ABLATIONS];
  const char *model, *dir;
  int64_t n = 0;
  int status = CLI_FAILED;

  memset (res, 0, sizeof res);
  g_set_prgname ("mmdnn eval");
  ctx = eval_context (&json, &batch);
  if (!cli_parse (ctx, "eval", &argc, &argv)) {
    g_option_context_free (ctx);
    return CLI_USAGE;
  }
  g_option_context_free (ctx);
  if (argc != 3 || batch < 1 || batch > MAX_BATCH) {
    if (argc < 3)
      cli_errorf ("eval: give MODEL and DATASET");
    else if (argc > 3)
      cli_errorf ("eval: unexpected argument '%s'", argv[3]);
    else
      cli_errorf ("eval: --batch %" G_GINT64_FORMAT " must be in [1, %d]",
                  batch, MAX_BATCH);
    fprintf (stderr, "Try 'mmdnn eval --help'.\n");
    return CLI_USAGE;
  }
  model = argv[1];
  dir = argv[2];

  m = mmdnn_model_load (model, batch, &error);
  if (m == NULL) {
    cli_error (model, error);
    goto done;
  }
  ds = mmdnn_dataset_open (dir, m->config, &error);
  if (ds == NULL) {
    cli_error (dir, error);
    goto done;
  }
  b = mmdnn_batch_new (m->config, batch, &error);
  if (b == NULL) {
    cli_error (NULL, error);
    goto done;
  }
  /* clip by clip into batches: memory stays one batch, whatever the size */
  n = (int64_t) ds->clips->len;
  for (int64_t o = 0; o < n; o += batch) {
    int64_t k = MIN (batch, n - o);
    for (int64_t i = 0; i < k; i++)
      if (!mmdnn_dataset_load (ds, o + i, m->config, b, i, &error)) {
        cli_error (dir, error);
        goto done;
      }
    b->n = k;
    if (!mmdnn_model_evaluate (m, b, res, &error)) {
      cli_error (dir, error);
      goto done;
    }
    b->n = batch;
  }
  if (json)
    print_json (m->config, res, n);
  else
    print_text (model, dir, m->config, res, n);
  status = CLI_OK;

done:
  for (int a = 0; a < MMDNN_N_ABLATIONS; a++)
    mmdnn_eval_result_clear (&res[a]);
  g_clear_error (&error);
  mmdnn_batch_free (b);
  mmdnn_dataset_free (ds);
  mmdnn_model_free (m);
  if (fflush (stdout) != 0 && status == CLI_OK) {
    cli_errorf ("cannot write to stdout: %s", g_strerror (errno));
    status = CLI_FAILED;
  }
  return status;
}
