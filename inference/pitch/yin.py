"""Streaming monophonic pitch tracking with YIN (de Cheveigné & Kawahara, JASA 2002).

``YinTracker`` is fed one 20 ms hop at a time and keeps a short ring buffer, so each hop costs a couple of
small FFTs. The YIN integration window covers only the newest samples, which keeps the pitch latency near
one hop; the lag range reaches down to ~60 Hz. Besides f0 and voicing it reports an onset strength from a
band-energy rise (re-attacks of a repeated pitch) and from pitch jumps (legato changes of note).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from inference.pitch.onsets import BandFluxOnsets
from inference.types import HOP_SAMPLES, SAMPLE_RATE, PitchFrame


@dataclass(frozen=True)
class YinConfig:
    """Tuning of the tracker; the defaults suit voice and melody instruments at 16 kHz."""

    sample_rate: int = SAMPLE_RATE
    fmin_hz: float = 60.0
    fmax_hz: float = 2100.0
    window: int = 400
    """YIN integration window in samples (25 ms): ~1.5 periods at fmin, short enough to react fast."""
    threshold: float = 0.2
    """Absolute threshold on the cumulative mean normalised difference (YIN step 4)."""
    silence_rms: float = 1e-3
    """Below this RMS (about -60 dBFS) a hop is silent: f0 = 0, voicing = 0."""
    onset_db: float = 6.0
    """A band-energy rise of this many dB maps to onset strength 1."""
    onset_jump_cents: float = 70.0
    """A voiced pitch jump larger than this counts as a change of note."""


class YinTracker:
    """Callable tracker: ``tracker(hop) -> PitchFrame`` for consecutive hops of ``HOP_SAMPLES`` samples."""

    def __init__(self, config: YinConfig | None = None) -> None:
        self.config = config or YinConfig()
        cfg = self.config
        self.tau_min = max(2, int(cfg.sample_rate / cfg.fmax_hz))
        self.tau_max = int(np.ceil(cfg.sample_rate / cfg.fmin_hz))
        self.span = cfg.window + self.tau_max
        self.buffer_size = max(1024, self.span, BandFluxOnsets.SPECTRUM_SIZE)
        self._nfft = 1 << int(np.ceil(np.log2(self.span + cfg.window)))
        self._onsets = BandFluxOnsets(cfg.sample_rate, cfg.onset_db)
        self.reset()

    def reset(self) -> None:
        """Forget all audio: the next hop starts a fresh stream at t = 0."""
        self._buffer = np.zeros(self.buffer_size, dtype=np.float32)
        self._hops = 0
        self._onsets.reset()
        self._recent_f0: deque[float] = deque(maxlen=3)

    def __call__(self, hop: np.ndarray) -> PitchFrame:
        hop = np.asarray(hop, dtype=np.float32)
        if hop.ndim != 1 or len(hop) > self.buffer_size:
            raise ValueError(f"expected a 1-D hop of at most {self.buffer_size} samples, got shape {hop.shape}")
        n = len(hop)
        self._buffer[:-n] = self._buffer[n:]
        self._buffer[-n:] = hop
        self._hops += 1
        t = self._hops * HOP_SAMPLES / self.config.sample_rate if n == HOP_SAMPLES else self._time_for(n)
        rms = float(np.sqrt(np.mean(np.square(hop, dtype=np.float64)))) if n else 0.0
        energy_onset = self._onsets(self._buffer)
        if rms < self.config.silence_rms:
            self._recent_f0.clear()
            return PitchFrame(t=t, f0_hz=0.0, voicing=0.0, rms=rms, onset=0.0)
        f0, voicing = self._yin(self._buffer[-self.span :])
        jump_onset = self._pitch_jump_onset(f0, voicing)
        return PitchFrame(
            t=t,
            f0_hz=f0,
            voicing=voicing,
            rms=rms,
            onset=max(energy_onset, jump_onset),
            phase_jump=self._onsets.phase_jump,
            power=self._onsets.power,
        )

    def _time_for(self, n: int) -> float:
        # Odd-sized hops only happen at the very end of a stream; keep time consistent anyway.
        return (self._hops - 1) * HOP_SAMPLES / self.config.sample_rate + n / self.config.sample_rate

    def _yin(self, frame: np.ndarray) -> tuple[float, float]:
        """Pitch (Hz, 0 if unvoiced) and voicing (1 - aperiodicity) of the newest ``window`` samples."""
        cfg = self.config
        w, tau_max = cfg.window, self.tau_max
        x = frame.astype(np.float64)
        x = x - x.mean()
        newest = x[tau_max:]  # the integration window: the last ``w`` samples
        # r(tau) = sum_j newest[j] * x[tau_max + j - tau], computed for all lags with one FFT product.
        spec_all = np.fft.rfft(x, self._nfft)
        spec_new = np.fft.rfft(newest, self._nfft)
        xcorr = np.fft.irfft(spec_all * np.conj(spec_new), self._nfft)
        r = xcorr[tau_max - np.arange(tau_max + 1)]
        cum = np.concatenate(([0.0], np.cumsum(x * x)))
        starts = tau_max - np.arange(tau_max + 1)
        energy_lagged = cum[starts + w] - cum[starts]
        diff = energy_lagged[0] + energy_lagged - 2.0 * r
        diff[0] = 0.0
        np.maximum(diff, 0.0, out=diff)
        cmnd = np.ones_like(diff)
        running = np.cumsum(diff[1:])
        lags = np.arange(1, tau_max + 1)
        cmnd[1:] = diff[1:] * lags / np.maximum(running, 1e-12)
        search = cmnd[self.tau_min : tau_max]
        below = np.flatnonzero(search < cfg.threshold)
        if below.size:
            i = int(below[0])
            while i + 1 < search.size and search[i + 1] < search[i]:
                i += 1
        else:
            i = int(np.argmin(search))
        tau = i + self.tau_min
        best = float(cmnd[tau])
        if 1 <= tau < tau_max:
            a, b, c = cmnd[tau - 1], cmnd[tau], cmnd[tau + 1]
            denom = a - 2.0 * b + c
            shift = 0.5 * (a - c) / denom if denom > 1e-12 else 0.0
            refined = tau + float(np.clip(shift, -1.0, 1.0))
        else:
            refined = float(tau)
        voicing = float(np.clip(1.0 - best, 0.0, 1.0))
        if voicing < 1.0 - 2.0 * cfg.threshold or tau >= tau_max - 1:
            return 0.0, voicing
        return cfg.sample_rate / refined, voicing

    def _pitch_jump_onset(self, f0: float, voicing: float) -> float:
        """Onset strength from a jump of the voiced pitch against the last few voiced hops."""
        if f0 <= 0.0 or voicing < 0.6:
            return 0.0
        reference = float(np.median(self._recent_f0)) if self._recent_f0 else 0.0
        self._recent_f0.append(f0)
        if reference <= 0.0:
            return 0.0
        cents = abs(1200.0 * np.log2(f0 / reference))
        if cents < self.config.onset_jump_cents or abs(cents - 1200.0) < 30.0:
            return 0.0  # vibrato, or an octave flip of the tracker rather than a new note
        return float(np.clip(cents / 200.0, 0.5, 1.0))
