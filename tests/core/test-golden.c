/* Golden comparison: every core kernel against PyTorch 1.13.
 *
 * tests/core/golden/make-golden.py wrote one small file per case with the
 * inputs, PyTorch's outputs and every gradient for a fixed random upstream
 * gradient; this test runs the C kernels on the same inputs and holds them
 * to those numbers (max-abs-diff ≤ 1e-4, ≤ 1e-5 for optimisers, clipping
 * and the schedule, where the arithmetic is short). It needs only the
 * committed files, not torch. The file format is described in golden/mmdg.py
 * and golden/README.md; the reader (golden-file.c) trusts none of it.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/activation.h>
#include <mmdnn/conv.h>
#include <mmdnn/embedding.h>
#include <mmdnn/linear.h>
#include <mmdnn/loss.h>
#include <mmdnn/norm.h>
#include <mmdnn/optim.h>
#include <mmdnn/pool.h>
#include <mmdnn/similarity.h>
#include <mmdnn/tensor.h>

#include "golden-file.h"
#include "gradcheck.h"

#define TOL       1e-4          /* layers and losses */
#define TOL_OPTIM 1e-5          /* optimiser steps, clipping, the schedule */

/* ------------------------------------------------------------ helpers */

/* NaN-filled scratch: a forward output must overwrite every element. */
static float *
golden_nans (Golden *g, int64_t n)
{
  float *p = golden_zeros (g, n);
  for (int64_t i = 0; i < n; i++)
    p[i] = NAN;
  return p;
}

static float *
golden_copy (Golden *g, const float *src, int64_t n)
{
  float *p = golden_zeros (g, n);
  memcpy (p, src, (gsize) n * sizeof (float));
  return p;
}

/* check_close () with the case and tensor in the label; a mismatch fails
 * the test (non-fatally, so every tensor of every case is reported). */
static void
expect_close (Golden *g, const char *what, const float *got,
              const float *want, int64_t n, double tol)
{
  char *label = g_strdup_printf ("%s:%s", g->label, what);

  if (!check_close (label, got, want, n, tol))
    g_test_fail_printf ("%s: max-abs-diff above %g against PyTorch "
                        "(worst element printed above)", label, tol);
  g_free (label);
}

static void
expect_scalar (Golden *g, const char *what, double got, float want,
               double tol)
{
  float f = (float) got;
  expect_close (g, what, &f, &want, 1, tol);
}

/* ------------------------------------------------------------ layers */

static void
run_linear (const char *case_name, gboolean bias)
{
  const int64_t N = 3, IN = 5, OUT = 4;
  Golden *g = golden_open (case_name);
  const float *x, *w, *b = NULL, *y, *dy, *dx, *dw, *db = NULL;
  float *cy, *cdx, *cdw, *cdb = NULL;

  if (g == NULL)
    return;
  x = GF32 (g, "x", N, IN);
  w = GF32 (g, "w", OUT, IN);
  y = GF32 (g, "y", N, OUT);
  dy = GF32 (g, "dy", N, OUT);
  dx = GF32 (g, "dx", N, IN);
  dw = GF32 (g, "dw", OUT, IN);
  if (bias) {
    b = GF32 (g, "b", OUT);
    db = GF32 (g, "db", OUT);
  }
  if (g->failed)
    goto out;

  cy = golden_nans (g, N * OUT);
  cdx = golden_zeros (g, N * IN);
  cdw = golden_zeros (g, OUT * IN);
  if (bias)
    cdb = golden_zeros (g, OUT);
  mmdnn_linear_forward (cy, x, w, b, N, IN, OUT);
  mmdnn_linear_backward (cdx, cdw, cdb, dy, x, w, N, IN, OUT);
  expect_close (g, "y", cy, y, N * OUT, TOL);
  expect_close (g, "dx", cdx, dx, N * IN, TOL);
  expect_close (g, "dw", cdw, dw, OUT * IN, TOL);
  if (bias)
    expect_close (g, "db", cdb, db, OUT, TOL);
out:
  golden_free (g);
}

static void
test_linear (void)
{
  run_linear ("linear", TRUE);
}

static void
test_linear_nobias (void)
{
  run_linear ("linear-nobias", FALSE);
}

static void
run_conv2d (const char *case_name)
{
  Golden *g = golden_open (case_name);
  GError *err = NULL;
  MmdnnConv2dShape s;
  const int32_t *geom;
  const float *x, *w, *b, *y, *dy, *dx, *dw, *db;
  float *cy, *col, *cdx, *cdw, *cdb;
  int64_t n, nx, nw, ny;

  if (g == NULL)
    return;
  geom = GI32 (g, "geom", 11);
  if (g->failed)
    goto out;
  /* geom: n, c_in, h, w, c_out, kh, kw, stride_h, stride_w, pad_h, pad_w */
  if (!mmdnn_conv2d_shape_init (&s, geom[1], geom[2], geom[3], geom[4],
                                geom[5], geom[6], geom[7], geom[8], geom[9],
                                geom[10], &err)) {
    g_test_fail_printf ("%s: shape_init: %s", case_name, err->message);
    g_error_free (err);
    goto out;
  }
  n = geom[0];
  x = GF32 (g, "x", n, s.c_in, s.h_in, s.w_in);
  w = GF32 (g, "w", s.c_out, s.c_in, s.kh, s.kw);
  b = GF32 (g, "b", s.c_out);
  y = GF32 (g, "y", n, s.c_out, s.h_out, s.w_out);
  dy = GF32 (g, "dy", n, s.c_out, s.h_out, s.w_out);
  dx = GF32 (g, "dx", n, s.c_in, s.h_in, s.w_in);
  dw = GF32 (g, "dw", s.c_out, s.c_in, s.kh, s.kw);
  db = GF32 (g, "db", s.c_out);
  if (g->failed)
    goto out;

  nx = n * s.c_in * s.h_in * s.w_in;
  nw = s.c_out * s.c_in * s.kh * s.kw;
  ny = n * s.c_out * s.h_out * s.w_out;
  cy = golden_nans (g, ny);
  col = golden_nans (g, s.col_size);
  cdx = golden_zeros (g, nx);
  cdw = golden_zeros (g, nw);
  cdb = golden_zeros (g, s.c_out);
  mmdnn_conv2d_forward (cy, col, x, w, b, &s, n);
  mmdnn_conv2d_backward (cdx, cdw, cdb, col, dy, x, w, &s, n);
  expect_close (g, "y", cy, y, ny, TOL);
  expect_close (g, "dx", cdx, dx, nx, TOL);
  expect_close (g, "dw", cdw, dw, nw, TOL);
  expect_close (g, "db", cdb, db, s.c_out, TOL);
out:
  golden_free (g);
}

static void
test_conv2d (void)
{
  run_conv2d ("conv2d");
}

static void
test_conv2d_rect (void)
{
  run_conv2d ("conv2d-rect");
}

static void
test_conv_transpose2d (void)
{
  Golden *g = golden_open ("conv-transpose2d");
  GError *err = NULL;
  MmdnnConvT2dShape s;
  const int32_t *geom;
  const float *x, *w, *b, *y, *dy, *dx, *dw, *db;
  float *cy, *col, *cdx, *cdw, *cdb;
  int64_t n, nx, nw, ny;

  if (g == NULL)
    return;
  geom = GI32 (g, "geom", 13);
  if (g->failed)
    goto out;
  /* geom: n, c_in, h, w, c_out, kh, kw, stride_h, stride_w, pad_h, pad_w,
   * out_pad_h, out_pad_w */
  if (!mmdnn_conv_transpose2d_shape_init (&s, geom[1], geom[2], geom[3],
                                          geom[4], geom[5], geom[6], geom[7],
                                          geom[8], geom[9], geom[10],
                                          geom[11], geom[12], &err)) {
    g_test_fail_printf ("conv-transpose2d: shape_init: %s", err->message);
    g_error_free (err);
    goto out;
  }
  n = geom[0];
  x = GF32 (g, "x", n, s.c_in, s.h_in, s.w_in);
  w = GF32 (g, "w", s.c_in, s.c_out, s.kh, s.kw);
  b = GF32 (g, "b", s.c_out);
  y = GF32 (g, "y", n, s.c_out, s.h_out, s.w_out);
  dy = GF32 (g, "dy", n, s.c_out, s.h_out, s.w_out);
  dx = GF32 (g, "dx", n, s.c_in, s.h_in, s.w_in);
  dw = GF32 (g, "dw", s.c_in, s.c_out, s.kh, s.kw);
  db = GF32 (g, "db", s.c_out);
  if (g->failed)
    goto out;

  nx = n * s.c_in * s.h_in * s.w_in;
  nw = s.c_out * s.c_in * s.kh * s.kw;
  ny = n * s.c_out * s.h_out * s.w_out;
  cy = golden_nans (g, ny);
  col = golden_nans (g, s.col_size);
  cdx = golden_zeros (g, nx);
  cdw = golden_zeros (g, nw);
  cdb = golden_zeros (g, s.c_out);
  mmdnn_conv_transpose2d_forward (cy, col, x, w, b, &s, n);
  mmdnn_conv_transpose2d_backward (cdx, cdw, cdb, col, dy, x, w, &s, n);
  expect_close (g, "y", cy, y, ny, TOL);
  expect_close (g, "dx", cdx, dx, nx, TOL);
  expect_close (g, "dw", cdw, dw, nw, TOL);
  expect_close (g, "db", cdb, db, s.c_out, TOL);
out:
  golden_free (g);
}

static void
test_conv1d (void)
{
  Golden *g = golden_open ("conv1d");
  GError *err = NULL;
  MmdnnConv1dShape s;
  const int32_t *geom;
  const float *x, *w, *b, *y, *dy, *dx, *dw, *db;
  float *cy, *col, *cdx, *cdw, *cdb;
  int64_t n, nx, nw, ny;

  if (g == NULL)
    return;
  geom = GI32 (g, "geom", 7);
  if (g->failed)
    goto out;
  /* geom: n, c_in, l, c_out, k, stride, pad */
  if (!mmdnn_conv1d_shape_init (&s, geom[1], geom[2], geom[3], geom[4],
                                geom[5], geom[6], &err)) {
    g_test_fail_printf ("conv1d: shape_init: %s", err->message);
    g_error_free (err);
    goto out;
  }
  n = geom[0];
  x = GF32 (g, "x", n, s.c_in, s.l_in);
  w = GF32 (g, "w", s.c_out, s.c_in, s.k);
  b = GF32 (g, "b", s.c_out);
  y = GF32 (g, "y", n, s.c_out, s.l_out);
  dy = GF32 (g, "dy", n, s.c_out, s.l_out);
  dx = GF32 (g, "dx", n, s.c_in, s.l_in);
  dw = GF32 (g, "dw", s.c_out, s.c_in, s.k);
  db = GF32 (g, "db", s.c_out);
  if (g->failed)
    goto out;

  nx = n * s.c_in * s.l_in;
  nw = s.c_out * s.c_in * s.k;
  ny = n * s.c_out * s.l_out;
  cy = golden_nans (g, ny);
  col = golden_nans (g, s.col_size);
  cdx = golden_zeros (g, nx);
  cdw = golden_zeros (g, nw);
  cdb = golden_zeros (g, s.c_out);
  mmdnn_conv1d_forward (cy, col, x, w, b, &s, n);
  mmdnn_conv1d_backward (cdx, cdw, cdb, col, dy, x, w, &s, n);
  expect_close (g, "y", cy, y, ny, TOL);
  expect_close (g, "dx", cdx, dx, nx, TOL);
  expect_close (g, "dw", cdw, dw, nw, TOL);
  expect_close (g, "db", cdb, db, s.c_out, TOL);
out:
  golden_free (g);
}

/* geom: n, c, h, w, kh, kw, stride_h, stride_w, pad_h, pad_w */
static gboolean
pool_shape (Golden *g, MmdnnPool2dShape *s, int64_t *n)
{
  GError *err = NULL;
  const int32_t *geom = GI32 (g, "geom", 10);

  if (geom == NULL)
    return FALSE;
  if (!mmdnn_pool2d_shape_init (s, geom[1], geom[2], geom[3], geom[4],
                                geom[5], geom[6], geom[7], geom[8], geom[9],
                                &err)) {
    g_test_fail_printf ("%s: shape_init: %s", g->label, err->message);
    g_error_free (err);
    return FALSE;
  }
  *n = geom[0];
  return TRUE;
}

static void
test_maxpool2d (void)
{
  Golden *g = golden_open ("maxpool2d");
  MmdnnPool2dShape s;
  const float *x, *y, *dy, *dx;
  const int32_t *argmax;
  float *cy, *cdx;
  int32_t *carg;
  int64_t n, nx, ny, bad = 0;

  if (g == NULL)
    return;
  if (!pool_shape (g, &s, &n))
    goto out;
  x = GF32 (g, "x", n, s.c, s.h_in, s.w_in);
  y = GF32 (g, "y", n, s.c, s.h_out, s.w_out);
  argmax = GI32 (g, "argmax", n, s.c, s.h_out, s.w_out);
  dy = GF32 (g, "dy", n, s.c, s.h_out, s.w_out);
  dx = GF32 (g, "dx", n, s.c, s.h_in, s.w_in);
  if (g->failed)
    goto out;

  nx = n * s.c * s.h_in * s.w_in;
  ny = n * s.c * s.h_out * s.w_out;
  cy = golden_nans (g, ny);
  carg = g_new (int32_t, ny);
  g_ptr_array_add (g->scratch, carg);
  for (int64_t i = 0; i < ny; i++)
    carg[i] = -1;
  cdx = golden_zeros (g, nx);
  mmdnn_maxpool2d_forward (cy, carg, x, &s, n);
  mmdnn_maxpool2d_backward (cdx, dy, carg, &s, n);
  expect_close (g, "y", cy, y, ny, TOL);
  for (int64_t i = 0; i < ny; i++) {
    if (carg[i] != argmax[i] && bad++ == 0)
      g_printerr ("maxpool2d:argmax[%" G_GINT64_FORMAT "]: got %d, want %d\n",
                  i, carg[i], argmax[i]);
  }
  if (bad)
    g_test_fail_printf ("maxpool2d:argmax: %" G_GINT64_FORMAT " of %"
                        G_GINT64_FORMAT " indices differ from PyTorch's",
                        bad, ny);
  expect_close (g, "dx", cdx, dx, nx, TOL);
out:
  golden_free (g);
}

static void
test_avgpool2d (void)
{
  Golden *g = golden_open ("avgpool2d");
  MmdnnPool2dShape s;
  const float *x, *y, *dy, *dx;
  float *cy, *cdx;
  int64_t n, nx, ny;

  if (g == NULL)
    return;
  if (!pool_shape (g, &s, &n))
    goto out;
  x = GF32 (g, "x", n, s.c, s.h_in, s.w_in);
  y = GF32 (g, "y", n, s.c, s.h_out, s.w_out);
  dy = GF32 (g, "dy", n, s.c, s.h_out, s.w_out);
  dx = GF32 (g, "dx", n, s.c, s.h_in, s.w_in);
  if (g->failed)
    goto out;

  nx = n * s.c * s.h_in * s.w_in;
  ny = n * s.c * s.h_out * s.w_out;
  cy = golden_nans (g, ny);
  cdx = golden_zeros (g, nx);
  mmdnn_avgpool2d_forward (cy, x, &s, n);
  mmdnn_avgpool2d_backward (cdx, dy, &s, n);
  expect_close (g, "y", cy, y, ny, TOL);
  expect_close (g, "dx", cdx, dx, nx, TOL);
out:
  golden_free (g);
}

static void
test_global_avgpool (void)
{
  const int64_t N = 2, C = 3, S = 10;
  Golden *g = golden_open ("global-avgpool");
  const float *x, *y, *dy, *dx;
  float *cy, *cdx;

  if (g == NULL)
    return;
  x = GF32 (g, "x", N, C, S);
  y = GF32 (g, "y", N, C);
  dy = GF32 (g, "dy", N, C);
  dx = GF32 (g, "dx", N, C, S);
  if (g->failed)
    goto out;

  cy = golden_nans (g, N * C);
  cdx = golden_zeros (g, N * C * S);
  mmdnn_global_avgpool_forward (cy, x, N, C, S);
  mmdnn_global_avgpool_backward (cdx, dy, N, C, S);
  expect_close (g, "y", cy, y, N * C, TOL);
  expect_close (g, "dx", cdx, dx, N * C * S, TOL);
out:
  golden_free (g);
}

/* geom: n, c, h_in, w_in, h_out, w_out */
static void
test_adaptive_avgpool (void)
{
  Golden *g = golden_open ("adaptive-avgpool");
  GError *err = NULL;
  const int32_t *geom;
  const float *x, *y, *dy, *dx;
  float *cy, *cdx;
  int64_t n, c, h, w, oh, ow, nx, ny;

  if (g == NULL)
    return;
  geom = GI32 (g, "geom", 6);
  if (geom == NULL)
    goto out;
  n = geom[0], c = geom[1], h = geom[2], w = geom[3], oh = geom[4];
  ow = geom[5];
  if (!mmdnn_adaptive_pool2d_check (c, h, w, oh, ow, &err)) {
    g_test_fail_printf ("%s: check: %s", g->label, err->message);
    g_error_free (err);
    goto out;
  }
  x = GF32 (g, "x", n, c, h, w);
  y = GF32 (g, "y", n, c, oh, ow);
  dy = GF32 (g, "dy", n, c, oh, ow);
  dx = GF32 (g, "dx", n, c, h, w);
  if (g->failed)
    goto out;

  nx = n * c * h * w;
  ny = n * c * oh * ow;
  cy = golden_nans (g, ny);
  cdx = golden_zeros (g, nx);
  mmdnn_adaptive_avgpool2d_forward (cy, x, n, c, h, w, oh, ow);
  mmdnn_adaptive_avgpool2d_backward (cdx, dy, n, c, h, w, oh, ow);
  expect_close (g, "y", cy, y, ny, TOL);
  expect_close (g, "dx", cdx, dx, nx, TOL);
out:
  golden_free (g);
}

/* ------------------------------------------------------------ activations */

typedef enum {
  ACT_RELU, ACT_GELU, ACT_SIGMOID, ACT_TANH, ACT_SOFTMAX, ACT_GRAD_REVERSE,
} Act;

/* relu … softmax on a (3, 7) input; grad-reverse on a (13) vector */
static void
run_activation (const char *case_name, Act act)
{
  const int64_t R = 3, C = 7;
  const int64_t N = act == ACT_GRAD_REVERSE ? 13 : R * C;
  Golden *g = golden_open (case_name);
  const float *x, *y, *dy, *dx;
  float *cy, *cdx, lambda = 0.0f;

  if (g == NULL)
    return;
  if (act == ACT_GRAD_REVERSE) {
    lambda = golden_scalar_f (g, "lambda");
    x = GF32 (g, "x", N);
    y = GF32 (g, "y", N);
    dy = GF32 (g, "dy", N);
    dx = GF32 (g, "dx", N);
  } else {
    x = GF32 (g, "x", R, C);
    y = GF32 (g, "y", R, C);
    dy = GF32 (g, "dy", R, C);
    dx = GF32 (g, "dx", R, C);
  }
  if (g->failed)
    goto out;

  cy = golden_nans (g, N);
  cdx = golden_zeros (g, N);
  switch (act) {
    case ACT_RELU:
      mmdnn_relu_forward (cy, x, N);
      mmdnn_relu_backward (cdx, dy, x, N);
      break;
    case ACT_GELU:
      mmdnn_gelu_forward (cy, x, N);
      mmdnn_gelu_backward (cdx, dy, x, N);
      break;
    case ACT_SIGMOID:
      mmdnn_sigmoid_forward (cy, x, N);
      mmdnn_sigmoid_backward (cdx, dy, cy, N);
      break;
    case ACT_TANH:
      mmdnn_tanh_forward (cy, x, N);
      mmdnn_tanh_backward (cdx, dy, cy, N);
      break;
    case ACT_SOFTMAX:
      mmdnn_softmax_forward (cy, x, R, C);
      mmdnn_softmax_backward (cdx, dy, cy, R, C);
      break;
    case ACT_GRAD_REVERSE:
      mmdnn_grad_reverse_forward (cy, x, N);
      mmdnn_grad_reverse_backward (cdx, dy, lambda, N);
      break;
  }
  expect_close (g, "y", cy, y, N, TOL);
  expect_close (g, "dx", cdx, dx, N, TOL);
out:
  golden_free (g);
}

static void
test_relu (void)
{
  run_activation ("relu", ACT_RELU);
}

static void
test_gelu (void)
{
  run_activation ("gelu", ACT_GELU);
}

static void
test_sigmoid (void)
{
  run_activation ("sigmoid", ACT_SIGMOID);
}

static void
test_tanh (void)
{
  run_activation ("tanh", ACT_TANH);
}

static void
test_softmax (void)
{
  run_activation ("softmax", ACT_SOFTMAX);
}

static void
test_grad_reverse (void)
{
  run_activation ("grad-reverse", ACT_GRAD_REVERSE);
}

/* ------------------------------------------ norm, embedding, similarity */

static void
run_layernorm (const char *case_name, gboolean affine)
{
  const int64_t N = 3, C = 7;
  Golden *g = golden_open (case_name);
  const float *x, *w = NULL, *b = NULL, *y, *mean, *rstd, *dy, *dx;
  const float *dw = NULL, *db = NULL;
  float *cy, *cmean, *crstd, *cdx, *cdw = NULL, *cdb = NULL, eps;

  if (g == NULL)
    return;
  eps = golden_scalar_f (g, "eps");
  x = GF32 (g, "x", N, C);
  y = GF32 (g, "y", N, C);
  mean = GF32 (g, "mean", N);
  rstd = GF32 (g, "rstd", N);
  dy = GF32 (g, "dy", N, C);
  dx = GF32 (g, "dx", N, C);
  if (affine) {
    w = GF32 (g, "w", C);
    b = GF32 (g, "b", C);
    dw = GF32 (g, "dw", C);
    db = GF32 (g, "db", C);
  }
  if (g->failed)
    goto out;

  cy = golden_nans (g, N * C);
  cmean = golden_nans (g, N);
  crstd = golden_nans (g, N);
  cdx = golden_zeros (g, N * C);
  if (affine) {
    cdw = golden_zeros (g, C);
    cdb = golden_zeros (g, C);
  }
  mmdnn_layernorm_forward (cy, cmean, crstd, x, w, b, eps, N, C);
  mmdnn_layernorm_backward (cdx, cdw, cdb, dy, x, w, cmean, crstd, N, C);
  expect_close (g, "y", cy, y, N * C, TOL);
  expect_close (g, "mean", cmean, mean, N, TOL);
  expect_close (g, "rstd", crstd, rstd, N, TOL);
  expect_close (g, "dx", cdx, dx, N * C, TOL);
  if (affine) {
    expect_close (g, "dw", cdw, dw, C, TOL);
    expect_close (g, "db", cdb, db, C, TOL);
  }
out:
  golden_free (g);
}

static void
test_layernorm (void)
{
  run_layernorm ("layernorm", TRUE);
}

static void
test_layernorm_noaffine (void)
{
  run_layernorm ("layernorm-noaffine", FALSE);
}

static void
test_embedding_bag (void)
{
  const int64_t N = 4, L = 5, V = 9, D = 5;
  Golden *g = golden_open ("embedding-bag");
  GError *err = NULL;
  const int32_t *ids;
  const float *w, *y, *dy, *dw;
  float *cy, *cdw;

  if (g == NULL)
    return;
  ids = GI32 (g, "ids", N, L);
  w = GF32 (g, "w", V, D);
  y = GF32 (g, "y", N, D);
  dy = GF32 (g, "dy", N, D);
  dw = GF32 (g, "dw", V, D);
  if (g->failed)
    goto out;

  if (!mmdnn_embedding_bag_check_ids (ids, N * L, V, &err)) {
    g_test_fail_printf ("embedding-bag: check_ids rejects valid ids: %s",
                        err->message);
    g_error_free (err);
    goto out;
  }
  cy = golden_nans (g, N * D);
  cdw = golden_zeros (g, V * D);
  mmdnn_embedding_bag_forward (cy, ids, w, N, L, D);
  mmdnn_embedding_bag_backward (cdw, dy, ids, N, L, D);
  expect_close (g, "y", cy, y, N * D, TOL);
  expect_close (g, "dw", cdw, dw, V * D, TOL);
out:
  golden_free (g);
}

static void
run_cosine (const char *case_name)
{
  const int64_t N = 2, KM = 3, KN = 4, D = 5;
  Golden *g = golden_open (case_name);
  const float *x, *y, *s, *ds, *xnorm, *ynorm, *dx, *dy;
  float *cs, *cxn, *cyn, *cdx, *cdy, eps;

  if (g == NULL)
    return;
  eps = golden_scalar_f (g, "eps");
  x = GF32 (g, "x", N, KM, D);
  y = GF32 (g, "y", N, KN, D);
  s = GF32 (g, "s", N, KM, KN);
  ds = GF32 (g, "ds", N, KM, KN);
  xnorm = GF32 (g, "xnorm", N, KM);
  ynorm = GF32 (g, "ynorm", N, KN);
  dx = GF32 (g, "dx", N, KM, D);
  dy = GF32 (g, "dy", N, KN, D);
  if (g->failed)
    goto out;

  cs = golden_nans (g, N * KM * KN);
  cxn = golden_nans (g, N * KM);
  cyn = golden_nans (g, N * KN);
  cdx = golden_zeros (g, N * KM * D);
  cdy = golden_zeros (g, N * KN * D);
  mmdnn_cosine_matrix_forward (cs, cxn, cyn, x, y, eps, N, KM, KN, D);
  mmdnn_cosine_matrix_backward (cdx, cdy, ds, x, y, cxn, cyn, eps, N, KM, KN,
                                D);
  expect_close (g, "s", cs, s, N * KM * KN, TOL);
  expect_close (g, "xnorm", cxn, xnorm, N * KM, TOL);
  expect_close (g, "ynorm", cyn, ynorm, N * KN, TOL);
  expect_close (g, "dx", cdx, dx, N * KM * D, TOL);
  expect_close (g, "dy", cdy, dy, N * KN * D, TOL);
out:
  golden_free (g);
}

static void
test_cosine_matrix (void)
{
  run_cosine ("cosine-matrix");
}

/* rows with ‖·‖ < eps: the clamped branch of F.normalize */
static void
test_cosine_matrix_clamp (void)
{
  run_cosine ("cosine-matrix-clamp");
}

/* ------------------------------------------------------------ losses */

static void
run_cross_entropy (const char *case_name, int64_t N, int64_t C,
                   gboolean weighted)
{
  Golden *g = golden_open (case_name);
  GError *err = NULL;
  const int32_t *t;
  const float *logits, *cw = NULL, *loss, *probs, *dloss, *dlogits;
  float closs = NAN, *cprobs, *cdl;
  int32_t ignore;

  if (g == NULL)
    return;
  ignore = golden_scalar_i (g, "ignore_index");
  logits = GF32 (g, "logits", N, C);
  t = GI32 (g, "targets", N);
  if (weighted)
    cw = GF32 (g, "weight", C);
  loss = GF32_SCALAR (g, "loss");
  probs = GF32 (g, "probs", N, C);
  dloss = GF32_SCALAR (g, "dloss");
  dlogits = GF32 (g, "dlogits", N, C);
  if (g->failed)
    goto out;

  cprobs = golden_nans (g, N * C);
  cdl = golden_zeros (g, N * C);
  if (!mmdnn_cross_entropy_forward (&closs, cprobs, logits, t, cw, ignore, N,
                                    C, &err)) {
    g_test_fail_printf ("%s: forward rejects valid targets: %s", case_name,
                        err->message);
    g_error_free (err);
    goto out;
  }
  mmdnn_cross_entropy_backward (cdl, *dloss, cprobs, t, cw, ignore, N, C);
  expect_close (g, "loss", &closs, loss, 1, TOL);
  /* probs of ignored rows are unspecified: compare the others */
  for (int64_t i = 0; i < N; i++) {
    if (t[i] != ignore) {
      char *what = g_strdup_printf ("probs(row %" G_GINT64_FORMAT ")", i);
      expect_close (g, what, cprobs + i * C, probs + i * C, C, TOL);
      g_free (what);
    }
  }
  expect_close (g, "dlogits", cdl, dlogits, N * C, TOL);
out:
  golden_free (g);
}

static void
test_cross_entropy (void)
{
  run_cross_entropy ("cross-entropy", 7, 5, TRUE);
}

/* no class weights; the ignored value is a valid class */
static void
test_cross_entropy_ignore (void)
{
  run_cross_entropy ("cross-entropy-ignore", 6, 4, FALSE);
}

static void
test_mse (void)
{
  const int64_t N = 11;
  Golden *g = golden_open ("mse");
  const float *pred, *target, *loss, *dloss, *dpred;
  float *cdp;

  if (g == NULL)
    return;
  pred = GF32 (g, "pred", N);
  target = GF32 (g, "target", N);
  loss = GF32_SCALAR (g, "loss");
  dloss = GF32_SCALAR (g, "dloss");
  dpred = GF32 (g, "dpred", N);
  if (g->failed)
    goto out;

  cdp = golden_zeros (g, N);
  expect_scalar (g, "loss", mmdnn_mse_forward (pred, target, N), *loss, TOL);
  mmdnn_mse_backward (cdp, *dloss, pred, target, N);
  expect_close (g, "dpred", cdp, dpred, N, TOL);
out:
  golden_free (g);
}

static void
test_bce_logits (void)
{
  const int64_t N = 11;
  Golden *g = golden_open ("bce-logits");
  const float *logits, *targets, *loss, *dloss, *dlogits;
  float *cdl;

  if (g == NULL)
    return;
  logits = GF32 (g, "logits", N);
  targets = GF32 (g, "targets", N);
  loss = GF32_SCALAR (g, "loss");
  dloss = GF32_SCALAR (g, "dloss");
  dlogits = GF32 (g, "dlogits", N);
  if (g->failed)
    goto out;

  cdl = golden_zeros (g, N);
  expect_scalar (g, "loss", mmdnn_bce_logits_forward (logits, targets, N),
                 *loss, TOL);
  mmdnn_bce_logits_backward (cdl, *dloss, logits, targets, N);
  expect_close (g, "dlogits", cdl, dlogits, N, TOL);
out:
  golden_free (g);
}

static void
test_info_nce (void)
{
  const int64_t N = 5, D = 6;
  Golden *g = golden_open ("info-nce");
  GError *err = NULL;
  const float *a, *b, *loss, *dloss, *da, *db;
  float *ws, *cda, *cdb, tau;

  if (g == NULL)
    return;
  tau = golden_scalar_f (g, "tau");
  a = GF32 (g, "a", N, D);
  b = GF32 (g, "b", N, D);
  loss = GF32_SCALAR (g, "loss");
  dloss = GF32_SCALAR (g, "dloss");
  da = GF32 (g, "da", N, D);
  db = GF32 (g, "db", N, D);
  if (g->failed)
    goto out;

  if (!mmdnn_info_nce_check (tau, N, D, &err)) {
    g_test_fail_printf ("info-nce: check rejects tau %g: %s", tau,
                        err->message);
    g_error_free (err);
    goto out;
  }
  ws = golden_nans (g, mmdnn_info_nce_workspace_size (N, D));
  cda = golden_zeros (g, N * D);
  cdb = golden_zeros (g, N * D);
  expect_scalar (g, "loss", mmdnn_info_nce_forward (ws, a, b, tau, N, D),
                 *loss, TOL);
  mmdnn_info_nce_backward (cda, cdb, *dloss, ws, a, b, tau, N, D);
  expect_close (g, "da", cda, da, N * D, TOL);
  expect_close (g, "db", cdb, db, N * D, TOL);
out:
  golden_free (g);
}

/* ------------------------------------------------------------ optimisers */

#define STEPS 3
#define NW    12                /* "w": (3, 4), weight decay */
#define NB    4                 /* "b": (4), none */

typedef struct {
  const float *lr, *w0, *b0, *gw, *gb, *w_after, *b_after;
  float wd;
} OptimCase;

static gboolean
optim_case_get (Golden *g, OptimCase *oc)
{
  oc->lr = GF32 (g, "lr", STEPS);
  oc->wd = golden_scalar_f (g, "weight_decay");
  oc->w0 = GF32 (g, "w0", 3, 4);
  oc->b0 = GF32 (g, "b0", NB);
  oc->gw = GF32 (g, "gw", STEPS, 3, 4);
  oc->gb = GF32 (g, "gb", STEPS, NB);
  oc->w_after = GF32 (g, "w_after", STEPS, 3, 4);
  oc->b_after = GF32 (g, "b_after", STEPS, NB);
  return !g->failed;
}

static void
expect_step (Golden *g, const char *via, int t, const float *w,
             const float *b, const OptimCase *oc)
{
  char *lw = g_strdup_printf ("%s: w after step %d", via, t + 1);
  char *lb = g_strdup_printf ("%s: b after step %d", via, t + 1);

  expect_close (g, lw, w, oc->w_after + t * NW, NW, TOL_OPTIM);
  expect_close (g, lb, b, oc->b_after + t * NB, NB, TOL_OPTIM);
  g_free (lw);
  g_free (lb);
}

/* The same three steps through the optimiser object, over a parameter set
 * whose "w" decays and "b" does not. */
static void
run_optim_object (Golden *g, const OptimCase *oc, const MmdnnOptimConfig *cfg)
{
  GError *err = NULL;
  MmdnnParamSet *ps = mmdnn_param_set_new ();
  MmdnnParam *pw, *pb;
  MmdnnOptim *o = NULL;

  pw = mmdnn_param_set_declare (ps, "w", 2, SHAPE (3, 4), TRUE, &err);
  g_assert_no_error (err);
  pb = mmdnn_param_set_declare (ps, "b", 1, SHAPE (NB), FALSE, &err);
  g_assert_no_error (err);
  mmdnn_param_set_allocate (ps, &err);
  g_assert_no_error (err);
  if (pw == NULL || pb == NULL || err != NULL)
    goto out;
  memcpy (pw->value, oc->w0, NW * sizeof (float));
  memcpy (pb->value, oc->b0, NB * sizeof (float));

  o = mmdnn_optim_new (cfg, ps, &err);
  if (o == NULL) {
    g_test_fail_printf ("%s: optim_new: %s", g->label, err->message);
    g_error_free (err);
    goto out;
  }
  for (int t = 0; t < STEPS; t++) {
    memcpy (pw->grad, oc->gw + t * NW, NW * sizeof (float));
    memcpy (pb->grad, oc->gb + t * NB, NB * sizeof (float));
    mmdnn_optim_step (o, ps, oc->lr[t]);
    expect_step (g, "optim_step", t, pw->value, pb->value, oc);
  }
out:
  mmdnn_optim_free (o);
  mmdnn_param_set_free (ps);
}

static void
test_adamw (void)
{
  Golden *g = golden_open ("adamw");
  OptimCase oc;
  MmdnnOptimConfig cfg;
  float *w, *b, *mw, *vw, *mb, *vb;

  if (g == NULL)
    return;
  if (!optim_case_get (g, &oc))
    goto out;

  /* the kernel, per parameter */
  w = golden_copy (g, oc.w0, NW);
  b = golden_copy (g, oc.b0, NB);
  mw = golden_zeros (g, NW);
  vw = golden_zeros (g, NW);
  mb = golden_zeros (g, NB);
  vb = golden_zeros (g, NB);
  for (int t = 0; t < STEPS; t++) {
    mmdnn_adamw_update (w, mw, vw, oc.gw + t * NW, oc.lr[t], 0.9f, 0.999f,
                        1e-8f, oc.wd, t + 1, NW);
    mmdnn_adamw_update (b, mb, vb, oc.gb + t * NB, oc.lr[t], 0.9f, 0.999f,
                        1e-8f, 0.0f, t + 1, NB);
    expect_step (g, "adamw_update", t, w, b, &oc);
  }

  mmdnn_optim_config_init_adamw (&cfg, oc.lr[0], oc.wd);
  run_optim_object (g, &oc, &cfg);
out:
  golden_free (g);
}

static void
run_sgd (const char *case_name, gboolean nesterov)
{
  Golden *g = golden_open (case_name);
  OptimCase oc;
  MmdnnOptimConfig cfg;
  float *w, *b, *bw, *bb;

  if (g == NULL)
    return;
  if (!optim_case_get (g, &oc))
    goto out;

  w = golden_copy (g, oc.w0, NW);
  b = golden_copy (g, oc.b0, NB);
  bw = golden_nans (g, NW);     /* the first step must not read the buffer */
  bb = golden_nans (g, NB);
  for (int t = 0; t < STEPS; t++) {
    mmdnn_sgd_update (w, bw, oc.gw + t * NW, oc.lr[t], 0.9f, oc.wd, nesterov,
                      t == 0, NW);
    mmdnn_sgd_update (b, bb, oc.gb + t * NB, oc.lr[t], 0.9f, 0.0f, nesterov,
                      t == 0, NB);
    expect_step (g, "sgd_update", t, w, b, &oc);
  }

  mmdnn_optim_config_init_sgd (&cfg, oc.lr[0], 0.9f, oc.wd);
  cfg.nesterov = nesterov;
  run_optim_object (g, &oc, &cfg);
out:
  golden_free (g);
}

static void
test_sgd_momentum (void)
{
  run_sgd ("sgd-momentum", FALSE);
}

static void
test_sgd_nesterov (void)
{
  run_sgd ("sgd-nesterov", TRUE);
}

static void
test_clip_grad_norm (void)
{
  const int64_t N = 17;         /* (5) and (3, 4) clipped together */
  Golden *g = golden_open ("clip-grad-norm");
  const float *grad, *clipped_a, *clipped_b;
  float norm, max_a, max_b, *ga, *gb;

  if (g == NULL)
    return;
  grad = GF32 (g, "g", N);
  norm = golden_scalar_f (g, "norm");
  max_a = golden_scalar_f (g, "max_norm_a");
  max_b = golden_scalar_f (g, "max_norm_b");
  clipped_a = GF32 (g, "clipped_a", N);
  clipped_b = GF32 (g, "clipped_b", N);
  if (g->failed)
    goto out;

  ga = golden_copy (g, grad, N);
  gb = golden_copy (g, grad, N);
  expect_scalar (g, "global_norm", mmdnn_grad_global_norm (grad, N), norm,
                 TOL_OPTIM);
  expect_scalar (g, "norm (clipped)", mmdnn_clip_grad_norm (ga, N, max_a),
                 norm, TOL_OPTIM);
  expect_close (g, "clipped", ga, clipped_a, N, TOL_OPTIM);
  expect_scalar (g, "norm (unclipped)", mmdnn_clip_grad_norm (gb, N, max_b),
                 norm, TOL_OPTIM);
  expect_close (g, "unclipped", gb, clipped_b, N, TOL_OPTIM);
out:
  golden_free (g);
}

static void
run_schedule (Golden *g, const char *tag, int64_t nsteps)
{
  char *ncfg = g_strconcat ("cfg_", tag, NULL);
  char *nsteps_name = g_strconcat ("steps_", tag, NULL);
  char *nlr = g_strconcat ("lr_", tag, NULL);
  const float *cfg = GF32 (g, ncfg, 2);
  const int32_t *steps = GI32 (g, nsteps_name, 2);
  const float *lr = GF32 (g, nlr, nsteps);
  GError *err = NULL;
  MmdnnLrSchedule s;

  if (cfg == NULL || steps == NULL || lr == NULL)
    goto out;
  if (!mmdnn_lr_schedule_init (&s, cfg[0], cfg[1], steps[0], steps[1],
                               &err)) {
    g_test_fail_printf ("lr-schedule %s: init: %s", tag, err->message);
    g_error_free (err);
    goto out;
  }
  for (int64_t i = 0; i < nsteps; i++) {
    char *what = g_strdup_printf ("%s(step %" G_GINT64_FORMAT ")", nlr, i);
    expect_scalar (g, what, mmdnn_lr_schedule_get (&s, i), lr[i], TOL_OPTIM);
    g_free (what);
  }
out:
  g_free (ncfg);
  g_free (nsteps_name);
  g_free (nlr);
}

static void
test_lr_schedule (void)
{
  Golden *g = golden_open ("lr-schedule");

  if (g == NULL)
    return;
  run_schedule (g, "a", 25);    /* warm-up 5, total 20, past the end */
  run_schedule (g, "b", 12);    /* no warm-up */
  golden_free (g);
}

/* ------------------------------------------------------------ the reader */

/* A small writer for hand-made files. */
static void
put_u32 (GByteArray *a, guint32 v)
{
  guint32 le = GUINT32_TO_LE (v);
  g_byte_array_append (a, (const guint8 *) &le, 4);
}

static void
put_i64 (GByteArray *a, int64_t v)
{
  guint64 le = GUINT64_TO_LE ((guint64) v);
  g_byte_array_append (a, (const guint8 *) &le, 8);
}

static GByteArray *
put_header (guint32 count)
{
  GByteArray *a = g_byte_array_new ();

  g_byte_array_append (a, (const guint8 *) GOLDEN_MAGIC, 4);
  put_u32 (a, GOLDEN_VERSION);
  put_u32 (a, count);
  return a;
}

/* a tensor header, then @ndata elements 0, 1, 2... (not necessarily as
 * many as the shape says: the negative tests lie) */
static void
put_tensor (GByteArray *a, const char *name, guint32 dtype, guint32 ndim,
            const int64_t *shape, int64_t ndata)
{
  put_u32 (a, (guint32) strlen (name));
  g_byte_array_append (a, (const guint8 *) name, (guint) strlen (name));
  put_u32 (a, dtype);
  put_u32 (a, ndim);
  for (guint32 d = 0; d < ndim; d++)
    put_i64 (a, shape[d]);
  for (int64_t i = 0; i < ndata; i++) {
    if (dtype == GOLDEN_F32) {
      float f = (float) i;
      guint32 u;
      memcpy (&u, &f, 4);
      put_u32 (a, u);
    } else {
      put_u32 (a, (guint32) (-(int32_t) i));
    }
  }
}

/* Parses @a, expecting MMDNN_ERROR_FORMAT and no result. */
static void
expect_format_error (GByteArray *a, const char *label)
{
  GError *err = NULL;
  Golden *g = golden_parse (a->data, a->len, label, &err);

  g_assert_null (g);
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_FORMAT);
  g_test_message ("%s", err->message);
  g_clear_error (&err);
  golden_free (g);
}

static void
test_reader_roundtrip (void)
{
  GByteArray *a = put_header (3);
  GError *err = NULL;
  Golden *g;
  const GoldenTensor *t;

  put_tensor (a, "x", GOLDEN_F32, 2, SHAPE (2, 3), 6);
  put_tensor (a, "ids", GOLDEN_I32, 1, SHAPE (4), 4);
  put_tensor (a, "eps", GOLDEN_F32, 0, NULL, 1);
  g = golden_parse (a->data, a->len, "roundtrip", &err);
  g_assert_no_error (err);
  g_assert_nonnull (g);
  g_assert_cmpuint (g->tensors->len, ==, 3);

  t = golden_lookup (g, "x", GOLDEN_F32, 2, SHAPE (2, 3), &err);
  g_assert_no_error (err);
  g_assert_cmpint (t->numel, ==, 6);
  g_assert_cmpfloat (((const float *) t->data)[5], ==, 5.0f);
  t = golden_lookup (g, "ids", GOLDEN_I32, 1, SHAPE (4), &err);
  g_assert_no_error (err);
  g_assert_cmpint (((const int32_t *) t->data)[3], ==, -3);
  t = golden_lookup (g, "eps", GOLDEN_F32, 0, NULL, &err);
  g_assert_no_error (err);
  g_assert_cmpint (t->numel, ==, 1);
  t = golden_lookup (g, "x", GOLDEN_F32, 2, SHAPE (GOLDEN_ANY, 3), &err);
  g_assert_no_error (err);
  g_assert_cmpint (t->shape[0], ==, 2);
  golden_free (g);
  g_byte_array_unref (a);
}

/* every committed file parses, and has what its test will look for */
static void
test_reader_committed_files (void)
{
  const char *path = g_test_get_filename (G_TEST_DIST, "golden", NULL);
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;
  int n = 0;

  g_assert_nonnull (dir);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    char *full, *label;
    GError *err = NULL;
    Golden *g;

    if (!g_str_has_suffix (name, ".bin"))
      continue;
    full = g_build_filename (path, name, NULL);
    label = g_strndup (name, strlen (name) - 4);
    g = golden_load_path (full, label, &err);
    g_assert_no_error (err);
    g_assert_nonnull (g);
    golden_free (g);
    g_free (label);
    g_free (full);
    n++;
  }
  if (dir != NULL)
    g_dir_close (dir);
  g_assert_cmpint (n, >=, 30);
}

/* every proper prefix of a real file is rejected, never read past */
static void
test_reader_truncated_n (void)
{
  GError *err = NULL;
  char *path = golden_path ("linear");
  gchar *buf = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &buf, &len, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (len, >, 12);
  for (gsize cut = 0; cut < len; cut++) {
    /* a copy of exactly @cut bytes, so a read past it is a valgrind error */
    guint8 *p = g_memdup2 (buf, cut ? cut : 1);
    Golden *g = golden_parse (p, cut, "truncated", &err);

    g_assert_null (g);
    g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_FORMAT);
    g_clear_error (&err);
    g_free (p);
  }
  g_free (buf);
  g_free (path);
}

static void
test_reader_bad_magic_n (void)
{
  GByteArray *a = put_header (1);

  put_tensor (a, "x", GOLDEN_F32, 1, SHAPE (2), 2);
  a->data[0] = 'X';
  expect_format_error (a, "bad-magic");
  g_byte_array_unref (a);
}

static void
test_reader_bad_version_n (void)
{
  GByteArray *a = put_header (1);

  put_tensor (a, "x", GOLDEN_F32, 1, SHAPE (2), 2);
  a->data[4] = 2;
  expect_format_error (a, "bad-version");
  g_byte_array_unref (a);
}

static void
test_reader_size_exceeds_file_n (void)
{
  GByteArray *a = put_header (1);

  /* says 1000 elements, holds 2 */
  put_tensor (a, "x", GOLDEN_F32, 1, SHAPE (1000), 2);
  expect_format_error (a, "size-exceeds-file");
  g_byte_array_unref (a);

  /* a product that overflows int64 */
  a = put_header (1);
  put_tensor (a, "x", GOLDEN_F32, 3,
              SHAPE (INT64_C (1) << 40, INT64_C (1) << 40, INT64_C (1) << 40),
              2);
  expect_format_error (a, "size-overflow");
  g_byte_array_unref (a);

  /* a second tensor that runs past the end of the file */
  a = put_header (2);
  put_tensor (a, "x", GOLDEN_F32, 1, SHAPE (2), 2);
  put_tensor (a, "y", GOLDEN_I32, 2, SHAPE (3, 3), 8);
  expect_format_error (a, "second-tensor-short");
  g_byte_array_unref (a);
}

static void
test_reader_bad_shape_n (void)
{
  GByteArray *a = put_header (1);

  put_tensor (a, "x", GOLDEN_F32, 2, SHAPE (2, 0), 4);   /* data for 2 */
  expect_format_error (a, "zero-dim");
  g_byte_array_unref (a);

  a = put_header (1);
  put_tensor (a, "x", GOLDEN_F32, 1, SHAPE (-2), 2);
  expect_format_error (a, "negative-dim");
  g_byte_array_unref (a);

  a = put_header (1);
  put_tensor (a, "x", GOLDEN_F32, 5, SHAPE (1, 1, 1, 1, 1), 1);
  expect_format_error (a, "ndim-5");
  g_byte_array_unref (a);
}

static void
test_reader_bad_dtype_n (void)
{
  GByteArray *a = put_header (1);

  put_tensor (a, "x", 7, 1, SHAPE (2), 2);
  expect_format_error (a, "bad-dtype");
  g_byte_array_unref (a);
}

static void
test_reader_bad_name_n (void)
{
  GByteArray *a = put_header (1);

  put_tensor (a, "", GOLDEN_F32, 1, SHAPE (2), 2);
  expect_format_error (a, "empty-name");
  g_byte_array_unref (a);

  a = put_header (1);
  put_tensor (a, "a b", GOLDEN_F32, 1, SHAPE (2), 2);
  expect_format_error (a, "space-in-name");
  g_byte_array_unref (a);

  /* a name length far beyond the file */
  a = put_header (1);
  put_u32 (a, 0xffffffffu);
  expect_format_error (a, "huge-name-length");
  g_byte_array_unref (a);

  a = put_header (2);
  put_tensor (a, "x", GOLDEN_F32, 1, SHAPE (2), 2);
  put_tensor (a, "x", GOLDEN_F32, 1, SHAPE (2), 2);
  expect_format_error (a, "duplicate-name");
  g_byte_array_unref (a);
}

static void
test_reader_bad_count_n (void)
{
  GByteArray *a = put_header (0);

  expect_format_error (a, "no-tensors");
  g_byte_array_unref (a);

  a = put_header (0xffffffffu);
  put_tensor (a, "x", GOLDEN_F32, 1, SHAPE (2), 2);
  expect_format_error (a, "huge-count");
  g_byte_array_unref (a);

  /* says 2, holds 1 */
  a = put_header (2);
  put_tensor (a, "x", GOLDEN_F32, 1, SHAPE (2), 2);
  expect_format_error (a, "count-too-high");
  g_byte_array_unref (a);
}

static void
test_reader_trailing_bytes_n (void)
{
  GByteArray *a = put_header (1);

  put_tensor (a, "x", GOLDEN_F32, 1, SHAPE (2), 3);
  expect_format_error (a, "trailing-bytes");
  g_byte_array_unref (a);
}

static void
test_reader_missing_file_n (void)
{
  GError *err = NULL;
  char *path = golden_path ("no-such-case");
  Golden *g = golden_load_path (path, "no-such-case", &err);

  g_assert_null (g);
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_IO);
  g_clear_error (&err);
  g_free (path);
}

static void
test_reader_lookup_mismatch_n (void)
{
  GByteArray *a = put_header (1);
  GError *err = NULL;
  Golden *g;

  put_tensor (a, "x", GOLDEN_F32, 2, SHAPE (2, 3), 6);
  g = golden_parse (a->data, a->len, "lookup", &err);
  g_assert_no_error (err);

  g_assert_null (golden_lookup (g, "x", GOLDEN_F32, 2, SHAPE (3, 2), &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_MISMATCH);
  g_clear_error (&err);
  g_assert_null (golden_lookup (g, "x", GOLDEN_F32, 1, SHAPE (6), &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_MISMATCH);
  g_clear_error (&err);
  g_assert_null (golden_lookup (g, "x", GOLDEN_I32, 2, SHAPE (2, 3), &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_MISMATCH);
  g_clear_error (&err);
  g_assert_null (golden_lookup (g, "y", GOLDEN_F32, 2, SHAPE (2, 3), &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_MISMATCH);
  g_clear_error (&err);
  /* a wildcard size matches any size, never another ndim or dim */
  g_assert_null (golden_lookup (g, "x", GOLDEN_F32, 2,
                                SHAPE (GOLDEN_ANY, 2), &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_MISMATCH);
  g_clear_error (&err);
  g_assert_null (golden_lookup (g, "x", GOLDEN_F32, 1, SHAPE (GOLDEN_ANY),
                                &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_MISMATCH);
  g_clear_error (&err);

  golden_free (g);
  g_byte_array_unref (a);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* a mismatch fails its case but the others still run and report */
  g_test_set_nonfatal_assertions ();

  g_test_add_func ("/golden/linear", test_linear);
  g_test_add_func ("/golden/linear-nobias", test_linear_nobias);
  g_test_add_func ("/golden/conv2d", test_conv2d);
  g_test_add_func ("/golden/conv2d-rect", test_conv2d_rect);
  g_test_add_func ("/golden/conv-transpose2d", test_conv_transpose2d);
  g_test_add_func ("/golden/conv1d", test_conv1d);
  g_test_add_func ("/golden/maxpool2d", test_maxpool2d);
  g_test_add_func ("/golden/avgpool2d", test_avgpool2d);
  g_test_add_func ("/golden/global-avgpool", test_global_avgpool);
  g_test_add_func ("/golden/adaptive-avgpool", test_adaptive_avgpool);
  g_test_add_func ("/golden/relu", test_relu);
  g_test_add_func ("/golden/gelu", test_gelu);
  g_test_add_func ("/golden/sigmoid", test_sigmoid);
  g_test_add_func ("/golden/tanh", test_tanh);
  g_test_add_func ("/golden/softmax", test_softmax);
  g_test_add_func ("/golden/grad-reverse", test_grad_reverse);
  g_test_add_func ("/golden/layernorm", test_layernorm);
  g_test_add_func ("/golden/layernorm-noaffine", test_layernorm_noaffine);
  g_test_add_func ("/golden/embedding-bag", test_embedding_bag);
  g_test_add_func ("/golden/cosine-matrix", test_cosine_matrix);
  g_test_add_func ("/golden/cosine-matrix-clamp", test_cosine_matrix_clamp);
  g_test_add_func ("/golden/cross-entropy", test_cross_entropy);
  g_test_add_func ("/golden/cross-entropy-ignore", test_cross_entropy_ignore);
  g_test_add_func ("/golden/mse", test_mse);
  g_test_add_func ("/golden/bce-logits", test_bce_logits);
  g_test_add_func ("/golden/info-nce", test_info_nce);
  g_test_add_func ("/golden/adamw", test_adamw);
  g_test_add_func ("/golden/sgd-momentum", test_sgd_momentum);
  g_test_add_func ("/golden/sgd-nesterov", test_sgd_nesterov);
  g_test_add_func ("/golden/clip-grad-norm", test_clip_grad_norm);
  g_test_add_func ("/golden/lr-schedule", test_lr_schedule);

  g_test_add_func ("/golden/reader-roundtrip", test_reader_roundtrip);
  g_test_add_func ("/golden/reader-committed-files",
                   test_reader_committed_files);
  g_test_add_func ("/golden/reader-truncated_n", test_reader_truncated_n);
  g_test_add_func ("/golden/reader-bad-magic_n", test_reader_bad_magic_n);
  g_test_add_func ("/golden/reader-bad-version_n", test_reader_bad_version_n);
  g_test_add_func ("/golden/reader-size-exceeds-file_n",
                   test_reader_size_exceeds_file_n);
  g_test_add_func ("/golden/reader-bad-shape_n", test_reader_bad_shape_n);
  g_test_add_func ("/golden/reader-bad-dtype_n", test_reader_bad_dtype_n);
  g_test_add_func ("/golden/reader-bad-name_n", test_reader_bad_name_n);
  g_test_add_func ("/golden/reader-bad-count_n", test_reader_bad_count_n);
  g_test_add_func ("/golden/reader-trailing-bytes_n",
                   test_reader_trailing_bytes_n);
  g_test_add_func ("/golden/reader-missing-file_n",
                   test_reader_missing_file_n);
  g_test_add_func ("/golden/reader-lookup-mismatch_n",
                   test_reader_lookup_mismatch_n);

  return g_test_run ();
}
