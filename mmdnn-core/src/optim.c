/* mmdnn — optimisers, gradient clipping and the learning-rate schedule.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <float.h>
#include <math.h>

#include <mmdnn/optim.h>
#include "internal.h"

/* The kernels follow torch.optim's single-tensor code operation by operation:
 * Python-side scalars (bias corrections, step size) in double, rounded to
 * float where PyTorch hands them to a float tensor op, so the results agree
 * with PyTorch to float rounding. */

/* The double a Python user would have typed for a float hyper-parameter:
 * the shortest decimal that rounds to @x (0.999f → 0.999). PyTorch computes
 * 1 − β and 1 − β^t from that double; from the float itself, 1 − 0.999f is
 * off by 1.3e-5 relative, which would show in Adam's second moment. */
static double
float_as_decimal (float x)
{
  char fmt[8], buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (x))
    return x;
  for (int prec = 6; prec <= 9; prec++) {
    double d;
    g_snprintf (fmt, sizeof fmt, "%%.%dg", prec);
    d = g_ascii_strtod (g_ascii_formatd (buf, sizeof buf, fmt, x), NULL);
    if ((float) d == x)
      return d;
  }
  return x;
}

/* The scalars of one AdamW step, the same for every element. */
typedef struct {
  float beta1, beta2, one_m_b1, one_m_b2, eps;
  float decay, neg_step_size, bc2_sqrt;
  gboolean decays;
} AdamwStep;

static void
adamw_step_init (AdamwStep *k, float lr, float beta1, float beta2,
                 double beta1_d, double beta2_d, float eps,
                 float weight_decay, int64_t step)
{
  double bc1 = 1.0 - pow (beta1_d, (double) step);
  double bc2 = 1.0 - pow (beta2_d, (double) step);

  k->beta1 = beta1;
  k->beta2 = beta2;
  k->eps = eps;
  k->decays = weight_decay != 0.0f;
  k->decay = (float) (1.0 - (double) lr * (double) weight_decay);
  k->one_m_b1 = (float) (1.0 - beta1_d);
  k->one_m_b2 = (float) (1.0 - beta2_d);
  k->neg_step_size = (float) (-((double) lr / bc1));
  k->bc2_sqrt = (float) sqrt (bc2);
}

/* One element, shared by the update and by its dry run (optim_step_finite)
 * so that both compute the very same floats. */
static inline void
adamw_element (float *p, float *m, float *v, float g, const AdamwStep *k)
{
  float denom;

  if (k->decays)
    *p *= k->decay;
  *m = *m * k->beta1 + k->one_m_b1 * g;
  *v = *v * k->beta2 + k->one_m_b2 * g * g;
  denom = sqrtf (*v) / k->bc2_sqrt + k->eps;
  *p += k->neg_step_size * *m / denom;
}

static void
adamw_update (float *p, float *m, float *v, const float *g, float lr,
              float beta1, float beta2, double beta1_d, double beta2_d,
              float eps, float weight_decay, int64_t step, int64_t n)
{
  AdamwStep k;

  adamw_step_init (&k, lr, beta1, beta2, beta1_d, beta2_d, eps, weight_decay,
                   step);
  for (int64_t i = 0; i < n; i++)
    adamw_element (&p[i], &m[i], &v[i], g[i], &k);
}

void
mmdnn_adamw_update (float *p, float *m, float *v, const float *g, float lr,
                    float beta1, float beta2, float eps, float weight_decay,
                    int64_t step, int64_t n)
{
  adamw_update (p, m, v, g, lr, beta1, beta2, float_as_decimal (beta1),
                float_as_decimal (beta2), eps, weight_decay, step, n);
}

static inline void
sgd_element (float *p, float *buf, float g, float neg_lr, float momentum,
             float weight_decay, gboolean nesterov, gboolean first_step)
{
  float d = g;

  if (weight_decay != 0.0f)
    d = d + weight_decay * *p;
  if (buf != NULL) {
    *buf = first_step ? d : *buf * momentum + d;
    d = nesterov ? d + momentum * *buf : *buf;
  }
  *p += neg_lr * d;
}

void
mmdnn_sgd_update (float *p, float *buf, const float *g, float lr,
                  float momentum, float weight_decay, gboolean nesterov,
                  gboolean first_step, int64_t n)
{
  gboolean use_buf = momentum != 0.0f && buf != NULL;

  for (int64_t i = 0; i < n; i++)
    sgd_element (&p[i], use_buf ? &buf[i] : NULL, g[i], -lr, momentum,
                 weight_decay, nesterov, first_step);
}

void
mmdnn_optim_config_init_sgd (MmdnnOptimConfig *c, float lr, float momentum,
                             float weight_decay)
{
  g_return_if_fail (c != NULL);
  c->kind = MMDNN_OPTIM_SGD;
  c->lr = lr;
  c->momentum = momentum;
  c->weight_decay = weight_decay;
  c->nesterov = FALSE;
  /* unused by SGD; set to AdamW's defaults so a kind switch stays valid */
  c->beta1 = 0.9f;
  c->beta2 = 0.999f;
  c->eps = 1e-8f;
}

void
mmdnn_optim_config_init_adamw (MmdnnOptimConfig *c, float lr,
                               float weight_decay)
{
  g_return_if_fail (c != NULL);
  c->kind = MMDNN_OPTIM_ADAMW;
  c->lr = lr;
  c->beta1 = 0.9f;
  c->beta2 = 0.999f;
  c->eps = 1e-8f;
  c->weight_decay = weight_decay;
  c->momentum = 0.0f;
  c->nesterov = FALSE;
}

static gboolean
optim_config_check (const MmdnnOptimConfig *c, GError **error)
{
  MMDNN_CHECK (c->kind == MMDNN_OPTIM_SGD || c->kind == MMDNN_OPTIM_ADAMW,
               error, FALSE, "optim: unknown kind %d", (int) c->kind);
  MMDNN_CHECK (isfinite (c->lr) && c->lr >= 0.0f, error, FALSE,
               "optim: lr=%g must be finite and ≥ 0", (double) c->lr);
  MMDNN_CHECK (isfinite (c->weight_decay) && c->weight_decay >= 0.0f, error,
               FALSE, "optim: weight_decay=%g must be finite and ≥ 0",
               (double) c->weight_decay);
  if (c->kind == MMDNN_OPTIM_SGD) {
    MMDNN_CHECK (isfinite (c->momentum) && c->momentum >= 0.0f, error, FALSE,
                 "optim: momentum=%g must be finite and ≥ 0",
                 (double) c->momentum);
    MMDNN_CHECK (!c->nesterov || c->momentum > 0.0f, error, FALSE,
                 "optim: nesterov needs momentum > 0 (momentum=%g)",
                 (double) c->momentum);
  } else {
    MMDNN_CHECK (c->beta1 >= 0.0f && c->beta1 < 1.0f, error, FALSE,
                 "optim: beta1=%g must be in [0, 1)", (double) c->beta1);
    MMDNN_CHECK (c->beta2 >= 0.0f && c->beta2 < 1.0f, error, FALSE,
                 "optim: beta2=%g must be in [0, 1)", (double) c->beta2);
    MMDNN_CHECK (isfinite (c->eps) && c->eps > 0.0f, error, FALSE,
                 "optim: eps=%g must be finite and > 0", (double) c->eps);
  }
  return TRUE;
}

MmdnnOptim *
mmdnn_optim_new (const MmdnnOptimConfig *c, const MmdnnParamSet *ps,
                 GError **error)
{
  MmdnnOptim *o;

  MMDNN_CHECK_NOT_NULL (c, error, NULL);
  MMDNN_CHECK_NOT_NULL (ps, error, NULL);
  MMDNN_CHECK (ps->allocated, error, NULL,
               "optim: the parameter set is not allocated yet");
  if (!optim_config_check (c, error))
    return NULL;

  o = g_new0 (MmdnnOptim, 1);
  o->config = *c;
  o->numel = ps->numel;
  if (c->kind == MMDNN_OPTIM_ADAMW || c->momentum != 0.0f) {
    o->m = mmdnn_floats_new (o->numel, error);
    if (o->m == NULL)
      goto fail;
  }
  if (c->kind == MMDNN_OPTIM_ADAMW) {
    o->v = mmdnn_floats_new (o->numel, error);
    if (o->v == NULL)
      goto fail;
  }
  return o;

fail:
  mmdnn_optim_free (o);
  return NULL;
}

void
mmdnn_optim_free (MmdnnOptim *o)
{
  if (o == NULL)
    return;
  mmdnn_floats_free (o->m);
  mmdnn_floats_free (o->v);
  g_free (o);
}

void
mmdnn_optim_step (MmdnnOptim *o, MmdnnParamSet *ps, float lr)
{
  const MmdnnOptimConfig *c;
  gboolean first;
  double beta1_d, beta2_d;

  g_return_if_fail (o != NULL && ps != NULL);
  g_return_if_fail (ps->allocated && ps->numel == o->numel);
  c = &o->config;
  first = o->step == 0;
  o->step++;
  beta1_d = float_as_decimal (c->beta1);
  beta2_d = float_as_decimal (c->beta2);

  for (guint i = 0; i < ps->params->len; i++) {
    MmdnnParam *p = g_ptr_array_index (ps->params, i);
    float wd = p->decay ? c->weight_decay : 0.0f;

    if (c->kind == MMDNN_OPTIM_ADAMW)
      adamw_update (p->value, o->m + p->offset, o->v + p->offset, p->grad,
                    lr, c->beta1, c->beta2, beta1_d, beta2_d, c->eps, wd,
                    o->step, p->numel);
    else
      mmdnn_sgd_update (p->value, o->m != NULL ? o->m + p->offset : NULL,
                        p->grad, lr, c->momentum, wd, c->nesterov, first,
                        p->numel);
  }
}

/* Whether AdamW's step keeps p, m and v: (n) finite, without taking it.
 * Branch-free within blocks (a flag or-ed per element, tested per block),
 * so GCC vectorises it as it does the update: an early exit per element
 * kept it scalar, at about the cost of the update itself. |x| ≤ FLT_MAX is
 * false for ±∞ and NaN. */
static gboolean
adamw_finite (const float *p, const float *m, const float *v, const float *g,
              const AdamwStep *k, int64_t n)
{
  for (int64_t j0 = 0; j0 < n; j0 += 1024) {
    int64_t end = MIN (n, j0 + 1024);
    int bad = 0;

    for (int64_t j = j0; j < end; j++) {
      float w = p[j], mj = m[j], vj = v[j];

      adamw_element (&w, &mj, &vj, g[j], k);
      bad |= !(fabsf (w) <= FLT_MAX) | !(fabsf (mj) <= FLT_MAX) |
          !(fabsf (vj) <= FLT_MAX);
    }
    if (bad)
      return FALSE;
  }
  return TRUE;
}

/* A finite gradient can still overflow a weight (a huge learning rate, or
 * weight decay times a huge rate flipping and growing the weights), and
 * one infinite weight turns every later output into NaN. So the step is
 * computed once into locals first, element by element with the very same
 * arithmetic, and only a step that keeps everything finite is taken. It
 * reads the same four slabs as the update (vectorised, it costs a little
 * less); bounds from the largest magnitudes would read them all the same, and
 * Adam's |m| ≤ K·√v holds only for moments this optimiser made. */
gboolean
mmdnn_optim_step_finite (const MmdnnOptim *o, const MmdnnParamSet *ps,
                         float lr)
{
  const MmdnnOptimConfig *c;
  gboolean first;
  double beta1_d, beta2_d;

  g_return_val_if_fail (o != NULL && ps != NULL, FALSE);
  g_return_val_if_fail (ps->allocated && ps->numel == o->numel, FALSE);
  c = &o->config;
  first = o->step == 0;
  beta1_d = float_as_decimal (c->beta1);
  beta2_d = float_as_decimal (c->beta2);

  for (guint i = 0; i < ps->params->len; i++) {
    const MmdnnParam *p = g_ptr_array_index (ps->params, i);
    float wd = p->decay ? c->weight_decay : 0.0f;
    gboolean use_buf = c->momentum != 0.0f && o->m != NULL;
    AdamwStep k;

    if (c->kind == MMDNN_OPTIM_ADAMW) {
      adamw_step_init (&k, lr, c->beta1, c->beta2, beta1_d, beta2_d, c->eps,
                       wd, o->step + 1);
      if (!adamw_finite (p->value, o->m + p->offset, o->v + p->offset,
                         p->grad, &k, p->numel))
        return FALSE;
      continue;
    }
    for (int64_t j = 0; j < p->numel; j++) {
      float w = p->value[j], m = use_buf ? o->m[p->offset + j] : 0.0f;

      sgd_element (&w, use_buf ? &m : NULL, p->grad[j], -lr, c->momentum,
                   wd, c->nesterov, first);
      if (!isfinite (w) || !isfinite (m))
        return FALSE;
    }
  }
  return TRUE;
}

double
mmdnn_grad_global_norm (const float *g, int64_t n)
{
  double acc = 0.0;

  for (int64_t i = 0; i < n; i++)
    acc += (double) g[i] * (double) g[i];
  return sqrt (acc);
}

double
mmdnn_clip_grad_norm (float *g, int64_t n, double max_norm)
{
  double norm = mmdnn_grad_global_norm (g, n);
  double coef;

  if (!isfinite (norm))
    return norm;
  coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    float cf = (float) coef;
    for (int64_t i = 0; i < n; i++)
      g[i] *= cf;
  }
  return norm;
}

gboolean
mmdnn_lr_schedule_init (MmdnnLrSchedule *s, float base_lr, float min_lr,
                        int64_t warmup_steps, int64_t total_steps,
                        GError **error)
{
  MMDNN_CHECK_NOT_NULL (s, error, FALSE);
  MMDNN_CHECK (isfinite (base_lr) && base_lr >= 0.0f, error, FALSE,
               "lr_schedule: base_lr=%g must be finite and ≥ 0",
               (double) base_lr);
  MMDNN_CHECK (isfinite (min_lr) && min_lr >= 0.0f, error, FALSE,
               "lr_schedule: min_lr=%g must be finite and ≥ 0",
               (double) min_lr);
  MMDNN_CHECK (min_lr <= base_lr, error, FALSE,
               "lr_schedule: min_lr=%g is above base_lr=%g",
               (double) min_lr, (double) base_lr);
  MMDNN_CHECK (total_steps >= 1, error, FALSE,
               "lr_schedule: total_steps=%" G_GINT64_FORMAT " must be ≥ 1",
               total_steps);
  MMDNN_CHECK (warmup_steps >= 0 && warmup_steps <= total_steps, error, FALSE,
               "lr_schedule: warmup_steps=%" G_GINT64_FORMAT
               " must be in [0, total_steps=%" G_GINT64_FORMAT "]",
               warmup_steps, total_steps);
  s->base_lr = base_lr;
  s->min_lr = min_lr;
  s->warmup_steps = warmup_steps;
  s->total_steps = total_steps;
  return TRUE;
}

float
mmdnn_lr_schedule_get (const MmdnnLrSchedule *s, int64_t step)
{
  double base = s->base_lr, lo = s->min_lr, frac;

  if (step < 0)
    step = 0;
  if (step < s->warmup_steps)
    return (float) (base * (double) (step + 1) / (double) s->warmup_steps);
  if (step >= s->total_steps)
    return s->min_lr;
  frac = (double) (step - s->warmup_steps)
      / (double) (s->total_steps - s->warmup_steps);
  return (float) (lo + 0.5 * (base - lo) * (1.0 + cos (G_PI * frac)));
}
