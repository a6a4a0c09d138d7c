"""Streaming spectral features for score following: a semitone spectrum and its onsets, one vector per hop.

``SpectralFeatures`` is fed consecutive 20 ms hops and returns one float32 vector of ``2 * N_PITCHES`` values:
- *content*: the power spectrum of the newest 128 ms (Hann window) pooled into 88 semitone bands (A0..C8),
  log-compressed and scaled to unit length (zero in silence);
- *onset*: the rise of the log semitone energies of the newest 64 ms against the previous hop (a semitone
  spectral flux, as in Dixon's MATCH), scaled so that a clear attack has length ~1.

The same code runs over a whole signal at once (``extract``), so a reference rendered from the score and the
live input go through identical processing and the window delays cancel in the alignment. Vectorised numpy:
two real FFTs and two small matrix products per hop.
"""

from __future__ import annotations

import numpy as np

from inference.types import HOP_SAMPLES, SAMPLE_RATE

LOWEST_MIDI = 21
N_PITCHES = 88
CONTENT_FFT = 2048
ONSET_FFT = 1024
COMPRESSION = 1000.0
"""log1p(COMPRESSION * power / level): quiet inner voices count next to a loud melody (a 60 dB range)."""
LEVEL_FLOOR = 5e-5
"""Floor of the reference level (total semitone power; a -66 dBFS sine), so that hiss is not amplified."""
LEVEL_HALF_LIFE_S = 8.0
"""The reference level follows the loudest recent frame and halves over this time (a slow automatic gain)."""
SILENCE_SHARE = 1e-5
"""A frame below this share of the reference level (and the floor) is silence: its content vector is zero."""
ONSET_SCALE = 0.25
"""Length of the onset vector per unit of summed log-energy rise; saturates at 1."""


def semitone_filterbank(n_fft: int, sr: int = SAMPLE_RATE) -> np.ndarray:
    """(N_PITCHES, n_fft // 2 + 1) triangular weights pooling FFT bins into semitone bands.

    Each band spans a semitone either side of its centre on a log-frequency axis; where bins are wider than
    a semitone (the bass with short windows) a band takes its nearest bin so no band is empty.
    """
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    midis = LOWEST_MIDI + np.arange(N_PITCHES)
    with np.errstate(divide="ignore"):
        bin_midi = 69.0 + 12.0 * np.log2(np.maximum(freqs, 1e-6) / 440.0)
    distance = np.abs(bin_midi[None, :] - midis[:, None])
    weights = np.clip(1.0 - distance, 0.0, None)
    nearest = np.argmin(distance, axis=1)
    empty = weights.sum(axis=1) == 0.0
    weights[np.flatnonzero(empty), nearest[empty]] = 1.0
    weights[:, freqs < 25.0] = 0.0
    return weights.astype(np.float32)


class SpectralFeatures:
    """Callable extractor: ``features(hop) -> vector`` for consecutive hops of ``HOP_SAMPLES`` samples."""

    dim = 2 * N_PITCHES

    def __init__(self, sr: int = SAMPLE_RATE) -> None:
        if sr != SAMPLE_RATE:
            raise ValueError(f"features are computed at {SAMPLE_RATE} Hz, got {sr}")
        self._content_window = np.hanning(CONTENT_FFT).astype(np.float32)
        self._onset_window = np.hanning(ONSET_FFT).astype(np.float32)
        self._content_bank = semitone_filterbank(CONTENT_FFT).T.copy()
        self._onset_bank = semitone_filterbank(ONSET_FFT).T.copy()
        # Normalise the window energies so both FFT sizes report comparable band powers.
        self._content_norm = 1.0 / float(np.sum(self._content_window**2))
        self._onset_norm = 1.0 / float(np.sum(self._onset_window**2))
        self.reset()

    def reset(self) -> None:
        """Forget all audio."""
        self._buffer = np.zeros(CONTENT_FFT, dtype=np.float32)
        self._previous_log = np.zeros(N_PITCHES, dtype=np.float32)
        self._level = LEVEL_FLOOR
        self._is_first = True

    def __call__(self, hop: np.ndarray) -> np.ndarray:
        hop = np.asarray(hop, dtype=np.float32).reshape(-1)
        n = len(hop)
        if n > CONTENT_FFT:
            raise ValueError(f"a hop holds at most {CONTENT_FFT} samples, got {n}")
        if n:
            self._buffer[:-n] = self._buffer[n:]
            self._buffer[-n:] = hop
        content_power = self._band_power(self._buffer[None, :], self._content_window, self._content_bank)[0]
        onset_power = self._band_power(
            self._buffer[None, -ONSET_FFT:], self._onset_window, self._onset_bank
        )[0]
        content_power = content_power * self._content_norm
        self._level = max(float(content_power.sum()), self._level * _LEVEL_DECAY, LEVEL_FLOOR)
        content = _content(content_power[None, :], np.array([self._level]))[0]
        log_energy = np.log1p(COMPRESSION * onset_power * (self._onset_norm / self._level)).astype(np.float32)
        if self._is_first:  # no rise can be measured on the first hop of a stream
            self._previous_log, self._is_first = log_energy, False
        onset = _onset(log_energy[None, :], self._previous_log)[0]
        self._previous_log = log_energy
        return np.concatenate((content, onset))

    def extract(self, audio: np.ndarray) -> np.ndarray:
        """Features of a whole signal, hop by hop from a fresh state: ``(n_hops, dim)``, same as streaming."""
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        n_hops = len(audio) // HOP_SAMPLES
        if n_hops == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        padded = np.concatenate((np.zeros(CONTENT_FFT, dtype=np.float32), audio[: n_hops * HOP_SAMPLES]))
        frames = np.lib.stride_tricks.sliding_window_view(padded, CONTENT_FFT)[HOP_SAMPLES::HOP_SAMPLES]
        content_power = self._band_power(frames, self._content_window, self._content_bank) * self._content_norm
        levels = _running_level(content_power.sum(axis=1))
        onset_power = self._band_power(frames[:, -ONSET_FFT:], self._onset_window, self._onset_bank)
        log_energy = np.log1p(COMPRESSION * onset_power * (self._onset_norm / levels[:, None])).astype(np.float32)
        onset = _onset(log_energy, log_energy[0])
        return np.concatenate((_content(content_power, levels), onset), axis=1)

    @staticmethod
    def _band_power(frames: np.ndarray, window: np.ndarray, bank: np.ndarray) -> np.ndarray:
        spectrum = np.fft.rfft(frames * window, axis=-1)
        power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
        return np.asarray(power @ bank, dtype=np.float32)


_LEVEL_DECAY = 0.5 ** (HOP_SAMPLES / SAMPLE_RATE / LEVEL_HALF_LIFE_S)


def _running_level(totals: np.ndarray) -> np.ndarray:
    """The streaming reference level after each frame (what ``__call__`` keeps in ``_level``)."""
    levels = np.empty(len(totals))
    level = LEVEL_FLOOR
    for i, total in enumerate(totals.tolist()):
        level = max(total, level * _LEVEL_DECAY, LEVEL_FLOOR)
        levels[i] = level
    return levels


def _content(power: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Log-compressed semitone powers (relative to the level) at unit length per row; silent rows are zero."""
    compressed = np.log1p(COMPRESSION * power / levels[:, None])
    norms = np.linalg.norm(compressed, axis=1, keepdims=True)
    totals = power.sum(axis=1, keepdims=True)
    is_sound = (totals > SILENCE_SHARE * levels[:, None]) & (totals > LEVEL_FLOOR)
    scaled = np.where(is_sound, compressed / np.maximum(norms, 1e-12), 0.0)
    return scaled.astype(np.float32)


def _onset(log_energy: np.ndarray, before_first: np.ndarray) -> np.ndarray:
    """Positive rise of log band energies between consecutive rows, scaled and saturated at length 1."""
    previous = np.vstack((before_first[None, :], log_energy[:-1]))
    rise = np.clip(log_energy - previous, 0.0, None)
    norms = np.linalg.norm(rise, axis=1, keepdims=True)
    scale = np.minimum(ONSET_SCALE, 1.0 / np.maximum(norms, 1e-12))
    return (rise * scale).astype(np.float32)
