/* mmdnn — the text encoder: hashed subtitle ids → K word tokens of width D.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A composition of the core kernels, written llm.c style: the arena holds one
 * named buffer per activation (and per activation gradient), forward is a list
 * of kernel calls per branch and backward is the same list in reverse. */
#include <string.h>

#include <mmdnn/encoder-text.h>
#include <mmdnn/activation.h>
#include <mmdnn/loss.h>
#include <mmdnn/text.h>
#include "internal.h"

#define SAL_FEATURES 4
#define MAX_WIDTH    (INT64_C (1) << 20)
#define LN_EPS       1e-5f
#define POS_STD      0.02f

struct _MmdnnTextEncoderActs {
  MmdnnTextEncoderConfig config;   /* the encoder this arena was made for */
  int64_t  max_n;
  int64_t  n;                      /* batch of the last forward, 0 = none */
  gboolean have_recon;             /* the last forward ran the decoder    */
  float   *slab;
  float   *col;                    /* im2col scratch of one sample        */
  int32_t *ids;                    /* (N, L, M) copy of the last input, for
                                      the embedding's sparse backward     */

  /* forward: (N,L,·) is token-major, (N,C,L) channel-major (conv layout) */
  float *mask;                     /* (N, L)      */
  float *sal_in;                   /* (N, L, 4)   fixed SAL features */
  float *emb;                      /* (N, L, E)   */
  float *x;                        /* (N, E, L)   */
  float *ae_pre, *ae_lat;          /* (N, A, L)   enc output (masked), ReLU */
  float *ae_rec;                   /* (N, E, L)   dec output (masked) */
  float *ms_pre, *ms_cat;          /* (N, 3m, L)  k3|k5|k7 (masked), ReLU */
  float *ms_pre2, *ms_out;         /* (N, m2, L)  conv1 (masked), ReLU */
  float *sal_pre, *sal_out;        /* (N, L, s)   */
  float *feat;                     /* (N, L, F)   [A | m2 | s] */
  float *proj;                     /* (N, L, D)   */
  float *ln_mean, *ln_rstd;        /* (N, L)      */
  float *normed;                   /* (N, L, D)   */
  float *tokens;                   /* (N, L, D)   */

  /* backward: d<name> is the gradient of <name> */
  float *dnormed, *dproj, *dfeat;
  float *dsal_out, *dsal_pre;
  float *dms_out, *dms_pre2, *dms_cat, *dms_pre;
  float *dae_lat, *dae_pre;        /* from the tokens */
  float *dae_rec, *dae_lat_rec, *dae_pre_rec;   /* from the recon loss */
  float *dx;                       /* (N, E, L)   */
  float *demb;                     /* (N, L, E)   */
};

/* ---------------------------------------------------------------- config */

void
mmdnn_text_encoder_config_init (MmdnnTextEncoderConfig *c)
{
  MmdnnTextConfig tc;

  g_return_if_fail (c != NULL);
  mmdnn_text_config_init (&tc);
  c->buckets = tc.buckets;
  c->max_tokens = tc.max_tokens;
  c->ids_per_token = tc.max_ids_per_token;
  c->embed = 64;
  c->dim = 128;
  c->use_ae = TRUE;
  c->use_ms = TRUE;
  c->use_sal = TRUE;
  c->ae_latent = 32;
  c->ms_width = 32;
  c->ms_width2 = 128;
  c->sal_width = 16;
}

static gboolean
check_range (const char *field, int64_t v, int64_t lo, int64_t hi,
             GError **error)
{
  MMDNN_CHECK (v >= lo && v <= hi, error, FALSE,
               "text encoder config: %s=%" G_GINT64_FORMAT " must be in [%"
               G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]", field, v, lo, hi);
  return TRUE;
}

gboolean
mmdnn_text_encoder_config_check (const MmdnnTextEncoderConfig *c,
                                 GError **error)
{
  MMDNN_CHECK_NOT_NULL (c, error, FALSE);
  MMDNN_CHECK (c->use_ae || c->use_ms || c->use_sal, error, FALSE,
               "text encoder config: use_ae, use_ms and use_sal are all off; "
               "at least one branch must be on");
  if (!check_range ("buckets", c->buckets, 1, G_MAXINT32, error)
      || !check_range ("max_tokens", c->max_tokens, 1, MMDNN_TEXT_MAX_SIZE, error)
      || !check_range ("ids_per_token", c->ids_per_token, 1,
                       MMDNN_TEXT_MAX_SIZE, error)
      || !check_range ("embed", c->embed, 1, MAX_WIDTH, error)
      || !check_range ("dim", c->dim, 1, MAX_WIDTH, error))
    return FALSE;
  if (c->use_ae && !check_range ("ae_latent", c->ae_latent, 1, MAX_WIDTH, error))
    return FALSE;
  if (c->use_ms && (!check_range ("ms_width", c->ms_width, 1, MAX_WIDTH, error)
                    || !check_range ("ms_width2", c->ms_width2, 1, MAX_WIDTH,
                                     error)))
    return FALSE;
  if (c->use_sal && !check_range ("sal_width", c->sal_width, 1, MAX_WIDTH, error))
    return FALSE;
  return TRUE;
}

static gboolean
config_equal (const MmdnnTextEncoderConfig *a, const MmdnnTextEncoderConfig *b)
{
  return a->buckets == b->buckets && a->max_tokens == b->max_tokens
      && a->ids_per_token == b->ids_per_token && a->embed == b->embed
      && a->dim == b->dim && !a->use_ae == !b->use_ae
      && !a->use_ms == !b->use_ms && !a->use_sal == !b->use_sal
      && (!a->use_ae || a->ae_latent == b->ae_latent)
      && (!a->use_ms || (a->ms_width == b->ms_width
                         && a->ms_width2 == b->ms_width2))
      && (!a->use_sal || a->sal_width == b->sal_width);
}

/* ---------------------------------------------------------------- init */

/* Every parameter name the encoder declares, NULL-terminated; a disabled
 * branch contributes none. */
static void
param_suffixes (const MmdnnTextEncoderConfig *c, const char **out)
{
  static const char *const ae[] = { "ae.enc.weight", "ae.enc.bias",
                                    "ae.dec.weight", "ae.dec.bias", NULL };
  static const char *const ms[] = { "ms.k3.weight", "ms.k3.bias",
                                    "ms.k5.weight", "ms.k5.bias",
                                    "ms.k7.weight", "ms.k7.bias",
                                    "ms.conv1.weight", "ms.conv1.bias", NULL };
  static const char *const sal[] = { "sal.proj.weight", "sal.proj.bias", NULL };
  static const char *const tail[] = { "proj.weight", "proj.bias",
                                      "norm.weight", "norm.bias", "pos", NULL };
  int k = 0;

  out[k++] = "emb.weight";
  for (int i = 0; c->use_ae && ae[i] != NULL; i++)
    out[k++] = ae[i];
  for (int i = 0; c->use_ms && ms[i] != NULL; i++)
    out[k++] = ms[i];
  for (int i = 0; c->use_sal && sal[i] != NULL; i++)
    out[k++] = sal[i];
  for (int i = 0; tail[i] != NULL; i++)
    out[k++] = tail[i];
  out[k] = NULL;
}

#define MAX_PARAMS 24

/* "<prefix>.<suffix>" in *buf (freeing the previous name). */
static const char *
pname (char **buf, const char *prefix, const char *suffix)
{
  g_free (*buf);
  *buf = g_strdup_printf ("%s.%s", prefix, suffix);
  return *buf;
}

gboolean
mmdnn_text_encoder_init (MmdnnTextEncoder *e, MmdnnParamSet *ps,
                         const char *prefix, const MmdnnTextEncoderConfig *c,
                         GError **error)
{
  MmdnnTextEncoder t;
  const char *suffixes[MAX_PARAMS];
  int64_t l, ed, f = 0;
  gboolean ok;
  char *name = NULL;

  MMDNN_CHECK_NOT_NULL (e, error, FALSE);
  MMDNN_CHECK_NOT_NULL (ps, error, FALSE);
  MMDNN_CHECK (prefix != NULL && prefix[0] != '\0', error, FALSE,
               "text encoder: prefix must be a non-empty string");
  if (!mmdnn_text_encoder_config_check (c, error))
    return FALSE;
  MMDNN_CHECK (!ps->allocated, error, FALSE,
               "text encoder '%s': the parameter set is already allocated",
               prefix);
  param_suffixes (c, suffixes);
  for (int i = 0; suffixes[i] != NULL; i++) {
    if (mmdnn_param_set_lookup (ps, pname (&name, prefix, suffixes[i])) != NULL) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                   "text encoder '%s': parameter '%s' is already declared",
                   prefix, name);
      g_free (name);
      return FALSE;
    }
  }

  /* Past the checks above the declarations cannot fail on sizes or names. */
  memset (&t, 0, sizeof (t));
  t.config = *c;
  l = c->max_tokens;
  ed = c->embed;
  ok = mmdnn_embedding_bag_init (&t.emb, ps, pname (&name, prefix, "emb"),
                                 c->buckets, ed, error);
  if (c->use_ae) {
    ok = ok && mmdnn_conv1d_init (&t.ae_enc, ps, pname (&name, prefix, "ae.enc"),
                                  ed, l, c->ae_latent, 3, 1, 1, TRUE, error);
    ok = ok && mmdnn_conv1d_init (&t.ae_dec, ps, pname (&name, prefix, "ae.dec"),
                                  c->ae_latent, l, ed, 3, 1, 1, TRUE, error);
    f += c->ae_latent;
  }
  if (c->use_ms) {
    ok = ok && mmdnn_conv1d_init (&t.ms_k3, ps, pname (&name, prefix, "ms.k3"),
                                  ed, l, c->ms_width, 3, 1, 1, TRUE, error);
    ok = ok && mmdnn_conv1d_init (&t.ms_k5, ps, pname (&name, prefix, "ms.k5"),
                                  ed, l, c->ms_width, 5, 1, 2, TRUE, error);
    ok = ok && mmdnn_conv1d_init (&t.ms_k7, ps, pname (&name, prefix, "ms.k7"),
                                  ed, l, c->ms_width, 7, 1, 3, TRUE, error);
    ok = ok && mmdnn_conv1d_init (&t.ms_conv1, ps,
                                  pname (&name, prefix, "ms.conv1"),
                                  3 * c->ms_width, l, c->ms_width2, 3, 1, 1,
                                  TRUE, error);
    f += c->ms_width2;
  }
  if (c->use_sal) {
    ok = ok && mmdnn_linear_init (&t.sal_proj, ps,
                                  pname (&name, prefix, "sal.proj"),
                                  SAL_FEATURES, c->sal_width, TRUE, error);
    f += c->sal_width;
  }
  ok = ok && mmdnn_linear_init (&t.proj, ps, pname (&name, prefix, "proj"), f,
                                c->dim, TRUE, error);
  ok = ok && mmdnn_layernorm_init (&t.norm, ps, pname (&name, prefix, "norm"),
                                   c->dim, LN_EPS, error);
  if (ok) {
    t.pos = mmdnn_param_set_declare (ps, pname (&name, prefix, "pos"), 2,
                                     (int64_t[]) { l, c->dim }, FALSE, error);
    ok = t.pos != NULL;
  }
  g_free (name);
  if (!ok)
    return FALSE;
  t.tokens = l;
  t.features = f;
  *e = t;
  return TRUE;
}

void
mmdnn_text_encoder_reset (MmdnnTextEncoder *e, MmdnnRng *rng)
{
  const MmdnnTextEncoderConfig *c;

  g_return_if_fail (e != NULL && rng != NULL);
  c = &e->config;
  mmdnn_embedding_bag_reset (&e->emb, rng);
  if (c->use_ae) {
    mmdnn_conv1d_reset (&e->ae_enc, rng);
    mmdnn_conv1d_reset (&e->ae_dec, rng);
  }
  if (c->use_ms) {
    mmdnn_conv1d_reset (&e->ms_k3, rng);
    mmdnn_conv1d_reset (&e->ms_k5, rng);
    mmdnn_conv1d_reset (&e->ms_k7, rng);
    mmdnn_conv1d_reset (&e->ms_conv1, rng);
  }
  if (c->use_sal)
    mmdnn_linear_reset (&e->sal_proj, rng);
  mmdnn_linear_reset (&e->proj, rng);
  mmdnn_layernorm_reset (&e->norm);
  mmdnn_rng_fill_normal (rng, e->pos->value, e->pos->numel, 0.0f, POS_STD);
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

static int64_t
max_col_size (const MmdnnTextEncoder *e)
{
  const MmdnnConv1d *convs[] = { &e->ae_enc, &e->ae_dec, &e->ms_k3, &e->ms_k5,
                                 &e->ms_k7, &e->ms_conv1 };
  int64_t m = 0;

  for (guint i = 0; i < G_N_ELEMENTS (convs); i++)
    m = MAX (m, convs[i]->shape.col_size);   /* 0 for a disabled branch */
  return m;
}

/* Points every buffer of @a into @base (or just counts with base NULL) for a
 * batch of @n; returns the floats used. Disabled branches get NULL. */
static int64_t
acts_layout (MmdnnTextEncoderActs *a, const MmdnnTextEncoder *e, int64_t n,
             float *base)
{
  const MmdnnTextEncoderConfig *c = &e->config;
  int64_t nl = n * c->max_tokens, off = 0;
  int64_t ae = c->use_ae ? c->ae_latent : 0;
  int64_t ms = c->use_ms ? c->ms_width : 0, ms2 = c->use_ms ? c->ms_width2 : 0;
  int64_t sal = c->use_sal ? c->sal_width : 0;
  int64_t e_ae = c->use_ae ? c->embed : 0;

  a->col = take (base, &off, max_col_size (e));
  a->mask = take (base, &off, nl);
  a->sal_in = take (base, &off, c->use_sal ? nl * SAL_FEATURES : 0);
  a->emb = take (base, &off, nl * c->embed);
  a->x = take (base, &off, nl * c->embed);
  a->ae_pre = take (base, &off, nl * ae);
  a->ae_lat = take (base, &off, nl * ae);
  a->ae_rec = take (base, &off, nl * e_ae);
  a->ms_pre = take (base, &off, nl * 3 * ms);
  a->ms_cat = take (base, &off, nl * 3 * ms);
  a->ms_pre2 = take (base, &off, nl * ms2);
  a->ms_out = take (base, &off, nl * ms2);
  a->sal_pre = take (base, &off, nl * sal);
  a->sal_out = take (base, &off, nl * sal);
  a->feat = take (base, &off, nl * e->features);
  a->proj = take (base, &off, nl * c->dim);
  a->ln_mean = take (base, &off, nl);
  a->ln_rstd = take (base, &off, nl);
  a->normed = take (base, &off, nl * c->dim);
  a->tokens = take (base, &off, nl * c->dim);

  a->dnormed = take (base, &off, nl * c->dim);
  a->dproj = take (base, &off, nl * c->dim);
  a->dfeat = take (base, &off, nl * e->features);
  a->dsal_out = take (base, &off, nl * sal);
  a->dsal_pre = take (base, &off, nl * sal);
  a->dms_out = take (base, &off, nl * ms2);
  a->dms_pre2 = take (base, &off, nl * ms2);
  a->dms_cat = take (base, &off, nl * 3 * ms);
  a->dms_pre = take (base, &off, nl * 3 * ms);
  a->dae_lat = take (base, &off, nl * ae);
  a->dae_pre = take (base, &off, nl * ae);
  a->dae_rec = take (base, &off, nl * e_ae);
  a->dae_lat_rec = take (base, &off, nl * ae);
  a->dae_pre_rec = take (base, &off, nl * ae);
  a->dx = take (base, &off, nl * c->embed);
  a->demb = take (base, &off, nl * c->embed);
  return off;
}

MmdnnTextEncoderActs *
mmdnn_text_encoder_acts_new (const MmdnnTextEncoder *e, int64_t max_n,
                             GError **error)
{
  MmdnnTextEncoderActs *a;
  int64_t per_sample, total;

  MMDNN_CHECK_NOT_NULL (e, error, NULL);
  MMDNN_CHECK (max_n >= 1, error, NULL,
               "text encoder: max_n=%" G_GINT64_FORMAT " must be ≥ 1", max_n);
  a = g_new0 (MmdnnTextEncoderActs, 1);
  /* every buffer is linear in n, plus ≤ 15 floats of rounding each */
  per_sample = acts_layout (a, e, 1, NULL)
      + e->config.max_tokens * e->config.ids_per_token;
  if (max_n > MMDNN_MAX_NUMEL / per_sample) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                 "text encoder: max_n=%" G_GINT64_FORMAT " needs more than %"
                 G_GINT64_FORMAT " floats of activations", max_n,
                 (int64_t) MMDNN_MAX_NUMEL);
    g_free (a);
    return NULL;
  }
  total = acts_layout (a, e, max_n, NULL);
  a->slab = mmdnn_floats_new (total, error);
  if (a->slab == NULL) {
    g_free (a);
    return NULL;
  }
  acts_layout (a, e, max_n, a->slab);
  a->ids = g_try_new (int32_t, max_n * e->config.max_tokens
                                * e->config.ids_per_token);
  if (a->ids == NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                 "text encoder: out of memory for the ids of %"
                 G_GINT64_FORMAT " samples", max_n);
    mmdnn_text_encoder_acts_free (a);
    return NULL;
  }
  a->config = e->config;
  a->max_n = max_n;
  return a;
}

void
mmdnn_text_encoder_acts_free (MmdnnTextEncoderActs *a)
{
  if (a == NULL)
    return;
  mmdnn_floats_free (a->slab);
  g_free (a->ids);
  g_free (a);
}

/* ---------------------------------------------------------------- helpers */

/* Layout change between the token-major and the conv (channel-major) view:
 *   x: (N, C, L) → y: (N, L, ldy), columns [0, C) of each row (ldy ≥ C).
 * With l = 1 it is a plain strided copy of N rows of C floats.
 * Overwrites, or adds with @accumulate. Its adjoint is tokens_to_channels. */
static void
channels_to_tokens (float *y, int64_t ldy, const float *x, int64_t n,
                    int64_t c, int64_t l, gboolean accumulate)
{
  for (int64_t i = 0; i < n; i++)
    for (int64_t t = 0; t < l; t++) {
      float *yr = y + (i * l + t) * ldy;
      const float *xs = x + i * c * l + t;
      for (int64_t k = 0; k < c; k++)
        yr[k] = (accumulate ? yr[k] : 0.0f) + xs[k * l];
    }
}

/* The adjoint: x: (N, L, ldx), columns [0, C) → y: (N, C, L). */
static void
tokens_to_channels (float *y, const float *x, int64_t ldx, int64_t n,
                    int64_t c, int64_t l, gboolean accumulate)
{
  for (int64_t i = 0; i < n; i++)
    for (int64_t t = 0; t < l; t++) {
      const float *xr = x + (i * l + t) * ldx;
      float *ys = y + i * c * l + t;
      for (int64_t k = 0; k < c; k++)
        ys[k * l] = (accumulate ? ys[k * l] : 0.0f) + xr[k];
    }
}

/* x ⊙= mask per position, x: (N, C, L), mask: (N, L). Self-adjoint. */
static void
mask_channels (float *x, const float *mask, int64_t n, int64_t c, int64_t l)
{
  for (int64_t i = 0; i < n; i++)
    for (int64_t k = 0; k < c; k++) {
      float *xr = x + (i * c + k) * l;
      for (int64_t t = 0; t < l; t++)
        xr[t] *= mask[i * l + t];
    }
}

/* x ⊙= mask per row, x: (R, C), mask: (R). Self-adjoint. */
static void
mask_rows (float *x, const float *mask, int64_t rows, int64_t c)
{
  for (int64_t r = 0; r < rows; r++)
    if (mask[r] == 0.0f)
      memset (x + r * c, 0, sizeof (float) * c);
}

/* A conv writing channels [off, off + C_out) of y: (N, c_total, L). */
static void
conv_forward_slice (float *y, int64_t c_total, int64_t off, float *col,
                    const float *x, const MmdnnConv1d *conv, int64_t n)
{
  const MmdnnConv1dShape *s = &conv->shape;

  for (int64_t i = 0; i < n; i++)
    mmdnn_conv1d_forward (y + (i * c_total + off) * s->l_out, col,
                          x + i * s->c_in * s->l_in, conv->weight->value,
                          conv->bias->value, s, 1);
}

static void
conv_backward_slice (float *dx, float *col, const float *dy, int64_t c_total,
                     int64_t off, const float *x, const MmdnnConv1d *conv,
                     int64_t n)
{
  const MmdnnConv1dShape *s = &conv->shape;

  for (int64_t i = 0; i < n; i++)
    mmdnn_conv1d_backward (dx + i * s->c_in * s->l_in, conv->weight->grad,
                           conv->bias->grad, col,
                           dy + (i * c_total + off) * s->l_out,
                           x + i * s->c_in * s->l_in, conv->weight->value, s,
                           1);
}

static void
conv_forward (float *y, float *col, const float *x, const MmdnnConv1d *conv,
              int64_t n)
{
  mmdnn_conv1d_forward (y, col, x, conv->weight->value, conv->bias->value,
                        &conv->shape, n);
}

static void
conv_backward (float *dx, gboolean param_grads, float *col, const float *dy,
               const float *x, const MmdnnConv1d *conv, int64_t n)
{
  mmdnn_conv1d_backward (dx, param_grads ? conv->weight->grad : NULL,
                         param_grads ? conv->bias->grad : NULL, col, dy, x,
                         conv->weight->value, &conv->shape, n);
}

static void
zero (float *x, int64_t count)
{
  memset (x, 0, sizeof (float) * count);
}

void
mmdnn_text_encoder_mask (float *mask, const int32_t *ids, int64_t n,
                         int64_t l, int64_t m)
{
  for (int64_t r = 0; r < n * l; r++)
    mask[r] = ids[r * m] >= 0 ? 1.0f : 0.0f;
}

/* The four fixed SAL features of each word (see the header). */
static void
saliency_features (float *f, const float *mask, const int32_t *ids,
                   int64_t n, int64_t l, int64_t m)
{
  for (int64_t i = 0; i < n; i++) {
    const float *mi = mask + i * l;
    int64_t n_real = 0, last = -1;

    for (int64_t t = 0; t < l; t++)
      if (mi[t] != 0.0f) {
        n_real++;
        last = t;
      }
    for (int64_t t = 0; t < l; t++) {
      float *ft = f + (i * l + t) * SAL_FEATURES;
      const int32_t *row = ids + (i * l + t) * m;
      int64_t used = 0;

      if (mi[t] == 0.0f) {
        memset (ft, 0, sizeof (float) * SAL_FEATURES);
        continue;
      }
      for (int64_t k = 0; k < m; k++)
        if (row[k] >= 0)
          used++;
      ft[0] = l > 1 ? (float) t / (float) (l - 1) : 0.0f;
      ft[1] = t == last ? 1.0f : 0.0f;
      ft[2] = (float) used / (float) m;
      ft[3] = 1.0f - (float) t / (float) n_real;
    }
  }
}

/* ---------------------------------------------------------------- forward */

gboolean
mmdnn_text_encoder_forward (const MmdnnTextEncoder *e, MmdnnTextEncoderActs *a,
                            const int32_t *ids, int64_t n,
                            const float **tokens, const float **mask,
                            float *recon_loss, GError **error)
{
  const MmdnnTextEncoderConfig *c;
  int64_t l, m, ed, d, nl, f, col_off = 0;
  double n_real = 0.0;

  MMDNN_CHECK_NOT_NULL (e, error, FALSE);
  MMDNN_CHECK_NOT_NULL (a, error, FALSE);
  MMDNN_CHECK_NOT_NULL (ids, error, FALSE);
  MMDNN_CHECK_NOT_NULL (tokens, error, FALSE);
  MMDNN_CHECK_NOT_NULL (mask, error, FALSE);
  MMDNN_CHECK (config_equal (&a->config, &e->config), error, FALSE,
               "text encoder: the activations were made for another "
               "encoder configuration");
  MMDNN_CHECK (n >= 1 && n <= a->max_n, error, FALSE,
               "text encoder: n=%" G_GINT64_FORMAT " must be in [1, %"
               G_GINT64_FORMAT "] (the arena's max_n)", n, a->max_n);
  c = &e->config;
  l = c->max_tokens;
  m = c->ids_per_token;
  ed = c->embed;
  d = c->dim;
  nl = n * l;
  f = e->features;
  if (!mmdnn_embedding_bag_check_ids (ids, nl * m, c->buckets, error))
    return FALSE;
  a->n = 0;
  memcpy (a->ids, ids, sizeof (int32_t) * nl * m);

  /* words: mean of their id embeddings, 0 at padded positions */
  mmdnn_text_encoder_mask (a->mask, ids, n, l, m);
  mmdnn_embedding_bag_forward (a->emb, ids, e->emb.weight->value, nl, m, ed);
  mask_rows (a->emb, a->mask, nl, ed);
  tokens_to_channels (a->x, a->emb, ed, n, ed, l, FALSE);

  if (c->use_ae) {
    conv_forward (a->ae_pre, a->col, a->x, &e->ae_enc, n);
    mask_channels (a->ae_pre, a->mask, n, c->ae_latent, l);
    mmdnn_relu_forward (a->ae_lat, a->ae_pre, nl * c->ae_latent);
    if (recon_loss != NULL) {
      conv_forward (a->ae_rec, a->col, a->ae_lat, &e->ae_dec, n);
      mask_channels (a->ae_rec, a->mask, n, ed, l);
      for (int64_t r = 0; r < nl; r++)
        n_real += a->mask[r];
      /* padded elements are 0 in both, so the plain mean only needs the
       * count rescaled from all to real elements */
      *recon_loss = n_real > 0.0
          ? (float) (mmdnn_mse_forward (a->ae_rec, a->x, nl * ed)
                     * ((double) nl / n_real))
          : 0.0f;
    }
    channels_to_tokens (a->feat + col_off, f, a->ae_lat, n, c->ae_latent, l,
                        FALSE);
    col_off += c->ae_latent;
  } else if (recon_loss != NULL) {
    *recon_loss = 0.0f;
  }

  if (c->use_ms) {
    int64_t mw = c->ms_width, cat = 3 * mw;
    conv_forward_slice (a->ms_pre, cat, 0, a->col, a->x, &e->ms_k3, n);
    conv_forward_slice (a->ms_pre, cat, mw, a->col, a->x, &e->ms_k5, n);
    conv_forward_slice (a->ms_pre, cat, 2 * mw, a->col, a->x, &e->ms_k7, n);
    mask_channels (a->ms_pre, a->mask, n, cat, l);
    mmdnn_relu_forward (a->ms_cat, a->ms_pre, nl * cat);
    conv_forward (a->ms_pre2, a->col, a->ms_cat, &e->ms_conv1, n);
    mask_channels (a->ms_pre2, a->mask, n, c->ms_width2, l);
    mmdnn_relu_forward (a->ms_out, a->ms_pre2, nl * c->ms_width2);
    channels_to_tokens (a->feat + col_off, f, a->ms_out, n, c->ms_width2, l,
                        FALSE);
    col_off += c->ms_width2;
  }

  if (c->use_sal) {
    saliency_features (a->sal_in, a->mask, ids, n, l, m);
    mmdnn_linear_forward (a->sal_pre, a->sal_in, e->sal_proj.weight->value,
                          e->sal_proj.bias->value, nl, SAL_FEATURES,
                          c->sal_width);
    mmdnn_relu_forward (a->sal_out, a->sal_pre, nl * c->sal_width);
    channels_to_tokens (a->feat + col_off, f, a->sal_out, nl, c->sal_width, 1,
                        FALSE);
  }

  /* tokens = (layernorm (feat · Wᵀ + b) + pos) ⊙ mask */
  mmdnn_linear_forward (a->proj, a->feat, e->proj.weight->value,
                        e->proj.bias->value, nl, f, d);
  mmdnn_layernorm_forward (a->normed, a->ln_mean, a->ln_rstd, a->proj,
                           e->norm.weight->value, e->norm.bias->value,
                           e->norm.eps, nl, d);
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < l * d; j++)
      a->tokens[i * l * d + j] = a->normed[i * l * d + j] + e->pos->value[j];
  mask_rows (a->tokens, a->mask, nl, d);

  a->n = n;
  a->have_recon = c->use_ae && recon_loss != NULL;
  *tokens = a->tokens;
  *mask = a->mask;
  return TRUE;
}

/* ---------------------------------------------------------------- backward */

void
mmdnn_text_encoder_backward (const MmdnnTextEncoder *e,
                             MmdnnTextEncoderActs *a, const float *dtokens,
                             float drecon, int64_t n)
{
  const MmdnnTextEncoderConfig *c;
  int64_t l, m, ed, d, nl, f, col_off;
  gboolean recon;

  if (e == NULL || a == NULL || n < 1 || n != a->n
      || (drecon != 0.0f && !a->have_recon && e->config.use_ae)) {
    mmdnn_log (MMDNN_LOG_ERROR, "text encoder backward: n=%" G_GINT64_FORMAT
               " does not follow a forward of this batch (with recon_loss "
               "if drecon is not 0); ignored", n);
    return;
  }
  c = &e->config;
  l = c->max_tokens;
  m = c->ids_per_token;
  ed = c->embed;
  d = c->dim;
  nl = n * l;
  f = e->features;
  recon = a->have_recon && drecon != 0.0f;
  col_off = f;

  if (dtokens != NULL) {
    /* tokens = (normed + pos) ⊙ mask */
    memcpy (a->dnormed, dtokens, sizeof (float) * nl * d);
    mask_rows (a->dnormed, a->mask, nl, d);
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j < l * d; j++)
        e->pos->grad[j] += a->dnormed[i * l * d + j];
    zero (a->dproj, nl * d);
    mmdnn_layernorm_backward (a->dproj, e->norm.weight->grad,
                              e->norm.bias->grad, a->dnormed, a->proj,
                              e->norm.weight->value, a->ln_mean, a->ln_rstd,
                              nl, d);
    zero (a->dfeat, nl * f);
    mmdnn_linear_backward (a->dfeat, e->proj.weight->grad, e->proj.bias->grad,
                           a->dproj, a->feat, e->proj.weight->value, nl, f, d);
    zero (a->dx, nl * ed);
  }

  if (c->use_sal && dtokens != NULL) {
    col_off -= c->sal_width;
    tokens_to_channels (a->dsal_out, a->dfeat + col_off, f, nl, c->sal_width,
                        1, FALSE);
    zero (a->dsal_pre, nl * c->sal_width);
    mmdnn_relu_backward (a->dsal_pre, a->dsal_out, a->sal_pre,
                         nl * c->sal_width);
    /* the features are data: no dx */
    mmdnn_linear_backward (NULL, e->sal_proj.weight->grad,
                           e->sal_proj.bias->grad, a->dsal_pre, a->sal_in,
                           e->sal_proj.weight->value, nl, SAL_FEATURES,
                           c->sal_width);
  }

  if (c->use_ms && dtokens != NULL) {
    int64_t mw = c->ms_width, cat = 3 * mw, m2 = c->ms_width2;
    col_off -= m2;
    tokens_to_channels (a->dms_out, a->dfeat + col_off, f, n, m2, l, FALSE);
    zero (a->dms_pre2, nl * m2);
    mmdnn_relu_backward (a->dms_pre2, a->dms_out, a->ms_pre2, nl * m2);
    mask_channels (a->dms_pre2, a->mask, n, m2, l);
    zero (a->dms_cat, nl * cat);
    conv_backward (a->dms_cat, TRUE, a->col, a->dms_pre2, a->ms_cat,
                   &e->ms_conv1, n);
    zero (a->dms_pre, nl * cat);
    mmdnn_relu_backward (a->dms_pre, a->dms_cat, a->ms_pre, nl * cat);
    mask_channels (a->dms_pre, a->mask, n, cat, l);
    conv_backward_slice (a->dx, a->col, a->dms_pre, cat, 2 * mw, a->x,
                         &e->ms_k7, n);
    conv_backward_slice (a->dx, a->col, a->dms_pre, cat, mw, a->x,
                         &e->ms_k5, n);
    conv_backward_slice (a->dx, a->col, a->dms_pre, cat, 0, a->x,
                         &e->ms_k3, n);
  }

  if (c->use_ae) {
    int64_t al = c->ae_latent;
    if (dtokens != NULL) {
      col_off -= al;
      tokens_to_channels (a->dae_lat, a->dfeat + col_off, f, n, al, l, FALSE);
    }
    if (recon) {
      /* recon_loss = mse (rec, x) · nl / n_real; x is data here, so the
       * gradient stops at the encoder's weights (see the header) */
      double n_real = 0.0;
      for (int64_t r = 0; r < nl; r++)
        n_real += a->mask[r];
      if (n_real > 0.0) {
        zero (a->dae_rec, nl * ed);
        mmdnn_mse_backward (a->dae_rec, (float) (drecon * (double) nl / n_real),
                            a->ae_rec, a->x, nl * ed);
        mask_channels (a->dae_rec, a->mask, n, ed, l);
        zero (a->dae_lat_rec, nl * al);
        conv_backward (a->dae_lat_rec, TRUE, a->col, a->dae_rec, a->ae_lat,
                       &e->ae_dec, n);
        zero (a->dae_pre_rec, nl * al);
        mmdnn_relu_backward (a->dae_pre_rec, a->dae_lat_rec, a->ae_pre,
                             nl * al);
        mask_channels (a->dae_pre_rec, a->mask, n, al, l);
        conv_backward (NULL, TRUE, a->col, a->dae_pre_rec, a->x, &e->ae_enc,
                       n);
      }
    }
    if (dtokens != NULL) {
      zero (a->dae_pre, nl * al);
      mmdnn_relu_backward (a->dae_pre, a->dae_lat, a->ae_pre, nl * al);
      mask_channels (a->dae_pre, a->mask, n, al, l);
      conv_backward (a->dx, TRUE, a->col, a->dae_pre, a->x, &e->ae_enc, n);
    }
  }

  if (dtokens != NULL) {
    /* x = emb in conv layout; emb = bag mean ⊙ mask; sparse table update */
    channels_to_tokens (a->demb, ed, a->dx, n, ed, l, FALSE);
    mask_rows (a->demb, a->mask, nl, ed);
    mmdnn_embedding_bag_backward (e->emb.weight->grad, a->demb, a->ids, nl,
                                  m, ed);
  }
}
