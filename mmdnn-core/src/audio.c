/* mmdnn — audio preprocessing: streaming log-mel spectrogram.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include <libavutil/mem.h>
#include <libavutil/tx.h>

#include <mmdnn/audio.h>
#include <mmdnn/tensor.h>
#include "internal.h"

#define MAX_N_FFT 65536

struct _MmdnnLogMel {
  MmdnnLogMelConfig config;
  int64_t         n_bins;       /* n_fft/2 + 1 */

  AVTXContext    *tx;
  av_tx_fn        tx_fn;
  float          *fft_in;       /* (n_fft), av_malloc'ed for av_tx alignment */
  AVComplexFloat *fft_out;      /* (n_bins) */
  double         *power;        /* (n_bins) */
  float          *window;       /* (win_length) periodic Hann */

  /* Sparse filterbank: band m has weights[band_off[m] .. + band_len[m]]
   * applying to bins band_start[m] ..; its non-zeros are contiguous. */
  double         *weights;
  int64_t        *band_start, *band_len, *band_off;

  /* Pending samples buf[start .. start+len): the first one is the first
   * sample of the next frame. skip > 0 only when hop > win: samples of the
   * stream still to be dropped before the next frame starts. */
  float          *buf;
  int64_t         start, len, cap, skip;
  int64_t         frames_out;   /* frames pulled since new/reset */
};

void
mmdnn_logmel_config_init (MmdnnLogMelConfig *c)
{
  if (c == NULL)
    return;
  c->sample_rate = 16000;
  c->win_length = 400;
  c->hop_length = 160;
  c->n_fft = 512;
  c->n_mels = 64;
  c->fmin = 0.0f;
  c->fmax = 8000.0f;
  c->log_floor = 1e-6f;
  c->scale = MMDNN_MEL_SLANEY;
}

static gboolean
config_check (const MmdnnLogMelConfig *c, GError **error)
{
  MMDNN_CHECK_NOT_NULL (c, error, FALSE);
  MMDNN_CHECK (c->sample_rate >= 1, error, FALSE,
               "sample_rate is %" G_GINT64_FORMAT ", must be ≥ 1",
               c->sample_rate);
  MMDNN_CHECK (c->n_fft >= 16 && c->n_fft <= MAX_N_FFT
               && (c->n_fft & (c->n_fft - 1)) == 0, error, FALSE,
               "n_fft is %" G_GINT64_FORMAT ", must be a power of two in "
               "[16, %d]", c->n_fft, MAX_N_FFT);
  MMDNN_CHECK (c->win_length >= 1 && c->win_length <= c->n_fft, error, FALSE,
               "win_length is %" G_GINT64_FORMAT ", must be in [1, n_fft = %"
               G_GINT64_FORMAT "]", c->win_length, c->n_fft);
  MMDNN_CHECK (c->hop_length >= 1, error, FALSE,
               "hop_length is %" G_GINT64_FORMAT ", must be ≥ 1",
               c->hop_length);
  MMDNN_CHECK (c->n_mels >= 1 && c->n_mels <= c->n_fft / 2 + 1, error, FALSE,
               "n_mels is %" G_GINT64_FORMAT ", must be in [1, n_fft/2 + 1 = %"
               G_GINT64_FORMAT "]", c->n_mels, c->n_fft / 2 + 1);
  MMDNN_CHECK (isfinite (c->fmin) && c->fmin >= 0.0f, error, FALSE,
               "fmin is %g, must be finite and ≥ 0", (double) c->fmin);
  MMDNN_CHECK (isfinite (c->fmax) && c->fmax > c->fmin
               && (double) c->fmax <= (double) c->sample_rate / 2.0,
               error, FALSE, "fmax is %g, must be finite, > fmin = %g and "
               "≤ sample_rate/2 = %g", (double) c->fmax, (double) c->fmin,
               (double) c->sample_rate / 2.0);
  MMDNN_CHECK (isfinite (c->log_floor) && c->log_floor > 0.0f, error, FALSE,
               "log_floor is %g, must be finite and > 0",
               (double) c->log_floor);
  MMDNN_CHECK (c->scale == MMDNN_MEL_SLANEY || c->scale == MMDNN_MEL_HTK,
               error, FALSE, "scale is %d, must be MMDNN_MEL_SLANEY or "
               "MMDNN_MEL_HTK", (int) c->scale);
  return TRUE;
}

/* librosa.hz_to_mel / mel_to_hz (scalar forms). */
#define SLANEY_F_SP        (200.0 / 3.0)
#define SLANEY_MIN_LOG_HZ  1000.0
#define SLANEY_MIN_LOG_MEL (SLANEY_MIN_LOG_HZ / SLANEY_F_SP)
#define SLANEY_LOGSTEP     (log (6.4) / 27.0)

static double
hz_to_mel (double f, MmdnnMelScale scale)
{
  if (scale == MMDNN_MEL_HTK)
    return 2595.0 * log10 (1.0 + f / 700.0);
  if (f >= SLANEY_MIN_LOG_HZ)
    return SLANEY_MIN_LOG_MEL + log (f / SLANEY_MIN_LOG_HZ) / SLANEY_LOGSTEP;
  return f / SLANEY_F_SP;
}

static double
mel_to_hz (double m, MmdnnMelScale scale)
{
  if (scale == MMDNN_MEL_HTK)
    return 700.0 * (pow (10.0, m / 2595.0) - 1.0);
  if (m >= SLANEY_MIN_LOG_MEL)
    return SLANEY_MIN_LOG_HZ * exp (SLANEY_LOGSTEP * (m - SLANEY_MIN_LOG_MEL));
  return SLANEY_F_SP * m;
}

/* librosa.filters.mel (norm="slaney"), dense in a scratch array, then kept
 * as one contiguous run of non-zeros per band. */
static void
build_filterbank (MmdnnLogMel *lm)
{
  const MmdnnLogMelConfig *c = &lm->config;
  int64_t n_mels = c->n_mels, n_bins = lm->n_bins, off = 0;
  double *mel_f = g_new (double, n_mels + 2);
  double *dense = g_new0 (double, n_mels * n_bins);
  double mel_lo = hz_to_mel (c->fmin, c->scale);
  double mel_hi = hz_to_mel (c->fmax, c->scale);
  double step = (mel_hi - mel_lo) / (double) (n_mels + 1);

  /* numpy.linspace: start + i·step, the last point exactly stop */
  for (int64_t i = 0; i < n_mels + 2; i++)
    mel_f[i] = mel_to_hz (i == n_mels + 1 ? mel_hi : mel_lo + (double) i * step,
                          c->scale);

  for (int64_t m = 0; m < n_mels; m++) {
    double lo = mel_f[m], mid = mel_f[m + 1], hi = mel_f[m + 2];
    double enorm = 2.0 / (hi - lo);
    int64_t first = -1, last = -1;

    for (int64_t k = 0; k < n_bins; k++) {
      double f = (double) k * (double) c->sample_rate / (double) c->n_fft;
      double up = (f - lo) / (mid - lo), down = (hi - f) / (hi - mid);
      double w = MAX (0.0, MIN (up, down));

      dense[m * n_bins + k] = w * enorm;
      if (w > 0.0) {
        if (first < 0)
          first = k;
        last = k;
      }
    }
    lm->band_start[m] = first < 0 ? 0 : first;
    lm->band_len[m] = first < 0 ? 0 : last - first + 1;
    lm->band_off[m] = off;
    off += lm->band_len[m];
  }

  lm->weights = g_new0 (double, MAX (off, 1));
  for (int64_t m = 0; m < n_mels; m++)
    memcpy (lm->weights + lm->band_off[m],
            dense + m * n_bins + lm->band_start[m],
            sizeof (double) * lm->band_len[m]);
  g_free (dense);
  g_free (mel_f);
}

MmdnnLogMel *
mmdnn_logmel_new (const MmdnnLogMelConfig *c, GError **error)
{
  MmdnnLogMel *lm;
  float scale = 1.0f;
  int ret;

  if (!config_check (c, error))
    return NULL;

  lm = g_new0 (MmdnnLogMel, 1);
  lm->config = *c;
  lm->n_bins = c->n_fft / 2 + 1;

  ret = av_tx_init (&lm->tx, &lm->tx_fn, AV_TX_FLOAT_RDFT, 0, (int) c->n_fft,
                    &scale, 0);
  if (ret < 0 || lm->tx == NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_BACKEND,
                 "av_tx_init (AV_TX_FLOAT_RDFT, %" G_GINT64_FORMAT ") failed "
                 "with error %d", c->n_fft, ret);
    mmdnn_logmel_free (lm);
    return NULL;
  }
  lm->fft_in = av_malloc (sizeof (float) * c->n_fft);
  lm->fft_out = av_malloc (sizeof (AVComplexFloat) * lm->n_bins);
  if (lm->fft_in == NULL || lm->fft_out == NULL) {
    g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                 "out of memory for an FFT of %" G_GINT64_FORMAT, c->n_fft);
    mmdnn_logmel_free (lm);
    return NULL;
  }
  memset (lm->fft_in, 0, sizeof (float) * c->n_fft);
  lm->power = g_new0 (double, lm->n_bins);

  lm->window = g_new (float, c->win_length);
  for (int64_t i = 0; i < c->win_length; i++)
    lm->window[i] = (float) (0.5 - 0.5 * cos (2.0 * G_PI * (double) i
                                               / (double) c->win_length));

  lm->band_start = g_new0 (int64_t, c->n_mels);
  lm->band_len = g_new0 (int64_t, c->n_mels);
  lm->band_off = g_new0 (int64_t, c->n_mels);
  build_filterbank (lm);

  /* room for a couple of frames before the first growth */
  lm->cap = 2 * (c->win_length + c->hop_length);
  lm->buf = g_new (float, lm->cap);
  return lm;
}

void
mmdnn_logmel_free (MmdnnLogMel *lm)
{
  if (lm == NULL)
    return;
  av_tx_uninit (&lm->tx);
  av_free (lm->fft_in);
  av_free (lm->fft_out);
  g_free (lm->power);
  g_free (lm->window);
  g_free (lm->weights);
  g_free (lm->band_start);
  g_free (lm->band_len);
  g_free (lm->band_off);
  g_free (lm->buf);
  g_free (lm);
}

const MmdnnLogMelConfig *
mmdnn_logmel_get_config (const MmdnnLogMel *lm)
{
  return lm == NULL ? NULL : &lm->config;
}

/* Makes room for @n more samples after the pending ones without changing
 * what is pending: compacts first, grows (doubling) only if still short.
 * Returns where they go. */
static float *
pending_reserve (MmdnnLogMel *lm, int64_t n, GError **error)
{
  if (lm->start + lm->len + n > lm->cap) {
    if (lm->start > 0) {
      memmove (lm->buf, lm->buf + lm->start, sizeof (float) * lm->len);
      lm->start = 0;
    }
    if (lm->len + n > lm->cap) {
      int64_t cap = MAX (2 * lm->cap, lm->len + n);
      float *buf = g_try_realloc (lm->buf, sizeof (float) * (size_t) cap);

      if (buf == NULL) {
        g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                     "out of memory buffering %" G_GINT64_FORMAT " samples",
                     lm->len + n);
        return NULL;
      }
      lm->buf = buf;
      lm->cap = cap;
    }
  }
  return lm->buf + lm->start + lm->len;
}

static gboolean
push_check (MmdnnLogMel *lm, const void *samples, int64_t n, GError **error)
{
  MMDNN_CHECK_NOT_NULL (lm, error, FALSE);
  MMDNN_CHECK (n >= 0 && n <= MMDNN_MAX_NUMEL - lm->len, error, FALSE,
               "n is %" G_GINT64_FORMAT ", must be in [0, %" G_GINT64_FORMAT
               "]", n, MMDNN_MAX_NUMEL - lm->len);
  MMDNN_CHECK (samples != NULL || n == 0, error, FALSE,
               "samples is NULL but n is %" G_GINT64_FORMAT, n);
  return TRUE;
}

gboolean
mmdnn_logmel_push_f32 (MmdnnLogMel *lm, const float *samples, int64_t n,
                       GError **error)
{
  int64_t drop;
  float *dst;

  if (!push_check (lm, samples, n, error))
    return FALSE;
  for (int64_t i = 0; i < n; i++) {
    if (G_UNLIKELY (!isfinite (samples[i]))) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_DATA,
                   "samples[%" G_GINT64_FORMAT "] is %g: audio samples must "
                   "be finite (the whole push of %" G_GINT64_FORMAT
                   " samples was dropped)", i, (double) samples[i], n);
      return FALSE;
    }
  }
  drop = MIN (lm->skip, n);
  dst = pending_reserve (lm, n - drop, error);
  if (dst == NULL)
    return FALSE;
  if (n > drop)    /* samples may be NULL when n is 0 */
    memcpy (dst, samples + drop, sizeof (float) * (size_t) (n - drop));
  lm->skip -= drop;
  lm->len += n - drop;
  return TRUE;
}

gboolean
mmdnn_logmel_push_s16 (MmdnnLogMel *lm, const int16_t *samples, int64_t n,
                       GError **error)
{
  int64_t drop;
  float *dst;

  if (!push_check (lm, samples, n, error))
    return FALSE;
  drop = MIN (lm->skip, n);
  dst = pending_reserve (lm, n - drop, error);
  if (dst == NULL)
    return FALSE;
  for (int64_t i = drop; i < n; i++)
    dst[i - drop] = (float) samples[i] * (1.0f / 32768.0f);   /* exact */
  lm->skip -= drop;
  lm->len += n - drop;
  return TRUE;
}

int64_t
mmdnn_logmel_frames_available (const MmdnnLogMel *lm)
{
  if (lm == NULL)
    return -1;
  if (lm->len < lm->config.win_length)
    return 0;
  return (lm->len - lm->config.win_length) / lm->config.hop_length + 1;
}

/* x:(win_length) → out:(n_mels) */
static void
logmel_frame (MmdnnLogMel *lm, float *out, const float *x)
{
  const MmdnnLogMelConfig *c = &lm->config;
  double floor_ = c->log_floor;

  for (int64_t i = 0; i < c->win_length; i++)
    lm->fft_in[i] = x[i] * lm->window[i];
  /* the zero padding is rewritten every frame: av_tx may use its input
   * as scratch */
  if (c->n_fft > c->win_length)
    memset (lm->fft_in + c->win_length, 0,
            sizeof (float) * (size_t) (c->n_fft - c->win_length));
  lm->tx_fn (lm->tx, lm->fft_out, lm->fft_in, sizeof (float));
  /* DC and Nyquist are real for a real input, and FFmpeg 5.1's RDFT leaves
   * the imaginary part of the Nyquist bin unwritten: pin both to 0 */
  lm->fft_out[0].im = 0.0f;
  lm->fft_out[lm->n_bins - 1].im = 0.0f;

  for (int64_t k = 0; k < lm->n_bins; k++) {
    double re = lm->fft_out[k].re, im = lm->fft_out[k].im;

    lm->power[k] = re * re + im * im;
  }
  for (int64_t m = 0; m < c->n_mels; m++) {
    const double *w = lm->weights + lm->band_off[m];
    const double *p = lm->power + lm->band_start[m];
    double acc = 0.0;

    for (int64_t j = 0; j < lm->band_len[m]; j++)
      acc += w[j] * p[j];
    out[m] = (float) log (MAX (acc, floor_));
  }
}

int64_t
mmdnn_logmel_pull (MmdnnLogMel *lm, float *frames, int64_t max_frames)
{
  int64_t avail, count, advance;

  if (lm == NULL || max_frames < 0 || (frames == NULL && max_frames > 0))
    return -1;
  avail = mmdnn_logmel_frames_available (lm);
  count = MIN (max_frames, avail);
  for (int64_t t = 0; t < count; t++)
    logmel_frame (lm, frames + t * lm->config.n_mels,
                  lm->buf + lm->start + t * lm->config.hop_length);

  advance = count * lm->config.hop_length;
  if (advance >= lm->len) {
    lm->skip += advance - lm->len;
    lm->start = 0;
    lm->len = 0;
  } else {
    lm->start += advance;
    lm->len -= advance;
  }
  lm->frames_out += count;
  return count;
}

int64_t
mmdnn_logmel_samples_consumed (const MmdnnLogMel *lm)
{
  if (lm == NULL)
    return -1;
  return lm->frames_out * lm->config.hop_length;
}

void
mmdnn_logmel_reset (MmdnnLogMel *lm)
{
  if (lm == NULL)
    return;
  lm->start = 0;
  lm->len = 0;
  lm->skip = 0;
  lm->frames_out = 0;
}

gboolean
mmdnn_logmel_compute (const MmdnnLogMelConfig *c, const float *samples,
                      int64_t n, float **frames, int64_t *n_frames,
                      GError **error)
{
  MmdnnLogMel *lm;
  float *out = NULL;
  int64_t count;

  MMDNN_CHECK_NOT_NULL (frames, error, FALSE);
  MMDNN_CHECK_NOT_NULL (n_frames, error, FALSE);
  lm = mmdnn_logmel_new (c, error);
  if (lm == NULL)
    return FALSE;
  if (!mmdnn_logmel_push_f32 (lm, samples, n, error)) {
    mmdnn_logmel_free (lm);
    return FALSE;
  }
  count = mmdnn_logmel_frames_available (lm);
  if (count > 0) {
    out = g_try_new (float, count * c->n_mels);
    if (out == NULL) {
      g_set_error (error, MMDNN_ERROR, MMDNN_ERROR_NO_MEMORY,
                   "out of memory for %" G_GINT64_FORMAT " log-mel frames",
                   count);
      mmdnn_logmel_free (lm);
      return FALSE;
    }
    mmdnn_logmel_pull (lm, out, count);
  }
  mmdnn_logmel_free (lm);
  *frames = out;
  *n_frames = count;
  return TRUE;
}
