/* Losses: values against direct double computations, finite-difference
 * gradients, the += contract, and bad labels / hyper-parameters.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/loss.h>
#include "gradcheck.h"

#define IGNORE (-100)

/* ---- cross-entropy ------------------------------------------------------ */

enum { CE_N = 5, CE_C = 7 };

typedef struct {
  float   logits[CE_N * CE_C];
  float   probs[CE_N * CE_C];
  int32_t targets[CE_N];
  float   weights[CE_C];
  const float *w;               /* weights or NULL */
  float   loss;
} CeCtx;

static void
ce_setup (CeCtx *x, gboolean with_weights, guint64 seed)
{
  /* row 2 ignored; the others hit different classes */
  static const int32_t t[CE_N] = { 3, 0, IGNORE, 6, 3 };
  MmdnnRng rng;

  memset (x, 0, sizeof *x);
  mmdnn_rng_init (&rng, seed);
  mmdnn_rng_fill_uniform (&rng, x->logits, CE_N * CE_C, -2.0f, 2.0f);
  mmdnn_rng_fill_uniform (&rng, x->weights, CE_C, 0.5f, 2.0f);
  memcpy (x->targets, t, sizeof t);
  x->w = with_weights ? x->weights : NULL;
}

static void
ce_forward (void *ctx)
{
  CeCtx *x = ctx;
  gboolean ok = mmdnn_cross_entropy_forward (&x->loss, x->probs, x->logits,
                                             x->targets, x->w, IGNORE, CE_N,
                                             CE_C, NULL);
  g_assert_true (ok);
}

/* F.cross_entropy written out directly */
static double
ce_reference (const float *logits, const int32_t *t, const float *w,
              int32_t ignore, int64_t n, int64_t c)
{
  double num = 0.0, den = 0.0;

  for (int64_t i = 0; i < n; i++) {
    double lse = 0.0, wi;
    if (t[i] == ignore)
      continue;
    for (int64_t j = 0; j < c; j++)
      lse += exp ((double) logits[i * c + j]);
    lse = log (lse);
    wi = w != NULL ? w[t[i]] : 1.0;
    num += wi * (lse - logits[i * c + t[i]]);
    den += wi;
  }
  return den > 0.0 ? num / den : 0.0;
}

static void
test_ce_forward (void)
{
  for (int weighted = 0; weighted <= 1; weighted++) {
    CeCtx x;

    ce_setup (&x, weighted, 11);
    ce_forward (&x);
    g_assert_cmpfloat_with_epsilon (x.loss,
        ce_reference (x.logits, x.targets, x.w, IGNORE, CE_N, CE_C), 1e-5);
    for (int i = 0; i < CE_N; i++) {
      double sum = 0.0, z = 0.0;
      for (int j = 0; j < CE_C; j++)
        z += exp ((double) x.logits[i * CE_C + j]);
      for (int j = 0; j < CE_C; j++) {
        g_assert_cmpfloat_with_epsilon (x.probs[i * CE_C + j],
            exp ((double) x.logits[i * CE_C + j]) / z, 1e-6);
        sum += x.probs[i * CE_C + j];
      }
      g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
    }
  }
}

static void
test_ce_forward_known (void)
{
  /* equal logits: −log(1/C) whatever the target; huge logits stay finite */
  float logits[2 * 4] = { 3, 3, 3, 3, 1000.0f, -1000.0f, 0.0f, 999.0f };
  float probs[2 * 4], loss = -1.0f;
  int32_t t1[2] = { 1, IGNORE }, t2[2] = { IGNORE, 3 };

  g_assert_true (mmdnn_cross_entropy_forward (&loss, probs, logits, t1, NULL,
                                              IGNORE, 2, 4, NULL));
  g_assert_cmpfloat_with_epsilon (loss, log (4.0), 1e-6);
  g_assert_true (mmdnn_cross_entropy_forward (&loss, probs, logits, t2, NULL,
                                              IGNORE, 2, 4, NULL));
  g_assert_cmpfloat_with_epsilon (loss, 1.0 + log1p (exp (-1.0)), 1e-5);
}

static void
test_ce_gradcheck (void)
{
  for (int weighted = 0; weighted <= 1; weighted++) {
    CeCtx x;
    float dlogits[CE_N * CE_C] = { 0 };
    const float r[1] = { 1.0f };
    GradcheckInput in[] = { { "logits", x.logits, dlogits, CE_N * CE_C } };

    ce_setup (&x, weighted, 12);
    ce_forward (&x);
    mmdnn_cross_entropy_backward (dlogits, r[0], x.probs, x.targets, x.w,
                                  IGNORE, CE_N, CE_C);
    /* the ignored row gets nothing */
    for (int j = 0; j < CE_C; j++)
      g_assert_cmpfloat (dlogits[2 * CE_C + j], ==, 0.0f);
    g_assert_true (gradcheck ("cross_entropy", ce_forward, &x, &x.loss, 1, r,
                              in, 1, 1e-2, 1e-3, 1e-2));
  }
}

static void
test_ce_accumulate (void)
{
  CeCtx x;
  float once[CE_N * CE_C] = { 0 }, twice[CE_N * CE_C] = { 0 };
  float scaled[CE_N * CE_C] = { 0 };

  ce_setup (&x, TRUE, 13);
  ce_forward (&x);
  mmdnn_cross_entropy_backward (once, 1.0f, x.probs, x.targets, x.w, IGNORE,
                                CE_N, CE_C);
  mmdnn_cross_entropy_backward (twice, 1.0f, x.probs, x.targets, x.w, IGNORE,
                                CE_N, CE_C);
  mmdnn_cross_entropy_backward (twice, 1.0f, x.probs, x.targets, x.w, IGNORE,
                                CE_N, CE_C);
  mmdnn_cross_entropy_backward (scaled, 2.0f, x.probs, x.targets, x.w, IGNORE,
                                CE_N, CE_C);
  for (int i = 0; i < CE_N * CE_C; i++) {
    g_assert_cmpfloat_with_epsilon (twice[i], 2.0f * once[i],
                                    1e-6 * fabs (2.0 * once[i]) + 1e-12);
    g_assert_cmpfloat_with_epsilon (scaled[i], 2.0f * once[i],
                                    1e-6 * fabs (2.0 * once[i]) + 1e-12);
  }
  /* a NULL gradient is skipped */
  mmdnn_cross_entropy_backward (NULL, 1.0f, x.probs, x.targets, x.w, IGNORE,
                                CE_N, CE_C);
}

static void
test_ce_all_ignored (void)
{
  CeCtx x;
  float dlogits[CE_N * CE_C] = { 0 };

  ce_setup (&x, TRUE, 14);
  for (int i = 0; i < CE_N; i++)
    x.targets[i] = IGNORE;
  x.loss = 123.0f;
  ce_forward (&x);
  g_assert_cmpfloat (x.loss, ==, 0.0f);
  mmdnn_cross_entropy_backward (dlogits, 1.0f, x.probs, x.targets, x.w,
                                IGNORE, CE_N, CE_C);
  for (int i = 0; i < CE_N * CE_C; i++)
    g_assert_cmpfloat (dlogits[i], ==, 0.0f);
}

/* A failed forward must leave loss and probs exactly as they were. */
static void
ce_expect_fail (CeCtx *x, const float *logits, MmdnnError code,
                int64_t n, int64_t c)
{
  GError *err = NULL;
  float probs_before[CE_N * CE_C];
  gboolean ok;

  x->loss = 42.0f;
  for (int i = 0; i < CE_N * CE_C; i++)
    x->probs[i] = -7.0f;
  memcpy (probs_before, x->probs, sizeof probs_before);
  ok = mmdnn_cross_entropy_forward (&x->loss, x->probs, logits, x->targets,
                                    x->w, IGNORE, n, c, &err);
  g_assert_false (ok);
  g_assert_error (err, MMDNN_ERROR, (gint) code);
  g_assert_cmpfloat (x->loss, ==, 42.0f);
  g_assert_cmpmem (x->probs, sizeof probs_before, probs_before,
                   sizeof probs_before);
  g_clear_error (&err);
}

static void
test_ce_target_too_big_n (void)
{
  CeCtx x;

  ce_setup (&x, TRUE, 15);
  x.targets[4] = CE_C;        /* the last row: earlier rows are fine */
  ce_expect_fail (&x, x.logits, MMDNN_ERROR_DATA, CE_N, CE_C);
}

static void
test_ce_target_negative_n (void)
{
  CeCtx x;

  ce_setup (&x, FALSE, 16);
  x.targets[1] = -1;          /* negative but not the ignore_index (-100) */
  ce_expect_fail (&x, x.logits, MMDNN_ERROR_DATA, CE_N, CE_C);
}

static void
test_ce_target_huge_n (void)
{
  CeCtx x;

  ce_setup (&x, FALSE, 17);
  x.targets[0] = G_MAXINT32;
  ce_expect_fail (&x, x.logits, MMDNN_ERROR_DATA, CE_N, CE_C);
}

static void
test_ce_null_logits_n (void)
{
  CeCtx x;

  ce_setup (&x, TRUE, 18);
  ce_expect_fail (&x, NULL, MMDNN_ERROR_INVALID_ARGUMENT, CE_N, CE_C);
}

static void
test_ce_null_targets_n (void)
{
  CeCtx x;
  GError *err = NULL;

  ce_setup (&x, TRUE, 19);
  x.loss = 42.0f;
  g_assert_false (mmdnn_cross_entropy_forward (&x.loss, x.probs, x.logits,
                                               NULL, x.w, IGNORE, CE_N, CE_C,
                                               &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpfloat (x.loss, ==, 42.0f);
  g_clear_error (&err);
}

static void
test_ce_null_outputs_n (void)
{
  CeCtx x;
  GError *err = NULL;

  ce_setup (&x, TRUE, 20);
  g_assert_false (mmdnn_cross_entropy_forward (NULL, x.probs, x.logits,
                                               x.targets, x.w, IGNORE, CE_N,
                                               CE_C, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  x.loss = 42.0f;
  g_assert_false (mmdnn_cross_entropy_forward (&x.loss, NULL, x.logits,
                                               x.targets, x.w, IGNORE, CE_N,
                                               CE_C, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpfloat (x.loss, ==, 42.0f);
  g_clear_error (&err);
}

static void
test_ce_zero_rows_n (void)
{
  CeCtx x;

  ce_setup (&x, TRUE, 21);
  ce_expect_fail (&x, x.logits, MMDNN_ERROR_INVALID_ARGUMENT, 0, CE_C);
}

static void
test_ce_zero_classes_n (void)
{
  CeCtx x;

  ce_setup (&x, TRUE, 22);
  ce_expect_fail (&x, x.logits, MMDNN_ERROR_INVALID_ARGUMENT, CE_N, 0);
  ce_expect_fail (&x, x.logits, MMDNN_ERROR_INVALID_ARGUMENT, CE_N, -3);
}

static void
test_ce_other_ignore_index_n (void)
{
  /* -100 is only ignored when it is the ignore_index */
  float logits[2 * 3] = { 0 }, probs[2 * 3] = { 0 }, loss = 42.0f;
  int32_t t[2] = { -1, -100 };
  GError *err = NULL;

  g_assert_false (mmdnn_cross_entropy_forward (&loss, probs, logits, t, NULL,
                                               -1, 2, 3, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_DATA);
  g_assert_cmpfloat (loss, ==, 42.0f);
  g_clear_error (&err);
}

static void
test_ce_too_large_n (void)
{
  CeCtx x;

  ce_setup (&x, TRUE, 23);
  ce_expect_fail (&x, x.logits, MMDNN_ERROR_INVALID_ARGUMENT,
                  G_GINT64_CONSTANT (1) << 30, G_GINT64_CONSTANT (1) << 20);
}

/* ---- MSE and BCE with logits -------------------------------------------- */

enum { EW_N = 11 };

typedef struct {
  float x[EW_N], t[EW_N];
  float loss;
} EwCtx;

static void
ew_setup (EwCtx *c, guint64 seed, gboolean binary_targets)
{
  MmdnnRng rng;

  mmdnn_rng_init (&rng, seed);
  mmdnn_rng_fill_uniform (&rng, c->x, EW_N, -3.0f, 3.0f);
  mmdnn_rng_fill_uniform (&rng, c->t, EW_N, 0.0f, 1.0f);
  if (binary_targets)
    for (int i = 0; i < EW_N; i += 2)
      c->t[i] = c->t[i] < 0.5f ? 0.0f : 1.0f;   /* hard and soft labels */
}

static void
mse_forward (void *ctx)
{
  EwCtx *c = ctx;
  c->loss = mmdnn_mse_forward (c->x, c->t, EW_N);
}

static void
bce_forward (void *ctx)
{
  EwCtx *c = ctx;
  c->loss = mmdnn_bce_logits_forward (c->x, c->t, EW_N);
}

static void
test_mse_forward (void)
{
  EwCtx c;
  double want = 0.0;

  ew_setup (&c, 30, FALSE);
  for (int i = 0; i < EW_N; i++)
    want += ((double) c.x[i] - c.t[i]) * ((double) c.x[i] - c.t[i]);
  want /= EW_N;
  g_assert_cmpfloat_with_epsilon (mmdnn_mse_forward (c.x, c.t, EW_N), want,
                                  1e-6 * want);
}

static void
test_mse_gradcheck (void)
{
  EwCtx c;
  float dx[EW_N] = { 0 };
  const float r[1] = { 1.0f };
  GradcheckInput in[] = { { "pred", c.x, dx, EW_N } };

  ew_setup (&c, 31, FALSE);
  mse_forward (&c);
  mmdnn_mse_backward (dx, r[0], c.x, c.t, EW_N);
  g_assert_true (gradcheck ("mse", mse_forward, &c, &c.loss, 1, r, in, 1,
                            1e-2, 1e-3, 1e-2));
}

static void
test_mse_accumulate (void)
{
  EwCtx c;
  float once[EW_N] = { 0 }, twice[EW_N] = { 0 };

  ew_setup (&c, 32, FALSE);
  mmdnn_mse_backward (once, 0.5f, c.x, c.t, EW_N);
  mmdnn_mse_backward (twice, 0.5f, c.x, c.t, EW_N);
  mmdnn_mse_backward (twice, 0.5f, c.x, c.t, EW_N);
  for (int i = 0; i < EW_N; i++)
    g_assert_cmpfloat_with_epsilon (twice[i], 2.0f * once[i],
                                    1e-6 * fabs (2.0 * once[i]) + 1e-12);
  mmdnn_mse_backward (NULL, 1.0f, c.x, c.t, EW_N);
}

static double
bce_reference (double x, double t)
{
  /* the textbook form, fine in double for |x| ≤ 30 */
  double s = 1.0 / (1.0 + exp (-x));
  return -(t * log (s) + (1.0 - t) * log (1.0 - s));
}

static void
test_bce_forward (void)
{
  EwCtx c;
  double want = 0.0;
  float big[4] = { 200.0f, -200.0f, 88.0f, -1e30f }, bt[4] = { 1, 0, 0, 1 };
  float loss;

  ew_setup (&c, 40, TRUE);
  for (int i = 0; i < EW_N; i++)
    want += bce_reference (c.x[i], c.t[i]);
  want /= EW_N;
  g_assert_cmpfloat_with_epsilon (mmdnn_bce_logits_forward (c.x, c.t, EW_N),
                                  want, 1e-6 * want);

  /* stable form: huge logits give exact, finite losses (0, 0, 88, 1e30) */
  loss = mmdnn_bce_logits_forward (big, bt, 4);
  g_assert_true (isfinite (loss));
  g_assert_cmpfloat_with_epsilon (loss, (88.0 + 1e30) / 4.0, 1e24);
  loss = mmdnn_bce_logits_forward (big, bt, 2);
  g_assert_cmpfloat (loss, ==, 0.0f);
}

static void
test_bce_gradcheck (void)
{
  EwCtx c;
  float dx[EW_N] = { 0 };
  const float r[1] = { 1.0f };
  GradcheckInput in[] = { { "logits", c.x, dx, EW_N } };

  ew_setup (&c, 41, TRUE);
  bce_forward (&c);
  mmdnn_bce_logits_backward (dx, r[0], c.x, c.t, EW_N);
  g_assert_true (gradcheck ("bce_logits", bce_forward, &c, &c.loss, 1, r, in,
                            1, 1e-2, 1e-3, 1e-2));
}

static void
test_bce_accumulate (void)
{
  EwCtx c;
  float once[EW_N] = { 0 }, twice[EW_N] = { 0 };
  float big[2] = { 500.0f, -500.0f }, bt[2] = { 0.0f, 0.0f }, dbig[2] = { 0 };

  ew_setup (&c, 42, TRUE);
  mmdnn_bce_logits_backward (once, 1.0f, c.x, c.t, EW_N);
  mmdnn_bce_logits_backward (twice, 1.0f, c.x, c.t, EW_N);
  mmdnn_bce_logits_backward (twice, 1.0f, c.x, c.t, EW_N);
  for (int i = 0; i < EW_N; i++)
    g_assert_cmpfloat_with_epsilon (twice[i], 2.0f * once[i],
                                    1e-6 * fabs (2.0 * once[i]) + 1e-12);
  mmdnn_bce_logits_backward (NULL, 1.0f, c.x, c.t, EW_N);
  /* saturated sigmoid: (σ − t)/N is exactly 1/2 and 0, no NaN */
  mmdnn_bce_logits_backward (dbig, 1.0f, big, bt, 2);
  g_assert_cmpfloat (dbig[0], ==, 0.5f);
  g_assert_cmpfloat (dbig[1], ==, 0.0f);
}

/* ---- InfoNCE ------------------------------------------------------------ */

enum { NCE_N = 5, NCE_D = 7 };

typedef struct {
  float  a[NCE_N * NCE_D], b[NCE_N * NCE_D];
  float *ws;
  float  tau;
  float  loss;
} NceCtx;

static void
nce_setup (NceCtx *c, float tau, guint64 seed)
{
  MmdnnRng rng;
  int64_t wsn = mmdnn_info_nce_workspace_size (NCE_N, NCE_D);

  g_assert_cmpint (wsn, ==, 2 * NCE_N * NCE_D + 2 * NCE_N + 3 * NCE_N * NCE_N);
  mmdnn_rng_init (&rng, seed);
  mmdnn_rng_fill_uniform (&rng, c->a, NCE_N * NCE_D, -1.0f, 1.0f);
  mmdnn_rng_fill_uniform (&rng, c->b, NCE_N * NCE_D, -1.0f, 1.0f);
  /* make the pairs correlated, like a half-trained model */
  for (int i = 0; i < NCE_N * NCE_D; i++)
    c->b[i] = 0.5f * c->b[i] + 0.5f * c->a[i];
  c->ws = gc_zeros (wsn);
  c->tau = tau;
  g_assert_true (mmdnn_info_nce_check (tau, NCE_N, NCE_D, NULL));
}

static void
nce_forward (void *ctx)
{
  NceCtx *c = ctx;
  c->loss = mmdnn_info_nce_forward (c->ws, c->a, c->b, c->tau, NCE_N, NCE_D);
}

static double
nce_reference (const float *a, const float *b, double tau, int n, int d)
{
  double s[NCE_N][NCE_N], na[NCE_N], nb[NCE_N], loss = 0.0;

  for (int i = 0; i < n; i++) {
    na[i] = nb[i] = 0.0;
    for (int k = 0; k < d; k++) {
      na[i] += (double) a[i * d + k] * a[i * d + k];
      nb[i] += (double) b[i * d + k] * b[i * d + k];
    }
    na[i] = MAX (sqrt (na[i]), 1e-8);
    nb[i] = MAX (sqrt (nb[i]), 1e-8);
  }
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      s[i][j] = 0.0;
      for (int k = 0; k < d; k++)
        s[i][j] += (a[i * d + k] / na[i]) * (b[j * d + k] / nb[j]);
      s[i][j] /= tau;
    }
  for (int i = 0; i < n; i++) {
    double row = 0.0, col = 0.0;
    for (int j = 0; j < n; j++) {
      row += exp (s[i][j]);
      col += exp (s[j][i]);
    }
    loss += 0.5 * (log (row) - s[i][i]) + 0.5 * (log (col) - s[i][i]);
  }
  return loss / n;
}

static void
test_nce_forward (void)
{
  const float taus[] = { 0.07f, 0.1f, 1.0f };

  for (guint t = 0; t < G_N_ELEMENTS (taus); t++) {
    NceCtx c;
    double want;

    nce_setup (&c, taus[t], 50 + t);
    nce_forward (&c);
    want = nce_reference (c.a, c.b, taus[t], NCE_N, NCE_D);
    g_assert_cmpfloat_with_epsilon (c.loss, want, 1e-5 * MAX (1.0, want));
    g_free (c.ws);
  }
}

static void
test_nce_forward_known (void)
{
  /* a = b = identity rows: logits = I/τ, both directions equal */
  float a[3 * 3] = { 1, 0, 0, 0, 2, 0, 0, 0, 3 };
  float ws[2 * 9 + 2 * 3 + 3 * 9];
  double tau = 0.5, want = log (exp (2.0) + 2.0) - 2.0;

  g_assert_cmpint (mmdnn_info_nce_workspace_size (3, 3), ==, G_N_ELEMENTS (ws));
  g_assert_cmpfloat_with_epsilon (mmdnn_info_nce_forward (ws, a, a, (float) tau,
                                                          3, 3), want, 1e-6);
}

static void
nce_gradcheck (float tau, guint64 seed, double eps)
{
  NceCtx c;
  float da[NCE_N * NCE_D] = { 0 }, db[NCE_N * NCE_D] = { 0 };
  const float r[1] = { 1.0f };
  GradcheckInput in[] = {
    { "a", c.a, da, NCE_N * NCE_D },
    { "b", c.b, db, NCE_N * NCE_D },
  };

  nce_setup (&c, tau, seed);
  nce_forward (&c);
  mmdnn_info_nce_backward (da, db, r[0], c.ws, c.a, c.b, c.tau, NCE_N, NCE_D);
  g_assert_true (gradcheck ("info_nce", nce_forward, &c, &c.loss, 1, r, in, 2,
                            eps, 2e-3, 1e-2));
  g_free (c.ws);
}

static void
test_nce_gradcheck_tau_01 (void)
{
  nce_gradcheck (0.1f, 60, 2e-3);
}

static void
test_nce_gradcheck_tau_1 (void)
{
  nce_gradcheck (1.0f, 61, 1e-2);
}

static void
test_nce_accumulate (void)
{
  NceCtx c;
  float da1[NCE_N * NCE_D] = { 0 }, db1[NCE_N * NCE_D] = { 0 };
  float da2[NCE_N * NCE_D] = { 0 }, db2[NCE_N * NCE_D] = { 0 };
  float db_only[NCE_N * NCE_D] = { 0 };

  nce_setup (&c, 0.1f, 62);
  nce_forward (&c);
  mmdnn_info_nce_backward (da1, db1, 1.0f, c.ws, c.a, c.b, c.tau, NCE_N, NCE_D);
  mmdnn_info_nce_backward (da2, db2, 1.0f, c.ws, c.a, c.b, c.tau, NCE_N, NCE_D);
  mmdnn_info_nce_backward (da2, db2, 1.0f, c.ws, c.a, c.b, c.tau, NCE_N, NCE_D);
  mmdnn_info_nce_backward (NULL, db_only, 1.0f, c.ws, c.a, c.b, c.tau, NCE_N,
                           NCE_D);
  for (int i = 0; i < NCE_N * NCE_D; i++) {
    g_assert_cmpfloat_with_epsilon (da2[i], 2.0f * da1[i],
                                    1e-6 * fabs (2.0 * da1[i]) + 1e-12);
    g_assert_cmpfloat_with_epsilon (db2[i], 2.0f * db1[i],
                                    1e-6 * fabs (2.0 * db1[i]) + 1e-12);
    g_assert_cmpfloat (db_only[i], ==, db1[i]);
  }
  g_free (c.ws);
}

static void
nce_expect_invalid (float tau, int64_t n, int64_t d)
{
  GError *err = NULL;

  g_assert_false (mmdnn_info_nce_check (tau, n, d, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_nce_tau_zero_n (void)
{
  nce_expect_invalid (0.0f, 4, 8);
}

static void
test_nce_tau_negative_n (void)
{
  nce_expect_invalid (-0.1f, 4, 8);
}

static void
test_nce_tau_nan_n (void)
{
  nce_expect_invalid (NAN, 4, 8);
}

static void
test_nce_tau_inf_n (void)
{
  nce_expect_invalid (INFINITY, 4, 8);
}

static void
test_nce_n_zero_n (void)
{
  nce_expect_invalid (0.1f, 0, 8);
  g_assert_cmpint (mmdnn_info_nce_workspace_size (0, 8), ==, -1);
}

static void
test_nce_d_zero_n (void)
{
  nce_expect_invalid (0.1f, 4, 0);
  nce_expect_invalid (0.1f, 4, -2);
  g_assert_cmpint (mmdnn_info_nce_workspace_size (4, 0), ==, -1);
}

static void
test_nce_too_large_n (void)
{
  nce_expect_invalid (0.1f, G_GINT64_CONSTANT (1) << 32, 8);
  nce_expect_invalid (0.1f, G_GINT64_CONSTANT (1) << 21, 8);  /* n² too big */
  g_assert_cmpint (mmdnn_info_nce_workspace_size (G_GINT64_CONSTANT (1) << 32, 8),
                   ==, -1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/loss/ce-forward", test_ce_forward);
  g_test_add_func ("/loss/ce-forward-known", test_ce_forward_known);
  g_test_add_func ("/loss/ce-gradcheck", test_ce_gradcheck);
  g_test_add_func ("/loss/ce-accumulate", test_ce_accumulate);
  g_test_add_func ("/loss/ce-all-ignored", test_ce_all_ignored);
  g_test_add_func ("/loss/mse-forward", test_mse_forward);
  g_test_add_func ("/loss/mse-gradcheck", test_mse_gradcheck);
  g_test_add_func ("/loss/mse-accumulate", test_mse_accumulate);
  g_test_add_func ("/loss/bce-forward", test_bce_forward);
  g_test_add_func ("/loss/bce-gradcheck", test_bce_gradcheck);
  g_test_add_func ("/loss/bce-accumulate", test_bce_accumulate);
  g_test_add_func ("/loss/info-nce-forward", test_nce_forward);
  g_test_add_func ("/loss/info-nce-forward-known", test_nce_forward_known);
  g_test_add_func ("/loss/info-nce-gradcheck-tau0.1", test_nce_gradcheck_tau_01);
  g_test_add_func ("/loss/info-nce-gradcheck-tau1", test_nce_gradcheck_tau_1);
  g_test_add_func ("/loss/info-nce-accumulate", test_nce_accumulate);

  g_test_add_func ("/loss/ce-target-too-big_n", test_ce_target_too_big_n);
  g_test_add_func ("/loss/ce-target-negative_n", test_ce_target_negative_n);
  g_test_add_func ("/loss/ce-target-huge_n", test_ce_target_huge_n);
  g_test_add_func ("/loss/ce-null-logits_n", test_ce_null_logits_n);
  g_test_add_func ("/loss/ce-null-targets_n", test_ce_null_targets_n);
  g_test_add_func ("/loss/ce-null-outputs_n", test_ce_null_outputs_n);
  g_test_add_func ("/loss/ce-other-ignore-index_n", test_ce_other_ignore_index_n);
  g_test_add_func ("/loss/ce-too-large_n", test_ce_too_large_n);
  g_test_add_func ("/loss/ce-zero-rows_n", test_ce_zero_rows_n);
  g_test_add_func ("/loss/ce-zero-classes_n", test_ce_zero_classes_n);
  g_test_add_func ("/loss/info-nce-tau-zero_n", test_nce_tau_zero_n);
  g_test_add_func ("/loss/info-nce-tau-negative_n", test_nce_tau_negative_n);
  g_test_add_func ("/loss/info-nce-tau-nan_n", test_nce_tau_nan_n);
  g_test_add_func ("/loss/info-nce-tau-inf_n", test_nce_tau_inf_n);
  g_test_add_func ("/loss/info-nce-n-zero_n", test_nce_n_zero_n);
  g_test_add_func ("/loss/info-nce-d-zero_n", test_nce_d_zero_n);
  g_test_add_func ("/loss/info-nce-too-large_n", test_nce_too_large_n);

  return g_test_run ();
}
