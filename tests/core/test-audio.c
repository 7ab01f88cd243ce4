/* Log-mel front end: NumPy goldens, an independent naive DFT reference,
 * streaming exactness, and argument/data checks.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <mmdnn/audio.h>
#include <mmdnn/rng.h>
#include "golden-file.h"
#include "gradcheck.h"

#define GOLDEN_TOL 1e-3         /* absolute, on ln values (the spec's bound) */

/* ---- independent reference (double, naive DFT) ------------------------ */

/* The mel formulas written again from their definitions (Slaney's Auditory
 * Toolbox and HTK), not shared with audio.c. */
static double
ref_hz_to_mel (double f, MmdnnMelScale scale)
{
  if (scale == MMDNN_MEL_HTK)
    return 2595.0 * log10 (1.0 + f / 700.0);
  return f < 1000.0 ? 3.0 * f / 200.0
                    : 15.0 + 27.0 * log (f / 1000.0) / log (6.4);
}

static double
ref_mel_to_hz (double m, MmdnnMelScale scale)
{
  if (scale == MMDNN_MEL_HTK)
    return 700.0 * (pow (10.0, m / 2595.0) - 1.0);
  return m < 15.0 ? 200.0 * m / 3.0
                  : 1000.0 * pow (6.4, (m - 15.0) / 27.0);
}

/* frequency (Hz) of the n_mels + 2 triangle corners: hz[i], hz[i+1] (peak)
 * and hz[i+2] bound band i; (n_mels + 2) doubles, g_free */
static double *
ref_band_edges (const MmdnnLogMelConfig *c)
{
  double *hz = g_new (double, c->n_mels + 2);
  double lo = ref_hz_to_mel (c->fmin, c->scale);
  double hi = ref_hz_to_mel (c->fmax, c->scale);

  for (int64_t i = 0; i < c->n_mels + 2; i++)
    hz[i] = ref_mel_to_hz (lo + (hi - lo) * (double) i
                           / (double) (c->n_mels + 1), c->scale);
  return hz;
}

/* out:(T, n_mels) double for every complete non-centred frame of x:(n) */
static double *
ref_logmel (const MmdnnLogMelConfig *c, const float *x, int64_t n,
            int64_t *n_frames)
{
  int64_t bins = c->n_fft / 2 + 1;
  int64_t t_count = n < c->win_length ? 0
                    : (n - c->win_length) / c->hop_length + 1;
  double *hz = ref_band_edges (c);
  double *cs = g_new (double, c->n_fft), *sn = g_new (double, c->n_fft);
  double *pw = g_new (double, bins);
  double *out = g_new0 (double, MAX (t_count, 1) * c->n_mels);

  for (int64_t j = 0; j < c->n_fft; j++) {
    cs[j] = cos (2.0 * G_PI * (double) j / (double) c->n_fft);
    sn[j] = sin (2.0 * G_PI * (double) j / (double) c->n_fft);
  }
  for (int64_t t = 0; t < t_count; t++) {
    const float *f = x + t * c->hop_length;

    for (int64_t k = 0; k < bins; k++) {
      double re = 0.0, im = 0.0;

      for (int64_t i = 0; i < c->win_length; i++) {
        double w = 0.5 * (1.0 - cos (2.0 * G_PI * (double) i
                                     / (double) c->win_length));
        int64_t j = (k * i) % c->n_fft;

        re += f[i] * w * cs[j];
        im -= f[i] * w * sn[j];
      }
      pw[k] = re * re + im * im;
    }
    for (int64_t m = 0; m < c->n_mels; m++) {
      double acc = 0.0;

      for (int64_t k = 0; k < bins; k++) {
        double fk = (double) k * (double) c->sample_rate / (double) c->n_fft;
        double tri = 0.0;

        if (fk > hz[m] && fk <= hz[m + 1])
          tri = (fk - hz[m]) / (hz[m + 1] - hz[m]);
        else if (fk > hz[m + 1] && fk < hz[m + 2])
          tri = (hz[m + 2] - fk) / (hz[m + 2] - hz[m + 1]);
        acc += tri * 2.0 / (hz[m + 2] - hz[m]) * pw[k];
      }
      out[t * c->n_mels + m] = log (MAX (acc, (double) c->log_floor));
    }
  }
  g_free (hz);
  g_free (cs);
  g_free (sn);
  g_free (pw);
  *n_frames = t_count;
  return out;
}

static double
max_abs_diff (const float *got, const double *want, int64_t n)
{
  double worst = 0.0;

  for (int64_t i = 0; i < n; i++)
    worst = MAX (worst, fabs ((double) got[i] - want[i]));
  return worst;
}

/* ---- helpers ----------------------------------------------------------- */

static float *
noise (uint64_t seed, int64_t n, float amp)
{
  MmdnnRng rng;
  float *x = g_new (float, MAX (n, 1));

  mmdnn_rng_init (&rng, seed);
  mmdnn_rng_fill_uniform (&rng, x, n, -amp, amp);
  return x;
}

static void
config_small (MmdnnLogMelConfig *c, int64_t sr, int64_t win, int64_t hop,
              int64_t n_fft, int64_t n_mels, float fmin, float fmax,
              MmdnnMelScale scale)
{
  mmdnn_logmel_config_init (c);
  c->sample_rate = sr;
  c->win_length = win;
  c->hop_length = hop;
  c->n_fft = n_fft;
  c->n_mels = n_mels;
  c->fmin = fmin;
  c->fmax = fmax;
  c->scale = scale;
}

/* Pulls everything available; returns a (count, n_mels) g_free'd array. */
static float *
pull_all (MmdnnLogMel *lm, int64_t *count)
{
  int64_t avail = mmdnn_logmel_frames_available (lm);
  int64_t n_mels = mmdnn_logmel_get_config (lm)->n_mels;
  float *f = g_new (float, MAX (avail, 1) * n_mels);

  g_assert_cmpint (mmdnn_logmel_pull (lm, f, avail), ==, avail);
  g_assert_cmpint (mmdnn_logmel_frames_available (lm), ==, 0);
  *count = avail;
  return f;
}

/* ---- golden files (tests/core/golden/make-logmel-golden.py) ------------ */

static void
check_golden (const char *case_name, MmdnnMelScale want_scale)
{
  Golden *g = golden_open (case_name);
  MmdnnLogMelConfig c;
  MmdnnLogMel *lm;
  GError *err = NULL;
  int64_t n, n_want, count, done = 0, pulled = 0;
  const float *x, *want;
  float *got, *streamed;
  double worst = 0.0;
  const GoldenTensor *samples_t, *frames_t;

  g_assert_nonnull (g);
  c.sample_rate = golden_scalar_i (g, "sample_rate");
  c.win_length = golden_scalar_i (g, "win_length");
  c.hop_length = golden_scalar_i (g, "hop_length");
  c.n_fft = golden_scalar_i (g, "n_fft");
  c.n_mels = golden_scalar_i (g, "n_mels");
  c.scale = (MmdnnMelScale) golden_scalar_i (g, "scale");
  c.fmin = golden_scalar_f (g, "fmin");
  c.fmax = golden_scalar_f (g, "fmax");
  c.log_floor = golden_scalar_f (g, "log_floor");
  g_assert_false (g->failed);
  g_assert_cmpint (c.scale, ==, want_scale);
  samples_t = golden_lookup (g, "samples", GOLDEN_F32, 1, SHAPE (GOLDEN_ANY),
                             &err);
  g_assert_no_error (err);
  /* (T, n_mels): the lookup asserts ndim 2 and the mel count */
  frames_t = golden_lookup (g, "frames", GOLDEN_F32, 2,
                            SHAPE (GOLDEN_ANY, c.n_mels), &err);
  g_assert_no_error (err);
  x = samples_t->data;
  n = samples_t->numel;
  want = frames_t->data;
  n_want = frames_t->numel;
  g_assert_cmpuint (frames_t->ndim, ==, 2);
  g_assert_cmpint (frames_t->shape[1], ==, c.n_mels);

  g_assert_true (mmdnn_logmel_compute (&c, x, n, &got, &count, &err));
  g_assert_no_error (err);
  g_assert_cmpint (count, ==, frames_t->shape[0]);
  for (int64_t i = 0; i < n_want; i++)
    worst = MAX (worst, fabs ((double) got[i] - (double) want[i]));
  g_test_message ("%s: %" G_GINT64_FORMAT " frames, max |C - NumPy| = %.3g",
                  case_name, count, worst);
  g_assert_true (check_close (case_name, got, want, n_want, GOLDEN_TOL));

  /* the same through the streaming API, odd chunks, bit-identical */
  lm = mmdnn_logmel_new (&c, &err);
  g_assert_no_error (err);
  streamed = g_new (float, n_want);
  while (done < n) {
    int64_t chunk = MIN (n - done, 333);

    g_assert_true (mmdnn_logmel_push_f32 (lm, x + done, chunk, &err));
    done += chunk;
    pulled += mmdnn_logmel_pull (lm, streamed + pulled * c.n_mels,
                                 count - pulled);
  }
  g_assert_cmpint (pulled, ==, count);
  g_assert_cmpmem (streamed, sizeof (float) * n_want,
                   got, sizeof (float) * n_want);

  mmdnn_logmel_free (lm);
  g_free (streamed);
  g_free (got);
  golden_free (g);
}

static void
test_golden_slaney (void)
{
  check_golden ("logmel-slaney", MMDNN_MEL_SLANEY);
}

static void
test_golden_htk (void)
{
  check_golden ("logmel-htk", MMDNN_MEL_HTK);
}

/* ---- positive tests ---------------------------------------------------- */

static void
test_config_defaults (void)
{
  MmdnnLogMelConfig c;
  MmdnnLogMel *lm;
  GError *err = NULL;

  memset (&c, 0xab, sizeof (c));
  mmdnn_logmel_config_init (&c);
  g_assert_cmpint (c.sample_rate, ==, 16000);
  g_assert_cmpint (c.win_length, ==, 400);
  g_assert_cmpint (c.hop_length, ==, 160);
  g_assert_cmpint (c.n_fft, ==, 512);
  g_assert_cmpint (c.n_mels, ==, 64);
  g_assert_cmpfloat (c.fmin, ==, 0.0f);
  g_assert_cmpfloat (c.fmax, ==, 8000.0f);
  g_assert_cmpfloat (c.log_floor, ==, 1e-6f);
  g_assert_cmpint (c.scale, ==, MMDNN_MEL_SLANEY);

  lm = mmdnn_logmel_new (&c, &err);
  g_assert_no_error (err);
  g_assert_nonnull (lm);
  g_assert_cmpmem (mmdnn_logmel_get_config (lm), sizeof (c), &c, sizeof (c));
  g_assert_cmpint (mmdnn_logmel_frames_available (lm), ==, 0);
  g_assert_cmpint (mmdnn_logmel_samples_consumed (lm), ==, 0);
  mmdnn_logmel_free (lm);
}

/* The av_tx RDFT contract (sizes, stride, scale, n/2+1 outputs) and the
 * filterbank, checked against a naive double-precision DFT at several
 * sizes, including the smallest n_fft, win == n_fft, odd windows and hops,
 * fmin > 0, fmax < sr/2, both scales. */
static void
test_naive_reference (void)
{
  struct {
    int64_t sr, win, hop, n_fft, n_mels;
    float fmin, fmax;
    MmdnnMelScale s;
  } cases[] = {
    { 16000, 400, 160, 512, 64, 0.0f, 8000.0f, MMDNN_MEL_SLANEY },
    { 16000, 400, 160, 512, 64, 0.0f, 8000.0f, MMDNN_MEL_HTK },
    { 8000, 16, 5, 16, 4, 100.0f, 4000.0f, MMDNN_MEL_HTK },
    { 8000, 33, 7, 64, 9, 0.0f, 3000.0f, MMDNN_MEL_SLANEY },
    { 22050, 1024, 256, 1024, 80, 30.0f, 11025.0f, MMDNN_MEL_SLANEY },
    { 44100, 1000, 441, 2048, 128, 0.0f, 22050.0f, MMDNN_MEL_HTK },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    MmdnnLogMelConfig c;
    GError *err = NULL;
    int64_t n = 3 * cases[i].win + 2 * cases[i].hop + 3, count, ref_count;
    float *x = noise (100 + i, n, 0.5f), *got;
    double *want, worst;
    char label[64];

    config_small (&c, cases[i].sr, cases[i].win, cases[i].hop, cases[i].n_fft,
                  cases[i].n_mels, cases[i].fmin, cases[i].fmax, cases[i].s);
    g_assert_true (mmdnn_logmel_compute (&c, x, n, &got, &count, &err));
    g_assert_no_error (err);
    want = ref_logmel (&c, x, n, &ref_count);
    g_assert_cmpint (count, ==, ref_count);
    g_assert_cmpint (count, >=, 3);
    worst = max_abs_diff (got, want, count * c.n_mels);
    g_snprintf (label, sizeof (label), "case %u (n_fft %" G_GINT64_FORMAT ")",
                i, c.n_fft);
    g_test_message ("%s: max |C - naive| = %.3g", label, worst);
    if (worst > GOLDEN_TOL)
      g_error ("%s: max |C - naive| = %g > %g", label, worst, GOLDEN_TOL);
    g_free (want);
    g_free (got);
    g_free (x);
  }
}

/* A pure tone peaks in the band whose centre is nearest in mel, for 1 kHz
 * and for tones placed at band centres, on both scales. */
static void
check_tone (const MmdnnLogMelConfig *c, double freq, int64_t want_band)
{
  int64_t n = c->sample_rate / 4, count;
  float *x = g_new (float, n), *got;
  GError *err = NULL;

  for (int64_t i = 0; i < n; i++)
    x[i] = (float) (0.5 * sin (2.0 * G_PI * freq * (double) i
                               / (double) c->sample_rate + 0.3));
  g_assert_true (mmdnn_logmel_compute (c, x, n, &got, &count, &err));
  g_assert_no_error (err);
  g_assert_cmpint (count, >, 0);
  for (int64_t t = 0; t < count; t++) {
    const float *row = got + t * c->n_mels;
    int64_t best = 0;

    for (int64_t m = 1; m < c->n_mels; m++)
      if (row[m] > row[best])
        best = m;
    if (best != want_band)
      g_error ("%s tone %.1f Hz frame %" G_GINT64_FORMAT ": peak in band %"
               G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT,
               c->scale == MMDNN_MEL_HTK ? "HTK" : "Slaney", freq, t, best,
               want_band);
  }
  g_free (got);
  g_free (x);
}

static void
test_tone_peak_band (void)
{
  for (int s = 0; s < 2; s++) {
    MmdnnLogMelConfig c;
    double *hz, target;
    int64_t nearest = 0;

    mmdnn_logmel_config_init (&c);
    c.scale = s == 0 ? MMDNN_MEL_SLANEY : MMDNN_MEL_HTK;
    hz = ref_band_edges (&c);
    /* band m peaks at hz[m + 1] */
    target = ref_hz_to_mel (1000.0, c.scale);
    for (int64_t m = 1; m < c.n_mels; m++)
      if (fabs (ref_hz_to_mel (hz[m + 1], c.scale) - target)
          < fabs (ref_hz_to_mel (hz[nearest + 1], c.scale) - target))
        nearest = m;
    check_tone (&c, 1000.0, nearest);
    for (int64_t m = 20; m < c.n_mels; m += 9)
      check_tone (&c, hz[m + 1], m);
    g_free (hz);
  }
}

/* Chunks of 1, 7, 160, 401 and random sizes, with pulls of random sizes in
 * between, give bit-identical frames to one big push; consumed samples
 * track the pulled frames. Also for hop > win (skipped samples) and
 * win == n_fft with hop 1. */
static void
test_chunking_invariance (void)
{
  MmdnnLogMelConfig cfgs[3];
  MmdnnRng rng;

  mmdnn_logmel_config_init (&cfgs[0]);
  config_small (&cfgs[1], 16000, 100, 250, 128, 20, 0.0f, 8000.0f,
                MMDNN_MEL_SLANEY);
  config_small (&cfgs[2], 8000, 256, 1, 256, 32, 50.0f, 3900.0f,
                MMDNN_MEL_HTK);
  mmdnn_rng_init (&rng, 7);

  for (guint ci = 0; ci < G_N_ELEMENTS (cfgs); ci++) {
    const MmdnnLogMelConfig *c = &cfgs[ci];
    const int64_t fixed[] = { 1, 7, 160, 401 };
    int64_t n = ci == 2 ? 1500 : 16000 + 37, count, pulled = 0, done = 0;
    float *x = noise (ci + 1, n, 0.8f), *want, *got;
    GError *err = NULL;
    MmdnnLogMel *lm;

    g_assert_true (mmdnn_logmel_compute (c, x, n, &want, &count, &err));
    g_assert_no_error (err);
    lm = mmdnn_logmel_new (c, &err);
    g_assert_no_error (err);
    got = g_new (float, count * c->n_mels);

    for (int pass = 0; done < n; pass++) {
      int64_t chunk = pass < 16 ? fixed[pass % 4]
                      : 1 + (int64_t) mmdnn_rng_below (&rng, 900);
      int64_t want_pull = (int64_t) mmdnn_rng_below (&rng, 6), r;

      chunk = MIN (chunk, n - done);
      if (pass % 5 == 0)
        g_assert_true (mmdnn_logmel_push_f32 (lm, NULL, 0, &err));
      g_assert_true (mmdnn_logmel_push_f32 (lm, x + done, chunk, &err));
      g_assert_no_error (err);
      done += chunk;
      r = mmdnn_logmel_pull (lm, got + pulled * c->n_mels,
                             MIN (want_pull, count - pulled));
      g_assert_cmpint (r, >=, 0);
      pulled += r;
      g_assert_cmpint (mmdnn_logmel_samples_consumed (lm), ==,
                       pulled * c->hop_length);
    }
    while (pulled < count) {
      int64_t r = mmdnn_logmel_pull (lm, got + pulled * c->n_mels, 1);

      g_assert_cmpint (r, ==, 1);
      pulled++;
    }
    g_assert_cmpint (mmdnn_logmel_frames_available (lm), ==, 0);
    g_assert_cmpmem (got, sizeof (float) * count * c->n_mels,
                     want, sizeof (float) * count * c->n_mels);
    mmdnn_logmel_free (lm);
    g_free (got);
    g_free (want);
    g_free (x);
  }
}

/* push_s16 (s/32768) and push_f32 of the same values agree bit for bit. */
static void
test_s16_matches_f32 (void)
{
  MmdnnLogMelConfig c;
  MmdnnLogMel *a, *b;
  MmdnnRng rng;
  GError *err = NULL;
  int64_t n = 5000, na, nb, done = 0;
  int16_t *s = g_new (int16_t, n);
  float *x = g_new (float, n), *fa, *fb;

  mmdnn_logmel_config_init (&c);
  mmdnn_rng_init (&rng, 11);
  for (int64_t i = 0; i < n; i++) {
    s[i] = (int16_t) ((int64_t) mmdnn_rng_below (&rng, 65536) - 32768);
    if (i == 10)
      s[i] = INT16_MIN;
    if (i == 11)
      s[i] = INT16_MAX;
    x[i] = (float) s[i] / 32768.0f;
  }
  a = mmdnn_logmel_new (&c, &err);
  b = mmdnn_logmel_new (&c, &err);
  g_assert_no_error (err);
  while (done < n) {
    int64_t chunk = 1 + (int64_t) mmdnn_rng_below (&rng, 700);

    chunk = MIN (chunk, n - done);    /* MIN evaluates twice: no rng in it */
    g_assert_true (mmdnn_logmel_push_s16 (a, s + done, chunk, &err));
    done += chunk;
  }
  g_assert_true (mmdnn_logmel_push_s16 (a, NULL, 0, &err));
  g_assert_true (mmdnn_logmel_push_f32 (b, x, n, &err));
  g_assert_no_error (err);
  fa = pull_all (a, &na);
  fb = pull_all (b, &nb);
  g_assert_cmpint (na, ==, (n - 400) / 160 + 1);
  g_assert_cmpint (na, ==, nb);
  g_assert_cmpmem (fa, sizeof (float) * na * c.n_mels,
                   fb, sizeof (float) * nb * c.n_mels);
  mmdnn_logmel_free (a);
  mmdnn_logmel_free (b);
  g_free (fa);
  g_free (fb);
  g_free (x);
  g_free (s);
}

/* samples_consumed is the first sample of the next frame; reset makes the
 * instance behave like a new one. */
static void
test_consumed_and_reset (void)
{
  MmdnnLogMelConfig c, skip_c;
  MmdnnLogMel *lm;
  GError *err = NULL;
  float *x = noise (3, 1000, 0.5f), frames[4 * 64], *again, *fresh;
  int64_t n_again, n_fresh;

  mmdnn_logmel_config_init (&c);
  lm = mmdnn_logmel_new (&c, &err);
  g_assert_true (mmdnn_logmel_push_f32 (lm, x, 399, &err));
  g_assert_cmpint (mmdnn_logmel_frames_available (lm), ==, 0);
  g_assert_true (mmdnn_logmel_push_f32 (lm, x + 399, 1, &err));
  g_assert_cmpint (mmdnn_logmel_frames_available (lm), ==, 1);
  g_assert_true (mmdnn_logmel_push_f32 (lm, x + 400, 600, &err));
  g_assert_no_error (err);
  g_assert_cmpint (mmdnn_logmel_frames_available (lm), ==, 4);   /* 0,160,320,480 */
  g_assert_cmpint (mmdnn_logmel_pull (lm, frames, 2), ==, 2);
  g_assert_cmpint (mmdnn_logmel_samples_consumed (lm), ==, 320);
  g_assert_cmpint (mmdnn_logmel_frames_available (lm), ==, 2);
  g_assert_cmpint (mmdnn_logmel_pull (lm, frames, 10), ==, 2);
  g_assert_cmpint (mmdnn_logmel_samples_consumed (lm), ==, 640);

  /* a reset mid-stream drops the 360 pending samples */
  mmdnn_logmel_reset (lm);
  g_assert_cmpint (mmdnn_logmel_samples_consumed (lm), ==, 0);
  g_assert_cmpint (mmdnn_logmel_frames_available (lm), ==, 0);
  g_assert_true (mmdnn_logmel_push_f32 (lm, x, 1000, &err));
  again = pull_all (lm, &n_again);
  g_assert_true (mmdnn_logmel_compute (&c, x, 1000, &fresh, &n_fresh, &err));
  g_assert_cmpint (n_again, ==, n_fresh);
  g_assert_cmpmem (again, sizeof (float) * n_again * c.n_mels,
                   fresh, sizeof (float) * n_fresh * c.n_mels);
  mmdnn_logmel_free (lm);
  g_free (again);
  g_free (fresh);

  /* hop > win: after a pull the stream owes skipped samples; reset clears
   * that debt too */
  config_small (&skip_c, 16000, 100, 300, 128, 16, 0.0f, 8000.0f,
                MMDNN_MEL_SLANEY);
  lm = mmdnn_logmel_new (&skip_c, &err);
  g_assert_no_error (err);
  g_assert_true (mmdnn_logmel_push_f32 (lm, x, 150, &err));
  g_assert_cmpint (mmdnn_logmel_pull (lm, frames, 1), ==, 1);
  g_assert_cmpint (mmdnn_logmel_samples_consumed (lm), ==, 300);
  mmdnn_logmel_reset (lm);
  g_assert_true (mmdnn_logmel_push_f32 (lm, x, 1000, &err));
  again = pull_all (lm, &n_again);
  g_assert_true (mmdnn_logmel_compute (&skip_c, x, 1000, &fresh, &n_fresh,
                                       &err));
  g_assert_no_error (err);
  g_assert_cmpint (n_again, ==, 4);       /* starts 0, 300, 600, 900 */
  g_assert_cmpint (n_again, ==, n_fresh);
  g_assert_cmpmem (again, sizeof (float) * n_again * skip_c.n_mels,
                   fresh, sizeof (float) * n_fresh * skip_c.n_mels);
  mmdnn_logmel_free (lm);
  g_free (again);
  g_free (fresh);
  g_free (x);
}

/* One-shot compute: frame count for various lengths, no frame → NULL. */
static void
test_compute_one_shot (void)
{
  MmdnnLogMelConfig c;
  GError *err = NULL;
  float *x = noise (5, 2000, 0.3f), *f = x;
  int64_t count = -5;

  mmdnn_logmel_config_init (&c);
  g_assert_true (mmdnn_logmel_compute (&c, x, 399, &f, &count, &err));
  g_assert_no_error (err);
  g_assert_null (f);
  g_assert_cmpint (count, ==, 0);
  g_assert_true (mmdnn_logmel_compute (&c, NULL, 0, &f, &count, &err));
  g_assert_null (f);
  g_assert_cmpint (count, ==, 0);
  g_assert_true (mmdnn_logmel_compute (&c, x, 400, &f, &count, &err));
  g_assert_cmpint (count, ==, 1);
  g_free (f);
  g_assert_true (mmdnn_logmel_compute (&c, x, 2000, &f, &count, &err));
  g_assert_no_error (err);
  g_assert_cmpint (count, ==, (2000 - 400) / 160 + 1);
  for (int64_t i = 0; i < count * c.n_mels; i++)
    g_assert_true (isfinite (f[i]));
  g_free (f);
  g_free (x);
}

/* Digital silence is exactly ln(floor), and a quiet signal under the floor
 * is clamped to it too. */
static void
test_silence_floor (void)
{
  MmdnnLogMelConfig c;
  GError *err = NULL;
  float *x = g_new0 (float, 1600), *f;
  int64_t count;
  float want;

  mmdnn_logmel_config_init (&c);
  c.log_floor = 1e-3f;
  want = (float) log ((double) c.log_floor);
  g_assert_true (mmdnn_logmel_compute (&c, x, 1600, &f, &count, &err));
  g_assert_no_error (err);
  for (int64_t i = 0; i < count * c.n_mels; i++)
    g_assert_cmpfloat (f[i], ==, want);
  g_free (f);
  for (int64_t i = 0; i < 1600; i++)
    x[i] = (i % 2 ? 1e-7f : -1e-7f);
  g_assert_true (mmdnn_logmel_compute (&c, x, 1600, &f, &count, &err));
  for (int64_t i = 0; i < count * c.n_mels; i++)
    g_assert_cmpfloat (f[i], ==, want);
  g_free (f);
  g_free (x);
}

/* ---- negative tests ---------------------------------------------------- */

/* @c must be rejected by _new and _compute with INVALID_ARGUMENT, a message
 * naming @field, and no output touched. */
static void
expect_bad_config (const MmdnnLogMelConfig *c, const char *field)
{
  GError *err = NULL;
  float x[8] = { 0 }, *frames = x;
  int64_t count = 77;

  g_assert_null (mmdnn_logmel_new (c, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  if (strstr (err->message, field) == NULL)
    g_error ("message \"%s\" does not name %s", err->message, field);
  g_clear_error (&err);
  g_assert_false (mmdnn_logmel_compute (c, x, 8, &frames, &count, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_true (frames == x);
  g_assert_cmpint (count, ==, 77);
  g_clear_error (&err);
}

static void
test_config_null_n (void)
{
  GError *err = NULL;
  float *frames = NULL;
  int64_t count = 3;

  g_assert_null (mmdnn_logmel_new (NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_logmel_compute (NULL, NULL, 0, &frames, &count, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_assert_null (frames);
  g_assert_cmpint (count, ==, 3);
  g_clear_error (&err);
  mmdnn_logmel_config_init (NULL);        /* a no-op, no crash */
}

static void
test_config_sample_rate_n (void)
{
  const int64_t bad[] = { 0, -16000, INT64_MIN };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    MmdnnLogMelConfig c;

    mmdnn_logmel_config_init (&c);
    c.sample_rate = bad[i];
    expect_bad_config (&c, "sample_rate");
  }
  {
    /* a valid rate too low for the default fmax = 8000 Hz: fmax names it */
    MmdnnLogMelConfig c;

    mmdnn_logmel_config_init (&c);
    c.sample_rate = 8000;
    expect_bad_config (&c, "fmax");
  }
}

static void
test_config_win_length_n (void)
{
  const int64_t bad[] = { 0, -1, 513, 100000 };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    MmdnnLogMelConfig c;

    mmdnn_logmel_config_init (&c);
    c.win_length = bad[i];
    expect_bad_config (&c, "win_length");
  }
}

static void
test_config_hop_length_n (void)
{
  const int64_t bad[] = { 0, -160 };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    MmdnnLogMelConfig c;

    mmdnn_logmel_config_init (&c);
    c.hop_length = bad[i];
    expect_bad_config (&c, "hop_length");
  }
}

static void
test_config_n_fft_n (void)
{
  const int64_t bad[] = { 0, -512, 8, 500, 513, 768, 131072, INT64_MIN };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    MmdnnLogMelConfig c;

    mmdnn_logmel_config_init (&c);
    c.n_fft = bad[i];
    c.win_length = 8;
    c.n_mels = 2;
    expect_bad_config (&c, "n_fft");
  }
}

static void
test_config_n_mels_n (void)
{
  const int64_t bad[] = { 0, -64, 258, 1000 };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    MmdnnLogMelConfig c;

    mmdnn_logmel_config_init (&c);
    c.n_mels = bad[i];
    expect_bad_config (&c, "n_mels");
  }
}

static void
test_config_fmin_n (void)
{
  const float bad[] = { -1.0f, -INFINITY, NAN, 8000.0f, 9000.0f };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    MmdnnLogMelConfig c;

    mmdnn_logmel_config_init (&c);
    c.fmin = bad[i];
    /* fmin ≥ fmax is reported by the fmax check (it names both) */
    expect_bad_config (&c, isfinite (bad[i]) && bad[i] >= 0.0f ? "fmin = "
                       : "fmin");
  }
}

static void
test_config_fmax_n (void)
{
  const float bad[] = { 8000.5f, 16000.0f, INFINITY, NAN, 0.0f, -5.0f };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    MmdnnLogMelConfig c;

    mmdnn_logmel_config_init (&c);
    c.fmax = bad[i];
    expect_bad_config (&c, "fmax");
  }
}

static void
test_config_log_floor_n (void)
{
  const float bad[] = { 0.0f, -0.0f, -1e-6f, NAN, INFINITY };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    MmdnnLogMelConfig c;

    mmdnn_logmel_config_init (&c);
    c.log_floor = bad[i];
    expect_bad_config (&c, "log_floor");
  }
}

static void
test_config_scale_n (void)
{
  const int bad[] = { -1, 2, 99 };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    MmdnnLogMelConfig c;

    mmdnn_logmel_config_init (&c);
    c.scale = (MmdnnMelScale) bad[i];
    expect_bad_config (&c, "scale");
  }
}

static void
test_push_bad_args_n (void)
{
  MmdnnLogMelConfig c;
  MmdnnLogMel *lm;
  GError *err = NULL;
  float x[500] = { 0 };
  int16_t s[4] = { 0 };

  mmdnn_logmel_config_init (&c);
  lm = mmdnn_logmel_new (&c, &err);
  g_assert_true (mmdnn_logmel_push_f32 (lm, x, 450, &err));

  g_assert_false (mmdnn_logmel_push_f32 (NULL, x, 4, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_logmel_push_s16 (NULL, s, 4, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_logmel_push_f32 (lm, NULL, 4, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_logmel_push_s16 (lm, NULL, 4, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_logmel_push_f32 (lm, x, -1, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_logmel_push_s16 (lm, s, -4, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_logmel_push_f32 (lm, x, INT64_MAX, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  /* nothing was kept: 450 samples, still one frame and 50 to spare */
  g_assert_cmpint (mmdnn_logmel_frames_available (lm), ==, 1);
  g_assert_true (mmdnn_logmel_push_f32 (lm, x, 109, &err));
  g_assert_cmpint (mmdnn_logmel_frames_available (lm), ==, 1);
  g_assert_true (mmdnn_logmel_push_f32 (lm, x, 1, &err));
  g_assert_cmpint (mmdnn_logmel_frames_available (lm), ==, 2);
  mmdnn_logmel_free (lm);
}

/* A push holding a non-finite sample fails as DATA naming its index, and
 * the stream then continues exactly as if that push never happened
 * (including while skipping samples with hop > win). */
static void
check_bad_sample (float bad, int64_t at)
{
  MmdnnLogMelConfig cfgs[2];

  mmdnn_logmel_config_init (&cfgs[0]);
  config_small (&cfgs[1], 16000, 100, 300, 128, 16, 0.0f, 8000.0f,
                MMDNN_MEL_SLANEY);
  for (guint ci = 0; ci < G_N_ELEMENTS (cfgs); ci++) {
    const MmdnnLogMelConfig *c = &cfgs[ci];
    float *x = noise (9, 3000, 0.5f), *poisoned = noise (10, 500, 0.5f);
    float *fa, *fb, head[64 * 64];
    MmdnnLogMel *a, *b;
    GError *err = NULL;
    int64_t na, nb, avail, consumed;
    char where[64];

    poisoned[at] = bad;
    a = mmdnn_logmel_new (c, &err);
    b = mmdnn_logmel_new (c, &err);
    g_assert_no_error (err);
    g_assert_true (mmdnn_logmel_push_f32 (a, x, 1234, &err));
    g_assert_true (mmdnn_logmel_push_f32 (b, x, 1234, &err));
    /* pull a frame so that, for hop > win, a skip is pending */
    g_assert_cmpint (mmdnn_logmel_pull (a, head, 1), ==, 1);
    g_assert_cmpint (mmdnn_logmel_pull (b, head, 1), ==, 1);
    avail = mmdnn_logmel_frames_available (a);
    consumed = mmdnn_logmel_samples_consumed (a);

    g_assert_false (mmdnn_logmel_push_f32 (a, poisoned, 500, &err));
    g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_DATA);
    g_snprintf (where, sizeof (where), "samples[%" G_GINT64_FORMAT "]", at);
    if (strstr (err->message, where) == NULL)
      g_error ("message \"%s\" does not name %s", err->message, where);
    g_clear_error (&err);
    g_assert_cmpint (mmdnn_logmel_frames_available (a), ==, avail);
    g_assert_cmpint (mmdnn_logmel_samples_consumed (a), ==, consumed);

    g_assert_true (mmdnn_logmel_push_f32 (a, x + 1234, 3000 - 1234, &err));
    g_assert_true (mmdnn_logmel_push_f32 (b, x + 1234, 3000 - 1234, &err));
    g_assert_no_error (err);
    fa = pull_all (a, &na);
    fb = pull_all (b, &nb);
    g_assert_cmpint (na, >, 0);
    g_assert_cmpint (na, ==, nb);
    g_assert_cmpmem (fa, sizeof (float) * na * c->n_mels,
                     fb, sizeof (float) * nb * c->n_mels);
    mmdnn_logmel_free (a);
    mmdnn_logmel_free (b);
    g_free (fa);
    g_free (fb);
    g_free (poisoned);
    g_free (x);
  }
}

static void
test_push_nan_n (void)
{
  check_bad_sample (NAN, 123);
  check_bad_sample (-NAN, 499);
}

static void
test_push_inf_n (void)
{
  check_bad_sample (INFINITY, 0);
  check_bad_sample (-INFINITY, 321);
}

static void
test_pull_bad_args_n (void)
{
  MmdnnLogMelConfig c;
  MmdnnLogMel *lm;
  GError *err = NULL;
  float *x = noise (4, 1000, 0.5f), out[64 * 4];

  mmdnn_logmel_config_init (&c);
  lm = mmdnn_logmel_new (&c, &err);
  g_assert_true (mmdnn_logmel_push_f32 (lm, x, 1000, &err));
  for (guint i = 0; i < G_N_ELEMENTS (out); i++)
    out[i] = 42.0f;

  g_assert_cmpint (mmdnn_logmel_pull (NULL, out, 1), ==, -1);
  g_assert_cmpint (mmdnn_logmel_pull (lm, out, -1), ==, -1);
  g_assert_cmpint (mmdnn_logmel_pull (lm, out, INT64_MIN), ==, -1);
  g_assert_cmpint (mmdnn_logmel_pull (lm, NULL, 1), ==, -1);
  /* max_frames 0 is a valid no-op, with or without a buffer */
  g_assert_cmpint (mmdnn_logmel_pull (lm, NULL, 0), ==, 0);
  g_assert_cmpint (mmdnn_logmel_pull (lm, out, 0), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (out); i++)
    g_assert_cmpfloat (out[i], ==, 42.0f);
  g_assert_cmpint (mmdnn_logmel_frames_available (lm), ==, 4);
  g_assert_cmpint (mmdnn_logmel_samples_consumed (lm), ==, 0);

  /* pulling more than available returns what there is, and then 0 */
  g_assert_cmpint (mmdnn_logmel_pull (lm, out, 1000000), ==, 4);
  g_assert_cmpint (mmdnn_logmel_pull (lm, out, 1), ==, 0);
  mmdnn_logmel_free (lm);
  g_free (x);
}

static void
test_accessors_null_n (void)
{
  g_assert_cmpint (mmdnn_logmel_frames_available (NULL), ==, -1);
  g_assert_cmpint (mmdnn_logmel_samples_consumed (NULL), ==, -1);
  g_assert_null (mmdnn_logmel_get_config (NULL));
  mmdnn_logmel_reset (NULL);
  mmdnn_logmel_free (NULL);
}

static void
test_compute_bad_args_n (void)
{
  MmdnnLogMelConfig c;
  GError *err = NULL;
  float *x = noise (6, 1000, 0.5f), *frames = x;
  int64_t count = 99;

  mmdnn_logmel_config_init (&c);
  g_assert_false (mmdnn_logmel_compute (&c, x, 1000, NULL, &count, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_logmel_compute (&c, x, 1000, &frames, NULL, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_logmel_compute (&c, NULL, 1000, &frames, &count, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_false (mmdnn_logmel_compute (&c, x, -1, &frames, &count, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  x[777] = NAN;
  g_assert_false (mmdnn_logmel_compute (&c, x, 1000, &frames, &count, &err));
  g_assert_error (err, MMDNN_ERROR, MMDNN_ERROR_DATA);
  g_assert_nonnull (strstr (err->message, "samples[777]"));
  g_clear_error (&err);
  g_assert_true (frames == x);
  g_assert_cmpint (count, ==, 99);
  g_free (x);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/audio/config-defaults", test_config_defaults);
  g_test_add_func ("/audio/naive-reference", test_naive_reference);
  g_test_add_func ("/audio/golden-slaney", test_golden_slaney);
  g_test_add_func ("/audio/golden-htk", test_golden_htk);
  g_test_add_func ("/audio/tone-peak-band", test_tone_peak_band);
  g_test_add_func ("/audio/chunking-invariance", test_chunking_invariance);
  g_test_add_func ("/audio/s16-matches-f32", test_s16_matches_f32);
  g_test_add_func ("/audio/consumed-and-reset", test_consumed_and_reset);
  g_test_add_func ("/audio/compute-one-shot", test_compute_one_shot);
  g_test_add_func ("/audio/silence-floor", test_silence_floor);

  g_test_add_func ("/audio/config-null_n", test_config_null_n);
  g_test_add_func ("/audio/config-sample-rate_n", test_config_sample_rate_n);
  g_test_add_func ("/audio/config-win-length_n", test_config_win_length_n);
  g_test_add_func ("/audio/config-hop-length_n", test_config_hop_length_n);
  g_test_add_func ("/audio/config-n-fft_n", test_config_n_fft_n);
  g_test_add_func ("/audio/config-n-mels_n", test_config_n_mels_n);
  g_test_add_func ("/audio/config-fmin_n", test_config_fmin_n);
  g_test_add_func ("/audio/config-fmax_n", test_config_fmax_n);
  g_test_add_func ("/audio/config-log-floor_n", test_config_log_floor_n);
  g_test_add_func ("/audio/config-scale_n", test_config_scale_n);
  g_test_add_func ("/audio/push-bad-args_n", test_push_bad_args_n);
  g_test_add_func ("/audio/push-nan_n", test_push_nan_n);
  g_test_add_func ("/audio/push-inf_n", test_push_inf_n);
  g_test_add_func ("/audio/pull-bad-args_n", test_pull_bad_args_n);
  g_test_add_func ("/audio/accessors-null_n", test_accessors_null_n);
  g_test_add_func ("/audio/compute-bad-args_n", test_compute_bad_args_n);

  return g_test_run ();
}
