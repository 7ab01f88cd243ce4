/* mmdnn — virtual data generation for scarce samples (DESIGN §2.4).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <mmdnn/augment.h>
#include "internal.h"

/* ----------------------------------------------------------- helpers */

static gboolean
present (const MmdnnBatch *b, int64_t i, int m)
{
  return b->presence[i * MMDNN_N_MODALITIES + m] >= 0.5f;
}

/* The input array of modality m and its row size in bytes. */
static void *
modality_input (const MmdnnBatch *b, const MmdnnModelConfig *c, int m,
                size_t *row_bytes)
{
  switch (m) {
    case MMDNN_MODALITY_VIDEO:
      *row_bytes = sizeof (float) * (size_t) (c->video.channels
                                              * c->video.height
                                              * c->video.width);
      return c->has[m] ? b->video : NULL;
    case MMDNN_MODALITY_AUDIO:
      *row_bytes = sizeof (float) * (size_t) (c->audio.channels
                                              * c->audio.height
                                              * c->audio.width);
      return c->has[m] ? b->audio : NULL;
    default:
      /* the text encoder's (L, M), as the model sizes its arrays */
      *row_bytes = sizeof (int32_t)
          * (size_t) (c->text.max_tokens * c->text.ids_per_token);
      return c->has[m] ? b->text_ids : NULL;
  }
}

static gboolean
prob_ok (float p)
{
  return isfinite (p) && p >= 0.0f && p <= 1.0f;
}

/* ---------------------------------------------------- recombination */

void
mmdnn_augment_recombine (MmdnnBatch *b, const MmdnnModelConfig *c, float p,
                         MmdnnRng *rng)
{
  int64_t n, tasks, n_plan = 0;
  int64_t *dst, *src;
  int *mod;
  void *inputs[MMDNN_N_MODALITIES];
  size_t rows[MMDNN_N_MODALITIES], max_row = 0;
  char *snap;

  if (b == NULL || c == NULL || rng == NULL || !(p > 0.0f) || !isfinite (p))
    return;
  if (b->n < 1 || b->labels == NULL || b->presence == NULL || c->n_tasks < 1)
    return;
  n = b->n;
  tasks = c->n_tasks;
  for (int m = 0; m < MMDNN_N_MODALITIES; m++) {
    inputs[m] = modality_input (b, c, m, &rows[m]);
    if (inputs[m] != NULL)
      max_row = MAX (max_row, rows[m]);
  }
  if (max_row == 0)
    return;

  /* plan every swap from labels and presence (which no swap changes)
   * before moving any data */
  dst = g_new (int64_t, n);
  src = g_new (int64_t, n);
  mod = g_new (int, n);
  for (int64_t i = 0; i < n; i++) {
    int32_t y = b->labels[i * tasks];
    int64_t count[MMDNN_N_MODALITIES] = { 0 };
    int cand[MMDNN_N_MODALITIES], n_cand = 0, m;
    int64_t r;

    if (!(mmdnn_rng_uniform (rng) < p) || y < 0)
      continue;
    for (m = 0; m < MMDNN_N_MODALITIES; m++) {
      if (inputs[m] == NULL || !present (b, i, m))
        continue;
      for (int64_t j = 0; j < n; j++)
        if (j != i && b->labels[j * tasks] == y && present (b, j, m))
          count[m]++;
      if (count[m] > 0)
        cand[n_cand++] = m;
    }
    if (n_cand == 0)
      continue;
    m = cand[mmdnn_rng_below (rng, (uint64_t) n_cand)];
    r = (int64_t) mmdnn_rng_below (rng, (uint64_t) count[m]);
    for (int64_t j = 0; j < n; j++) {
      if (j != i && b->labels[j * tasks] == y && present (b, j, m) && r-- == 0) {
        dst[n_plan] = i;
        src[n_plan] = j;
        mod[n_plan] = m;
        n_plan++;
        break;
      }
    }
  }

  /* snapshot the sources first, so a sample that gives and receives
   * passes on its original input (no chains) */
  if (n_plan > 0) {
    snap = g_malloc (max_row * (size_t) n_plan);
    for (int64_t k = 0; k < n_plan; k++)
      memcpy (snap + max_row * (size_t) k,
              (char *) inputs[mod[k]] + rows[mod[k]] * (size_t) src[k],
              rows[mod[k]]);
    for (int64_t k = 0; k < n_plan; k++)
      memcpy ((char *) inputs[mod[k]] + rows[mod[k]] * (size_t) dst[k],
              snap + max_row * (size_t) k, rows[mod[k]]);
    g_free (snap);
  }
  g_free (dst);
  g_free (src);
  g_free (mod);
}

/* ------------------------------------------------------------- mixup */

/* log of a Gamma(a, 1) draw, Marsaglia & Tsang (2000). Shapes below 1 use
 * Gamma(a) = Gamma(a + 1)·U^(1/a); in log space, so a tiny shape cannot
 * underflow both Beta components to 0. */
static double
log_gamma_draw (MmdnnRng *rng, double a)
{
  double d, c;

  if (a < 1.0) {
    double u = 1.0 - mmdnn_rng_uniform (rng);   /* (0, 1] */

    return log_gamma_draw (rng, a + 1.0) + log (u) / a;
  }
  d = a - 1.0 / 3.0;
  c = 1.0 / sqrt (9.0 * d);
  for (;;) {
    double x, v, u;

    do {
      x = mmdnn_rng_normal (rng);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    u = mmdnn_rng_uniform (rng);
    if (u < 1.0 - 0.0331 * (x * x) * (x * x))
      return log (d * v);
    if (log (u) < 0.5 * x * x + d * (1.0 - v + log (v)))
      return log (d * v);
  }
}

double
mmdnn_augment_beta (MmdnnRng *rng, double a, double b)
{
  double la, lb;

  if (rng == NULL || !isfinite (a) || !isfinite (b) || a <= 0.0 || b <= 0.0)
    return NAN;
  la = log_gamma_draw (rng, a);
  lb = log_gamma_draw (rng, b);
  /* X/(X+Y) = 1/(1 + Y/X) */
  return 1.0 / (1.0 + exp (lb - la));
}

static gboolean
mixup_check (const MmdnnBatch *b, const MmdnnModelConfig *c, GError **error)
{
  MMDNN_CHECK_NOT_NULL (b, error, FALSE);
  MMDNN_CHECK_NOT_NULL (c, error, FALSE);
  MMDNN_CHECK (b->n >= 1, error, FALSE,
               "%s: batch size n = %" G_GINT64_FORMAT " must be ≥ 1",
               G_STRFUNC, b->n);
  MMDNN_CHECK (c->n_tasks >= 1 && c->n_tasks <= MMDNN_MAX_TASKS, error, FALSE,
               "%s: n_tasks = %d must be in [1, %d]", G_STRFUNC, c->n_tasks,
               MMDNN_MAX_TASKS);
  MMDNN_CHECK (b->labels != NULL, error, FALSE,
               "%s: b->labels must not be NULL (mixup mixes labels)",
               G_STRFUNC);
  MMDNN_CHECK (b->presence != NULL, error, FALSE,
               "%s: b->presence must not be NULL", G_STRFUNC);
  MMDNN_CHECK (b->mix == 1.0f, error, FALSE,
               "%s: the batch is already mixed (mix = %g)", G_STRFUNC,
               (double) b->mix);
  return TRUE;
}

/* The mixing itself, arguments checked. Every allocation comes first, so
 * a failure leaves the batch untouched. */
static gboolean
mixup_core (MmdnnBatch *b, const MmdnnModelConfig *c, float lambda,
            const int64_t *perm, GError **error)
{
  int64_t n = b->n, tasks = c->n_tasks;
  float *snap[2] = { NULL, NULL };
  int32_t *labels_b = b->labels_b;
  size_t rows[2];
  float *x[2];

  for (int m = 0; m < 2; m++) {
    x[m] = modality_input (b, c, m, &rows[m]);
    if (x[m] == NULL)
      continue;
    snap[m] = g_try_malloc (rows[m] * (size_t) n);
    if (snap[m] == NULL)
      goto no_memory;
    memcpy (snap[m], x[m], rows[m] * (size_t) n);
  }
  if (labels_b == NULL) {
    labels_b = g_try_new (int32_t, n * tasks);
    if (labels_b == NULL)
      goto no_memory;
  }

  for (int m = 0; m < 2; m++) {
    int64_t row = (int64_t) (rows[m] / sizeof (float));

    if (x[m] == NULL)
      continue;
    for (int64_t i = 0; i < n; i++) {
      int64_t j = perm[i];
      float *xi = x[m] + i * row;
      const float *xj = snap[m] + j * row;

      /* a sample paired with itself stays bit-exact */
      if (j == i || !present (b, i, m) || !present (b, j, m))
        continue;
      for (int64_t k = 0; k < row; k++)
        xi[k] = lambda * xi[k] + (1.0f - lambda) * xj[k];
    }
  }
  for (int64_t i = 0; i < n; i++)
    memcpy (labels_b + i * tasks, b->labels + perm[i] * tasks,
            sizeof (int32_t) * (size_t) tasks);
  b->labels_b = labels_b;
  b->mix = lambda;
  g_free (snap[0]);
  g_free (snap[1]);
  return TRUE;

no_memory:
  g_free (snap[0]);
  g_free (snap[1]);
  g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
               "%s: cannot allocate the mixup buffers for n = %"
               G_GINT64_FORMAT, G_STRFUNC, n);
  return FALSE;
}

gboolean
mmdnn_augment_mixup_with (MmdnnBatch *b, const MmdnnModelConfig *c,
                          float lambda, const int64_t *perm, GError **error)
{
  gboolean *seen;

  if (!mixup_check (b, c, error))
    return FALSE;
  MMDNN_CHECK_NOT_NULL (perm, error, FALSE);
  MMDNN_CHECK (isfinite (lambda) && lambda >= 0.0f && lambda <= 1.0f, error,
               FALSE, "%s: lambda = %g must be in [0, 1]", G_STRFUNC,
               (double) lambda);
  seen = g_try_new0 (gboolean, b->n);
  if (seen == NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                 "%s: cannot allocate for n = %" G_GINT64_FORMAT, G_STRFUNC,
                 b->n);
    return FALSE;
  }
  for (int64_t i = 0; i < b->n; i++) {
    if (perm[i] < 0 || perm[i] >= b->n || seen[perm[i]]) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                   "%s: perm is not a permutation of 0..%" G_GINT64_FORMAT
                   ": perm[%" G_GINT64_FORMAT "] = %" G_GINT64_FORMAT
                   " is out of range or repeated", G_STRFUNC, b->n - 1, i,
                   perm[i]);
      g_free (seen);
      return FALSE;
    }
    seen[perm[i]] = TRUE;
  }
  g_free (seen);
  return mixup_core (b, c, lambda, perm, error);
}

gboolean
mmdnn_augment_mixup (MmdnnBatch *b, const MmdnnModelConfig *c, float alpha,
                     MmdnnRng *rng, GError **error)
{
  int64_t *perm;
  double lambda;
  gboolean ok;

  if (!mixup_check (b, c, error))
    return FALSE;
  MMDNN_CHECK_NOT_NULL (rng, error, FALSE);
  MMDNN_CHECK (isfinite (alpha) && alpha > 0.0f, error, FALSE,
               "%s: alpha = %g must be > 0 and finite", G_STRFUNC,
               (double) alpha);
  perm = g_try_new (int64_t, b->n);
  if (perm == NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                 "%s: cannot allocate for n = %" G_GINT64_FORMAT, G_STRFUNC,
                 b->n);
    return FALSE;
  }

  lambda = mmdnn_augment_beta (rng, alpha, alpha);
  lambda = MAX (lambda, 1.0 - lambda);  /* the sample keeps its own label's majority */
  for (int64_t i = 0; i < b->n; i++)
    perm[i] = i;
  mmdnn_rng_shuffle (rng, perm, b->n);
  ok = mixup_core (b, c, (float) lambda, perm, error);
  g_free (perm);
  return ok;
}

/* ---------------------------------------------------- modality dropout */

void
mmdnn_augment_modality_dropout (MmdnnBatch *b, float p, MmdnnRng *rng)
{
  if (b == NULL || rng == NULL || b->presence == NULL || !(p > 0.0f)
      || !isfinite (p) || b->n < 1)
    return;
  for (int64_t i = 0; i < b->n; i++) {
    int which[MMDNN_N_MODALITIES], k = 0, dropped = 0;
    gboolean drop[MMDNN_N_MODALITIES];

    for (int m = 0; m < MMDNN_N_MODALITIES; m++)
      if (present (b, i, m))
        which[k++] = m;
    if (k < 2)                  /* the only one is always kept */
      continue;
    for (int q = 0; q < k; q++) {
      drop[q] = mmdnn_rng_uniform (rng) < p;
      dropped += drop[q];
    }
    /* rather than sparing the last one looked at (which would favour a
     * modality), spare one at random */
    if (dropped == k)
      drop[mmdnn_rng_below (rng, (uint64_t) k)] = FALSE;
    for (int q = 0; q < k; q++)
      if (drop[q])
        b->presence[i * MMDNN_N_MODALITIES + which[q]] = 0.0f;
  }
}

/* ------------------------------------------------- latent perturbation */

/* x: (C, Hi, Wi) → y: (C, Ho, Wo), PyTorch's bilinear with align_corners
 * False: source coordinate (dst + ½)·Hi/Ho − ½, clamped at 0. */
static void
upsample_bilinear (float *y, const float *x, int64_t c, int64_t hi,
                   int64_t wi, int64_t ho, int64_t wo)
{
  double sh = (double) hi / (double) ho, sw = (double) wi / (double) wo;

  for (int64_t oy = 0; oy < ho; oy++) {
    double fy = MAX ((oy + 0.5) * sh - 0.5, 0.0);
    int64_t y0 = (int64_t) fy, y1 = MIN (y0 + 1, hi - 1);
    double ly = fy - (double) y0;

    for (int64_t ox = 0; ox < wo; ox++) {
      double fx = MAX ((ox + 0.5) * sw - 0.5, 0.0);
      int64_t x0 = (int64_t) fx, x1 = MIN (x0 + 1, wi - 1);
      double lx = fx - (double) x0;

      for (int64_t ch = 0; ch < c; ch++) {
        const float *p = x + ch * hi * wi;
        double top = (1.0 - lx) * p[y0 * wi + x0] + lx * p[y0 * wi + x1];
        double bot = (1.0 - lx) * p[y1 * wi + x0] + lx * p[y1 * wi + x1];

        y[(ch * ho + oy) * wo + ox] = (float) ((1.0 - ly) * top + ly * bot);
      }
    }
  }
}

typedef struct {
  const MmdnnImageEncoder *enc;
  float   *input;               /* the batch's array */
  int64_t  row;                 /* C·H·W */
  int64_t  n_sel;
  int64_t *sel;                 /* chosen samples */
  gboolean *ok;                 /* per chosen sample: finite result */
  MmdnnImageEncoderActs *acts;
  gboolean borrowed;            /* acts and x are the model's */
  /* x holds the chosen inputs until they are encoded, then the outputs */
  float   *x, *latent, *recon;
} LatentJob;

static void
latent_job_clear (LatentJob *j)
{
  g_free (j->sel);
  g_free (j->ok);
  if (!j->borrowed) {
    mmdnn_image_encoder_acts_free (j->acts);
    mmdnn_floats_free (j->x);
  }
  mmdnn_floats_free (j->latent);
  mmdnn_floats_free (j->recon);
  memset (j, 0, sizeof *j);
}

static gboolean
latent_job_alloc (LatentJob *j, MmdnnModel *m, int mod, GError **error)
{
  const MmdnnImageEncoder *e = j->enc;
  int64_t ns = j->n_sel;
  int64_t lat = e->ae_enc3.shape.c_out * e->ae_enc3.shape.h_out
      * e->ae_enc3.shape.w_out;
  int64_t rec = e->config.channels * e->recon_h * e->recon_w;

  j->ok = g_try_new0 (gboolean, ns);
  if (j->ok == NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                 "%s: cannot allocate for %" G_GINT64_FORMAT " samples",
                 G_STRFUNC, ns);
    return FALSE;
  }
  j->acts = mmdnn_model_borrow_image_acts (m, mod, ns, &j->x);
  j->borrowed = j->acts != NULL;
  if (!j->borrowed) {
    j->acts = mmdnn_image_encoder_acts_new (e, ns, error);
    if (j->acts == NULL)
      return FALSE;
    j->x = mmdnn_floats_new (ns * j->row, error);
    if (j->x == NULL)
      return FALSE;
  }
  j->latent = mmdnn_floats_new (ns * lat, error);
  if (j->latent == NULL)
    return FALSE;
  j->recon = mmdnn_floats_new (ns * rec, error);
  return j->recon != NULL;
}

static gboolean
all_finite (const float *x, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    if (!isfinite (x[i]))
      return FALSE;
  return TRUE;
}

/* Encode the chosen samples, perturb each latent, decode and upsample into
 * j->out. Draws the noise in sample order. */
static gboolean
latent_job_run (LatentJob *j, float noise, MmdnnRng *rng, GError **error)
{
  const MmdnnImageEncoder *e = j->enc;
  const MmdnnImageEncoderConfig *c = &e->config;
  int64_t ns = j->n_sel;
  int64_t lat = e->ae_enc3.shape.c_out * e->ae_enc3.shape.h_out
      * e->ae_enc3.shape.w_out;
  int64_t rec = c->channels * e->recon_h * e->recon_w;

  for (int64_t k = 0; k < ns; k++)
    memcpy (j->x + k * j->row, j->input + j->sel[k] * j->row,
            sizeof (float) * (size_t) j->row);
  if (!mmdnn_image_encoder_encode (e, j->acts, j->x, ns, error))
    return FALSE;
  memcpy (j->latent, mmdnn_image_encoder_latent (j->acts),
          sizeof (float) * (size_t) (ns * lat));

  for (int64_t k = 0; k < ns; k++) {
    float *z = j->latent + k * lat;
    double sum = 0.0, sq = 0.0, mean, sigma;

    for (int64_t q = 0; q < lat; q++)
      sum += z[q];
    mean = sum / (double) lat;
    for (int64_t q = 0; q < lat; q++)
      sq += (z[q] - mean) * (z[q] - mean);
    sigma = noise * sqrt (sq / (double) lat);
    j->ok[k] = isfinite (sigma);
    if (j->ok[k] && sigma > 0.0)
      for (int64_t q = 0; q < lat; q++)
        z[q] = (float) (z[q] + sigma * mmdnn_rng_normal (rng));
  }

  if (!mmdnn_image_encoder_decode (e, j->acts, j->latent, ns, j->recon,
                                   error))
    return FALSE;
  for (int64_t k = 0; k < ns; k++) {
    float *o = j->x + k * j->row;

    upsample_bilinear (o, j->recon + k * rec, c->channels, e->recon_h,
                       e->recon_w, c->height, c->width);
    j->ok[k] = j->ok[k] && all_finite (o, j->row);
  }
  return TRUE;
}

gboolean
mmdnn_augment_latent (MmdnnModel *m, MmdnnBatch *b, float p, float noise,
                      GError **error)
{
  const MmdnnModelConfig *c;
  LatentJob jobs[2];
  gboolean ok = FALSE;

  MMDNN_CHECK_NOT_NULL (m, error, FALSE);
  MMDNN_CHECK_NOT_NULL (m->config, error, FALSE);
  MMDNN_CHECK_NOT_NULL (b, error, FALSE);
  MMDNN_CHECK (b->n >= 1, error, FALSE,
               "%s: batch size n = %" G_GINT64_FORMAT " must be ≥ 1",
               G_STRFUNC, b->n);
  MMDNN_CHECK_NOT_NULL (b->presence, error, FALSE);
  MMDNN_CHECK (prob_ok (p), error, FALSE,
               "%s: p = %g must be in [0, 1]", G_STRFUNC, (double) p);
  MMDNN_CHECK (isfinite (noise) && noise >= 0.0f, error, FALSE,
               "%s: noise = %g must be ≥ 0 and finite", G_STRFUNC,
               (double) noise);
  c = m->config;
  if (p == 0.0f)
    return TRUE;

  /* choose first (all draws of the choice before any noise), allocate
   * everything, compute into staging, and only then write the batch */
  memset (jobs, 0, sizeof jobs);
  for (int q = 0; q < 2; q++) {
    LatentJob *j = &jobs[q];
    const MmdnnImageEncoder *e = q == MMDNN_MODALITY_VIDEO ? &m->video
        : &m->audio;
    size_t row_bytes;

    j->input = modality_input (b, c, q, &row_bytes);
    if (j->input == NULL || !e->config.use_ae || e->ae_dec1.weight == NULL)
      continue;
    j->enc = e;
    j->row = (int64_t) (row_bytes / sizeof (float));
    j->sel = g_try_new (int64_t, b->n);
    if (j->sel == NULL) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                   "%s: cannot allocate for n = %" G_GINT64_FORMAT,
                   G_STRFUNC, b->n);
      goto out;
    }
    for (int64_t i = 0; i < b->n; i++)
      if (present (b, i, q) && mmdnn_rng_uniform (&m->rng) < p)
        j->sel[j->n_sel++] = i;
  }
  for (int q = 0; q < 2; q++)
    if (jobs[q].n_sel > 0 && !latent_job_alloc (&jobs[q], m, q, error))
      goto out;
  for (int q = 0; q < 2; q++)
    if (jobs[q].n_sel > 0 && !latent_job_run (&jobs[q], noise, &m->rng, error))
      goto out;

  for (int q = 0; q < 2; q++) {
    LatentJob *j = &jobs[q];

    for (int64_t k = 0; k < j->n_sel; k++)
      if (j->ok[k])
        memcpy (j->input + j->sel[k] * j->row, j->x + k * j->row,
                sizeof (float) * (size_t) j->row);
  }
  ok = TRUE;

out:
  latent_job_clear (&jobs[0]);
  latent_job_clear (&jobs[1]);
  return ok;
}

/* --------------------------------------------------------------- apply */

gboolean
mmdnn_augment_apply (MmdnnModel *m, MmdnnBatch *b, GError **error)
{
  const MmdnnModelConfig *c;

  MMDNN_CHECK_NOT_NULL (m, error, FALSE);
  MMDNN_CHECK_NOT_NULL (m->config, error, FALSE);
  MMDNN_CHECK_NOT_NULL (b, error, FALSE);
  c = m->config;
  MMDNN_CHECK (prob_ok (c->p_recombine), error, FALSE,
               "%s: p_recombine = %g must be in [0, 1]", G_STRFUNC,
               (double) c->p_recombine);
  MMDNN_CHECK (prob_ok (c->p_latent), error, FALSE,
               "%s: p_latent = %g must be in [0, 1]", G_STRFUNC,
               (double) c->p_latent);
  MMDNN_CHECK (isfinite (c->latent_noise) && c->latent_noise >= 0.0f, error,
               FALSE, "%s: latent_noise = %g must be ≥ 0 and finite",
               G_STRFUNC, (double) c->latent_noise);
  MMDNN_CHECK (isfinite (c->mixup_alpha) && c->mixup_alpha >= 0.0f, error,
               FALSE, "%s: mixup_alpha = %g must be ≥ 0 and finite",
               G_STRFUNC, (double) c->mixup_alpha);
  MMDNN_CHECK (prob_ok (c->p_modality_dropout), error, FALSE,
               "%s: p_modality_dropout = %g must be in [0, 1]", G_STRFUNC,
               (double) c->p_modality_dropout);
  MMDNN_CHECK (b->n >= 1, error, FALSE,
               "%s: batch size n = %" G_GINT64_FORMAT " must be ≥ 1",
               G_STRFUNC, b->n);
  MMDNN_CHECK_NOT_NULL (b->presence, error, FALSE);
  /* what mixup needs is checked before recombination changes anything */
  if (c->mixup_alpha > 0.0f && b->mix == 1.0f && !mixup_check (b, c, error))
    return FALSE;

  if (c->p_recombine > 0.0f)
    mmdnn_augment_recombine (b, c, c->p_recombine, &m->rng);
  if (c->p_latent > 0.0f
      && !mmdnn_augment_latent (m, b, c->p_latent, c->latent_noise, error))
    return FALSE;
  if (c->mixup_alpha > 0.0f && b->mix == 1.0f
      && !mmdnn_augment_mixup (b, c, c->mixup_alpha, &m->rng, error))
    return FALSE;
  if (c->p_modality_dropout > 0.0f)
    mmdnn_augment_modality_dropout (b, c->p_modality_dropout, &m->rng);
  return TRUE;
}
