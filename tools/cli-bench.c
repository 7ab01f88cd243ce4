/* mmdnn — `mmdnn bench`: how fast a model trains and answers on this machine.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   bench [--config FILE.json] [--batch N] [--threads T] [--seconds S] [--json]
 *
 * Training: mmdnn_model_train_step () (virtual data, the full joint
 * objective, backward, clipping, the optimiser) on synthetic batches of the
 * config's sizes, every modality present, random labels. Inference:
 * mmdnn_model_forward (train = FALSE) on one sample, the latency an element
 * sees per buffer. Both are medians over at least S seconds each, after a
 * warm-up, so one slow step (page faults, another process) does not skew
 * them. tests/bench/bench-model.c measures the same way. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include <mmdnn/blas.h>
#include <mmdnn/model.h>
#include <mmdnn/rng.h>

#include "cli.h"

#define MAX_BATCH    4096
#define MAX_THREADS  1024
#define MAX_SECONDS  3600.0
#define MAX_CONFIG   (16 << 20)     /* bytes: a config is a few KiB */
#define WARMUP_TRAIN 2
#define WARMUP_INFER 3
#define MIN_TRAIN    3
#define MIN_INFER    10

typedef struct {
  double  median_s, best_s;
  int64_t runs;
  double  gemm_share;               /* of the timed wall time */
} Timing;

/* Synthetic inputs in the range the preprocessing produces (video/audio
 * about [−2, 2]), text of 1..L words with 1..M ids each (the rest −1
 * padding, as the tokenizer pads), random labels for every task. */
static void
fill_batch (MmdnnBatch *b, const MmdnnModelConfig *c, MmdnnRng *rng)
{
  int64_t n = b->n;

  if (b->video)
    mmdnn_rng_fill_uniform (rng, b->video, n * c->video.channels
                            * c->video.height * c->video.width, -2, 2);
  if (b->audio)
    mmdnn_rng_fill_uniform (rng, b->audio, n * c->audio.channels
                            * c->audio.height * c->audio.width, -2, 2);
  for (int64_t i = 0; i < n; i++) {
    if (b->text_ids) {
      int64_t l = c->text.max_tokens, mm = c->text.ids_per_token;
      int64_t words = 1 + (int64_t) mmdnn_rng_below (rng, (uint64_t) l);
      for (int64_t t = 0; t < l; t++) {
        int64_t ids = 1 + (int64_t) mmdnn_rng_below (rng, (uint64_t) mm);
        for (int64_t k = 0; k < mm; k++)
          b->text_ids[(i * l + t) * mm + k] = t < words && k < ids
              ? (int32_t) mmdnn_rng_below (rng, (uint64_t) c->text.buckets)
              : -1;
      }
    }
    for (int t = 0; t < c->n_tasks; t++)
      b->labels[i * c->n_tasks + t] =
          (int32_t) mmdnn_rng_below (rng, (uint64_t) c->tasks[t].n_classes);
  }
  /* mmdnn_batch_new set presence 1 for every modality the model has */
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static gboolean
one_step (MmdnnModel *m, const MmdnnBatch *b, gboolean train, GError **error)
{
  MmdnnOutputs out;

  if (train)
    return mmdnn_model_train_step (m, b, NULL, error);
  return mmdnn_model_forward (m, b, FALSE, &out, NULL, error);
}

static gboolean
time_steps (MmdnnModel *m, const MmdnnBatch *b, gboolean train,
            double seconds, Timing *t, GError **error)
{
  GArray *ts = g_array_new (FALSE, FALSE, sizeof (double));
  int warmup = train ? WARMUP_TRAIN : WARMUP_INFER;
  int64_t min_runs = train ? MIN_TRAIN : MIN_INFER;
  gint64 start;
  double total;
  gboolean ok = TRUE;

  for (int i = 0; ok && i < warmup; i++)
    ok = one_step (m, b, train, error);
  mmdnn_gemm_profile_reset ();
  mmdnn_gemm_profile_enable (TRUE);
  start = g_get_monotonic_time ();
  while (ok && ((int64_t) ts->len < min_runs
                || (g_get_monotonic_time () - start) / 1e6 < seconds)) {
    gint64 t0 = g_get_monotonic_time ();
    double dt;

    ok = one_step (m, b, train, error);
    dt = (g_get_monotonic_time () - t0) / 1e6;
    g_array_append_val (ts, dt);
  }
  total = (g_get_monotonic_time () - start) / 1e6;
  mmdnn_gemm_profile_enable (FALSE);
  if (ok) {
    g_array_sort (ts, cmp_double);
    t->runs = ts->len;
    t->median_s = g_array_index (ts, double, ts->len / 2);
    t->best_s = g_array_index (ts, double, 0);
    t->gemm_share = total > 0 ? mmdnn_gemm_profile_seconds () / total : 0;
  }
  g_array_free (ts, TRUE);
  return ok;
}

/* The whole file, or NULL with "cannot read: <why>" in @why. */
static char *
read_config_file (const char *path, char **why)
{
  FILE *f = fopen (path, "rb");
  GString *s;
  char buf[8192];
  size_t got;

  if (f == NULL) {
    *why = g_strdup_printf ("cannot open: %s", g_strerror (errno));
    return NULL;
  }
  s = g_string_new (NULL);
  while ((got = fread (buf, 1, sizeof buf, f)) > 0) {
    g_string_append_len (s, buf, (gssize) got);
    if (s->len > MAX_CONFIG) {
      *why = g_strdup_printf ("larger than %d MiB: not a model config",
                              MAX_CONFIG >> 20);
      fclose (f);
      g_string_free (s, TRUE);
      return NULL;
    }
  }
  if (ferror (f)) {
    *why = g_strdup_printf ("cannot read: %s", g_strerror (errno));
    fclose (f);
    g_string_free (s, TRUE);
    return NULL;
  }
  fclose (f);
  return g_string_free (s, FALSE);
}

static int64_t
count_params (const MmdnnModel *m)
{
  int64_t n = 0;

  /* numel, not the slab: the slab pads every tensor for alignment */
  for (guint i = 0; i < m->params->params->len; i++)
    n += ((const MmdnnParam *) g_ptr_array_index (m->params->params, i))->numel;
  return n;
}

/* Rounded to @digits significant digits: the JSON shows 123.4, not a
 * timer's noise in the 15th digit. */
static double
round_sig (double x, int digits)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  char fmt[8];

  g_snprintf (fmt, sizeof fmt, "%%.%dg", digits);
  return g_ascii_strtod (g_ascii_formatd (buf, sizeof buf, fmt, x), NULL);
}

typedef struct {
  const char *config_path;          /* NULL: the default model */
  const char *model_id;
  int64_t     batch, params;
  int         threads;
  double      seconds;
  const char *core;
  Timing      train, infer;
} Result;

static void
print_json (const Result *r)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "train_samples_per_s");
  json_builder_add_double_value (b, round_sig (r->batch / r->train.median_s,
                                               6));
  json_builder_set_member_name (b, "infer_ms");
  json_builder_add_double_value (b, round_sig (r->infer.median_s * 1e3, 6));
  json_builder_set_member_name (b, "batch");
  json_builder_add_int_value (b, r->batch);
  json_builder_set_member_name (b, "threads");
  json_builder_add_int_value (b, r->threads);
  json_builder_set_member_name (b, "params");
  json_builder_add_int_value (b, r->params);
  json_builder_set_member_name (b, "blas_core");
  json_builder_add_string_value (b, r->core);
  json_builder_set_member_name (b, "model_id");
  json_builder_add_string_value (b, r->model_id);
  json_builder_set_member_name (b, "config");
  if (r->config_path)
    json_builder_add_string_value (b, r->config_path);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "seconds");
  json_builder_add_double_value (b, r->seconds);
  json_builder_set_member_name (b, "train_steps");
  json_builder_add_int_value (b, r->train.runs);
  json_builder_set_member_name (b, "train_step_ms");
  json_builder_add_double_value (b, round_sig (r->train.median_s * 1e3, 6));
  json_builder_set_member_name (b, "train_gemm_share");
  json_builder_add_double_value (b, round_sig (r->train.gemm_share, 3));
  json_builder_set_member_name (b, "infer_runs");
  json_builder_add_int_value (b, r->infer.runs);
  json_builder_set_member_name (b, "infer_best_ms");
  json_builder_add_double_value (b, round_sig (r->infer.best_s * 1e3, 6));
  json_builder_end_object (b);

  cli_print_json (b);
  g_object_unref (b);
}

static void
print_text (const Result *r)
{
  printf ("%-12s %s (%s)\n", "Model", r->model_id,
          r->config_path ? r->config_path : "the default config");
  printf ("%-12s %" G_GINT64_FORMAT "\n", "Parameters", r->params);
  printf ("%-12s OpenBLAS %s, %d thread%s\n", "BLAS", r->core, r->threads,
          r->threads == 1 ? "" : "s");
  printf ("%-12s %" G_GINT64_FORMAT " for training, 1 for inference\n",
          "Batch", r->batch);
  printf ("\n%-10s %10s  %-9s  %6s  %10s  %10s  %4s\n", "", "value", "unit",
          "runs", "median ms", "best ms", "GEMM");
  printf ("%-10s %10.1f  %-9s  %6" G_GINT64_FORMAT "  %10.3f  %10.3f  %3.0f%%\n",
          "training", r->batch / r->train.median_s, "samples/s",
          r->train.runs, r->train.median_s * 1e3, r->train.best_s * 1e3,
          100 * r->train.gemm_share);
  printf ("%-10s %10.3f  %-9s  %6" G_GINT64_FORMAT "  %10.3f  %10.3f  %3.0f%%\n",
          "inference", r->infer.median_s * 1e3, "ms", r->infer.runs,
          r->infer.median_s * 1e3, r->infer.best_s * 1e3,
          100 * r->infer.gemm_share);
}

static GOptionContext *
bench_context (char **config, gint64 *batch, gint64 *threads,
               double *seconds, gboolean *json)
{
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, config,
      "Model config (JSON, docs/model-config.md; default: the default "
      "model)", "FILE.json" },
    { "batch", 'b', 0, G_OPTION_ARG_INT64, batch,
      "Training batch size (default 32)", "N" },
    { "threads", 't', 0, G_OPTION_ARG_INT64, threads,
      "OpenBLAS threads (default 0: OpenBLAS's own choice)", "T" },
    { "seconds", 's', 0, G_OPTION_ARG_DOUBLE, seconds,
      "Time each measurement for at least S seconds (default 3)", "S" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, json,
      "Print one JSON object instead of a table", NULL },
    { NULL }
  };
  GOptionContext *ctx = g_option_context_new ("- measure training "
                                              "throughput and inference "
                                              "latency");

  g_option_context_set_description (ctx,
      "Builds a freshly initialised model from the config and measures\n"
      "  training   mmdnn_model_train_step () on synthetic batches of N\n"
      "             samples of the config's sizes, every modality present,\n"
      "             random labels: virtual data, the whole joint objective,\n"
      "             backward, clipping and the optimiser step: samples/s;\n"
      "  inference  a forward pass (train FALSE) of one sample: ms.\n"
      "Both are medians over at least S seconds after a short warm-up, so\n"
      "a run takes about 2 S plus the model's set-up.\n"
      "\n"
      "--json prints one object: train_samples_per_s, infer_ms, batch,\n"
      "threads, params, blas_core, and model_id, config (the file or null),\n"
      "seconds, train_steps, train_step_ms, train_gemm_share, infer_runs,\n"
      "infer_best_ms.\n"
      "\n"
      "Exit status: 0 ok, 1 a bad config file or a failed step, 2 bad\n"
      "arguments.\n"
      "\nExample:\n  mmdnn bench --threads 1 --seconds 2\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  return ctx;
}

void
cli_bench_help (void)
{
  char *config = NULL;
  gint64 batch = 0, threads = 0;
  double seconds = 0;
  gboolean json = FALSE;
  GOptionContext *ctx;
  char *help;

  g_set_prgname ("mmdnn bench");
  ctx = bench_context (&config, &batch, &threads, &seconds, &json);
  help = g_option_context_get_help (ctx, TRUE, NULL);
  fputs (help, stdout);
  g_free (help);
  g_option_context_free (ctx);
}

int
cli_bench_run (int argc, char **argv)
{
  char *config_path = NULL, *text = NULL, *why = NULL;
  gint64 batch = 32, threads = 0;
  double seconds = 3.0;
  gboolean json = FALSE;
  GOptionContext *ctx;
  MmdnnModelConfig *c = NULL;
  MmdnnModel *m = NULL;
  MmdnnBatch *bt = NULL, *b1 = NULL;
  MmdnnRng rng;
  GError *error = NULL;
  Result r;
  int status = CLI_FAILED;

  memset (&r, 0, sizeof r);
  g_set_prgname ("mmdnn bench");
  ctx = bench_context (&config_path, &batch, &threads, &seconds, &json);
  if (!cli_parse (ctx, "bench", &argc, &argv)) {
    g_option_context_free (ctx);
    g_free (config_path);
    return CLI_USAGE;
  }
  g_option_context_free (ctx);
  if (argc != 1 || batch < 1 || batch > MAX_BATCH || threads < 0
      || threads > MAX_THREADS || !isfinite (seconds) || seconds <= 0
      || seconds > MAX_SECONDS) {
    if (argc != 1)
      cli_errorf ("bench: unexpected argument '%s'", argv[1]);
    else if (batch < 1 || batch > MAX_BATCH)
      cli_errorf ("bench: --batch %" G_GINT64_FORMAT " must be in [1, %d]",
                  batch, MAX_BATCH);
    else if (threads < 0 || threads > MAX_THREADS)
      cli_errorf ("bench: --threads %" G_GINT64_FORMAT " must be in [0, %d]",
                  threads, MAX_THREADS);
    else
      cli_errorf ("bench: --seconds %g must be in (0, %g]", seconds,
                  MAX_SECONDS);
    fprintf (stderr, "Try 'mmdnn bench --help'.\n");
    g_free (config_path);
    return CLI_USAGE;
  }

  if (config_path) {
    text = read_config_file (config_path, &why);
    if (text == NULL) {
      cli_errorf ("%s: %s", config_path, why);
      goto done;
    }
    c = mmdnn_model_config_from_json (text, -1, &error);
    if (c == NULL) {
      cli_error (config_path, error);
      goto done;
    }
  } else {
    c = mmdnn_model_config_new_default ();
  }

  if (threads > 0)
    mmdnn_blas_set_threads ((int) threads);
  m = mmdnn_model_new (c, 1, batch, &error);
  if (m == NULL)
    goto fail;
  bt = mmdnn_batch_new (c, batch, &error);
  if (bt == NULL)
    goto fail;
  b1 = mmdnn_batch_new (c, 1, &error);
  if (b1 == NULL)
    goto fail;
  mmdnn_rng_init (&rng, 1);
  fill_batch (bt, c, &rng);
  fill_batch (b1, c, &rng);

  if (!time_steps (m, bt, TRUE, seconds, &r.train, &error)
      || !time_steps (m, b1, FALSE, seconds, &r.infer, &error))
    goto fail;

  r.config_path = config_path;
  r.model_id = c->model_id;
  r.batch = batch;
  r.params = count_params (m);
  r.threads = mmdnn_blas_get_threads ();
  r.seconds = seconds;
  r.core = mmdnn_blas_core_name ();
  if (json)
    print_json (&r);
  else
    print_text (&r);
  status = CLI_OK;
  goto done;

fail:
  cli_errorf ("bench: %s", error->message);
done:
  g_clear_error (&error);
  mmdnn_batch_free (bt);
  mmdnn_batch_free (b1);
  mmdnn_model_free (m);
  mmdnn_model_config_free (c);
  g_free (text);
  g_free (why);
  g_free (config_path);
  if (fflush (stdout) != 0 && status == CLI_OK) {
    cli_errorf ("cannot write to stdout: %s", g_strerror (errno));
    status = CLI_FAILED;
  }
  return status;
}
