/* mmdnn — `mmdnn train DATASET --out MODEL`: train a model on a data set.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The data set is decoded once (mmdnn_dataset_load_all: the elements'
 * preprocessing) and kept in memory; an epoch is a permutation of the
 * training clips in mini-batches of --batch (the last one partial), each a
 * forward with the full joint objective, backward and optimiser update.
 * After every epoch the validation split is evaluated (full input and the
 * six ablations) and a checkpoint is written atomically; at the end the
 * model file.
 *
 * Exactness of --resume: everything random is a function of --seed alone
 * — the initial weights, the validation split, and each epoch's
 * permutation (derived from (seed, epoch), not from a running generator),
 * while the model's own RNG (virtual data, dropout) and the optimiser
 * state travel in the checkpoint. So a run resumed from the checkpoint of
 * epoch k with the same DATASET, --seed, --batch and --val-fraction writes
 * byte for byte the model an uninterrupted run writes. The model's step
 * counts batches, skipped (non-finite) updates included, so the epoch is
 * step / batches-per-epoch.
 *
 * Data-parallel (`mpirun -np N`, dist.h): every process decodes the data
 * set and walks the same permutation; each global batch is cut into one
 * contiguous slice per process, and train_step sums what must be summed
 * so that every process makes the update one process would make on the
 * whole batch. Validation is split the same way and its counts summed.
 * Rank 0 alone prints and writes files. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include <mmdnn/dataset.h>
#include <mmdnn/model.h>
#include <mmdnn/rng.h>

#include "cli.h"
#include "dist.h"
#if HAVE_CAIRO
#include "plot.h"
#endif

#define MAX_BATCH   4096
#define MAX_EPOCHS  100000
#define MAX_CONFIG  (16 << 20)

typedef struct {
  char    *out, *config, *resume, *plots, *tasks, *checkpoint, *trace;
  gint64   epochs, batch, seed, log_every;
  double   val_fraction;
} Options;

/* ---- small helpers ------------------------------------------------------ */

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* The whole file, or NULL with @error naming it. */
static char *
read_small_file (const char *path, GError **error)
{
  char *text = NULL;
  gsize len = 0;
  GStatBuf sb;

  if (g_stat (path, &sb) == 0 && sb.st_size > MAX_CONFIG) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_IO, "%s: larger than %d MiB:"
                 " not a model config", path, MAX_CONFIG >> 20);
    return NULL;
  }
  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  return text;
}

/* Is optim.total_steps written in the config file? Then it is kept;
 * otherwise the schedule is made to span the run. */
static gboolean
config_sets_total_steps (const char *json)
{
  JsonParser *p = json_parser_new ();
  gboolean set = FALSE;

  if (json_parser_load_from_data (p, json, -1, NULL)) {
    JsonNode *root = json_parser_get_root (p);
    if (root && JSON_NODE_HOLDS_OBJECT (root)) {
      JsonObject *o = json_node_get_object (root);
      if (json_object_has_member (o, "optim")
          && JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "optim")))
        set = json_object_has_member (json_object_get_object_member (o,
                                                      "optim"), "total_steps");
    }
  }
  g_object_unref (p);
  return set;
}

/* Can a file be created next to @path (its folder exists and is
 * writable)? Checked before hours of training, not after. */
static gboolean
check_writable (const char *path, GError **error)
{
  char *dir = g_path_get_dirname (path);
  gboolean ok = TRUE;

  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_IO, "%s: is a directory",
                 path);
    ok = FALSE;
  } else if (!g_file_test (dir, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_IO, "%s: cannot write: "
                 "folder %s does not exist", path, dir);
    ok = FALSE;
  } else if (g_access (dir, W_OK) != 0) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_IO, "%s: cannot write: "
                 "folder %s: %s", path, dir, g_strerror (errno));
    ok = FALSE;
  }
  g_free (dir);
  return ok;
}

/* ---- --tasks: columns of labels.csv -------------------------------------- */

/* One CSV record from *p (RFC 4180 quoting, LF/CRLF/CR line ends); NULL at
 * the end. Forgiving: mmdnn_dataset_open () validates the file properly,
 * this only collects the names a column holds. */
static GPtrArray *
csv_record (const char **p, const char *end)
{
  GPtrArray *fields;
  GString *f;
  const char *s = *p;

  if (s >= end)
    return NULL;
  fields = g_ptr_array_new_with_free_func (g_free);
  f = g_string_new (NULL);
  for (;;) {
    while (s < end && (*s == ' ' || *s == '\t'))
      s++;
    if (s < end && *s == '"') {
      s++;
      while (s < end) {
        if (*s == '"' && s + 1 < end && s[1] == '"') {
          g_string_append_c (f, '"');
          s += 2;
        } else if (*s == '"') {
          s++;
          break;
        } else {
          g_string_append_c (f, *s++);
        }
      }
      while (s < end && *s != ',' && *s != '\n' && *s != '\r')
        s++;
    } else {
      while (s < end && *s != ',' && *s != '\n' && *s != '\r')
        g_string_append_c (f, *s++);
      while (f->len > 0 && (f->str[f->len - 1] == ' '
                            || f->str[f->len - 1] == '\t'))
        g_string_truncate (f, f->len - 1);
    }
    g_ptr_array_add (fields, g_strdup (f->str));
    g_string_truncate (f, 0);
    if (s < end && *s == ',') {
      s++;
      continue;
    }
    if (s < end && *s == '\r')
      s++;
    if (s < end && *s == '\n')
      s++;
    break;
  }
  g_string_free (f, TRUE);
  *p = s;
  return fields;
}

static gboolean
record_blank (GPtrArray *r)
{
  return r->len == 1 && ((char *) r->pdata[0])[0] == '\0';
}

static int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Replaces @c's tasks by the columns named in @list ("a,b"): a task the
 * config has keeps its classes and weight; another takes the distinct
 * non-empty values of its column in labels.csv, sorted bytewise (so the
 * class indices do not depend on row order), weight 1. */
static gboolean
apply_tasks (MmdnnModelConfig *c, const char *dir, const char *list,
             GError **error)
{
  char **names = g_strsplit (list, ",", -1);
  char *csv_path = g_build_filename (dir, "labels.csv", NULL);
  MmdnnModelConfig *old = mmdnn_model_config_copy (c);
  char *text = NULL;
  gsize len = 0;
  int n = (int) g_strv_length (names);
  gboolean ok = FALSE;
  GPtrArray *header = NULL;
  GHashTable *sets[MMDNN_MAX_TASKS] = { NULL };
  int col[MMDNN_MAX_TASKS];

  for (int i = 0; i < n; i++) {
    g_strstrip (names[i]);
    if (names[i][0] == '\0' || n > MMDNN_MAX_TASKS) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                   "--tasks '%s': give 1 to %d comma-separated column names",
                   list, MMDNN_MAX_TASKS);
      goto done;
    }
    for (int j = 0; j < i; j++)
      if (strcmp (names[i], names[j]) == 0) {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                     "--tasks '%s': '%s' given twice", list, names[i]);
        goto done;
      }
  }
  if (!g_file_get_contents (csv_path, &text, &len, NULL)) {
    ok = TRUE;       /* mmdnn_dataset_open () reports a missing file */
    goto done;
  }
  {
    const char *p = text, *end = text + len;

    if (len >= 3 && memcmp (p, "\xef\xbb\xbf", 3) == 0)
      p += 3;
    while ((header = csv_record (&p, end)) != NULL && record_blank (header))
      g_ptr_array_unref (header);
    for (int i = 0; i < n; i++) {
      col[i] = -1;
      for (guint k = 0; header && k < header->len; k++)
        if (strcmp (header->pdata[k], names[i]) == 0)
          col[i] = (int) k;
      if (col[i] < 0) {
        GString *cols = g_string_new (NULL);
        for (guint k = 3; header && k < header->len; k++)
          g_string_append_printf (cols, "%s%s", cols->len ? ", " : "",
                                  (char *) header->pdata[k]);
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                     "%s:1: --tasks: no column '%s' (task columns: %s)",
                     csv_path, names[i], cols->len ? cols->str : "none");
        g_string_free (cols, TRUE);
        goto done;
      }
      sets[i] = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    }
    for (;;) {
      GPtrArray *r = csv_record (&p, end);
      if (r == NULL)
        break;
      for (int i = 0; i < n; i++)
        if ((guint) col[i] < r->len && ((char *) r->pdata[col[i]])[0])
          g_hash_table_add (sets[i], g_strdup (r->pdata[col[i]]));
      g_ptr_array_unref (r);
    }
  }
  for (int i = 0; i < n; i++) {
    int t_old = -1;

    for (int t = 0; t < old->n_tasks; t++)
      if (strcmp (old->tasks[t].name, names[i]) == 0)
        t_old = t;
    if (t_old >= 0) {
      ok = mmdnn_model_config_set_task (c, i, names[i],
               (const char *const *) old->tasks[t_old].classes,
               old->tasks[t_old].weight, error);
    } else {
      GPtrArray *cls = g_ptr_array_new ();
      GHashTableIter it;
      gpointer key;

      g_hash_table_iter_init (&it, sets[i]);
      while (g_hash_table_iter_next (&it, &key, NULL))
        g_ptr_array_add (cls, key);
      g_ptr_array_sort (cls, cmp_str);
      g_ptr_array_add (cls, NULL);
      if (cls->len < 3) {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                     "%s: --tasks: column '%s' holds %u distinct label%s; a "
                     "task needs at least 2", csv_path, names[i], cls->len - 1,
                     cls->len == 2 ? "" : "s");
        ok = FALSE;
      } else {
        ok = mmdnn_model_config_set_task (c, i, names[i],
                                          (const char *const *) cls->pdata,
                                          1.0f, error);
      }
      g_ptr_array_free (cls, TRUE);
    }
    if (!ok) {
      g_prefix_error (error, "--tasks: ");
      goto done;
    }
  }
  /* drop the config's tasks beyond the new ones */
  for (int t = n; t < c->n_tasks; t++) {
    g_free (c->tasks[t].name);
    g_strfreev (c->tasks[t].classes);
    memset (&c->tasks[t], 0, sizeof c->tasks[t]);
  }
  c->n_tasks = n;
  ok = TRUE;

done:
  for (int i = 0; i < MMDNN_MAX_TASKS; i++)
    if (sets[i])
      g_hash_table_unref (sets[i]);
  if (header)
    g_ptr_array_unref (header);
  g_free (text);
  g_free (csv_path);
  g_strfreev (names);
  mmdnn_model_config_free (old);
  return ok;
}

/* ---- batches ------------------------------------------------------------- */

typedef struct {
  int64_t video, audio, text;            /* per-sample element counts */
} Sizes;

static Sizes
sample_sizes (const MmdnnModelConfig *c)
{
  Sizes s;

  s.video = c->video.channels * c->video.height * c->video.width;
  s.audio = c->audio.channels * c->audio.height * c->audio.width;
  s.text = c->text.max_tokens * c->text.ids_per_token;
  return s;
}

/* dst[0..n) = all[idx[0..n)] */
static void
gather (MmdnnBatch *dst, const MmdnnBatch *all, const int64_t *idx,
        int64_t n, const MmdnnModelConfig *c)
{
  Sizes s = sample_sizes (c);

  dst->n = n;
  for (int64_t i = 0; i < n; i++) {
    int64_t j = idx[i];
    if (dst->video && all->video)
      memcpy (dst->video + i * s.video, all->video + j * s.video,
              sizeof (float) * s.video);
    if (dst->audio && all->audio)
      memcpy (dst->audio + i * s.audio, all->audio + j * s.audio,
              sizeof (float) * s.audio);
    if (dst->text_ids && all->text_ids)
      memcpy (dst->text_ids + i * s.text, all->text_ids + j * s.text,
              sizeof (int32_t) * s.text);
    memcpy (dst->presence + i * MMDNN_N_MODALITIES,
            all->presence + j * MMDNN_N_MODALITIES,
            sizeof (float) * MMDNN_N_MODALITIES);
    memcpy (dst->labels + i * c->n_tasks, all->labels + j * c->n_tasks,
            sizeof (int32_t) * c->n_tasks);
  }
}

/* Evaluates samples @idx[0..n) (all ablations) in batches of dst's size. */
static gboolean
evaluate_set (MmdnnModel *m, MmdnnBatch *dst, int64_t cap,
              const MmdnnBatch *all, const int64_t *idx, int64_t n,
              MmdnnEvalResult *res, GError **error)
{
  for (int64_t o = 0; o < n; o += cap) {
    gather (dst, all, idx + o, MIN (cap, n - o), m->config);
    if (!mmdnn_model_evaluate (m, dst, res, error))
      return FALSE;
  }
  return TRUE;
}

static void
clear_results (MmdnnEvalResult *res)
{
  for (int a = 0; a < MMDNN_N_ABLATIONS; a++)
    mmdnn_eval_result_clear (&res[a]);
}

/* Seed of epoch @e's permutation: a SplitMix-style mix of (seed, e), so
 * every epoch's order is known without replaying earlier ones. */
static uint64_t
epoch_seed (uint64_t seed, int64_t e)
{
  uint64_t z = seed * 0x9e3779b97f4a7c15ULL + (uint64_t) e + 0x632be59bd9b4e019ULL;

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* ---- the processes of the run (dist.h) ----------------------------------- */

/* This process's contiguous slice [lo, hi) of @n samples; the slices'
 * sizes differ by at most one. */
static void
my_slice (int64_t n, int64_t *lo, int64_t *hi)
{
  int64_t r = dist_rank (), p = dist_size ();

  *lo = n * r / p;
  *hi = n * (r + 1) / p;
}

/* Evaluates samples @idx[0..n), each process its slice, and sums the
 * counts over the processes: every one then holds the results of all n,
 * the numbers one process evaluating them all would have.
 *
 * A model whose forward is not finite (a diverged run: MMDNN_ERROR_DATA,
 * the inputs being finite) cannot be evaluated: TRUE with *diverged set
 * to why (free it) in every process alike, and no counts (accuracies
 * NaN). */
static gboolean
evaluate_shared (MmdnnModel *m, MmdnnBatch *dst, int64_t cap,
                 const MmdnnBatch *all, const int64_t *idx, int64_t n,
                 MmdnnEvalResult *res, char **diverged, GError **error)
{
  const MmdnnModelConfig *c = m->config;
  int64_t lo, hi, len = 0, o;
  int64_t *buf;
  GError *fwd = NULL;
  gboolean ok;

  *diverged = NULL;
  my_slice (n, &lo, &hi);
  if (!evaluate_set (m, dst, cap, all, idx + lo, hi - lo, res, &fwd)) {
    if (!g_error_matches (fwd, MMDNN_ERROR, MMDNN_ERROR_DATA)) {
      g_propagate_error (error, fwd);
      return FALSE;
    }
    clear_results (res);
  }
  if (dist_size () == 1) {
    if (fwd != NULL)
      *diverged = g_strdup (fwd->message);
    g_clear_error (&fwd);
    return TRUE;
  }
  /* per ablation and task: correct, total, the confusion matrix; then
   * the one slot below */
  for (int t = 0; t < c->n_tasks; t++)
    len += 2 + c->tasks[t].n_classes * c->tasks[t].n_classes;
  len = len * MMDNN_N_ABLATIONS + 1;
  buf = g_new (int64_t, len);
  /* the last slot: the processes whose forward was not finite */
  buf[len - 1] = fwd != NULL;
  o = 0;
  for (int a = 0; a < MMDNN_N_ABLATIONS; a++)
    for (int t = 0; t < c->n_tasks; t++) {
      int64_t cc = c->tasks[t].n_classes * c->tasks[t].n_classes;
      if (res[a].confusion[t] == NULL)     /* an empty slice */
        res[a].confusion[t] = g_new0 (int64_t, cc);
      buf[o++] = res[a].correct[t];
      buf[o++] = res[a].count[t];
      memcpy (buf + o, res[a].confusion[t], sizeof (int64_t) * cc);
      o += cc;
    }
  ok = dist_allreduce_sum_i64 (buf, len, error);
  if (ok && buf[len - 1] > 0) {
    *diverged = fwd != NULL ? g_strdup (fwd->message)
        : g_strdup ("the forward is not finite in another process");
    clear_results (res);
    ok = FALSE;                 /* no counts to take */
  }
  g_clear_error (&fwd);
  o = 0;
  for (int a = 0; ok && a < MMDNN_N_ABLATIONS; a++)
    for (int t = 0; t < c->n_tasks; t++) {
      int64_t cc = c->tasks[t].n_classes * c->tasks[t].n_classes;
      res[a].correct[t] = buf[o++];
      res[a].count[t] = buf[o++];
      memcpy (res[a].confusion[t], buf + o, sizeof (int64_t) * cc);
      o += cc;
    }
  g_free (buf);
  return ok || *diverged != NULL;
}

/* The model RNG as integers, to travel in a sum where only one process
 * contributes it (the others' zeros). */
#define RNG_LEN 6

static void
rng_pack (const MmdnnRng *rng, int64_t *v)
{
  for (int i = 0; i < 4; i++)
    v[i] = (int64_t) rng->s[i];
  v[4] = rng->have_spare;
  memcpy (&v[5], &rng->spare, sizeof (double));
}

static void
rng_unpack (MmdnnRng *rng, const int64_t *v)
{
  for (int i = 0; i < 4; i++)
    rng->s[i] = (uint64_t) v[i];
  rng->have_spare = v[4] != 0;
  memcpy (&rng->spare, &v[5], sizeof (double));
}

/* The end of the run for this process: an error one process saw would
 * leave the others waiting in a collective, so it ends them all. */
static int
run_end (int status)
{
  if (status != CLI_OK && dist_size () > 1)
    dist_abort (status);
  dist_finalize ();
  return status;
}

/* Forward and backward of the global batch @idx[0..n) for one optimiser
 * step: this process runs its slice, the core differentiates the slice's
 * share of the whole batch's loss (model.h, "data parallel"), and the
 * gradient slab is summed over the processes (one all-reduce), so every
 * process then holds the gradient of the whole batch and makes the same
 * update. A small all-reduce before the backward sums the loss counts
 * (and the accuracy counts, and carries rank 0's RNG to all: the
 * processes' streams stay in step, so a checkpoint holds the state of
 * all). tc/tn (per task) get the batch's correct and labelled samples
 * added, *loss its loss; *t_comm (+=) the seconds spent in the
 * all-reduces, waiting for the slowest process included.
 *
 * A diverged model (weights so large that the forward is no longer
 * finite: MMDNN_ERROR_DATA from the forward, the inputs being finite)
 * skips the step in every process alike, the counts' all-reduce telling
 * them all: TRUE with *skipped set to why (free it), nothing added. */
static gboolean
train_step (MmdnnModel *m, MmdnnBatch *mb, const MmdnnBatch *all,
            const int64_t *idx, int64_t n, int64_t *tc, int64_t *tn,
            double *loss, double *t_comm, char **skipped, GError **error)
{
  const MmdnnModelConfig *mc = m->config;
  enum { C = MMDNN_LOSS_COUNTS_LEN, T = MMDNN_MAX_TASKS };
  enum { DIVERGED = C + 2 * T + RNG_LEN };
  int64_t sums[DIVERGED + 1];
  int64_t lo, hi;
  MmdnnLossCounts mine, total;
  MmdnnLosses share;
  MmdnnOutputs out;
  GError *fwd = NULL;
  double t0;
  gboolean ok;

  *skipped = NULL;
  memset (sums, 0, sizeof sums);
  memset (&share, 0, sizeof share);
  my_slice (n, &lo, &hi);
  if (dist_rank () > 0)
    /* a stream of its own for this slice, derived from the shared state
     * (so a resumed run draws the same) */
    mmdnn_rng_init (&m->rng, epoch_seed (m->rng.s[0] ^ m->rng.s[2],
                                         dist_rank ()));
  if (hi > lo) {
    gather (mb, all, idx + lo, hi - lo, mc);
    if (!mmdnn_model_forward (m, mb, TRUE, &out, NULL, &fwd)) {
      if (!g_error_matches (fwd, MMDNN_ERROR, MMDNN_ERROR_DATA)) {
        g_propagate_error (error, fwd);
        return FALSE;
      }
      sums[DIVERGED] = 1;
    } else {
      if (!mmdnn_model_loss_counts (m, &mine, error))
        return FALSE;
      memcpy (sums, &mine, sizeof mine);
      mmdnn_outputs_score (mc, &out, mb->labels, mb->n, sums + C,
                           sums + C + T);
    }
  }
  if (dist_rank () == 0)
    rng_pack (&m->rng, sums + C + 2 * T);
  t0 = now_s ();
  if (!dist_allreduce_sum_i64 (sums, G_N_ELEMENTS (sums), error)) {
    g_clear_error (&fwd);
    return FALSE;
  }
  *t_comm += now_s () - t0;
  rng_unpack (&m->rng, sums + C + 2 * T);
  if (sums[DIVERGED] > 0) {
    *skipped = fwd != NULL
        ? g_strdup_printf ("model: the forward at step %" G_GINT64_FORMAT
                           " is not finite (%s); step skipped, weights "
                           "unchanged", m->step, fwd->message)
        : g_strdup_printf ("model: the forward at step %" G_GINT64_FORMAT
                           " is not finite in another process; step "
                           "skipped, weights unchanged", m->step);
    g_clear_error (&fwd);
    *loss = NAN;
    return TRUE;
  }
  memcpy (&total, sums, sizeof total);
  for (int t = 0; t < mc->n_tasks; t++) {
    tc[t] += sums[C + t];
    tn[t] += sums[C + T + t];
  }

  if (hi > lo) {
    if (!mmdnn_model_backward_shared (m, &total, &share, error))
      return FALSE;
  } else {
    mmdnn_param_set_zero_grad (m->params);   /* nothing to add */
  }
  *loss = share.total;
  t0 = now_s ();
  ok = dist_allreduce_sum_f32 (m->params->grads, m->params->numel, error)
      && dist_allreduce_sum_f64 (loss, 1, error);
  *t_comm += now_s () - t0;
  return ok;
}

/* Stratified by the first task's label (unknown labels are a stratum of
 * their own): round (fraction × clips) clips go to validation, each
 * stratum giving floor (fraction × its size) and the remainder going to
 * the strata with the largest fractional parts (ties: lower class index),
 * so small classes still contribute; which clips, a generator seeded
 * from --seed decides. */
static void
split (const MmdnnBatch *all, const MmdnnModelConfig *c, uint64_t seed,
       double fraction, GArray *train, GArray *val)
{
  int64_t n = all->n, k = c->tasks[0].n_classes, want, got = 0;
  MmdnnRng rng;
  gboolean *is_val = g_new0 (gboolean, n);
  int64_t *size = g_new0 (int64_t, k + 1), *take = g_new0 (int64_t, k + 1);

  /* stratum 0 = unknown label, 1 + class otherwise */
  for (int64_t i = 0; i < n; i++)
    size[MAX (all->labels[i * c->n_tasks], -1) + 1]++;
  want = (int64_t) floor (fraction * n + 0.5);
  for (int64_t s = 0; s <= k; s++) {
    take[s] = (int64_t) floor (fraction * size[s]);
    got += take[s];
  }
  while (got < want) {
    int64_t best = -1;
    double best_r = -1;
    for (int64_t s = 0; s <= k; s++) {
      double r = fraction * size[s] - take[s];
      if (take[s] < size[s] && r > best_r) {
        best = s;
        best_r = r;
      }
    }
    if (best < 0)
      break;
    take[best]++;
    got++;
  }

  mmdnn_rng_init (&rng, epoch_seed (seed, -1));
  for (int64_t s = 0; s <= k; s++) {
    GArray *members = g_array_new (FALSE, FALSE, sizeof (int64_t));

    for (int64_t i = 0; i < n; i++)
      if (MAX (all->labels[i * c->n_tasks], -1) + 1 == s)
        g_array_append_val (members, i);
    if (members->len > 0) {
      mmdnn_rng_shuffle (&rng, (int64_t *) members->data, members->len);
      for (int64_t j = 0; j < take[s]; j++)
        is_val[g_array_index (members, int64_t, j)] = TRUE;
    }
    g_array_free (members, TRUE);
  }
  for (int64_t i = 0; i < n; i++)
    g_array_append_val (is_val[i] ? val : train, i);
  g_free (is_val);
  g_free (size);
  g_free (take);
}

/* ---- progress ------------------------------------------------------------ */

typedef struct {
  int64_t epochs, epoch;                 /* epoch is 1-based here */
  int64_t steps_per_epoch, total_steps;
  gboolean tty;
  /* this epoch so far */
  int64_t steps, samples, correct, labelled;
  double  loss_sum, t0;
} Progress;

static double
rate (const Progress *p)
{
  double dt = now_s () - p->t0;

  return dt > 0 ? p->samples / dt : 0.0;
}

static void
progress_bar (const Progress *p, int64_t global_step)
{
  int width = 24, done = (int) (width * p->steps / MAX (p->steps_per_epoch, 1));

  printf ("\repoch %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " [", p->epoch,
          p->epochs);
  for (int i = 0; i < width; i++)
    putchar (i < done ? '#' : '.');
  printf ("] %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " loss %.3f acc %.2f "
          "%.1f samples/s (step %" G_GINT64_FORMAT ")  ", p->steps,
          p->steps_per_epoch, p->loss_sum / MAX (p->steps, 1),
          p->labelled ? (double) p->correct / p->labelled : 0.0, rate (p),
          global_step);
  fflush (stdout);
}

static void
print_acc (double a)
{
  if (isnan (a))
    printf (" -");
  else
    printf (" %.3f", a);
}

/* ---- the command --------------------------------------------------------- */

static GOptionContext *
train_context (Options *o)
{
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &o->out,
      "Write the trained model to MODEL (required)", "MODEL" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &o->config,
      "Model config (JSON, docs/model-config.md; default: the default model)",
      "FILE" },
    { "epochs", 'e', 0, G_OPTION_ARG_INT64, &o->epochs,
      "Train for N epochs in all (default 10)", "N" },
    { "batch", 'b', 0, G_OPTION_ARG_INT64, &o->batch,
      "Mini-batch size (default 32)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &o->seed,
      "Seed of weights, split and shuffling (default 1)", "S" },
    { "val-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &o->val_fraction,
      "Share of clips held out for validation, 0 = none (default 0.1)", "F" },
    { "tasks", 't', 0, G_OPTION_ARG_STRING, &o->tasks,
      "Train on these labels.csv columns instead of the config's tasks",
      "A,B" },
    { "checkpoint", 0, 0, G_OPTION_ARG_FILENAME, &o->checkpoint,
      "Checkpoint after every epoch to PATH (default MODEL.ckpt)", "PATH" },
    { "resume", 'r', 0, G_OPTION_ARG_FILENAME, &o->resume,
      "Continue the run that wrote checkpoint CKPT", "CKPT" },
    { "plots", 'p', 0, G_OPTION_ARG_FILENAME, &o->plots,
      "Write loss.png, accuracy.png, confusion-TASK.png into DIR", "DIR" },
    { "log-every", 0, 0, G_OPTION_ARG_INT64, &o->log_every,
      "Without a terminal, a line every N steps (default: 10 a epoch)", "N" },
    { "trace-clips", 0, 0, G_OPTION_ARG_FILENAME, &o->trace,
      "Write the clips each process trains on, step by step, to "
      "DIR/rank-R.tsv", "DIR" },
    { NULL }
  };
  GOptionContext *ctx = g_option_context_new ("DATASET - train a model on "
                                              "a data set");
  char *desc;

  desc = g_strdup_printf (
      "DATASET is a folder with labels.csv and media files (README.md, \"Data\n"
      "set\"). It is decoded once and kept in memory. Each epoch trains on a\n"
      "fresh permutation of the training clips, then evaluates the\n"
      "validation split (stratified by the first task) with every modality,\n"
      "each alone and each missing, and writes a checkpoint atomically.\n"
      "\n"
      "The cosine schedule spans the run: optim.total_steps becomes epochs x\n"
      "batches per epoch unless the --config file sets it (warm-up is cut\n"
      "to a tenth of that when longer). --tasks replaces the config's tasks\n"
      "by labels.csv columns: a task the config names keeps its classes,\n"
      "others take the column's distinct values, sorted.\n"
      "\n"
      "--resume CKPT continues exactly: give the same DATASET, --seed,\n"
      "--batch and --val-fraction; --epochs is the total. The config comes\n"
      "from the checkpoint (so --config and --tasks are refused).\n"
      "\n"
      "On a terminal a progress bar is redrawn; otherwise one line per N\n"
      "steps and per epoch:\n"
      "  epoch 3/10 step 120/400 loss 1.234 acc 0.56 val_acc 0.61 samples/s 31.5\n"
      "(acc: the running training accuracy of the first task this epoch).\n"
      "A diverging step (non-finite forward or gradient, or an update that\n"
      "would overflow a weight) is skipped (reported, counted): the weights\n"
      "and checkpoints stay finite.\n"
      "\n"
      "Data-parallel: `mpirun -np N mmdnn train ...` splits every batch of\n"
      "--batch clips (the global batch) into N contiguous slices, one per\n"
      "process; the gradients are summed every step and every process makes\n"
      "the same update, so N processes train the model one process would, to\n"
      "rounding. Terms that couple the samples of a batch see one slice only:\n"
      "InfoNCE's negatives, mixup partners, within-class recombination.\n"
      "Every process decodes the data set; rank 0 alone prints and writes\n"
      "checkpoints, the model and plots. A checkpoint resumes with any N.\n"
      "%s\n"
      "\n"
      "Exit status: 0 ok, 1 bad data set, config, checkpoint or output, 2\n"
      "bad arguments.\n"
      "\nExample:\n"
      "  mmdnn train data/train --out model.safetensors --epochs 20 --plots plots\n",
      strcmp (dist_backend (), "MPI") == 0
      ? "This mmdnn is built with MPI."
      : "This mmdnn is built without MPI (meson feature 'mpi'): one process.");
  g_option_context_set_description (ctx, desc);
  g_free (desc);
  g_option_context_add_main_entries (ctx, entries, NULL);
  return ctx;
}

void
cli_train_help (void)
{
  Options o;
  GOptionContext *ctx;
  char *help;

  memset (&o, 0, sizeof o);
  g_set_prgname ("mmdnn train");
  ctx = train_context (&o);
  help = g_option_context_get_help (ctx, TRUE, NULL);
  fputs (help, stdout);
  g_free (help);
  g_option_context_free (ctx);
}

static void
free_options (Options *o)
{
  g_free (o->out);
  g_free (o->config);
  g_free (o->resume);
  g_free (o->plots);
  g_free (o->tasks);
  g_free (o->checkpoint);
  g_free (o->trace);
}

static gboolean
check_usage (const Options *o, int argc, char **argv)
{
  const char *why = NULL;
  char *msg = NULL;

  if (argc < 2)
    why = "no DATASET given";
  else if (argc > 2)
    msg = g_strdup_printf ("one DATASET only (got '%s' too)", argv[2]);
  else if (o->out == NULL || o->out[0] == '\0')
    why = "--out MODEL is required";
  else if (o->epochs < 1 || o->epochs > MAX_EPOCHS)
    msg = g_strdup_printf ("--epochs %" G_GINT64_FORMAT " must be in [1, %d]",
                           o->epochs, MAX_EPOCHS);
  else if (o->batch < 1 || o->batch > MAX_BATCH)
    msg = g_strdup_printf ("--batch %" G_GINT64_FORMAT " must be in [1, %d]",
                           o->batch, MAX_BATCH);
  else if (o->seed < 0)
    msg = g_strdup_printf ("--seed %" G_GINT64_FORMAT " must be >= 0",
                           o->seed);
  else if (!isfinite (o->val_fraction) || o->val_fraction < 0
           || o->val_fraction >= 1)
    msg = g_strdup_printf ("--val-fraction %g must be in [0, 1)",
                           o->val_fraction);
  else if (o->log_every < 0)
    msg = g_strdup_printf ("--log-every %" G_GINT64_FORMAT " must be >= 0",
                           o->log_every);
  else if (o->resume && o->config)
    why = "--resume takes the config from the checkpoint: drop --config";
  else if (o->resume && o->tasks)
    why = "--resume takes the tasks from the checkpoint: drop --tasks";
#if !HAVE_CAIRO
  else if (o->plots)
    why = "--plots: this mmdnn was built without cairo (meson option "
          "'plots'), so it cannot draw plots";
#endif
  if (why == NULL && msg == NULL)
    return TRUE;
  cli_errorf ("train: %s", why ? why : msg);
  fprintf (stderr, "Try 'mmdnn train --help'.\n");
  g_free (msg);
  return FALSE;
}

typedef struct {
  GArray *step_x, *step_loss;           /* per step (double)              */
  GArray *epoch_x, *epoch_loss;         /* per epoch: last step, mean loss */
  GArray *train_acc[MMDNN_MAX_TASKS];   /* per epoch                      */
  GArray *val_acc[MMDNN_MAX_TASKS];
  GArray *epochs;
} History;

static void
history_init (History *h)
{
  memset (h, 0, sizeof *h);
  h->step_x = g_array_new (FALSE, FALSE, sizeof (double));
  h->step_loss = g_array_new (FALSE, FALSE, sizeof (double));
  h->epoch_x = g_array_new (FALSE, FALSE, sizeof (double));
  h->epoch_loss = g_array_new (FALSE, FALSE, sizeof (double));
  h->epochs = g_array_new (FALSE, FALSE, sizeof (double));
  for (int t = 0; t < MMDNN_MAX_TASKS; t++) {
    h->train_acc[t] = g_array_new (FALSE, FALSE, sizeof (double));
    h->val_acc[t] = g_array_new (FALSE, FALSE, sizeof (double));
  }
}

static void
history_clear (History *h)
{
  g_array_free (h->step_x, TRUE);
  g_array_free (h->step_loss, TRUE);
  g_array_free (h->epoch_x, TRUE);
  g_array_free (h->epoch_loss, TRUE);
  g_array_free (h->epochs, TRUE);
  for (int t = 0; t < MMDNN_MAX_TASKS; t++) {
    g_array_free (h->train_acc[t], TRUE);
    g_array_free (h->val_acc[t], TRUE);
  }
}

#if HAVE_CAIRO
static gboolean
write_plots (const char *dir, const MmdnnModelConfig *c, const History *h,
             const MmdnnEvalResult *conf, const char *conf_set,
             GError **error)
{
  PlotSeries s[2 * MMDNN_MAX_TASKS];
  char *labels[2 * MMDNN_MAX_TASKS] = { NULL };
  GArray *smooth = g_array_new (FALSE, FALSE, sizeof (double));
  double ema = 0;
  char *path;
  gboolean ok;
  int ns = 0;

  /* loss: an exponential moving average per step, and the epoch means */
  for (guint i = 0; i < h->step_loss->len; i++) {
    double v = g_array_index (h->step_loss, double, i);
    if (isfinite (v))
      ema = i == 0 ? v : 0.9 * ema + 0.1 * v;
    g_array_append_val (smooth, ema);
  }
  memset (s, 0, sizeof s);
  s[0].label = "train loss per step (EMA 0.9)";
  s[0].x = (const double *) h->step_x->data;
  s[0].y = (const double *) smooth->data;
  s[0].n = smooth->len;
  s[1].label = "train loss, epoch mean";
  s[1].x = (const double *) h->epoch_x->data;
  s[1].y = (const double *) h->epoch_loss->data;
  s[1].n = h->epoch_loss->len;
  s[1].markers = TRUE;
  path = g_build_filename (dir, "loss.png", NULL);
  ok = plot_lines (path, "Training loss (joint objective)", "step", "loss",
                   s, 2, 0, 0, error);
  g_free (path);
  g_array_free (smooth, TRUE);
  if (!ok)
    return FALSE;

  memset (s, 0, sizeof s);
  for (int t = 0; t < c->n_tasks; t++) {
    labels[ns] = g_strdup_printf ("%s train", c->tasks[t].name);
    s[ns].label = labels[ns];
    s[ns].x = (const double *) h->epochs->data;
    s[ns].y = (const double *) h->train_acc[t]->data;
    s[ns].n = h->epochs->len;
    s[ns].markers = TRUE;
    s[ns].dashed = TRUE;
    ns++;
    labels[ns] = g_strdup_printf ("%s validation", c->tasks[t].name);
    s[ns].label = labels[ns];
    s[ns].x = (const double *) h->epochs->data;
    s[ns].y = (const double *) h->val_acc[t]->data;
    s[ns].n = h->epochs->len;
    s[ns].markers = TRUE;
    ns++;
  }
  path = g_build_filename (dir, "accuracy.png", NULL);
  ok = plot_lines (path, "Accuracy per task (train dashed: running, during "
                   "the epoch)", "epoch", "accuracy", s, ns, 0, 1, error);
  g_free (path);
  for (int i = 0; i < ns; i++)
    g_free (labels[i]);
  for (int t = 0; ok && t < c->n_tasks; t++) {
    char *file = g_strdup_printf ("confusion-%s.png", c->tasks[t].name);
    char *title = g_strdup_printf ("Confusion matrix: %s (%s)",
                                   c->tasks[t].name, conf_set);
    path = g_build_filename (dir, file, NULL);
    ok = plot_confusion (path, title, (const char *const *) c->tasks[t].classes,
                         c->tasks[t].n_classes, conf->confusion[t], error);
    g_free (path);
    g_free (file);
    g_free (title);
  }
  return ok;
}
#endif

int
cli_train_run (int argc, char **argv)
{
  Options o;
  GOptionContext *ctx;
  GError *error = NULL;
  MmdnnModelConfig *c = NULL;
  MmdnnModel *m = NULL;
  MmdnnDataset *ds = NULL;
  MmdnnBatch *all = NULL, *mb = NULL;
  GArray *train = NULL, *val = NULL;
  int64_t *perm = NULL;
  char *ckpt = NULL, *config_text = NULL, *skip = NULL;
  const char *dir;
  MmdnnEvalResult res[MMDNN_N_ABLATIONS];
  History hist;
  Progress pg;
  int64_t spe, start_epoch = 0, skipped = 0, log_every, cap;
  double t_load, t_train = 0, t_comm = 0;
  int status = CLI_FAILED, rank, size;
  FILE *trace = NULL;

  memset (&o, 0, sizeof o);
  memset (res, 0, sizeof res);
  memset (&pg, 0, sizeof pg);
  history_init (&hist);
  o.epochs = 10;
  o.batch = 32;
  o.seed = 1;
  o.val_fraction = 0.1;
  g_set_prgname ("mmdnn train");
  if (!dist_init (&argc, &argv, &error)) {
    cli_error (NULL, error);
    g_clear_error (&error);
    history_clear (&hist);
    dist_abort (CLI_FAILED);
  }
  rank = dist_rank ();
  size = dist_size ();
  cli_set_process (rank, size);
  /* rank 0 speaks for the run; the others only report their errors */
  if (rank > 0 && freopen ("/dev/null", "w", stdout) == NULL) {
    cli_errorf ("cannot silence stdout: %s", g_strerror (errno));
    dist_abort (CLI_FAILED);
  }
  ctx = train_context (&o);
  if (!cli_parse (ctx, "train", &argc, &argv)) {
    g_option_context_free (ctx);
    free_options (&o);
    history_clear (&hist);
    return run_end (CLI_USAGE);
  }
  g_option_context_free (ctx);
  if (!check_usage (&o, argc, argv)) {
    free_options (&o);
    history_clear (&hist);
    return run_end (CLI_USAGE);
  }
  if (o.batch < size) {
    cli_errorf ("train: --batch %" G_GINT64_FORMAT " is the global batch, "
                "split over the run's %d processes: give at least %d",
                o.batch, size, size);
    free_options (&o);
    history_clear (&hist);
    return run_end (CLI_USAGE);
  }
  /* the largest slice of a global batch */
  cap = (o.batch + size - 1) / size;
  dir = argv[1];
  ckpt = o.checkpoint ? g_strdup (o.checkpoint)
                      : g_strdup_printf ("%s.ckpt", o.out);

  /* outputs first: a typo in a path should not cost a training run;
   * rank 0 alone writes them */
  if (rank == 0 && (!check_writable (o.out, &error)
                    || !check_writable (ckpt, &error))) {
    cli_error (NULL, error);
    goto done;
  }
  if (o.trace) {
    char *name = g_strdup_printf ("rank-%d.tsv", rank);
    char *path = g_build_filename (o.trace, name, NULL);

    if (g_mkdir_with_parents (o.trace, 0777) != 0
        || (trace = fopen (path, "w")) == NULL)
      cli_errorf ("%s: %s", path, g_strerror (errno));
    g_free (name);
    g_free (path);
    if (trace == NULL)
      goto done;
  }
  if (rank == 0 && o.plots && (g_mkdir_with_parents (o.plots, 0777) != 0
                               || g_access (o.plots, W_OK) != 0)) {
    cli_errorf ("%s: cannot write plots there: %s", o.plots,
                g_strerror (errno));
    goto done;
  }

  /* the config: the checkpoint's, a file's or the default */
  if (o.resume) {
    m = mmdnn_model_load_checkpoint (o.resume, cap, &error);
    if (m == NULL) {
      cli_error (o.resume, error);
      goto done;
    }
    c = mmdnn_model_config_copy (m->config);
  } else if (o.config) {
    config_text = read_small_file (o.config, &error);
    if (config_text == NULL
        || (c = mmdnn_model_config_from_json (config_text, -1, &error)) == NULL) {
      cli_error (o.config, error);
      goto done;
    }
  } else {
    c = mmdnn_model_config_new_default ();
  }
  if (o.tasks && !apply_tasks (c, dir, o.tasks, &error)) {
    cli_error (NULL, error);
    goto done;
  }

  /* the data, decoded once */
  t_load = now_s ();
  ds = mmdnn_dataset_open (dir, c, &error);
  if (ds == NULL || !mmdnn_dataset_load_all (ds, c, &all, &error)) {
    cli_error (dir, error);
    goto done;
  }
  {
    int64_t present[MMDNN_N_MODALITIES] = { 0 };
    for (int64_t i = 0; i < all->n; i++)
      for (int k = 0; k < MMDNN_N_MODALITIES; k++)
        present[k] += all->presence[i * MMDNN_N_MODALITIES + k] != 0.0f;
    printf ("data set %s: %" G_GINT64_FORMAT " clips decoded in %.1f s "
            "(video %" G_GINT64_FORMAT ", audio %" G_GINT64_FORMAT
            ", text %" G_GINT64_FORMAT " present)\n", dir, all->n,
            now_s () - t_load, present[0], present[1], present[2]);
  }

  train = g_array_new (FALSE, FALSE, sizeof (int64_t));
  val = g_array_new (FALSE, FALSE, sizeof (int64_t));
  split (all, c, (uint64_t) o.seed, o.val_fraction, train, val);
  if (train->len == 0) {
    cli_errorf ("%s: no clip left for training (%" G_GINT64_FORMAT " clips, "
                "--val-fraction %g)", dir, all->n, o.val_fraction);
    goto done;
  }
  spe = (train->len + o.batch - 1) / o.batch;

  if (o.resume) {
    if (m->step % spe != 0 || m->step / spe > o.epochs) {
      cli_errorf ("%s: step %" G_GINT64_FORMAT " is not the end of an epoch "
                  "of this run (%" G_GINT64_FORMAT " batches per epoch, "
                  "--epochs %" G_GINT64_FORMAT "): resume with the DATASET, "
                  "--batch, --val-fraction and --epochs of the original run",
                  o.resume, m->step, spe, o.epochs);
      goto done;
    }
    start_epoch = m->step / spe;
  } else {
    if (!config_text || !config_sets_total_steps (config_text)) {
      c->total_steps = o.epochs * spe;
      if (c->warmup_steps > c->total_steps / 10)
        c->warmup_steps = c->total_steps / 10;
    }
    m = mmdnn_model_new (c, (uint64_t) o.seed, cap, &error);
    if (m == NULL) {
      cli_error (o.config, error);
      goto done;
    }
  }
  mb = mmdnn_batch_new (m->config, cap, &error);
  if (mb == NULL) {
    cli_error (NULL, error);
    goto done;
  }

  printf ("training on %u clips, validating on %u; %" G_GINT64_FORMAT
          " epochs of %" G_GINT64_FORMAT " batches of %" G_GINT64_FORMAT
          "; schedule %" G_GINT64_FORMAT " steps (warm-up %" G_GINT64_FORMAT
          ")\n", train->len, val->len, o.epochs, spe, o.batch,
          m->config->total_steps, m->config->warmup_steps);
  if (size > 1)
    printf ("%d processes (%s), each training on a slice of up to %"
            G_GINT64_FORMAT " samples of every batch; gradient slab %"
            G_GINT64_FORMAT " floats (%.2f MB) summed every step\n", size,
            dist_backend (), cap, m->params->numel,
            m->params->numel * sizeof (float) / 1e6);
  if (start_epoch > 0)
    printf ("resuming from %s at epoch %" G_GINT64_FORMAT ", step %"
            G_GINT64_FORMAT "\n", o.resume, start_epoch, m->step);
  fflush (stdout);

  /* several processes: lines (mpirun hands each a pseudo-terminal, but
   * forwards whole lines) */
  pg.tty = size == 1 && isatty (fileno (stdout));
  pg.epochs = o.epochs;
  pg.steps_per_epoch = spe;
  pg.total_steps = o.epochs * spe;
  log_every = o.log_every > 0 ? o.log_every : MAX (1, spe / 10);
  perm = g_new (int64_t, train->len);

  for (int64_t e = start_epoch; e < o.epochs; e++) {
    MmdnnRng rng;
    const MmdnnModelConfig *mc = m->config;
    double val_acc0 = NAN;

    memcpy (perm, train->data, sizeof (int64_t) * train->len);
    mmdnn_rng_init (&rng, epoch_seed ((uint64_t) o.seed, e));
    mmdnn_rng_shuffle (&rng, perm, train->len);
    pg.epoch = e + 1;
    pg.steps = pg.samples = pg.correct = pg.labelled = 0;
    pg.loss_sum = 0;
    pg.t0 = now_s ();
    {
      int64_t tc[MMDNN_MAX_TASKS] = { 0 }, tn[MMDNN_MAX_TASKS] = { 0 };

      for (int64_t s = 0; s < spe; s++) {
        int64_t off = s * o.batch, n = MIN (o.batch, (int64_t) train->len - off);
        double xs, loss;

        if (trace) {
          int64_t lo, hi;

          my_slice (n, &lo, &hi);
          fprintf (trace, "%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%d",
                   e + 1, m->step + 1, rank);
          for (int64_t i = lo; i < hi; i++)
            fprintf (trace, "\t%" G_GINT64_FORMAT, perm[off + i]);
          fputc ('\n', trace);
        }
        if (!train_step (m, mb, all, perm + off, n, tc, tn, &loss, &t_comm,
                         &skip, &error)) {
          if (pg.tty)
            putchar ('\n');
          cli_error (dir, error);
          goto done;
        }
        if (skip != NULL || !mmdnn_model_update (m, &error)) {
          /* a non-finite forward or gradient: the weights are untouched;
           * the step still counts as a batch, so epochs stay step /
           * batches. Every process sees the same sum, so rank 0 says it
           * for all. */
          if (pg.tty)
            putchar ('\n');
          if (rank == 0)
            cli_errorf ("warning: %s", skip != NULL ? skip : error->message);
          g_clear_error (&error);
          g_clear_pointer (&skip, g_free);
          skipped++;
          m->step++;
        }
        pg.steps++;
        pg.samples += n;
        pg.correct = tc[0];
        pg.labelled = tn[0];
        if (isfinite (loss))
          pg.loss_sum += loss;
        xs = (double) m->step;
        g_array_append_val (hist.step_x, xs);
        xs = loss;
        g_array_append_val (hist.step_loss, xs);
        if (pg.tty)
          progress_bar (&pg, m->step);
        else if (pg.steps % log_every == 0 && pg.steps < spe) {
          printf ("epoch %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " step %"
                  G_GINT64_FORMAT "/%" G_GINT64_FORMAT " loss %.3f acc %.2f "
                  "samples/s %.1f\n", pg.epoch, pg.epochs, m->step,
                  pg.total_steps, pg.loss_sum / pg.steps,
                  pg.labelled ? (double) pg.correct / pg.labelled : 0.0,
                  rate (&pg));
          fflush (stdout);
        }
      }
      for (int t = 0; t < mc->n_tasks; t++) {
        double a = tn[t] ? (double) tc[t] / tn[t] : NAN;
        g_array_append_val (hist.train_acc[t], a);
      }
    }
    t_train += now_s () - pg.t0;
    {
      double x = (double) m->step, l = pg.loss_sum / MAX (pg.steps, 1);
      double ep = (double) (e + 1);
      double sps = rate (&pg);

      g_array_append_val (hist.epoch_x, x);
      g_array_append_val (hist.epoch_loss, l);
      g_array_append_val (hist.epochs, ep);

      clear_results (res);
      if (val->len > 0
          && !evaluate_shared (m, mb, cap, all, (const int64_t *) val->data,
                               val->len, res, &skip, &error)) {
        if (pg.tty)
          putchar ('\n');
        cli_error (dir, error);
        goto done;
      }
      if (skip != NULL) {
        if (pg.tty)
          putchar ('\n');
        if (rank == 0)
          cli_errorf ("warning: validation of epoch %" G_GINT64_FORMAT
                      " skipped: %s", pg.epoch, skip);
        g_clear_pointer (&skip, g_free);
      }
      for (int t = 0; t < mc->n_tasks; t++) {
        double a = val->len ? mmdnn_eval_result_accuracy (&res[0], t) : NAN;
        g_array_append_val (hist.val_acc[t], a);
      }
      if (val->len > 0)
        val_acc0 = mmdnn_eval_result_accuracy (&res[0], 0);
      if (pg.tty)
        putchar ('\n');
      printf ("epoch %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " step %"
              G_GINT64_FORMAT "/%" G_GINT64_FORMAT " loss %.3f acc %.2f "
              "val_acc ", pg.epoch, pg.epochs, m->step, pg.total_steps, l,
              pg.labelled ? (double) pg.correct / pg.labelled : 0.0);
      if (isnan (val_acc0))
        printf ("-");             /* no validation split */
      else
        printf ("%.2f", val_acc0);
      printf (" samples/s %.1f\n", sps);
    }
    if (val->len > 0) {
      printf ("  validation (%u clips):", val->len);
      for (int t = 0; t < mc->n_tasks; t++) {
        printf (" %s", mc->tasks[t].name);
        print_acc (mmdnn_eval_result_accuracy (&res[0], t));
      }
      printf ("; %s by modality:", mc->tasks[0].name);
      for (int a = MMDNN_ABLATION_ONLY_VIDEO; a <= MMDNN_ABLATION_ONLY_TEXT; a++) {
        printf (" %s", mmdnn_ablation_name ((MmdnnAblation) a));
        print_acc (mmdnn_eval_result_accuracy (&res[a], 0));
      }
      printf ("\n");
    }
    if (rank == 0 && !mmdnn_model_save_checkpoint (m, ckpt, &error)) {
      cli_error (ckpt, error);
      goto done;
    }
    fflush (stdout);
  }

  if (rank == 0 && !mmdnn_model_save (m, o.out, &error)) {
    cli_error (o.out, error);
    goto done;
  }
#if HAVE_CAIRO
  if (o.plots) {
    const char *set = "validation, last epoch";
    if (val->len == 0 || hist.epochs->len == 0) {
      /* no validation (or nothing left to train): the training set's */
      clear_results (res);
      set = "training set";
      if (!evaluate_shared (m, mb, cap, all, (const int64_t *) train->data,
                            train->len, res, &skip, &error)) {
        cli_error (dir, error);
        goto done;
      }
      if (skip != NULL && rank == 0)
        cli_errorf ("warning: the plots' evaluation skipped: %s", skip);
      g_clear_pointer (&skip, g_free);
    }
    if (rank == 0
        && !write_plots (o.plots, m->config, &hist, &res[0], set, &error)) {
      cli_error (NULL, error);
      goto done;
    }
  }
#endif
  printf ("wrote %s (checkpoint %s)", o.out, ckpt);
  if (skipped > 0)
    printf ("; %" G_GINT64_FORMAT " update%s skipped for a non-finite "
            "forward or gradient", skipped, skipped == 1 ? "" : "s");
  printf ("\n");
  if (size > 1 && t_train > 0)
    printf ("rank 0 spent %.2f s of %.2f s of training steps in all-reduces "
            "(%.0f %%, waiting for the slowest process included)\n", t_comm,
            t_train, 100 * t_comm / t_train);
  status = CLI_OK;

done:
  if (trace && fclose (trace) != 0 && status == CLI_OK) {
    cli_errorf ("%s: %s", o.trace, g_strerror (errno));
    status = CLI_FAILED;
  }
  clear_results (res);
  history_clear (&hist);
  g_free (perm);
  if (train)
    g_array_free (train, TRUE);
  if (val)
    g_array_free (val, TRUE);
  mmdnn_batch_free (mb);
  mmdnn_batch_free (all);
  mmdnn_dataset_free (ds);
  mmdnn_model_free (m);
  mmdnn_model_config_free (c);
  g_clear_error (&error);
  g_free (config_text);
  g_free (ckpt);
  free_options (&o);
  if (fflush (stdout) != 0 && status == CLI_OK) {
    cli_errorf ("cannot write to stdout: %s", g_strerror (errno));
    status = CLI_FAILED;
  }
  return run_end (status);
}
