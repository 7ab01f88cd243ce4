#!/usr/bin/python3
# Generates the NumPy golden files that tests/core/test-audio.c holds the
# log-mel front end (mmdnn-core/src/audio.c) to.
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Needs only numpy (Debian's /usr/bin/python3 has it); librosa is NOT used:
# its Slaney/HTK mel formulas and filterbank are re-implemented below in
# float64 so the reference is independent of the C code and of librosa's
# version. numpy.fft.rfft does the DFT in float64.
#
#   /usr/bin/python3 tests/core/golden/make-logmel-golden.py          # (re)write
#   /usr/bin/python3 tests/core/golden/make-logmel-golden.py --check  # compare
#
# Files: logmel-slaney.bin (the default config) and logmel-htk.bin (HTK scale,
# fmin > 0, fewer mels), in the "MMDG" format of mmdg.py.
#
# Tensors: the config as int32 scalars "sample_rate", "win_length",
# "hop_length", "n_fft", "n_mels", "scale" (0 Slaney, 1 HTK) and float32
# scalars "fmin", "fmax", "log_floor"; "samples" (N) float32 input; "frames"
# (T, n_mels) float32 expected ln-mel output, T = (N - win)//hop + 1.

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmdg  # noqa: E402


# librosa.hz_to_mel / mel_to_hz, scalar forms
def hz_to_mel(f, htk):
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    if f >= min_log_hz:
        return min_log_mel + np.log(f / min_log_hz) / logstep
    return f / f_sp


def mel_to_hz(m, htk):
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    if m >= min_log_mel:
        return min_log_hz * np.exp(logstep * (m - min_log_mel))
    return f_sp * m


# librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk, norm="slaney")
def mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk):
    fftfreqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mels = np.linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n_mels + 2)
    mel_f = np.array([mel_to_hz(m, htk) for m in mels])
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    weights = np.zeros((n_mels, 1 + n_fft // 2))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels])
    return weights * enorm[:, np.newaxis]


def logmel(x, cfg):
    sr, win, hop, n_fft = cfg["sample_rate"], cfg["win_length"], cfg["hop_length"], cfg["n_fft"]
    x = x.astype(np.float64)
    n = np.arange(win)
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / win)       # periodic Hann
    t_count = (len(x) - win) // hop + 1                        # not centred
    frames = np.stack([x[t * hop:t * hop + win] * window for t in range(t_count)])
    spec = np.fft.rfft(frames, n=n_fft, axis=1)                # zero-pads right
    power = spec.real ** 2 + spec.imag ** 2
    fb = mel_filterbank(sr, n_fft, cfg["n_mels"], float(cfg["fmin"]),
                        float(cfg["fmax"]), cfg["scale"] == 1)
    mel = power @ fb.T
    return np.log(np.maximum(mel, float(cfg["log_floor"])))


def test_signal(sr, n, seed):
    # white noise, two tones, a chirp, a stretch of digital silence (exercises
    # the floor) and a fade: broadband enough that float32 FFT rounding stays
    # far below 1e-3 in the log domain
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    x = 0.1 * rng.standard_normal(n)
    x += 0.3 * np.sin(2 * np.pi * 440.0 * t) + 0.2 * np.sin(2 * np.pi * 3000.0 * t + 0.5)
    x += 0.2 * np.sin(2 * np.pi * (200.0 * t + 0.5 * 6000.0 * t * t / t[-1]))
    x[n // 3:n // 3 + 700] = 0.0
    x[n // 3 + 700:n // 3 + 1100] *= np.linspace(0.0, 1.0, 400)
    return np.clip(x, -1.0, 1.0).astype(np.float32)


CASES = {
    "logmel-slaney": dict(sample_rate=16000, win_length=400, hop_length=160, n_fft=512,
                          n_mels=64, fmin=0.0, fmax=8000.0, log_floor=1e-6, scale=0, seed=1),
    "logmel-htk": dict(sample_rate=16000, win_length=400, hop_length=160, n_fft=512,
                       n_mels=40, fmin=20.0, fmax=7600.0, log_floor=1e-6, scale=1, seed=2),
}
N_SAMPLES = 4800


def build(name, cfg):
    x = test_signal(cfg["sample_rate"], N_SAMPLES, cfg["seed"])
    # the config exactly as the C side sees it (float32 fields)
    c = dict(cfg)
    for k in ("fmin", "fmax", "log_floor"):
        c[k] = np.float32(cfg[k])
    y = logmel(x, c).astype(np.float32)
    tensors = [(k, mmdg.I32, np.array(cfg[k], dtype=np.int32))
               for k in ("sample_rate", "win_length", "hop_length", "n_fft", "n_mels", "scale")]
    tensors += [(k, mmdg.F32, np.array(c[k], dtype=np.float32)) for k in ("fmin", "fmax", "log_floor")]
    tensors += [("samples", mmdg.F32, x), ("frames", mmdg.F32, y)]
    return tensors


if __name__ == "__main__":
    sys.exit(mmdg.main(CASES, build, description=__doc__))
