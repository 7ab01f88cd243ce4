/* mmdnn — the model registry: one refcounted, versioned model per file.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include <mmdnn/mmdnn.h>

G_BEGIN_DECLS

/*
 * Elements that name the same file (after resolving the path) share one
 * entry and so one model in memory. A reader takes a snapshot per buffer
 * (a mutex held for a pointer copy and a ref, never during compute) and
 * reads that version's weights for as long as it holds it. A trainer
 * publishes a new version of the same architecture: readers see it at
 * their next snapshot, and the old version is freed when its last reader
 * lets go.
 */
typedef struct _GstMmdnnModelEntry GstMmdnnModelEntry;

typedef struct {
  /*< public, read-only >*/
  const MmdnnModel *model;      /* never written while published */
  guint64           version;    /* 1 for the file as loaded, +1 per publish */
  /*< private >*/
  gint              refcount;
} GstMmdnnModelSnapshot;

/* (transfer full): the entry for @path (NULL: the default model,
 * gst_mmdnn_default_model_path), loading the file the first time. Errors:
 * those of mmdnn_model_load (IO, FORMAT, MISMATCH, ...). */
GstMmdnnModelEntry *gst_mmdnn_registry_acquire (const gchar *path,
                                                GError **error);
/* Drops one reference; the last one removes the entry and (once no
 * snapshot is held) frees the model. NULL is a no-op. */
void gst_mmdnn_registry_release (GstMmdnnModelEntry *entry);

/* (transfer none): the resolved path the entry was loaded from. */
const gchar *gst_mmdnn_model_entry_get_path (GstMmdnnModelEntry *entry);
/* (transfer full): the current version. Never NULL. */
GstMmdnnModelSnapshot *gst_mmdnn_model_entry_snapshot (GstMmdnnModelEntry *entry);
GstMmdnnModelSnapshot *gst_mmdnn_model_snapshot_ref (GstMmdnnModelSnapshot *s);
void gst_mmdnn_model_snapshot_unref (GstMmdnnModelSnapshot *s);

/* Whether @model could be published to @entry: the same architecture,
 * preprocessing, tasks and classes as its current version (else
 * MMDNN_ERROR_MISMATCH). A trainer checks this before it starts. */
gboolean gst_mmdnn_model_entry_check (GstMmdnnModelEntry *entry,
                                      const MmdnnModel *model,
                                      GError **error);

/* Publishes @model (transfer full on success) as the next version. Its
 * config must have the same architecture, tasks and classes as the
 * current one (else MMDNN_ERROR_MISMATCH and @model stays the caller's).
 * Returns the new version number, 0 on error. */
guint64 gst_mmdnn_model_entry_publish (GstMmdnnModelEntry *entry,
                                       MmdnnModel *model, GError **error);

G_END_DECLS
