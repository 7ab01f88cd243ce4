/* mmdnn — batched cosine-similarity matrix.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>

G_BEGIN_DECLS

/* For every batch item, the cosine similarity of each of KM rows of x with
 * each of KN rows of y:
 *   s = F.normalize(x, dim=-1, eps) @ F.normalize(y, dim=-1, eps).transpose(-1, -2)
 * where normalising divides by max(‖row‖, eps), so a near-zero row gives
 * near-zero similarities instead of NaN.
 *   x: (N, KM, D)   y: (N, KN, D)   → s: (N, KM, KN) (overwritten)
 *   xnorm: (N, KM), ynorm: (N, KN) save max(‖row‖, eps) for backward. */
MMDNN_API void mmdnn_cosine_matrix_forward (float *s, float *xnorm,
                                            float *ynorm, const float *x,
                                            const float *y, float eps,
                                            int64_t n, int64_t km, int64_t kn,
                                            int64_t d);

/* Accumulates (+=) the gradients w.r.t. x into dx: (N, KM, D) and w.r.t. y
 * into dy: (N, KN, D); either may be NULL. ds: (N, KM, KN) is the upstream
 * gradient (note: dy is NOT the upstream gradient here). x, y, xnorm, ynorm
 * and eps as given to / saved by forward. A row whose norm was clamped to
 * eps gets the gradient of a plain division by eps (PyTorch's clamp_min). */
MMDNN_API void mmdnn_cosine_matrix_backward (float *dx, float *dy,
                                             const float *ds, const float *x,
                                             const float *y,
                                             const float *xnorm,
                                             const float *ynorm, float eps,
                                             int64_t n, int64_t km,
                                             int64_t kn, int64_t d);

/* Validates the arguments of the kernels above: eps > 0 and finite, every
 * size ≥ 1 and KM, KN, D within the 32-bit range of BLAS. Not in the
 * original spec; it mirrors mmdnn_info_nce_check (). */
MMDNN_API gboolean mmdnn_cosine_matrix_check (float eps, int64_t n, int64_t km,
                                              int64_t kn, int64_t d,
                                              GError **error);

G_END_DECLS
