/* mmdnn — audio preprocessing: streaming log-mel spectrogram.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>

G_BEGIN_DECLS

/*
 * The audio front end turns mono PCM into log-mel frames, deterministically
 * and with no weights, so a model trained offline (CLI) sees exactly what
 * the GStreamer element sees live.
 *
 * Per frame t (defaults in brackets):
 *
 *   1. Framing, NOT centred: frame t covers samples [t·hop, t·hop + win)
 *      [hop 160 = 10 ms, win 400 = 25 ms at 16 kHz], counted from the first
 *      sample pushed after _new or _reset. No padding is invented at the
 *      start or the end of the stream: a frame exists once all its win
 *      samples have arrived, and the tail that never fills a frame is never
 *      output. (torch.stft (center=False) and librosa (center=False) frame
 *      the same way.) This is what makes streaming exact: the same samples
 *      give bit-identical frames whether they arrive in one buffer or many.
 *   2. Window: periodic Hann of length win, w[i] = ½ − ½·cos(2πi/win)
 *      (torch.hann_window's default), zero-padded on the right to n_fft
 *      [512]. Where the padding goes only shifts the phase, not |X|².
 *   3. Power spectrum: P[k] = |X[k]|², k = 0 .. n_fft/2, of the unnormalised
 *      DFT X[k] = Σ_n x[n]·w[n]·e^(−2πikn/n_fft) (numpy.fft.rfft, FFmpeg
 *      av_tx AV_TX_FLOAT_RDFT with scale 1), i.e. librosa's power=2.
 *   4. Mel filterbank, n_mels [64] triangles between fmin [0] and fmax
 *      [8000 Hz], built exactly like librosa.filters.mel (n_mels + 2 points
 *      equally spaced on the mel scale, triangles interpolated linearly in
 *      Hz at the bin frequencies k·sr/n_fft):
 *        MMDNN_MEL_SLANEY (default, librosa's default htk=False): the Slaney
 *          Auditory Toolbox scale, linear below 1 kHz (mel = 3f/200) and
 *          logarithmic above (mel = 15 + 27·ln(f/1000)/ln 6.4);
 *        MMDNN_MEL_HTK (librosa htk=True): mel = 2595·log10(1 + f/700).
 *      Both scales use Slaney's area normalisation (librosa norm="slaney"):
 *      triangle i is scaled by 2/(f[i+2] − f[i]) so every band has the same
 *      area whatever its width. Only the scale differs between the two.
 *      A band that covers no FFT bin (too many mels for n_fft) stays 0.
 *   5. Log: y = ln (max (M, log_floor)), natural log, log_floor [1e-6]
 *      clamping silence to ln(1e-6) ≈ −13.8 (the clamp form of librosa's
 *      power_to_db amin / Whisper's log-mel, not ln (M + floor)).
 *
 * The FFT runs in float32; the mel sums and the log in double, rounded to
 * float32 at the end. Against a float64 NumPy reference the log values agree
 * to a few 1e-6 on ordinary signals (test-audio.c checks 1e-3).
 *
 * Streaming: push samples as they arrive, pull the frames that are complete.
 * Frames are computed at pull time from the pending samples, so only samples
 * are buffered. Pulled samples are dropped by moving a start index (the
 * buffer is compacted only when a push would run past its end), and the
 * buffer grows by doubling only when more samples are pending than it
 * holds (a big push, or frames left unpulled); it never shrinks. The FFT
 * plan, window and filterbank are made once in _new; _push/_pull never
 * allocate per frame.
 * Not thread-safe: one streaming thread owns an MmdnnLogMel.
 */

typedef enum {
  MMDNN_MEL_SLANEY,     /* librosa default: Slaney scale + Slaney area norm */
  MMDNN_MEL_HTK,        /* HTK scale 2595·log10(1+f/700), Slaney area norm  */
} MmdnnMelScale;

typedef struct {
  int64_t       sample_rate;   /* Hz, ≥ 1                                    */
  int64_t       win_length;    /* samples, 1 ≤ win ≤ n_fft                   */
  int64_t       hop_length;    /* samples, ≥ 1 (hop > win skips samples)     */
  int64_t       n_fft;         /* power of two, 16 ≤ n_fft ≤ 65536           */
  int64_t       n_mels;        /* 1 ≤ n_mels ≤ n_fft/2 + 1                   */
  float         fmin, fmax;    /* Hz, 0 ≤ fmin < fmax ≤ sample_rate/2        */
  float         log_floor;     /* > 0, finite: y = ln (max (mel, floor))     */
  MmdnnMelScale scale;
} MmdnnLogMelConfig;

/* The defaults: 16000 Hz, win 400 (25 ms), hop 160 (10 ms), n_fft 512,
 * 64 mels, 0–8000 Hz, floor 1e-6, MMDNN_MEL_SLANEY. NULL is a no-op. */
MMDNN_API void mmdnn_logmel_config_init (MmdnnLogMelConfig *c);

/* Opaque: FFT plan (av_tx), window, filterbank, pending samples. */
typedef struct _MmdnnLogMel MmdnnLogMel;

/* (transfer full): validates every field of @c (copied; see the ranges in
 * MmdnnLogMelConfig) and makes the FFT plan, window and filterbank.
 * NULL with MMDNN_ERROR_INVALID_ARGUMENT naming the field, or
 * MMDNN_ERROR_BACKEND if av_tx cannot make the plan. */
MMDNN_API MmdnnLogMel *mmdnn_logmel_new (const MmdnnLogMelConfig *c,
                                         GError **error);
/* NULL is a no-op. */
MMDNN_API void mmdnn_logmel_free (MmdnnLogMel *lm);
/* (transfer none): the validated configuration; NULL for a NULL @lm. */
MMDNN_API const MmdnnLogMelConfig *
mmdnn_logmel_get_config (const MmdnnLogMel *lm);

/* samples:(n) mono, nominally in [−1, 1]; @samples may be NULL when n is 0.
 * A NaN or ±Inf sample fails the whole push with MMDNN_ERROR_DATA naming
 * its index within @samples, and NOTHING from that push is kept, so the
 * stream continues as if the push had not happened.
 * Bad arguments → MMDNN_ERROR_INVALID_ARGUMENT; growing the buffer may fail
 * with MMDNN_ERROR_NO_MEMORY (nothing kept either). */
MMDNN_API gboolean mmdnn_logmel_push_f32 (MmdnnLogMel *lm,
                                          const float *samples, int64_t n,
                                          GError **error);
/* samples:(n) signed 16-bit, converted as s/32768 (exact in float32), so
 * this gives bit-identical frames to push_f32 of the converted samples. */
MMDNN_API gboolean mmdnn_logmel_push_s16 (MmdnnLogMel *lm,
                                          const int16_t *samples, int64_t n,
                                          GError **error);

/* Complete frames waiting to be pulled; -1 for a NULL @lm. */
MMDNN_API int64_t mmdnn_logmel_frames_available (const MmdnnLogMel *lm);

/* frames:(count, n_mels) row-major, count = min (max_frames, available).
 * Returns count (0 when max_frames is 0 or nothing is available; @frames
 * may then be NULL). Returns -1 and does nothing for a NULL @lm, a negative
 * @max_frames, or a NULL @frames with max_frames > 0. Frames are computed
 * here, in order; each pulled frame advances the stream by hop samples. */
MMDNN_API int64_t mmdnn_logmel_pull (MmdnnLogMel *lm, float *frames,
                                     int64_t max_frames);

/* Index (counted from the first sample pushed after _new or the last
 * _reset) of the first sample of the next frame to be pulled, i.e.
 * frames_pulled · hop. So frame t starts at sample t·hop and its
 * timestamp is base + t·hop/sample_rate. -1 for a NULL @lm. */
MMDNN_API int64_t mmdnn_logmel_samples_consumed (const MmdnnLogMel *lm);

/* A discontinuity: drops pending samples and restarts framing and the
 * sample count at 0, as if @lm were new. NULL is a no-op. */
MMDNN_API void mmdnn_logmel_reset (MmdnnLogMel *lm);

/* One shot: all frames of @samples:(n), exactly as _new + _push_f32 +
 * _pull would give them. On success *frames (transfer full, g_free) holds
 * (*n_frames, n_mels) floats; when n < win_length there is no frame:
 * *n_frames = 0 and *frames = NULL. On failure (bad config or arguments →
 * INVALID_ARGUMENT, non-finite sample → DATA) neither output is touched. */
MMDNN_API gboolean mmdnn_logmel_compute (const MmdnnLogMelConfig *c,
                                         const float *samples, int64_t n,
                                         float **frames, int64_t *n_frames,
                                         GError **error);

G_END_DECLS
