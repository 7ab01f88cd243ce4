/* mmdnn — tests of mmdnntextenc (GstHarness).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every value test compares the element's output with the core called
 * directly on the same text (mmdnn_text_tokenize + an encode stage), bit
 * for bit: the element must add nothing. Negative tests end in _n. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <mmdnn/mmdnn.h>

#include "gstmmdnnutils.h"
#include "mmdnncheck.h"

#define FACTORY "mmdnntextenc"
#define TMP_DIR "mmdnn-textenc-XXXXXX"
#define SEED 11                 /* of the tiny models */

#define UTF8_CAPS "text/x-raw,format=utf8"
#define MARKUP_CAPS "text/x-raw,format=pango-markup"

/* ------------------------------------------------------------------ cues */

static GstBuffer *
make_cue_len (const gchar *text, gsize len, GstClockTime pts,
    GstClockTime duration)
{
  GstBuffer *b = len > 0 ? gst_buffer_new_memdup (text, len)
      : gst_buffer_new ();

  GST_BUFFER_PTS (b) = pts;
  GST_BUFFER_DURATION (b) = duration;
  return b;
}

static GstBuffer *
make_cue (const gchar *text, GstClockTime pts, GstClockTime duration)
{
  return make_cue_len (text, strlen (text), pts, duration);
}

/* What the core gives for @text with @m: (K, D) floats. */
static float *
reference_features (const MmdnnModel *m, const gchar *text, gssize len,
    gsize *n_bytes)
{
  const MmdnnModelConfig *c = m->config;
  int64_t n_in = mmdnn_model_config_input_size (c, MMDNN_MODALITY_TEXT);
  gsize n_out = (gsize) c->fusion.tokens[MMDNN_MODALITY_TEXT]
      * (gsize) c->fusion.dim;
  GError *error = NULL;
  MmdnnEncodeStage *stage = mmdnn_encode_stage_new (m, MMDNN_MODALITY_TEXT,
      1, &error);
  int32_t *ids = g_new (int32_t, n_in);
  float *out = g_new0 (float, n_out);
  int64_t n_tokens = 0;

  fail_unless (stage != NULL);
  fail_unless (mmdnn_text_tokenize (&c->text_prep, text, len, ids, &n_tokens,
          &error), "%s", error ? error->message : "?");
  fail_unless (n_tokens > 0);
  fail_unless (mmdnn_encode_stage_run (stage, m, ids, 1, out, &error), "%s",
      error ? error->message : "?");
  mmdnn_encode_stage_free (stage);
  g_free (ids);
  *n_bytes = n_out * sizeof (float);
  return out;
}

static GstHarness *
make_harness (const gchar *model, const gchar *caps)
{
  return mmdnn_check_harness_new (FACTORY, model, caps);
}

/* Drains the events that reached the harness's sink pad: the number of
 * GAP events, and the span of the last one. */
static guint
pull_gaps (GstHarness *h, GstClockTime *ts, GstClockTime *dur)
{
  GstEvent *ev;
  guint n = 0;

  while ((ev = gst_harness_try_pull_event (h)) != NULL) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_GAP) {
      gst_event_parse_gap (ev, ts, dur);
      n++;
    }
    gst_event_unref (ev);
  }
  return n;
}

/* ------------------------------------------------------- positive tests */

GST_START_TEST (test_textenc_equals_core)
{
  static const gchar *cues[] = {
    "Don’t go!",
    "{\\an8}<i>Don’t</i>\\Ngo!",
    "你好世界 and ＡＢＣ ❤ cats 🐱",
    "x",
  };
  const MmdnnModel *m = mmdnn_check_default_model ();

  for (guint i = 0; i < G_N_ELEMENTS (cues); i++) {
    GstHarness *h = make_harness (NULL, UTF8_CAPS);
    GstBuffer *out = gst_harness_push_and_pull (h, make_cue (cues[i],
            GST_SECOND, GST_SECOND));
    gsize n;
    float *ref = reference_features (m, cues[i], -1, &n);

    fail_unless (out != NULL);
    mmdnn_check_assert_features_equal (out, ref, n);
    g_free (ref);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}
GST_END_TEST;

GST_START_TEST (test_textenc_output_caps)
{
  const MmdnnModel *m = mmdnn_check_default_model ();
  const MmdnnModelConfig *c = m->config;
  GstHarness *h = make_harness (NULL, MARKUP_CAPS);
  GstBuffer *out;
  GstCaps *caps;
  const gchar *id;
  gint mod, k, d;

  out = gst_harness_push_and_pull (h, make_cue ("hello", 0, GST_SECOND));
  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (gst_mmdnn_features_caps_parse (caps, &mod, &k, &d, &id));
  fail_unless_equals_int (mod, MMDNN_MODALITY_TEXT);
  fail_unless_equals_string (gst_structure_get_string
      (gst_caps_get_structure (caps, 0), "modality"), "text");
  fail_unless_equals_int (k, c->fusion.tokens[MMDNN_MODALITY_TEXT]);
  fail_unless_equals_int (k, c->text_prep.max_tokens);
  fail_unless_equals_int (d, c->fusion.dim);
  fail_unless_equals_string (id, "mmdnn-default");
  fail_unless (gst_caps_is_fixed (caps));
  fail_unless_equals_uint64 (gst_buffer_get_size (out),
      (guint64) k * d * sizeof (float));
  gst_caps_unref (caps);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* PTS and duration are the cue's; DTS and offsets unset. One word fills
 * row 0 only: the padding rows are all zeros (the mask downstream). */
GST_START_TEST (test_textenc_timestamps_and_padding)
{
  GstHarness *h = make_harness (NULL, UTF8_CAPS);
  GstBuffer *in = make_cue ("word", 3 * GST_SECOND, 1500 * GST_MSECOND);
  GstBuffer *out;
  GstMapInfo map;
  gint k = 0, d = 0;
  GstCaps *caps;
  float mask[4096];

  GST_BUFFER_DTS (in) = 2 * GST_SECOND;
  GST_BUFFER_OFFSET (in) = 7;
  out = gst_harness_push_and_pull (h, in);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 3 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), 1500 * GST_MSECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DTS (out), GST_CLOCK_TIME_NONE);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), GST_BUFFER_OFFSET_NONE);
  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (gst_mmdnn_features_caps_parse (caps, NULL, &k, &d, NULL));
  gst_caps_unref (caps);
  fail_unless (gst_buffer_map (out, &map, GST_MAP_READ));
  fail_unless_equals_int (mmdnn_tokens_mask ((const float *) map.data, k, d,
          mask), 1);
  fail_unless_equals_float (mask[0], 1.0f);
  fail_unless_equals_float (mask[1], 0.0f);
  gst_buffer_unmap (out, &map);
  gst_buffer_unref (out);

  /* a cue without a duration keeps none */
  out = gst_harness_push_and_pull (h, make_cue ("more words", 5 * GST_SECOND,
          GST_CLOCK_TIME_NONE));
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 5 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), GST_CLOCK_TIME_NONE);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* pango-markup (tags and entities, as subparse writes it) gives the same
 * features as the plain text. */
GST_START_TEST (test_textenc_markup_equals_plain)
{
  static const gchar *pairs[][2] = {
    {"<i>Don&apos;t</i> go &amp; <b>stay</b>", "Don't go & stay"},
    {"<span foreground=\"yellow\">Caf&#233;</span> &lt;3 &quot;noir&quot;",
        "Café <3 \"noir\""},
    {"line one<br/>line two", "line one line two"},
  };
  GstHarness *hm = make_harness (NULL, MARKUP_CAPS);
  GstHarness *hp = make_harness (NULL, UTF8_CAPS);

  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++) {
    GstBuffer *a = gst_harness_push_and_pull (hm, make_cue (pairs[i][0], 0,
            GST_SECOND));
    GstBuffer *b = gst_harness_push_and_pull (hp, make_cue (pairs[i][1], 0,
            GST_SECOND));

    fail_unless (a != NULL && b != NULL);
    {
      GstMapInfo ma, mb;

      gst_buffer_map (a, &ma, GST_MAP_READ);
      gst_buffer_map (b, &mb, GST_MAP_READ);
      fail_unless_equals_uint64 (ma.size, mb.size);
      fail_unless (memcmp (ma.data, mb.data, ma.size) == 0,
          "\"%s\" differs from \"%s\"", pairs[i][0], pairs[i][1]);
      gst_buffer_unmap (a, &ma);
      gst_buffer_unmap (b, &mb);
    }
    gst_buffer_unref (a);
    gst_buffer_unref (b);
  }
  gst_harness_teardown (hm);
  gst_harness_teardown (hp);
}
GST_END_TEST;

/* A C string's terminator counted in the buffer changes nothing. */
GST_START_TEST (test_textenc_trailing_nul)
{
  const MmdnnModel *m = mmdnn_check_default_model ();
  GstHarness *h = make_harness (NULL, UTF8_CAPS);
  GstBuffer *out;
  float *ref;
  gsize n;

  out = gst_harness_push_and_pull (h, make_cue_len ("hello there\0\0", 13, 0,
          GST_SECOND));
  ref = reference_features (m, "hello there", -1, &n);
  mmdnn_check_assert_features_equal (out, ref, n);
  g_free (ref);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* A 1 MB cue: encoded (its first words, as the core does), not refused. */
GST_START_TEST (test_textenc_huge_cue)
{
  const MmdnnModel *m = mmdnn_check_default_model ();
  GstHarness *h = make_harness (NULL, UTF8_CAPS);
  GString *s = g_string_sized_new (1 << 20);
  GstBuffer *out;
  float *ref;
  gsize n;

  for (guint i = 0; s->len < (1 << 20); i++)
    g_string_append_printf (s, "<i>word%u</i> ", i);
  out = gst_harness_push_and_pull (h, make_cue_len (s->str, s->len, 0,
          GST_SECOND));
  fail_unless (out != NULL);
  ref = reference_features (m, s->str, (gssize) s->len, &n);
  mmdnn_check_assert_features_equal (out, ref, n);
  g_free (ref);
  gst_buffer_unref (out);
  g_string_free (s, TRUE);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_textenc_flush_and_eos)
{
  GstHarness *h = make_harness (NULL, UTF8_CAPS);
  GstSegment seg;
  GstBuffer *out;

  gst_buffer_unref (gst_harness_push_and_pull (h, make_cue ("one", 0,
              GST_SECOND)));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  out = gst_harness_push_and_pull (h, make_cue ("two", 9 * GST_SECOND,
          GST_SECOND));
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 9 * GST_SECOND);
  gst_buffer_unref (out);

  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless (mmdnn_check_count_events (h, GST_EVENT_EOS) > 0,
      "EOS was not forwarded");
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_textenc_state_cycles)
{
  GstElement *e = mmdnn_check_make_element (FACTORY, NULL);
  GstHarness *h;
  GstBuffer *out;

  mmdnn_check_state_cycles (e, 4);
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_harness_set_src_caps_str (h, UTF8_CAPS);
  out = gst_harness_push_and_pull (h, make_cue ("still here", 0, 1));
  fail_unless (out != NULL);
  gst_buffer_unref (out);
  mmdnn_check_ready_cycles (h, 3);
  gst_harness_teardown (h);
  gst_object_unref (e);
}
GST_END_TEST;

GST_START_TEST (test_textenc_model_change_in_ready)
{
  gchar *dir = mmdnn_check_make_tmp_dir (TMP_DIR);
  gchar *tiny = mmdnn_check_write_tiny_model (dir, "tiny.safetensors",
      "tiny-text", "[\"text\"]", SEED);
  MmdnnModel *mt = mmdnn_check_load_model (tiny);
  const MmdnnModel *md = mmdnn_check_default_model ();
  GstElement *e = mmdnn_check_make_element (FACTORY, tiny);
  GstHarness *h = gst_harness_new_with_element (e, "sink", "src");
  GstBuffer *out;
  float *ref;
  gsize n;

  gst_harness_set_src_caps_str (h, UTF8_CAPS);
  out = gst_harness_push_and_pull (h, make_cue ("the cat sat", 0, 1));
  mmdnn_check_features_caps (h, "tiny-text", 4, 8);
  ref = reference_features (mt, "the cat sat", -1, &n);
  mmdnn_check_assert_features_equal (out, ref, n);
  g_free (ref);
  gst_buffer_unref (out);

  mmdnn_check_restart_with_model (h, NULL);
  fail_unless (gst_harness_push_event (h, gst_event_new_stream_start ("2")));
  gst_harness_set_src_caps_str (h, UTF8_CAPS);
  out = gst_harness_push_and_pull (h, make_cue ("the cat sat", 0, 1));
  mmdnn_check_features_caps (h, "mmdnn-default", 32, 128);
  ref = reference_features (md, "the cat sat", -1, &n);
  mmdnn_check_assert_features_equal (out, ref, n);
  g_free (ref);
  gst_buffer_unref (out);

  gst_harness_teardown (h);
  gst_object_unref (e);
  mmdnn_model_free (mt);
  g_free (tiny);
  mmdnn_check_remove_tmp_dir (dir);
}
GST_END_TEST;

/* An SRT file through subparse, as in the SECTION's launch line: two cues
 * with words give features equal to their plain text's, the empty one a
 * GAP for its span. */
GST_START_TEST (test_textenc_subparse)
{
  static const gchar srt[] =
      "1\n00:00:01,000 --> 00:00:02,500\n<i>Hello</i> world & more\n\n"
      "2\n00:00:03,000 --> 00:00:04,000\n<b> </b>\n\n"
      "3\n00:00:05,000 --> 00:00:06,000\nDon't go!\n\n";
  const MmdnnModel *m = mmdnn_check_default_model ();
  GstHarness *h = gst_harness_new_parse ("subparse ! mmdnntextenc");
  GstClockTime ts = 0, dur = 0;
  GstBuffer *out;
  float *ref;
  gsize n;

  gst_harness_set_src_caps_str (h, "application/x-subtitle");
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_new_memdup (srt,
              sizeof (srt) - 1)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_buffers_received (h), 2);

  out = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), 1500 * GST_MSECOND);
  ref = reference_features (m, "Hello world & more", -1, &n);
  mmdnn_check_assert_features_equal (out, ref, n);
  g_free (ref);
  gst_buffer_unref (out);

  out = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 5 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), GST_SECOND);
  ref = reference_features (m, "Don't go!", -1, &n);
  mmdnn_check_assert_features_equal (out, ref, n);
  g_free (ref);
  gst_buffer_unref (out);

  fail_unless (pull_gaps (h, &ts, &dur) >= 1);
  fail_unless_equals_uint64 (ts, 3 * GST_SECOND);
  fail_unless_equals_uint64 (dur, GST_SECOND);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* ------------------------------------------------------- negative tests */

static void
check_refused_caps (const gchar *caps_str)
{
  GstHarness *h = make_harness (NULL, NULL);
  GstCaps *caps = gst_caps_from_string (caps_str);

  fail_unless (caps != NULL);
  mmdnn_check_refuse_caps_event (h, caps);
  mmdnn_check_push_not_negotiated (h, make_cue ("hello", 0, GST_SECOND));
  gst_caps_unref (caps);
  gst_harness_teardown (h);
}

static void
assert_same_features (GstBuffer *a, GstBuffer *b)
{
  GstMapInfo ma, mb;

  fail_unless (a != NULL && b != NULL);
  fail_unless (gst_buffer_map (a, &ma, GST_MAP_READ));
  fail_unless (gst_buffer_map (b, &mb, GST_MAP_READ));
  fail_unless_equals_uint64 (ma.size, mb.size);
  fail_unless (memcmp (ma.data, mb.data, ma.size) == 0);
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
}

/* Caps change mid-stream: utf8 → pango-markup → utf8, each cue read as
 * its caps say (the markup cue gives the plain one's features), PTS kept;
 * then caps the element refuses (utf16): the next cue is NOT_NEGOTIATED,
 * nothing pushed; utf8 again and the stream goes on. */
GST_START_TEST (test_textenc_caps_change_n)
{
  const gchar *plain = "Don't go & stay", *markup =
      "<i>Don&apos;t</i> go &amp; <b>stay</b>";
  GstHarness *h = make_harness (NULL, UTF8_CAPS);
  GstBuffer *a, *b, *c;
  GstCaps *bad;

  a = gst_harness_push_and_pull (h, make_cue (plain, 0, GST_SECOND));
  gst_harness_set_src_caps_str (h, MARKUP_CAPS);
  b = gst_harness_push_and_pull (h, make_cue (markup, GST_SECOND,
          GST_SECOND));
  assert_same_features (a, b);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (b), GST_SECOND);
  gst_harness_set_src_caps_str (h, UTF8_CAPS);
  c = gst_harness_push_and_pull (h, make_cue (plain, 2 * GST_SECOND,
          GST_SECOND));
  assert_same_features (a, c);
  gst_buffer_unref (c);

  bad = gst_caps_from_string ("text/x-raw,format=utf16");
  mmdnn_check_refuse_caps_event (h, bad);
  gst_caps_unref (bad);
  fail_unless_equals_int (gst_harness_push (h, make_cue (plain,
              3 * GST_SECOND, GST_SECOND)), GST_FLOW_NOT_NEGOTIATED);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  gst_harness_set_src_caps_str (h, UTF8_CAPS);
  c = gst_harness_push_and_pull (h, make_cue (plain, 4 * GST_SECOND,
          GST_SECOND));
  assert_same_features (a, c);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (c), 4 * GST_SECOND);
  gst_buffer_unref (c);
  gst_buffer_unref (b);
  gst_buffer_unref (a);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_textenc_refuses_other_formats_n)
{
  check_refused_caps ("text/x-raw,format=none");
  check_refused_caps ("text/x-raw,format=utf16");
}
GST_END_TEST;

/* Without a format field the kind of text is unknown. */
GST_START_TEST (test_textenc_refuses_missing_format_n)
{
  check_refused_caps ("text/x-raw");
}
GST_END_TEST;

GST_START_TEST (test_textenc_refuses_non_text_n)
{
  GstHarness *h = make_harness (NULL, NULL);

  fail_if (mmdnn_check_accepts (h->element, "audio/x-raw,format=S16LE,"
          "rate=16000,channels=1,layout=interleaved"));
  gst_harness_teardown (h);
  check_refused_caps ("audio/x-raw,format=S16LE,rate=16000,channels=1,"
      "layout=interleaved");
  check_refused_caps ("application/x-subtitle");
  check_refused_caps ("video/x-raw,format=RGB,width=8,height=8,"
      "framerate=30/1");
}
GST_END_TEST;

/* Downstream wants features the model does not make. */
GST_START_TEST (test_textenc_downstream_mismatch_n)
{
  static const gchar *wanted[] = {
    "application/x-mmdnn-features,modality=text,tokens=32,dim=64",
    "application/x-mmdnn-features,modality=video,tokens=32,dim=128",
    "application/x-mmdnn-features,modality=text,tokens=16,dim=128",
  };

  for (guint i = 0; i < G_N_ELEMENTS (wanted); i++) {
    GstHarness *h = make_harness (NULL, NULL);
    GstCaps *caps = gst_caps_from_string (UTF8_CAPS);

    gst_harness_set_sink_caps_str (h, wanted[i]);
    mmdnn_check_refuse_caps_event (h, caps);
    mmdnn_check_push_not_negotiated (h, make_cue ("hi", 0, 1));
    gst_caps_unref (caps);
    gst_harness_teardown (h);
  }
}
GST_END_TEST;

GST_START_TEST (test_textenc_no_caps_n)
{
  GstHarness *h = make_harness (NULL, NULL);

  mmdnn_check_push_not_negotiated (h, make_cue ("hi", 0, 1));
  gst_harness_teardown (h);
}
GST_END_TEST;

/* Cues without words give no buffer but a GAP for their span, and the
 * stream goes on. */
GST_START_TEST (test_textenc_empty_cues_gap_n)
{
  static const gchar *empty[] = {
    "", "   \n\t ", "<i></i>", "{\\an8}", "<font color=\"red\"> </font>",
    "...!?", "&amp;",
  };
  GstHarness *h = make_harness (NULL, MARKUP_CAPS);
  GstBus *bus = mmdnn_check_attach_bus (h->element);
  GstClockTime ts, dur;
  GstBuffer *out;

  pull_gaps (h, &ts, &dur);
  for (guint i = 0; i < G_N_ELEMENTS (empty); i++) {
    ts = dur = 0;
    fail_unless_equals_int (gst_harness_push (h, make_cue (empty[i],
                (i + 1) * GST_SECOND, 250 * GST_MSECOND)), GST_FLOW_OK);
    fail_unless_equals_int (gst_harness_buffers_received (h), 0);
    fail_unless_equals_int (pull_gaps (h, &ts, &dur), 1);
    fail_unless_equals_uint64 (ts, (i + 1) * GST_SECOND);
    fail_unless_equals_uint64 (dur, 250 * GST_MSECOND);
  }
  /* no duration: a GAP without one */
  gst_harness_push (h, make_cue (" ", 20 * GST_SECOND, GST_CLOCK_TIME_NONE));
  fail_unless_equals_int (pull_gaps (h, &ts, &dur), 1);
  fail_unless_equals_uint64 (ts, 20 * GST_SECOND);
  fail_unless_equals_uint64 (dur, GST_CLOCK_TIME_NONE);
  /* empty cues are not worth a message */
  fail_unless (gst_bus_pop (bus) == NULL);

  out = gst_harness_push_and_pull (h, make_cue ("words", 30 * GST_SECOND, 1));
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 30 * GST_SECOND);
  gst_buffer_unref (out);
  mmdnn_check_detach_bus (h->element, bus);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* Not UTF-8 (or a NUL inside the cue): a warning, a GAP, and the next
 * cue still encodes. */
GST_START_TEST (test_textenc_invalid_utf8_n)
{
  static const struct
  {
    const gchar *bytes;
    gsize len;
  } bad[] = {
    {"abc \xff\xfe def", 10},
    {"\xc3", 1},                /* truncated "é" */
    {"\xed\xa0\x80", 3},        /* a surrogate */
    {"hello\0world", 11},       /* NUL inside */
  };
  GstHarness *h = make_harness (NULL, UTF8_CAPS);
  GstBus *bus = mmdnn_check_attach_bus (h->element);
  GstClockTime ts, dur;
  GstBuffer *out;

  pull_gaps (h, &ts, &dur);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    fail_unless_equals_int (gst_harness_push (h, make_cue_len (bad[i].bytes,
                bad[i].len, (i + 1) * GST_SECOND, GST_SECOND / 2)),
        GST_FLOW_OK);
    fail_unless_equals_int (gst_harness_buffers_received (h), 0);
    fail_unless_equals_int (pull_gaps (h, &ts, &dur), 1);
    fail_unless_equals_uint64 (ts, (i + 1) * GST_SECOND);
    fail_unless_equals_uint64 (dur, GST_SECOND / 2);
    mmdnn_check_expect_message (bus, GST_MESSAGE_WARNING, GST_STREAM_ERROR,
        GST_STREAM_ERROR_DECODE,
        "A subtitle cue that is not valid UTF-8 text was skipped.");
  }
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);
  out = gst_harness_push_and_pull (h, make_cue ("fine again", 9 * GST_SECOND,
          GST_SECOND));
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 9 * GST_SECOND);
  gst_buffer_unref (out);
  mmdnn_check_detach_bus (h->element, bus);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* A cue without a PTS: dropped with a warning, no buffer, no GAP. */
GST_START_TEST (test_textenc_no_pts_n)
{
  GstHarness *h = make_harness (NULL, UTF8_CAPS);
  GstBus *bus = mmdnn_check_attach_bus (h->element);
  GstClockTime ts, dur;

  pull_gaps (h, &ts, &dur);
  fail_unless_equals_int (gst_harness_push (h, make_cue ("lost words",
              GST_CLOCK_TIME_NONE, GST_SECOND)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  fail_unless_equals_int (pull_gaps (h, &ts, &dur), 0);
  mmdnn_check_expect_message (bus, GST_MESSAGE_WARNING, GST_STREAM_ERROR,
      GST_STREAM_ERROR_FORMAT,
      "A subtitle cue without a timestamp was dropped.");
  mmdnn_check_detach_bus (h->element, bus);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_textenc_missing_model_n)
{
  mmdnn_check_expect_start_failure (FACTORY,
      "/nonexistent/dir/model.safetensors", GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_OPEN_READ);
}
GST_END_TEST;

GST_START_TEST (test_textenc_corrupt_model_n)
{
  gsize size;
  gchar *data = mmdnn_check_read_default_model (&size);

  mmdnn_check_expect_bad_model_file (FACTORY, "not a model at all", 18,
      GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ);
  /* a real model with its data cut off */
  mmdnn_check_expect_bad_model_file (FACTORY, data, size - 100,
      GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ);
  g_free (data);
}
GST_END_TEST;

GST_START_TEST (test_textenc_model_without_text_n)
{
  mmdnn_check_expect_model_without_encoder (FACTORY, "[\"video\"]", SEED);
}
GST_END_TEST;

GST_START_TEST (test_textenc_model_change_in_playing_n)
{
  GstHarness *h = make_harness (NULL, NULL);

  mmdnn_check_model_unchanged_in_playing (h);
  gst_harness_teardown (h);
}
GST_END_TEST;

static Suite *
mmdnntextenc_suite (void)
{
  Suite *s = suite_create ("mmdnntextenc");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_unchecked_fixture (tc, mmdnn_check_default_model_setup,
      mmdnn_check_default_model_teardown);
  tcase_add_test (tc, test_textenc_equals_core);
  tcase_add_test (tc, test_textenc_output_caps);
  tcase_add_test (tc, test_textenc_timestamps_and_padding);
  tcase_add_test (tc, test_textenc_markup_equals_plain);
  tcase_add_test (tc, test_textenc_trailing_nul);
  tcase_add_test (tc, test_textenc_huge_cue);
  tcase_add_test (tc, test_textenc_flush_and_eos);
  tcase_add_test (tc, test_textenc_state_cycles);
  tcase_add_test (tc, test_textenc_model_change_in_ready);
  tcase_add_test (tc, test_textenc_subparse);

  tcase_add_test (tc, test_textenc_caps_change_n);
  tcase_add_test (tc, test_textenc_refuses_other_formats_n);
  tcase_add_test (tc, test_textenc_refuses_missing_format_n);
  tcase_add_test (tc, test_textenc_refuses_non_text_n);
  tcase_add_test (tc, test_textenc_downstream_mismatch_n);
  tcase_add_test (tc, test_textenc_no_caps_n);
  tcase_add_test (tc, test_textenc_empty_cues_gap_n);
  tcase_add_test (tc, test_textenc_invalid_utf8_n);
  tcase_add_test (tc, test_textenc_no_pts_n);
  tcase_add_test (tc, test_textenc_missing_model_n);
  tcase_add_test (tc, test_textenc_corrupt_model_n);
  tcase_add_test (tc, test_textenc_model_without_text_n);
  tcase_add_test (tc, test_textenc_model_change_in_playing_n);
  return s;
}

GST_CHECK_MAIN (mmdnntextenc);
