/* Conv2d, ConvTranspose2d and Conv1d: values against direct loops,
 * finite-difference gradients, accumulation, modules, and bad arguments.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/conv.h>
#include "gradcheck.h"

typedef enum { CONV2D, CONVT2D, CONV1D } Kind;

/* One layer configuration. Conv1d uses the W axis: h = kh = sh = 1, ph = 0
 * (its direct reference is then the 2-D loop with H = 1). */
typedef struct {
  Kind     kind;
  int64_t  n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, oph, opw;
  gboolean bias;
} Config;

static const Config conv2d_configs[] = {
  { CONV2D, 2, 3, 7, 6, 4, 3, 3, 2, 2, 1, 1, 0, 0, TRUE },   /* the usual */
  { CONV2D, 3, 2, 5, 8, 3, 2, 3, 1, 2, 0, 1, 0, 0, TRUE },   /* non-square */
  { CONV2D, 2, 5, 3, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, FALSE },  /* pointwise */
  { CONV2D, 1, 2, 5, 4, 3, 2, 2, 3, 3, 2, 2, 0, 0, TRUE },   /* pad ≥ k */
  { CONV2D, 3, 1, 6, 5, 2, 1, 3, 2, 1, 0, 1, 0, 0, FALSE },  /* 1×3 */
};

static const Config convt2d_configs[] = {
  { CONVT2D, 2, 3, 4, 3, 4, 3, 3, 2, 2, 1, 1, 1, 1, TRUE },
  { CONVT2D, 3, 2, 3, 5, 3, 2, 3, 3, 1, 0, 1, 2, 0, TRUE },  /* non-square */
  { CONVT2D, 2, 5, 3, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, FALSE }, /* pointwise */
  { CONVT2D, 1, 2, 3, 4, 3, 4, 4, 2, 2, 1, 1, 0, 0, FALSE }, /* 2× upsample */
  { CONVT2D, 2, 3, 3, 2, 2, 1, 2, 2, 3, 0, 0, 1, 2, TRUE },  /* gaps */
};

static const Config conv1d_configs[] = {
  { CONV1D, 2, 3, 1, 9, 4, 1, 3, 1, 2, 0, 1, 0, 0, TRUE },
  { CONV1D, 3, 2, 1, 7, 3, 1, 5, 1, 1, 0, 2, 0, 0, FALSE },
  { CONV1D, 2, 4, 1, 5, 3, 1, 1, 1, 1, 0, 0, 0, 0, TRUE },   /* pointwise */
};

/* A layer instance: its shape, data and gradient buffers. */
typedef struct {
  const Config      *cfg;
  MmdnnConv2dShape   s2;
  MmdnnConvT2dShape  st;
  MmdnnConv1dShape   s1;
  int64_t            oh, ow, nx, nw, ny, ncol;
  float             *x, *w, *b, *y, *col, *dy, *dx, *dw, *db;
} Case;

static Case *
case_new (const Config *c, uint64_t seed)
{
  Case *t = g_new0 (Case, 1);
  MmdnnRng rng;

  t->cfg = c;
  switch (c->kind) {
  case CONV2D:
    g_assert_true (mmdnn_conv2d_shape_init (&t->s2, c->c_in, c->h, c->w,
                                            c->c_out, c->kh, c->kw, c->sh,
                                            c->sw, c->ph, c->pw, NULL));
    t->oh = t->s2.h_out, t->ow = t->s2.w_out, t->ncol = t->s2.col_size;
    break;
  case CONVT2D:
    g_assert_true (mmdnn_conv_transpose2d_shape_init (&t->st, c->c_in, c->h,
                                                      c->w, c->c_out, c->kh,
                                                      c->kw, c->sh, c->sw,
                                                      c->ph, c->pw, c->oph,
                                                      c->opw, NULL));
    t->oh = t->st.h_out, t->ow = t->st.w_out, t->ncol = t->st.col_size;
    break;
  case CONV1D:
    g_assert_true (mmdnn_conv1d_shape_init (&t->s1, c->c_in, c->w, c->c_out,
                                            c->kw, c->sw, c->pw, NULL));
    t->oh = 1, t->ow = t->s1.l_out, t->ncol = t->s1.col_size;
    break;
  }
  t->nx = c->n * c->c_in * c->h * c->w;
  t->nw = c->c_out * c->c_in * c->kh * c->kw;
  t->ny = c->n * c->c_out * t->oh * t->ow;
  mmdnn_rng_init (&rng, seed);
  t->x = gc_random (&rng, t->nx, -1, 1);
  t->w = gc_random (&rng, t->nw, -1, 1);
  t->b = c->bias ? gc_random (&rng, c->c_out, -1, 1) : NULL;
  t->dy = gc_random (&rng, t->ny, -1, 1);
  t->y = gc_zeros (t->ny);
  t->col = gc_random (&rng, t->ncol, -1, 1);  /* garbage: must not matter */
  t->dx = gc_zeros (t->nx);
  t->dw = gc_zeros (t->nw);
  t->db = gc_zeros (c->c_out);
  return t;
}

static void
case_free (Case *t)
{
  float *bufs[] = { t->x, t->w, t->b, t->y, t->col, t->dy, t->dx, t->dw,
                    t->db };
  for (guint i = 0; i < G_N_ELEMENTS (bufs); i++)
    g_free (bufs[i]);
  g_free (t);
}

static void
case_forward (void *ctx)
{
  Case *t = ctx;

  switch (t->cfg->kind) {
  case CONV2D:
    mmdnn_conv2d_forward (t->y, t->col, t->x, t->w, t->b, &t->s2, t->cfg->n);
    break;
  case CONVT2D:
    mmdnn_conv_transpose2d_forward (t->y, t->col, t->x, t->w, t->b, &t->st,
                                    t->cfg->n);
    break;
  case CONV1D:
    mmdnn_conv1d_forward (t->y, t->col, t->x, t->w, t->b, &t->s1, t->cfg->n);
    break;
  }
}

static void
case_backward (Case *t, float *dx, float *dw, float *db)
{
  if (t->b == NULL)
    db = NULL;
  switch (t->cfg->kind) {
  case CONV2D:
    mmdnn_conv2d_backward (dx, dw, db, t->col, t->dy, t->x, t->w, &t->s2,
                           t->cfg->n);
    break;
  case CONVT2D:
    mmdnn_conv_transpose2d_backward (dx, dw, db, t->col, t->dy, t->x, t->w,
                                     &t->st, t->cfg->n);
    break;
  case CONV1D:
    mmdnn_conv1d_backward (dx, dw, db, t->col, t->dy, t->x, t->w, &t->s1,
                           t->cfg->n);
    break;
  }
}

static char *
case_label (const Case *t, const char *what)
{
  const Config *c = t->cfg;
  return g_strdup_printf ("%s kind=%d n=%" G_GINT64_FORMAT " c_in=%"
                          G_GINT64_FORMAT " %" G_GINT64_FORMAT "x%"
                          G_GINT64_FORMAT " k=%" G_GINT64_FORMAT "x%"
                          G_GINT64_FORMAT " s=%" G_GINT64_FORMAT "x%"
                          G_GINT64_FORMAT " p=%" G_GINT64_FORMAT "x%"
                          G_GINT64_FORMAT, what, c->kind, c->n, c->c_in,
                          c->h, c->w, c->kh, c->kw, c->sh, c->sw, c->ph,
                          c->pw);
}

/* The definitions, as direct loops in double. Conv2d gathers:
 *   y[i,o,oy,ox] = b[o] + Σ x[i,c,oy·sh−ph+ki, ox·sw−pw+kj] · w[o,c,ki,kj]
 * ConvTranspose2d scatters every input pixel through the kernel:
 *   y[i,o,iy·sh−ph+ki, ix·sw−pw+kj] += x[i,c,iy,ix] · w[c,o,ki,kj]        */
static float *
reference_forward (const Case *t)
{
  const Config *c = t->cfg;
  double *acc = g_new0 (double, t->ny);
  float *y = g_new (float, t->ny);

  for (int64_t i = 0; i < c->n; i++)
    for (int64_t o = 0; o < c->c_out; o++)
      for (int64_t p = 0; p < t->oh * t->ow; p++)
        acc[(i * c->c_out + o) * t->oh * t->ow + p] = t->b ? t->b[o] : 0.0;

  for (int64_t i = 0; i < c->n; i++)
    for (int64_t ci = 0; ci < c->c_in; ci++)
      for (int64_t o = 0; o < c->c_out; o++)
        for (int64_t ki = 0; ki < c->kh; ki++)
          for (int64_t kj = 0; kj < c->kw; kj++) {
            gboolean t2d = c->kind == CONVT2D;
            double wv = t2d ? t->w[((ci * c->c_out + o) * c->kh + ki) * c->kw + kj]
                            : t->w[((o * c->c_in + ci) * c->kh + ki) * c->kw + kj];
            /* (a, b) walks the side the kernel is anchored on */
            int64_t ah = t2d ? c->h : t->oh, aw = t2d ? c->w : t->ow;
            for (int64_t a = 0; a < ah; a++)
              for (int64_t bb = 0; bb < aw; bb++) {
                int64_t u = a * c->sh - c->ph + ki, v = bb * c->sw - c->pw + kj;
                if (t2d && u >= 0 && u < t->oh && v >= 0 && v < t->ow)
                  acc[((i * c->c_out + o) * t->oh + u) * t->ow + v] +=
                      t->x[((i * c->c_in + ci) * c->h + a) * c->w + bb] * wv;
                else if (!t2d && u >= 0 && u < c->h && v >= 0 && v < c->w)
                  acc[((i * c->c_out + o) * t->oh + a) * t->ow + bb] +=
                      t->x[((i * c->c_in + ci) * c->h + u) * c->w + v] * wv;
              }
          }
  for (int64_t j = 0; j < t->ny; j++)
    y[j] = (float) acc[j];
  g_free (acc);
  return y;
}

static void
run_forward (const Config *configs, guint n_configs)
{
  for (guint k = 0; k < n_configs; k++) {
    Case *t = case_new (&configs[k], 100 + k);
    float *want = reference_forward (t);
    char *label = case_label (t, "forward");

    memset (t->y, 0xff, sizeof (float) * t->ny);   /* NaN: must be overwritten */
    case_forward (t);
    g_assert_true (check_close (label, t->y, want, t->ny, 1e-5));
    g_free (label);
    g_free (want);
    case_free (t);
  }
}

/* L = Σ dy ⊙ y: backward with dy gives dL/dx, dL/dw, dL/db. */
static void
run_grad (const Config *configs, guint n_configs)
{
  for (guint k = 0; k < n_configs; k++) {
    Case *t = case_new (&configs[k], 200 + k);
    char *label = case_label (t, "grad");
    GradcheckInput in[] = {
      { "x", t->x, t->dx, t->nx },
      { "w", t->w, t->dw, t->nw },
      { "b", t->b, t->db, t->cfg->c_out },
    };

    case_forward (t);
    case_backward (t, t->dx, t->dw, t->db);
    g_assert_true (gradcheck (label, case_forward, t, t->y, t->ny, t->dy, in,
                              t->b != NULL ? 3 : 2, 1e-2, 2e-3, 1e-2));
    g_free (label);
    case_free (t);
  }
}


/* Backward twice onto the same grads gives exactly 2×; each NULL gradient is
 * skipped without changing the others. */
static void
run_accumulate (const Config *configs, guint n_configs)
{
  for (guint k = 0; k < n_configs; k++) {
    Case *t = case_new (&configs[k], 300 + k);
    int64_t nb = t->cfg->c_out;
    float *dx1, *dw1, *db1, *only;

    case_forward (t);
    case_backward (t, t->dx, t->dw, t->db);
    dx1 = g_memdup2 (t->dx, sizeof (float) * t->nx);
    dw1 = g_memdup2 (t->dw, sizeof (float) * t->nw);
    db1 = g_memdup2 (t->db, sizeof (float) * nb);
    case_backward (t, t->dx, t->dw, t->db);
    g_assert_true (check_doubled ("dx", dx1, t->dx, t->nx));
    g_assert_true (check_doubled ("dw", dw1, t->dw, t->nw));
    g_assert_true (check_doubled ("db", db1, t->db, nb));

    only = gc_zeros (t->nx);
    case_backward (t, only, NULL, NULL);
    g_assert_true (check_close ("dx alone", only, dx1, t->nx, 1e-6));
    g_free (only);
    only = gc_zeros (t->nw);
    case_backward (t, NULL, only, NULL);
    g_assert_true (check_close ("dw alone", only, dw1, t->nw, 1e-6));
    g_free (only);
    only = gc_zeros (nb);
    case_backward (t, NULL, NULL, only);
    g_assert_true (check_close ("db alone", only, db1, t->b ? nb : 0, 1e-6));
    g_free (only);

    g_free (dx1);
    g_free (dw1);
    g_free (db1);
    case_free (t);
  }
}

#define N_OF(a) (a), G_N_ELEMENTS (a)

static void test_conv2d_forward (void) { run_forward (N_OF (conv2d_configs)); }
static void test_conv2d_grad (void) { run_grad (N_OF (conv2d_configs)); }
static void test_conv2d_accumulate (void) { run_accumulate (N_OF (conv2d_configs)); }
static void test_convt2d_forward (void) { run_forward (N_OF (convt2d_configs)); }
static void test_convt2d_grad (void) { run_grad (N_OF (convt2d_configs)); }
static void test_convt2d_accumulate (void) { run_accumulate (N_OF (convt2d_configs)); }
static void test_conv1d_forward (void) { run_forward (N_OF (conv1d_configs)); }
static void test_conv1d_grad (void) { run_grad (N_OF (conv1d_configs)); }
static void test_conv1d_accumulate (void) { run_accumulate (N_OF (conv1d_configs)); }

/* Geometry against PyTorch's formulas, worked by hand. */
static void
test_shapes (void)
{
  MmdnnConv2dShape s2;
  MmdnnConvT2dShape st;
  MmdnnConv1dShape s1;

  g_assert_true (mmdnn_conv2d_shape_init (&s2, 3, 7, 6, 4, 3, 3, 2, 2, 1, 1,
                                          NULL));
  /* (7 + 2 − 3)/2 + 1 = 4, (6 + 2 − 3)/2 + 1 = 3 */
  g_assert_cmpint (s2.h_out, ==, 4);
  g_assert_cmpint (s2.w_out, ==, 3);
  g_assert_cmpint (s2.col_size, ==, 3 * 3 * 3 * 4 * 3);
  g_assert_true (mmdnn_conv2d_shape_init (&s2, 1, 5, 5, 1, 5, 5, 7, 7, 0, 0,
                                          NULL));
  g_assert_cmpint (s2.h_out, ==, 1);
  g_assert_cmpint (s2.w_out, ==, 1);

  g_assert_true (mmdnn_conv_transpose2d_shape_init (&st, 3, 4, 3, 4, 3, 3, 2,
                                                    2, 1, 1, 1, 1, NULL));
  /* (4 − 1)·2 − 2 + 3 + 1 = 8, (3 − 1)·2 − 2 + 3 + 1 = 6 */
  g_assert_cmpint (st.h_out, ==, 8);
  g_assert_cmpint (st.w_out, ==, 6);
  g_assert_cmpint (st.col_size, ==, 4 * 3 * 3 * 4 * 3);
  g_assert_cmpint (st.out_pad_h, ==, 1);

  g_assert_true (mmdnn_conv1d_shape_init (&s1, 3, 9, 4, 3, 2, 1, NULL));
  g_assert_cmpint (s1.l_out, ==, 5);
  g_assert_cmpint (s1.col_size, ==, 3 * 3 * 5);
}

/* ---- modules ------------------------------------------------------------ */

static void
check_param (MmdnnParamSet *ps, const char *name, const MmdnnParam *p,
             int ndim, const int64_t *shape, gboolean decay)
{
  g_assert_nonnull (p);
  g_assert_true (mmdnn_param_set_lookup (ps, name) == p);
  g_assert_cmpint (p->ndim, ==, ndim);
  for (int i = 0; i < ndim; i++)
    g_assert_cmpint (p->shape[i], ==, shape[i]);
  g_assert_cmpint (p->decay, ==, decay);
}

/* Every value in [−bound, bound), and spread out: the largest magnitude
 * over ≥ 20 draws is above 0.6·bound, which a bound half as large fails. */
static void
check_uniform (const MmdnnParam *p, double bound)
{
  double biggest = 0.0;

  for (int64_t i = 0; i < p->numel; i++) {
    g_assert_cmpfloat (p->value[i], >=, -bound);
    g_assert_cmpfloat (p->value[i], <=, bound);
    biggest = MAX (biggest, fabs (p->value[i]));
  }
  g_assert_cmpint (p->numel, >=, 20);
  g_assert_cmpfloat (biggest, >, 0.6 * bound);
}

static void
test_conv2d_module (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnConv2d m, nob;
  MmdnnConv2dShape s;
  MmdnnRng rng;

  g_assert_true (mmdnn_conv2d_init (&m, ps, "video.conv1", 3, 7, 6, 40, 3, 2,
                                    2, 1, 1, 0, TRUE, NULL));
  g_assert_true (mmdnn_conv2d_init (&nob, ps, "video.conv2", 40, 4, 6, 5, 1,
                                    1, 1, 1, 0, 0, FALSE, NULL));
  check_param (ps, "video.conv1.weight", m.weight, 4,
               (int64_t[]) { 40, 3, 3, 2 }, TRUE);
  check_param (ps, "video.conv1.bias", m.bias, 1, (int64_t[]) { 40 }, FALSE);
  check_param (ps, "video.conv2.weight", nob.weight, 4,
               (int64_t[]) { 5, 40, 1, 1 }, TRUE);
  g_assert_null (nob.bias);
  g_assert_null (mmdnn_param_set_lookup (ps, "video.conv2.bias"));
  g_assert_cmpuint (ps->params->len, ==, 3);
  g_assert_true (mmdnn_conv2d_shape_init (&s, 3, 7, 6, 40, 3, 2, 2, 1, 1, 0,
                                          NULL));
  g_assert_true (memcmp (&s, &m.shape, sizeof s) == 0);

  g_assert_true (mmdnn_param_set_allocate (ps, NULL));
  mmdnn_rng_init (&rng, 7);
  mmdnn_conv2d_reset (&m, &rng);
  mmdnn_conv2d_reset (&nob, &rng);
  check_uniform (m.weight, 1.0 / sqrt (3 * 3 * 2));      /* fan_in c_in·kh·kw */
  check_uniform (m.bias, 1.0 / sqrt (3 * 3 * 2));
  check_uniform (nob.weight, 1.0 / sqrt (40));
  mmdnn_param_set_free (ps);
}

static void
test_convt2d_module (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnConvTranspose2d m, nob;
  MmdnnConvT2dShape s;
  MmdnnRng rng;

  g_assert_true (mmdnn_conv_transpose2d_init (&m, ps, "dec.up", 2, 4, 3, 24,
                                              3, 3, 2, 2, 1, 1, 1, 0, TRUE,
                                              NULL));
  g_assert_true (mmdnn_conv_transpose2d_init (&nob, ps, "dec.up2", 24, 8, 5,
                                              6, 2, 2, 2, 2, 0, 0, 0, 0,
                                              FALSE, NULL));
  /* PyTorch's layout (C_in, C_out, KH, KW) */
  check_param (ps, "dec.up.weight", m.weight, 4, (int64_t[]) { 2, 24, 3, 3 },
               TRUE);
  check_param (ps, "dec.up.bias", m.bias, 1, (int64_t[]) { 24 }, FALSE);
  check_param (ps, "dec.up2.weight", nob.weight, 4,
               (int64_t[]) { 24, 6, 2, 2 }, TRUE);
  g_assert_null (nob.bias);
  g_assert_null (mmdnn_param_set_lookup (ps, "dec.up2.bias"));
  g_assert_true (mmdnn_conv_transpose2d_shape_init (&s, 2, 4, 3, 24, 3, 3, 2,
                                                    2, 1, 1, 1, 0, NULL));
  g_assert_true (memcmp (&s, &m.shape, sizeof s) == 0);

  g_assert_true (mmdnn_param_set_allocate (ps, NULL));
  mmdnn_rng_init (&rng, 8);
  mmdnn_conv_transpose2d_reset (&m, &rng);
  mmdnn_conv_transpose2d_reset (&nob, &rng);
  /* fan_in from weight dim 1: c_out·kh·kw = 216, not c_in·kh·kw = 18 */
  check_uniform (m.weight, 1.0 / sqrt (24 * 3 * 3));
  check_uniform (m.bias, 1.0 / sqrt (24 * 3 * 3));
  check_uniform (nob.weight, 1.0 / sqrt (6 * 2 * 2));
  mmdnn_param_set_free (ps);
}

static void
test_conv1d_module (void)
{
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnConv1d m, nob;
  MmdnnConv1dShape s;
  MmdnnRng rng;

  g_assert_true (mmdnn_conv1d_init (&m, ps, "audio.conv", 4, 16, 32, 5, 2, 2,
                                    TRUE, NULL));
  g_assert_true (mmdnn_conv1d_init (&nob, ps, "audio.conv2", 32, 8, 3, 3, 1,
                                    1, FALSE, NULL));
  check_param (ps, "audio.conv.weight", m.weight, 3, (int64_t[]) { 32, 4, 5 },
               TRUE);
  check_param (ps, "audio.conv.bias", m.bias, 1, (int64_t[]) { 32 }, FALSE);
  check_param (ps, "audio.conv2.weight", nob.weight, 3,
               (int64_t[]) { 3, 32, 3 }, TRUE);
  g_assert_null (nob.bias);
  g_assert_true (mmdnn_conv1d_shape_init (&s, 4, 16, 32, 5, 2, 2, NULL));
  g_assert_true (memcmp (&s, &m.shape, sizeof s) == 0);

  g_assert_true (mmdnn_param_set_allocate (ps, NULL));
  mmdnn_rng_init (&rng, 9);
  mmdnn_conv1d_reset (&m, &rng);
  mmdnn_conv1d_reset (&nob, &rng);
  check_uniform (m.weight, 1.0 / sqrt (4 * 5));
  check_uniform (m.bias, 1.0 / sqrt (4 * 5));
  check_uniform (nob.weight, 1.0 / sqrt (32 * 3));
  mmdnn_param_set_free (ps);
}

/* ---- negative tests ----------------------------------------------------- */

/* Shape-init arguments in declaration order (conv2d: c_in h_in w_in c_out kh
 * kw sh sw ph pw; convT adds oph opw; conv1d: c_in l_in c_out k stride pad). */
typedef struct {
  const char *path;
  Kind        kind;
  gboolean    null_shape;
  int64_t     a[12];
} ShapeNeg;

#define HUGE_DIM (INT64_C (1) << 21)

static const ShapeNeg shape_neg[] = {
  { "/conv/conv2d-shape-zero-c-in_n", CONV2D, FALSE, { 0, 7, 6, 4, 3, 3, 2, 2, 1, 1 } },
  { "/conv/conv2d-shape-negative-h_n", CONV2D, FALSE, { 3, -7, 6, 4, 3, 3, 2, 2, 1, 1 } },
  { "/conv/conv2d-shape-zero-c-out_n", CONV2D, FALSE, { 3, 7, 6, 0, 3, 3, 2, 2, 1, 1 } },
  { "/conv/conv2d-shape-zero-kernel_n", CONV2D, FALSE, { 3, 7, 6, 4, 3, 0, 2, 2, 1, 1 } },
  { "/conv/conv2d-shape-stride-zero_n", CONV2D, FALSE, { 3, 7, 6, 4, 3, 3, 0, 2, 1, 1 } },
  { "/conv/conv2d-shape-negative-stride_n", CONV2D, FALSE, { 3, 7, 6, 4, 3, 3, 2, -1, 1, 1 } },
  { "/conv/conv2d-shape-negative-pad_n", CONV2D, FALSE, { 3, 7, 6, 4, 3, 3, 2, 2, 1, -1 } },
  { "/conv/conv2d-shape-kernel-too-big_n", CONV2D, FALSE, { 3, 5, 6, 4, 8, 3, 1, 1, 1, 1 } },
  { "/conv/conv2d-shape-too-large_n", CONV2D, FALSE, { HUGE_DIM, HUGE_DIM, HUGE_DIM, 4, 1, 1, 1, 1, 0, 0 } },
  { "/conv/conv2d-shape-null_n", CONV2D, TRUE, { 3, 7, 6, 4, 3, 3, 2, 2, 1, 1 } },
  { "/conv/convt2d-shape-zero-w_n", CONVT2D, FALSE, { 3, 4, 0, 4, 3, 3, 2, 2, 1, 1, 1, 1 } },
  { "/conv/convt2d-shape-stride-zero_n", CONVT2D, FALSE, { 3, 4, 3, 4, 3, 3, 2, 0, 1, 1, 0, 0 } },
  { "/conv/convt2d-shape-negative-pad_n", CONVT2D, FALSE, { 3, 4, 3, 4, 3, 3, 2, 2, -1, 1, 1, 1 } },
  { "/conv/convt2d-shape-out-pad-ge-stride_n", CONVT2D, FALSE, { 3, 4, 3, 4, 3, 3, 2, 2, 1, 1, 2, 1 } },
  { "/conv/convt2d-shape-negative-out-pad_n", CONVT2D, FALSE, { 3, 4, 3, 4, 3, 3, 2, 2, 1, 1, 1, -1 } },
  { "/conv/convt2d-shape-empty-output_n", CONVT2D, FALSE, { 3, 1, 3, 4, 1, 3, 1, 1, 1, 0, 0, 0 } },
  { "/conv/convt2d-shape-null_n", CONVT2D, TRUE, { 3, 4, 3, 4, 3, 3, 2, 2, 1, 1, 1, 1 } },
  { "/conv/conv1d-shape-zero-length_n", CONV1D, FALSE, { 3, 0, 4, 3, 2, 1 } },
  { "/conv/conv1d-shape-kernel-too-big_n", CONV1D, FALSE, { 3, 4, 4, 7, 1, 1 } },
  { "/conv/conv1d-shape-stride-zero_n", CONV1D, FALSE, { 3, 9, 4, 3, 0, 1 } },
  { "/conv/conv1d-shape-negative-pad_n", CONV1D, FALSE, { 3, 9, 4, 3, 2, -2 } },
  { "/conv/conv1d-shape-null_n", CONV1D, TRUE, { 3, 9, 4, 3, 2, 1 } },
};

static void
test_shape_n (gconstpointer data)
{
  const ShapeNeg *t = data;
  const int64_t *a = t->a;
  union { MmdnnConv2dShape s2; MmdnnConvT2dShape st; MmdnnConv1dShape s1; } s, before;
  GError *err = NULL;
  gboolean ok = TRUE;

  memset (&s, 0x5a, sizeof s);
  before = s;
  switch (t->kind) {
  case CONV2D:
    ok = mmdnn_conv2d_shape_init (t->null_shape ? NULL : &s.s2, a[0], a[1],
                                  a[2], a[3], a[4], a[5], a[6], a[7], a[8],
                                  a[9], &err);
    break;
  case CONVT2D:
    ok = mmdnn_conv_transpose2d_shape_init (t->null_shape ? NULL : &s.st,
                                            a[0], a[1], a[2], a[3], a[4], a[5],
                                            a[6], a[7], a[8], a[9], a[10],
                                            a[11], &err);
    break;
  case CONV1D:
    ok = mmdnn_conv1d_shape_init (t->null_shape ? NULL : &s.s1, a[0], a[1],
                                  a[2], a[3], a[4], a[5], &err);
    break;
  }
  g_assert_false (ok);
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", err->message);
  g_assert_true (memcmp (&s, &before, sizeof s) == 0);
  g_error_free (err);
}

/* Module inits, each tried in one bad situation. */
typedef enum {
  NULL_SET, NULL_MODULE, NULL_PREFIX, EMPTY_PREFIX, DUPLICATE, BAD_SHAPE,
  ALLOCATED, BIAS_TAKEN,
} Misuse;

typedef struct {
  const char *path;
  Kind        kind;
  Misuse      misuse;
} ModuleNeg;

static const ModuleNeg module_neg[] = {
  { "/conv/conv2d-init-null-set_n", CONV2D, NULL_SET },
  { "/conv/conv2d-init-null-module_n", CONV2D, NULL_MODULE },
  { "/conv/conv2d-init-null-prefix_n", CONV2D, NULL_PREFIX },
  { "/conv/conv2d-init-empty-prefix_n", CONV2D, EMPTY_PREFIX },
  { "/conv/conv2d-init-duplicate-prefix_n", CONV2D, DUPLICATE },
  { "/conv/conv2d-init-bad-shape_n", CONV2D, BAD_SHAPE },
  { "/conv/conv2d-init-allocated-set_n", CONV2D, ALLOCATED },
  { "/conv/conv2d-init-bias-name-taken_n", CONV2D, BIAS_TAKEN },
  { "/conv/convt2d-init-null-set_n", CONVT2D, NULL_SET },
  { "/conv/convt2d-init-null-module_n", CONVT2D, NULL_MODULE },
  { "/conv/convt2d-init-duplicate-prefix_n", CONVT2D, DUPLICATE },
  { "/conv/convt2d-init-bad-shape_n", CONVT2D, BAD_SHAPE },
  { "/conv/convt2d-init-allocated-set_n", CONVT2D, ALLOCATED },
  { "/conv/conv1d-init-null-set_n", CONV1D, NULL_SET },
  { "/conv/conv1d-init-empty-prefix_n", CONV1D, EMPTY_PREFIX },
  { "/conv/conv1d-init-duplicate-prefix_n", CONV1D, DUPLICATE },
  { "/conv/conv1d-init-bad-shape_n", CONV1D, BAD_SHAPE },
  { "/conv/conv1d-init-bias-name-taken_n", CONV1D, BIAS_TAKEN },
};

typedef union {
  MmdnnConv2d          c2;
  MmdnnConvTranspose2d ct;
  MmdnnConv1d          c1;
} AnyConv;

static gboolean
module_init (Kind kind, AnyConv *m, MmdnnParamSet *ps, const char *prefix,
             int64_t stride, GError **error)
{
  switch (kind) {
  case CONV2D:
    return mmdnn_conv2d_init (m ? &m->c2 : NULL, ps, prefix, 3, 7, 6, 4, 3, 3,
                              stride, 2, 1, 1, TRUE, error);
  case CONVT2D:
    return mmdnn_conv_transpose2d_init (m ? &m->ct : NULL, ps, prefix, 3, 4,
                                        3, 4, 3, 3, stride, 2, 1, 1, 0, 1,
                                        TRUE, error);
  case CONV1D:
    return mmdnn_conv1d_init (m ? &m->c1 : NULL, ps, prefix, 3, 9, 4, 3,
                              stride, 1, TRUE, error);
  }
  return FALSE;
}

static void
test_module_n (gconstpointer data)
{
  const ModuleNeg *t = data;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  AnyConv m, before, first;
  const char *prefix = "enc.conv";
  int64_t stride = 2;
  guint declared;
  GError *err = NULL;

  switch (t->misuse) {
  case DUPLICATE:
    g_assert_true (module_init (t->kind, &first, ps, prefix, 2, NULL));
    break;
  case ALLOCATED:
    g_assert_true (module_init (t->kind, &first, ps, "other", 2, NULL));
    g_assert_true (mmdnn_param_set_allocate (ps, NULL));
    break;
  case BIAS_TAKEN:
    g_assert_nonnull (mmdnn_param_set_declare (ps, "enc.conv.bias", 1,
                                               (int64_t[]) { 4 }, FALSE,
                                               NULL));
    break;
  case NULL_PREFIX:
    prefix = NULL;
    break;
  case EMPTY_PREFIX:
    prefix = "";
    break;
  case BAD_SHAPE:
    stride = 0;
    break;
  case NULL_SET:
  case NULL_MODULE:
    break;
  }
  declared = ps->params->len;
  memset (&m, 0x5a, sizeof m);
  before = m;

  g_assert_false (module_init (t->kind, t->misuse == NULL_MODULE ? NULL : &m,
                               t->misuse == NULL_SET ? NULL : ps, prefix,
                               stride, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", err->message);
  g_assert_true (memcmp (&m, &before, sizeof m) == 0);
  g_assert_cmpuint (ps->params->len, ==, declared);      /* nothing declared */
  g_error_free (err);
  mmdnn_param_set_free (ps);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/conv/shapes", test_shapes);
  g_test_add_func ("/conv/conv2d-forward", test_conv2d_forward);
  g_test_add_func ("/conv/conv2d-grad", test_conv2d_grad);
  g_test_add_func ("/conv/conv2d-accumulate", test_conv2d_accumulate);
  g_test_add_func ("/conv/convt2d-forward", test_convt2d_forward);
  g_test_add_func ("/conv/convt2d-grad", test_convt2d_grad);
  g_test_add_func ("/conv/convt2d-accumulate", test_convt2d_accumulate);
  g_test_add_func ("/conv/conv1d-forward", test_conv1d_forward);
  g_test_add_func ("/conv/conv1d-grad", test_conv1d_grad);
  g_test_add_func ("/conv/conv1d-accumulate", test_conv1d_accumulate);
  g_test_add_func ("/conv/conv2d-module", test_conv2d_module);
  g_test_add_func ("/conv/convt2d-module", test_convt2d_module);
  g_test_add_func ("/conv/conv1d-module", test_conv1d_module);

  for (guint i = 0; i < G_N_ELEMENTS (shape_neg); i++)
    g_test_add_data_func (shape_neg[i].path, &shape_neg[i], test_shape_n);
  for (guint i = 0; i < G_N_ELEMENTS (module_neg); i++)
    g_test_add_data_func (module_neg[i].path, &module_neg[i], test_module_n);

  return g_test_run ();
}
