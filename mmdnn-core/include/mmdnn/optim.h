/* mmdnn — optimisers, gradient clipping and the learning-rate schedule.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>
#include <mmdnn/tensor.h>

G_BEGIN_DECLS

/* One torch.optim.AdamW step over n floats, in PyTorch's order of operations:
 *   p *= 1 − lr·wd;  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;
 *   p −= (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + eps)
 *   p, m, v: (n) updated in place   g: (n)   step t ≥ 1 (1 on the first call)
 * m and v start at zero. β1 and β2 are taken as the shortest decimal that
 * rounds to them (0.999f as 0.999), the double PyTorch's Python side holds,
 * so 1 − β and the bias corrections match PyTorch to float rounding. */
MMDNN_API void mmdnn_adamw_update (float *p, float *m, float *v, const float *g,
                                   float lr, float beta1, float beta2,
                                   float eps, float weight_decay, int64_t step,
                                   int64_t n);

/* One torch.optim.SGD step (dampening 0) over n floats:
 *   d = g + wd·p;  buf = first ? d : μ·buf + d;  d = nesterov ? d + μ·buf : buf;
 *   p −= lr·d
 *   p: (n) updated   buf: (n) momentum buffer, or NULL when momentum == 0
 *   g: (n). first_step: the buffer holds nothing yet (PyTorch's None). */
MMDNN_API void mmdnn_sgd_update (float *p, float *buf, const float *g,
                                 float lr, float momentum, float weight_decay,
                                 gboolean nesterov, gboolean first_step,
                                 int64_t n);

typedef enum {
  MMDNN_OPTIM_SGD,
  MMDNN_OPTIM_ADAMW,
} MmdnnOptimKind;

/* lr is the base rate the config is validated with; each step takes its own
 * lr (from a schedule). momentum and nesterov are SGD's, beta1/beta2/eps
 * AdamW's. */
typedef struct {
  MmdnnOptimKind kind;
  float    lr, momentum, beta1, beta2, eps, weight_decay;
  gboolean nesterov;
} MmdnnOptimConfig;

/* SGD with the given momentum (0 = plain) and weight decay, no nesterov. */
MMDNN_API void mmdnn_optim_config_init_sgd (MmdnnOptimConfig *c, float lr,
                                            float momentum,
                                            float weight_decay);
/* AdamW with PyTorch's defaults β = (0.9, 0.999), eps = 1e-8. */
MMDNN_API void mmdnn_optim_config_init_adamw (MmdnnOptimConfig *c, float lr,
                                              float weight_decay);

/* Optimiser state in slabs with the parameter set's layout, so a step is one
 * flat loop per parameter. m: SGD's momentum buffer (NULL for momentum 0) or
 * Adam's first moment; v: Adam's second moment (NULL for SGD). step counts
 * the steps taken. */
typedef struct {
  MmdnnOptimConfig config;
  int64_t  step;
  int64_t  numel;
  float   *m;
  float   *v;
} MmdnnOptim;

/* (transfer full): a new optimiser for @ps (transfer none, allocated, and
 * the same set must be passed to every step). Validates the config the way
 * PyTorch's constructors do: lr ≥ 0, weight_decay ≥ 0, momentum ≥ 0,
 * nesterov only with momentum > 0; for AdamW 0 ≤ β < 1 and eps > 0; all
 * finite. MMDNN_ERROR_INVALID_ARGUMENT otherwise, NO_MEMORY if the state
 * cannot be allocated. */
MMDNN_API MmdnnOptim *mmdnn_optim_new (const MmdnnOptimConfig *c,
                                       const MmdnnParamSet *ps,
                                       GError **error);
MMDNN_API void        mmdnn_optim_free (MmdnnOptim *o);

/* One step of every parameter of @ps at learning rate @lr, from the
 * gradients in ps->grads. Weight decay applies only to parameters whose
 * decay flag is set (the others use 0). Increments o->step. */
MMDNN_API void mmdnn_optim_step (MmdnnOptim *o, MmdnnParamSet *ps, float lr);

/* Whether mmdnn_optim_step (@o, @ps, @lr) would leave every weight and
 * every optimiser moment finite; computes the step without taking it. */
MMDNN_API gboolean mmdnn_optim_step_finite (const MmdnnOptim *o,
                                           const MmdnnParamSet *ps, float lr);

/* ‖g‖₂ of g: (n), accumulated in double. */
MMDNN_API double mmdnn_grad_global_norm (const float *g, int64_t n);

/* torch.nn.utils.clip_grad_norm_ (norm 2) over one flat slab g: (n):
 * scales g by min(1, max_norm / (‖g‖ + 1e-6)) and returns ‖g‖ before
 * clipping. A non-finite norm leaves g untouched and is returned as is, so
 * the caller can skip the step. */
MMDNN_API double mmdnn_clip_grad_norm (float *g, int64_t n, double max_norm);

/* Linear warm-up, then cosine decay to min_lr. */
typedef struct {
  float   base_lr, min_lr;
  int64_t warmup_steps, total_steps;
} MmdnnLrSchedule;

/* 0 ≤ min_lr ≤ base_lr (finite), total_steps ≥ 1,
 * 0 ≤ warmup_steps ≤ total_steps; else MMDNN_ERROR_INVALID_ARGUMENT and
 * @s untouched. */
MMDNN_API gboolean mmdnn_lr_schedule_init (MmdnnLrSchedule *s, float base_lr,
                                           float min_lr, int64_t warmup_steps,
                                           int64_t total_steps,
                                           GError **error);

/* The rate for 0-based @step: base·(step+1)/warmup for step < warmup (so the
 * first step is not wasted at 0); then
 * min + ½(base − min)(1 + cos(π (step − warmup) / (total − warmup)))
 * for warmup ≤ step < total; min_lr from total on. A negative step counts
 * as 0. */
MMDNN_API float mmdnn_lr_schedule_get (const MmdnnLrSchedule *s,
                                       int64_t step);

G_END_DECLS
