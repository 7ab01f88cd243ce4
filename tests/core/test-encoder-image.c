/* Tests of the image encoder (encoder-image.h): whole-encoder gradient
 * checks over every parameter tensor for each branch combination, the
 * accumulation contract, shapes, an overfit run, determinism, a golden
 * comparison with the same module in PyTorch, and the failure paths.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/encoder-image.h>
#include <mmdnn/optim.h>
#include <mmdnn/tensor.h>

#include "golden-file.h"
#include "gradcheck.h"

#define PREFIX "img"

/* The tiny config of the spec: 3×16×16, grid 2×2, D = 8, widths 4. */
static void
tiny_config (MmdnnImageEncoderConfig *c)
{
  *c = (MmdnnImageEncoderConfig) {
    .channels = 3, .height = 16, .width = 16,
    .grid_h = 2, .grid_w = 2,
    .dim = 8,
    .use_ae = TRUE, .use_ms = TRUE, .use_sal = TRUE,
    .ae_width = 4, .ae_latent = 4,
    .ms_width = 4, .ms_width2 = 4, .ms_width3 = 4,
    .sal_width = 4,
  };
}

/* An encoder with its own parameter set and arena. */
typedef struct {
  MmdnnParamSet         *ps;
  MmdnnImageEncoder      enc;
  MmdnnImageEncoderActs *acts;
  int64_t                max_n;
} Fixture;

static Fixture *
fixture_new (const MmdnnImageEncoderConfig *c, int64_t max_n, uint64_t seed)
{
  Fixture *f = g_new0 (Fixture, 1);
  GError *err = NULL;
  MmdnnRng rng;

  f->ps = mmdnn_param_set_new ();
  f->max_n = max_n;
  g_assert_true (mmdnn_image_encoder_init (&f->enc, f->ps, PREFIX, c, &err));
  g_assert_no_error (err);
  g_assert_true (mmdnn_param_set_allocate (f->ps, &err));
  g_assert_no_error (err);
  mmdnn_rng_init (&rng, seed);
  mmdnn_image_encoder_reset (&f->enc, &rng);
  f->acts = mmdnn_image_encoder_acts_new (&f->enc, max_n, &err);
  g_assert_no_error (err);
  g_assert_nonnull (f->acts);
  return f;
}

static void
fixture_free (Fixture *f)
{
  mmdnn_image_encoder_acts_free (f->acts);
  mmdnn_param_set_free (f->ps);
  g_free (f);
}

static int64_t
input_numel (const MmdnnImageEncoderConfig *c, int64_t n)
{
  return n * c->channels * c->height * c->width;
}

static int64_t
token_numel (const MmdnnImageEncoderConfig *c, int64_t n)
{
  return n * c->grid_h * c->grid_w * c->dim;
}

static const float *
forward_ok (Fixture *f, const float *x, int64_t n, float *recon)
{
  const float *tokens = NULL;
  GError *err = NULL;

  g_assert_true (mmdnn_image_encoder_forward (&f->enc, f->acts, x, n,
                                              &tokens, recon, &err));
  g_assert_no_error (err);
  g_assert_nonnull (tokens);
  return tokens;
}

static gboolean
all_finite (const float *x, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    if (!isfinite (x[i]))
      return FALSE;
  return TRUE;
}

static gboolean
all_zero (const float *x, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    if (x[i] != 0.0f)
      return FALSE;
  return TRUE;
}

/* ------------------------------------------------ gradient check */

#define GC_N       2
#define GC_PER     6            /* elements sampled per parameter tensor */
#define GC_LAMBDA  10.0f        /* weight of the recon loss: large, as the loss is small */

typedef struct {
  Fixture *f;
  float   *x;
  float   *y;                   /* tokens, then the recon loss */
  gboolean recon;
} GcCtx;

static void
gc_forward (void *p)
{
  GcCtx *ctx = p;
  const MmdnnImageEncoderConfig *c = &ctx->f->enc.config;
  int64_t nt = token_numel (c, GC_N);
  float recon = 0.0f;
  const float *tokens = forward_ok (ctx->f, ctx->x, GC_N,
                                    ctx->recon ? &recon : NULL);

  memcpy (ctx->y, tokens, sizeof (float) * nt);
  ctx->y[nt] = recon;
}

/* A whole encoder makes thousands of ReLU and max-pool decisions that
 * depend on one weight, so L, seen along one weight, has a kink (a slope
 * change of 10–30 %) every few 1e-3, too mild for gradcheck's kink test;
 * and float32 rounding of L keeps ε from going much below 1e-4. So each
 * element is checked at ε = 1e-3 and, only when that fails, again at 3e-4
 * and 1e-4: a kink is straddled at one ε, not at all of them, whereas a
 * wrong gradient (a factor, a missing term) fails at every ε. */
static const double gc_eps[] = { 1e-3, 3e-4, 1e-4 };

/* L = Σ r ⊙ tokens + λ · recon_loss over up to GC_PER elements of every
 * parameter tensor of the set. */
static void
run_gradcheck (const MmdnnImageEncoderConfig *c, gboolean recon)
{
  Fixture *f = fixture_new (c, GC_N, 11);
  int64_t nt = token_numel (c, GC_N);
  GcCtx ctx = { f, NULL, NULL, recon };
  GPtrArray *params = f->ps->params;
  GradcheckInput *inputs = g_new0 (GradcheckInput, params->len * GC_PER);
  int n_inputs = 0, retried = 0;
  float *r;
  MmdnnRng rng;

  mmdnn_rng_init (&rng, 5);
  ctx.x = gc_random (&rng, input_numel (c, GC_N), -1.0f, 1.0f);
  ctx.y = gc_zeros (nt + 1);
  r = gc_random (&rng, nt + 1, -1.0f, 1.0f);
  r[nt] = recon ? GC_LAMBDA : 0.0f;

  gc_forward (&ctx);
  mmdnn_param_set_zero_grad (f->ps);
  mmdnn_image_encoder_backward (&f->enc, f->acts, r, r[nt], GC_N);

  for (guint p = 0; p < params->len; p++) {
    MmdnnParam *param = g_ptr_array_index (params, p);
    int64_t picks = MIN (GC_PER, param->numel);

    for (int64_t j = 0; j < picks; j++) {
      /* distinct elements: a random start, then a stride through the tensor */
      int64_t i = (int64_t) ((mmdnn_rng_below (&rng, param->numel)
                              + (uint64_t) (j * param->numel / picks))
                             % (uint64_t) param->numel);
      inputs[n_inputs++] = (GradcheckInput) { param->name, param->value + i,
                                              param->grad + i, 1 };
    }
  }
  for (int t = 0; t < n_inputs; t++) {
    gboolean ok = FALSE;

    for (gsize k = 0; !ok && k < G_N_ELEMENTS (gc_eps); k++) {
      if (k > 0)
        g_test_message ("%s: retrying at eps %g (a kink within %g)",
                        inputs[t].name, gc_eps[k], gc_eps[k - 1]);
      ok = gradcheck ("image encoder", gc_forward, &ctx, ctx.y, nt + 1, r,
                      &inputs[t], 1, gc_eps[k], 5e-3, 1e-2);
      retried += !ok;
    }
    g_assert_true (ok);
  }
  /* kinks are the exception: a systematic error would fail everywhere */
  g_test_message ("%d of %d elements retried", retried, n_inputs);
  g_assert_cmpint (retried * 5, <=, n_inputs);

  g_free (inputs);
  g_free (r);
  g_free (ctx.y);
  g_free (ctx.x);
  fixture_free (f);
}

typedef enum { ALL, NO_AE, NO_MS, NO_SAL, ONLY_AE, ONLY_MS, ONLY_SAL } Variant;

static void
variant_config (MmdnnImageEncoderConfig *c, Variant v)
{
  tiny_config (c);
  c->use_ae = v == ALL || v == NO_MS || v == NO_SAL || v == ONLY_AE;
  c->use_ms = v == ALL || v == NO_AE || v == NO_SAL || v == ONLY_MS;
  c->use_sal = v == ALL || v == NO_AE || v == NO_MS || v == ONLY_SAL;
}

static void
test_gradcheck (gconstpointer data)
{
  MmdnnImageEncoderConfig c;

  variant_config (&c, GPOINTER_TO_INT (data));
  run_gradcheck (&c, TRUE);
}

/* Odd sizes: a rectangular input whose grid does not divide the maps, so
 * adaptive-pool cells overlap, and tokens-only (no decoder). */
static void
test_gradcheck_odd (void)
{
  MmdnnImageEncoderConfig c;

  tiny_config (&c);
  c.channels = 1;
  c.height = 13;
  c.width = 19;
  c.grid_h = 1;
  c.grid_w = 3;
  c.dim = 5;
  c.ms_width = 3;
  c.ms_width2 = 5;
  c.ms_width3 = 3;
  c.ae_width = 3;
  c.ae_latent = 5;
  c.sal_width = 3;
  run_gradcheck (&c, TRUE);
  run_gradcheck (&c, FALSE);
}

/* ------------------------------------------------ structure */

static const char *const ae_names[] = {
  "ae.enc1", "ae.enc2", "ae.enc3", "ae.dec1", "ae.dec2", NULL };
static const char *const ms_names[] = {
  "ms.k3", "ms.k5", "ms.k7", "ms.conv1", "ms.conv2", NULL };
static const char *const sal_names[] = { "sal.proj", NULL };
static const char *const head_names[] = { "proj", "norm", NULL };

static int
check_declared (const MmdnnParamSet *ps, const char *const *names,
                gboolean want)
{
  int count = 0;

  for (int i = 0; names[i] != NULL; i++) {
    char *w = g_strdup_printf (PREFIX ".%s.weight", names[i]);
    char *b = g_strdup_printf (PREFIX ".%s.bias", names[i]);

    g_assert_true ((mmdnn_param_set_lookup (ps, w) != NULL) == want);
    g_assert_true ((mmdnn_param_set_lookup (ps, b) != NULL) == want);
    count += want ? 2 : 0;
    g_free (w);
    g_free (b);
  }
  return count;
}

/* Each branch switched off alone (and each alone on): its params are not
 * declared, widths of the disabled branch are ignored, and the encoder still
 * produces finite tokens and (with AE) a recon loss. */
static void
test_branches (void)
{
  for (Variant v = ALL; v <= ONLY_SAL; v++) {
    MmdnnImageEncoderConfig c;
    Fixture *f;
    float *x, recon = -1.0f;
    const float *tokens;
    MmdnnRng rng;
    int count;

    variant_config (&c, v);
    if (!c.use_ae)
      c.ae_width = c.ae_latent = 0;
    if (!c.use_ms)
      c.ms_width = c.ms_width2 = c.ms_width3 = 0;
    if (!c.use_sal)
      c.sal_width = 0;
    f = fixture_new (&c, 2, 1);
    count = check_declared (f->ps, ae_names, c.use_ae)
        + check_declared (f->ps, ms_names, c.use_ms)
        + check_declared (f->ps, sal_names, c.use_sal)
        + check_declared (f->ps, head_names, TRUE);
    g_assert_nonnull (mmdnn_param_set_lookup (f->ps, PREFIX ".pos"));
    g_assert_cmpint (f->ps->params->len, ==, count + 1);
    g_assert_cmpint (f->enc.features, ==,
                     (c.use_ae ? 4 : 0) + (c.use_ms ? 4 : 0)
                     + (c.use_sal ? 4 : 0));

    mmdnn_rng_init (&rng, 2);
    x = gc_random (&rng, input_numel (&c, 2), 0.0f, 1.0f);
    tokens = forward_ok (f, x, 2, &recon);
    g_assert_true (all_finite (tokens, token_numel (&c, 2)));
    if (c.use_ae) {
      g_assert_cmpfloat (recon, >, 0.0f);
      g_assert_nonnull (mmdnn_image_encoder_latent (f->acts));
    } else {
      g_assert_cmpfloat (recon, ==, 0.0f);
      g_assert_null (mmdnn_image_encoder_latent (f->acts));
    }
    mmdnn_param_set_zero_grad (f->ps);
    mmdnn_image_encoder_backward (&f->enc, f->acts, tokens, c.use_ae ? 1.0f
                                  : 0.0f, 2);
    g_assert_true (all_finite (f->ps->grads, f->ps->numel));
    g_free (x);
    fixture_free (f);
  }
}

/* Names, shapes and the geometry of the default configs. */
static void
test_defaults (void)
{
  MmdnnImageEncoderConfig c;
  struct { const char *name; int64_t shape[4]; int ndim; } want[] = {
    { PREFIX ".ae.enc1.weight", { 16, 3, 3, 3 }, 4 },
    { PREFIX ".ae.enc3.weight", { 32, 32, 3, 3 }, 4 },
    { PREFIX ".ae.dec1.weight", { 32, 32, 4, 4 }, 4 },
    { PREFIX ".ae.dec2.weight", { 32, 3, 4, 4 }, 4 },
    { PREFIX ".ms.k7.weight", { 16, 3, 7, 7 }, 4 },
    { PREFIX ".ms.conv1.weight", { 64, 48, 3, 3 }, 4 },
    { PREFIX ".ms.conv2.weight", { 128, 64, 3, 3 }, 4 },
    { PREFIX ".sal.proj.weight", { 64, 36 }, 2 },
    { PREFIX ".proj.weight", { 128, 32 + 128 + 64 }, 2 },
    { PREFIX ".norm.weight", { 128 }, 1 },
    { PREFIX ".pos", { 16, 128 }, 2 },
  };
  Fixture *f;

  mmdnn_image_encoder_config_init_video (&c);
  g_assert_true (mmdnn_image_encoder_config_check (&c, NULL));
  f = fixture_new (&c, 1, 1);
  g_assert_cmpint (f->enc.tokens, ==, 16);
  g_assert_cmpint (f->enc.recon_h, ==, 32);
  g_assert_cmpint (f->enc.recon_w, ==, 32);
  for (gsize i = 0; i < G_N_ELEMENTS (want); i++) {
    MmdnnParam *p = mmdnn_param_set_lookup (f->ps, want[i].name);

    g_assert_nonnull (p);
    g_assert_cmpint (p->ndim, ==, want[i].ndim);
    for (int d = 0; d < p->ndim; d++)
      g_assert_cmpint (p->shape[d], ==, want[i].shape[d]);
  }
  g_assert_false (mmdnn_param_set_lookup (f->ps, PREFIX ".pos")->decay);
  g_test_message ("video encoder: %" G_GINT64_FORMAT " parameters",
                  f->ps->numel);
  fixture_free (f);

  mmdnn_image_encoder_config_init_audio (&c);
  g_assert_true (mmdnn_image_encoder_config_check (&c, NULL));
  f = fixture_new (&c, 1, 1);
  g_assert_cmpint (f->enc.tokens, ==, 10);
  g_assert_cmpint (c.channels, ==, 1);
  g_assert_cmpint (f->enc.recon_h, ==, 32);
  g_assert_cmpint (f->enc.recon_w, ==, 52);  /* 4·⌈100/8⌉ */
  g_test_message ("audio encoder: %" G_GINT64_FORMAT " parameters",
                  f->ps->numel);
  fixture_free (f);
}

/* Default configs end to end: finite tokens of the right count, a latent of
 * (N, L, ⌈H/8⌉, ⌈W/8⌉), and layer-normalised tokens before + pos. */
static void
test_default_forward (void)
{
  for (int audio = 0; audio <= 1; audio++) {
    MmdnnImageEncoderConfig c;
    Fixture *f;
    float *x, recon;
    const float *tokens, *latent;
    MmdnnRng rng;
    int64_t k, d, lh, lw;

    if (audio)
      mmdnn_image_encoder_config_init_audio (&c);
    else
      mmdnn_image_encoder_config_init_video (&c);
    f = fixture_new (&c, 2, 3);
    k = f->enc.tokens;
    d = c.dim;
    lh = (c.height + 7) / 8;
    lw = (c.width + 7) / 8;
    mmdnn_rng_init (&rng, 4);
    x = gc_random (&rng, input_numel (&c, 2), 0.0f, 1.0f);
    tokens = forward_ok (f, x, 2, &recon);
    g_assert_true (all_finite (tokens, 2 * k * d));
    g_assert_true (isfinite (recon) && recon > 0.0f);
    latent = mmdnn_image_encoder_latent (f->acts);
    g_assert_true (all_finite (latent, 2 * c.ae_latent * lh * lw));

    /* tokens − pos has mean 0 and variance ≈ 1 per token (norm w=1, b=0) */
    for (int64_t t = 0; t < 2 * k; t++) {
      double s = 0.0, s2 = 0.0;

      for (int64_t j = 0; j < d; j++) {
        double v = tokens[t * d + j] - f->enc.pos->value[(t % k) * d + j];
        s += v;
        s2 += v * v;
      }
      g_assert_cmpfloat (fabs (s / d), <, 1e-4);
      g_assert_cmpfloat (fabs (s2 / d - 1.0), <, 1e-2);
    }
    g_free (x);
    fixture_free (f);
  }
}

/* Backward twice onto the same grads gives exactly 2× once. */
static void
test_accumulate (void)
{
  MmdnnImageEncoderConfig c;
  Fixture *f;
  float *x, *dt, *once, recon;
  MmdnnRng rng;
  int64_t nt;

  tiny_config (&c);
  f = fixture_new (&c, 3, 7);
  nt = token_numel (&c, 3);
  mmdnn_rng_init (&rng, 8);
  x = gc_random (&rng, input_numel (&c, 3), -1.0f, 1.0f);
  dt = gc_random (&rng, nt, -1.0f, 1.0f);
  forward_ok (f, x, 3, &recon);
  mmdnn_param_set_zero_grad (f->ps);
  mmdnn_image_encoder_backward (&f->enc, f->acts, dt, 0.5f, 3);
  once = g_memdup2 (f->ps->grads, sizeof (float) * f->ps->numel);
  g_assert_false (all_zero (once, f->ps->numel));
  mmdnn_image_encoder_backward (&f->enc, f->acts, dt, 0.5f, 3);
  g_assert_true (check_doubled ("image encoder grads", once, f->ps->grads,
                                f->ps->numel));
  g_free (once);
  g_free (dt);
  g_free (x);
  fixture_free (f);
}

/* Without dtokens only the AE gets a gradient (from the recon loss); without
 * recon_loss the decoder is skipped and the tokens are the same. */
static void
test_partial (void)
{
  MmdnnImageEncoderConfig c;
  Fixture *f;
  float *x, *with, recon;
  const float *tokens;
  MmdnnRng rng;
  int64_t nt;

  tiny_config (&c);
  f = fixture_new (&c, 2, 9);
  nt = token_numel (&c, 2);
  mmdnn_rng_init (&rng, 10);
  x = gc_random (&rng, input_numel (&c, 2), -1.0f, 1.0f);
  with = g_memdup2 (forward_ok (f, x, 2, &recon), sizeof (float) * nt);
  tokens = forward_ok (f, x, 2, NULL);
  g_assert_cmpmem (tokens, sizeof (float) * nt, with, sizeof (float) * nt);

  forward_ok (f, x, 2, &recon);
  mmdnn_param_set_zero_grad (f->ps);
  mmdnn_image_encoder_backward (&f->enc, f->acts, NULL, 1.0f, 2);
  for (guint p = 0; p < f->ps->params->len; p++) {
    MmdnnParam *param = g_ptr_array_index (f->ps->params, p);
    gboolean ae = g_str_has_prefix (param->name, PREFIX ".ae.");

    g_assert_true (all_zero (param->grad, param->numel) != ae);
  }

  /* tokens only: the decoder gets nothing */
  forward_ok (f, x, 2, NULL);
  mmdnn_param_set_zero_grad (f->ps);
  mmdnn_image_encoder_backward (&f->enc, f->acts, with, 0.0f, 2);
  for (guint p = 0; p < f->ps->params->len; p++) {
    MmdnnParam *param = g_ptr_array_index (f->ps->params, p);
    gboolean dec = g_str_has_prefix (param->name, PREFIX ".ae.dec");

    g_assert_true (all_zero (param->grad, param->numel) == dec);
  }
  g_free (with);
  g_free (x);
  fixture_free (f);
}

/* Same seed → identical parameters and tokens; a sample's tokens do not
 * depend on the rest of the batch. */
static void
test_determinism (void)
{
  MmdnnImageEncoderConfig c;
  Fixture *f1, *f2;
  float *x, r1, r2;
  const float *t1, *t2;
  MmdnnRng rng;
  int64_t nt, per;

  tiny_config (&c);
  f1 = fixture_new (&c, 3, 42);
  f2 = fixture_new (&c, 3, 42);
  nt = token_numel (&c, 3);
  per = token_numel (&c, 1);
  g_assert_cmpmem (f1->ps->values, sizeof (float) * f1->ps->numel,
                   f2->ps->values, sizeof (float) * f2->ps->numel);
  mmdnn_rng_init (&rng, 43);
  x = gc_random (&rng, input_numel (&c, 3), -1.0f, 1.0f);
  t1 = forward_ok (f1, x, 3, &r1);
  t2 = forward_ok (f2, x, 3, &r2);
  g_assert_cmpmem (t1, sizeof (float) * nt, t2, sizeof (float) * nt);
  g_assert_cmpfloat (r1, ==, r2);

  for (int64_t i = 0; i < 3; i++) {
    t2 = forward_ok (f2, x + input_numel (&c, i), 1, NULL);
    g_assert_true (check_close ("sample alone vs in a batch", t2,
                                t1 + i * per, per, 1e-5));
  }
  g_free (x);
  fixture_free (f1);
  fixture_free (f2);
}

/* The reconstruction loss falls ≥ 5× over 200 AdamW steps on 4 fixed
 * samples, training through the whole encoder (tokens get a small random
 * target too, so every branch trains at the same time). */
static void
test_overfit (void)
{
  MmdnnImageEncoderConfig c;
  MmdnnOptimConfig oc;
  MmdnnOptim *opt;
  Fixture *f;
  float *x, *dt, first = 0.0f, recon = 0.0f;
  MmdnnRng rng;
  GError *err = NULL;

  tiny_config (&c);
  f = fixture_new (&c, 4, 12);
  mmdnn_rng_init (&rng, 13);
  x = gc_random (&rng, input_numel (&c, 4), -1.0f, 1.0f);
  dt = gc_random (&rng, token_numel (&c, 4), -1e-3f, 1e-3f);
  mmdnn_optim_config_init_adamw (&oc, 1e-2f, 0.0f);
  opt = mmdnn_optim_new (&oc, f->ps, &err);
  g_assert_no_error (err);
  for (int step = 0; step < 200; step++) {
    forward_ok (f, x, 4, &recon);
    if (step == 0)
      first = recon;
    mmdnn_param_set_zero_grad (f->ps);
    mmdnn_image_encoder_backward (&f->enc, f->acts, dt, 1.0f, 4);
    mmdnn_optim_step (opt, f->ps, oc.lr);
  }
  forward_ok (f, x, 4, &recon);
  g_test_message ("recon loss %g → %g", first, recon);
  g_assert_cmpfloat (recon * 5.0f, <=, first);
  mmdnn_optim_free (opt);
  g_free (dt);
  g_free (x);
  fixture_free (f);
}

/* ------------------------------------------------ golden (PyTorch) */

/* Loads PyTorch's parameters into the C encoder, runs forward and backward
 * with the same upstream gradients, and compares tokens, the recon loss and
 * every parameter gradient (≤ 1e-4). */
static void
test_golden (gconstpointer data)
{
  const char *case_name = data;
  Golden *g = golden_open (case_name);
  const float *geom;
  MmdnnImageEncoderConfig c;
  int64_t n, nt, hl, wl;
  Fixture *f;
  const float *tokens, *x, *want, *dtokens;
  float recon, drecon;
  char *gname;

  g_assert_nonnull (g);
  geom = GF32 (g, "config", 13);
  g_assert_nonnull (geom);
  c = (MmdnnImageEncoderConfig) {
    .channels = geom[0], .height = geom[1], .width = geom[2],
    .grid_h = geom[3], .grid_w = geom[4], .dim = geom[5],
    .use_ae = TRUE, .use_ms = TRUE, .use_sal = TRUE,
    .ae_width = geom[6], .ae_latent = geom[7], .ms_width = geom[8],
    .ms_width2 = geom[9], .ms_width3 = geom[10], .sal_width = geom[11],
  };
  n = geom[12];
  f = fixture_new (&c, n, 0);
  nt = token_numel (&c, n);
  hl = (c.height + 7) / 8;
  wl = (c.width + 7) / 8;
  for (guint p = 0; p < f->ps->params->len; p++) {
    MmdnnParam *param = g_ptr_array_index (f->ps->params, p);
    const float *v = golden_get (g, param->name, GOLDEN_F32, param->ndim,
                                 param->shape);

    g_assert_nonnull (v);
    memcpy (param->value, v, sizeof (float) * param->numel);
  }
  x = GF32 (g, "x", n, c.channels, c.height, c.width);
  g_assert_nonnull (x);
  tokens = forward_ok (f, x, n, &recon);
  want = GF32 (g, "tokens", n, c.grid_h * c.grid_w, c.dim);
  g_assert_nonnull (want);
  g_assert_true (check_close ("tokens", tokens, want, nt, 1e-4));
  want = GF32 (g, "latent", n, c.ae_latent, hl, wl);
  g_assert_nonnull (want);
  g_assert_true (check_close ("latent", mmdnn_image_encoder_latent (f->acts),
                              want, n * c.ae_latent * hl * wl, 1e-4));
  want = GF32 (g, "recon_loss", 1);
  g_assert_nonnull (want);
  g_assert_true (check_close ("recon_loss", &recon, want, 1, 1e-5));
  want = GF32 (g, "drecon", 1);
  g_assert_nonnull (want);
  drecon = want[0];
  dtokens = GF32 (g, "dtokens", n, c.grid_h * c.grid_w, c.dim);
  g_assert_nonnull (dtokens);
  mmdnn_param_set_zero_grad (f->ps);
  mmdnn_image_encoder_backward (&f->enc, f->acts, dtokens, drecon, n);
  for (guint p = 0; p < f->ps->params->len; p++) {
    MmdnnParam *param = g_ptr_array_index (f->ps->params, p);

    gname = g_strdup_printf ("d%s", param->name);
    want = golden_get (g, gname, GOLDEN_F32, param->ndim, param->shape);
    g_assert_nonnull (want);
    g_assert_true (check_close (gname, param->grad, want, param->numel,
                                1e-4));
    g_free (gname);
  }
  fixture_free (f);
  golden_free (g);
}

/* ------------------------------------------------ negative tests */

typedef struct {
  const char *path;
  void (*edit) (MmdnnImageEncoderConfig *c);
} BadConfig;

static void all_off (MmdnnImageEncoderConfig *c) { c->use_ae = c->use_ms = c->use_sal = FALSE; }
static void channels_zero (MmdnnImageEncoderConfig *c) { c->channels = 0; }
static void height_zero (MmdnnImageEncoderConfig *c) { c->height = 0; }
static void width_negative (MmdnnImageEncoderConfig *c) { c->width = -16; }
static void too_small_for_ae (MmdnnImageEncoderConfig *c) { c->height = 7; c->grid_h = 1; c->use_ms = c->use_sal = FALSE; }
static void grid_zero (MmdnnImageEncoderConfig *c) { c->grid_w = 0; }
static void grid_larger_than_input (MmdnnImageEncoderConfig *c) { c->grid_h = 17; c->use_ae = c->use_sal = FALSE; }
static void grid_larger_than_ms_map (MmdnnImageEncoderConfig *c) { c->grid_w = 5; c->use_ae = c->use_sal = FALSE; }
static void grid_larger_than_latent (MmdnnImageEncoderConfig *c) { c->grid_h = 3; c->use_ms = c->use_sal = FALSE; }
static void grid_too_fine_for_sal (MmdnnImageEncoderConfig *c) { c->grid_h = 6; c->use_ae = c->use_ms = FALSE; }
static void dim_zero (MmdnnImageEncoderConfig *c) { c->dim = 0; }
static void ae_width_zero (MmdnnImageEncoderConfig *c) { c->ae_width = 0; }
static void ae_latent_zero (MmdnnImageEncoderConfig *c) { c->ae_latent = 0; }
static void ms_width_zero (MmdnnImageEncoderConfig *c) { c->ms_width = 0; }
static void ms_width3_zero (MmdnnImageEncoderConfig *c) { c->ms_width3 = 0; }
static void sal_width_zero (MmdnnImageEncoderConfig *c) { c->sal_width = 0; }
static void size_huge (MmdnnImageEncoderConfig *c) { c->width = G_GINT64_CONSTANT (1) << 40; }

static const BadConfig bad_configs[] = {
  { "/encoder-image/config-all-branches-off_n", all_off },
  { "/encoder-image/config-channels-zero_n", channels_zero },
  { "/encoder-image/config-height-zero_n", height_zero },
  { "/encoder-image/config-width-negative_n", width_negative },
  { "/encoder-image/config-too-small-for-ae_n", too_small_for_ae },
  { "/encoder-image/config-grid-zero_n", grid_zero },
  { "/encoder-image/config-grid-larger-than-input_n", grid_larger_than_input },
  { "/encoder-image/config-grid-larger-than-ms-map_n", grid_larger_than_ms_map },
  { "/encoder-image/config-grid-larger-than-latent_n", grid_larger_than_latent },
  { "/encoder-image/config-grid-too-fine-for-saliency_n", grid_too_fine_for_sal },
  { "/encoder-image/config-dim-zero_n", dim_zero },
  { "/encoder-image/config-ae-width-zero_n", ae_width_zero },
  { "/encoder-image/config-ae-latent-zero_n", ae_latent_zero },
  { "/encoder-image/config-ms-width-zero_n", ms_width_zero },
  { "/encoder-image/config-ms-width3-zero_n", ms_width3_zero },
  { "/encoder-image/config-sal-width-zero_n", sal_width_zero },
  { "/encoder-image/config-size-huge_n", size_huge },
};

/* Both the check and init fail, and init declares nothing. */
static void
test_bad_config_n (gconstpointer data)
{
  const BadConfig *bad = data;
  MmdnnImageEncoderConfig c;
  MmdnnImageEncoder e, before;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  GError *err = NULL;

  tiny_config (&c);
  bad->edit (&c);
  g_assert_false (mmdnn_image_encoder_config_check (&c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", err->message);
  g_clear_error (&err);

  memset (&e, 0xab, sizeof e);
  before = e;
  g_assert_false (mmdnn_image_encoder_init (&e, ps, PREFIX, &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_cmpuint (ps->params->len, ==, 0);
  g_assert_cmpmem (&e, sizeof e, &before, sizeof before);
  mmdnn_param_set_free (ps);
}

/* The sizes around the limits pass: H = W = 8 with AE only, grid 1×1. */
static void
test_config_limits (void)
{
  MmdnnImageEncoderConfig c;
  Fixture *f;
  float *x, recon;
  MmdnnRng rng;

  tiny_config (&c);
  c.height = c.width = 8;
  c.grid_h = c.grid_w = 1;
  c.use_ms = c.use_sal = FALSE;
  f = fixture_new (&c, 1, 1);
  g_assert_cmpint (f->enc.recon_h, ==, 4);
  mmdnn_rng_init (&rng, 1);
  x = gc_random (&rng, input_numel (&c, 1), 0.0f, 1.0f);
  g_assert_true (all_finite (forward_ok (f, x, 1, &recon), c.dim));
  g_free (x);
  fixture_free (f);
}

static void
test_config_null_n (void)
{
  GError *err = NULL;

  g_assert_false (mmdnn_image_encoder_config_check (NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
}

static void
test_init_null_n (void)
{
  MmdnnImageEncoderConfig c;
  MmdnnImageEncoder e;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  GError *err = NULL;

  tiny_config (&c);
  g_assert_false (mmdnn_image_encoder_init (NULL, ps, PREFIX, &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_image_encoder_init (&e, NULL, PREFIX, &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_image_encoder_init (&e, ps, NULL, &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_image_encoder_init (&e, ps, "", &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_image_encoder_init (&e, ps, PREFIX, NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_cmpuint (ps->params->len, ==, 0);
  mmdnn_param_set_free (ps);
}

/* A second encoder under the same prefix fails before declaring anything;
 * a different prefix in the same set works (video and audio share one). */
static void
test_init_name_taken_n (void)
{
  MmdnnImageEncoderConfig c;
  MmdnnImageEncoder e1, e2;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  GError *err = NULL;
  guint count;
  int64_t numel;

  tiny_config (&c);
  g_assert_true (mmdnn_image_encoder_init (&e1, ps, PREFIX, &c, &err));
  count = ps->params->len;
  numel = ps->numel;
  g_assert_false (mmdnn_image_encoder_init (&e2, ps, PREFIX, &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_cmpuint (ps->params->len, ==, count);
  g_assert_cmpint (ps->numel, ==, numel);
  /* only the head is left free under this prefix: still a clash */
  g_assert_nonnull (mmdnn_param_set_declare (ps, "other.pos", 1,
                                             (int64_t[]) { 1 }, FALSE, NULL));
  count = ps->params->len;
  c.use_ae = c.use_ms = FALSE;
  g_assert_false (mmdnn_image_encoder_init (&e2, ps, "other", &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_cmpuint (ps->params->len, ==, count);
  g_assert_true (mmdnn_image_encoder_init (&e2, ps, "audio", &c, &err));
  g_assert_no_error (err);
  mmdnn_param_set_free (ps);
}

static void
test_init_allocated_n (void)
{
  MmdnnImageEncoderConfig c;
  MmdnnImageEncoder e;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  GError *err = NULL;

  tiny_config (&c);
  g_assert_nonnull (mmdnn_param_set_declare (ps, "head.bias", 1,
                                             (int64_t[]) { 3 }, FALSE, NULL));
  g_assert_true (mmdnn_param_set_allocate (ps, NULL));
  g_assert_false (mmdnn_image_encoder_init (&e, ps, PREFIX, &c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_cmpuint (ps->params->len, ==, 1);
  mmdnn_param_set_free (ps);
}

static void
test_acts_bad_encoder_n (void)
{
  MmdnnImageEncoder zero = { 0 };
  GError *err = NULL;

  g_assert_null (mmdnn_image_encoder_acts_new (NULL, 1, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_null (mmdnn_image_encoder_acts_new (&zero, 1, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  mmdnn_image_encoder_acts_free (NULL);
}

static void
test_acts_bad_max_n_n (void)
{
  MmdnnImageEncoderConfig c;
  Fixture *f;
  GError *err = NULL;

  tiny_config (&c);
  f = fixture_new (&c, 1, 1);
  g_assert_null (mmdnn_image_encoder_acts_new (&f->enc, 0, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_null (mmdnn_image_encoder_acts_new (&f->enc, -3, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  fixture_free (f);
}

static void
test_acts_too_large_n (void)
{
  MmdnnImageEncoderConfig c;
  Fixture *f;
  GError *err = NULL;

  tiny_config (&c);
  f = fixture_new (&c, 1, 1);
  g_assert_null (mmdnn_image_encoder_acts_new (&f->enc, G_MAXINT64 / 2,
                                               &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY);
  g_clear_error (&err);
  fixture_free (f);
}

/* A failed forward leaves *tokens and *recon_loss alone. */
static void
expect_forward_fails (Fixture *f, MmdnnImageEncoderActs *a, const float *x,
                      int64_t n, gboolean null_tokens)
{
  const float *tokens = (const float *) &tokens;
  const float *sentinel = tokens;
  float recon = 123.0f;
  GError *err = NULL;

  g_assert_false (mmdnn_image_encoder_forward (&f->enc, a, x, n,
                                               null_tokens ? NULL : &tokens,
                                               &recon, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", err->message);
  g_clear_error (&err);
  g_assert_true (tokens == sentinel);
  g_assert_cmpfloat (recon, ==, 123.0f);
}

static void
test_forward_n_too_large_n (void)
{
  MmdnnImageEncoderConfig c;
  Fixture *f;
  float *x;

  tiny_config (&c);
  f = fixture_new (&c, 2, 1);
  x = gc_zeros (input_numel (&c, 3));
  expect_forward_fails (f, f->acts, x, 3, FALSE);
  g_free (x);
  fixture_free (f);
}

static void
test_forward_n_zero_n (void)
{
  MmdnnImageEncoderConfig c;
  Fixture *f;
  float *x;

  tiny_config (&c);
  f = fixture_new (&c, 2, 1);
  x = gc_zeros (input_numel (&c, 2));
  expect_forward_fails (f, f->acts, x, 0, FALSE);
  expect_forward_fails (f, f->acts, x, -1, FALSE);
  g_free (x);
  fixture_free (f);
}

static void
test_forward_null_n (void)
{
  MmdnnImageEncoderConfig c;
  Fixture *f;
  float *x;
  const float *tokens;
  GError *err = NULL;

  tiny_config (&c);
  f = fixture_new (&c, 2, 1);
  x = gc_zeros (input_numel (&c, 2));
  expect_forward_fails (f, NULL, x, 1, FALSE);
  expect_forward_fails (f, f->acts, NULL, 1, FALSE);
  expect_forward_fails (f, f->acts, x, 1, TRUE);
  g_assert_false (mmdnn_image_encoder_forward (NULL, f->acts, x, 1, &tokens,
                                               NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_free (x);
  fixture_free (f);
}

/* Activations of another config (e.g. the audio encoder's) are refused. */
static void
test_forward_other_acts_n (void)
{
  MmdnnImageEncoderConfig c;
  Fixture *f, *g;
  float *x;

  tiny_config (&c);
  f = fixture_new (&c, 2, 1);
  c.use_sal = FALSE;
  g = fixture_new (&c, 2, 1);
  x = gc_zeros (input_numel (&c, 2));
  expect_forward_fails (f, g->acts, x, 1, FALSE);
  g_free (x);
  fixture_free (g);
  fixture_free (f);
}

static void
test_forward_unallocated_n (void)
{
  MmdnnImageEncoderConfig c;
  MmdnnImageEncoder e;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  Fixture f = { 0 };
  GError *err = NULL;
  float *x;

  tiny_config (&c);
  g_assert_true (mmdnn_image_encoder_init (&e, ps, PREFIX, &c, &err));
  f.enc = e;
  f.acts = mmdnn_image_encoder_acts_new (&e, 1, &err);
  g_assert_no_error (err);
  x = gc_zeros (input_numel (&c, 1));
  expect_forward_fails (&f, f.acts, x, 1, FALSE);
  g_free (x);
  mmdnn_image_encoder_acts_free (f.acts);
  mmdnn_param_set_free (ps);
}

int
main (int argc, char **argv)
{
  static const struct { const char *path; Variant v; } grads[] = {
    { "/encoder-image/gradcheck-all", ALL },
    { "/encoder-image/gradcheck-no-ae", NO_AE },
    { "/encoder-image/gradcheck-no-ms", NO_MS },
    { "/encoder-image/gradcheck-no-sal", NO_SAL },
    { "/encoder-image/gradcheck-only-ae", ONLY_AE },
    { "/encoder-image/gradcheck-only-ms", ONLY_MS },
    { "/encoder-image/gradcheck-only-sal", ONLY_SAL },
  };

  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (grads); i++)
    g_test_add_data_func (grads[i].path, GINT_TO_POINTER (grads[i].v),
                          test_gradcheck);
  g_test_add_func ("/encoder-image/gradcheck-odd", test_gradcheck_odd);
  g_test_add_func ("/encoder-image/branches", test_branches);
  g_test_add_func ("/encoder-image/defaults", test_defaults);
  g_test_add_func ("/encoder-image/default-forward", test_default_forward);
  g_test_add_func ("/encoder-image/accumulate", test_accumulate);
  g_test_add_func ("/encoder-image/partial", test_partial);
  g_test_add_func ("/encoder-image/determinism", test_determinism);
  g_test_add_func ("/encoder-image/overfit", test_overfit);
  g_test_add_func ("/encoder-image/config-limits", test_config_limits);
  g_test_add_data_func ("/encoder-image/golden-square",
                        "encoder-image-square", test_golden);
  g_test_add_data_func ("/encoder-image/golden-rect",
                        "encoder-image-rect", test_golden);

  for (gsize i = 0; i < G_N_ELEMENTS (bad_configs); i++)
    g_test_add_data_func (bad_configs[i].path, &bad_configs[i],
                          test_bad_config_n);
  g_test_add_func ("/encoder-image/config-null_n", test_config_null_n);
  g_test_add_func ("/encoder-image/init-null_n", test_init_null_n);
  g_test_add_func ("/encoder-image/init-name-taken_n", test_init_name_taken_n);
  g_test_add_func ("/encoder-image/init-allocated-set_n", test_init_allocated_n);
  g_test_add_func ("/encoder-image/acts-bad-encoder_n", test_acts_bad_encoder_n);
  g_test_add_func ("/encoder-image/acts-bad-max-n_n", test_acts_bad_max_n_n);
  g_test_add_func ("/encoder-image/acts-too-large_n", test_acts_too_large_n);
  g_test_add_func ("/encoder-image/forward-n-too-large_n",
                   test_forward_n_too_large_n);
  g_test_add_func ("/encoder-image/forward-n-zero_n", test_forward_n_zero_n);
  g_test_add_func ("/encoder-image/forward-null_n", test_forward_null_n);
  g_test_add_func ("/encoder-image/forward-other-acts_n",
                   test_forward_other_acts_n);
  g_test_add_func ("/encoder-image/forward-unallocated_n",
                   test_forward_unallocated_n);
  return g_test_run ();
}
