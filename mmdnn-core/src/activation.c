/* mmdnn — activations, softmax, dropout and gradient reversal.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/activation.h>
#include "internal.h"

/* y = max(x, 0)   x, y: (n) */
void
mmdnn_relu_forward (float *y, const float *x, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* dx += dy · [x > 0]   (the subgradient at 0 is 0, as PyTorch). Adding 0
 * where x ≤ 0 instead of skipping the store makes the loop branch-free, so
 * GCC vectorises it: a data-dependent branch on activations of random sign
 * mispredicted half the time. (dx = −0 turns into +0 there; a NaN dy where
 * x ≤ 0 still does not propagate.) */
void
mmdnn_relu_backward (float *dx, const float *dy, const float *x, int64_t n)
{
  if (dx == NULL)
    return;
  for (int64_t i = 0; i < n; i++)
    dx[i] += x[i] > 0.0f ? dy[i] : 0.0f;
}

/* dx = dy · [x > 0], what mmdnn_relu_backward leaves in a zeroed dx: the
 * "+ 0" turns −0 into +0 as 0 + (−0) does there, so the two agree bit for
 * bit, and a gradient with this one producer needs no memset first. */
void
mmdnn_relu_backward_set (float *dx, const float *dy, const float *x,
                         int64_t n)
{
  if (dx == NULL)
    return;
  for (int64_t i = 0; i < n; i++)
    dx[i] = (x[i] > 0.0f ? dy[i] : 0.0f) + 0.0f;
}

#define GELU_INV_SQRT2 0.70710678118654752440f
#define GELU_INV_SQRT_2PI 0.39894228040143267794f

/* y = ½x(1 + erf(x/√2))   x, y: (n) */
void
mmdnn_gelu_forward (float *y, const float *x, int64_t n)
{
  for (int64_t i = 0; i < n; i++) {
    float v = x[i];
    y[i] = 0.5f * v * (1.0f + erff (v * GELU_INV_SQRT2));
  }
}

/* dx += dy · (Φ(x) + x·φ(x)),  Φ(x) = ½(1 + erf(x/√2)),  φ(x) = e^(−x²/2)/√(2π) */
void
mmdnn_gelu_backward (float *dx, const float *dy, const float *x, int64_t n)
{
  if (dx == NULL)
    return;
  for (int64_t i = 0; i < n; i++) {
    float v = x[i];
    float cdf = 0.5f * (1.0f + erff (v * GELU_INV_SQRT2));
    float pdf = GELU_INV_SQRT_2PI * expf (-0.5f * v * v);
    dx[i] += dy[i] * (cdf + v * pdf);
  }
}

/* y = 1/(1 + e^−x); for x < 0 as e^x/(1 + e^x) so e^−x cannot overflow */
void
mmdnn_sigmoid_forward (float *y, const float *x, int64_t n)
{
  for (int64_t i = 0; i < n; i++) {
    float v = x[i];
    if (v >= 0.0f) {
      y[i] = 1.0f / (1.0f + expf (-v));
    } else {
      float e = expf (v);
      y[i] = e / (1.0f + e);
    }
  }
}

/* dx += dy · y(1 − y) */
void
mmdnn_sigmoid_backward (float *dx, const float *dy, const float *y, int64_t n)
{
  if (dx == NULL)
    return;
  for (int64_t i = 0; i < n; i++)
    dx[i] += dy[i] * y[i] * (1.0f - y[i]);
}

/* y = tanh(x) */
void
mmdnn_tanh_forward (float *y, const float *x, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    y[i] = tanhf (x[i]);
}

/* dx += dy · (1 − y²) */
void
mmdnn_tanh_backward (float *dx, const float *dy, const float *y, int64_t n)
{
  if (dx == NULL)
    return;
  for (int64_t i = 0; i < n; i++)
    dx[i] += dy[i] * (1.0f - y[i] * y[i]);
}

/* y_ij = e^(x_ij − max_j x) / Σ_j e^(x_ij − max_j x)   x, y: (ROWS, COLS)
 * The row sum is taken in double: COLS may be a whole vocabulary. */
void
mmdnn_softmax_forward (float *y, const float *x, int64_t rows, int64_t cols)
{
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    float *yr = y + r * cols;
    float max = -INFINITY;
    double sum = 0.0;
    float inv;

    for (int64_t j = 0; j < cols; j++)
      if (xr[j] > max)
        max = xr[j];
    for (int64_t j = 0; j < cols; j++) {
      yr[j] = expf (xr[j] - max);
      sum += yr[j];
    }
    inv = (float) (1.0 / sum);
    for (int64_t j = 0; j < cols; j++)
      yr[j] *= inv;
  }
}

/* dx_ij += y_ij (dy_ij − Σ_k dy_ik y_ik) */
void
mmdnn_softmax_backward (float *dx, const float *dy, const float *y,
                        int64_t rows, int64_t cols)
{
  if (dx == NULL)
    return;
  for (int64_t r = 0; r < rows; r++) {
    const float *dyr = dy + r * cols, *yr = y + r * cols;
    float *dxr = dx + r * cols;
    double dot = 0.0;
    float fdot;

    for (int64_t j = 0; j < cols; j++)
      dot += (double) dyr[j] * (double) yr[j];
    fdot = (float) dot;
    for (int64_t j = 0; j < cols; j++)
      dxr[j] += yr[j] * (dyr[j] - fdot);
  }
}

gboolean
mmdnn_dropout_check (float p, GError **error)
{
  /* written so that NaN fails too */
  MMDNN_CHECK (p >= 0.0f && p < 1.0f, error, FALSE,
               "dropout: p=%g must be finite and in [0, 1)", (double) p);
  return TRUE;
}

/* mask_i = [u_i ≥ p] / (1 − p) with u_i ~ U[0, 1) from rng;  y = x ⊙ mask
 *   x, y, mask: (n) */
void
mmdnn_dropout_forward (float *y, float *mask, const float *x, float p,
                       MmdnnRng *rng, int64_t n)
{
  float scale;

  if (p == 0.0f) {
    for (int64_t i = 0; i < n; i++) {
      mask[i] = 1.0f;
      y[i] = x[i];
    }
    return;
  }
  scale = 1.0f / (1.0f - p);
  for (int64_t i = 0; i < n; i++) {
    mask[i] = mmdnn_rng_uniform (rng) >= (double) p ? scale : 0.0f;
    y[i] = x[i] * mask[i];
  }
}

/* dx += dy ⊙ mask */
void
mmdnn_dropout_backward (float *dx, const float *dy, const float *mask,
                        int64_t n)
{
  if (dx == NULL)
    return;
  for (int64_t i = 0; i < n; i++)
    dx[i] += dy[i] * mask[i];
}

/* y = x   x, y: (n) */
void
mmdnn_grad_reverse_forward (float *y, const float *x, int64_t n)
{
  if (y != x && n > 0)
    memmove (y, x, sizeof (float) * n);
}

/* dx += −λ · dy */
void
mmdnn_grad_reverse_backward (float *dx, const float *dy, float lambda,
                             int64_t n)
{
  if (dx == NULL)
    return;
  for (int64_t i = 0; i < n; i++)
    dx[i] += -lambda * dy[i];
}

gboolean
mmdnn_grad_reverse_check (float lambda, GError **error)
{
  MMDNN_CHECK (isfinite (lambda), error, FALSE,
               "gradient reversal: lambda=%g must be finite", (double) lambda);
  return TRUE;
}
