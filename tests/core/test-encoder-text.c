/* Tests of the text encoder.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/encoder-text.h>
#include <mmdnn/optim.h>
#include <mmdnn/text.h>
#include "gradcheck.h"

#define PREFIX "text"

/* ------------------------------------------------------------ fixtures */

/* Tiny config with odd sizes: B 29, L 5, M 4, E 6, D 8, A 4, m 3, m2 5, s 3. */
static void
tiny_config (MmdnnTextEncoderConfig *c)
{
  mmdnn_text_encoder_config_init (c);
  c->buckets = 29;
  c->max_tokens = 5;
  c->ids_per_token = 4;
  c->embed = 6;
  c->dim = 8;
  c->ae_latent = 4;
  c->ms_width = 3;
  c->ms_width2 = 5;
  c->sal_width = 3;
}

typedef struct {
  MmdnnTextEncoderConfig  config;
  MmdnnParamSet          *ps;
  MmdnnTextEncoder        e;
  MmdnnTextEncoderActs   *a;
} Fixture;

static void
fixture_init (Fixture *f, const MmdnnTextEncoderConfig *c, uint64_t seed,
              int64_t max_n)
{
  MmdnnRng rng;
  GError *err = NULL;

  f->config = *c;
  f->ps = mmdnn_param_set_new ();
  g_assert_true (mmdnn_text_encoder_init (&f->e, f->ps, PREFIX, c, &err));
  g_assert_no_error (err);
  g_assert_true (mmdnn_param_set_allocate (f->ps, &err));
  g_assert_no_error (err);
  mmdnn_rng_init (&rng, seed);
  mmdnn_text_encoder_reset (&f->e, &rng);
  f->a = mmdnn_text_encoder_acts_new (&f->e, max_n, &err);
  g_assert_no_error (err);
  g_assert_nonnull (f->a);
}

static void
fixture_clear (Fixture *f)
{
  mmdnn_text_encoder_acts_free (f->a);
  mmdnn_param_set_free (f->ps);
}

static float *
param (Fixture *f, const char *suffix)
{
  char *name = g_strdup_printf (PREFIX ".%s", suffix);
  MmdnnParam *p = mmdnn_param_set_lookup (f->ps, name);

  g_assert_nonnull (p);
  g_free (name);
  return p->value;
}

/* Random ids (N, L, M): sample i has words[i] real words, each with 1..M
 * ids in [0, B), the rest −1 (as mmdnn_text_tokenize lays them out). */
static int32_t *
random_ids (MmdnnRng *rng, const MmdnnTextEncoderConfig *c, int64_t n,
            const int64_t *words)
{
  int64_t l = c->max_tokens, m = c->ids_per_token;
  int32_t *ids = g_new (int32_t, n * l * m);

  for (int64_t i = 0; i < n * l * m; i++)
    ids[i] = -1;
  for (int64_t i = 0; i < n; i++)
    for (int64_t t = 0; t < words[i]; t++) {
      int64_t used = 1 + (int64_t) mmdnn_rng_below (rng, (uint64_t) m);
      for (int64_t k = 0; k < used; k++)
        ids[(i * l + t) * m + k] = (int32_t) mmdnn_rng_below (rng, (uint64_t) c->buckets);
    }
  return ids;
}

static gboolean
all_finite (const float *x, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    if (!isfinite (x[i]))
      return FALSE;
  return TRUE;
}

/* ------------------------------------------------------------ reference */

/* Independent double-precision forward, straight from the header's text:
 * masked same-padded conv1d as a direct loop. in: (C_in, L) of one sample. */
static double ref_margin;   /* min |ReLU input| at real positions */

static void
ref_conv (double *out, const double *in, const float *w, const float *b,
          const float *mask, int64_t c_in, int64_t c_out, int64_t k,
          int64_t l, gboolean relu_follows)
{
  for (int64_t co = 0; co < c_out; co++)
    for (int64_t t = 0; t < l; t++) {
      double acc = b[co];
      for (int64_t ci = 0; ci < c_in; ci++)
        for (int64_t j = 0; j < k; j++) {
          int64_t s = t + j - k / 2;
          if (s >= 0 && s < l)
            acc += (double) w[(co * c_in + ci) * k + j] * in[ci * l + s];
        }
      out[co * l + t] = acc * mask[t];
      if (relu_follows && mask[t] != 0.0f)
        ref_margin = MIN (ref_margin, fabs (acc));
    }
}

static void
ref_forward (Fixture *f, const int32_t *ids, int64_t n, float *tokens,
             double *recon)
{
  const MmdnnTextEncoderConfig *c = &f->config;
  int64_t l = c->max_tokens, m = c->ids_per_token, ed = c->embed, d = c->dim;
  /* a disabled branch's widths may be anything: use 1 */
  int64_t a = c->use_ae ? c->ae_latent : 1;
  int64_t mw = c->use_ms ? c->ms_width : 1, m2 = c->use_ms ? c->ms_width2 : 1;
  int64_t s = c->use_sal ? c->sal_width : 1;
  int64_t nf = f->e.features;
  double *x = g_new0 (double, ed * l), *lat = g_new0 (double, a * l);
  double *rec = g_new0 (double, ed * l), *cat = g_new0 (double, 3 * mw * l);
  double *h2 = g_new0 (double, m2 * l), *feat = g_new0 (double, nf);
  double *y = g_new0 (double, d);
  float *mask = g_new (float, l);
  double sq = 0.0, real = 0.0;

  ref_margin = HUGE_VAL;
  for (int64_t i = 0; i < n; i++) {
    int64_t n_real = 0, last = -1;
    for (int64_t t = 0; t < l; t++) {
      const int32_t *row = ids + (i * l + t) * m;
      int count = 0;
      mask[t] = row[0] >= 0 ? 1.0f : 0.0f;
      n_real += row[0] >= 0;
      if (row[0] >= 0)
        last = t;
      for (int64_t e = 0; e < ed; e++) {
        double acc = 0.0;
        count = 0;
        for (int64_t k = 0; k < m && row[0] >= 0; k++)
          if (row[k] >= 0) {
            acc += param (f, "emb.weight")[row[k] * ed + e];
            count++;
          }
        x[e * l + t] = count > 0 ? acc / count : 0.0;
      }
    }
    if (c->use_ae) {
      ref_conv (lat, x, param (f, "ae.enc.weight"), param (f, "ae.enc.bias"),
                mask, ed, a, 3, l, TRUE);
      for (int64_t j = 0; j < a * l; j++)
        lat[j] = MAX (lat[j], 0.0);
      ref_conv (rec, lat, param (f, "ae.dec.weight"), param (f, "ae.dec.bias"),
                mask, a, ed, 3, l, FALSE);
      for (int64_t j = 0; j < ed * l; j++)
        sq += (rec[j] - x[j]) * (rec[j] - x[j]);
      real += n_real;
    }
    if (c->use_ms) {
      ref_conv (cat, x, param (f, "ms.k3.weight"), param (f, "ms.k3.bias"),
                mask, ed, mw, 3, l, TRUE);
      ref_conv (cat + mw * l, x, param (f, "ms.k5.weight"),
                param (f, "ms.k5.bias"), mask, ed, mw, 5, l, TRUE);
      ref_conv (cat + 2 * mw * l, x, param (f, "ms.k7.weight"),
                param (f, "ms.k7.bias"), mask, ed, mw, 7, l, TRUE);
      for (int64_t j = 0; j < 3 * mw * l; j++)
        cat[j] = MAX (cat[j], 0.0);
      ref_conv (h2, cat, param (f, "ms.conv1.weight"),
                param (f, "ms.conv1.bias"), mask, 3 * mw, m2, 3, l, TRUE);
      for (int64_t j = 0; j < m2 * l; j++)
        h2[j] = MAX (h2[j], 0.0);
    }
    for (int64_t t = 0; t < l; t++) {
      int64_t o = 0;
      double mean = 0.0, var = 0.0;
      if (c->use_ae)
        for (int64_t k = 0; k < a; k++)
          feat[o++] = lat[k * l + t];
      if (c->use_ms)
        for (int64_t k = 0; k < m2; k++)
          feat[o++] = h2[k * l + t];
      if (c->use_sal) {
        const int32_t *row = ids + (i * l + t) * m;
        double sf[4] = { 0, 0, 0, 0 };
        if (mask[t] != 0.0f) {
          int used = 0;
          for (int64_t k = 0; k < m; k++)
            used += row[k] >= 0;
          sf[0] = l > 1 ? (double) t / (double) (l - 1) : 0.0;
          sf[1] = t == last;
          sf[2] = (double) used / (double) m;
          sf[3] = 1.0 - (double) t / (double) n_real;
        }
        for (int64_t k = 0; k < s; k++) {
          double acc = param (f, "sal.proj.bias")[k];
          for (int j = 0; j < 4; j++)
            acc += param (f, "sal.proj.weight")[k * 4 + j] * sf[j];
          if (mask[t] != 0.0f)
            ref_margin = MIN (ref_margin, fabs (acc));
          feat[o++] = MAX (acc, 0.0);
        }
      }
      for (int64_t k = 0; k < d; k++) {
        double acc = param (f, "proj.bias")[k];
        for (int64_t j = 0; j < nf; j++)
          acc += param (f, "proj.weight")[k * nf + j] * feat[j];
        y[k] = acc;
        mean += acc / d;
      }
      for (int64_t k = 0; k < d; k++)
        var += (y[k] - mean) * (y[k] - mean) / d;
      for (int64_t k = 0; k < d; k++) {
        double v = (y[k] - mean) / sqrt (var + 1e-5) * param (f, "norm.weight")[k]
            + param (f, "norm.bias")[k] + param (f, "pos")[t * d + k];
        tokens[(i * l + t) * d + k] = (float) (v * mask[t]);
      }
    }
  }
  *recon = real > 0 ? sq / (real * ed) : 0.0;
  g_free (x); g_free (lat); g_free (rec); g_free (cat); g_free (h2);
  g_free (feat); g_free (y); g_free (mask);
}

/* ------------------------------------------------------------ positive */

static void
test_config_default (void)
{
  MmdnnTextEncoderConfig c;
  MmdnnTextConfig tc;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnTextEncoder e;
  GError *err = NULL;
  int64_t want;

  mmdnn_text_encoder_config_init (&c);
  mmdnn_text_config_init (&tc);
  g_assert_cmpint (c.buckets, ==, tc.buckets);
  g_assert_cmpint (c.max_tokens, ==, tc.max_tokens);
  g_assert_cmpint (c.ids_per_token, ==, tc.max_ids_per_token);
  g_assert_cmpint (c.embed, ==, 64);
  g_assert_cmpint (c.dim, ==, 128);
  g_assert_true (c.use_ae && c.use_ms && c.use_sal);
  g_assert_true (mmdnn_text_encoder_config_check (&c, &err));
  g_assert_no_error (err);
  g_assert_true (mmdnn_text_encoder_init (&e, ps, PREFIX, &c, &err));
  g_assert_no_error (err);
  g_assert_cmpint (e.tokens, ==, 32);
  g_assert_cmpint (e.features, ==, 32 + 128 + 16);
  want = 65536 * 64                            /* emb */
      + (64 * 32 * 3 + 32) + (32 * 64 * 3 + 64)   /* ae */
      + (64 * 32 * 3 + 32) + (64 * 32 * 5 + 32) + (64 * 32 * 7 + 32)
      + (96 * 128 * 3 + 128)                   /* ms */
      + (4 * 16 + 16)                          /* sal */
      + (176 * 128 + 128) + 2 * 128 + 32 * 128;   /* proj, norm, pos */
  g_assert_cmpint (ps->numel, ==, want);
  g_test_message ("default text encoder: %" G_GINT64_FORMAT " parameters (%"
                  G_GINT64_FORMAT " without the embedding table)", want,
                  want - 65536 * 64);
  mmdnn_param_set_free (ps);
}

static void
test_names_shapes (void)
{
  static const char *const names[] = {
    "text.emb.weight", "text.ae.enc.weight", "text.ae.enc.bias",
    "text.ae.dec.weight", "text.ae.dec.bias", "text.ms.k3.weight",
    "text.ms.k3.bias", "text.ms.k5.weight", "text.ms.k5.bias",
    "text.ms.k7.weight", "text.ms.k7.bias", "text.ms.conv1.weight",
    "text.ms.conv1.bias", "text.sal.proj.weight", "text.sal.proj.bias",
    "text.proj.weight", "text.proj.bias", "text.norm.weight",
    "text.norm.bias", "text.pos",
  };
  MmdnnTextEncoderConfig c;
  Fixture f;
  MmdnnRng rng;
  const int64_t words[3] = { 5, 2, 0 };
  int32_t *ids;
  const float *tokens, *mask;
  float loss = -1;
  MmdnnParam *p;

  tiny_config (&c);
  fixture_init (&f, &c, 1, 3);
  g_assert_cmpuint (f.ps->params->len, ==, G_N_ELEMENTS (names));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    p = g_ptr_array_index (f.ps->params, i);
    g_assert_cmpstr (p->name, ==, names[i]);
    g_assert_cmpint (p->decay, ==, g_str_has_suffix (names[i], ".weight")
                     && !g_str_has_prefix (names[i], "text.norm"));
  }
  p = mmdnn_param_set_lookup (f.ps, "text.pos");
  g_assert_cmpint (p->ndim, ==, 2);
  g_assert_cmpint (p->shape[0], ==, 5);
  g_assert_cmpint (p->shape[1], ==, 8);
  p = mmdnn_param_set_lookup (f.ps, "text.emb.weight");
  g_assert_cmpint (p->shape[0], ==, 29);
  g_assert_cmpint (p->shape[1], ==, 6);
  p = mmdnn_param_set_lookup (f.ps, "text.ms.conv1.weight");
  g_assert_cmpint (p->shape[0], ==, 5);
  g_assert_cmpint (p->shape[1], ==, 9);
  g_assert_cmpint (p->shape[2], ==, 3);
  p = mmdnn_param_set_lookup (f.ps, "text.proj.weight");
  g_assert_cmpint (p->shape[0], ==, 8);
  g_assert_cmpint (p->shape[1], ==, 4 + 5 + 3);

  mmdnn_rng_init (&rng, 2);
  ids = random_ids (&rng, &c, 3, words);
  g_assert_true (mmdnn_text_encoder_forward (&f.e, f.a, ids, 3, &tokens,
                                             &mask, &loss, NULL));
  g_assert_cmpfloat (loss, >, 0.0f);
  for (int64_t i = 0; i < 3; i++)
    for (int64_t t = 0; t < 5; t++) {
      g_assert_cmpfloat (mask[i * 5 + t], ==, t < words[i] ? 1.0f : 0.0f);
      for (int64_t k = 0; k < 8; k++)
        if (t >= words[i])
          g_assert_cmpfloat (tokens[(i * 5 + t) * 8 + k], ==, 0.0f);
    }
  g_assert_true (all_finite (tokens, 3 * 5 * 8));
  g_free (ids);
  fixture_clear (&f);
}

static void
test_mask (void)
{
  const int32_t ids[2 * 3 * 2] = { 4, -1,  -1, 7,  0, 1,
                                   -1, -1, 9, -1,  -3, 2 };
  float mask[6];

  mmdnn_text_encoder_mask (mask, ids, 2, 3, 2);
  /* only the first id of a row decides, even when later ones are set */
  g_assert_cmpfloat (mask[0], ==, 1.0f);
  g_assert_cmpfloat (mask[1], ==, 0.0f);
  g_assert_cmpfloat (mask[2], ==, 1.0f);
  g_assert_cmpfloat (mask[3], ==, 0.0f);
  g_assert_cmpfloat (mask[4], ==, 1.0f);
  g_assert_cmpfloat (mask[5], ==, 0.0f);
}

/* The whole encoder against the independent reference, for every branch
 * combination, with padding, a full cue and an empty one. */
static void
test_forward_values (void)
{
  static const gboolean combos[7][3] = {
    { 1, 1, 1 }, { 0, 1, 1 }, { 1, 0, 1 }, { 1, 1, 0 },
    { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 },
  };
  const int64_t words[4] = { 3, 5, 0, 1 };

  for (guint ci = 0; ci < G_N_ELEMENTS (combos); ci++) {
    MmdnnTextEncoderConfig c;
    Fixture f;
    MmdnnRng rng;
    int32_t *ids;
    const float *tokens, *mask;
    float loss = -1, *want;
    double want_loss;

    tiny_config (&c);
    c.use_ae = combos[ci][0];
    c.use_ms = combos[ci][1];
    c.use_sal = combos[ci][2];
    fixture_init (&f, &c, 10 + ci, 4);
    mmdnn_rng_init (&rng, 20 + ci);
    /* non-trivial norm params and positions */
    mmdnn_rng_fill_uniform (&rng, param (&f, "norm.weight"), c.dim, 0.5f, 1.5f);
    mmdnn_rng_fill_uniform (&rng, param (&f, "norm.bias"), c.dim, -0.5f, 0.5f);
    mmdnn_rng_fill_uniform (&rng, param (&f, "pos"), c.max_tokens * c.dim,
                            -0.5f, 0.5f);
    ids = random_ids (&rng, &c, 4, words);
    want = gc_zeros (4 * 5 * 8);
    g_assert_true (mmdnn_text_encoder_forward (&f.e, f.a, ids, 4, &tokens,
                                               &mask, &loss, NULL));
    ref_forward (&f, ids, 4, want, &want_loss);
    g_assert_true (check_close ("tokens", tokens, want, 4 * 5 * 8, 1e-5));
    g_assert_cmpfloat_with_epsilon (loss, want_loss, 1e-5 * (1 + want_loss));
    if (!c.use_ae)
      g_assert_cmpfloat (loss, ==, 0.0f);
    g_free (ids); g_free (want);
    fixture_clear (&f);
  }
}

/* Gradcheck context: y = [tokens (N,L,D) | recon_loss]. */
typedef struct {
  Fixture *f;
  const int32_t *ids;
  int64_t n;
  float *y;
} GcCtx;

static void
gc_forward (void *p)
{
  GcCtx *g = p;
  const float *tokens, *mask;
  int64_t nt = g->n * g->f->config.max_tokens * g->f->config.dim;

  g_assert_true (mmdnn_text_encoder_forward (&g->f->e, g->f->a, g->ids, g->n,
                                             &tokens, &mask, &g->y[nt], NULL));
  memcpy (g->y, tokens, sizeof (float) * nt);
}


/* L = Σ r ⊙ tokens + λ·recon over every parameter tensor but the table,
 * then L = Σ r ⊙ tokens (λ = 0: by design the recon term sends nothing to
 * the table) over every table row the batch uses; unused rows get exactly 0. */
static void
whole_encoder_gradcheck (const MmdnnTextEncoderConfig *c, uint64_t seed)
{
  const int64_t n = 3, words[3] = { 4, 5, 1 };
  int64_t l = c->max_tokens, d = c->dim, ny = n * l * d + 1;
  Fixture f;
  MmdnnRng rng;
  GcCtx g;
  float *r, lambda = 0.7f;
  GradcheckInput inputs[64];
  int n_inputs = 0;
  gboolean used[64] = { FALSE };
  MmdnnParam *table;
  int32_t *ids;

  /* Inputs away from ReLU kinks: the first draw (from @seed on) whose
   * ReLU inputs at real positions are all ≥ 5e-3 from 0, as measured by
   * the reference, so an ε = 1e-3 step never crosses one. */
  for (int attempt = 0;; attempt++) {
    float *tmp;
    double loss;

    g_assert_cmpint (attempt, <, 100);
    fixture_init (&f, c, seed + 1000 * attempt, n);
    mmdnn_rng_init (&rng, seed + 1000 * attempt + 1);
    mmdnn_rng_fill_uniform (&rng, param (&f, "norm.weight"), d, 0.5f, 1.5f);
    mmdnn_rng_fill_uniform (&rng, param (&f, "norm.bias"), d, -0.5f, 0.5f);
    /* LN inputs of about unit variance: with the default init they are
     * ~0.3, so L is so curved (rstd³ terms) that an element whose gradient
     * happens to be ~0 looks like a kink to gradcheck's one-sided test */
    {
      MmdnnParam *pw = mmdnn_param_set_lookup (f.ps, PREFIX ".proj.weight");
      for (int64_t k = 0; k < pw->numel; k++)
        pw->value[k] *= 3.0f;
    }
    ids = random_ids (&rng, c, n, words);
    tmp = gc_zeros (ny);
    ref_forward (&f, ids, n, tmp, &loss);
    g_free (tmp);
    if (ref_margin >= 5e-3)
      break;
    g_free (ids);
    fixture_clear (&f);
  }
  r = gc_random (&rng, ny, -1, 1);
  g = (GcCtx) { &f, ids, n, g_new0 (float, ny) };

  /* pass 1: every tensor but the table, with the recon term */
  r[ny - 1] = c->use_ae ? lambda : 0.0f;
  gc_forward (&g);
  mmdnn_param_set_zero_grad (f.ps);
  mmdnn_text_encoder_backward (&f.e, f.a, r, r[ny - 1], n);
  for (guint i = 0; i < f.ps->params->len; i++) {
    MmdnnParam *p = g_ptr_array_index (f.ps->params, i);
    if (g_str_has_suffix (p->name, "emb.weight"))
      continue;
    inputs[n_inputs++] = (GradcheckInput) { p->name, p->value, p->grad, p->numel };
  }
  g_assert_true (gradcheck ("text encoder", gc_forward, &g, g.y, ny, r,
                            inputs, n_inputs, 1e-3, 3e-3, 1e-2));

  /* pass 2: the rows of the table that the batch uses */
  r[ny - 1] = 0.0f;
  gc_forward (&g);
  mmdnn_param_set_zero_grad (f.ps);
  mmdnn_text_encoder_backward (&f.e, f.a, r, 0.0f, n);
  table = mmdnn_param_set_lookup (f.ps, PREFIX ".emb.weight");
  g_assert_cmpint (c->buckets, <=, 64);
  for (int64_t k = 0; k < n * l * c->ids_per_token; k++)
    if (ids[k] >= 0)
      used[ids[k]] = TRUE;
  n_inputs = 0;
  for (int64_t v = 0; v < c->buckets; v++) {
    float *row = table->value + v * c->embed;
    const float *grow = table->grad + v * c->embed;
    if (used[v]) {
      inputs[n_inputs++] = (GradcheckInput) { "emb row", row, grow, c->embed };
    } else {
      for (int64_t j = 0; j < c->embed; j++)
        g_assert_cmpfloat (grow[j], ==, 0.0f);   /* sparse */
    }
  }
  g_assert_cmpint (n_inputs, >, 3);
  g_assert_true (gradcheck ("text encoder table", gc_forward, &g, g.y, ny, r,
                            inputs, n_inputs, 1e-3, 3e-3, 1e-2));
  g_free (ids); g_free (r); g_free (g.y);
  fixture_clear (&f);
}

static void
test_gradcheck (void)
{
  MmdnnTextEncoderConfig c;

  tiny_config (&c);
  whole_encoder_gradcheck (&c, 100);
}

/* Each branch switched off alone, and each alone: its params are not
 * declared, the rest still works and passes the gradient check. */
static void
test_branch_switches (void)
{
  for (int off = 0; off < 3; off++)
    for (int alone = 0; alone < 2; alone++) {
      MmdnnTextEncoderConfig c;
      MmdnnParamSet *ps = mmdnn_param_set_new ();
      MmdnnTextEncoder e;
      gboolean on[3];

      tiny_config (&c);
      for (int b = 0; b < 3; b++)
        on[b] = alone ? b == off : b != off;
      c.use_ae = on[0];
      c.use_ms = on[1];
      c.use_sal = on[2];
      /* the widths of a disabled branch are ignored */
      if (!c.use_ae)
        c.ae_latent = 0;
      if (!c.use_ms)
        c.ms_width = c.ms_width2 = -1;
      if (!c.use_sal)
        c.sal_width = 0;
      g_assert_true (mmdnn_text_encoder_init (&e, ps, PREFIX, &c, NULL));
      g_assert_true ((mmdnn_param_set_lookup (ps, "text.ae.enc.weight") != NULL) == on[0]);
      g_assert_true ((mmdnn_param_set_lookup (ps, "text.ae.dec.bias") != NULL) == on[0]);
      g_assert_true ((mmdnn_param_set_lookup (ps, "text.ms.k5.weight") != NULL) == on[1]);
      g_assert_true ((mmdnn_param_set_lookup (ps, "text.ms.conv1.bias") != NULL) == on[1]);
      g_assert_true ((mmdnn_param_set_lookup (ps, "text.sal.proj.weight") != NULL) == on[2]);
      g_assert_nonnull (mmdnn_param_set_lookup (ps, "text.emb.weight"));
      g_assert_nonnull (mmdnn_param_set_lookup (ps, "text.pos"));
      g_assert_cmpint (e.features, ==, (on[0] ? 4 : 0) + (on[1] ? 5 : 0)
                       + (on[2] ? 3 : 0));
      mmdnn_param_set_free (ps);
      whole_encoder_gradcheck (&c, 200 + off * 2 + alone);
    }
}

/* The recon term reaches the AE's weights only: not the table, not the
 * other branches. */
static void
test_recon_gradients (void)
{
  MmdnnTextEncoderConfig c;
  Fixture f;
  MmdnnRng rng;
  const int64_t words[2] = { 5, 3 };
  int32_t *ids;
  const float *tokens, *mask;
  float loss;

  tiny_config (&c);
  fixture_init (&f, &c, 5, 2);
  mmdnn_rng_init (&rng, 6);
  ids = random_ids (&rng, &c, 2, words);
  g_assert_true (mmdnn_text_encoder_forward (&f.e, f.a, ids, 2, &tokens, &mask,
                                             &loss, NULL));
  mmdnn_param_set_zero_grad (f.ps);
  mmdnn_text_encoder_backward (&f.e, f.a, NULL, 1.0f, 2);
  for (guint i = 0; i < f.ps->params->len; i++) {
    MmdnnParam *p = g_ptr_array_index (f.ps->params, i);
    double norm = mmdnn_grad_global_norm (p->grad, p->numel);
    if (g_str_has_prefix (p->name, "text.ae."))
      g_assert_cmpfloat (norm, >, 0.0);
    else
      g_assert_cmpfloat (norm, ==, 0.0);
  }
  g_free (ids);
  fixture_clear (&f);
}

static void
test_accumulate (void)
{
  MmdnnTextEncoderConfig c;
  Fixture f;
  MmdnnRng rng;
  const int64_t words[3] = { 2, 5, 4 };
  int32_t *ids;
  const float *tokens, *mask;
  float loss, *dy, *once;

  tiny_config (&c);
  fixture_init (&f, &c, 7, 3);
  mmdnn_rng_init (&rng, 8);
  ids = random_ids (&rng, &c, 3, words);
  dy = gc_random (&rng, 3 * 5 * 8, -1, 1);
  g_assert_true (mmdnn_text_encoder_forward (&f.e, f.a, ids, 3, &tokens, &mask,
                                             &loss, NULL));
  mmdnn_param_set_zero_grad (f.ps);
  mmdnn_text_encoder_backward (&f.e, f.a, dy, 0.5f, 3);
  once = g_memdup2 (f.ps->grads, sizeof (float) * f.ps->numel);
  mmdnn_text_encoder_backward (&f.e, f.a, dy, 0.5f, 3);
  g_assert_true (check_doubled ("text encoder grads", once, f.ps->grads,
                                f.ps->numel));
  g_free (ids); g_free (dy); g_free (once);
  fixture_clear (&f);
}

static void
test_determinism (void)
{
  MmdnnTextEncoderConfig c;
  Fixture f1, f2, f3;
  MmdnnRng rng;
  const int64_t words[2] = { 4, 2 };
  int32_t *ids;
  const float *t1, *t2, *t3, *mask;
  float l1, l2, l3, *dy, *tok1;
  int64_t nt = 2 * 5 * 8;

  tiny_config (&c);
  fixture_init (&f1, &c, 42, 2);
  fixture_init (&f2, &c, 42, 2);
  fixture_init (&f3, &c, 43, 2);
  mmdnn_rng_init (&rng, 9);
  ids = random_ids (&rng, &c, 2, words);
  dy = gc_random (&rng, nt, -1, 1);
  g_assert_cmpmem (f1.ps->values, f1.ps->numel * sizeof (float),
                   f2.ps->values, f2.ps->numel * sizeof (float));
  g_assert_true (mmdnn_text_encoder_forward (&f1.e, f1.a, ids, 2, &t1, &mask, &l1, NULL));
  tok1 = g_memdup2 (t1, nt * sizeof (float));
  g_assert_true (mmdnn_text_encoder_forward (&f2.e, f2.a, ids, 2, &t2, &mask, &l2, NULL));
  g_assert_true (mmdnn_text_encoder_forward (&f3.e, f3.a, ids, 2, &t3, &mask, &l3, NULL));
  g_assert_cmpmem (tok1, nt * sizeof (float), t2, nt * sizeof (float));
  g_assert_cmpfloat (l1, ==, l2);
  g_assert_true (memcmp (tok1, t3, nt * sizeof (float)) != 0);
  mmdnn_param_set_zero_grad (f1.ps);
  mmdnn_param_set_zero_grad (f2.ps);
  mmdnn_text_encoder_backward (&f1.e, f1.a, dy, 1.0f, 2);
  mmdnn_text_encoder_backward (&f2.e, f2.a, dy, 1.0f, 2);
  g_assert_cmpmem (f1.ps->grads, f1.ps->numel * sizeof (float),
                   f2.ps->grads, f2.ps->numel * sizeof (float));
  /* the same arena run twice gives the same tokens */
  g_assert_true (mmdnn_text_encoder_forward (&f1.e, f1.a, ids, 2, &t1, &mask, &l1, NULL));
  g_assert_cmpmem (tok1, nt * sizeof (float), t1, nt * sizeof (float));
  g_free (ids); g_free (dy); g_free (tok1);
  fixture_clear (&f1);
  fixture_clear (&f2);
  fixture_clear (&f3);
}

/* Real cues through mmdnn_text_tokenize, including an empty and a
 * markup-only one. */
static int32_t *
tokenize_cues (const MmdnnTextEncoderConfig *c, const char *const *cues,
               int64_t n, int64_t *words)
{
  MmdnnTextConfig tc = { c->buckets, c->max_tokens, c->ids_per_token };
  int64_t row = c->max_tokens * c->ids_per_token;
  int32_t *ids = g_new (int32_t, n * row);
  GError *err = NULL;

  for (int64_t i = 0; i < n; i++) {
    g_assert_true (mmdnn_text_tokenize (&tc, cues[i], -1, ids + i * row,
                                        &words[i], &err));
    g_assert_no_error (err);
  }
  return ids;
}

static void
test_empty_cue (void)
{
  static const char *const cues[] = { "", "Hello <i>world</i>!", "<b></b>" };
  MmdnnTextEncoderConfig c;
  Fixture f;
  int64_t words[3];
  int32_t *ids;
  const float *tokens, *mask;
  float loss = -1;
  int64_t per = 5 * 8;

  tiny_config (&c);
  fixture_init (&f, &c, 11, 3);
  ids = tokenize_cues (&c, cues, 3, words);
  g_assert_cmpint (words[0], ==, 0);
  g_assert_cmpint (words[1], ==, 2);
  g_assert_cmpint (words[2], ==, 0);
  g_assert_true (mmdnn_text_encoder_forward (&f.e, f.a, ids, 3, &tokens, &mask,
                                             &loss, NULL));
  g_assert_true (all_finite (tokens, 3 * per));
  g_assert_true (isfinite (loss) && loss > 0.0f);
  for (int64_t j = 0; j < per; j++) {
    g_assert_cmpfloat (tokens[j], ==, 0.0f);
    g_assert_cmpfloat (tokens[2 * per + j], ==, 0.0f);
  }
  for (int64_t t = 0; t < 5; t++) {
    g_assert_cmpfloat (mask[t], ==, 0.0f);
    g_assert_cmpfloat (mask[5 + t], ==, t < 2 ? 1.0f : 0.0f);
  }

  /* a batch of only empty cues: recon loss 0, grads finite and 0 */
  g_assert_true (mmdnn_text_encoder_forward (&f.e, f.a, ids, 1, &tokens, &mask,
                                             &loss, NULL));
  g_assert_cmpfloat (loss, ==, 0.0f);
  for (int64_t j = 0; j < per; j++)
    g_assert_cmpfloat (tokens[j], ==, 0.0f);
  mmdnn_param_set_zero_grad (f.ps);
  {
    float *dy = g_new (float, per);
    for (int64_t j = 0; j < per; j++)
      dy[j] = 1.0f;
    mmdnn_text_encoder_backward (&f.e, f.a, dy, 1.0f, 1);
    g_free (dy);
  }
  g_assert_true (all_finite (f.ps->grads, f.ps->numel));
  g_assert_cmpfloat (mmdnn_grad_global_norm (f.ps->grads, f.ps->numel), ==, 0.0);
  g_free (ids);
  fixture_clear (&f);
}

/* The same cues in L = 5 and in L = 9 give the same real tokens and recon
 * loss (SAL off: its f0 = t/(L−1) depends on L by definition), even for a
 * cue that fills all 5 positions; and whatever sits after a row's −1 first
 * id changes nothing. */
static void
test_padding_invariance (void)
{
  MmdnnTextEncoderConfig cs, cl;
  Fixture fs, fl;
  MmdnnRng rng;
  const int64_t words[3] = { 5, 2, 3 };
  int32_t *ids_s, *ids_l;
  const float *ts, *tl, *mask;
  float ls, ll, *tok_s, *dy, *grads;
  int64_t ms = 4, d = 8;

  tiny_config (&cs);
  cs.use_sal = FALSE;
  cl = cs;
  cl.max_tokens = 9;
  fixture_init (&fs, &cs, 12, 3);
  fixture_init (&fl, &cl, 13, 3);
  /* same weights: everything but pos has the same shape */
  for (guint i = 0; i < fs.ps->params->len; i++) {
    MmdnnParam *p = g_ptr_array_index (fs.ps->params, i);
    MmdnnParam *q = mmdnn_param_set_lookup (fl.ps, p->name);
    memcpy (q->value, p->value, sizeof (float) * MIN (p->numel, q->numel));
  }
  mmdnn_rng_init (&rng, 14);
  ids_s = random_ids (&rng, &cs, 3, words);
  ids_l = g_new (int32_t, 3 * 9 * ms);
  for (int64_t k = 0; k < 3 * 9 * ms; k++)
    ids_l[k] = -1;
  for (int64_t i = 0; i < 3; i++)
    memcpy (ids_l + i * 9 * ms, ids_s + i * 5 * ms, sizeof (int32_t) * 5 * ms);
  g_assert_true (mmdnn_text_encoder_forward (&fs.e, fs.a, ids_s, 3, &ts, &mask,
                                             &ls, NULL));
  tok_s = g_memdup2 (ts, sizeof (float) * 3 * 5 * d);
  g_assert_true (mmdnn_text_encoder_forward (&fl.e, fl.a, ids_l, 3, &tl, &mask,
                                             &ll, NULL));
  for (int64_t i = 0; i < 3; i++) {
    g_assert_true (check_close ("padded tokens", tl + i * 9 * d,
                                tok_s + i * 5 * d, 5 * d, 1e-5));
    for (int64_t j = 5 * d; j < 9 * d; j++)
      g_assert_cmpfloat (tl[i * 9 * d + j], ==, 0.0f);
  }
  g_assert_cmpfloat_with_epsilon (ls, ll, 1e-6 * (1 + ls));

  /* garbage after a padding row's first id: ignored (all branches on) */
  fixture_clear (&fs);
  cs.use_sal = TRUE;
  fixture_init (&fs, &cs, 15, 3);
  g_assert_true (mmdnn_text_encoder_forward (&fs.e, fs.a, ids_s, 3, &ts, &mask,
                                             &ls, NULL));
  memcpy (tok_s, ts, sizeof (float) * 3 * 5 * d);
  dy = gc_random (&rng, 3 * 5 * d, -1, 1);
  mmdnn_param_set_zero_grad (fs.ps);
  mmdnn_text_encoder_backward (&fs.e, fs.a, dy, 1.0f, 3);
  grads = g_memdup2 (fs.ps->grads, sizeof (float) * fs.ps->numel);
  ids_s[(1 * 5 + 3) * ms + 1] = 7;       /* sample 1, padded position 3 */
  ids_s[(2 * 5 + 4) * ms + 3] = 28;      /* sample 2, padded position 4 */
  g_assert_true (mmdnn_text_encoder_forward (&fs.e, fs.a, ids_s, 3, &ts, &mask,
                                             &ll, NULL));
  g_assert_cmpmem (tok_s, sizeof (float) * 3 * 5 * d, ts,
                   sizeof (float) * 3 * 5 * d);
  g_assert_cmpfloat (ls, ==, ll);
  mmdnn_param_set_zero_grad (fs.ps);
  mmdnn_text_encoder_backward (&fs.e, fs.a, dy, 1.0f, 3);
  g_assert_cmpmem (grads, sizeof (float) * fs.ps->numel, fs.ps->grads,
                   sizeof (float) * fs.ps->numel);
  g_free (dy); g_free (grads);
  g_free (ids_s); g_free (ids_l); g_free (tok_s);
  fixture_clear (&fs);
  fixture_clear (&fl);
}

/* 200 AdamW steps on 4 fixed tokenized cues: the recon loss falls ≥ 5×.
 * Task-like token loss too (Σ r ⊙ tokens) so the whole backward runs. */
static void
test_overfit (void)
{
  static const char *const cues[4] = {
    "The cat sat on the mat.", "{\\an8}<i>Don’t</i>\\Ngo!",
    "我喜欢猫 🐱", "Well-known rock'n'roll songs, 1999",
  };
  MmdnnTextEncoderConfig c;
  MmdnnOptimConfig oc;
  MmdnnOptim *opt;
  Fixture f;
  int64_t words[4];
  int32_t *ids;
  const float *tokens, *mask;
  float loss, first = 0, last = 0, *dy;
  int64_t nt;

  mmdnn_text_encoder_config_init (&c);
  c.buckets = 1024;
  c.max_tokens = 8;
  c.ids_per_token = 6;
  c.embed = 16;
  c.dim = 16;
  c.ae_latent = 12;
  c.ms_width = 8;
  c.ms_width2 = 16;
  c.sal_width = 4;
  nt = 4 * c.max_tokens * c.dim;
  fixture_init (&f, &c, 21, 4);
  ids = tokenize_cues (&c, cues, 4, words);
  for (int i = 0; i < 4; i++)
    g_assert_cmpint (words[i], >=, 2);
  dy = g_new (float, nt);
  for (int64_t j = 0; j < nt; j++)
    dy[j] = 1e-4f * (float) ((j * 7) % 5 - 2);
  mmdnn_optim_config_init_adamw (&oc, 1e-2f, 0.0f);
  opt = mmdnn_optim_new (&oc, f.ps, NULL);
  g_assert_nonnull (opt);
  for (int step = 0; step < 200; step++) {
    g_assert_true (mmdnn_text_encoder_forward (&f.e, f.a, ids, 4, &tokens,
                                               &mask, &loss, NULL));
    if (step == 0)
      first = loss;
    last = loss;
    mmdnn_param_set_zero_grad (f.ps);
    mmdnn_text_encoder_backward (&f.e, f.a, dy, 1.0f, 4);
    mmdnn_optim_step (opt, f.ps, 1e-2f);
  }
  g_test_message ("recon loss %g -> %g", first, last);
  g_assert_true (isfinite (last));
  g_assert_cmpfloat (last * 5.0f, <=, first);
  mmdnn_optim_free (opt);
  g_free (ids); g_free (dy);
  fixture_clear (&f);
}

/* ------------------------------------------------------------ negative */

static void
expect_config_error (const MmdnnTextEncoderConfig *c)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnTextEncoder e;
  GError *err = NULL;

  memset (&e, 0x5a, sizeof (e));
  g_assert_false (mmdnn_text_encoder_config_check (c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_text_encoder_init (&e, ps, PREFIX, c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_cmpuint (ps->params->len, ==, 0);
  g_assert_cmpint (e.tokens, ==, 0x5a5a5a5a5a5a5a5a);   /* untouched */
  mmdnn_param_set_free (ps);
}

static void
test_config_all_off_n (void)
{
  MmdnnTextEncoderConfig c;

  tiny_config (&c);
  c.use_ae = c.use_ms = c.use_sal = FALSE;
  expect_config_error (&c);
}

static void
test_config_zero_sizes_n (void)
{
  MmdnnTextEncoderConfig c;

  tiny_config (&c); c.embed = 0; expect_config_error (&c);
  tiny_config (&c); c.embed = -3; expect_config_error (&c);
  tiny_config (&c); c.buckets = 0; expect_config_error (&c);
  tiny_config (&c); c.max_tokens = 0; expect_config_error (&c);
  tiny_config (&c); c.ids_per_token = 0; expect_config_error (&c);
}

static void
test_config_dim_zero_n (void)
{
  MmdnnTextEncoderConfig c;

  tiny_config (&c); c.dim = 0; expect_config_error (&c);
  tiny_config (&c); c.dim = (INT64_C (1) << 20) + 1; expect_config_error (&c);
}

static void
test_config_too_large_n (void)
{
  MmdnnTextEncoderConfig c;

  tiny_config (&c); c.buckets = (int64_t) G_MAXINT32 + 1; expect_config_error (&c);
  tiny_config (&c); c.max_tokens = MMDNN_TEXT_MAX_SIZE + 1; expect_config_error (&c);
  tiny_config (&c); c.ids_per_token = MMDNN_TEXT_MAX_SIZE + 1; expect_config_error (&c);
  tiny_config (&c); c.embed = INT64_MAX; expect_config_error (&c);
}

static void
test_config_branch_width_zero_n (void)
{
  MmdnnTextEncoderConfig c;

  tiny_config (&c); c.ae_latent = 0; expect_config_error (&c);
  tiny_config (&c); c.ms_width = 0; expect_config_error (&c);
  tiny_config (&c); c.ms_width2 = -1; expect_config_error (&c);
  tiny_config (&c); c.sal_width = 0; expect_config_error (&c);
}

static void
test_config_null_n (void)
{
  GError *err = NULL;

  g_assert_false (mmdnn_text_encoder_config_check (NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_init_null_n (void)
{
  MmdnnTextEncoderConfig c;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnTextEncoder e;
  GError *err = NULL;

  tiny_config (&c);
  g_assert_false (mmdnn_text_encoder_init (NULL, ps, PREFIX, &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_text_encoder_init (&e, NULL, PREFIX, &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_text_encoder_init (&e, ps, NULL, &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_text_encoder_init (&e, ps, "", &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_text_encoder_init (&e, ps, PREFIX, NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_cmpuint (ps->params->len, ==, 0);
  mmdnn_param_set_free (ps);
}

/* A name already taken (here the last one the encoder would declare):
 * nothing is declared at all. */
static void
test_init_name_taken_n (void)
{
  MmdnnTextEncoderConfig c;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnTextEncoder e;
  GError *err = NULL;

  tiny_config (&c);
  g_assert_nonnull (mmdnn_param_set_declare (ps, "text.pos", 1,
                                             (int64_t[]) { 3 }, FALSE, NULL));
  g_assert_false (mmdnn_text_encoder_init (&e, ps, PREFIX, &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_cmpuint (ps->params->len, ==, 1);
  /* a second encoder under the same prefix */
  g_assert_true (mmdnn_text_encoder_init (&e, ps, "t2", &c, NULL));
  g_assert_false (mmdnn_text_encoder_init (&e, ps, "t2", &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  mmdnn_param_set_free (ps);
}

static void
test_init_allocated_n (void)
{
  MmdnnTextEncoderConfig c;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnTextEncoder e;
  GError *err = NULL;

  tiny_config (&c);
  g_assert_nonnull (mmdnn_param_set_declare (ps, "other", 1, (int64_t[]) { 2 },
                                             FALSE, NULL));
  g_assert_true (mmdnn_param_set_allocate (ps, NULL));
  g_assert_false (mmdnn_text_encoder_init (&e, ps, PREFIX, &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  mmdnn_param_set_free (ps);
}

static void
test_acts_bad_max_n_n (void)
{
  MmdnnTextEncoderConfig c;
  Fixture f;
  GError *err = NULL;

  tiny_config (&c);
  fixture_init (&f, &c, 1, 1);
  g_assert_null (mmdnn_text_encoder_acts_new (&f.e, 0, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_null (mmdnn_text_encoder_acts_new (&f.e, -5, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_null (mmdnn_text_encoder_acts_new (&f.e, INT64_MAX / 2, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY);
  g_clear_error (&err);
  g_assert_null (mmdnn_text_encoder_acts_new (NULL, 1, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  mmdnn_text_encoder_acts_free (NULL);
  fixture_clear (&f);
}

static void
expect_forward_error (Fixture *f, const int32_t *ids, int64_t n, int code)
{
  const float *tokens = (const float *) f, *mask = (const float *) f;
  float loss = -7.0f;
  GError *err = NULL;

  g_assert_false (mmdnn_text_encoder_forward (&f->e, f->a, ids, n, &tokens,
                                              &mask, &loss, &err));
  g_assert_error (err, MMDNN_ERROR, code);
  g_clear_error (&err);
  g_assert_true (tokens == (const float *) f && mask == (const float *) f);
  g_assert_cmpfloat (loss, ==, -7.0f);
}

static void
test_forward_batch_too_large_n (void)
{
  MmdnnTextEncoderConfig c;
  Fixture f;
  int32_t ids[3 * 5 * 4];

  tiny_config (&c);
  fixture_init (&f, &c, 1, 2);
  for (guint k = 0; k < G_N_ELEMENTS (ids); k++)
    ids[k] = 1;
  expect_forward_error (&f, ids, 3, MMDNN_ERROR_INVALID_ARGUMENT);
  expect_forward_error (&f, ids, 0, MMDNN_ERROR_INVALID_ARGUMENT);
  expect_forward_error (&f, ids, -1, MMDNN_ERROR_INVALID_ARGUMENT);
  fixture_clear (&f);
}

static void
test_forward_bad_id_n (void)
{
  MmdnnTextEncoderConfig c;
  Fixture f;
  int32_t ids[2 * 5 * 4];

  tiny_config (&c);
  fixture_init (&f, &c, 1, 2);
  for (guint k = 0; k < G_N_ELEMENTS (ids); k++)
    ids[k] = (int32_t) (k % 29);
  ids[2 * 5 * 4 - 1] = 29;             /* = buckets */
  expect_forward_error (&f, ids, 2, MMDNN_ERROR_DATA);
  ids[2 * 5 * 4 - 1] = G_MAXINT32;
  expect_forward_error (&f, ids, 2, MMDNN_ERROR_DATA);
  ids[2 * 5 * 4 - 1] = -1;
  ids[7] = 1000;
  expect_forward_error (&f, ids, 2, MMDNN_ERROR_DATA);
  fixture_clear (&f);
}

static void
test_forward_null_n (void)
{
  MmdnnTextEncoderConfig c;
  Fixture f;
  int32_t ids[5 * 4] = { 0 };
  const float *tokens, *mask;
  GError *err = NULL;

  tiny_config (&c);
  fixture_init (&f, &c, 1, 1);
  expect_forward_error (&f, NULL, 1, MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_false (mmdnn_text_encoder_forward (&f.e, f.a, ids, 1, NULL, &mask,
                                              NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_text_encoder_forward (&f.e, f.a, ids, 1, &tokens, NULL,
                                              NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_text_encoder_forward (&f.e, NULL, ids, 1, &tokens,
                                              &mask, NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_text_encoder_forward (NULL, f.a, ids, 1, &tokens,
                                              &mask, NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  fixture_clear (&f);
}

/* An arena made for another configuration is refused. */
static void
test_forward_wrong_acts_n (void)
{
  MmdnnTextEncoderConfig c, c2;
  Fixture f, g;
  int32_t ids[5 * 4] = { 0 };
  MmdnnTextEncoderActs *keep;

  tiny_config (&c);
  c2 = c;
  c2.ms_width2 = 7;
  fixture_init (&f, &c, 1, 1);
  fixture_init (&g, &c2, 1, 1);
  keep = f.a;
  f.a = g.a;
  expect_forward_error (&f, ids, 1, MMDNN_ERROR_INVALID_ARGUMENT);
  f.a = keep;
  fixture_clear (&f);
  fixture_clear (&g);
}

/* backward without a matching forward, or with drecon after a forward that
 * skipped the decoder: nothing is accumulated. */
static void
test_backward_mismatch_n (void)
{
  MmdnnTextEncoderConfig c;
  Fixture f;
  int32_t ids[2 * 5 * 4];
  float dy[2 * 5 * 8];
  const float *tokens, *mask;

  tiny_config (&c);
  fixture_init (&f, &c, 1, 2);
  for (guint k = 0; k < G_N_ELEMENTS (ids); k++)
    ids[k] = (int32_t) (k % 29);
  for (guint k = 0; k < G_N_ELEMENTS (dy); k++)
    dy[k] = 1.0f;
  mmdnn_param_set_zero_grad (f.ps);
  mmdnn_text_encoder_backward (&f.e, f.a, dy, 0.0f, 1);   /* no forward yet */
  g_assert_true (mmdnn_text_encoder_forward (&f.e, f.a, ids, 2, &tokens, &mask,
                                             NULL, NULL));
  mmdnn_text_encoder_backward (&f.e, f.a, dy, 0.0f, 1);   /* other n */
  mmdnn_text_encoder_backward (&f.e, f.a, dy, 1.0f, 2);   /* no recon */
  mmdnn_text_encoder_backward (NULL, f.a, dy, 0.0f, 2);
  mmdnn_text_encoder_backward (&f.e, NULL, dy, 0.0f, 2);
  g_assert_cmpfloat (mmdnn_grad_global_norm (f.ps->grads, f.ps->numel), ==, 0.0);
  fixture_clear (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/encoder-text/config-default", test_config_default);
  g_test_add_func ("/encoder-text/names-shapes", test_names_shapes);
  g_test_add_func ("/encoder-text/mask", test_mask);
  g_test_add_func ("/encoder-text/forward-values", test_forward_values);
  g_test_add_func ("/encoder-text/gradcheck", test_gradcheck);
  g_test_add_func ("/encoder-text/branch-switches", test_branch_switches);
  g_test_add_func ("/encoder-text/recon-gradients", test_recon_gradients);
  g_test_add_func ("/encoder-text/accumulate", test_accumulate);
  g_test_add_func ("/encoder-text/determinism", test_determinism);
  g_test_add_func ("/encoder-text/empty-cue", test_empty_cue);
  g_test_add_func ("/encoder-text/padding-invariance", test_padding_invariance);
  g_test_add_func ("/encoder-text/overfit", test_overfit);
  g_test_add_func ("/encoder-text/config-all-off_n", test_config_all_off_n);
  g_test_add_func ("/encoder-text/config-zero-sizes_n", test_config_zero_sizes_n);
  g_test_add_func ("/encoder-text/config-dim-zero_n", test_config_dim_zero_n);
  g_test_add_func ("/encoder-text/config-too-large_n", test_config_too_large_n);
  g_test_add_func ("/encoder-text/config-branch-width-zero_n",
                   test_config_branch_width_zero_n);
  g_test_add_func ("/encoder-text/config-null_n", test_config_null_n);
  g_test_add_func ("/encoder-text/init-null_n", test_init_null_n);
  g_test_add_func ("/encoder-text/init-name-taken_n", test_init_name_taken_n);
  g_test_add_func ("/encoder-text/init-allocated-set_n", test_init_allocated_n);
  g_test_add_func ("/encoder-text/acts-bad-max-n_n", test_acts_bad_max_n_n);
  g_test_add_func ("/encoder-text/forward-batch-too-large_n",
                   test_forward_batch_too_large_n);
  g_test_add_func ("/encoder-text/forward-bad-id_n", test_forward_bad_id_n);
  g_test_add_func ("/encoder-text/forward-null_n", test_forward_null_n);
  g_test_add_func ("/encoder-text/forward-wrong-acts_n", test_forward_wrong_acts_n);
  g_test_add_func ("/encoder-text/backward-mismatch_n", test_backward_mismatch_n);
  return g_test_run ();
}
