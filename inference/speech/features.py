"""Whisper's input: an 80-band log-mel spectrogram of 16 kHz audio, padded to the model's 30 s window.

Follows the reference front end of Radford et al. (2022), "Robust Speech Recognition via Large-Scale Weak
Supervision": 25 ms Hann windows every 10 ms, Slaney mel filters, log10 clipped 8 decades below the peak.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from inference.types import SAMPLE_RATE

N_FFT = 400
HOP_LENGTH = 160
N_MELS = 80
WINDOW_SECONDS = 30.0
WINDOW_FRAMES = int(WINDOW_SECONDS * SAMPLE_RATE) // HOP_LENGTH  # 3000


@cache
def mel_filters(n_mels: int = N_MELS) -> np.ndarray:
    import librosa

    return np.asarray(librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=n_mels), dtype=np.float32)


@cache
def _hann() -> np.ndarray:
    n = np.arange(N_FFT)
    return (0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)).astype(np.float32)  # periodic, as torch.hann_window


def log_mel(samples: np.ndarray, *, n_frames: int = WINDOW_FRAMES) -> np.ndarray:
    """``(N_MELS, n_frames)`` float32 features; audio past ``n_frames`` hops is cut, silence pads the rest."""
    audio = np.asarray(samples, dtype=np.float32).reshape(-1)[: n_frames * HOP_LENGTH]
    audio = np.pad(audio, (0, n_frames * HOP_LENGTH - len(audio)))
    padded = np.pad(audio, N_FFT // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP_LENGTH][:n_frames]
    power = np.abs(np.fft.rfft(frames * _hann(), axis=1)) ** 2
    mel = mel_filters() @ power.T.astype(np.float32)
    log_spec = np.log10(np.maximum(mel, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0).astype(np.float32)
