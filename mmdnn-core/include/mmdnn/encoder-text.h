/* mmdnn — the text encoder: hashed subtitle ids → K word tokens of width D.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>
#include <mmdnn/rng.h>
#include <mmdnn/tensor.h>
#include <mmdnn/conv.h>
#include <mmdnn/embedding.h>
#include <mmdnn/linear.h>
#include <mmdnn/norm.h>

G_BEGIN_DECLS

/*
 * Input: one cue per sample as produced by mmdnn_text_tokenize ():
 *   ids: (N, L, M) int32 in [0, buckets), −1 padding,
 * with L = max_tokens word positions and M = ids_per_token ids per word.
 * Position t of sample i is a REAL word iff ids[i, t, 0] ≥ 0; otherwise it is
 * padding and every id of that row is ignored (mask 0).
 *
 * Output: K = L tokens of width D per sample, one per word position, and the
 * token mask (N, L) (1 real word, 0 padding). Padded tokens are exactly 0.
 *
 * Architecture (E embed, A ae_latent, m ms_width, m2 ms_width2, s sal_width):
 *   emb:  embedding-bag mean over the M ids of each word → (N, L, E), zeroed at
 *         padded positions; transposed to x: (N, E, L) for the convolutions.
 *   AE:   enc conv1d E→A k3 p1, ReLU → latent (A per position);
 *         dec conv1d A→E k3 p1 → recon (N, E, L);
 *         recon_loss = Σ mask·(recon − x)² / (E · number of real words)
 *         (0 when there is none).
 *         The recon term treats the embeddings as DATA: no gradient from it
 *         reaches the embedding table, neither through the target nor through
 *         the encoder input (the encoder's weights still learn from it).
 *         Otherwise the cheapest way to lower the loss is to shrink the
 *         embeddings towards 0 (the loss is quadratic in their scale), which
 *         would fight the task losses instead of teaching the autoencoder.
 *   MS:   conv1d E→m with k3, k5, k7 (same padding), concat (3m), ReLU;
 *         conv1d 3m→m2 k3 p1, ReLU → m2 per position.
 *   SAL:  four fixed (not learned) features per word t of a cue with
 *         n_real real words and last real position t_last:
 *           f0 = t / (L − 1)               relative position in the grid (0 if L = 1)
 *           f1 = 1 if t = t_last else 0    the last word of the cue
 *           f2 = (ids ≥ 0 in the row) / M  how much sub-word material the word has
 *           f3 = 1 − t / n_real            reverse relative position within the cue
 *         all four 0 at padded positions; then linear 4→s, ReLU.
 *   proj: concat [A | m2 | s] (enabled branches, in that order) → linear → D
 *         → layer norm (eps 1e-5) → + pos (L, D) → × mask.
 *
 * Masked convolution: every conv output (pre-activation, and the recon) is
 * multiplied by the mask, so a padded position behaves exactly like the
 * convolution's zero padding. A real word's token therefore depends only on
 * the real words of its cue, never on how many padded positions follow it
 * (the SAL feature f0 and the position table do depend on L).
 *
 * Parameters under the prefix P (PyTorch layouts):
 *   P.emb.weight (B, E); P.ae.enc.{weight,bias}, P.ae.dec.{weight,bias};
 *   P.ms.k3/k5/k7/conv1.{weight,bias}; P.sal.proj.{weight,bias};
 *   P.proj.{weight,bias}; P.norm.{weight,bias}; P.pos (L, D).
 * A disabled branch declares nothing.
 *
 * Not thread-safe: one encoder + acts per thread.
 */

typedef struct {
  int64_t  buckets, max_tokens, ids_per_token;  /* B, L, M: must match MmdnnTextConfig */
  int64_t  embed;                               /* E */
  int64_t  dim;                                 /* D */
  gboolean use_ae, use_ms, use_sal;
  int64_t  ae_latent;                           /* A */
  int64_t  ms_width, ms_width2;                 /* m per kernel (concat 3m), m2 */
  int64_t  sal_width;                           /* s */
} MmdnnTextEncoderConfig;

/* Defaults: B 65536, L 32, M 16 (those of mmdnn_text_config_init ()),
 * E 64, D 128, all branches on, A 32, m 32, m2 128, s 16. */
MMDNN_API void mmdnn_text_encoder_config_init (MmdnnTextEncoderConfig *c);

/* At least one branch on; buckets in [1, 2³¹ − 1]; max_tokens and
 * ids_per_token in [1, MMDNN_TEXT_MAX_SIZE]; embed, dim and the widths of
 * the enabled branches in [1, 2²⁰] (a disabled branch's widths are ignored).
 * Else MMDNN_ERROR_INVALID_ARGUMENT naming the field and value. */
MMDNN_API gboolean mmdnn_text_encoder_config_check (const MmdnnTextEncoderConfig *c,
                                                    GError **error);

typedef struct {
  MmdnnTextEncoderConfig config;
  MmdnnEmbeddingBag      emb;
  MmdnnConv1d            ae_enc, ae_dec;                 /* use_ae  */
  MmdnnConv1d            ms_k3, ms_k5, ms_k7, ms_conv1;  /* use_ms  */
  MmdnnLinear            sal_proj;                       /* use_sal */
  MmdnnLinear            proj;
  MmdnnLayerNorm         norm;
  MmdnnParam            *pos;                            /* (L, D), no decay */
  int64_t                tokens;                         /* K = L */
  int64_t                features;                       /* A·ae + m2·ms + s·sal */
} MmdnnTextEncoder;

/* Checks @c and declares the encoder's parameters in @ps under @prefix
 * (views, transfer none: @ps must outlive @e). All checks (config, prefix
 * non-empty, @ps not yet allocated, no name taken) come before the first
 * declaration, so on failure nothing is declared and @e is untouched. */
MMDNN_API gboolean mmdnn_text_encoder_init (MmdnnTextEncoder *e,
                                            MmdnnParamSet *ps,
                                            const char *prefix,
                                            const MmdnnTextEncoderConfig *c,
                                            GError **error);

/* After mmdnn_param_set_allocate (): PyTorch's default inits (embedding
 * N(0, 1), conv/linear U(±1/√fan_in), norm 1/0) and pos ~ N(0, 0.02), drawn
 * in declaration order, so the same seed gives the same weights. */
MMDNN_API void mmdnn_text_encoder_reset (MmdnnTextEncoder *e, MmdnnRng *rng);

/* mask[i, t] = 1 if ids[i, t, 0] ≥ 0 else 0.
 *   ids: (N, L, M) → mask: (N, L) */
MMDNN_API void mmdnn_text_encoder_mask (float *mask, const int32_t *ids,
                                        int64_t n, int64_t l, int64_t m);

/* The activation arena: every forward/backward buffer for up to max_n
 * samples in one allocation, so forward and backward never allocate. */
typedef struct _MmdnnTextEncoderActs MmdnnTextEncoderActs;

/* (transfer full): free with mmdnn_text_encoder_acts_free ().
 * NULL with @error on NULL @e, max_n < 1 or too large, or no memory. */
MMDNN_API MmdnnTextEncoderActs *mmdnn_text_encoder_acts_new (const MmdnnTextEncoder *e,
                                                             int64_t max_n,
                                                             GError **error);
/* NULL is a no-op. */
MMDNN_API void mmdnn_text_encoder_acts_free (MmdnnTextEncoderActs *a);

/* ids: (N, L, M) → *tokens: (N, L, D) and *mask: (N, L), both pointing into
 * the arena (transfer none), valid until the next forward on @a.
 * recon_loss (optional): the AE reconstruction loss; NULL skips the decoder
 * (and it is 0 when use_ae is off).
 * Fails (outputs untouched) with INVALID_ARGUMENT on a NULL argument, n < 1,
 * n > the arena's max_n or an arena made for another configuration, and with
 * MMDNN_ERROR_DATA on an id ≥ buckets (mmdnn_embedding_bag_check_ids ()). */
MMDNN_API gboolean mmdnn_text_encoder_forward (const MmdnnTextEncoder *e,
                                               MmdnnTextEncoderActs *a,
                                               const int32_t *ids, int64_t n,
                                               const float **tokens,
                                               const float **mask,
                                               float *recon_loss,
                                               GError **error);

/* dtokens: (N, L, D) or NULL (recon loss only); drecon = dL/drecon_loss
 * (0: none). Accumulates (+=) into the gradients of every parameter,
 * including the rows of P.emb.weight used by the batch (only those are
 * touched). Must follow a successful forward on @a with the same @n (and a
 * non-NULL recon_loss if drecon ≠ 0); otherwise it logs an error and does
 * nothing. Gradients of padded tokens are ignored. */
MMDNN_API void mmdnn_text_encoder_backward (const MmdnnTextEncoder *e,
                                            MmdnnTextEncoderActs *a,
                                            const float *dtokens, float drecon,
                                            int64_t n);

G_END_DECLS
