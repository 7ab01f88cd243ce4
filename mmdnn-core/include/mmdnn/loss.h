/* mmdnn — training losses: cross-entropy, MSE, BCE with logits, InfoNCE.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>

G_BEGIN_DECLS

/* Softmax cross-entropy with PyTorch's F.cross_entropy semantics (weight=,
 * ignore_index=, reduction='mean').
 *   logits: (N, C)   targets: (N)   class_weights: (C) or NULL (all 1)
 *   probs: (N, C) saved softmax for backward   loss: one float
 * loss = Σ_i w[t_i]·(−log p_i[t_i]) / Σ_i w[t_i] over the rows with
 * t_i ≠ ignore_index; 0 when no row counts (all ignored, or their weights
 * sum to 0: PyTorch would give NaN there, which would poison a model).
 * Targets are data, so they are checked before anything is written: a target
 * outside [0, C) that is not ignore_index fails with MMDNN_ERROR_DATA naming
 * the row, leaving *loss and probs untouched. Sums run in double. */
MMDNN_API gboolean mmdnn_cross_entropy_forward (float *loss, float *probs,
                                                const float *logits,
                                                const int32_t *targets,
                                                const float *class_weights,
                                                int32_t ignore_index,
                                                int64_t n, int64_t c,
                                                GError **error);

/* Accumulates dloss · ∂loss/∂logits into dlogits: (N, C), from the probs,
 * targets and weights given to a successful forward. Ignored rows get 0. */
MMDNN_API void mmdnn_cross_entropy_backward (float *dlogits, float dloss,
                                             const float *probs,
                                             const int32_t *targets,
                                             const float *class_weights,
                                             int32_t ignore_index,
                                             int64_t n, int64_t c);

/* Mean squared error.  pred, target: (N), N ≥ 1 → mean of (pred − target)². */
MMDNN_API float mmdnn_mse_forward (const float *pred, const float *target,
                                   int64_t n);

/* dpred: (N) += dloss · 2 (pred − target) / N */
MMDNN_API void  mmdnn_mse_backward (float *dpred, float dloss,
                                    const float *pred, const float *target,
                                    int64_t n);

/* Binary cross-entropy on logits (F.binary_cross_entropy_with_logits, mean).
 *   logits, targets: (N), N ≥ 1; targets in [0, 1] (soft labels allowed)
 * Per element max(x,0) − x·t + log1p(exp(−|x|)): never evaluates exp of a
 * large positive number, so any finite logit gives a finite loss. */
MMDNN_API float mmdnn_bce_logits_forward (const float *logits,
                                          const float *targets, int64_t n);

/* dlogits: (N) += dloss · (σ(x) − t) / N */
MMDNN_API void  mmdnn_bce_logits_backward (float *dlogits, float dloss,
                                           const float *logits,
                                           const float *targets, int64_t n);

/* Validates InfoNCE hyper-parameters: tau > 0 and finite, n ≥ 1, d ≥ 1, and
 * sizes small enough for the workspace and for BLAS. */
MMDNN_API gboolean mmdnn_info_nce_check (float tau, int64_t n, int64_t d,
                                         GError **error);

/* Floats of workspace forward fills and backward reads:
 * â, b̂: (N, D) each; ‖a‖, ‖b‖: (N) each; logits, row softmax, column
 * softmax: (N, N) each. -1 for sizes mmdnn_info_nce_check () rejects. */
MMDNN_API int64_t mmdnn_info_nce_workspace_size (int64_t n, int64_t d);

/* Symmetric (CLIP-style) InfoNCE.
 *   a, b: (N, D), row i of a paired with row i of b
 *   ws: mmdnn_info_nce_workspace_size (N, D) floats, caller-provided
 * logits = â·b̂ᵀ/τ with x̂ = x/max(‖x‖, 1e-8) (F.normalize); the targets are
 * the diagonal; loss = ½ (CE (logits, arange N) + CE (logitsᵀ, arange N)).
 * Check the arguments once with mmdnn_info_nce_check (). */
MMDNN_API float mmdnn_info_nce_forward (float *ws, const float *a,
                                        const float *b, float tau, int64_t n,
                                        int64_t d);

/* da, db: (N, D) += dloss · ∂loss/∂a, ∂loss/∂b; either may be NULL.
 * ws, a, b, tau exactly as given to forward. Needs no scratch: the
 * normalisation's backward is folded into one pass over the saved softmaxes. */
MMDNN_API void  mmdnn_info_nce_backward (float *da, float *db, float dloss,
                                         const float *ws, const float *a,
                                         const float *b, float tau, int64_t n,
                                         int64_t d);

G_END_DECLS
