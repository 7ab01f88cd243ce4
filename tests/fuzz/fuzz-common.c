/* mmdnn — what the fuzz targets share (fuzz-common.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <glib/gstdio.h>
#include <mmdnn/model.h>
#include <mmdnn/safetensors.h>

#include "fuzz-common.h"

static void
log_nothing (MmdnnLogLevel level, const char *message, void *user_data)
{
}

void
fuzz_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    mmdnn_set_log_func (log_nothing, NULL);
    g_once_init_leave (&done, 1);
  }
}

void
fuzz_fail (const char *file, int line, const char *what)
{
  fprintf (stderr, "%s:%d: fuzz oracle failed: %s\n", file, line, what);
  abort ();
}

const char *
fuzz_file (const uint8_t *data, size_t size)
{
  static int fd = -1;
  static char path[64];
  size_t done = 0;

  if (fd < 0) {
    fd = memfd_create ("mmdnn-fuzz", MFD_CLOEXEC);
    if (fd < 0) {
      fprintf (stderr, "memfd_create: %s\n", g_strerror (errno));
      abort ();
    }
    g_snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate (fd, 0) != 0)
    abort ();
  while (done < size) {
    ssize_t n = pwrite (fd, data + done, size - done, (off_t) done);

    if (n <= 0 && errno != EINTR)
      abort ();
    if (n > 0)
      done += (size_t) n;
  }
  return path;
}

static char *tmp_dir;
static GPtrArray *tmp_paths;     /* what is in it, in creation order */

static void
remove_tmp_dir (void)
{
  /* the newest first: a folder after what it holds */
  for (guint i = tmp_paths->len; i > 0; i--)
    g_remove (g_ptr_array_index (tmp_paths, i - 1));
  g_ptr_array_unref (tmp_paths);
  g_rmdir (tmp_dir);
}

const char *
fuzz_tmp_path (const char *name)
{
  if (tmp_dir == NULL) {
    GError *err = NULL;

    tmp_dir = g_dir_make_tmp ("mmdnn-fuzz-XXXXXX", &err);
    if (tmp_dir == NULL) {
      fprintf (stderr, "%s\n", err->message);
      abort ();
    }
    tmp_paths = g_ptr_array_new_with_free_func (g_free);
    atexit (remove_tmp_dir);
  }
  if (name == NULL)
    return tmp_dir;
  for (guint i = 0; i < tmp_paths->len; i++)
    if (strcmp (strrchr (g_ptr_array_index (tmp_paths, i), '/') + 1, name)
        == 0)
      return g_ptr_array_index (tmp_paths, i);
  g_ptr_array_add (tmp_paths, g_build_filename (tmp_dir, name, NULL));
  return g_ptr_array_index (tmp_paths, tmp_paths->len - 1);
}

gboolean
fuzz_model_fits (const char *path)
{
  MmdnnSafetensors *st = mmdnn_safetensors_open (path, NULL);
  MmdnnModelConfig *c = NULL;
  const char *json;
  gboolean fits = TRUE;

  json = st != NULL ? mmdnn_safetensors_get_metadata (st, "mmdnn.config")
                    : NULL;
  if (json != NULL)
    c = mmdnn_model_config_from_json (json, -1, NULL);
  if (c != NULL) {
    const MmdnnVideoConfig *v = &c->video_prep;
    const MmdnnTextConfig *t = &c->text_prep;

    /* an absent modality's sizes are checked but allocate nothing */
    fits = (!c->has[MMDNN_MODALITY_VIDEO]
            || v->channels * v->height * v->width <= 3 * 64 * 64)
        && (!c->has[MMDNN_MODALITY_AUDIO]
            || c->logmel.n_mels * c->audio_patch_frames <= 64 * 100)
        && (!c->has[MMDNN_MODALITY_TEXT]
            || t->max_tokens * t->max_ids_per_token <= 32 * 16);
    mmdnn_model_config_free (c);
  }
  if (st != NULL)
    mmdnn_safetensors_close (st);
  return fits;
}
