/* mmdnn — tests of mmdnntrain, with GstHarness: labels from a pad and from
 * the property, unlabelled windows, the weights equal to the core trained
 * directly on the same samples (bit for bit), exact resume, publication to
 * a running mmdnnfuse, the bounded queue, checkpoints surviving kill -9
 * and unwritable folders, and the labels, caps, models and settings it
 * must refuse.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <mmdnn/mmdnn.h>

#include "gstmmdnnmeta.h"
#include "gstmmdnnutils.h"
#include "mmdnncheck.h"

#define SEC GST_SECOND
#define MS GST_MSECOND
#define V MMDNN_MODALITY_VIDEO
#define A MMDNN_MODALITY_AUDIO
#define T MMDNN_MODALITY_TEXT
#define MAX_IN 1024
#define MAX_TOK 256

/* written by main () before the tests fork */
static gchar *tmpdir, *config_path, *model_path, *other_path, *corrupt_path,
    *self_exe;
static MmdnnModelConfig *config;
static MmdnnModel *model;

static const char config_json[] =
  "{\n"
  "  \"model_id\": \"%s\",\n"
  "  \"modalities\": [\"video\", \"audio\", \"text\"],\n"
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
  "  \"fusion\": {\"dim\": %d, \"attn_hidden\": 4},\n"
  "  \"tasks\": [\n"
  "    {\"name\": \"class\", \"classes\": [\"Sneaker\", \"Bag\", \"T-shirt/top\"]},\n"
  "    {\"name\": \"speaker_gender\", \"classes\": [\"female\", \"male\"]}\n"
  "  ],\n"
  "  \"loss\": {\"disc_hidden\": 4},\n"
  "  \"optim\": {\"lr\": 0.01, \"warmup_steps\": 2, \"total_steps\": 50}\n"
  "}\n";

static gchar *
config_text (const gchar *id, gint dim)
{
  return g_strdup_printf (config_json, id, dim);
}

static gint
tokens_of (int mod)
{
  return (gint) config->fusion.tokens[mod];
}

static gint
dim_of (void)
{
  return (gint) config->fusion.dim;
}

static gint64
input_of (int mod)
{
  return mmdnn_model_config_input_size (config, mod);
}

/* -------------------------------------------------------------- samples */

typedef struct
{
  float video[MAX_IN], audio[MAX_IN];
  gint32 text[MAX_IN];
  float presence[MMDNN_N_MODALITIES];
  gint32 labels[MMDNN_MAX_TASKS];
} Sample;

static guint32
lcg (guint32 *x)
{
  *x = *x * 1664525u + 1013904223u;
  return *x >> 8;
}

/* The encoder inputs of sample @seed: a little class signal in them
 * (@cls), so that training has something to learn. */
static void
sample_inputs (guint seed, gint cls, Sample *s)
{
  guint32 x = seed * 2654435761u + 7u;
  gint64 nt = input_of (T);
  gint real = 1 + (gint) (seed % (guint) config->text.max_tokens);
  gint m = (gint) config->text.ids_per_token;

  for (gint64 i = 0; i < input_of (V); i++)
    s->video[i] = (float) lcg (&x) / 16777216.0f * 2.0f - 1.0f
        + (i % 3 == cls ? 0.5f : 0.0f);
  for (gint64 i = 0; i < input_of (A); i++)
    s->audio[i] = (float) lcg (&x) / 16777216.0f * 4.0f - 8.0f
        + (i % 3 == cls ? 1.0f : 0.0f);
  for (gint64 i = 0; i < nt; i++)
    s->text[i] = i < real * m ? (gint32) ((lcg (&x) + cls * 31) % 97) : -1;
  for (int mod = 0; mod < MMDNN_N_MODALITIES; mod++)
    s->presence[mod] = 1.0f;
  for (int t = 0; t < MMDNN_MAX_TASKS; t++)
    s->labels[t] = -1;
}

/* @s without text, as a window of a rig without a text pad */
static void
sample_without_text (Sample *s)
{
  s->presence[T] = 0.0f;
  for (gint64 k = 0; k < input_of (T); k++)
    s->text[k] = -1;
}

/* K×D features of @seed (their values do not matter for training) */
static void
features_values (int mod, guint seed, float *v)
{
  gint k = tokens_of (mod), d = dim_of ();
  guint32 x = seed * 2246822519u + 3u;

  for (gint i = 0; i < k * d; i++)
    v[i] = (float) lcg (&x) / 16777216.0f * 2.0f - 1.0f;
}

/* The features buffer of @mod for sample @s ([pts, pts + dur)), with its
 * input meta unless @no_meta. */
static GstBuffer *
features_buffer (int mod, guint seed, const Sample *s, GstClockTime pts,
    GstClockTime dur, gboolean no_meta)
{
  gsize n = (gsize) tokens_of (mod) * dim_of ();
  float *v = g_new (float, n);
  GstBuffer *buf;

  features_values (mod, seed, v);
  buf = gst_buffer_new_wrapped (v, n * sizeof (float));
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = dur;
  if (!no_meta)
    gst_buffer_add_mmdnn_input_meta (buf, mod, mod == V ? (gconstpointer)
        s->video : mod == A ? (gconstpointer) s->audio : (gconstpointer)
        s->text, input_of (mod));
  return buf;
}

static GstBuffer *
cue (const gchar *text, GstClockTime pts, GstClockTime dur)
{
  GstBuffer *buf = *text != '\0' ? gst_buffer_new_memdup (text,
      strlen (text)) : gst_buffer_new ();

  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = dur;
  return buf;
}

static gint
class_index (int task, const gchar *name)
{
  for (gint k = 0; k < config->tasks[task].n_classes; k++)
    if (strcmp (config->tasks[task].classes[k], name) == 0)
      return k;
  g_assert_not_reached ();
  return -1;
}

/* ------------------------------------------------------ the reference */

/* @s[0..n) trained as `mmdnn train` trains one epoch of them in this
 * order: a fresh model of the test config (@seed), batches of @batch, the
 * last one partial. */
static MmdnnModel *
reference_train (const Sample *s, guint n, guint batch, guint64 seed,
    MmdnnModel *start)
{
  GError *err = NULL;
  MmdnnModel *m = start != NULL ? start : mmdnn_model_new (config, seed,
      batch, &err);
  MmdnnBatch *b = mmdnn_batch_new (config, batch, &err);

  g_assert_no_error (err);
  for (guint o = 0; o < n; o += batch) {
    guint k = MIN (batch, n - o);

    b->n = k;
    for (guint i = 0; i < k; i++) {
      const Sample *x = &s[o + i];

      memcpy (b->video + i * input_of (V), x->video,
          sizeof (float) * input_of (V));
      memcpy (b->audio + i * input_of (A), x->audio,
          sizeof (float) * input_of (A));
      memcpy (b->text_ids + i * input_of (T), x->text,
          sizeof (gint32) * input_of (T));
      memcpy (b->presence + i * MMDNN_N_MODALITIES, x->presence,
          sizeof (x->presence));
      memcpy (b->labels + i * config->n_tasks, x->labels,
          sizeof (gint32) * config->n_tasks);
    }
    fail_unless (mmdnn_model_train_step (m, b, NULL, &err), "%s",
        err ? err->message : "");
  }
  mmdnn_batch_free (b);
  return m;
}

/* The model file at @path holds @m's weights, bit for bit. */
static void
check_same_weights (const gchar *path, const MmdnnModel *m)
{
  GError *err = NULL;
  MmdnnModel *got = mmdnn_model_load (path, 1, &err);

  fail_unless (got != NULL, "%s: %s", path, err ? err->message : "");
  fail_unless_equals_int64 (got->params->numel, m->params->numel);
  fail_unless (memcmp (got->params->values, m->params->values,
          sizeof (float) * (gsize) m->params->numel) == 0,
      "%s differs from the core trained directly", path);
  mmdnn_model_free (got);
}

/* ------------------------------------------------------------- the rig */

typedef struct
{
  GstElement *el;
  GstBus *bus;
  GstHarness *h[MMDNN_N_MODALITIES];
  GstHarness *src;              /* the one of them with the src pad */
  GstHarness *label;
} Rig;

/* mmdnntrain with properties (NULL-terminated name/value pairs), a bus,
 * a sink pad per modality of @mods ("vat" letters) and a label pad when
 * @label. */
static void
rig_init (Rig *r, const gchar *mods, gboolean label, const gchar *prop,
    ...)
{
  va_list args;
  guint pad = 0;

  memset (r, 0, sizeof (*r));
  r->el = gst_element_factory_make ("mmdnntrain", NULL);
  fail_unless (r->el != NULL);
  if (prop != NULL) {
    va_start (args, prop);
    g_object_set_valist (G_OBJECT (r->el), prop, args);
    va_end (args);
  }
  r->bus = gst_bus_new ();
  gst_element_set_bus (r->el, r->bus);
  for (const gchar *c = mods; *c != '\0'; c++) {
    int mod = *c == 'v' ? V : *c == 'a' ? A : T;
    gchar *name = g_strdup_printf ("sink_%u", pad);

    r->h[mod] = gst_harness_new_with_element (r->el, name,
        pad == 0 ? "src" : NULL);
    if (pad == 0)
      r->src = r->h[mod];
    gst_harness_set_src_caps (r->h[mod], gst_mmdnn_features_caps_new (mod,
            tokens_of (mod), dim_of (), config->model_id));
    g_free (name);
    pad++;
  }
  if (label) {
    r->label = gst_harness_new_with_element (r->el, "label", NULL);
    gst_harness_set_src_caps_str (r->label, "text/x-raw, format=utf8");
  }
}

static GstHarness *
rig_src (Rig *r)
{
  return r->src;
}

static void
rig_clear (Rig *r)
{
  if (r->label != NULL)
    gst_harness_teardown (r->label);
  for (int m = MMDNN_N_MODALITIES - 1; m >= 0; m--)
    if (r->h[m] != NULL)
      gst_harness_teardown (r->h[m]);
  gst_element_set_bus (r->el, NULL);
  gst_bus_set_flushing (r->bus, TRUE);
  gst_object_unref (r->bus);
  gst_object_unref (r->el);
}

/* Window @i ([i, i + 1) s): the features of every modality of the rig
 * for sample @s (seed @seed). */
static GstFlowReturn
rig_push_window (Rig *r, guint i, guint seed, const Sample *s)
{
  GstFlowReturn ret = GST_FLOW_OK;

  for (int m = 0; m < MMDNN_N_MODALITIES && ret == GST_FLOW_OK; m++)
    if (r->h[m] != NULL)
      ret = gst_harness_push (r->h[m], features_buffer (m, seed, s, i * SEC,
              SEC, FALSE));
  return ret;
}

static void
rig_eos (Rig *r)
{
  for (int m = 0; m < MMDNN_N_MODALITIES; m++)
    if (r->h[m] != NULL)
      gst_harness_push_event (r->h[m], gst_event_new_eos ());
  if (r->label != NULL)
    gst_harness_push_event (r->label, gst_event_new_eos ());
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
rig_wait_eos (Rig *r)
{
  GstEvent *ev = pull_event_of (rig_src (r), GST_EVENT_EOS);

  fail_unless (ev != NULL, "no EOS downstream");
  gst_event_unref (ev);
}

static GstMessage *
pop_message (GstBus *bus, GstMessageType type)
{
  return gst_bus_timed_pop_filtered (bus, mmdnn_check_timeout (20), type);
}

static gchar *
pop_error (GstBus *bus, GQuark domain, gint code)
{
  GstMessage *msg = pop_message (bus, GST_MESSAGE_ERROR);
  GError *err = NULL;
  gchar *dbg = NULL, *text;

  fail_unless (msg != NULL, "no error message");
  gst_message_parse_error (msg, &err, &dbg);
  fail_unless (err->domain == domain, "error domain %s, not %s (%s)",
      g_quark_to_string (err->domain), g_quark_to_string (domain),
      err->message);
  fail_unless_equals_int (err->code, code);
  text = g_strdup (err->message);
  GST_INFO ("error: %s (%s)", err->message, dbg);
  g_error_free (err);
  g_free (dbg);
  gst_message_unref (msg);
  return text;
}

static gchar *
pop_warning (GstBus *bus, GQuark domain, gint code)
{
  GstMessage *msg = pop_message (bus, GST_MESSAGE_WARNING);
  GError *err = NULL;
  gchar *dbg = NULL, *text;

  fail_unless (msg != NULL, "no warning message");
  gst_message_parse_warning (msg, &err, &dbg);
  fail_unless (err->domain == domain, "warning domain %s, not %s",
      g_quark_to_string (err->domain), g_quark_to_string (domain));
  fail_unless_equals_int (err->code, code);
  text = g_strdup (err->message);
  g_error_free (err);
  g_free (dbg);
  gst_message_unref (msg);
  return text;
}

/* The mmdnn-train messages on the bus so far (copies, in order). */
static GPtrArray *
train_messages (GstBus *bus)
{
  GPtrArray *a = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  GstMessage *msg;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT)) != NULL) {
    if (gst_message_has_name (msg, "mmdnn-train"))
      g_ptr_array_add (a, gst_structure_copy (gst_message_get_structure
              (msg)));
    gst_message_unref (msg);
  }
  return a;
}

/* the final mmdnn-train message (after EOS) */
static GstStructure *
final_message (GstBus *bus)
{
  GPtrArray *a = train_messages (bus);
  GstStructure *s = NULL;
  gboolean final = FALSE;

  fail_unless (a->len > 0, "no mmdnn-train message");
  s = gst_structure_copy (g_ptr_array_index (a, a->len - 1));
  g_ptr_array_unref (a);
  fail_unless (gst_structure_get_boolean (s, "final", &final) && final);
  return s;
}

static guint64
field_u64 (const GstStructure *s, const gchar *name)
{
  guint64 v = G_MAXUINT64;

  fail_unless (gst_structure_get_uint64 (s, name, &v), "no %s", name);
  return v;
}

static gdouble
accuracy_of (const GstStructure *s, const gchar *field, const gchar *task)
{
  GstStructure *acc = NULL;
  gdouble v = -1;

  fail_unless (gst_structure_get (s, field, GST_TYPE_STRUCTURE, &acc, NULL));
  fail_unless (gst_structure_get_double (acc, task, &v));
  gst_structure_free (acc);
  return v;
}

static gchar *
tmp_path (const gchar *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

/* A folder of its own under tmpdir (removed with its files by
 * rm_tree). */
static gchar *
tmp_folder (const gchar *name)
{
  gchar *d = g_build_filename (tmpdir, name, NULL);

  fail_unless (g_mkdir_with_parents (d, 0755) == 0);
  return d;
}

static void
rm_tree (const gchar *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  if (d == NULL) {
    g_unlink (dir);
    return;
  }
  while ((name = g_dir_read_name (d)) != NULL) {
    gchar *p = g_build_filename (dir, name, NULL);

    if (g_file_test (p, G_FILE_TEST_IS_DIR))
      rm_tree (p);
    else
      g_unlink (p);
    g_free (p);
  }
  g_dir_close (d);
  g_rmdir (dir);
}

static guint
count_files (const gchar *dir, const gchar *contains)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;
  guint n = 0;

  fail_unless (d != NULL);
  while ((name = g_dir_read_name (d)) != NULL)
    n += contains == NULL || strstr (name, contains) != NULL;
  g_dir_close (d);
  return n;
}

/* Samples i = 0..n-1 with class labels from @classes (cycled) */
static void
make_samples (Sample *s, guint n, guint seed0)
{
  for (guint i = 0; i < n; i++) {
    sample_inputs (seed0 + i, (gint) (i % 3), &s[i]);
    s[i].labels[0] = (gint32) (i % 3);
  }
}

#define TRAIN_PROPS(ckpt) \
  "config", config_path, "publish-to", model_path, "batch-size", 3, \
  "checkpoint", (ckpt), "publish-interval", 0, "message-interval", 1, \
  "seed", (guint64) 5

static const gchar *class_names[] = { "Sneaker", "Bag", "T-shirt/top" };

/* ====================================================== positive tests */

/* labels on the label pad: every labelled window is one sample; the
 * final model equals the core trained directly on the same samples */
GST_START_TEST (test_label_pad_trains)
{
  const guint n = 7;
  Sample s[7];
  gchar *dir = tmp_folder ("pad"), *ckpt = g_build_filename (dir,
      "m.safetensors.ckpt", NULL), *out = g_build_filename (dir,
      "m.safetensors", NULL);
  MmdnnModel *ref;
  GstStructure *fin;
  Rig r;

  make_samples (s, n, 100);
  rig_init (&r, "vat", TRUE, TRAIN_PROPS (ckpt), NULL);
  for (guint i = 0; i < n; i++) {
    GstBuffer *c = cue (class_names[i % 3], i * SEC, SEC);

    fail_unless_equals_int (gst_harness_push (r.label, c), GST_FLOW_OK);
    fail_unless_equals_int (rig_push_window (&r, i, 100 + i, &s[i]),
        GST_FLOW_OK);
  }
  rig_eos (&r);
  rig_wait_eos (&r);

  fin = final_message (r.bus);
  fail_unless_equals_uint64 (field_u64 (fin, "samples"), n);
  fail_unless_equals_uint64 (field_u64 (fin, "step"), 3);      /* 3+3+1 */
  fail_unless_equals_uint64 (field_u64 (fin, "unlabelled"), 0);
  fail_unless_equals_uint64 (field_u64 (fin, "dropped"), 0);
  gst_structure_free (fin);

  /* the files, and nothing else in the folder */
  fail_unless (g_file_test (ckpt, G_FILE_TEST_IS_REGULAR));
  fail_unless_equals_int (count_files (dir, NULL), 2);
  ref = reference_train (s, n, 3, 5, NULL);
  check_same_weights (out, ref);
  check_same_weights (ckpt, ref);
  mmdnn_model_free (ref);

  rig_clear (&r);
  rm_tree (dir);
  g_free (dir);
  g_free (ckpt);
  g_free (out);
}
GST_END_TEST;

/* the label property, changed while PLAYING, labels the windows from the
 * next one on */
GST_START_TEST (test_label_property)
{
  const guint n = 6;
  Sample s[6];
  gchar *out = tmp_path ("prop.safetensors");
  MmdnnModel *ref;
  GstStructure *fin;
  Rig r;

  rig_init (&r, "va", FALSE, "config", config_path, "publish-to", model_path,
      "batch-size", 2, "out", out, "publish-interval", 0, "seed",
      (guint64) 5, "label", "Bag", NULL);
  for (guint i = 0; i < n; i++) {
    sample_inputs (300 + i, 1, &s[i]);
    sample_without_text (&s[i]);
  }
  for (guint i = 0; i < 3; i++) {
    s[i].labels[0] = class_index (0, "Bag");
    fail_unless_equals_int (rig_push_window (&r, i, 300 + i, &s[i]),
        GST_FLOW_OK);
  }
  /* wait until window 2 is taken: the change applies from window 3 on */
  while (gst_harness_buffers_in_queue (r.src) < 3)
    g_usleep (1000);
  g_object_set (r.el, "label", "class=Sneaker; speaker_gender=male", NULL);
  for (guint i = 3; i < n; i++) {
    s[i].labels[0] = class_index (0, "Sneaker");
    s[i].labels[1] = class_index (1, "male");
    fail_unless_equals_int (rig_push_window (&r, i, 300 + i, &s[i]),
        GST_FLOW_OK);
  }
  rig_eos (&r);
  rig_wait_eos (&r);
  fin = final_message (r.bus);
  fail_unless_equals_uint64 (field_u64 (fin, "samples"), n);
  gst_structure_free (fin);
  ref = reference_train (s, n, 2, 5, NULL);
  check_same_weights (out, ref);
  mmdnn_model_free (ref);
  rig_clear (&r);
  g_unlink (out);
  g_free (out);
}
GST_END_TEST;

/* With video at 10 frames/s, a window trains on the frame on screen at
 * its centre, as the data set loader takes it for a clip: in [i, i + 1) s
 * the frame starting at i + .5 (the one before ends there) — what
 * `mmdnn train` takes of a clip [i, i + 1) of such a video */
GST_START_TEST (test_video_frame_on_screen)
{
  Sample *frames = g_new (Sample, 20), used[2];
  gchar *out = tmp_path ("screen.safetensors");
  MmdnnModel *ref, *got;
  GstStructure *fin;
  GError *err = NULL;
  Rig r;

  rig_init (&r, "va", FALSE, "config", config_path, "publish-to", model_path,
      "batch-size", 2, "out", out, "publish-interval", 0, "seed",
      (guint64) 7, "label", "Bag", NULL);
  for (guint j = 0; j < 20; j++) {
    sample_inputs (800 + j, (gint) (j % 3), &frames[j]);
    frames[j].labels[0] = class_index (0, "Bag");
  }
  /* one thread: a window's audio (the audio of the frame to be taken, so
   * the sample is that frame's), then its frames: a non-live aggregator
   * pad queues one buffer, and aggregates once every pad has one */
  for (guint i = 0; i < 2; i++) {
    fail_unless_equals_int (gst_harness_push (r.h[A], features_buffer (A,
                900 + i, &frames[10 * i + 5], i * SEC, SEC, FALSE)),
        GST_FLOW_OK);
    for (guint j = 10 * i; j < 10 * i + 10; j++)
      fail_unless_equals_int (gst_harness_push (r.h[V], features_buffer (V,
                  800 + j, &frames[j], j * 100 * MS, 100 * MS, FALSE)),
          GST_FLOW_OK);
  }
  rig_eos (&r);
  rig_wait_eos (&r);
  fin = final_message (r.bus);
  fail_unless_equals_uint64 (field_u64 (fin, "samples"), 2);
  gst_structure_free (fin);
  got = mmdnn_model_load (out, 1, &err);
  fail_unless (got != NULL, "%s", err ? err->message : "");
  for (guint i = 0; i < 2; i++) {
    used[i] = frames[10 * i + 5];
    sample_without_text (&used[i]);
  }
  /* trained on those, and not on the frame before (the rule of span
   * centres: the .4 and .5 s spans equally near the centre, the earlier) */
  for (guint before = 0; before < 2; before++) {
    for (guint i = 0; before && i < 2; i++)
      memcpy (used[i].video, frames[10 * i + 4].video,
          sizeof (float) * input_of (V));
    ref = reference_train (used, 2, 2, 7, NULL);
    fail_unless_equals_int (memcmp (got->params->values, ref->params->values,
            sizeof (float) * (gsize) ref->params->numel) == 0, !before);
    mmdnn_model_free (ref);
  }
  mmdnn_model_free (got);
  rig_clear (&r);
  g_unlink (out);
  g_free (out);
  g_free (frames);
}
GST_END_TEST;

/* windows the label track does not cover are not trained on; the pad's
 * labels win over the property's for their task */
GST_START_TEST (test_unlabelled_windows_skipped)
{
  Sample s[8], used[8];
  guint n_used = 0;
  gchar *out = tmp_path ("skip.safetensors");
  MmdnnModel *ref;
  GstStructure *fin;
  Rig r;

  rig_init (&r, "va", TRUE, "config", config_path, "publish-to", model_path,
      "batch-size", 2, "out", out, "publish-interval", 0, "seed",
      (guint64) 5, NULL);
  for (guint i = 0; i < 8; i++) {
    sample_inputs (400 + i, (gint) (i % 3), &s[i]);
    sample_without_text (&s[i]);
  }
  /* cues over windows 1–2 (one cue of 2 s), 5 (speaker only) and an
   * empty one over 6, each pushed before its window (a pad holds one
   * buffer back until the windows reach it) */
  for (guint i = 0; i < 8; i++) {
    if (i == 0)
      fail_unless_equals_int (gst_harness_push (r.label, cue ("Bag",
                  1 * SEC, 2 * SEC)), GST_FLOW_OK);
    if (i == 3)
      fail_unless_equals_int (gst_harness_push (r.label,
              cue ("speaker_gender: female", 5 * SEC, SEC)), GST_FLOW_OK);
    if (i == 6)
      fail_unless_equals_int (gst_harness_push (r.label, cue ("", 6 * SEC,
                  SEC)), GST_FLOW_OK);
    fail_unless_equals_int (rig_push_window (&r, i, 400 + i, &s[i]),
        GST_FLOW_OK);
    if (i == 1 || i == 2 || i == 5) {
      used[n_used] = s[i];
      if (i == 5)
        used[n_used].labels[1] = class_index (1, "female");
      else
        used[n_used].labels[0] = class_index (0, "Bag");
      n_used++;
    }
  }
  rig_eos (&r);
  rig_wait_eos (&r);
  fin = final_message (r.bus);
  fail_unless_equals_uint64 (field_u64 (fin, "samples"), 3);
  fail_unless_equals_uint64 (field_u64 (fin, "unlabelled"), 5);
  gst_structure_free (fin);
  ref = reference_train (used, n_used, 2, 5, NULL);
  check_same_weights (out, ref);
  mmdnn_model_free (ref);
  rig_clear (&r);
  g_unlink (out);
  g_free (out);
}
GST_END_TEST;

/* a cue may hold several labels, in markup; the pad's task names the
 * task of the bare ones */
GST_START_TEST (test_label_syntax)
{
  Sample s[3];
  gchar *out = tmp_path ("syntax.safetensors");
  MmdnnModel *ref;
  GstPad *pad;
  Rig r;

  rig_init (&r, "v", TRUE, "config", config_path, "publish-to", model_path,
      "batch-size", 3, "out", out, "publish-interval", 0, "seed",
      (guint64) 5, NULL);
  gst_harness_set_src_caps_str (r.label,
      "text/x-raw, format=pango-markup");
  pad = gst_element_get_static_pad (r.el, "label");
  g_object_set (pad, "task", "speaker_gender", NULL);
  gst_object_unref (pad);
  for (guint i = 0; i < 3; i++) {
    sample_inputs (500 + i, 0, &s[i]);
    s[i].presence[A] = s[i].presence[T] = 0.0f;
    for (gint64 k = 0; k < input_of (A); k++)
      s[i].audio[k] = logf (config->logmel.log_floor);
    for (gint64 k = 0; k < input_of (T); k++)
      s[i].text[k] = -1;
  }
  /* "male" is the pad's task's; class named; markup stripped */
  s[0].labels[0] = class_index (0, "T-shirt/top");
  s[0].labels[1] = class_index (1, "male");
  s[1].labels[0] = class_index (0, "Sneaker");
  s[1].labels[1] = class_index (1, "female");
  fail_unless_equals_int (gst_harness_push (r.label,
          cue ("<i>male</i>\nclass=T-shirt/top", 0, SEC)), GST_FLOW_OK);
  fail_unless_equals_int (rig_push_window (&r, 0, 500, &s[0]), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (r.label,
          cue ("class: Sneaker ; female", SEC, SEC)), GST_FLOW_OK);
  fail_unless_equals_int (rig_push_window (&r, 1, 501, &s[1]), GST_FLOW_OK);
  gst_harness_push (r.label, cue ("speaker_gender=female&amp;", 2 * SEC,
          SEC));
  /* "female&" is not a class: the third window stops the element */
  rig_push_window (&r, 2, 502, &s[2]);
  g_free (pop_error (r.bus, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT));
  rig_clear (&r);

  /* the two good windows: as the core trains them */
  rig_init (&r, "v", TRUE, "config", config_path, "publish-to", model_path,
      "batch-size", 3, "out", out, "publish-interval", 0, "seed",
      (guint64) 5, NULL);
  gst_harness_set_src_caps_str (r.label, "text/x-raw, format=pango-markup");
  pad = gst_element_get_static_pad (r.el, "label");
  g_object_set (pad, "task", "speaker_gender", NULL);
  gst_object_unref (pad);
  fail_unless_equals_int (gst_harness_push (r.label,
          cue ("<i>male</i>\nclass=T-shirt/top", 0, SEC)), GST_FLOW_OK);
  fail_unless_equals_int (rig_push_window (&r, 0, 500, &s[0]), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (r.label,
          cue ("class: Sneaker ; female", SEC, SEC)), GST_FLOW_OK);
  fail_unless_equals_int (rig_push_window (&r, 1, 501, &s[1]), GST_FLOW_OK);
  rig_eos (&r);
  rig_wait_eos (&r);
  ref = reference_train (s, 2, 3, 5, NULL);
  check_same_weights (out, ref);
  mmdnn_model_free (ref);
  rig_clear (&r);
  g_unlink (out);
  g_free (out);
}
GST_END_TEST;

/* the output is mmdnnfuse's for the same features and model version */
GST_START_TEST (test_output_like_fuse)
{
  Sample s;
  GstHarness *src;
  GstBuffer *out;
  GstMmdnnResultMeta *meta;
  MmdnnFuseStage *stage;
  MmdnnOutputs o;
  float *tok[MMDNN_N_MODALITIES] = { NULL, };
  float presence[MMDNN_N_MODALITIES] = { 1, 1, 0 };
  GError *err = NULL;
  GstMessage *msg;
  Rig r;

  /* model = publish-to: the start weights are the file's, version 1 */
  rig_init (&r, "va", FALSE, "model", model_path, "batch-size", 2,
      "label", "Bag", NULL);
  sample_inputs (600, 1, &s);
  fail_unless_equals_int (rig_push_window (&r, 0, 600, &s), GST_FLOW_OK);
  src = rig_src (&r);
  out = gst_harness_pull (src);
  fail_unless (out != NULL);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 0);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), SEC);
  meta = gst_buffer_get_mmdnn_result_meta (out);
  fail_unless (meta != NULL);
  fail_unless_equals_uint64 (meta->model_version, 1);

  for (int m = V; m <= A; m++) {
    tok[m] = g_new (float, (gsize) tokens_of (m) * dim_of ());
    features_values (m, 600, tok[m]);
  }
  stage = mmdnn_fuse_stage_new (model, 1, &err);
  g_assert_no_error (err);
  fail_unless (mmdnn_fuse_stage_run (stage, model, (const float *const *) tok,
          NULL, presence, 1, &o, &err));
  for (int t = 0; t < config->n_tasks; t++)
    fail_unless (memcmp (meta->tasks[t].probs, o.probs[t],
            sizeof (float) * config->tasks[t].n_classes) == 0);
  fail_unless (memcmp (meta->weights, o.modality_weights,
          sizeof (float) * MMDNN_N_MODALITIES) == 0);
  fail_unless (meta->present[V] && meta->present[A] && !meta->present[T]);
  mmdnn_fuse_stage_free (stage);
  for (int m = 0; m < MMDNN_N_MODALITIES; m++)
    g_free (tok[m]);
  gst_buffer_unref (out);

  /* and the mmdnn-result message */
  do {
    msg = pop_message (r.bus, GST_MESSAGE_ELEMENT);
    fail_unless (msg != NULL);
    if (gst_message_has_name (msg, "mmdnn-result"))
      break;
    gst_message_unref (msg);
  } while (TRUE);
  gst_message_unref (msg);
  rig_clear (&r);
}
GST_END_TEST;

/* window @i into mmdnnfuse (always the same features) and its result:
 * exactly one, stamped @i */
static void
pull_result (GstHarness *hf, guint i, guint64 *version, float *probs,
    gint nc)
{
  static Sample unused;
  GstBuffer *out;
  GstMmdnnResultMeta *meta;

  fail_unless_equals_int (gst_harness_push (hf, features_buffer (V, 1,
              &unused, i * SEC, SEC, TRUE)), GST_FLOW_OK);
  out = gst_harness_pull (hf);
  fail_unless (out != NULL);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * SEC);
  meta = gst_buffer_get_mmdnn_result_meta (out);
  *version = meta->model_version;
  memcpy (probs, meta->tasks[0].probs, sizeof (float) * nc);
  gst_buffer_unref (out);
}

/* every publish-interval steps: a running mmdnnfuse on the same model
 * file switches to the new weights at its next window, without losing or
 * repeating one */
GST_START_TEST (test_hot_swap)
{
  GstElement *fuse = gst_element_factory_make ("mmdnnfuse", NULL);
  GstHarness *hf;
  Sample s[6];
  guint64 versions[12];
  float before[16], probs[12][16];
  gint nc = (gint) config->tasks[0].n_classes;
  GstStructure *fin;
  Rig r;

  g_object_set (fuse, "model", model_path, NULL);
  hf = gst_harness_new_with_element (fuse, "sink_0", "src");
  gst_harness_set_src_caps (hf, gst_mmdnn_features_caps_new (V, tokens_of (V),
          dim_of (), config->model_id));

  /* before training: the file's weights */
  for (guint i = 0; i < 4; i++)
    pull_result (hf, i, &versions[i], probs[i], nc);
  memcpy (before, probs[0], sizeof (float) * nc);

  /* a trainer publishing to the same file every step */
  make_samples (s, 6, 700);
  rig_init (&r, "va", TRUE, "config", config_path, "publish-to", model_path,
      "batch-size", 2, "publish-interval", 1, "message-interval", 1,
      "seed", (guint64) 5, NULL);
  for (guint i = 0; i < 6; i++) {
    fail_unless_equals_int (gst_harness_push (r.label,
            cue (class_names[i % 3], i * SEC, SEC)), GST_FLOW_OK);
    fail_unless_equals_int (rig_push_window (&r, i, 700 + i, &s[i]),
        GST_FLOW_OK);
  }
  rig_eos (&r);
  rig_wait_eos (&r);
  fin = final_message (r.bus);
  /* the start weights, steps 1, 2, 3, then EOS */
  fail_unless_equals_uint64 (field_u64 (fin, "model-version"),
      versions[0] + 5);
  gst_structure_free (fin);

  /* after: the same features, newer weights */
  for (guint i = 4; i < 12; i++)
    pull_result (hf, i, &versions[i], probs[i], nc);
  fail_unless_equals_int (gst_harness_buffers_in_queue (hf), 0);
  fail_unless_equals_uint64 (versions[0], versions[3]);
  fail_unless (memcmp (probs[3], before, sizeof (float) * nc) == 0);
  fail_unless_equals_uint64 (versions[4], versions[0] + 5);
  fail_unless (memcmp (probs[4], before, sizeof (float) * nc) != 0,
      "the predictions did not change");
  fail_unless (memcmp (probs[4], probs[11], sizeof (float) * nc) == 0);
  gst_harness_push_event (hf, gst_event_new_eos ());
  rig_clear (&r);
  gst_harness_teardown (hf);
  gst_object_unref (fuse);
}
GST_END_TEST;

/* checkpoint at EOS, resume=true, more windows: the same model as one
 * uninterrupted run over all of them, bit for bit */
GST_START_TEST (test_resume_exact)
{
  const guint n = 8;
  Sample s[8];
  gchar *dir = tmp_folder ("resume");
  gchar *ckpt = g_build_filename (dir, "r.ckpt", NULL);
  gchar *out = g_build_filename (dir, "r", NULL);
  gchar *whole = g_build_filename (dir, "whole.safetensors", NULL);
  GstStructure *fin;
  MmdnnModel *a, *b;
  GError *err = NULL;
  Rig r;

  make_samples (s, n, 800);
  /* one run over the 8 windows */
  rig_init (&r, "vat", FALSE, "config", config_path, "publish-to",
      model_path, "batch-size", 2, "out", whole, "publish-interval", 0,
      "seed", (guint64) 5, "label", "Sneaker", NULL);
  for (guint i = 0; i < n; i++) {
    s[i].labels[0] = 0;
    fail_unless_equals_int (rig_push_window (&r, i, 800 + i, &s[i]),
        GST_FLOW_OK);
  }
  rig_eos (&r);
  rig_wait_eos (&r);
  rig_clear (&r);

  /* 4 windows, EOS; then resume with the other 4 */
  for (guint part = 0; part < 2; part++) {
    rig_init (&r, "vat", FALSE, "config", config_path, "publish-to",
        model_path, "batch-size", 2, "checkpoint", ckpt,
        "checkpoint-interval", 1, "publish-interval", 0, "seed", (guint64) 5,
        "label", "Sneaker", "resume", TRUE, NULL);
    for (guint i = part * 4; i < part * 4 + 4; i++)
      fail_unless_equals_int (rig_push_window (&r, i, 800 + i, &s[i]),
          GST_FLOW_OK);
    rig_eos (&r);
    rig_wait_eos (&r);
    fin = final_message (r.bus);
    fail_unless_equals_uint64 (field_u64 (fin, "step"), 2 * (part + 1));
    fail_unless_equals_uint64 (field_u64 (fin, "samples"), 4);
    gst_structure_free (fin);
    rig_clear (&r);
  }
  a = mmdnn_model_load (whole, 1, &err);
  g_assert_no_error (err);
  check_same_weights (out, a);
  b = mmdnn_model_load_checkpoint (ckpt, 2, &err);
  g_assert_no_error (err);
  fail_unless_equals_int64 (b->step, 4);
  mmdnn_model_free (a);
  mmdnn_model_free (b);
  /* the checkpoint, the model, the whole-run model: no temporary files */
  fail_unless_equals_int (count_files (dir, NULL), 3);
  rm_tree (dir);
  g_free (dir);
  g_free (ckpt);
  g_free (out);
  g_free (whole);
}
GST_END_TEST;

/* messages: PROGRESS start and complete, mmdnn-train every N steps with
 * the documented fields */
GST_START_TEST (test_messages)
{
  Sample s[8];
  GPtrArray *msgs;
  GstMessage *msg;
  GstProgressType type;
  gchar *code = NULL, *text = NULL;
  GstStructure *st, *losses = NULL;
  guint n_progress;
  gdouble v;
  Rig r;

  make_samples (s, 8, 900);
  rig_init (&r, "va", FALSE, "config", config_path, "publish-to", model_path,
      "batch-size", 2, "message-interval", 2, "publish-interval", 0,
      "label", "Bag", "epoch-size", (guint64) 4, NULL);
  for (guint i = 0; i < 8; i++)
    fail_unless_equals_int (rig_push_window (&r, i, 900 + i, &s[i]),
        GST_FLOW_OK);
  rig_eos (&r);
  rig_wait_eos (&r);

  /* progress start, the train messages, progress complete, in order */
  msgs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  n_progress = 0;
  while ((msg = gst_bus_pop (r.bus)) != NULL) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_PROGRESS) {
      gst_message_parse_progress (msg, &type, &code, &text);
      fail_unless_equals_string (code, "mmdnn-train");
      fail_unless_equals_int (type, n_progress == 0
          ? GST_PROGRESS_TYPE_START : GST_PROGRESS_TYPE_COMPLETE);
      fail_unless (n_progress == 0 ? msgs->len == 0 : msgs->len == 3);
      n_progress++;
      g_free (code);
      g_free (text);
    } else if (gst_message_has_name (msg, "mmdnn-train")) {
      g_ptr_array_add (msgs, gst_structure_copy (gst_message_get_structure
              (msg)));
    }
    gst_message_unref (msg);
  }
  fail_unless_equals_int (n_progress, 2);

  /* steps 2 and 4, and the final one */
  fail_unless_equals_int (msgs->len, 3);
  st = g_ptr_array_index (msgs, 0);
  fail_unless_equals_uint64 (field_u64 (st, "step"), 2);
  fail_unless_equals_uint64 (field_u64 (st, "samples"), 4);
  fail_unless (gst_structure_get_double (st, "epoch", &v) && v == 1.0);
  fail_unless (gst_structure_get_double (st, "loss", &v) && isfinite (v)
      && v > 0);
  fail_unless (gst_structure_get (st, "losses", GST_TYPE_STRUCTURE, &losses,
          NULL));
  fail_unless (gst_structure_get_double (losses, "class", &v) && v > 0);
  fail_unless (gst_structure_get_double (losses, "recon", &v));
  fail_unless (gst_structure_has_field (losses, "speaker_gender"));
  gst_structure_free (losses);
  v = accuracy_of (st, "accuracy", "class");
  fail_unless (v >= 0 && v <= 1);
  fail_unless (gst_structure_get_double (st, "samples-per-second", &v)
      && v > 0);
  fail_unless (gst_structure_get_double (st, "learning-rate", &v) && v > 0);
  fail_unless (gst_structure_has_field (st, "json"));
  st = g_ptr_array_index (msgs, 2);
  fail_unless_equals_uint64 (field_u64 (st, "step"), 4);
  fail_unless_equals_uint64 (field_u64 (st, "samples"), 8);
  fail_unless (gst_structure_get_double (st, "epoch", &v) && v == 2.0);
  /* the speaker task never had a label: no accuracy */
  fail_unless (isnan (accuracy_of (st, "accuracy-total", "speaker_gender")));
  g_ptr_array_unref (msgs);
  rig_clear (&r);
}
GST_END_TEST;

/* a slow trainer with leaky=yes: windows never wait, the overflow is
 * dropped and counted */
GST_START_TEST (test_bounded_queue_drops)
{
  const guint n = 40;
  Sample s;
  GstStructure *fin;
  gint64 t0, dt;
  guint64 samples, dropped;
  Rig r;

  sample_inputs (1000, 0, &s);
  rig_init (&r, "v", FALSE, "config", config_path, "publish-to", model_path,
      "batch-size", 2, "queue-size", 4, "leaky", 2 /* yes */ ,
      "step-delay", (guint64) (100 * MS), "publish-interval", 0,
      "message-interval", 0, "label", "Bag", NULL);
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    fail_unless_equals_int (rig_push_window (&r, i, 1000, &s), GST_FLOW_OK);
  dt = g_get_monotonic_time () - t0;
  /* waiting for room would take 18 steps of 100 ms: the windows did not
   * wait */
  fail_unless (dt < 1500 * 1000, "pushing took %" G_GINT64_FORMAT " µs", dt);
  rig_eos (&r);
  rig_wait_eos (&r);
  fin = final_message (r.bus);
  samples = field_u64 (fin, "samples");
  dropped = field_u64 (fin, "dropped");
  fail_unless (dropped >= n / 2, "%" G_GUINT64_FORMAT " dropped", dropped);
  fail_unless_equals_uint64 (samples + dropped, n);
  gst_structure_free (fin);
  rig_clear (&r);
}
GST_END_TEST;

/* leaky=no: a slow trainer holds the windows back, none is dropped */
GST_START_TEST (test_queue_waits)
{
  const guint n = 10;
  Sample s;
  GstStructure *fin;
  Rig r;

  sample_inputs (1100, 0, &s);
  rig_init (&r, "v", FALSE, "config", config_path, "publish-to", model_path,
      "batch-size", 2, "queue-size", 2, "leaky", 1 /* no */ ,
      "step-delay", (guint64) (10 * MS), "publish-interval", 0,
      "label", "Bag", NULL);
  for (guint i = 0; i < n; i++)
    fail_unless_equals_int (rig_push_window (&r, i, 1100, &s), GST_FLOW_OK);
  rig_eos (&r);
  rig_wait_eos (&r);
  fin = final_message (r.bus);
  fail_unless_equals_uint64 (field_u64 (fin, "samples"), n);
  fail_unless_equals_uint64 (field_u64 (fin, "dropped"), 0);
  gst_structure_free (fin);
  rig_clear (&r);
}
GST_END_TEST;

/* Four windows of @s (ids from @t0) in batches of 2 through @r, then EOS:
 * @skipped of the 2 steps are skipped with a warning saying so, no error,
 * and @r is cleared. */
static void
expect_skipped_steps (Rig *r, Sample *s, guint t0, guint64 skipped)
{
  GstStructure *fin;
  gchar *w;

  for (guint i = 0; i < 4; i++)
    fail_unless_equals_int (rig_push_window (r, i, t0 + i, &s[i]),
        GST_FLOW_OK);
  rig_eos (r);
  rig_wait_eos (r);
  w = pop_warning (r->bus, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_FAILED);
  fail_unless (strstr (w, "skipped") != NULL, "%s", w);
  g_free (w);
  fin = final_message (r->bus);
  fail_unless_equals_uint64 (field_u64 (fin, "skipped"), skipped);
  fail_unless_equals_uint64 (field_u64 (fin, "step"), 2);
  gst_structure_free (fin);
  fail_unless (gst_bus_pop_filtered (r->bus, GST_MESSAGE_ERROR) == NULL);
  rig_clear (r);
}

/* non-finite inputs: that step is skipped with a warning, training goes
 * on */
GST_START_TEST (test_nan_step_skipped)
{
  Sample s[4];
  Rig r;

  make_samples (s, 4, 1200);
  s[0].video[3] = NAN;
  rig_init (&r, "v", FALSE, "config", config_path, "publish-to", model_path,
      "batch-size", 2, "publish-interval", 0, "label", "Bag", NULL);
  expect_skipped_steps (&r, s, 1200, 1);
}
GST_END_TEST;

/* the ALLOCATION query: the sink pads ask for the input meta */
GST_START_TEST (test_allocation_asks_for_inputs)
{
  GstCaps *caps = gst_mmdnn_features_caps_new (V, tokens_of (V), dim_of (),
      config->model_id);
  GstQuery *q = gst_query_new_allocation (caps, FALSE);
  GstPad *pad;
  Rig r;

  rig_init (&r, "v", FALSE, "model", model_path, NULL);
  pad = gst_element_get_static_pad (r.el, "sink_0");
  /* serialized: answered by the streaming thread */
  fail_unless (gst_pad_query (pad, q));
  fail_unless (gst_query_find_allocation_meta (q,
          GST_MMDNN_INPUT_META_API_TYPE, NULL));
  gst_object_unref (pad);
  gst_query_unref (q);
  gst_caps_unref (caps);
  rig_clear (&r);
}
GST_END_TEST;

/* The encoders: with a trainer downstream (here: a harness asking for the
 * meta in the ALLOCATION query), every features buffer carries the input
 * it was encoded from, exactly: the core's encoder on the meta's input
 * gives the buffer's features bit for bit. */
static GstHarness *
encoder_harness (const gchar *factory, const gchar *caps, gboolean ask)
{
  GstHarness *h = mmdnn_check_harness_new (factory, model_path, NULL);

  /* before the caps: the encoder asks downstream when it gets them */
  if (ask)
    gst_harness_add_propose_allocation_meta (h,
        GST_MMDNN_INPUT_META_API_TYPE, NULL);
  gst_harness_set_src_caps_str (h, caps);
  return h;
}

static void
check_input_meta (GstBuffer *out, int mod)
{
  GstMmdnnInputMeta *meta = gst_buffer_get_mmdnn_input_meta (out);
  gsize n = (gsize) tokens_of (mod) * dim_of ();
  float *ref = g_new (float, n);
  MmdnnEncodeStage *stage;
  GError *err = NULL;
  GstMapInfo map;

  fail_unless (meta != NULL, "no input meta on the %s features",
      gst_mmdnn_modality_to_string (mod));
  fail_unless_equals_int (meta->modality, mod);
  fail_unless_equals_int64 (meta->size, input_of (mod));
  fail_unless_equals_int (meta->ids, mod == T);
  stage = mmdnn_encode_stage_new (model, mod, 1, &err);
  g_assert_no_error (err);
  fail_unless (mmdnn_encode_stage_run (stage, model, meta->data, 1, ref,
          &err));
  fail_unless (gst_buffer_map (out, &map, GST_MAP_READ));
  fail_unless_equals_uint64 (map.size, n * sizeof (float));
  fail_unless (memcmp (map.data, ref, map.size) == 0,
      "the %s features are not the encoding of the meta's input",
      gst_mmdnn_modality_to_string (mod));
  gst_buffer_unmap (out, &map);
  mmdnn_encode_stage_free (stage);
  g_free (ref);
}

static GstBuffer *
video_frame (guint seed)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 16 * 16 * 3, NULL);
  GstMapInfo map;
  guint32 x = seed;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (gsize i = 0; i < map.size; i++)
    map.data[i] = (guint8) (lcg (&x) >> 4);
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = 100 * MS;
  return buf;
}

GST_START_TEST (test_encoders_attach_inputs)
{
  GstHarness *h;
  GstBuffer *in, *out;
  const gchar *text = "a <i>Sneaker</i> cue";
  float *pcm;
  guint32 x = 3;

  h = encoder_harness ("mmdnnvideoenc",
      "video/x-raw, format=RGB, width=16, height=16, framerate=10/1", TRUE);
  out = gst_harness_push_and_pull (h, video_frame (1));
  fail_unless (out != NULL);
  check_input_meta (out, V);
  /* a copy of the buffer (a tee, a queue) keeps it */
  in = gst_buffer_copy (out);
  check_input_meta (in, V);
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  gst_harness_teardown (h);

  h = encoder_harness ("mmdnnaudioenc",
      "audio/x-raw, format=F32LE, layout=interleaved, rate=16000, "
      "channels=1", TRUE);
  pcm = g_new (float, 8000);
  for (guint i = 0; i < 8000; i++)
    pcm[i] = (float) lcg (&x) / 16777216.0f - 0.5f;
  in = gst_buffer_new_wrapped (pcm, 8000 * sizeof (float));
  GST_BUFFER_PTS (in) = 0;
  GST_BUFFER_DURATION (in) = 500 * MS;
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  fail_unless (gst_harness_buffers_in_queue (h) > 0);
  while ((out = gst_harness_try_pull (h)) != NULL) {
    check_input_meta (out, A);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);

  h = encoder_harness ("mmdnntextenc", "text/x-raw, format=pango-markup",
      TRUE);
  in = gst_buffer_new_memdup (text, strlen (text));
  GST_BUFFER_PTS (in) = 0;
  GST_BUFFER_DURATION (in) = SEC;
  out = gst_harness_push_and_pull (h, in);
  fail_unless (out != NULL);
  check_input_meta (out, T);
  {
    gint32 ids[MAX_IN];
    gint64 n_tokens = 0;
    GError *err = NULL;

    fail_unless (mmdnn_text_tokenize (&config->text_prep, text, -1, ids,
            &n_tokens, &err));
    fail_unless (n_tokens > 0);
    fail_unless (memcmp (gst_buffer_get_mmdnn_input_meta (out)->data, ids,
            sizeof (gint32) * input_of (T)) == 0);
  }
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* --------------------------------------------------- whole pipelines */

typedef struct
{
  GPtrArray *train;             /* mmdnn-train structures */
  guint results_t, results_f;   /* mmdnn-result from "t" and from "f" */
  guint64 last_version_f;
  GError *error;
  gboolean eos;
  gint64 elapsed;               /* µs, PLAYING to EOS or error */
} Run;

/* gst-launch syntax @desc, with @M and @C standing for the model and
 * config paths, run to EOS or an error (@timeout s at most). */
static void
run_pipeline (const gchar *desc, Run *run, guint timeout)
{
  GString *d = g_string_new (desc);
  GError *err = NULL;
  GstElement *p;
  GstBus *bus;
  gint64 t0, deadline;

  g_string_replace (d, "@M", model_path, 0);
  g_string_replace (d, "@C", config_path, 0);
  memset (run, 0, sizeof (*run));
  run->train = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  p = gst_parse_launch (d->str, &err);
  fail_unless (p != NULL && err == NULL, "%s: %s", d->str,
      err ? err->message : "");
  bus = gst_element_get_bus (p);
  t0 = g_get_monotonic_time ();
  deadline = t0 + (gint64) (mmdnn_check_timeout (timeout) / GST_USECOND);
  fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  while (!run->eos && run->error == NULL) {
    gint64 now = g_get_monotonic_time ();
    GstMessage *msg;

    fail_unless (now < deadline, "the pipeline did not end in %u s: %s",
        timeout, d->str);
    msg = gst_bus_timed_pop (bus, (deadline - now) * GST_USECOND);
    if (msg == NULL)
      continue;
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_EOS:
        run->eos = TRUE;
        break;
      case GST_MESSAGE_ERROR:
        gst_message_parse_error (msg, &run->error, NULL);
        break;
      case GST_MESSAGE_ELEMENT:{
        const gchar *src = GST_OBJECT_NAME (GST_MESSAGE_SRC (msg));

        if (gst_message_has_name (msg, "mmdnn-train")) {
          g_ptr_array_add (run->train, gst_structure_copy
              (gst_message_get_structure (msg)));
        } else if (gst_message_has_name (msg, "mmdnn-result")) {
          if (g_str_equal (src, "t"))
            run->results_t++;
          else {
            const gchar *json = gst_structure_get_string
                (gst_message_get_structure (msg), "json");
            const gchar *v = json ? strstr (json, "\"model_version\":")
                : NULL;

            run->results_f++;
            if (v != NULL)
              run->last_version_f = g_ascii_strtoull (v + 16, NULL, 10);
          }
        }
        break;
      }
      default:
        break;
    }
    gst_message_unref (msg);
  }
  run->elapsed = g_get_monotonic_time () - t0;
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  g_string_free (d, TRUE);
}

static void
run_clear (Run *run)
{
  g_ptr_array_unref (run->train);
  g_clear_error (&run->error);
}

static const GstStructure *
run_final (Run *run)
{
  const GstStructure *s;
  gboolean final = FALSE;

  fail_unless (run->train->len > 0, "no mmdnn-train message");
  s = g_ptr_array_index (run->train, run->train->len - 1);
  fail_unless (gst_structure_get_boolean (s, "final", &final) && final);
  return s;
}

#define VIDEO_SRC(n) \
  "videotestsrc num-buffers=" #n " pattern=ball ! " \
  "video/x-raw,format=RGB,width=32,height=32,framerate=10/1 ! " \
  "mmdnnvideoenc model=@M"
#define AUDIO_SRC(n) \
  "audiotestsrc num-buffers=" #n " samplesperbuffer=1600 wave=pink-noise ! " \
  "audio/x-raw,format=F32LE,rate=16000,channels=1 ! mmdnnaudioenc model=@M"

/* real encoders, tees and queues: the inputs reach the trainer (fuse on
 * the other branches asks for them too), and the running mmdnnfuse picks
 * up the weights the trainer publishes. Nothing holds mmdnnfuse back
 * (not live): it may classify a window before the trainer's step on the
 * windows before it is done, so there are 20 windows, and the first
 * publication (after 2) comes long before the last of them. */
GST_START_TEST (test_pipeline_tee_to_fuse)
{
  Run run;
  const GstStructure *fin;

  run_pipeline (VIDEO_SRC (200) " ! tee name=tv  " AUDIO_SRC (200)
      " ! tee name=ta  "
      "tv. ! queue ! t.sink_0  ta. ! queue ! t.sink_1  "
      "tv. ! queue ! f.sink_0  ta. ! queue ! f.sink_1  "
      "mmdnntrain name=t config=@C publish-to=@M label=Bag batch-size=2 "
      "publish-interval=1 ! fakesink  "
      "mmdnnfuse name=f model=@M ! fakesink", &run, 60);
  fail_unless (run.error == NULL, "%s", run.error ? run.error->message : "");
  fail_unless (run.eos);
  fin = run_final (&run);
  fail_unless_equals_uint64 (field_u64 (fin, "samples"), 20);
  fail_unless_equals_uint64 (field_u64 (fin, "step"), 10);
  fail_unless_equals_int (run.results_t, 20);
  fail_unless_equals_int (run.results_f, 20);
  fail_unless (run.last_version_f >= 2, "fuse never saw a published "
      "version");
  run_clear (&run);
}
GST_END_TEST;

/* a slow trainer in a live pipeline: windows are dropped and counted,
 * the results keep coming in real time, EOS comes on time */
GST_START_TEST (test_live_slow_trainer)
{
  Run run;
  const GstStructure *fin;
  guint64 samples, dropped;

  run_pipeline ("videotestsrc is-live=true num-buffers=30 pattern=ball ! "
      "video/x-raw,format=RGB,width=32,height=32,framerate=10/1 ! "
      "mmdnnvideoenc model=@M ! queue ! t.sink_0  "
      "mmdnntrain name=t config=@C publish-to=@M label=Bag batch-size=1 "
      "queue-size=1 step-delay=400000000 window=200000000 "
      "publish-interval=0 ! fakesink sync=true", &run, 30);
  fail_unless (run.error == NULL, "%s", run.error ? run.error->message : "");
  fail_unless (run.eos);
  fin = run_final (&run);
  samples = field_u64 (fin, "samples");
  dropped = field_u64 (fin, "dropped");
  GST_INFO ("%" G_GUINT64_FORMAT " trained, %" G_GUINT64_FORMAT " dropped, "
      "%u results in %" G_GINT64_FORMAT " µs", samples, dropped,
      run.results_t, run.elapsed);
  /* 15 windows of 0.2 s in 3 s (16 when the live source's first frame
   * is not at running time 0); a step takes 0.4 s. Every window gives a
   * result and is either trained on or dropped. */
  fail_unless (run.results_t == 15 || run.results_t == 16, "%u results",
      run.results_t);
  fail_unless (dropped > 0);
  fail_unless_equals_uint64 (samples + dropped, run.results_t);
  /* 3 s of stream, the last step, the start: far from the 6 s training
   * every window would take */
  fail_unless (run.elapsed < 5 * G_USEC_PER_SEC, "took %" G_GINT64_FORMAT
      " µs", run.elapsed);
  run_clear (&run);
}
GST_END_TEST;

/* ====================================================== negative tests */

/* an element that does not pass the ALLOCATION query on: the encoder
 * attaches no inputs, and the trainer says what is missing */
GST_START_TEST (test_pipeline_inputs_dropped_n)
{
  Run run;

  run_pipeline (VIDEO_SRC (20) " ! identity drop-allocation=true ! "
      "t.sink_0  mmdnntrain name=t config=@C publish-to=@M label=Bag ! "
      "fakesink", &run, 30);
  fail_unless (run.error != NULL);
  fail_unless (run.error->domain == GST_STREAM_ERROR
      && run.error->code == GST_STREAM_ERROR_FORMAT, "%s",
      run.error->message);
  fail_unless (strstr (run.error->message, "GstMmdnnInputMeta") != NULL);
  run_clear (&run);
}
GST_END_TEST;


/* without a trainer downstream the encoders copy nothing */
GST_START_TEST (test_encoders_no_inputs_unasked_n)
{
  GstHarness *h = encoder_harness ("mmdnnvideoenc",
      "video/x-raw, format=RGB, width=16, height=16, framerate=10/1", FALSE);
  GstBuffer *out = gst_harness_push_and_pull (h, video_frame (2));

  fail_unless (out != NULL);
  fail_unless (gst_buffer_get_mmdnn_input_meta (out) == NULL);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;


static GstBus *
start_fails (const gchar *prop, ...)
{
  GstElement *el = gst_element_factory_make ("mmdnntrain", NULL);
  GstBus *bus = gst_bus_new ();
  va_list args;

  va_start (args, prop);
  g_object_set_valist (G_OBJECT (el), prop, args);
  va_end (args);
  gst_element_set_bus (el, bus);
  fail_unless_equals_int (gst_element_set_state (el, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  gst_element_set_state (el, GST_STATE_NULL);
  gst_element_set_bus (el, NULL);
  gst_object_unref (el);
  return bus;
}

static void
bus_free (GstBus *bus)
{
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

/* a cue naming a class the model does not have */
GST_START_TEST (test_label_not_a_class_n)
{
  Sample s;
  gchar *text;
  Rig r;

  sample_inputs (1300, 0, &s);
  rig_init (&r, "v", TRUE, "model", model_path, NULL);
  fail_unless_equals_int (gst_harness_push (r.label, cue ("Sandal", 0, SEC)),
      GST_FLOW_OK);
  rig_push_window (&r, 0, 1300, &s);
  text = pop_error (r.bus, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT);
  fail_unless (strstr (text, "\"Sandal\"") != NULL, "%s", text);
  fail_unless (strstr (text, "\"Sneaker\", \"Bag\", \"T-shirt/top\"")
      != NULL, "%s", text);
  g_free (text);
  rig_clear (&r);
}
GST_END_TEST;

/* class names are exact: a case difference is another label */
GST_START_TEST (test_label_case_n)
{
  Sample s;
  Rig r;

  sample_inputs (1310, 0, &s);
  rig_init (&r, "v", TRUE, "model", model_path, NULL);
  fail_unless_equals_int (gst_harness_push (r.label, cue ("bag", 0, SEC)),
      GST_FLOW_OK);
  rig_push_window (&r, 0, 1310, &s);
  g_free (pop_error (r.bus, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT));
  rig_clear (&r);
}
GST_END_TEST;

/* a task the model does not have, named in a cue */
GST_START_TEST (test_label_unknown_task_n)
{
  Sample s;
  gchar *text;
  Rig r;

  sample_inputs (1320, 0, &s);
  rig_init (&r, "v", TRUE, "model", model_path, NULL);
  fail_unless_equals_int (gst_harness_push (r.label, cue ("colour=red", 0,
              SEC)), GST_FLOW_OK);
  rig_push_window (&r, 0, 1320, &s);
  text = pop_error (r.bus, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT);
  fail_unless (strstr (text, "class, speaker_gender") != NULL, "%s", text);
  g_free (text);
  rig_clear (&r);
}
GST_END_TEST;

/* the label pad's task property naming no task of the model */
GST_START_TEST (test_label_pad_bad_task_n)
{
  Sample s;
  GstPad *pad;
  Rig r;

  sample_inputs (1330, 0, &s);
  rig_init (&r, "v", TRUE, "model", model_path, NULL);
  pad = gst_element_get_static_pad (r.el, "label");
  g_object_set (pad, "task", "genre", NULL);
  gst_object_unref (pad);
  fail_unless_equals_int (gst_harness_push (r.label, cue ("Bag", 0, SEC)),
      GST_FLOW_OK);
  rig_push_window (&r, 0, 1330, &s);
  g_free (pop_error (r.bus, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS));
  rig_clear (&r);
}
GST_END_TEST;

/* the label property not in the classes: the state change fails */
GST_START_TEST (test_label_property_bad_n)
{
  GstBus *bus = start_fails ("model", model_path, "label", "Hat", NULL);
  gchar *text = pop_error (bus, GST_LIBRARY_ERROR,
      GST_LIBRARY_ERROR_SETTINGS);

  fail_unless (strstr (text, "\"Hat\"") != NULL, "%s", text);
  g_free (text);
  bus_free (bus);
}
GST_END_TEST;

/* ... and set to a wrong label while PLAYING: an error at the next
 * window */
GST_START_TEST (test_label_property_bad_playing_n)
{
  Sample s;
  Rig r;

  sample_inputs (1340, 0, &s);
  rig_init (&r, "v", FALSE, "model", model_path, "label", "Bag", NULL);
  fail_unless_equals_int (rig_push_window (&r, 0, 1340, &s), GST_FLOW_OK);
  g_object_set (r.el, "label", "speaker_gender=unknown", NULL);
  rig_push_window (&r, 1, 1340, &s);
  rig_push_window (&r, 2, 1340, &s);
  g_free (pop_error (r.bus, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS));
  rig_clear (&r);
}
GST_END_TEST;

/* features without the encoder's input */
GST_START_TEST (test_features_without_inputs_n)
{
  Sample s;
  gchar *text;
  Rig r;

  sample_inputs (1400, 0, &s);
  rig_init (&r, "v", FALSE, "model", model_path, "label", "Bag", NULL);
  gst_harness_push (r.h[V], features_buffer (V, 1, &s, 0, SEC, TRUE));
  text = pop_error (r.bus, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT);
  fail_unless (strstr (text, "GstMmdnnInputMeta") != NULL, "%s", text);
  g_free (text);
  rig_clear (&r);
}
GST_END_TEST;

/* an input meta of another modality or size */
GST_START_TEST (test_inputs_wrong_size_n)
{
  Sample s;
  GstBuffer *buf;
  float small[4] = { 0, };
  Rig r;

  sample_inputs (1410, 0, &s);
  rig_init (&r, "v", FALSE, "model", model_path, "label", "Bag", NULL);
  buf = features_buffer (V, 1, &s, 0, SEC, TRUE);
  gst_buffer_add_mmdnn_input_meta (buf, V, small, 4);
  gst_harness_push (r.h[V], buf);
  g_free (pop_error (r.bus, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT));
  rig_clear (&r);

  rig_init (&r, "v", FALSE, "model", model_path, "label", "Bag", NULL);
  buf = features_buffer (V, 1, &s, 0, SEC, TRUE);
  gst_buffer_add_mmdnn_input_meta (buf, A, s.audio, input_of (A));
  gst_harness_push (r.h[V], buf);
  g_free (pop_error (r.bus, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT));
  rig_clear (&r);
}
GST_END_TEST;

/* caps of another model's dimension */
GST_START_TEST (test_caps_wrong_dim_n)
{
  GstElement *el = gst_element_factory_make ("mmdnntrain", NULL);
  GstBus *bus = gst_bus_new ();
  GstHarness *h;
  Sample s;

  sample_inputs (1420, 0, &s);
  g_object_set (el, "model", model_path, NULL);
  gst_element_set_bus (el, bus);
  h = gst_harness_new_with_element (el, "sink_0", "src");
  gst_harness_set_src_caps (h, gst_mmdnn_features_caps_new (V, tokens_of (V),
          dim_of () + 1, NULL));
  g_free (pop_error (bus, GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE));
  gst_harness_teardown (h);
  gst_element_set_bus (el, NULL);
  bus_free (bus);
  gst_object_unref (el);
}
GST_END_TEST;

/* a config whose model cannot be published to the pipeline's model */
GST_START_TEST (test_config_mismatch_n)
{
  GstBus *bus = start_fails ("config", other_path, "publish-to", model_path,
      NULL);

  g_free (pop_error (bus, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS));
  bus_free (bus);
}
GST_END_TEST;

GST_START_TEST (test_model_and_config_n)
{
  GstBus *bus = start_fails ("model", model_path, "config", config_path,
      NULL);

  g_free (pop_error (bus, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS));
  bus_free (bus);
}
GST_END_TEST;

GST_START_TEST (test_bad_model_path_n)
{
  GstBus *bus = start_fails ("model", "/nonexistent/m.safetensors", NULL);

  g_free (pop_error (bus, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ));
  bus_free (bus);
}
GST_END_TEST;

GST_START_TEST (test_bad_config_n)
{
  gchar *bad = tmp_path ("bad.json");
  GstBus *bus;

  fail_unless (g_file_set_contents (bad, "{\"fusion\": {\"dim\": -4}}", -1,
          NULL));
  bus = start_fails ("config", bad, "publish-to", model_path, NULL);
  g_free (pop_error (bus, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS));
  bus_free (bus);
  bus = start_fails ("config", "/nonexistent.json", "publish-to", model_path,
      NULL);
  g_free (pop_error (bus, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ));
  bus_free (bus);
  g_unlink (bad);
  g_free (bad);
}
GST_END_TEST;

GST_START_TEST (test_bad_loss_weights_n)
{
  GstBus *bus = start_fails ("model", model_path, "loss-weights",
      "recon=0.5,colour=1", NULL);
  gchar *text = pop_error (bus, GST_LIBRARY_ERROR,
      GST_LIBRARY_ERROR_SETTINGS);

  fail_unless (strstr (text, "colour") != NULL, "%s", text);
  g_free (text);
  bus_free (bus);
  bus = start_fails ("model", model_path, "loss-weights", "nce=-1", NULL);
  g_free (pop_error (bus, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS));
  bus_free (bus);
}
GST_END_TEST;

/* the checkpoint's folder does not exist: refused before training */
GST_START_TEST (test_checkpoint_folder_missing_n)
{
  GstBus *bus = start_fails ("model", model_path, "checkpoint",
      "/nonexistent/folder/m.ckpt", NULL);

  g_free (pop_error (bus, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE));
  bus_free (bus);
}
GST_END_TEST;

/* resume from a file that is not a checkpoint */
GST_START_TEST (test_resume_corrupt_n)
{
  GstBus *bus = start_fails ("model", model_path, "checkpoint", corrupt_path,
      "resume", TRUE, NULL);
  GstMessage *msg = pop_message (bus, GST_MESSAGE_ERROR);

  fail_unless (msg != NULL);
  gst_message_unref (msg);
  bus_free (bus);
}
GST_END_TEST;

/* one label pad only */
GST_START_TEST (test_second_label_pad_n)
{
  GstElement *el = gst_element_factory_make ("mmdnntrain", NULL);
  GstPadTemplate *templ = gst_element_get_pad_template (el, "label");
  GstPad *a = gst_element_request_pad (el, templ, NULL, NULL);
  GstPad *b;

  fail_unless (a != NULL);
  fail_unless_equals_string (GST_PAD_NAME (a), "label");
  b = gst_element_request_pad (el, templ, NULL, NULL);
  fail_unless (b == NULL);
  gst_element_release_request_pad (el, a);
  gst_object_unref (a);
  gst_object_unref (el);
}
GST_END_TEST;

/* the checkpoint folder becomes unwritable mid-run: a warning and
 * training goes on; at EOS an error; the last good checkpoint stays */
GST_START_TEST (test_checkpoint_unwritable_n)
{
  Sample s[8];
  gchar *dir = tmp_folder ("unwritable");
  gchar *moved = g_strconcat (dir, ".moved", NULL);
  gchar *ckpt = g_build_filename (dir, "u.ckpt", NULL);
  gchar *kept = g_build_filename (moved, "u.ckpt", NULL);
  GError *err = NULL;
  MmdnnModel *m;
  GstMessage *msg;
  gchar *text;
  Rig r;

  make_samples (s, 8, 1500);
  rig_init (&r, "v", FALSE, "config", config_path, "publish-to", model_path,
      "batch-size", 2, "checkpoint", ckpt, "checkpoint-interval", 2,
      "publish-interval", 0, "message-interval", 1, "label", "Bag", NULL);
  for (guint i = 0; i < 4; i++)
    fail_unless_equals_int (rig_push_window (&r, i, 1500 + i, &s[i]),
        GST_FLOW_OK);
  /* step 2's checkpoint */
  for (;;) {
    msg = pop_message (r.bus, GST_MESSAGE_ELEMENT);
    fail_unless (msg != NULL);
    if (gst_message_has_name (msg, "mmdnn-train")) {
      guint64 step = 0;

      gst_structure_get_uint64 (gst_message_get_structure (msg), "step",
          &step);
      if (step >= 2) {
        gst_message_unref (msg);
        break;
      }
    }
    gst_message_unref (msg);
  }
  /* (as root a read-only folder would not stop us): the folder is now a
   * file, the old one with its checkpoint elsewhere */
  fail_unless (g_rename (dir, moved) == 0);
  fail_unless (g_file_set_contents (dir, "", 0, NULL));
  for (guint i = 4; i < 8; i++)
    fail_unless_equals_int (rig_push_window (&r, i, 1500 + i, &s[i]),
        GST_FLOW_OK);
  text = pop_warning (r.bus, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE);
  fail_unless (strstr (text, "u.ckpt") != NULL, "%s", text);
  g_free (text);
  rig_eos (&r);
  g_free (pop_error (r.bus, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE));
  rig_clear (&r);

  m = mmdnn_model_load_checkpoint (kept, 2, &err);
  g_assert_no_error (err);
  fail_unless_equals_int64 (m->step, 2);
  mmdnn_model_free (m);
  fail_unless_equals_int (count_files (moved, NULL), 1);
  g_unlink (dir);
  rm_tree (moved);
  g_free (dir);
  g_free (moved);
  g_free (ckpt);
  g_free (kept);
}
GST_END_TEST;

/* A full disk, as a file size limit (RLIMIT_FSIZE: EFBIG, what a plain
 * container allows; SIGXFSZ ignored, as a signal would end the process)
 * from step 2's checkpoint on: a RESOURCE/WRITE warning naming the file and
 * the reason while training goes on, a RESOURCE/WRITE error at EOS, and
 * step 2's checkpoint stays, byte for byte, with no temporary file. */
GST_START_TEST (test_checkpoint_disk_full_n)
{
  Sample s[8];
  gchar *dir = tmp_folder ("full");
  gchar *ckpt = g_build_filename (dir, "f.ckpt", NULL);
  gchar *before, *after, *text;
  gsize len_before, len_after;
  struct rlimit old, small;
  void (*old_handler) (int);
  GstMessage *msg;
  Rig r;

  make_samples (s, 8, 1700);
  rig_init (&r, "v", FALSE, "config", config_path, "publish-to", model_path,
      "batch-size", 2, "checkpoint", ckpt, "checkpoint-interval", 2,
      "publish-interval", 0, "message-interval", 1, "label", "Bag", NULL);
  for (guint i = 0; i < 4; i++)
    fail_unless_equals_int (rig_push_window (&r, i, 1700 + i, &s[i]),
        GST_FLOW_OK);
  for (;;) {
    guint64 step = 0;

    msg = pop_message (r.bus, GST_MESSAGE_ELEMENT);
    fail_unless (msg != NULL);
    if (gst_message_has_name (msg, "mmdnn-train"))
      gst_structure_get_uint64 (gst_message_get_structure (msg), "step",
          &step);
    gst_message_unref (msg);
    if (step >= 2)
      break;
  }
  fail_unless (g_file_get_contents (ckpt, &before, &len_before, NULL));
  /* half the checkpoint fits; the test framework's own small files do */
  fail_unless (len_before > 2 * 16384, "checkpoint of %" G_GSIZE_FORMAT
      " bytes", len_before);
  fail_unless (getrlimit (RLIMIT_FSIZE, &old) == 0);
  small = old;
  small.rlim_cur = len_before / 2;
  old_handler = signal (SIGXFSZ, SIG_IGN);
  fail_unless (setrlimit (RLIMIT_FSIZE, &small) == 0);

  for (guint i = 4; i < 8; i++)
    fail_unless_equals_int (rig_push_window (&r, i, 1700 + i, &s[i]),
        GST_FLOW_OK);
  text = pop_warning (r.bus, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE);
  fail_unless (strstr (text, "f.ckpt") != NULL, "%s", text);
  g_free (text);
  rig_eos (&r);
  g_free (pop_error (r.bus, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE));
  rig_clear (&r);
  fail_unless (setrlimit (RLIMIT_FSIZE, &old) == 0);
  signal (SIGXFSZ, old_handler);

  fail_unless (g_file_get_contents (ckpt, &after, &len_after, NULL));
  fail_unless_equals_uint64 (len_after, len_before);
  fail_unless (memcmp (before, after, len_before) == 0);
  fail_unless_equals_int (count_files (dir, NULL), 1);
  g_free (after);
  g_free (before);
  rm_tree (dir);
  g_free (dir);
  g_free (ckpt);
}
GST_END_TEST;

/* A diverging run (a learning rate of 1e38: every update would overflow
 * the weights): each step is skipped and reported (a warning, `skipped`
 * in the mmdnn-train message), training goes on to EOS, and the
 * checkpoint holds the finite weights it started from. */
GST_START_TEST (test_diverging_run_n)
{
  gchar *dir = tmp_folder ("diverge");
  gchar *ckpt = g_build_filename (dir, "d.ckpt", NULL);
  gchar *cfg = g_build_filename (dir, "lr.json", NULL);
  gchar *json = config_text ("train-test", 8), *huge;
  GError *err = NULL;
  MmdnnModel *m;
  Sample s[4];
  Rig r;

  huge = strstr (json, "\"lr\": 0.01");
  fail_unless (huge != NULL);
  memcpy (huge, "\"lr\": 1e38", strlen ("\"lr\": 1e38"));
  fail_unless (g_file_set_contents (cfg, json, -1, NULL));
  make_samples (s, 4, 1800);
  rig_init (&r, "v", FALSE, "config", cfg, "publish-to", model_path,
      "batch-size", 2, "checkpoint", ckpt, "publish-interval", 0,
      "label", "Bag", NULL);
  expect_skipped_steps (&r, s, 1800, 2);

  m = mmdnn_model_load_checkpoint (ckpt, 2, &err);
  g_assert_no_error (err);
  for (int64_t i = 0; i < m->params->numel; i++) {
    fail_unless (isfinite (m->params->values[i]));
    fail_unless (isfinite (m->optim->m[i]) && isfinite (m->optim->v[i]));
  }
  mmdnn_model_free (m);
  rm_tree (dir);
  g_free (json);
  g_free (cfg);
  g_free (ckpt);
  g_free (dir);
}
GST_END_TEST;

/* kill -9 of a training process at any moment: the checkpoint on disk
 * always loads; a resumed run starts from it, removes the temporary
 * file a kill may leave, and goes on */
static const gchar *child_ckpt;

/* the killed process (a check test of its own, so that the assertions
 * work; never forked, so that nothing survives the kill) */
GST_START_TEST (test_child_train)
{
  const gchar *ckpt = child_ckpt;
  Sample s;
  Rig r;

  sample_inputs (1600, 0, &s);
  rig_init (&r, "vat", FALSE, "config", config_path, "publish-to",
      model_path, "batch-size", 2, "checkpoint", ckpt,
      "checkpoint-interval", 1, "publish-interval", 0, "label", "Bag",
      NULL);
  for (guint i = 0;; i++)
    fail_unless_equals_int (rig_push_window (&r, i, 1600 + i % 7, &s),
        GST_FLOW_OK);
}
GST_END_TEST;

/* until @path exists; fails if the child @pid ends first or after 30 s */
static void
wait_for_file (const gchar *path, GPid pid)
{
  for (guint i = 0; i < 6000 && !g_file_test (path, G_FILE_TEST_EXISTS); i++) {
    int status;

    fail_unless (waitpid (pid, &status, WNOHANG) == 0,
        "the training child ended (status %d)", status);
    g_usleep (5000);
  }
  fail_unless (g_file_test (path, G_FILE_TEST_EXISTS), "no %s", path);
}

GST_START_TEST (test_kill_and_resume)
{
  gchar *dir = tmp_folder ("kill");
  gchar *ckpt = g_build_filename (dir, "k.ckpt", NULL);
  GError *err = NULL;
  MmdnnModel *m;
  gint64 step = 0;
  GstStructure *fin;
  Sample s;
  Rig r;

  for (guint round = 0; round < 3; round++) {
    gchar *argv[] = { self_exe, (gchar *) "--train-child", ckpt, NULL };
    GPid pid;
    int status;

    fail_unless (g_spawn_async (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
            NULL, NULL, &pid, &err), "%s", err ? err->message : "");
    /* until it has written a few checkpoints, then at some moment */
    wait_for_file (ckpt, pid);
    g_usleep (200000 + round * 70000);
    fail_unless (kill (pid, SIGKILL) == 0);
    fail_unless (waitpid (pid, &status, 0) == pid);
    fail_unless (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    g_spawn_close_pid (pid);

    m = mmdnn_model_load_checkpoint (ckpt, 2, &err);
    fail_unless (m != NULL, "%s", err ? err->message : "");
    fail_unless (m->step > 0);
    mmdnn_model_free (m);
    /* at most the checkpoint and one torn temporary file */
    fail_unless (count_files (dir, NULL) <= 2);
    g_unlink (ckpt);            /* the next child starts afresh */
  }

  /* one more, then resume in this process */
  {
    gchar *argv[] = { self_exe, (gchar *) "--train-child", ckpt, NULL };
    GPid pid;
    int status;

    fail_unless (g_spawn_async (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
            NULL, NULL, &pid, &err));
    wait_for_file (ckpt, pid);
    g_usleep (150000);
    kill (pid, SIGKILL);
    waitpid (pid, &status, 0);
    g_spawn_close_pid (pid);
  }
  m = mmdnn_model_load_checkpoint (ckpt, 2, &err);
  g_assert_no_error (err);
  step = m->step;
  mmdnn_model_free (m);
  fail_unless (step > 0);

  sample_inputs (1600, 0, &s);
  rig_init (&r, "vat", FALSE, "config", config_path, "publish-to",
      model_path, "batch-size", 2, "checkpoint", ckpt, "resume", TRUE,
      "publish-interval", 0, "label", "Bag", NULL);
  for (guint i = 0; i < 4; i++)
    fail_unless_equals_int (rig_push_window (&r, i, 1600, &s), GST_FLOW_OK);
  rig_eos (&r);
  rig_wait_eos (&r);
  fin = final_message (r.bus);
  fail_unless_equals_uint64 (field_u64 (fin, "step"), (guint64) step + 2);
  gst_structure_free (fin);
  rig_clear (&r);
  m = mmdnn_model_load_checkpoint (ckpt, 2, &err);
  g_assert_no_error (err);
  fail_unless_equals_int64 (m->step, step + 2);
  mmdnn_model_free (m);
  /* the checkpoint and the final model; no temporary file left */
  fail_unless_equals_int (count_files (dir, NULL), 2);
  fail_unless_equals_int (count_files (dir, ".tmp"), 0);
  rm_tree (dir);
  g_free (dir);
  g_free (ckpt);
}
GST_END_TEST;

/* ------------------------------------------------- the features pads */

/* sink_%u are GstMmdnnTrainPad, a GstMmdnnFeaturesPad, their properties
 * reachable through the child proxy; the label pad is not one */
GST_START_TEST (test_features_pads)
{
  GType features;
  GstPad *pad;
  gchar *modality = NULL;
  gboolean mute = TRUE;
  Rig r;

  /* the plugin registers the pad types with the element's class */
  rig_init (&r, "va", TRUE, "model", model_path, "label", "Bag", NULL);
  features = g_type_from_name ("GstMmdnnFeaturesPad");
  fail_unless (features != 0);
  pad = gst_element_get_static_pad (r.el, "sink_1");
  fail_unless_equals_string (G_OBJECT_TYPE_NAME (pad), "GstMmdnnTrainPad");
  fail_unless (g_type_is_a (G_OBJECT_TYPE (pad), features));
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (r.el, "label");
  fail_unless_equals_string (G_OBJECT_TYPE_NAME (pad),
      "GstMmdnnTrainLabelPad");
  fail_if (g_type_is_a (G_OBJECT_TYPE (pad), features));
  gst_object_unref (pad);

  fail_unless_equals_int (gst_child_proxy_get_children_count
      (GST_CHILD_PROXY (r.el)), 3);
  gst_child_proxy_get (GST_CHILD_PROXY (r.el), "sink_1::modality", &modality,
      "sink_1::mute", &mute, NULL);
  fail_unless_equals_string (modality, "audio");
  fail_if (mute);
  g_free (modality);
  gst_child_proxy_set (GST_CHILD_PROXY (r.el), "sink_0::mute", TRUE, NULL);
  pad = gst_element_get_static_pad (r.el, "sink_0");
  g_object_get (pad, "mute", &mute, "modality", &modality, NULL);
  fail_unless (mute);
  fail_unless_equals_string (modality, "video");
  g_free (modality);
  gst_object_unref (pad);

  /* a new pad: a child until released, no modality before caps */
  pad = gst_element_request_pad_simple (r.el, "sink_%u");
  fail_unless (pad != NULL);
  fail_unless_equals_int (gst_child_proxy_get_children_count
      (GST_CHILD_PROXY (r.el)), 4);
  modality = (gchar *) "not set";     /* g_object_get () must set NULL */
  g_object_get (pad, "modality", &modality, NULL);
  fail_unless (modality == NULL);
  gst_element_release_request_pad (r.el, pad);
  gst_object_unref (pad);
  fail_unless_equals_int (gst_child_proxy_get_children_count
      (GST_CHILD_PROXY (r.el)), 3);
  rig_clear (&r);
}
GST_END_TEST;

/* a muted pad's modality is missing from the samples and the results,
 * though its features keep coming; set through the child proxy */
GST_START_TEST (test_mute_trains_without)
{
  const guint n = 4;
  const float no_audio = (float) log ((double) config->logmel.log_floor);
  Sample s[4];
  gchar *ckpt = tmp_path ("mute.safetensors.ckpt");
  GstMmdnnResultMeta *meta;
  MmdnnModel *ref;
  GstStructure *fin;
  GstBuffer *buf;
  Rig r;

  make_samples (s, n, 700);
  rig_init (&r, "va", FALSE, TRAIN_PROPS (ckpt), "label", "Bag", NULL);
  gst_child_proxy_set (GST_CHILD_PROXY (r.el), "sink_1::mute", TRUE, NULL);
  for (guint i = 0; i < n; i++) {
    fail_unless_equals_int (rig_push_window (&r, i, 700 + i, &s[i]),
        GST_FLOW_OK);
    /* the sample: no audio and no text, as the data set loader has them */
    s[i].labels[0] = class_index (0, "Bag");
    s[i].presence[A] = s[i].presence[T] = 0.0f;
    for (gint64 k = 0; k < input_of (A); k++)
      s[i].audio[k] = no_audio;
    for (gint64 k = 0; k < input_of (T); k++)
      s[i].text[k] = -1;
  }
  rig_eos (&r);
  rig_wait_eos (&r);
  fin = final_message (r.bus);
  fail_unless_equals_uint64 (field_u64 (fin, "step"), 2);      /* 3+1 */
  gst_structure_free (fin);
  ref = reference_train (s, n, 3, 5, NULL);
  check_same_weights (ckpt, ref);
  mmdnn_model_free (ref);

  /* every result: video alone */
  fail_unless_equals_int (gst_harness_buffers_in_queue (r.src), n);
  while ((buf = gst_harness_try_pull (r.src)) != NULL) {
    meta = gst_buffer_get_mmdnn_result_meta (buf);
    fail_unless (meta != NULL);
    fail_unless (meta->present[V] && !meta->present[A] && !meta->present[T]);
    fail_unless_equals_float (meta->weights[A], 0.0f);
    gst_buffer_unref (buf);
  }
  rig_clear (&r);
  g_unlink (ckpt);
  g_free (ckpt);
}
GST_END_TEST;

/* mmdnntrain on sink_0, with a model, a bus and a harness without caps */
static GstHarness *
train_pad_harness (GstElement **el, GstBus **bus)
{
  *el = gst_element_factory_make ("mmdnntrain", NULL);
  *bus = gst_bus_new ();
  g_object_set (*el, "model", model_path, "label", "Bag", NULL);
  gst_element_set_bus (*el, *bus);
  return gst_harness_new_with_element (*el, "sink_0", "src");
}

static void
train_pad_harness_free (GstHarness *h, GstElement *el, GstBus *bus)
{
  gst_harness_teardown (h);
  gst_element_set_bus (el, NULL);
  bus_free (bus);
  gst_object_unref (el);
}

/* The error text on @bus (STREAM, @code) names @pad, mmdnntrain and
 * @needle. */
static void
expect_pad_error (GstBus *bus, gint code, const gchar *pad,
    const gchar *needle)
{
  gchar *text = pop_error (bus, GST_STREAM_ERROR, code);

  fail_unless (strstr (text, pad) != NULL, "\"%s\" does not name %s", text,
      pad);
  fail_unless (strstr (text, "mmdnntrain") != NULL, "\"%s\"", text);
  fail_unless (strstr (text, needle) != NULL, "\"%s\" does not say \"%s\"",
      text, needle);
  g_free (text);
}

/* caps of the wrong token count: refused, reported once, buffers not
 * negotiated; the right caps after them are taken */
GST_START_TEST (test_caps_refused_once_n)
{
  GstElement *el;
  GstBus *bus;
  GstHarness *h = train_pad_harness (&el, &bus);
  Sample s;

  sample_inputs (1430, 0, &s);
  gst_harness_set_src_caps (h, gst_mmdnn_features_caps_new (A,
          tokens_of (A) + 1, dim_of (), NULL));
  expect_pad_error (bus, GST_STREAM_ERROR_WRONG_TYPE, "sink_0", "tokens");
  fail_unless_equals_int (gst_harness_push (h, features_buffer (A, 1, &s, 0,
              SEC, FALSE)), GST_FLOW_NOT_NEGOTIATED);
  fail_unless_equals_int (gst_harness_push (h, features_buffer (A, 2, &s,
              SEC, SEC, FALSE)), GST_FLOW_NOT_NEGOTIATED);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);

  gst_harness_set_src_caps (h, gst_mmdnn_features_caps_new (A, tokens_of (A),
          dim_of (), NULL));
  fail_unless_equals_int (gst_harness_push (h, features_buffer (A, 3, &s,
              2 * SEC, SEC, FALSE)), GST_FLOW_OK);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);
  train_pad_harness_free (h, el, bus);
}
GST_END_TEST;

/* caps that are not video, audio or text features */
GST_START_TEST (test_caps_not_features_n)
{
  GstCaps *wrong[2];

  wrong[0] = gst_caps_from_string ("text/x-raw, format=utf8");
  wrong[1] = gst_mmdnn_features_caps_new (GST_MMDNN_MODALITY_FUSED, 1,
      dim_of (), NULL);
  for (guint i = 0; i < G_N_ELEMENTS (wrong); i++) {
    GstElement *el;
    GstBus *bus;
    GstHarness *h = train_pad_harness (&el, &bus);

    gst_harness_set_src_caps (h, wrong[i]);
    expect_pad_error (bus, GST_STREAM_ERROR_WRONG_TYPE, "sink_0",
        "video, audio or text features");
    train_pad_harness_free (h, el, bus);
  }
}
GST_END_TEST;

/* a second pad of a modality another pad carries; the caps query of the
 * second pad offers only the others */
GST_START_TEST (test_caps_modality_taken_n)
{
  GstHarness *h1;
  GstCaps *caps;
  Rig r;

  rig_init (&r, "v", FALSE, "model", model_path, "label", "Bag", NULL);
  h1 = gst_harness_new_with_element (r.el, "sink_1", NULL);
  caps = gst_pad_query_caps (GST_PAD_PEER (h1->srcpad), NULL);
  fail_unless_equals_int (gst_caps_get_size (caps), 2);
  for (guint i = 0; i < 2; i++)
    fail_if (g_strcmp0 (gst_structure_get_string (gst_caps_get_structure
                (caps, i), "modality"), "video") == 0);
  gst_caps_unref (caps);

  gst_harness_set_src_caps (h1, gst_mmdnn_features_caps_new (V, tokens_of (V),
          dim_of (), NULL));
  expect_pad_error (r.bus, GST_STREAM_ERROR_WRONG_TYPE, "sink_1",
      "pad sink_0 already carries the video modality");
  gst_harness_teardown (h1);
  rig_clear (&r);
}
GST_END_TEST;

/* features of another size than their caps say */
GST_START_TEST (test_features_wrong_size_n)
{
  GstBuffer *buf;
  float small[4] = { 0, };
  Sample s;
  Rig r;

  sample_inputs (1440, 0, &s);
  rig_init (&r, "v", FALSE, "model", model_path, "label", "Bag", NULL);
  buf = gst_buffer_new_memdup (small, sizeof (small));
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = SEC;
  gst_buffer_add_mmdnn_input_meta (buf, V, s.video, input_of (V));
  gst_harness_push (r.h[V], buf);
  expect_pad_error (r.bus, GST_STREAM_ERROR_FORMAT, "sink_0",
      "not the size");
  rig_clear (&r);
}
GST_END_TEST;

/* ----------------------------------------------------------------- main */

static Suite *
mmdnntrain_suite (void)
{
  Suite *s = suite_create ("mmdnntrain");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_label_pad_trains);
  tcase_add_test (tc, test_label_property);
  tcase_add_test (tc, test_video_frame_on_screen);
  tcase_add_test (tc, test_unlabelled_windows_skipped);
  tcase_add_test (tc, test_label_syntax);
  tcase_add_test (tc, test_output_like_fuse);
  tcase_add_test (tc, test_hot_swap);
  tcase_add_test (tc, test_resume_exact);
  tcase_add_test (tc, test_messages);
  tcase_add_test (tc, test_bounded_queue_drops);
  tcase_add_test (tc, test_queue_waits);
  tcase_add_test (tc, test_nan_step_skipped);
  tcase_add_test (tc, test_allocation_asks_for_inputs);
  tcase_add_test (tc, test_kill_and_resume);
  tcase_add_test (tc, test_encoders_attach_inputs);
  tcase_add_test (tc, test_pipeline_tee_to_fuse);
  tcase_add_test (tc, test_live_slow_trainer);
  tcase_add_test (tc, test_features_pads);
  tcase_add_test (tc, test_mute_trains_without);

  tcase_add_test (tc, test_encoders_no_inputs_unasked_n);
  tcase_add_test (tc, test_pipeline_inputs_dropped_n);
  tcase_add_test (tc, test_label_not_a_class_n);
  tcase_add_test (tc, test_label_case_n);
  tcase_add_test (tc, test_label_unknown_task_n);
  tcase_add_test (tc, test_label_pad_bad_task_n);
  tcase_add_test (tc, test_label_property_bad_n);
  tcase_add_test (tc, test_label_property_bad_playing_n);
  tcase_add_test (tc, test_features_without_inputs_n);
  tcase_add_test (tc, test_inputs_wrong_size_n);
  tcase_add_test (tc, test_caps_wrong_dim_n);
  tcase_add_test (tc, test_config_mismatch_n);
  tcase_add_test (tc, test_model_and_config_n);
  tcase_add_test (tc, test_bad_model_path_n);
  tcase_add_test (tc, test_bad_config_n);
  tcase_add_test (tc, test_bad_loss_weights_n);
  tcase_add_test (tc, test_checkpoint_folder_missing_n);
  tcase_add_test (tc, test_resume_corrupt_n);
  tcase_add_test (tc, test_second_label_pad_n);
  tcase_add_test (tc, test_checkpoint_unwritable_n);
  tcase_add_test (tc, test_checkpoint_disk_full_n);
  tcase_add_test (tc, test_diverging_run_n);
  tcase_add_test (tc, test_caps_refused_once_n);
  tcase_add_test (tc, test_caps_not_features_n);
  tcase_add_test (tc, test_caps_modality_taken_n);
  tcase_add_test (tc, test_features_wrong_size_n);
  return s;
}

static MmdnnModel *
write_model (const gchar *json, const gchar *path)
{
  GError *err = NULL;
  MmdnnModelConfig *c = mmdnn_model_config_from_json (json, -1, &err);
  MmdnnModel *m;

  g_assert_no_error (err);
  m = mmdnn_model_new (c, 11, 1, &err);
  g_assert_no_error (err);
  g_assert_true (mmdnn_model_save (m, path, &err));
  mmdnn_model_config_free (c);
  mmdnn_model_free (m);
  m = mmdnn_model_load (path, 1, &err);
  g_assert_no_error (err);
  return m;
}

int
main (int argc, char **argv)
{
  static const char corrupt[] =
      "\x40\x00\x00\x00\x00\x00\x00\x00{\"not\": \"a checkpoint";
  GError *err = NULL;
  gchar *json, *other;
  gboolean child = argc == 3 && strcmp (argv[1], "--train-child") == 0;
  int failed = 0;

  gst_check_init (child ? NULL : &argc, child ? NULL : &argv);
  self_exe = g_file_read_link ("/proc/self/exe", &err);
  g_assert_no_error (err);
  tmpdir = child ? g_path_get_dirname (g_path_get_dirname (argv[2]))
      : g_dir_make_tmp ("mmdnntrain-XXXXXX", &err);
  g_assert_no_error (err);
  config_path = g_build_filename (tmpdir, "config.json", NULL);
  model_path = g_build_filename (tmpdir, "model.safetensors", NULL);
  other_path = g_build_filename (tmpdir, "other.json", NULL);
  corrupt_path = g_build_filename (tmpdir, "corrupt.ckpt", NULL);
  json = config_text ("train-test", 8);
  if (child) {
    Suite *suite = suite_create ("mmdnntrain-child");
    TCase *tc = tcase_create ("child");

    config = mmdnn_model_config_from_json (json, -1, &err);
    g_assert_no_error (err);
    child_ckpt = argv[2];
    suite_add_tcase (suite, tc);
    tcase_set_timeout (tc, 600);
    tcase_add_test (tc, test_child_train);
    g_setenv ("CK_FORK", "no", TRUE);
    g_unsetenv ("GST_CHECKS");
    g_unsetenv ("GST_CHECKS_IGNORE");
    return gst_check_run_suite (suite, "mmdnntrain-child", __FILE__);
  }
  other = config_text ("train-test", 12);
  g_assert_true (g_file_set_contents (config_path, json, -1, &err));
  g_assert_true (g_file_set_contents (other_path, other, -1, &err));
  g_assert_true (g_file_set_contents (corrupt_path, corrupt,
          sizeof corrupt - 1, &err));
  model = write_model (json, model_path);
  config = mmdnn_model_config_copy (model->config);
  g_assert_cmpint (input_of (V), <=, MAX_IN);
  g_assert_cmpint (input_of (A), <=, MAX_IN);
  g_assert_cmpint (input_of (T), <=, MAX_IN);

  failed = gst_check_run_suite (mmdnntrain_suite (), "mmdnntrain", __FILE__);

  mmdnn_model_free (model);
  mmdnn_model_config_free (config);
  rm_tree (tmpdir);
  g_free (json);
  g_free (other);
  g_free (config_path);
  g_free (model_path);
  g_free (other_path);
  g_free (corrupt_path);
  g_free (tmpdir);
  g_free (self_exe);
  return failed;
}
