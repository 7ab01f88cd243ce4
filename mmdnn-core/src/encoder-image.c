/* mmdnn — the image encoder, for video frames and audio log-mel patches.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stddef.h>
#include <string.h>

#include <mmdnn/activation.h>
#include <mmdnn/encoder-image.h>
#include <mmdnn/loss.h>
#include "internal.h"

#define MAX_SIZE  65536         /* any one config size: keeps products in range */
#define NORM_EPS  1e-5f
#define POS_STD   0.02f

/* ------------------------------------------------------------- the arena */

/* One named buffer per activation, per sample × max_n, like llm.c's
 * ActivationTensors. The same struct holds the values (Acts.v) and their
 * gradients (Acts.g, scratch of backward). NULL where a branch is off, and
 * in .g where no gradient flows (data, saved statistics).
 *
 * ReLUs run in place in .v: the pair conv-output / ReLU-output shares
 * memory there (mmdnn_relu_forward allows y == x), because nothing after
 * the forward needs the pre-activation values: the ReLU's backward only
 * needs the sign, which its output keeps. Their gradients are separate. */
typedef struct {
  float *input;                 /* (N, C, H, W), a copy: backward needs it */
  /* AE */
  float *ae_enc1, *ae_relu1;    /* (N, a, H1, W1) */
  float *ae_enc2, *ae_relu2;    /* (N, 2a, H2, W2) */
  float *ae_latent;             /* (N, L, Hl, Wl) */
  float *ae_grid;               /* (N, L, gh, gw) */
  float *ae_dec1, *ae_relu3;    /* (N, 2a, 2Hl, 2Wl) */
  float *ae_recon;              /* (N, C, Hr, Wr) */
  float *ae_target;             /* (N, C, Hr, Wr), no gradient */
  /* MS */
  float *ms_cat, *ms_relu0;     /* (N, 3m, H, W): k3 | k5 | k7 */
  float *ms_pool1;              /* (N, 3m, H/2, W/2) */
  float *ms_conv1, *ms_relu1;   /* (N, m2, H/2, W/2) */
  float *ms_pool2;              /* (N, m2, H/4, W/4) */
  float *ms_conv2, *ms_relu2;   /* (N, m3, H/4, W/4) */
  float *ms_grid;               /* (N, m3, gh, gw) */
  /* SAL */
  float *sal_desc;              /* (N, K, 36), no gradient */
  float *sal_proj, *sal_relu;   /* (N, K, s) */
  /* head */
  float *feat;                  /* (N, K, F): [L | m3 | s] per token */
  float *proj;                  /* (N, K, D) */
  float *norm;                  /* (N, K, D), no gradient (dtokens is it) */
  float *norm_mean, *norm_rstd; /* (N, K), no gradient */
  float *tokens;                /* (N, K, D), no gradient (the caller's) */
} Acts;

enum {
  BUF_GRAD = 1 << 0,            /* has a gradient buffer in .g */
  BUF_IN_PLACE = 1 << 1,        /* .v shares the previous entry's memory */
  /* its gradient has one producer in backward, which overwrites all of it
   * (the _set kernels): not zeroed first, which for the full-resolution
   * multi-scale map was a memset of 25–39 MB per batch */
  BUF_GRAD_SET = 1 << 2,
};

typedef struct {
  size_t  field;                /* offsetof (Acts, …) */
  int64_t per_sample;           /* floats; 0 = branch off */
  guint   flags;
} BufSpec;

#define MAX_BUFS (sizeof (Acts) / sizeof (float *))

struct _MmdnnImageEncoderActs {
  MmdnnImageEncoderConfig config;       /* the encoder it was made for */
  int64_t  max_n;
  int64_t  last_n;              /* of the last forward, 0 before any */
  gboolean have_recon;          /* the last forward was asked for recon_loss */
  Acts     v;                   /* values */
  Acts     g;                   /* gradients, scratch of backward */
  int32_t *ms_arg1, *ms_arg2;   /* max-pool argmax, (N, 3m, H/2, W/2), (N, m2, H/4, W/4) */
  float   *col;                 /* im2col scratch of the largest conv, one sample */
  float   *sal_ws;              /* saliency scratch, reused per sample */
  BufSpec  bufs[MAX_BUFS];
  int      n_bufs;
  float   *value_slab, *grad_slab;
  int32_t *arg_slab;
};

#define BUF(name, size, flags) \
  (BufSpec) { offsetof (Acts, name), (size), (flags) }

static float **
buf_ptr (Acts *acts, const BufSpec *b)
{
  return (float **) ((char *) acts + b->field);
}

/* Fills @bufs in Acts order and returns their count. */
static int
acts_layout (const MmdnnImageEncoder *e, BufSpec *bufs)
{
  const MmdnnImageEncoderConfig *c = &e->config;
  int64_t k = e->tokens, d = c->dim;
  int64_t enc1 = 0, enc2 = 0, latent = 0, ae_grid = 0, dec1 = 0, recon = 0;
  int64_t cat = 0, pool1 = 0, conv1 = 0, pool2 = 0, conv2 = 0, ms_grid = 0;
  int64_t desc = 0, sal = 0;
  int i = 0;

  if (c->use_ae) {
    const MmdnnConv2dShape *s1 = &e->ae_enc1.shape, *s2 = &e->ae_enc2.shape;
    const MmdnnConv2dShape *s3 = &e->ae_enc3.shape;
    const MmdnnConvT2dShape *t1 = &e->ae_dec1.shape, *t2 = &e->ae_dec2.shape;

    enc1 = s1->c_out * s1->h_out * s1->w_out;
    enc2 = s2->c_out * s2->h_out * s2->w_out;
    latent = s3->c_out * s3->h_out * s3->w_out;
    ae_grid = s3->c_out * k;
    dec1 = t1->c_out * t1->h_out * t1->w_out;
    recon = t2->c_out * t2->h_out * t2->w_out;
  }
  if (c->use_ms) {
    cat = 3 * c->ms_width * c->height * c->width;
    pool1 = e->ms_pool1.c * e->ms_pool1.h_out * e->ms_pool1.w_out;
    conv1 = c->ms_width2 * e->ms_pool1.h_out * e->ms_pool1.w_out;
    pool2 = e->ms_pool2.c * e->ms_pool2.h_out * e->ms_pool2.w_out;
    conv2 = c->ms_width3 * e->ms_pool2.h_out * e->ms_pool2.w_out;
    ms_grid = c->ms_width3 * k;
  }
  if (c->use_sal) {
    desc = k * MMDNN_SALIENCY_FEATURES;
    sal = k * c->sal_width;
  }

  bufs[i++] = BUF (input, c->channels * c->height * c->width, 0);
  bufs[i++] = BUF (ae_enc1, enc1, BUF_GRAD | BUF_GRAD_SET);
  bufs[i++] = BUF (ae_relu1, enc1, BUF_GRAD | BUF_IN_PLACE);
  bufs[i++] = BUF (ae_enc2, enc2, BUF_GRAD | BUF_GRAD_SET);
  bufs[i++] = BUF (ae_relu2, enc2, BUF_GRAD | BUF_IN_PLACE);
  bufs[i++] = BUF (ae_latent, latent, BUF_GRAD);
  bufs[i++] = BUF (ae_grid, ae_grid, BUF_GRAD);
  bufs[i++] = BUF (ae_dec1, dec1, BUF_GRAD | BUF_GRAD_SET);
  bufs[i++] = BUF (ae_relu3, dec1, BUF_GRAD | BUF_IN_PLACE);
  bufs[i++] = BUF (ae_recon, recon, BUF_GRAD);
  bufs[i++] = BUF (ae_target, recon, 0);
  bufs[i++] = BUF (ms_cat, cat, BUF_GRAD | BUF_GRAD_SET);
  /* the ReLUs before the pools: backward goes straight from the pool's
   * gradient to the conv's (mmdnn_maxpool2d_relu_backward), no buffer */
  bufs[i++] = BUF (ms_relu0, cat, BUF_IN_PLACE);
  bufs[i++] = BUF (ms_pool1, pool1, BUF_GRAD);
  bufs[i++] = BUF (ms_conv1, conv1, BUF_GRAD | BUF_GRAD_SET);
  bufs[i++] = BUF (ms_relu1, conv1, BUF_IN_PLACE);
  bufs[i++] = BUF (ms_pool2, pool2, BUF_GRAD);
  bufs[i++] = BUF (ms_conv2, conv2, BUF_GRAD | BUF_GRAD_SET);
  bufs[i++] = BUF (ms_relu2, conv2, BUF_GRAD | BUF_IN_PLACE);
  bufs[i++] = BUF (ms_grid, ms_grid, BUF_GRAD);
  bufs[i++] = BUF (sal_desc, desc, 0);
  bufs[i++] = BUF (sal_proj, sal, BUF_GRAD | BUF_GRAD_SET);
  bufs[i++] = BUF (sal_relu, sal, BUF_GRAD | BUF_IN_PLACE);
  bufs[i++] = BUF (feat, k * e->features, BUF_GRAD);
  bufs[i++] = BUF (proj, k * d, BUF_GRAD);
  bufs[i++] = BUF (norm, k * d, 0);
  bufs[i++] = BUF (norm_mean, k, 0);
  bufs[i++] = BUF (norm_rstd, k, 0);
  bufs[i++] = BUF (tokens, k * d, 0);
  g_assert (i == (int) MAX_BUFS);
  return i;
}

/* Buffers start on 16-float (64-byte) boundaries. */
static int64_t
round16 (int64_t n)
{
  return (n + 15) & ~(int64_t) 15;
}

static int64_t
conv_numel (const MmdnnConv2d *m, int64_t n)
{
  return n * m->shape.c_out * m->shape.h_out * m->shape.w_out;
}

static int64_t
convt_numel (const MmdnnConvTranspose2d *m, int64_t n)
{
  return n * m->shape.c_out * m->shape.h_out * m->shape.w_out;
}

static int64_t
pool_numel (const MmdnnPool2dShape *s, int64_t n)
{
  return n * s->c * s->h_out * s->w_out;
}

static int64_t
max_col (const MmdnnImageEncoder *e)
{
  const MmdnnImageEncoderConfig *c = &e->config;
  int64_t m = 1;

  if (c->use_ae) {
    m = MAX (m, e->ae_enc1.shape.col_size);
    m = MAX (m, e->ae_enc2.shape.col_size);
    m = MAX (m, e->ae_enc3.shape.col_size);
    m = MAX (m, e->ae_dec1.shape.col_size);
    m = MAX (m, e->ae_dec2.shape.col_size);
  }
  if (c->use_ms) {
    m = MAX (m, e->ms_k3.shape.col_size);
    m = MAX (m, e->ms_k5.shape.col_size);
    m = MAX (m, e->ms_k7.shape.col_size);
    m = MAX (m, e->ms_conv1.shape.col_size);
    m = MAX (m, e->ms_conv2.shape.col_size);
  }
  return m;
}

MmdnnImageEncoderActs *
mmdnn_image_encoder_acts_new (const MmdnnImageEncoder *e, int64_t max_n,
                              GError **error)
{
  MmdnnImageEncoderActs *a;
  int64_t col, ws, values, grads = 0, args = 0;
  float *v, *g;

  MMDNN_CHECK_NOT_NULL (e, error, NULL);
  MMDNN_CHECK (e->tokens >= 1 && e->proj.weight != NULL, error, NULL,
               "%s: the encoder is not initialised", G_STRFUNC);
  MMDNN_CHECK (max_n >= 1, error, NULL,
               "%s: max_n = %" G_GINT64_FORMAT " must be ≥ 1", G_STRFUNC,
               max_n);

  a = g_new0 (MmdnnImageEncoderActs, 1);
  a->config = e->config;
  a->max_n = max_n;
  a->n_bufs = acts_layout (e, a->bufs);

  /* sizes first, with overflow checks; the scratch of one sample (im2col,
   * saliency) leads the value slab */
  col = round16 (max_col (e));
  ws = round16 (e->config.use_sal ? e->sal.ws_size : 0);
  values = col + ws;
  for (int i = 0; i < a->n_bufs; i++) {
    const BufSpec *b = &a->bufs[i];

    if (b->per_sample > 0 && max_n > MMDNN_MAX_NUMEL / b->per_sample)
      goto too_big;
    if (!(b->flags & BUF_IN_PLACE))
      values += round16 (b->per_sample * max_n);
    if (b->flags & BUF_GRAD)
      grads += round16 (b->per_sample * max_n);
    if (values > MMDNN_MAX_NUMEL || grads > MMDNN_MAX_NUMEL)
      goto too_big;
  }
  if (e->config.use_ms) {
    int64_t per = pool_numel (&e->ms_pool1, 1) + pool_numel (&e->ms_pool2, 1);

    if (max_n > MMDNN_MAX_NUMEL / per)
      goto too_big;
    args = per * max_n;
  }

  a->value_slab = mmdnn_floats_new (values, error);
  if (a->value_slab == NULL)
    goto fail;
  a->grad_slab = mmdnn_floats_new (grads, error);
  if (a->grad_slab == NULL)
    goto fail;
  if (args > 0) {
    a->arg_slab = g_try_new0 (int32_t, args);
    if (a->arg_slab == NULL) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                   "%s: cannot allocate %" G_GINT64_FORMAT " max-pool indices",
                   G_STRFUNC, args);
      goto fail;
    }
    a->ms_arg1 = a->arg_slab;
    a->ms_arg2 = a->arg_slab + pool_numel (&e->ms_pool1, max_n);
  }

  /* point the buffers into the slabs */
  a->col = a->value_slab;
  a->sal_ws = ws > 0 ? a->value_slab + col : NULL;
  v = a->value_slab + col + ws;
  g = a->grad_slab;
  for (int i = 0; i < a->n_bufs; i++) {
    const BufSpec *b = &a->bufs[i];
    int64_t size = round16 (b->per_sample * max_n);

    if (b->per_sample == 0)
      continue;
    if (b->flags & BUF_IN_PLACE) {
      *buf_ptr (&a->v, b) = *buf_ptr (&a->v, &a->bufs[i - 1]);
    } else {
      *buf_ptr (&a->v, b) = v;
      v += size;
    }
    if (b->flags & BUF_GRAD) {
      *buf_ptr (&a->g, b) = g;
      g += size;
    }
  }
  return a;

too_big:
  g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
               "%s: activations for max_n = %" G_GINT64_FORMAT
               " samples would be too large", G_STRFUNC, max_n);
fail:
  mmdnn_image_encoder_acts_free (a);
  return NULL;
}

void
mmdnn_image_encoder_acts_free (MmdnnImageEncoderActs *a)
{
  if (a == NULL)
    return;
  mmdnn_floats_free (a->value_slab);
  mmdnn_floats_free (a->grad_slab);
  g_free (a->arg_slab);
  g_free (a);
}

/* Activation gradients are scratch: each backward starts them at zero,
 * but for those its one producer overwrites (BUF_GRAD_SET). */
static void
acts_zero_grads (MmdnnImageEncoderActs *a, int64_t n)
{
  for (int i = 0; i < a->n_bufs; i++) {
    const BufSpec *b = &a->bufs[i];
    float *p = *buf_ptr (&a->g, b);

    if (p != NULL && !(b->flags & BUF_GRAD_SET))
      memset (p, 0, sizeof (float) * b->per_sample * n);
  }
}

const float *
mmdnn_image_encoder_latent (const MmdnnImageEncoderActs *a)
{
  return a != NULL ? a->v.ae_latent : NULL;
}

/* ------------------------------------------------- layout helpers */

/* Per-token features are (N, K, F) row-major; a branch owns the columns
 * [off, off + C). A conv map pooled to the grid is (N, C, K): transposed
 * into its columns. */
static void
map_to_tokens (float *feat, const float *map, int64_t n, int64_t c,
               int64_t k, int64_t f, int64_t off)
{
  for (int64_t i = 0; i < n; i++)
    for (int64_t ch = 0; ch < c; ch++)
      for (int64_t t = 0; t < k; t++)
        feat[(i * k + t) * f + off + ch] = map[(i * c + ch) * k + t];
}

/* The adjoint: dmap (N, C, K) += the columns [off, off + C) of dfeat. */
static void
map_to_tokens_backward (float *dmap, const float *dfeat, int64_t n,
                        int64_t c, int64_t k, int64_t f, int64_t off)
{
  for (int64_t i = 0; i < n; i++)
    for (int64_t ch = 0; ch < c; ch++)
      for (int64_t t = 0; t < k; t++)
        dmap[(i * c + ch) * k + t] += dfeat[(i * k + t) * f + off + ch];
}

/* Rows already per token, (R, C) with R = N·K: copied into the columns. */
static void
rows_to_tokens (float *feat, const float *rows, int64_t r, int64_t c,
                int64_t f, int64_t off)
{
  for (int64_t i = 0; i < r; i++)
    memcpy (feat + i * f + off, rows + i * c, sizeof (float) * c);
}

static void
rows_to_tokens_backward (float *drows, const float *dfeat, int64_t r,
                         int64_t c, int64_t f, int64_t off)
{
  for (int64_t i = 0; i < r; i++)
    for (int64_t j = 0; j < c; j++)
      drows[i * c + j] += dfeat[i * f + off + j];
}

/* The multi-scale concat without a copy: conv @m writes its output
 * channels straight into channels [c_off, c_off + C_out) of @cat, which has
 * cat_c channels per sample. One sample per call, as the kernel itself
 * loops over samples. */
static void
conv_into_channels (float *cat, int64_t cat_c, int64_t c_off, float *col,
                    const float *x, const MmdnnConv2d *m, int64_t n)
{
  const MmdnnConv2dShape *s = &m->shape;
  int64_t plane = s->h_out * s->w_out, in = s->c_in * s->h_in * s->w_in;

  for (int64_t i = 0; i < n; i++)
    mmdnn_conv2d_forward (cat + (i * cat_c + c_off) * plane, col, x + i * in,
                          m->weight->value, m->bias->value, s, 1);
}

/* Its backward: parameter gradients only (the input is data). */
static void
conv_into_channels_backward (const MmdnnConv2d *m, float *col,
                             const float *dcat, int64_t cat_c, int64_t c_off,
                             const float *x, int64_t n)
{
  const MmdnnConv2dShape *s = &m->shape;
  int64_t plane = s->h_out * s->w_out, in = s->c_in * s->h_in * s->w_in;

  for (int64_t i = 0; i < n; i++)
    mmdnn_conv2d_backward (NULL, m->weight->grad, m->bias->grad, col,
                           dcat + (i * cat_c + c_off) * plane, x + i * in,
                           m->weight->value, s, 1);
}

/* Thin wrappers so forward and backward read as one line per layer. */
static void
conv_forward (const MmdnnConv2d *m, float *col, float *y, const float *x,
              int64_t n)
{
  mmdnn_conv2d_forward (y, col, x, m->weight->value, m->bias->value,
                        &m->shape, n);
}

static void
conv_backward (const MmdnnConv2d *m, float *col, float *dx, const float *dy,
               const float *x, int64_t n)
{
  mmdnn_conv2d_backward (dx, m->weight->grad, m->bias->grad, col, dy, x,
                         m->weight->value, &m->shape, n);
}

static void
convt_forward (const MmdnnConvTranspose2d *m, float *col, float *y,
               const float *x, int64_t n)
{
  mmdnn_conv_transpose2d_forward (y, col, x, m->weight->value,
                                  m->bias->value, &m->shape, n);
}

static void
convt_backward (const MmdnnConvTranspose2d *m, float *col, float *dx,
                const float *dy, const float *x, int64_t n)
{
  mmdnn_conv_transpose2d_backward (dx, m->weight->grad, m->bias->grad, col,
                                   dy, x, m->weight->value, &m->shape, n);
}

/* Column offsets of the branches in the per-token features. */
static int64_t
ms_offset (const MmdnnImageEncoderConfig *c)
{
  return c->use_ae ? c->ae_latent : 0;
}

static int64_t
sal_offset (const MmdnnImageEncoderConfig *c)
{
  return ms_offset (c) + (c->use_ms ? c->ms_width3 : 0);
}

/* ------------------------------------------------------ forward/backward */

static void
ae_encoder_forward (const MmdnnImageEncoder *e, MmdnnImageEncoderActs *a,
                    const float *x, int64_t n)
{
  const MmdnnImageEncoderConfig *c = &e->config;
  const MmdnnConv2dShape *ls = &e->ae_enc3.shape;
  Acts *v = &a->v;

  conv_forward (&e->ae_enc1, a->col, v->ae_enc1, x, n);
  mmdnn_relu_forward (v->ae_relu1, v->ae_enc1, conv_numel (&e->ae_enc1, n));
  conv_forward (&e->ae_enc2, a->col, v->ae_enc2, v->ae_relu1, n);
  mmdnn_relu_forward (v->ae_relu2, v->ae_enc2, conv_numel (&e->ae_enc2, n));
  conv_forward (&e->ae_enc3, a->col, v->ae_latent, v->ae_relu2, n);
  mmdnn_adaptive_avgpool2d_forward (v->ae_grid, v->ae_latent, n, ls->c_out,
                                    ls->h_out, ls->w_out, c->grid_h,
                                    c->grid_w);
  map_to_tokens (v->feat, v->ae_grid, n, ls->c_out, e->tokens, e->features, 0);
}

static void
ae_encoder_backward (const MmdnnImageEncoder *e, MmdnnImageEncoderActs *a,
                     const float *x, int64_t n)
{
  const MmdnnImageEncoderConfig *c = &e->config;
  const MmdnnConv2dShape *ls = &e->ae_enc3.shape;
  Acts *v = &a->v, *g = &a->g;

  map_to_tokens_backward (g->ae_grid, g->feat, n, ls->c_out, e->tokens,
                          e->features, 0);
  mmdnn_adaptive_avgpool2d_backward (g->ae_latent, g->ae_grid, n, ls->c_out,
                                     ls->h_out, ls->w_out, c->grid_h,
                                     c->grid_w);
  conv_backward (&e->ae_enc3, a->col, g->ae_relu2, g->ae_latent, v->ae_relu2, n);
  mmdnn_relu_backward_set (g->ae_enc2, g->ae_relu2, v->ae_relu2,
                           conv_numel (&e->ae_enc2, n));
  conv_backward (&e->ae_enc2, a->col, g->ae_relu1, g->ae_enc2, v->ae_relu1, n);
  mmdnn_relu_backward_set (g->ae_enc1, g->ae_relu1, v->ae_relu1,
                           conv_numel (&e->ae_enc1, n));
  conv_backward (&e->ae_enc1, a->col, NULL, g->ae_enc1, x, n);
}

/* The decoder and the reconstruction loss, training only. */
static float
ae_decoder_forward (const MmdnnImageEncoder *e, MmdnnImageEncoderActs *a,
                    const float *x, int64_t n)
{
  const MmdnnImageEncoderConfig *c = &e->config;
  Acts *v = &a->v;

  convt_forward (&e->ae_dec1, a->col, v->ae_dec1, v->ae_latent, n);
  mmdnn_relu_forward (v->ae_relu3, v->ae_dec1, convt_numel (&e->ae_dec1, n));
  convt_forward (&e->ae_dec2, a->col, v->ae_recon, v->ae_relu3, n);
  mmdnn_adaptive_avgpool2d_forward (v->ae_target, x, n, c->channels,
                                    c->height, c->width, e->recon_h,
                                    e->recon_w);
  return mmdnn_mse_forward (v->ae_recon, v->ae_target,
                            convt_numel (&e->ae_dec2, n));
}

static void
ae_decoder_backward (const MmdnnImageEncoder *e, MmdnnImageEncoderActs *a,
                     float drecon, int64_t n)
{
  Acts *v = &a->v, *g = &a->g;

  mmdnn_mse_backward (g->ae_recon, drecon, v->ae_recon, v->ae_target,
                      convt_numel (&e->ae_dec2, n));
  convt_backward (&e->ae_dec2, a->col, g->ae_relu3, g->ae_recon, v->ae_relu3, n);
  mmdnn_relu_backward_set (g->ae_dec1, g->ae_relu3, v->ae_relu3,
                           convt_numel (&e->ae_dec1, n));
  convt_backward (&e->ae_dec1, a->col, g->ae_latent, g->ae_dec1, v->ae_latent, n);
}

static void
ms_forward (const MmdnnImageEncoder *e, MmdnnImageEncoderActs *a,
            const float *x, int64_t n)
{
  const MmdnnImageEncoderConfig *c = &e->config;
  const MmdnnConv2dShape *s2 = &e->ms_conv2.shape;
  int64_t m = c->ms_width, cat_c = 3 * m;
  Acts *v = &a->v;

  conv_into_channels (v->ms_cat, cat_c, 0, a->col, x, &e->ms_k3, n);
  conv_into_channels (v->ms_cat, cat_c, m, a->col, x, &e->ms_k5, n);
  conv_into_channels (v->ms_cat, cat_c, 2 * m, a->col, x, &e->ms_k7, n);
  mmdnn_relu_forward (v->ms_relu0, v->ms_cat, n * cat_c * c->height * c->width);
  mmdnn_maxpool2d_forward (v->ms_pool1, a->ms_arg1, v->ms_relu0, &e->ms_pool1, n);
  conv_forward (&e->ms_conv1, a->col, v->ms_conv1, v->ms_pool1, n);
  mmdnn_relu_forward (v->ms_relu1, v->ms_conv1, conv_numel (&e->ms_conv1, n));
  mmdnn_maxpool2d_forward (v->ms_pool2, a->ms_arg2, v->ms_relu1, &e->ms_pool2, n);
  conv_forward (&e->ms_conv2, a->col, v->ms_conv2, v->ms_pool2, n);
  mmdnn_relu_forward (v->ms_relu2, v->ms_conv2, conv_numel (&e->ms_conv2, n));
  mmdnn_adaptive_avgpool2d_forward (v->ms_grid, v->ms_relu2, n, s2->c_out,
                                    s2->h_out, s2->w_out, c->grid_h,
                                    c->grid_w);
  map_to_tokens (v->feat, v->ms_grid, n, s2->c_out, e->tokens, e->features,
                 ms_offset (c));
}

static void
ms_backward (const MmdnnImageEncoder *e, MmdnnImageEncoderActs *a,
             const float *x, int64_t n)
{
  const MmdnnImageEncoderConfig *c = &e->config;
  const MmdnnConv2dShape *s2 = &e->ms_conv2.shape;
  int64_t m = c->ms_width, cat_c = 3 * m;
  Acts *v = &a->v, *g = &a->g;

  map_to_tokens_backward (g->ms_grid, g->feat, n, s2->c_out, e->tokens,
                          e->features, ms_offset (c));
  mmdnn_adaptive_avgpool2d_backward (g->ms_relu2, g->ms_grid, n, s2->c_out,
                                     s2->h_out, s2->w_out, c->grid_h,
                                     c->grid_w);
  mmdnn_relu_backward_set (g->ms_conv2, g->ms_relu2, v->ms_relu2,
                           conv_numel (&e->ms_conv2, n));
  conv_backward (&e->ms_conv2, a->col, g->ms_pool2, g->ms_conv2, v->ms_pool2, n);
  mmdnn_maxpool2d_relu_backward_set (g->ms_conv1, g->ms_pool2, a->ms_arg2,
                                     v->ms_relu1, &e->ms_pool2, n);
  conv_backward (&e->ms_conv1, a->col, g->ms_pool1, g->ms_conv1, v->ms_pool1, n);
  mmdnn_maxpool2d_relu_backward_set (g->ms_cat, g->ms_pool1, a->ms_arg1,
                                     v->ms_relu0, &e->ms_pool1, n);
  conv_into_channels_backward (&e->ms_k7, a->col, g->ms_cat, cat_c, 2 * m, x, n);
  conv_into_channels_backward (&e->ms_k5, a->col, g->ms_cat, cat_c, m, x, n);
  conv_into_channels_backward (&e->ms_k3, a->col, g->ms_cat, cat_c, 0, x, n);
}

static void
sal_forward (const MmdnnImageEncoder *e, MmdnnImageEncoderActs *a,
             const float *x, int64_t n)
{
  const MmdnnImageEncoderConfig *c = &e->config;
  const MmdnnLinear *l = &e->sal_proj;
  int64_t rows = n * e->tokens;
  Acts *v = &a->v;

  mmdnn_saliency_forward (v->sal_desc, a->sal_ws, x, &e->sal, n);
  mmdnn_linear_forward (v->sal_proj, v->sal_desc, l->weight->value,
                        l->bias->value, rows, l->in, l->out);
  mmdnn_relu_forward (v->sal_relu, v->sal_proj, rows * l->out);
  rows_to_tokens (v->feat, v->sal_relu, rows, l->out, e->features,
                  sal_offset (c));
}

static void
sal_backward (const MmdnnImageEncoder *e, MmdnnImageEncoderActs *a,
              int64_t n)
{
  const MmdnnImageEncoderConfig *c = &e->config;
  const MmdnnLinear *l = &e->sal_proj;
  int64_t rows = n * e->tokens;
  Acts *v = &a->v, *g = &a->g;

  rows_to_tokens_backward (g->sal_relu, g->feat, rows, l->out, e->features,
                           sal_offset (c));
  mmdnn_relu_backward_set (g->sal_proj, g->sal_relu, v->sal_relu,
                           rows * l->out);
  mmdnn_linear_backward (NULL, l->weight->grad, l->bias->grad, g->sal_proj,
                         v->sal_desc, l->weight->value, rows, l->in, l->out);
}

/* features → linear → layernorm → + pos */
static void
head_forward (const MmdnnImageEncoder *e, MmdnnImageEncoderActs *a, int64_t n)
{
  const MmdnnLinear *p = &e->proj;
  const MmdnnLayerNorm *ln = &e->norm;
  int64_t k = e->tokens, d = e->config.dim, rows = n * k;
  Acts *v = &a->v;

  mmdnn_linear_forward (v->proj, v->feat, p->weight->value, p->bias->value,
                        rows, p->in, p->out);
  mmdnn_layernorm_forward (v->norm, v->norm_mean, v->norm_rstd, v->proj,
                           ln->weight->value, ln->bias->value, ln->eps, rows,
                           d);
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < k * d; j++)
      v->tokens[i * k * d + j] = v->norm[i * k * d + j] + e->pos->value[j];
}

/* The layernorm's upstream gradient is dtokens itself (the + pos is an
 * identity for it), so it needs no buffer. */
static void
head_backward (const MmdnnImageEncoder *e, MmdnnImageEncoderActs *a,
               const float *dtokens, int64_t n)
{
  const MmdnnLinear *p = &e->proj;
  const MmdnnLayerNorm *ln = &e->norm;
  int64_t k = e->tokens, d = e->config.dim, rows = n * k;
  Acts *v = &a->v, *g = &a->g;

  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < k * d; j++)
      e->pos->grad[j] += dtokens[i * k * d + j];
  mmdnn_layernorm_backward (g->proj, ln->weight->grad, ln->bias->grad,
                            dtokens, v->proj, ln->weight->value,
                            v->norm_mean, v->norm_rstd, rows, d);
  mmdnn_linear_backward (g->feat, p->weight->grad, p->bias->grad, g->proj,
                         v->feat, p->weight->value, rows, p->in, p->out);
}

/* Field by field: memcmp would read the struct's padding. */
static gboolean
config_equal (const MmdnnImageEncoderConfig *x,
              const MmdnnImageEncoderConfig *y)
{
  return x->channels == y->channels && x->height == y->height
      && x->width == y->width && x->grid_h == y->grid_h
      && x->grid_w == y->grid_w && x->dim == y->dim
      && !x->use_ae == !y->use_ae && !x->use_ms == !y->use_ms
      && !x->use_sal == !y->use_sal && x->ae_width == y->ae_width
      && x->ae_latent == y->ae_latent && x->ms_width == y->ms_width
      && x->ms_width2 == y->ms_width2 && x->ms_width3 == y->ms_width3
      && x->sal_width == y->sal_width;
}

gboolean
mmdnn_image_encoder_forward (const MmdnnImageEncoder *e,
                             MmdnnImageEncoderActs *a, const float *x,
                             int64_t n, const float **tokens,
                             float *recon_loss, GError **error)
{
  const MmdnnImageEncoderConfig *c;
  const float *in;

  MMDNN_CHECK_NOT_NULL (e, error, FALSE);
  MMDNN_CHECK_NOT_NULL (a, error, FALSE);
  MMDNN_CHECK_NOT_NULL (x, error, FALSE);
  MMDNN_CHECK_NOT_NULL (tokens, error, FALSE);
  MMDNN_CHECK (config_equal (&a->config, &e->config), error, FALSE,
               "%s: the activations were made for a different encoder config",
               G_STRFUNC);
  MMDNN_CHECK (e->pos != NULL && e->pos->value != NULL, error, FALSE,
               "%s: the parameter set is not allocated", G_STRFUNC);
  MMDNN_CHECK (n >= 1 && n <= a->max_n, error, FALSE,
               "%s: n = %" G_GINT64_FORMAT " must be in [1, max_n = %"
               G_GINT64_FORMAT "]", G_STRFUNC, n, a->max_n);
  c = &e->config;

  memcpy (a->v.input, x, sizeof (float) * n * c->channels * c->height
          * c->width);
  in = a->v.input;
  if (c->use_ae)
    ae_encoder_forward (e, a, in, n);
  if (c->use_ms)
    ms_forward (e, a, in, n);
  if (c->use_sal)
    sal_forward (e, a, in, n);
  head_forward (e, a, n);
  a->have_recon = recon_loss != NULL;
  if (c->use_ae && recon_loss != NULL)
    *recon_loss = ae_decoder_forward (e, a, in, n);
  else if (recon_loss != NULL)
    *recon_loss = 0.0f;         /* nothing to reconstruct without the AE */

  a->last_n = n;
  *tokens = a->v.tokens;
  return TRUE;
}

/* What encode and decode check alike: the AE branch is there and allocated,
 * the activations fit. */
static gboolean
check_ae_call (const char *fn, const MmdnnImageEncoder *e,
               const MmdnnImageEncoderActs *a, int64_t n, GError **error)
{
  MMDNN_CHECK (config_equal (&a->config, &e->config), error, FALSE,
               "%s: the activations were made for a different encoder config",
               fn);
  MMDNN_CHECK (e->config.use_ae, error, FALSE,
               "%s: the encoder has no AE branch (use_ae is off)", fn);
  MMDNN_CHECK (e->ae_dec1.weight != NULL && e->ae_dec1.weight->value != NULL,
               error, FALSE,
               "%s: the parameter set is not allocated", fn);
  MMDNN_CHECK (n >= 1 && n <= a->max_n, error, FALSE,
               "%s: n = %" G_GINT64_FORMAT " must be in [1, max_n = %"
               G_GINT64_FORMAT "]", fn, n, a->max_n);
  return TRUE;
}

gboolean
mmdnn_image_encoder_encode (const MmdnnImageEncoder *e,
                            MmdnnImageEncoderActs *a, const float *x,
                            int64_t n, GError **error)
{
  MMDNN_CHECK_NOT_NULL (e, error, FALSE);
  MMDNN_CHECK_NOT_NULL (a, error, FALSE);
  MMDNN_CHECK_NOT_NULL (x, error, FALSE);
  if (!check_ae_call (G_STRFUNC, e, a, n, error))
    return FALSE;

  /* the token map of the AE branch comes along (one pooling); the other
   * branches' activations are stale, so no backward until a forward */
  ae_encoder_forward (e, a, x, n);
  a->have_recon = FALSE;
  a->last_n = 0;
  return TRUE;
}

gboolean
mmdnn_image_encoder_decode (const MmdnnImageEncoder *e,
                            MmdnnImageEncoderActs *a, const float *latent,
                            int64_t n, float *recon, GError **error)
{
  Acts *v;

  MMDNN_CHECK_NOT_NULL (e, error, FALSE);
  MMDNN_CHECK_NOT_NULL (a, error, FALSE);
  MMDNN_CHECK_NOT_NULL (latent, error, FALSE);
  MMDNN_CHECK_NOT_NULL (recon, error, FALSE);
  if (!check_ae_call (G_STRFUNC, e, a, n, error))
    return FALSE;

  /* the decoder's hidden map reuses the forward's buffer: a pending
   * reconstruction backward would read the wrong values, so it is refused
   * until the next forward */
  v = &a->v;
  convt_forward (&e->ae_dec1, a->col, v->ae_dec1, latent, n);
  mmdnn_relu_forward (v->ae_relu3, v->ae_dec1, convt_numel (&e->ae_dec1, n));
  convt_forward (&e->ae_dec2, a->col, recon, v->ae_relu3, n);
  a->have_recon = FALSE;
  return TRUE;
}

/* The forward in reverse. Without dtokens only the reconstruction path
 * carries a gradient, so the head, SAL and MS are skipped; the AE encoder's
 * token path then adds zeros (cheap: one pooling). */
void
mmdnn_image_encoder_backward (const MmdnnImageEncoder *e,
                              MmdnnImageEncoderActs *a, const float *dtokens,
                              float drecon, int64_t n)
{
  const MmdnnImageEncoderConfig *c;
  const float *in;

  g_return_if_fail (e != NULL && a != NULL);
  g_return_if_fail (n >= 1 && n == a->last_n);
  g_return_if_fail (drecon == 0.0f || a->have_recon);
  c = &e->config;
  in = a->v.input;
  if (dtokens == NULL && (drecon == 0.0f || !c->use_ae))
    return;

  acts_zero_grads (a, n);
  if (c->use_ae && drecon != 0.0f)
    ae_decoder_backward (e, a, drecon, n);
  if (dtokens != NULL) {
    head_backward (e, a, dtokens, n);
    if (c->use_sal)
      sal_backward (e, a, n);
    if (c->use_ms)
      ms_backward (e, a, in, n);
  }
  if (c->use_ae)
    ae_encoder_backward (e, a, in, n);
}

/* ------------------------------------------------------------- config */

void
mmdnn_image_encoder_config_init_video (MmdnnImageEncoderConfig *c)
{
  *c = (MmdnnImageEncoderConfig) {
    .channels = 3, .height = 64, .width = 64,
    .grid_h = 4, .grid_w = 4,
    .dim = 128,
    .use_ae = TRUE, .use_ms = TRUE, .use_sal = TRUE,
    .ae_width = 16, .ae_latent = 32,
    .ms_width = 16, .ms_width2 = 64, .ms_width3 = 128,
    .sal_width = 64,
  };
}

void
mmdnn_image_encoder_config_init_audio (MmdnnImageEncoderConfig *c)
{
  mmdnn_image_encoder_config_init_video (c);
  c->channels = 1;
  c->height = 64;               /* mel bands */
  c->width = 100;               /* frames: 1 s at a 10 ms hop */
  c->grid_h = 1;
  c->grid_w = 10;
}

static gboolean
check_size (int64_t v, const char *name, GError **error)
{
  MMDNN_CHECK (v >= 1 && v <= MAX_SIZE, error, FALSE,
               "image encoder config: %s = %" G_GINT64_FORMAT
               " must be in [1, %d]", name, v, MAX_SIZE);
  return TRUE;
}

/* The grid must not have more cells than @name's map has pixels along
 * either axis. */
static gboolean
check_grid (const MmdnnImageEncoderConfig *c, int64_t h, int64_t w,
            const char *name, GError **error)
{
  MMDNN_CHECK (c->grid_h <= h && c->grid_w <= w, error, FALSE,
               "image encoder config: grid %" G_GINT64_FORMAT "×%"
               G_GINT64_FORMAT " is larger than the %s map %" G_GINT64_FORMAT
               "×%" G_GINT64_FORMAT " (input %" G_GINT64_FORMAT "×%"
               G_GINT64_FORMAT ")", c->grid_h, c->grid_w, name, h, w,
               c->height, c->width);
  return TRUE;
}

/* ⌈v/8⌉: three k3 s2 p1 convs, each (v − 1)/2 + 1 */
static int64_t
latent_size (int64_t v)
{
  for (int i = 0; i < 3; i++)
    v = (v - 1) / 2 + 1;
  return v;
}

gboolean
mmdnn_image_encoder_config_check (const MmdnnImageEncoderConfig *c,
                                  GError **error)
{
  MMDNN_CHECK_NOT_NULL (c, error, FALSE);
  MMDNN_CHECK (c->use_ae || c->use_ms || c->use_sal, error, FALSE,
               "image encoder config: at least one of use_ae, use_ms, "
               "use_sal must be on");
  if (!check_size (c->channels, "channels", error)
      || !check_size (c->height, "height", error)
      || !check_size (c->width, "width", error)
      || !check_size (c->grid_h, "grid_h", error)
      || !check_size (c->grid_w, "grid_w", error)
      || !check_size (c->dim, "dim", error))
    return FALSE;
  MMDNN_CHECK (c->height >= 8 && c->width >= 8, error, FALSE,
               "image encoder config: input %" G_GINT64_FORMAT "×%"
               G_GINT64_FORMAT " is smaller than 8×8", c->height, c->width);
  if (c->use_ae) {
    if (!check_size (c->ae_width, "ae_width", error)
        || !check_size (c->ae_latent, "ae_latent", error)
        || !check_grid (c, latent_size (c->height), latent_size (c->width),
                        "AE latent", error))
      return FALSE;
  }
  if (c->use_ms) {
    if (!check_size (c->ms_width, "ms_width", error)
        || !check_size (c->ms_width2, "ms_width2", error)
        || !check_size (c->ms_width3, "ms_width3", error)
        || !check_grid (c, c->height / 2 / 2, c->width / 2 / 2,
                        "multi-scale", error))
      return FALSE;
  }
  if (c->use_sal) {
    MmdnnSaliencyShape s;

    if (!check_size (c->sal_width, "sal_width", error)
        || !mmdnn_saliency_shape_init (&s, c->channels, c->height, c->width,
                                       c->grid_h, c->grid_w, error))
      return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------- modules */

enum { BRANCH_AE, BRANCH_MS, BRANCH_SAL, BRANCH_HEAD };

/* Every layer the encoder may declare, in declaration order. */
static const struct {
  const char *name;
  int         branch;
} image_layers[] = {
  { "ae.enc1", BRANCH_AE }, { "ae.enc2", BRANCH_AE }, { "ae.enc3", BRANCH_AE },
  { "ae.dec1", BRANCH_AE }, { "ae.dec2", BRANCH_AE },
  { "ms.k3", BRANCH_MS }, { "ms.k5", BRANCH_MS }, { "ms.k7", BRANCH_MS },
  { "ms.conv1", BRANCH_MS }, { "ms.conv2", BRANCH_MS },
  { "sal.proj", BRANCH_SAL },
  { "proj", BRANCH_HEAD }, { "norm", BRANCH_HEAD },
};

static gboolean
branch_on (const MmdnnImageEncoderConfig *c, int branch)
{
  switch (branch) {
    case BRANCH_AE: return c->use_ae;
    case BRANCH_MS: return c->use_ms;
    case BRANCH_SAL: return c->use_sal;
    default: return TRUE;
  }
}

/* Checks every name before anything is declared, so a clash leaves the
 * set as it was. */
static gboolean
check_names_free (const MmdnnParamSet *ps, const char *prefix,
                  const MmdnnImageEncoderConfig *c, GError **error)
{
  static const char *const suffixes[] = { "weight", "bias" };
  gboolean ok = TRUE;
  char *name;

  for (gsize i = 0; ok && i < G_N_ELEMENTS (image_layers); i++) {
    if (!branch_on (c, image_layers[i].branch))
      continue;
    for (gsize j = 0; ok && j < G_N_ELEMENTS (suffixes); j++) {
      name = g_strdup_printf ("%s.%s.%s", prefix, image_layers[i].name,
                              suffixes[j]);
      if (mmdnn_param_set_lookup (ps, name) != NULL) {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                     "image encoder: parameter '%s' is already declared",
                     name);
        ok = FALSE;
      }
      g_free (name);
    }
  }
  name = g_strdup_printf ("%s.pos", prefix);
  if (ok && mmdnn_param_set_lookup (ps, name) != NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "image encoder: parameter '%s' is already declared", name);
    ok = FALSE;
  }
  g_free (name);
  return ok;
}

static gboolean
declare_layers (MmdnnImageEncoder *e, MmdnnParamSet *ps, const char *p,
                GError **error)
{
  const MmdnnImageEncoderConfig *c = &e->config;
  int64_t ch = c->channels, h = c->height, w = c->width;
  gboolean ok = TRUE;
  char *name = NULL;

  /* NAME (s): "<p>.<s>", valid until the next NAME () */
#define NAME(s) (g_free (name), name = g_strdup_printf ("%s.%s", p, s))
  if (c->use_ae) {
    int64_t a = c->ae_width, l = c->ae_latent;
    const MmdnnConv2dShape *s1 = &e->ae_enc1.shape, *s2 = &e->ae_enc2.shape;
    const MmdnnConv2dShape *s3 = &e->ae_enc3.shape;

    ok = mmdnn_conv2d_init (&e->ae_enc1, ps, NAME ("ae.enc1"), ch, h, w, a,
                            3, 3, 2, 2, 1, 1, TRUE, error)
        && mmdnn_conv2d_init (&e->ae_enc2, ps, NAME ("ae.enc2"), a,
                              s1->h_out, s1->w_out, 2 * a, 3, 3, 2, 2, 1, 1,
                              TRUE, error)
        && mmdnn_conv2d_init (&e->ae_enc3, ps, NAME ("ae.enc3"), 2 * a,
                              s2->h_out, s2->w_out, l, 3, 3, 2, 2, 1, 1,
                              TRUE, error)
        && mmdnn_conv_transpose2d_init (&e->ae_dec1, ps, NAME ("ae.dec1"), l,
                                        s3->h_out, s3->w_out, 2 * a, 4, 4,
                                        2, 2, 1, 1, 0, 0, TRUE, error)
        && mmdnn_conv_transpose2d_init (&e->ae_dec2, ps, NAME ("ae.dec2"),
                                        2 * a, e->ae_dec1.shape.h_out,
                                        e->ae_dec1.shape.w_out, ch, 4, 4, 2,
                                        2, 1, 1, 0, 0, TRUE, error)
        && mmdnn_adaptive_pool2d_check (ch, h, w, e->ae_dec2.shape.h_out,
                                        e->ae_dec2.shape.w_out, error);
    if (ok) {
      e->recon_h = e->ae_dec2.shape.h_out;
      e->recon_w = e->ae_dec2.shape.w_out;
      e->features += l;
    }
  }
  if (ok && c->use_ms) {
    int64_t m = c->ms_width;

    ok = mmdnn_conv2d_init (&e->ms_k3, ps, NAME ("ms.k3"), ch, h, w, m, 3, 3,
                            1, 1, 1, 1, TRUE, error)
        && mmdnn_conv2d_init (&e->ms_k5, ps, NAME ("ms.k5"), ch, h, w, m, 5,
                              5, 1, 1, 2, 2, TRUE, error)
        && mmdnn_conv2d_init (&e->ms_k7, ps, NAME ("ms.k7"), ch, h, w, m, 7,
                              7, 1, 1, 3, 3, TRUE, error)
        && mmdnn_pool2d_shape_init (&e->ms_pool1, 3 * m, h, w, 2, 2, 2, 2, 0,
                                    0, error)
        && mmdnn_conv2d_init (&e->ms_conv1, ps, NAME ("ms.conv1"), 3 * m,
                              e->ms_pool1.h_out, e->ms_pool1.w_out,
                              c->ms_width2, 3, 3, 1, 1, 1, 1, TRUE, error)
        && mmdnn_pool2d_shape_init (&e->ms_pool2, c->ms_width2,
                                    e->ms_pool1.h_out, e->ms_pool1.w_out, 2,
                                    2, 2, 2, 0, 0, error)
        && mmdnn_conv2d_init (&e->ms_conv2, ps, NAME ("ms.conv2"),
                              c->ms_width2, e->ms_pool2.h_out,
                              e->ms_pool2.w_out, c->ms_width3, 3, 3, 1, 1, 1,
                              1, TRUE, error);
    if (ok)
      e->features += c->ms_width3;
  }
  if (ok && c->use_sal) {
    ok = mmdnn_saliency_shape_init (&e->sal, ch, h, w, c->grid_h, c->grid_w,
                                    error)
        && mmdnn_linear_init (&e->sal_proj, ps, NAME ("sal.proj"),
                              MMDNN_SALIENCY_FEATURES, c->sal_width, TRUE,
                              error);
    if (ok)
      e->features += c->sal_width;
  }
  if (ok)
    ok = mmdnn_linear_init (&e->proj, ps, NAME ("proj"), e->features, c->dim,
                            TRUE, error)
        && mmdnn_layernorm_init (&e->norm, ps, NAME ("norm"), c->dim,
                                 NORM_EPS, error)
        && (e->pos = mmdnn_param_set_declare (ps, NAME ("pos"), 2,
                                              (int64_t[]) { e->tokens, c->dim },
                                              FALSE, error)) != NULL;
#undef NAME
  g_free (name);
  return ok;
}

gboolean
mmdnn_image_encoder_init (MmdnnImageEncoder *e, MmdnnParamSet *ps,
                          const char *prefix,
                          const MmdnnImageEncoderConfig *c, GError **error)
{
  MmdnnImageEncoder tmp = { 0 };

  MMDNN_CHECK_NOT_NULL (e, error, FALSE);
  MMDNN_CHECK_NOT_NULL (ps, error, FALSE);
  MMDNN_CHECK_NOT_NULL (c, error, FALSE);
  MMDNN_CHECK (prefix != NULL && prefix[0] != '\0', error, FALSE,
               "%s: prefix must be a non-empty string", G_STRFUNC);
  MMDNN_CHECK (!ps->allocated, error, FALSE,
               "image encoder '%s': the parameter set is already allocated",
               prefix);
  if (!mmdnn_image_encoder_config_check (c, error)
      || !check_names_free (ps, prefix, c, error))
    return FALSE;

  tmp.config = *c;
  tmp.tokens = c->grid_h * c->grid_w;
  /* The config check covers every size the layers check again, so from
   * here on a failure would be a bug, not a bad argument. */
  if (!declare_layers (&tmp, ps, prefix, error))
    return FALSE;
  *e = tmp;
  return TRUE;
}

void
mmdnn_image_encoder_reset (MmdnnImageEncoder *e, MmdnnRng *rng)
{
  const MmdnnImageEncoderConfig *c = &e->config;

  if (c->use_ae) {
    mmdnn_conv2d_reset (&e->ae_enc1, rng);
    mmdnn_conv2d_reset (&e->ae_enc2, rng);
    mmdnn_conv2d_reset (&e->ae_enc3, rng);
    mmdnn_conv_transpose2d_reset (&e->ae_dec1, rng);
    mmdnn_conv_transpose2d_reset (&e->ae_dec2, rng);
  }
  if (c->use_ms) {
    mmdnn_conv2d_reset (&e->ms_k3, rng);
    mmdnn_conv2d_reset (&e->ms_k5, rng);
    mmdnn_conv2d_reset (&e->ms_k7, rng);
    mmdnn_conv2d_reset (&e->ms_conv1, rng);
    mmdnn_conv2d_reset (&e->ms_conv2, rng);
  }
  if (c->use_sal)
    mmdnn_linear_reset (&e->sal_proj, rng);
  mmdnn_linear_reset (&e->proj, rng);
  mmdnn_layernorm_reset (&e->norm);
  mmdnn_rng_fill_normal (rng, e->pos->value, e->pos->numel, 0.0f, POS_STD);
}
