/* Stress: the demo pipeline cycled NULL → PLAYING → NULL, and sink pads of
 * mmdnnfuse and mmdnntrain requested and released while PLAYING, many
 * times over, with no leak and no deadlock.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * - test_demo_state_cycles: the classification pipeline of
 *   pipelines/file-annotate.sh and classify.py, built as classify.py builds
 *   it (decodebin's pads linked as they appear):
 *
 *     filesrc location=tests/core/media/clip.mkv ! decodebin
 *       video ! queue ! videoconvert ! mmdnnvideoenc max-rate=2 ! f.
 *       audio ! queue ! audioconvert ! audioresample ! mmdnnaudioenc ! f.
 *       text  ! queue ! mmdnntextenc ! f.
 *     mmdnnfuse name=f ! text/x-raw,format=utf8 ! fakesink sync=false
 *
 *   with the default model, goes to PLAYING, waits for the first
 *   `mmdnn-result` (which must be the same, bit for bit, in every cycle)
 *   and goes back to NULL with the rest of the clip still in flight:
 *   CYCLES times (1000: 30–40 ms of CPU a cycle on 2 cores, under a
 *   minute; 100 under AddressSanitizer, where a cycle is several times
 *   slower and LeakSanitizer checks the whole process at exit;
 *   $MMDNN_STRESS_CYCLES overrides both).
 * - test_fuse_pad_cycles, test_train_pad_cycles: video and audio features
 *   flow into sink_0 and sink_1 from two threads while the test requests a
 *   third pad, links it, sends text features (half the cycles followed by
 *   EOS; in the other half pushed from a thread of their own while the
 *   pad is released) and releases it again: CYCLES times; every cycle waits
 *   for a new output window, so data flows between any two cycles, and the
 *   output timestamps must rise strictly throughout.
 *
 * What counts as a leak or a deadlock:
 * - deadlock: a watchdog thread fails the test, naming the cycle and
 *   what it was doing, when one step of a cycle (a state change, the wait
 *   for a result, a pad request or release) takes longer than
 *   STEP_LIMIT_S (60 s: a whole cycle of the demo pipeline takes about
 *   1 s under AddressSanitizer on two busy cores, so only a hang trips
 *   it; times CK_TIMEOUT_MULTIPLIER, see mmdnn_check_timeout ());
 * - leaked objects: GStreamer's leaks tracer (GST_TRACERS=leaks, set by
 *   main () when unset) lists the GstObjects and GstMiniObjects created
 *   and destroyed from cycle WARM_CYCLES on; at the end (the demo pipeline
 *   in NULL again; the pad tests' pipeline gone, compared with a short
 *   run before it) no type may have more alive than then. Counting is
 *   exact, so it holds in both trees;
 * - leaked memory: in the normal tree the resident set after the last
 *   cycle (malloc's free memory given back first, see rss_kib ()) may
 *   exceed the one after cycle WARM_CYCLES (100; by then every cache and
 *   pool has its size) by RSS_BOUND_KIB (4 MiB, about 4.5 KiB a cycle over
 *   900 cycles: one features buffer of the default model, 8 KiB, lost per
 *   cycle would be 7 MiB, one preprocessed video frame 44 MiB). Measured:
 *   +1.5 MiB for the demo pipeline, all of it fragmentation (heaptrack:
 *   the memory in use at the end grows by less than 100 bytes a cycle),
 *   +0–0.2 MiB for the pad cycles. Under AddressSanitizer the allocator's
 *   quarantine makes RSS meaningless, and LeakSanitizer does this job
 *   instead; under valgrind (`make check-valgrind`, MMDNN_STRESS_CYCLES
 *   cycles) memcheck's leak check does.
 *
 * The negative tests check that each of these checks can fail (a stuck
 * state change, a leaked buffer, a growing heap), that a pipeline that
 * cannot start is cycled without leak or deadlock too, and that features
 * arriving late on a pad requested in PLAYING are dropped (with QoS)
 * without disturbing the order of the output.
 *
 * Every test runs in a process of its own (check's fork mode), so what one
 * test leaves behind cannot be blamed on another.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <unistd.h>
#include <malloc.h>

#include <gst/check/gstcheck.h>
#include <mmdnn/mmdnn.h>

#include "gstmmdnnmeta.h"
#include "gstmmdnnregistry.h"
#include "gstmmdnnutils.h"
#include "mmdnncheck.h"

#if HAVE_VALGRIND
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#ifdef __SANITIZE_ADDRESS__
#define CYCLES 100
#else
#define CYCLES 1000
#endif
#define WARM_CYCLES 100
#define STEP_LIMIT_S 60
#define RSS_BOUND_KIB 4096
#define MS GST_MSECOND
/* the pad tests' windows: short, so that a cycle costs little */
#define PAD_WINDOW (20 * MS)

#define V MMDNN_MODALITY_VIDEO
#define A MMDNN_MODALITY_AUDIO
#define T MMDNN_MODALITY_TEXT

static gchar *tmpdir, *tiny_path;
static MmdnnModelConfig *tiny;

static guint
n_cycles (void)
{
  const gchar *s = g_getenv ("MMDNN_STRESS_CYCLES");
  guint64 n;

  if (s != NULL && g_ascii_string_to_unsigned (s, 10, 1, G_MAXUINT, &n, NULL))
    return (guint) n;
  return CYCLES;
}

/* cycle from which memory and objects are watched: after the warm-up, or
 * after the first tenth of a shorter run */
static guint
warm_cycles (guint n)
{
  return MIN (WARM_CYCLES, MAX (n / 10, 1));
}

/* ------------------------------------------------------------ watchdog */

/* A thread that watches the steps of the cycles: a step (enter () to the
 * next enter () or to stop ()) that lasts longer than the limit is a
 * deadlock. The test fails from the watchdog's thread (check's fork mode
 * ends the test's process there), unless @report_only, where the watchdog
 * only writes down what it saw and calls @on_fire, for the tests of the
 * watchdog itself. */
typedef struct
{
  GMutex lock;
  GCond cond;
  GThread *thread;
  gint64 limit_us, since;
  guint cycle;
  const gchar *step;
  gboolean stop, report_only;
  gchar *fired;
  void (*on_fire) (gpointer data);
  gpointer data;
} Watchdog;

static gpointer
watchdog_run (gpointer data)
{
  Watchdog *w = data;

  g_mutex_lock (&w->lock);
  while (!w->stop) {
    gint64 now = g_get_monotonic_time ();

    if (w->since >= 0 && now - w->since > w->limit_us) {
      gchar *what = g_strdup_printf ("cycle %u: stuck for %" G_GINT64_FORMAT
          " s in %s (deadlock)", w->cycle, (now - w->since) / G_USEC_PER_SEC,
          w->step);

      if (!w->report_only) {
        g_printerr ("%s\n", what);
        ck_abort_msg ("%s", what);
      }
      w->fired = what;
      w->since = -1;
      g_mutex_unlock (&w->lock);
      if (w->on_fire != NULL)
        w->on_fire (w->data);
      g_mutex_lock (&w->lock);
      continue;
    }
    g_cond_wait_until (&w->cond, &w->lock, now + 50 * G_TIME_SPAN_MILLISECOND);
  }
  g_mutex_unlock (&w->lock);
  return NULL;
}

static void
watchdog_start (Watchdog *w, guint limit_s)
{
  memset (w, 0, sizeof (*w));
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  w->limit_us = (gint64) (mmdnn_check_timeout (limit_s) / GST_USECOND);
  w->since = -1;
  w->step = "nothing";
  w->thread = g_thread_new ("watchdog", watchdog_run, w);
}

static void
watchdog_enter (Watchdog *w, guint cycle, const gchar *step)
{
  g_mutex_lock (&w->lock);
  w->cycle = cycle;
  w->step = step;
  w->since = g_get_monotonic_time ();
  g_mutex_unlock (&w->lock);
}

/* What the watchdog found (transfer full), NULL if nothing. */
static gchar *
watchdog_stop (Watchdog *w)
{
  gchar *fired;

  g_mutex_lock (&w->lock);
  w->stop = TRUE;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
  g_thread_join (w->thread);
  fired = w->fired;
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
  return fired;
}

/* ----------------------------------------------------- memory, objects */

/* The resident set of this process, KiB, once malloc has given back the
 * free memory it holds (malloc_trim): what stays is what is in use and
 * the pages fragmentation keeps. Without the trim the figure depends on
 * which of malloc's arenas the streaming threads of a cycle happened to
 * use, ±10 MB from one cycle to the next in the demo pipeline. */
static guint64
rss_kib (void)
{
  gchar *text = NULL;
  guint64 pages = 0;
  gchar **f;

  malloc_trim (0);

  fail_unless (g_file_get_contents ("/proc/self/statm", &text, NULL, NULL));
  f = g_strsplit (text, " ", 3);
  fail_unless (f[0] != NULL && f[1] != NULL);
  pages = g_ascii_strtoull (f[1], NULL, 10);
  g_strfreev (f);
  g_free (text);
  return pages * (guint64) sysconf (_SC_PAGESIZE) / 1024;
}

/* Whether the resident set tells leaks: not under AddressSanitizer (see
 * the top of the file), nor under valgrind, whose memcheck keeps freed
 * blocks in a queue of 20 MB before reusing them and which does this job
 * with its leak check. */
static gboolean
rss_watched (void)
{
#ifdef __SANITIZE_ADDRESS__
  return FALSE;
#else
  return !RUNNING_ON_VALGRIND;
#endif
}

/* NULL when the resident set grew by at most @bound_kib from @before,
 * else what it did (transfer full). */
static gchar *
rss_growth (guint64 before, guint64 after, guint64 bound_kib)
{
  if (after <= before + bound_kib)
    return NULL;
  return g_strdup_printf ("the resident set grew by %" G_GUINT64_FORMAT
      " KiB (%" G_GUINT64_FORMAT " → %" G_GUINT64_FORMAT " KiB), more than "
      "%" G_GUINT64_FORMAT " KiB", after - before, before, after, bound_kib);
}

static GstTracer *
leaks_tracer (void)
{
  GList *tracers = gst_tracing_get_active_tracers ();
  GstTracer *found = NULL;

  for (GList *l = tracers; l != NULL; l = l->next) {
    if (found == NULL
        && g_strcmp0 (G_OBJECT_TYPE_NAME (l->data), "GstLeaksTracer") == 0)
      found = gst_object_ref (l->data);
    gst_object_unref (l->data);
  }
  g_list_free (tracers);
  fail_unless (found != NULL, "the leaks tracer is not active "
      "(GST_TRACERS=leaks)");
  return found;
}

/* How many more GstObjects and GstMiniObjects of each type are alive than
 * when objects_track () was called, from the leaks tracer's lists of those
 * created and of those destroyed since then. objects_count () takes the
 * lists, so that they never grow long (they hold every object created),
 * and adds them to @net (type name → created − destroyed). */
static GHashTable *
objects_track (void)
{
  GstTracer *t = leaks_tracer ();

  g_signal_emit_by_name (t, "activity-start-tracking");
  gst_object_unref (t);
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static void
objects_add (GHashTable *net, const GValue *list, gint sign)
{
  fail_unless (list != NULL && GST_VALUE_HOLDS_LIST (list));
  for (guint i = 0; i < gst_value_list_get_size (list); i++) {
    const GstStructure *s =
        gst_value_get_structure (gst_value_list_get_value (list, i));
    const gchar *type = gst_structure_get_string (s, "type-name");
    gint n = GPOINTER_TO_INT (g_hash_table_lookup (net, type));

    g_hash_table_replace (net, g_strdup (type), GINT_TO_POINTER (n + sign));
  }
}

static void
objects_count (GHashTable *net)
{
  GstTracer *t = leaks_tracer ();
  GstStructure *cp = NULL;

  g_signal_emit_by_name (t, "activity-get-checkpoint", &cp);
  gst_object_unref (t);
  fail_unless (cp != NULL);
  objects_add (net, gst_structure_get_value (cp, "objects-created-list"), 1);
  objects_add (net, gst_structure_get_value (cp, "objects-removed-list"), -1);
  gst_structure_free (cp);
}

/* NULL when no type has more objects alive than when @net began, else
 * which have how many more (transfer full). Ends the tracking; frees
 * @net. */
static gchar *
objects_leaked (GHashTable *net)
{
  GstTracer *t;
  GString *what = g_string_new (NULL);
  GHashTableIter it;
  gpointer name, n;

  /* the thread pool's idle threads end when they are asked to */
  gst_task_cleanup_all ();
  objects_count (net);
  t = leaks_tracer ();
  g_signal_emit_by_name (t, "activity-stop-tracking");
  gst_object_unref (t);
  g_hash_table_iter_init (&it, net);
  while (g_hash_table_iter_next (&it, &name, &n))
    if (GPOINTER_TO_INT (n) > 0)
      g_string_append_printf (what, " %s +%d", (const gchar *) name,
          GPOINTER_TO_INT (n));
  g_hash_table_unref (net);
  if (what->len == 0) {
    g_string_free (what, TRUE);
    return NULL;
  }
  g_string_prepend (what, "more objects alive than after the warm-up:");
  return g_string_free (what, FALSE);
}

static void
fail_if_said (gchar *what)
{
  if (what != NULL) {
    gchar *copy = g_strdup (what);

    g_free (what);
    ck_abort_msg ("%s", copy);
  }
}

/* ---------------------------------------------------- the demo pipeline */

typedef struct
{
  GstElement *pipeline, *fuse;
  GstElement *in[MMDNN_N_MODALITIES];  /* each branch, a bin */
} Demo;

static void
on_pad_added (GstElement *decode, GstPad *pad, gpointer data)
{
  Demo *d = data;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  const gchar *name;
  GstPad *sink = NULL;
  int mod = -1;

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  if (g_str_has_prefix (name, "video/x-raw"))
    mod = V;
  else if (g_str_has_prefix (name, "audio/x-raw"))
    mod = A;
  else if (g_str_has_prefix (name, "text/x-raw"))
    mod = T;
  gst_caps_unref (caps);
  if (mod < 0)
    return;
  sink = gst_element_get_static_pad (d->in[mod], "sink");
  if (!gst_pad_is_linked (sink))
    fail_unless_equals_int (gst_pad_link (pad, sink), GST_PAD_LINK_OK);
  gst_object_unref (sink);
}

/* The pipeline on @file, mmdnnfuse with @fuse_model (NULL: the default
 * model, as the encoders). */
static void
demo_init (Demo *d, const gchar *file, const gchar *fuse_model)
{
  static const gchar *const branches[MMDNN_N_MODALITIES] = {
    [V] = "queue ! videoconvert ! mmdnnvideoenc max-rate=2",
    [A] = "queue ! audioconvert ! audioresample ! mmdnnaudioenc",
    [T] = "queue ! mmdnntextenc",
  };
  GstElement *src, *decode, *sink;
  GError *err = NULL;

  memset (d, 0, sizeof (*d));
  d->pipeline = gst_pipeline_new ("demo");
  src = gst_element_factory_make ("filesrc", NULL);
  decode = gst_element_factory_make ("decodebin", NULL);
  d->fuse = gst_element_factory_make ("mmdnnfuse", NULL);
  fail_unless (src != NULL && decode != NULL && d->fuse != NULL);
  g_object_set (src, "location", file, NULL);
  if (fuse_model != NULL)
    g_object_set (d->fuse, "model", fuse_model, NULL);
  sink = gst_parse_bin_from_description ("capsfilter "
      "caps=text/x-raw,format=utf8 ! fakesink sync=false "
      "enable-last-sample=false", TRUE, &err);
  fail_unless (sink != NULL, "%s", err ? err->message : "");
  gst_bin_add_many (GST_BIN (d->pipeline), src, decode, d->fuse, sink, NULL);
  fail_unless (gst_element_link (src, decode));
  fail_unless (gst_element_link (d->fuse, sink));
  for (int m = 0; m < MMDNN_N_MODALITIES; m++) {
    /* a bin with ghost pads "sink" and "src" */
    d->in[m] = gst_parse_bin_from_description (branches[m], TRUE, &err);
    fail_unless (d->in[m] != NULL, "%s", err ? err->message : "");
    gst_bin_add (GST_BIN (d->pipeline), d->in[m]);
    fail_unless (gst_element_link (d->in[m], d->fuse));
  }
  g_signal_connect (decode, "pad-added", G_CALLBACK (on_pad_added), d);
}

static void
demo_clear (Demo *d)
{
  gst_element_set_state (d->pipeline, GST_STATE_NULL);
  gst_object_unref (d->pipeline);
  memset (d, 0, sizeof (*d));
}

static gchar *
media_path (const gchar *name)
{
  const gchar *root = g_getenv ("MMDNN_SOURCE_ROOT");

  fail_unless (root != NULL, "MMDNN_SOURCE_ROOT must be set");
  return g_build_filename (root, "tests", "core", "media", name, NULL);
}

/* One cycle: PLAYING, the first result or an error, NULL. Returns the
 * first result's JSON (transfer full), or NULL and *@error the text of the
 * error message that came instead. */
static gchar *
demo_cycle (Demo *d, Watchdog *w, guint cycle, gchar **error)
{
  GstBus *bus = gst_element_get_bus (d->pipeline);
  GstStateChangeReturn ret;
  GstMessage *msg = NULL;
  gchar *json = NULL;

  *error = NULL;
  watchdog_enter (w, cycle, "the change to PLAYING");
  ret = gst_element_set_state (d->pipeline, GST_STATE_PLAYING);
  watchdog_enter (w, cycle, "waiting for the first result");
  while (ret != GST_STATE_CHANGE_FAILURE) {
    msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
        GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ELEMENT
        || gst_message_has_name (msg, "mmdnn-result"))
      break;
    gst_message_unref (msg);
    msg = NULL;
  }
  if (msg == NULL) {
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  }
  if (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT) {
    const GstStructure *s = gst_message_get_structure (msg);
    guint64 rt = G_MAXUINT64, dur = 0;

    fail_unless (gst_structure_get_uint64 (s, "running-time", &rt));
    fail_unless (gst_structure_get_uint64 (s, "duration", &dur));
    fail_unless_equals_uint64 (rt, 0);
    fail_unless_equals_uint64 (dur, GST_SECOND);
    json = g_strdup (gst_structure_get_string (s, "json"));
    fail_unless (json != NULL);
  } else if (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;

    gst_message_parse_error (msg, &err, NULL);
    *error = g_strdup (err->message);
    g_error_free (err);
  } else {
    *error = g_strdup (msg != NULL ? "EOS before any result"
        : "the change to PLAYING failed without an error message");
  }
  if (msg != NULL)
    gst_message_unref (msg);

  watchdog_enter (w, cycle, "the change to NULL");
  fail_unless_equals_int (gst_element_set_state (d->pipeline,
          GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gst_bus_set_flushing (bus, TRUE);
  gst_bus_set_flushing (bus, FALSE);
  gst_object_unref (bus);
  return json;
}

GST_START_TEST (test_demo_state_cycles)
{
  guint n = n_cycles (), warm = warm_cycles (n);
  gchar *file = media_path ("clip.mkv"), *result0 = NULL;
  guint64 rss0 = 0, rss1;
  GHashTable *net = NULL;
  GstMmdnnModelEntry *held = NULL;
  Watchdog w;
  Demo d;

  demo_init (&d, file, NULL);
  watchdog_start (&w, STEP_LIMIT_S);
  for (guint c = 1; c <= n; c++) {
    gchar *error = NULL;
    gchar *json;

    /* Reading the 6.5 MB default model is most of a cycle's time when the
     * elements' release of it at NULL frees it: from the warm-up on, the
     * test holds it in the registry, as a second pipeline using it would.
     * In every tenth cycle of the warm-up the elements load it and free it
     * again (measuring the resident set across such cycles would measure
     * where malloc happens to put 6.5 MB). */
    if (c < warm && c % 10 == 0)
      g_clear_pointer (&held, gst_mmdnn_registry_release);
    else if (held == NULL)
      fail_unless ((held = gst_mmdnn_registry_acquire (NULL, NULL)) != NULL);
    json = demo_cycle (&d, &w, c, &error);
    fail_unless (json != NULL, "cycle %u: %s", c, error);
    /* the same clip, the same model: the same result, in every cycle */
    if (result0 == NULL)
      result0 = json;
    else {
      fail_unless_equals_string (json, result0);
      g_free (json);
    }
    if (c == warm) {
      rss0 = rss_kib ();
      net = objects_track ();
    } else if (net != NULL)
      objects_count (net);
    if (c % 100 == 0)
      GST_INFO ("cycle %u: RSS %" G_GUINT64_FORMAT " KiB", c, rss_kib ());
  }
  fail_if_said (watchdog_stop (&w));
  rss1 = rss_kib ();
  g_clear_pointer (&held, gst_mmdnn_registry_release);
  /* the pipeline in NULL, as after cycle @warm */
  fail_if_said (objects_leaked (net));
  demo_clear (&d);
  GST_INFO ("%u cycles; RSS after cycle %u: %" G_GUINT64_FORMAT " KiB, "
      "after cycle %u: %" G_GUINT64_FORMAT " KiB", n, warm, rss0, n, rss1);
  if (rss_watched ())
    fail_if_said (rss_growth (rss0, rss1, RSS_BOUND_KIB));
  g_free (result0);
  g_free (file);
}
GST_END_TEST;

/* A pipeline that cannot start (mmdnnfuse's model file is corrupt): every
 * cycle ends with the error, promptly, and leaves nothing behind. */
GST_START_TEST (test_failing_start_cycles_n)
{
  static const char corrupt[] = "\x40\x00\x00\x00\x00\x00\x00\x00{\"not";
  guint n = MAX (n_cycles () / 5, 2), warm = warm_cycles (n);
  gchar *file = media_path ("clip.mkv");
  gchar *bad = g_build_filename (tmpdir, "corrupt.safetensors", NULL);
  GHashTable *net = NULL;
  Watchdog w;
  Demo d;

  mmdnn_check_write_file (bad, corrupt, sizeof corrupt - 1);
  demo_init (&d, file, bad);
  watchdog_start (&w, STEP_LIMIT_S);
  for (guint c = 1; c <= n; c++) {
    gchar *error = NULL;
    gchar *json = demo_cycle (&d, &w, c, &error);

    fail_unless (json == NULL, "cycle %u: a result from a corrupt model", c);
    fail_unless (error != NULL && strstr (error, bad) != NULL,
        "cycle %u: the error does not name the model file: %s", c, error);
    g_free (error);
    if (c == warm)
      net = objects_track ();
    else if (net != NULL)
      objects_count (net);
  }
  fail_if_said (watchdog_stop (&w));
  fail_if_said (objects_leaked (net));
  demo_clear (&d);
  g_free (bad);
  g_free (file);
}
GST_END_TEST;

/* ------------------------------------------------- the checks themselves */

static GstPadProbeReturn
block_forever (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  gint *released = data;

  /* a streaming thread that never comes back, until the watchdog fires */
  while (!g_atomic_int_get (released))
    g_usleep (10 * 1000);
  return GST_PAD_PROBE_OK;
}

static void
release (gpointer data)
{
  g_atomic_int_set ((gint *) data, 1);
}

/* The watchdog catches a cycle that does not go on, and names it: here
 * cycle 3, whose audio never reaches mmdnnfuse (a pad probe keeps the
 * streaming thread), so that no window can be computed. */
GST_START_TEST (test_watchdog_names_stuck_cycle_n)
{
  gchar *file = media_path ("clip.mkv"), *error = NULL, *json, *fired;
  gint released = 0;
  GstPad *pad;
  Watchdog w;
  Demo d;

  demo_init (&d, file, NULL);
  watchdog_start (&w, STEP_LIMIT_S);
  for (guint c = 1; c <= 2; c++) {
    json = demo_cycle (&d, &w, c, &error);
    fail_unless (json != NULL, "cycle %u: %s", c, error);
    g_free (json);
  }
  fail_if_said (watchdog_stop (&w));
  /* a watchdog that reports, and lets the audio go when it fires: 10 s,
   * well above what a step that is not stuck takes under
   * AddressSanitizer on busy cores (the change to PLAYING took over 1 s) */
  watchdog_start (&w, 10);
  w.report_only = TRUE;
  w.on_fire = release;
  w.data = &released;
  /* from cycle 3 on, the audio branch (linked second: sink_1) blocks */
  pad = gst_element_get_static_pad (d.fuse, "sink_1");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, block_forever,
      &released, NULL);
  gst_object_unref (pad);
  json = demo_cycle (&d, &w, 3, &error);
  fired = watchdog_stop (&w);
  fail_unless (fired != NULL, "the watchdog did not fire");
  fail_unless (g_str_has_prefix (fired, "cycle 3: stuck for "), "%s", fired);
  fail_unless (g_str_has_suffix (fired, " in waiting for the first result "
          "(deadlock)"), "%s", fired);
  g_free (json);
  g_free (error);
  g_free (fired);
  demo_clear (&d);
  g_free (file);
}
GST_END_TEST;

/* The object check sees one buffer kept alive, and says what it is. */
GST_START_TEST (test_objects_catch_a_leak_n)
{
  GHashTable *net;
  GstBuffer *kept;
  GstElement *e;
  gchar *what;

  /* made and gone: not a leak (once made before, so that its plugin, its
   * factory and its pad templates are there) */
  for (int i = 0; i < 2; i++) {
    net = i == 1 ? objects_track () : NULL;
    e = gst_element_factory_make ("fakesink", NULL);
    gst_object_unref (gst_object_ref_sink (e));
  }
  what = objects_leaked (net);
  fail_unless (what == NULL, "%s", what);

  net = objects_track ();
  kept = gst_buffer_new_allocate (NULL, 64, NULL);
  what = objects_leaked (net);
  fail_unless (what != NULL, "a live buffer went unnoticed");
  fail_unless (strstr (what, " GstBuffer +1") != NULL, "%s", what);
  g_free (what);
  gst_buffer_unref (kept);
}
GST_END_TEST;

/* The resident-set check sees 8 MiB kept. */
GST_START_TEST (test_rss_catches_growth_n)
{
#ifdef __SANITIZE_ADDRESS__
  /* the quarantine and shadow memory: see the top of the file */
  GST_INFO ("not under AddressSanitizer");
#else
  const gsize size = 8 << 20;
  guint64 before = rss_kib ();
  gchar *kept = g_malloc (size), *what;

  memset (kept, 1, size);
  what = rss_growth (before, rss_kib (), RSS_BOUND_KIB);
  fail_unless (what != NULL, "8 MiB went unnoticed");
  g_free (what);
  /* and the bound is not so loose that nothing fails */
  fail_unless (rss_growth (before, before + RSS_BOUND_KIB, RSS_BOUND_KIB)
      == NULL);
  fail_unless (rss_growth (before, before + RSS_BOUND_KIB + 1,
          RSS_BOUND_KIB) != NULL);
  g_free (kept);
#endif
}
GST_END_TEST;

/* ------------------------------------------------ pads while PLAYING */

/* A stream of features into one sink pad, from a thread of its own, as
 * from an encoder: window after window until the pipeline stops it. */
typedef struct
{
  GstPad *src;
  int mod;
  gboolean input_meta;
  GThread *thread;
  gint stop;
  gint pushed;                  /* windows pushed, atomic */
} Feeder;

static gsize
features_size (int mod)
{
  return sizeof (float) * (gsize) tiny->fusion.tokens[mod] * tiny->fusion.dim;
}

/* the features of window @i of @mod: values that vary, and with
 * @input_meta the preprocessed input mmdnntrain wants (zeros; text ids:
 * one word) */
static GstBuffer *
features_buffer (int mod, guint64 i, gboolean input_meta)
{
  gsize size = features_size (mod);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);
  GstMapInfo map;

  fail_unless (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  for (gsize k = 0; k < size / sizeof (float); k++)
    ((float *) map.data)[k] = (float) ((i * 7 + k * 3 + mod) % 17) / 8.0f
        - 1.0f;
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = i * PAD_WINDOW;
  GST_BUFFER_DURATION (buf) = PAD_WINDOW;
  if (input_meta) {
    gint64 n = mmdnn_model_config_input_size (tiny, mod);
    gpointer in = g_malloc0 (sizeof (float) * (gsize) n);

    if (mod == T)
      for (gint64 k = 1; k < n; k++)
        ((gint32 *) in)[k] = -1;
    gst_buffer_add_mmdnn_input_meta (buf, mod, in, n);
    g_free (in);
  }
  return buf;
}

/* A source pad linked to @sink, with its stream started and the caps of
 * @mod's features sent. */
static GstPad *
source_pad (GstPad *sink, int mod, const gchar *name)
{
  GstPad *src = gst_pad_new (name, GST_PAD_SRC);
  GstCaps *caps = gst_mmdnn_features_caps_new (mod,
      (gint) tiny->fusion.tokens[mod], (gint) tiny->fusion.dim,
      tiny->model_id);
  GstSegment seg;

  gst_pad_set_active (src, TRUE);
  fail_unless_equals_int (gst_pad_link (src, sink), GST_PAD_LINK_OK);
  fail_unless (gst_pad_push_event (src, gst_event_new_stream_start (name)));
  fail_unless (gst_pad_push_event (src, gst_event_new_caps (caps)));
  gst_caps_unref (caps);
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_pad_push_event (src, gst_event_new_segment (&seg)));
  return src;
}

static void
source_pad_done (GstPad *src)
{
  GstPad *peer = gst_pad_get_peer (src);

  if (peer != NULL) {
    gst_pad_unlink (src, peer);
    gst_object_unref (peer);
  }
  gst_pad_set_active (src, FALSE);
  gst_object_unref (src);
}

static gpointer
feeder_run (gpointer data)
{
  Feeder *f = data;

  for (guint64 i = 0; !g_atomic_int_get (&f->stop); i++) {
    GstFlowReturn ret = gst_pad_push (f->src, features_buffer (f->mod, i,
            f->input_meta));

    if (ret != GST_FLOW_OK)
      break;                    /* flushing: the pipeline stops */
    g_atomic_int_set (&f->pushed, (gint) MIN (i + 1, G_MAXINT));
  }
  return NULL;
}

/* What came out of the element under test. */
typedef struct
{
  GMutex lock;
  GCond cond;
  guint64 n;
  GstClockTime last;
  gboolean no_text;             /* text must be missing from every result */
  gchar *disorder;              /* the first output out of order */
} Outputs;

static GstPadProbeReturn
on_output (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Outputs *o = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime pts = GST_BUFFER_PTS (buf);

  GstMmdnnResultMeta *meta = gst_buffer_get_mmdnn_result_meta (buf);

  g_mutex_lock (&o->lock);
  if (o->disorder == NULL && (!GST_CLOCK_TIME_IS_VALID (pts)
          || (o->n > 0 && pts <= o->last) || meta == NULL
          || (o->no_text && meta->present[T])))
    o->disorder = g_strdup_printf ("output %" G_GUINT64_FORMAT ": PTS %"
        GST_TIME_FORMAT " after %" GST_TIME_FORMAT "%s", o->n,
        GST_TIME_ARGS (pts), GST_TIME_ARGS (o->last), meta == NULL
        ? ", no result meta" : o->no_text && meta->present[T]
        ? ", with late text" : "");
  o->last = pts;
  o->n++;
  g_cond_broadcast (&o->cond);
  g_mutex_unlock (&o->lock);
  return GST_PAD_PROBE_OK;
}

static guint64
outputs_count (Outputs *o)
{
  guint64 n;

  g_mutex_lock (&o->lock);
  n = o->n;
  g_mutex_unlock (&o->lock);
  return n;
}

/* Waits for an output after the @n first (the watchdog bounds it). */
static void
outputs_wait (Outputs *o, guint64 n)
{
  g_mutex_lock (&o->lock);
  while (o->n <= n)
    g_cond_wait (&o->cond, &o->lock);
  g_mutex_unlock (&o->lock);
}

typedef struct
{
  GstElement *pipeline, *el;
  Feeder feed[2];
  Outputs out;
  guint64 qos;                  /* QoS messages read */
} PadRig;

/* @factory (mmdnnfuse or mmdnntrain) on the tiny model with windows of
 * PAD_WINDOW, its output counted and checked, video and audio flowing. */
static void
pad_rig_init (PadRig *r, const gchar *factory)
{
  gboolean train = g_str_equal (factory, "mmdnntrain");
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstPad *pad;

  memset (r, 0, sizeof (*r));
  g_mutex_init (&r->out.lock);
  g_cond_init (&r->out.cond);
  r->pipeline = gst_pipeline_new (factory);
  r->el = gst_element_factory_make (factory, NULL);
  fail_unless (r->el != NULL && sink != NULL);
  g_object_set (r->el, "model", tiny_path, "window", (guint64) PAD_WINDOW,
      NULL);
  if (train) {
    /* every window labelled, trained on and never written anywhere: the
     * trainer publishes to nothing (publish-interval 0) */
    g_object_set (r->el, "label", "a", "batch-size", 4, "publish-interval",
        0, NULL);
  }
  g_object_set (sink, "sync", FALSE, "enable-last-sample", FALSE, NULL);
  gst_bin_add_many (GST_BIN (r->pipeline), r->el, sink, NULL);
  fail_unless (gst_element_link (r->el, sink));
  pad = gst_element_get_static_pad (r->el, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_output, &r->out,
      NULL);
  gst_object_unref (pad);

  fail_unless (gst_element_set_state (r->pipeline, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE);
  for (int i = 0; i < 2; i++) {
    Feeder *f = &r->feed[i];
    GstPad *sinkpad = gst_element_request_pad_simple (r->el, "sink_%u");

    fail_unless (sinkpad != NULL);
    f->mod = i == 0 ? V : A;
    f->input_meta = train;
    f->src = source_pad (sinkpad, f->mod, i == 0 ? "video" : "audio");
    gst_object_unref (sinkpad);
    f->thread = g_thread_new ("feeder", feeder_run, f);
  }
}

/* Stops the flow (the pipeline to NULL), joins the feeders; the element's
 * outputs must have been in order. */
static void
pad_rig_clear (PadRig *r)
{
  for (int i = 0; i < 2; i++)
    g_atomic_int_set (&r->feed[i].stop, 1);
  fail_unless_equals_int (gst_element_set_state (r->pipeline,
          GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  for (int i = 0; i < 2; i++) {
    GstPad *peer = gst_pad_get_peer (r->feed[i].src);

    g_thread_join (r->feed[i].thread);
    source_pad_done (r->feed[i].src);
    if (peer != NULL) {
      gst_element_release_request_pad (r->el, peer);
      gst_object_unref (peer);
    }
  }
  gst_object_unref (r->pipeline);
  fail_unless (r->out.disorder == NULL, "%s", r->out.disorder);
  g_mutex_clear (&r->out.lock);
  g_cond_clear (&r->out.cond);
}

/* Reads the messages of cycle @c, as an application would (a bus nobody
 * reads keeps them all): results and QoS; an error fails the test. */
static void
pad_rig_read_bus (PadRig *r, guint c)
{
  GstBus *bus = gst_element_get_bus (r->pipeline);
  GstMessage *msg;

  while ((msg = gst_bus_pop (bus)) != NULL) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err = NULL;
      gchar *dbg = NULL;

      gst_message_parse_error (msg, &err, &dbg);
      ck_abort_msg ("cycle %u: %s (%s)", c, err->message, dbg);
    }
    r->qos += GST_MESSAGE_TYPE (msg) == GST_MESSAGE_QOS;
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
}

typedef struct
{
  GstPad *src;
  GstBuffer *buf;
  GstFlowReturn ret;
} Push;

static gpointer
push_run (gpointer data)
{
  Push *p = data;

  p->ret = gst_pad_push (p->src, p->buf);
  return NULL;
}

/* One cycle of a third pad: requested, text features sent at @pts, then
 * released; and an output window after that. With @eos, the features are
 * followed by EOS and an output window is awaited before the release;
 * without, they are pushed from a thread of their own while the pad is
 * released, so that the release meets the buffer anywhere on its way
 * (this found GstAggregator's release dropping a buffer the aggregate
 * thread was popping: gst_mmdnn_child_proxy_release_pad ()). */
static void
pad_cycle (PadRig *r, Watchdog *w, guint c, GstClockTime pts, gboolean eos,
    gboolean input_meta)
{
  guint64 before = outputs_count (&r->out);
  GThread *pusher = NULL;
  GstPad *sink;
  Push p;

  watchdog_enter (w, c, "the pad request");
  sink = gst_element_request_pad_simple (r->el, "sink_%u");
  fail_unless (sink != NULL, "cycle %u: no pad", c);
  fail_unless_equals_int (gst_child_proxy_get_children_count
      (GST_CHILD_PROXY (r->el)), 3);
  watchdog_enter (w, c, "sending text features to the new pad");
  p.src = source_pad (sink, T, "text");
  p.buf = features_buffer (T, 0, input_meta);
  GST_BUFFER_PTS (p.buf) = pts;
  if (eos) {
    push_run (&p);
    fail_unless_equals_int (p.ret, GST_FLOW_OK);
    fail_unless (gst_pad_push_event (p.src, gst_event_new_eos ()));
    /* the pad is done: the others go on while it is still there */
    watchdog_enter (w, c, "waiting for an output, the new pad at EOS");
    outputs_wait (&r->out, before);
    before = outputs_count (&r->out);
  } else {
    pusher = g_thread_new ("text", push_run, &p);
  }
  watchdog_enter (w, c, "the pad release");
  gst_element_release_request_pad (r->el, sink);
  gst_object_unref (sink);
  if (pusher != NULL) {
    g_thread_join (pusher);
    /* taken, or refused by the pad on its way out */
    fail_unless (p.ret == GST_FLOW_OK || p.ret == GST_FLOW_FLUSHING
        || p.ret == GST_FLOW_NOT_LINKED, "cycle %u: %s", c,
        gst_flow_get_name (p.ret));
  }
  source_pad_done (p.src);
  watchdog_enter (w, c, "waiting for an output after the release");
  outputs_wait (&r->out, before);
  pad_rig_read_bus (r, c);
}

/* @n cycles of @factory with a text pad coming and going, its features
 * current (at the video's position) or, when @late, long past; the
 * resident set after cycle @warm in *@rss0 (unless NULL) and at the end in
 * *@rss1. Returns how many windows came out. */
static guint64
pad_cycles (const gchar *factory, guint n, guint warm, gboolean late,
    GHashTable *net, guint64 *rss0, guint64 *rss1)
{
  gboolean train = g_str_equal (factory, "mmdnntrain");
  guint64 outs;
  Watchdog w;
  PadRig r;

  pad_rig_init (&r, factory);
  watchdog_start (&w, STEP_LIMIT_S);
  if (late) {
    /* from the 10th window on, features at 0 are long past */
    watchdog_enter (&w, 0, "waiting for 10 windows");
    outputs_wait (&r.out, 9);
    r.out.no_text = TRUE;
  }
  for (guint c = 1; c <= n; c++) {
    GstClockTime pts = late ? 0 : (GstClockTime) g_atomic_int_get
        (&r.feed[0].pushed) * PAD_WINDOW;

    pad_cycle (&r, &w, c, pts, c % 2 == 1, train);
    if (c == warm && rss0 != NULL)
      *rss0 = rss_kib ();
    if (net != NULL)
      objects_count (net);
  }
  fail_if_said (watchdog_stop (&w));
  outs = outputs_count (&r.out);
  *rss1 = rss_kib ();
  pad_rig_clear (&r);
  /* the late features were dropped (no result has text: pad_rig_clear ()
   * checked) and reported; a pad released before the element looked at
   * its buffer takes it along unreported */
  if (late)
    fail_unless (r.qos > 0 && r.qos <= n, "%" G_GUINT64_FORMAT " QoS "
        "messages for %u late buffers", r.qos, n);
  /* an output window after every release at least */
  fail_unless (outs >= n, "%" G_GUINT64_FORMAT " windows for %u cycles",
      outs, n);
  return outs;
}

/* A short run first, so that what GStreamer makes once per process (the
 * clock, pools, caches) exists; then what a whole run leaves behind must
 * be no more than what the short one left. */
static void
run_pad_cycles (const gchar *factory, gboolean late)
{
  guint n = n_cycles (), warm = warm_cycles (n);
  guint64 rss0 = 0, rss1 = 0, outs;
  GHashTable *net;

  if (late)
    n = MAX (n / 5, 2);
  pad_cycles (factory, 4, 4, late, NULL, NULL, &rss1);
  net = objects_track ();
  outs = pad_cycles (factory, n, warm, late, net, &rss0, &rss1);
  fail_if_said (objects_leaked (net));
  GST_INFO ("%s: %u cycles, %" G_GUINT64_FORMAT " windows out; RSS after "
      "cycle %u: %" G_GUINT64_FORMAT " KiB, at the end: %" G_GUINT64_FORMAT
      " KiB", factory, n, outs, warm, rss0, rss1);
  if (rss_watched ())
    fail_if_said (rss_growth (rss0, rss1, RSS_BOUND_KIB));
}

GST_START_TEST (test_fuse_pad_cycles)
{
  run_pad_cycles ("mmdnnfuse", FALSE);
}
GST_END_TEST;

GST_START_TEST (test_train_pad_cycles)
{
  run_pad_cycles ("mmdnntrain", FALSE);
}
GST_END_TEST;

/* The new pad's features are all late (the window they describe is long
 * computed): dropped every time, the output still in order. */
GST_START_TEST (test_fuse_pad_cycles_late_n)
{
  run_pad_cycles ("mmdnnfuse", TRUE);
}
GST_END_TEST;

/* Requests the elements cannot grant: pads they have no template for, a
 * second label pad of mmdnntrain; their pads stay as they were. */
GST_START_TEST (test_bad_pad_requests_n)
{
  GstElement *fuse = gst_element_factory_make ("mmdnnfuse", NULL);
  GstElement *train = gst_element_factory_make ("mmdnntrain", NULL);
  GstPadTemplate *templ;
  GstPad *label;

  fail_unless (fuse != NULL && train != NULL);
  fail_unless (gst_element_request_pad_simple (fuse, "src_%u") == NULL);
  fail_unless (gst_element_request_pad_simple (fuse, "label") == NULL);
  fail_unless_equals_int (fuse->numsinkpads, 0);

  label = gst_element_request_pad_simple (train, "label");
  fail_unless (label != NULL);
  templ = gst_element_get_pad_template (train, "label");
  fail_unless (gst_element_request_pad (train, templ, NULL, NULL) == NULL);
  fail_unless_equals_int (train->numsinkpads, 1);
  gst_element_release_request_pad (train, label);
  gst_object_unref (label);
  fail_unless_equals_int (train->numsinkpads, 0);

  gst_object_unref (gst_object_ref_sink (fuse));
  gst_object_unref (gst_object_ref_sink (train));
}
GST_END_TEST;

/* ----------------------------------------------------------------- main */

/* an unchecked fixture: the tiny model, written once before the tests
 * fork */
static void
tiny_model_setup (void)
{
  MmdnnModel *m;

  tmpdir = mmdnn_check_make_tmp_dir ("mmdnn-stress-XXXXXX");
  tiny_path = mmdnn_check_write_tiny_model (tmpdir, "tiny.safetensors",
      "stress-tiny", "[\"video\", \"audio\", \"text\"]", 3);
  m = mmdnn_check_load_model (tiny_path);
  tiny = mmdnn_model_config_copy (m->config);
  mmdnn_model_free (m);
}

static void
tiny_model_teardown (void)
{
  g_clear_pointer (&tiny, mmdnn_model_config_free);
  g_clear_pointer (&tiny_path, g_free);
  mmdnn_check_remove_tmp_dir (tmpdir);
  tmpdir = NULL;
}

static Suite *
stress_suite (void)
{
  Suite *s = suite_create ("stress");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_unchecked_fixture (tc, tiny_model_setup, tiny_model_teardown);
  /* the watchdog bounds every step; this bounds a whole test */
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_demo_state_cycles);
  tcase_add_test (tc, test_fuse_pad_cycles);
  tcase_add_test (tc, test_train_pad_cycles);

  tcase_add_test (tc, test_failing_start_cycles_n);
  tcase_add_test (tc, test_watchdog_names_stuck_cycle_n);
  tcase_add_test (tc, test_objects_catch_a_leak_n);
  tcase_add_test (tc, test_rss_catches_growth_n);
  tcase_add_test (tc, test_fuse_pad_cycles_late_n);
  tcase_add_test (tc, test_bad_pad_requests_n);
  return s;
}

int
main (int argc, char **argv)
{
  /* counting objects needs the leaks tracer; its stack traces would make
   * every object's creation slow, and a run like this one creates
   * millions */
  g_setenv ("GST_TRACERS", "leaks", FALSE);
  g_unsetenv ("GST_LEAKS_TRACER_STACK_TRACE");
  gst_check_init (&argc, &argv);
  /* The system clock is a singleton, made by the first pipeline that
   * selects a clock on its way to PLAYING. A demo cycle ends at its first
   * result, which can come while the pipeline is still prerolling: on a
   * loaded machine no cycle before the leaks tracer's snapshot had made
   * it, a later one did, and "GstSystemClock +1" read as a leak. */
  gst_object_unref (gst_system_clock_obtain ());
  return gst_check_run_suite (stress_suite (), "stress", __FILE__);
}
