/* mmdnn — inference split by stage, for the GStreamer elements: one encoder
 * per modality, and fusion + heads, each in its own thread with its own
 * activations, all reading one shared model.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>
#include <mmdnn/model.h>

G_BEGIN_DECLS

/*
 * A stage owns only activations, sized for up to max_n samples when it is
 * made; it never keeps the model. Every run names the model to read, so a
 * stage keeps working when the weights are swapped for a new version of the
 * same architecture (a running trainer publishing its weights): a stage fits
 * any model whose config has the same sizes for that stage. Runs only read
 * the model, so any number of stages in any threads may share one model
 * while nobody writes it.
 *
 * The staged result equals mmdnn_model_forward (train = FALSE) on the same
 * inputs bit for bit when an encoder stage runs the same rows the model
 * does (the samples of a batch that have the modality, in order): the
 * stages call the same encoder, fusion and head code. Encoding one sample
 * per run (as an element does) differs from a batched run by rounding
 * only, since the GEMMs block their sums differently.
 */

typedef struct _MmdnnEncodeStage MmdnnEncodeStage;
typedef struct _MmdnnFuseStage   MmdnnFuseStage;

/* Floats (video, audio) or int32 ids (text) of one sample's encoder input:
 * video C·H·W (mmdnn_video_prep_frame's output), audio n_mels·patch_frames
 * (log-mel frames, mel-major: the patch (1, n_mels, frames)), text L·M
 * (mmdnn_text_tokenize's ids). 0 if @c lacks the modality. */
MMDNN_API int64_t mmdnn_model_config_input_size (const MmdnnModelConfig *c,
                                                 MmdnnModality mod);

/* (transfer full): activations to encode up to @max_n samples of @mod with
 * models shaped like @m. NULL with INVALID_ARGUMENT when @m lacks @mod or
 * max_n < 1, NO_MEMORY when it does not fit. */
MMDNN_API MmdnnEncodeStage *mmdnn_encode_stage_new (const MmdnnModel *m,
                                                    MmdnnModality mod,
                                                    int64_t max_n,
                                                    GError **error);
MMDNN_API void mmdnn_encode_stage_free (MmdnnEncodeStage *s);
/* Whether @s fits @m (same modality sizes); a stage made for @m does. */
MMDNN_API gboolean mmdnn_encode_stage_fits (const MmdnnEncodeStage *s,
                                            const MmdnnModel *m);

/* input: n samples of mmdnn_model_config_input_size floats (video, audio)
 * or int32 ids (text) → tokens: (n, K, D) written to the caller's buffer.
 * Text: the token of a padded word position is exactly 0 (every one of its
 * D values) and a real word's token never is, so the mask travels with the
 * tokens (mmdnn_tokens_mask). Errors (nothing written): NULL arguments,
 * n outside [1, max_n], a model that does not fit (INVALID_ARGUMENT), ids
 * out of range (DATA). */
MMDNN_API gboolean mmdnn_encode_stage_run (MmdnnEncodeStage *s,
                                           const MmdnnModel *m,
                                           const void *input, int64_t n,
                                           float *tokens, GError **error);

/* mask[k] = 1 if row k of tokens (K, D) has a non-zero value, else 0;
 * returns the number of real rows. */
MMDNN_API int64_t mmdnn_tokens_mask (const float *tokens, int64_t k,
                                     int64_t d, float *mask);

/* (transfer full): activations for fusion + heads of up to @max_n samples
 * with models shaped like @m. */
MMDNN_API MmdnnFuseStage *mmdnn_fuse_stage_new (const MmdnnModel *m,
                                                int64_t max_n, GError **error);
MMDNN_API void mmdnn_fuse_stage_free (MmdnnFuseStage *s);
MMDNN_API gboolean mmdnn_fuse_stage_fits (const MmdnnFuseStage *s,
                                          const MmdnnModel *m);

/*   tokens[m]: (n, K_m, D) or NULL when m is missing in every sample;
 *   masks[m]:  (n, K_m) 0/1 or NULL (all real) (@masks may be NULL);
 *   presence:  (n, 3) 0/1, or NULL (every modality the model has present)
 * → @out: probabilities per task (n, C_t), ω (n, 3) and fused (n, D),
 *   pointing into @s (valid until its next run). A modality the model
 *   lacks counts as missing whatever @presence says.
 * Errors: those of mmdnn_fusion_forward (a sample with nothing present, a
 * present modality with no real token, non-finite values: DATA), n outside
 * [1, max_n] or a model that does not fit (INVALID_ARGUMENT). */
MMDNN_API gboolean mmdnn_fuse_stage_run (MmdnnFuseStage *s,
                                         const MmdnnModel *m,
                                         const float *const tokens[MMDNN_N_MODALITIES],
                                         const float *const masks[MMDNN_N_MODALITIES],
                                         const float *presence, int64_t n,
                                         MmdnnOutputs *out, GError **error);

G_END_DECLS
