/* mmdnn — activations, softmax, dropout and gradient reversal.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>
#include <mmdnn/rng.h>

G_BEGIN_DECLS

/* Elementwise kernels over n floats. Forward overwrites y (y == x is
 * allowed); backward accumulates (+=) into dx, which may be NULL. */

/* y = max(x, 0)                  x, y: (n) */
MMDNN_API void mmdnn_relu_forward (float *y, const float *x, int64_t n);
/* dx += dy · [x > 0]             dy, x, dx: (n) */
MMDNN_API void mmdnn_relu_backward (float *dx, const float *dy, const float *x,
                                    int64_t n);
/* dx = dy · [x > 0], overwriting dx: bit for bit mmdnn_relu_backward into a
 * zeroed dx, without zeroing it first    dy, x, dx: (n) */
MMDNN_API void mmdnn_relu_backward_set (float *dx, const float *dy,
                                        const float *x, int64_t n);

/* y = x · Φ(x) = ½x(1 + erf(x/√2)), the exact form (PyTorch's default,
 * approximate='none')            x, y: (n) */
MMDNN_API void mmdnn_gelu_forward (float *y, const float *x, int64_t n);
/* dx += dy · (Φ(x) + x·φ(x))     dy, x, dx: (n) */
MMDNN_API void mmdnn_gelu_backward (float *dx, const float *dy, const float *x,
                                    int64_t n);

/* y = 1 / (1 + e^−x), without overflow for large |x|    x, y: (n) */
MMDNN_API void mmdnn_sigmoid_forward (float *y, const float *x, int64_t n);
/* dx += dy · y(1 − y); takes the forward OUTPUT y   dy, y, dx: (n) */
MMDNN_API void mmdnn_sigmoid_backward (float *dx, const float *dy,
                                       const float *y, int64_t n);

/* y = tanh(x)                    x, y: (n) */
MMDNN_API void mmdnn_tanh_forward (float *y, const float *x, int64_t n);
/* dx += dy · (1 − y²); takes the forward OUTPUT y   dy, y, dx: (n) */
MMDNN_API void mmdnn_tanh_backward (float *dx, const float *dy, const float *y,
                                    int64_t n);

/* Softmax over the last dimension, shifted by the row maximum so large
 * logits do not overflow.        x, y: (ROWS, COLS) */
MMDNN_API void mmdnn_softmax_forward (float *y, const float *x, int64_t rows,
                                      int64_t cols);
/* dx += y ⊙ (dy − Σ_j dy_j y_j) per row; takes the forward OUTPUT y
 *   dy, y, dx: (ROWS, COLS) */
MMDNN_API void mmdnn_softmax_backward (float *dx, const float *dy,
                                       const float *y, int64_t rows,
                                       int64_t cols);

/* Validates a dropout probability: finite and 0 ≤ p < 1 (p = 1 would scale
 * by infinity). MMDNN_ERROR_INVALID_ARGUMENT otherwise. */
MMDNN_API gboolean mmdnn_dropout_check (float p, GError **error);

/* Inverted dropout (training mode): each element is kept with probability
 * 1 − p, drawn from @rng, and scaled so E[y] = x. mask stores the factor
 * actually applied, 0 or 1/(1 − p), for backward. With p == 0 the mask is all
 * ones, y = x and @rng is neither read nor advanced (it may be NULL).
 * At inference the caller simply skips dropout. p must pass
 * mmdnn_dropout_check ().        x, y, mask: (n) */
MMDNN_API void mmdnn_dropout_forward (float *y, float *mask, const float *x,
                                      float p, MmdnnRng *rng, int64_t n);
/* dx += dy ⊙ mask                dy, mask, dx: (n) */
MMDNN_API void mmdnn_dropout_backward (float *dx, const float *dy,
                                       const float *mask, int64_t n);

/* Gradient reversal (Ganin & Lempitsky, DANN): the identity going forward,
 * the gradient negated and scaled by λ going back, so the layers before it
 * learn to fool the domain classifier after it.   x, y: (n) */
MMDNN_API void mmdnn_grad_reverse_forward (float *y, const float *x,
                                           int64_t n);
/* dx += −λ · dy                  dy, dx: (n) */
MMDNN_API void mmdnn_grad_reverse_backward (float *dx, const float *dy,
                                            float lambda, int64_t n);
/* Validates λ: finite (a NaN or ∞ would poison every gradient upstream).
 * Not in the original spec; it mirrors mmdnn_dropout_check (). */
MMDNN_API gboolean mmdnn_grad_reverse_check (float lambda, GError **error);

G_END_DECLS
