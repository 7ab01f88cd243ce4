/* Tests of the information-fusion module.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/fusion.h>
#include "gradcheck.h"
#include "golden-file.h"

#define PREFIX "fusion"
#define NM     MMDNN_N_MODALITIES
#define NP     MMDNN_N_PAIRS
#define NC     MMDNN_FUSION_N_CANDIDATES

static const int pair_mod[NP][2] = { { 0, 1 }, { 0, 2 }, { 1, 2 } };

/* ------------------------------------------------------------ fixtures */

/* Small odd sizes: D 6, K {4, 3, 5}, H 5. */
static void
small_config (MmdnnFusionConfig *c, float tau)
{
  mmdnn_fusion_config_init (c);
  c->dim = 6;
  c->tokens[0] = 4;
  c->tokens[1] = 3;
  c->tokens[2] = 5;
  c->attn_hidden = 5;
  c->tau = tau;
}

typedef struct {
  MmdnnFusionConfig  config;
  MmdnnParamSet     *ps;
  MmdnnFusion        fu;
  MmdnnFusionActs   *a;
} Fixture;

static void
fixture_init (Fixture *f, const MmdnnFusionConfig *c, uint64_t seed,
              int64_t max_n)
{
  MmdnnRng rng;
  GError *err = NULL;

  f->config = *c;
  f->ps = mmdnn_param_set_new ();
  g_assert_true (mmdnn_fusion_init (&f->fu, f->ps, PREFIX, c, &err));
  g_assert_no_error (err);
  g_assert_true (mmdnn_param_set_allocate (f->ps, &err));
  g_assert_no_error (err);
  mmdnn_rng_init (&rng, seed);
  mmdnn_fusion_reset (&f->fu, &rng);
  f->a = mmdnn_fusion_acts_new (&f->fu, max_n, &err);
  g_assert_no_error (err);
  g_assert_nonnull (f->a);
}

static void
fixture_clear (Fixture *f)
{
  mmdnn_fusion_acts_free (f->a);
  mmdnn_param_set_free (f->ps);
}

static MmdnnParam *
param (Fixture *f, const char *suffix)
{
  char *name = g_strdup_printf (PREFIX ".%s", suffix);
  MmdnnParam *p = mmdnn_param_set_lookup (f->ps, name);

  g_assert_nonnull (p);
  g_free (name);
  return p;
}

/* One batch of inputs: tokens U(−1, 1), masks and presence as given. */
typedef struct {
  int64_t  n;
  float   *tokens[NM];
  float   *masks[NM];
  float   *presence;
} Batch;

/* @real[i][m]: number of real tokens of modality m in sample i (the first
 * ones are real unless @scatter, then every other from the end is padding);
 * 0 means missing. */
static void
batch_init (Batch *b, const MmdnnFusionConfig *c, MmdnnRng *rng, int64_t n,
            const int (*real)[NM])
{
  b->n = n;
  b->presence = g_new0 (float, n * NM);
  for (int m = 0; m < NM; m++) {
    int64_t k = c->tokens[m];
    b->tokens[m] = gc_random (rng, n * k * c->dim, -1.0f, 1.0f);
    b->masks[m] = g_new0 (float, n * k);
    for (int64_t i = 0; i < n; i++) {
      b->presence[i * NM + m] = real[i][m] > 0 ? 1.0f : 0.0f;
      /* real tokens spread over the grid: padding in the middle too */
      for (int64_t t = 0, placed = 0; t < k; t++) {
        gboolean on = placed < real[i][m]
            && (k - t <= real[i][m] - placed || t % 2 == 0);
        b->masks[m][i * k + t] = on ? 1.0f : 0.0f;
        placed += on;
      }
    }
  }
}

static void
batch_clear (Batch *b)
{
  for (int m = 0; m < NM; m++) {
    g_free (b->tokens[m]);
    g_free (b->masks[m]);
  }
  g_free (b->presence);
}

static const float *const *
ctok (const Batch *b)
{
  return (const float *const *) b->tokens;
}

static const float *const *
cmask (const Batch *b)
{
  return (const float *const *) b->masks;
}

static void
forward_ok (Fixture *f, const Batch *b, const float **fused,
            const float **omega)
{
  GError *err = NULL;

  g_assert_true (mmdnn_fusion_forward (&f->fu, f->a, ctok (b), cmask (b),
                                       b->presence, b->n, fused, omega, &err));
  g_assert_no_error (err);
}

/* ------------------------------------------------------------ reference */

/* Independent double-precision forward, straight from the header's text.
 * Also measures how far the inputs are from the non-differentiable points:
 * the gap between the best and second-best similarity of every argmax, and
 * min |x − y| over the matched pairs. */
static double ref_sgap, ref_absgap;

static double
ref_cos (const float *x, const float *y, int64_t d)
{
  double xx = 0.0, yy = 0.0, xy = 0.0;

  for (int64_t e = 0; e < d; e++) {
    xx += (double) x[e] * x[e];
    yy += (double) y[e] * y[e];
    xy += (double) x[e] * y[e];
  }
  return xy / (MAX (sqrt (xx), 1e-8) * MAX (sqrt (yy), 1e-8));
}

static void
ref_forward (Fixture *f, const Batch *b, double *fused, double *omega,
             double *alpha)
{
  const MmdnnFusionConfig *c = &f->config;
  int64_t d = c->dim, h = c->attn_hidden;
  double *cand = g_new0 (double, NC * d);
  double *uu = g_new (double, 4 * d), *fv = g_new (double, 64 * d);
  double *lg = g_new (double, 64);
  const float *wa = param (f, "attn.weight")->value;
  const float *ba = param (f, "attn.bias")->value;
  const float *v = param (f, "attn_v")->value;

  ref_sgap = HUGE_VAL;
  ref_absgap = HUGE_VAL;
  for (int64_t i = 0; i < b->n; i++) {
    gboolean on[NC];
    double e[NC], mx = -HUGE_VAL, z = 0.0;

    for (int m = 0; m < NM; m++) {
      int64_t k = c->tokens[m];
      double cnt = 0.0;
      on[m] = b->presence[i * NM + m] != 0.0f;
      memset (cand + m * d, 0, sizeof (double) * d);
      if (!on[m])
        continue;
      for (int64_t t = 0; t < k; t++)
        if (b->masks[m][i * k + t] != 0.0f) {
          cnt += 1.0;
          for (int64_t q = 0; q < d; q++)
            cand[m * d + q] += b->tokens[m][(i * k + t) * d + q];
        }
      for (int64_t q = 0; q < d; q++)
        cand[m * d + q] /= cnt;
    }
    for (int p = 0; p < NP; p++) {
      int mm = pair_mod[p][0], nn = pair_mod[p][1];
      int64_t km = c->tokens[mm], kn = c->tokens[nn], len = 0;
      const float *xs = b->tokens[mm] + i * km * d;
      const float *ys = b->tokens[nn] + i * kn * d;
      const float *mk = b->masks[mm] + i * km, *nk = b->masks[nn] + i * kn;
      const float *gw = param (f, p == 0 ? "match.video_audio.weight"
                               : p == 1 ? "match.video_text.weight"
                               : "match.audio_text.weight")->value;
      const float *gb = param (f, p == 0 ? "match.video_audio.bias"
                               : p == 1 ? "match.video_text.bias"
                               : "match.audio_text.bias")->value;
      int64_t li[64], lj[64];
      double lmx = -HUGE_VAL, lz = 0.0;

      on[NM + p] = on[mm] && on[nn];
      memset (cand + (NM + p) * d, 0, sizeof (double) * d);
      if (!on[NM + p])
        continue;
      /* both directions; ties go to the lowest index (strict >) */
      for (int dir = 0; dir < 2; dir++) {
        int64_t ka = dir == 0 ? km : kn, kb = dir == 0 ? kn : km;
        const float *ma = dir == 0 ? mk : nk, *mb = dir == 0 ? nk : mk;
        for (int64_t r = 0; r < ka; r++) {
          double best = -HUGE_VAL, second = -HUGE_VAL;
          int64_t bi = -1;
          if (ma[r] == 0.0f)
            continue;
          for (int64_t q = 0; q < kb; q++) {
            double s;
            if (mb[q] == 0.0f)
              continue;
            s = dir == 0 ? ref_cos (xs + r * d, ys + q * d, d)
                : ref_cos (xs + q * d, ys + r * d, d);
            if (s > best) {
              second = best;
              best = s;
              bi = q;
            } else if (s > second) {
              second = s;
            }
          }
          if (isfinite (second))
            ref_sgap = MIN (ref_sgap, best - second);
          li[len] = dir == 0 ? r : bi;
          lj[len] = dir == 0 ? bi : r;
          len++;
        }
      }
      g_assert_cmpint (len, <=, 64);
      for (int64_t l = 0; l < len; l++) {
        const float *x = xs + li[l] * d, *y = ys + lj[l] * d;
        lg[l] = ref_cos (x, y, d) / c->tau;
        lmx = MAX (lmx, lg[l]);
        for (int64_t q = 0; q < d; q++) {
          uu[q] = x[q];
          uu[d + q] = y[q];
          uu[2 * d + q] = (double) x[q] * y[q];
          uu[3 * d + q] = fabs ((double) x[q] - y[q]);
          ref_absgap = MIN (ref_absgap, uu[3 * d + q]);
        }
        for (int64_t o = 0; o < d; o++) {
          double acc = gb[o], g;
          for (int64_t q = 0; q < 4 * d; q++)
            acc += gw[o * 4 * d + q] * uu[q];
          g = 1.0 / (1.0 + exp (-acc));
          fv[l * d + o] = g * x[o] + (1.0 - g) * y[o];
        }
      }
      for (int64_t l = 0; l < len; l++)
        lz += exp (lg[l] - lmx);
      for (int64_t l = 0; l < len; l++)
        for (int64_t q = 0; q < d; q++)
          cand[(NM + p) * d + q] += exp (lg[l] - lmx) / lz * fv[l * d + q];
    }
    for (int cc = 0; cc < NC; cc++) {
      e[cc] = 0.0;
      for (int64_t k = 0; k < h; k++) {
        double acc = ba[k];
        for (int64_t q = 0; q < d; q++)
          acc += wa[k * d + q] * cand[cc * d + q];
        e[cc] += v[k] * tanh (acc);
      }
      if (on[cc])
        mx = MAX (mx, e[cc]);
    }
    for (int cc = 0; cc < NC; cc++)
      z += on[cc] ? exp (e[cc] - mx) : 0.0;
    for (int cc = 0; cc < NC; cc++)
      alpha[i * NC + cc] = on[cc] ? exp (e[cc] - mx) / z : 0.0;
    for (int64_t q = 0; q < d; q++) {
      fused[i * d + q] = 0.0;
      for (int cc = 0; cc < NC; cc++)
        fused[i * d + q] += alpha[i * NC + cc] * cand[cc * d + q];
    }
    for (int m = 0; m < NM; m++)
      omega[i * NM + m] = alpha[i * NC + m];
    for (int p = 0; p < NP; p++) {
      omega[i * NM + pair_mod[p][0]] += 0.5 * alpha[i * NC + NM + p];
      omega[i * NM + pair_mod[p][1]] += 0.5 * alpha[i * NC + NM + p];
    }
  }
  g_free (cand); g_free (uu); g_free (fv); g_free (lg);
}

static float *
to_float (const double *x, int64_t n)
{
  float *y = g_new (float, n);

  for (int64_t i = 0; i < n; i++)
    y[i] = (float) x[i];
  return y;
}

/* ------------------------------------------------------------ positive */

static void
test_modality_names (void)
{
  g_assert_cmpstr (mmdnn_modality_name (MMDNN_MODALITY_VIDEO), ==, "video");
  g_assert_cmpstr (mmdnn_modality_name (MMDNN_MODALITY_AUDIO), ==, "audio");
  g_assert_cmpstr (mmdnn_modality_name (MMDNN_MODALITY_TEXT), ==, "text");
  g_assert_null (mmdnn_modality_name (MMDNN_N_MODALITIES));
  g_assert_null (mmdnn_modality_name ((MmdnnModality) -1));
}

static void
test_config_defaults (void)
{
  MmdnnFusionConfig c;
  GError *err = NULL;

  mmdnn_fusion_config_init (&c);
  g_assert_cmpint (c.dim, ==, 128);
  g_assert_cmpint (c.tokens[MMDNN_MODALITY_VIDEO], ==, 16);
  g_assert_cmpint (c.tokens[MMDNN_MODALITY_AUDIO], ==, 10);
  g_assert_cmpint (c.tokens[MMDNN_MODALITY_TEXT], ==, 32);
  g_assert_cmpint (c.attn_hidden, ==, 64);
  g_assert_cmpfloat (c.tau, ==, 0.1f);
  g_assert_true (mmdnn_fusion_config_check (&c, &err));
  g_assert_no_error (err);
}

static void
test_init_params (void)
{
  static const struct { const char *name; int ndim; int64_t s0, s1; gboolean decay; } want[] = {
    { "fusion.match.video_audio.weight", 2, 6, 24, TRUE },
    { "fusion.match.video_audio.bias", 1, 6, 0, FALSE },
    { "fusion.match.video_text.weight", 2, 6, 24, TRUE },
    { "fusion.match.video_text.bias", 1, 6, 0, FALSE },
    { "fusion.match.audio_text.weight", 2, 6, 24, TRUE },
    { "fusion.match.audio_text.bias", 1, 6, 0, FALSE },
    { "fusion.attn.weight", 2, 5, 6, TRUE },
    { "fusion.attn.bias", 1, 5, 0, FALSE },
    { "fusion.attn_v", 1, 5, 0, TRUE },
  };
  MmdnnFusionConfig c;
  Fixture f;
  float bound = (float) (1.0 / sqrt (5.0)), gbound = (float) (1.0 / sqrt (24.0));
  MmdnnParam *v, *w;

  small_config (&c, 0.1f);
  fixture_init (&f, &c, 7, 2);
  g_assert_cmpuint (f.ps->params->len, ==, G_N_ELEMENTS (want));
  for (guint k = 0; k < G_N_ELEMENTS (want); k++) {
    MmdnnParam *p = g_ptr_array_index (f.ps->params, k);
    g_assert_cmpstr (p->name, ==, want[k].name);
    g_assert_cmpint (p->ndim, ==, want[k].ndim);
    g_assert_cmpint (p->shape[0], ==, want[k].s0);
    if (want[k].ndim == 2)
      g_assert_cmpint (p->shape[1], ==, want[k].s1);
    g_assert_cmpint (!p->decay, ==, !want[k].decay);
  }
  v = param (&f, "attn_v");
  w = param (&f, "match.audio_text.weight");
  {
    float lo = 0.0f, hi = 0.0f;
    for (int64_t k = 0; k < v->numel; k++) {
      g_assert_cmpfloat (fabsf (v->value[k]), <=, bound);
      lo = MIN (lo, v->value[k]);
      hi = MAX (hi, v->value[k]);
    }
    g_assert_cmpfloat (hi - lo, >, 0.2f * bound);   /* not all zero */
    for (int64_t k = 0; k < w->numel; k++)
      g_assert_cmpfloat (fabsf (w->value[k]), <=, gbound);
  }
  fixture_clear (&f);
}

/* presence patterns: all present with padding; audio missing in sample 1;
 * only text in sample 2 */
static const int mixed_real[3][NM] = { { 3, 2, 4 }, { 4, 0, 2 }, { 0, 0, 5 } };
static const int full_real[3][NM] = { { 4, 3, 5 }, { 2, 3, 3 }, { 3, 1, 5 } };

static void
check_reference (float tau, const int (*real)[NM], uint64_t seed)
{
  MmdnnFusionConfig c;
  Fixture f;
  Batch b;
  MmdnnRng rng;
  const float *fused, *omega;
  double fd[3 * 6], od[3 * NM], ad[3 * NC];
  float *ff, *of, *af;

  small_config (&c, tau);
  fixture_init (&f, &c, seed, 3);
  mmdnn_rng_init (&rng, seed + 1);
  batch_init (&b, &c, &rng, 3, real);
  forward_ok (&f, &b, &fused, &omega);
  ref_forward (&f, &b, fd, od, ad);
  ff = to_float (fd, 3 * 6);
  of = to_float (od, 3 * NM);
  af = to_float (ad, 3 * NC);
  g_assert_true (check_close ("fused", fused, ff, 3 * 6, 2e-6));
  g_assert_true (check_close ("omega", omega, of, 3 * NM, 2e-6));
  g_assert_true (check_close ("alpha", mmdnn_fusion_alpha (f.a), af, 3 * NC,
                              2e-6));
  g_free (ff); g_free (of); g_free (af);
  batch_clear (&b);
  fixture_clear (&f);
}

static void
test_forward_reference (void)
{
  check_reference (0.1f, mixed_real, 11);
  check_reference (0.1f, full_real, 12);
  check_reference (0.7f, mixed_real, 13);
}

/* The summaries and pooled vectors against the definitions. */
static void
test_summaries_pooled (void)
{
  MmdnnFusionConfig c;
  Fixture f;
  Batch b;
  MmdnnRng rng;
  const float *fused, *summ, *pooled;
  int64_t d;

  small_config (&c, 0.1f);
  d = c.dim;
  fixture_init (&f, &c, 21, 3);
  mmdnn_rng_init (&rng, 22);
  batch_init (&b, &c, &rng, 3, mixed_real);
  forward_ok (&f, &b, &fused, NULL);
  summ = mmdnn_fusion_summaries (f.a);
  pooled = mmdnn_fusion_pooled (f.a);
  for (int64_t i = 0; i < 3; i++) {
    for (int m = 0; m < NM; m++) {
      int64_t k = c.tokens[m];
      for (int64_t q = 0; q < d; q++) {
        double acc = 0.0, cnt = 0.0;
        for (int64_t t = 0; t < k; t++)
          if (b.masks[m][i * k + t] != 0.0f && mixed_real[i][m] > 0) {
            acc += b.tokens[m][(i * k + t) * d + q];
            cnt += 1.0;
          }
        g_assert_cmpfloat_with_epsilon (summ[(i * NM + m) * d + q],
                                        cnt > 0 ? acc / cnt : 0.0, 1e-6);
      }
    }
    for (int p = 0; p < NP; p++) {
      const int32_t *ti, *tj;
      const float *w;
      int64_t len = mmdnn_fusion_matches (f.a, i, p, &ti, &tj, &w);
      gboolean on = mixed_real[i][pair_mod[p][0]] > 0
          && mixed_real[i][pair_mod[p][1]] > 0;
      double wsum = 0.0;
      g_assert_cmpint (len, ==, on ? mixed_real[i][pair_mod[p][0]]
                       + mixed_real[i][pair_mod[p][1]] : 0);
      for (int64_t l = 0; l < len; l++)
        wsum += w[l];
      if (on)
        g_assert_cmpfloat_with_epsilon (wsum, 1.0, 1e-6);
      for (int64_t q = 0; q < d && !on; q++)
        g_assert_cmpfloat (pooled[(i * NP + p) * d + q], ==, 0.0f);
    }
  }
  g_assert_cmpint (mmdnn_fusion_matches (f.a, 3, 0, NULL, NULL, NULL), ==, 0);
  g_assert_cmpint (mmdnn_fusion_matches (f.a, 0, 3, NULL, NULL, NULL), ==, 0);
  batch_clear (&b);
  fixture_clear (&f);
}

/* Gradcheck context: y = fused (N, D), optionally [fused | summaries]. */
typedef struct {
  Fixture *f;
  Batch   *b;
  gboolean with_summaries;
  float   *y;
} GcCtx;

static void
gc_forward (void *p)
{
  GcCtx *g = p;
  const float *fused;
  int64_t nd = g->b->n * g->f->config.dim;

  forward_ok (g->f, g->b, &fused, NULL);
  memcpy (g->y, fused, sizeof (float) * nd);
  if (g->with_summaries)
    memcpy (g->y + nd, mmdnn_fusion_summaries (g->f->a),
            sizeof (float) * nd * NM);
}

/* L = Σ r ⊙ fused (+ Σ r' ⊙ summaries) w.r.t. all three token sets and every
 * parameter. Inputs are drawn (from @seed on) until every argmax has a gap
 * ≥ 5e-3 and every |x − y| of a matched pair is ≥ 2e-3, so an ε = 1e-3 step
 * never crosses a non-differentiable point. Padded and missing tokens must
 * get exactly 0. */
static void
fusion_gradcheck (float tau, const int (*real)[NM], uint64_t seed,
                  gboolean with_summaries)
{
  MmdnnFusionConfig c;
  Fixture f;
  Batch b;
  MmdnnRng rng;
  GcCtx g;
  float *r, *dtok[NM];
  GradcheckInput inputs[16];
  int n_inputs = 0;
  int64_t n = 3, nd, ny;
  double fd[3 * 6], od[3 * NM], ad[3 * NC];

  small_config (&c, tau);
  nd = n * c.dim;
  ny = nd * (with_summaries ? 1 + NM : 1);
  for (int attempt = 0;; attempt++) {
    g_assert_cmpint (attempt, <, 200);
    fixture_init (&f, &c, seed + 1000 * attempt, n);
    mmdnn_rng_init (&rng, seed + 1000 * attempt + 1);
    batch_init (&b, &c, &rng, n, real);
    ref_forward (&f, &b, fd, od, ad);
    if (ref_sgap >= 5e-3 && ref_absgap >= 2e-3)
      break;
    batch_clear (&b);
    fixture_clear (&f);
  }
  r = gc_random (&rng, ny, -1, 1);
  g = (GcCtx) { &f, &b, with_summaries, g_new0 (float, ny) };
  for (int m = 0; m < NM; m++)
    dtok[m] = gc_zeros (n * c.tokens[m] * c.dim);

  gc_forward (&g);
  mmdnn_param_set_zero_grad (f.ps);
  if (with_summaries)
    mmdnn_fusion_backward_full (&f.fu, f.a, r, r + nd, dtok, n);
  else
    mmdnn_fusion_backward (&f.fu, f.a, r, dtok, n);

  for (int m = 0; m < NM; m++) {
    int64_t k = c.tokens[m];
    inputs[n_inputs++] = (GradcheckInput) { mmdnn_modality_name (m),
        b.tokens[m], dtok[m], n * k * c.dim };
    for (int64_t i = 0; i < n; i++)
      for (int64_t t = 0; t < k; t++)
        if (b.masks[m][i * k + t] == 0.0f || real[i][m] == 0)
          for (int64_t q = 0; q < c.dim; q++)
            g_assert_cmpfloat (dtok[m][(i * k + t) * c.dim + q], ==, 0.0f);
  }
  for (guint k = 0; k < f.ps->params->len; k++) {
    MmdnnParam *p = g_ptr_array_index (f.ps->params, k);
    inputs[n_inputs++] = (GradcheckInput) { p->name, p->value, p->grad, p->numel };
  }
  g_assert_true (gradcheck ("fusion", gc_forward, &g, g.y, ny, r, inputs,
                            n_inputs, 1e-3, 3e-3, 1e-2));
  for (int m = 0; m < NM; m++)
    g_free (dtok[m]);
  g_free (r); g_free (g.y);
  batch_clear (&b);
  fixture_clear (&f);
}

static void
test_gradcheck_masked (void)
{
  fusion_gradcheck (0.5f, full_real, 100, FALSE);
  fusion_gradcheck (0.1f, full_real, 200, FALSE);
}

static void
test_gradcheck_missing (void)
{
  static const int real[3][NM] = { { 3, 2, 4 }, { 4, 0, 3 }, { 2, 3, 5 } };

  fusion_gradcheck (0.5f, real, 300, FALSE);
}

static void
test_gradcheck_single (void)
{
  static const int only_video[3][NM] = { { 3, 0, 0 }, { 4, 0, 0 }, { 1, 0, 0 } };

  fusion_gradcheck (0.5f, mixed_real, 400, FALSE);
  fusion_gradcheck (0.5f, only_video, 500, FALSE);
}

static void
test_gradcheck_summaries (void)
{
  fusion_gradcheck (0.5f, mixed_real, 600, TRUE);
}

/* Backward twice onto the same gradients = 2 × once. */
static void
test_accumulate (void)
{
  MmdnnFusionConfig c;
  Fixture f;
  Batch b;
  MmdnnRng rng;
  const float *fused;
  float *r, *once, *dt1[NM], *dt2[NM];

  small_config (&c, 0.1f);
  fixture_init (&f, &c, 31, 3);
  mmdnn_rng_init (&rng, 32);
  batch_init (&b, &c, &rng, 3, mixed_real);
  r = gc_random (&rng, 3 * c.dim, -1, 1);
  for (int m = 0; m < NM; m++) {
    dt1[m] = gc_zeros (3 * c.tokens[m] * c.dim);
    dt2[m] = gc_zeros (3 * c.tokens[m] * c.dim);
  }
  forward_ok (&f, &b, &fused, NULL);
  mmdnn_param_set_zero_grad (f.ps);
  mmdnn_fusion_backward (&f.fu, f.a, r, dt1, 3);
  once = g_memdup2 (f.ps->grads, sizeof (float) * f.ps->numel);
  mmdnn_param_set_zero_grad (f.ps);
  mmdnn_fusion_backward (&f.fu, f.a, r, dt2, 3);
  mmdnn_fusion_backward (&f.fu, f.a, r, dt2, 3);
  g_assert_true (check_doubled ("param grads", once, f.ps->grads, f.ps->numel));
  for (int m = 0; m < NM; m++) {
    g_assert_true (check_doubled ("token grads", dt1[m], dt2[m],
                                  3 * c.tokens[m] * c.dim));
    g_free (dt1[m]);
    g_free (dt2[m]);
  }
  g_free (once); g_free (r);
  batch_clear (&b);
  fixture_clear (&f);
}

/* Σα = Σω = 1 per sample; α and ω of missing things exactly 0; ω as the
 * formula of step 5. */
static void
test_weight_sums (void)
{
  static const int real[7][NM] = { { 4, 3, 5 }, { 1, 0, 0 }, { 0, 2, 0 },
                                   { 0, 0, 3 }, { 2, 2, 0 }, { 0, 1, 1 },
                                   { 3, 0, 4 } };
  MmdnnFusionConfig c;
  Fixture f;
  Batch b;
  MmdnnRng rng;
  const float *fused, *omega, *alpha;

  small_config (&c, 0.1f);
  fixture_init (&f, &c, 41, 7);
  mmdnn_rng_init (&rng, 42);
  batch_init (&b, &c, &rng, 7, real);
  forward_ok (&f, &b, &fused, &omega);
  alpha = mmdnn_fusion_alpha (f.a);
  for (int64_t i = 0; i < 7; i++) {
    double sa = 0.0, so = 0.0;
    int present = 0;
    for (int cc = 0; cc < NC; cc++) {
      gboolean on = cc < NM ? real[i][cc] > 0
          : real[i][pair_mod[cc - NM][0]] > 0 && real[i][pair_mod[cc - NM][1]] > 0;
      sa += alpha[i * NC + cc];
      present += on;
      if (on)
        g_assert_cmpfloat (alpha[i * NC + cc], >, 0.0f);
      else
        g_assert_cmpfloat (alpha[i * NC + cc], ==, 0.0f);
    }
    for (int m = 0; m < NM; m++) {
      double want = alpha[i * NC + m];
      so += omega[i * NM + m];
      for (int p = 0; p < NP; p++)
        if (pair_mod[p][0] == m || pair_mod[p][1] == m)
          want += 0.5 * alpha[i * NC + NM + p];
      g_assert_cmpfloat_with_epsilon (omega[i * NM + m], want, 1e-7);
      if (real[i][m] == 0)
        g_assert_cmpfloat (omega[i * NM + m], ==, 0.0f);
    }
    g_assert_cmpfloat_with_epsilon (sa, 1.0, 1e-6);
    g_assert_cmpfloat_with_epsilon (so, 1.0, 1e-6);
    if (present == 1)   /* a single candidate: fused is that candidate */
      for (int64_t q = 0; q < c.dim; q++)
        g_assert_cmpfloat_with_epsilon (fused[i * c.dim + q],
            mmdnn_fusion_summaries (f.a)[(i * NM + (real[i][0] ? 0 : real[i][1] ? 1 : 2)) * c.dim + q],
            1e-6);
  }
  batch_clear (&b);
  fixture_clear (&f);
}

/* Runs forward + backward with upstream @r; returns copies of fused, ω,
 * the parameter gradients and the token gradients. */
typedef struct {
  float *fused, *omega, *pgrad, *dtok[NM];
} Result;

static void
run (Fixture *f, const float *const tokens[NM], const float *const masks[NM],
     const float *presence, int64_t n, const float *r, Result *res)
{
  const float *fused, *omega;
  GError *err = NULL;

  g_assert_true (mmdnn_fusion_forward (&f->fu, f->a, tokens, masks, presence,
                                       n, &fused, &omega, &err));
  g_assert_no_error (err);
  res->fused = g_memdup2 (fused, sizeof (float) * n * f->config.dim);
  res->omega = g_memdup2 (omega, sizeof (float) * n * NM);
  for (int m = 0; m < NM; m++)
    res->dtok[m] = gc_zeros (n * f->config.tokens[m] * f->config.dim);
  mmdnn_param_set_zero_grad (f->ps);
  mmdnn_fusion_backward (&f->fu, f->a, r, res->dtok, n);
  res->pgrad = g_memdup2 (f->ps->grads, sizeof (float) * f->ps->numel);
}

static void
result_clear (Result *res)
{
  g_free (res->fused); g_free (res->omega); g_free (res->pgrad);
  for (int m = 0; m < NM; m++)
    g_free (res->dtok[m]);
}

static void
assert_same (const Result *x, const Result *y, Fixture *f, int64_t n)
{
  g_assert_cmpmem (x->fused, sizeof (float) * n * f->config.dim,
                   y->fused, sizeof (float) * n * f->config.dim);
  g_assert_cmpmem (x->omega, sizeof (float) * n * NM,
                   y->omega, sizeof (float) * n * NM);
  g_assert_cmpmem (x->pgrad, sizeof (float) * f->ps->numel,
                   y->pgrad, sizeof (float) * f->ps->numel);
  for (int m = 0; m < NM; m++)
    g_assert_cmpmem (x->dtok[m], sizeof (float) * n * f->config.tokens[m] * f->config.dim,
                     y->dtok[m], sizeof (float) * n * f->config.tokens[m] * f->config.dim);
}

/* A missing modality's tokens and mask — even NaN — change nothing, forward
 * or backward, and get no gradient; a modality missing everywhere may be
 * passed as NULL. */
static void
test_missing_nan (void)
{
  static const int real[3][NM] = { { 3, 2, 4 }, { 4, 0, 2 }, { 2, 0, 5 } };
  MmdnnFusionConfig c;
  Fixture f;
  Batch b;
  MmdnnRng rng;
  Result base, nan_run, null_run;
  float *r;
  int64_t ka, d;
  const float *toks[NM], *masks[NM];

  small_config (&c, 0.1f);
  ka = c.tokens[1];
  d = c.dim;
  fixture_init (&f, &c, 51, 3);
  mmdnn_rng_init (&rng, 52);
  batch_init (&b, &c, &rng, 3, real);
  r = gc_random (&rng, 3 * d, -1, 1);
  run (&f, ctok (&b), cmask (&b), b.presence, 3, r, &base);

  /* audio missing in samples 1 and 2: NaN tokens and masks there */
  for (int64_t j = ka * d; j < 3 * ka * d; j++)
    b.tokens[1][j] = NAN;
  for (int64_t j = ka; j < 3 * ka; j++)
    b.masks[1][j] = NAN;
  run (&f, ctok (&b), cmask (&b), b.presence, 3, r, &nan_run);
  assert_same (&base, &nan_run, &f, 3);
  for (int64_t j = ka * d; j < 3 * ka * d; j++)
    g_assert_cmpfloat (nan_run.dtok[1][j], ==, 0.0f);
  {
    gboolean any = FALSE;   /* present in sample 0: some gradient */
    for (int64_t j = 0; j < ka * d; j++)
      any |= nan_run.dtok[1][j] != 0.0f;
    g_assert_true (any);
  }

  /* audio missing in every sample: all-NaN tokens vs NULL */
  for (int64_t i = 0; i < 3; i++)
    b.presence[i * NM + 1] = 0.0f;
  for (int64_t j = 0; j < 3 * ka * d; j++)
    b.tokens[1][j] = NAN;
  result_clear (&nan_run);
  run (&f, ctok (&b), cmask (&b), b.presence, 3, r, &nan_run);
  for (int m = 0; m < NM; m++) {
    toks[m] = m == 1 ? NULL : b.tokens[m];
    masks[m] = m == 1 ? NULL : b.masks[m];
  }
  run (&f, toks, masks, b.presence, 3, r, &null_run);
  g_assert_cmpmem (nan_run.fused, sizeof (float) * 3 * d, null_run.fused,
                   sizeof (float) * 3 * d);
  g_assert_cmpmem (nan_run.pgrad, sizeof (float) * f.ps->numel,
                   null_run.pgrad, sizeof (float) * f.ps->numel);
  for (int64_t j = 0; j < 3 * d; j++)
    g_assert_true (isfinite (nan_run.fused[j]));
  for (int64_t i = 0; i < 3; i++)
    g_assert_cmpfloat (nan_run.omega[i * NM + 1], ==, 0.0f);

  result_clear (&base); result_clear (&nan_run); result_clear (&null_run);
  g_free (r);
  batch_clear (&b);
  fixture_clear (&f);
}

/* Changing a padded token's values (even to NaN or huge) changes nothing;
 * padded tokens get exactly 0 gradient. */
static void
test_mask_padding (void)
{
  MmdnnFusionConfig c;
  Fixture f;
  Batch b;
  MmdnnRng rng;
  Result base, changed;
  float *r;
  int64_t d;

  small_config (&c, 0.1f);
  d = c.dim;
  fixture_init (&f, &c, 61, 3);
  mmdnn_rng_init (&rng, 62);
  batch_init (&b, &c, &rng, 3, mixed_real);
  r = gc_random (&rng, 3 * d, -1, 1);
  run (&f, ctok (&b), cmask (&b), b.presence, 3, r, &base);
  for (int m = 0; m < NM; m++) {
    int64_t k = c.tokens[m];
    int which = 0;
    for (int64_t j = 0; j < 3 * k; j++)
      if (b.masks[m][j] == 0.0f)
        for (int64_t q = 0; q < d; q++)
          b.tokens[m][j * d + q] = which++ % 3 == 0 ? NAN
              : (float) mmdnn_rng_uniform (&rng) * 1e3f;
  }
  run (&f, ctok (&b), cmask (&b), b.presence, 3, r, &changed);
  assert_same (&base, &changed, &f, 3);
  for (int m = 0; m < NM; m++)
    for (int64_t j = 0; j < 3 * c.tokens[m]; j++)
      if (b.masks[m][j] == 0.0f)
        for (int64_t q = 0; q < d; q++)
          g_assert_cmpfloat (changed.dtok[m][j * d + q], ==, 0.0f);
  result_clear (&base); result_clear (&changed);
  g_free (r);
  batch_clear (&b);
  fixture_clear (&f);
}

/* A hand-made case: unit vectors, a padded token that would win, exact ties
 * (lowest index), mutual best matches listed twice, and the pair weights
 * as softmax (S/τ) over the list. */
static void
test_argmax_hand (void)
{
  MmdnnFusionConfig c;
  Fixture f;
  Batch b;
  const float *fused;
  const int32_t *ti, *tj;
  const float *w;
  int64_t len, d;
  /* expected video–audio list: video 0,1,2 → audio; audio 0,1,2 → video */
  static const int32_t want_i[6] = { 0, 1, 2, 1, 0, 0 };
  static const int32_t want_j[6] = { 1, 0, 0, 0, 1, 2 };
  double z = 0.0, lg[6];

  small_config (&c, 0.25f);
  d = c.dim;
  fixture_init (&f, &c, 71, 1);
  memset (&b, 0, sizeof (b));
  b.n = 1;
  b.presence = g_new (float, NM);
  for (int m = 0; m < NM; m++) {
    b.tokens[m] = gc_zeros (c.tokens[m] * d);
    b.masks[m] = gc_zeros (c.tokens[m]);
    b.presence[m] = 1.0f;
  }
  /* video: v0 = e0, v1 = e1 + e3, v2 = e2, v3 = e1 (PADDED: would beat v1) */
  b.tokens[0][0 * d + 0] = 1.0f;
  b.tokens[0][1 * d + 1] = 1.0f;
  b.tokens[0][1 * d + 3] = 1.0f;
  b.tokens[0][2 * d + 2] = 1.0f;
  b.tokens[0][3 * d + 1] = 1.0f;
  b.masks[0][0] = b.masks[0][1] = b.masks[0][2] = 1.0f;
  /* audio: a0 = e1, a1 = e0, a2 = 2 e0 (a tie with a1 for v0) */
  b.tokens[1][0 * d + 1] = 1.0f;
  b.tokens[1][1 * d + 0] = 1.0f;
  b.tokens[1][2 * d + 0] = 2.0f;
  b.masks[1][0] = b.masks[1][1] = b.masks[1][2] = 1.0f;
  /* text: t1 = e2, t3 = −e0 (t0, t2, t4 padded, t0 = e0 would win) */
  b.tokens[2][0 * d + 0] = 1.0f;
  b.tokens[2][1 * d + 2] = 1.0f;
  b.tokens[2][3 * d + 0] = -1.0f;
  b.masks[2][1] = b.masks[2][3] = 1.0f;

  forward_ok (&f, &b, &fused, NULL);
  /* video → audio: v0: S = (0, 1, 1) → a1 (tie, lowest); v1: (1/√2, 0, 0)
   * → a0; v2: (0, 0, 0) → a0 (three-way tie). audio → video: a0: (0, 1/√2,
   * 0) → v1 (the padded v3 would score 1); a1, a2: (1, 0, 0) → v0.
   * (0, 1) and (1, 0) are mutual and appear twice. */
  len = mmdnn_fusion_matches (f.a, 0, 0, &ti, &tj, &w);
  g_assert_cmpint (len, ==, 6);
  for (int64_t l = 0; l < len; l++) {
    static const double s[6] = { 1.0, G_SQRT2 / 2, 0.0, G_SQRT2 / 2, 1.0, 1.0 };
    g_assert_cmpint (ti[l], ==, want_i[l]);
    g_assert_cmpint (tj[l], ==, want_j[l]);
    lg[l] = s[l] / c.tau;
    z += exp (lg[l]);
  }
  for (int64_t l = 0; l < len; l++)
    g_assert_cmpfloat_with_epsilon (w[l], exp (lg[l]) / z, 1e-6);

  /* video → text over the real t1, t3: v0: (0, −1) → t1 (the padded t0
   * would score 1); v1: (0, 0) → t1; v2: (1, 0) → t1. text → video: t1:
   * (0, 0, 1) → v2; t3: (−1, 0, 0) → v1 (tie of v1, v2, lowest). */
  len = mmdnn_fusion_matches (f.a, 0, 1, &ti, &tj, NULL);
  g_assert_cmpint (len, ==, 5);
  {
    static const int32_t vi[5] = { 0, 1, 2, 2, 1 }, vj[5] = { 1, 1, 1, 1, 3 };
    for (int64_t l = 0; l < len; l++) {
      g_assert_cmpint (ti[l], ==, vi[l]);
      g_assert_cmpint (tj[l], ==, vj[l]);
    }
  }
  batch_clear (&b);
  fixture_clear (&f);
}

/* A batch gives the same results as its samples one by one. */
static void
test_batch_independence (void)
{
  MmdnnFusionConfig c;
  Fixture f;
  Batch b;
  MmdnnRng rng;
  Result whole, one;
  float *r, *sum;
  int64_t d;

  small_config (&c, 0.1f);
  d = c.dim;
  fixture_init (&f, &c, 81, 3);
  mmdnn_rng_init (&rng, 82);
  batch_init (&b, &c, &rng, 3, mixed_real);
  r = gc_random (&rng, 3 * d, -1, 1);
  run (&f, ctok (&b), cmask (&b), b.presence, 3, r, &whole);
  sum = gc_zeros (f.ps->numel);
  for (int64_t i = 0; i < 3; i++) {
    const float *toks[NM], *masks[NM];
    for (int m = 0; m < NM; m++) {
      toks[m] = b.tokens[m] + i * c.tokens[m] * d;
      masks[m] = b.masks[m] + i * c.tokens[m];
    }
    run (&f, toks, masks, b.presence + i * NM, 1, r + i * d, &one);
    g_assert_true (check_close ("fused", one.fused, whole.fused + i * d, d, 1e-6));
    g_assert_true (check_close ("omega", one.omega, whole.omega + i * NM, NM, 1e-6));
    for (int m = 0; m < NM; m++)
      g_assert_true (check_close ("dtokens", one.dtok[m],
                                  whole.dtok[m] + i * c.tokens[m] * d,
                                  c.tokens[m] * d, 1e-6));
    for (int64_t k = 0; k < f.ps->numel; k++)
      sum[k] += one.pgrad[k];
    result_clear (&one);
  }
  g_assert_true (check_close ("param grads", sum, whole.pgrad, f.ps->numel, 1e-5));
  result_clear (&whole);
  g_free (sum); g_free (r);
  batch_clear (&b);
  fixture_clear (&f);
}

/* Same seed and inputs → bit-identical results, across runs and modules. */
static void
test_determinism (void)
{
  MmdnnFusionConfig c;
  Fixture f, g;
  Batch b;
  MmdnnRng rng;
  Result x, y, z;
  float *r;

  small_config (&c, 0.1f);
  fixture_init (&f, &c, 91, 3);
  fixture_init (&g, &c, 91, 5);
  g_assert_cmpmem (f.ps->values, sizeof (float) * f.ps->numel, g.ps->values,
                   sizeof (float) * g.ps->numel);
  mmdnn_rng_init (&rng, 92);
  batch_init (&b, &c, &rng, 3, mixed_real);
  r = gc_random (&rng, 3 * c.dim, -1, 1);
  run (&f, ctok (&b), cmask (&b), b.presence, 3, r, &x);
  run (&f, ctok (&b), cmask (&b), b.presence, 3, r, &y);
  run (&g, ctok (&b), cmask (&b), b.presence, 3, r, &z);
  assert_same (&x, &y, &f, 3);
  assert_same (&x, &z, &f, 3);
  result_clear (&x); result_clear (&y); result_clear (&z);
  g_free (r);
  batch_clear (&b);
  fixture_clear (&f);
  fixture_clear (&g);
}

/* The default configuration runs, NULL masks and presence mean "all". */
static void
test_defaults_forward (void)
{
  static const int real[2][NM] = { { 16, 10, 32 }, { 16, 10, 32 } };
  MmdnnFusionConfig c;
  Fixture f;
  Batch b;
  MmdnnRng rng;
  Result x, y;
  float *r;

  mmdnn_fusion_config_init (&c);
  fixture_init (&f, &c, 101, 2);
  mmdnn_rng_init (&rng, 102);
  batch_init (&b, &c, &rng, 2, real);
  r = gc_random (&rng, 2 * c.dim, -1, 1);
  run (&f, ctok (&b), cmask (&b), b.presence, 2, r, &x);
  run (&f, ctok (&b), NULL, NULL, 2, r, &y);
  assert_same (&x, &y, &f, 2);
  for (int64_t j = 0; j < 2 * c.dim; j++)
    g_assert_true (isfinite (x.fused[j]));
  for (int64_t i = 0; i < 2; i++)
    g_assert_cmpfloat_with_epsilon (x.omega[i * NM] + x.omega[i * NM + 1]
                                    + x.omega[i * NM + 2], 1.0, 1e-6);
  result_clear (&x); result_clear (&y);
  g_free (r);
  batch_clear (&b);
  fixture_clear (&f);
}

/* PyTorch (make-fusion-golden.py, float64 from float32 values): the
 * parameters, inputs (NaN tokens for missing modalities, huge padded ones)
 * and upstream gradient go into the C module; fused, ω, α, the summaries
 * and every gradient must match. */
static void
test_golden (gconstpointer data)
{
  Golden *g = golden_open (data);
  const int32_t *cfg;
  const float *tokens[NM], *masks[NM], *presence, *dfused, *want;
  const float *fused, *omega;
  MmdnnFusionConfig c;
  Fixture f;
  float *dtok[NM];
  int64_t n, d;
  GError *err = NULL;

  g_assert_nonnull (g);
  cfg = GI32 (g, "config", 6);
  g_assert_nonnull (cfg);
  mmdnn_fusion_config_init (&c);
  c.dim = d = cfg[0];
  for (int m = 0; m < NM; m++)
    c.tokens[m] = cfg[1 + m];
  c.attn_hidden = cfg[4];
  n = cfg[5];
  c.tau = golden_scalar_f (g, "tau");
  fixture_init (&f, &c, 1, n);
  for (guint k = 0; k < f.ps->params->len; k++) {
    MmdnnParam *p = g_ptr_array_index (f.ps->params, k);
    const float *v = golden_get (g, p->name, GOLDEN_F32, p->ndim, p->shape);
    g_assert_nonnull (v);
    memcpy (p->value, v, sizeof (float) * p->numel);
  }
  for (int m = 0; m < NM; m++) {
    char *name = g_strdup_printf ("mask.%s", mmdnn_modality_name (m));
    tokens[m] = GF32 (g, mmdnn_modality_name (m), n, c.tokens[m], d);
    masks[m] = golden_get (g, name, GOLDEN_F32, 2, SHAPE (n, c.tokens[m]));
    g_assert_nonnull (tokens[m]);
    g_assert_nonnull (masks[m]);
    g_free (name);
  }
  presence = GF32 (g, "presence", n, NM);
  dfused = GF32 (g, "dfused", n, d);
  g_assert_nonnull (presence);
  g_assert_nonnull (dfused);

  g_assert_true (mmdnn_fusion_forward (&f.fu, f.a, tokens, masks, presence, n,
                                       &fused, &omega, &err));
  g_assert_no_error (err);
  want = GF32 (g, "fused", n, d);
  g_assert_true (want != NULL && check_close ("fused", fused, want, n * d, 1e-5));
  want = GF32 (g, "omega", n, NM);
  g_assert_true (want != NULL && check_close ("omega", omega, want, n * NM, 1e-5));
  want = GF32 (g, "alpha", n, NC);
  g_assert_true (want != NULL && check_close ("alpha", mmdnn_fusion_alpha (f.a),
                                              want, n * NC, 1e-5));
  want = GF32 (g, "summaries", n, NM, d);
  g_assert_true (want != NULL && check_close ("summaries",
      mmdnn_fusion_summaries (f.a), want, n * NM * d, 1e-6));

  mmdnn_param_set_zero_grad (f.ps);
  for (int m = 0; m < NM; m++)
    dtok[m] = golden_zeros (g, n * c.tokens[m] * d);
  mmdnn_fusion_backward (&f.fu, f.a, dfused, dtok, n);
  for (int m = 0; m < NM; m++) {
    char *name = g_strdup_printf ("d.%s", mmdnn_modality_name (m));
    want = golden_get (g, name, GOLDEN_F32, 3, SHAPE (n, c.tokens[m], d));
    g_assert_true (want != NULL && check_close (name, dtok[m], want,
                                                n * c.tokens[m] * d, 1e-4));
    g_free (name);
  }
  for (guint k = 0; k < f.ps->params->len; k++) {
    MmdnnParam *p = g_ptr_array_index (f.ps->params, k);
    char *name = g_strdup_printf ("d%s", p->name);
    want = golden_get (g, name, GOLDEN_F32, p->ndim, p->shape);
    g_assert_true (want != NULL && check_close (name, p->grad, want, p->numel,
                                                1e-4));
    g_free (name);
  }
  fixture_clear (&f);
  golden_free (g);
}

/* ------------------------------------------------------------ negative */

static void
expect_config_error (const MmdnnFusionConfig *c)
{
  GError *err = NULL;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnFusion fu;

  g_assert_false (mmdnn_fusion_config_check (c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  memset (&fu, 0x5a, sizeof (fu));
  g_assert_false (mmdnn_fusion_init (&fu, ps, PREFIX, c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_cmpuint (ps->params->len, ==, 0);
  g_assert_cmpint (fu.config.dim, ==, 0x5a5a5a5a5a5a5a5a);   /* untouched */
  mmdnn_param_set_free (ps);
}

static void
test_config_dim_n (void)
{
  MmdnnFusionConfig c;
  int64_t bad[] = { 0, -1, (INT64_C (1) << 20) + 1 };

  for (guint k = 0; k < G_N_ELEMENTS (bad); k++) {
    small_config (&c, 0.1f);
    c.dim = bad[k];
    expect_config_error (&c);
  }
}

static void
test_config_tokens_n (void)
{
  MmdnnFusionConfig c;

  for (int m = 0; m < NM; m++) {
    small_config (&c, 0.1f);
    c.tokens[m] = 0;
    expect_config_error (&c);
    c.tokens[m] = 4097;
    expect_config_error (&c);
  }
}

static void
test_config_hidden_n (void)
{
  MmdnnFusionConfig c;

  small_config (&c, 0.1f);
  c.attn_hidden = 0;
  expect_config_error (&c);
  c.attn_hidden = -5;
  expect_config_error (&c);
}

static void
test_config_tau_n (void)
{
  MmdnnFusionConfig c;
  float bad[] = { 0.0f, -0.1f, NAN, INFINITY };

  for (guint k = 0; k < G_N_ELEMENTS (bad); k++) {
    small_config (&c, bad[k]);
    expect_config_error (&c);
  }
}

static void
test_config_null_n (void)
{
  GError *err = NULL;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnFusion fu;

  g_assert_false (mmdnn_fusion_config_check (NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_fusion_init (&fu, ps, PREFIX, NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_cmpuint (ps->params->len, ==, 0);
  mmdnn_param_set_free (ps);
}

static void
test_init_prefix_n (void)
{
  MmdnnFusionConfig c;
  GError *err = NULL;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnFusion fu;

  small_config (&c, 0.1f);
  g_assert_false (mmdnn_fusion_init (&fu, ps, NULL, &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_fusion_init (&fu, ps, "", &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_fusion_init (&fu, NULL, PREFIX, &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_cmpuint (ps->params->len, ==, 0);
  mmdnn_param_set_free (ps);
}

static void
test_init_allocated_n (void)
{
  MmdnnFusionConfig c;
  GError *err = NULL;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnFusion fu;

  small_config (&c, 0.1f);
  g_assert_nonnull (mmdnn_param_set_declare (ps, "other", 1,
                                             (int64_t[]) { 3 }, TRUE, &err));
  g_assert_true (mmdnn_param_set_allocate (ps, &err));
  g_assert_no_error (err);
  g_assert_false (mmdnn_fusion_init (&fu, ps, PREFIX, &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_cmpuint (ps->params->len, ==, 1);
  mmdnn_param_set_free (ps);
}

/* A name already taken (the LAST one declared, attn_v): nothing declared. */
static void
test_init_name_taken_n (void)
{
  MmdnnFusionConfig c;
  GError *err = NULL;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnFusion fu;

  small_config (&c, 0.1f);
  g_assert_nonnull (mmdnn_param_set_declare (ps, PREFIX ".attn_v", 1,
                                             (int64_t[]) { 5 }, TRUE, &err));
  g_assert_false (mmdnn_fusion_init (&fu, ps, PREFIX, &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (err->message, PREFIX ".attn_v"));
  g_clear_error (&err);
  g_assert_cmpuint (ps->params->len, ==, 1);
  mmdnn_param_set_free (ps);
}

static void
test_acts_max_n_n (void)
{
  MmdnnFusionConfig c;
  Fixture f;
  GError *err = NULL;

  small_config (&c, 0.1f);
  fixture_init (&f, &c, 1, 1);
  g_assert_null (mmdnn_fusion_acts_new (&f.fu, 0, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_null (mmdnn_fusion_acts_new (&f.fu, -3, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_null (mmdnn_fusion_acts_new (NULL, 3, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_null (mmdnn_fusion_acts_new (&f.fu, G_MAXINT64 / 2, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY);
  g_clear_error (&err);
  fixture_clear (&f);
}

/* A forward that must fail with @code: returns FALSE, outputs untouched,
 * the previous forward's results (in the arena) unchanged. */
typedef struct {
  Fixture f;
  Batch   b;
  const float *fused;          /* of a good forward, into the arena */
  float  *prev, *prev_alpha;   /* copies */
} NegCtx;

static void
neg_init (NegCtx *x, const int (*real)[NM])
{
  MmdnnFusionConfig c;
  MmdnnRng rng;
  const float *fused;

  small_config (&c, 0.1f);
  fixture_init (&x->f, &c, 111, 3);
  mmdnn_rng_init (&rng, 112);
  batch_init (&x->b, &c, &rng, 3, real);
  forward_ok (&x->f, &x->b, &fused, NULL);
  x->fused = fused;
  x->prev = g_memdup2 (fused, sizeof (float) * 3 * c.dim);
  x->prev_alpha = g_memdup2 (mmdnn_fusion_alpha (x->f.a), sizeof (float) * 3 * NC);
}

static void
neg_expect (NegCtx *x, const float *const tokens[NM],
            const float *const masks[NM], const float *presence, int64_t n,
            int code, const char *needle)
{
  const float *fused = (const float *) 0x1, *omega = (const float *) 0x2;
  GError *err = NULL;

  g_assert_false (mmdnn_fusion_forward (&x->f.fu, x->f.a, tokens, masks,
                                        presence, n, &fused, &omega, &err));
  g_assert_error (err, MMDNN_ERROR, code);
  if (needle != NULL && strstr (err->message, needle) == NULL)
    g_error ("message '%s' lacks '%s'", err->message, needle);
  g_clear_error (&err);
  g_assert_true (fused == (const float *) 0x1 && omega == (const float *) 0x2);
  /* the arena still holds the previous forward */
  g_assert_cmpmem (x->fused, sizeof (float) * 3 * x->f.config.dim, x->prev,
                   sizeof (float) * 3 * x->f.config.dim);
  g_assert_cmpmem (mmdnn_fusion_alpha (x->f.a), sizeof (float) * 3 * NC,
                   x->prev_alpha, sizeof (float) * 3 * NC);
}

static void
neg_clear (NegCtx *x)
{
  g_free (x->prev);
  g_free (x->prev_alpha);
  batch_clear (&x->b);
  fixture_clear (&x->f);
}

static void
test_forward_n_range_n (void)
{
  NegCtx x;

  neg_init (&x, full_real);
  neg_expect (&x, ctok (&x.b), cmask (&x.b), x.b.presence, 0,
              MMDNN_ERROR_INVALID_ARGUMENT, "n=0");
  neg_expect (&x, ctok (&x.b), cmask (&x.b), x.b.presence, 4,
              MMDNN_ERROR_INVALID_ARGUMENT, "n=4");
  neg_expect (&x, ctok (&x.b), cmask (&x.b), x.b.presence, -1,
              MMDNN_ERROR_INVALID_ARGUMENT, NULL);
  neg_clear (&x);
}

static void
test_forward_null_n (void)
{
  NegCtx x;
  const float *fused;
  GError *err = NULL;

  neg_init (&x, full_real);
  neg_expect (&x, NULL, cmask (&x.b), x.b.presence, 3,
              MMDNN_ERROR_INVALID_ARGUMENT, "tokens");
  g_assert_false (mmdnn_fusion_forward (&x.f.fu, x.f.a, ctok (&x.b),
                                        cmask (&x.b), x.b.presence, 3, NULL,
                                        NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_fusion_forward (NULL, x.f.a, ctok (&x.b),
                                        cmask (&x.b), x.b.presence, 3, &fused,
                                        NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_fusion_forward (&x.f.fu, NULL, ctok (&x.b),
                                        cmask (&x.b), x.b.presence, 3, &fused,
                                        NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  neg_clear (&x);
}

static void
test_forward_other_config_n (void)
{
  NegCtx x;
  MmdnnFusionConfig c;
  Fixture other;
  const float *fused;
  GError *err = NULL;

  neg_init (&x, full_real);
  small_config (&c, 0.1f);
  c.tokens[2] = 6;
  fixture_init (&other, &c, 5, 3);
  g_assert_false (mmdnn_fusion_forward (&x.f.fu, other.a, ctok (&x.b),
                                        cmask (&x.b), x.b.presence, 3, &fused,
                                        NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  fixture_clear (&other);
  neg_clear (&x);
}

static void
test_forward_no_modality_n (void)
{
  NegCtx x;
  float *pres;

  neg_init (&x, full_real);
  pres = g_memdup2 (x.b.presence, sizeof (float) * 3 * NM);
  pres[2 * NM + 0] = pres[2 * NM + 1] = pres[2 * NM + 2] = 0.0f;
  neg_expect (&x, ctok (&x.b), cmask (&x.b), pres, 3, MMDNN_ERROR_DATA,
              "sample 2");
  g_free (pres);
  neg_clear (&x);
}

static void
test_forward_all_masked_n (void)
{
  NegCtx x;
  float *mask;
  const float *masks[NM];

  neg_init (&x, full_real);
  mask = g_memdup2 (x.b.masks[1], sizeof (float) * 3 * x.f.config.tokens[1]);
  for (int64_t t = 0; t < x.f.config.tokens[1]; t++)
    mask[1 * x.f.config.tokens[1] + t] = 0.0f;
  masks[0] = x.b.masks[0];
  masks[1] = mask;
  masks[2] = x.b.masks[2];
  neg_expect (&x, ctok (&x.b), masks, x.b.presence, 3, MMDNN_ERROR_DATA,
              "sample 1: audio");
  g_free (mask);
  neg_clear (&x);
}

static void
test_forward_null_tokens_present_n (void)
{
  NegCtx x;
  const float *toks[NM];

  neg_init (&x, mixed_real);
  toks[0] = x.b.tokens[0];
  toks[1] = NULL;   /* audio is present in sample 0 only */
  toks[2] = x.b.tokens[2];
  neg_expect (&x, toks, cmask (&x.b), x.b.presence, 3,
              MMDNN_ERROR_INVALID_ARGUMENT, "sample 0");
  neg_clear (&x);
}

static void
test_forward_presence_value_n (void)
{
  NegCtx x;
  float *pres;
  float bad[] = { 0.5f, -1.0f, 2.0f, NAN };

  neg_init (&x, full_real);
  pres = g_memdup2 (x.b.presence, sizeof (float) * 3 * NM);
  for (guint k = 0; k < G_N_ELEMENTS (bad); k++) {
    pres[1 * NM + 2] = bad[k];
    neg_expect (&x, ctok (&x.b), cmask (&x.b), pres, 3, MMDNN_ERROR_DATA,
                "sample 1: presence of text");
  }
  g_free (pres);
  neg_clear (&x);
}

static void
test_forward_mask_value_n (void)
{
  NegCtx x;
  float *mask;
  const float *masks[NM];
  float bad[] = { 0.5f, -1.0f, NAN };

  neg_init (&x, full_real);
  mask = g_memdup2 (x.b.masks[0], sizeof (float) * 3 * x.f.config.tokens[0]);
  masks[0] = mask;
  masks[1] = x.b.masks[1];
  masks[2] = x.b.masks[2];
  for (guint k = 0; k < G_N_ELEMENTS (bad); k++) {
    mask[2 * x.f.config.tokens[0] + 1] = bad[k];
    neg_expect (&x, ctok (&x.b), masks, x.b.presence, 3, MMDNN_ERROR_DATA,
                "sample 2: mask of video token 1");
  }
  g_free (mask);
  neg_clear (&x);
}

static void
test_forward_nonfinite_token_n (void)
{
  NegCtx x;
  float *tok;
  const float *toks[NM];
  float bad[] = { NAN, INFINITY, -INFINITY };
  int64_t k = 3, d = 6;

  neg_init (&x, full_real);
  /* a REAL token (sample 1 text has 3 real of 5: position 0 is real) */
  g_assert_cmpfloat (x.b.masks[2][1 * 5 + 0], ==, 1.0f);
  tok = g_memdup2 (x.b.tokens[2], sizeof (float) * 3 * 5 * d);
  toks[0] = x.b.tokens[0];
  toks[1] = x.b.tokens[1];
  toks[2] = tok;
  for (guint j = 0; j < G_N_ELEMENTS (bad); j++) {
    tok[(1 * 5 + 0) * d + k] = bad[j];
    neg_expect (&x, toks, cmask (&x.b), x.b.presence, 3, MMDNN_ERROR_DATA,
                "sample 1: text token 0");
  }
  g_free (tok);
  neg_clear (&x);
}

static void
test_init_null_n (void)
{
  MmdnnFusionConfig c;
  GError *err = NULL;
  MmdnnParamSet *ps = mmdnn_param_set_new ();

  small_config (&c, 0.1f);
  g_assert_false (mmdnn_fusion_init (NULL, ps, PREFIX, &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_cmpuint (ps->params->len, ==, 0);
  mmdnn_param_set_free (ps);
}

/* presence NULL means "all present": a NULL token set is then an error. */
static void
test_forward_null_presence_tokens_n (void)
{
  NegCtx x;
  const float *toks[NM];

  neg_init (&x, full_real);
  toks[0] = x.b.tokens[0];
  toks[1] = x.b.tokens[1];
  toks[2] = NULL;
  neg_expect (&x, toks, cmask (&x.b), NULL, 3, MMDNN_ERROR_INVALID_ARGUMENT,
              "tokens[text]");
  neg_clear (&x);
}

/* Backward that does not follow a forward of that batch does nothing. */
static void
test_backward_mismatch_n (void)
{
  MmdnnFusionConfig c;
  Fixture f;
  Batch b;
  MmdnnRng rng;
  const float *fused;
  float *r, *dt[NM];

  small_config (&c, 0.1f);
  fixture_init (&f, &c, 121, 3);
  mmdnn_rng_init (&rng, 122);
  batch_init (&b, &c, &rng, 3, full_real);
  r = gc_random (&rng, 3 * c.dim, -1, 1);
  for (int m = 0; m < NM; m++)
    dt[m] = gc_zeros (3 * c.tokens[m] * c.dim);
  mmdnn_param_set_zero_grad (f.ps);
  mmdnn_fusion_backward (&f.fu, f.a, r, dt, 3);   /* before any forward */
  forward_ok (&f, &b, &fused, NULL);
  mmdnn_fusion_backward (&f.fu, f.a, r, dt, 2);   /* wrong n */
  mmdnn_fusion_backward (NULL, f.a, r, dt, 3);
  mmdnn_fusion_backward (&f.fu, NULL, r, dt, 3);
  for (int64_t k = 0; k < f.ps->numel; k++)
    g_assert_cmpfloat (f.ps->grads[k], ==, 0.0f);
  for (int m = 0; m < NM; m++) {
    for (int64_t j = 0; j < 3 * c.tokens[m] * c.dim; j++)
      g_assert_cmpfloat (dt[m][j], ==, 0.0f);
    g_free (dt[m]);
  }
  g_free (r);
  batch_clear (&b);
  fixture_clear (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fusion/modality-names", test_modality_names);
  g_test_add_func ("/fusion/config-defaults", test_config_defaults);
  g_test_add_func ("/fusion/init-params", test_init_params);
  g_test_add_func ("/fusion/forward-reference", test_forward_reference);
  g_test_add_func ("/fusion/summaries-pooled", test_summaries_pooled);
  g_test_add_func ("/fusion/gradcheck-masked", test_gradcheck_masked);
  g_test_add_func ("/fusion/gradcheck-missing", test_gradcheck_missing);
  g_test_add_func ("/fusion/gradcheck-single", test_gradcheck_single);
  g_test_add_func ("/fusion/gradcheck-summaries", test_gradcheck_summaries);
  g_test_add_func ("/fusion/accumulate", test_accumulate);
  g_test_add_func ("/fusion/weight-sums", test_weight_sums);
  g_test_add_func ("/fusion/missing-nan", test_missing_nan);
  g_test_add_func ("/fusion/mask-padding", test_mask_padding);
  g_test_add_func ("/fusion/argmax-hand", test_argmax_hand);
  g_test_add_func ("/fusion/batch-independence", test_batch_independence);
  g_test_add_func ("/fusion/determinism", test_determinism);
  g_test_add_func ("/fusion/defaults-forward", test_defaults_forward);
  g_test_add_data_func ("/fusion/golden-mixed", "fusion-mixed", test_golden);
  g_test_add_data_func ("/fusion/golden-full", "fusion-full", test_golden);

  g_test_add_func ("/fusion/config-dim_n", test_config_dim_n);
  g_test_add_func ("/fusion/config-tokens_n", test_config_tokens_n);
  g_test_add_func ("/fusion/config-hidden_n", test_config_hidden_n);
  g_test_add_func ("/fusion/config-tau_n", test_config_tau_n);
  g_test_add_func ("/fusion/config-null_n", test_config_null_n);
  g_test_add_func ("/fusion/init-prefix_n", test_init_prefix_n);
  g_test_add_func ("/fusion/init-allocated_n", test_init_allocated_n);
  g_test_add_func ("/fusion/init-name-taken_n", test_init_name_taken_n);
  g_test_add_func ("/fusion/acts-max-n_n", test_acts_max_n_n);
  g_test_add_func ("/fusion/forward-n-range_n", test_forward_n_range_n);
  g_test_add_func ("/fusion/forward-null_n", test_forward_null_n);
  g_test_add_func ("/fusion/forward-other-config_n", test_forward_other_config_n);
  g_test_add_func ("/fusion/forward-no-modality_n", test_forward_no_modality_n);
  g_test_add_func ("/fusion/forward-all-masked_n", test_forward_all_masked_n);
  g_test_add_func ("/fusion/forward-null-tokens-present_n",
                   test_forward_null_tokens_present_n);
  g_test_add_func ("/fusion/forward-presence-value_n",
                   test_forward_presence_value_n);
  g_test_add_func ("/fusion/forward-mask-value_n", test_forward_mask_value_n);
  g_test_add_func ("/fusion/forward-nonfinite-token_n",
                   test_forward_nonfinite_token_n);
  g_test_add_func ("/fusion/forward-null-presence-tokens_n",
                   test_forward_null_presence_tokens_n);
  g_test_add_func ("/fusion/init-null_n", test_init_null_n);
  g_test_add_func ("/fusion/backward-mismatch_n", test_backward_mismatch_n);
  return g_test_run ();
}
