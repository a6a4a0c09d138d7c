"""The agent's ear: a log-frequency (one bin per semitone) magnitude spectrogram at 25 frames per second.

The original game used a 78-bin log-filtered spectrogram at 22.05 kHz and 20 fps. Etude's audio path is
16 kHz in 20 ms hops, so frames here are two hops (40 ms, 25 fps) and the 78 bins are semitone-wide
triangular bands from A1 (MIDI 33) to D8 (MIDI 110), the same rows the symbolic score view uses. Frames are
causal: frame ``i`` is computed from the ``N_FFT`` samples that end at ``(i + 1) * FRAME_HOP``.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from inference.types import HOP_SAMPLES, SAMPLE_RATE

N_FFT = 2048
FRAME_HOP = 2 * HOP_SAMPLES
"""Samples per spectrogram frame: 640 = 40 ms at 16 kHz."""
FRAME_SECONDS = FRAME_HOP / SAMPLE_RATE
FRAMES_PER_SECOND = SAMPLE_RATE / FRAME_HOP
LOWEST_MIDI = 33
N_BINS = 78
LOG_GAIN = 100.0


def midi_to_hz(midi: np.ndarray | float) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=float) - 69.0) / 12.0)


@cache
def semitone_filterbank() -> np.ndarray:
    """(N_BINS, N_FFT // 2 + 1) triangular filters centred on MIDI ``LOWEST_MIDI + k``, half a tone wide.

    Low bands narrower than the FFT resolution keep at least their nearest bin, so no row is ever empty.
    """
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    bank = np.zeros((N_BINS, freqs.size))
    for k in range(N_BINS):
        lo, centre, hi = midi_to_hz(LOWEST_MIDI + k + np.array([-1.0, 0.0, 1.0]))
        rising = (freqs - lo) / (centre - lo)
        falling = (hi - freqs) / (hi - centre)
        bank[k] = np.clip(np.minimum(rising, falling), 0.0, None)
        if not bank[k].any():
            bank[k, int(np.argmin(np.abs(freqs - centre)))] = 1.0
        bank[k] /= bank[k].sum()
    return bank


@cache
def _window() -> np.ndarray:
    return np.hanning(N_FFT).astype(np.float64)


def frames_from_windows(windows: np.ndarray) -> np.ndarray:
    """Log-semitone magnitudes of (n, N_FFT) sample windows: (n, N_BINS) float32."""
    spectrum = np.abs(np.fft.rfft(windows * _window(), axis=-1))
    return np.log1p(LOG_GAIN * spectrum @ semitone_filterbank().T).astype(np.float32)


def spectrogram(samples: np.ndarray) -> np.ndarray:
    """(n_frames, N_BINS) causal spectrogram of 16 kHz mono audio; one frame per whole ``FRAME_HOP``."""
    samples = np.asarray(samples, dtype=np.float64).reshape(-1)
    n_frames = len(samples) // FRAME_HOP
    padded = np.concatenate((np.zeros(N_FFT), samples))
    ends = (np.arange(n_frames) + 1) * FRAME_HOP + N_FFT
    index = ends[:, None] - N_FFT + np.arange(N_FFT)[None, :]
    out = np.empty((n_frames, N_BINS), dtype=np.float32)
    for start in range(0, n_frames, 512):  # bounded memory for long recordings
        out[start : start + 512] = frames_from_windows(padded[index[start : start + 512]])
    return out


class StreamingSpectrogram:
    """The same frames as ``spectrogram``, computed hop by hop for the live path."""

    def __init__(self) -> None:
        self._buffer = np.zeros(N_FFT, dtype=np.float64)
        self._fill = 0

    def reset(self) -> None:
        self._buffer[:] = 0.0
        self._fill = 0

    def push(self, hop: np.ndarray) -> np.ndarray | None:
        """Add one ``HOP_SAMPLES`` hop; returns a (N_BINS,) frame every second hop, else None."""
        hop = np.asarray(hop, dtype=np.float64).reshape(-1)
        self._buffer = np.concatenate((self._buffer[len(hop) :], hop))
        self._fill += len(hop)
        if self._fill < FRAME_HOP:
            return None
        self._fill -= FRAME_HOP
        return frames_from_windows(self._buffer[None, :])[0]
