/* mmdnn — virtual data generation for scarce samples (DESIGN §2.4).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>
#include <mmdnn/model.h>
#include <mmdnn/rng.h>

G_BEGIN_DECLS

/* Every step edits the batch it is given in place (the model hands it its
 * own copy) and draws only from the MmdnnRng it is given, so a seed
 * reproduces a run exactly. A modality counts as present in sample i when
 * presence[i·3 + m] ≥ 0.5 and, where the step reads inputs, the batch has
 * that modality's array and the config has the modality. Inputs of missing
 * modalities are never read (they may hold garbage or NaN). */

/* The switches of m->config, drawn from m->rng, in this order:
 *   1. recombination (p_recombine): swaps real inputs between samples of a
 *      class while every sample still has exactly one label;
 *   2. latent perturbation (p_latent, latent_noise): decodes perturbed AE
 *      latents of real (or recombined) inputs — the AE never saw mixed
 *      inputs, so this must come before mixup;
 *   3. mixup (mixup_alpha): blends the results of 1–2 and sets labels_b/mix
 *      (skipped when the batch is already mixed, b->mix ≠ 1: a second mix
 *      would need four label sets);
 *   4. modality dropout (p_modality_dropout): last, so mixup still sees
 *      every pair it can blend and the presence the model gets is exactly
 *      what dropout left, with ≥ 1 modality per sample.
 * A switch at 0 is skipped without drawing. Every hyper-parameter is
 * validated before anything is changed (MMDNN_ERROR_INVALID_ARGUMENT). */
MMDNN_API gboolean mmdnn_augment_apply (MmdnnModel *m, MmdnnBatch *b,
                                        GError **error);

/* Within-class modality recombination. For each sample i (one uniform draw
 * each), with probability p: among i's present modalities m for which some
 * other sample j ≠ i has the same known task-0 label (≥ 0) and m present,
 * pick m uniformly, then such a j uniformly, and give i j's modality-m input
 * as it was before this call (no chains). Presence and labels unchanged.
 * A no-op for NULL arguments, p ≤ 0 or p not finite, or an unlabelled
 * batch; p ≥ 1 recombines every eligible sample. */
MMDNN_API void mmdnn_augment_recombine (MmdnnBatch *b,
                                        const MmdnnModelConfig *c, float p,
                                        MmdnnRng *rng);

/* Mixup: λ ~ Beta(α, α) once per batch, λ = max(λ, 1 − λ); partner =
 * a random permutation π (mmdnn_rng_shuffle). Video/audio inputs become
 * λ·x_i + (1 − λ)·x_π(i) where both samples have the modality; otherwise
 * (and for text ids, which cannot be mixed) a sample keeps its own input.
 * Presence unchanged; labels_b = labels of π(i); mix = λ. labels_b is
 * allocated with g_malloc when NULL and is then owned by the batch
 * (mmdnn_batch_free frees it). Errors (batch untouched): NULL b/c/rng,
 * α ≤ 0 or not finite, n < 1, NULL labels, a batch already mixed
 * (mix ≠ 1); NO_MEMORY. */
MMDNN_API gboolean mmdnn_augment_mixup (MmdnnBatch *b,
                                        const MmdnnModelConfig *c,
                                        float alpha, MmdnnRng *rng,
                                        GError **error);

/* Mixup with a given λ ∈ [0, 1] (used as is) and partner permutation
 * perm: (N), a permutation of 0..N−1 — the deterministic core of
 * mmdnn_augment_mixup, public for tests. Same errors, plus λ outside [0, 1]
 * and perm not a permutation. */
MMDNN_API gboolean mmdnn_augment_mixup_with (MmdnnBatch *b,
                                             const MmdnnModelConfig *c,
                                             float lambda,
                                             const int64_t *perm,
                                             GError **error);

/* A Beta(a, b) draw from two Marsaglia–Tsang gamma draws (a < 1 through
 * Gamma(a + 1)·U^(1/a), in log space so tiny shapes do not give 0/0).
 * NaN for a or b ≤ 0 or not finite. */
MMDNN_API double mmdnn_augment_beta (MmdnnRng *rng, double a, double b);

/* Each present modality of each sample (presence only) is dropped
 * (presence 0) with probability p; if that would drop all of a sample's
 * present modalities, one of them, chosen uniformly, is kept. So with k
 * present a given one is dropped with probability p − p^k/k, and no
 * modality is favoured. Inputs are left as they are. A no-op for NULL
 * arguments, p ≤ 0 or p not finite. */
MMDNN_API void mmdnn_augment_modality_dropout (MmdnnBatch *b, float p,
                                               MmdnnRng *rng);

/* Latent perturbation. For each image modality (video, then audio) the
 * model has with the AE branch, each sample with it present is chosen with
 * probability p (one uniform draw each). The chosen ones are encoded (a
 * private activation arena, so the model's saved activations are
 * untouched), each latent gets N(0, (noise·std)²) added, std = the
 * population std of that sample's latent, decoded, and the reduced
 * reconstruction (C, Hr, Wr) is upsampled bilinearly to (C, H, W)
 * (align_corners = False, PyTorch's F.interpolate default, matching the
 * area-average target the decoder was trained on) and replaces the input.
 * A sample whose latent is not finite is left as it was. Errors (batch
 * untouched): NULL m/b, p outside [0, 1], noise < 0 or not finite, n < 1;
 * NO_MEMORY. */
MMDNN_API gboolean mmdnn_augment_latent (MmdnnModel *m, MmdnnBatch *b,
                                         float p, float noise,
                                         GError **error);

G_END_DECLS
