/* mmdnn — layer benchmark: conv and linear forward+backward against raw sgemm.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run by hand (`make bench`), never by `make check`: timings depend on the
 * machine and its load. For every conv and linear shape of the default model
 * at batch 32 it times one training step of the layer (forward, then backward
 * with dx, dw and db) and, interleaved in the same run, the bare GEMMs that
 * step is made of (same shapes, transposes, leading dimensions and beta)
 * through mmdnn_gemm (), i.e. cblas_sgemm. Both are credited with the same
 * GEMM flops, so the ratio says how much im2col, col2im, bias and call
 * overhead cost on top of the GEMMs. The target is a ratio of at least 0.70.
 *
 * OPENBLAS_CORETYPE is reported, never set: the machine's choice is what is
 * being measured. See README.md next to this file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mmdnn/blas.h>
#include <mmdnn/conv.h>
#include <mmdnn/linear.h>
#include <mmdnn/rng.h>
#include <mmdnn/tensor.h>

#define BATCH 32
#define TARGET_RATIO 0.70
#define MAX_REPS 100000

typedef enum {
  LAYER_CONV2D,
  LAYER_LINEAR,
} LayerKind;

typedef struct {
  const char *name;
  LayerKind kind;
  int64_t c_in, c_out;          /* linear: in, out features */
  int64_t k;                    /* square kernel, stride 1, "same" padding */
  int64_t h, w;
} LayerSpec;

/* The conv and linear shapes of the default model (DESIGN.md §2.2): the
 * 3×3/5×5/7×7 multi-scale branch on the 3×64×64 frame, the conv stack after
 * it, and the projection of the concatenated branches to D = 128. */
static const LayerSpec layer_specs[] = {
  { "conv 3->16 k3 64x64", LAYER_CONV2D, 3, 16, 3, 64, 64 },
  { "conv 3->16 k5 64x64", LAYER_CONV2D, 3, 16, 5, 64, 64 },
  { "conv 3->16 k7 64x64", LAYER_CONV2D, 3, 16, 7, 64, 64 },
  { "conv 48->64 k3 32x32", LAYER_CONV2D, 48, 64, 3, 32, 32 },
  { "conv 64->128 k3 16x16", LAYER_CONV2D, 64, 128, 3, 16, 16 },
  { "linear 384->128", LAYER_LINEAR, 384, 128, 0, 0, 0 },
};

typedef struct {
  const LayerSpec *spec;
  MmdnnConv2dShape shape;       /* conv only */
  int64_t n;
  /* GEMM dimensions of one sample (conv) or of the batch (linear):
   * forward (gm × gn) · K = gk; see gemm_forward () / gemm_backward (). */
  int64_t gm, gn, gk;
  int64_t gemm_calls;           /* per GEMM kind per step: n for conv, 1 for linear */
  double flops;                 /* one forward+backward step */
  float *x, *w, *b, *y, *dy, *dx, *dw, *db, *col;
} Bench;

typedef struct {
  double fwd, bwd, total;       /* seconds */
} Sample;

typedef struct {
  Sample ours_med, ours_best, gemm_med, gemm_best;
  int reps;
} Result;

/* Options */
static gboolean opt_quick = FALSE;
static int opt_threads = 0;
static double opt_min_time = 0.0;
static char *opt_filter = NULL;
static char *opt_side = NULL;
static gboolean opt_verbose = FALSE;

static GOptionEntry entries[] = {
  { "quick", 'q', 0, G_OPTION_ARG_NONE, &opt_quick,
    "Fewer repetitions (about 0.05 s per series instead of 0.3 s)", NULL },
  { "threads", 't', 0, G_OPTION_ARG_INT, &opt_threads,
    "Run with N OpenBLAS threads only (default: 1, then 2)", "N" },
  { "min-time", 0, 0, G_OPTION_ARG_DOUBLE, &opt_min_time,
    "Minimum time per series in seconds (overrides --quick)", "S" },
  { "filter", 'f', 0, G_OPTION_ARG_STRING, &opt_filter,
    "Only layers whose name contains STR (e.g. \"k7\", \"linear\")", "STR" },
  { "side", 0, 0, G_OPTION_ARG_STRING, &opt_side,
    "Time only \"ours\" or only \"sgemm\" (for profiling; no ratio)",
    "SIDE" },
  { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
    "Also print the median forward and backward milliseconds of both sides",
    NULL },
  { NULL }
};

static double
now_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

static float *
bench_floats (int64_t count, MmdnnRng *rng, GError **error)
{
  float *p = mmdnn_floats_new (count, error);

  if (p != NULL && rng != NULL)
    mmdnn_rng_fill_uniform (rng, p, count, -1.0f, 1.0f);
  return p;
}

static void
bench_clear (Bench *bm)
{
  mmdnn_floats_free (bm->x);
  mmdnn_floats_free (bm->w);
  mmdnn_floats_free (bm->b);
  mmdnn_floats_free (bm->y);
  mmdnn_floats_free (bm->dy);
  mmdnn_floats_free (bm->dx);
  mmdnn_floats_free (bm->dw);
  mmdnn_floats_free (bm->db);
  mmdnn_floats_free (bm->col);
  memset (bm, 0, sizeof (*bm));
}

static gboolean
bench_init (Bench *bm, const LayerSpec *spec, GError **error)
{
  MmdnnRng rng;
  int64_t x_size, y_size, w_size, b_size, col_size;

  memset (bm, 0, sizeof (*bm));
  bm->spec = spec;
  bm->n = BATCH;
  if (spec->kind == LAYER_CONV2D) {
    if (!mmdnn_conv2d_shape_init (&bm->shape, spec->c_in, spec->h, spec->w,
                                  spec->c_out, spec->k, spec->k, 1, 1,
                                  spec->k / 2, spec->k / 2, error))
      return FALSE;
    x_size = bm->n * spec->c_in * spec->h * spec->w;
    y_size = bm->n * spec->c_out * bm->shape.h_out * bm->shape.w_out;
    w_size = spec->c_out * spec->c_in * spec->k * spec->k;
    col_size = bm->shape.col_size;
    /* per sample: y (C_out, P) = w (C_out, C_in·KH·KW) · col (C_in·KH·KW, P) */
    bm->gm = spec->c_out;
    bm->gn = bm->shape.h_out * bm->shape.w_out;
    bm->gk = spec->c_in * spec->k * spec->k;
    bm->gemm_calls = bm->n;
  } else {
    x_size = bm->n * spec->c_in;
    y_size = bm->n * spec->c_out;
    w_size = spec->c_out * spec->c_in;
    col_size = 1;
    /* y (N, OUT) = x (N, IN) · wᵀ */
    bm->gm = bm->n;
    bm->gn = spec->c_out;
    bm->gk = spec->c_in;
    bm->gemm_calls = 1;
  }
  b_size = spec->c_out;
  /* forward, dx and dw are three GEMMs of the same M·N·K */
  bm->flops = 3.0 * 2.0 * (double) bm->gm * (double) bm->gn * (double) bm->gk
      * (double) bm->gemm_calls;

  mmdnn_rng_init (&rng, 20240611);
  if ((bm->x = bench_floats (x_size, &rng, error)) == NULL
      || (bm->w = bench_floats (w_size, &rng, error)) == NULL
      || (bm->b = bench_floats (b_size, &rng, error)) == NULL
      || (bm->dy = bench_floats (y_size, &rng, error)) == NULL
      || (bm->y = bench_floats (y_size, NULL, error)) == NULL
      || (bm->dx = bench_floats (x_size, NULL, error)) == NULL
      || (bm->dw = bench_floats (w_size, NULL, error)) == NULL
      || (bm->db = bench_floats (b_size, NULL, error)) == NULL
      || (bm->col = bench_floats (col_size, &rng, error)) == NULL) {
    bench_clear (bm);
    return FALSE;
  }
  return TRUE;
}

/* Our kernels, exactly as a training step calls them. The gradients keep
 * accumulating over the repetitions, as backward is specified to; with inputs
 * in [-1, 1) they stay far from overflow and denormals. */
static void
ours_forward (Bench *bm)
{
  if (bm->spec->kind == LAYER_CONV2D)
    mmdnn_conv2d_forward (bm->y, bm->col, bm->x, bm->w, bm->b, &bm->shape,
                          bm->n);
  else
    mmdnn_linear_forward (bm->y, bm->x, bm->w, bm->b, bm->n, bm->spec->c_in,
                          bm->spec->c_out);
}

static void
ours_backward (Bench *bm)
{
  if (bm->spec->kind == LAYER_CONV2D)
    mmdnn_conv2d_backward (bm->dx, bm->dw, bm->db, bm->col, bm->dy, bm->x,
                           bm->w, &bm->shape, bm->n);
  else
    mmdnn_linear_backward (bm->dx, bm->dw, bm->db, bm->dy, bm->x, bm->w,
                           bm->n, bm->spec->c_in, bm->spec->c_out);
}

/* The bare GEMMs of the same step, on the same buffers. Conv, per sample
 * (K = C_in·KH·KW, P = OH·OW):
 *   forward  y_i (C_out, P)  = w (C_out, K) · col (K, P)             NN, β 0
 *   dw           (C_out, K) += dy_i (C_out, P) · colᵀ                NT, β 1
 *   dx      dcol (K, P)      = wᵀ (K, C_out) · dy_i (C_out, P)       TN, β 0
 * Linear, once for the batch:
 *   forward  y (N, OUT)  = x (N, IN) · wᵀ                            NT, β 0
 *   dx         (N, IN)  += dy (N, OUT) · w (OUT, IN)                 NN, β 1
 *   dw       (OUT, IN)  += dyᵀ (OUT, N) · x (N, IN)                  TN, β 1 */
static void
gemm_forward (Bench *bm)
{
  int64_t m = bm->gm, n = bm->gn, k = bm->gk;

  if (bm->spec->kind == LAYER_CONV2D) {
    for (int64_t i = 0; i < bm->n; i++)
      mmdnn_gemm (MMDNN_NO_TRANS, MMDNN_NO_TRANS, m, n, k, 1.0f, bm->w, k,
                  bm->col, n, 0.0f, bm->y + i * m * n, n);
  } else {
    mmdnn_gemm (MMDNN_NO_TRANS, MMDNN_TRANS, m, n, k, 1.0f, bm->x, k, bm->w, k,
                0.0f, bm->y, n);
  }
}

static void
gemm_backward (Bench *bm)
{
  int64_t m = bm->gm, n = bm->gn, k = bm->gk;

  if (bm->spec->kind == LAYER_CONV2D) {
    for (int64_t i = 0; i < bm->n; i++) {
      const float *dyi = bm->dy + i * m * n;

      mmdnn_gemm (MMDNN_NO_TRANS, MMDNN_TRANS, m, k, n, 1.0f, dyi, n, bm->col,
                  n, 1.0f, bm->dw, k);
      mmdnn_gemm (MMDNN_TRANS, MMDNN_NO_TRANS, k, n, m, 1.0f, bm->w, k, dyi, n,
                  0.0f, bm->col, n);
    }
  } else {
    mmdnn_gemm (MMDNN_NO_TRANS, MMDNN_NO_TRANS, m, k, n, 1.0f, bm->dy, n,
                bm->w, k, 1.0f, bm->dx, k);
    mmdnn_gemm (MMDNN_TRANS, MMDNN_NO_TRANS, n, k, m, 1.0f, bm->dy, n, bm->x,
                k, 1.0f, bm->dw, k);
  }
}

static Sample
time_step (Bench *bm, gboolean ours)
{
  Sample s;
  double t0, t1, t2;

  t0 = now_seconds ();
  if (ours)
    ours_forward (bm);
  else
    gemm_forward (bm);
  t1 = now_seconds ();
  if (ours)
    ours_backward (bm);
  else
    gemm_backward (bm);
  t2 = now_seconds ();
  s.fwd = t1 - t0;
  s.bwd = t2 - t1;
  s.total = t2 - t0;
  return s;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
sample_part (const Sample *s, int part)
{
  return part == 0 ? s->fwd : part == 1 ? s->bwd : s->total;
}

/* Median and minimum of forward, backward and total over @reps samples. */
static void
summarise (const Sample *samples, int reps, Sample *med, Sample *best)
{
  double *v = g_new (double, reps);
  double m[3], b[3];

  for (int part = 0; part < 3; part++) {
    for (int i = 0; i < reps; i++)
      v[i] = sample_part (&samples[i], part);
    qsort (v, (size_t) reps, sizeof (double), cmp_double);
    m[part] = reps % 2 ? v[reps / 2] : 0.5 * (v[reps / 2 - 1] + v[reps / 2]);
    b[part] = v[0];
  }
  med->fwd = m[0];
  med->bwd = m[1];
  med->total = m[2];
  best->fwd = b[0];
  best->bwd = b[1];
  best->total = b[2];
  g_free (v);
}

/* Ours and raw sgemm alternate step by step, swapping which goes first, so
 * that frequency changes, other load and cache state hit both alike. */
static void
run_layer (Bench *bm, gboolean do_ours, gboolean do_gemm, double min_time,
           int min_reps, Result *r)
{
  GArray *ours = g_array_new (FALSE, FALSE, sizeof (Sample));
  GArray *gemm = g_array_new (FALSE, FALSE, sizeof (Sample));
  double t_ours = 0.0, t_gemm = 0.0;
  double warm_end = now_seconds () + 0.2 * min_time;
  int warm = 0;

  /* warm-up: threads spun up, pages touched, caches and predictors trained */
  while (warm < 2 || now_seconds () < warm_end) {
    if (do_ours)
      time_step (bm, TRUE);
    if (do_gemm)
      time_step (bm, FALSE);
    warm++;
  }

  for (int rep = 0; rep < MAX_REPS; rep++) {
    Sample a = { NAN, NAN, NAN }, g = { NAN, NAN, NAN };

    if (rep % 2 == 0) {
      if (do_ours)
        a = time_step (bm, TRUE);
      if (do_gemm)
        g = time_step (bm, FALSE);
    } else {
      if (do_gemm)
        g = time_step (bm, FALSE);
      if (do_ours)
        a = time_step (bm, TRUE);
    }
    g_array_append_val (ours, a);
    g_array_append_val (gemm, g);
    t_ours += do_ours ? a.total : min_time;
    t_gemm += do_gemm ? g.total : min_time;
    if (rep + 1 >= min_reps && t_ours >= min_time && t_gemm >= min_time)
      break;
  }

  r->reps = (int) ours->len;
  summarise ((const Sample *) (void *) ours->data, r->reps, &r->ours_med,
             &r->ours_best);
  summarise ((const Sample *) (void *) gemm->data, r->reps, &r->gemm_med,
             &r->gemm_best);
  g_array_free (ours, TRUE);
  g_array_free (gemm, TRUE);
}

/* --threads N runs N only; the default is 1, then 2 threads. */
static int
thread_counts (int *counts)
{
  if (opt_threads > 0) {
    counts[0] = opt_threads;
    return 1;
  }
  counts[0] = 1;
  counts[1] = 2;
  return 2;
}

int
main (int argc, char **argv)
{
  GOptionContext *ctx;
  GError *error = NULL;
  const int n_layers = (int) G_N_ELEMENTS (layer_specs);
  Bench *benches;
  gboolean *active;
  int counts[2], n_counts, min_reps, status = 0;
  gboolean do_ours = TRUE, do_gemm = TRUE;
  double min_time;
  const char *coretype;

  ctx = g_option_context_new ("- time conv/linear forward+backward against raw sgemm");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("bench-layers: %s\n", error->message);
    g_error_free (error);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);
  if (opt_threads < 0) {
    g_printerr ("bench-layers: --threads must be positive, got %d\n",
                opt_threads);
    return 2;
  }
  if (opt_side != NULL && strcmp (opt_side, "ours") == 0) {
    do_gemm = FALSE;
  } else if (opt_side != NULL && strcmp (opt_side, "sgemm") == 0) {
    do_ours = FALSE;
  } else if (opt_side != NULL) {
    g_printerr ("bench-layers: --side must be \"ours\" or \"sgemm\", got "
                "\"%s\"\n", opt_side);
    return 2;
  }
  min_time = opt_min_time > 0.0 ? opt_min_time : opt_quick ? 0.05 : 0.3;
  min_reps = opt_quick ? 3 : 10;
  n_counts = thread_counts (counts);

  coretype = g_getenv ("OPENBLAS_CORETYPE");
  printf ("mmdnn layer benchmark: batch %d, forward + backward (dx, dw, db) "
          "vs raw sgemm on the same GEMMs\n", BATCH);
  printf ("OpenBLAS core: %s   OPENBLAS_CORETYPE=%s   CPUs: %u   "
          "min %.2f s and %d reps per series\n",
          mmdnn_blas_core_name (), coretype != NULL ? coretype : "(unset)",
          g_get_num_processors (), min_time, min_reps);
  printf ("GFLOP/s count GEMM flops only: 2*M*N*K for each of forward, dx and "
          "dw; im2col, col2im and bias are overhead\n");
  printf ("median of interleaved steps; \"best\" = fastest step; "
          "target ratio >= %.2f\n\n", TARGET_RATIO);

  benches = g_new0 (Bench, n_layers);
  active = g_new0 (gboolean, n_layers);
  for (int l = 0; l < n_layers; l++) {
    if (opt_filter != NULL && strstr (layer_specs[l].name, opt_filter) == NULL)
      continue;
    if (!bench_init (&benches[l], &layer_specs[l], &error)) {
      g_printerr ("bench-layers: %s: %s\n", layer_specs[l].name,
                  error->message);
      g_clear_error (&error);
      status = 1;
      continue;
    }
    active[l] = TRUE;
  }

  printf ("%-22s %3s %7s %9s %9s %9s %6s %6s %6s %6s\n", "layer", "thr",
          "GFLOP", "ours ms", "ours", "sgemm", "ratio", "best", "fwd", "bwd");
  printf ("%-22s %3s %7s %9s %9s %9s %6s %6s %6s %6s\n", "", "", "/step",
          "/step", "GFLOP/s", "GFLOP/s", "", "ratio", "ratio", "ratio");

  for (int t = 0; t < n_counts; t++) {
    double log_sum = 0.0, min_ratio = G_MAXDOUBLE;
    const char *min_name = "-";
    int n_done = 0;

    mmdnn_blas_set_threads (counts[t]);
    for (int l = 0; l < n_layers; l++) {
      Bench *bm = &benches[l];
      Result r;
      double ratio, best_ratio, fwd_ratio, bwd_ratio;

      if (!active[l])
        continue;
      run_layer (bm, do_ours, do_gemm, min_time, min_reps, &r);
      ratio = r.gemm_med.total / r.ours_med.total;
      best_ratio = r.gemm_best.total / r.ours_best.total;
      fwd_ratio = r.gemm_med.fwd / r.ours_med.fwd;
      bwd_ratio = r.gemm_med.bwd / r.ours_med.bwd;
      printf ("%-22s %3d %7.3f %9.3f %9.2f %9.2f %6.3f %6.3f %6.3f %6.3f%s\n",
              bm->spec->name, mmdnn_blas_get_threads (), 1e-9 * bm->flops,
              1e3 * r.ours_med.total, 1e-9 * bm->flops / r.ours_med.total,
              1e-9 * bm->flops / r.gemm_med.total, ratio, best_ratio,
              fwd_ratio, bwd_ratio, ratio < TARGET_RATIO ? "  < target" : "");
      if (opt_verbose)
        printf ("%-22s     ms fwd+bwd: ours %.3f + %.3f, sgemm %.3f + %.3f "
                "(%d steps each)\n", "", 1e3 * r.ours_med.fwd,
                1e3 * r.ours_med.bwd, 1e3 * r.gemm_med.fwd,
                1e3 * r.gemm_med.bwd, r.reps);
      fflush (stdout);
      if (!do_ours || !do_gemm)
        continue;
      log_sum += log (ratio);
      if (ratio < min_ratio) {
        min_ratio = ratio;
        min_name = bm->spec->name;
      }
      n_done++;
    }
    if (n_done > 0)
      printf ("summary threads=%d: min ratio %.3f (%s), geometric mean %.3f, "
              "target %.2f %s\n\n", counts[t], min_ratio, min_name,
              exp (log_sum / n_done), TARGET_RATIO,
              min_ratio >= TARGET_RATIO ? "met" : "NOT met");
  }

  for (int l = 0; l < n_layers; l++)
    if (active[l])
      bench_clear (&benches[l]);
  g_free (benches);
  g_free (active);
  g_free (opt_filter);
  g_free (opt_side);
  return status;
}
