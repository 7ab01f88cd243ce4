/* mmdnn — tests of mmdnnvideoenc (GstHarness).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every value test compares the element's output with the core called
 * directly on the same pixels (mmdnn_video_prep_frame + an encode stage),
 * bit for bit: the element must add nothing. Negative tests end in _n. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <sys/mman.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <mmdnn/mmdnn.h>

#include "gstmmdnnutils.h"
#include "mmdnncheck.h"

#define FACTORY "mmdnnvideoenc"
#define TMP_DIR "mmdnn-videoenc-XXXXXX"
#define SEED 7                  /* of the tiny models */

/* ---------------------------------------------------------------- frames */

typedef struct
{
  GstVideoFormat gst_format;
  MmdnnPixelFormat format;
  gint width, height;
  guint n_planes;
  const guint8 *planes[3];      /* into buffer's memory */
  gint64 strides[3];
  GstBuffer *buffer;            /* owned */
} Frame;

static MmdnnPixelFormat
mmdnn_format (GstVideoFormat f)
{
  switch (f) {
    case GST_VIDEO_FORMAT_RGB:
      return MMDNN_PIXEL_RGB;
    case GST_VIDEO_FORMAT_BGR:
      return MMDNN_PIXEL_BGR;
    case GST_VIDEO_FORMAT_RGBA:
      return MMDNN_PIXEL_RGBA;
    case GST_VIDEO_FORMAT_BGRA:
      return MMDNN_PIXEL_BGRA;
    case GST_VIDEO_FORMAT_RGBx:
      return MMDNN_PIXEL_RGBX;
    case GST_VIDEO_FORMAT_BGRx:
      return MMDNN_PIXEL_BGRX;
    case GST_VIDEO_FORMAT_GRAY8:
      return MMDNN_PIXEL_GRAY8;
    case GST_VIDEO_FORMAT_I420:
      return MMDNN_PIXEL_I420;
    default:
      fail ("no such test format");
      return MMDNN_PIXEL_RGB;
  }
}

/* A noisy gradient frame with @pad garbage bytes (0xEE) after every row,
 * described to the element by a GstVideoMeta, so only a reader that honours
 * the strides sees the right pixels. */
static void
frame_init (Frame *fr, GstVideoFormat f, gint w, gint h, guint pad,
    guint32 seed)
{
  gsize row[3], offsets[GST_VIDEO_MAX_PLANES] = { 0, }, size = 0;
  gint rows[3], strides[GST_VIDEO_MAX_PLANES] = { 0, };
  GRand *rand = g_rand_new_with_seed (seed);
  guint8 *data;

  memset (fr, 0, sizeof (*fr));
  fr->gst_format = f;
  fr->format = mmdnn_format (f);
  fr->width = w;
  fr->height = h;
  fr->n_planes = f == GST_VIDEO_FORMAT_I420 ? 3 : 1;
  switch (f) {
    case GST_VIDEO_FORMAT_RGB:
    case GST_VIDEO_FORMAT_BGR:
      row[0] = 3 * (gsize) w;
      break;
    case GST_VIDEO_FORMAT_GRAY8:
    case GST_VIDEO_FORMAT_I420:
      row[0] = (gsize) w;
      break;
    default:
      row[0] = 4 * (gsize) w;
      break;
  }
  rows[0] = h;
  row[1] = row[2] = (gsize) (w + 1) / 2;
  rows[1] = rows[2] = (h + 1) / 2;
  for (guint p = 0; p < fr->n_planes; p++) {
    strides[p] = (gint) (row[p] + pad);
    offsets[p] = size;
    size += (gsize) strides[p] * (gsize) rows[p];
  }
  data = g_malloc (size);
  memset (data, 0xEE, size);
  for (guint p = 0; p < fr->n_planes; p++) {
    for (gint y = 0; y < rows[p]; y++) {
      guint8 *r = data + offsets[p] + (gsize) y * (gsize) strides[p];

      for (gsize x = 0; x < row[p]; x++)
        r[x] = (guint8) ((x * 7 + (gsize) y * 13 + p * 50) / 2
            + g_rand_int_range (rand, 0, 64));
    }
    fr->planes[p] = data + offsets[p];
    fr->strides[p] = strides[p];
  }
  g_rand_free (rand);
  fr->buffer = gst_buffer_new_wrapped (data, size);
  gst_buffer_add_video_meta_full (fr->buffer, GST_VIDEO_FRAME_FLAG_NONE, f,
      (guint) w, (guint) h, fr->n_planes, offsets, strides);
}

static void
frame_clear (Frame *fr)
{
  gst_clear_buffer (&fr->buffer);
}

/* A new buffer holding @fr's frame, timestamped; the frame keeps its own. */
static GstBuffer *
frame_buffer (Frame *fr, GstClockTime pts, GstClockTime duration)
{
  GstBuffer *b = gst_buffer_copy (fr->buffer);

  GST_BUFFER_PTS (b) = pts;
  GST_BUFFER_DURATION (b) = duration;
  return b;
}

static gchar *
caps_string (GstVideoFormat f, gint w, gint h, const gchar *framerate)
{
  return g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=%s", gst_video_format_to_string (f), w, h, framerate);
}

/* What the core gives for @fr with @m: (K, D) floats. */
static float *
reference_features (const MmdnnModel *m, const Frame *fr, gsize *n_bytes)
{
  const MmdnnModelConfig *c = m->config;
  int64_t n_in = mmdnn_model_config_input_size (c, MMDNN_MODALITY_VIDEO);
  gsize n_out = (gsize) c->fusion.tokens[MMDNN_MODALITY_VIDEO]
      * (gsize) c->fusion.dim;
  GError *error = NULL;
  MmdnnVideoPrep *prep = mmdnn_video_prep_new (&c->video_prep, &error);
  MmdnnEncodeStage *stage = mmdnn_encode_stage_new (m, MMDNN_MODALITY_VIDEO,
      1, &error);
  float *in = g_new (float, n_in), *out = g_new0 (float, n_out);

  fail_unless (prep != NULL && stage != NULL);
  fail_unless (mmdnn_video_prep_frame (prep, fr->format, fr->width,
          fr->height, fr->planes, fr->strides, in, &error), "%s",
      error ? error->message : "?");
  fail_unless (mmdnn_encode_stage_run (stage, m, in, 1, out, &error), "%s",
      error ? error->message : "?");
  mmdnn_encode_stage_free (stage);
  mmdnn_video_prep_free (prep);
  g_free (in);
  *n_bytes = n_out * sizeof (float);
  return out;
}

static GstHarness *
make_harness (const gchar *model, gdouble max_rate)
{
  GstHarness *h = mmdnn_check_harness_new (FACTORY, model, NULL);

  g_object_set (h->element, "max-rate", max_rate, NULL);
  return h;
}

static const GstVideoFormat all_formats[] = {
  GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_BGR, GST_VIDEO_FORMAT_RGBA,
  GST_VIDEO_FORMAT_BGRA, GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_BGRx,
  GST_VIDEO_FORMAT_GRAY8, GST_VIDEO_FORMAT_I420,
};

/* ------------------------------------------------------- positive tests */

/* Every format, odd size, padded strides: bit-exact with the core. */
GST_START_TEST (test_videoenc_formats_equal_core)
{
  const MmdnnModel *m = mmdnn_check_default_model ();

  for (guint i = 0; i < G_N_ELEMENTS (all_formats); i++) {
    GstHarness *h = make_harness (NULL, 0.0);
    gchar *caps = caps_string (all_formats[i], 33, 17, "30/1");
    GstBuffer *out;
    Frame fr;
    float *ref;
    gsize n;

    frame_init (&fr, all_formats[i], 33, 17, 5, 100 + i);
    gst_harness_set_src_caps_str (h, caps);
    out = gst_harness_push_and_pull (h, frame_buffer (&fr, 0, GST_SECOND / 30));
    fail_unless (out != NULL, "no output for %s",
        gst_video_format_to_string (all_formats[i]));
    ref = reference_features (m, &fr, &n);
    mmdnn_check_assert_features_equal (out, ref, n);
    g_free (ref);
    gst_buffer_unref (out);
    frame_clear (&fr);
    g_free (caps);
    gst_harness_teardown (h);
  }
}
GST_END_TEST;

/* The smallest frame and a full-HD one (a big area downscale). */
GST_START_TEST (test_videoenc_extreme_sizes_equal_core)
{
  static const gint sizes[][2] = { {1, 1}, {1920, 1080}, {2, 3} };
  const MmdnnModel *m = mmdnn_check_default_model ();

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
    GstHarness *h = make_harness (NULL, 0.0);
    GstVideoFormat f = i == 1 ? GST_VIDEO_FORMAT_I420 : GST_VIDEO_FORMAT_RGBx;
    gchar *caps = caps_string (f, sizes[i][0], sizes[i][1], "25/1");
    GstBuffer *out;
    Frame fr;
    float *ref;
    gsize n;

    frame_init (&fr, f, sizes[i][0], sizes[i][1], 0, 7 + i);
    gst_harness_set_src_caps_str (h, caps);
    out = gst_harness_push_and_pull (h, frame_buffer (&fr, 0, GST_SECOND / 25));
    ref = reference_features (m, &fr, &n);
    mmdnn_check_assert_features_equal (out, ref, n);
    g_free (ref);
    gst_buffer_unref (out);
    frame_clear (&fr);
    g_free (caps);
    gst_harness_teardown (h);
  }
}
GST_END_TEST;

GST_START_TEST (test_videoenc_output_caps)
{
  const MmdnnModel *m = mmdnn_check_default_model ();
  const MmdnnModelConfig *c = m->config;
  GstHarness *h = make_harness (NULL, 0.0);
  GstBuffer *out;
  GstCaps *caps;
  const gchar *id;
  gint mod, k, d;
  Frame fr;

  frame_init (&fr, GST_VIDEO_FORMAT_RGB, 64, 48, 0, 1);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGB,width=64,height=48,framerate=30/1");
  out = gst_harness_push_and_pull (h, frame_buffer (&fr, 0, 1));
  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (caps != NULL);
  fail_unless (gst_mmdnn_features_caps_parse (caps, &mod, &k, &d, &id));
  fail_unless_equals_int (mod, MMDNN_MODALITY_VIDEO);
  fail_unless_equals_string (gst_structure_get_string
      (gst_caps_get_structure (caps, 0), "modality"), "video");
  fail_unless_equals_int (k, c->fusion.tokens[MMDNN_MODALITY_VIDEO]);
  fail_unless_equals_int (k, 16);
  fail_unless_equals_int (d, c->fusion.dim);
  fail_unless_equals_string (id, c->model_id);
  fail_unless_equals_string (id, "mmdnn-default");
  fail_unless (gst_caps_is_fixed (caps));
  fail_unless_equals_uint64 (gst_buffer_get_size (out),
      (guint64) k * d * sizeof (float));
  gst_caps_unref (caps);
  gst_buffer_unref (out);
  frame_clear (&fr);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* Before start the source pad offers the template; after, the model's
 * fixed caps, and the sink pad accepts every format and any framerate. */
GST_START_TEST (test_videoenc_caps_queries)
{
  GstElement *e = mmdnn_check_make_element (FACTORY, NULL);
  GstPad *src = gst_element_get_static_pad (e, "src");
  GstPad *sink = gst_element_get_static_pad (e, "sink");
  GstCaps *caps;

  caps = gst_pad_query_caps (src, NULL);
  fail_if (gst_caps_is_fixed (caps));
  gst_caps_unref (caps);

  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_SUCCESS);
  caps = gst_pad_query_caps (src, NULL);
  fail_unless (gst_caps_is_fixed (caps));
  fail_unless_equals_string (gst_structure_get_string
      (gst_caps_get_structure (caps, 0), "model"), "mmdnn-default");
  gst_caps_unref (caps);
  for (guint i = 0; i < G_N_ELEMENTS (all_formats); i++) {
    gchar *s = caps_string (all_formats[i], 7, 5, "0/1");

    caps = gst_caps_from_string (s);
    fail_unless (gst_pad_query_accept_caps (sink, caps), "%s refused", s);
    gst_caps_unref (caps);
    g_free (s);
  }
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (e);
}
GST_END_TEST;

GST_START_TEST (test_videoenc_timestamps)
{
  GstHarness *h = make_harness (NULL, 0.0);
  GstBuffer *in, *out;
  Frame fr;

  frame_init (&fr, GST_VIDEO_FORMAT_GRAY8, 20, 10, 0, 3);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=GRAY8,width=20,height=10,framerate=25/1");

  /* the input's duration wins; DTS and offsets are unset */
  in = frame_buffer (&fr, GST_SECOND, 10 * GST_MSECOND);
  GST_BUFFER_DTS (in) = GST_SECOND - 1;
  GST_BUFFER_OFFSET (in) = 25;
  GST_BUFFER_OFFSET_END (in) = 26;
  out = gst_harness_push_and_pull (h, in);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), 10 * GST_MSECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DTS (out), GST_CLOCK_TIME_NONE);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), GST_BUFFER_OFFSET_NONE);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (out),
      GST_BUFFER_OFFSET_NONE);
  gst_buffer_unref (out);

  /* else 1/framerate */
  out = gst_harness_push_and_pull (h, frame_buffer (&fr, 2 * GST_SECOND,
          GST_CLOCK_TIME_NONE));
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 2 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), 40 * GST_MSECOND);
  gst_buffer_unref (out);

  /* neither: unknown */
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=GRAY8,width=20,height=10,framerate=0/1");
  out = gst_harness_push_and_pull (h, frame_buffer (&fr, 3 * GST_SECOND,
          GST_CLOCK_TIME_NONE));
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 3 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), GST_CLOCK_TIME_NONE);
  gst_buffer_unref (out);

  /* with max-rate: at least 1/max-rate (and the input's when longer) */
  g_object_set (h->element, "max-rate", 4.0, NULL);
  out = gst_harness_push_and_pull (h, frame_buffer (&fr, 4 * GST_SECOND,
          GST_CLOCK_TIME_NONE));
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), 250 * GST_MSECOND);
  gst_buffer_unref (out);
  out = gst_harness_push_and_pull (h, frame_buffer (&fr, 5 * GST_SECOND,
          40 * GST_MSECOND));
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), 250 * GST_MSECOND);
  gst_buffer_unref (out);
  out = gst_harness_push_and_pull (h, frame_buffer (&fr, 6 * GST_SECOND,
          GST_SECOND));
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 6 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), GST_SECOND);
  gst_buffer_unref (out);

  frame_clear (&fr);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* 30 fps for one second at max-rate 10 → frames 0, 3, 6, … (10 of them),
 * each lasting 100 ms; at max-rate 15 every other frame (exactly on the
 * grid, so none is lost to rounding). */
GST_START_TEST (test_videoenc_max_rate)
{
  static const struct
  {
    gdouble rate;
    guint every, n;
    GstClockTime duration;
  } cases[] = {
    {10.0, 3, 10, 100 * GST_MSECOND},
    {15.0, 2, 15, 66666666},
    {30.0, 1, 30, 33333333},
    {0.0, 1, 30, 33333333},
  };
  Frame fr;

  frame_init (&fr, GST_VIDEO_FORMAT_BGRx, 16, 16, 0, 4);
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++) {
    GstHarness *h = make_harness (NULL, cases[c].rate);

    gst_harness_set_src_caps_str (h,
        "video/x-raw,format=BGRx,width=16,height=16,framerate=30/1");
    for (guint i = 0; i < 30; i++)
      fail_unless_equals_int (gst_harness_push (h, frame_buffer (&fr,
                  gst_util_uint64_scale (i, GST_SECOND, 30),
                  GST_CLOCK_TIME_NONE)), GST_FLOW_OK);
    fail_unless_equals_int (gst_harness_buffers_received (h), cases[c].n);
    for (guint i = 0; i < cases[c].n; i++) {
      GstBuffer *out = gst_harness_pull (h);

      fail_unless_equals_uint64 (GST_BUFFER_PTS (out),
          gst_util_uint64_scale (i * cases[c].every, GST_SECOND, 30));
      fail_unless_equals_uint64 (GST_BUFFER_DURATION (out),
          cases[c].duration);
      gst_buffer_unref (out);
    }
    gst_harness_teardown (h);
  }
  frame_clear (&fr);
}
GST_END_TEST;

/* Running time, not PTS: a segment with a base shifts the grid. */
GST_START_TEST (test_videoenc_max_rate_running_time)
{
  GstHarness *h = make_harness (NULL, 2.0);
  GstSegment seg;
  GstBuffer *out;
  Frame fr;

  frame_init (&fr, GST_VIDEO_FORMAT_RGB, 8, 8, 0, 5);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGB,width=8,height=8,framerate=10/1");
  gst_segment_init (&seg, GST_FORMAT_TIME);
  seg.start = 10 * GST_SECOND;
  seg.time = 10 * GST_SECOND;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  /* running times 0, .1, …, .9 s at max-rate 2 → 0 and .5 s */
  for (guint i = 0; i < 10; i++)
    gst_harness_push (h, frame_buffer (&fr, 10 * GST_SECOND
            + i * 100 * GST_MSECOND, 100 * GST_MSECOND));
  fail_unless_equals_int (gst_harness_buffers_received (h), 2);
  out = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 10 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), 500 * GST_MSECOND);
  gst_buffer_unref (out);
  out = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out),
      10 * GST_SECOND + 500 * GST_MSECOND);
  gst_buffer_unref (out);
  frame_clear (&fr);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* The limiter starts afresh after a flush and on a new segment. */
GST_START_TEST (test_videoenc_max_rate_reset)
{
  GstHarness *h = make_harness (NULL, 1.0);
  GstSegment seg;
  GstBuffer *out;
  Frame fr;

  frame_init (&fr, GST_VIDEO_FORMAT_RGB, 8, 8, 0, 6);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGB,width=8,height=8,framerate=30/1");
  gst_segment_init (&seg, GST_FORMAT_TIME);

  gst_harness_push (h, frame_buffer (&fr, 0, GST_CLOCK_TIME_NONE));
  gst_harness_push (h, frame_buffer (&fr, 100 * GST_MSECOND,
          GST_CLOCK_TIME_NONE));
  fail_unless_equals_int (gst_harness_buffers_received (h), 1);

  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  gst_harness_push (h, frame_buffer (&fr, 200 * GST_MSECOND,
          GST_CLOCK_TIME_NONE));
  fail_unless_equals_int (gst_harness_buffers_received (h), 2);

  /* a new segment without a flush */
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  gst_harness_push (h, frame_buffer (&fr, 300 * GST_MSECOND,
          GST_CLOCK_TIME_NONE));
  fail_unless_equals_int (gst_harness_buffers_received (h), 3);
  /* and still limiting afterwards */
  gst_harness_push (h, frame_buffer (&fr, 400 * GST_MSECOND,
          GST_CLOCK_TIME_NONE));
  fail_unless_equals_int (gst_harness_buffers_received (h), 3);

  for (guint i = 0; i < 3; i++) {
    static const GstClockTime pts[] = { 0, 200 * GST_MSECOND,
      300 * GST_MSECOND
    };

    out = gst_harness_pull (h);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), pts[i]);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), GST_SECOND);
    gst_buffer_unref (out);
  }
  frame_clear (&fr);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* After a flush the element keeps encoding, with the same values. */
GST_START_TEST (test_videoenc_flush)
{
  const MmdnnModel *m = mmdnn_check_default_model ();
  GstHarness *h = make_harness (NULL, 0.0);
  GstSegment seg;
  GstBuffer *out;
  float *ref;
  gsize n;
  Frame fr;

  frame_init (&fr, GST_VIDEO_FORMAT_I420, 31, 29, 3, 8);
  ref = reference_features (m, &fr, &n);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=I420,width=31,height=29,framerate=30/1");
  out = gst_harness_push_and_pull (h, frame_buffer (&fr, 0, 1));
  mmdnn_check_assert_features_equal (out, ref, n);
  gst_buffer_unref (out);

  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  out = gst_harness_push_and_pull (h, frame_buffer (&fr, 5 * GST_SECOND, 1));
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 5 * GST_SECOND);
  mmdnn_check_assert_features_equal (out, ref, n);
  gst_buffer_unref (out);

  g_free (ref);
  frame_clear (&fr);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_videoenc_eos)
{
  GstHarness *h = make_harness (NULL, 0.0);
  Frame fr;

  frame_init (&fr, GST_VIDEO_FORMAT_RGBA, 8, 8, 0, 9);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGBA,width=8,height=8,framerate=30/1");
  gst_harness_push (h, frame_buffer (&fr, 0, 1));
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_buffers_received (h), 1);
  fail_unless (mmdnn_check_count_events (h, GST_EVENT_EOS) > 0,
      "EOS was not forwarded");
  frame_clear (&fr);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_videoenc_state_cycles)
{
  GstElement *e = mmdnn_check_make_element (FACTORY, NULL);
  GstHarness *h;
  GstBuffer *out;
  Frame fr;

  mmdnn_check_state_cycles (e, 4);
  /* and it still works */
  h = gst_harness_new_with_element (e, "sink", "src");
  frame_init (&fr, GST_VIDEO_FORMAT_BGR, 9, 9, 0, 10);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=BGR,width=9,height=9,framerate=30/1");
  out = gst_harness_push_and_pull (h, frame_buffer (&fr, 0, 1));
  fail_unless (out != NULL);
  gst_buffer_unref (out);
  mmdnn_check_ready_cycles (h, 3);
  frame_clear (&fr);
  gst_harness_teardown (h);
  gst_object_unref (e);
}
GST_END_TEST;

/* A new model set in READY is loaded on the next start: other caps, other
 * values, each equal to its own model's core output. */
GST_START_TEST (test_videoenc_model_change_in_ready)
{
  gchar *dir = mmdnn_check_make_tmp_dir (TMP_DIR);
  gchar *tiny = mmdnn_check_write_tiny_model (dir, "tiny.safetensors",
      "tiny-video", "[\"video\", \"text\"]", SEED);
  MmdnnModel *mt = mmdnn_check_load_model (tiny);
  const MmdnnModel *md = mmdnn_check_default_model ();
  GstElement *e = mmdnn_check_make_element (FACTORY, tiny);
  GstHarness *h = gst_harness_new_with_element (e, "sink", "src");
  GstBuffer *out;
  float *ref;
  gsize n;
  Frame fr;

  frame_init (&fr, GST_VIDEO_FORMAT_RGB, 40, 30, 1, 11);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGB,width=40,height=30,framerate=30/1");
  out = gst_harness_push_and_pull (h, frame_buffer (&fr, 0, 1));
  mmdnn_check_features_caps (h, "tiny-video", 4, 8);
  ref = reference_features (mt, &fr, &n);
  mmdnn_check_assert_features_equal (out, ref, n);
  g_free (ref);
  gst_buffer_unref (out);

  mmdnn_check_restart_with_model (h, NULL);
  fail_unless (gst_harness_push_event (h, gst_event_new_stream_start ("2")));
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGB,width=40,height=30,framerate=30/1");
  out = gst_harness_push_and_pull (h, frame_buffer (&fr, 0, 1));
  mmdnn_check_features_caps (h, "mmdnn-default", 16, 128);
  ref = reference_features (md, &fr, &n);
  mmdnn_check_assert_features_equal (out, ref, n);
  g_free (ref);
  gst_buffer_unref (out);

  frame_clear (&fr);
  gst_harness_teardown (h);
  gst_object_unref (e);
  mmdnn_model_free (mt);
  g_free (tiny);
  mmdnn_check_remove_tmp_dir (dir);
}
GST_END_TEST;

static void
count_handoff (GstElement *sink, GstBuffer *buf, GstPad *pad, gpointer data)
{
  guint *count = data;

  (*count)++;
}

/* The SECTION's example launch line, with the encoder inside a pipeline. */
GST_START_TEST (test_videoenc_launch_line)
{
  GError *error = NULL;
  GstElement *pipe = gst_parse_launch ("videotestsrc num-buffers=6 ! "
      "videoconvert ! mmdnnvideoenc ! fakesink name=sink signal-handoffs=true",
      &error);
  GstElement *sink;
  guint count = 0;

  fail_unless (pipe != NULL, "%s", error ? error->message : "?");
  sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  g_signal_connect (sink, "handoff", G_CALLBACK (count_handoff), &count);
  fail_unless (mmdnn_check_run_to_eos (pipe));
  fail_unless_equals_int (count, 6);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipe);
}
GST_END_TEST;

/* Once started the element's caps say how large a frame the model can
 * scale down (8192 for the default 64×64 input), so a videoscale upstream
 * brings a larger frame within them instead of failing to negotiate. */
GST_START_TEST (test_videoenc_videoscale_fits_huge_frames)
{
  GError *error = NULL;
  GstElement *pipe = gst_parse_launch ("videotestsrc num-buffers=2 ! "
      "video/x-raw,format=GRAY8,width=10000,height=64 ! videoscale ! "
      "mmdnnvideoenc name=enc ! fakesink name=sink signal-handoffs=true",
      &error);
  GstElement *sink, *enc;
  GstCaps *caps;
  GstPad *pad;
  gint w = 0;
  guint count = 0;

  fail_unless (pipe != NULL, "%s", error ? error->message : "?");
  sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  enc = gst_bin_get_by_name (GST_BIN (pipe), "enc");
  g_signal_connect (sink, "handoff", G_CALLBACK (count_handoff), &count);
  fail_unless (mmdnn_check_run_to_eos (pipe));
  fail_unless_equals_int (count, 2);
  pad = gst_element_get_static_pad (enc, "sink");
  caps = gst_pad_get_current_caps (pad);
  fail_unless (gst_structure_get_int (gst_caps_get_structure (caps, 0),
          "width", &w));
  fail_unless (w <= 8192, "negotiated width %d", w);
  gst_caps_unref (caps);
  gst_object_unref (pad);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (enc);
  gst_object_unref (sink);
  gst_object_unref (pipe);
}
GST_END_TEST;

/* ------------------------------------------------------- negative tests */

/* Caps the element must refuse: the caps event fails and a buffer then
 * comes back NOT_NEGOTIATED, with nothing pushed. */
static void
check_refused_caps (const gchar *caps_str)
{
  GstHarness *h = make_harness (NULL, 0.0);
  GstCaps *caps = gst_caps_from_string (caps_str);

  fail_unless (caps != NULL);
  fail_if (mmdnn_check_accepts (h->element, caps_str), "%s accepted",
      caps_str);
  mmdnn_check_refuse_caps_event (h, caps);
  mmdnn_check_push_not_negotiated (h, gst_buffer_new_allocate (NULL, 4096,
          NULL));
  gst_caps_unref (caps);
  gst_harness_teardown (h);
}

GST_START_TEST (test_videoenc_refuses_nv12_n)
{
  check_refused_caps
      ("video/x-raw,format=NV12,width=32,height=32,framerate=30/1");
}
GST_END_TEST;

GST_START_TEST (test_videoenc_refuses_other_formats_n)
{
  check_refused_caps
      ("video/x-raw,format=YUY2,width=32,height=32,framerate=30/1");
  check_refused_caps
      ("video/x-raw,format=RGB16,width=32,height=32,framerate=30/1");
  check_refused_caps
      ("video/x-raw(memory:GLMemory),format=RGBA,width=32,height=32,"
      "framerate=30/1");
}
GST_END_TEST;

GST_START_TEST (test_videoenc_refuses_audio_n)
{
  check_refused_caps ("audio/x-raw,format=F32LE,rate=16000,channels=1,"
      "layout=interleaved");
  check_refused_caps ("text/x-raw,format=utf8");
}
GST_END_TEST;

GST_START_TEST (test_videoenc_refuses_bad_size_n)
{
  check_refused_caps ("video/x-raw,format=RGB,width=0,height=32,"
      "framerate=30/1");
  check_refused_caps ("video/x-raw,format=RGB,width=16385,height=32,"
      "framerate=30/1");
  check_refused_caps ("video/x-raw,format=I420,width=32,height=20000,"
      "framerate=30/1");
}
GST_END_TEST;

/* Caps change mid-stream, three times (format and size): each frame is
 * bit-exact with the core for its own caps, timestamps kept. Then caps the
 * element refuses (NV12, 0×0): the next frame is NOT_NEGOTIATED, nothing
 * pushed; good caps again and the stream goes on. */
GST_START_TEST (test_videoenc_caps_change_n)
{
  static const struct { GstVideoFormat f; gint w, h; } steps[] = {
    { GST_VIDEO_FORMAT_RGB, 33, 17 }, { GST_VIDEO_FORMAT_I420, 64, 48 },
    { GST_VIDEO_FORMAT_GRAY8, 1, 1 }, { GST_VIDEO_FORMAT_BGRx, 20, 90 },
  };
  static const gchar *refused[] = {
    "video/x-raw,format=NV12,width=32,height=32,framerate=30/1",
    "video/x-raw,format=RGB,width=0,height=0,framerate=30/1",
  };
  const MmdnnModel *m = mmdnn_check_default_model ();
  GstHarness *h = make_harness (NULL, 0.0);
  guint pushed = 0;

  for (guint round = 0; round < 2; round++) {
    for (guint i = 0; i < G_N_ELEMENTS (steps); i++) {
      gchar *caps = caps_string (steps[i].f, steps[i].w, steps[i].h, "25/1");
      GstClockTime pts = pushed * GST_SECOND / 25;
      GstBuffer *out;
      Frame fr;
      float *ref;
      gsize n;

      frame_init (&fr, steps[i].f, steps[i].w, steps[i].h, 3, 40 + i);
      gst_harness_set_src_caps_str (h, caps);
      out = gst_harness_push_and_pull (h, frame_buffer (&fr, pts,
              GST_SECOND / 25));
      fail_unless (out != NULL, "no output after %s", caps);
      fail_unless_equals_uint64 (GST_BUFFER_PTS (out), pts);
      ref = reference_features (m, &fr, &n);
      mmdnn_check_assert_features_equal (out, ref, n);
      pushed++;
      g_free (ref);
      gst_buffer_unref (out);
      frame_clear (&fr);
      g_free (caps);
    }
    {
      GstCaps *bad = gst_caps_from_string (refused[round]);

      mmdnn_check_refuse_caps_event (h, bad);
      gst_caps_unref (bad);
      fail_unless_equals_int (gst_harness_push (h, gst_buffer_new_allocate
              (NULL, 32 * 32 * 3, NULL)), GST_FLOW_NOT_NEGOTIATED);
      fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
    }
  }
  gst_harness_teardown (h);
}
GST_END_TEST;

/* Huge frames. 16384×16384 is more than the scaler can shrink to the
 * default model's 64×64 at once (libswscale crashes from about 160 times
 * on): refused at negotiation, the next buffer NOT_NEGOTIATED. The largest
 * the model takes, 8192×8192 GRAY8 (64 MiB; mapped zero pages, so it costs
 * no memory): one buffer of features, the same as for a small black frame,
 * since an area downscale of zeros is zeros. The same caps with a buffer
 * of one byte: a STREAM/FORMAT error. */
GST_START_TEST (test_videoenc_huge_frame_n)
{
  const gsize side = 8192, size = side * side;
  GstHarness *h = make_harness (NULL, 0.0);
  GstBus *bus = mmdnn_check_attach_bus (h->element);
  gchar *caps = caps_string (GST_VIDEO_FORMAT_GRAY8, (gint) side,
      (gint) side, "1/1");
  GstCaps *too_big = gst_caps_from_string ("video/x-raw,format=GRAY8,"
      "width=16384,height=16384,framerate=1/1");
  void *zeros = mmap (NULL, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
      -1, 0);
  GstBuffer *big, *out, *small_out;
  GstMapInfo a, b;

  mmdnn_check_refuse_caps_event (h, too_big);
  gst_caps_unref (too_big);
  mmdnn_check_push_not_negotiated (h, gst_buffer_new_allocate (NULL, 16,
          NULL));

  fail_unless (zeros != MAP_FAILED);
  gst_harness_set_src_caps_str (h, caps);
  big = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY, zeros, size,
      0, size, NULL, NULL);
  GST_BUFFER_PTS (big) = 0;
  out = gst_harness_push_and_pull (h, big);
  fail_unless (out != NULL);

  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=GRAY8,width=64,height=64,framerate=1/1");
  small_out = gst_harness_push_and_pull (h, gst_buffer_new_wrapped
      (g_malloc0 (64 * 64), 64 * 64));
  fail_unless (gst_buffer_map (out, &a, GST_MAP_READ));
  fail_unless (gst_buffer_map (small_out, &b, GST_MAP_READ));
  fail_unless_equals_int (a.size, b.size);
  fail_unless (memcmp (a.data, b.data, a.size) == 0);
  gst_buffer_unmap (small_out, &b);
  gst_buffer_unmap (out, &a);
  gst_buffer_unref (small_out);
  gst_buffer_unref (out);

  gst_harness_set_src_caps_str (h, caps);
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_new_allocate (NULL,
              1, NULL)), GST_FLOW_ERROR);
  mmdnn_check_expect_message (bus, GST_MESSAGE_ERROR, GST_STREAM_ERROR,
      GST_STREAM_ERROR_FORMAT, NULL);
  mmdnn_check_detach_bus (h->element, bus);
  gst_harness_teardown (h);
  munmap (zeros, size);
  g_free (caps);
}
GST_END_TEST;

/* Downstream wants features the model does not make. */
GST_START_TEST (test_videoenc_downstream_mismatch_n)
{
  static const gchar *wanted[] = {
    "application/x-mmdnn-features,modality=video,tokens=16,dim=64",
    "application/x-mmdnn-features,modality=audio,tokens=16,dim=128",
    "application/x-mmdnn-features,modality=video,tokens=16,dim=128,"
        "model=other-model",
  };

  for (guint i = 0; i < G_N_ELEMENTS (wanted); i++) {
    GstHarness *h = make_harness (NULL, 0.0);
    GstPad *src = gst_element_get_static_pad (h->element, "src");
    GstCaps *caps = gst_caps_from_string (wanted[i]);

    fail_if (gst_pad_query_accept_caps (src, caps), "%s accepted", wanted[i]);
    gst_caps_unref (caps);
    gst_harness_set_sink_caps_str (h, wanted[i]);
    caps = gst_caps_from_string ("video/x-raw,format=RGB,width=8,height=8,"
        "framerate=30/1");
    mmdnn_check_refuse_caps_event (h, caps);
    gst_caps_unref (caps);
    mmdnn_check_push_not_negotiated (h, gst_buffer_new_allocate (NULL, 192,
            NULL));
    gst_object_unref (src);
    gst_harness_teardown (h);
  }
}
GST_END_TEST;

GST_START_TEST (test_videoenc_no_caps_n)
{
  GstHarness *h = make_harness (NULL, 0.0);

  mmdnn_check_push_not_negotiated (h, gst_buffer_new_allocate (NULL, 192,
          NULL));
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_videoenc_missing_model_n)
{
  mmdnn_check_expect_start_failure (FACTORY,
      "/nonexistent/dir/model.safetensors", GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_OPEN_READ);
}
GST_END_TEST;

/* The error text names the file, and the element recovers once fixed. */
GST_START_TEST (test_videoenc_missing_model_message_n)
{
  GstElement *e = mmdnn_check_make_element (FACTORY,
      "/nonexistent/mmdnn-x.safetensors");
  GstBus *bus = mmdnn_check_attach_bus (e);
  GstMessage *msg;
  GError *error = NULL;

  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &error, NULL);
  fail_unless (strstr (error->message, "/nonexistent/mmdnn-x.safetensors")
      != NULL, "%s", error->message);
  g_error_free (error);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);
  g_object_set (e, "model", NULL, NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_SUCCESS);
  gst_element_set_state (e, GST_STATE_NULL);
  mmdnn_check_detach_bus (e, bus);
  gst_object_unref (e);
}
GST_END_TEST;

GST_START_TEST (test_videoenc_corrupt_model_n)
{
  static const char garbage[] = "\x40\x00\x00\x00\x00\x00\x00\x00{\"x\": ";

  mmdnn_check_expect_bad_model_file (FACTORY, garbage, sizeof (garbage) - 1,
      GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ);
  mmdnn_check_expect_bad_model_file (FACTORY, "", 0, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_READ);
}
GST_END_TEST;

/* The default model cut in half: every header is valid, the data is not
 * all there. */
GST_START_TEST (test_videoenc_truncated_model_n)
{
  gsize size;
  gchar *data = mmdnn_check_read_default_model (&size);

  mmdnn_check_expect_bad_model_file (FACTORY, data, size / 2,
      GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ);
  g_free (data);
}
GST_END_TEST;

GST_START_TEST (test_videoenc_model_without_video_n)
{
  mmdnn_check_expect_model_without_encoder (FACTORY, "[\"text\"]", SEED);
}
GST_END_TEST;

/* `model` is not changed while PAUSED/PLAYING. */
GST_START_TEST (test_videoenc_model_change_in_playing_n)
{
  GstHarness *h = make_harness (NULL, 0.0);

  mmdnn_check_model_unchanged_in_playing (h);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* A buffer smaller than its caps say: an error, not a crash or a read
 * past its end. */
GST_START_TEST (test_videoenc_short_buffer_n)
{
  GstHarness *h = make_harness (NULL, 0.0);
  GstBus *bus = mmdnn_check_attach_bus (h->element);

  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGB,width=64,height=64,framerate=30/1");
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_new_allocate (NULL,
              64 * 64 * 3 - 1, NULL)), GST_FLOW_ERROR);
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  mmdnn_check_expect_message (bus, GST_MESSAGE_ERROR, GST_STREAM_ERROR,
      GST_STREAM_ERROR_FORMAT, NULL);
  mmdnn_check_detach_bus (h->element, bus);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* A frame dropped by max-rate is not even looked at: a broken buffer in a
 * dropped slot passes silently, the same buffer in a kept slot fails. */
GST_START_TEST (test_videoenc_max_rate_drops_without_work_n)
{
  GstHarness *h = make_harness (NULL, 10.0);
  GstBus *bus = mmdnn_check_attach_bus (h->element);
  GstBuffer *bad;
  Frame fr;

  frame_init (&fr, GST_VIDEO_FORMAT_RGB, 16, 16, 0, 12);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGB,width=16,height=16,framerate=30/1");
  fail_unless_equals_int (gst_harness_push (h, frame_buffer (&fr, 0, 1)),
      GST_FLOW_OK);
  for (guint i = 1; i < 3; i++) {
    bad = gst_buffer_new_allocate (NULL, 3, NULL);
    GST_BUFFER_PTS (bad) = gst_util_uint64_scale (i, GST_SECOND, 30);
    fail_unless_equals_int (gst_harness_push (h, bad), GST_FLOW_OK);
  }
  fail_unless_equals_int (gst_harness_buffers_received (h), 1);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);

  bad = gst_buffer_new_allocate (NULL, 3, NULL);
  GST_BUFFER_PTS (bad) = 100 * GST_MSECOND;
  fail_unless_equals_int (gst_harness_push (h, bad), GST_FLOW_ERROR);
  mmdnn_check_expect_message (bus, GST_MESSAGE_ERROR, GST_STREAM_ERROR,
      GST_STREAM_ERROR_FORMAT, NULL);
  fail_unless_equals_int (gst_harness_buffers_received (h), 1);

  frame_clear (&fr);
  mmdnn_check_detach_bus (h->element, bus);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* Frames without a timestamp are never rate-limited away, and give
 * features without one. */
GST_START_TEST (test_videoenc_no_pts_not_limited_n)
{
  GstHarness *h = make_harness (NULL, 1.0);
  GstBuffer *out;
  Frame fr;

  frame_init (&fr, GST_VIDEO_FORMAT_GRAY8, 8, 8, 0, 13);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=GRAY8,width=8,height=8,framerate=30/1");
  gst_harness_push (h, frame_buffer (&fr, 0, GST_CLOCK_TIME_NONE));
  for (guint i = 0; i < 3; i++)
    gst_harness_push (h, frame_buffer (&fr, GST_CLOCK_TIME_NONE,
            GST_CLOCK_TIME_NONE));
  fail_unless_equals_int (gst_harness_buffers_received (h), 4);
  gst_buffer_unref (gst_harness_pull (h));
  out = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), GST_CLOCK_TIME_NONE);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), GST_SECOND);
  gst_buffer_unref (out);
  frame_clear (&fr);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* max-rate refuses negative values (the param spec's range). */
GST_START_TEST (test_videoenc_max_rate_range_n)
{
  GstElement *e = mmdnn_check_make_element (FACTORY, NULL);
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (e),
      "max-rate");
  GValue v = G_VALUE_INIT;

  fail_unless (pspec != NULL);
  g_value_init (&v, G_TYPE_DOUBLE);
  g_value_set_double (&v, -1.0);
  fail_unless (g_param_value_validate (pspec, &v), "-1 accepted");
  fail_unless_equals_float (g_value_get_double (&v), 0.0);
  g_value_unset (&v);
  gst_object_unref (e);
}
GST_END_TEST;


/* Pushes @n frames at @fps from @first_pts, each lasting @dur (NONE:
 * none set), with @caps_fps in the caps, and returns the PTS of every
 * output, in order. */
static GArray *
phase_run (gdouble max_rate, GstClockTime phase, guint n, gint fps,
    gint caps_fps, GstClockTime dur, GstClockTime first_pts)
{
  GstHarness *h = make_harness (NULL, max_rate);
  GArray *pts = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  gchar *caps = g_strdup_printf ("video/x-raw,format=RGB,width=8,height=8,"
      "framerate=%d/1", caps_fps);
  GstBuffer *out;
  Frame fr;

  g_object_set (h->element, "phase", (guint64) phase, NULL);
  frame_init (&fr, GST_VIDEO_FORMAT_RGB, 8, 8, 0, 21);
  gst_harness_set_src_caps_str (h, caps);
  for (guint i = 0; i < n; i++)
    fail_unless_equals_int (gst_harness_push (h, frame_buffer (&fr,
                first_pts + gst_util_uint64_scale (i, GST_SECOND, fps), dur)),
        GST_FLOW_OK);
  while ((out = gst_harness_try_pull (h)) != NULL) {
    GstClockTime t = GST_BUFFER_PTS (out);

    g_array_append_val (pts, t);
    gst_buffer_unref (out);
  }
  g_free (caps);
  frame_clear (&fr);
  gst_harness_teardown (h);
  return pts;
}

static void
assert_pts (GArray *pts, const GstClockTime *want, guint n)
{
  fail_unless_equals_int (pts->len, n);
  for (guint i = 0; i < n; i++)
    fail_unless_equals_uint64 (g_array_index (pts, GstClockTime, i), want[i]);
  g_array_unref (pts);
}

/* phase: the frame on screen at 1 s, 3 s, 5 s, … and no other, i.e. the
 * frame each 2-second window takes at its centre; the output lasts as long
 * as the frame. */
GST_START_TEST (test_videoenc_phase_window_centres)
{
  static const GstClockTime at_10fps[] = { GST_SECOND, 3 * GST_SECOND,
    5 * GST_SECOND
  };
  /* 3 fps, instants 1.5, 3.5, 5.5 s: the frames since 1.333, 3.333, 5.333 */
  static const GstClockTime at_3fps[] = { 1333333333, 3333333333,
    5333333333
  };
  GstHarness *h = make_harness (NULL, 0.5);
  GstBuffer *out;
  Frame fr;

  assert_pts (phase_run (0.5, GST_SECOND, 60, 10, 10, GST_CLOCK_TIME_NONE,
          0), at_10fps, 3);
  assert_pts (phase_run (0.5, 1500 * GST_MSECOND, 18, 3, 3,
          GST_CLOCK_TIME_NONE, 0), at_3fps, 3);

  g_object_set (h->element, "phase", (guint64) GST_SECOND, NULL);
  frame_init (&fr, GST_VIDEO_FORMAT_RGB, 8, 8, 0, 22);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGB,width=8,height=8,framerate=10/1");
  for (guint i = 0; i < 20; i++)
    gst_harness_push (h, frame_buffer (&fr, i * 100 * GST_MSECOND,
            GST_CLOCK_TIME_NONE));
  out = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), 100 * GST_MSECOND);
  gst_buffer_unref (out);
  frame_clear (&fr);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* The buffer's own duration decides what it shows: the frame at or before
 * the instant, not the first after it; without duration and framerate,
 * the first frame at or after each instant. */
GST_START_TEST (test_videoenc_phase_durations)
{
  /* frames of 100 ms from 50 ms: 0.95 s shows 1 s, 2.95 s shows 3 s */
  static const GstClockTime before[] = { 950 * GST_MSECOND,
    2950 * GST_MSECOND
  };
  /* 7 fps from 30 ms, framerate 0/1: 1.030 and 3.030 s come first after */
  static const GstClockTime first_after[] = { 1030 * GST_MSECOND,
    3030 * GST_MSECOND
  };

  assert_pts (phase_run (0.5, GST_SECOND, 40, 10, 10, 100 * GST_MSECOND,
          50 * GST_MSECOND), before, 2);
  assert_pts (phase_run (0.5, GST_SECOND, 28, 7, 0, GST_CLOCK_TIME_NONE,
          30 * GST_MSECOND), first_after, 2);
}
GST_END_TEST;

/* Without max-rate the phase changes nothing: every frame is encoded. */
GST_START_TEST (test_videoenc_phase_needs_max_rate_n)
{
  GArray *pts = phase_run (0.0, GST_SECOND, 12, 10, 10, GST_CLOCK_TIME_NONE,
      0);

  fail_unless_equals_int (pts->len, 12);
  g_array_unref (pts);
}
GST_END_TEST;

/* Nothing is kept for an instant no frame shows (past the stream, or in a
 * gap between frames), nor for frames before the first instant (frames of 40 ms
 * every 100 ms from 50 ms leave 0.99–1.05 s and 2.99–3.05 s uncovered). */
GST_START_TEST (test_videoenc_phase_uncovered_instants_n)
{
  static const GstClockTime late[] = { 5 * GST_SECOND };

  assert_pts (phase_run (0.5, 10 * GST_SECOND, 30, 10, 10,
          GST_CLOCK_TIME_NONE, 0), NULL, 0);
  assert_pts (phase_run (0.1, 5 * GST_SECOND, 60, 10, 10,
          GST_CLOCK_TIME_NONE, 2 * GST_SECOND), late, 1);
  assert_pts (phase_run (0.5, GST_SECOND, 40, 10, 10, 40 * GST_MSECOND,
          50 * GST_MSECOND), NULL, 0);
}
GST_END_TEST;

static Suite *
mmdnnvideoenc_suite (void)
{
  Suite *s = suite_create ("mmdnnvideoenc");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_unchecked_fixture (tc, mmdnn_check_default_model_setup,
      mmdnn_check_default_model_teardown);
  tcase_add_test (tc, test_videoenc_formats_equal_core);
  tcase_add_test (tc, test_videoenc_extreme_sizes_equal_core);
  tcase_add_test (tc, test_videoenc_output_caps);
  tcase_add_test (tc, test_videoenc_caps_queries);
  tcase_add_test (tc, test_videoenc_timestamps);
  tcase_add_test (tc, test_videoenc_max_rate);
  tcase_add_test (tc, test_videoenc_max_rate_running_time);
  tcase_add_test (tc, test_videoenc_max_rate_reset);
  tcase_add_test (tc, test_videoenc_phase_window_centres);
  tcase_add_test (tc, test_videoenc_phase_durations);
  tcase_add_test (tc, test_videoenc_flush);
  tcase_add_test (tc, test_videoenc_eos);
  tcase_add_test (tc, test_videoenc_state_cycles);
  tcase_add_test (tc, test_videoenc_model_change_in_ready);
  tcase_add_test (tc, test_videoenc_launch_line);
  tcase_add_test (tc, test_videoenc_videoscale_fits_huge_frames);

  tcase_add_test (tc, test_videoenc_refuses_nv12_n);
  tcase_add_test (tc, test_videoenc_refuses_other_formats_n);
  tcase_add_test (tc, test_videoenc_refuses_audio_n);
  tcase_add_test (tc, test_videoenc_refuses_bad_size_n);
  tcase_add_test (tc, test_videoenc_downstream_mismatch_n);
  tcase_add_test (tc, test_videoenc_no_caps_n);
  tcase_add_test (tc, test_videoenc_missing_model_n);
  tcase_add_test (tc, test_videoenc_missing_model_message_n);
  tcase_add_test (tc, test_videoenc_corrupt_model_n);
  tcase_add_test (tc, test_videoenc_truncated_model_n);
  tcase_add_test (tc, test_videoenc_model_without_video_n);
  tcase_add_test (tc, test_videoenc_model_change_in_playing_n);
  tcase_add_test (tc, test_videoenc_short_buffer_n);
  tcase_add_test (tc, test_videoenc_caps_change_n);
  tcase_add_test (tc, test_videoenc_huge_frame_n);
  tcase_add_test (tc, test_videoenc_max_rate_drops_without_work_n);
  tcase_add_test (tc, test_videoenc_no_pts_not_limited_n);
  tcase_add_test (tc, test_videoenc_max_rate_range_n);
  tcase_add_test (tc, test_videoenc_phase_needs_max_rate_n);
  tcase_add_test (tc, test_videoenc_phase_uncovered_instants_n);
  return s;
}

GST_CHECK_MAIN (mmdnnvideoenc);
