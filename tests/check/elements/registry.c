/* The model registry: sharing by file, versions, publishing, and bad files.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include "gstmmdnnregistry.h"
#include "gstmmdnnutils.h"

static gchar *
default_path (void)
{
  return gst_mmdnn_default_model_path ();
}

GST_START_TEST (test_same_file_shares_one_entry)
{
  gchar *path = default_path ();
  gchar *dir = g_path_get_dirname (path);
  gchar *base = g_path_get_basename (path);
  gchar *cwd = g_get_current_dir ();
  GError *error = NULL;
  GstMmdnnModelEntry *a, *b, *c;
  GstMmdnnModelSnapshot *sa, *sc;

  a = gst_mmdnn_registry_acquire (path, &error);
  fail_unless (a != NULL, "%s", error ? error->message : "");
  b = gst_mmdnn_registry_acquire (NULL, &error);   /* the default */
  fail_unless (a == b);
  /* a relative spelling of the same file */
  fail_unless (g_chdir (dir) == 0);
  c = gst_mmdnn_registry_acquire (base, &error);
  fail_unless (g_chdir (cwd) == 0);
  fail_unless (c == a);
  sa = gst_mmdnn_model_entry_snapshot (a);
  sc = gst_mmdnn_model_entry_snapshot (c);
  fail_unless (sa == sc);
  fail_unless_equals_uint64 (sa->version, 1);
  fail_unless (sa->model->config->n_tasks == 2);
  gst_mmdnn_model_snapshot_unref (sa);
  gst_mmdnn_model_snapshot_unref (sc);
  gst_mmdnn_registry_release (a);
  gst_mmdnn_registry_release (b);
  gst_mmdnn_registry_release (c);
  gst_mmdnn_registry_release (NULL);
  g_free (path);
  g_free (dir);
  g_free (base);
  g_free (cwd);
}
GST_END_TEST;

/* A reader holding a snapshot keeps reading its version while a new one is
 * published; the next snapshot is the new version. */
GST_START_TEST (test_publish_new_version)
{
  gchar *path = default_path ();
  GError *error = NULL;
  GstMmdnnModelEntry *e = gst_mmdnn_registry_acquire (path, &error);
  GstMmdnnModelSnapshot *old, *cur;
  MmdnnModel *next = mmdnn_model_load (path, 1, &error);
  float v0;

  fail_unless (e != NULL && next != NULL);
  old = gst_mmdnn_model_entry_snapshot (e);
  v0 = old->model->params->values[0];
  next->params->values[0] = v0 + 1.0f;
  fail_unless_equals_uint64 (gst_mmdnn_model_entry_publish (e, next, &error),
      2);
  fail_unless (error == NULL);
  cur = gst_mmdnn_model_entry_snapshot (e);
  fail_unless_equals_uint64 (cur->version, 2);
  fail_unless (cur->model == next);
  fail_unless_equals_float (old->model->params->values[0], v0);
  fail_unless_equals_float (cur->model->params->values[0], v0 + 1.0f);
  gst_mmdnn_model_snapshot_unref (old);     /* frees version 1 */
  gst_mmdnn_model_snapshot_unref (cur);
  gst_mmdnn_registry_release (e);
  g_free (path);
}
GST_END_TEST;

static MmdnnModel *
small_model (gboolean audio, const char *const *classes)
{
  MmdnnModelConfig *c = mmdnn_model_config_new_default ();
  MmdnnModel *m;

  c->has[MMDNN_MODALITY_AUDIO] = audio;
  c->fusion.dim = c->video.dim = c->audio.dim = c->text.dim = 16;
  c->text_prep.buckets = c->text.buckets = 64;
  if (classes != NULL)
    fail_unless (mmdnn_model_config_set_task (c, 1, "speaker_gender",
            classes, 1.0f, NULL));
  m = mmdnn_model_new (c, 1, 1, NULL);
  mmdnn_model_config_free (c);
  fail_unless (m != NULL);
  return m;
}

/* Publishing another architecture, or other class names, is refused and
 * changes nothing. */
GST_START_TEST (test_publish_other_architecture_n)
{
  static const char *const other[] = { "woman", "man", NULL };
  gchar *dir = g_dir_make_tmp ("mmdnn-registry-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "small.safetensors", NULL);
  MmdnnModel *m = small_model (TRUE, NULL);
  MmdnnModel *no_audio = small_model (FALSE, NULL);
  MmdnnModel *renamed = small_model (TRUE, other);
  GError *error = NULL;
  GstMmdnnModelEntry *e;
  GstMmdnnModelSnapshot *s;

  fail_unless (mmdnn_model_save (m, path, NULL));
  e = gst_mmdnn_registry_acquire (path, &error);
  fail_unless (e != NULL);
  fail_unless_equals_uint64 (gst_mmdnn_model_entry_publish (e, no_audio,
          &error), 0);
  fail_unless (g_error_matches (error, MMDNN_ERROR, MMDNN_ERROR_MISMATCH));
  g_clear_error (&error);
  fail_unless_equals_uint64 (gst_mmdnn_model_entry_publish (e, renamed,
          &error), 0);
  fail_unless (g_error_matches (error, MMDNN_ERROR, MMDNN_ERROR_MISMATCH));
  g_clear_error (&error);
  s = gst_mmdnn_model_entry_snapshot (e);
  fail_unless_equals_uint64 (s->version, 1);
  gst_mmdnn_model_snapshot_unref (s);
  /* the same architecture is accepted */
  fail_unless_equals_uint64 (gst_mmdnn_model_entry_publish (e, m, &error), 2);

  gst_mmdnn_registry_release (e);
  mmdnn_model_free (no_audio);
  mmdnn_model_free (renamed);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
}
GST_END_TEST;

GST_START_TEST (test_missing_file_n)
{
  GError *error = NULL;

  fail_unless (gst_mmdnn_registry_acquire ("/nonexistent/m.safetensors",
          &error) == NULL);
  fail_unless (g_error_matches (error, MMDNN_ERROR, MMDNN_ERROR_IO));
  fail_unless (strstr (error->message, "/nonexistent/m.safetensors") != NULL);
  g_clear_error (&error);
}
GST_END_TEST;

/* A file that is not a model, a truncated model: FORMAT, never a crash,
 * and nothing stays registered (a fixed file loads afterwards). */
GST_START_TEST (test_corrupt_file_n)
{
  gchar *dir = g_dir_make_tmp ("mmdnn-registry-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "bad.safetensors", NULL);
  gchar *good = default_path ();
  gchar *bytes = NULL;
  gsize len = 0;
  GError *error = NULL;
  GstMmdnnModelEntry *e;

  fail_unless (g_file_set_contents (path, "not a model", -1, NULL));
  fail_unless (gst_mmdnn_registry_acquire (path, &error) == NULL);
  fail_unless (error != NULL && error->domain == MMDNN_ERROR);
  fail_unless (error->code == MMDNN_ERROR_FORMAT, "%s", error->message);
  g_clear_error (&error);

  fail_unless (g_file_get_contents (good, &bytes, &len, NULL));
  fail_unless (g_file_set_contents (path, bytes, len / 2, NULL));
  fail_unless (gst_mmdnn_registry_acquire (path, &error) == NULL);
  fail_unless (error != NULL && error->domain == MMDNN_ERROR);
  g_clear_error (&error);

  fail_unless (g_file_set_contents (path, bytes, len, NULL));
  e = gst_mmdnn_registry_acquire (path, &error);
  fail_unless (e != NULL);
  gst_mmdnn_registry_release (e);

  g_unlink (path);
  g_rmdir (dir);
  g_free (bytes);
  g_free (path);
  g_free (good);
  g_free (dir);
}
GST_END_TEST;

/* Readers in threads take snapshots while versions are published: every
 * reader sees versions that never go backwards and a model that is whole. */
typedef struct {
  GstMmdnnModelEntry *entry;
  gint stop;
  gboolean ok;
} Readers;

static gpointer
reader (gpointer data)
{
  Readers *r = data;
  guint64 last = 0;

  while (!g_atomic_int_get (&r->stop)) {
    GstMmdnnModelSnapshot *s = gst_mmdnn_model_entry_snapshot (r->entry);

    if (s->version < last || s->model->params->values[0] != (float) s->version)
      r->ok = FALSE;
    last = s->version;
    g_usleep (100);
    gst_mmdnn_model_snapshot_unref (s);
  }
  return NULL;
}

GST_START_TEST (test_concurrent_publish)
{
  gchar *dir = g_dir_make_tmp ("mmdnn-registry-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "small.safetensors", NULL);
  MmdnnModel *m = small_model (TRUE, NULL);
  Readers r = { NULL, 0, TRUE };
  GThread *t[3];

  m->params->values[0] = 1.0f;
  fail_unless (mmdnn_model_save (m, path, NULL));
  r.entry = gst_mmdnn_registry_acquire (path, NULL);
  fail_unless (r.entry != NULL);
  for (int i = 0; i < 3; i++)
    t[i] = g_thread_new ("reader", reader, &r);
  for (int v = 2; v <= 20; v++) {
    MmdnnModel *next = mmdnn_model_load (path, 1, NULL);

    next->params->values[0] = (float) v;
    fail_unless_equals_uint64 (gst_mmdnn_model_entry_publish (r.entry, next,
            NULL), (guint64) v);
    g_usleep (500);
  }
  g_atomic_int_set (&r.stop, 1);
  for (int i = 0; i < 3; i++)
    g_thread_join (t[i]);
  fail_unless (r.ok);
  gst_mmdnn_registry_release (r.entry);
  mmdnn_model_free (m);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
}
GST_END_TEST;

GST_START_TEST (test_default_path)
{
  gchar *p = gst_mmdnn_default_model_path ();

  /* the test environment points it at the build tree's copy */
  fail_unless_equals_string (p, g_getenv ("MMDNN_DEFAULT_MODEL"));
  fail_unless (g_file_test (p, G_FILE_TEST_IS_REGULAR));
  g_free (p);
}
GST_END_TEST;

GST_START_TEST (test_features_caps)
{
  GstCaps *caps = gst_mmdnn_features_caps_new (MMDNN_MODALITY_AUDIO, 10, 128,
      "avt-fashion");
  GstCaps *any;
  int mod = -1;
  gint k = 0, d = 0;
  const gchar *id = NULL;

  fail_unless (gst_mmdnn_features_caps_parse (caps, &mod, &k, &d, &id));
  fail_unless_equals_int (mod, MMDNN_MODALITY_AUDIO);
  fail_unless_equals_int (k, 10);
  fail_unless_equals_int (d, 128);
  fail_unless_equals_string (id, "avt-fashion");
  any = gst_caps_from_string (GST_MMDNN_FEATURES_CAPS_ANY);
  fail_unless (gst_caps_is_subset (caps, any));
  gst_caps_unref (any);
  gst_caps_unref (caps);
  fail_unless_equals_int (gst_mmdnn_modality_from_string ("fused"),
      GST_MMDNN_MODALITY_FUSED);
}
GST_END_TEST;

GST_START_TEST (test_features_caps_parse_n)
{
  static const gchar *const bad[] = {
    "video/x-raw",
    "application/x-mmdnn-features, tokens=(int)4, dim=(int)8",
    "application/x-mmdnn-features, modality=(string)smell, tokens=(int)4, dim=(int)8",
    "application/x-mmdnn-features, modality=(string)video, tokens=(int)0, dim=(int)8",
    "application/x-mmdnn-features, modality=(string)video, tokens=(int)4, dim=(int)-1",
    "application/x-mmdnn-features, modality=(string)video, tokens=(int)4097, dim=(int)8",
    "application/x-mmdnn-features, modality=(string)video, tokens=(string)a, dim=(int)8",
    "application/x-mmdnn-features, modality=(string)video, tokens=(int)4",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    GstCaps *caps = gst_caps_from_string (bad[i]);

    fail_unless (caps != NULL);
    fail_if (gst_mmdnn_features_caps_parse (caps, NULL, NULL, NULL, NULL),
        "accepted %s", bad[i]);
    gst_caps_unref (caps);
  }
  fail_if (gst_mmdnn_features_caps_parse (NULL, NULL, NULL, NULL, NULL));
  fail_unless (gst_mmdnn_modality_to_string (-1) == NULL);
  fail_unless (gst_mmdnn_modality_to_string (4) == NULL);
  fail_unless_equals_int (gst_mmdnn_modality_from_string ("Video"), -1);
  fail_unless_equals_int (gst_mmdnn_modality_from_string (NULL), -1);
}
GST_END_TEST;

static Suite *
registry_suite (void)
{
  Suite *s = suite_create ("registry");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_same_file_shares_one_entry);
  tcase_add_test (tc, test_publish_new_version);
  tcase_add_test (tc, test_publish_other_architecture_n);
  tcase_add_test (tc, test_missing_file_n);
  tcase_add_test (tc, test_corrupt_file_n);
  tcase_add_test (tc, test_concurrent_publish);
  tcase_add_test (tc, test_default_path);
  tcase_add_test (tc, test_features_caps);
  tcase_add_test (tc, test_features_caps_parse_n);
  return s;
}

GST_CHECK_MAIN (registry);
