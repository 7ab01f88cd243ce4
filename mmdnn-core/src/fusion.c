/* mmdnn — the information-fusion module (see fusion.h for the algorithm).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A composition of the core kernels, written llm.c style: the arena holds one
 * named buffer per activation (and per activation gradient), forward is a list
 * of kernel calls and backward is the same list in reverse. The match lists
 * differ in length from sample to sample, so the pair stage runs per sample;
 * the attention runs batched over all N·6 candidate rows (a missing
 * candidate's row is 0 and gets a zero gradient, so it contributes nothing). */
#include <math.h>
#include <string.h>

#include <mmdnn/fusion.h>
#include <mmdnn/activation.h>
#include <mmdnn/similarity.h>
#include "internal.h"

#define N_MOD      MMDNN_N_MODALITIES
#define N_PAIR     MMDNN_N_PAIRS
#define N_CAND     MMDNN_FUSION_N_CANDIDATES
#define COS_EPS    1e-8f
#define MAX_WIDTH  (INT64_C (1) << 20)
#define MAX_TOKENS INT64_C (4096)

/* the modalities (m, n) of each pair, in the fixed pair order */
static const int pair_mod[N_PAIR][2] = { { 0, 1 }, { 0, 2 }, { 1, 2 } };
static const char *const pair_names[N_PAIR] = {
  "video_audio", "video_text", "audio_text"
};

struct _MmdnnFusionActs {
  MmdnnFusionConfig config;        /* the module this arena was made for */
  int64_t  max_n;
  int64_t  n;                      /* batch of the last forward, 0 = none */
  int64_t  lp[N_PAIR];             /* K_m + K_n: the longest match list   */
  int64_t  lmax;                   /* max of lp                           */
  float   *slab;
  int32_t *counts;                 /* (N, 3) match-list length, 0 = pair missing */
  int32_t *match;                  /* (N, 3, 2, lmax) token indices in m, n */

  /* forward */
  float *present;                  /* (N, 3)        0/1 */
  float *mask[N_MOD];              /* (N, K_m)      0/1, 0 for a missing m */
  float *x[N_MOD];                 /* (N, K_m, D)   tokens, 0 where mask is 0 */
  float *real[N_MOD];              /* (N)           number of real tokens */
  float *summ;                     /* (N, 3, D)     s_m */
  float *s[N_PAIR];                /* (N, K_m, K_n) cosine matrix */
  float *xnorm[N_PAIR];            /* (N, K_m)      */
  float *ynorm[N_PAIR];            /* (N, K_n)      */
  float *u[N_PAIR];                /* (N, lp, 4D)   gate input */
  float *g[N_PAIR];                /* (N, lp, D)    gate */
  float *f[N_PAIR];                /* (N, lp, D)    fused pair */
  float *logit[N_PAIR];            /* (N, lp)       S/τ */
  float *w[N_PAIR];                /* (N, lp)       pair softmax */
  float *pooled;                   /* (N, 3, D)     c_mn */
  float *cand;                     /* (N, 6, D)     [s_v s_a s_t c_va c_vt c_at] */
  float *h;                        /* (N, 6, H)     tanh (W_a c + b_a) */
  float *score;                    /* (N, 6)        e */
  float *alpha;                    /* (N, 6)        */
  float *fused;                    /* (N, D)        */
  float *omega;                    /* (N, 3)        */
  float *cmp_e, *cmp_a;            /* (6)           compacted e, α of one sample */

  /* backward: d<name> is the gradient of <name> */
  float *dcand;                    /* (N, 6, D)     */
  float *dscore;                   /* (N, 6)        */
  float *dh, *dhpre;               /* (N, 6, H)     */
  float *cmp_da, *cmp_de;          /* (6)           */
  float *dw, *dlogit;              /* (lmax)        one sample and pair */
  float *dg, *dz;                  /* (lmax, D)     */
  float *du;                       /* (lmax, 4D)    */
  float *ds;                       /* (max K_m K_n) */
};

/* ---------------------------------------------------------------- names */

const char *
mmdnn_modality_name (MmdnnModality m)
{
  static const char *const names[N_MOD] = { "video", "audio", "text" };

  return (int) m >= 0 && (int) m < N_MOD ? names[m] : NULL;
}

/* ---------------------------------------------------------------- config */

void
mmdnn_fusion_config_init (MmdnnFusionConfig *c)
{
  g_return_if_fail (c != NULL);
  c->dim = 128;
  c->tokens[MMDNN_MODALITY_VIDEO] = 16;
  c->tokens[MMDNN_MODALITY_AUDIO] = 10;
  c->tokens[MMDNN_MODALITY_TEXT] = 32;
  c->attn_hidden = 64;
  c->tau = 0.1f;
}

static gboolean
check_range (const char *field, int64_t v, int64_t lo, int64_t hi,
             GError **error)
{
  MMDNN_CHECK (v >= lo && v <= hi, error, FALSE,
               "fusion config: %s=%" G_GINT64_FORMAT " must be in [%"
               G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]", field, v, lo, hi);
  return TRUE;
}

gboolean
mmdnn_fusion_config_check (const MmdnnFusionConfig *c, GError **error)
{
  MMDNN_CHECK_NOT_NULL (c, error, FALSE);
  if (!check_range ("dim", c->dim, 1, MAX_WIDTH, error)
      || !check_range ("attn_hidden", c->attn_hidden, 1, MAX_WIDTH, error)
      || !check_range ("tokens[video]", c->tokens[0], 1, MAX_TOKENS, error)
      || !check_range ("tokens[audio]", c->tokens[1], 1, MAX_TOKENS, error)
      || !check_range ("tokens[text]", c->tokens[2], 1, MAX_TOKENS, error))
    return FALSE;
  MMDNN_CHECK (isfinite (c->tau) && c->tau > 0.0f, error, FALSE,
               "fusion config: tau=%g must be finite and > 0", (double) c->tau);
  return TRUE;
}

static gboolean
config_equal (const MmdnnFusionConfig *a, const MmdnnFusionConfig *b)
{
  for (int m = 0; m < N_MOD; m++)
    if (a->tokens[m] != b->tokens[m])
      return FALSE;
  return a->dim == b->dim && a->attn_hidden == b->attn_hidden
      && a->tau == b->tau;
}

/* ---------------------------------------------------------------- init */

#define N_NAMES (2 * N_PAIR + 3)

/* Every parameter name, in declaration order (g_free each). */
static void
param_names (const char *prefix, char **out)
{
  int k = 0;

  for (int p = 0; p < N_PAIR; p++) {
    out[k++] = g_strdup_printf ("%s.match.%s.weight", prefix, pair_names[p]);
    out[k++] = g_strdup_printf ("%s.match.%s.bias", prefix, pair_names[p]);
  }
  out[k++] = g_strdup_printf ("%s.attn.weight", prefix);
  out[k++] = g_strdup_printf ("%s.attn.bias", prefix);
  out[k++] = g_strdup_printf ("%s.attn_v", prefix);
}

gboolean
mmdnn_fusion_init (MmdnnFusion *f, MmdnnParamSet *ps, const char *prefix,
                   const MmdnnFusionConfig *c, GError **error)
{
  MmdnnFusion t;
  char *names[N_NAMES];
  char *sub;
  gboolean ok = TRUE;
  int64_t d, h;

  MMDNN_CHECK_NOT_NULL (f, error, FALSE);
  MMDNN_CHECK_NOT_NULL (ps, error, FALSE);
  MMDNN_CHECK (prefix != NULL && prefix[0] != '\0', error, FALSE,
               "fusion: prefix must be a non-empty string");
  if (!mmdnn_fusion_config_check (c, error))
    return FALSE;
  MMDNN_CHECK (!ps->allocated, error, FALSE,
               "fusion '%s': the parameter set is already allocated", prefix);
  param_names (prefix, names);
  for (int k = 0; k < N_NAMES; k++)
    if (ok && mmdnn_param_set_lookup (ps, names[k]) != NULL) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                   "fusion '%s': parameter '%s' is already declared", prefix,
                   names[k]);
      ok = FALSE;
    }
  if (!ok) {
    for (int k = 0; k < N_NAMES; k++)
      g_free (names[k]);
    return FALSE;
  }

  /* Past the checks above the declarations cannot fail on sizes or names. */
  memset (&t, 0, sizeof (t));
  t.config = *c;
  d = c->dim;
  h = c->attn_hidden;
  for (int p = 0; p < N_PAIR && ok; p++) {
    sub = g_strdup_printf ("%s.match.%s", prefix, pair_names[p]);
    ok = mmdnn_linear_init (&t.gate[p], ps, sub, 4 * d, d, TRUE, error);
    g_free (sub);
  }
  if (ok) {
    sub = g_strdup_printf ("%s.attn", prefix);
    ok = mmdnn_linear_init (&t.attn, ps, sub, d, h, TRUE, error);
    g_free (sub);
  }
  if (ok) {
    t.attn_v = mmdnn_param_set_declare (ps, names[N_NAMES - 1], 1,
                                        (int64_t[]) { h }, TRUE, error);
    ok = t.attn_v != NULL;
  }
  for (int k = 0; k < N_NAMES; k++)
    g_free (names[k]);
  if (!ok)
    return FALSE;
  *f = t;
  return TRUE;
}

void
mmdnn_fusion_reset (MmdnnFusion *f, MmdnnRng *rng)
{
  float bound;

  g_return_if_fail (f != NULL && rng != NULL);
  for (int p = 0; p < N_PAIR; p++)
    mmdnn_linear_reset (&f->gate[p], rng);
  mmdnn_linear_reset (&f->attn, rng);
  bound = (float) (1.0 / sqrt ((double) f->config.attn_hidden));
  mmdnn_rng_fill_uniform (rng, f->attn_v->value, f->attn_v->numel, -bound,
                          bound);
}

/* ---------------------------------------------------------------- arena */

/* Hands out the next @count floats of the slab (64-byte aligned), or only
 * counts them when @base is NULL. */
static float *
take (float *base, int64_t *off, int64_t count)
{
  float *p = base != NULL && count > 0 ? base + *off : NULL;

  *off += (count + 15) & ~INT64_C (15);
  return p;
}

/* Points every buffer of @a into @base (or just counts with base NULL) for a
 * batch of @n; returns the floats used. */
static int64_t
acts_layout (MmdnnFusionActs *a, const MmdnnFusionConfig *c, int64_t n,
             float *base)
{
  const int64_t *k = c->tokens;
  int64_t d = c->dim, h = c->attn_hidden, off = 0, kk = 0;

  a->present = take (base, &off, n * N_MOD);
  for (int m = 0; m < N_MOD; m++) {
    a->mask[m] = take (base, &off, n * k[m]);
    a->x[m] = take (base, &off, n * k[m] * d);
    a->real[m] = take (base, &off, n);
  }
  a->summ = take (base, &off, n * N_MOD * d);
  for (int p = 0; p < N_PAIR; p++) {
    int64_t km = k[pair_mod[p][0]], kn = k[pair_mod[p][1]];
    a->s[p] = take (base, &off, n * km * kn);
    a->xnorm[p] = take (base, &off, n * km);
    a->ynorm[p] = take (base, &off, n * kn);
    a->u[p] = take (base, &off, n * a->lp[p] * 4 * d);
    a->g[p] = take (base, &off, n * a->lp[p] * d);
    a->f[p] = take (base, &off, n * a->lp[p] * d);
    a->logit[p] = take (base, &off, n * a->lp[p]);
    a->w[p] = take (base, &off, n * a->lp[p]);
    kk = MAX (kk, km * kn);
  }
  a->pooled = take (base, &off, n * N_PAIR * d);
  a->cand = take (base, &off, n * N_CAND * d);
  a->h = take (base, &off, n * N_CAND * h);
  a->score = take (base, &off, n * N_CAND);
  a->alpha = take (base, &off, n * N_CAND);
  a->fused = take (base, &off, n * d);
  a->omega = take (base, &off, n * N_MOD);
  a->cmp_e = take (base, &off, N_CAND);
  a->cmp_a = take (base, &off, N_CAND);

  a->dcand = take (base, &off, n * N_CAND * d);
  a->dscore = take (base, &off, n * N_CAND);
  a->dh = take (base, &off, n * N_CAND * h);
  a->dhpre = take (base, &off, n * N_CAND * h);
  a->cmp_da = take (base, &off, N_CAND);
  a->cmp_de = take (base, &off, N_CAND);
  a->dw = take (base, &off, a->lmax);
  a->dlogit = take (base, &off, a->lmax);
  a->dg = take (base, &off, a->lmax * d);
  a->dz = take (base, &off, a->lmax * d);
  a->du = take (base, &off, a->lmax * 4 * d);
  a->ds = take (base, &off, kk);
  return off;
}

MmdnnFusionActs *
mmdnn_fusion_acts_new (const MmdnnFusion *f, int64_t max_n, GError **error)
{
  MmdnnFusionActs *a;
  int64_t per_sample, total;

  MMDNN_CHECK_NOT_NULL (f, error, NULL);
  MMDNN_CHECK (max_n >= 1, error, NULL,
               "fusion: max_n=%" G_GINT64_FORMAT " must be ≥ 1", max_n);
  a = g_new0 (MmdnnFusionActs, 1);
  a->lmax = 0;
  for (int p = 0; p < N_PAIR; p++) {
    a->lp[p] = f->config.tokens[pair_mod[p][0]]
        + f->config.tokens[pair_mod[p][1]];
    a->lmax = MAX (a->lmax, a->lp[p]);
  }
  /* every buffer is linear in n plus a fixed part: the layout for n = 1 is
   * an upper bound of the per-sample cost (with the int32 indices) */
  per_sample = acts_layout (a, &f->config, 1, NULL) + N_PAIR * (2 * a->lmax + 1);
  if (max_n > MMDNN_MAX_NUMEL / per_sample) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                 "fusion: max_n=%" G_GINT64_FORMAT " needs more than %"
                 G_GINT64_FORMAT " floats of activations", max_n,
                 (int64_t) MMDNN_MAX_NUMEL);
    g_free (a);
    return NULL;
  }
  total = acts_layout (a, &f->config, max_n, NULL);
  a->slab = mmdnn_floats_new (total, error);
  if (a->slab == NULL) {
    g_free (a);
    return NULL;
  }
  acts_layout (a, &f->config, max_n, a->slab);
  a->counts = g_try_new0 (int32_t, max_n * N_PAIR);
  a->match = g_try_new0 (int32_t, max_n * N_PAIR * 2 * a->lmax);
  if (a->counts == NULL || a->match == NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                 "fusion: out of memory for the matches of %" G_GINT64_FORMAT
                 " samples", max_n);
    mmdnn_fusion_acts_free (a);
    return NULL;
  }
  a->config = f->config;
  a->max_n = max_n;
  return a;
}

void
mmdnn_fusion_acts_free (MmdnnFusionActs *a)
{
  if (a == NULL)
    return;
  mmdnn_floats_free (a->slab);
  g_free (a->counts);
  g_free (a->match);
  g_free (a);
}

const float *
mmdnn_fusion_summaries (const MmdnnFusionActs *a)
{
  g_return_val_if_fail (a != NULL, NULL);
  return a->summ;
}

const float *
mmdnn_fusion_pooled (const MmdnnFusionActs *a)
{
  g_return_val_if_fail (a != NULL, NULL);
  return a->pooled;
}

const float *
mmdnn_fusion_alpha (const MmdnnFusionActs *a)
{
  g_return_val_if_fail (a != NULL, NULL);
  return a->alpha;
}

static int32_t *
match_list (const MmdnnFusionActs *a, int64_t i, int p, int side)
{
  return a->match + ((i * N_PAIR + p) * 2 + side) * a->lmax;
}

int64_t
mmdnn_fusion_matches (const MmdnnFusionActs *a, int64_t i, int pair,
                      const int32_t **ti, const int32_t **tj, const float **w)
{
  g_return_val_if_fail (a != NULL, 0);
  if (i < 0 || i >= a->n || pair < 0 || pair >= N_PAIR)
    return 0;
  if (ti != NULL)
    *ti = match_list (a, i, pair, 0);
  if (tj != NULL)
    *tj = match_list (a, i, pair, 1);
  if (w != NULL)
    *w = a->w[pair] + i * a->lp[pair];
  return a->counts[i * N_PAIR + pair];
}

/* ---------------------------------------------------------------- checks */

static float
presence_of (const float *presence, int64_t i, int m)
{
  return presence != NULL ? presence[i * N_MOD + m] : 1.0f;
}

static float
mask_of (const float *const masks[N_MOD], int m, int64_t row)
{
  return masks != NULL && masks[m] != NULL ? masks[m][row] : 1.0f;
}

/* Every data check of forward, before anything is written. */
static gboolean
check_inputs (const MmdnnFusionConfig *c,
              const float *const tokens[N_MOD], const float *const masks[N_MOD],
              const float *presence, int64_t n, GError **error)
{
  int64_t d = c->dim;

  for (int64_t i = 0; i < n; i++) {
    gboolean any = FALSE;

    for (int m = 0; m < N_MOD; m++) {
      float p = presence_of (presence, i, m);
      int64_t k = c->tokens[m], real = 0;
      const char *name = mmdnn_modality_name ((MmdnnModality) m);

      if (p != 0.0f && p != 1.0f) {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                     "fusion: sample %" G_GINT64_FORMAT ": presence of %s is "
                     "%g, must be 0 or 1", i, name, (double) p);
        return FALSE;
      }
      if (p == 0.0f)
        continue;
      MMDNN_CHECK (tokens[m] != NULL, error, FALSE,
                   "fusion: tokens[%s] is NULL but %s is present in sample %"
                   G_GINT64_FORMAT, name, name, i);
      for (int64_t t = 0; t < k; t++) {
        float v = mask_of (masks, m, i * k + t);
        const float *row = tokens[m] + (i * k + t) * d;

        if (v != 0.0f && v != 1.0f) {
          g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                       "fusion: sample %" G_GINT64_FORMAT ": mask of %s "
                       "token %" G_GINT64_FORMAT " is %g, must be 0 or 1", i,
                       name, t, (double) v);
          return FALSE;
        }
        if (v == 0.0f)
          continue;
        real++;
        for (int64_t e = 0; e < d; e++)
          if (!isfinite (row[e])) {
            g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                         "fusion: sample %" G_GINT64_FORMAT ": %s token %"
                         G_GINT64_FORMAT " has a non-finite value %g at %"
                         G_GINT64_FORMAT, i, name, t, (double) row[e], e);
            return FALSE;
          }
      }
      if (real == 0) {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                     "fusion: sample %" G_GINT64_FORMAT ": %s is present but "
                     "all its %" G_GINT64_FORMAT " tokens are masked", i,
                     name, k);
        return FALSE;
      }
      any = TRUE;
    }
    if (!any) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                   "fusion: sample %" G_GINT64_FORMAT " has no present "
                   "modality", i);
      return FALSE;
    }
  }
  return TRUE;
}

/* ---------------------------------------------------------------- forward */

/* Whether candidate cc of sample i took part in the attention. */
static gboolean
cand_present (const MmdnnFusionActs *a, int64_t i, int cc)
{
  return cc < N_MOD ? a->present[i * N_MOD + cc] != 0.0f
      : a->counts[i * N_PAIR + cc - N_MOD] > 0;
}

/* The mutual best matches of pair p in sample i over real tokens (ties to
 * the lowest index): first i → j*(i), then j → i*(j). Returns the length. */
static int32_t
best_matches (MmdnnFusionActs *a, int64_t i, int p)
{
  int mm = pair_mod[p][0], nn = pair_mod[p][1];
  int64_t km = a->config.tokens[mm], kn = a->config.tokens[nn];
  const float *s = a->s[p] + i * km * kn;
  const float *mk = a->mask[mm] + i * km, *nk = a->mask[nn] + i * kn;
  int32_t *ti = match_list (a, i, p, 0), *tj = match_list (a, i, p, 1);
  int32_t len = 0;

  for (int64_t r = 0; r < km; r++) {
    int64_t best = -1;
    if (mk[r] == 0.0f)
      continue;
    for (int64_t q = 0; q < kn; q++)
      if (nk[q] != 0.0f && (best < 0 || s[r * kn + q] > s[r * kn + best]))
        best = q;
    ti[len] = (int32_t) r;
    tj[len] = (int32_t) best;
    len++;
  }
  for (int64_t q = 0; q < kn; q++) {
    int64_t best = -1;
    if (nk[q] == 0.0f)
      continue;
    for (int64_t r = 0; r < km; r++)
      if (mk[r] != 0.0f && (best < 0 || s[r * kn + q] > s[best * kn + q]))
        best = r;
    ti[len] = (int32_t) best;
    tj[len] = (int32_t) q;
    len++;
  }
  return len;
}

/* Steps 2–3 for pair p of sample i (both modalities present). */
static void
pair_forward (const MmdnnFusion *f, MmdnnFusionActs *a, int64_t i, int p)
{
  const MmdnnFusionConfig *c = &f->config;
  int mm = pair_mod[p][0], nn = pair_mod[p][1];
  int64_t d = c->dim, km = c->tokens[mm], kn = c->tokens[nn], lp = a->lp[p];
  const float *xm = a->x[mm] + i * km * d, *xn = a->x[nn] + i * kn * d;
  const float *s = a->s[p] + i * km * kn;
  float *u = a->u[p] + i * lp * 4 * d, *g = a->g[p] + i * lp * d;
  float *fv = a->f[p] + i * lp * d, *logit = a->logit[p] + i * lp;
  float *w = a->w[p] + i * lp, *pooled = a->pooled + (i * N_PAIR + p) * d;
  const int32_t *ti, *tj;
  int32_t len;

  mmdnn_cosine_matrix_forward (a->s[p] + i * km * kn, a->xnorm[p] + i * km,
                               a->ynorm[p] + i * kn, xm, xn, COS_EPS, 1, km,
                               kn, d);
  len = best_matches (a, i, p);
  a->counts[i * N_PAIR + p] = len;
  ti = match_list (a, i, p, 0);
  tj = match_list (a, i, p, 1);

  /* u = [x; y; x⊙y; |x − y|] */
  for (int32_t l = 0; l < len; l++) {
    const float *x = xm + ti[l] * d, *y = xn + tj[l] * d;
    float *ul = u + l * 4 * d;
    for (int64_t e = 0; e < d; e++) {
      ul[e] = x[e];
      ul[d + e] = y[e];
      ul[2 * d + e] = x[e] * y[e];
      ul[3 * d + e] = fabsf (x[e] - y[e]);
    }
  }
  /* g = sigmoid (W u + b); f = g⊙x + (1 − g)⊙y */
  mmdnn_linear_forward (g, u, f->gate[p].weight->value,
                        f->gate[p].bias->value, len, 4 * d, d);
  mmdnn_sigmoid_forward (g, g, len * d);
  for (int32_t l = 0; l < len; l++) {
    const float *x = xm + ti[l] * d, *y = xn + tj[l] * d, *gl = g + l * d;
    float *fl = fv + l * d;
    for (int64_t e = 0; e < d; e++)
      fl[e] = gl[e] * x[e] + (1.0f - gl[e]) * y[e];
  }
  /* w = softmax over the list of S/τ; c = Σ w f */
  for (int32_t l = 0; l < len; l++)
    logit[l] = s[ti[l] * kn + tj[l]] / c->tau;
  mmdnn_softmax_forward (w, logit, 1, len);
  for (int64_t e = 0; e < d; e++) {
    double acc = 0.0;
    for (int32_t l = 0; l < len; l++)
      acc += (double) w[l] * fv[l * d + e];
    pooled[e] = (float) acc;
  }
}

gboolean
mmdnn_fusion_forward (const MmdnnFusion *f, MmdnnFusionActs *a,
                      const float *const tokens[MMDNN_N_MODALITIES],
                      const float *const masks[MMDNN_N_MODALITIES],
                      const float *presence, int64_t n, const float **fused,
                      const float **modality_weights, GError **error)
{
  const MmdnnFusionConfig *c;
  int64_t d, h;

  MMDNN_CHECK_NOT_NULL (f, error, FALSE);
  MMDNN_CHECK_NOT_NULL (a, error, FALSE);
  MMDNN_CHECK_NOT_NULL (tokens, error, FALSE);
  MMDNN_CHECK_NOT_NULL (fused, error, FALSE);
  MMDNN_CHECK (config_equal (&a->config, &f->config), error, FALSE,
               "fusion: the activations were made for another configuration");
  MMDNN_CHECK (n >= 1 && n <= a->max_n, error, FALSE,
               "fusion: n=%" G_GINT64_FORMAT " must be in [1, %"
               G_GINT64_FORMAT "] (the arena's max_n)", n, a->max_n);
  c = &f->config;
  d = c->dim;
  h = c->attn_hidden;
  if (!check_inputs (c, tokens, masks, presence, n, error))
    return FALSE;
  a->n = 0;

  /* sanitised copies: padding and missing modalities become exact zeros, so
   * whatever they held (NaN included) cannot reach any output */
  for (int64_t i = 0; i < n; i++)
    for (int m = 0; m < N_MOD; m++) {
      int64_t k = c->tokens[m];
      float p = presence_of (presence, i, m), real = 0.0f;

      a->present[i * N_MOD + m] = p;
      for (int64_t t = 0; t < k; t++) {
        float v = p != 0.0f ? mask_of (masks, m, i * k + t) : 0.0f;
        float *row = a->x[m] + (i * k + t) * d;
        a->mask[m][i * k + t] = v;
        real += v;
        if (v != 0.0f)
          memcpy (row, tokens[m] + (i * k + t) * d, sizeof (float) * d);
        else
          memset (row, 0, sizeof (float) * d);
      }
      a->real[m][i] = real;
    }

  for (int64_t i = 0; i < n; i++) {
    const float *pr = a->present + i * N_MOD;

    /* 1. summaries: masked means */
    for (int m = 0; m < N_MOD; m++) {
      int64_t k = c->tokens[m];
      float *sm = a->summ + (i * N_MOD + m) * d;
      for (int64_t e = 0; e < d; e++) {
        double acc = 0.0;
        for (int64_t t = 0; t < k; t++)
          acc += a->x[m][(i * k + t) * d + e];   /* padding is 0 */
        sm[e] = pr[m] != 0.0f ? (float) (acc / a->real[m][i]) : 0.0f;
      }
    }
    /* 2–3. matched, gated and pooled pairs */
    for (int p = 0; p < N_PAIR; p++) {
      if (pr[pair_mod[p][0]] != 0.0f && pr[pair_mod[p][1]] != 0.0f) {
        pair_forward (f, a, i, p);
      } else {
        a->counts[i * N_PAIR + p] = 0;
        memset (a->pooled + (i * N_PAIR + p) * d, 0, sizeof (float) * d);
      }
    }
    memcpy (a->cand + i * N_CAND * d, a->summ + i * N_MOD * d,
            sizeof (float) * N_MOD * d);
    memcpy (a->cand + (i * N_CAND + N_MOD) * d, a->pooled + i * N_PAIR * d,
            sizeof (float) * N_PAIR * d);
  }

  /* 4. attention scores e = vᵀ tanh (W_a c + b_a), all N·6 rows */
  mmdnn_linear_forward (a->h, a->cand, f->attn.weight->value,
                        f->attn.bias->value, n * N_CAND, d, h);
  mmdnn_tanh_forward (a->h, a->h, n * N_CAND * h);
  for (int64_t r = 0; r < n * N_CAND; r++) {
    double acc = 0.0;
    for (int64_t k = 0; k < h; k++)
      acc += (double) f->attn_v->value[k] * a->h[r * h + k];
    a->score[r] = (float) acc;
  }

  for (int64_t i = 0; i < n; i++) {
    float *al = a->alpha + i * N_CAND, *om = a->omega + i * N_MOD;
    const float *cand = a->cand + i * N_CAND * d;
    int cnt = 0;

    /* α: softmax over the present candidates only */
    for (int cc = 0; cc < N_CAND; cc++)
      if (cand_present (a, i, cc))
        a->cmp_e[cnt++] = a->score[i * N_CAND + cc];
    mmdnn_softmax_forward (a->cmp_a, a->cmp_e, 1, cnt);
    cnt = 0;
    for (int cc = 0; cc < N_CAND; cc++)
      al[cc] = cand_present (a, i, cc) ? a->cmp_a[cnt++] : 0.0f;
    /* fused = Σ α c (a missing candidate's α is exactly 0: skipped) */
    for (int64_t e = 0; e < d; e++) {
      double acc = 0.0;
      for (int cc = 0; cc < N_CAND; cc++)
        if (al[cc] != 0.0f)
          acc += (double) al[cc] * cand[cc * d + e];
      a->fused[i * d + e] = (float) acc;
    }
    /* 5. ω_m = α(s_m) + ½ Σ_{pairs ∋ m} α(c_mn) */
    for (int m = 0; m < N_MOD; m++)
      om[m] = al[m];
    for (int p = 0; p < N_PAIR; p++) {
      om[pair_mod[p][0]] += 0.5f * al[N_MOD + p];
      om[pair_mod[p][1]] += 0.5f * al[N_MOD + p];
    }
  }

  a->n = n;
  *fused = a->fused;
  if (modality_weights != NULL)
    *modality_weights = a->omega;
  return TRUE;
}

/* ---------------------------------------------------------------- backward */

/* Reverse of pair_forward: dc: (D) the gradient of c_mn; token gradients
 * into dxm: (K_m, D) / dxn: (K_n, D) of this sample (either may be NULL). */
static void
pair_backward (const MmdnnFusion *f, MmdnnFusionActs *a, int64_t i, int p,
               const float *dc, float *dxm, float *dxn)
{
  const MmdnnFusionConfig *c = &f->config;
  int mm = pair_mod[p][0], nn = pair_mod[p][1];
  int64_t d = c->dim, km = c->tokens[mm], kn = c->tokens[nn], lp = a->lp[p];
  const float *xm = a->x[mm] + i * km * d, *xn = a->x[nn] + i * kn * d;
  const float *u = a->u[p] + i * lp * 4 * d, *g = a->g[p] + i * lp * d;
  const float *fv = a->f[p] + i * lp * d, *w = a->w[p] + i * lp;
  const int32_t *ti = match_list (a, i, p, 0), *tj = match_list (a, i, p, 1);
  int32_t len = a->counts[i * N_PAIR + p];

  /* c = Σ w f */
  for (int32_t l = 0; l < len; l++) {
    double acc = 0.0;
    for (int64_t e = 0; e < d; e++)
      acc += (double) dc[e] * fv[l * d + e];
    a->dw[l] = (float) acc;
  }
  /* w = softmax (S/τ) over the list; a pair listed twice adds twice */
  memset (a->dlogit, 0, sizeof (float) * len);
  mmdnn_softmax_backward (a->dlogit, a->dw, w, 1, len);
  memset (a->ds, 0, sizeof (float) * km * kn);
  for (int32_t l = 0; l < len; l++)
    a->ds[ti[l] * kn + tj[l]] += a->dlogit[l] / c->tau;
  /* f = g⊙x + (1 − g)⊙y, with df = w dc */
  for (int32_t l = 0; l < len; l++) {
    const float *x = xm + ti[l] * d, *y = xn + tj[l] * d, *gl = g + l * d;
    float *dgl = a->dg + l * d;
    for (int64_t e = 0; e < d; e++) {
      float df = w[l] * dc[e];
      dgl[e] = df * (x[e] - y[e]);
      if (dxm != NULL)
        dxm[ti[l] * d + e] += df * gl[e];
      if (dxn != NULL)
        dxn[tj[l] * d + e] += df * (1.0f - gl[e]);
    }
  }
  /* g = sigmoid (W u + b) */
  memset (a->dz, 0, sizeof (float) * len * d);
  mmdnn_sigmoid_backward (a->dz, a->dg, g, len * d);
  memset (a->du, 0, sizeof (float) * len * 4 * d);
  mmdnn_linear_backward (a->du, f->gate[p].weight->grad,
                         f->gate[p].bias->grad, a->dz, u,
                         f->gate[p].weight->value, len, 4 * d, d);
  /* u = [x; y; x⊙y; |x − y|], sign (0) = 0 */
  for (int32_t l = 0; l < len; l++) {
    const float *x = xm + ti[l] * d, *y = xn + tj[l] * d;
    const float *dul = a->du + l * 4 * d;
    for (int64_t e = 0; e < d; e++) {
      float diff = x[e] - y[e];
      float sg = diff > 0.0f ? 1.0f : diff < 0.0f ? -1.0f : 0.0f;
      if (dxm != NULL)
        dxm[ti[l] * d + e] += dul[e] + dul[2 * d + e] * y[e]
            + dul[3 * d + e] * sg;
      if (dxn != NULL)
        dxn[tj[l] * d + e] += dul[d + e] + dul[2 * d + e] * x[e]
            - dul[3 * d + e] * sg;
    }
  }
  /* S = cosine matrix: only matched entries have a gradient, so padded
   * rows and columns get exactly none */
  if (dxm != NULL || dxn != NULL)
    mmdnn_cosine_matrix_backward (dxm, dxn, a->ds, xm, xn,
                                  a->xnorm[p] + i * km, a->ynorm[p] + i * kn,
                                  COS_EPS, 1, km, kn, d);
}

void
mmdnn_fusion_backward_full (const MmdnnFusion *f, MmdnnFusionActs *a,
                            const float *dfused, const float *dsummaries,
                            float *const dtokens[MMDNN_N_MODALITIES], int64_t n)
{
  const MmdnnFusionConfig *c;
  int64_t d, h;

  if (f == NULL || a == NULL || n < 1 || n != a->n
      || !config_equal (&a->config, &f->config)) {
    mmdnn_log (MMDNN_LOG_ERROR, "fusion backward: n=%" G_GINT64_FORMAT
               " does not follow a forward of this batch; ignored", n);
    return;
  }
  c = &f->config;
  d = c->dim;
  h = c->attn_hidden;

  /* fused = Σ α c;  α = softmax (e) over the present candidates */
  memset (a->dcand, 0, sizeof (float) * n * N_CAND * d);
  memset (a->dscore, 0, sizeof (float) * n * N_CAND);
  for (int64_t i = 0; dfused != NULL && i < n; i++) {
    const float *df = dfused + i * d, *al = a->alpha + i * N_CAND;
    const float *cand = a->cand + i * N_CAND * d;
    int cnt = 0;

    for (int cc = 0; cc < N_CAND; cc++) {
      double acc = 0.0;
      if (!cand_present (a, i, cc))
        continue;
      for (int64_t e = 0; e < d; e++) {
        acc += (double) df[e] * cand[cc * d + e];
        a->dcand[(i * N_CAND + cc) * d + e] = al[cc] * df[e];
      }
      a->cmp_da[cnt] = (float) acc;
      a->cmp_a[cnt] = al[cc];
      cnt++;
    }
    memset (a->cmp_de, 0, sizeof (float) * cnt);
    mmdnn_softmax_backward (a->cmp_de, a->cmp_da, a->cmp_a, 1, cnt);
    cnt = 0;
    for (int cc = 0; cc < N_CAND; cc++)
      if (cand_present (a, i, cc))
        a->dscore[i * N_CAND + cc] = a->cmp_de[cnt++];
  }

  /* e = vᵀ h;  h = tanh (W_a c + b_a): missing rows have de = 0 */
  if (dfused != NULL) {
    for (int64_t r = 0; r < n * N_CAND; r++)
      for (int64_t k = 0; k < h; k++) {
        a->dh[r * h + k] = a->dscore[r] * f->attn_v->value[k];
        f->attn_v->grad[k] += a->dscore[r] * a->h[r * h + k];
      }
    memset (a->dhpre, 0, sizeof (float) * n * N_CAND * h);
    mmdnn_tanh_backward (a->dhpre, a->dh, a->h, n * N_CAND * h);
    mmdnn_linear_backward (a->dcand, f->attn.weight->grad, f->attn.bias->grad,
                           a->dhpre, a->cand, f->attn.weight->value,
                           n * N_CAND, d, h);
  }

  for (int64_t i = 0; i < n; i++) {
    const float *pr = a->present + i * N_MOD;
    float *dx[N_MOD];

    for (int m = 0; m < N_MOD; m++)
      dx[m] = dtokens != NULL && dtokens[m] != NULL && pr[m] != 0.0f
          ? dtokens[m] + i * c->tokens[m] * d : NULL;
    /* 2–3. pairs, in reverse */
    for (int p = N_PAIR - 1; p >= 0; p--)
      if (a->counts[i * N_PAIR + p] > 0)
        pair_backward (f, a, i, p, a->dcand + (i * N_CAND + N_MOD + p) * d,
                       dx[pair_mod[p][0]], dx[pair_mod[p][1]]);
    /* 1. s_m = Σ mask x / R */
    for (int m = N_MOD - 1; m >= 0; m--) {
      const float *dsum = a->dcand + (i * N_CAND + m) * d;
      const float *dextra = dsummaries != NULL
          ? dsummaries + (i * N_MOD + m) * d : NULL;
      int64_t k = c->tokens[m];
      float inv;
      if (dx[m] == NULL)
        continue;
      inv = 1.0f / a->real[m][i];
      for (int64_t t = 0; t < k; t++) {
        if (a->mask[m][i * k + t] == 0.0f)
          continue;
        for (int64_t e = 0; e < d; e++)
          dx[m][t * d + e] += (dsum[e] + (dextra != NULL ? dextra[e] : 0.0f))
              * inv;
      }
    }
  }
}

void
mmdnn_fusion_backward (const MmdnnFusion *f, MmdnnFusionActs *a,
                       const float *dfused,
                       float *const dtokens[MMDNN_N_MODALITIES], int64_t n)
{
  mmdnn_fusion_backward_full (f, a, dfused, NULL, dtokens, n);
}
