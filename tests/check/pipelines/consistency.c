/* Consistency: the features the elements compute in a pipeline from a
 * Matroska file equal those the core computes from what `mmdnn train` /
 * `mmdnn eval` ingest from the same file (mmdnn_dataset_load: FFmpeg
 * decoding, the core's preprocessing), encoded by the same model.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The file: 3 AVT-Fashion test clips back to back (tools/make-dataset
 * --concat, held-out voices): 6 s of MJPEG video at 10 fps, 16 kHz mono
 * PCM, and SRT cues, with a labels.csv naming each clip's [2i, 2i + 2).
 * The pipeline is the examples' (pipelines/file-annotate.sh):
 *
 *   filesrc ! decodebin name=d
 *     d. ! video/x-raw ! queue ! videoconvert ! video/x-raw,format=RGB
 *        ! mmdnnvideoenc ! fakesink
 *     d. ! audio/x-raw ! queue ! audioconvert ! audioresample
 *        ! mmdnnaudioenc hop=10 ms ! fakesink
 *     d. ! text/x-raw ! queue ! mmdnntextenc ! fakesink
 *
 * For clip i the data set loader takes the frame on screen at the middle
 * of the clip (2i + 1 s: the frame starting there), the 100 log-mel frames
 * whose nominal second is centred in the clip (frames 50..149: from
 * 2i + 0.5 s, framed from the clip's first sample, which is also a frame
 * boundary of the element's stream) and the text of the cue inside it —
 * what a 2-s window of mmdnnfuse/mmdnntrain takes (gst/gstmmdnnwindow.h);
 * the pipeline buffers compared are the video features with PTS 2i + 1 s,
 * the audio features with PTS 2i + 0.5 s (the audio encoder runs with a
 * hop of one log-mel frame, so that patch is among its outputs), and the
 * text features of the cue overlapping the clip.
 *
 * Tolerances (max |a − b| over the K×D values, and the relative L2 error
 * ‖a − b‖ / ‖b‖):
 * - text: identical ids, so identical features: max |a − b| = 0 is
 *   required (the encoder runs the same code on one sample in both).
 * - audio: the same PCM samples (S16 → float is exact both in FFmpeg's
 *   swresample and in audioconvert; the rate is already 16 kHz, so
 *   audioresample passes through), the same log-mel code, so also 0.
 * - video: decoded by two different JPEG decoders (FFmpeg's mjpeg decoder
 *   for the CLI, libjpeg-turbo's jpegdec in decodebin: their 4:2:0 planes
 *   differ by up to 2 levels, 0.4 on average) and converted to RGB by two
 *   different converters (swscale for the CLI before the core's 64×64
 *   downscale, videoconvert in the pipeline), so pixels differ by rounding:
 *   measured 1.0–1.5 % relative L2 on the features, hence VIDEO_REL_TOL =
 *   2 %. The negative tests check that this tolerance still tells frames
 *   apart (another clip's frame: > 8 %; the neighbouring frame: differs).
 *
 * Run with the argument "native" (meson test `consistency-native-i420`),
 * the pipeline leaves out the RGB caps: mmdnnvideoenc then takes jpegdec's
 * I420, which is FULL range (JPEG, colorimetry 1:4:0:0), and must read it
 * as such (MMDNN_PIXEL_I420_FULL): read as limited range it was 2.5–4 %
 * off, over the tolerance; read right it is within it, like RGB.
  */
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include <mmdnn/mmdnn.h>

#include "gstmmdnnutils.h"
#include "mmdnncheck.h"

#define N_CLIPS 3
#define CLIP_NS (2 * GST_SECOND)
#define VIDEO_REL_TOL 0.02
#define EXACT_TOL 0.0

typedef struct {
  GstClockTime pts, duration;
  float *values;                /* K×D */
} Features;

typedef struct {
  GMutex lock;
  GArray *got[MMDNN_N_MODALITIES];   /* Features */
  gint tokens[MMDNN_N_MODALITIES], dim[MMDNN_N_MODALITIES];
} Collected;

/* what the data set loader (the CLI) gives, encoded by the core */
typedef struct {
  gchar *dir, *file;
  MmdnnModel *model;
  MmdnnBatch *batch;
  gint64 k[MMDNN_N_MODALITIES], d;
  float *core[MMDNN_N_MODALITIES];   /* (N_CLIPS, K, D), or NULL rows */
  Collected pipe;
} Fixture;

static Fixture fx;
/* argv[1] "native": no RGB caps before mmdnnvideoenc (decodebin's I420) */
static gboolean native_video;

static void
features_clear (gpointer p)
{
  g_free (((Features *) p)->values);
}

static void
on_handoff (GstElement *sink, GstBuffer *buf, GstPad *pad, gpointer data)
{
  int mod = GPOINTER_TO_INT (data);
  Features f;
  GstMapInfo map;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  gint tokens = 0, dim = 0;
  int caps_mod = -1;

  (void) sink;
  fail_unless (caps != NULL);
  fail_unless (gst_mmdnn_features_caps_parse (caps, &caps_mod, &tokens, &dim, NULL));
  gst_caps_unref (caps);
  fail_unless_equals_int (caps_mod, mod);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  fail_unless_equals_uint64 (map.size, (guint64) tokens * dim * sizeof (float));
  f.pts = GST_BUFFER_PTS (buf);
  f.duration = GST_BUFFER_DURATION (buf);
  f.values = g_memdup2 (map.data, map.size);
  gst_buffer_unmap (buf, &map);
  g_mutex_lock (&fx.pipe.lock);
  fx.pipe.tokens[mod] = tokens;
  fx.pipe.dim[mod] = dim;
  g_array_append_val (fx.pipe.got[mod], f);
  g_mutex_unlock (&fx.pipe.lock);
}

static void
make_media (void)
{
  GError *error = NULL;
  gchar *out = NULL, *err = NULL;
  gint status = 0;
  const gchar *argv[] = { MAKE_DATASET, NULL, "--clips", "3", "--split", "test",
    "--seed", "5", "--voices", "heldout", "--jobs", "2", "--concat", "c.mkv",
    NULL };

  fx.dir = g_dir_make_tmp ("mmdnn-consistency-XXXXXX", &error);
  fail_unless (fx.dir != NULL, "%s", error ? error->message : "");
  argv[1] = fx.dir;
  fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_DEFAULT,
          NULL, NULL, &out, &err, &status, &error), "%s",
      error ? error->message : "");
  fail_unless (g_spawn_check_wait_status (status, NULL),
      "make-dataset failed: %s", err);
  g_free (out);
  g_free (err);
  fx.file = g_build_filename (fx.dir, "c.mkv", NULL);
}

/* the CLI's side: labels.csv → batch (FFmpeg decoding, core prep) →
 * one-sample encoder runs */
static void
core_features (void)
{
  GError *error = NULL;
  gchar *path = gst_mmdnn_default_model_path ();
  MmdnnDataset *ds;
  const MmdnnModelConfig *c;

  fx.model = mmdnn_model_load (path, 1, &error);
  fail_unless (fx.model != NULL, "%s: %s", path, error ? error->message : "");
  g_free (path);
  c = fx.model->config;
  ds = mmdnn_dataset_open (fx.dir, c, &error);
  fail_unless (ds != NULL, "%s", error ? error->message : "");
  fail_unless_equals_int (ds->clips->len, N_CLIPS);
  fail_unless (mmdnn_dataset_load_all (ds, c, &fx.batch, &error), "%s",
      error ? error->message : "");
  mmdnn_dataset_free (ds);
  fx.d = c->fusion.dim;
  for (int mod = 0; mod < MMDNN_N_MODALITIES; mod++) {
    gint64 in = mmdnn_model_config_input_size (c, (MmdnnModality) mod);
    MmdnnEncodeStage *st;

    fx.k[mod] = c->fusion.tokens[mod];
    st = mmdnn_encode_stage_new (fx.model, (MmdnnModality) mod, 1, &error);
    fail_unless (st != NULL, "%s", error ? error->message : "");
    fx.core[mod] = g_new0 (float, N_CLIPS * fx.k[mod] * fx.d);
    for (int i = 0; i < N_CLIPS; i++) {
      const void *input = mod == MMDNN_MODALITY_VIDEO
          ? (const void *) (fx.batch->video + i * in)
          : mod == MMDNN_MODALITY_AUDIO
          ? (const void *) (fx.batch->audio + i * in)
          : (const void *) (fx.batch->text_ids + i * in);

      if (fx.batch->presence[i * MMDNN_N_MODALITIES + mod] == 0)
        continue;
      fail_unless (mmdnn_encode_stage_run (st, fx.model, input, 1,
              fx.core[mod] + i * fx.k[mod] * fx.d, &error), "%s",
          error ? error->message : "");
    }
    mmdnn_encode_stage_free (st);
  }
}

/* the elements' side */
static void
pipeline_features (void)
{
  GError *error = NULL;
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin name=d "
      "d. ! video/x-raw ! queue ! videoconvert %s ! mmdnnvideoenc "
      "  ! fakesink name=s0 signal-handoffs=true sync=false async=false "
      "d. ! audio/x-raw ! queue ! audioconvert ! audioresample "
      "  ! mmdnnaudioenc hop=10000000 "
      "  ! fakesink name=s1 signal-handoffs=true sync=false async=false "
      "d. ! text/x-raw ! queue ! mmdnntextenc "
      "  ! fakesink name=s2 signal-handoffs=true sync=false async=false",
      fx.file, native_video ? "" : "! video/x-raw,format=RGB");
  GstElement *p = gst_parse_launch (desc, &error);
  GstBus *bus;
  GstMessage *msg;

  fail_unless (p != NULL, "%s", error ? error->message : "");
  g_free (desc);
  g_mutex_init (&fx.pipe.lock);
  for (int mod = 0; mod < MMDNN_N_MODALITIES; mod++) {
    gchar name[8];
    GstElement *sink;

    g_snprintf (name, sizeof name, "s%d", mod);
    sink = gst_bin_get_by_name (GST_BIN (p), name);
    fx.pipe.got[mod] = g_array_new (FALSE, FALSE, sizeof (Features));
    g_array_set_clear_func (fx.pipe.got[mod], features_clear);
    g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff),
        GINT_TO_POINTER (mod));
    gst_object_unref (sink);
  }
  fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  bus = gst_element_get_bus (p);
  msg = gst_bus_timed_pop_filtered (bus, mmdnn_check_timeout (60),
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  /* stop the pipeline before any verdict: a failure must not leave its
   * threads running (the process would hang at exit) */
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  fail_unless (msg != NULL, "no EOS within %" GST_TIME_FORMAT,
      GST_TIME_ARGS (mmdnn_check_timeout (60)));
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gchar *dbg = NULL;
    gst_message_parse_error (msg, &error, &dbg);
    fail ("pipeline error: %s (%s)", error->message, dbg);
  }
  gst_message_unref (msg);
}

static void
setup (void)
{
  memset (&fx, 0, sizeof fx);
  make_media ();
  /* the pipeline first: loading the plugin sets OpenBLAS to one thread
   * for the whole process (gstmmdnnelement.c), and a GEMM split over
   * threads may round differently; so the core runs below with the very
   * setting the elements ran with */
  pipeline_features ();
  core_features ();
}

static void
remove_dir (const gchar *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL) {
    gchar *p = g_build_filename (dir, name, NULL);
    g_remove (p);
    g_free (p);
  }
  if (d != NULL)
    g_dir_close (d);
  g_rmdir (dir);
}

static void
teardown (void)
{
  for (int mod = 0; mod < MMDNN_N_MODALITIES; mod++) {
    if (fx.pipe.got[mod] != NULL)
      g_array_unref (fx.pipe.got[mod]);
    g_free (fx.core[mod]);
  }
  g_mutex_clear (&fx.pipe.lock);
  mmdnn_batch_free (fx.batch);
  mmdnn_model_free (fx.model);
  remove_dir (fx.dir);
  g_free (fx.dir);
  g_free (fx.file);
}

/* ---- helpers ------------------------------------------------------------ */

static const Features *
at_pts (int mod, GstClockTime pts)
{
  GArray *a = fx.pipe.got[mod];

  for (guint j = 0; j < a->len; j++)
    if (g_array_index (a, Features, j).pts == pts)
      return &g_array_index (a, Features, j);
  return NULL;
}

/* the text features whose cue overlaps [s, e) */
static const Features *
overlapping (int mod, GstClockTime s, GstClockTime e)
{
  GArray *a = fx.pipe.got[mod];

  for (guint j = 0; j < a->len; j++) {
    const Features *f = &g_array_index (a, Features, j);
    if (f->pts < e && f->pts + f->duration > s)
      return f;
  }
  return NULL;
}

static const float *
core_row (int mod, int clip)
{
  return fx.core[mod] + clip * fx.k[mod] * fx.d;
}

/* where the data set loader's audio patch of a clip starts, from the
 * clip's start: the patch's nominal span, patch_frames hops, centred in
 * the clip's samples, rounded down to a hop (an exact hop here) */
static GstClockTime
audio_patch_offset (void)
{
  const MmdnnLogMelConfig *l = &fx.model->config->logmel;
  gint64 samples = 2 * l->sample_rate;
  gint64 span = fx.model->config->audio_patch_frames * l->hop_length;
  gint64 first = (samples - span) / 2 / l->hop_length;

  return gst_util_uint64_scale (first * l->hop_length, GST_SECOND, l->sample_rate);
}

/* audio patches the element makes from 6 s with a hop of one frame */
static gint64
audio_patches (void)
{
  const MmdnnLogMelConfig *l = &fx.model->config->logmel;
  gint64 frames = (N_CLIPS * 2 * l->sample_rate - l->win_length) / l->hop_length + 1;

  return frames - fx.model->config->audio_patch_frames + 1;
}

static gboolean
present (int mod, int clip)
{
  return fx.batch->presence[clip * MMDNN_N_MODALITIES + mod] != 0;
}

/* max |a − b| and ‖a − b‖ / ‖b‖ over n values */
static void
compare (const float *a, const float *b, gint64 n, double *max_abs, double *rel)
{
  double diff2 = 0, norm2 = 0;

  *max_abs = 0;
  for (gint64 j = 0; j < n; j++) {
    double d = (double) a[j] - b[j];
    *max_abs = MAX (*max_abs, fabs (d));
    diff2 += d * d;
    norm2 += (double) b[j] * b[j];
  }
  *rel = norm2 > 0 ? sqrt (diff2 / norm2) : sqrt (diff2);
}

/* ---- positive ----------------------------------------------------------- */

/* the pipeline made what the data set has: 60 frames, caps sizes as the
 * model's, an audio patch every 10 ms (every complete one: 499 for the
 * default front end), one text buffer per cue */
GST_START_TEST (test_pipeline_output_shapes)
{
  int cues = 0;

  for (int mod = 0; mod < MMDNN_N_MODALITIES; mod++) {
    fail_unless_equals_int (fx.pipe.tokens[mod], fx.k[mod]);
    fail_unless_equals_int (fx.pipe.dim[mod], fx.d);
  }
  fail_unless_equals_int (fx.pipe.got[MMDNN_MODALITY_VIDEO]->len, 60);
  /* (32000 − 100·160) / 2 = 8000 samples = frame 50 */
  fail_unless_equals_uint64 (audio_patch_offset (), 500 * GST_MSECOND);
  fail_unless (fx.pipe.got[MMDNN_MODALITY_AUDIO]->len >= (guint) audio_patches (),
      "%u audio buffers, expected %" G_GINT64_FORMAT,
      fx.pipe.got[MMDNN_MODALITY_AUDIO]->len, audio_patches ());
  for (gint64 j = 0; j < audio_patches (); j++)
    fail_unless (at_pts (MMDNN_MODALITY_AUDIO, j * 10 * GST_MSECOND) != NULL,
        "no audio features at %" G_GINT64_FORMAT " ms", j * 10);
  for (int i = 0; i < N_CLIPS; i++)
    cues += present (MMDNN_MODALITY_TEXT, i);
  fail_unless (cues >= 1, "no clip with a cue: choose another seed");
  fail_unless_equals_int (fx.pipe.got[MMDNN_MODALITY_TEXT]->len, cues);
}
GST_END_TEST;

GST_START_TEST (test_text_equals_cli)
{
  gint64 n = fx.k[MMDNN_MODALITY_TEXT] * fx.d;

  for (int i = 0; i < N_CLIPS; i++) {
    const Features *f = overlapping (MMDNN_MODALITY_TEXT, i * CLIP_NS,
        (i + 1) * CLIP_NS);
    double max_abs, rel;

    fail_unless ((f != NULL) == present (MMDNN_MODALITY_TEXT, i),
        "clip %d: text in the pipeline %d, in the data set %d", i, f != NULL,
        present (MMDNN_MODALITY_TEXT, i));
    if (f == NULL)
      continue;
    compare (f->values, core_row (MMDNN_MODALITY_TEXT, i), n, &max_abs, &rel);
    GST_INFO ("text clip %d: max |a-b| %g, relative L2 %g", i, max_abs, rel);
    fail_unless (max_abs <= EXACT_TOL, "text clip %d: max |a-b| %g", i, max_abs);
  }
}
GST_END_TEST;

GST_START_TEST (test_audio_equals_cli)
{
  gint64 n = fx.k[MMDNN_MODALITY_AUDIO] * fx.d;

  for (int i = 0; i < N_CLIPS; i++) {
    const Features *f = at_pts (MMDNN_MODALITY_AUDIO,
        i * CLIP_NS + audio_patch_offset ());
    double max_abs, rel;

    fail_unless (present (MMDNN_MODALITY_AUDIO, i));
    fail_unless (f != NULL, "clip %d: no audio features at its 0.5 s", i);
    fail_unless_equals_uint64 (f->duration, GST_SECOND);
    compare (f->values, core_row (MMDNN_MODALITY_AUDIO, i), n, &max_abs, &rel);
    GST_INFO ("audio clip %d: max |a-b| %g, relative L2 %g", i, max_abs, rel);
    fail_unless (max_abs <= EXACT_TOL, "audio clip %d: max |a-b| %g "
        "(relative L2 %g)", i, max_abs, rel);
  }
}
GST_END_TEST;

GST_START_TEST (test_video_equals_cli_within_tolerance)
{
  gint64 n = fx.k[MMDNN_MODALITY_VIDEO] * fx.d;

  for (int i = 0; i < N_CLIPS; i++) {
    const Features *f = at_pts (MMDNN_MODALITY_VIDEO,
        i * CLIP_NS + GST_SECOND);
    double max_abs, rel;

    fail_unless (present (MMDNN_MODALITY_VIDEO, i));
    fail_unless (f != NULL, "clip %d: no video features at its 1 s", i);
    compare (f->values, core_row (MMDNN_MODALITY_VIDEO, i), n, &max_abs, &rel);
    GST_INFO ("video clip %d: max |a-b| %g, relative L2 %g", i, max_abs, rel);
    g_print ("# video clip %d: max |a-b| %g, relative L2 %g\n", i, max_abs, rel);
    fail_unless (rel <= VIDEO_REL_TOL, "video clip %d: relative L2 %g > %g "
        "(max |a-b| %g)", i, rel, VIDEO_REL_TOL, max_abs);
  }
}
GST_END_TEST;

/* ---- negative: the tolerances still tell different inputs apart --------- */

/* another clip's frame is far outside the video tolerance */
GST_START_TEST (test_video_other_clip_differs_n)
{
  gint64 n = fx.k[MMDNN_MODALITY_VIDEO] * fx.d;

  for (int i = 0; i < N_CLIPS; i++) {
    const Features *f = at_pts (MMDNN_MODALITY_VIDEO, i * CLIP_NS + GST_SECOND);
    double max_abs, rel;

    fail_unless (f != NULL);
    compare (f->values, core_row (MMDNN_MODALITY_VIDEO, (i + 1) % N_CLIPS), n,
        &max_abs, &rel);
    fail_unless (rel > 4 * VIDEO_REL_TOL, "video of clip %d vs clip %d: "
        "relative L2 only %g", i, (i + 1) % N_CLIPS, rel);
  }
}
GST_END_TEST;

/* a neighbouring frame of the same clip (0.1 s later) is not what the CLI
 * took: its features differ */
GST_START_TEST (test_video_neighbour_frame_differs_n)
{
  gint64 n = fx.k[MMDNN_MODALITY_VIDEO] * fx.d;

  for (int i = 0; i < N_CLIPS; i++) {
    const Features *f = at_pts (MMDNN_MODALITY_VIDEO,
        i * CLIP_NS + GST_SECOND + GST_SECOND / 10);
    double max_abs, rel;

    fail_unless (f != NULL);
    compare (f->values, core_row (MMDNN_MODALITY_VIDEO, i), n, &max_abs, &rel);
    fail_unless (max_abs > 0, "clip %d: the next frame gives the same features", i);
  }
}
GST_END_TEST;

/* the audio patch one frame (10 ms) later or earlier (where the loader
 * took it once, centring the frames on their whole span) is not the one
 * the CLI took */
GST_START_TEST (test_audio_shifted_patch_differs_n)
{
  gint64 n = fx.k[MMDNN_MODALITY_AUDIO] * fx.d;

  for (int i = 0; i < N_CLIPS; i++)
    for (int shift = -1; shift <= 1; shift += 2) {
      const Features *f = at_pts (MMDNN_MODALITY_AUDIO,
          i * CLIP_NS + audio_patch_offset () + shift * 10 * GST_MSECOND);
      double max_abs, rel;

      fail_unless (f != NULL);
      compare (f->values, core_row (MMDNN_MODALITY_AUDIO, i), n, &max_abs,
          &rel);
      fail_unless (max_abs > 1e-3, "clip %d: a patch shifted by %d ms gives "
          "the same features (max |a-b| %g)", i, shift * 10, max_abs);
    }
}
GST_END_TEST;

/* the cue of one clip does not match another clip's text */
GST_START_TEST (test_text_other_cue_differs_n)
{
  gint64 n = fx.k[MMDNN_MODALITY_TEXT] * fx.d;
  int compared = 0;

  for (int i = 0; i < N_CLIPS; i++)
    for (int j = 0; j < N_CLIPS; j++) {
      const Features *f = overlapping (MMDNN_MODALITY_TEXT, i * CLIP_NS,
          (i + 1) * CLIP_NS);
      double max_abs, rel;

      if (i == j || f == NULL || !present (MMDNN_MODALITY_TEXT, j))
        continue;
      compare (f->values, core_row (MMDNN_MODALITY_TEXT, j), n, &max_abs, &rel);
      fail_unless (max_abs > 0, "cue of clip %d equals clip %d's", i, j);
      compared++;
    }
  /* with fewer than two cues there is nothing to compare: say so */
  if (compared == 0)
    GST_INFO ("fewer than two cues: nothing compared");
}
GST_END_TEST;

static Suite *
consistency_suite (void)
{
  Suite *s = suite_create ("consistency");
  TCase *tc = tcase_create ("pipeline-vs-cli");

  /* one media file, one model, one pipeline run for every test */
  tcase_add_unchecked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_pipeline_output_shapes);
  tcase_add_test (tc, test_text_equals_cli);
  tcase_add_test (tc, test_audio_equals_cli);
  tcase_add_test (tc, test_video_equals_cli_within_tolerance);
  tcase_add_test (tc, test_video_other_clip_differs_n);
  tcase_add_test (tc, test_video_neighbour_frame_differs_n);
  tcase_add_test (tc, test_audio_shifted_patch_differs_n);
  tcase_add_test (tc, test_text_other_cue_differs_n);
  return s;
}

int
main (int argc, char **argv)
{
  Suite *s;

  native_video = argc > 1 && g_strcmp0 (argv[1], "native") == 0;
  gst_check_init (&argc, &argv);
  s = consistency_suite ();
  return gst_check_run_suite (s, "consistency", __FILE__);
}
