/* mmdnn — soak: 100 000 windows through mmdnnfuse with the resident set
 * flat (issue 10, item 5).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   bench-soak [--windows N] [--window-ms MS] [--model FILE]
 *
 * (tests/bench/bench-soak.sh runs it with the plugin of a build tree.)
 *
 * mmdnnfuse with the model (default: $MMDNN_DEFAULT_MODEL) gets video,
 * audio and text features on three request pads, one buffer per window and
 * pad, pushed by three threads as three encoders would push them: the same
 * precomputed K×D values every time (K and D as the element's caps query
 * says: the model is loaded once, by mmdnnfuse; a buffer copy sharing the
 * memory, with its own timestamps), so that the run measures the fuse and
 * nothing upstream. Windows of MS (10) ms, hop = window; the text output goes to a
 * fakesink; the application side reads every `mmdnn-result` message, as an
 * application must (a bus nobody reads grows without bound): a sync handler
 * counts them, checks that their running times follow each other window
 * by window, and drops them.
 *
 * At a few window counts (1k, 2k, 5k, 10k, 20k, 50k, 100k for N = 100k)
 * it prints the resident set (VmRSS) and the heap in use (mallinfo2), and at
 * the end the drift of the resident set from 10k windows (the first tenth:
 * by then every pool, cache and malloc arena has its size) to the end, in
 * per cent. Exit status 0 when the drift is within ±2 %, 1 when it is not,
 * 2 on an error.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gst/gst.h>

#define MAX_DRIFT_PCT 2.0
#define N_POINTS 7
#define N_MODALITIES 3

static const double point_fraction[N_POINTS] = {
  0.01, 0.02, 0.05, 0.10, 0.20, 0.50, 1.00
};

typedef struct
{
  guint64 windows;
  guint64 rss_kib, heap_kib;
  gdouble seconds;
} Point;

typedef struct
{
  /* set up before the run */
  guint64 n_windows;
  GstClockTime window;
  guint64 at[N_POINTS];         /* window counts to sample at */
  gint64 t0;

  /* the bus's sync handler (streaming thread) */
  guint64 results;
  Point points[N_POINTS];
  guint n_points;
  gchar *disorder;
} Soak;

typedef struct
{
  GstPad *src;
  GstBuffer *proto;
  guint64 n;
  GstClockTime window;
  GThread *thread;
  GstFlowReturn ret;
} Feeder;

static guint64
statm_kib (void)
{
  gchar *text = NULL;
  guint64 pages = 0;

  if (g_file_get_contents ("/proc/self/statm", &text, NULL, NULL)) {
    gchar **f = g_strsplit (text, " ", 3);

    if (f[0] != NULL && f[1] != NULL)
      pages = g_ascii_strtoull (f[1], NULL, 10);
    g_strfreev (f);
  }
  g_free (text);
  return pages * (guint64) sysconf (_SC_PAGESIZE) / 1024;
}

static GstBusSyncReply
on_message (GstBus *bus, GstMessage *msg, gpointer data)
{
  Soak *s = data;
  const GstStructure *st;
  guint64 rt = G_MAXUINT64;

  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ELEMENT
      || !gst_message_has_name (msg, "mmdnn-result"))
    return GST_BUS_PASS;
  st = gst_message_get_structure (msg);
  if (!gst_structure_get_uint64 (st, "running-time", &rt)
      || rt != s->results * s->window) {
    if (s->disorder == NULL)
      s->disorder = g_strdup_printf ("result %" G_GUINT64_FORMAT ": running "
          "time %" G_GUINT64_FORMAT " ns where %" G_GUINT64_FORMAT " was due",
          s->results, rt, s->results * s->window);
  }
  s->results++;
  if (s->n_points < N_POINTS && s->results == s->at[s->n_points]) {
    Point *p = &s->points[s->n_points++];

    p->windows = s->results;
    p->rss_kib = statm_kib ();
    p->heap_kib = mallinfo2 ().uordblks / 1024;
    p->seconds = (g_get_monotonic_time () - s->t0) / 1e6;
  }
  gst_message_unref (msg);
  return GST_BUS_DROP;
}

static gpointer
feeder_run (gpointer data)
{
  Feeder *f = data;

  for (guint64 i = 0; i < f->n && f->ret == GST_FLOW_OK; i++) {
    GstBuffer *buf = gst_buffer_copy (f->proto);

    GST_BUFFER_PTS (buf) = i * f->window;
    GST_BUFFER_DURATION (buf) = f->window;
    f->ret = gst_pad_push (f->src, buf);
  }
  gst_pad_push_event (f->src, gst_event_new_eos ());
  return NULL;
}

/* @n floats in [-1, 1) from a fixed generator (so text has no padding
 * token) */
static GstBuffer *
features_proto (gsize n, guint32 seed)
{
  float *v = g_new (float, n);
  guint32 x = 12345u + seed;

  for (gsize i = 0; i < n; i++) {
    x = x * 1664525u + 1013904223u;
    v[i] = (float) (x >> 8) / 16777216.0f * 2.0f - 1.0f;
  }
  return gst_buffer_new_wrapped (v, n * sizeof (float));
}

/* A new sink pad of @fuse (started) fed with @modality's features, of the
 * size its caps query says the model takes. */
static gboolean
feeder_start (Feeder *f, GstElement *fuse, const gchar *modality,
    guint64 n, GstClockTime window)
{
  GstPad *sink = gst_element_request_pad_simple (fuse, "sink_%u");
  GstCaps *caps = NULL;
  GstSegment seg;
  gint tokens = 0, dim = 0;
  gboolean ok = FALSE;

  memset (f, 0, sizeof (*f));
  if (sink == NULL)
    return FALSE;
  /* one structure per modality of the model: its tokens and dimension */
  caps = gst_pad_query_caps (sink, NULL);
  for (guint i = 0; i < gst_caps_get_size (caps); i++) {
    GstStructure *st = gst_caps_get_structure (caps, i);

    if (g_strcmp0 (gst_structure_get_string (st, "modality"), modality) == 0
        && gst_structure_get_int (st, "tokens", &tokens)
        && gst_structure_get_int (st, "dim", &dim)) {
      GstCaps *one = gst_caps_new_full (gst_structure_copy (st), NULL);

      gst_caps_unref (caps);
      caps = one;
      ok = TRUE;
      break;
    }
  }
  f->src = gst_pad_new (modality, GST_PAD_SRC);
  gst_pad_set_active (f->src, TRUE);
  ok = ok && gst_pad_link (f->src, sink) == GST_PAD_LINK_OK;
  gst_segment_init (&seg, GST_FORMAT_TIME);
  ok = ok && gst_pad_push_event (f->src, gst_event_new_stream_start
      (modality));
  ok = ok && gst_pad_push_event (f->src, gst_event_new_caps (caps));
  ok = ok && gst_pad_push_event (f->src, gst_event_new_segment (&seg));
  gst_caps_unref (caps);
  gst_object_unref (sink);
  if (!ok)
    return FALSE;
  printf ("  %s: %d tokens × %d\n", modality, tokens, dim);
  f->proto = features_proto ((gsize) tokens * dim, (guint32) tokens);
  f->n = n;
  f->window = window;
  f->thread = g_thread_new (modality, feeder_run, f);
  return TRUE;
}

static void
feeder_join (Feeder *f)
{
  if (f->thread != NULL)
    g_thread_join (f->thread);
  gst_clear_buffer (&f->proto);
  if (f->src != NULL) {
    gst_pad_set_active (f->src, FALSE);
    gst_object_unref (f->src);
  }
}

int
main (int argc, char **argv)
{
  guint64 n_windows = 100000, window_ms = 10;
  gchar *model_path = NULL;
  GOptionEntry entries[] = {
    {"windows", 0, 0, G_OPTION_ARG_INT64, &n_windows, "windows (100000)",
        "N"},
    {"window-ms", 0, 0, G_OPTION_ARG_INT64, &window_ms,
        "window = hop, ms (10)", "MS"},
    {"model", 0, 0, G_OPTION_ARG_FILENAME, &model_path,
        "model file (default: $MMDNN_DEFAULT_MODEL)",
        "FILE"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("— soak of mmdnnfuse");
  GError *err = NULL;
  static const gchar *const modalities[N_MODALITIES] = {
    "video", "audio", "text"
  };
  GstElement *pipeline, *fuse, *sink;
  Feeder feed[N_MODALITIES];
  GstMessage *msg;
  GstBus *bus;
  Soak s;
  int status = 0;
  gdouble drift;
  const Point *p10, *end;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)
      || n_windows < 100 || window_ms < 1) {
    g_printerr ("bench-soak: %s\n", err ? err->message
        : "--windows must be ≥ 100, --window-ms ≥ 1");
    return 2;
  }
  g_option_context_free (ctx);
  if (model_path == NULL && g_getenv ("MMDNN_DEFAULT_MODEL") != NULL)
    model_path = g_strdup (g_getenv ("MMDNN_DEFAULT_MODEL"));
  if (model_path == NULL) {
    g_printerr ("bench-soak: no model: --model FILE or MMDNN_DEFAULT_MODEL\n");
    return 2;
  }
  memset (&s, 0, sizeof (s));
  s.n_windows = n_windows;
  s.window = window_ms * GST_MSECOND;
  for (int i = 0; i < N_POINTS; i++)
    s.at[i] = MAX ((guint64) (point_fraction[i] * n_windows + 0.5), 1);

  pipeline = gst_pipeline_new ("soak");
  fuse = gst_element_factory_make ("mmdnnfuse", NULL);
  sink = gst_element_factory_make ("fakesink", NULL);
  if (fuse == NULL || sink == NULL) {
    g_printerr ("bench-soak: no mmdnnfuse (GST_PLUGIN_PATH_1_0?)\n");
    return 2;
  }
  g_object_set (fuse, "model", model_path, "window", s.window, NULL);
  g_object_set (sink, "sync", FALSE, "enable-last-sample", FALSE, NULL);
  gst_bin_add_many (GST_BIN (pipeline), fuse, sink, NULL);
  gst_element_link (fuse, sink);
  bus = gst_element_get_bus (pipeline);
  gst_bus_set_sync_handler (bus, on_message, &s, NULL);

  setvbuf (stdout, NULL, _IOLBF, 0);
  printf ("bench-soak: %" G_GUINT64_FORMAT " windows of %" G_GUINT64_FORMAT
      " ms through mmdnnfuse with the model %s, features of\n", n_windows,
      window_ms, model_path);
  s.t0 = g_get_monotonic_time ();
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    g_printerr ("bench-soak: the pipeline does not start\n");
    return 2;
  }
  for (int m = 0; m < N_MODALITIES; m++)
    if (!feeder_start (&feed[m], fuse, modalities[m], n_windows, s.window)) {
      g_printerr ("bench-soak: the model takes no %s features\n",
          modalities[m]);
      return 2;
    }
  msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &err, NULL);
    g_printerr ("bench-soak: %s\n", err->message);
    g_clear_error (&err);
    status = 2;
  }
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  for (int m = 0; m < N_MODALITIES; m++)
    feeder_join (&feed[m]);

  printf ("%10s  %10s  %8s  %10s  %12s\n", "windows", "seconds",
      "win/s", "RSS KiB", "heap KiB");
  for (guint i = 0; i < s.n_points; i++) {
    const Point *p = &s.points[i];

    printf ("%10" G_GUINT64_FORMAT "  %10.1f  %8.0f  %10" G_GUINT64_FORMAT
        "  %12" G_GUINT64_FORMAT "\n", p->windows, p->seconds,
        p->windows / MAX (p->seconds, 1e-9), p->rss_kib, p->heap_kib);
  }
  if (s.disorder != NULL) {
    g_printerr ("bench-soak: %s\n", s.disorder);
    status = 2;
  }
  if (s.results != n_windows || s.n_points != N_POINTS) {
    g_printerr ("bench-soak: %" G_GUINT64_FORMAT " results for %"
        G_GUINT64_FORMAT " windows\n", s.results, n_windows);
    status = 2;
  }
  if (status == 0) {
    p10 = &s.points[3];
    end = &s.points[N_POINTS - 1];
    drift = 100.0 * ((gdouble) end->rss_kib - (gdouble) p10->rss_kib)
        / (gdouble) p10->rss_kib;
    printf ("RSS drift from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
        " windows: %+.2f %% (%+" G_GINT64_FORMAT " KiB; bound ±%.0f %%): "
        "%s\n", p10->windows, end->windows, drift,
        (gint64) end->rss_kib - (gint64) p10->rss_kib, MAX_DRIFT_PCT,
        ABS (drift) <= MAX_DRIFT_PCT ? "flat" : "NOT FLAT");
    if (ABS (drift) > MAX_DRIFT_PCT)
      status = 1;
  }

  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_free (model_path);
  g_free (s.disorder);
  return status;
}
