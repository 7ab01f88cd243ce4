/* mmdnn — fuzz target: labels.csv, the data set index
 * (mmdnn_dataset_open), against the default model's tasks ("class": the
 * Fashion-MNIST names, "speaker_gender": female, male).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <mmdnn/dataset.h>

#include "fuzz-common.h"

/* Not g_file_set_contents (): it fsyncs, which would bound the fuzzer to
 * the disk's pace. */
static void
write_file (const char *path, const uint8_t *data, size_t size)
{
  FILE *f = fopen (path, "wb");

  fuzz_assert (f != NULL);
  fuzz_assert (fwrite (data, 1, size, f) == size);
  fuzz_assert (fclose (f) == 0);
}

/* The folder: the media files the seeds name (empty: only their existence
 * is checked when the index is read) and a folder where a file should be. */
static const char *
data_set_dir (void)
{
  static const char *const files[] = {
    "clip-0000.mkv", "clip-0001.mkv", "long, name.mkv", "a.mkv",
  };
  static const char *dir;

  if (dir == NULL) {
    for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
      write_file (fuzz_tmp_path (files[i]), (const uint8_t *) "", 0);
    fuzz_assert (g_mkdir (fuzz_tmp_path ("folder.mkv"), 0700) == 0);
    dir = fuzz_tmp_path (NULL);
  }
  return dir;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static MmdnnModelConfig *config;
  const char *dir;
  MmdnnDataset *ds;
  GError *err = NULL;

  fuzz_init ();
  if (config == NULL)
    config = mmdnn_model_config_new_default ();
  dir = data_set_dir ();
  write_file (fuzz_tmp_path ("labels.csv"), data, size);

  ds = mmdnn_dataset_open (dir, config, &err);
  fuzz_assert ((ds == NULL) == (err != NULL));
  if (ds == NULL) {
    /* (dataset.h) a bad file is FORMAT (header) or DATA (rows), and the
     * message, which quotes cells, is text a terminal can show */
    fuzz_assert (err->domain == MMDNN_ERROR
                 && (err->code == MMDNN_ERROR_FORMAT
                     || err->code == MMDNN_ERROR_DATA));
    fuzz_assert (g_utf8_validate (err->message, -1, NULL));
    g_error_free (err);
    return 0;
  }

  fuzz_assert (ds->clips->len >= 1 && ds->n_tasks == config->n_tasks);
  for (guint i = 0; i < ds->clips->len; i++) {
    const MmdnnClip *clip = &g_array_index (ds->clips, MmdnnClip, i);

    fuzz_assert (clip->file != NULL && clip->file[0] != '\0'
                 && !g_path_is_absolute (clip->file));
    fuzz_assert (isfinite (clip->start_s) && isfinite (clip->end_s)
                 && clip->start_s >= 0 && clip->end_s > clip->start_s);
    fuzz_assert (clip->line >= 1 && (i == 0 || clip->line
                 > g_array_index (ds->clips, MmdnnClip, i - 1).line));
    for (int t = 0; t < MMDNN_MAX_TASKS; t++)
      fuzz_assert (clip->labels[t] >= -1
                   && (t < config->n_tasks
                       ? clip->labels[t] < config->tasks[t].n_classes
                       : clip->labels[t] == -1));
  }
  mmdnn_dataset_free (ds);
  return 0;
}
