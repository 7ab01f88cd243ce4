/* mmdnn — the information-fusion module: video, audio and text tokens → one
 * fused vector per sample and a fusion weight per modality (DESIGN §2.3).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>
#include <mmdnn/rng.h>
#include <mmdnn/tensor.h>
#include <mmdnn/linear.h>

G_BEGIN_DECLS

typedef enum {
  MMDNN_MODALITY_VIDEO,
  MMDNN_MODALITY_AUDIO,
  MMDNN_MODALITY_TEXT,
  MMDNN_N_MODALITIES
} MmdnnModality;

/* Modality pairs in this fixed order: (video, audio), (video, text),
 * (audio, text). */
#define MMDNN_N_PAIRS 3
/* Attention candidates: the 3 summaries then the 3 pooled pair vectors, in
 * the order video, audio, text, video_audio, video_text, audio_text. */
#define MMDNN_FUSION_N_CANDIDATES (MMDNN_N_MODALITIES + MMDNN_N_PAIRS)

/* "video", "audio", "text"; NULL for anything else. */
MMDNN_API const char *mmdnn_modality_name (MmdnnModality m);

/*
 * Inputs, per sample (D = dim, K_m = tokens[m]):
 *   X_m: (K_m, D) the tokens of modality m,
 *   mask_m: (K_m) 1 = real token, 0 = padding (a NULL mask: all real),
 *   p: (3) presence, 1 = modality present, 0 = missing.
 * Only the real tokens of present modalities are ever read: the values of
 * padded tokens and of every token (and mask) of a missing modality are
 * ignored, even NaN, and receive no gradient.
 *
 * Per sample:
 *  1. summaries: s_m = Σ_k mask_k X_m[k] / Σ_k mask_k, for present m.
 *  2. for every pair (m, n) with both present, S = cosine matrix of X_m vs
 *     X_n (mmdnn_cosine_matrix_forward, eps 1e-8), and the best matches both
 *     ways over REAL tokens only:
 *       for each real i of m (ascending): j*(i) = argmax_{real j} S_ij,
 *       for each real j of n (ascending): i*(j) = argmax_{real i} S_ij,
 *     ties going to the lowest index. The match list is
 *       P = [(i, j*(i)) for real i] ++ [(i*(j), j) for real j],
 *     a LIST of R_m + R_n entries (R = number of real tokens): a pair found
 *     both ways (mutual best match) appears twice and so weighs double in
 *     the softmax below. That is deliberate: a mutual match is stronger
 *     evidence, and the list keeps forward and backward simple.
 *  3. feature matching, with the gate layer of the pair (W: (D, 4D), b: (D)):
 *     for each (i, j) in P, with x = X_m[i], y = X_n[j]:
 *       u = [x; y; x⊙y; |x − y|] (4D),   g = sigmoid(W u + b) (D),
 *       f = g⊙x + (1 − g)⊙y (D),
 *     pair weights w = softmax over the list P of S_ij / τ, and the pooled
 *     vector c_mn = Σ_{l∈P} w_l f_l (D).
 *     |x − y| is differentiated as sign(x − y) with sign(0) = 0 (PyTorch's
 *     abs).
 *  4. modality-level attention over the candidates present in the sample:
 *     {s_m : m present} ∪ {c_mn : m and n present}, in the order video,
 *     audio, text, va, vt, at:
 *       e_c = vᵀ tanh(W_a c + b_a)        (W_a: (H, D), b_a: (H), v: (H)),
 *       α = softmax of e over the PRESENT candidates only (a missing one has
 *       α = 0 exactly and takes no part in the normalisation: it is masked
 *       out, never zero-filled into the average),
 *       fused = Σ_c α_c c (D).
 *  5. reported fusion weight per modality:
 *       ω_m = α(s_m) + ½ Σ_{pairs containing m} α(c_mn),
 *     so Σ_m ω_m = 1 and ω_m = 0 for a missing m.
 *
 * Gradients flow through everything except the argmax choices (piecewise
 * constant) and τ (a fixed hyper-parameter): the cosine matrix (via the
 * softmax weights of step 3), both token sets, the gates, the summaries and
 * the attention.
 *
 * Parameters under the prefix P (PyTorch layouts):
 *   P.match.video_audio.{weight (D, 4D), bias (D)}, P.match.video_text.…,
 *   P.match.audio_text.…   (one gate layer per modality pair),
 *   P.attn.{weight (H, D), bias (H)},
 *   P.attn_v (H)           (a weight vector: weight decay applies).
 *
 * Not thread-safe: one module + acts per thread.
 */

typedef struct {
  int64_t dim;                          /* D */
  int64_t tokens[MMDNN_N_MODALITIES];   /* K_m, the padded token count */
  int64_t attn_hidden;                  /* H */
  float   tau;                          /* τ of the pair softmax */
} MmdnnFusionConfig;

/* Defaults: D 128, K {16, 10, 32} (video, audio, text), H 64, τ 0.1. */
MMDNN_API void mmdnn_fusion_config_init (MmdnnFusionConfig *c);

/* dim, attn_hidden in [1, 2²⁰]; every tokens[m] in [1, 4096]; τ finite and
 * > 0. Else MMDNN_ERROR_INVALID_ARGUMENT naming the field and value. */
MMDNN_API gboolean mmdnn_fusion_config_check (const MmdnnFusionConfig *c,
                                              GError **error);

typedef struct {
  MmdnnFusionConfig config;
  MmdnnLinear       gate[MMDNN_N_PAIRS];  /* 4D → D, in the pair order */
  MmdnnLinear       attn;                 /* D → H */
  MmdnnParam       *attn_v;               /* (H) */
} MmdnnFusion;

/* Checks @c and declares the parameters in @ps under @prefix (views,
 * transfer none: @ps must outlive @f). Every check (config, prefix
 * non-empty, @ps not allocated, no name taken) comes before the first
 * declaration: on failure nothing is declared and @f is untouched. */
MMDNN_API gboolean mmdnn_fusion_init (MmdnnFusion *f, MmdnnParamSet *ps,
                                      const char *prefix,
                                      const MmdnnFusionConfig *c,
                                      GError **error);

/* After mmdnn_param_set_allocate (): PyTorch's Linear init for the gates and
 * the attention (U(±1/√fan_in)) and attn_v ~ U(±1/√H), drawn in declaration
 * order, so the same seed gives the same weights. */
MMDNN_API void mmdnn_fusion_reset (MmdnnFusion *f, MmdnnRng *rng);

/* The activation arena: every buffer of forward and backward for up to max_n
 * samples in one slab (plus one array of match indices), so forward and
 * backward never allocate. It also keeps a sanitised copy of the tokens
 * (padding and missing modalities zeroed), so the caller's token buffers
 * need not outlive the forward. */
typedef struct _MmdnnFusionActs MmdnnFusionActs;

/* (transfer full): free with mmdnn_fusion_acts_free (). NULL with @error on
 * a NULL @f, max_n < 1 (INVALID_ARGUMENT) or an arena too large / no memory
 * (NO_MEMORY). */
MMDNN_API MmdnnFusionActs *mmdnn_fusion_acts_new (const MmdnnFusion *f,
                                                  int64_t max_n,
                                                  GError **error);
/* NULL is a no-op. */
MMDNN_API void mmdnn_fusion_acts_free (MmdnnFusionActs *a);

/*   tokens[m]: (N, K_m, D), or NULL when m is missing in every sample;
 *   masks[m]:  (N, K_m) of exactly 0/1, or NULL (all real); @masks itself
 *              may be NULL (every mask NULL);
 *   presence:  (N, 3) of exactly 0/1, or NULL (every modality present)
 * → *fused: (N, D), *modality_weights: (N, 3) (ω), both into the arena
 *   (transfer none), valid until the next successful forward on @a.
 * @modality_weights may be NULL (not wanted).
 * Fails, with the arena and the outputs untouched (the previous forward
 * stays valid for backward), with
 *   INVALID_ARGUMENT: a NULL argument, n < 1 or > the arena's max_n, an
 *     arena made for another configuration, tokens[m] NULL while m is
 *     present in some sample;
 *   MMDNN_ERROR_DATA (naming the sample, modality and position): a presence
 *     or (present modality's) mask value other than 0 or 1, a present
 *     modality without any real token, a sample without any present
 *     modality, a non-finite value in a real token of a present modality. */
MMDNN_API gboolean mmdnn_fusion_forward (const MmdnnFusion *f,
                                         MmdnnFusionActs *a,
                                         const float *const tokens[MMDNN_N_MODALITIES],
                                         const float *const masks[MMDNN_N_MODALITIES],
                                         const float *presence, int64_t n,
                                         const float **fused,
                                         const float **modality_weights,
                                         GError **error);

/* dfused: (N, D). Accumulates (+=) into the gradients of every parameter and
 * into dtokens[m]: (N, K_m, D) (@dtokens or any dtokens[m] may be NULL:
 * skipped). Only the real tokens of present modalities receive gradient.
 * Must follow a successful forward on @a with the same @n; otherwise it logs
 * an error and does nothing. */
MMDNN_API void mmdnn_fusion_backward (const MmdnnFusion *f,
                                      MmdnnFusionActs *a, const float *dfused,
                                      float *const dtokens[MMDNN_N_MODALITIES],
                                      int64_t n);

/* Like mmdnn_fusion_backward (), plus the gradient dsummaries: (N, 3, D) of
 * a loss that also uses mmdnn_fusion_summaries () (a missing modality's rows
 * are ignored). Either of dfused and dsummaries may be NULL. Not in the
 * original spec: later heads may read the summaries. */
MMDNN_API void mmdnn_fusion_backward_full (const MmdnnFusion *f,
                                           MmdnnFusionActs *a,
                                           const float *dfused,
                                           const float *dsummaries,
                                           float *const dtokens[MMDNN_N_MODALITIES],
                                           int64_t n);

/* Views of the last forward (transfer none, valid until the next forward;
 * meaningless before the first):
 *   summaries (N, 3, D): s_m, 0 for a missing modality;
 *   pooled (N, 3, D): c_mn in the pair order, 0 for a missing pair;
 *   alpha (N, 6): α in the candidate order, 0 for a missing candidate. */
MMDNN_API const float *mmdnn_fusion_summaries (const MmdnnFusionActs *a);
MMDNN_API const float *mmdnn_fusion_pooled (const MmdnnFusionActs *a);
MMDNN_API const float *mmdnn_fusion_alpha (const MmdnnFusionActs *a);

/* The match list P of @pair in sample @i of the last forward: returns its
 * length (0 when the pair is missing or i is out of range) and, for any
 * non-NULL pointer, views of the token indices in m and n and the softmax
 * weights w, each of that length, in the order of step 2. */
MMDNN_API int64_t mmdnn_fusion_matches (const MmdnnFusionActs *a, int64_t i,
                                        int pair, const int32_t **ti,
                                        const int32_t **tj, const float **w);

G_END_DECLS
