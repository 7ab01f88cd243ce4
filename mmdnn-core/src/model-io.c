/* mmdnn — model and checkpoint files (safetensors, see model.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A model file is the parameter slab, one tensor per parameter under its
 * PyTorch name, plus metadata:
 *   "mmdnn.format_version"  "1"
 *   "mmdnn.model_id"        the config's model_id
 *   "mmdnn.config"          the config as JSON (docs/model-config.md)
 * A checkpoint adds, per parameter, the optimiser slabs at the parameter's
 * offset as "optim.m.<name>" (Adam's m or SGD's momentum buffer, when the
 * optimiser has one) and "optim.v.<name>" (Adam's v), and metadata
 *   "mmdnn.step"        optimiser steps the model took (drives the schedule)
 *   "mmdnn.optim_step"  the optimiser's own count (drives Adam's bias
 *                       correction and SGD's first step)
 *   "mmdnn.rng"         the generator: 4 state words, the Box–Muller flag
 *                       and the spare's IEEE bits, 16 hex digits each (the
 *                       flag 1 digit), ':'-separated — exact, unlike a
 *                       decimal float.
 * That is all the state a training step reads besides the batch, so a
 * resumed run continues bit for bit. The schedule and the arenas are
 * rebuilt from the config. */
#include <math.h>
#include <string.h>

#include <mmdnn/model.h>
#include <mmdnn/safetensors.h>
#include "internal.h"
#include "model-internal.h"

#define KEY_VERSION    "mmdnn.format_version"
#define KEY_ID         "mmdnn.model_id"
#define KEY_CONFIG     "mmdnn.config"
#define KEY_STEP       "mmdnn.step"
#define KEY_OPTIM_STEP "mmdnn.optim_step"
#define KEY_RNG        "mmdnn.rng"
#define PREFIX_M       "optim.m."
#define PREFIX_V       "optim.v."

/* ---------------------------------------------------------------- save */

static gboolean
check_model (const MmdnnModel *m, const char *path, GError **error)
{
  MMDNN_CHECK_NOT_NULL (m, error, FALSE);
  MMDNN_CHECK_NOT_NULL (path, error, FALSE);
  MMDNN_CHECK (m->config != NULL && m->params != NULL && m->params->allocated
               && m->optim != NULL, error, FALSE,
               "%s: the model is not fully built", G_STRFUNC);
  return TRUE;
}

static MmdnnSafetensorsWriter *
model_writer (const MmdnnModel *m, GError **error)
{
  MmdnnSafetensorsWriter *w = mmdnn_safetensors_writer_new ();
  char *json, version[16];

  if (!mmdnn_safetensors_writer_add_params (w, m->params, NULL, error)) {
    mmdnn_safetensors_writer_free (w);
    return NULL;
  }
  json = mmdnn_model_config_to_json (m->config);
  g_snprintf (version, sizeof version, "%d", MMDNN_MODEL_FORMAT_VERSION);
  mmdnn_safetensors_writer_set_metadata (w, KEY_VERSION, version);
  mmdnn_safetensors_writer_set_metadata (w, KEY_ID, m->config->model_id);
  mmdnn_safetensors_writer_set_metadata (w, KEY_CONFIG, json);
  g_free (json);
  return w;
}

gboolean
mmdnn_model_save (const MmdnnModel *m, const char *path, GError **error)
{
  MmdnnSafetensorsWriter *w;
  gboolean ok;

  if (!check_model (m, path, error))
    return FALSE;
  w = model_writer (m, error);
  if (w == NULL)
    return FALSE;
  ok = mmdnn_safetensors_writer_save (w, path, error);
  mmdnn_safetensors_writer_free (w);
  return ok;
}

static char *
rng_to_hex (const MmdnnRng *r)
{
  uint64_t spare;

  memcpy (&spare, &r->spare, sizeof spare);
  return g_strdup_printf ("%016" G_GINT64_MODIFIER "x:%016" G_GINT64_MODIFIER
                          "x:%016" G_GINT64_MODIFIER "x:%016"
                          G_GINT64_MODIFIER "x:%d:%016" G_GINT64_MODIFIER "x",
                          (guint64) r->s[0], (guint64) r->s[1],
                          (guint64) r->s[2], (guint64) r->s[3],
                          r->have_spare ? 1 : 0, (guint64) spare);
}

gboolean
mmdnn_model_save_checkpoint (const MmdnnModel *m, const char *path,
                             GError **error)
{
  MmdnnSafetensorsWriter *w;
  const MmdnnOptim *o;
  char buf[32], *rng;
  gboolean ok = TRUE;

  if (!check_model (m, path, error))
    return FALSE;
  o = m->optim;
  w = model_writer (m, error);
  if (w == NULL)
    return FALSE;
  for (guint i = 0; ok && i < m->params->params->len; i++) {
    const MmdnnParam *p = g_ptr_array_index (m->params->params, i);
    char *name;
    if (o->m != NULL) {
      name = g_strconcat (PREFIX_M, p->name, NULL);
      ok = mmdnn_safetensors_writer_add (w, name, p->ndim, p->shape,
                                         o->m + p->offset, error);
      g_free (name);
    }
    if (ok && o->v != NULL) {
      name = g_strconcat (PREFIX_V, p->name, NULL);
      ok = mmdnn_safetensors_writer_add (w, name, p->ndim, p->shape,
                                         o->v + p->offset, error);
      g_free (name);
    }
  }
  if (ok) {
    g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, m->step);
    mmdnn_safetensors_writer_set_metadata (w, KEY_STEP, buf);
    g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, o->step);
    mmdnn_safetensors_writer_set_metadata (w, KEY_OPTIM_STEP, buf);
    rng = rng_to_hex (&m->rng);
    mmdnn_safetensors_writer_set_metadata (w, KEY_RNG, rng);
    g_free (rng);
    ok = mmdnn_safetensors_writer_save (w, path, error);
  }
  mmdnn_safetensors_writer_free (w);
  return ok;
}

/* ---------------------------------------------------------------- load */

static gboolean
format_error (GError **error, const char *path, const char *what)
{
  g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT, "%s: %s", path, what);
  return FALSE;
}

static gboolean
parse_count (const MmdnnSafetensors *st, const char *path, const char *key,
             int64_t *out, GError **error)
{
  const char *s = mmdnn_safetensors_get_metadata (st, key);
  gint64 v;

  if (s == NULL
      || !g_ascii_string_to_signed (s, 10, 0, G_MAXINT64, &v, NULL)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: metadata \"%s\" = %s%s%s: expected a decimal integer "
                 "≥ 0", path, key, s ? "\"" : "", s ? s : "(missing)",
                 s ? "\"" : "");
    return FALSE;
  }
  *out = v;
  return TRUE;
}

static gboolean
parse_rng (const MmdnnSafetensors *st, const char *path, MmdnnRng *r,
           GError **error)
{
  const char *s = mmdnn_safetensors_get_metadata (st, KEY_RNG);
  char **parts = s ? g_strsplit (s, ":", -1) : NULL;
  guint64 w[6];
  gboolean ok = parts != NULL && g_strv_length (parts) == 6;

  for (int k = 0; ok && k < 6; k++) {
    size_t want = k == 4 ? 1 : 16;
    ok = strlen (parts[k]) == want
        && g_ascii_string_to_unsigned (parts[k], 16, 0, G_MAXUINT64, &w[k],
                                       NULL);
  }
  ok = ok && w[4] <= 1 && (w[0] | w[1] | w[2] | w[3]) != 0;
  if (ok) {
    for (int k = 0; k < 4; k++)
      r->s[k] = w[k];
    r->have_spare = w[4] == 1;
    memcpy (&r->spare, &w[5], sizeof r->spare);
    ok = isfinite (r->spare);
  }
  g_strfreev (parts);
  if (!ok)
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: metadata \"" KEY_RNG "\" = %s%s%s: expected 4 state "
                 "words (not all 0), a 0/1 flag and a finite double, as "
                 "hex \"%%016x:%%016x:%%016x:%%016x:%%d:%%016x\"", path,
                 s ? "\"" : "", s ? s : "(missing)", s ? "\"" : "");
  return ok;
}

/* tensor @name must exist with @p's shape; with @data NULL it must not
 * exist */
static gboolean
match_tensor (const MmdnnSafetensors *st, const char *path, const char *name,
              const MmdnnParam *p, const float **data, GError **error)
{
  int ndim;
  int64_t shape[MMDNN_MAX_DIMS];

  if (!mmdnn_safetensors_get (st, name, &ndim, shape, data)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_MISMATCH,
                 "%s: no tensor '%s' for parameter '%s'", path, name, p->name);
    return FALSE;
  }
  if (ndim != p->ndim
      || memcmp (shape, p->shape, sizeof (int64_t) * ndim) != 0) {
    GString *a = g_string_new ("("), *b = g_string_new ("(");
    for (int k = 0; k < ndim; k++)
      g_string_append_printf (a, "%s%" G_GINT64_FORMAT, k ? ", " : "",
                              shape[k]);
    for (int k = 0; k < p->ndim; k++)
      g_string_append_printf (b, "%s%" G_GINT64_FORMAT, k ? ", " : "",
                              p->shape[k]);
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_MISMATCH,
                 "%s: tensor '%s' has shape %s), parameter '%s' is %s)", path,
                 name, a->str, p->name, b->str);
    g_string_free (a, TRUE);
    g_string_free (b, TRUE);
    return FALSE;
  }
  return TRUE;
}

/* The metadata and the model it describes; the parameters are still the
 * random ones. */
static MmdnnModel *
open_model (const char *path, int64_t max_batch, MmdnnSafetensors **st_out,
            GError **error)
{
  MmdnnSafetensors *st;
  MmdnnModelConfig *c;
  MmdnnModel *m;
  const char *s, *id;
  gint64 version;
  GError *local = NULL;

  MMDNN_CHECK_NOT_NULL (path, error, NULL);
  st = mmdnn_safetensors_open (path, error);
  if (st == NULL)
    return NULL;
  s = mmdnn_safetensors_get_metadata (st, KEY_VERSION);
  if (s == NULL) {
    format_error (error, path, "not an mmdnn model file (the safetensors "
                  "metadata has no \"" KEY_VERSION "\")");
    goto fail;
  }
  if (!g_ascii_string_to_signed (s, 10, 1, G_MAXINT64, &version, NULL)) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: metadata \"" KEY_VERSION "\" = \"%s\" is not a "
                 "positive integer", path, s);
    goto fail;
  }
  if (version > MMDNN_MODEL_FORMAT_VERSION) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: written by a newer mmdnn (file format %" G_GINT64_FORMAT
                 "; this one reads up to %d)", path, version,
                 MMDNN_MODEL_FORMAT_VERSION);
    goto fail;
  }
  s = mmdnn_safetensors_get_metadata (st, KEY_CONFIG);
  if (s == NULL) {
    format_error (error, path, "no \"" KEY_CONFIG "\" metadata");
    goto fail;
  }
  c = mmdnn_model_config_from_json (s, -1, &local);
  if (c == NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: bad \"" KEY_CONFIG "\": %s", path, local->message);
    g_clear_error (&local);
    goto fail;
  }
  id = mmdnn_safetensors_get_metadata (st, KEY_ID);
  if (id != NULL && strcmp (id, c->model_id) != 0) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT,
                 "%s: metadata \"" KEY_ID "\" = \"%s\" but the config says "
                 "\"%s\"", path, id, c->model_id);
    mmdnn_model_config_free (c);
    goto fail;
  }
  m = mmdnn_model_declare (c, max_batch, error);
  mmdnn_model_config_free (c);
  if (m == NULL) {
    g_prefix_error (error, "%s: ", path);
    goto fail;
  }
  /* Every parameter must be in the file with its shape: checked before
   * anything is allocated, the file's tensors bound what a config may ask
   * for. A 288-byte file whose config declared 800 million parameters
   * made the loader allocate and fill gigabytes before it found none
   * (tests/fuzz/regress/model/). The seed is irrelevant: every parameter
   * is overwritten. */
  for (guint i = 0; i < m->params->params->len; i++) {
    const MmdnnParam *p = g_ptr_array_index (m->params->params, i);
    const float *data;

    if (!match_tensor (st, path, p->name, p, &data, error)) {
      mmdnn_model_free (m);
      goto fail;
    }
  }
  if (!mmdnn_model_allocate (m, 0, error)) {
    g_prefix_error (error, "%s: ", path);
    mmdnn_model_free (m);
    goto fail;
  }
  *st_out = st;
  return m;

fail:
  mmdnn_safetensors_close (st);
  return NULL;
}

/* A checkpoint's tensors: the parameters, and (only) the optimiser slabs
 * the model's optimiser has. Everything is checked before anything is
 * copied; the optimiser slabs are copied only when @with_optim. */
static gboolean
read_checkpoint_tensors (const MmdnnSafetensors *st, const char *path,
                         MmdnnModel *m, gboolean with_optim, GError **error)
{
  MmdnnParamSet *ps = m->params;
  MmdnnOptim *o = m->optim;
  guint np = ps->params->len;
  const float **src = g_new0 (const float *, 3 * (gsize) np);
  gboolean ok = TRUE;

  for (guint i = 0; ok && i < np; i++) {
    const MmdnnParam *p = g_ptr_array_index (ps->params, i);
    char *name;
    ok = match_tensor (st, path, p->name, p, &src[3 * i], error);
    if (ok && o->m != NULL) {
      name = g_strconcat (PREFIX_M, p->name, NULL);
      ok = match_tensor (st, path, name, p, &src[3 * i + 1], error);
      g_free (name);
    }
    if (ok && o->v != NULL) {
      name = g_strconcat (PREFIX_V, p->name, NULL);
      ok = match_tensor (st, path, name, p, &src[3 * i + 2], error);
      g_free (name);
    }
  }
  for (guint i = 0; ok && i < mmdnn_safetensors_count (st); i++) {
    const char *name = mmdnn_safetensors_name (st, i);
    const char *rest = name;
    gboolean slab_ok = TRUE;
    if (g_str_has_prefix (name, PREFIX_M)) {
      rest = name + strlen (PREFIX_M);
      slab_ok = o->m != NULL;
    } else if (g_str_has_prefix (name, PREFIX_V)) {
      rest = name + strlen (PREFIX_V);
      slab_ok = o->v != NULL;
    }
    if (mmdnn_param_set_lookup (ps, rest) == NULL || !slab_ok) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_MISMATCH,
                   "%s: tensor '%s' matches no %s of the model", path, name,
                   rest == name ? "parameter" : "optimiser state");
      ok = FALSE;
    }
  }
  if (ok) {
    for (guint i = 0; i < np; i++) {
      MmdnnParam *p = g_ptr_array_index (ps->params, i);
      size_t bytes = sizeof (float) * (size_t) p->numel;
      memcpy (p->value, src[3 * i], bytes);
      if (with_optim && o->m != NULL)
        memcpy (o->m + p->offset, src[3 * i + 1], bytes);
      if (with_optim && o->v != NULL)
        memcpy (o->v + p->offset, src[3 * i + 2], bytes);
    }
  }
  g_free (src);
  return ok;
}

/* A NaN weight would only show up later as NaN outputs; say where it is. */
static gboolean
check_finite (const MmdnnModel *m, const char *path, GError **error)
{
  for (guint i = 0; i < m->params->params->len; i++) {
    const MmdnnParam *p = g_ptr_array_index (m->params->params, i);
    for (int64_t k = 0; k < p->numel; k++)
      if (!isfinite (p->value[k])) {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                     "%s: tensor '%s' element %" G_GINT64_FORMAT " is %g",
                     path, p->name, k, (double) p->value[k]);
        return FALSE;
      }
  }
  return TRUE;
}

/* The optimiser state feeds every step after a resume: a NaN in m or v,
 * or a negative v (Adam divides by its square root), makes the first step
 * write NaN weights, which the update's check of the gradient norm cannot
 * see; a diverged run's checkpoint must not pass for a good one (the
 * checkpoint fuzz target checks it: tests/fuzz/regress/checkpoint/). */
static gboolean
check_optim_state (const MmdnnModel *m, const char *path, GError **error)
{
  const MmdnnOptim *o = m->optim;

  for (guint i = 0; i < m->params->params->len; i++) {
    const MmdnnParam *p = g_ptr_array_index (m->params->params, i);
    for (int64_t k = 0; k < p->numel; k++) {
      const char *prefix = NULL, *why = "";
      float v = 0.0f;
      if (o->m != NULL && !isfinite (o->m[p->offset + k])) {
        prefix = PREFIX_M;
        v = o->m[p->offset + k];
      } else if (o->v != NULL && !(o->v[p->offset + k] >= 0.0f
                                   && isfinite (o->v[p->offset + k]))) {
        prefix = PREFIX_V;
        v = o->v[p->offset + k];
        if (isfinite (v))
          why = " (a second moment is never negative)";
      }
      if (prefix != NULL) {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                     "%s: tensor '%s%s' element %" G_GINT64_FORMAT " is %g%s",
                     path, prefix, p->name, k, (double) v, why);
        return FALSE;
      }
    }
  }
  return TRUE;
}

static gboolean
is_checkpoint (const MmdnnSafetensors *st)
{
  return mmdnn_safetensors_get_metadata (st, KEY_STEP) != NULL;
}

MmdnnModel *
mmdnn_model_load (const char *path, int64_t max_batch, GError **error)
{
  MmdnnSafetensors *st = NULL;
  MmdnnModel *m = open_model (path, max_batch, &st, error);
  gboolean ok;

  if (m == NULL)
    return NULL;
  /* a checkpoint is a model file too: its optimiser state is ignored */
  if (is_checkpoint (st))
    ok = read_checkpoint_tensors (st, path, m, FALSE, error);
  else
    ok = mmdnn_safetensors_read_params (st, m->params, NULL, error);
  ok = ok && check_finite (m, path, error);
  mmdnn_safetensors_close (st);
  if (!ok) {
    mmdnn_model_free (m);
    return NULL;
  }
  return m;
}

MmdnnModel *
mmdnn_model_load_checkpoint (const char *path, int64_t max_batch,
                             GError **error)
{
  MmdnnSafetensors *st = NULL;
  MmdnnModel *m = open_model (path, max_batch, &st, error);
  int64_t step = 0, optim_step = 0;
  MmdnnRng rng;
  gboolean ok;

  if (m == NULL)
    return NULL;
  if (!is_checkpoint (st)) {
    ok = format_error (error, path, "not a checkpoint (no \"" KEY_STEP
                       "\" metadata): a model file, which has no optimiser "
                       "state to resume from; load it with "
                       "mmdnn_model_load");
  } else {
    ok = parse_count (st, path, KEY_STEP, &step, error)
        && (mmdnn_safetensors_get_metadata (st, KEY_OPTIM_STEP) == NULL
            ? (optim_step = step, TRUE)
            : parse_count (st, path, KEY_OPTIM_STEP, &optim_step, error))
        && parse_rng (st, path, &rng, error)
        && read_checkpoint_tensors (st, path, m, TRUE, error)
        && check_finite (m, path, error)
        && check_optim_state (m, path, error);
  }
  mmdnn_safetensors_close (st);
  if (!ok) {
    mmdnn_model_free (m);
    return NULL;
  }
  m->step = step;
  m->optim->step = optim_step;
  m->rng = rng;
  return m;
}
