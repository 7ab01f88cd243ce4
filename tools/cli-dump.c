/* mmdnn — `mmdnn dump KIND`: show exactly what the encoders see.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   dump text [--buckets B] [--max-tokens L] [--ids M] CUE...
 *   dump audio FILE [--start S] [--end S] [--csv | --pgm OUT.pgm]
 *   dump video FILE [--frames N] [--every S] --out DIR
 *   dump subtitles FILE [--buckets B] [--max-tokens L] [--ids M]
 *
 * Everything goes through the same core code as the GStreamer elements
 * (mmdnn_text_*, mmdnn_logmel_*, mmdnn_video_prep_*) with the default
 * configurations, so what is printed is what a model gets. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

#include <mmdnn/audio.h>
#include <mmdnn/media.h>
#include <mmdnn/text.h>
#include <mmdnn/video.h>

#include "cli.h"

/* ---- shared text options ------------------------------------------------ */

typedef struct {
  gint64 buckets, max_tokens, ids;
} TextOpts;

static void
text_opts_init (TextOpts *o)
{
  MmdnnTextConfig c;

  mmdnn_text_config_init (&c);
  o->buckets = c.buckets;
  o->max_tokens = c.max_tokens;
  o->ids = c.max_ids_per_token;
}

static void
add_text_entries (GOptionContext *ctx, TextOpts *o)
{
  GOptionEntry entries[] = {
    { "buckets", 'b', 0, G_OPTION_ARG_INT64, &o->buckets,
      "Hash buckets = embedding rows (default 65536)", "B" },
    { "max-tokens", 'l', 0, G_OPTION_ARG_INT64, &o->max_tokens,
      "Tokens kept per cue (default 32)", "L" },
    { "ids", 'm', 0, G_OPTION_ARG_INT64, &o->ids,
      "Ids per token: word + 3-grams (default 16)", "M" },
    { NULL }
  };

  g_option_context_add_main_entries (ctx, entries, NULL);
}

static gboolean
text_opts_config (const TextOpts *o, const char *cmd, MmdnnTextConfig *c)
{
  GError *error = NULL;

  c->buckets = o->buckets;
  c->max_tokens = o->max_tokens;
  c->max_ids_per_token = o->ids;
  if (!mmdnn_text_config_check (c, &error)) {
    cli_errorf ("%s: %s", cmd, error->message);
    g_error_free (error);
    return FALSE;
  }
  return TRUE;
}

/* Writes @s to stdout with every line prefixed by @indent. */
static void
print_indented (const char *s, const char *indent)
{
  while (*s) {
    const char *nl = strchr (s, '\n');
    size_t len = nl ? (size_t) (nl - s) : strlen (s);

    printf ("%s%.*s\n", indent, (int) len, s);
    s += len + (nl ? 1 : 0);
  }
}

/* ---- dump text ---------------------------------------------------------- */

static GOptionContext *
text_context (TextOpts *o)
{
  GOptionContext *ctx = g_option_context_new ("CUE... - print a cue's tokens "
                                              "and hashed ids");

  g_option_context_set_description (ctx,
      "One line per token: the token, a tab, then its ids (word id first,\n"
      "then its character 3-grams), exactly as the text encoder gets them.\n"
      "Several cues are separated by an empty line.\n"
      "\nExample:\n  mmdnn dump text 'Hello, world!'\n");
  add_text_entries (ctx, o);
  return ctx;
}

static int
dump_text (int argc, char **argv)
{
  TextOpts o;
  MmdnnTextConfig c;
  GOptionContext *ctx;
  int status = CLI_OK;

  text_opts_init (&o);
  ctx = text_context (&o);
  if (!cli_parse (ctx, "dump text", &argc, &argv)) {
    g_option_context_free (ctx);
    return CLI_USAGE;
  }
  g_option_context_free (ctx);
  if (!text_opts_config (&o, "dump text", &c))
    return CLI_USAGE;
  if (argc < 2) {
    cli_errorf ("dump text: no CUE given");
    fprintf (stderr, "Try 'mmdnn dump text --help'.\n");
    return CLI_USAGE;
  }

  for (int i = 1; i < argc; i++) {
    GError *error = NULL;
    char *dump = mmdnn_text_dump (&c, argv[i], -1, &error);

    if (!dump) {
      cli_errorf ("cue %d: %s", i, error->message);
      g_error_free (error);
      status = CLI_FAILED;
      continue;
    }
    if (i > 1)
      printf ("\n");
    fputs (dump, stdout);
    g_free (dump);
  }
  return status;
}

/* ---- dump audio --------------------------------------------------------- */

typedef struct {
  const char   *path;
  double        start, end;          /* seconds; end < 0: to the end     */
  MmdnnLogMel  *lm;
  int64_t       n_mels, hop, rate;
  gboolean      have_t0;
  double        t0;                  /* time of the first sample kept    */
  int64_t       frames;
  FILE         *csv;                 /* NULL unless --csv                */
  GArray       *keep;                /* frames for --pgm, else NULL      */
  double        sum;
  float         min, max;
  double       *band_sum;            /* (n_mels), for the summary        */
  float        *buf;                 /* one pulled chunk                 */
  GError       *error;
} AudioDump;

#define PULL_CHUNK 64

static void
audio_take_frames (AudioDump *a)
{
  int64_t got;

  while ((got = mmdnn_logmel_pull (a->lm, a->buf, PULL_CHUNK)) > 0) {
    for (int64_t t = 0; t < got; t++) {
      const float *row = a->buf + t * a->n_mels;
      double ts = a->t0 + (double) (a->frames + t) * a->hop / a->rate;

      if (a->csv) {
        fprintf (a->csv, "%.6f", ts);
        for (int64_t m = 0; m < a->n_mels; m++)
          fprintf (a->csv, ",%.9g", row[m]);
        fputc ('\n', a->csv);
      }
      for (int64_t m = 0; m < a->n_mels; m++) {
        a->sum += row[m];
        a->band_sum[m] += row[m];
        if (row[m] < a->min)
          a->min = row[m];
        if (row[m] > a->max)
          a->max = row[m];
      }
    }
    if (a->keep)
      g_array_append_vals (a->keep, a->buf, (guint) (got * a->n_mels));
    a->frames += got;
  }
}

static gboolean
audio_cb (void *user, double pts_s, const float *samples, int64_t n)
{
  AudioDump *a = user;
  int64_t first = 0, last = n;

  /* keep the samples with time in [start, end) */
  if (pts_s + (double) n / a->rate <= a->start)
    return TRUE;
  if (pts_s < a->start)
    first = (int64_t) ceil ((a->start - pts_s) * a->rate - 1e-9);
  if (a->end >= 0) {
    if (pts_s >= a->end)
      return FALSE;   /* past the window: stop decoding */
    last = MIN (n, (int64_t) ceil ((a->end - pts_s) * a->rate - 1e-9));
  }
  if (first >= last)
    return TRUE;
  if (!a->have_t0) {
    a->t0 = pts_s + (double) first / a->rate;
    a->have_t0 = TRUE;
  }
  if (!mmdnn_logmel_push_f32 (a->lm, samples + first, last - first,
                              &a->error))
    return FALSE;
  audio_take_frames (a);
  return TRUE;
}

/* PGM (P5): one column per frame (left to right in time), one row per mel
 * band with band 0 (lowest frequency) at the BOTTOM, grey = the log-mel
 * value scaled linearly from the dump's min (0, black) to max (255,
 * white); all 0 if the dump is constant. */
static gboolean
write_pgm (const char *out, const float *frames, int64_t n_frames,
           int64_t n_mels, float min, float max, GError **error)
{
  GString *s = g_string_new (NULL);
  double range = (double) max - (double) min;
  gboolean ok;

  g_string_append_printf (s, "P5\n# mmdnn log-mel: %" G_GINT64_FORMAT
                          " frames x %" G_GINT64_FORMAT " mels, low mels at "
                          "the bottom, 0..255 = %.6g..%.6g\n%" G_GINT64_FORMAT
                          " %" G_GINT64_FORMAT "\n255\n",
                          n_frames, n_mels, min, max, n_frames, n_mels);
  for (int64_t m = n_mels - 1; m >= 0; m--)
    for (int64_t t = 0; t < n_frames; t++) {
      double v = range > 0
          ? 255.0 * ((double) frames[t * n_mels + m] - min) / range : 0.0;
      g_string_append_c (s, (char) (guint8) CLAMP (lround (v), 0, 255));
    }
  ok = g_file_set_contents (out, s->str, (gssize) s->len, error);
  g_string_free (s, TRUE);
  return ok;
}

static GOptionContext *
audio_context (double *start, double *end, gboolean *csv, char **pgm)
{
  GOptionEntry entries[] = {
    { "start", 's', 0, G_OPTION_ARG_DOUBLE, start,
      "Start at S seconds (default 0)", "S" },
    { "end", 'e', 0, G_OPTION_ARG_DOUBLE, end,
      "Stop at S seconds (default: the end)", "S" },
    { "csv", 0, 0, G_OPTION_ARG_NONE, csv,
      "Print every frame as CSV: time_s, then one column per mel", NULL },
    { "pgm", 0, 0, G_OPTION_ARG_FILENAME, pgm,
      "Draw the frames into a grey PGM image", "OUT.pgm" },
    { NULL }
  };
  GOptionContext *ctx = g_option_context_new ("FILE - show the log-mel frames "
                                              "the audio encoder sees");

  g_option_context_set_description (ctx,
      "Decodes the first audio stream, averages its channels to mono,\n"
      "resamples to 16 kHz and computes the log-mel frames with the default\n"
      "front end (25 ms window, 10 ms hop, 64 Slaney mels 0-8000 Hz,\n"
      "y = ln(max(mel, 1e-6))), exactly as mmdnnaudioenc does.\n"
      "\n"
      "Without --csv or --pgm a summary is printed.\n"
      "--csv: a header line 'time_s,mel0,...,mel63', then one line per frame:\n"
      "  the time of the frame's first sample in seconds, then the 64 values\n"
      "  (%.9g: exact float32).\n"
      "--pgm: a binary PGM, one column per frame, mel 0 (lowest) at the\n"
      "  bottom, grey 0..255 scaled linearly from the minimum to the maximum\n"
      "  value of this dump (written in the PGM's comment line).\n"
      "--start/--end select samples in [start, end); frame times count from\n"
      "the first selected sample.\n"
      "\nExample:\n  mmdnn dump audio clip.mkv --csv > clip.csv\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  return ctx;
}

static int
dump_audio (int argc, char **argv)
{
  double start = 0.0, end = -1.0;
  gboolean csv = FALSE;
  char *pgm = NULL;
  GOptionContext *ctx = audio_context (&start, &end, &csv, &pgm);
  MmdnnLogMelConfig cfg;
  MmdnnMediaCallbacks cb = { NULL, NULL, NULL };
  MmdnnMediaInfo info;
  AudioDump a;
  GError *error = NULL;
  int status = CLI_FAILED;

  memset (&a, 0, sizeof a);
  if (!cli_parse (ctx, "dump audio", &argc, &argv)) {
    g_option_context_free (ctx);
    g_free (pgm);
    return CLI_USAGE;
  }
  g_option_context_free (ctx);
  if (argc != 2 || (csv && pgm) || !isfinite (start) || start < 0
      || !isfinite (end) || (end >= 0 && end <= start)) {
    if (argc < 2)
      cli_errorf ("dump audio: no FILE given");
    else if (argc > 2)
      cli_errorf ("dump audio: one FILE only (got '%s' too)", argv[2]);
    else if (csv && pgm)
      cli_errorf ("dump audio: --csv and --pgm are exclusive");
    else if (!isfinite (start) || start < 0)
      cli_errorf ("dump audio: --start %g must be >= 0", start);
    else
      cli_errorf ("dump audio: --end %g must be after --start %g", end, start);
    fprintf (stderr, "Try 'mmdnn dump audio --help'.\n");
    g_free (pgm);
    return CLI_USAGE;
  }
  a.path = argv[1];
  a.start = start;
  a.end = end;

  if (!mmdnn_media_probe (a.path, &info, &error))
    goto out;
  if (!info.has_audio) {
    cli_errorf ("%s: no audio stream", a.path);
    goto out;
  }
  mmdnn_logmel_config_init (&cfg);
  a.lm = mmdnn_logmel_new (&cfg, &error);
  if (!a.lm)
    goto out;
  a.n_mels = cfg.n_mels;
  a.hop = cfg.hop_length;
  a.rate = cfg.sample_rate;
  a.min = INFINITY;
  a.max = -INFINITY;
  a.band_sum = g_new0 (double, a.n_mels);
  a.buf = g_new (float, PULL_CHUNK * a.n_mels);
  if (csv) {
    a.csv = stdout;
    fprintf (a.csv, "time_s");
    for (int64_t m = 0; m < a.n_mels; m++)
      fprintf (a.csv, ",mel%" G_GINT64_FORMAT, m);
    fputc ('\n', a.csv);
  }
  if (pgm)
    a.keep = g_array_new (FALSE, FALSE, sizeof (float));

  cb.audio = audio_cb;
  if (!mmdnn_media_decode (a.path, a.rate, &cb, &a, &error))
    goto out;
  if (a.error) {   /* the log-mel front end refused the samples (NaN/Inf) */
    cli_error (a.path, a.error);
    status = CLI_FAILED;
    goto done;
  }

  if (a.frames == 0)
    fprintf (stderr, "mmdnn: warning: %s: no complete audio frame in the "
             "selection (a frame needs %" G_GINT64_FORMAT " samples at %"
             G_GINT64_FORMAT " Hz)\n", a.path, cfg.win_length, a.rate);

  if (pgm) {
    if (a.frames == 0) {
      cli_errorf ("%s: no frames to draw: %s not written", a.path, pgm);
      goto done;
    }
    if (!write_pgm (pgm, (const float *) (void *) a.keep->data, a.frames,
                    a.n_mels, a.min, a.max, &error)) {
      cli_error (pgm, error);
      goto done;
    }
    printf ("%s: %" G_GINT64_FORMAT " frames x %" G_GINT64_FORMAT
            " mels, grey 0..255 = %.6g..%.6g\n", pgm, a.frames, a.n_mels,
            a.min, a.max);
  } else if (!csv) {
    int64_t peak = 0;

    printf ("%s: %" G_GINT64_FORMAT " log-mel frames (%" G_GINT64_FORMAT
            " mels, hop %.0f ms, 16 kHz mono)\n", a.path, a.frames, a.n_mels,
            1000.0 * a.hop / a.rate);
    if (a.frames > 0) {
      for (int64_t m = 1; m < a.n_mels; m++)
        if (a.band_sum[m] > a.band_sum[peak])
          peak = m;
      printf ("  time     %.3f .. %.3f s (first sample of each frame)\n",
              a.t0, a.t0 + (double) (a.frames - 1) * a.hop / a.rate);
      printf ("  values   min %.4f  mean %.4f  max %.4f\n", a.min,
              a.sum / ((double) a.frames * a.n_mels), a.max);
      printf ("  loudest  mel %" G_GINT64_FORMAT " (highest mean)\n", peak);
    }
  }
  status = CLI_OK;
  goto done;

out:
  if (error)
    cli_error (a.path, error);
done:
  g_clear_error (&error);
  g_clear_error (&a.error);
  mmdnn_logmel_free (a.lm);
  g_free (a.band_sum);
  g_free (a.buf);
  if (a.keep)
    g_array_free (a.keep, TRUE);
  g_free (pgm);
  if (fflush (stdout) != 0 && status == CLI_OK) {
    cli_errorf ("cannot write to stdout: %s", g_strerror (errno));
    status = CLI_FAILED;
  }
  return status;
}

/* ---- dump video --------------------------------------------------------- */

typedef struct {
  const char     *path, *dir;
  gint64          max_frames;
  double          every;
  double          next_t;
  gboolean        have_next;
  MmdnnVideoPrep *vp;
  MmdnnVideoConfig cfg;
  float          *chw;
  guint8         *ppm;
  gsize           ppm_len, ppm_header;
  gint64          written;
  GError         *error;
} VideoDump;

static gboolean
video_cb (void *user, double pts_s, const uint8_t *rgb, int64_t width,
          int64_t height, int64_t stride)
{
  VideoDump *v = user;
  const uint8_t *planes[1] = { rgb };
  int64_t strides[1] = { stride };
  int64_t hw = v->cfg.height * v->cfg.width, c = v->cfg.channels;
  char *name, *file;
  guint8 *px;
  gboolean ok;

  if (v->every > 0) {
    if (v->have_next && pts_s < v->next_t - 1e-6)
      return TRUE;
    /* the next frame due is one interval after this one */
    v->next_t = pts_s + v->every;
    v->have_next = TRUE;
  }
  if (!mmdnn_video_prep_frame (v->vp, MMDNN_PIXEL_RGB, width, height, planes,
                               strides, v->chw, &v->error))
    return FALSE;

  /* de-normalise back to 8 bits: v = round ((x·std + mean)·255) */
  px = v->ppm + v->ppm_header;
  for (int64_t i = 0; i < hw; i++)
    for (int64_t k = 0; k < 3; k++) {
      int64_t ch = c == 3 ? k : 0;
      double x = ((double) v->chw[ch * hw + i] * v->cfg.std[ch]
                  + v->cfg.mean[ch]) * 255.0;
      px[i * 3 + k] = (guint8) CLAMP (lround (x), 0, 255);
    }

  name = g_strdup_printf ("frame-%08" G_GINT64_FORMAT ".ppm",
                          (gint64) llround (pts_s * 1000.0));
  file = g_build_filename (v->dir, name, NULL);
  ok = g_file_set_contents (file, (const char *) v->ppm, (gssize) v->ppm_len,
                            &v->error);
  if (ok) {
    printf ("%s\t%.3f\n", file, pts_s);
    v->written++;
  }
  g_free (name);
  g_free (file);
  if (!ok)
    return FALSE;
  return v->max_frames == 0 || v->written < v->max_frames;
}

static GOptionContext *
video_context (gint64 *frames, double *every, char **out)
{
  GOptionEntry entries[] = {
    { "frames", 'n', 0, G_OPTION_ARG_INT64, frames,
      "Write at most N frames (default 0: all)", "N" },
    { "every", 'e', 0, G_OPTION_ARG_DOUBLE, every,
      "Write one frame every S seconds (default 0: every frame)", "S" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, out,
      "Directory for the images (created if missing; required)", "DIR" },
    { NULL }
  };
  GOptionContext *ctx = g_option_context_new ("FILE - write the frames the "
                                              "video encoder sees as images");

  g_option_context_set_description (ctx,
      "Decodes the first video stream and runs every frame through the\n"
      "default video front end (64x64 RGB, area downscale, mean 0.5, std\n"
      "0.25), exactly as mmdnnvideoenc does, then maps the normalised tensor\n"
      "back to 0..255 and writes it as a binary PPM (P6) named\n"
      "frame-<pts in ms, 8 digits>.ppm in DIR. Prints one line per image:\n"
      "its path, a tab, and the frame's time in seconds.\n"
      "\nExample:\n  mmdnn dump video clip.mkv --every 1 --out frames/\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  return ctx;
}

static int
dump_video (int argc, char **argv)
{
  gint64 frames = 0;
  double every = 0.0;
  char *out = NULL;
  GOptionContext *ctx = video_context (&frames, &every, &out);
  MmdnnMediaCallbacks cb = { NULL, NULL, NULL };
  MmdnnMediaInfo info;
  VideoDump v;
  GError *error = NULL;
  char *header;
  int status = CLI_FAILED;

  memset (&v, 0, sizeof v);
  if (!cli_parse (ctx, "dump video", &argc, &argv)) {
    g_option_context_free (ctx);
    g_free (out);
    return CLI_USAGE;
  }
  g_option_context_free (ctx);
  if (argc != 2 || !out || frames < 0 || !isfinite (every) || every < 0) {
    if (argc < 2)
      cli_errorf ("dump video: no FILE given");
    else if (argc > 2)
      cli_errorf ("dump video: one FILE only (got '%s' too)", argv[2]);
    else if (!out)
      cli_errorf ("dump video: --out DIR is required");
    else if (frames < 0)
      cli_errorf ("dump video: --frames %" G_GINT64_FORMAT " must be >= 0",
                  frames);
    else
      cli_errorf ("dump video: --every %g must be >= 0", every);
    fprintf (stderr, "Try 'mmdnn dump video --help'.\n");
    g_free (out);
    return CLI_USAGE;
  }
  v.path = argv[1];
  v.dir = out;
  v.max_frames = frames;
  v.every = every;

  if (!mmdnn_media_probe (v.path, &info, &error)) {
    cli_error (v.path, error);
    goto done;
  }
  if (!info.has_video) {
    cli_errorf ("%s: no video stream", v.path);
    goto done;
  }
  if (g_mkdir_with_parents (out, 0777) != 0) {
    cli_errorf ("%s: cannot create the directory: %s", out,
                g_strerror (errno));
    goto done;
  }
  if (!g_file_test (out, G_FILE_TEST_IS_DIR)) {
    cli_errorf ("%s: not a directory", out);
    goto done;
  }

  mmdnn_video_config_init (&v.cfg);
  v.vp = mmdnn_video_prep_new (&v.cfg, &error);
  if (!v.vp) {
    cli_error (NULL, error);
    goto done;
  }
  v.chw = g_new (float, v.cfg.channels * v.cfg.height * v.cfg.width);
  header = g_strdup_printf ("P6\n%" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                            "\n255\n", v.cfg.width, v.cfg.height);
  v.ppm_header = strlen (header);
  v.ppm_len = v.ppm_header + 3 * (gsize) (v.cfg.width * v.cfg.height);
  v.ppm = g_malloc (v.ppm_len);
  memcpy (v.ppm, header, v.ppm_header);
  g_free (header);

  cb.video = video_cb;
  if (!mmdnn_media_decode (v.path, 16000, &cb, &v, &error)) {
    cli_error (v.path, error);
    goto done;
  }
  if (v.error) {
    cli_error (v.path, v.error);
    goto done;
  }
  if (v.written == 0)
    fprintf (stderr, "mmdnn: warning: %s: no video frame decoded\n", v.path);
  status = CLI_OK;

done:
  g_clear_error (&error);
  g_clear_error (&v.error);
  mmdnn_video_prep_free (v.vp);
  g_free (v.chw);
  g_free (v.ppm);
  g_free (out);
  return status;
}

/* ---- dump subtitles ----------------------------------------------------- */

typedef struct {
  MmdnnTextConfig cfg;
  gint64          cues;
  GError         *error;
} SubDump;

static gboolean
subtitle_cb (void *user, double start_s, double end_s, const char *text)
{
  SubDump *s = user;
  char *dump = mmdnn_text_dump (&s->cfg, text, -1, &s->error);
  char *shown;

  if (!dump)
    return FALSE;
  /* one line per cue: escape the cue's own line breaks */
  {
    char **lines = g_strsplit (text, "\n", -1);
    shown = g_strjoinv ("\\n", lines);
    g_strfreev (lines);
  }
  if (s->cues > 0)
    printf ("\n");
  printf ("%.3f\t%.3f\t%s\n", start_s, end_s, shown);
  print_indented (dump, "  ");
  s->cues++;
  g_free (shown);
  g_free (dump);
  return TRUE;
}

static GOptionContext *
subtitles_context (TextOpts *o)
{
  GOptionContext *ctx = g_option_context_new ("FILE - show each subtitle cue "
                                              "and its tokens");

  g_option_context_set_description (ctx,
      "Decodes the first subtitle stream (text or ASS). Per cue: a line\n"
      "'start_s<TAB>end_s<TAB>text' (line breaks in the text shown as \\n),\n"
      "then its tokens as 'mmdnn dump text' prints them, indented by two\n"
      "spaces. Cues are separated by an empty line.\n"
      "\nExample:\n  mmdnn dump subtitles movie.mkv\n");
  add_text_entries (ctx, o);
  return ctx;
}

static int
dump_subtitles (int argc, char **argv)
{
  TextOpts o;
  GOptionContext *ctx;
  MmdnnMediaCallbacks cb = { NULL, NULL, NULL };
  MmdnnMediaInfo info;
  SubDump s;
  GError *error = NULL;
  const char *path;
  int status = CLI_FAILED;

  memset (&s, 0, sizeof s);
  text_opts_init (&o);
  ctx = subtitles_context (&o);
  if (!cli_parse (ctx, "dump subtitles", &argc, &argv)) {
    g_option_context_free (ctx);
    return CLI_USAGE;
  }
  g_option_context_free (ctx);
  if (!text_opts_config (&o, "dump subtitles", &s.cfg))
    return CLI_USAGE;
  if (argc != 2) {
    if (argc < 2)
      cli_errorf ("dump subtitles: no FILE given");
    else
      cli_errorf ("dump subtitles: one FILE only (got '%s' too)", argv[2]);
    fprintf (stderr, "Try 'mmdnn dump subtitles --help'.\n");
    return CLI_USAGE;
  }
  path = argv[1];

  if (!mmdnn_media_probe (path, &info, &error)) {
    cli_error (path, error);
    goto done;
  }
  if (!info.has_subtitle) {
    cli_errorf ("%s: no subtitle stream", path);
    goto done;
  }
  cb.subtitle = subtitle_cb;
  if (!mmdnn_media_decode (path, 16000, &cb, &s, &error)) {
    cli_error (path, error);
    goto done;
  }
  if (s.error) {
    cli_error (path, s.error);
    goto done;
  }
  status = CLI_OK;

done:
  g_clear_error (&error);
  g_clear_error (&s.error);
  return status;
}

/* ---- dispatch ----------------------------------------------------------- */

typedef struct {
  const char *name;
  const char *summary;
  int (*run) (int argc, char **argv);
} DumpKind;

static const DumpKind kinds[] = {
  { "text", "tokens and hashed ids of text cues", dump_text },
  { "audio", "log-mel frames of a file's audio (summary, CSV or PGM)",
    dump_audio },
  { "video", "a file's frames as the encoder sees them (PPM images)",
    dump_video },
  { "subtitles", "a file's subtitle cues, times and tokens", dump_subtitles },
};

void
cli_dump_help (void)
{
  printf ("Usage: mmdnn dump KIND [OPTION...] ARGS\n\n"
          "Show exactly what the encoders see, using the same preprocessing\n"
          "code and default configuration as the GStreamer elements.\n\n"
          "Kinds:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++)
    printf ("  %-10s %s\n", kinds[i].name, kinds[i].summary);
  printf ("\nRun 'mmdnn dump KIND --help' for a kind's options.\n");
}

int
cli_dump_run (int argc, char **argv)
{
  char *prgname;
  int status;

  if (argc < 2) {
    cli_errorf ("dump: which KIND? (text, audio, video or subtitles)");
    fprintf (stderr, "Try 'mmdnn help dump'.\n");
    return CLI_USAGE;
  }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0) {
    cli_dump_help ();
    return CLI_OK;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++) {
    if (strcmp (argv[1], kinds[i].name) != 0)
      continue;
    /* GOption prints "Usage: PRGNAME [OPTION…] …" */
    prgname = g_strdup_printf ("mmdnn dump %s", kinds[i].name);
    g_set_prgname (prgname);
    g_free (prgname);
    return kinds[i].run (argc - 1, argv + 1);
  }
  cli_errorf ("dump: unknown KIND '%s' (text, audio, video or subtitles)",
              argv[1]);
  status = CLI_USAGE;
  return status;
}
