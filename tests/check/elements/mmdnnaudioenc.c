/* mmdnn — tests of mmdnnaudioenc: caps, timing, windows, values equal to
 * the core called directly, discontinuities, invalid samples, errors.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <mmdnn/mmdnn.h>

#include "gstmmdnnutils.h"
#include "mmdnncheck.h"

#define FACTORY "mmdnnaudioenc"

#define RATE 16000
#define HOP_LEN 160            /* default model: samples per frame hop */
#define P 100                  /* default model: frames per window */
#define WIN_SPAN 16240         /* (P − 1)·160 + 400 samples */

#define CAPS_F32_MONO \
  "audio/x-raw, format=F32LE, layout=interleaved, rate=16000, channels=1"
#define CAPS_F32_STEREO \
  "audio/x-raw, format=F32LE, layout=interleaved, rate=16000, channels=2"
#define CAPS_S16_MONO \
  "audio/x-raw, format=S16LE, layout=interleaved, rate=16000, channels=1"
#define CAPS_S16_STEREO \
  "audio/x-raw, format=S16LE, layout=interleaved, rate=16000, channels=2"

/* ----------------------------------------------------------- test models */

/* A small audio-only model at 8 kHz (window 16 frames of 10 ms), written
 * once per process into a temporary folder with a model without audio. */
static const char tiny8k_json[] =
  "{\"model_id\": \"tiny-audio-8k\", \"modalities\": [\"audio\"],"
  " \"preprocessing\": {\"audio\": {\"sample_rate\": 8000, \"win_length\": 200,"
  "   \"hop_length\": 80, \"n_fft\": 256, \"n_mels\": 16, \"fmax\": 4000,"
  "   \"patch_frames\": 16}},"
  " \"encoders\": {\"audio\": {\"grid_h\": 1, \"grid_w\": 2, \"ae_width\": 2,"
  "   \"ae_latent\": 3, \"ms_width\": 2, \"ms_width2\": 4, \"ms_width3\": 5,"
  "   \"sal_width\": 3}},"
  " \"fusion\": {\"dim\": 8, \"attn_hidden\": 4},"
  " \"tasks\": [{\"name\": \"class\", \"classes\": [\"a\", \"b\"]}],"
  " \"loss\": {\"disc_hidden\": 4}}";

static gchar *tmp_dir;
static gchar *tiny8k_path, *noaudio_path, *corrupt_path, *truncated_path,
    *empty_path;

/* Written once per process (an unchecked fixture, before the tests fork),
 * with the default model loaded once (mmdnn_check_default_model_setup). */
static void
make_test_files (void)
{
  gchar *data;
  gsize len;

  mmdnn_check_default_model_setup ();
  tmp_dir = mmdnn_check_make_tmp_dir ("mmdnnaudioenc-XXXXXX");
  tiny8k_path = mmdnn_check_write_model (tmp_dir, "tiny8k.safetensors",
      tiny8k_json, 7);
  noaudio_path = mmdnn_check_write_tiny_model (tmp_dir, "noaudio.safetensors",
      "tiny-no-audio", "[\"video\", \"text\"]", 7);
  /* a header length, then no JSON */
  corrupt_path = g_build_filename (tmp_dir, "corrupt.safetensors", NULL);
  mmdnn_check_write_file (corrupt_path,
      "\x10\x00\x00\x00\x00\x00\x00\x00{not json at all", 24);
  empty_path = g_build_filename (tmp_dir, "empty.safetensors", NULL);
  mmdnn_check_write_file (empty_path, "", 0);
  /* the first half of the default model */
  fail_unless (g_file_get_contents (mmdnn_check_default_model_path (), &data,
          &len, NULL));
  truncated_path = g_build_filename (tmp_dir, "truncated.safetensors", NULL);
  mmdnn_check_write_file (truncated_path, data, len / 2);
  g_free (data);
}

static void
remove_test_files (void)
{
  gchar **paths[] = { &tiny8k_path, &noaudio_path, &corrupt_path,
    &truncated_path, &empty_path
  };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    g_clear_pointer (paths[i], g_free);
  mmdnn_check_remove_tmp_dir (tmp_dir);
  tmp_dir = NULL;
  mmdnn_check_default_model_teardown ();
}

static const MmdnnModel *
default_model (void)
{
  return mmdnn_check_default_model ();
}

/* -------------------------------------------------------------- signals */

/* A deterministic test signal in (−1, 1): two tones and a little noise. */
static float *
make_signal (gint64 n, guint32 seed, gint rate)
{
  float *x = g_new (float, MAX (n, 1));
  guint32 s = seed * 2654435761u + 1;

  for (gint64 i = 0; i < n; i++) {
    double t = (double) i / rate;

    s = s * 1664525u + 1013904223u;
    x[i] = (float) (0.5 * sin (2 * G_PI * (440.0 + seed) * t)
        + 0.25 * sin (2 * G_PI * 1234.5 * t + seed)
        + 0.1 * ((double) (s >> 8) / (double) (1 << 24) - 0.5));
  }
  return x;
}

static GstClockTime
samples_to_time (gint64 n, gint rate)
{
  return gst_util_uint64_scale_int ((guint64) n, GST_SECOND, rate);
}

/* One buffer of @frames interleaved sample frames of @bpf bytes. */
static GstBuffer *
make_buffer (const void *data, gsize bytes, GstClockTime pts,
    GstClockTime duration, gboolean discont)
{
  GstBuffer *b = gst_buffer_new_memdup (data, MAX (bytes, 1));

  if (bytes == 0)
    gst_buffer_set_size (b, 0);
  GST_BUFFER_PTS (b) = pts;
  GST_BUFFER_DURATION (b) = duration;
  if (discont)
    GST_BUFFER_FLAG_SET (b, GST_BUFFER_FLAG_DISCONT);
  return b;
}

/* Pushes @n frames of @channels floats starting at @pts as one buffer. */
static GstFlowReturn
push_f32 (GstHarness * h, const float *x, gint64 n, gint channels,
    GstClockTime pts, gboolean discont)
{
  return gst_harness_push (h, make_buffer (x, (gsize) n * channels * 4, pts,
          samples_to_time (n, RATE), discont));
}

/* Pushes @n mono F32 frames cut into buffers of the sizes in @sizes
 * (cycled), each stamped from the sample count. */
static void
push_f32_chunked (GstHarness * h, const float *x, gint64 n,
    const gint64 * sizes, guint n_sizes, GstClockTime base)
{
  gint64 off = 0;

  for (guint k = 0; off < n; k++) {
    gint64 len = MIN (sizes[k % n_sizes], n - off);

    fail_unless_equals_int (push_f32 (h, x + off, len, 1,
            base + samples_to_time (off, RATE), FALSE), GST_FLOW_OK);
    off += len;
  }
}

/* ----------------------------------------------------------- reference */

/* What the element must output for mono @x:(n) with windows every @hop
 * frames: the core's log-mel frames, laid out (1, n_mels, P) exactly as the
 * command line does (dataset.c finish_audio), through the encode stage.
 * Returns (n_windows, K·D) floats; *n_windows may be 0. */
static float *
reference (const MmdnnModel * m, const float *x, gint64 n, gint64 hop,
    gint64 * n_windows)
{
  const MmdnnModelConfig *c = m->config;
  gint64 pf = c->audio_patch_frames, nm = c->logmel.n_mels;
  gint64 kd = c->fusion.tokens[MMDNN_MODALITY_AUDIO] * c->fusion.dim;
  MmdnnEncodeStage *stage;
  float *frames = NULL, *patch, *out;
  int64_t nf = 0;
  gint64 nw;
  GError *err = NULL;

  fail_unless (mmdnn_logmel_compute (&c->logmel, x, n, &frames, &nf, &err),
      "logmel: %s", err ? err->message : "?");
  nw = nf >= pf ? (nf - pf) / hop + 1 : 0;
  out = g_new0 (float, MAX (nw * kd, 1));
  patch = g_new (float, nm * pf);
  stage = mmdnn_encode_stage_new (m, MMDNN_MODALITY_AUDIO, 1, &err);
  fail_unless (stage != NULL);
  for (gint64 w = 0; w < nw; w++) {
    for (gint64 f = 0; f < pf; f++)
      for (gint64 k = 0; k < nm; k++)
        patch[k * pf + f] = frames[(w * hop + f) * nm + k];
    fail_unless (mmdnn_encode_stage_run (stage, m, patch, 1, out + w * kd,
            &err), "encode: %s", err ? err->message : "?");
  }
  mmdnn_encode_stage_free (stage);
  g_free (patch);
  g_free (frames);
  *n_windows = nw;
  return out;
}

/* Pulls every queued output buffer. */
static GPtrArray *
pull_all (GstHarness * h)
{
  GPtrArray *a = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  GstBuffer *b;

  while ((b = gst_harness_try_pull (h)) != NULL)
    g_ptr_array_add (a, b);
  return a;
}

/* Asserts @outs (from windows every @hop frames from @base) bit-equal
 * @ref and carry the exact PTS and duration. @first: index of the first
 * output in the reference. */
static void
check_outputs (GPtrArray * outs, const float *ref, gint64 n_ref,
    gint64 kd, gint64 hop, GstClockTime base)
{
  fail_unless_equals_int (outs->len, n_ref);
  for (guint i = 0; i < outs->len; i++) {
    GstBuffer *b = g_ptr_array_index (outs, i);
    GstMapInfo map;

    fail_unless (gst_buffer_map (b, &map, GST_MAP_READ));
    fail_unless_equals_int (map.size, kd * sizeof (float));
    fail_unless (memcmp (map.data, ref + i * kd, map.size) == 0,
        "window %u differs from the core", i);
    gst_buffer_unmap (b, &map);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (b), base +
        samples_to_time ((gint64) i * hop * HOP_LEN, RATE));
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (b), GST_SECOND);
  }
}

static GstHarness *
harness_new (const gchar * launch, const gchar * caps)
{
  /* a bare name gives the element itself, a launch line a bin */
  GstHarness *h = strchr (launch, ' ') == NULL ? gst_harness_new (launch)
      : gst_harness_new_parse (launch);

  if (caps != NULL)
    gst_harness_set_src_caps_str (h, caps);
  return h;
}

/* ================================================================= caps */

GST_START_TEST (test_caps_accepted)
{
  static const char *const ok[] = { CAPS_F32_MONO, CAPS_F32_STEREO,
    CAPS_S16_MONO, CAPS_S16_STEREO,
    "audio/x-raw, format=F32LE, layout=interleaved, rate=16000, channels=8",
    "audio/x-raw, format=S16LE, layout=interleaved, rate=16000, channels=6, "
        "channel-mask=(bitmask)0x3f",
  };
  GstHarness *h = harness_new ("mmdnnaudioenc", NULL);
  GstElement *idle = gst_object_ref_sink (gst_element_factory_make
      ("mmdnnaudioenc", NULL));

  for (guint i = 0; i < G_N_ELEMENTS (ok); i++)
    fail_unless (mmdnn_check_accepts (h->element, ok[i]), "refused %s",
        ok[i]);
  /* before the model is loaded any rate may be offered */
  fail_unless (mmdnn_check_accepts (idle, "audio/x-raw, format=F32LE, "
          "layout=interleaved, rate=44100, channels=1"));
  gst_object_unref (idle);

  /* and each one really streams: 2 windows from 1.2 s */
  for (guint i = 0; i < 4; i++) {
    gint channels = (i % 2) + 1;
    gboolean s16 = i >= 2;
    gint64 n = RATE + RATE / 5;
    gsize bytes = (gsize) n * channels * (s16 ? 2 : 4);
    guint8 *data = g_malloc0 (bytes);
    GstHarness *h2 = harness_new ("mmdnnaudioenc", ok[i]);

    fail_unless_equals_int (gst_harness_push (h2, make_buffer (data, bytes, 0,
                samples_to_time (n, RATE), FALSE)), GST_FLOW_OK);
    fail_unless_equals_int (gst_harness_buffers_received (h2), 1);
    g_free (data);
    gst_harness_teardown (h2);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_caps_query_fixes_rate)
{
  GstHarness *h = harness_new ("mmdnnaudioenc", NULL);
  GstPad *pad = gst_element_get_static_pad (h->element, "sink");
  GstCaps *caps = gst_pad_query_caps (pad, NULL);
  const GstStructure *s;
  gint rate = 0;

  fail_unless_equals_int (gst_caps_get_size (caps), 1);
  s = gst_caps_get_structure (caps, 0);
  fail_unless (gst_structure_get_int (s, "rate", &rate));
  fail_unless_equals_int (rate, RATE);
  gst_caps_unref (caps);
  gst_object_unref (pad);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_caps_wrong_rate_n)
{
  GstHarness *h = harness_new ("mmdnnaudioenc", NULL);
  GstPad *pad = gst_element_get_static_pad (h->element, "sink");
  GstCaps *caps = gst_pad_query_caps (pad, NULL);
  GstCaps *want = gst_caps_from_string ("audio/x-raw, rate=44100");
  float zeros[64] = { 0 };

  fail_if (mmdnn_check_accepts (h->element, "audio/x-raw, format=F32LE, "
          "layout=interleaved, rate=44100, channels=1"));
  fail_if (mmdnn_check_accepts (h->element, "audio/x-raw, format=F32LE, "
          "layout=interleaved, rate=8000, channels=1"));
  fail_if (gst_caps_can_intersect (caps, want));
  gst_caps_unref (want);
  gst_caps_unref (caps);
  gst_object_unref (pad);

  /* forced anyway: the caps event is refused, buffers are not negotiated */
  gst_harness_set_src_caps_str (h, "audio/x-raw, format=F32LE, "
      "layout=interleaved, rate=44100, channels=1");
  fail_unless_equals_int (push_f32 (h, zeros, 64, 1, 0, FALSE),
      GST_FLOW_NOT_NEGOTIATED);
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_caps_wrong_format_n)
{
  static const char *const bad[] = {
    "audio/x-raw, format=U8, layout=interleaved, rate=16000, channels=1",
    "audio/x-raw, format=S32LE, layout=interleaved, rate=16000, channels=1",
    "audio/x-raw, format=F32BE, layout=interleaved, rate=16000, channels=1",
    "audio/x-raw, format=F64LE, layout=interleaved, rate=16000, channels=1",
    "audio/x-raw, format=S16BE, layout=interleaved, rate=16000, channels=1",
  };
  GstHarness *h = harness_new ("mmdnnaudioenc", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    fail_if (mmdnn_check_accepts (h->element, bad[i]), "accepted %s",
        bad[i]);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_caps_non_interleaved_n)
{
  GstHarness *h = harness_new ("mmdnnaudioenc", NULL);
  float zeros[64] = { 0 };

  fail_if (mmdnn_check_accepts (h->element, "audio/x-raw, format=F32LE, "
          "layout=non-interleaved, rate=16000, channels=2"));
  gst_harness_set_src_caps_str (h, "audio/x-raw, format=F32LE, "
      "layout=non-interleaved, rate=16000, channels=2");
  fail_unless_equals_int (push_f32 (h, zeros, 32, 2, 0, FALSE),
      GST_FLOW_NOT_NEGOTIATED);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_caps_channels_n)
{
  GstHarness *h = harness_new ("mmdnnaudioenc", NULL);

  fail_if (mmdnn_check_accepts (h->element, "audio/x-raw, format=F32LE, "
          "layout=interleaved, rate=16000, channels=9"));
  fail_if (mmdnn_check_accepts (h->element, "audio/x-raw, format=F32LE, "
          "layout=interleaved, rate=16000, channels=0"));
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_caps_video_n)
{
  GstHarness *h = harness_new ("mmdnnaudioenc", NULL);

  fail_if (mmdnn_check_accepts (h->element, "video/x-raw, format=RGB, "
          "width=64, height=64, framerate=30/1"));
  fail_if (mmdnn_check_accepts (h->element, GST_MMDNN_FEATURES_MEDIA_TYPE
          ", modality=audio, tokens=10, dim=128"));
  fail_if (mmdnn_check_accepts (h->element, "text/x-raw, format=utf8"));
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_no_caps_n)
{
  GstHarness *h = harness_new ("mmdnnaudioenc", NULL);
  float zeros[64] = { 0 };
  GstSegment seg;

  /* data before any caps event */
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  fail_unless_equals_int (push_f32 (h, zeros, 64, 1, 0, FALSE),
      GST_FLOW_NOT_NEGOTIATED);
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_output_caps)
{
  GstHarness *h = harness_new ("mmdnnaudioenc", CAPS_F32_MONO);
  const MmdnnModelConfig *c = default_model ()->config;
  float *x = make_signal (WIN_SPAN, 1, RATE);
  GstCaps *caps;
  const gchar *model_id = NULL;
  int modality = -1;
  gint tokens = 0, dim = 0;

  fail_unless_equals_int (push_f32 (h, x, WIN_SPAN, 1, 0, FALSE),
      GST_FLOW_OK);
  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (caps != NULL);
  fail_unless (gst_caps_is_fixed (caps));
  fail_unless (gst_mmdnn_features_caps_parse (caps, &modality, &tokens, &dim,
          &model_id));
  fail_unless_equals_int (modality, MMDNN_MODALITY_AUDIO);
  fail_unless_equals_int (tokens, c->fusion.tokens[MMDNN_MODALITY_AUDIO]);
  fail_unless_equals_int (tokens, 10);
  fail_unless_equals_int (dim, c->fusion.dim);
  fail_unless_equals_int (dim, 128);
  fail_unless_equals_string (model_id, c->model_id);
  fail_unless_equals_string (model_id, "mmdnn-default");
  gst_caps_unref (caps);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_downstream_refuses_n)
{
  GstHarness *h = harness_new ("mmdnnaudioenc", NULL);
  float zeros[64] = { 0 };

  /* downstream wants features of another shape */
  gst_harness_set_sink_caps_str (h, GST_MMDNN_FEATURES_MEDIA_TYPE
      ", modality=audio, tokens=16, dim=128");
  gst_harness_set_src_caps_str (h, CAPS_F32_MONO);
  fail_unless_equals_int (push_f32 (h, zeros, 64, 1, 0, FALSE),
      GST_FLOW_NOT_NEGOTIATED);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* =============================================================== timing */

GST_START_TEST (test_timestamps_no_hop)
{
  /* 3.5 s from PTS 2 s: frames (56000 − 400)/160 + 1 = 348 → 3 windows */
  const gint64 n = 3 * RATE + RATE / 2;
  const GstClockTime base = 2 * GST_SECOND;
  GstHarness *h = harness_new ("mmdnnaudioenc", CAPS_F32_MONO);
  float *x = make_signal (n, 2, RATE);
  GPtrArray *outs;

  fail_unless_equals_int (push_f32 (h, x, n, 1, base, FALSE), GST_FLOW_OK);
  outs = pull_all (h);
  fail_unless_equals_int (outs->len, 3);
  for (guint i = 0; i < outs->len; i++) {
    GstBuffer *b = g_ptr_array_index (outs, i);

    fail_unless_equals_uint64 (GST_BUFFER_PTS (b), base + i * GST_SECOND);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (b), GST_SECOND);
    fail_unless_equals_int (gst_buffer_get_size (b), 10 * 128 * 4);
    fail_unless_equals_int (GST_BUFFER_FLAG_IS_SET (b,
            GST_BUFFER_FLAG_DISCONT), i == 0);
  }
  g_ptr_array_unref (outs);

  /* a window is emitted exactly when its last sample arrives: 2 s + 239
   * samples more (window 4 ends at sample 3·16000 + 16240 = 64240) */
  fail_unless_equals_int (push_f32 (h, x, 64240 - n - 1, 1,
          base + samples_to_time (n, RATE), FALSE), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  fail_unless_equals_int (push_f32 (h, x, 1, 1,
          base + samples_to_time (64240 - 1, RATE), FALSE), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 1);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_timestamps_hop)
{
  /* hop 250 ms = 25 frames; 2 s: frames 198 → windows at 0..3 (f0 ≤ 98) */
  const gint64 n = 2 * RATE;
  GstHarness *h = harness_new ("mmdnnaudioenc hop=250000000", CAPS_F32_MONO);
  float *x = make_signal (n, 3, RATE);
  gint64 nw;
  float *ref = reference (default_model (), x, n, 25, &nw);
  GPtrArray *outs;

  fail_unless_equals_int (nw, 4);
  fail_unless_equals_int (push_f32 (h, x, n, 1, 0, FALSE), GST_FLOW_OK);
  outs = pull_all (h);
  check_outputs (outs, ref, nw, 1280, 25, 0);
  /* overlapping windows: each lasts 1 s, starts 250 ms after the last */
  fail_unless_equals_uint64 (GST_BUFFER_PTS ((GstBuffer *)
          g_ptr_array_index (outs, 3)), 750 * GST_MSECOND);
  g_ptr_array_unref (outs);
  g_free (ref);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The two window starts for a hop property value, from just enough
 * samples for two windows if the hop is @frames frames. */
static void
check_hop_rounding (guint64 hop, gint64 frames)
{
  gchar *launch = g_strdup_printf ("mmdnnaudioenc hop=%" G_GUINT64_FORMAT,
      hop);
  GstHarness *h = harness_new (launch, CAPS_F32_MONO);
  const gint64 n = (P + frames - 1) * HOP_LEN + 400;
  const GstClockTime expect_second = frames * 10 * GST_MSECOND;
  float *x = make_signal (n, 4, RATE);
  GPtrArray *outs;

  fail_unless_equals_int (push_f32 (h, x, n - 1, 1, 0, FALSE), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 1);
  fail_unless_equals_int (push_f32 (h, x + n - 1, 1, 1,
          samples_to_time (n - 1, RATE), FALSE), GST_FLOW_OK);
  outs = pull_all (h);
  fail_unless_equals_int (outs->len, 2);
  fail_unless_equals_uint64 (GST_BUFFER_PTS ((GstBuffer *)
          g_ptr_array_index (outs, 0)), 0);
  fail_unless_equals_uint64 (GST_BUFFER_PTS ((GstBuffer *)
          g_ptr_array_index (outs, 1)), expect_second);
  g_ptr_array_unref (outs);
  g_free (x);
  g_free (launch);
  gst_harness_teardown (h);
}

GST_START_TEST (test_hop_rounding)
{
  /* whole frames of 10 ms, nearest, ties up, at least one */
  check_hop_rounding (GST_SECOND, 100);
  check_hop_rounding (504 * GST_MSECOND, 50);
  check_hop_rounding (505 * GST_MSECOND, 51);
  check_hop_rounding (14999999, 1);
  check_hop_rounding (15 * GST_MSECOND, 2);
  check_hop_rounding (1, 1);
}

GST_END_TEST;

GST_START_TEST (test_hop_longer_than_window)
{
  /* hop 1.5 s = 150 frames: frames between windows are skipped;
   * 4.2 s: frames 418 → windows at frames 0, 150 and 300 */
  const gint64 n = 4 * RATE + RATE / 5;
  GstHarness *h = harness_new ("mmdnnaudioenc hop=1500000000", CAPS_F32_MONO);
  float *x = make_signal (n, 5, RATE);
  gint64 nw;
  float *ref = reference (default_model (), x, n, 150, &nw);
  static const gint64 sizes[] = { 999, 1, 4097 };
  GPtrArray *outs;

  fail_unless_equals_int (nw, 3);
  push_f32_chunked (h, x, n, sizes, G_N_ELEMENTS (sizes), 0);
  outs = pull_all (h);
  check_outputs (outs, ref, nw, 1280, 150, 0);
  g_ptr_array_unref (outs);
  g_free (ref);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* phase 0.5 s, hop 2 s: the patches centred in 2-second windows, frames
 * 50 and 250, equal to those of a run every 0.5 s; nothing else encoded */
GST_START_TEST (test_phase_window_centres)
{
  const gint64 n = 4 * RATE + 3 * RATE / 5;
  GstHarness *h = harness_new ("mmdnnaudioenc hop=2000000000 "
      "phase=500000000", CAPS_F32_MONO);
  float *x = make_signal (n, 21, RATE);
  gint64 nw;
  float *ref = reference (default_model (), x, n, 50, &nw);
  static const gint64 sizes[] = { 1601, 7, 3200 };
  GPtrArray *outs;

  push_f32_chunked (h, x, n, sizes, G_N_ELEMENTS (sizes), 0);
  outs = pull_all (h);
  fail_unless_equals_int (outs->len, 2);
  for (guint i = 0; i < 2; i++) {
    GstBuffer *b = g_ptr_array_index (outs, i);

    fail_unless_equals_uint64 (GST_BUFFER_PTS (b),
        500 * GST_MSECOND + i * 2 * GST_SECOND);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (b), GST_SECOND);
    fail_unless (gst_buffer_memcmp (b, 0, ref + (1 + 4 * i) * 1280,
            1280 * sizeof (float)) == 0, "window %u differs from the core",
        i);
  }
  fail_unless (nw >= 6);
  g_ptr_array_unref (outs);
  g_free (ref);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_latency)
{
  GstHarness *h = harness_new ("mmdnnaudioenc", CAPS_F32_MONO);

  /* the window's span: 16240 samples at 16 kHz */
  fail_unless_equals_uint64 (gst_harness_query_latency (h),
      samples_to_time (WIN_SPAN, RATE));
  gst_harness_teardown (h);
}

GST_END_TEST;

/* =============================================================== values */

GST_START_TEST (test_values_equal_core)
{
  const gint64 n = 3 * RATE + 777;
  GstHarness *h = harness_new ("mmdnnaudioenc", CAPS_F32_MONO);
  float *x = make_signal (n, 6, RATE);
  gint64 nw;
  float *ref = reference (default_model (), x, n, P, &nw);
  GPtrArray *outs;

  /* frames (48777 − 400)/160 + 1 = 303 → 3 windows */
  fail_unless_equals_int (nw, 3);
  fail_unless_equals_int (push_f32 (h, x, n, 1, 0, FALSE), GST_FLOW_OK);
  outs = pull_all (h);
  check_outputs (outs, ref, nw, 1280, P, 0);
  /* and the features are not trivial */
  {
    GstMapInfo map;
    const float *f;
    gboolean nonzero = FALSE;

    gst_buffer_map (g_ptr_array_index (outs, 0), &map, GST_MAP_READ);
    f = (const float *) map.data;
    for (gsize i = 0; i < map.size / 4; i++) {
      fail_unless (isfinite (f[i]));
      nonzero |= f[i] != 0.0f;
    }
    gst_buffer_unmap (g_ptr_array_index (outs, 0), &map);
    fail_unless (nonzero);
  }
  g_ptr_array_unref (outs);
  g_free (ref);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_values_s16)
{
  /* S16 s → s/32768 exactly, so equal to the core on the converted floats */
  const gint64 n = 2 * RATE;
  GstHarness *h = harness_new ("mmdnnaudioenc", CAPS_S16_MONO);
  float *x = make_signal (n, 7, RATE);
  gint16 *s = g_new (gint16, n);
  gint64 nw;
  float *ref;
  GPtrArray *outs;

  for (gint64 i = 0; i < n; i++) {
    s[i] = (gint16) lrintf (x[i] * 32767.0f);
    x[i] = (float) s[i] / 32768.0f;
  }
  ref = reference (default_model (), x, n, P, &nw);
  fail_unless_equals_int (nw, 1);
  /* odd byte boundaries: a sample split across buffers, later ones
   * without timestamps */
  fail_unless_equals_int (gst_harness_push (h, make_buffer (s, 1001, 0,
              GST_CLOCK_TIME_NONE, FALSE)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (h, make_buffer ((guint8 *) s
              + 1001, (gsize) n * 2 - 1001, GST_CLOCK_TIME_NONE,
              GST_CLOCK_TIME_NONE, FALSE)), GST_FLOW_OK);
  outs = pull_all (h);
  check_outputs (outs, ref, nw, 1280, P, 0);
  g_ptr_array_unref (outs);
  g_free (ref);
  g_free (s);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Outputs of @x pushed with the chunk @sizes (NULL: one buffer). */
static GPtrArray *
run_chunked (const gchar * launch, const float *x, gint64 n,
    const gint64 * sizes, guint n_sizes)
{
  GstHarness *h = harness_new (launch, CAPS_F32_MONO);
  GPtrArray *outs;

  if (sizes == NULL) {
    fail_unless_equals_int (push_f32 (h, x, n, 1, 0, FALSE), GST_FLOW_OK);
  } else {
    push_f32_chunked (h, x, n, sizes, n_sizes, 0);
  }
  gst_harness_push_event (h, gst_event_new_eos ());
  outs = pull_all (h);
  gst_harness_teardown (h);
  return outs;
}

static void
assert_same_outputs (GPtrArray * a, GPtrArray * b)
{
  fail_unless_equals_int (a->len, b->len);
  for (guint i = 0; i < a->len; i++) {
    GstBuffer *x = g_ptr_array_index (a, i), *y = g_ptr_array_index (b, i);

    fail_unless_equals_uint64 (GST_BUFFER_PTS (x), GST_BUFFER_PTS (y));
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (x),
        GST_BUFFER_DURATION (y));
    {
      GstMapInfo map;

      gst_buffer_map (y, &map, GST_MAP_READ);
      fail_unless_equals_int (gst_buffer_get_size (x), map.size);
      fail_unless (gst_buffer_memcmp (x, 0, map.data, map.size) == 0,
          "output %u differs", i);
      gst_buffer_unmap (y, &map);
    }
  }
}

GST_START_TEST (test_chunking_bit_exact)
{
  /* 2.6 s with hop 300 ms: one big buffer, odd sizes, single samples at
   * the window edges, and a huge buffer of 40 s */
  const gint64 n = 2 * RATE + 3 * RATE / 5;
  static const gint64 odd[] = { 1, 3, 1, 160, 399, 401, 7, 1023, 4099, 17 };
  static const gint64 ones[] = { 1 };
  float *x = make_signal (n, 8, RATE);
  GPtrArray *whole = run_chunked ("mmdnnaudioenc hop=300000000", x, n, NULL,
      0);
  GPtrArray *pieces = run_chunked ("mmdnnaudioenc hop=300000000", x, n, odd,
      G_N_ELEMENTS (odd));
  GPtrArray *single;
  gint64 nw;
  float *ref = reference (default_model (), x, n, 30, &nw);

  check_outputs (whole, ref, nw, 1280, 30, 0);
  assert_same_outputs (whole, pieces);
  /* one sample per buffer around the first window's end (8000 pushes),
   * then the rest */
  {
    GstHarness *h = harness_new ("mmdnnaudioenc hop=300000000",
        CAPS_F32_MONO);
    const gint64 a = 12000, b = 20000;

    fail_unless_equals_int (push_f32 (h, x, a, 1, 0, FALSE), GST_FLOW_OK);
    push_f32_chunked (h, x + a, b - a, ones, 1, samples_to_time (a, RATE));
    fail_unless_equals_int (push_f32 (h, x + b, n - b, 1,
            samples_to_time (b, RATE), FALSE), GST_FLOW_OK);
    single = pull_all (h);
    gst_harness_teardown (h);
  }
  assert_same_outputs (whole, single);
  g_ptr_array_unref (single);
  g_ptr_array_unref (pieces);
  g_ptr_array_unref (whole);
  g_free (ref);
  g_free (x);
}

GST_END_TEST;

GST_START_TEST (test_huge_buffer)
{
  /* 20 s in one buffer with hop 2 s: 10 windows, no trouble */
  const gint64 n = 20 * RATE;
  GstHarness *h = harness_new ("mmdnnaudioenc hop=2000000000", CAPS_F32_MONO);
  float *x = make_signal (n, 9, RATE);
  gint64 nw;
  float *ref = reference (default_model (), x, n, 200, &nw);
  GPtrArray *outs;

  fail_unless_equals_int (nw, 10);
  fail_unless_equals_int (push_f32 (h, x, n, 1, 0, FALSE), GST_FLOW_OK);
  outs = pull_all (h);
  check_outputs (outs, ref, nw, 1280, 200, 0);
  g_ptr_array_unref (outs);
  g_free (ref);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_stereo_is_mono_mix)
{
  const gint64 n = RATE + RATE / 5;
  float *l = make_signal (n, 10, RATE), *r = make_signal (n, 11, RATE);
  float *same = g_new (float, 2 * n), *lr = g_new (float, 2 * n);
  float *mix = g_new (float, n);
  gint16 *s16 = g_new (gint16, 2 * n);
  float *s16mix = g_new (float, n);
  GstHarness *h;
  GPtrArray *outs, *mono;
  gint64 nw;
  float *ref;

  for (gint64 i = 0; i < n; i++) {
    same[2 * i] = same[2 * i + 1] = l[i];
    lr[2 * i] = l[i];
    lr[2 * i + 1] = r[i];
    /* libswresample's 2 → 1 with the 1/C matrix, in float */
    mix[i] = 0.5f * l[i] + 0.5f * r[i];
    s16[2 * i] = (gint16) lrintf (l[i] * 30000.0f);
    s16[2 * i + 1] = (gint16) lrintf (r[i] * 30000.0f);
    s16mix[i] = ((float) s16[2 * i] / 32768.0f) * 0.5f
        + ((float) s16[2 * i + 1] / 32768.0f) * 0.5f;
  }

  /* identical channels = the mono signal, bit for bit */
  mono = run_chunked ("mmdnnaudioenc", l, n, NULL, 0);
  h = harness_new ("mmdnnaudioenc", CAPS_F32_STEREO);
  fail_unless_equals_int (push_f32 (h, same, n, 2, 0, FALSE), GST_FLOW_OK);
  outs = pull_all (h);
  fail_unless_equals_int (outs->len, 1);
  assert_same_outputs (mono, outs);
  g_ptr_array_unref (outs);
  gst_harness_teardown (h);

  /* different channels = the core on their average */
  ref = reference (default_model (), mix, n, P, &nw);
  h = harness_new ("mmdnnaudioenc", CAPS_F32_STEREO);
  fail_unless_equals_int (push_f32 (h, lr, n, 2, 0, FALSE), GST_FLOW_OK);
  outs = pull_all (h);
  check_outputs (outs, ref, nw, 1280, P, 0);
  g_ptr_array_unref (outs);
  gst_harness_teardown (h);
  g_free (ref);

  /* S16 stereo: converted, then averaged */
  ref = reference (default_model (), s16mix, n, P, &nw);
  h = harness_new ("mmdnnaudioenc", CAPS_S16_STEREO);
  fail_unless_equals_int (gst_harness_push (h, make_buffer (s16,
              (gsize) n * 4, 0, GST_CLOCK_TIME_NONE, FALSE)), GST_FLOW_OK);
  outs = pull_all (h);
  check_outputs (outs, ref, nw, 1280, P, 0);
  g_ptr_array_unref (outs);
  gst_harness_teardown (h);

  g_ptr_array_unref (mono);
  g_free (ref);
  g_free (s16mix);
  g_free (s16);
  g_free (mix);
  g_free (lr);
  g_free (same);
  g_free (r);
  g_free (l);
}

GST_END_TEST;

/* ================================================= discontinuities, EOS */

GST_START_TEST (test_discont_restarts_timing_n)
{
  /* 1.5 s at 0 (one window), then a DISCONT buffer of 2.2 s at 10 s whose
   * timestamp is contiguous-looking: the partial window is dropped and
   * framing restarts at its first sample */
  const gint64 n1 = RATE + RATE / 2, n2 = 2 * RATE + RATE / 5;
  GstHarness *h = harness_new ("mmdnnaudioenc", CAPS_F32_MONO);
  float *a = make_signal (n1, 12, RATE), *b = make_signal (n2, 13, RATE);
  gint64 nw;
  float *ref = reference (default_model (), b, n2, P, &nw);
  GPtrArray *outs;

  fail_unless_equals_int (push_f32 (h, a, n1, 1, 0, FALSE), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 1);
  gst_buffer_unref (gst_harness_pull (h));
  /* flagged DISCONT with the timestamp the count expects: still a restart */
  fail_unless_equals_int (push_f32 (h, b, n2, 1,
          samples_to_time (n1, RATE), TRUE), GST_FLOW_OK);
  outs = pull_all (h);
  check_outputs (outs, ref, nw, 1280, P, samples_to_time (n1, RATE));
  fail_unless (GST_BUFFER_FLAG_IS_SET (g_ptr_array_index (outs, 0),
          GST_BUFFER_FLAG_DISCONT));
  fail_if (GST_BUFFER_FLAG_IS_SET (g_ptr_array_index (outs, 1),
          GST_BUFFER_FLAG_DISCONT));
  g_ptr_array_unref (outs);

  /* and at 10 s */
  fail_unless_equals_int (push_f32 (h, b, n2, 1, 10 * GST_SECOND, TRUE),
      GST_FLOW_OK);
  outs = pull_all (h);
  check_outputs (outs, ref, nw, 1280, P, 10 * GST_SECOND);
  g_ptr_array_unref (outs);
  g_free (ref);
  g_free (b);
  g_free (a);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The phase counts from the first sample after every restart, and a
 * stream too short to reach past it gives nothing. */
GST_START_TEST (test_phase_restarts_n)
{
  const gint64 n1 = RATE + RATE / 2, n2 = 2 * RATE;
  GstHarness *h = harness_new ("mmdnnaudioenc phase=500000000",
      CAPS_F32_MONO);
  float *a = make_signal (n1, 22, RATE), *b = make_signal (n2, 23, RATE);
  gint64 nw;
  float *ref = reference (default_model (), b, n2, 50, &nw);
  GPtrArray *outs;

  /* 1.5 s: the window from 0.5 s needs 1.515 s */
  fail_unless_equals_int (push_f32 (h, a, n1, 1, 0, FALSE), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  /* 2 s after a discontinuity at 10 s: one window, from 10.5 s */
  fail_unless_equals_int (push_f32 (h, b, n2, 1, 10 * GST_SECOND, TRUE),
      GST_FLOW_OK);
  outs = pull_all (h);
  fail_unless_equals_int (outs->len, 1);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (g_ptr_array_index (outs, 0)),
      10 * GST_SECOND + 500 * GST_MSECOND);
  fail_unless (GST_BUFFER_FLAG_IS_SET (g_ptr_array_index (outs, 0),
          GST_BUFFER_FLAG_DISCONT));
  fail_unless (gst_buffer_memcmp (g_ptr_array_index (outs, 0), 0,
          ref + 1280, 1280 * sizeof (float)) == 0);
  g_ptr_array_unref (outs);
  g_free (ref);
  g_free (b);
  g_free (a);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_timestamp_jump_n)
{
  /* no DISCONT flag, but the timestamp jumps by 3 s (or back by 1 s) */
  const gint64 n1 = RATE / 2, n2 = RATE + RATE / 5;
  GstHarness *h = harness_new ("mmdnnaudioenc", CAPS_F32_MONO);
  float *a = make_signal (n1, 14, RATE), *b = make_signal (n2, 15, RATE);
  gint64 nw;
  float *ref = reference (default_model (), b, n2, P, &nw);
  GPtrArray *outs;

  fail_unless_equals_int (nw, 1);
  fail_unless_equals_int (push_f32 (h, a, n1, 1, GST_SECOND, FALSE),
      GST_FLOW_OK);
  fail_unless_equals_int (push_f32 (h, b, n2, 1, 4 * GST_SECOND + GST_SECOND
          / 2, FALSE), GST_FLOW_OK);
  outs = pull_all (h);
  check_outputs (outs, ref, nw, 1280, P, 4 * GST_SECOND + GST_SECOND / 2);
  fail_unless (GST_BUFFER_FLAG_IS_SET (g_ptr_array_index (outs, 0),
          GST_BUFFER_FLAG_DISCONT));
  g_ptr_array_unref (outs);

  /* backwards */
  fail_unless_equals_int (push_f32 (h, a, n1, 1, 20 * GST_SECOND, FALSE),
      GST_FLOW_OK);
  fail_unless_equals_int (push_f32 (h, b, n2, 1, 19 * GST_SECOND, FALSE),
      GST_FLOW_OK);
  outs = pull_all (h);
  check_outputs (outs, ref, nw, 1280, P, 19 * GST_SECOND);
  g_ptr_array_unref (outs);
  g_free (ref);
  g_free (b);
  g_free (a);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_jitter_tolerated_n)
{
  /* timestamps off by up to 4 ms (< half a frame hop, 5 ms) are jitter:
   * the output follows the sample count, as for perfect timestamps */
  const gint64 n = 2 * RATE + RATE / 5;
  static const GstClockTimeDiff jitter[] = { 0, 4000000, -4000000, 3000000 };
  GstHarness *h = harness_new ("mmdnnaudioenc hop=500000000", CAPS_F32_MONO);
  float *x = make_signal (n, 16, RATE);
  gint64 nw, off = 0;
  float *ref = reference (default_model (), x, n, 50, &nw);
  GPtrArray *outs;

  for (guint k = 0; off < n; k++) {
    gint64 len = MIN (3001, n - off);
    GstClockTime t = GST_SECOND + samples_to_time (off, RATE)
        + jitter[k % G_N_ELEMENTS (jitter)];

    fail_unless_equals_int (push_f32 (h, x + off, len, 1, t, FALSE),
        GST_FLOW_OK);
    off += len;
  }
  outs = pull_all (h);
  check_outputs (outs, ref, nw, 1280, 50, GST_SECOND);
  g_ptr_array_unref (outs);
  g_free (ref);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_gap_n)
{
  /* 0.8 s (no window yet), a GAP of 1 s, then 1.1 s at 1.8 s: one window
   * of the new samples only, at 1.8 s; the GAP goes downstream */
  const gint64 n1 = 4 * RATE / 5, n2 = RATE + RATE / 10;
  GstHarness *h = harness_new ("mmdnnaudioenc", CAPS_F32_MONO);
  float *a = make_signal (n1, 17, RATE), *b = make_signal (n2, 18, RATE);
  gint64 nw;
  float *ref = reference (default_model (), b, n2, P, &nw);
  GPtrArray *outs;
  GstEvent *ev;
  gboolean saw_gap = FALSE;

  fail_unless_equals_int (nw, 1);
  fail_unless_equals_int (push_f32 (h, a, n1, 1, 0, FALSE), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_gap (4 * GST_SECOND
              / 5, GST_SECOND)));
  /* the samples continue the count exactly: only the GAP separates them */
  fail_unless_equals_int (push_f32 (h, b, n2, 1, 9 * GST_SECOND / 5, FALSE),
      GST_FLOW_OK);
  outs = pull_all (h);
  check_outputs (outs, ref, nw, 1280, P, 9 * GST_SECOND / 5);
  g_ptr_array_unref (outs);
  while ((ev = gst_harness_try_pull_event (h)) != NULL) {
    saw_gap |= GST_EVENT_TYPE (ev) == GST_EVENT_GAP;
    gst_event_unref (ev);
  }
  fail_unless (saw_gap);
  g_free (ref);
  g_free (b);
  g_free (a);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_flush_resets_n)
{
  /* 0.8 s, flush, then 1.1 s from 5 s: the first 0.8 s never count */
  const gint64 n1 = 4 * RATE / 5, n2 = RATE + RATE / 10;
  GstHarness *h = harness_new ("mmdnnaudioenc", CAPS_F32_MONO);
  float *a = make_signal (n1, 19, RATE), *b = make_signal (n2, 20, RATE);
  gint64 nw;
  float *ref = reference (default_model (), b, n2, P, &nw);
  GstSegment seg;
  GPtrArray *outs;

  fail_unless_equals_int (push_f32 (h, a, n1, 1, 0, FALSE), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  seg.start = 5 * GST_SECOND;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  fail_unless_equals_int (push_f32 (h, b, n2, 1, 5 * GST_SECOND, FALSE),
      GST_FLOW_OK);
  outs = pull_all (h);
  check_outputs (outs, ref, nw, 1280, P, 5 * GST_SECOND);
  fail_unless (GST_BUFFER_FLAG_IS_SET (g_ptr_array_index (outs, 0),
          GST_BUFFER_FLAG_DISCONT));
  g_ptr_array_unref (outs);
  g_free (ref);
  g_free (b);
  g_free (a);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_no_pts_uses_segment_n)
{
  /* no timestamps at all: timing from the segment start and the count */
  const gint64 n = 2 * RATE + RATE / 5;
  GstHarness *h = gst_harness_new_parse ("mmdnnaudioenc hop=500000000");
  float *x = make_signal (n, 21, RATE);
  gint64 nw;
  float *ref = reference (default_model (), x, n, 50, &nw);
  GstSegment seg;
  GPtrArray *outs;

  gst_harness_set_src_caps_str (h, CAPS_F32_MONO);
  gst_segment_init (&seg, GST_FORMAT_TIME);
  seg.start = 3 * GST_SECOND;
  seg.time = 3 * GST_SECOND;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  fail_unless_equals_int (push_f32 (h, x, 1000, 1, GST_CLOCK_TIME_NONE,
          FALSE), GST_FLOW_OK);
  fail_unless_equals_int (push_f32 (h, x + 1000, n - 1000, 1,
          GST_CLOCK_TIME_NONE, FALSE), GST_FLOW_OK);
  outs = pull_all (h);
  check_outputs (outs, ref, nw, 1280, 50, 3 * GST_SECOND);
  g_ptr_array_unref (outs);
  g_free (ref);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_renegotiation_resets_n)
{
  /* mono → stereo mid-window: the partial mono window is dropped */
  const gint64 n1 = RATE / 2, n2 = RATE + RATE / 5;
  GstHarness *h = harness_new ("mmdnnaudioenc", CAPS_F32_MONO);
  float *a = make_signal (n1, 22, RATE), *b = make_signal (n2, 23, RATE);
  float *b2 = g_new (float, 2 * n2);
  gint64 nw;
  float *ref = reference (default_model (), b, n2, P, &nw);
  GPtrArray *outs;

  for (gint64 i = 0; i < n2; i++)
    b2[2 * i] = b2[2 * i + 1] = b[i];
  fail_unless_equals_int (push_f32 (h, a, n1, 1, 0, FALSE), GST_FLOW_OK);
  gst_harness_set_src_caps_str (h, CAPS_F32_STEREO);
  fail_unless_equals_int (push_f32 (h, b2, n2, 2, samples_to_time (n1,
              RATE), FALSE), GST_FLOW_OK);
  outs = pull_all (h);
  check_outputs (outs, ref, nw, 1280, P, samples_to_time (n1, RATE));
  g_ptr_array_unref (outs);
  g_free (ref);
  g_free (b2);
  g_free (b);
  g_free (a);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_eos_drops_partial_n)
{
  /* 2.5 s: two windows; the last 0.5 s is dropped at EOS, EOS goes on */
  const gint64 n = 2 * RATE + RATE / 2;
  GstHarness *h = harness_new ("mmdnnaudioenc", CAPS_F32_MONO);
  float *x = make_signal (n, 24, RATE);
  GstEvent *ev;
  gboolean saw_eos = FALSE;

  fail_unless_equals_int (push_f32 (h, x, n, 1, 0, FALSE), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_buffers_received (h), 2);
  while ((ev = gst_harness_try_pull_event (h)) != NULL) {
    saw_eos |= GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  fail_unless (saw_eos);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_short_stream_n)
{
  /* exactly 1 s is 98 frames: less than one window, so nothing at all;
   * one sample short of a window (16239) likewise */
  static const gint64 lens[] = { RATE, WIN_SPAN - 1, 0, 1 };

  for (guint i = 0; i < G_N_ELEMENTS (lens); i++) {
    GstHarness *h = harness_new ("mmdnnaudioenc", CAPS_F32_MONO);
    float *x = make_signal (lens[i], 25, RATE);

    fail_unless_equals_int (push_f32 (h, x, lens[i], 1, 0, FALSE),
        GST_FLOW_OK);
    fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
    fail_unless_equals_int (gst_harness_buffers_received (h), 0);
    g_free (x);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* =================================================== invalid samples */

/* Pops warnings from @bus; returns how many, asserting STREAM/DECODE. */
static guint
count_warnings (GstBus * bus)
{
  GstMessage *msg;
  guint n = 0;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING)) != NULL) {
    GError *err = NULL;
    gchar *dbg = NULL;

    gst_message_parse_warning (msg, &err, &dbg);
    fail_unless (err->domain == GST_STREAM_ERROR);
    fail_unless_equals_int (err->code, GST_STREAM_ERROR_DECODE);
    g_clear_error (&err);
    g_free (dbg);
    gst_message_unref (msg);
    n++;
  }
  return n;
}

GST_START_TEST (test_nan_replaced_n)
{
  /* NaN, ±Inf in two buffers: replaced by 0, one warning, finite output
   * equal to the core on the repaired signal */
  const gint64 n = 2 * RATE;
  GstHarness *h = harness_new ("mmdnnaudioenc", CAPS_F32_MONO);
  GstBus *bus = mmdnn_check_attach_bus (h->element);
  float *x = make_signal (n, 26, RATE), *fixed;
  static const gint64 bad[] = { 0, 5, 4096, 16000, 20001, 31999 };
  gint64 nw;
  float *ref;
  GPtrArray *outs;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    x[bad[i]] = i % 3 == 0 ? NAN : (i % 3 == 1 ? INFINITY : -INFINITY);
  fixed = g_memdup2 (x, sizeof (float) * n);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    fixed[bad[i]] = 0.0f;
  ref = reference (default_model (), fixed, n, P, &nw);
  fail_unless_equals_int (nw, 1);

  fail_unless_equals_int (push_f32 (h, x, n / 2, 1, 0, FALSE), GST_FLOW_OK);
  fail_unless_equals_int (push_f32 (h, x + n / 2, n / 2, 1,
          samples_to_time (n / 2, RATE), FALSE), GST_FLOW_OK);
  outs = pull_all (h);
  check_outputs (outs, ref, nw, 1280, P, 0);
  g_ptr_array_unref (outs);
  fail_unless_equals_int (count_warnings (bus), 1);
  mmdnn_check_detach_bus (h->element, bus);
  g_free (ref);
  g_free (fixed);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_nan_one_channel_n)
{
  /* stereo with a NaN in the right channel: only that sample is zeroed,
   * the left one still counts with weight 1/2 */
  const gint64 n = RATE + RATE / 5;
  GstHarness *h = harness_new ("mmdnnaudioenc", CAPS_F32_STEREO);
  GstBus *bus = mmdnn_check_attach_bus (h->element);
  float *l = make_signal (n, 27, RATE), *lr = g_new (float, 2 * n);
  float *mix = g_new (float, n);
  gint64 nw;
  float *ref;
  GPtrArray *outs;

  for (gint64 i = 0; i < n; i++) {
    lr[2 * i] = l[i];
    lr[2 * i + 1] = i % 1000 == 7 ? NAN : -l[i] * 0.5f;
    mix[i] = 0.5f * l[i] + (i % 1000 == 7 ? 0.0f : 0.5f * (-l[i] * 0.5f));
  }
  ref = reference (default_model (), mix, n, P, &nw);
  fail_unless_equals_int (push_f32 (h, lr, n, 2, 0, FALSE), GST_FLOW_OK);
  outs = pull_all (h);
  check_outputs (outs, ref, nw, 1280, P, 0);
  g_ptr_array_unref (outs);
  fail_unless_equals_int (count_warnings (bus), 1);

  /* a flush re-arms the warning */
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_harness_set_src_caps_str (h, CAPS_F32_STEREO);
  fail_unless_equals_int (push_f32 (h, lr, 1000, 2, 0, FALSE), GST_FLOW_OK);
  fail_unless_equals_int (count_warnings (bus), 1);
  mmdnn_check_detach_bus (h->element, bus);
  g_free (ref);
  g_free (mix);
  g_free (lr);
  g_free (l);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_all_nan_n)
{
  /* a whole window of NaN: silence, i.e. the core on zeros */
  const gint64 n = WIN_SPAN;
  GstHarness *h = harness_new ("mmdnnaudioenc", CAPS_F32_MONO);
  GstBus *bus = mmdnn_check_attach_bus (h->element);
  float *x = g_new (float, n), *zeros = g_new0 (float, n);
  gint64 nw;
  float *ref = reference (default_model (), zeros, n, P, &nw);
  GPtrArray *outs;

  for (gint64 i = 0; i < n; i++)
    x[i] = NAN;
  fail_unless_equals_int (push_f32 (h, x, n, 1, 0, FALSE), GST_FLOW_OK);
  outs = pull_all (h);
  check_outputs (outs, ref, nw, 1280, P, 0);
  g_ptr_array_unref (outs);
  fail_unless_equals_int (count_warnings (bus), 1);
  mmdnn_check_detach_bus (h->element, bus);
  g_free (ref);
  g_free (zeros);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ============================================================ states */

static void
on_handoff (GstElement * sink, GstBuffer * buf, GstPad * pad, gpointer data)
{
  GPtrArray *a = data;

  g_ptr_array_add (a, gst_buffer_copy_deep (buf));
}

GST_START_TEST (test_launch_line_and_state_cycles)
{
  /* the SECTION's example line; run three times through NULL: identical
   * results each time */
  GstElement *pipeline = gst_parse_launch ("audiotestsrc num-buffers=100 ! "
      "audioconvert ! audioresample ! audio/x-raw,rate=16000 ! "
      "mmdnnaudioenc name=enc ! fakesink name=sink signal-handoffs=true",
      NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GPtrArray *run0 = NULL;

  fail_unless (pipeline != NULL);
  for (int run = 0; run < 3; run++) {
    GPtrArray *outs = g_ptr_array_new_with_free_func ((GDestroyNotify)
        gst_buffer_unref);
    gulong id = g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff),
        outs);

    fail_unless (mmdnn_check_run_to_eos (pipeline));
    fail_unless_equals_int (gst_element_set_state (pipeline,
            GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    g_signal_handler_disconnect (sink, id);
    /* 100 × 1024 samples: 638 frames → 6 windows */
    fail_unless_equals_int (outs->len, 6);
    if (run0 == NULL) {
      run0 = outs;
    } else {
      assert_same_outputs (run0, outs);
      g_ptr_array_unref (outs);
    }
  }
  /* and through READY↔PAUSED without data */
  for (int i = 0; i < 3; i++) {
    fail_if (gst_element_set_state (pipeline, GST_STATE_PAUSED) ==
        GST_STATE_CHANGE_FAILURE);
    fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
            10 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (gst_element_set_state (pipeline,
            GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  }
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  g_ptr_array_unref (run0);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_resample_upstream)
{
  /* the second example line: 44.1 kHz stereo upstream; the caps query
   * makes audioresample convert to 16 kHz. 102400 samples at 44.1 kHz are
   * about 37152 at 16 kHz: 230 frames, hop 25 frames → 6 windows, 250 ms
   * apart (any count of 36240 to 40239 samples gives 6) */
  GstElement *pipeline = gst_parse_launch ("audiotestsrc num-buffers=100 ! "
      "audio/x-raw,rate=44100,channels=2 ! audioconvert ! audioresample ! "
      "mmdnnaudioenc name=enc hop=250000000 ! "
      "fakesink name=sink signal-handoffs=true", NULL);
  GstElement *enc = gst_bin_get_by_name (GST_BIN (pipeline), "enc");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GPtrArray *outs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  GstPad *pad = gst_element_get_static_pad (enc, "sink");
  GstCaps *caps;
  gint rate = 0, channels = 0;

  g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), outs);
  fail_unless (mmdnn_check_run_to_eos (pipeline));
  caps = gst_pad_get_current_caps (pad);
  fail_unless (gst_structure_get_int (gst_caps_get_structure (caps, 0),
          "rate", &rate));
  fail_unless (gst_structure_get_int (gst_caps_get_structure (caps, 0),
          "channels", &channels));
  fail_unless_equals_int (rate, RATE);
  fail_unless_equals_int (channels, 2);
  gst_caps_unref (caps);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (outs->len, 6);
  for (guint i = 0; i < outs->len; i++)
    fail_unless_equals_uint64 (GST_BUFFER_PTS ((GstBuffer *)
            g_ptr_array_index (outs, i)), i * 250 * GST_MSECOND);
  g_ptr_array_unref (outs);
  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_object_unref (enc);
  gst_object_unref (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_model_change_in_ready)
{
  /* default model, then the 8 kHz model: new caps, new rate, new values */
  const gchar *tiny_path = tiny8k_path;
  MmdnnModel *tiny = mmdnn_check_load_model (tiny_path);
  GstHarness *h = harness_new ("mmdnnaudioenc", CAPS_F32_MONO);
  const gint64 n = 8000;
  float *x = make_signal (n, 28, 8000);
  gint64 nw;
  float *ref = reference (tiny, x, n, 16, &nw);
  GPtrArray *outs;

  mmdnn_check_restart_with_model (h, tiny_path);
  fail_unless (mmdnn_check_accepts (h->element, "audio/x-raw, format=F32LE, "
          "layout=interleaved, rate=8000, channels=1"));
  fail_if (mmdnn_check_accepts (h->element, CAPS_F32_MONO));
  gst_harness_push_event (h, gst_event_new_stream_start ("tiny"));
  gst_harness_set_src_caps_str (h, "audio/x-raw, format=F32LE, "
      "layout=interleaved, rate=8000, channels=1");
  fail_unless_equals_int (gst_harness_push (h, make_buffer (x, n * 4, 0,
              GST_SECOND, FALSE)), GST_FLOW_OK);

  mmdnn_check_features_caps (h, "tiny-audio-8k", 2, 8);

  /* 8000 samples at 8 kHz, hop 80, win 200: 98 frames → 6 windows of 16 */
  fail_unless_equals_int (nw, 6);
  outs = pull_all (h);
  fail_unless_equals_int (outs->len, nw);
  for (guint i = 0; i < outs->len; i++) {
    GstBuffer *b = g_ptr_array_index (outs, i);

    fail_unless (gst_buffer_memcmp (b, 0, ref + i * 16, 16 * 4) == 0);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (b), i * 160 * GST_MSECOND);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (b), 160 * GST_MSECOND);
  }
  g_ptr_array_unref (outs);
  mmdnn_model_free (tiny);
  g_free (ref);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ============================================================ errors */

GST_START_TEST (test_bad_model_path_n)
{
  GError *err = mmdnn_check_start_error (FACTORY,
      "/nonexistent/dir/model.safetensors");

  fail_unless (err->domain == GST_RESOURCE_ERROR);
  fail_unless_equals_int (err->code, GST_RESOURCE_ERROR_OPEN_READ);
  fail_unless (strstr (err->message, "/nonexistent/dir/model.safetensors")
      != NULL, "%s", err->message);
  g_error_free (err);

  /* a folder is not a model either */
  err = mmdnn_check_start_error (FACTORY, "/");
  fail_unless (err->domain == GST_RESOURCE_ERROR);
  g_error_free (err);
}

GST_END_TEST;

GST_START_TEST (test_corrupt_model_n)
{
  const gchar *files[] = { corrupt_path, empty_path, truncated_path };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++) {
    GError *err = mmdnn_check_start_error (FACTORY, files[i]);

    fail_unless (err->domain == GST_RESOURCE_ERROR, "%s: %s", files[i],
        g_quark_to_string (err->domain));
    fail_unless (err->code == GST_RESOURCE_ERROR_READ
        || err->code == GST_RESOURCE_ERROR_OPEN_READ, "%s: code %d",
        files[i], err->code);
    g_error_free (err);
  }
}

GST_END_TEST;

GST_START_TEST (test_model_without_audio_n)
{
  GError *err = mmdnn_check_start_error (FACTORY, noaudio_path);

  fail_unless (err->domain == GST_STREAM_ERROR);
  fail_unless_equals_int (err->code, GST_STREAM_ERROR_WRONG_TYPE);
  g_error_free (err);
}

GST_END_TEST;

/* `model` is not changed while PAUSED/PLAYING (GstMmdnnEncoder). */
GST_START_TEST (test_model_change_in_playing_n)
{
  GstHarness *h = harness_new (FACTORY, CAPS_F32_MONO);

  mmdnn_check_model_unchanged_in_playing (h);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_bad_model_then_good_n)
{
  /* a failed start leaves nothing behind: fixing the property in READY
   * makes the next start work */
  GstElement *e = gst_object_ref_sink (gst_element_factory_make
      ("mmdnnaudioenc", NULL));
  GstBus *bus = mmdnn_check_attach_bus (e);

  g_object_set (e, "model", "/nonexistent.safetensors", NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  g_object_set (e, "model", NULL, NULL);
  fail_unless (gst_element_set_state (e, GST_STATE_PAUSED) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless (mmdnn_check_accepts (e, CAPS_F32_MONO));
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  mmdnn_check_detach_bus (e, bus);
  gst_object_unref (e);
}

GST_END_TEST;

static Suite *
mmdnnaudioenc_suite (void)
{
  Suite *s = suite_create ("mmdnnaudioenc");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_unchecked_fixture (tc, make_test_files, remove_test_files);
  /* positive */
  tcase_add_test (tc, test_caps_accepted);
  tcase_add_test (tc, test_caps_query_fixes_rate);
  tcase_add_test (tc, test_output_caps);
  tcase_add_test (tc, test_timestamps_no_hop);
  tcase_add_test (tc, test_timestamps_hop);
  tcase_add_test (tc, test_hop_rounding);
  tcase_add_test (tc, test_hop_longer_than_window);
  tcase_add_test (tc, test_phase_window_centres);
  tcase_add_test (tc, test_latency);
  tcase_add_test (tc, test_values_equal_core);
  tcase_add_test (tc, test_values_s16);
  tcase_add_test (tc, test_chunking_bit_exact);
  tcase_add_test (tc, test_huge_buffer);
  tcase_add_test (tc, test_stereo_is_mono_mix);
  tcase_add_test (tc, test_launch_line_and_state_cycles);
  tcase_add_test (tc, test_resample_upstream);
  tcase_add_test (tc, test_model_change_in_ready);
  /* negative */
  tcase_add_test (tc, test_caps_wrong_rate_n);
  tcase_add_test (tc, test_caps_wrong_format_n);
  tcase_add_test (tc, test_caps_non_interleaved_n);
  tcase_add_test (tc, test_caps_channels_n);
  tcase_add_test (tc, test_caps_video_n);
  tcase_add_test (tc, test_no_caps_n);
  tcase_add_test (tc, test_downstream_refuses_n);
  tcase_add_test (tc, test_discont_restarts_timing_n);
  tcase_add_test (tc, test_phase_restarts_n);
  tcase_add_test (tc, test_timestamp_jump_n);
  tcase_add_test (tc, test_jitter_tolerated_n);
  tcase_add_test (tc, test_gap_n);
  tcase_add_test (tc, test_flush_resets_n);
  tcase_add_test (tc, test_no_pts_uses_segment_n);
  tcase_add_test (tc, test_renegotiation_resets_n);
  tcase_add_test (tc, test_eos_drops_partial_n);
  tcase_add_test (tc, test_short_stream_n);
  tcase_add_test (tc, test_nan_replaced_n);
  tcase_add_test (tc, test_nan_one_channel_n);
  tcase_add_test (tc, test_all_nan_n);
  tcase_add_test (tc, test_bad_model_path_n);
  tcase_add_test (tc, test_corrupt_model_n);
  tcase_add_test (tc, test_model_without_audio_n);
  tcase_add_test (tc, test_bad_model_then_good_n);
  tcase_add_test (tc, test_model_change_in_playing_n);
  return s;
}

GST_CHECK_MAIN (mmdnnaudioenc);
