/* mmdnn — the image encoder, for video frames and audio log-mel patches.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/conv.h>
#include <mmdnn/error.h>
#include <mmdnn/linear.h>
#include <mmdnn/norm.h>
#include <mmdnn/pool.h>
#include <mmdnn/rng.h>
#include <mmdnn/saliency.h>
#include <mmdnn/tensor.h>

G_BEGIN_DECLS

/* One sample x: (C, H, W) becomes K = grid_h·grid_w tokens of width D, one
 * per grid cell in row-major order, so fusion can match a region of a frame
 * (or a stretch of time in a spectrogram) against another modality. Three
 * branches (DESIGN §2.2), each switchable, feed every token:
 *
 *   AE   autoencoder. enc1 conv C→a k3 s2 p1, ReLU; enc2 conv a→2a k3 s2 p1,
 *        ReLU; enc3 conv 2a→L k3 s2 p1 = the latent map (L, Hl, Wl),
 *        Hl = ⌈H/8⌉. Token features: adaptive_avgpool (latent → grid), L per
 *        token. Decoder (training only): dec1 convT L→2a k4 s2 p1, ReLU; dec2
 *        convT 2a→C k4 s2 p1 → recon (C, Hr, Wr), Hr = 4·Hl;
 *        recon_loss = MSE (recon, adaptive_avgpool (x → Hr×Wr)), the mean
 *        over every element of the batch.
 *   MS   multi-scale conv. k3, k5, k7 convs C→m, "same" padding, concatenated
 *        (3m channels), ReLU, maxpool 2×2 s2; conv1 3m→m2 k3 p1, ReLU,
 *        maxpool 2×2 s2; conv2 m2→m3 k3 p1, ReLU; adaptive_avgpool → grid:
 *        m3 per token.
 *   SAL  saliency: the fixed descriptors of saliency.h per cell (36, no
 *        learning) → linear 36→s, ReLU: s per token.
 *
 * Head: per token concat [L | m3 | s] (enabled branches only, in that order)
 * → linear → D → layernorm (eps 1e-5) → + pos (K, D), a learned position
 * embedding. Every conv has a bias. */

typedef struct {
  int64_t  channels, height, width;   /* input: video 3×64×64; audio 1×64×100 (mel bands × frames) */
  int64_t  grid_h, grid_w;            /* tokens K = grid_h·grid_w: video 4×4; audio 1×10 */
  int64_t  dim;                       /* D: 128 */
  gboolean use_ae, use_ms, use_sal;
  int64_t  ae_width;                  /* a: AE encoder widths a, 2a: 16 */
  int64_t  ae_latent;                 /* L: 32 */
  int64_t  ms_width;                  /* m per multi-scale kernel: 16 (concat 48) */
  int64_t  ms_width2, ms_width3;      /* conv stack m2, m3: 64, 128 */
  int64_t  sal_width;                 /* s, the saliency projection: 64 */
} MmdnnImageEncoderConfig;

/* The defaults above, all three branches on. */
MMDNN_API void mmdnn_image_encoder_config_init_video (MmdnnImageEncoderConfig *c);
MMDNN_API void mmdnn_image_encoder_config_init_audio (MmdnnImageEncoderConfig *c);

/* Validates a config (MMDNN_ERROR_INVALID_ARGUMENT naming the field):
 * at least one branch on; every size ≥ 1 and ≤ 65536 (widths of disabled
 * branches are ignored); H, W ≥ 8 (the AE's three stride-2 convs); and the
 * grid must fit every enabled branch's map: grid_h ≤ ⌈H/8⌉ (AE latent),
 * ≤ ⌊⌊H/2⌋/2⌋ (MS after two pools), cells of ≥ 4×4 pixels for SAL
 * (mmdnn_saliency_shape_init's rule), likewise for W. */
MMDNN_API gboolean mmdnn_image_encoder_config_check (const MmdnnImageEncoderConfig *c,
                                                     GError **error);

/* The modules are views into the caller's parameter set. Disabled branches'
 * modules are zeroed (their params NULL) and their params not declared. */
typedef struct {
  MmdnnImageEncoderConfig config;

  /* AE */
  MmdnnConv2d          ae_enc1, ae_enc2, ae_enc3;
  MmdnnConvTranspose2d ae_dec1, ae_dec2;
  int64_t              recon_h, recon_w;      /* target resolution Hr×Wr */

  /* MS */
  MmdnnConv2d          ms_k3, ms_k5, ms_k7, ms_conv1, ms_conv2;
  MmdnnPool2dShape     ms_pool1, ms_pool2;

  /* SAL */
  MmdnnSaliencyShape   sal;
  MmdnnLinear          sal_proj;

  /* head */
  MmdnnLinear          proj;
  MmdnnLayerNorm       norm;
  MmdnnParam          *pos;                   /* (K, D), no decay */

  int64_t              tokens;                /* K */
  int64_t              features;              /* per-token concat width */
} MmdnnImageEncoder;

/* Validates @c and declares the parameters in @ps (transfer none: @ps must
 * outlive @e), all named "<prefix>.…":
 *   ae.enc1 ae.enc2 ae.enc3 ae.dec1 ae.dec2 ms.k3 ms.k5 ms.k7 ms.conv1
 *   ms.conv2 sal.proj proj norm  (each .weight and .bias, PyTorch layouts)
 *   pos (K, D)
 * in that order, skipping disabled branches. Fails (nothing declared, @e
 * untouched) on a bad config, a NULL or empty prefix, a set already
 * allocated, or a name already taken. */
MMDNN_API gboolean mmdnn_image_encoder_init (MmdnnImageEncoder *e,
                                             MmdnnParamSet *ps,
                                             const char *prefix,
                                             const MmdnnImageEncoderConfig *c,
                                             GError **error);

/* After mmdnn_param_set_allocate (): PyTorch's default init for every conv,
 * linear and layernorm, in declaration order; pos ~ N(0, 0.02²). */
MMDNN_API void mmdnn_image_encoder_reset (MmdnnImageEncoder *e, MmdnnRng *rng);

/* Every activation of a forward pass (and its gradient) for up to max_n
 * samples, allocated once. Not shared between encoders or threads. */
typedef struct _MmdnnImageEncoderActs MmdnnImageEncoderActs;

/* (transfer full): NULL with MMDNN_ERROR_INVALID_ARGUMENT for a NULL or
 * uninitialised encoder or max_n < 1, NO_MEMORY if it does not fit. */
MMDNN_API MmdnnImageEncoderActs *mmdnn_image_encoder_acts_new (const MmdnnImageEncoder *e,
                                                              int64_t max_n,
                                                              GError **error);
MMDNN_API void mmdnn_image_encoder_acts_free (MmdnnImageEncoderActs *a);

/* x: (N, C, H, W) → *tokens: (N, K, D) (transfer none: points into @a, valid
 * until the next forward). x is copied into @a (backward needs it), so the
 * caller may reuse it at once. @recon_loss may be NULL: then the decoder is
 * skipped (inference); without the AE branch it is set to 0. Fails only on
 * NULL arguments, activations made for another config, an unallocated
 * parameter set, or n outside [1, max_n], with nothing computed or
 * written. */
MMDNN_API gboolean mmdnn_image_encoder_forward (const MmdnnImageEncoder *e,
                                                MmdnnImageEncoderActs *a,
                                                const float *x, int64_t n,
                                                const float **tokens,
                                                float *recon_loss,
                                                GError **error);

/* dtokens: (N, K, D) or NULL (only the reconstruction loss); drecon =
 * dL/drecon_loss, 0 for none. Accumulates (+=) into the parameter grads of
 * @e's set; the input is data and gets no gradient. Must follow a forward
 * with the same n, with recon_loss non-NULL if drecon ≠ 0. */
MMDNN_API void mmdnn_image_encoder_backward (const MmdnnImageEncoder *e,
                                             MmdnnImageEncoderActs *a,
                                             const float *dtokens,
                                             float drecon, int64_t n);

/* (transfer none): the latent map (N, L, Hl, Wl) of the last forward (for
 * decoding perturbed latents into virtual samples), or NULL without AE.  */
MMDNN_API const float *mmdnn_image_encoder_latent (const MmdnnImageEncoderActs *a);

/* The AE encoder alone, forward only: x (N, C, H, W) → the latent map that
 * mmdnn_image_encoder_latent then returns (the same values a full forward
 * gives), without the multi-scale and saliency branches. A pending
 * backward needs a new forward first. Fails (nothing run) on NULL
 * arguments, activations made for another config, no AE branch, an
 * unallocated parameter set, or n outside [1, max_n]. */
MMDNN_API gboolean mmdnn_image_encoder_encode (const MmdnnImageEncoder *e,
                                               MmdnnImageEncoderActs *a,
                                               const float *x, int64_t n,
                                               GError **error);

/* The AE decoder alone, forward only (virtual samples from perturbed
 * latents): latent (N, L, Hl, Wl) → recon (N, C, Hr, Wr), written to the
 * caller's @recon. Uses @a's decoder buffers as scratch, so a pending
 * backward with drecon ≠ 0 needs a new forward first. Fails (nothing
 * written) on NULL arguments, activations made for another config, no AE
 * branch, an unallocated parameter set, or n outside [1, max_n]. */
MMDNN_API gboolean mmdnn_image_encoder_decode (const MmdnnImageEncoder *e,
                                               MmdnnImageEncoderActs *a,
                                               const float *latent, int64_t n,
                                               float *recon, GError **error);

G_END_DECLS
