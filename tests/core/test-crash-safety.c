/* Crash safety of the model and checkpoint writers: a process writing one
 * file over and over, with distinct contents each time, is killed with
 * SIGKILL at a random moment, 20 times per writer; after each kill the
 * file on disk must load and be byte for byte either the version being
 * written or the one before it, never a torn or an empty file.
 *
 * The writer is a child forked from the test (the default model already
 * built): for i = k + 1, k + 2, ..., k the version on disk, it records i
 * in PATH.progress and saves version i (step i, a few weights set from i) with
 * mmdnn_model_save_checkpoint (KIND `checkpoint`: what `mmdnn train
 * --checkpoint` and mmdnntrain write) or mmdnn_model_save (KIND `model`:
 * what `mmdnn train --out` writes). Nearly all of its time is spent inside
 * the save, so the kills land at every stage of it: the temporary file's
 * header or tensors, the fsync, the rename, the directory's fsync. The
 * delays are random (g_test_rand, so `--seed` repeats a run) between 0 and
 * three times one save's duration measured here; nothing is asserted on
 * time.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <glib/gstdio.h>

#include <mmdnn/model.h>

#define TRIALS 20

static MmdnnModel *
new_model (void)
{
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  GError *err = NULL;
  MmdnnModel *m = mmdnn_model_new (c, 1, 1, &err);

  g_assert_no_error (err);
  mmdnn_model_config_free (c);
  return m;
}

/* Version @i: everything else stays as the seed made it. */
static void
set_version (MmdnnModel *m, int64_t i)
{
  m->step = i;
  m->params->values[0] = (float) i;
  m->params->values[1] = (float) -i;
  m->optim->m[0] = (float) i;
}

static gboolean
save (MmdnnModel *m, gboolean ckpt, const char *path, GError **error)
{
  return ckpt ? mmdnn_model_save_checkpoint (m, path, error)
      : mmdnn_model_save (m, path, error);
}

/* The writer: a child forked from the test with the model already built,
 * so that a trial costs a save and a delay, not the making of a model.
 * Never returns: killed, or _exit (1) on an error. */
static void
writer_run (MmdnnModel *m, gboolean ckpt, const char *path,
            const char *progress, int64_t start)
{
  GError *err = NULL;
  int fd = g_open (progress, O_WRONLY | O_CLOEXEC, 0);

  if (fd < 0) {
    g_printerr ("%s: %s\n", progress, g_strerror (errno));
    _exit (1);
  }
  for (int64_t i = start;; i++) {
    /* one small write: a kill cannot tear it */
    if (pwrite (fd, &i, sizeof i, 0) != sizeof i) {
      g_printerr ("%s: %s\n", progress, g_strerror (errno));
      _exit (1);
    }
    set_version (m, i);
    if (!save (m, ckpt, path, &err)) {
      g_printerr ("%s\n", err->message);
      _exit (1);
    }
  }
}

/* The version a file holds, loaded the way its reader loads it. */
static int64_t
version_of (const char *path, gboolean ckpt)
{
  GError *err = NULL;
  MmdnnModel *m = ckpt ? mmdnn_model_load_checkpoint (path, 1, &err)
      : mmdnn_model_load (path, 1, &err);
  int64_t v;

  g_assert_no_error (err);
  g_assert_nonnull (m);
  v = (int64_t) m->params->values[0];
  g_assert_cmpfloat (m->params->values[0], ==, (float) v);
  g_assert_cmpfloat (m->params->values[1], ==, (float) -v);
  if (ckpt)
    g_assert_cmpint (m->step, ==, v);
  mmdnn_model_free (m);
  return v;
}

/* Files in @dir other than @keep and @progress (a kill may leave the
 * temporary file of the interrupted save); removes them. */
static guint
remove_others (const char *dir, const char *keep, const char *progress)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL) {
    char *p = g_build_filename (dir, name, NULL);

    if (!g_str_equal (p, keep) && !g_str_equal (p, progress)) {
      g_assert_true (g_str_has_prefix (p, keep));
      g_assert_nonnull (strstr (p, ".tmp-"));
      g_assert_cmpint (g_unlink (p), ==, 0);
      n++;
    }
    g_free (p);
  }
  g_dir_close (d);
  return n;
}

static void
test_kill_during_write (gconstpointer data)
{
  gboolean ckpt = GPOINTER_TO_INT (data);
  const char *kind = ckpt ? "checkpoint" : "model";
  GError *err = NULL;
  char *dir = g_dir_make_tmp ("mmdnn-crash-XXXXXX", &err);
  char *path = g_build_filename (dir, ckpt ? "c.ckpt" : "m.safetensors",
      NULL);
  char *progress = g_strconcat (path, ".progress", NULL);
  char *expect_path = g_strconcat (dir, ".expect", NULL);
  MmdnnModel *m = new_model ();
  gint64 t0, save_us;
  int64_t last = 0;
  guint olds = 0, news = 0, torn = 0;

  g_assert_no_error (err);
  /* version 0 on disk; its save's duration sets the range of the delays */
  set_version (m, 0);
  t0 = g_get_monotonic_time ();
  g_assert_true (save (m, ckpt, path, &err));
  g_assert_no_error (err);
  save_us = MAX (g_get_monotonic_time () - t0, 1000);

  /* each trial starts from the version the last one left: the writer
   * goes on with the next ones, killed at once or after several saves */
  for (guint trial = 0; trial < TRIALS; trial++) {
    char *got, *want;
    gsize got_len, want_len;
    int64_t p = 0, v;
    pid_t pid;
    int status;
    gint32 delay_us;
    guint left;

    g_assert_true (g_file_set_contents (progress, (const char *) &last,
            sizeof last, &err));
    g_assert_no_error (err);
    pid = fork ();
    g_assert_cmpint (pid, >=, 0);
    if (pid == 0)
      writer_run (m, ckpt, path, progress, last + 1);
    delay_us = g_test_rand_int_range (0, (gint32) MIN (3 * save_us,
            G_MAXINT32));
    g_usleep (delay_us);
    g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
    g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
    g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);

    {
      FILE *f = fopen (progress, "rb");

      g_assert_nonnull (f);
      g_assert_cmpint (fread (&p, sizeof p, 1, f), ==, 1);
      fclose (f);
    }
    /* the version being written when killed, or the one before (the
     * last trial's when the writer was killed before its first save) */
    v = version_of (path, ckpt);
    g_assert_true (v == p || v == p - 1 || (p == last && v == last));
    g_assert_cmpint (v, >=, last);
    if (v > last)
      news++;
    else
      olds++;
    set_version (m, v);
    g_assert_true (save (m, ckpt, expect_path, &err));
    g_assert_no_error (err);
    g_assert_true (g_file_get_contents (path, &got, &got_len, NULL));
    g_assert_true (g_file_get_contents (expect_path, &want, &want_len, NULL));
    g_assert_cmpmem (got, got_len, want, want_len);
    g_free (got);
    g_free (want);
    /* at most the temporary file of the interrupted save */
    left = remove_others (dir, path, progress);
    g_assert_cmpuint (left, <=, 1);
    torn += left;
    last = v;
  }
  g_test_message ("%s: %d trials, %.1f ms a save: %u kills left the "
      "trial's first version, %u a newer one (version %" G_GINT64_FORMAT
      " in the end); %u temporary files left", kind, TRIALS,
      save_us / 1000.0, olds, news, last, torn);

  g_unlink (path);
  g_unlink (progress);
  g_unlink (expect_path);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  mmdnn_model_free (m);
  g_free (expect_path);
  g_free (progress);
  g_free (path);
  g_free (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/crash-safety/checkpoint", GINT_TO_POINTER (TRUE),
      test_kill_during_write);
  g_test_add_data_func ("/crash-safety/model", GINT_TO_POINTER (FALSE),
      test_kill_during_write);
  return g_test_run ();
}
