/* Tests of virtual data generation (augment.h) and the image encoder's
 * decode entry point.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/augment.h>
#include <mmdnn/loss.h>
#include <mmdnn/pool.h>
#include "gradcheck.h"

#define V MMDNN_MODALITY_VIDEO
#define A MMDNN_MODALITY_AUDIO
#define T MMDNN_MODALITY_TEXT

/* ------------------------------------------------------------ fixtures */

/* Tiny sizes: video 3×16×16 grid 2×2 (Hr = 8), audio 1×12×20 grid 1×2
 * (Hr×Wr = 8×12: a non-integer upsampling ratio), text 3×2 ids. */
static void
cfg_init (MmdnnModelConfig *c, int n_tasks)
{
  memset (c, 0, sizeof *c);
  c->has[V] = c->has[A] = c->has[T] = TRUE;
  c->video = (MmdnnImageEncoderConfig) {
    .channels = 3, .height = 16, .width = 16, .grid_h = 2, .grid_w = 2,
    .dim = 8, .use_ae = TRUE, .use_ms = TRUE, .use_sal = TRUE,
    .ae_width = 4, .ae_latent = 4, .ms_width = 4, .ms_width2 = 4,
    .ms_width3 = 4, .sal_width = 4,
  };
  c->audio = c->video;
  c->audio.channels = 1;
  c->audio.height = 12;
  c->audio.width = 20;
  c->audio.grid_h = 1;
  c->audio.grid_w = 2;
  c->text_prep = (MmdnnTextConfig) { .buckets = 97, .max_tokens = 3,
                                     .max_ids_per_token = 2 };
  c->text.buckets = 97;
  c->text.max_tokens = 3;
  c->text.ids_per_token = 2;
  c->n_tasks = n_tasks;
}

static int64_t
row_of (const MmdnnModelConfig *c, int m)
{
  if (m == V)
    return c->video.channels * c->video.height * c->video.width;
  if (m == A)
    return c->audio.channels * c->audio.height * c->audio.width;
  return c->text.max_tokens * c->text.ids_per_token;
}

/* Field by field: memcmp would read the struct's padding. */
static gboolean
rng_equal (const MmdnnRng *x, const MmdnnRng *y)
{
  return memcmp (x->s, y->s, sizeof x->s) == 0
      && !x->have_spare == !y->have_spare
      && memcmp (&x->spare, &y->spare, sizeof x->spare) == 0;
}

/* A batch owned by the test (g_free'd field by field, as mmdnn_batch_free
 * does): inputs zero, presence 1, labels −1, unmixed. */
static MmdnnBatch *
tb_new (const MmdnnModelConfig *c, int64_t n)
{
  MmdnnBatch *b = g_new0 (MmdnnBatch, 1);

  b->n = n;
  b->video = g_new0 (float, n * row_of (c, V));
  b->audio = g_new0 (float, n * row_of (c, A));
  b->text_ids = g_new0 (int32_t, n * row_of (c, T));
  b->presence = g_new (float, n * 3);
  b->labels = g_new (int32_t, n * c->n_tasks);
  for (int64_t i = 0; i < n * 3; i++)
    b->presence[i] = 1.0f;
  for (int64_t i = 0; i < n * c->n_tasks; i++)
    b->labels[i] = -1;
  b->mix = 1.0f;
  return b;
}

static void
tb_free (MmdnnBatch *b)
{
  g_free (b->video);
  g_free (b->audio);
  g_free (b->text_ids);
  g_free (b->presence);
  g_free (b->labels);
  g_free (b->labels_b);
  g_free (b);
}

static MmdnnBatch *
tb_copy (const MmdnnModelConfig *c, const MmdnnBatch *s)
{
  MmdnnBatch *b = g_new0 (MmdnnBatch, 1);
  int64_t n = s->n;

  *b = *s;
  b->video = g_memdup2 (s->video, sizeof (float) * n * row_of (c, V));
  b->audio = g_memdup2 (s->audio, sizeof (float) * n * row_of (c, A));
  b->text_ids = g_memdup2 (s->text_ids, sizeof (int32_t) * n * row_of (c, T));
  b->presence = g_memdup2 (s->presence, sizeof (float) * n * 3);
  b->labels = g_memdup2 (s->labels, sizeof (int32_t) * n * c->n_tasks);
  b->labels_b = s->labels_b != NULL
      ? g_memdup2 (s->labels_b, sizeof (int32_t) * n * c->n_tasks) : NULL;
  return b;
}

/* Bitwise (NaN-safe) equality of everything in two batches. */
static gboolean
tb_equal (const MmdnnModelConfig *c, const MmdnnBatch *x, const MmdnnBatch *y)
{
  int64_t n = x->n;

  if (x->n != y->n || memcmp (&x->mix, &y->mix, sizeof (float)) != 0
      || (x->labels_b == NULL) != (y->labels_b == NULL)
      || (x->labels == NULL) != (y->labels == NULL))
    return FALSE;
  return memcmp (x->video, y->video, sizeof (float) * n * row_of (c, V)) == 0
      && memcmp (x->audio, y->audio, sizeof (float) * n * row_of (c, A)) == 0
      && memcmp (x->text_ids, y->text_ids,
                 sizeof (int32_t) * n * row_of (c, T)) == 0
      && memcmp (x->presence, y->presence, sizeof (float) * n * 3) == 0
      && (x->labels == NULL
          || memcmp (x->labels, y->labels, sizeof (int32_t) * n * c->n_tasks) == 0)
      && (x->labels_b == NULL
          || memcmp (x->labels_b, y->labels_b,
                     sizeof (int32_t) * n * c->n_tasks) == 0);
}

static void *
input_row (const MmdnnBatch *b, const MmdnnModelConfig *c, int m, int64_t i)
{
  if (m == V)
    return b->video + i * row_of (c, V);
  if (m == A)
    return b->audio + i * row_of (c, A);
  return b->text_ids + i * row_of (c, T);
}

static size_t
row_bytes (const MmdnnModelConfig *c, int m)
{
  return (size_t) row_of (c, m) * (m == T ? sizeof (int32_t) : sizeof (float));
}

/* Every row of sample i, modality m, gets a pattern no other row has. */
static void
fill_signatures (MmdnnBatch *b, const MmdnnModelConfig *c)
{
  for (int64_t i = 0; i < b->n; i++) {
    for (int m = 0; m < 3; m++) {
      int64_t r = row_of (c, m);

      for (int64_t k = 0; k < r; k++) {
        if (m == T)
          ((int32_t *) input_row (b, c, m, i))[k] = (int32_t) (i * 10 + k % 7);
        else
          ((float *) input_row (b, c, m, i))[k] = (float) (i * 1000 + m * 100
                                                           + k % 7);
      }
    }
  }
}

static void
fill_random (MmdnnBatch *b, const MmdnnModelConfig *c, MmdnnRng *rng)
{
  mmdnn_rng_fill_uniform (rng, b->video, b->n * row_of (c, V), 0.0f, 1.0f);
  mmdnn_rng_fill_uniform (rng, b->audio, b->n * row_of (c, A), -1.0f, 1.0f);
  for (int64_t k = 0; k < b->n * row_of (c, T); k++)
    b->text_ids[k] = (int32_t) mmdnn_rng_below (rng, 97);
}

/* The missing modality rows hold NaN: they must never be read. */
static void
poison_missing (MmdnnBatch *b, const MmdnnModelConfig *c)
{
  for (int64_t i = 0; i < b->n; i++)
    for (int m = 0; m < 2; m++)
      if (b->presence[i * 3 + m] == 0.0f)
        for (int64_t k = 0; k < row_of (c, m); k++)
          ((float *) input_row (b, c, m, i))[k] = NAN;
}

/* A model assembled by hand from the image encoders (all augment uses):
 * independent of model.c. */
typedef struct {
  MmdnnModelConfig cfg;
  MmdnnModel       m;
} Fx;

static Fx *
fx_new (uint64_t seed)
{
  Fx *f = g_new0 (Fx, 1);
  GError *err = NULL;
  MmdnnRng rng;

  cfg_init (&f->cfg, 1);
  f->m.config = &f->cfg;
  f->m.params = mmdnn_param_set_new ();
  g_assert_true (mmdnn_image_encoder_init (&f->m.video, f->m.params, "video",
                                           &f->cfg.video, &err));
  g_assert_true (mmdnn_image_encoder_init (&f->m.audio, f->m.params, "audio",
                                           &f->cfg.audio, &err));
  g_assert_true (mmdnn_param_set_allocate (f->m.params, &err));
  g_assert_no_error (err);
  mmdnn_rng_init (&rng, seed);
  mmdnn_image_encoder_reset (&f->m.video, &rng);
  mmdnn_image_encoder_reset (&f->m.audio, &rng);
  mmdnn_rng_init (&f->m.rng, seed + 1);
  f->m.max_batch = 512;
  return f;
}

static void
fx_free (Fx *f)
{
  mmdnn_param_set_free (f->m.params);
  g_free (f);
}

/* --------------------------------------------------------------- Beta */

static void
test_beta_moments (void)
{
  const double shapes[][2] = { { 0.2, 0.2 }, { 2.0, 5.0 }, { 0.5, 3.0 },
                               { 1.0, 1.0 } };
  MmdnnRng rng;
  const int n = 40000;

  mmdnn_rng_init (&rng, 11);
  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++) {
    double a = shapes[s][0], bb = shapes[s][1];
    double mean = a / (a + bb), var = a * bb / ((a + bb) * (a + bb) * (a + bb + 1));
    double sum = 0, sq = 0, m, v;

    for (int i = 0; i < n; i++) {
      double x = mmdnn_augment_beta (&rng, a, bb);

      g_assert_true (x >= 0.0 && x <= 1.0);
      sum += x;
      sq += x * x;
    }
    m = sum / n;
    v = sq / n - m * m;
    /* 5 standard errors of the mean; variance within 5 % */
    g_assert_cmpfloat (fabs (m - mean), <, 5 * sqrt (var / n));
    g_assert_cmpfloat (fabs (v - var) / var, <, 0.05);
  }
}

static void
test_beta_tiny_shape (void)
{
  MmdnnRng rng, rng2;
  int extremes = 0;

  /* Beta(α, α) → Bernoulli(½) as α → 0: no 0/0 */
  mmdnn_rng_init (&rng, 5);
  mmdnn_rng_init (&rng2, 5);
  for (int i = 0; i < 2000; i++) {
    double x = mmdnn_augment_beta (&rng, 1e-3, 1e-3);

    g_assert_true (x >= 0.0 && x <= 1.0);
    extremes += x < 1e-6 || x > 1 - 1e-6;
    g_assert_cmpfloat (x, ==, mmdnn_augment_beta (&rng2, 1e-3, 1e-3));
  }
  g_assert_cmpint (extremes, >, 1900);
}

static void
test_beta_bad_shape_n (void)
{
  MmdnnRng rng, before;

  mmdnn_rng_init (&rng, 5);
  before = rng;
  g_assert_true (isnan (mmdnn_augment_beta (&rng, 0.0, 1.0)));
  g_assert_true (isnan (mmdnn_augment_beta (&rng, 1.0, -1.0)));
  g_assert_true (isnan (mmdnn_augment_beta (&rng, NAN, 1.0)));
  g_assert_true (isnan (mmdnn_augment_beta (&rng, 1.0, INFINITY)));
  g_assert_true (isnan (mmdnn_augment_beta (NULL, 1.0, 1.0)));
  g_assert_true (rng_equal (&rng, &before));
}

/* ------------------------------------------------------ recombination */

/* Sample i's modality-m row came from sample src (its original row). */
static int64_t
find_source (const MmdnnBatch *now, const MmdnnBatch *orig,
             const MmdnnModelConfig *c, int m, int64_t i)
{
  for (int64_t j = 0; j < orig->n; j++)
    if (memcmp (input_row (now, c, m, i), input_row (orig, c, m, j),
                row_bytes (c, m)) == 0)
      return j;
  return -1;
}

static void
test_recombine_stats (void)
{
  MmdnnModelConfig c;
  MmdnnBatch *b, *orig;
  MmdnnRng rng;
  const int64_t n = 600;
  const float p = 0.3f;
  int64_t changed = 0, per_mod[3] = { 0 };

  cfg_init (&c, 1);
  b = tb_new (&c, n);
  mmdnn_rng_init (&rng, 21);
  for (int64_t i = 0; i < n; i++) {
    b->labels[i] = (int32_t) (i % 4);
    /* a few missing modalities, never all */
    if (i % 5 == 1)
      b->presence[i * 3 + V] = 0.0f;
    if (i % 7 == 2)
      b->presence[i * 3 + T] = 0.0f;
  }
  fill_signatures (b, &c);
  orig = tb_copy (&c, b);

  mmdnn_augment_recombine (b, &c, p, &rng);
  g_assert_true (memcmp (b->presence, orig->presence, sizeof (float) * n * 3) == 0);
  g_assert_true (memcmp (b->labels, orig->labels, sizeof (int32_t) * n) == 0);
  for (int64_t i = 0; i < n; i++) {
    int n_changed = 0;

    for (int m = 0; m < 3; m++) {
      int64_t j = find_source (b, orig, &c, m, i);

      g_assert_cmpint (j, >=, 0);     /* always some sample's original row */
      if (j == i)
        continue;
      n_changed++;
      per_mod[m]++;
      g_assert_cmpint (b->labels[j], ==, b->labels[i]);   /* same class */
      g_assert_true (orig->presence[i * 3 + m] == 1.0f);  /* present in both */
      g_assert_true (orig->presence[j * 3 + m] == 1.0f);
    }
    g_assert_cmpint (n_changed, <=, 1);
    changed += n_changed;
  }
  /* every sample is eligible: the fraction is p (±4.5 σ) */
  g_assert_cmpfloat (fabs ((double) changed / n - p), <,
                     4.5 * sqrt (p * (1 - p) / n));
  for (int m = 0; m < 3; m++)
    g_assert_cmpint (per_mod[m], >, changed / 6);
  tb_free (b);
  tb_free (orig);
}

/* Two samples of a class swap video at p = 1: each must get the other's
 * ORIGINAL row (a chained in-place copy would give both the same row). */
static void
test_recombine_no_chains (void)
{
  MmdnnModelConfig c;
  MmdnnBatch *b, *orig;
  MmdnnRng rng;

  cfg_init (&c, 1);
  c.has[A] = c.has[T] = FALSE;
  b = tb_new (&c, 4);
  fill_signatures (b, &c);
  b->labels[0] = 3;
  b->labels[1] = 1;
  b->labels[2] = 3;
  b->labels[3] = 2;             /* no partner */
  orig = tb_copy (&c, b);
  mmdnn_rng_init (&rng, 1);
  mmdnn_augment_recombine (b, &c, 1.0f, &rng);
  g_assert_cmpint (find_source (b, orig, &c, V, 0), ==, 2);
  g_assert_cmpint (find_source (b, orig, &c, V, 2), ==, 0);
  g_assert_cmpint (find_source (b, orig, &c, V, 1), ==, 1);
  g_assert_cmpint (find_source (b, orig, &c, V, 3), ==, 3);
  /* audio/text the config lacks are never touched */
  g_assert_true (memcmp (b->audio, orig->audio, sizeof (float) * 4 * row_of (&c, A)) == 0);
  tb_free (b);
  tb_free (orig);
}

/* Unknown labels neither give nor take; missing (NaN) rows are never a
 * source; everything present stays finite. */
static void
test_recombine_unknown_and_missing (void)
{
  MmdnnModelConfig c;
  MmdnnBatch *b, *orig;
  MmdnnRng rng;
  const int64_t n = 60;

  cfg_init (&c, 1);
  b = tb_new (&c, n);
  fill_signatures (b, &c);
  for (int64_t i = 0; i < n; i++) {
    b->labels[i] = i % 3 == 0 ? -1 : (int32_t) (i % 2);
    if (i % 4 == 1)
      b->presence[i * 3 + V] = 0.0f;
    if (i % 4 == 2)
      b->presence[i * 3 + A] = 0.0f;
  }
  poison_missing (b, &c);
  orig = tb_copy (&c, b);
  mmdnn_rng_init (&rng, 3);
  mmdnn_augment_recombine (b, &c, 1.0f, &rng);
  for (int64_t i = 0; i < n; i++) {
    for (int m = 0; m < 3; m++) {
      gboolean missing = orig->presence[i * 3 + m] == 0.0f;
      int64_t j;

      if (missing || orig->labels[i] < 0) {
        g_assert_true (memcmp (input_row (b, &c, m, i), input_row (orig, &c, m, i),
                               row_bytes (&c, m)) == 0);
        continue;
      }
      j = find_source (b, orig, &c, m, i);
      g_assert_cmpint (j, >=, 0);
      g_assert_cmpint (orig->labels[j], ==, orig->labels[i]);
      g_assert_true (orig->presence[j * 3 + m] == 1.0f);
      if (m != T)
        g_assert_true (isfinite (((float *) input_row (b, &c, m, i))[0]));
    }
  }
  tb_free (b);
  tb_free (orig);
}

static void
test_recombine_noop_n (void)
{
  MmdnnModelConfig c;
  MmdnnBatch *b, *orig;
  MmdnnRng rng, before;

  cfg_init (&c, 1);
  b = tb_new (&c, 6);
  fill_signatures (b, &c);
  for (int i = 0; i < 6; i++)
    b->labels[i] = 0;
  orig = tb_copy (&c, b);
  mmdnn_rng_init (&rng, 3);
  before = rng;
  mmdnn_augment_recombine (b, &c, NAN, &rng);
  mmdnn_augment_recombine (b, &c, INFINITY, &rng);
  mmdnn_augment_recombine (b, &c, -0.5f, &rng);
  mmdnn_augment_recombine (b, &c, 0.0f, &rng);
  mmdnn_augment_recombine (b, NULL, 1.0f, &rng);
  mmdnn_augment_recombine (b, &c, 1.0f, NULL);
  mmdnn_augment_recombine (NULL, &c, 1.0f, &rng);
  g_assert_true (tb_equal (&c, b, orig));
  g_assert_true (rng_equal (&rng, &before));
  tb_free (b);
  tb_free (orig);
}

/* -------------------------------------------------------------- mixup */

static void
test_mixup_exact (void)
{
  MmdnnModelConfig c;
  MmdnnBatch *b, *orig;
  MmdnnRng rng;
  GError *err = NULL;
  const int64_t perm[5] = { 2, 0, 1, 4, 3 };
  const float lam = 0.7f;

  cfg_init (&c, 2);
  b = tb_new (&c, 5);
  mmdnn_rng_init (&rng, 8);
  fill_random (b, &c, &rng);
  for (int i = 0; i < 5; i++) {
    b->labels[i * 2] = i;
    b->labels[i * 2 + 1] = i % 2 == 0 ? 1 : -1;
  }
  b->presence[3 * 3 + V] = 0.0f;        /* 3 ↔ 4: video only in 4 */
  b->presence[1 * 3 + A] = 0.0f;        /* 0 ← 1: 0 keeps its audio */
  poison_missing (b, &c);
  orig = tb_copy (&c, b);

  g_assert_true (mmdnn_augment_mixup_with (b, &c, lam, perm, &err));
  g_assert_no_error (err);
  g_assert_cmpfloat (b->mix, ==, lam);
  g_assert_nonnull (b->labels_b);
  for (int64_t i = 0; i < 5; i++) {
    int64_t j = perm[i];

    g_assert_cmpint (b->labels_b[i * 2], ==, orig->labels[j * 2]);
    g_assert_cmpint (b->labels_b[i * 2 + 1], ==, orig->labels[j * 2 + 1]);
    for (int m = 0; m < 2; m++) {
      const float *xi = input_row (orig, &c, m, i), *xj = input_row (orig, &c, m, j);
      const float *got = input_row (b, &c, m, i);
      gboolean both = orig->presence[i * 3 + m] == 1.0f
          && orig->presence[j * 3 + m] == 1.0f;

      for (int64_t k = 0; k < row_of (&c, m); k++) {
        float want = both ? lam * xi[k] + (1.0f - lam) * xj[k] : xi[k];

        if (isnan (xi[k]))
          g_assert_true (isnan (got[k]));
        else
          g_assert_cmpfloat (got[k], ==, want);
      }
    }
  }
  /* text, presence and labels untouched */
  g_assert_true (memcmp (b->text_ids, orig->text_ids, sizeof (int32_t) * 5 * row_of (&c, T)) == 0);
  g_assert_true (memcmp (b->presence, orig->presence, sizeof (float) * 15) == 0);
  g_assert_true (memcmp (b->labels, orig->labels, sizeof (int32_t) * 10) == 0);
  tb_free (b);
  tb_free (orig);
}

/* Random λ and π: λ ∈ [½, 1], π a permutation (read back through unique
 * labels), the values λ·x_i + (1−λ)·x_π(i); a preallocated labels_b is
 * reused. */
static void
test_mixup_random (void)
{
  MmdnnModelConfig c;
  MmdnnRng rng;
  double lam_sum = 0;
  const int reps = 400;

  cfg_init (&c, 1);
  mmdnn_rng_init (&rng, 99);
  for (int r = 0; r < reps; r++) {
    MmdnnBatch *b = tb_new (&c, 7), *orig;
    GError *err = NULL;
    gboolean seen[7] = { FALSE };
    int32_t *pre = NULL;

    fill_random (b, &c, &rng);
    for (int i = 0; i < 7; i++)
      b->labels[i] = i;
    if (r % 2 == 1)
      b->labels_b = pre = g_new0 (int32_t, 7);
    orig = tb_copy (&c, b);
    g_assert_true (mmdnn_augment_mixup (b, &c, 0.4f, &rng, &err));
    g_assert_no_error (err);
    g_assert_true (b->mix >= 0.5f && b->mix <= 1.0f);
    if (pre != NULL)
      g_assert_true (b->labels_b == pre);
    lam_sum += b->mix;
    for (int64_t i = 0; i < 7; i++) {
      int64_t j = b->labels_b[i];

      g_assert_true (j >= 0 && j < 7 && !seen[j]);
      seen[j] = TRUE;
      for (int64_t k = 0; k < row_of (&c, V); k++)
        g_assert_cmpfloat (b->video[i * row_of (&c, V) + k], ==,
                           j == i ? orig->video[i * row_of (&c, V) + k]
                           : b->mix * orig->video[i * row_of (&c, V) + k]
                             + (1.0f - b->mix) * orig->video[j * row_of (&c, V) + k]);
    }
    tb_free (b);
    tb_free (orig);
  }
  /* E[max(B, 1−B)] for B ~ Beta(0.4, 0.4) is 0.5 + E|B − ½| ≈ 0.8 */
  g_assert_cmpfloat (lam_sum / reps, >, 0.72);
  g_assert_cmpfloat (lam_sum / reps, <, 0.88);
}

/* On a batch from mmdnn_batch_new, mixup allocates labels_b and
 * mmdnn_batch_free frees it (valgrind sees no leak). */
static void
test_mixup_batch_owns_labels_b (void)
{
  MmdnnModelConfig c;
  MmdnnBatch *b;
  MmdnnRng rng;
  GError *err = NULL;

  cfg_init (&c, 2);
  b = mmdnn_batch_new (&c, 6, &err);
  g_assert_no_error (err);
  g_assert_null (b->labels_b);
  for (int i = 0; i < 12; i++)
    b->labels[i] = i % 3;
  mmdnn_rng_init (&rng, 3);
  g_assert_true (mmdnn_augment_mixup (b, &c, 1.0f, &rng, &err));
  g_assert_no_error (err);
  g_assert_nonnull (b->labels_b);
  for (int i = 0; i < 12; i++)
    g_assert_cmpint (b->labels_b[i], >=, 0);
  mmdnn_batch_free (b);
}

/* The arguments of a failing call leave the batch and the RNG as they were. */
#define ASSERT_MIXUP_FAILS(call, code)                                       \
  G_STMT_START {                                                             \
    GError *err_ = NULL;                                                     \
    g_assert_false (call);                                                   \
    g_assert_error (err_, MMDNN_ERROR, code);                                \
    g_clear_error (&err_);                                                   \
  } G_STMT_END

typedef struct {
  MmdnnModelConfig c;
  MmdnnBatch *b, *orig;
  MmdnnRng rng, rng0;
} Neg;

static void
neg_init (Neg *g)
{
  cfg_init (&g->c, 1);
  g->b = tb_new (&g->c, 4);
  mmdnn_rng_init (&g->rng, 4);
  fill_random (g->b, &g->c, &g->rng);
  for (int i = 0; i < 4; i++)
    g->b->labels[i] = i % 2;
  g->orig = tb_copy (&g->c, g->b);
  g->rng0 = g->rng;
}

static void
neg_done (Neg *g)
{
  g_assert_true (tb_equal (&g->c, g->b, g->orig));
  g_assert_true (rng_equal (&g->rng, &g->rng0));
  tb_free (g->b);
  tb_free (g->orig);
}

static void
test_mixup_bad_alpha_n (void)
{
  const float bad[] = { 0.0f, -1.0f, NAN, INFINITY };
  Neg g;

  neg_init (&g);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    ASSERT_MIXUP_FAILS (mmdnn_augment_mixup (g.b, &g.c, bad[i], &g.rng, &err_),
                        MMDNN_ERROR_INVALID_ARGUMENT);
  neg_done (&g);
}

static void
test_mixup_null_n (void)
{
  Neg g;

  neg_init (&g);
  ASSERT_MIXUP_FAILS (mmdnn_augment_mixup (NULL, &g.c, 0.2f, &g.rng, &err_),
                      MMDNN_ERROR_INVALID_ARGUMENT);
  ASSERT_MIXUP_FAILS (mmdnn_augment_mixup (g.b, NULL, 0.2f, &g.rng, &err_),
                      MMDNN_ERROR_INVALID_ARGUMENT);
  ASSERT_MIXUP_FAILS (mmdnn_augment_mixup (g.b, &g.c, 0.2f, NULL, &err_),
                      MMDNN_ERROR_INVALID_ARGUMENT);
  neg_done (&g);
}

static void
test_mixup_no_labels_n (void)
{
  Neg g;
  int32_t *labels;

  neg_init (&g);
  labels = g.b->labels;
  g.b->labels = NULL;
  ASSERT_MIXUP_FAILS (mmdnn_augment_mixup (g.b, &g.c, 0.2f, &g.rng, &err_),
                      MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_null (g.b->labels_b);
  g.b->labels = labels;
  neg_done (&g);
}

static void
test_mixup_empty_batch_n (void)
{
  Neg g;

  neg_init (&g);
  g.b->n = 0;
  ASSERT_MIXUP_FAILS (mmdnn_augment_mixup (g.b, &g.c, 0.2f, &g.rng, &err_),
                      MMDNN_ERROR_INVALID_ARGUMENT);
  g.b->n = 4;
  g.c.n_tasks = 0;
  ASSERT_MIXUP_FAILS (mmdnn_augment_mixup (g.b, &g.c, 0.2f, &g.rng, &err_),
                      MMDNN_ERROR_INVALID_ARGUMENT);
  g.c.n_tasks = 1;
  neg_done (&g);
}

static void
test_mixup_already_mixed_n (void)
{
  Neg g;
  const int64_t perm[4] = { 1, 0, 3, 2 };

  neg_init (&g);
  g.b->mix = g.orig->mix = 0.8f;
  g.b->labels_b = g_new0 (int32_t, 4);
  g.orig->labels_b = g_new0 (int32_t, 4);
  ASSERT_MIXUP_FAILS (mmdnn_augment_mixup (g.b, &g.c, 0.2f, &g.rng, &err_),
                      MMDNN_ERROR_INVALID_ARGUMENT);
  ASSERT_MIXUP_FAILS (mmdnn_augment_mixup_with (g.b, &g.c, 0.6f, perm, &err_),
                      MMDNN_ERROR_INVALID_ARGUMENT);
  neg_done (&g);
}

static void
test_mixup_bad_lambda_n (void)
{
  const float bad[] = { -0.1f, 1.5f, NAN, INFINITY };
  const int64_t perm[4] = { 1, 0, 3, 2 };
  Neg g;

  neg_init (&g);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    ASSERT_MIXUP_FAILS (mmdnn_augment_mixup_with (g.b, &g.c, bad[i], perm, &err_),
                        MMDNN_ERROR_INVALID_ARGUMENT);
  neg_done (&g);
}

static void
test_mixup_bad_perm_n (void)
{
  const int64_t out_of_range[4] = { 1, 0, 4, 2 };
  const int64_t negative[4] = { 1, 0, -1, 2 };
  const int64_t repeated[4] = { 1, 1, 3, 2 };
  Neg g;

  neg_init (&g);
  ASSERT_MIXUP_FAILS (mmdnn_augment_mixup_with (g.b, &g.c, 0.6f, out_of_range, &err_),
                      MMDNN_ERROR_INVALID_ARGUMENT);
  ASSERT_MIXUP_FAILS (mmdnn_augment_mixup_with (g.b, &g.c, 0.6f, negative, &err_),
                      MMDNN_ERROR_INVALID_ARGUMENT);
  ASSERT_MIXUP_FAILS (mmdnn_augment_mixup_with (g.b, &g.c, 0.6f, repeated, &err_),
                      MMDNN_ERROR_INVALID_ARGUMENT);
  ASSERT_MIXUP_FAILS (mmdnn_augment_mixup_with (g.b, &g.c, 0.6f, NULL, &err_),
                      MMDNN_ERROR_INVALID_ARGUMENT);
  neg_done (&g);
}

/* ---------------------------------------------------- modality dropout */

static void
test_dropout_stats (void)
{
  MmdnnModelConfig c;
  MmdnnBatch *b, *orig;
  MmdnnRng rng;
  const int64_t n = 6000;
  const float p = 0.4f;
  int64_t dropped3[3] = { 0 }, n3 = 0, dropped2 = 0, n2 = 0;

  cfg_init (&c, 1);
  b = tb_new (&c, n);
  /* a third with all three, a third with video+text, a third text only */
  for (int64_t i = 0; i < n; i++) {
    if (i % 3 == 1)
      b->presence[i * 3 + A] = 0.0f;
    if (i % 3 == 2)
      b->presence[i * 3 + V] = b->presence[i * 3 + A] = 0.0f;
  }
  fill_signatures (b, &c);
  orig = tb_copy (&c, b);
  mmdnn_rng_init (&rng, 17);
  mmdnn_augment_modality_dropout (b, p, &rng);
  for (int64_t i = 0; i < n; i++) {
    int left = 0;

    for (int m = 0; m < 3; m++) {
      float was = orig->presence[i * 3 + m], now = b->presence[i * 3 + m];

      g_assert_true (now == was || (was == 1.0f && now == 0.0f));
      left += now == 1.0f;
      if (i % 3 == 0)
        dropped3[m] += now != was;
      else if (i % 3 == 1 && m != A)
        dropped2 += now != was;
    }
    g_assert_cmpint (left, >=, 1);
    if (i % 3 == 2)
      g_assert_cmpfloat (b->presence[i * 3 + T], ==, 1.0f);
    n3 += i % 3 == 0;
    n2 += i % 3 == 1 ? 2 : 0;
  }
  /* with k present, each is dropped with probability p − p^k/k */
  for (int m = 0; m < 3; m++) {
    double want = p - p * p * p / 3;

    g_assert_cmpfloat (fabs ((double) dropped3[m] / n3 - want), <,
                       4.5 * sqrt (want * (1 - want) / n3));
  }
  {
    double want = p - p * p / 2;

    g_assert_cmpfloat (fabs ((double) dropped2 / n2 - want), <,
                       4.5 * sqrt (want * (1 - want) / n2) * 1.5);
  }
  /* inputs and labels untouched */
  g_assert_true (memcmp (b->video, orig->video, sizeof (float) * n * row_of (&c, V)) == 0);
  g_assert_true (memcmp (b->labels, orig->labels, sizeof (int32_t) * n) == 0);
  tb_free (b);
  tb_free (orig);
}

/* p = 1: exactly one modality survives per sample, each equally often. */
static void
test_dropout_never_empties (void)
{
  MmdnnModelConfig c;
  MmdnnBatch *b;
  MmdnnRng rng;
  const int64_t n = 3000;
  int64_t kept[3] = { 0 };

  cfg_init (&c, 1);
  b = tb_new (&c, n);
  mmdnn_rng_init (&rng, 23);
  mmdnn_augment_modality_dropout (b, 1.0f, &rng);
  for (int64_t i = 0; i < n; i++) {
    int left = 0;

    for (int m = 0; m < 3; m++) {
      left += b->presence[i * 3 + m] == 1.0f;
      kept[m] += b->presence[i * 3 + m] == 1.0f;
    }
    g_assert_cmpint (left, ==, 1);
  }
  for (int m = 0; m < 3; m++)
    g_assert_cmpfloat (fabs ((double) kept[m] / n - 1.0 / 3), <, 0.04);
  tb_free (b);
}

static void
test_dropout_noop_n (void)
{
  MmdnnModelConfig c;
  MmdnnBatch *b, *orig;
  MmdnnRng rng, before;
  float *presence;

  cfg_init (&c, 1);
  b = tb_new (&c, 5);
  orig = tb_copy (&c, b);
  mmdnn_rng_init (&rng, 2);
  before = rng;
  mmdnn_augment_modality_dropout (b, NAN, &rng);
  mmdnn_augment_modality_dropout (b, INFINITY, &rng);
  mmdnn_augment_modality_dropout (b, -1.0f, &rng);
  mmdnn_augment_modality_dropout (b, 0.5f, NULL);
  mmdnn_augment_modality_dropout (NULL, 0.5f, &rng);
  presence = b->presence;
  b->presence = NULL;
  mmdnn_augment_modality_dropout (b, 0.5f, &rng);
  b->presence = presence;
  g_assert_true (tb_equal (&c, b, orig));
  g_assert_true (rng_equal (&rng, &before));
  tb_free (b);
  tb_free (orig);
}

/* ------------------------------------------------- decode and latent */

/* PyTorch F.interpolate (bilinear, align_corners=False), written out per
 * axis: the 1-D weights of each output coordinate, then their product. */
static void
weights_1d (int64_t o, int64_t in, int64_t out, int64_t *i0, int64_t *i1,
            double *w1)
{
  double src = ((double) o + 0.5) * (double) in / (double) out - 0.5;

  if (src < 0)
    src = 0;
  *i0 = (int64_t) floor (src);
  *i1 = *i0 < in - 1 ? *i0 + 1 : *i0;
  *w1 = src - (double) *i0;
}

static void
ref_upsample (float *y, const float *x, int64_t c, int64_t hi, int64_t wi,
              int64_t ho, int64_t wo)
{
  for (int64_t ch = 0; ch < c; ch++)
    for (int64_t oy = 0; oy < ho; oy++)
      for (int64_t ox = 0; ox < wo; ox++) {
        int64_t y0, y1, x0, x1;
        double wy, wx, acc;
        const float *p = x + ch * hi * wi;

        weights_1d (oy, hi, ho, &y0, &y1, &wy);
        weights_1d (ox, wi, wo, &x0, &x1, &wx);
        acc = (1 - wy) * (1 - wx) * p[y0 * wi + x0] + (1 - wy) * wx * p[y0 * wi + x1]
            + wy * (1 - wx) * p[y1 * wi + x0] + wy * wx * p[y1 * wi + x1];
        y[(ch * ho + oy) * wo + ox] = (float) acc;
      }
}

/* decode (forward's latent) reproduces the forward's reconstruction loss */
static void
test_decode_matches_forward (void)
{
  Fx *f = fx_new (31);
  const MmdnnImageEncoder *e = &f->m.audio;
  MmdnnImageEncoderActs *a;
  GError *err = NULL;
  const float *tokens;
  float *x, *recon, *target, loss, again;
  int64_t n = 3, rec = e->config.channels * e->recon_h * e->recon_w;
  MmdnnRng rng;

  a = mmdnn_image_encoder_acts_new (e, n, &err);
  g_assert_no_error (err);
  mmdnn_rng_init (&rng, 2);
  x = gc_random (&rng, n * row_of (&f->cfg, A), -1, 1);
  recon = gc_zeros (n * rec);
  target = gc_zeros (n * rec);
  g_assert_true (mmdnn_image_encoder_forward (e, a, x, n, &tokens, &loss, &err));
  g_assert_true (mmdnn_image_encoder_decode (e, a, mmdnn_image_encoder_latent (a),
                                             n, recon, &err));
  g_assert_no_error (err);
  mmdnn_adaptive_avgpool2d_forward (target, x, n, e->config.channels,
                                    e->config.height, e->config.width,
                                    e->recon_h, e->recon_w);
  again = mmdnn_mse_forward (recon, target, n * rec);
  g_assert_cmpfloat (loss, >, 0.0f);
  g_assert_cmpfloat (fabsf (again - loss), <=, 1e-6f * loss);
  g_free (x);
  g_free (recon);
  g_free (target);
  mmdnn_image_encoder_acts_free (a);
  fx_free (f);
}

/* Encoder → latent → decoder → upsample, through the public API. */
static void
ref_latent_recon (const MmdnnImageEncoder *e, const float *x, float *out)
{
  MmdnnImageEncoderActs *a;
  GError *err = NULL;
  const float *tokens;
  const MmdnnImageEncoderConfig *c = &e->config;
  float *rec = gc_zeros (c->channels * e->recon_h * e->recon_w);

  a = mmdnn_image_encoder_acts_new (e, 1, &err);
  g_assert_true (mmdnn_image_encoder_forward (e, a, x, 1, &tokens, NULL, &err));
  g_assert_true (mmdnn_image_encoder_decode (e, a, mmdnn_image_encoder_latent (a),
                                             1, rec, &err));
  g_assert_no_error (err);
  ref_upsample (out, rec, c->channels, e->recon_h, e->recon_w, c->height,
                c->width);
  g_free (rec);
  mmdnn_image_encoder_acts_free (a);
}

static void
test_latent_noise_zero (void)
{
  Fx *f = fx_new (41);
  MmdnnBatch *b, *orig;
  MmdnnRng rng;
  GError *err = NULL;
  const int64_t n = 5;

  b = tb_new (&f->cfg, n);
  mmdnn_rng_init (&rng, 6);
  fill_random (b, &f->cfg, &rng);
  b->presence[1 * 3 + V] = 0.0f;
  b->presence[3 * 3 + A] = 0.0f;
  poison_missing (b, &f->cfg);
  orig = tb_copy (&f->cfg, b);

  g_assert_true (mmdnn_augment_latent (&f->m, b, 1.0f, 0.0f, &err));
  g_assert_no_error (err);
  for (int64_t i = 0; i < n; i++) {
    for (int m = 0; m < 2; m++) {
      const MmdnnImageEncoder *e = m == V ? &f->m.video : &f->m.audio;
      int64_t r = row_of (&f->cfg, m);
      float *want = gc_zeros (r);

      if (orig->presence[i * 3 + m] == 0.0f) {
        g_assert_true (memcmp (input_row (b, &f->cfg, m, i),
                               input_row (orig, &f->cfg, m, i),
                               row_bytes (&f->cfg, m)) == 0);
      } else {
        ref_latent_recon (e, input_row (orig, &f->cfg, m, i), want);
        g_assert_true (check_close ("latent recon", input_row (b, &f->cfg, m, i),
                                    want, r, 1e-5));
      }
      g_free (want);
    }
  }
  g_assert_true (memcmp (b->text_ids, orig->text_ids,
                         sizeof (int32_t) * n * row_of (&f->cfg, T)) == 0);
  g_assert_true (memcmp (b->presence, orig->presence, sizeof (float) * n * 3) == 0);
  tb_free (b);
  tb_free (orig);
  fx_free (f);
}

/* The fraction chosen is p. With the same draws, the latent offsets are
 * σ·z with the same z, so doubling the noise moves the result further from
 * the plain reconstruction. */
static void
test_latent_stats (void)
{
  Fx *f = fx_new (43);
  MmdnnBatch *b, *b2, *orig;
  MmdnnRng rng, rng0;
  GError *err = NULL;
  const int64_t n = 300;
  const float p = 0.4f;
  int64_t changed = 0;
  int64_t r = row_of (&f->cfg, V);
  float *plain = gc_zeros (r);
  double diff = 0, diff2 = 0, scale = 0;

  f->cfg.has[A] = FALSE;
  b = tb_new (&f->cfg, n);
  mmdnn_rng_init (&rng, 7);
  fill_random (b, &f->cfg, &rng);
  orig = tb_copy (&f->cfg, b);
  b2 = tb_copy (&f->cfg, b);
  rng0 = f->m.rng;
  g_assert_true (mmdnn_augment_latent (&f->m, b, p, 0.5f, &err));
  f->m.rng = rng0;
  g_assert_true (mmdnn_augment_latent (&f->m, b2, p, 1.0f, &err));
  g_assert_no_error (err);
  g_assert_true (memcmp (b->audio, orig->audio, sizeof (float) * n * row_of (&f->cfg, A)) == 0);
  for (int64_t i = 0; i < n; i++) {
    gboolean same = memcmp (b->video + i * r, orig->video + i * r,
                            sizeof (float) * r) == 0;

    /* the same samples are chosen whatever the noise */
    g_assert_true (same == (memcmp (b2->video + i * r, orig->video + i * r,
                                    sizeof (float) * r) == 0));
    if (same)
      continue;
    if (changed < 20) {
      ref_latent_recon (&f->m.video, orig->video + i * r, plain);
      for (int64_t k = 0; k < r; k++) {
        diff += fabs (b->video[i * r + k] - plain[k]);
        diff2 += fabs (b2->video[i * r + k] - plain[k]);
        scale += fabs (plain[k]);
      }
    }
    changed++;
  }
  g_assert_cmpfloat (fabs ((double) changed / n - p), <,
                     4.5 * sqrt (p * (1 - p) / n));
  g_test_message ("mean |change| / mean |recon|: noise 0.5 %g, noise 1 %g",
                  diff / scale, diff2 / scale);
  g_assert_cmpfloat (diff, >, 1e-4 * scale);    /* far above rounding */
  g_assert_cmpfloat (diff2, >, 1.5 * diff);
  g_free (plain);
  tb_free (b);
  tb_free (b2);
  tb_free (orig);
  fx_free (f);
}

#define ASSERT_FAILS(call)                                                   \
  G_STMT_START {                                                             \
    GError *err_ = NULL;                                                     \
    g_assert_false (call);                                                   \
    g_assert_error (err_, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);        \
    g_clear_error (&err_);                                                   \
  } G_STMT_END

static void
test_latent_bad_args_n (void)
{
  Fx *f = fx_new (47);
  MmdnnBatch *b = tb_new (&f->cfg, 3), *orig;
  MmdnnRng rng0;
  float *presence;

  fill_random (b, &f->cfg, &f->m.rng);
  orig = tb_copy (&f->cfg, b);
  rng0 = f->m.rng;
  ASSERT_FAILS (mmdnn_augment_latent (NULL, b, 0.5f, 0.1f, &err_));
  ASSERT_FAILS (mmdnn_augment_latent (&f->m, NULL, 0.5f, 0.1f, &err_));
  ASSERT_FAILS (mmdnn_augment_latent (&f->m, b, -0.1f, 0.1f, &err_));
  ASSERT_FAILS (mmdnn_augment_latent (&f->m, b, 1.5f, 0.1f, &err_));
  ASSERT_FAILS (mmdnn_augment_latent (&f->m, b, NAN, 0.1f, &err_));
  ASSERT_FAILS (mmdnn_augment_latent (&f->m, b, 0.5f, -1.0f, &err_));
  ASSERT_FAILS (mmdnn_augment_latent (&f->m, b, 0.5f, INFINITY, &err_));
  b->n = 0;
  ASSERT_FAILS (mmdnn_augment_latent (&f->m, b, 0.5f, 0.1f, &err_));
  b->n = 3;
  presence = b->presence;
  b->presence = NULL;
  ASSERT_FAILS (mmdnn_augment_latent (&f->m, b, 0.5f, 0.1f, &err_));
  b->presence = presence;
  g_assert_true (tb_equal (&f->cfg, b, orig));
  g_assert_true (rng_equal (&rng0, &f->m.rng));
  tb_free (b);
  tb_free (orig);
  fx_free (f);
}

/* Non-finite present inputs give a non-finite latent: the sample is left
 * as it was rather than replaced by NaN. */
static void
test_latent_nonfinite_input_n (void)
{
  Fx *f = fx_new (53);
  MmdnnBatch *b = tb_new (&f->cfg, 3), *orig;
  GError *err = NULL;
  int64_t r = row_of (&f->cfg, V);

  fill_random (b, &f->cfg, &f->m.rng);
  b->video[r + 5] = INFINITY;
  orig = tb_copy (&f->cfg, b);
  g_assert_true (mmdnn_augment_latent (&f->m, b, 1.0f, 0.1f, &err));
  g_assert_no_error (err);
  g_assert_true (memcmp (b->video + r, orig->video + r, sizeof (float) * r) == 0);
  g_assert_false (memcmp (b->video, orig->video, sizeof (float) * r) == 0);
  for (int64_t k = 0; k < 3 * r; k++)
    g_assert_true (k / r == 1 || isfinite (b->video[k]));
  tb_free (b);
  tb_free (orig);
  fx_free (f);
}

static void
test_decode_bad_args_n (void)
{
  Fx *f = fx_new (59);
  const MmdnnImageEncoder *e = &f->m.video;
  MmdnnImageEncoderActs *a, *other;
  GError *err = NULL;
  int64_t lat = e->ae_enc3.shape.c_out * e->ae_enc3.shape.h_out * e->ae_enc3.shape.w_out;
  int64_t rec = e->config.channels * e->recon_h * e->recon_w;
  float *latent = gc_zeros (3 * lat), *recon = gc_zeros (3 * rec);
  float *before = gc_zeros (3 * rec);
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnImageEncoder noae;
  MmdnnImageEncoderConfig c = e->config;
  MmdnnImageEncoderActs *noae_acts;

  a = mmdnn_image_encoder_acts_new (e, 2, &err);
  other = mmdnn_image_encoder_acts_new (&f->m.audio, 2, &err);
  g_assert_no_error (err);
  for (int64_t k = 0; k < 3 * rec; k++)
    recon[k] = before[k] = 42.0f;
  ASSERT_FAILS (mmdnn_image_encoder_decode (NULL, a, latent, 1, recon, &err_));
  ASSERT_FAILS (mmdnn_image_encoder_decode (e, NULL, latent, 1, recon, &err_));
  ASSERT_FAILS (mmdnn_image_encoder_decode (e, a, NULL, 1, recon, &err_));
  ASSERT_FAILS (mmdnn_image_encoder_decode (e, a, latent, 1, NULL, &err_));
  ASSERT_FAILS (mmdnn_image_encoder_decode (e, a, latent, 0, recon, &err_));
  ASSERT_FAILS (mmdnn_image_encoder_decode (e, a, latent, 3, recon, &err_));
  ASSERT_FAILS (mmdnn_image_encoder_decode (e, other, latent, 1, recon, &err_));
  /* an encoder without the AE branch has no decoder */
  c.use_ae = FALSE;
  g_assert_true (mmdnn_image_encoder_init (&noae, ps, "x", &c, &err));
  g_assert_true (mmdnn_param_set_allocate (ps, &err));
  noae_acts = mmdnn_image_encoder_acts_new (&noae, 2, &err);
  g_assert_no_error (err);
  ASSERT_FAILS (mmdnn_image_encoder_decode (&noae, noae_acts, latent, 1, recon, &err_));
  g_assert_true (memcmp (recon, before, sizeof (float) * 3 * rec) == 0);
  mmdnn_image_encoder_acts_free (noae_acts);
  mmdnn_param_set_free (ps);
  mmdnn_image_encoder_acts_free (a);
  mmdnn_image_encoder_acts_free (other);
  g_free (latent);
  g_free (recon);
  g_free (before);
  fx_free (f);
}

/* encode alone gives the latent a full forward gives, bit for bit */
static void
test_encode_matches_forward (void)
{
  Fx *f = fx_new (33);
  const MmdnnImageEncoder *e = &f->m.video;
  MmdnnImageEncoderActs *a = mmdnn_image_encoder_acts_new (e, 3, NULL);
  MmdnnImageEncoderActs *b = mmdnn_image_encoder_acts_new (e, 3, NULL);
  int64_t lat = e->ae_enc3.shape.c_out * e->ae_enc3.shape.h_out * e->ae_enc3.shape.w_out;
  GError *err = NULL;
  const float *tokens;
  float *x;
  MmdnnRng rng;

  mmdnn_rng_init (&rng, 4);
  x = gc_random (&rng, 3 * row_of (&f->cfg, V), -1, 1);
  g_assert_true (mmdnn_image_encoder_forward (e, a, x, 3, &tokens, NULL, &err));
  g_assert_true (mmdnn_image_encoder_encode (e, b, x, 3, &err));
  g_assert_no_error (err);
  g_assert_true (memcmp (mmdnn_image_encoder_latent (a),
                         mmdnn_image_encoder_latent (b),
                         sizeof (float) * 3 * lat) == 0);
  g_free (x);
  mmdnn_image_encoder_acts_free (a);
  mmdnn_image_encoder_acts_free (b);
  fx_free (f);
}

static void
test_encode_bad_args_n (void)
{
  Fx *f = fx_new (61);
  const MmdnnImageEncoder *e = &f->m.video;
  MmdnnImageEncoderActs *a, *other;
  GError *err = NULL;
  float *x = gc_zeros (3 * row_of (&f->cfg, V));

  a = mmdnn_image_encoder_acts_new (e, 2, &err);
  other = mmdnn_image_encoder_acts_new (&f->m.audio, 2, &err);
  g_assert_no_error (err);
  ASSERT_FAILS (mmdnn_image_encoder_encode (NULL, a, x, 1, &err_));
  ASSERT_FAILS (mmdnn_image_encoder_encode (e, NULL, x, 1, &err_));
  ASSERT_FAILS (mmdnn_image_encoder_encode (e, a, NULL, 1, &err_));
  ASSERT_FAILS (mmdnn_image_encoder_encode (e, a, x, 0, &err_));
  ASSERT_FAILS (mmdnn_image_encoder_encode (e, a, x, 3, &err_));
  ASSERT_FAILS (mmdnn_image_encoder_encode (e, other, x, 1, &err_));
  mmdnn_image_encoder_acts_free (a);
  mmdnn_image_encoder_acts_free (other);
  g_free (x);
  fx_free (f);
}

/* without the AE branch there is nothing to encode to */
static void
test_encode_no_ae_n (void)
{
  Fx *f = fx_new (63);
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnImageEncoderConfig c = f->m.video.config;
  MmdnnImageEncoder noae;
  MmdnnImageEncoderActs *a;
  GError *err = NULL;
  float *x = gc_zeros (row_of (&f->cfg, V));

  c.use_ae = FALSE;
  g_assert_true (mmdnn_image_encoder_init (&noae, ps, "x", &c, &err));
  g_assert_true (mmdnn_param_set_allocate (ps, &err));
  a = mmdnn_image_encoder_acts_new (&noae, 1, &err);
  g_assert_no_error (err);
  ASSERT_FAILS (mmdnn_image_encoder_encode (&noae, a, x, 1, &err_));
  g_assert_null (mmdnn_image_encoder_latent (a));
  mmdnn_image_encoder_acts_free (a);
  mmdnn_param_set_free (ps);
  g_free (x);
  fx_free (f);
}

/* -------------------------------------------------------------- apply */

static void
switches_on (MmdnnModelConfig *c)
{
  c->p_recombine = 0.5f;
  c->p_latent = 0.5f;
  c->latent_noise = 0.2f;
  c->mixup_alpha = 0.4f;
  c->p_modality_dropout = 0.3f;
}

static MmdnnBatch *
apply_batch (const MmdnnModelConfig *c, uint64_t seed)
{
  MmdnnBatch *b = tb_new (c, 12);
  MmdnnRng rng;

  mmdnn_rng_init (&rng, seed);
  fill_random (b, c, &rng);
  for (int64_t i = 0; i < 12; i++) {
    b->labels[i] = (int32_t) (i % 3);
    if (i % 4 == 3)
      b->presence[i * 3 + A] = 0.0f;
  }
  poison_missing (b, c);
  return b;
}

/* Same seed, same batch → bit-identical result and RNG state; another
 * seed → a different result. The caller's original is never touched. */
static void
test_apply_deterministic (void)
{
  Fx *f1 = fx_new (61), *f2 = fx_new (61), *f3 = fx_new (61);
  MmdnnBatch *b0, *b1, *b2, *b3;
  GError *err = NULL;

  switches_on (&f1->cfg);
  switches_on (&f2->cfg);
  switches_on (&f3->cfg);
  mmdnn_rng_init (&f3->m.rng, 1234);
  b0 = apply_batch (&f1->cfg, 5);
  b1 = tb_copy (&f1->cfg, b0);
  b2 = tb_copy (&f1->cfg, b0);
  b3 = tb_copy (&f1->cfg, b0);
  g_assert_true (mmdnn_augment_apply (&f1->m, b1, &err));
  g_assert_true (mmdnn_augment_apply (&f2->m, b2, &err));
  g_assert_true (mmdnn_augment_apply (&f3->m, b3, &err));
  g_assert_no_error (err);
  g_assert_true (tb_equal (&f1->cfg, b1, b2));
  g_assert_true (rng_equal (&f1->m.rng, &f2->m.rng));
  g_assert_false (tb_equal (&f1->cfg, b1, b3));
  g_assert_false (tb_equal (&f1->cfg, b1, b0));
  g_assert_nonnull (b1->labels_b);
  g_assert_true (b1->mix >= 0.5f && b1->mix <= 1.0f);
  /* every sample keeps ≥ 1 modality and present inputs stay finite */
  for (int64_t i = 0; i < b1->n; i++) {
    int left = 0;

    for (int m = 0; m < 3; m++)
      left += b1->presence[i * 3 + m] == 1.0f;
    g_assert_cmpint (left, >=, 1);
    for (int m = 0; m < 2; m++)
      if (b1->presence[i * 3 + m] == 1.0f)
        for (int64_t k = 0; k < row_of (&f1->cfg, m); k++)
          g_assert_true (isfinite (((float *) input_row (b1, &f1->cfg, m, i))[k]));
  }
  tb_free (b0);
  tb_free (b1);
  tb_free (b2);
  tb_free (b3);
  fx_free (f1);
  fx_free (f2);
  fx_free (f3);
}

/* Every switch at 0: nothing changes, no draw is made. An already mixed
 * batch is not mixed again. */
static void
test_apply_switches_off (void)
{
  Fx *f = fx_new (67);
  MmdnnBatch *b = apply_batch (&f->cfg, 9), *orig;
  MmdnnRng rng0 = f->m.rng;
  GError *err = NULL;

  orig = tb_copy (&f->cfg, b);
  g_assert_true (mmdnn_augment_apply (&f->m, b, &err));
  g_assert_no_error (err);
  g_assert_true (tb_equal (&f->cfg, b, orig));
  g_assert_true (rng_equal (&rng0, &f->m.rng));

  f->cfg.mixup_alpha = 0.3f;
  b->mix = orig->mix = 0.75f;
  b->labels_b = g_new0 (int32_t, 12);
  orig->labels_b = g_new0 (int32_t, 12);
  g_assert_true (mmdnn_augment_apply (&f->m, b, &err));
  g_assert_no_error (err);
  g_assert_true (tb_equal (&f->cfg, b, orig));
  tb_free (b);
  tb_free (orig);
  fx_free (f);
}

/* Each switch alone does what its step does with the same draws. */
static void
test_apply_single_switches (void)
{
  for (int s = 0; s < 4; s++) {
    Fx *f = fx_new (71);
    MmdnnBatch *b = apply_batch (&f->cfg, 3), *want;
    MmdnnRng rng = f->m.rng;
    GError *err = NULL;

    want = tb_copy (&f->cfg, b);
    switch (s) {
      case 0:
        f->cfg.p_recombine = 0.6f;
        mmdnn_augment_recombine (want, &f->cfg, 0.6f, &rng);
        break;
      case 1:
        f->cfg.p_latent = 0.6f;
        f->cfg.latent_noise = 0.3f;
        {
          MmdnnRng keep = f->m.rng;

          g_assert_true (mmdnn_augment_latent (&f->m, want, 0.6f, 0.3f, &err));
          rng = f->m.rng;
          f->m.rng = keep;
        }
        break;
      case 2:
        f->cfg.mixup_alpha = 0.5f;
        g_assert_true (mmdnn_augment_mixup (want, &f->cfg, 0.5f, &rng, &err));
        break;
      default:
        f->cfg.p_modality_dropout = 0.5f;
        mmdnn_augment_modality_dropout (want, 0.5f, &rng);
        break;
    }
    g_assert_false (tb_equal (&f->cfg, b, want));
    g_assert_true (mmdnn_augment_apply (&f->m, b, &err));
    g_assert_no_error (err);
    g_assert_true (tb_equal (&f->cfg, b, want));
    g_assert_true (rng_equal (&rng, &f->m.rng));
    tb_free (b);
    tb_free (want);
    fx_free (f);
  }
}

/* All switches: exactly the documented order of the steps, one stream. */
static void
test_apply_order (void)
{
  Fx *f = fx_new (97), *g = fx_new (97);
  MmdnnBatch *b = apply_batch (&f->cfg, 13), *want;
  GError *err = NULL;

  switches_on (&f->cfg);
  switches_on (&g->cfg);
  want = tb_copy (&f->cfg, b);
  mmdnn_augment_recombine (want, &g->cfg, 0.5f, &g->m.rng);
  g_assert_true (mmdnn_augment_latent (&g->m, want, 0.5f, 0.2f, &err));
  g_assert_true (mmdnn_augment_mixup (want, &g->cfg, 0.4f, &g->m.rng, &err));
  mmdnn_augment_modality_dropout (want, 0.3f, &g->m.rng);
  g_assert_true (mmdnn_augment_apply (&f->m, b, &err));
  g_assert_no_error (err);
  g_assert_true (tb_equal (&f->cfg, b, want));
  g_assert_true (rng_equal (&f->m.rng, &g->m.rng));
  tb_free (b);
  tb_free (want);
  fx_free (f);
  fx_free (g);
}

/* A bad switch fails before anything is changed. */
static void
apply_fails_untouched (Fx *f, MmdnnBatch *b)
{
  MmdnnBatch *orig = tb_copy (&f->cfg, b);
  MmdnnRng rng0 = f->m.rng;
  GError *err = NULL;

  g_assert_false (mmdnn_augment_apply (&f->m, b, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_true (tb_equal (&f->cfg, b, orig));
  g_assert_true (rng_equal (&rng0, &f->m.rng));
  tb_free (orig);
}

static void
test_apply_bad_probability_n (void)
{
  Fx *f = fx_new (73);
  MmdnnBatch *b = apply_batch (&f->cfg, 1);

  switches_on (&f->cfg);
  f->cfg.p_recombine = 1.5f;
  apply_fails_untouched (f, b);
  f->cfg.p_recombine = 0.5f;
  f->cfg.p_latent = -0.5f;
  apply_fails_untouched (f, b);
  f->cfg.p_latent = 0.5f;
  f->cfg.p_modality_dropout = NAN;
  apply_fails_untouched (f, b);
  tb_free (b);
  fx_free (f);
}

static void
test_apply_bad_noise_alpha_n (void)
{
  Fx *f = fx_new (79);
  MmdnnBatch *b = apply_batch (&f->cfg, 1);

  switches_on (&f->cfg);
  f->cfg.latent_noise = -0.1f;
  apply_fails_untouched (f, b);
  f->cfg.latent_noise = INFINITY;
  apply_fails_untouched (f, b);
  f->cfg.latent_noise = 0.1f;
  f->cfg.mixup_alpha = -1.0f;
  apply_fails_untouched (f, b);
  f->cfg.mixup_alpha = NAN;
  apply_fails_untouched (f, b);
  tb_free (b);
  fx_free (f);
}

/* mixup needs labels: refused before recombination touches anything */
static void
test_apply_mixup_without_labels_n (void)
{
  Fx *f = fx_new (83);
  MmdnnBatch *b = apply_batch (&f->cfg, 1);
  int32_t *labels = b->labels;

  switches_on (&f->cfg);
  b->labels = NULL;
  apply_fails_untouched (f, b);
  b->labels = labels;
  tb_free (b);
  fx_free (f);
}

static void
test_apply_null_n (void)
{
  Fx *f = fx_new (89);
  MmdnnBatch *b = apply_batch (&f->cfg, 1);
  MmdnnModelConfig *c = f->m.config;

  switches_on (&f->cfg);
  ASSERT_FAILS (mmdnn_augment_apply (NULL, b, &err_));
  ASSERT_FAILS (mmdnn_augment_apply (&f->m, NULL, &err_));
  f->m.config = NULL;
  apply_fails_untouched (f, b);
  f->m.config = c;
  b->n = 0;
  ASSERT_FAILS (mmdnn_augment_apply (&f->m, b, &err_));
  b->n = 12;
  tb_free (b);
  fx_free (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/augment/beta-moments", test_beta_moments);
  g_test_add_func ("/augment/beta-tiny-shape", test_beta_tiny_shape);
  g_test_add_func ("/augment/beta-bad-shape_n", test_beta_bad_shape_n);

  g_test_add_func ("/augment/recombine-stats", test_recombine_stats);
  g_test_add_func ("/augment/recombine-no-chains", test_recombine_no_chains);
  g_test_add_func ("/augment/recombine-unknown-and-missing",
                   test_recombine_unknown_and_missing);
  g_test_add_func ("/augment/recombine-noop_n", test_recombine_noop_n);

  g_test_add_func ("/augment/mixup-exact", test_mixup_exact);
  g_test_add_func ("/augment/mixup-random", test_mixup_random);
  g_test_add_func ("/augment/mixup-batch-owns-labels_b",
                   test_mixup_batch_owns_labels_b);
  g_test_add_func ("/augment/mixup-bad-alpha_n", test_mixup_bad_alpha_n);
  g_test_add_func ("/augment/mixup-null_n", test_mixup_null_n);
  g_test_add_func ("/augment/mixup-no-labels_n", test_mixup_no_labels_n);
  g_test_add_func ("/augment/mixup-empty-batch_n", test_mixup_empty_batch_n);
  g_test_add_func ("/augment/mixup-already-mixed_n", test_mixup_already_mixed_n);
  g_test_add_func ("/augment/mixup-bad-lambda_n", test_mixup_bad_lambda_n);
  g_test_add_func ("/augment/mixup-bad-perm_n", test_mixup_bad_perm_n);

  g_test_add_func ("/augment/dropout-stats", test_dropout_stats);
  g_test_add_func ("/augment/dropout-never-empties", test_dropout_never_empties);
  g_test_add_func ("/augment/dropout-noop_n", test_dropout_noop_n);

  g_test_add_func ("/augment/decode-matches-forward", test_decode_matches_forward);
  g_test_add_func ("/augment/decode-bad-args_n", test_decode_bad_args_n);
  g_test_add_func ("/augment/encode-matches-forward", test_encode_matches_forward);
  g_test_add_func ("/augment/encode-bad-args_n", test_encode_bad_args_n);
  g_test_add_func ("/augment/encode-no-ae_n", test_encode_no_ae_n);
  g_test_add_func ("/augment/latent-noise-zero", test_latent_noise_zero);
  g_test_add_func ("/augment/latent-stats", test_latent_stats);
  g_test_add_func ("/augment/latent-bad-args_n", test_latent_bad_args_n);
  g_test_add_func ("/augment/latent-nonfinite-input_n",
                   test_latent_nonfinite_input_n);

  g_test_add_func ("/augment/apply-deterministic", test_apply_deterministic);
  g_test_add_func ("/augment/apply-switches-off", test_apply_switches_off);
  g_test_add_func ("/augment/apply-single-switches", test_apply_single_switches);
  g_test_add_func ("/augment/apply-order", test_apply_order);
  g_test_add_func ("/augment/apply-bad-probability_n", test_apply_bad_probability_n);
  g_test_add_func ("/augment/apply-bad-noise-alpha_n", test_apply_bad_noise_alpha_n);
  g_test_add_func ("/augment/apply-mixup-without-labels_n",
                   test_apply_mixup_without_labels_n);
  g_test_add_func ("/augment/apply-null_n", test_apply_null_n);

  return g_test_run ();
}
