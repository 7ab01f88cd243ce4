/* mmdnn — the model registry (see gstmmdnnregistry.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "gstmmdnnregistry.h"
#include "gstmmdnnutils.h"

struct _GstMmdnnModelEntry {
  gint                   refcount;        /* under registry_lock */
  gchar                 *path;            /* resolved; the table's key */
  GMutex                 lock;            /* guards current */
  GstMmdnnModelSnapshot *current;
};

/* path → entry (borrowed: an entry removes itself on its last release) */
static GMutex registry_lock;
static GHashTable *registry;

static GstMmdnnModelSnapshot *
snapshot_new (MmdnnModel *model, guint64 version)
{
  GstMmdnnModelSnapshot *s = g_new0 (GstMmdnnModelSnapshot, 1);

  s->model = model;
  s->version = version;
  s->refcount = 1;
  return s;
}

GstMmdnnModelSnapshot *
gst_mmdnn_model_snapshot_ref (GstMmdnnModelSnapshot *s)
{
  g_return_val_if_fail (s != NULL, NULL);
  g_atomic_int_inc (&s->refcount);
  return s;
}

void
gst_mmdnn_model_snapshot_unref (GstMmdnnModelSnapshot *s)
{
  if (s != NULL && g_atomic_int_dec_and_test (&s->refcount)) {
    mmdnn_model_free ((MmdnnModel *) s->model);
    g_free (s);
  }
}

/* Two paths naming one file share an entry: the key is the canonical
 * path when the file exists, else the path as given (the load then fails
 * and nothing is stored). */
static gchar *
resolve (const gchar *path)
{
  char *real = realpath (path, NULL);
  gchar *out = g_strdup (real != NULL ? real : path);

  free (real);
  return out;
}

GstMmdnnModelEntry *
gst_mmdnn_registry_acquire (const gchar *path, GError **error)
{
  gchar *given = path != NULL && *path != '\0' ? g_strdup (path)
      : gst_mmdnn_default_model_path ();
  gchar *key = resolve (given);
  GstMmdnnModelEntry *e;
  MmdnnModel *model;

  g_free (given);
  g_mutex_lock (&registry_lock);
  if (registry == NULL)
    registry = g_hash_table_new (g_str_hash, g_str_equal);
  e = g_hash_table_lookup (registry, key);
  if (e != NULL) {
    e->refcount++;
    g_mutex_unlock (&registry_lock);
    g_free (key);
    return e;
  }
  /* loading under the lock: two elements asking for the same new file
   * must not load it twice, and loads happen only in state changes */
  model = mmdnn_model_load (key, 1, error);
  if (model == NULL) {
    g_mutex_unlock (&registry_lock);
    g_free (key);
    return NULL;
  }
  e = g_new0 (GstMmdnnModelEntry, 1);
  e->refcount = 1;
  e->path = key;
  g_mutex_init (&e->lock);
  e->current = snapshot_new (model, 1);
  g_hash_table_insert (registry, e->path, e);
  g_mutex_unlock (&registry_lock);
  return e;
}

void
gst_mmdnn_registry_release (GstMmdnnModelEntry *e)
{
  if (e == NULL)
    return;
  g_mutex_lock (&registry_lock);
  if (--e->refcount > 0) {
    g_mutex_unlock (&registry_lock);
    return;
  }
  g_hash_table_remove (registry, e->path);
  g_mutex_unlock (&registry_lock);

  gst_mmdnn_model_snapshot_unref (e->current);
  g_mutex_clear (&e->lock);
  g_free (e->path);
  g_free (e);
}

const gchar *
gst_mmdnn_model_entry_get_path (GstMmdnnModelEntry *e)
{
  g_return_val_if_fail (e != NULL, NULL);
  return e->path;
}

GstMmdnnModelSnapshot *
gst_mmdnn_model_entry_snapshot (GstMmdnnModelEntry *e)
{
  GstMmdnnModelSnapshot *s;

  g_return_val_if_fail (e != NULL, NULL);
  g_mutex_lock (&e->lock);
  s = gst_mmdnn_model_snapshot_ref (e->current);
  g_mutex_unlock (&e->lock);
  return s;
}

/* Same parameters (names, shapes, order), tasks and classes: every
 * reader's activations and every result's class names stay valid. */
static gboolean
same_architecture (const MmdnnModel *a, const MmdnnModel *b, GError **error)
{
  const MmdnnModelConfig *ca = a->config, *cb = b->config;
  GPtrArray *pa = a->params->params, *pb = b->params->params;

  if (pa->len != pb->len)
    goto differ;
  for (guint i = 0; i < pa->len; i++) {
    const MmdnnParam *x = g_ptr_array_index (pa, i);
    const MmdnnParam *y = g_ptr_array_index (pb, i);

    if (strcmp (x->name, y->name) != 0 || x->ndim != y->ndim
        || memcmp (x->shape, y->shape, sizeof (int64_t) * x->ndim) != 0)
      goto differ;
  }
  if (ca->n_tasks != cb->n_tasks
      || memcmp (ca->has, cb->has, sizeof (ca->has)) != 0
      || memcmp (&ca->video_prep, &cb->video_prep, sizeof (ca->video_prep))
      || memcmp (&ca->logmel, &cb->logmel, sizeof (ca->logmel))
      || ca->audio_patch_frames != cb->audio_patch_frames
      || memcmp (&ca->text_prep, &cb->text_prep, sizeof (ca->text_prep))
      || memcmp (&ca->fusion, &cb->fusion, sizeof (ca->fusion)))
    goto differ;
  for (int t = 0; t < ca->n_tasks; t++) {
    if (strcmp (ca->tasks[t].name, cb->tasks[t].name) != 0
        || !g_strv_equal ((const gchar *const *) ca->tasks[t].classes,
                          (const gchar *const *) cb->tasks[t].classes))
      goto differ;
  }
  return TRUE;

differ:
  g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_MISMATCH,
               "the published model's architecture, preprocessing or tasks "
               "differ from those of %s", "the model in use");
  return FALSE;
}

gboolean
gst_mmdnn_model_entry_check (GstMmdnnModelEntry *e, const MmdnnModel *model,
                             GError **error)
{
  GstMmdnnModelSnapshot *cur;
  gboolean ok;

  g_return_val_if_fail (e != NULL && model != NULL, FALSE);
  cur = gst_mmdnn_model_entry_snapshot (e);
  ok = same_architecture (cur->model, model, error);
  gst_mmdnn_model_snapshot_unref (cur);
  return ok;
}

guint64
gst_mmdnn_model_entry_publish (GstMmdnnModelEntry *e, MmdnnModel *model,
                               GError **error)
{
  GstMmdnnModelSnapshot *old, *s;
  guint64 version;

  g_return_val_if_fail (e != NULL && model != NULL, 0);
  /* the architecture never changes after a load, so comparing against
   * the current snapshot outside the lock is safe */
  old = gst_mmdnn_model_entry_snapshot (e);
  if (!same_architecture (old->model, model, error)) {
    gst_mmdnn_model_snapshot_unref (old);
    return 0;
  }
  gst_mmdnn_model_snapshot_unref (old);

  g_mutex_lock (&e->lock);
  old = e->current;
  version = old->version + 1;
  s = snapshot_new (model, version);
  e->current = s;
  g_mutex_unlock (&e->lock);
  gst_mmdnn_model_snapshot_unref (old);
  return version;
}
