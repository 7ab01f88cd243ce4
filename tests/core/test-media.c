/* Media decoding with libav: probe and decode the committed test media
 * (tests/core/media/, made by make-test-media.sh: see there for what they
 * hold) and check timestamps, counts, sizes, colours, the tone's frequency
 * and amplitude, subtitle text and times; then bad files and arguments.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <glib/gstdio.h>

#include <mmdnn/media.h>
#include "gradcheck.h"

static char *
media_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "media", name, NULL);
}

/* A fresh temporary directory per test, removed with its files. */
static char *
make_tmp_dir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("mmdnn-test-media-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_tmp_dir (char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d))) {
    char *p = g_build_filename (dir, name, NULL);
    if (g_file_test (p, G_FILE_TEST_IS_DIR))
      g_rmdir (p);
    else
      g_unlink (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (dir);
  g_free (dir);
}

/* ---- collectors --------------------------------------------------------- */

typedef struct {
  /* video */
  int      n_frames;
  double   pts[64];
  int64_t  width, height, stride;
  guint8   first_rgb[48][64 * 3];   /* rows of the first frame */
  int      stop_after;              /* stop once this many frames (0: never) */
  /* audio */
  GArray  *samples;
  double   first_audio_pts;
  double   next_audio_pts;          /* the pts the next chunk should have */
  int      n_chunks;
  double   max_gap;                 /* worst |pts − expected| over chunks */
  int64_t  rate;
  /* subtitles */
  int      n_cues;
  double   cue_start[8], cue_end[8];
  char    *cue_text[8];
} Collect;

static gboolean
on_video (void *user, double pts_s, const uint8_t *rgb, int64_t width,
          int64_t height, int64_t stride)
{
  Collect *c = user;

  if (c->n_frames == 0) {
    c->width = width;
    c->height = height;
    c->stride = stride;
    for (int64_t y = 0; y < MIN (height, 48); y++)
      memcpy (c->first_rgb[y], rgb + y * stride, MIN (width, 64) * 3);
  }
  if (c->n_frames < (int) G_N_ELEMENTS (c->pts))
    c->pts[c->n_frames] = pts_s;
  c->n_frames++;
  return c->stop_after == 0 || c->n_frames < c->stop_after;
}

static gboolean
on_audio (void *user, double pts_s, const float *samples, int64_t n)
{
  Collect *c = user;

  g_assert_cmpint (n, >, 0);
  if (c->n_chunks == 0)
    c->first_audio_pts = pts_s;
  else
    c->max_gap = MAX (c->max_gap, fabs (pts_s - c->next_audio_pts));
  c->next_audio_pts = pts_s + (double) n / c->rate;
  g_array_append_vals (c->samples, samples, (guint) n);
  c->n_chunks++;
  return TRUE;
}

static gboolean
on_subtitle (void *user, double start_s, double end_s, const char *text)
{
  Collect *c = user;

  if (c->n_cues < (int) G_N_ELEMENTS (c->cue_text)) {
    c->cue_start[c->n_cues] = start_s;
    c->cue_end[c->n_cues] = end_s;
    c->cue_text[c->n_cues] = g_strdup (text);
  }
  c->n_cues++;
  return TRUE;
}

static void
collect_init (Collect *c, int64_t rate)
{
  memset (c, 0, sizeof *c);
  c->samples = g_array_new (FALSE, FALSE, sizeof (float));
  c->rate = rate;
}

static void
collect_clear (Collect *c)
{
  g_array_free (c->samples, TRUE);
  for (int i = 0; i < (int) G_N_ELEMENTS (c->cue_text); i++)
    g_free (c->cue_text[i]);
}

/* |DFT| of x at frequency f (Hz), by direct summation in double. */
static double
dft_mag (const float *x, int64_t n, double f, double rate)
{
  double re = 0, im = 0;

  for (int64_t i = 0; i < n; i++) {
    double ph = 2 * G_PI * f * (double) i / rate;
    re += x[i] * cos (ph);
    im -= x[i] * sin (ph);
  }
  return sqrt (re * re + im * im);
}

/* The frequency in [100, 7900] Hz (10 Hz steps) with the largest |DFT| over
 * x[from, from+n), Hann-windowed so leakage cannot win. */
static double
peak_frequency (const float *x, int64_t n, double rate)
{
  float *w = g_new (float, n);
  double best = 0, best_f = 0;

  for (int64_t i = 0; i < n; i++)
    w[i] = x[i] * (float) (0.5 - 0.5 * cos (2 * G_PI * i / n));
  for (double f = 100; f <= 7900; f += 10) {
    double m = dft_mag (w, n, f, rate);
    if (m > best) {
      best = m;
      best_f = f;
    }
  }
  g_free (w);
  return best_f;
}

static double
rms (const float *x, int64_t n)
{
  double s = 0;

  for (int64_t i = 0; i < n; i++)
    s += (double) x[i] * x[i];
  return sqrt (s / n);
}

/* ---- probe -------------------------------------------------------------- */

static void
test_probe_clip (void)
{
  char *path = media_path ("clip.mkv");
  MmdnnMediaInfo info;
  GError *error = NULL;

  g_assert_true (mmdnn_media_probe (path, &info, &error));
  g_assert_no_error (error);
  g_assert_true (info.has_video);
  g_assert_true (info.has_audio);
  g_assert_true (info.has_subtitle);
  g_assert_cmpint (info.width, ==, 64);
  g_assert_cmpint (info.height, ==, 48);
  g_assert_cmpfloat_with_epsilon (info.fps, 10.0, 1e-6);
  g_assert_cmpint (info.sample_rate, ==, 44100);
  g_assert_cmpint (info.channels, ==, 2);
  g_assert_cmpfloat_with_epsilon (info.duration_s, 2.0, 0.05);
  g_free (path);
}

static void
test_probe_wav (void)
{
  char *path = media_path ("tone.wav");
  MmdnnMediaInfo info;
  GError *error = NULL;

  g_assert_true (mmdnn_media_probe (path, &info, &error));
  g_assert_no_error (error);
  g_assert_false (info.has_video);
  g_assert_true (info.has_audio);
  g_assert_false (info.has_subtitle);
  g_assert_cmpint (info.width, ==, 0);
  g_assert_cmpfloat (info.fps, ==, 0.0);
  g_assert_cmpint (info.sample_rate, ==, 8000);
  g_assert_cmpint (info.channels, ==, 1);
  g_assert_cmpfloat_with_epsilon (info.duration_s, 0.5, 1e-3);
  g_free (path);
}

/* ---- video -------------------------------------------------------------- */

static void
test_video_frames (void)
{
  char *path = media_path ("clip.mkv");
  MmdnnMediaCallbacks cb = { on_video, NULL, NULL };
  Collect c;
  GError *error = NULL;

  collect_init (&c, 16000);
  g_assert_true (mmdnn_media_decode (path, 16000, &cb, &c, &error));
  g_assert_no_error (error);
  /* 2 s at 10 fps */
  g_assert_cmpint (c.n_frames, >=, 19);
  g_assert_cmpint (c.n_frames, <=, 21);
  for (int i = 0; i < MIN (c.n_frames, 20); i++)
    g_assert_cmpfloat_with_epsilon (c.pts[i], 0.1 * i, 1.5e-3);
  g_assert_cmpint (c.width, ==, 64);
  g_assert_cmpint (c.height, ==, 48);
  g_assert_cmpint (c.stride, >=, 64 * 3);

  /* 75% SMPTE bars, 7 columns of 64/7 pixels: grey, yellow, cyan, green,
   * magenta, red, blue at 75% (191); JPEG (quality 25) and 4:2:0 chroma
   * blur them, so ±40 levels, sampled in the middle of each bar. */
  {
    static const int expect[7][3] = {
      { 191, 191, 191 }, { 191, 191, 0 }, { 0, 191, 191 }, { 0, 191, 0 },
      { 191, 0, 191 }, { 191, 0, 0 }, { 0, 0, 191 },
    };
    for (int b = 0; b < 7; b++) {
      int x = (int) ((b + 0.5) * 64 / 7);
      for (int k = 0; k < 3; k++)
        g_assert_cmpint (abs (c.first_rgb[10][x * 3 + k] - expect[b][k]), <=,
                         40);
    }
  }
  collect_clear (&c);
  g_free (path);
}

static void
test_video_stop_early (void)
{
  char *path = media_path ("clip.mkv");
  MmdnnMediaCallbacks cb = { on_video, NULL, NULL };
  Collect c;
  GError *error = NULL;

  collect_init (&c, 16000);
  c.stop_after = 3;
  g_assert_true (mmdnn_media_decode (path, 16000, &cb, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpint (c.n_frames, ==, 3);
  g_assert_cmpfloat_with_epsilon (c.pts[2], 0.2, 1.5e-3);
  collect_clear (&c);
  g_free (path);
}

/* ---- audio -------------------------------------------------------------- */

static void
check_tone (const char *name, int64_t rate, double seconds, double freq,
            double amplitude)
{
  char *path = media_path (name);
  MmdnnMediaCallbacks cb = { NULL, on_audio, NULL };
  Collect c;
  GError *error = NULL;
  const float *x;
  int64_t n, expect = (int64_t) llround (seconds * rate), mid;

  collect_init (&c, rate);
  g_assert_true (mmdnn_media_decode (path, rate, &cb, &c, &error));
  g_assert_no_error (error);
  x = (const float *) (void *) c.samples->data;
  n = c.samples->len;
  /* ± 1 video frame (10 ms here) of samples; FFmpeg trims Vorbis priming */
  g_assert_cmpint (llabs (n - expect), <=, rate / 100);
  g_assert_cmpfloat_with_epsilon (c.first_audio_pts, 0.0, 1e-3);
  /* chunks are contiguous */
  g_assert_cmpfloat (c.max_gap, <, 1e-9);

  /* the middle half: away from resampler start/end transients */
  mid = n / 4;
  g_assert_cmpfloat_with_epsilon (peak_frequency (x + mid, n / 2, rate),
                                  freq, 10.0);
  /* averaging equal channels keeps the amplitude: rms = A/√2 (±5%, lossy) */
  g_assert_cmpfloat_with_epsilon (rms (x + mid, n / 2), amplitude / sqrt (2.0),
                                  0.05 * amplitude / sqrt (2.0));
  for (int64_t i = 0; i < n; i++)
    g_assert_true (isfinite (x[i]));
  collect_clear (&c);
  g_free (path);
}

static void
test_audio_vorbis_stereo (void)
{
  /* 44.1 kHz stereo → 16 kHz mono */
  check_tone ("clip.mkv", 16000, 2.0, 1000.0, 0.5);
}

static void
test_audio_wav_upsample (void)
{
  /* 8 kHz → 16 kHz, and → 22050 Hz (not a ratio of small integers) */
  check_tone ("tone.wav", 16000, 0.5, 440.0, 0.5);
  check_tone ("tone.wav", 22050, 0.5, 440.0, 0.5);
}

/* ---- subtitles ---------------------------------------------------------- */

static void
check_cues (const char *name)
{
  char *path = media_path (name);
  MmdnnMediaCallbacks cb = { NULL, NULL, on_subtitle };
  Collect c;
  GError *error = NULL;

  collect_init (&c, 16000);
  g_assert_true (mmdnn_media_decode (path, 16000, &cb, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpint (c.n_cues, ==, 2);
  g_assert_cmpfloat_with_epsilon (c.cue_start[0], 0.2, 1e-3);
  g_assert_cmpfloat_with_epsilon (c.cue_end[0], 0.9, 1e-3);
  g_assert_cmpfloat_with_epsilon (c.cue_start[1], 1.0, 1e-3);
  g_assert_cmpfloat_with_epsilon (c.cue_end[1], 1.8, 1e-3);
  /* only the ASS Text field: no "0,0,Default,,..." prefix */
  g_assert_cmpstr (c.cue_text[0], ==, "Hello, world!");
  g_assert_nonnull (strstr (c.cue_text[1], "Don’t"));
  g_assert_true (g_str_has_suffix (c.cue_text[1], " go!"));
  g_assert_null (strstr (c.cue_text[1], "Default"));
  collect_clear (&c);
  g_free (path);
}

static void
test_subtitles_mkv (void)
{
  check_cues ("clip.mkv");
}

static void
test_subtitles_srt (void)
{
  check_cues ("cues.srt");
}

/* all three at once, interleaved in file order; nothing asked → nothing */
static void
test_all_streams (void)
{
  char *path = media_path ("clip.mkv");
  MmdnnMediaCallbacks all = { on_video, on_audio, on_subtitle };
  MmdnnMediaCallbacks none = { NULL, NULL, NULL };
  Collect c;
  GError *error = NULL;

  collect_init (&c, 16000);
  g_assert_true (mmdnn_media_decode (path, 16000, &all, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpint (c.n_frames, >=, 19);
  g_assert_cmpint (c.n_cues, ==, 2);
  g_assert_cmpint (llabs ((int64_t) c.samples->len - 32000), <=, 160);
  collect_clear (&c);

  collect_init (&c, 16000);
  /* audio_rate is not checked without an audio callback */
  g_assert_true (mmdnn_media_decode (path, 0, &none, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpint (c.n_frames + c.n_cues + (int) c.samples->len, ==, 0);
  collect_clear (&c);
  g_free (path);
}

/* ---- negative ----------------------------------------------------------- */

/* Decoding and probing @path both fail with @code and name the file;
 * no callback ran and @info is untouched. */
static void
check_bad_file (const char *path, MmdnnError code)
{
  MmdnnMediaCallbacks cb = { on_video, on_audio, on_subtitle };
  MmdnnMediaInfo info;
  Collect c;
  GError *error = NULL;

  collect_init (&c, 16000);
  g_assert_false (mmdnn_media_decode (path, 16000, &cb, &c, &error));
  g_assert_error (error, MMDNN_ERROR, (gint) code);
  g_assert_nonnull (strstr (error->message, path));
  g_test_message ("decode: %s", error->message);
  g_clear_error (&error);
  g_assert_cmpint (c.n_frames + c.n_cues + (int) c.samples->len, ==, 0);
  collect_clear (&c);

  memset (&info, 0x5a, sizeof info);
  g_assert_false (mmdnn_media_probe (path, &info, &error));
  g_assert_error (error, MMDNN_ERROR, (gint) code);
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);
  g_assert_cmpint (info.width, ==, (int64_t) 0x5a5a5a5a5a5a5a5a);
}

static void
test_missing_file_n (void)
{
  char *dir = make_tmp_dir ();
  char *path = g_build_filename (dir, "no-such-file.mkv", NULL);

  check_bad_file (path, MMDNN_ERROR_IO);
  g_free (path);
  remove_tmp_dir (dir);
}

static void
test_directory_n (void)
{
  char *dir = make_tmp_dir ();

  check_bad_file (dir, MMDNN_ERROR_IO);
  remove_tmp_dir (dir);
}

static void
test_empty_file_n (void)
{
  char *dir = make_tmp_dir ();
  char *path = g_build_filename (dir, "empty.mkv", NULL);

  g_assert_true (g_file_set_contents (path, "", 0, NULL));
  check_bad_file (path, MMDNN_ERROR_FORMAT);
  g_free (path);
  remove_tmp_dir (dir);
}

static void
test_random_bytes_n (void)
{
  char *dir = make_tmp_dir ();
  char *path = g_build_filename (dir, "noise.mkv", NULL);
  GRand *r = g_rand_new_with_seed (1234);
  guint8 buf[65536];

  for (gsize i = 0; i < sizeof buf; i++)
    buf[i] = (guint8) g_rand_int_range (r, 0, 256);
  g_rand_free (r);
  g_assert_true (g_file_set_contents (path, (const char *) buf, sizeof buf,
                                      NULL));
  check_bad_file (path, MMDNN_ERROR_FORMAT);
  g_free (path);
  remove_tmp_dir (dir);
}

static void
test_text_file_n (void)
{
  char *dir = make_tmp_dir ();
  char *path = g_build_filename (dir, "notes.mkv", NULL);
  const char *text = "these are not the frames you are looking for\n";

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  check_bad_file (path, MMDNN_ERROR_FORMAT);
  g_free (path);
  remove_tmp_dir (dir);
}

/* The first 64 bytes of clip.mkv: an EBML header and nothing else. */
static void
test_truncated_header_n (void)
{
  char *dir = make_tmp_dir ();
  char *src = media_path ("clip.mkv");
  char *path = g_build_filename (dir, "cut.mkv", NULL);
  char *data;
  gsize len;

  g_assert_true (g_file_get_contents (src, &data, &len, NULL));
  g_assert_true (g_file_set_contents (path, data, 64, NULL));
  check_bad_file (path, MMDNN_ERROR_FORMAT);
  g_free (data);
  g_free (path);
  g_free (src);
  remove_tmp_dir (dir);
}

/* Cut in the middle of the clusters: libav treats the cut as the end of
 * the stream, so what is there decodes and the rest is missing, without a
 * crash, garbage timestamps or an error. */
static void
test_truncated_body_n (void)
{
  char *dir = make_tmp_dir ();
  char *src = media_path ("clip.mkv");
  char *path = g_build_filename (dir, "cut.mkv", NULL);
  MmdnnMediaCallbacks cb = { on_video, on_audio, on_subtitle };
  Collect c;
  GError *error = NULL;
  char *data;
  gsize len;

  g_assert_true (g_file_get_contents (src, &data, &len, NULL));
  g_assert_true (g_file_set_contents (path, data, (gssize) len / 2, NULL));
  collect_init (&c, 16000);
  g_assert_true (mmdnn_media_decode (path, 16000, &cb, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpint (c.n_frames, >, 0);
  g_assert_cmpint (c.n_frames, <, 19);
  for (int i = 0; i < c.n_frames; i++)
    g_assert_cmpfloat_with_epsilon (c.pts[i], 0.1 * i, 1.5e-3);
  g_assert_cmpint (c.samples->len, <, 32000 - 1600);
  collect_clear (&c);
  g_free (data);
  g_free (path);
  g_free (src);
  remove_tmp_dir (dir);
}

/* The second half overwritten with noise (header intact): decoding may
 * stop with an error (BACKEND or FORMAT, naming the file) or get through
 * with what decodes, but it never crashes, hangs or gives a non-finite
 * sample; what came before the damage is delivered. */
static void
test_corrupt_body_n (void)
{
  char *dir = make_tmp_dir ();
  char *src = media_path ("clip.mkv");
  char *path = g_build_filename (dir, "corrupt.mkv", NULL);
  MmdnnMediaCallbacks cb = { on_video, on_audio, on_subtitle };
  GRand *r = g_rand_new_with_seed (77);
  Collect c;
  GError *error = NULL;
  char *data;
  gsize len;

  g_assert_true (g_file_get_contents (src, &data, &len, NULL));
  for (gsize i = len / 2; i < len; i++)
    data[i] = (char) g_rand_int_range (r, 0, 256);
  g_rand_free (r);
  g_assert_true (g_file_set_contents (path, data, (gssize) len, NULL));
  collect_init (&c, 16000);
  if (!mmdnn_media_decode (path, 16000, &cb, &c, &error)) {
    g_test_message ("corrupt: %s", error->message);
    g_assert_true (g_error_matches (error, MMDNN_ERROR, MMDNN_ERROR_BACKEND)
                   || g_error_matches (error, MMDNN_ERROR, MMDNN_ERROR_FORMAT));
    g_assert_nonnull (strstr (error->message, path));
    g_clear_error (&error);
  }
  g_assert_cmpint (c.n_frames, >, 0);
  for (guint i = 0; i < c.samples->len; i++)
    g_assert_true (isfinite (g_array_index (c.samples, float, i)));
  collect_clear (&c);
  g_free (data);
  g_free (path);
  g_free (src);
  remove_tmp_dir (dir);
}

static void
test_bad_arguments_n (void)
{
  char *path = media_path ("clip.mkv");
  MmdnnMediaCallbacks cb = { NULL, on_audio, NULL };
  MmdnnMediaInfo info;
  Collect c;
  GError *error = NULL;

  collect_init (&c, 16000);
  g_assert_false (mmdnn_media_decode (NULL, 16000, &cb, &c, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mmdnn_media_decode (path, 16000, NULL, &c, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mmdnn_media_probe (NULL, &info, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mmdnn_media_probe (path, NULL, &error));
  g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpint (c.samples->len, ==, 0);
  collect_clear (&c);
  g_free (path);
}

static void
test_bad_audio_rate_n (void)
{
  char *path = media_path ("clip.mkv");
  MmdnnMediaCallbacks cb = { NULL, on_audio, NULL };
  const int64_t bad[] = { 0, -16000, 999, 384001, G_MAXINT64 };
  Collect c;

  collect_init (&c, 16000);
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
    GError *error = NULL;

    g_assert_false (mmdnn_media_decode (path, bad[i], &cb, &c, &error));
    g_assert_error (error, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "audio_rate"));
    g_clear_error (&error);
  }
  g_assert_cmpint (c.samples->len, ==, 0);
  collect_clear (&c);
  g_free (path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/probe-clip", test_probe_clip);
  g_test_add_func ("/media/probe-wav", test_probe_wav);
  g_test_add_func ("/media/video-frames", test_video_frames);
  g_test_add_func ("/media/video-stop-early", test_video_stop_early);
  g_test_add_func ("/media/audio-vorbis-stereo", test_audio_vorbis_stereo);
  g_test_add_func ("/media/audio-wav-upsample", test_audio_wav_upsample);
  g_test_add_func ("/media/subtitles-mkv", test_subtitles_mkv);
  g_test_add_func ("/media/subtitles-srt", test_subtitles_srt);
  g_test_add_func ("/media/all-streams", test_all_streams);
  g_test_add_func ("/media/missing-file_n", test_missing_file_n);
  g_test_add_func ("/media/directory_n", test_directory_n);
  g_test_add_func ("/media/empty-file_n", test_empty_file_n);
  g_test_add_func ("/media/random-bytes_n", test_random_bytes_n);
  g_test_add_func ("/media/text-file_n", test_text_file_n);
  g_test_add_func ("/media/truncated-header_n", test_truncated_header_n);
  g_test_add_func ("/media/truncated-body_n", test_truncated_body_n);
  g_test_add_func ("/media/corrupt-body_n", test_corrupt_body_n);
  g_test_add_func ("/media/bad-arguments_n", test_bad_arguments_n);
  g_test_add_func ("/media/bad-audio-rate_n", test_bad_audio_rate_n);
  return g_test_run ();
}
