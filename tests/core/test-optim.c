/* Optimisers, clipping and the LR schedule against hand-computed steps in
 * double, and the configurations PyTorch's constructors refuse.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/optim.h>
#include "gradcheck.h"

enum { N = 13, STEPS = 4 };

/* ---- references: the torch.optim docs' pseudo-code, in double ----------- */

typedef struct {
  double lr, beta1, beta2, eps, wd;
} AdamHp;

static void
adamw_reference (double *p, double *m, double *v, const float *g, AdamHp hp,
                 int t, int n)
{
  for (int i = 0; i < n; i++) {
    double mh, vh;
    p[i] -= hp.lr * hp.wd * p[i];
    m[i] = hp.beta1 * m[i] + (1.0 - hp.beta1) * g[i];
    v[i] = hp.beta2 * v[i] + (1.0 - hp.beta2) * (double) g[i] * g[i];
    mh = m[i] / (1.0 - pow (hp.beta1, t));
    vh = v[i] / (1.0 - pow (hp.beta2, t));
    p[i] -= hp.lr * mh / (sqrt (vh) + hp.eps);
  }
}

static void
sgd_reference (double *p, double *buf, const float *g, double lr, double mu,
               double wd, gboolean nesterov, int t, int n)
{
  for (int i = 0; i < n; i++) {
    double d = g[i] + wd * p[i];
    if (mu != 0.0) {
      buf[i] = t == 1 ? d : mu * buf[i] + d;
      d = nesterov ? d + mu * buf[i] : buf[i];
    }
    p[i] -= lr * d;
  }
}

static void
assert_close_d (const char *label, const float *got, const double *want, int n,
                double tol)
{
  float w[64];

  g_assert_cmpint (n, <=, (int) G_N_ELEMENTS (w));
  for (int i = 0; i < n; i++)
    w[i] = (float) want[i];
  g_assert_true (check_close (label, got, w, n, tol));
}

/* ---- AdamW kernel ------------------------------------------------------- */

static void
adamw_kernel_case (AdamHp hp, guint64 seed)
{
  MmdnnRng rng;
  float p[N], m[N] = { 0 }, v[N] = { 0 }, g[N];
  double pd[N], md[N] = { 0 }, vd[N] = { 0 };

  mmdnn_rng_init (&rng, seed);
  mmdnn_rng_fill_uniform (&rng, p, N, -1.0f, 1.0f);
  for (int i = 0; i < N; i++)
    pd[i] = p[i];
  for (int t = 1; t <= STEPS; t++) {
    mmdnn_rng_fill_uniform (&rng, g, N, -0.5f, 0.5f);
    mmdnn_adamw_update (p, m, v, g, (float) hp.lr, (float) hp.beta1,
                        (float) hp.beta2, (float) hp.eps, (float) hp.wd, t, N);
    adamw_reference (pd, md, vd, g, hp, t, N);
  }
  assert_close_d ("adamw p", p, pd, N, 2e-6);
  assert_close_d ("adamw m", m, md, N, 1e-6);
  assert_close_d ("adamw v", v, vd, N, 1e-7);
}

static void
test_adamw_kernel (void)
{
  AdamHp defaults = { 1e-2, 0.9, 0.999, 1e-8, 0.1 };
  /* eps large enough to matter, no decay */
  AdamHp other = { 3e-2, 0.8, 0.99, 1e-2, 0.0 };

  adamw_kernel_case (defaults, 1);
  adamw_kernel_case (other, 2);
}

static void
test_adamw_kernel_by_hand (void)
{
  /* step 1: m̂ = g, v̂ = g², so p = p(1 − lr·wd) − lr·g/(|g| + eps) */
  float p = 1.0f, m = 0.0f, v = 0.0f, g = 0.5f;

  mmdnn_adamw_update (&p, &m, &v, &g, 0.1f, 0.9f, 0.999f, 1e-8f, 0.1f, 1, 1);
  g_assert_cmpfloat_with_epsilon (p, 0.99 - 0.1 * 0.5 / (0.5 + 1e-8), 1e-7);
  g_assert_cmpfloat_with_epsilon (m, 0.05, 1e-7);
  g_assert_cmpfloat_with_epsilon (v, 0.00025, 1e-9);
  /* step 2 with the same g: m = 0.095, v = 0.00049975, m̂ = 0.5, v̂ = 0.25 */
  mmdnn_adamw_update (&p, &m, &v, &g, 0.1f, 0.9f, 0.999f, 1e-8f, 0.1f, 2, 1);
  g_assert_cmpfloat_with_epsilon (p, (0.99 - 0.1 * 0.5 / (0.5 + 1e-8)) * 0.99
                                  - 0.1 * 0.5 / (0.5 + 1e-8), 2e-7);
}

/* ---- SGD kernel --------------------------------------------------------- */

static void
sgd_kernel_case (double lr, double mu, double wd, gboolean nesterov,
                 guint64 seed)
{
  MmdnnRng rng;
  float p[N], buf[N], g[N];
  double pd[N], bufd[N] = { 0 };

  mmdnn_rng_init (&rng, seed);
  mmdnn_rng_fill_uniform (&rng, p, N, -1.0f, 1.0f);
  for (int i = 0; i < N; i++) {
    pd[i] = p[i];
    buf[i] = 1e30f;             /* garbage: the first step must not read it */
  }
  for (int t = 1; t <= STEPS; t++) {
    mmdnn_rng_fill_uniform (&rng, g, N, -0.5f, 0.5f);
    mmdnn_sgd_update (p, mu != 0.0 ? buf : NULL, g, (float) lr, (float) mu,
                      (float) wd, nesterov, t == 1, N);
    sgd_reference (pd, bufd, g, lr, mu, wd, nesterov, t, N);
  }
  assert_close_d ("sgd p", p, pd, N, 1e-6);
  if (mu != 0.0)
    assert_close_d ("sgd buf", buf, bufd, N, 1e-6);
}

static void
test_sgd_plain (void)
{
  float p = 1.0f, g = 0.5f;

  sgd_kernel_case (0.1, 0.0, 0.0, FALSE, 10);
  mmdnn_sgd_update (&p, NULL, &g, 0.1f, 0.0f, 0.0f, FALSE, TRUE, 1);
  g_assert_cmpfloat_with_epsilon (p, 0.95, 1e-7);
}

static void
test_sgd_momentum (void)
{
  float p = 1.0f, buf = 0.0f, g = 1.0f;

  sgd_kernel_case (0.05, 0.9, 0.0, FALSE, 11);
  /* buf = 1, p = 0.9; then buf = 1.9, p = 0.71 */
  mmdnn_sgd_update (&p, &buf, &g, 0.1f, 0.9f, 0.0f, FALSE, TRUE, 1);
  g_assert_cmpfloat_with_epsilon (p, 0.9, 1e-7);
  mmdnn_sgd_update (&p, &buf, &g, 0.1f, 0.9f, 0.0f, FALSE, FALSE, 1);
  g_assert_cmpfloat_with_epsilon (buf, 1.9, 1e-6);
  g_assert_cmpfloat_with_epsilon (p, 0.71, 1e-6);
}

static void
test_sgd_nesterov (void)
{
  float p = 1.0f, buf = 0.0f, g = 1.0f;

  sgd_kernel_case (0.05, 0.9, 0.0, TRUE, 12);
  /* buf = 1, d = 1 + 0.9·1, p = 0.81; then buf = 1.9, d = 2.71, p = 0.539 */
  mmdnn_sgd_update (&p, &buf, &g, 0.1f, 0.9f, 0.0f, TRUE, TRUE, 1);
  g_assert_cmpfloat_with_epsilon (p, 0.81, 1e-7);
  mmdnn_sgd_update (&p, &buf, &g, 0.1f, 0.9f, 0.0f, TRUE, FALSE, 1);
  g_assert_cmpfloat_with_epsilon (p, 0.539, 1e-6);
}

static void
test_sgd_weight_decay (void)
{
  float p = 2.0f, g = 0.5f;

  sgd_kernel_case (0.1, 0.0, 0.05, FALSE, 13);
  sgd_kernel_case (0.1, 0.5, 0.05, FALSE, 14);
  sgd_kernel_case (0.1, 0.5, 0.05, TRUE, 15);
  /* d = 0.5 + 0.1·2 = 0.7 */
  mmdnn_sgd_update (&p, NULL, &g, 0.1f, 0.0f, 0.1f, FALSE, TRUE, 1);
  g_assert_cmpfloat_with_epsilon (p, 1.93, 1e-6);
}

/* ---- the optimiser object over a parameter set ------------------------- */

enum { W_OUT = 3, W_IN = 5, B_N = 5 };

static MmdnnParamSet *
two_param_set (MmdnnParam **w, MmdnnParam **b)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  const int64_t ws[2] = { W_OUT, W_IN }, bs[1] = { B_N };
  GError *err = NULL;

  *w = mmdnn_param_set_declare (ps, "fc.weight", 2, ws, TRUE, &err);
  g_assert_no_error (err);
  *b = mmdnn_param_set_declare (ps, "fc.bias", 1, bs, FALSE, &err);
  g_assert_no_error (err);
  g_assert_true (mmdnn_param_set_allocate (ps, &err));
  g_assert_no_error (err);
  return ps;
}

static void
optim_object_case (const MmdnnOptimConfig *cfg)
{
  MmdnnParam *w, *b;
  MmdnnParamSet *ps = two_param_set (&w, &b);
  GError *err = NULL;
  MmdnnOptim *o;
  MmdnnRng rng;
  double wd[W_OUT * W_IN], bd[B_N];
  double wm[W_OUT * W_IN] = { 0 }, wv[W_OUT * W_IN] = { 0 };
  double bm[B_N] = { 0 }, bv[B_N] = { 0 };
  const float lrs[STEPS] = { 0.01f, 0.02f, 0.015f, 0.005f };
  AdamHp hw = { 0, cfg->beta1, cfg->beta2, cfg->eps, cfg->weight_decay };
  AdamHp hb = { 0, cfg->beta1, cfg->beta2, cfg->eps, 0.0 };

  o = mmdnn_optim_new (cfg, ps, &err);
  g_assert_no_error (err);
  g_assert_nonnull (o);
  g_assert_cmpint (o->numel, ==, ps->numel);
  g_assert_cmpint (o->step, ==, 0);

  mmdnn_rng_init (&rng, 77);
  mmdnn_rng_fill_uniform (&rng, w->value, w->numel, -1.0f, 1.0f);
  mmdnn_rng_fill_uniform (&rng, b->value, b->numel, -1.0f, 1.0f);
  for (int i = 0; i < W_OUT * W_IN; i++)
    wd[i] = w->value[i];
  for (int i = 0; i < B_N; i++)
    bd[i] = b->value[i];

  for (int t = 1; t <= STEPS; t++) {
    mmdnn_param_set_zero_grad (ps);
    mmdnn_rng_fill_uniform (&rng, w->grad, w->numel, -0.5f, 0.5f);
    mmdnn_rng_fill_uniform (&rng, b->grad, b->numel, -0.5f, 0.5f);
    mmdnn_optim_step (o, ps, lrs[t - 1]);
    if (cfg->kind == MMDNN_OPTIM_ADAMW) {
      hw.lr = hb.lr = lrs[t - 1];
      adamw_reference (wd, wm, wv, w->grad, hw, t, W_OUT * W_IN);
      adamw_reference (bd, bm, bv, b->grad, hb, t, B_N);
    } else {
      sgd_reference (wd, wm, w->grad, lrs[t - 1], cfg->momentum,
                     cfg->weight_decay, cfg->nesterov, t, W_OUT * W_IN);
      sgd_reference (bd, bm, b->grad, lrs[t - 1], cfg->momentum, 0.0,
                     cfg->nesterov, t, B_N);
    }
  }
  g_assert_cmpint (o->step, ==, STEPS);
  assert_close_d ("optim weight", w->value, wd, W_OUT * W_IN, 2e-6);
  assert_close_d ("optim bias", b->value, bd, B_N, 2e-6);
  /* the slab padding between and after the parameters stays zero */
  for (int64_t i = w->numel; i < b->offset; i++)
    g_assert_cmpfloat (ps->values[i], ==, 0.0f);

  mmdnn_optim_free (o);
  mmdnn_param_set_free (ps);
}

static void
test_optim_adamw_object (void)
{
  MmdnnOptimConfig c;

  /* large decay so a bias that wrongly decays is far off */
  mmdnn_optim_config_init_adamw (&c, 1e-2f, 5.0f);
  optim_object_case (&c);
}

static void
test_optim_sgd_object (void)
{
  MmdnnOptimConfig c;

  mmdnn_optim_config_init_sgd (&c, 0.1f, 0.9f, 2.0f);
  optim_object_case (&c);
  c.nesterov = TRUE;
  optim_object_case (&c);
  mmdnn_optim_config_init_sgd (&c, 0.1f, 0.0f, 2.0f);
  optim_object_case (&c);
}

static void
test_optim_config_defaults (void)
{
  MmdnnOptimConfig c;
  MmdnnParam *w, *b;
  MmdnnParamSet *ps = two_param_set (&w, &b);
  MmdnnOptim *o;

  mmdnn_optim_config_init_adamw (&c, 3e-4f, 0.01f);
  g_assert_cmpint (c.kind, ==, MMDNN_OPTIM_ADAMW);
  g_assert_cmpfloat (c.lr, ==, 3e-4f);
  g_assert_cmpfloat (c.beta1, ==, 0.9f);
  g_assert_cmpfloat (c.beta2, ==, 0.999f);
  g_assert_cmpfloat (c.eps, ==, 1e-8f);
  g_assert_cmpfloat (c.weight_decay, ==, 0.01f);
  o = mmdnn_optim_new (&c, ps, NULL);
  g_assert_true (o != NULL && o->m != NULL && o->v != NULL);
  mmdnn_optim_free (o);

  mmdnn_optim_config_init_sgd (&c, 0.1f, 0.0f, 0.0f);
  g_assert_cmpint (c.kind, ==, MMDNN_OPTIM_SGD);
  g_assert_false (c.nesterov);
  o = mmdnn_optim_new (&c, ps, NULL);
  g_assert_true (o != NULL && o->m == NULL && o->v == NULL);
  mmdnn_optim_free (o);
  mmdnn_optim_free (NULL);
  mmdnn_param_set_free (ps);
}

/* ---- clipping ----------------------------------------------------------- */

enum { G_N = 37 };

static double
norm_reference (const float *g, int n)
{
  double s = 0.0;
  for (int i = 0; i < n; i++)
    s += (double) g[i] * g[i];
  return sqrt (s);
}

static void
test_clip_global_norm (void)
{
  float g[3] = { 3.0f, 0.0f, -4.0f };
  float z[1] = { 0.0f };

  g_assert_cmpfloat (mmdnn_grad_global_norm (g, 3), ==, 5.0);
  g_assert_cmpfloat (mmdnn_grad_global_norm (z, 1), ==, 0.0);
  g_assert_cmpfloat (mmdnn_clip_grad_norm (z, 1, 1.0), ==, 0.0);
  g_assert_cmpfloat (z[0], ==, 0.0f);
}

static void
test_clip_below (void)
{
  MmdnnRng rng;
  float g[G_N], before[G_N];
  double norm;

  mmdnn_rng_init (&rng, 90);
  mmdnn_rng_fill_uniform (&rng, g, G_N, -1.0f, 1.0f);
  memcpy (before, g, sizeof g);
  norm = norm_reference (g, G_N);
  g_assert_cmpfloat_with_epsilon (mmdnn_clip_grad_norm (g, G_N, 2.0 * norm),
                                  norm, 1e-12);
  g_assert_cmpmem (g, sizeof g, before, sizeof before);
}

static void
test_clip_above (void)
{
  MmdnnRng rng;
  float g[G_N], before[G_N];
  double norm, max_norm, got;

  mmdnn_rng_init (&rng, 91);
  mmdnn_rng_fill_uniform (&rng, g, G_N, -1.0f, 1.0f);
  memcpy (before, g, sizeof g);
  norm = norm_reference (g, G_N);
  max_norm = norm / 3.0;
  got = mmdnn_clip_grad_norm (g, G_N, max_norm);
  g_assert_cmpfloat_with_epsilon (got, norm, 1e-12);
  g_assert_cmpfloat_with_epsilon (norm_reference (g, G_N), max_norm, 1e-5);
  /* the direction is kept */
  for (int i = 0; i < G_N; i++)
    g_assert_cmpfloat_with_epsilon (g[i], before[i] / 3.0, 1e-6);
}

/* ---- schedule ----------------------------------------------------------- */

static void
test_schedule_values (void)
{
  MmdnnLrSchedule s;
  GError *err = NULL;
  const double base = 1e-3, lo = 1e-5;

  g_assert_true (mmdnn_lr_schedule_init (&s, (float) base, (float) lo, 10, 110,
                                         &err));
  g_assert_no_error (err);
  g_assert_cmpfloat_with_epsilon (mmdnn_lr_schedule_get (&s, 0), base / 10, 1e-10);
  g_assert_cmpfloat_with_epsilon (mmdnn_lr_schedule_get (&s, -5), base / 10, 1e-10);
  g_assert_cmpfloat_with_epsilon (mmdnn_lr_schedule_get (&s, 4), base / 2, 1e-10);
  /* the last warm-up step and the first cosine step are both the peak */
  g_assert_cmpfloat_with_epsilon (mmdnn_lr_schedule_get (&s, 9), base, 1e-10);
  g_assert_cmpfloat_with_epsilon (mmdnn_lr_schedule_get (&s, 10), base, 1e-10);
  /* halfway through the cosine: halfway between base and min */
  g_assert_cmpfloat_with_epsilon (mmdnn_lr_schedule_get (&s, 60),
                                  (base + lo) / 2, 1e-10);
  g_assert_cmpfloat_with_epsilon (mmdnn_lr_schedule_get (&s, 35),
                                  lo + 0.5 * (base - lo) * (1 + cos (G_PI * 0.25)),
                                  1e-10);
  g_assert_cmpfloat_with_epsilon (mmdnn_lr_schedule_get (&s, 109),
                                  lo + 0.5 * (base - lo) * (1 + cos (G_PI * 0.99)),
                                  1e-10);
  g_assert_cmpfloat (mmdnn_lr_schedule_get (&s, 110), ==, (float) lo);
  g_assert_cmpfloat (mmdnn_lr_schedule_get (&s, 100000), ==, (float) lo);
  /* monotone after the warm-up */
  for (int64_t t = 10; t < 120; t++)
    g_assert_cmpfloat (mmdnn_lr_schedule_get (&s, t + 1), <=,
                       mmdnn_lr_schedule_get (&s, t));
}

static void
test_schedule_edges (void)
{
  MmdnnLrSchedule s;

  /* no warm-up: starts at the peak */
  g_assert_true (mmdnn_lr_schedule_init (&s, 0.1f, 0.0f, 0, 4, NULL));
  g_assert_cmpfloat_with_epsilon (mmdnn_lr_schedule_get (&s, 0), 0.1, 1e-8);
  g_assert_cmpfloat_with_epsilon (mmdnn_lr_schedule_get (&s, 2), 0.05, 1e-8);
  g_assert_cmpfloat (mmdnn_lr_schedule_get (&s, 4), ==, 0.0f);
  /* all warm-up: linear to the peak, then min */
  g_assert_true (mmdnn_lr_schedule_init (&s, 0.1f, 0.01f, 4, 4, NULL));
  g_assert_cmpfloat_with_epsilon (mmdnn_lr_schedule_get (&s, 3), 0.1, 1e-8);
  g_assert_cmpfloat (mmdnn_lr_schedule_get (&s, 4), ==, 0.01f);
  /* constant: min == base */
  g_assert_true (mmdnn_lr_schedule_init (&s, 0.1f, 0.1f, 0, 7, NULL));
  for (int64_t t = 0; t < 9; t++)
    g_assert_cmpfloat_with_epsilon (mmdnn_lr_schedule_get (&s, t), 0.1, 1e-8);
}

/* ---- negative ----------------------------------------------------------- */

static void
optim_new_expect_invalid (const MmdnnOptimConfig *c)
{
  MmdnnParam *w, *b;
  MmdnnParamSet *ps = two_param_set (&w, &b);
  GError *err = NULL;

  g_assert_null (mmdnn_optim_new (c, ps, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  mmdnn_param_set_free (ps);
}

static void
test_optim_unallocated_n (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  const int64_t shape[1] = { 4 };
  MmdnnOptimConfig c;
  GError *err = NULL;

  g_assert_nonnull (mmdnn_param_set_declare (ps, "w", 1, shape, TRUE, NULL));
  mmdnn_optim_config_init_adamw (&c, 1e-3f, 0.0f);
  g_assert_null (mmdnn_optim_new (&c, ps, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  mmdnn_param_set_free (ps);
}

static void
test_optim_null_config_n (void)
{
  MmdnnParam *w, *b;
  MmdnnParamSet *ps = two_param_set (&w, &b);
  GError *err = NULL;

  g_assert_null (mmdnn_optim_new (NULL, ps, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  mmdnn_param_set_free (ps);
}

static void
test_optim_null_set_n (void)
{
  MmdnnOptimConfig c;
  GError *err = NULL;

  mmdnn_optim_config_init_sgd (&c, 0.1f, 0.0f, 0.0f);
  g_assert_null (mmdnn_optim_new (&c, NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_optim_negative_lr_n (void)
{
  MmdnnOptimConfig c;

  mmdnn_optim_config_init_adamw (&c, -1e-3f, 0.0f);
  optim_new_expect_invalid (&c);
  mmdnn_optim_config_init_sgd (&c, -0.1f, 0.9f, 0.0f);
  optim_new_expect_invalid (&c);
}

static void
test_optim_nan_lr_n (void)
{
  MmdnnOptimConfig c;

  mmdnn_optim_config_init_adamw (&c, NAN, 0.0f);
  optim_new_expect_invalid (&c);
  mmdnn_optim_config_init_adamw (&c, INFINITY, 0.0f);
  optim_new_expect_invalid (&c);
}

static void
test_optim_beta1_one_n (void)
{
  MmdnnOptimConfig c;

  mmdnn_optim_config_init_adamw (&c, 1e-3f, 0.0f);
  c.beta1 = 1.0f;
  optim_new_expect_invalid (&c);
}

static void
test_optim_beta2_one_n (void)
{
  MmdnnOptimConfig c;

  mmdnn_optim_config_init_adamw (&c, 1e-3f, 0.0f);
  c.beta2 = 1.5f;
  optim_new_expect_invalid (&c);
}

static void
test_optim_beta_negative_n (void)
{
  MmdnnOptimConfig c;

  mmdnn_optim_config_init_adamw (&c, 1e-3f, 0.0f);
  c.beta1 = -0.1f;
  optim_new_expect_invalid (&c);
  mmdnn_optim_config_init_adamw (&c, 1e-3f, 0.0f);
  c.beta2 = NAN;
  optim_new_expect_invalid (&c);
}

static void
test_optim_eps_zero_n (void)
{
  MmdnnOptimConfig c;

  mmdnn_optim_config_init_adamw (&c, 1e-3f, 0.0f);
  c.eps = 0.0f;
  optim_new_expect_invalid (&c);
  c.eps = -1e-8f;
  optim_new_expect_invalid (&c);
}

static void
test_optim_negative_decay_n (void)
{
  MmdnnOptimConfig c;

  mmdnn_optim_config_init_adamw (&c, 1e-3f, -0.01f);
  optim_new_expect_invalid (&c);
  mmdnn_optim_config_init_sgd (&c, 0.1f, 0.9f, -0.01f);
  optim_new_expect_invalid (&c);
}

static void
test_optim_negative_momentum_n (void)
{
  MmdnnOptimConfig c;

  mmdnn_optim_config_init_sgd (&c, 0.1f, -0.9f, 0.0f);
  optim_new_expect_invalid (&c);
}

static void
test_optim_nesterov_no_momentum_n (void)
{
  MmdnnOptimConfig c;

  mmdnn_optim_config_init_sgd (&c, 0.1f, 0.0f, 0.0f);
  c.nesterov = TRUE;
  optim_new_expect_invalid (&c);
}

static void
test_optim_bad_kind_n (void)
{
  MmdnnOptimConfig c;

  mmdnn_optim_config_init_sgd (&c, 0.1f, 0.0f, 0.0f);
  c.kind = (MmdnnOptimKind) 7;
  optim_new_expect_invalid (&c);
}

static void
schedule_expect_invalid (float base, float lo, int64_t warmup, int64_t total)
{
  MmdnnLrSchedule s = { 0.5f, 0.25f, 3, 9 }, before = s;
  GError *err = NULL;

  g_assert_false (mmdnn_lr_schedule_init (&s, base, lo, warmup, total, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpmem (&s, sizeof s, &before, sizeof before);
  g_clear_error (&err);
}

static void
test_schedule_warmup_gt_total_n (void)
{
  schedule_expect_invalid (1e-3f, 0.0f, 11, 10);
}

static void
test_schedule_negative_warmup_n (void)
{
  schedule_expect_invalid (1e-3f, 0.0f, -1, 10);
}

static void
test_schedule_total_zero_n (void)
{
  schedule_expect_invalid (1e-3f, 0.0f, 0, 0);
  schedule_expect_invalid (1e-3f, 0.0f, 0, -5);
}

static void
test_schedule_min_gt_base_n (void)
{
  schedule_expect_invalid (1e-3f, 2e-3f, 1, 10);
}

static void
test_schedule_negative_lr_n (void)
{
  schedule_expect_invalid (-1e-3f, -2e-3f, 1, 10);
  schedule_expect_invalid (1e-3f, -1e-5f, 1, 10);
}

static void
test_schedule_nan_n (void)
{
  schedule_expect_invalid (NAN, 0.0f, 1, 10);
  schedule_expect_invalid (INFINITY, 0.0f, 1, 10);
  schedule_expect_invalid (1e-3f, NAN, 1, 10);
}

static void
test_schedule_null_n (void)
{
  GError *err = NULL;

  g_assert_false (mmdnn_lr_schedule_init (NULL, 1e-3f, 0.0f, 1, 10, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/optim/adamw-kernel", test_adamw_kernel);
  g_test_add_func ("/optim/adamw-kernel-by-hand", test_adamw_kernel_by_hand);
  g_test_add_func ("/optim/sgd-plain", test_sgd_plain);
  g_test_add_func ("/optim/sgd-momentum", test_sgd_momentum);
  g_test_add_func ("/optim/sgd-nesterov", test_sgd_nesterov);
  g_test_add_func ("/optim/sgd-weight-decay", test_sgd_weight_decay);
  g_test_add_func ("/optim/object-adamw", test_optim_adamw_object);
  g_test_add_func ("/optim/object-sgd", test_optim_sgd_object);
  g_test_add_func ("/optim/config-defaults", test_optim_config_defaults);
  g_test_add_func ("/optim/clip-global-norm", test_clip_global_norm);
  g_test_add_func ("/optim/clip-below", test_clip_below);
  g_test_add_func ("/optim/clip-above", test_clip_above);
  g_test_add_func ("/optim/schedule-values", test_schedule_values);
  g_test_add_func ("/optim/schedule-edges", test_schedule_edges);

  g_test_add_func ("/optim/new-unallocated_n", test_optim_unallocated_n);
  g_test_add_func ("/optim/new-null-config_n", test_optim_null_config_n);
  g_test_add_func ("/optim/new-null-set_n", test_optim_null_set_n);
  g_test_add_func ("/optim/new-negative-lr_n", test_optim_negative_lr_n);
  g_test_add_func ("/optim/new-nan-lr_n", test_optim_nan_lr_n);
  g_test_add_func ("/optim/new-beta1-one_n", test_optim_beta1_one_n);
  g_test_add_func ("/optim/new-beta2-above-one_n", test_optim_beta2_one_n);
  g_test_add_func ("/optim/new-beta-negative_n", test_optim_beta_negative_n);
  g_test_add_func ("/optim/new-eps-zero_n", test_optim_eps_zero_n);
  g_test_add_func ("/optim/new-negative-decay_n", test_optim_negative_decay_n);
  g_test_add_func ("/optim/new-negative-momentum_n", test_optim_negative_momentum_n);
  g_test_add_func ("/optim/new-nesterov-no-momentum_n", test_optim_nesterov_no_momentum_n);
  g_test_add_func ("/optim/new-bad-kind_n", test_optim_bad_kind_n);
  g_test_add_func ("/optim/schedule-warmup-gt-total_n", test_schedule_warmup_gt_total_n);
  g_test_add_func ("/optim/schedule-negative-warmup_n", test_schedule_negative_warmup_n);
  g_test_add_func ("/optim/schedule-total-zero_n", test_schedule_total_zero_n);
  g_test_add_func ("/optim/schedule-min-gt-base_n", test_schedule_min_gt_base_n);
  g_test_add_func ("/optim/schedule-negative-lr_n", test_schedule_negative_lr_n);
  g_test_add_func ("/optim/schedule-nan_n", test_schedule_nan_n);
  g_test_add_func ("/optim/schedule-null_n", test_schedule_null_n);

  return g_test_run ();
}
