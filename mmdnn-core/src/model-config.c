/* mmdnn — the model configuration: defaults, validation and JSON.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The JSON schema is documented in docs/model-config.md. Two tables drive
 * both directions: every (key path, type, offset into MmdnnModelConfig) is
 * listed once, so to_json and from_json cannot drift apart and an unknown
 * key is simply one that is not in the table of its section.
 *
 * Error messages use the JSON key paths ("encoders.video.dim"), because the
 * people reading them wrote a config file, not C. */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include <mmdnn/json.h>
#include <mmdnn/model.h>
#include "internal.h"

#define N_MOD          MMDNN_N_MODALITIES
#define MAX_WIDTH      (INT64_C (1) << 20)
#define MAX_IMAGE_SIZE INT64_C (65536)
#define MAX_TOKENS     INT64_C (4096)
#define MAX_STEPS      (INT64_C (1) << 62)
#define MAX_ID_BYTES   256
#define MAX_TASK_NAME  64
#define MAX_CLASS_NAME 256

static const char *const mod_names[N_MOD] = { "video", "audio", "text" };

/* ---------------------------------------------------------------- basics */

static void
task_clear (MmdnnTask *t)
{
  g_free (t->name);
  g_strfreev (t->classes);
  memset (t, 0, sizeof *t);
}

void
mmdnn_model_config_free (MmdnnModelConfig *c)
{
  if (c == NULL)
    return;
  g_free (c->model_id);
  for (int t = 0; t < c->n_tasks && t < MMDNN_MAX_TASKS; t++)
    task_clear (&c->tasks[t]);
  g_free (c);
}

MmdnnModelConfig *
mmdnn_model_config_copy (const MmdnnModelConfig *c)
{
  MmdnnModelConfig *d;

  g_return_val_if_fail (c != NULL, NULL);
  d = g_new (MmdnnModelConfig, 1);
  *d = *c;
  d->model_id = g_strdup (c->model_id);
  for (int t = 0; t < MMDNN_MAX_TASKS; t++) {
    if (t < c->n_tasks) {
      d->tasks[t].name = g_strdup (c->tasks[t].name);
      d->tasks[t].classes = g_strdupv (c->tasks[t].classes);
    } else {
      memset (&d->tasks[t], 0, sizeof d->tasks[t]);
    }
  }
  return d;
}

static gboolean
check_task_name (const char *path, const char *name, GError **error)
{
  size_t len;

  if (name == NULL || name[0] == '\0') {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "%s: a task name must not be empty", path);
    return FALSE;
  }
  len = strlen (name);
  for (size_t i = 0; i < len; i++) {
    char ch = name[i];
    if (!(g_ascii_isalnum (ch) || ch == '_' || ch == '-') || len > MAX_TASK_NAME) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                   "%s = \"%s\": a task name is 1 to %d characters of "
                   "A–Z, a–z, 0–9, '_' and '-' (it names the parameters "
                   "\"head.<task>.*\")", path,
                   g_utf8_validate (name, -1, NULL) ? name : "(not UTF-8)",
                   MAX_TASK_NAME);
      return FALSE;
    }
  }
  return TRUE;
}

/* Free text shown to users: valid UTF-8, 1..max bytes, no control
 * characters (they would corrupt logs, CSV files and terminal output). */
static gboolean
check_label (const char *path, const char *what, const char *s, size_t max,
             GError **error)
{
  if (s == NULL || s[0] == '\0') {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "%s: %s must not be empty", path, what);
    return FALSE;
  }
  if (!g_utf8_validate (s, -1, NULL)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "%s: %s is not valid UTF-8", path, what);
    return FALSE;
  }
  if (strlen (s) > max) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "%s: %s is %" G_GSIZE_FORMAT " bytes long, at most %"
                 G_GSIZE_FORMAT " are allowed", path, what, strlen (s), max);
    return FALSE;
  }
  for (const char *p = s; *p; p = g_utf8_next_char (p)) {
    gunichar u = g_utf8_get_char (p);
    if (g_unichar_iscntrl (u)) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                   "%s = \"%s\": %s must not contain control characters "
                   "(U+%04X at byte %" G_GSIZE_FORMAT ")", path, s, what, u,
                   (gsize) (p - s));
      return FALSE;
    }
  }
  return TRUE;
}

/* name and classes of one task, without touching @c */
static gboolean
check_task_parts (const char *path, const char *name,
                  const char *const *classes, float weight, GError **error)
{
  char *sub;
  int64_t n = 0;
  gboolean ok = TRUE;

  sub = g_strdup_printf ("%s.name", path);
  ok = check_task_name (sub, name, error);
  g_free (sub);
  if (!ok)
    return FALSE;
  if (classes != NULL)
    while (classes[n] != NULL)
      n++;
  if (n < 2 || n > MMDNN_MAX_CLASSES) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "%s.classes: task \"%s\" has %" G_GINT64_FORMAT
                 " class name(s), it needs 2 to %d", path, name, n,
                 MMDNN_MAX_CLASSES);
    return FALSE;
  }
  for (int64_t k = 0; ok && k < n; k++) {
    sub = g_strdup_printf ("%s.classes[%" G_GINT64_FORMAT "]", path, k);
    ok = check_label (sub, "a class name", classes[k], MAX_CLASS_NAME, error);
    for (int64_t j = 0; ok && j < k; j++)
      if (strcmp (classes[j], classes[k]) == 0) {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                     "%s = \"%s\": duplicate class name (also at index %"
                     G_GINT64_FORMAT ")", sub, classes[k], j);
        ok = FALSE;
      }
    g_free (sub);
  }
  if (!ok)
    return FALSE;
  if (!isfinite (weight) || weight < 0.0f) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "%s.weight = %g: must be a finite number ≥ 0", path,
                 (double) weight);
    return FALSE;
  }
  return TRUE;
}

gboolean
mmdnn_model_config_set_task (MmdnnModelConfig *c, int index, const char *name,
                             const char *const *classes, float weight,
                             GError **error)
{
  char *path;
  gboolean ok;

  MMDNN_CHECK_NOT_NULL (c, error, FALSE);
  MMDNN_CHECK (index >= 0 && index <= c->n_tasks && index < MMDNN_MAX_TASKS,
               error, FALSE, "tasks[%d]: index must be in [0, %d] (n_tasks = "
               "%d, at most %d tasks)", index,
               MIN (c->n_tasks, MMDNN_MAX_TASKS - 1), c->n_tasks,
               MMDNN_MAX_TASKS);
  path = g_strdup_printf ("tasks[%d]", index);
  ok = check_task_parts (path, name, classes, weight, error);
  for (int t = 0; ok && t < c->n_tasks; t++)
    if (t != index && g_strcmp0 (c->tasks[t].name, name) == 0) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                   "%s.name = \"%s\": duplicate task name (also tasks[%d])",
                   path, name, t);
      ok = FALSE;
    }
  g_free (path);
  if (!ok)
    return FALSE;
  if (index < c->n_tasks)
    task_clear (&c->tasks[index]);
  c->tasks[index].name = g_strdup (name);
  c->tasks[index].classes = g_strdupv ((char **) classes);
  c->tasks[index].n_classes = g_strv_length (c->tasks[index].classes);
  c->tasks[index].weight = weight;
  if (index == c->n_tasks)
    c->n_tasks++;
  return TRUE;
}

MmdnnModelConfig *
mmdnn_model_config_new_default (void)
{
  static const char *const fashion[] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
    "Sneaker", "Bag", "Ankle boot", NULL
  };
  static const char *const gender[] = { "female", "male", NULL };
  MmdnnModelConfig *c = g_new0 (MmdnnModelConfig, 1);

  c->model_id = g_strdup ("mmdnn-default");
  for (int m = 0; m < N_MOD; m++)
    c->has[m] = TRUE;

  mmdnn_video_config_init (&c->video_prep);
  mmdnn_logmel_config_init (&c->logmel);
  c->audio_patch_frames = 100;
  mmdnn_text_config_init (&c->text_prep);
  /* 16384 buckets × 64 keeps the shipped model file under 8 MB (the table
   * is most of the parameters); collisions between the few thousand words
   * and 3-grams of subtitles stay rare at this size. */
  c->text_prep.buckets = 16384;

  mmdnn_image_encoder_config_init_video (&c->video);
  c->video.channels = c->video_prep.channels;
  c->video.height = c->video_prep.height;
  c->video.width = c->video_prep.width;
  mmdnn_image_encoder_config_init_audio (&c->audio);
  c->audio.channels = 1;
  c->audio.height = c->logmel.n_mels;
  c->audio.width = c->audio_patch_frames;
  mmdnn_text_encoder_config_init (&c->text);
  c->text.buckets = c->text_prep.buckets;
  c->text.max_tokens = c->text_prep.max_tokens;
  c->text.ids_per_token = c->text_prep.max_ids_per_token;
  mmdnn_fusion_config_init (&c->fusion);
  c->fusion.tokens[0] = c->video.grid_h * c->video.grid_w;
  c->fusion.tokens[1] = c->audio.grid_h * c->audio.grid_w;
  c->fusion.tokens[2] = c->text.max_tokens;

  /* constant, valid input: cannot fail */
  mmdnn_model_config_set_task (c, 0, "class", fashion, 1.0f, NULL);
  mmdnn_model_config_set_task (c, 1, "speaker_gender", gender, 1.0f, NULL);

  c->w_aux = 0.3f;
  c->w_recon = 0.1f;
  c->w_adv = 0.05f;
  c->grl_lambda = 1.0f;
  c->disc_hidden = 64;
  c->w_nce = 0.1f;
  c->nce_tau = 0.1f;

  c->mixup_alpha = 0.2f;
  c->p_recombine = 0.2f;
  c->p_modality_dropout = 0.2f;
  c->p_latent = 0.1f;
  c->latent_noise = 0.1f;

  mmdnn_optim_config_init_adamw (&c->optim, 1e-3f, 0.01f);
  c->clip_norm = 1.0f;
  c->warmup_steps = 100;
  c->total_steps = 10000;
  c->min_lr = 1e-5f;
  return c;
}

/* ---------------------------------------------------------------- check */

static gboolean
check_int (const char *path, int64_t v, int64_t lo, int64_t hi, GError **error)
{
  if (v >= lo && v <= hi)
    return TRUE;
  g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
               "%s = %" G_GINT64_FORMAT ": must be an integer in [%"
               G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]", path, v, lo, hi);
  return FALSE;
}

/* finite and in the interval; lo_open/hi_open make that end exclusive,
 * hi = INFINITY means no upper bound */
static gboolean
check_real (const char *path, float v, double lo, gboolean lo_open, double hi,
            gboolean hi_open, GError **error)
{
  double d = v;
  char hib[G_ASCII_DTOSTR_BUF_SIZE];

  if (isfinite (d) && (lo_open ? d > lo : d >= lo)
      && (hi_open ? d < hi : d <= hi))
    return TRUE;
  if (isinf (hi))
    g_strlcpy (hib, "inf", sizeof hib);
  else
    g_snprintf (hib, sizeof hib, "%g", hi);
  g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
               "%s = %g: must be a finite number in %c%g, %s%c", path, d,
               lo_open ? '(' : '[', lo, hib, hi_open || isinf (hi) ? ')' : ']');
  return FALSE;
}

#define GE0(path, v)  check_real (path, v, 0.0, FALSE, INFINITY, FALSE, error)
#define GT0(path, v)  check_real (path, v, 0.0, TRUE, INFINITY, FALSE, error)
#define P01(path, v)  check_real (path, v, 0.0, FALSE, 1.0, FALSE, error)

static gboolean
check_equal (const char *path, int64_t v, const char *other, int64_t w,
             GError **error)
{
  if (v == w)
    return TRUE;
  g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
               "%s = %" G_GINT64_FORMAT " must equal %s = %" G_GINT64_FORMAT,
               path, v, other, w);
  return FALSE;
}

static gboolean
check_video_prep (const MmdnnVideoConfig *v, GError **error)
{
  if (v->channels != 1 && v->channels != 3) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "preprocessing.video.channels = %" G_GINT64_FORMAT
                 ": must be 1 (grey) or 3 (RGB)", v->channels);
    return FALSE;
  }
  if (!check_int ("preprocessing.video.height", v->height, 1, 4096, error)
      || !check_int ("preprocessing.video.width", v->width, 1, 4096, error))
    return FALSE;
  for (int k = 0; k < 3; k++) {
    char mp[48], sp[48];
    g_snprintf (mp, sizeof mp, "preprocessing.video.mean[%d]", k);
    g_snprintf (sp, sizeof sp, "preprocessing.video.std[%d]", k);
    if (!check_real (mp, v->mean[k], -INFINITY, FALSE, INFINITY, FALSE, error)
        || !GT0 (sp, v->std[k]))
      return FALSE;
  }
  return TRUE;
}

static gboolean
check_logmel (const MmdnnModelConfig *c, GError **error)
{
  const MmdnnLogMelConfig *a = &c->logmel;

  if (!check_int ("preprocessing.audio.sample_rate", a->sample_rate, 1,
                  1000000, error)
      || !check_int ("preprocessing.audio.n_fft", a->n_fft, 16, 65536, error))
    return FALSE;
  if ((a->n_fft & (a->n_fft - 1)) != 0) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "preprocessing.audio.n_fft = %" G_GINT64_FORMAT
                 ": must be a power of two in [16, 65536]", a->n_fft);
    return FALSE;
  }
  if (!check_int ("preprocessing.audio.win_length", a->win_length, 1,
                  a->n_fft, error)
      || !check_int ("preprocessing.audio.hop_length", a->hop_length, 1,
                     1000000, error)
      || !check_int ("preprocessing.audio.n_mels", a->n_mels, 1,
                     a->n_fft / 2 + 1, error)
      || !check_real ("preprocessing.audio.fmin", a->fmin, 0.0, FALSE,
                      a->sample_rate / 2.0, TRUE, error)
      || !check_real ("preprocessing.audio.fmax", a->fmax, a->fmin, TRUE,
                      a->sample_rate / 2.0, FALSE, error)
      || !GT0 ("preprocessing.audio.log_floor", a->log_floor)
      || !check_int ("preprocessing.audio.patch_frames",
                     c->audio_patch_frames, 1, MAX_IMAGE_SIZE, error))
    return FALSE;
  if (a->scale != MMDNN_MEL_SLANEY && a->scale != MMDNN_MEL_HTK) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "preprocessing.audio.mel_scale = %d: must be \"slaney\" or "
                 "\"htk\"", (int) a->scale);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_image_encoder (const char *mod, const MmdnnImageEncoderConfig *e,
                     GError **error)
{
  struct { const char *key; int64_t v; gboolean on; } f[] = {
    { "channels", e->channels, TRUE }, { "height", e->height, TRUE },
    { "width", e->width, TRUE }, { "grid_h", e->grid_h, TRUE },
    { "grid_w", e->grid_w, TRUE }, { "dim", e->dim, TRUE },
    { "ae_width", e->ae_width, e->use_ae },
    { "ae_latent", e->ae_latent, e->use_ae },
    { "ms_width", e->ms_width, e->use_ms },
    { "ms_width2", e->ms_width2, e->use_ms },
    { "ms_width3", e->ms_width3, e->use_ms },
    { "sal_width", e->sal_width, e->use_sal },
  };

  for (size_t k = 0; k < G_N_ELEMENTS (f); k++) {
    char path[64];
    g_snprintf (path, sizeof path, "encoders.%s.%s", mod, f[k].key);
    if (f[k].on && !check_int (path, f[k].v, 1, MAX_IMAGE_SIZE, error))
      return FALSE;
  }
  if (!e->use_ae && !e->use_ms && !e->use_sal) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "encoders.%s: at least one of use_ae, use_ms, use_sal must "
                 "be true", mod);
    return FALSE;
  }
  /* the geometric rules (grid vs. input size per branch) */
  if (!mmdnn_image_encoder_config_check (e, error)) {
    g_prefix_error (error, "encoders.%s: ", mod);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_text_encoder (const MmdnnTextEncoderConfig *e, GError **error)
{
  struct { const char *key; int64_t v; int64_t hi; gboolean on; } f[] = {
    { "buckets", e->buckets, G_MAXINT32, TRUE },
    { "max_tokens", e->max_tokens, MMDNN_TEXT_MAX_SIZE, TRUE },
    { "ids_per_token", e->ids_per_token, MMDNN_TEXT_MAX_SIZE, TRUE },
    { "embed", e->embed, MAX_WIDTH, TRUE }, { "dim", e->dim, MAX_WIDTH, TRUE },
    { "ae_latent", e->ae_latent, MAX_WIDTH, e->use_ae },
    { "ms_width", e->ms_width, MAX_WIDTH, e->use_ms },
    { "ms_width2", e->ms_width2, MAX_WIDTH, e->use_ms },
    { "sal_width", e->sal_width, MAX_WIDTH, e->use_sal },
  };

  for (size_t k = 0; k < G_N_ELEMENTS (f); k++) {
    char path[64];
    g_snprintf (path, sizeof path, "encoders.text.%s", f[k].key);
    if (f[k].on && !check_int (path, f[k].v, 1, f[k].hi, error))
      return FALSE;
  }
  if (!e->use_ae && !e->use_ms && !e->use_sal) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "encoders.text: at least one of use_ae, use_ms, use_sal must "
                 "be true");
    return FALSE;
  }
  if (!mmdnn_text_encoder_config_check (e, error)) {
    g_prefix_error (error, "encoders.text: ");
    return FALSE;
  }
  return TRUE;
}

static int64_t
encoder_tokens (const MmdnnModelConfig *c, int m)
{
  if (m == MMDNN_MODALITY_VIDEO)
    return c->video.grid_h * c->video.grid_w;
  if (m == MMDNN_MODALITY_AUDIO)
    return c->audio.grid_h * c->audio.grid_w;
  return c->text.max_tokens;
}

static int64_t
encoder_dim (const MmdnnModelConfig *c, int m)
{
  return m == 0 ? c->video.dim : m == 1 ? c->audio.dim : c->text.dim;
}

/* The sub-configs of a present modality must describe one pipeline: what
 * preprocessing produces is what the encoder takes, and what the encoder
 * produces is what the fusion takes. An absent modality's sections are
 * inert (kept so a file round-trips) and only range-checked. */
static gboolean
check_consistency (const MmdnnModelConfig *c, GError **error)
{
  if (c->has[MMDNN_MODALITY_VIDEO]
      && (!check_equal ("encoders.video.channels", c->video.channels,
                        "preprocessing.video.channels",
                        c->video_prep.channels, error)
          || !check_equal ("encoders.video.height", c->video.height,
                           "preprocessing.video.height", c->video_prep.height,
                           error)
          || !check_equal ("encoders.video.width", c->video.width,
                           "preprocessing.video.width", c->video_prep.width,
                           error)))
    return FALSE;
  if (c->has[MMDNN_MODALITY_AUDIO]
      && (!check_equal ("encoders.audio.channels", c->audio.channels,
                        "1 (a log-mel patch has one channel): channels",
                        1, error)
          || !check_equal ("encoders.audio.height", c->audio.height,
                           "preprocessing.audio.n_mels", c->logmel.n_mels,
                           error)
          || !check_equal ("encoders.audio.width", c->audio.width,
                           "preprocessing.audio.patch_frames",
                           c->audio_patch_frames, error)))
    return FALSE;
  if (c->has[MMDNN_MODALITY_TEXT]
      && (!check_equal ("encoders.text.buckets", c->text.buckets,
                        "preprocessing.text.buckets", c->text_prep.buckets,
                        error)
          || !check_equal ("encoders.text.max_tokens", c->text.max_tokens,
                           "preprocessing.text.max_tokens",
                           c->text_prep.max_tokens, error)
          || !check_equal ("encoders.text.ids_per_token",
                           c->text.ids_per_token,
                           "preprocessing.text.max_ids_per_token",
                           c->text_prep.max_ids_per_token, error)))
    return FALSE;
  for (int m = 0; m < N_MOD; m++) {
    char p1[48], p2[48];
    if (!c->has[m])
      continue;
    g_snprintf (p1, sizeof p1, "encoders.%s.dim", mod_names[m]);
    if (!check_equal (p1, encoder_dim (c, m), "fusion.dim", c->fusion.dim,
                      error))
      return FALSE;
    g_snprintf (p1, sizeof p1, "fusion.tokens.%s", mod_names[m]);
    g_snprintf (p2, sizeof p2, "the token count of encoders.%s",
                mod_names[m]);
    if (!check_equal (p1, c->fusion.tokens[m], p2, encoder_tokens (c, m),
                      error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
check_optim (const MmdnnModelConfig *c, GError **error)
{
  const MmdnnOptimConfig *o = &c->optim;

  if (o->kind != MMDNN_OPTIM_SGD && o->kind != MMDNN_OPTIM_ADAMW) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "optim.kind = %d: must be \"sgd\" or \"adamw\"",
                 (int) o->kind);
    return FALSE;
  }
  if (!GE0 ("optim.lr", o->lr) || !GE0 ("optim.weight_decay", o->weight_decay)
      || !GE0 ("optim.momentum", o->momentum))
    return FALSE;
  if (o->kind == MMDNN_OPTIM_ADAMW
      && (!check_real ("optim.beta1", o->beta1, 0.0, FALSE, 1.0, TRUE, error)
          || !check_real ("optim.beta2", o->beta2, 0.0, FALSE, 1.0, TRUE, error)
          || !GT0 ("optim.eps", o->eps)))
    return FALSE;
  if (o->nesterov && (o->kind != MMDNN_OPTIM_SGD || o->momentum <= 0.0f)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "optim.nesterov = true: only for kind \"sgd\" with "
                 "momentum > 0 (kind %s, momentum %g)",
                 o->kind == MMDNN_OPTIM_SGD ? "sgd" : "adamw",
                 (double) o->momentum);
    return FALSE;
  }
  if (!GE0 ("optim.clip_norm", c->clip_norm)
      || !check_int ("optim.total_steps", c->total_steps, 1, MAX_STEPS, error)
      || !check_int ("optim.warmup_steps", c->warmup_steps, 0, c->total_steps,
                     error)
      || !check_real ("optim.min_lr", c->min_lr, 0.0, FALSE, o->lr, FALSE,
                      error))
    return FALSE;
  return TRUE;
}

gboolean
mmdnn_model_config_check (const MmdnnModelConfig *c, GError **error)
{
  MMDNN_CHECK_NOT_NULL (c, error, FALSE);

  if (!check_label ("model_id", "the model id", c->model_id, MAX_ID_BYTES,
                    error))
    return FALSE;
  if (!c->has[0] && !c->has[1] && !c->has[2]) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "modalities: at least one of \"video\", \"audio\", \"text\" "
                 "is required");
    return FALSE;
  }

  if (!check_video_prep (&c->video_prep, error) || !check_logmel (c, error))
    return FALSE;
  if (!check_int ("preprocessing.text.buckets", c->text_prep.buckets, 1,
                  G_MAXINT32, error)
      || !check_int ("preprocessing.text.max_tokens", c->text_prep.max_tokens,
                     1, MMDNN_TEXT_MAX_SIZE, error)
      || !check_int ("preprocessing.text.max_ids_per_token",
                     c->text_prep.max_ids_per_token, 1, MMDNN_TEXT_MAX_SIZE,
                     error))
    return FALSE;

  if (!check_image_encoder ("video", &c->video, error)
      || !check_image_encoder ("audio", &c->audio, error)
      || !check_text_encoder (&c->text, error))
    return FALSE;

  if (!check_int ("fusion.dim", c->fusion.dim, 1, MAX_WIDTH, error)
      || !check_int ("fusion.attn_hidden", c->fusion.attn_hidden, 1,
                     MAX_WIDTH, error)
      || !check_int ("fusion.tokens.video", c->fusion.tokens[0], 1,
                     MAX_TOKENS, error)
      || !check_int ("fusion.tokens.audio", c->fusion.tokens[1], 1,
                     MAX_TOKENS, error)
      || !check_int ("fusion.tokens.text", c->fusion.tokens[2], 1, MAX_TOKENS,
                     error)
      || !GT0 ("fusion.tau", c->fusion.tau))
    return FALSE;
  if (!mmdnn_fusion_config_check (&c->fusion, error)) {
    g_prefix_error (error, "fusion: ");
    return FALSE;
  }
  if (!check_consistency (c, error))
    return FALSE;

  if (c->n_tasks < 1 || c->n_tasks > MMDNN_MAX_TASKS) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "tasks: %d tasks, a model needs 1 to %d", c->n_tasks,
                 MMDNN_MAX_TASKS);
    return FALSE;
  }
  for (int t = 0; t < c->n_tasks; t++) {
    const MmdnnTask *task = &c->tasks[t];
    char path[32];
    g_snprintf (path, sizeof path, "tasks[%d]", t);
    if (!check_task_parts (path, task->name,
                           (const char *const *) task->classes, task->weight,
                           error))
      return FALSE;
    if (task->n_classes != (int64_t) g_strv_length (task->classes)) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                   "%s: n_classes = %" G_GINT64_FORMAT " but %u class names "
                   "are given", path, task->n_classes,
                   g_strv_length (task->classes));
      return FALSE;
    }
    for (int u = 0; u < t; u++)
      if (strcmp (c->tasks[u].name, task->name) == 0) {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                     "%s.name = \"%s\": duplicate task name (also tasks[%d])",
                     path, task->name, u);
        return FALSE;
      }
  }

  if (!GE0 ("loss.w_aux", c->w_aux) || !GE0 ("loss.w_recon", c->w_recon)
      || !GE0 ("loss.w_adv", c->w_adv)
      || !GE0 ("loss.grl_lambda", c->grl_lambda)
      || !check_int ("loss.disc_hidden", c->disc_hidden, 1, MAX_WIDTH, error)
      || !GE0 ("loss.w_nce", c->w_nce) || !GT0 ("loss.nce_tau", c->nce_tau))
    return FALSE;

  if (!GE0 ("virtual_data.mixup_alpha", c->mixup_alpha)
      || !P01 ("virtual_data.p_recombine", c->p_recombine)
      || !P01 ("virtual_data.p_modality_dropout", c->p_modality_dropout)
      || !P01 ("virtual_data.p_latent", c->p_latent)
      || !GE0 ("virtual_data.latent_noise", c->latent_noise))
    return FALSE;

  return check_optim (c, error);
}

/* ---------------------------------------------------------------- schema
 *
 * One row per scalar key: its section, name, type and where it lives in
 * MmdnnModelConfig. Sections are written in this order; keys within a
 * section in table order. */

typedef enum {
  F_INT,        /* int64_t                                     */
  F_FLOAT,      /* float                                       */
  F_BOOL,       /* gboolean                                    */
  F_FLOAT3,     /* float[3] as an array of 3 numbers           */
  F_TOKENS,     /* int64_t[3] as {"video": .., "audio": .., "text": ..} */
  F_MELSCALE,   /* MmdnnMelScale as "slaney" | "htk"            */
  F_OPTKIND,    /* MmdnnOptimKind as "sgd" | "adamw"            */
} FieldType;

typedef struct {
  const char *section;    /* "preprocessing.video", "loss", ... */
  const char *key;
  FieldType   type;
  size_t      offset;
} Field;

#define OFF(member) offsetof (MmdnnModelConfig, member)
#define IMAGE_ENCODER_FIELDS(sec, e)                                           \
  { sec, "channels", F_INT, OFF (e.channels) },                                \
  { sec, "height", F_INT, OFF (e.height) },                                    \
  { sec, "width", F_INT, OFF (e.width) },                                      \
  { sec, "grid_h", F_INT, OFF (e.grid_h) },                                    \
  { sec, "grid_w", F_INT, OFF (e.grid_w) },                                    \
  { sec, "dim", F_INT, OFF (e.dim) },                                          \
  { sec, "use_ae", F_BOOL, OFF (e.use_ae) },                                   \
  { sec, "use_ms", F_BOOL, OFF (e.use_ms) },                                   \
  { sec, "use_sal", F_BOOL, OFF (e.use_sal) },                                 \
  { sec, "ae_width", F_INT, OFF (e.ae_width) },                                \
  { sec, "ae_latent", F_INT, OFF (e.ae_latent) },                              \
  { sec, "ms_width", F_INT, OFF (e.ms_width) },                                \
  { sec, "ms_width2", F_INT, OFF (e.ms_width2) },                              \
  { sec, "ms_width3", F_INT, OFF (e.ms_width3) },                              \
  { sec, "sal_width", F_INT, OFF (e.sal_width) }

static const Field fields[] = {
  { "preprocessing.video", "channels", F_INT, OFF (video_prep.channels) },
  { "preprocessing.video", "height", F_INT, OFF (video_prep.height) },
  { "preprocessing.video", "width", F_INT, OFF (video_prep.width) },
  { "preprocessing.video", "mean", F_FLOAT3, OFF (video_prep.mean) },
  { "preprocessing.video", "std", F_FLOAT3, OFF (video_prep.std) },

  { "preprocessing.audio", "sample_rate", F_INT, OFF (logmel.sample_rate) },
  { "preprocessing.audio", "win_length", F_INT, OFF (logmel.win_length) },
  { "preprocessing.audio", "hop_length", F_INT, OFF (logmel.hop_length) },
  { "preprocessing.audio", "n_fft", F_INT, OFF (logmel.n_fft) },
  { "preprocessing.audio", "n_mels", F_INT, OFF (logmel.n_mels) },
  { "preprocessing.audio", "fmin", F_FLOAT, OFF (logmel.fmin) },
  { "preprocessing.audio", "fmax", F_FLOAT, OFF (logmel.fmax) },
  { "preprocessing.audio", "log_floor", F_FLOAT, OFF (logmel.log_floor) },
  { "preprocessing.audio", "mel_scale", F_MELSCALE, OFF (logmel.scale) },
  { "preprocessing.audio", "patch_frames", F_INT, OFF (audio_patch_frames) },

  { "preprocessing.text", "buckets", F_INT, OFF (text_prep.buckets) },
  { "preprocessing.text", "max_tokens", F_INT, OFF (text_prep.max_tokens) },
  { "preprocessing.text", "max_ids_per_token", F_INT,
    OFF (text_prep.max_ids_per_token) },

  IMAGE_ENCODER_FIELDS ("encoders.video", video),
  IMAGE_ENCODER_FIELDS ("encoders.audio", audio),

  { "encoders.text", "buckets", F_INT, OFF (text.buckets) },
  { "encoders.text", "max_tokens", F_INT, OFF (text.max_tokens) },
  { "encoders.text", "ids_per_token", F_INT, OFF (text.ids_per_token) },
  { "encoders.text", "embed", F_INT, OFF (text.embed) },
  { "encoders.text", "dim", F_INT, OFF (text.dim) },
  { "encoders.text", "use_ae", F_BOOL, OFF (text.use_ae) },
  { "encoders.text", "use_ms", F_BOOL, OFF (text.use_ms) },
  { "encoders.text", "use_sal", F_BOOL, OFF (text.use_sal) },
  { "encoders.text", "ae_latent", F_INT, OFF (text.ae_latent) },
  { "encoders.text", "ms_width", F_INT, OFF (text.ms_width) },
  { "encoders.text", "ms_width2", F_INT, OFF (text.ms_width2) },
  { "encoders.text", "sal_width", F_INT, OFF (text.sal_width) },

  { "fusion", "dim", F_INT, OFF (fusion.dim) },
  { "fusion", "tokens", F_TOKENS, OFF (fusion.tokens) },
  { "fusion", "attn_hidden", F_INT, OFF (fusion.attn_hidden) },
  { "fusion", "tau", F_FLOAT, OFF (fusion.tau) },

  { "loss", "w_aux", F_FLOAT, OFF (w_aux) },
  { "loss", "w_recon", F_FLOAT, OFF (w_recon) },
  { "loss", "w_adv", F_FLOAT, OFF (w_adv) },
  { "loss", "grl_lambda", F_FLOAT, OFF (grl_lambda) },
  { "loss", "disc_hidden", F_INT, OFF (disc_hidden) },
  { "loss", "w_nce", F_FLOAT, OFF (w_nce) },
  { "loss", "nce_tau", F_FLOAT, OFF (nce_tau) },

  { "virtual_data", "mixup_alpha", F_FLOAT, OFF (mixup_alpha) },
  { "virtual_data", "p_recombine", F_FLOAT, OFF (p_recombine) },
  { "virtual_data", "p_modality_dropout", F_FLOAT, OFF (p_modality_dropout) },
  { "virtual_data", "p_latent", F_FLOAT, OFF (p_latent) },
  { "virtual_data", "latent_noise", F_FLOAT, OFF (latent_noise) },

  { "optim", "kind", F_OPTKIND, OFF (optim.kind) },
  { "optim", "lr", F_FLOAT, OFF (optim.lr) },
  { "optim", "momentum", F_FLOAT, OFF (optim.momentum) },
  { "optim", "nesterov", F_BOOL, OFF (optim.nesterov) },
  { "optim", "beta1", F_FLOAT, OFF (optim.beta1) },
  { "optim", "beta2", F_FLOAT, OFF (optim.beta2) },
  { "optim", "eps", F_FLOAT, OFF (optim.eps) },
  { "optim", "weight_decay", F_FLOAT, OFF (optim.weight_decay) },
  { "optim", "clip_norm", F_FLOAT, OFF (clip_norm) },
  { "optim", "warmup_steps", F_INT, OFF (warmup_steps) },
  { "optim", "total_steps", F_INT, OFF (total_steps) },
  { "optim", "min_lr", F_FLOAT, OFF (min_lr) },
};

/* Section objects in output order; "preprocessing" and "encoders" hold
 * sub-sections. */
static const char *const top_keys[] = {
  "format_version", "model_id", "modalities", "preprocessing", "encoders",
  "fusion", "tasks", "loss", "virtual_data", "optim", NULL
};
static const char *const sub_sections[] = { "video", "audio", "text", NULL };

#define AT(c, f, T) ((T *) (void *) ((char *) (c) + (f)->offset))

/* ---------------------------------------------------------------- to_json */

static void
add_float (JsonBuilder *b, float v)
{
  json_builder_add_double_value (b, mmdnn_json_float (v));
}

static void
build_section (JsonBuilder *b, const MmdnnModelConfig *c, const char *section)
{
  json_builder_begin_object (b);
  for (size_t k = 0; k < G_N_ELEMENTS (fields); k++) {
    const Field *f = &fields[k];
    if (strcmp (f->section, section) != 0)
      continue;
    json_builder_set_member_name (b, f->key);
    switch (f->type) {
      case F_INT:
        json_builder_add_int_value (b, *AT (c, f, const int64_t));
        break;
      case F_FLOAT:
        add_float (b, *AT (c, f, const float));
        break;
      case F_BOOL:
        json_builder_add_boolean_value (b, *AT (c, f, const gboolean));
        break;
      case F_FLOAT3:
        json_builder_begin_array (b);
        for (int i = 0; i < 3; i++)
          add_float (b, AT (c, f, const float)[i]);
        json_builder_end_array (b);
        break;
      case F_TOKENS:
        json_builder_begin_object (b);
        for (int m = 0; m < N_MOD; m++) {
          json_builder_set_member_name (b, mod_names[m]);
          json_builder_add_int_value (b, AT (c, f, const int64_t)[m]);
        }
        json_builder_end_object (b);
        break;
      case F_MELSCALE:
        json_builder_add_string_value (b, *AT (c, f, const MmdnnMelScale)
                                       == MMDNN_MEL_HTK ? "htk" : "slaney");
        break;
      case F_OPTKIND:
        json_builder_add_string_value (b, *AT (c, f, const MmdnnOptimKind)
                                       == MMDNN_OPTIM_SGD ? "sgd" : "adamw");
        break;
    }
  }
  json_builder_end_object (b);
}

char *
mmdnn_model_config_to_json (const MmdnnModelConfig *c)
{
  JsonBuilder *b;
  JsonNode *root;
  char *s;

  g_return_val_if_fail (c != NULL, NULL);
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format_version");
  json_builder_add_int_value (b, MMDNN_MODEL_FORMAT_VERSION);
  json_builder_set_member_name (b, "model_id");
  json_builder_add_string_value (b, c->model_id ? c->model_id : "");
  json_builder_set_member_name (b, "modalities");
  json_builder_begin_array (b);
  for (int m = 0; m < N_MOD; m++)
    if (c->has[m])
      json_builder_add_string_value (b, mod_names[m]);
  json_builder_end_array (b);

  json_builder_set_member_name (b, "preprocessing");
  json_builder_begin_object (b);
  for (int m = 0; m < N_MOD; m++) {
    char sec[48];
    g_snprintf (sec, sizeof sec, "preprocessing.%s", mod_names[m]);
    json_builder_set_member_name (b, mod_names[m]);
    build_section (b, c, sec);
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "encoders");
  json_builder_begin_object (b);
  for (int m = 0; m < N_MOD; m++) {
    char sec[48];
    g_snprintf (sec, sizeof sec, "encoders.%s", mod_names[m]);
    json_builder_set_member_name (b, mod_names[m]);
    build_section (b, c, sec);
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "fusion");
  build_section (b, c, "fusion");

  json_builder_set_member_name (b, "tasks");
  json_builder_begin_array (b);
  for (int t = 0; t < c->n_tasks && t < MMDNN_MAX_TASKS; t++) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, c->tasks[t].name ? c->tasks[t].name : "");
    json_builder_set_member_name (b, "classes");
    json_builder_begin_array (b);
    for (char **k = c->tasks[t].classes; k && *k; k++)
      json_builder_add_string_value (b, *k);
    json_builder_end_array (b);
    json_builder_set_member_name (b, "weight");
    add_float (b, c->tasks[t].weight);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "loss");
  build_section (b, c, "loss");
  json_builder_set_member_name (b, "virtual_data");
  build_section (b, c, "virtual_data");
  json_builder_set_member_name (b, "optim");
  build_section (b, c, "optim");
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  s = mmdnn_json_to_string (root);
  json_node_unref (root);
  g_object_unref (b);
  return s;
}

/* ---------------------------------------------------------------- from_json */

static const char *
node_kind (JsonNode *n)
{
  GType t;

  if (JSON_NODE_HOLDS_OBJECT (n))
    return "an object";
  if (JSON_NODE_HOLDS_ARRAY (n))
    return "an array";
  if (JSON_NODE_HOLDS_NULL (n))
    return "null";
  t = json_node_get_value_type (n);
  if (t == G_TYPE_STRING)
    return "a string";
  if (t == G_TYPE_BOOLEAN)
    return "a boolean";
  if (t == G_TYPE_INT64)
    return "an integer";
  return "a number";
}

static gboolean
type_error (const char *path, const char *expected, JsonNode *n,
            GError **error)
{
  g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
               "%s: expected %s, got %s", path, expected, node_kind (n));
  return FALSE;
}

static gboolean
is_number (JsonNode *n)
{
  return JSON_NODE_HOLDS_VALUE (n)
      && (json_node_get_value_type (n) == G_TYPE_INT64
          || json_node_get_value_type (n) == G_TYPE_DOUBLE);
}

/* Integers may be written 64 or 64.0 or 6.4e1 (a hand-written "1e4"
 * steps), but not 64.5. */
static gboolean
read_int (const char *path, JsonNode *n, int64_t *out, GError **error)
{
  double d;

  if (!is_number (n))
    return type_error (path, "an integer", n, error);
  if (json_node_get_value_type (n) == G_TYPE_INT64) {
    *out = json_node_get_int (n);
    return TRUE;
  }
  d = json_node_get_double (n);
  if (!isfinite (d) || d != floor (d) || fabs (d) > 9.0e18) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "%s: expected an integer, got %g", path, d);
    return FALSE;
  }
  *out = (int64_t) d;
  return TRUE;
}

static gboolean
read_float (const char *path, JsonNode *n, float *out, GError **error)
{
  double d;

  if (!is_number (n))
    return type_error (path, "a number", n, error);
  d = json_node_get_value_type (n) == G_TYPE_INT64
      ? (double) json_node_get_int (n) : json_node_get_double (n);
  if (!isfinite (d) || fabs (d) > FLT_MAX) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "%s = %g: out of the range of a 32-bit float", path, d);
    return FALSE;
  }
  *out = (float) d;
  return TRUE;
}

static gboolean
read_string (const char *path, JsonNode *n, const char **out, GError **error)
{
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return type_error (path, "a string", n, error);
  *out = json_node_get_string (n);
  return TRUE;
}

static gboolean
unknown_key (const char *path, const char *key, const char *const *allowed,
             GError **error)
{
  GString *s = g_string_new (NULL);

  for (int i = 0; allowed[i]; i++)
    g_string_append_printf (s, "%s%s", i ? ", " : "", allowed[i]);
  g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
               "%s%s%s: unknown key (allowed here: %s)", path,
               path[0] ? "." : "", key, s->str);
  g_string_free (s, TRUE);
  return FALSE;
}

typedef struct {
  GHashTable *given;    /* key paths present in the input */
} Parse;

static gboolean
given (const Parse *p, const char *path)
{
  return g_hash_table_contains (p->given, path);
}

static gboolean
read_field (Parse *p, MmdnnModelConfig *c, const Field *f, JsonNode *n,
            const char *path, GError **error)
{
  const char *s;

  g_hash_table_add (p->given, g_strdup (path));
  switch (f->type) {
    case F_INT:
      return read_int (path, n, AT (c, f, int64_t), error);
    case F_FLOAT:
      return read_float (path, n, AT (c, f, float), error);
    case F_BOOL:
      if (!JSON_NODE_HOLDS_VALUE (n)
          || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
        return type_error (path, "true or false", n, error);
      *AT (c, f, gboolean) = json_node_get_boolean (n);
      return TRUE;
    case F_FLOAT3: {
      JsonArray *a;
      if (!JSON_NODE_HOLDS_ARRAY (n))
        return type_error (path, "an array of 3 numbers", n, error);
      a = json_node_get_array (n);
      if (json_array_get_length (a) != 3) {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                     "%s: expected an array of 3 numbers (R, G, B), got %u "
                     "elements", path, json_array_get_length (a));
        return FALSE;
      }
      for (guint i = 0; i < 3; i++) {
        char *sub = g_strdup_printf ("%s[%u]", path, i);
        gboolean ok = read_float (sub, json_array_get_element (a, i),
                                  AT (c, f, float) + i, error);
        g_free (sub);
        if (!ok)
          return FALSE;
      }
      return TRUE;
    }
    case F_TOKENS: {
      JsonObject *o;
      GList *members;
      gboolean ok = TRUE;
      if (!JSON_NODE_HOLDS_OBJECT (n))
        return type_error (path, "an object {\"video\": K, \"audio\": K, "
                           "\"text\": K}", n, error);
      o = json_node_get_object (n);
      members = json_object_get_members (o);
      for (GList *l = members; ok && l; l = l->next) {
        int m = 0;
        char *sub;
        while (m < N_MOD && strcmp (mod_names[m], l->data) != 0)
          m++;
        if (m == N_MOD) {
          ok = unknown_key (path, l->data, sub_sections, error);
          break;
        }
        sub = g_strdup_printf ("%s.%s", path, mod_names[m]);
        g_hash_table_add (p->given, g_strdup (sub));
        ok = read_int (sub, json_object_get_member (o, l->data),
                       AT (c, f, int64_t) + m, error);
        g_free (sub);
      }
      g_list_free (members);
      return ok;
    }
    case F_MELSCALE:
      if (!read_string (path, n, &s, error))
        return FALSE;
      if (strcmp (s, "slaney") == 0)
        *AT (c, f, MmdnnMelScale) = MMDNN_MEL_SLANEY;
      else if (strcmp (s, "htk") == 0)
        *AT (c, f, MmdnnMelScale) = MMDNN_MEL_HTK;
      else {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                     "%s = \"%s\": must be \"slaney\" or \"htk\"", path, s);
        return FALSE;
      }
      return TRUE;
    case F_OPTKIND:
      if (!read_string (path, n, &s, error))
        return FALSE;
      if (strcmp (s, "sgd") == 0)
        *AT (c, f, MmdnnOptimKind) = MMDNN_OPTIM_SGD;
      else if (strcmp (s, "adamw") == 0)
        *AT (c, f, MmdnnOptimKind) = MMDNN_OPTIM_ADAMW;
      else {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                     "%s = \"%s\": must be \"sgd\" or \"adamw\"", path, s);
        return FALSE;
      }
      return TRUE;
  }
  return FALSE;
}

/* One object of scalar keys, the section @section of the table. */
static gboolean
read_section (Parse *p, MmdnnModelConfig *c, const char *section, JsonNode *n,
              GError **error)
{
  JsonObject *o;
  GList *members;
  GPtrArray *allowed;
  gboolean ok = TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (n))
    return type_error (section, "an object", n, error);
  allowed = g_ptr_array_new ();
  for (size_t k = 0; k < G_N_ELEMENTS (fields); k++)
    if (strcmp (fields[k].section, section) == 0)
      g_ptr_array_add (allowed, (gpointer) fields[k].key);
  g_ptr_array_add (allowed, NULL);

  o = json_node_get_object (n);
  members = json_object_get_members (o);
  for (GList *l = members; ok && l; l = l->next) {
    const Field *f = NULL;
    char *path;
    for (size_t k = 0; k < G_N_ELEMENTS (fields) && f == NULL; k++)
      if (strcmp (fields[k].section, section) == 0
          && strcmp (fields[k].key, l->data) == 0)
        f = &fields[k];
    if (f == NULL) {
      ok = unknown_key (section, l->data,
                        (const char *const *) allowed->pdata, error);
      break;
    }
    path = g_strdup_printf ("%s.%s", section, f->key);
    ok = read_field (p, c, f, json_object_get_member (o, l->data), path,
                     error);
    g_free (path);
  }
  g_list_free (members);
  g_ptr_array_free (allowed, TRUE);
  return ok;
}

/* "preprocessing" and "encoders": objects of the three modality sections */
static gboolean
read_group (Parse *p, MmdnnModelConfig *c, const char *group, JsonNode *n,
            GError **error)
{
  JsonObject *o;
  GList *members;
  gboolean ok = TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (n))
    return type_error (group, "an object", n, error);
  o = json_node_get_object (n);
  members = json_object_get_members (o);
  for (GList *l = members; ok && l; l = l->next) {
    char *sec;
    if (!g_strv_contains (sub_sections, l->data)) {
      ok = unknown_key (group, l->data, sub_sections, error);
      break;
    }
    sec = g_strdup_printf ("%s.%s", group, (const char *) l->data);
    ok = read_section (p, c, sec, json_object_get_member (o, l->data), error);
    g_free (sec);
  }
  g_list_free (members);
  return ok;
}

static gboolean
read_modalities (MmdnnModelConfig *c, JsonNode *n, GError **error)
{
  JsonArray *a;
  gboolean has[N_MOD] = { FALSE, FALSE, FALSE };

  if (!JSON_NODE_HOLDS_ARRAY (n))
    return type_error ("modalities", "an array of \"video\", \"audio\", "
                       "\"text\"", n, error);
  a = json_node_get_array (n);
  for (guint i = 0; i < json_array_get_length (a); i++) {
    char path[32];
    const char *s;
    int m = 0;
    g_snprintf (path, sizeof path, "modalities[%u]", i);
    if (!read_string (path, json_array_get_element (a, i), &s, error))
      return FALSE;
    while (m < N_MOD && strcmp (mod_names[m], s) != 0)
      m++;
    if (m == N_MOD) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                   "%s = \"%s\": must be \"video\", \"audio\" or \"text\"",
                   path, s);
      return FALSE;
    }
    if (has[m]) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                   "%s = \"%s\": listed twice", path, s);
      return FALSE;
    }
    has[m] = TRUE;
  }
  for (int m = 0; m < N_MOD; m++)
    c->has[m] = has[m];
  return TRUE;
}

static gboolean
read_tasks (MmdnnModelConfig *c, JsonNode *n, GError **error)
{
  static const char *const task_keys[] = { "name", "classes", "weight", NULL };
  JsonArray *a;
  guint len;

  if (!JSON_NODE_HOLDS_ARRAY (n))
    return type_error ("tasks", "an array of task objects", n, error);
  a = json_node_get_array (n);
  len = json_array_get_length (a);
  if (len < 1 || len > MMDNN_MAX_TASKS) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "tasks: %u tasks, a model needs 1 to %d", len,
                 MMDNN_MAX_TASKS);
    return FALSE;
  }
  for (int t = 0; t < c->n_tasks; t++)
    task_clear (&c->tasks[t]);
  c->n_tasks = 0;

  for (guint i = 0; i < len; i++) {
    JsonNode *tn = json_array_get_element (a, i);
    JsonObject *o;
    GList *members;
    const char *name = NULL;
    GPtrArray *classes;
    float weight = 1.0f;
    gboolean ok = TRUE, have_classes = FALSE;
    char path[48];

    g_snprintf (path, sizeof path, "tasks[%u]", i);
    if (!JSON_NODE_HOLDS_OBJECT (tn))
      return type_error (path, "an object {\"name\", \"classes\", \"weight\"}",
                         tn, error);
    o = json_node_get_object (tn);
    classes = g_ptr_array_new ();
    members = json_object_get_members (o);
    for (GList *l = members; ok && l; l = l->next) {
      JsonNode *v = json_object_get_member (o, l->data);
      char *sub = g_strdup_printf ("%s.%s", path, (const char *) l->data);
      if (strcmp (l->data, "name") == 0) {
        ok = read_string (sub, v, &name, error);
      } else if (strcmp (l->data, "weight") == 0) {
        ok = read_float (sub, v, &weight, error);
      } else if (strcmp (l->data, "classes") == 0) {
        have_classes = TRUE;
        if (!JSON_NODE_HOLDS_ARRAY (v)) {
          ok = type_error (sub, "an array of class names", v, error);
        } else {
          JsonArray *ca = json_node_get_array (v);
          for (guint k = 0; ok && k < json_array_get_length (ca); k++) {
            char *csub = g_strdup_printf ("%s[%u]", sub, k);
            const char *cls;
            ok = read_string (csub, json_array_get_element (ca, k), &cls,
                              error);
            if (ok)
              g_ptr_array_add (classes, (gpointer) cls);
            g_free (csub);
          }
        }
      } else {
        ok = unknown_key (path, l->data, task_keys, error);
      }
      g_free (sub);
    }
    g_list_free (members);
    if (ok && (name == NULL || !have_classes)) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                   "%s: a task needs \"name\" and \"classes\"", path);
      ok = FALSE;
    }
    g_ptr_array_add (classes, NULL);
    if (ok)
      ok = mmdnn_model_config_set_task (c, (int) i, name,
                                        (const char *const *) classes->pdata,
                                        weight, error);
    g_ptr_array_free (classes, TRUE);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

/* json-glib keeps the last of duplicate members silently; a config with
 * "lr" twice is almost certainly a mistake, so it is refused. Members are
 * reported as they are parsed; (object, name) pairs identify them. */
typedef struct {
  GHashTable *seen;
  char       *dup;      /* the first duplicate name */
} DupCheck;

static void
on_object_member (JsonParser *parser, JsonObject *object, const char *name,
                  gpointer user_data)
{
  DupCheck *d = user_data;
  char *key = g_strdup_printf ("%p/%s", (void *) object, name);

  if (!g_hash_table_add (d->seen, key) && d->dup == NULL)
    d->dup = g_strdup (name);
}

/* Missing keys that must agree with another key take that key's value
 * rather than the built-in default, so {"fusion": {"dim": 64}} or a
 * smaller preprocessing.video size alone gives a consistent model. */
static void
derive_missing (const Parse *p, MmdnnModelConfig *c)
{
  MmdnnImageEncoderConfig *img[2] = { &c->video, &c->audio };
  int64_t in[2][3] = {
    { c->video_prep.channels, c->video_prep.height, c->video_prep.width },
    { 1, c->logmel.n_mels, c->audio_patch_frames },
  };
  static const char *const in_keys[3] = { "channels", "height", "width" };

  for (int m = 0; m < 2; m++)
    for (int k = 0; k < 3; k++) {
      char path[48];
      int64_t *dst = k == 0 ? &img[m]->channels
          : k == 1 ? &img[m]->height : &img[m]->width;
      g_snprintf (path, sizeof path, "encoders.%s.%s", mod_names[m],
                  in_keys[k]);
      if (!given (p, path))
        *dst = in[m][k];
    }
  if (!given (p, "encoders.text.buckets"))
    c->text.buckets = c->text_prep.buckets;
  if (!given (p, "encoders.text.max_tokens"))
    c->text.max_tokens = c->text_prep.max_tokens;
  if (!given (p, "encoders.text.ids_per_token"))
    c->text.ids_per_token = c->text_prep.max_ids_per_token;

  /* D: fusion.dim, else the first present modality's given encoder dim */
  if (!given (p, "fusion.dim")) {
    for (int m = 0; m < N_MOD; m++) {
      char path[48];
      g_snprintf (path, sizeof path, "encoders.%s.dim", mod_names[m]);
      if (c->has[m] && given (p, path)) {
        c->fusion.dim = encoder_dim (c, m);
        break;
      }
    }
  }
  for (int m = 0; m < N_MOD; m++) {
    char path[48];
    g_snprintf (path, sizeof path, "encoders.%s.dim", mod_names[m]);
    if (!given (p, path)) {
      if (m == 0)
        c->video.dim = c->fusion.dim;
      else if (m == 1)
        c->audio.dim = c->fusion.dim;
      else
        c->text.dim = c->fusion.dim;
    }
    g_snprintf (path, sizeof path, "fusion.tokens.%s", mod_names[m]);
    if (!given (p, path))
      c->fusion.tokens[m] = encoder_tokens (c, m);
  }
}

MmdnnModelConfig *
mmdnn_model_config_from_json (const char *json, gssize len, GError **error)
{
  JsonParser *parser;
  JsonNode *root;
  JsonObject *o;
  GList *members = NULL;
  MmdnnModelConfig *c = NULL;
  Parse p = { NULL };
  DupCheck dup = { NULL, NULL };
  GError *local = NULL;
  gboolean ok = TRUE;

  MMDNN_CHECK_NOT_NULL (json, error, NULL);
  MMDNN_CHECK (len >= -1, error, NULL,
               "mmdnn_model_config_from_json: len = %" G_GSSIZE_FORMAT
               " must be ≥ -1", len);
  if (len == -1)
    len = (gssize) strlen (json);
  if (!g_utf8_validate (json, len, NULL)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "model config: the JSON text is not valid UTF-8");
    return NULL;
  }
  /* json-glib recurses once per nesting level: 100 kB of "[" overflowed
   * the stack (tests/fuzz/regress/config/), from a config file or from the
   * metadata of any model file an element opens. It sees only strict JSON
   * of bounded depth, as a safetensors header does; that also stops
   * integers beyond int64 from wrapping silently. */
  if (!mmdnn_json_check_strict (json, (gsize) len, "text", FALSE, &local)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "model config: not valid JSON: %s", local->message);
    g_clear_error (&local);
    return NULL;
  }

  parser = json_parser_new ();
  dup.seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_signal_connect (parser, "object-member", G_CALLBACK (on_object_member),
                    &dup);
  if (!json_parser_load_from_data (parser, json, len, &local)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "model config: not valid JSON: %s", local->message);
    g_clear_error (&local);
    goto out;
  }
  if (dup.dup != NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT,
                 "model config: key \"%s\" appears twice in one object",
                 dup.dup);
    goto out;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "model config: the JSON text must be an object {...}, got %s",
                 root ? node_kind (root) : "nothing");
    goto out;
  }
  o = json_node_get_object (root);

  /* the version first: a newer file's other keys may mean other things */
  if (json_object_has_member (o, "format_version")) {
    int64_t v;
    if (!read_int ("format_version", json_object_get_member (o,
                                                             "format_version"),
                   &v, error))
      goto out;
    if (v > MMDNN_MODEL_FORMAT_VERSION) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                   "format_version = %" G_GINT64_FORMAT ": this config is "
                   "newer than this mmdnn understands (version %d); upgrade "
                   "mmdnn", v, MMDNN_MODEL_FORMAT_VERSION);
      goto out;
    }
    if (!check_int ("format_version", v, 1, MMDNN_MODEL_FORMAT_VERSION,
                    error))
      goto out;
  }

  c = mmdnn_model_config_new_default ();
  p.given = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  members = json_object_get_members (o);
  for (GList *l = members; ok && l; l = l->next) {
    const char *key = l->data;
    JsonNode *n = json_object_get_member (o, key);
    if (strcmp (key, "format_version") == 0) {
      continue;
    } else if (strcmp (key, "model_id") == 0) {
      const char *s;
      ok = read_string ("model_id", n, &s, error);
      if (ok) {
        g_free (c->model_id);
        c->model_id = g_strdup (s);
      }
    } else if (strcmp (key, "modalities") == 0) {
      ok = read_modalities (c, n, error);
    } else if (strcmp (key, "preprocessing") == 0
               || strcmp (key, "encoders") == 0) {
      ok = read_group (&p, c, key, n, error);
    } else if (strcmp (key, "tasks") == 0) {
      ok = read_tasks (c, n, error);
    } else if (strcmp (key, "fusion") == 0 || strcmp (key, "loss") == 0
               || strcmp (key, "virtual_data") == 0
               || strcmp (key, "optim") == 0) {
      ok = read_section (&p, c, key, n, error);
    } else {
      ok = unknown_key ("", key, top_keys, error);
    }
  }
  if (ok) {
    derive_missing (&p, c);
    ok = mmdnn_model_config_check (c, error);
  }
  if (!ok) {
    mmdnn_model_config_free (c);
    c = NULL;
  }

out:
  g_list_free (members);
  if (p.given)
    g_hash_table_unref (p.given);
  g_hash_table_unref (dup.seen);
  g_free (dup.dup);
  g_object_unref (parser);
  return c;
}
