/* mmdnn — tests of mmdnnfuse, with GstHarness: windows, selection, values
 * equal to the core's fuse stage called directly, live timeouts, EOS, pad
 * release, mute, QoS, and the caps and models it must refuse.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <json-glib/json-glib.h>
#include <mmdnn/mmdnn.h>

#include "gstmmdnnmeta.h"
#include "gstmmdnnutils.h"
#include "mmdnncheck.h"

#define MS GST_MSECOND
#define SEC GST_SECOND
#define V MMDNN_MODALITY_VIDEO
#define A MMDNN_MODALITY_AUDIO
#define T MMDNN_MODALITY_TEXT
#define NONE_SEED G_MAXUINT
#define MAX_C 16
#define MAX_D 64

/* written once by main () in a temporary folder, loaded there too (the
 * forked tests inherit them) */
static gchar *tmpdir, *model3_path, *model2_path, *corrupt_path;
static MmdnnModel *model3, *model2;

static const char model_json[] =
  "{\n"
  "  \"model_id\": \"%s\",\n"
  "  \"modalities\": [%s],\n"
  "  \"preprocessing\": {\n"
  "    \"video\": {\"channels\": 1, \"height\": 16, \"width\": 16},\n"
  "    \"audio\": {\"n_mels\": 16, \"patch_frames\": 16},\n"
  "    \"text\": {\"buckets\": 97, \"max_tokens\": 4, \"max_ids_per_token\": 3}\n"
  "  },\n"
  "  \"encoders\": {\n"
  "    \"video\": {\"grid_h\": 2, \"grid_w\": 2, \"ae_width\": 2, \"ae_latent\": 3,\n"
  "              \"ms_width\": 2, \"ms_width2\": 4, \"ms_width3\": 5, \"sal_width\": 3},\n"
  "    \"audio\": {\"grid_h\": 1, \"grid_w\": 2, \"ae_width\": 2, \"ae_latent\": 3,\n"
  "              \"ms_width\": 2, \"ms_width2\": 4, \"ms_width3\": 5, \"sal_width\": 3},\n"
  "    \"text\": {\"embed\": 4, \"ae_latent\": 3, \"ms_width\": 2, \"ms_width2\": 4,\n"
  "             \"sal_width\": 3}\n"
  "  },\n"
  "  \"fusion\": {\"dim\": 8, \"attn_hidden\": 4},\n"
  "  \"tasks\": [\n"
  "    {\"name\": \"class\", \"classes\": [\"Sneaker\", \"Bag\", \"T-shirt/top\"]},\n"
  "    {\"name\": \"speaker_gender\", \"classes\": [\"female\", \"male\"]}\n"
  "  ],\n"
  "  \"loss\": {\"disc_hidden\": 4}\n"
  "}\n";

static MmdnnModel *
write_model (const gchar *id, const gchar *modalities, const gchar *path)
{
  GError *err = NULL;
  gchar *json = g_strdup_printf (model_json, id, modalities);
  MmdnnModelConfig *c = mmdnn_model_config_from_json (json, -1, &err);
  MmdnnModel *m;

  g_assert_no_error (err);
  m = mmdnn_model_new (c, 11, 1, &err);
  g_assert_no_error (err);
  g_assert_true (mmdnn_model_save (m, path, &err));
  mmdnn_model_config_free (c);
  g_free (json);
  mmdnn_model_free (m);
  m = mmdnn_model_load (path, 1, &err);
  g_assert_no_error (err);
  return m;
}

/* ------------------------------------------------------------- features */

static gint
tokens_of (const MmdnnModel *m, int mod)
{
  return (gint) m->config->fusion.tokens[mod];
}

static gint
dim_of (const MmdnnModel *m)
{
  return (gint) m->config->fusion.dim;
}

/* Deterministic K×D features of @seed; a text block has its last rows
 * zero (padding), how many depending on the seed. */
static void
features_values (const MmdnnModel *m, int mod, guint seed, float *v)
{
  gint k = tokens_of (m, mod), d = dim_of (m);
  guint32 x = seed * 2654435761u + 12345u;

  for (gint i = 0; i < k * d; i++) {
    x = x * 1664525u + 1013904223u;
    v[i] = (float) (x >> 8) / 16777216.0f * 2.0f - 1.0f;
  }
  if (mod == T) {
    gint real = 1 + (gint) (seed % (guint) k);

    memset (v + real * d, 0, sizeof (float) * (gsize) (k - real) * d);
  }
}

static GstBuffer *
features_buffer (const MmdnnModel *m, int mod, guint seed, GstClockTime pts,
    GstClockTime dur)
{
  gsize n = (gsize) tokens_of (m, mod) * dim_of (m);
  float *v = g_new (float, n);
  GstBuffer *buf;

  features_values (m, mod, seed, v);
  buf = gst_buffer_new_wrapped (v, n * sizeof (float));
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = dur;
  return buf;
}

static GstBuffer *
empty_cue (const MmdnnModel *m, GstClockTime pts, GstClockTime dur)
{
  gsize size = sizeof (float) * tokens_of (m, T) * dim_of (m);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);

  gst_buffer_memset (buf, 0, 0, size);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = dur;
  return buf;
}

static GstCaps *
features_caps (const MmdnnModel *m, int mod)
{
  return gst_mmdnn_features_caps_new (mod, tokens_of (m, mod), dim_of (m),
      m->config->model_id);
}

/* -------------------------------------------------------- the reference */

typedef struct
{
  float presence[MMDNN_N_MODALITIES];
  gint n_classes[MMDNN_MAX_TASKS];
  float probs[MMDNN_MAX_TASKS][MAX_C];
  float omega[MMDNN_N_MODALITIES];
  float fused[MAX_D];
} Expect;

/* What the core's fuse stage gives for the features of these seeds
 * (NONE_SEED: the modality missing). */
static void
expect (const MmdnnModel *m, guint sv, guint sa, guint st, Expect *e)
{
  guint seeds[MMDNN_N_MODALITIES] = { sv, sa, st };
  float *tok[MMDNN_N_MODALITIES] = { NULL, };
  const float *masks[MMDNN_N_MODALITIES] = { NULL, };
  float mask[4096];
  GError *err = NULL;
  MmdnnFuseStage *stage;
  MmdnnOutputs out;

  memset (e, 0, sizeof (*e));
  for (int mod = 0; mod < MMDNN_N_MODALITIES; mod++) {
    if (seeds[mod] == NONE_SEED)
      continue;
    tok[mod] = g_new (float, (gsize) tokens_of (m, mod) * dim_of (m));
    features_values (m, mod, seeds[mod], tok[mod]);
    e->presence[mod] = 1.0f;
    if (mod == T) {
      mmdnn_tokens_mask (tok[mod], tokens_of (m, T), dim_of (m), mask);
      masks[mod] = mask;
    }
  }
  stage = mmdnn_fuse_stage_new (m, 1, &err);
  g_assert_no_error (err);
  g_assert_true (mmdnn_fuse_stage_run (stage, m,
          (const float *const *) tok, masks, e->presence, 1, &out, &err));
  g_assert_no_error (err);
  for (int t = 0; t < m->config->n_tasks; t++) {
    e->n_classes[t] = (gint) m->config->tasks[t].n_classes;
    memcpy (e->probs[t], out.probs[t], sizeof (float) * e->n_classes[t]);
  }
  memcpy (e->omega, out.modality_weights, sizeof (e->omega));
  memcpy (e->fused, out.fused, sizeof (float) * dim_of (m));
  mmdnn_fuse_stage_free (stage);
  for (int mod = 0; mod < MMDNN_N_MODALITIES; mod++)
    g_free (tok[mod]);
}

static gchar *
expected_line (const MmdnnModel *m, const Expect *e)
{
  gint best = 0;

  for (gint k = 1; k < e->n_classes[0]; k++)
    if (e->probs[0][k] > e->probs[0][best])
      best = k;
  return g_strdup_printf ("%s %d%%", m->config->tasks[0].classes[best],
      (int) lround (e->probs[0][best] * 100.0));
}

/* @out: its meta holds exactly @e's probabilities, weights and presence,
 * its payload @e's fused vector (features) or label line (text). */
static void
check_output (const MmdnnModel *m, GstBuffer *out, const Expect *e,
    gboolean fused)
{
  GstMmdnnResultMeta *meta = gst_buffer_get_mmdnn_result_meta (out);
  GstMapInfo map;

  fail_unless (meta != NULL);
  fail_unless_equals_int (meta->n_tasks, m->config->n_tasks);
  for (guint t = 0; t < meta->n_tasks; t++) {
    fail_unless_equals_int (meta->tasks[t].n_classes, e->n_classes[t]);
    fail_unless (memcmp (meta->tasks[t].probs, e->probs[t],
            sizeof (float) * e->n_classes[t]) == 0,
        "task %u differs in the window at %" GST_TIME_FORMAT, t,
        GST_TIME_ARGS (GST_BUFFER_PTS (out)));
  }
  fail_unless (memcmp (meta->weights, e->omega, sizeof (e->omega)) == 0);
  for (int mod = 0; mod < MMDNN_N_MODALITIES; mod++)
    fail_unless_equals_int (meta->present[mod], e->presence[mod] != 0.0f);

  fail_unless (gst_buffer_map (out, &map, GST_MAP_READ));
  if (fused) {
    fail_unless_equals_int (map.size, sizeof (float) * dim_of (m));
    fail_unless (memcmp (map.data, e->fused, map.size) == 0,
        "fused vector differs from the core's");
  } else {
    gchar *line = expected_line (m, e);
    gchar *got = g_strndup ((const gchar *) map.data, map.size);

    fail_unless_equals_string (got, line);
    g_free (got);
    g_free (line);
  }
  gst_buffer_unmap (out, &map);
}

/* ------------------------------------------------------------ harnesses */

static GstElement *
fuse_new (const gchar *model_path, GstBus *bus)
{
  GstElement *el = gst_element_factory_make ("mmdnnfuse", NULL);

  fail_unless (el != NULL);
  g_object_set (el, "model", model_path, NULL);
  if (bus != NULL)
    gst_element_set_bus (el, bus);
  return el;
}

/* A harness feeding sink_@i (and pulling from src when @with_src). */
static GstHarness *
fuse_pad (GstElement *el, guint i, gboolean with_src)
{
  gchar *name = g_strdup_printf ("sink_%u", i);
  GstHarness *h = gst_harness_new_with_element (el, name,
      with_src ? "src" : NULL);

  g_free (name);
  return h;
}

static GstHarness *
fuse_pad_caps (GstElement *el, guint i, gboolean with_src,
    const MmdnnModel *m, int mod)
{
  GstHarness *h = fuse_pad (el, i, with_src);

  gst_harness_set_src_caps (h, features_caps (m, mod));
  return h;
}

static void
push (GstHarness *h, GstBuffer *buf)
{
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
}

static void
push_eos (GstHarness *h)
{
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
}

/* the next downstream event of @type (others skipped), NULL after 60 s */
static GstEvent *
pull_event_of (GstHarness *h, GstEventType type)
{
  GstEvent *ev;

  while ((ev = gst_harness_pull_event (h)) != NULL) {
    if (GST_EVENT_TYPE (ev) == type)
      return ev;
    gst_event_unref (ev);
  }
  return NULL;
}

static void
check_times (GstBuffer *out, GstClockTime pts, GstClockTime dur)
{
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), pts);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), dur);
}

/* The next output of @h: the 1-s window at @i s, holding what the core
 * gives for these seeds (text output; check_output checks the presence
 * too, so a NONE_SEED modality must be masked, not zeros) */
static void
pull_window (GstHarness *h, guint i, guint sv, guint sa, guint st)
{
  GstBuffer *out = gst_harness_pull (h);
  Expect e;

  fail_unless (out != NULL);
  check_times (out, i * SEC, SEC);
  expect (model3, sv, sa, st, &e);
  check_output (model3, out, &e, FALSE);
  gst_buffer_unref (out);
}

/* A thread pushing a list of buffers (then EOS) into one pad, as an
 * upstream streaming thread would: pads fed at different rates block
 * each other in a single thread. */
typedef struct
{
  GstHarness *h;
  GList *bufs;
  GThread *thread;
} Feeder;

static gpointer
feeder_run (gpointer data)
{
  Feeder *f = data;

  for (GList *l = f->bufs; l != NULL; l = l->next)
    gst_harness_push (f->h, l->data);
  g_list_free (f->bufs);
  f->bufs = NULL;
  gst_harness_push_event (f->h, gst_event_new_eos ());
  return NULL;
}

static void
feeder_start (Feeder *f, GstHarness *h, GList *bufs)
{
  f->h = h;
  f->bufs = bufs;
  f->thread = g_thread_new ("feeder", feeder_run, f);
}

static void
feeder_join (Feeder *f)
{
  g_thread_join (f->thread);
}

static GstMessage *
pop_message (GstBus *bus, GstMessageType type)
{
  return gst_bus_timed_pop_filtered (bus, mmdnn_check_timeout (10), type);
}

/* Pops the next error; checks its domain and code; returns its text. */
static gchar *
pop_error (GstBus *bus, GQuark domain, gint code)
{
  GstMessage *msg = pop_message (bus, GST_MESSAGE_ERROR);
  GError *err = NULL;
  gchar *dbg = NULL, *text;

  fail_unless (msg != NULL, "no error message");
  gst_message_parse_error (msg, &err, &dbg);
  fail_unless (err->domain == domain, "error domain %s, not %s",
      g_quark_to_string (err->domain), g_quark_to_string (domain));
  fail_unless_equals_int (err->code, code);
  text = g_strdup (err->message);
  GST_INFO ("error: %s (%s)", err->message, dbg);
  g_error_free (err);
  g_free (dbg);
  gst_message_unref (msg);
  return text;
}

/* the next mmdnn-result message */
static const GstStructure *
pop_result (GstBus *bus, GstMessage **msg)
{
  for (;;) {
    *msg = pop_message (bus, GST_MESSAGE_ELEMENT);
    fail_unless (*msg != NULL, "no mmdnn-result message");
    if (gst_message_has_name (*msg, "mmdnn-result"))
      return gst_message_get_structure (*msg);
    gst_message_unref (*msg);
  }
}

static guint
count_results (GstBus *bus)
{
  GstMessage *msg;
  guint n = 0;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT)) != NULL) {
    n += gst_message_has_name (msg, "mmdnn-result");
    gst_message_unref (msg);
  }
  return n;
}

static void
bus_done (GstElement *el, GstBus *bus)
{
  gst_element_set_bus (el, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

/* ====================================================== positive tests */

GST_START_TEST (test_two_pads_fused)
{
  GstElement *el = fuse_new (model3_path, NULL);
  GstHarness *h0 = fuse_pad (el, 0, TRUE);
  GstHarness *h1 = fuse_pad (el, 1, FALSE);
  GstCaps *caps;
  gint dim = 0;
  const gchar *id;
  int mod;

  gst_harness_set_sink_caps_str (h0, GST_MMDNN_FEATURES_MEDIA_TYPE);
  gst_harness_set_src_caps (h0, features_caps (model3, V));
  gst_harness_set_src_caps (h1, features_caps (model3, A));

  for (guint i = 0; i < 3; i++) {
    Expect e;
    GstBuffer *out;

    push (h0, features_buffer (model3, V, 10 + i, i * SEC, SEC));
    push (h1, features_buffer (model3, A, 20 + i, i * SEC, SEC));
    out = gst_harness_pull (h0);
    fail_unless (out != NULL);
    check_times (out, i * SEC, SEC);
    expect (model3, 10 + i, 20 + i, NONE_SEED, &e);
    check_output (model3, out, &e, TRUE);
    gst_buffer_unref (out);
  }

  caps = gst_pad_get_current_caps (h0->sinkpad);
  fail_unless (gst_mmdnn_features_caps_parse (caps, &mod, NULL, &dim, &id));
  fail_unless_equals_int (mod, GST_MMDNN_MODALITY_FUSED);
  fail_unless_equals_int (dim, dim_of (model3));
  fail_unless_equals_string (id, "fuse-test-3");
  gst_caps_unref (caps);

  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  gst_object_unref (el);
}
GST_END_TEST;

GST_START_TEST (test_three_pads_text)
{
  GstElement *el = fuse_new (model3_path, NULL);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, A);
  GstHarness *h2 = fuse_pad_caps (el, 2, FALSE, model3, T);
  GstCaps *caps;

  for (guint i = 0; i < 2; i++) {
    Expect e;
    GstBuffer *out;

    push (h0, features_buffer (model3, V, 30 + i, i * SEC, SEC));
    push (h1, features_buffer (model3, A, 40 + i, i * SEC, SEC));
    push (h2, features_buffer (model3, T, 50 + i, i * SEC, SEC));
    out = gst_harness_pull (h0);
    fail_unless (out != NULL);
    check_times (out, i * SEC, SEC);
    expect (model3, 30 + i, 40 + i, 50 + i, &e);
    check_output (model3, out, &e, FALSE);
    gst_buffer_unref (out);
  }
  caps = gst_pad_get_current_caps (h0->sinkpad);
  fail_unless (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "text/x-raw"));
  fail_unless_equals_string (gst_structure_get_string
      (gst_caps_get_structure (caps, 0), "format"), "utf8");
  gst_caps_unref (caps);

  gst_harness_teardown (h2);
  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  gst_object_unref (el);
}
GST_END_TEST;

/* video features 10/s, audio 1/s, subtitle cues of 2 s, windows of 1 s */
GST_START_TEST (test_different_rates)
{
  GstElement *el = fuse_new (model3_path, NULL);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, A);
  GstHarness *h2 = fuse_pad_caps (el, 2, FALSE, model3, T);
  GList *vb = NULL, *ab = NULL, *tb = NULL;
  Feeder fv, fa, ft;
  GstEvent *ev;

  for (guint j = 0; j < 40; j++)
    vb = g_list_append (vb, features_buffer (model3, V, 100 + j,
            j * 100 * MS, 100 * MS));
  for (guint j = 0; j < 4; j++)
    ab = g_list_append (ab, features_buffer (model3, A, 200 + j, j * SEC,
            SEC));
  for (guint j = 0; j < 2; j++)
    tb = g_list_append (tb, features_buffer (model3, T, 300 + j,
            j * 2 * SEC, 2 * SEC));
  feeder_start (&fv, h0, vb);
  feeder_start (&fa, h1, ab);
  feeder_start (&ft, h2, tb);

  for (guint i = 0; i < 4; i++) {
    GstBuffer *out = gst_harness_pull (h0);
    Expect e;

    fail_unless (out != NULL);
    check_times (out, i * SEC, SEC);
    /* video: the frame on screen at the centre i + .5 s, the one starting
     * there ([i+.4, i+.5) has just ended); audio: the one second; text:
     * the 2 s cue around it */
    expect (model3, 100 + 10 * i + 5, 200 + i, 300 + i / 2, &e);
    check_output (model3, out, &e, FALSE);
    gst_buffer_unref (out);
  }
  ev = pull_event_of (h0, GST_EVENT_EOS);
  fail_unless (ev != NULL);
  gst_event_unref (ev);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h0), 0);

  feeder_join (&fv);
  feeder_join (&fa);
  feeder_join (&ft);
  gst_harness_teardown (h2);
  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  gst_object_unref (el);
}
GST_END_TEST;

static GList *
spans (GList *l, int mod, const guint64 (*span)[3], guint n)
{
  for (guint i = 0; i < n; i++) {
    GstBuffer *b = span[i][2] == 0 ? empty_cue (model3, span[i][0] * MS,
        (span[i][1] - span[i][0]) * MS)
        : features_buffer (model3, mod, (guint) span[i][2], span[i][0] * MS,
        (span[i][1] - span[i][0]) * MS);

    l = g_list_append (l, b);
  }
  return l;
}

/* the selection rules, window by window (see the SECTION doc) */
GST_START_TEST (test_selection_rules)
{
  static const guint64 video[][3] = {
    {0, 200, 1}, {350, 550, 2}, {600, 900, 3},  /* W0: on screen at .5: 2 */
    {1300, 1500, 4}, {1500, 1700, 5},           /* W1: 5 starts at 1.5 */
    {2000, 3000, 6},
  };
  static const guint64 audio[][3] = {
    {0, 300, 11}, {300, 900, 12}, {900, 1500, 13},      /* W0: most: 12 */
    {1500, 2000, 14},           /* W1: 13 and 14 overlap as much: 14 nearer */
    {2000, 3000, 15},
  };
  static const guint64 text[][3] = {
    {0, 500, 21}, {500, 1000, 22},      /* W0: a tie: the later */
    {1000, 3000, 23}, {1200, 1400, 0},  /* W1, W2: the long cue; the
                                         * empty cue is no text */
  };
  static const guint expected[3][3] = {
    {2, 12, 22}, {5, 14, 23}, {6, 15, 23},
  };
  GstElement *el = fuse_new (model3_path, NULL);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, A);
  GstHarness *h2 = fuse_pad_caps (el, 2, FALSE, model3, T);
  Feeder fv, fa, ft;
  Expect e, other;

  gst_harness_set_sink_caps_str (h0, GST_MMDNN_FEATURES_MEDIA_TYPE);
  feeder_start (&fv, h0, spans (NULL, V, video, G_N_ELEMENTS (video)));
  feeder_start (&fa, h1, spans (NULL, A, audio, G_N_ELEMENTS (audio)));
  feeder_start (&ft, h2, spans (NULL, T, text, G_N_ELEMENTS (text)));

  for (guint i = 0; i < 3; i++) {
    GstBuffer *out = gst_harness_pull (h0);

    fail_unless (out != NULL);
    check_times (out, i * SEC, SEC);
    expect (model3, expected[i][0], expected[i][1], expected[i][2], &e);
    check_output (model3, out, &e, TRUE);
    gst_buffer_unref (out);
  }
  /* the choices matter: another video buffer gives another result */
  expect (model3, 4, 14, 23, &other);
  expect (model3, 5, 14, 23, &e);
  fail_if (memcmp (e.fused, other.fused, sizeof (e.fused)) == 0);

  feeder_join (&fv);
  feeder_join (&fa);
  feeder_join (&ft);
  gst_harness_teardown (h2);
  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  gst_object_unref (el);
}
GST_END_TEST;

/* Video, window by window: the frame on screen at the window's centre
 * (see the SECTION doc), by its start (PTS), not by the centre of its
 * span. Windows of 1 s; an audio buffer per window keeps them going. */
GST_START_TEST (test_video_on_screen)
{
  /* in W1 to W3 the pick differs from the frame whose span is centred
   * nearest the window's centre */
  static const guint64 video[][3] = {
    /* W0, centre .5: nothing shows yet: the first frame after it */
    {600, 700, 1}, {700, 1000, 2},
    /* W1, centre 1.5: 3 is at the window's start; 4 ended at 1.3 but is
     * the last frame shown before 1.5 (nothing replaced it); 5 comes
     * after (its span's centre, 1.65, is the nearest) */
    {1000, 1100, 3}, {1200, 1300, 4}, {1600, 1700, 5},
    /* W2, centre 2.5: 6 started before the window and spans its centre
     * (a max-rate frame standing for the dropped ones); 7, centred at
     * 2.625, starts after 2.5 */
    {1700, 2600, 6}, {2550, 2700, 7},
    /* W3, centre 3.5: two frames at 3.0 (at W2's end edge: not in W2):
     * the later arrival */
    {3000, 3200, 8}, {3000, 3100, 9},
  };
  static const guint expected[4] = { 1, 4, 6, 9 };
  GstElement *el = fuse_new (model3_path, NULL);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, A);
  GList *ab = NULL;
  Feeder fv, fa;
  Expect e, other;

  for (guint j = 0; j < 4; j++)
    ab = g_list_append (ab, features_buffer (model3, A, 20 + j, j * SEC,
            SEC));
  feeder_start (&fv, h0, spans (NULL, V, video, G_N_ELEMENTS (video)));
  feeder_start (&fa, h1, ab);

  for (guint i = 0; i < 4; i++) {
    pull_window (h0, i, expected[i], 20 + i, NONE_SEED);
    /* the choice matters: its neighbour gives another result */
    expect (model3, expected[i], 20 + i, NONE_SEED, &e);
    expect (model3, expected[i] + 1, 20 + i, NONE_SEED, &other);
    fail_if (memcmp (e.fused, other.fused, sizeof (e.fused)) == 0);
  }

  feeder_join (&fv);
  feeder_join (&fa);
  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  gst_object_unref (el);
}
GST_END_TEST;

/* hop < window: overlapping windows; the output tiles the timeline */
GST_START_TEST (test_hop_timestamps)
{
  GstElement *el = fuse_new (model3_path, NULL);
  GstHarness *h0, *h1;
  GstEvent *ev;

  g_object_set (el, "window", SEC, "hop", 500 * MS, NULL);
  h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  h1 = fuse_pad_caps (el, 1, FALSE, model3, A);
  for (guint j = 0; j < 4; j++) {
    push (h0, features_buffer (model3, V, 60 + j, j * 500 * MS, 500 * MS));
    push (h1, features_buffer (model3, A, 70 + j, j * 500 * MS, 500 * MS));
  }
  push_eos (h0);
  push_eos (h1);

  /* windows at 0, .5, 1, 1.5 s. Video: the frame on screen at the centre
   * (i + 1)·.5 s, the one starting there, 61 + i; audio: of the two equally
   * good candidates (both whole in the window, centres equally far), the
   * earlier, the one starting with the window, 70 + i. [1.5, 2.5) only has
   * the last ones (63, 73) */
  for (guint i = 0; i < 4; i++) {
    GstBuffer *out = gst_harness_pull (h0);
    GstMmdnnResultMeta *meta;
    Expect e;

    fail_unless (out != NULL);
    check_times (out, i * 500 * MS, 500 * MS);
    meta = gst_buffer_get_mmdnn_result_meta (out);
    fail_unless_equals_uint64 (meta->running_time, i * 500 * MS);
    fail_unless_equals_uint64 (meta->duration, SEC);
    expect (model3, MIN (61 + i, 63), 70 + i, NONE_SEED, &e);
    check_output (model3, out, &e, FALSE);
    gst_buffer_unref (out);
  }
  ev = pull_event_of (h0, GST_EVENT_EOS);
  fail_unless (ev != NULL);
  gst_event_unref (ev);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h0), 0);

  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  gst_object_unref (el);
}
GST_END_TEST;

GST_START_TEST (test_result_meta)
{
  GstElement *el = fuse_new (model3_path, NULL);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, A);
  GstMmdnnResultMeta *meta;
  GstBuffer *out, *copy;
  float sum = 0.0f;
  Expect e;

  push (h0, features_buffer (model3, V, 1, 0, SEC));
  push (h1, features_buffer (model3, A, 2, 0, 600 * MS));
  /* a gap: nothing more on audio until 1 s */
  fail_unless (gst_harness_push_event (h1,
          gst_event_new_gap (600 * MS, 400 * MS)));
  out = gst_harness_pull (h0);
  fail_unless (out != NULL);
  expect (model3, 1, 2, NONE_SEED, &e);
  check_output (model3, out, &e, FALSE);

  meta = gst_buffer_get_mmdnn_result_meta (out);
  fail_unless_equals_uint64 (meta->running_time, 0);
  fail_unless_equals_uint64 (meta->duration, SEC);
  fail_unless_equals_uint64 (meta->model_version, 1);
  fail_unless_equals_int (meta->n_tasks, 2);
  fail_unless_equals_string (g_quark_to_string (meta->tasks[0].task),
      "class");
  fail_unless_equals_string (g_quark_to_string (meta->tasks[1].task),
      "speaker_gender");
  for (guint t = 0; t < 2; t++) {
    GstMmdnnTaskResult *r = &meta->tasks[t];

    for (guint k = 0; k < r->n_classes; k++)
      fail_unless (r->probs[k] <= r->probs[r->class_id]);
    fail_unless (r->confidence == r->probs[r->class_id]);
    fail_unless (r->label == r->classes[r->class_id]);
  }
  fail_unless_equals_string (g_quark_to_string (meta->tasks[0].classes[2]),
      "T-shirt/top");
  fail_unless (meta->present[V] && meta->present[A] && !meta->present[T]);
  fail_unless (meta->weights[T] == 0.0f);
  for (int m = 0; m < MMDNN_N_MODALITIES; m++)
    sum += meta->weights[m];
  fail_unless (fabsf (sum - 1.0f) < 1e-5f);
  /* video reaches the window's end; audio stopped 400 ms before it; no
   * text pad */
  fail_unless_equals_uint64 (meta->age[V], 0);
  fail_unless_equals_uint64 (meta->age[A], 400 * MS);
  fail_unless_equals_uint64 (meta->age[T], GST_CLOCK_TIME_NONE);

  /* the meta survives a copy */
  copy = gst_buffer_copy (out);
  meta = gst_buffer_get_mmdnn_result_meta (copy);
  fail_unless (meta != NULL);
  fail_unless (memcmp (meta->tasks[0].probs, e.probs[0],
          sizeof (float) * 3) == 0);
  gst_buffer_unref (copy);
  gst_buffer_unref (out);

  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  gst_object_unref (el);
}
GST_END_TEST;

static JsonObject *
member_object (JsonObject *o, const gchar *name)
{
  fail_unless (json_object_has_member (o, name), "no \"%s\"", name);
  return json_object_get_object_member (o, name);
}

GST_START_TEST (test_bus_message)
{
  GstBus *bus = gst_bus_new ();
  GstElement *el = fuse_new (model3_path, bus);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, T);
  const GstStructure *s;
  JsonParser *parser = json_parser_new ();
  JsonObject *root, *tasks, *cls, *probs, *mods;
  GstMmdnnResultMeta *meta;
  GError *err = NULL;
  GstMessage *msg;
  GstBuffer *out;
  guint64 rt = 0, dur = 0;
  gdouble conf = 0;
  const gchar *json, *label;

  push (h0, features_buffer (model3, V, 5, 2 * SEC, SEC));
  push (h1, features_buffer (model3, T, 6, 2 * SEC, SEC));
  /* windows at 0 and 1 s are empty: gaps, no message */
  out = gst_harness_pull (h0);
  fail_unless (out != NULL);
  meta = gst_buffer_get_mmdnn_result_meta (out);

  s = pop_result (bus, &msg);
  fail_unless (GST_MESSAGE_SRC (msg) == GST_OBJECT (el));
  fail_unless (gst_structure_get_uint64 (s, "running-time", &rt));
  fail_unless (gst_structure_get_uint64 (s, "duration", &dur));
  fail_unless (gst_structure_get_double (s, "confidence", &conf));
  label = gst_structure_get_string (s, "label");
  json = gst_structure_get_string (s, "json");
  fail_unless_equals_uint64 (rt, 2 * SEC);
  fail_unless_equals_uint64 (dur, SEC);
  fail_unless_equals_string (label, g_quark_to_string (meta->tasks[0].label));
  fail_unless (conf == (gdouble) meta->tasks[0].confidence);
  fail_unless (json != NULL && strchr (json, '\n') == NULL,
      "the JSON is not one line");

  fail_unless (json_parser_load_from_data (parser, json, -1, &err));
  root = json_node_get_object (json_parser_get_root (parser));
  fail_unless_equals_int (json_object_get_int_member (root, "running_time"),
      2 * SEC);
  fail_unless_equals_int (json_object_get_int_member (root, "duration"), SEC);
  fail_unless_equals_int (json_object_get_int_member (root, "model_version"),
      1);
  tasks = member_object (root, "tasks");
  fail_unless_equals_int (json_object_get_size (tasks), 2);
  cls = member_object (tasks, "class");
  fail_unless_equals_string (json_object_get_string_member (cls, "label"),
      label);
  fail_unless ((float) json_object_get_double_member (cls, "confidence")
      == meta->tasks[0].confidence);
  probs = member_object (cls, "probabilities");
  fail_unless (json_object_has_member (probs, "Sneaker"));
  fail_unless (json_object_has_member (probs, "Bag"));
  fail_unless (json_object_has_member (probs, "T-shirt/top"));
  fail_unless ((float) json_object_get_double_member (probs, "Bag")
      == meta->tasks[0].probs[1]);
  member_object (member_object (tasks, "speaker_gender"), "probabilities");
  mods = member_object (root, "modalities");
  fail_unless (json_object_get_boolean_member (member_object (mods, "video"),
          "present"));
  fail_unless (!json_object_get_boolean_member (member_object (mods,
              "audio"), "present"));
  fail_unless (json_object_get_boolean_member (member_object (mods, "text"),
          "present"));
  fail_unless ((float) json_object_get_double_member (member_object (mods,
              "text"), "weight") == meta->weights[T]);
  fail_unless (json_object_get_double_member (member_object (mods, "audio"),
          "weight") == 0.0);
  fail_unless (json_object_get_null_member (member_object (mods, "audio"),
          "age"));
  fail_unless_equals_int (json_object_get_int_member (member_object (mods,
              "video"), "age"), 0);
  gst_message_unref (msg);
  gst_buffer_unref (out);
  g_object_unref (parser);

  /* one message per result: none for the two empty windows */
  fail_unless_equals_int (count_results (bus), 0);

  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  bus_done (el, bus);
  gst_object_unref (el);
}
GST_END_TEST;

/* live: the audio pad stays silent; the clock passing the window's end
 * (plus the window as latency) emits it with audio masked */
GST_START_TEST (test_live_silent_pad_times_out)
{
  GstElement *el = fuse_new (model3_path, NULL);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, A);
  GstMmdnnResultMeta *meta;
  GstBuffer *out;
  Expect e;

  fail_unless_equals_uint64 (gst_harness_query_latency (h0), SEC);
  push (h0, features_buffer (model3, V, 9, 0, SEC));
  fail_unless_equals_int (gst_harness_buffers_in_queue (h0), 0);
  fail_unless (gst_harness_crank_single_clock_wait (h0));
  out = gst_harness_pull (h0);
  fail_unless (out != NULL);
  check_times (out, 0, SEC);
  fail_unless (gst_clock_get_time (GST_ELEMENT_CLOCK (el)) >= SEC);
  expect (model3, 9, NONE_SEED, NONE_SEED, &e);
  check_output (model3, out, &e, FALSE);
  meta = gst_buffer_get_mmdnn_result_meta (out);
  fail_unless (!meta->present[A] && meta->weights[A] == 0.0f);
  fail_unless (meta->weights[V] == 1.0f);
  gst_buffer_unref (out);

  /* audio arriving later joins the next window */
  push (h0, features_buffer (model3, V, 10, SEC, SEC));
  push (h1, features_buffer (model3, A, 11, SEC, SEC));
  out = gst_harness_pull (h0);
  fail_unless (out != NULL);
  check_times (out, SEC, SEC);
  expect (model3, 10, 11, NONE_SEED, &e);
  check_output (model3, out, &e, FALSE);
  gst_buffer_unref (out);

  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  gst_object_unref (el);
}
GST_END_TEST;

GST_START_TEST (test_eos_one_pad)
{
  GstElement *el = fuse_new (model3_path, NULL);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, A);
  GstBuffer *out;
  GstEvent *ev;
  Expect e;

  push (h0, features_buffer (model3, V, 1, 0, SEC));
  push (h1, features_buffer (model3, A, 2, 0, SEC));
  out = gst_harness_pull (h0);
  expect (model3, 1, 2, NONE_SEED, &e);
  check_output (model3, out, &e, FALSE);
  gst_buffer_unref (out);

  push_eos (h1);
  for (guint i = 1; i < 3; i++) {
    push (h0, features_buffer (model3, V, 1 + i, i * SEC, SEC));
    out = gst_harness_pull (h0);
    fail_unless (out != NULL);
    check_times (out, i * SEC, SEC);
    expect (model3, 1 + i, NONE_SEED, NONE_SEED, &e);
    check_output (model3, out, &e, FALSE);
    gst_buffer_unref (out);
  }
  push_eos (h0);
  ev = pull_event_of (h0, GST_EVENT_EOS);
  fail_unless (ev != NULL);
  gst_event_unref (ev);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h0), 0);

  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  gst_object_unref (el);
}
GST_END_TEST;

GST_START_TEST (test_pad_release_and_request)
{
  GstElement *el = fuse_new (model3_path, NULL);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, A);
  GstHarness *h2;
  GstBuffer *out;
  Expect e;

  push (h0, features_buffer (model3, V, 1, 0, SEC));
  push (h1, features_buffer (model3, A, 2, 0, SEC));
  out = gst_harness_pull (h0);
  gst_buffer_unref (out);

  /* releasing the audio pad while PLAYING */
  gst_harness_teardown (h1);
  fail_unless_equals_int (gst_child_proxy_get_children_count
      (GST_CHILD_PROXY (el)), 1);
  push (h0, features_buffer (model3, V, 3, SEC, SEC));
  out = gst_harness_pull (h0);
  fail_unless (out != NULL);
  check_times (out, SEC, SEC);
  expect (model3, 3, NONE_SEED, NONE_SEED, &e);
  check_output (model3, out, &e, FALSE);
  gst_buffer_unref (out);

  /* and a new one, for text */
  h2 = fuse_pad_caps (el, 2, FALSE, model3, T);
  push (h0, features_buffer (model3, V, 4, 2 * SEC, SEC));
  push (h2, features_buffer (model3, T, 5, 2 * SEC, SEC));
  out = gst_harness_pull (h0);
  fail_unless (out != NULL);
  check_times (out, 2 * SEC, SEC);
  expect (model3, 4, NONE_SEED, 5, &e);
  check_output (model3, out, &e, FALSE);
  gst_buffer_unref (out);

  gst_harness_teardown (h2);
  gst_harness_teardown (h0);
  gst_object_unref (el);
}
GST_END_TEST;

GST_START_TEST (test_mute_child_proxy)
{
  GstElement *el = fuse_new (model3_path, NULL);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, A);
  gboolean mute = FALSE;
  gchar *modality = NULL;
  GstBuffer *out;
  Expect e;

  gst_child_proxy_set (GST_CHILD_PROXY (el), "sink_1::mute", TRUE, NULL);
  gst_child_proxy_get (GST_CHILD_PROXY (el), "sink_1::mute", &mute,
      "sink_1::modality", &modality, NULL);
  fail_unless (mute);
  fail_unless_equals_string (modality, "audio");
  g_free (modality);

  push (h0, features_buffer (model3, V, 1, 0, SEC));
  push (h1, features_buffer (model3, A, 2, 0, SEC));
  out = gst_harness_pull (h0);
  expect (model3, 1, NONE_SEED, NONE_SEED, &e);
  check_output (model3, out, &e, FALSE);
  gst_buffer_unref (out);

  /* unmuted while PLAYING: back in the next window */
  gst_child_proxy_set (GST_CHILD_PROXY (el), "sink_1::mute", FALSE, NULL);
  push (h0, features_buffer (model3, V, 3, SEC, SEC));
  push (h1, features_buffer (model3, A, 4, SEC, SEC));
  out = gst_harness_pull (h0);
  expect (model3, 3, 4, NONE_SEED, &e);
  check_output (model3, out, &e, FALSE);
  gst_buffer_unref (out);

  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  gst_object_unref (el);
}
GST_END_TEST;

/* gst-launch syntax: a pad property after the element, set on the pad
 * when a later link requests it */
GST_START_TEST (test_launch_line_pad_property)
{
  gchar *desc = g_strdup_printf ("mmdnnfuse name=f model=\"%s\" "
      "sink_0::mute=true ! fakesink  fakesrc num-buffers=0 ! f.sink_0",
      model3_path);
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err);
  GstElement *f;
  GstPad *pad;
  gboolean mute = FALSE;

  g_assert_no_error (err);
  f = gst_bin_get_by_name (GST_BIN (pipe), "f");
  pad = gst_element_get_static_pad (f, "sink_0");
  fail_unless (pad != NULL);
  g_object_get (pad, "mute", &mute, NULL);
  fail_unless (mute);
  gst_object_unref (pad);
  gst_object_unref (f);
  gst_object_unref (pipe);
  g_free (desc);
}
GST_END_TEST;

GST_START_TEST (test_start_time_first)
{
  GstElement *el = fuse_new (model3_path, NULL);
  GstHarness *h0, *h1;
  GstBuffer *out;
  Expect e;

  gst_util_set_object_arg (G_OBJECT (el), "start-time-selection", "first");
  h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  h1 = fuse_pad_caps (el, 1, FALSE, model3, A);
  push (h0, features_buffer (model3, V, 1, 5 * SEC + 250 * MS, SEC));
  push (h1, features_buffer (model3, A, 2, 5 * SEC + 250 * MS, SEC));
  out = gst_harness_pull (h0);
  fail_unless (out != NULL);
  check_times (out, 5 * SEC + 250 * MS, SEC);
  expect (model3, 1, 2, NONE_SEED, &e);
  check_output (model3, out, &e, FALSE);
  gst_buffer_unref (out);

  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  gst_object_unref (el);
}
GST_END_TEST;

/* a flush (as a flushing seek makes) forgets the features and starts the
 * windows again */
GST_START_TEST (test_flush_restarts)
{
  GstElement *el = fuse_new (model3_path, NULL);
  GstHarness *h[2];
  GstEvent *start = gst_event_new_flush_start ();
  guint32 seqnum = gst_event_get_seqnum (start);
  GstSegment segment;
  GstBuffer *out;
  Expect e;

  h[0] = fuse_pad_caps (el, 0, TRUE, model3, V);
  h[1] = fuse_pad_caps (el, 1, FALSE, model3, A);
  push (h[0], features_buffer (model3, V, 1, 0, SEC));
  push (h[1], features_buffer (model3, A, 2, 0, SEC));
  out = gst_harness_pull (h[0]);
  gst_buffer_unref (out);
  /* half a window that the flush throws away */
  push (h[0], features_buffer (model3, V, 3, SEC, 500 * MS));

  /* as a seek does it: flush-start everywhere, then flush-stop */
  gst_segment_init (&segment, GST_FORMAT_TIME);
  for (guint i = 0; i < 2; i++)
    fail_unless (gst_harness_push_event (h[i], gst_event_ref (start)));
  gst_event_unref (start);
  for (guint i = 0; i < 2; i++) {
    GstEvent *stop = gst_event_new_flush_stop (TRUE);

    gst_event_set_seqnum (stop, seqnum);
    fail_unless (gst_harness_push_event (h[i], stop));
  }
  for (guint i = 0; i < 2; i++)
    fail_unless (gst_harness_push_event (h[i],
            gst_event_new_segment (&segment)));

  push (h[0], features_buffer (model3, V, 5, 0, SEC));
  push (h[1], features_buffer (model3, A, 6, 0, SEC));
  out = gst_harness_pull (h[0]);
  fail_unless (out != NULL);
  check_times (out, 0, SEC);
  expect (model3, 5, 6, NONE_SEED, &e);
  check_output (model3, out, &e, FALSE);
  gst_buffer_unref (out);

  gst_harness_teardown (h[1]);
  gst_harness_teardown (h[0]);
  gst_object_unref (el);
}
GST_END_TEST;

/* the two-modality model: video and audio work; its caps query offers
 * exactly what it takes */
GST_START_TEST (test_two_modality_model)
{
  GstElement *el = fuse_new (model2_path, NULL);
  GstHarness *h0 = fuse_pad (el, 0, TRUE);
  GstHarness *h1;
  GstCaps *caps;
  GstBuffer *out;
  Expect e;

  caps = gst_pad_peer_query_caps (h0->srcpad, NULL);
  fail_unless_equals_int (gst_caps_get_size (caps), 2);
  for (guint i = 0; i < 2; i++) {
    int mod = -1;
    gint k = 0;

    fail_unless (gst_structure_get_int (gst_caps_get_structure (caps, i),
            "tokens", &k));
    mod = gst_mmdnn_modality_from_string (gst_structure_get_string
        (gst_caps_get_structure (caps, i), "modality"));
    fail_unless (mod == V || mod == A);
    fail_unless_equals_int (k, tokens_of (model2, mod));
  }
  gst_caps_unref (caps);

  gst_harness_set_src_caps (h0, features_caps (model2, V));
  h1 = fuse_pad_caps (el, 1, FALSE, model2, A);
  /* the video pad's modality is no longer offered to the other pad */
  caps = gst_pad_peer_query_caps (h1->srcpad, NULL);
  fail_unless_equals_int (gst_caps_get_size (caps), 1);
  fail_unless_equals_string (gst_structure_get_string
      (gst_caps_get_structure (caps, 0), "modality"), "audio");
  gst_caps_unref (caps);

  push (h0, features_buffer (model2, V, 1, 0, SEC));
  push (h1, features_buffer (model2, A, 2, 0, SEC));
  out = gst_harness_pull (h0);
  expect (model2, 1, 2, NONE_SEED, &e);
  check_output (model2, out, &e, FALSE);
  gst_buffer_unref (out);

  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  gst_object_unref (el);
}
GST_END_TEST;

/* ====================================================== negative tests */

/* Pushes @caps (transfer full) into @h: refused, an error naming the pad
 * and @needle, and a buffer after it is not-negotiated. */
static void
check_refused (GstHarness *h, GstBus *bus, GstCaps *caps, const gchar *pad,
    const gchar *needle)
{
  GstSegment segment;
  gchar *text;

  /* a sticky event counts as handled even when refused: the buffer after
   * it tells */
  gst_pad_push_event (h->srcpad, gst_event_new_caps (caps));
  gst_caps_unref (caps);
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_push_event (h->srcpad, gst_event_new_segment (&segment));
  text = pop_error (bus, GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE);
  fail_unless (strstr (text, pad) != NULL, "\"%s\" does not name %s", text,
      pad);
  fail_unless (strstr (text, needle) != NULL, "\"%s\" does not say \"%s\"",
      text, needle);
  g_free (text);
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_new ()),
      GST_FLOW_NOT_NEGOTIATED);
  /* reported once, not again for the retries */
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);
}

static void
refused_caps_test (const gchar *model, GstCaps *caps, const gchar *needle)
{
  GstBus *bus = gst_bus_new ();
  GstElement *el = fuse_new (model, bus);
  GstHarness *h0 = fuse_pad (el, 0, TRUE);

  check_refused (h0, bus, caps, "sink_0", needle);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h0), 0);
  gst_harness_teardown (h0);
  bus_done (el, bus);
  gst_object_unref (el);
}

/* Caps change mid-stream: the same caps again on a pad change nothing;
 * caps of another dimension on sink_1 after two windows: refused with an
 * error naming the pad and the dimension, the next buffer NOT_NEGOTIATED;
 * the model's caps again and the windows go on, exactly as before. */
GST_START_TEST (test_caps_change_n)
{
  GstBus *bus = gst_bus_new ();
  GstElement *el = fuse_new (model3_path, bus);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, A);

  push (h0, features_buffer (model3, V, 1, 0, SEC));
  push (h1, features_buffer (model3, A, 2, 0, SEC));
  pull_window (h0, 0, 1, 2, NONE_SEED);
  gst_harness_set_src_caps (h0, features_caps (model3, V));
  push (h0, features_buffer (model3, V, 3, SEC, SEC));
  push (h1, features_buffer (model3, A, 4, SEC, SEC));
  pull_window (h0, 1, 3, 4, NONE_SEED);

  check_refused (h1, bus, gst_mmdnn_features_caps_new (A, tokens_of (model3,
              A), dim_of (model3) + 1, NULL), "sink_1", "dimension");
  gst_harness_set_src_caps (h1, features_caps (model3, A));
  push (h0, features_buffer (model3, V, 5, 2 * SEC, SEC));
  push (h1, features_buffer (model3, A, 6, 2 * SEC, SEC));
  pull_window (h0, 2, 5, 6, NONE_SEED);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);

  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  bus_done (el, bus);
  gst_object_unref (el);
}
GST_END_TEST;

GST_START_TEST (test_caps_wrong_dim_n)
{
  refused_caps_test (model3_path, gst_mmdnn_features_caps_new (V,
          tokens_of (model3, V), dim_of (model3) + 1, NULL), "dimension");
}
GST_END_TEST;

GST_START_TEST (test_caps_wrong_tokens_n)
{
  refused_caps_test (model3_path, gst_mmdnn_features_caps_new (A,
          tokens_of (model3, A) + 3, dim_of (model3), NULL), "tokens");
}
GST_END_TEST;

GST_START_TEST (test_caps_wrong_model_id_n)
{
  refused_caps_test (model3_path, gst_mmdnn_features_caps_new (V,
          tokens_of (model3, V), dim_of (model3), "another-model"),
      "another-model");
}
GST_END_TEST;

GST_START_TEST (test_caps_modality_model_lacks_n)
{
  refused_caps_test (model2_path, gst_mmdnn_features_caps_new (T,
          tokens_of (model3, T), dim_of (model2), "fuse-test-2"), "text");
}
GST_END_TEST;

GST_START_TEST (test_caps_not_features_n)
{
  refused_caps_test (model3_path,
      gst_caps_from_string ("video/x-raw, format=RGB, width=16, height=16"),
      "video/x-raw");
}
GST_END_TEST;

GST_START_TEST (test_caps_fused_on_sink_n)
{
  refused_caps_test (model3_path,
      gst_mmdnn_features_caps_new (GST_MMDNN_MODALITY_FUSED, 1,
          dim_of (model3), NULL), "fused");
}
GST_END_TEST;

GST_START_TEST (test_caps_same_modality_twice_n)
{
  GstBus *bus = gst_bus_new ();
  GstElement *el = fuse_new (model3_path, bus);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad (el, 1, FALSE);
  GstHarness *h2;
  GstBuffer *out;
  Expect e;

  check_refused (h1, bus, features_caps (model3, V), "sink_1", "sink_0");
  /* the element goes on with the pads it has */
  gst_harness_teardown (h1);
  h2 = fuse_pad_caps (el, 2, FALSE, model3, A);
  push (h0, features_buffer (model3, V, 1, 0, SEC));
  push (h2, features_buffer (model3, A, 2, 0, SEC));
  out = gst_harness_pull (h0);
  expect (model3, 1, 2, NONE_SEED, &e);
  check_output (model3, out, &e, FALSE);
  gst_buffer_unref (out);

  gst_harness_teardown (h2);
  gst_harness_teardown (h0);
  bus_done (el, bus);
  gst_object_unref (el);
}
GST_END_TEST;

static void
bad_model_test (const gchar *path, gint code, gint code2)
{
  GstBus *bus = gst_bus_new ();
  GstElement *el = fuse_new (path, bus);
  GstMessage *msg;
  GError *err = NULL;

  fail_unless_equals_int (gst_element_set_state (el, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = pop_message (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (err->domain == GST_RESOURCE_ERROR);
  fail_unless (err->code == code || err->code == code2, "code %d",
      err->code);
  fail_unless (strstr (err->message, path) != NULL, "\"%s\"", err->message);
  g_error_free (err);
  gst_message_unref (msg);
  /* and again: a failed start leaves nothing behind */
  fail_unless_equals_int (gst_element_set_state (el, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (gst_element_set_state (el, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (gst_element_set_state (el, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  bus_done (el, bus);
  gst_object_unref (el);
}

GST_START_TEST (test_bad_model_path_n)
{
  bad_model_test ("/nonexistent/mmdnn/model.safetensors",
      GST_RESOURCE_ERROR_OPEN_READ, GST_RESOURCE_ERROR_OPEN_READ);
}
GST_END_TEST;

GST_START_TEST (test_corrupt_model_n)
{
  bad_model_test (corrupt_path, GST_RESOURCE_ERROR_READ,
      GST_RESOURCE_ERROR_OPEN_READ);
}
GST_END_TEST;

/* a model change takes effect at the next start; a bad one fails it */
GST_START_TEST (test_model_change_in_ready_n)
{
  GstBus *bus = gst_bus_new ();
  GstElement *el = fuse_new (model3_path, bus);
  gchar *text;

  fail_unless_equals_int (gst_element_set_state (el, GST_STATE_PAUSED),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (gst_element_set_state (el, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  g_object_set (el, "model", corrupt_path, NULL);
  fail_unless_equals_int (gst_element_set_state (el, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  text = pop_error (bus, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ);
  g_free (text);
  g_object_set (el, "model", model2_path, NULL);
  fail_unless_equals_int (gst_element_set_state (el, GST_STATE_PAUSED),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (gst_element_set_state (el, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  bus_done (el, bus);
  gst_object_unref (el);
}
GST_END_TEST;

GST_START_TEST (test_nan_features_n)
{
  GstBus *bus = gst_bus_new ();
  GstElement *el = fuse_new (model3_path, bus);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, A);
  GstBuffer *buf = features_buffer (model3, V, 1, 0, SEC);
  float nan = NAN;
  gchar *text;

  gst_buffer_fill (buf, 3 * sizeof (float), &nan, sizeof (float));
  push (h0, buf);
  push (h1, features_buffer (model3, A, 2, 0, SEC));
  text = pop_error (bus, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE);
  g_free (text);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h0), 0);
  fail_unless_equals_int (count_results (bus), 0);

  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  bus_done (el, bus);
  gst_object_unref (el);
}
GST_END_TEST;

GST_START_TEST (test_wrong_payload_size_n)
{
  GstBus *bus = gst_bus_new ();
  GstElement *el = fuse_new (model3_path, bus);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, A);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 12, NULL);
  gchar *text;

  gst_buffer_memset (buf, 0, 1, 12);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = SEC;
  push (h0, buf);
  push (h1, features_buffer (model3, A, 2, 0, SEC));
  text = pop_error (bus, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT);
  fail_unless (strstr (text, "sink_0") != NULL);
  g_free (text);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h0), 0);

  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  bus_done (el, bus);
  gst_object_unref (el);
}
GST_END_TEST;

/* no modality in the window: a GAP event, no buffer, no message */
GST_START_TEST (test_window_with_nothing_n)
{
  GstBus *bus = gst_bus_new ();
  GstElement *el = fuse_new (model3_path, bus);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, A);
  GstClockTime ts, dur;
  GstMessage *msg;
  guint64 rt = 0;
  GstBuffer *out;
  GstEvent *ev;
  Expect e;

  push (h0, features_buffer (model3, V, 1, 1500 * MS, 100 * MS));
  push (h1, features_buffer (model3, A, 2, 1200 * MS, 800 * MS));
  ev = pull_event_of (h0, GST_EVENT_GAP);
  fail_unless (ev != NULL);
  gst_event_parse_gap (ev, &ts, &dur);
  fail_unless_equals_uint64 (ts, 0);
  fail_unless_equals_uint64 (dur, SEC);
  gst_event_unref (ev);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h0), 0);

  push_eos (h0);
  push_eos (h1);
  out = gst_harness_pull (h0);
  fail_unless (out != NULL);
  check_times (out, SEC, SEC);
  expect (model3, 1, 2, NONE_SEED, &e);
  check_output (model3, out, &e, FALSE);
  gst_buffer_unref (out);
  ev = pull_event_of (h0, GST_EVENT_EOS);
  fail_unless (ev != NULL);
  gst_event_unref (ev);

  /* one message, for the window at 1 s */
  pop_result (bus, &msg);
  fail_unless (gst_structure_get_uint64 (gst_message_get_structure (msg),
          "running-time", &rt));
  fail_unless_equals_uint64 (rt, SEC);
  gst_message_unref (msg);
  fail_unless_equals_int (count_results (bus), 0);

  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  bus_done (el, bus);
  gst_object_unref (el);
}
GST_END_TEST;

/* No frame in a window: video masked there, never one from a window
 * around it. A frame exactly at a window's end belongs to the next; one
 * ending exactly at a window's start is not in it. */
GST_START_TEST (test_video_no_frame_n)
{
  /* [0, 1): the frame at 1 s is at its end edge; [1, 2): that frame, at
   * its start edge; [2, 3): it ended exactly at 2 s */
  static const guint video[3] = { NONE_SEED, 1, NONE_SEED };
  GstElement *el = fuse_new (model3_path, NULL);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, A);

  push (h0, features_buffer (model3, V, 1, SEC, SEC));
  for (guint j = 0; j < 3; j++)
    push (h1, features_buffer (model3, A, 20 + j, j * SEC, SEC));
  push_eos (h0);
  push_eos (h1);
  for (guint i = 0; i < 3; i++)
    pull_window (h0, i, video[i], 20 + i, NONE_SEED);

  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  gst_object_unref (el);
}
GST_END_TEST;

/* an empty cue is no text: alone it gives no result */
GST_START_TEST (test_empty_cue_n)
{
  GstElement *el = fuse_new (model3_path, NULL);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, T);
  GstBuffer *out;
  GstEvent *ev;
  Expect e;

  push (h0, empty_cue (model3, 0, SEC));
  push (h0, features_buffer (model3, T, 3, SEC, SEC));
  push_eos (h0);
  ev = pull_event_of (h0, GST_EVENT_GAP);
  fail_unless (ev != NULL);
  gst_event_unref (ev);
  out = gst_harness_pull (h0);
  fail_unless (out != NULL);
  check_times (out, SEC, SEC);
  expect (model3, NONE_SEED, NONE_SEED, 3, &e);
  check_output (model3, out, &e, FALSE);
  gst_buffer_unref (out);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h0), 0);

  gst_harness_teardown (h0);
  gst_object_unref (el);
}
GST_END_TEST;

GST_START_TEST (test_late_buffer_qos_n)
{
  GstBus *bus = gst_bus_new ();
  GstElement *el = fuse_new (model3_path, bus);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, A);
  guint64 processed = 0, dropped = 0, rt = 0;
  GstFormat format;
  GstMessage *msg;
  GstBuffer *out;
  Expect e;

  push (h0, features_buffer (model3, V, 1, 0, SEC));
  push (h1, features_buffer (model3, A, 2, 0, SEC));
  out = gst_harness_pull (h0);
  gst_buffer_unref (out);

  /* the window at 1 s is next: features of [0.2, 0.3) are late */
  push (h0, features_buffer (model3, V, 66, 200 * MS, 100 * MS));
  push (h1, features_buffer (model3, A, 4, SEC, SEC));
  push (h0, features_buffer (model3, V, 3, SEC, SEC));
  out = gst_harness_pull (h0);
  fail_unless (out != NULL);
  check_times (out, SEC, SEC);
  expect (model3, 3, 4, NONE_SEED, &e);
  check_output (model3, out, &e, FALSE);
  gst_buffer_unref (out);

  msg = pop_message (bus, GST_MESSAGE_QOS);
  fail_unless (msg != NULL);
  fail_unless (GST_MESSAGE_SRC (msg) == GST_OBJECT (el));
  gst_message_parse_qos (msg, NULL, &rt, NULL, NULL, NULL);
  fail_unless_equals_uint64 (rt, 200 * MS);
  gst_message_parse_qos_stats (msg, &format, &processed, &dropped);
  fail_unless_equals_int (format, GST_FORMAT_BUFFERS);
  fail_unless_equals_uint64 (processed, 1);
  fail_unless_equals_uint64 (dropped, 1);
  gst_message_unref (msg);

  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  bus_done (el, bus);
  gst_object_unref (el);
}
GST_END_TEST;

GST_START_TEST (test_no_timestamp_n)
{
  GstElement *el = fuse_new (model3_path, NULL);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, A);
  GstBuffer *out;
  Expect e;

  /* (a pad holds one unconsumed buffer at a time here: the others go
   * first) */
  push (h1, features_buffer (model3, A, 2, 0, SEC));
  push (h0, features_buffer (model3, V, 77, GST_CLOCK_TIME_NONE, SEC));
  push (h0, features_buffer (model3, V, 1, 0, SEC));
  out = gst_harness_pull (h0);
  fail_unless (out != NULL);
  expect (model3, 1, 2, NONE_SEED, &e);
  check_output (model3, out, &e, FALSE);
  gst_buffer_unref (out);

  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  gst_object_unref (el);
}
GST_END_TEST;

GST_START_TEST (test_all_eos_without_data_n)
{
  GstBus *bus = gst_bus_new ();
  GstElement *el = fuse_new (model3_path, bus);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, A);
  GstEvent *ev;

  push_eos (h0);
  push_eos (h1);
  ev = pull_event_of (h0, GST_EVENT_EOS);
  fail_unless (ev != NULL);
  gst_event_unref (ev);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h0), 0);
  fail_unless_equals_int (count_results (bus), 0);

  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  bus_done (el, bus);
  gst_object_unref (el);
}
GST_END_TEST;

/* every pad muted: no result, and no stall either */
GST_START_TEST (test_all_muted_n)
{
  GstBus *bus = gst_bus_new ();
  GstElement *el = fuse_new (model3_path, bus);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, A);
  GstEvent *ev;

  gst_child_proxy_set (GST_CHILD_PROXY (el), "sink_0::mute", TRUE,
      "sink_1::mute", TRUE, NULL);
  for (guint i = 0; i < 2; i++) {
    GstClockTime ts;

    push (h0, features_buffer (model3, V, 1, i * SEC, SEC));
    push (h1, features_buffer (model3, A, 2, i * SEC, SEC));
    ev = pull_event_of (h0, GST_EVENT_GAP);
    fail_unless (ev != NULL);
    gst_event_parse_gap (ev, &ts, NULL);
    fail_unless_equals_uint64 (ts, i * SEC);
    gst_event_unref (ev);
  }
  push_eos (h0);
  push_eos (h1);
  ev = pull_event_of (h0, GST_EVENT_EOS);
  fail_unless (ev != NULL);
  gst_event_unref (ev);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h0), 0);
  fail_unless_equals_int (count_results (bus), 0);

  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  bus_done (el, bus);
  gst_object_unref (el);
}
GST_END_TEST;

/* downstream takes neither text nor the fused features */
GST_START_TEST (test_downstream_refuses_n)
{
  GstElement *el = fuse_new (model3_path, NULL);
  GstHarness *h0 = fuse_pad_caps (el, 0, TRUE, model3, V);
  GstHarness *h1 = fuse_pad_caps (el, 1, FALSE, model3, A);
  GstFlowReturn ret = GST_FLOW_OK;

  gst_harness_set_sink_caps_str (h0, "audio/x-raw");
  for (guint i = 0; i < 10 && ret == GST_FLOW_OK; i++) {
    ret = gst_harness_push (h1, features_buffer (model3, A, 2, i * SEC,
            SEC));
    if (ret == GST_FLOW_OK)
      ret = gst_harness_push (h0, features_buffer (model3, V, 1, i * SEC,
              SEC));
  }
  fail_unless_equals_int (ret, GST_FLOW_NOT_NEGOTIATED);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h0), 0);

  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  gst_object_unref (el);
}
GST_END_TEST;

/* ----------------------------------------------------------------- main */

static Suite *
mmdnnfuse_suite (void)
{
  Suite *s = suite_create ("mmdnnfuse");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_two_pads_fused);
  tcase_add_test (tc, test_three_pads_text);
  tcase_add_test (tc, test_different_rates);
  tcase_add_test (tc, test_selection_rules);
  tcase_add_test (tc, test_video_on_screen);
  tcase_add_test (tc, test_hop_timestamps);
  tcase_add_test (tc, test_result_meta);
  tcase_add_test (tc, test_bus_message);
  tcase_add_test (tc, test_live_silent_pad_times_out);
  tcase_add_test (tc, test_eos_one_pad);
  tcase_add_test (tc, test_pad_release_and_request);
  tcase_add_test (tc, test_mute_child_proxy);
  tcase_add_test (tc, test_launch_line_pad_property);
  tcase_add_test (tc, test_start_time_first);
  tcase_add_test (tc, test_two_modality_model);
  tcase_add_test (tc, test_flush_restarts);

  tcase_add_test (tc, test_caps_change_n);
  tcase_add_test (tc, test_caps_wrong_dim_n);
  tcase_add_test (tc, test_caps_wrong_tokens_n);
  tcase_add_test (tc, test_caps_wrong_model_id_n);
  tcase_add_test (tc, test_caps_modality_model_lacks_n);
  tcase_add_test (tc, test_caps_not_features_n);
  tcase_add_test (tc, test_caps_fused_on_sink_n);
  tcase_add_test (tc, test_caps_same_modality_twice_n);
  tcase_add_test (tc, test_bad_model_path_n);
  tcase_add_test (tc, test_corrupt_model_n);
  tcase_add_test (tc, test_model_change_in_ready_n);
  tcase_add_test (tc, test_nan_features_n);
  tcase_add_test (tc, test_wrong_payload_size_n);
  tcase_add_test (tc, test_window_with_nothing_n);
  tcase_add_test (tc, test_video_no_frame_n);
  tcase_add_test (tc, test_empty_cue_n);
  tcase_add_test (tc, test_late_buffer_qos_n);
  tcase_add_test (tc, test_no_timestamp_n);
  tcase_add_test (tc, test_all_eos_without_data_n);
  tcase_add_test (tc, test_all_muted_n);
  tcase_add_test (tc, test_downstream_refuses_n);
  return s;
}

int
main (int argc, char **argv)
{
  static const char corrupt[] =
      "\x40\x00\x00\x00\x00\x00\x00\x00{\"not\": \"a model";
  GError *err = NULL;
  int failed;

  gst_check_init (&argc, &argv);
  tmpdir = g_dir_make_tmp ("mmdnnfuse-XXXXXX", &err);
  g_assert_no_error (err);
  model3_path = g_build_filename (tmpdir, "three.safetensors", NULL);
  model2_path = g_build_filename (tmpdir, "two.safetensors", NULL);
  corrupt_path = g_build_filename (tmpdir, "corrupt.safetensors", NULL);
  model3 = write_model ("fuse-test-3", "\"video\", \"audio\", \"text\"",
      model3_path);
  model2 = write_model ("fuse-test-2", "\"video\", \"audio\"", model2_path);
  /* a safetensors header announcing 64 bytes of JSON, and a torn one */
  g_assert_true (g_file_set_contents (corrupt_path, corrupt,
          sizeof corrupt - 1, &err));
  g_assert_cmpint (dim_of (model3), <=, MAX_D);

  failed = gst_check_run_suite (mmdnnfuse_suite (), "mmdnnfuse",
      __FILE__);

  mmdnn_model_free (model3);
  mmdnn_model_free (model2);
  g_unlink (model3_path);
  g_unlink (model2_path);
  g_unlink (corrupt_path);
  g_rmdir (tmpdir);
  g_free (model3_path);
  g_free (model2_path);
  g_free (corrupt_path);
  g_free (tmpdir);
  return failed;
}
