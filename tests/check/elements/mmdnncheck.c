/* mmdnn — helpers shared by the element tests (see mmdnncheck.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "gstmmdnnregistry.h"
#include "gstmmdnnutils.h"
#include "mmdnncheck.h"

#ifdef __SANITIZE_ADDRESS__
/* Under AddressSanitizer: GLib leaks, by design, the quark table its
 * library constructor allocates once more quarks are made (gquark.c: "This
 * leaks the old quarks array"), which a test process may do as it loads
 * plugins and registers types.
 * tests/lsan.supp suppresses leaks allocated by library constructors
 * (_dl_init), but LSan sees that frame only with full malloc stacks: the
 * fast unwinder stops inside GLib, built without frame pointers. `make
 * check-asan` sets fast_unwind_on_malloc=0; this sets it too for runs by
 * hand. (The library is linked whole, so every test has it.) */
const char *__asan_default_options (void);
const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}
#endif

/* ------------------------------------------------------------- timeouts */

GstClockTime
mmdnn_check_timeout (guint seconds)
{
  const gchar *s = g_getenv ("CK_TIMEOUT_MULTIPLIER");
  gdouble mult = s != NULL ? g_ascii_strtod (s, NULL) : 1.0;

  /* check itself ignores a multiplier below 1 or unparsable */
  if (!(mult >= 1.0 && mult <= 1000.0))
    mult = 1.0;
  return (GstClockTime) (seconds * mult * GST_SECOND);
}

/* ---------------------------------------------------------------- models */

const gchar *
mmdnn_check_default_model_path (void)
{
  const gchar *p = g_getenv ("MMDNN_DEFAULT_MODEL");

  fail_unless (p != NULL && g_file_test (p, G_FILE_TEST_EXISTS),
      "MMDNN_DEFAULT_MODEL must name the build tree's default model");
  return p;
}

MmdnnModel *
mmdnn_check_load_model (const gchar *path)
{
  GError *error = NULL;
  MmdnnModel *m = mmdnn_model_load (path, 1, &error);

  fail_unless (m != NULL, "loading %s: %s", path,
      error ? error->message : "?");
  return m;
}

static GstMmdnnModelEntry *default_entry;
static MmdnnModel *default_model;

void
mmdnn_check_default_model_setup (void)
{
  GError *error = NULL;

  default_entry = gst_mmdnn_registry_acquire (NULL, &error);
  fail_unless (default_entry != NULL, "%s", error ? error->message : "?");
  default_model = mmdnn_check_load_model (mmdnn_check_default_model_path ());
}

void
mmdnn_check_default_model_teardown (void)
{
  gst_mmdnn_registry_release (default_entry);
  default_entry = NULL;
  g_clear_pointer (&default_model, mmdnn_model_free);
}

const MmdnnModel *
mmdnn_check_default_model (void)
{
  fail_unless (default_model != NULL,
      "mmdnn_check_default_model_setup is not a fixture of this test");
  return default_model;
}

gchar *
mmdnn_check_write_model (const gchar *dir, const gchar *name,
    const gchar *json, guint64 seed)
{
  gchar *path = g_build_filename (dir, name, NULL);
  GError *error = NULL;
  MmdnnModelConfig *c = mmdnn_model_config_from_json (json, -1, &error);
  MmdnnModel *m;

  fail_unless (c != NULL, "config of %s: %s", name,
      error ? error->message : "?");
  m = mmdnn_model_new (c, seed, 1, &error);
  fail_unless (m != NULL, "model %s: %s", name, error ? error->message : "?");
  fail_unless (mmdnn_model_save (m, path, &error), "saving %s: %s", path,
      error ? error->message : "?");
  mmdnn_model_free (m);
  mmdnn_model_config_free (c);
  return path;
}

gchar *
mmdnn_check_write_tiny_model (const gchar *dir, const gchar *name,
    const gchar *model_id, const gchar *modalities, guint64 seed)
{
  gchar *json = g_strdup_printf ("{\n"
      "  \"model_id\": \"%s\",\n"
      "  \"modalities\": %s,\n"
      "  \"preprocessing\": {\n"
      "    \"video\": {\"channels\": 1, \"height\": 16, \"width\": 16},\n"
      "    \"audio\": {\"n_mels\": 16, \"patch_frames\": 16},\n"
      "    \"text\": {\"buckets\": 97, \"max_tokens\": 4, "
      "\"max_ids_per_token\": 3}\n"
      "  },\n"
      "  \"encoders\": {\n"
      "    \"video\": {\"grid_h\": 2, \"grid_w\": 2, \"ae_width\": 2, "
      "\"ae_latent\": 3, \"ms_width\": 2, \"ms_width2\": 4, \"ms_width3\": 5, "
      "\"sal_width\": 3},\n"
      "    \"audio\": {\"grid_h\": 1, \"grid_w\": 2, \"ae_width\": 2, "
      "\"ae_latent\": 3, \"ms_width\": 2, \"ms_width2\": 4, \"ms_width3\": 5, "
      "\"sal_width\": 3},\n"
      "    \"text\": {\"embed\": 4, \"ae_latent\": 3, \"ms_width\": 2, "
      "\"ms_width2\": 4, \"sal_width\": 3}\n"
      "  },\n"
      "  \"fusion\": {\"dim\": 8, \"attn_hidden\": 4},\n"
      "  \"tasks\": [{\"name\": \"class\", \"classes\": [\"a\", \"b\"]}],\n"
      "  \"loss\": {\"disc_hidden\": 4}\n"
      "}\n", model_id, modalities);
  gchar *path = mmdnn_check_write_model (dir, name, json, seed);

  g_free (json);
  return path;
}

/* ----------------------------------------------------------------- files */

gchar *
mmdnn_check_make_tmp_dir (const gchar *tmpl)
{
  GError *error = NULL;
  gchar *dir = g_dir_make_tmp (tmpl, &error);

  fail_unless (dir != NULL, "%s", error ? error->message : "?");
  return dir;
}

void
mmdnn_check_remove_tmp_dir (gchar *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL) {
    gchar *p = g_build_filename (dir, name, NULL);

    g_unlink (p);
    g_free (p);
  }
  if (d != NULL)
    g_dir_close (d);
  g_rmdir (dir);
  g_free (dir);
}

void
mmdnn_check_write_file (const gchar *path, const void *data, gsize size)
{
  GError *error = NULL;

  fail_unless (g_file_set_contents (path, data, (gssize) size, &error),
      "%s", error ? error->message : "?");
}

/* -------------------------------------------------------------- elements */

GstElement *
mmdnn_check_make_element (const gchar *factory, const gchar *model)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  fail_unless (e != NULL, "no element %s", factory);
  if (model != NULL)
    g_object_set (e, "model", model, NULL);
  return e;
}

GstHarness *
mmdnn_check_harness_new (const gchar *factory, const gchar *model,
    const gchar *caps)
{
  GstElement *e = mmdnn_check_make_element (factory, model);
  GstHarness *h = gst_harness_new_with_element (e, "sink", "src");

  gst_object_unref (e);
  if (caps != NULL)
    gst_harness_set_src_caps_str (h, caps);
  return h;
}

gboolean
mmdnn_check_accepts (GstElement *e, const gchar *caps_str)
{
  GstPad *pad = gst_element_get_static_pad (e, "sink");
  GstCaps *caps = gst_caps_from_string (caps_str);
  gboolean ok;

  fail_unless (caps != NULL);
  ok = gst_pad_query_accept_caps (pad, caps);
  gst_caps_unref (caps);
  gst_object_unref (pad);
  return ok;
}

void
mmdnn_check_state_cycles (GstElement *e, guint n)
{
  for (guint i = 0; i < n; i++) {
    fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PLAYING),
        GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (gst_element_set_state (e, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
  }
}

void
mmdnn_check_ready_cycles (GstHarness *h, guint n)
{
  for (guint i = 0; i < n; i++) {
    fail_unless_equals_int (gst_element_set_state (h->element,
            GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
    gst_harness_play (h);
  }
}

void
mmdnn_check_restart_with_model (GstHarness *h, const gchar *model)
{
  fail_unless_equals_int (gst_element_set_state (h->element,
          GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  g_object_set (h->element, "model", model, NULL);
  gst_harness_play (h);
}

void
mmdnn_check_features_caps (GstHarness *h, const gchar *model_id,
    gint tokens, gint dim)
{
  GstCaps *caps = gst_pad_get_current_caps (h->sinkpad);
  const gchar *id = NULL;
  gint k = 0, d = 0;

  fail_unless (caps != NULL, "no caps downstream");
  fail_unless (gst_mmdnn_features_caps_parse (caps, NULL, &k, &d, &id),
      "not features caps: %" GST_PTR_FORMAT, caps);
  fail_unless_equals_string (id, model_id);
  fail_unless_equals_int (k, tokens);
  fail_unless_equals_int (d, dim);
  gst_caps_unref (caps);
}

gboolean
mmdnn_check_run_to_eos (GstElement *pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  gboolean ok;

  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, mmdnn_check_timeout (30),
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  ok = GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;
  gst_message_unref (msg);
  gst_object_unref (bus);
  return ok;
}

void
mmdnn_check_refuse_caps_event (GstHarness *h, GstCaps *caps)
{
  GstPad *sink = gst_element_get_static_pad (h->element, "sink");

  fail_if (gst_pad_send_event (sink, gst_event_new_caps (caps)),
      "caps event %" GST_PTR_FORMAT " handled", caps);
  gst_pad_push_event (h->srcpad, gst_event_new_caps (caps));
  gst_object_unref (sink);
}

void
mmdnn_check_push_not_negotiated (GstHarness *h, GstBuffer *buf)
{
  GstSegment seg;

  gst_segment_init (&seg, GST_FORMAT_TIME);
  gst_pad_push_event (h->srcpad, gst_event_new_segment (&seg));
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_NOT_NEGOTIATED);
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
}

guint
mmdnn_check_count_events (GstHarness *h, GstEventType type)
{
  GstEvent *ev;
  guint n = 0;

  while ((ev = gst_harness_try_pull_event (h)) != NULL) {
    n += GST_EVENT_TYPE (ev) == type;
    gst_event_unref (ev);
  }
  return n;
}

void
mmdnn_check_assert_features_equal (GstBuffer *out, const float *ref,
    gsize n_bytes)
{
  GstMapInfo map;
  const float *f;
  gboolean varied = FALSE;

  fail_unless (gst_buffer_map (out, &map, GST_MAP_READ));
  fail_unless_equals_uint64 (map.size, n_bytes);
  fail_unless (memcmp (map.data, ref, n_bytes) == 0,
      "the element's features differ from the core's");
  f = (const float *) map.data;
  for (gsize i = 1; i < n_bytes / sizeof (float); i++)
    varied |= f[i] != f[0];
  fail_unless (varied && isfinite (f[0]));
  gst_buffer_unmap (out, &map);
}

/* ------------------------------------------------------------------- bus */

GstBus *
mmdnn_check_attach_bus (GstElement *e)
{
  GstBus *bus = gst_bus_new ();

  gst_element_set_bus (e, bus);
  return bus;
}

void
mmdnn_check_detach_bus (GstElement *e, GstBus *bus)
{
  gst_element_set_bus (e, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

void
mmdnn_check_expect_message (GstBus *bus, GstMessageType type, GQuark domain,
    gint code, const gchar *text)
{
  GstMessage *msg = gst_bus_pop_filtered (bus, type);
  GError *error = NULL;
  gchar *debug = NULL;

  fail_unless (msg != NULL, "no %s message on the bus",
      gst_message_type_get_name (type));
  if (type == GST_MESSAGE_ERROR)
    gst_message_parse_error (msg, &error, &debug);
  else
    gst_message_parse_warning (msg, &error, &debug);
  fail_unless (error->domain == domain, "domain %s, expected %s",
      g_quark_to_string (error->domain), g_quark_to_string (domain));
  fail_unless_equals_int (error->code, code);
  if (text != NULL)
    fail_unless_equals_string (error->message, text);
  GST_INFO ("%s (%s)", error->message, debug);
  g_error_free (error);
  g_free (debug);
  gst_message_unref (msg);
}

GError *
mmdnn_check_start_error (const gchar *factory, const gchar *model)
{
  GstElement *e = gst_object_ref_sink (mmdnn_check_make_element (factory,
          model));
  GstBus *bus = mmdnn_check_attach_bus (e);
  GstMessage *msg;
  GError *err = NULL;
  gchar *dbg = NULL;

  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message for %s", GST_STR_NULL (model));
  fail_unless (GST_MESSAGE_SRC (msg) == GST_OBJECT (e));
  gst_message_parse_error (msg, &err, &dbg);
  GST_INFO ("%s: %s (%s)", GST_STR_NULL (model), err->message, dbg);
  g_free (dbg);
  gst_message_unref (msg);
  /* no second message, and the element goes back to NULL */
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  mmdnn_check_detach_bus (e, bus);
  gst_object_unref (e);
  return err;
}

void
mmdnn_check_expect_start_failure (const gchar *factory, const gchar *model,
    GQuark domain, gint code)
{
  GError *err = mmdnn_check_start_error (factory, model);

  fail_unless (err->domain == domain, "%s: domain %s, expected %s",
      GST_STR_NULL (model), g_quark_to_string (err->domain),
      g_quark_to_string (domain));
  fail_unless_equals_int (err->code, code);
  g_error_free (err);
}

void
mmdnn_check_expect_bad_model_file (const gchar *factory, const void *data,
    gsize size, GQuark domain, gint code)
{
  gchar *dir = mmdnn_check_make_tmp_dir ("mmdnncheck-XXXXXX");
  gchar *path = g_build_filename (dir, "bad.safetensors", NULL);

  mmdnn_check_write_file (path, data, size);
  mmdnn_check_expect_start_failure (factory, path, domain, code);
  g_free (path);
  mmdnn_check_remove_tmp_dir (dir);
}

gchar *
mmdnn_check_read_default_model (gsize *size)
{
  GError *error = NULL;
  gchar *data = NULL;

  fail_unless (g_file_get_contents (mmdnn_check_default_model_path (), &data,
          size, &error), "%s", error ? error->message : "?");
  return data;
}

void
mmdnn_check_expect_model_without_encoder (const gchar *factory,
    const gchar *modalities, guint64 seed)
{
  gchar *dir = mmdnn_check_make_tmp_dir ("mmdnncheck-XXXXXX");
  gchar *path = mmdnn_check_write_tiny_model (dir, "other.safetensors",
      "other-modalities", modalities, seed);

  mmdnn_check_expect_start_failure (factory, path, GST_STREAM_ERROR,
      GST_STREAM_ERROR_WRONG_TYPE);
  g_free (path);
  mmdnn_check_remove_tmp_dir (dir);
}

void
mmdnn_check_model_unchanged_in_playing (GstHarness *h)
{
  gchar *model = NULL;

  fail_unless (GST_STATE (h->element) == GST_STATE_PLAYING);
  g_object_set (h->element, "model", "/somewhere/else.safetensors", NULL);
  g_object_get (h->element, "model", &model, NULL);
  fail_unless (model == NULL, "model changed to %s in PLAYING", model);
}
