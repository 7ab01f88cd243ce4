/* mmdnn — the whole MMDNN: encoders, fusion, heads, the joint objective,
 * training, evaluation, model and checkpoint files (DESIGN.md §2.3–§3).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>
#include <mmdnn/rng.h>
#include <mmdnn/tensor.h>
#include <mmdnn/optim.h>
#include <mmdnn/audio.h>
#include <mmdnn/video.h>
#include <mmdnn/text.h>
#include <mmdnn/encoder-image.h>
#include <mmdnn/encoder-text.h>
#include <mmdnn/fusion.h>
#include <mmdnn/linear.h>

G_BEGIN_DECLS

/* Version of the model/checkpoint file layout ("mmdnn.format_version"). */
#define MMDNN_MODEL_FORMAT_VERSION 1
#define MMDNN_MAX_TASKS 8
#define MMDNN_MAX_CLASSES 1024

/* ---------------------------------------------------------------- config
 *
 * Everything that defines a model and how it trains. Saved as JSON in the
 * model file's metadata ("mmdnn.config"), so a file is self-describing:
 * architecture sizes, preprocessing parameters, tasks and class names.
 */

typedef struct {
  char    *name;                /* "class", "speaker_gender"              */
  char   **classes;             /* NULL-terminated (GStrv), ≥ 2 names     */
  int64_t  n_classes;
  float    weight;              /* weight of its cross-entropy in the loss */
} MmdnnTask;

typedef struct {
  char *model_id;                       /* free text, e.g. "avt-fashion-1" */

  /* which modalities the model has; an absent one declares no parameters */
  gboolean has[MMDNN_N_MODALITIES];

  /* preprocessing, shared by the elements and the CLI */
  MmdnnVideoConfig  video_prep;         /* frame → 3×64×64                  */
  MmdnnLogMelConfig logmel;             /* 16 kHz → 64 mel bands            */
  int64_t           audio_patch_frames; /* log-mel frames per patch: 100    */
  MmdnnTextConfig   text_prep;          /* cue → (L, M) ids                 */

  /* architecture */
  MmdnnImageEncoderConfig video;        /* channels/height/width = video_prep */
  MmdnnImageEncoderConfig audio;        /* 1 × n_mels × audio_patch_frames    */
  MmdnnTextEncoderConfig  text;         /* buckets/L/M = text_prep            */
  MmdnnFusionConfig       fusion;       /* dim and tokens match the encoders  */

  /* tasks: heads on the fused vector */
  int       n_tasks;
  MmdnnTask tasks[MMDNN_MAX_TASKS];

  /* the joint objective: total = Σ_t w_t CE_t + aux·Σ_m CE_0(aux head m)
   *   + recon·Σ_m MSE_m + adv·CE(discriminator ∘ GRL) + nce·Σ_pairs InfoNCE */
  float   w_aux;                        /* per-modality auxiliary heads (task 0) */
  float   w_recon;                      /* autoencoder reconstructions           */
  float   w_adv;                        /* modality discriminator, through GRL   */
  float   grl_lambda;
  int64_t disc_hidden;
  float   w_nce;                        /* InfoNCE between modality summaries    */
  float   nce_tau;

  /* virtual data (each 0 = off) */
  float mixup_alpha;                    /* Beta(α, α) mixing of whole samples    */
  float p_recombine;                    /* swap one modality within a class      */
  float p_modality_dropout;             /* drop modalities, keeping ≥ 1          */
  float p_latent;                       /* decode perturbed AE latents           */
  float latent_noise;                   /* std of that perturbation              */

  /* optimisation */
  MmdnnOptimConfig optim;
  float   clip_norm;                    /* global-norm clipping, 0 = off */
  int64_t warmup_steps, total_steps;
  float   min_lr;
} MmdnnModelConfig;

/* (transfer full): the default model of DESIGN.md §2 — all three
 * modalities, D = 128, tasks "class" (the ten Fashion-MNIST classes:
 * T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag,
 * Ankle boot) and "speaker_gender" (female, male), AdamW. */
MMDNN_API MmdnnModelConfig *mmdnn_model_config_new_default (void);
MMDNN_API MmdnnModelConfig *mmdnn_model_config_copy (const MmdnnModelConfig *c);
MMDNN_API void              mmdnn_model_config_free (MmdnnModelConfig *c);
/* Sets a task (copies name and classes); index ≤ n_tasks (== appends). */
MMDNN_API gboolean mmdnn_model_config_set_task (MmdnnModelConfig *c, int index,
                                                const char *name,
                                                const char *const *classes,
                                                float weight, GError **error);
/* Every field in range, the sub-configs consistent with each other (dims,
 * token counts, input sizes = preprocessing sizes), ≥ 1 modality, ≥ 1 task,
 * unique task names, ≥ 2 unique non-empty class names per task. */
MMDNN_API gboolean mmdnn_model_config_check (const MmdnnModelConfig *c,
                                             GError **error);
/* JSON (json-glib), every field, stable key names; from_json validates
 * (types, ranges: mmdnn_model_config_check) and fills unspecified keys
 * with the defaults. */
MMDNN_API char             *mmdnn_model_config_to_json (const MmdnnModelConfig *c);
MMDNN_API MmdnnModelConfig *mmdnn_model_config_from_json (const char *json,
                                                          gssize len,
                                                          GError **error);

/* ----------------------------------------------------------------- batch
 *
 * One batch of preprocessed samples. The model reads, never keeps, these.
 */
typedef struct {
  int64_t  n;
  float   *video;           /* (N, C, H, W) or NULL when no sample has video */
  float   *audio;           /* (N, 1, n_mels, patch_frames) or NULL          */
  int32_t *text_ids;        /* (N, L, M), −1 padding, or NULL                */
  float   *presence;        /* (N, 3) 1 = present, 0 = missing               */
  int32_t *labels;          /* (N, n_tasks): class index, −1 = unknown       */
  /* mixup (one λ per batch, as in Zhang et al.): the inputs are already
   * mixed and loss = λ·CE(labels) + (1 − λ)·CE(labels_b). labels_b NULL (and
   * mix 1) for an unmixed batch. */
  int32_t *labels_b;        /* (N, n_tasks) or NULL                          */
  float    mix;             /* λ                                             */
} MmdnnBatch;

/* Allocates every array of a batch of n samples for the model's sizes:
 * inputs of the modalities the model has (zero), presence 1 for those,
 * labels −1, labels_b NULL, mix 1. Free with mmdnn_batch_free. */
MMDNN_API MmdnnBatch *mmdnn_batch_new (const MmdnnModelConfig *c, int64_t n,
                                       GError **error);
MMDNN_API void        mmdnn_batch_free (MmdnnBatch *b);

/* ----------------------------------------------------------------- model */

typedef struct _MmdnnModelActs MmdnnModelActs;

typedef struct {
  MmdnnModelConfig *config;             /* owned */
  MmdnnParamSet    *params;             /* one slab for everything */

  MmdnnImageEncoder video, audio;
  MmdnnTextEncoder  text;
  MmdnnFusion       fusion;
  MmdnnLinear       heads[MMDNN_MAX_TASKS];        /* "head.<task>": D → C_t  */
  MmdnnLinear       aux[MMDNN_N_MODALITIES];       /* "aux.<modality>": D → C_0 */
  MmdnnLinear       disc1, disc2;                  /* "disc.fc1" D → H, "disc.fc2" H → 3 */

  MmdnnOptim       *optim;
  MmdnnLrSchedule   schedule;
  int64_t           step;               /* optimiser steps taken */
  MmdnnRng          rng;                /* virtual data, dropout: saved in checkpoints */

  int64_t           max_batch;
  MmdnnModelActs   *acts;
} MmdnnModel;

/* (transfer full): a fresh model, parameters initialised from @seed. */
MMDNN_API MmdnnModel *mmdnn_model_new (const MmdnnModelConfig *c, uint64_t seed,
                                       int64_t max_batch, GError **error);
MMDNN_API void        mmdnn_model_free (MmdnnModel *m);

typedef struct {
  float total;
  float task[MMDNN_MAX_TASKS];          /* cross-entropy per task         */
  float aux, recon, adv, nce;           /* unweighted terms               */
} MmdnnLosses;

/* Valid until the next forward. */
typedef struct {
  const float *probs[MMDNN_MAX_TASKS];  /* (N, C_t) softmax              */
  const float *modality_weights;        /* (N, 3) ω from the fusion      */
  const float *fused;                   /* (N, D)                        */
} MmdnnOutputs;

/* Forward of a batch. train = FALSE: inference (no loss terms but the task
 * cross-entropies of known labels, no virtual data). train = TRUE: the full
 * objective, virtual data applied to a copy of the batch, state kept for
 * mmdnn_model_backward. @losses may be NULL. Errors: n > max_batch, bad
 * labels (≥ C_t: MMDNN_ERROR_DATA naming sample and task), a sample with no
 * present modality, a present modality whose input is NULL. */
MMDNN_API gboolean mmdnn_model_forward (MmdnnModel *m, const MmdnnBatch *b,
                                        gboolean train, MmdnnOutputs *out,
                                        MmdnnLosses *losses, GError **error);
/* Gradients of the last train forward's total loss, into m->params->grads
 * (zeroed first). */
MMDNN_API void     mmdnn_model_backward (MmdnnModel *m);
/* Clip, learning rate from the schedule, optimiser step, step++. A
 * non-finite gradient norm, or a step that would make a weight or an
 * optimiser moment non-finite (a huge learning rate), skips the step
 * (weights, optimiser state and step untouched) and returns FALSE with
 * MMDNN_ERROR_DATA: a diverging run never writes NaN or infinite weights. */
MMDNN_API gboolean mmdnn_model_update (MmdnnModel *m, GError **error);
/* forward (train) + backward + update. */
MMDNN_API gboolean mmdnn_model_train_step (MmdnnModel *m, const MmdnnBatch *b,
                                           MmdnnLosses *losses, GError **error);

/* ---------------------------------------------------------- data parallel
 *
 * A global batch split into slices, one per process, trains as the whole
 * batch does in one process when every process divides its loss terms by
 * the counts of the whole batch instead of its slice's, and the processes'
 * gradients are summed. Each term of the objective is a mean over
 * something counted: labelled samples per task, per auxiliary head the
 * labelled samples with its modality present (and the mean over the
 * modalities present in the batch), the present samples of each image
 * encoder's reconstruction, the real words of the text encoder's, the
 * discriminator's token rows. So, after the train forward of its slice:
 *
 *   mmdnn_model_loss_counts (m, &mine, &err);
 *   ... sum the counts over the processes into total ...
 *   mmdnn_model_backward_shared (m, &total, &share, &err);
 *   ... sum the gradient slabs (and the shares) over the processes ...
 *   mmdnn_model_update (m, &err);      (the same update everywhere)
 *
 * Exact, up to floating-point rounding, for every term but those that
 * couple the samples of a batch: InfoNCE takes its negatives from the
 * slice (its weight is the slice's share of the samples), and virtual data
 * (mixup pairs, within-class recombination) draws partners within it. With
 * the slice's own counts (one process) it is mmdnn_model_backward, bit for
 * bit.
 */
typedef struct {
  int64_t samples;
  int64_t present[MMDNN_N_MODALITIES];  /* samples with the modality      */
  int64_t task[MMDNN_MAX_TASKS];        /* samples with a known label     */
  int64_t aux[MMDNN_N_MODALITIES];      /* present, known task-0 label    */
  int64_t text_words;                   /* real words of the present cues */
  int64_t adv;                          /* discriminator token rows       */
} MmdnnLossCounts;

/* The counts are int64_t only, in this order, to be summed as an array. */
#define MMDNN_LOSS_COUNTS_LEN ((int) (sizeof (MmdnnLossCounts) / sizeof (int64_t)))

/* The counts of the last train forward's (virtual-data-augmented) batch.
 * Errors: no train forward before. */
MMDNN_API gboolean mmdnn_model_loss_counts (const MmdnnModel *m,
                                            MmdnnLossCounts *counts,
                                            GError **error);
/* mmdnn_model_backward of the slice's share of the loss of a batch whose
 * counts are @total; @share (may be NULL) gets the share of each loss term
 * (the shares of all slices sum to the whole batch's losses). Errors: no
 * train forward, a count of @total below the slice's own (the gradients
 * are then left as they were). */
MMDNN_API gboolean mmdnn_model_backward_shared (MmdnnModel *m,
                                                const MmdnnLossCounts *total,
                                                MmdnnLosses *share,
                                                GError **error);

/* Scores a forward's predictions: per task t, the samples of @labels
 * (N, n_tasks; −1 = unknown) with a known label are added to count[t],
 * those whose most probable class in @out is that label to correct[t]. */
MMDNN_API void mmdnn_outputs_score (const MmdnnModelConfig *c,
                                    const MmdnnOutputs *out,
                                    const int32_t *labels, int64_t n,
                                    int64_t *correct, int64_t *count);

/* Evaluation with ablations: the full input, each modality alone, each one
 * missing. A sample is counted in an ablation only if at least one of its
 * present modalities survives it. */
typedef enum {
  MMDNN_ABLATION_FULL,
  MMDNN_ABLATION_ONLY_VIDEO, MMDNN_ABLATION_ONLY_AUDIO, MMDNN_ABLATION_ONLY_TEXT,
  MMDNN_ABLATION_NO_VIDEO, MMDNN_ABLATION_NO_AUDIO, MMDNN_ABLATION_NO_TEXT,
  MMDNN_N_ABLATIONS
} MmdnnAblation;

MMDNN_API const char *mmdnn_ablation_name (MmdnnAblation a);  /* "full", "video", ..., "no_text" */

typedef struct {
  int64_t correct[MMDNN_MAX_TASKS];
  int64_t count[MMDNN_MAX_TASKS];       /* samples with a known label */
  /* confusion[t][true * C_t + predicted], allocated by the evaluator */
  int64_t *confusion[MMDNN_MAX_TASKS];
} MmdnnEvalResult;

/* Accumulates (+=) the results of @b under every ablation into
 * results[MMDNN_N_ABLATIONS] (zero-initialise them first; free the
 * confusion arrays with mmdnn_eval_result_clear). */
MMDNN_API gboolean mmdnn_model_evaluate (MmdnnModel *m, const MmdnnBatch *b,
                                         MmdnnEvalResult *results,
                                         GError **error);
MMDNN_API void     mmdnn_eval_result_clear (MmdnnEvalResult *r);
MMDNN_API double   mmdnn_eval_result_accuracy (const MmdnnEvalResult *r,
                                               int task);

/* ------------------------------------------------------------------ files
 *
 * Model file: safetensors, tensors named as the parameters (PyTorch
 * state_dict names), metadata "mmdnn.format_version", "mmdnn.model_id",
 * "mmdnn.config" (JSON). Checkpoint: the same plus the optimiser state
 * ("optim.m.<name>", "optim.v.<name>"), "mmdnn.step", "mmdnn.rng" (the RNG
 * state, hex) — resuming is exact: N steps, save, load, N steps equals 2N
 * steps bit for bit. Both are written atomically.
 */
MMDNN_API gboolean    mmdnn_model_save (const MmdnnModel *m, const char *path,
                                        GError **error);
MMDNN_API MmdnnModel *mmdnn_model_load (const char *path, int64_t max_batch,
                                        GError **error);
MMDNN_API gboolean    mmdnn_model_save_checkpoint (const MmdnnModel *m,
                                                   const char *path,
                                                   GError **error);
MMDNN_API MmdnnModel *mmdnn_model_load_checkpoint (const char *path,
                                                   int64_t max_batch,
                                                   GError **error);

G_END_DECLS
