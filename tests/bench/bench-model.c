/* mmdnn — whole-model benchmark: training samples/s at batch 32 and batch-1
 * inference latency of the default model (mmdnn_model_config_new_default),
 * the C side of tests/bench/bench-model.sh (the PyTorch peer is
 * tests/bench/torch_mmdnn.py).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run by hand, never by `make check`:
 *   bench-model [--threads N] [--min-time S] [--cpu-time]
 *               [--what train,infer,split]
 *   bench-model --params        one line per parameter: name shape decay
 *
 * A training step is mmdnn_model_train_step (): virtual data on the model's
 * copy of the batch, the full joint objective, backward, clipping, AdamW.
 * Inference is mmdnn_model_forward (train = FALSE) on one sample. "split"
 * times forward / backward / update separately, each with the share of its
 * wall time inside mmdnn_gemm. Every line starts with "ours" and is parsed
 * by bench-model.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mmdnn/blas.h>
#include <mmdnn/model.h>
#include <mmdnn/rng.h>

#define TRAIN_BATCH 32

static double min_time = 3.0;

static void
die (const char *what, GError *err)
{
  fprintf (stderr, "bench-model: %s: %s\n", what, err ? err->message : "");
  exit (1);
}

/* The text of sample i has words_of (i) real words (4…32) with
 * ids_per_word (i, t) ids each: the same formulas as torch_mmdnn.py, so both
 * sides see the same padding. */
static int64_t
words_of (int64_t i)
{
  return 4 + (i * 7 + 12) % 29;
}

static int64_t
ids_per_word (int64_t i, int64_t t)
{
  return 3 + (i + t) % 14;
}

static MmdnnBatch *
make_batch (const MmdnnModelConfig *c, int64_t n, MmdnnRng *rng)
{
  GError *err = NULL;
  MmdnnBatch *b = mmdnn_batch_new (c, n, &err);
  int64_t l = c->text.max_tokens, mm = c->text.ids_per_token;

  if (b == NULL)
    die ("mmdnn_batch_new", err);
  mmdnn_rng_fill_uniform (rng, b->video,
                          n * c->video.channels * c->video.height * c->video.width,
                          -2, 2);
  mmdnn_rng_fill_uniform (rng, b->audio,
                          n * c->audio.channels * c->audio.height * c->audio.width,
                          -2, 2);
  for (int64_t i = 0; i < n; i++) {
    int64_t words = MIN (words_of (i), l);
    for (int64_t t = 0; t < l; t++)
      for (int64_t k = 0; k < mm; k++) {
        int32_t id = -1;
        if (t < words && k < MIN (ids_per_word (i, t), mm))
          id = (int32_t) mmdnn_rng_below (rng, (uint64_t) c->text.buckets);
        b->text_ids[(i * l + t) * mm + k] = id;
      }
    for (int t = 0; t < c->n_tasks; t++)
      b->labels[i * c->n_tasks + t] =
          (int32_t) mmdnn_rng_below (rng, (uint64_t) c->tasks[t].n_classes);
  }
  return b;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

typedef enum { STEP_TRAIN, STEP_INFER, STEP_FORWARD, STEP_BACKWARD, STEP_UPDATE } StepKind;

static void
run_step (MmdnnModel *m, const MmdnnBatch *b, StepKind kind)
{
  GError *err = NULL;
  MmdnnOutputs out;
  MmdnnLosses losses;

  switch (kind) {
    case STEP_TRAIN:
      if (!mmdnn_model_train_step (m, b, &losses, &err))
        die ("mmdnn_model_train_step", err);
      break;
    case STEP_INFER:
      if (!mmdnn_model_forward (m, b, FALSE, &out, NULL, &err))
        die ("mmdnn_model_forward", err);
      break;
    case STEP_FORWARD:
      if (!mmdnn_model_forward (m, b, TRUE, &out, &losses, &err))
        die ("mmdnn_model_forward (train)", err);
      break;
    case STEP_BACKWARD:
      mmdnn_model_backward (m);
      break;
    case STEP_UPDATE:
      if (!mmdnn_model_update (m, &err))
        die ("mmdnn_model_update", err);
      break;
  }
}

/* --cpu-time: each step is timed by the process's CPU clock instead of the
 * wall clock. On a machine time-sliced among other jobs the wall time of a
 * 1-thread step counts the others' turns too; its CPU time does not (cache
 * contention still shows). With n threads it is the CPU cost of a step,
 * spinning workers included, not its latency. */
static gboolean cpu_time = FALSE;

static double
step_clock (void)
{
  struct timespec ts;

  if (!cpu_time)
    return g_get_monotonic_time () / 1e6;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Repeats steps for min_time (and ≥ min_iters); median and best seconds per
 * step, and the share of the wall time inside mmdnn_gemm. */
static void
time_steps (MmdnnModel *m, const MmdnnBatch *b, StepKind kind, int min_iters,
            double *median, double *best, double *gemm_share)
{
  GArray *ts = g_array_new (FALSE, FALSE, sizeof (double));
  gint64 start;
  double total;

  mmdnn_gemm_profile_reset ();
  mmdnn_gemm_profile_enable (TRUE);
  start = g_get_monotonic_time ();
  do {
    double c0 = step_clock (), dt;
    run_step (m, b, kind);
    dt = step_clock () - c0;
    g_array_append_val (ts, dt);
  } while ((int) ts->len < min_iters ||
           (g_get_monotonic_time () - start) / 1e6 < min_time);
  total = (g_get_monotonic_time () - start) / 1e6;
  mmdnn_gemm_profile_enable (FALSE);
  *gemm_share = mmdnn_gemm_profile_seconds () / total;
  g_array_sort (ts, cmp_double);
  *median = g_array_index (ts, double, ts->len / 2);
  *best = g_array_index (ts, double, 0);
  g_array_free (ts, TRUE);
}

/* forward (train), backward and update timed separately, step by step. */
static void
time_split (MmdnnModel *m, const MmdnnBatch *b, int threads)
{
  const StepKind kinds[3] = { STEP_FORWARD, STEP_BACKWARD, STEP_UPDATE };
  double sum[3] = { 0 }, gemm[3] = { 0 };
  int reps = 0;
  gint64 start = g_get_monotonic_time ();

  do {
    for (int k = 0; k < 3; k++) {
      double c0;
      mmdnn_gemm_profile_reset ();
      mmdnn_gemm_profile_enable (TRUE);
      c0 = step_clock ();
      run_step (m, b, kinds[k]);
      sum[k] += step_clock () - c0;
      mmdnn_gemm_profile_enable (FALSE);
      gemm[k] += mmdnn_gemm_profile_seconds ();
    }
    reps++;
  } while (reps < 5 || (g_get_monotonic_time () - start) / 1e6 < min_time);
  printf ("ours split threads=%d forward %.1f ms (gemm %.0f%%) backward %.1f ms "
          "(gemm %.0f%%) update %.1f ms (gemm %.0f%%)\n", threads,
          sum[0] / reps * 1e3, 100 * gemm[0] / sum[0],
          sum[1] / reps * 1e3, 100 * gemm[1] / sum[1],
          sum[2] / reps * 1e3, 100 * gemm[2] / MAX (sum[2], 1e-12));
}

int
main (int argc, char **argv)
{
  GError *err = NULL;
  MmdnnModelConfig *c;
  MmdnnModel *m;
  MmdnnBatch *b32, *b1;
  MmdnnRng rng;
  int thread_list[2] = { 1, 2 }, n_threads = 2;
  const char *what = "train,infer,split";
  gboolean params = FALSE;
  int64_t n_params = 0;

  for (int i = 1; i < argc; i++) {
    if (strcmp (argv[i], "--threads") == 0 && i + 1 < argc) {
      thread_list[0] = atoi (argv[++i]);
      n_threads = 1;
    } else if (strcmp (argv[i], "--cpu-time") == 0)
      cpu_time = TRUE;
    else if (strcmp (argv[i], "--min-time") == 0 && i + 1 < argc)
      min_time = g_ascii_strtod (argv[++i], NULL);
    else if (strcmp (argv[i], "--what") == 0 && i + 1 < argc)
      what = argv[++i];
    else if (strcmp (argv[i], "--params") == 0)
      params = TRUE;
    else {
      fprintf (stderr, "usage: bench-model [--threads N] [--min-time S] "
               "[--cpu-time] [--what train,infer,split] [--params]\n");
      return 2;
    }
  }

  c = mmdnn_model_config_new_default ();
  if ((m = mmdnn_model_new (c, 1, TRAIN_BATCH, &err)) == NULL)
    die ("mmdnn_model_new", err);
  if (params) {
    for (guint i = 0; i < m->params->params->len; i++) {
      const MmdnnParam *p = g_ptr_array_index (m->params->params, i);
      printf ("%s ", p->name);
      for (int d = 0; d < p->ndim; d++)
        printf ("%s%" G_GINT64_FORMAT, d ? "x" : "", p->shape[d]);
      printf (" %d\n", p->decay ? 1 : 0);
    }
    mmdnn_model_free (m);
    mmdnn_model_config_free (c);
    return 0;
  }

  mmdnn_rng_init (&rng, 2);
  b32 = make_batch (c, TRAIN_BATCH, &rng);
  b1 = make_batch (c, 1, &rng);
  /* the slab (m->params->numel) pads each tensor for alignment */
  for (guint i = 0; i < m->params->params->len; i++)
    n_params += ((const MmdnnParam *) g_ptr_array_index (m->params->params, i))->numel;
  printf ("ours info openblas_core=%s OPENBLAS_CORETYPE=%s params=%" G_GINT64_FORMAT "\n",
          mmdnn_blas_core_name (),
          g_getenv ("OPENBLAS_CORETYPE") ? g_getenv ("OPENBLAS_CORETYPE") : "(unset)",
          n_params);

  for (int ti = 0; ti < n_threads; ti++) {
    int threads = thread_list[ti];
    double med, best, share;

    mmdnn_blas_set_threads (threads);
    if (strstr (what, "train")) {
      for (int i = 0; i < 3; i++)
        run_step (m, b32, STEP_TRAIN);
      time_steps (m, b32, STEP_TRAIN, 5, &med, &best, &share);
      printf ("ours train threads=%d %.2f samples/s (median step %.1f ms, best "
              "%.1f ms, gemm %.0f%%)\n", threads, TRAIN_BATCH / med, med * 1e3,
              best * 1e3, share * 100);
    }
    if (strstr (what, "infer")) {
      for (int i = 0; i < 5; i++)
        run_step (m, b1, STEP_INFER);
      time_steps (m, b1, STEP_INFER, 20, &med, &best, &share);
      printf ("ours infer threads=%d %.3f ms (best %.3f ms, gemm %.0f%%)\n",
              threads, med * 1e3, best * 1e3, share * 100);
    }
    if (strstr (what, "split"))
      time_split (m, b32, threads);
    fflush (stdout);
  }

  mmdnn_batch_free (b32);
  mmdnn_batch_free (b1);
  mmdnn_model_free (m);
  mmdnn_model_config_free (c);
  return 0;
}
