#!/usr/bin/env python3
"""The ORIGINAL Phi-4-multimodal audio feature extractor (hub `processing_phi4mm.py`,
`Phi4MMAudioFeatureExtractor._extract_features` + `speechlib_mel`) in plain numpy, 16 kHz path only.

This is the Python reference for PhiMedia's `Phi4MMAudioFeatures` and for model fixtures:

    extract(samples_16k_float) -> np.ndarray [T, 80] float32   (T = (N - 400) // 160 + 1)
    token_count(T) -> ceil(T / 8)                               (compression 8, qformer downsample 1)

It reproduces the original's dtypes step by step: frames float32, pre-emphasis inside each frame in float32,
x32768, float64 symmetric Hamming(400) window and rfft(512) in float64, cast to complex64, |S| in float32,
power in float32, power @ speechlib_mel (float32), clip at 1.0, natural log, float32.

The native transformers extractor (Phi4MultimodalFeatureExtractor) differs only in its mel bank: it also gives
FFT bin 246 a weight in filter 79 (reference sheet section 11.1). `python phi4mm_audio_features.py --check`
verifies that, and that the two agree everywhere else.

Resampling is NOT done here: the original resamples with resample_poly(1, fs // 16000) (wrong for 44.1 kHz);
PhiKit resamples properly to 16 kHz before calling the extractor.
"""
import math
import sys

import numpy as np

SAMPLE_RATE = 16000
WIN_LENGTH = 400
HOP_LENGTH = 160
N_FFT = 512
N_MELS = 80
FMAX = 7690.0
PREEMPHASIS = 0.97
COMPRESSION_RATE = 8  # audio_compression_rate
QFORMER_RATE = 1  # audio_downsample_rate


def speechlib_mel(sample_rate, n_fft, n_mels, fmin=None, fmax=None):
    """Mel filter bank identical to SpeechLib FbankFC (the original Phi-4-MM code); shape [n_mels, n_fft//2+1]."""
    bank_width = int(n_fft // 2 + 1)
    if fmax is None:
        fmax = sample_rate / 2
    if fmin is None:
        fmin = 0
    assert fmin >= 0
    assert fmin < fmax <= sample_rate / 2

    def mel(f):
        return 1127.0 * np.log(1.0 + f / 700.0)

    def bin2mel(fft_bin):
        return 1127.0 * np.log(1.0 + fft_bin * sample_rate / (n_fft * 700.0))

    def f2bin(f):
        return int((f * n_fft / sample_rate) + 0.5)

    klo = f2bin(fmin) + 1
    khi = max(f2bin(fmax), klo)
    mlo, mhi = mel(fmin), mel(fmax)
    m_centers = np.linspace(mlo, mhi, n_mels + 2)
    ms = (mhi - mlo) / (n_mels + 1)
    matrix = np.zeros((n_mels, bank_width), dtype=np.float32)
    for m in range(n_mels):
        left, center, right = m_centers[m], m_centers[m + 1], m_centers[m + 2]
        for fft_bin in range(klo, khi):
            mbin = bin2mel(fft_bin)
            if left < mbin < right:
                matrix[m, fft_bin] = 1.0 - abs(center - mbin) / ms
    return matrix


MEL_T = speechlib_mel(SAMPLE_RATE, N_FFT, N_MELS, fmin=None, fmax=FMAX).T  # [257, 80] float32
HAMMING400 = np.hamming(WIN_LENGTH)  # symmetric, float64


def n_frames(n_samples):
    return (n_samples - WIN_LENGTH) // HOP_LENGTH + 1


def extract(samples_16k_float):
    """Log-mel features [T, 80] float32 of a mono 16 kHz waveform in [-1, 1] (original Phi-4-MM extractor)."""
    wav = np.asarray(samples_16k_float)
    if wav.ndim > 1:
        wav = np.squeeze(wav)
    if wav.ndim == 2:  # (samples, channels) as soundfile returns it: the original averages channels
        wav = wav.mean(1)
    if wav.shape[0] < WIN_LENGTH:
        raise ValueError(f"audio too short: {wav.shape[0]} samples < {WIN_LENGTH}")
    n_batch = n_frames(wav.shape[0])
    y = np.array([wav[s:s + WIN_LENGTH] for s in range(0, HOP_LENGTH * n_batch, HOP_LENGTH)], dtype=np.float32)
    prev = np.roll(y, 1, axis=1)
    prev[:, 0] = prev[:, 1]
    y = (y - PREEMPHASIS * prev) * 32768
    S = np.fft.rfft(HAMMING400 * y, n=N_FFT, axis=1).astype(np.complex64)
    spec = np.abs(S).astype(np.float32)
    power = spec ** 2
    fbank = np.clip(power.dot(MEL_T), 1.0, None)
    return np.log(fbank).astype(np.float32)


def token_count(frames):
    """Audio tokens for T feature frames: ceil(ceil(T / 8) / 1)."""
    r = -(-frames // COMPRESSION_RATE)
    return -(-r // QFORMER_RATE)


def _check():
    """Compare with the native transformers extractor: equal except the bin-246 weight of filter 79."""
    import torch
    from transformers.models.phi4_multimodal.feature_extraction_phi4_multimodal import (
        Phi4MultimodalFeatureExtractor,
    )

    native = Phi4MultimodalFeatureExtractor()
    nm = native.mel_filters  # [257, 80]
    diff = np.abs(nm - MEL_T.astype(np.float64))
    big = np.argwhere(diff > 1e-6)
    print("mel bank: entries differing by > 1e-6:", [tuple(map(int, b)) for b in big],
          "values native/original:", [(float(nm[tuple(b)]), float(MEL_T[tuple(b)])) for b in big])
    other = diff.copy()
    for b in big:
        other[tuple(b)] = 0
    print("mel bank: max |diff| elsewhere: %.3g" % other.max())
    assert [tuple(map(int, b)) for b in big] == [(246, 79)]

    rng = np.random.default_rng(0)
    t = np.arange(16000 * 3) / 16000
    sig = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)
    ours = extract(sig)
    theirs = native(sig.astype(np.float32), sampling_rate=16000, return_tensors="np")["audio_input_features"][0]
    d = np.abs(ours - theirs)
    print("features: frames", ours.shape, "max |diff| all bins %.3g, excluding mel 79: %.3g" % (d.max(), d[:, :79].max()))
    # with the native bank patched to the original's bin 246, the native pipeline must match everywhere
    native.mel_filters = nm.copy()
    native.mel_filters[246, 79] = 0.0
    theirs2 = native(sig.astype(np.float32), sampling_rate=16000, return_tensors="np")["audio_input_features"][0]
    d2 = np.abs(ours - theirs2)
    print("features vs native with bin 246 zeroed: max |diff| %.3g" % d2.max())
    assert d[:, :79].max() < 1e-4 and d2.max() < 1e-4
    assert token_count(98) == 13 and token_count(998) == 125 and token_count(2998) == 375
    print("OK")


if __name__ == "__main__":
    if "--check" in sys.argv:
        _check()
    else:
        print(__doc__)
