"""Onset strength from the rise of log band energies between hops (a band-wise spectral flux).

Shared by the streaming trackers so that every tracker reports ``PitchFrame.onset`` on the same scale.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from inference.types import SAMPLE_RATE


class BandFluxOnsets:
    """Feed the newest ``SPECTRUM_SIZE`` samples once per hop; returns onset strength in 0..1."""

    N_BANDS = 12
    SPECTRUM_SIZE = 512
    PHASE_FLOOR = 0.45
    """Phase deviation (radians) below this is a steady note (sustained partials, vibrato)..."""
    PHASE_SPAN = 0.5
    """...and this much above the floor is a full re-attack."""
    PHASE_STEADY_HOPS = 12
    PHASE_STEADY_FACTOR = 2.0
    """The floor rises to this multiple of the median deviation of the last ``PHASE_STEADY_HOPS`` hops, so a
    note whose phases always wander (vibrato, breath noise) does not read as re-attacked all the time."""

    def __init__(self, sample_rate: int = SAMPLE_RATE, onset_db: float = 6.0) -> None:
        self.onset_db = onset_db
        self._window = np.hanning(self.SPECTRUM_SIZE).astype(np.float32)
        freqs = np.fft.rfftfreq(self.SPECTRUM_SIZE, 1.0 / sample_rate)
        edges = np.geomspace(80.0, sample_rate / 2, self.N_BANDS + 1)
        self._band_of_bin = np.clip(np.searchsorted(edges, freqs) - 1, 0, self.N_BANDS - 1)
        self._low_bins = freqs < 80.0
        self.reset()

    def reset(self) -> None:
        self._prev_bands_db = np.full(self.N_BANDS, -120.0)
        self._phases: tuple[np.ndarray, np.ndarray] | None = None
        self._recent_radians: deque[float] = deque(maxlen=self.PHASE_STEADY_HOPS)
        self.phase_jump = 0.0
        """After each call: 0..1 phase deviation of the strong partials (see ``_phase_jump``)."""
        self.power = np.zeros(self.SPECTRUM_SIZE // 2 + 1)
        """After each call: the power spectrum of the newest ``SPECTRUM_SIZE`` samples (Hann window)."""

    def __call__(self, newest: np.ndarray) -> float:
        segment = newest[-self.SPECTRUM_SIZE :] * self._window
        spectrum = np.fft.rfft(segment, self.SPECTRUM_SIZE)
        power = np.abs(spectrum) ** 2
        power[self._low_bins] = 0.0
        self.power = power
        self.phase_jump = self._phase_jump(spectrum, power)
        bands = np.bincount(self._band_of_bin, weights=power, minlength=self.N_BANDS)
        bands_db = 10.0 * np.log10(bands + 1e-9)
        # Only bands clearly above the floor may vote, so noise flicker in empty bands is ignored.
        loud = bands_db > bands_db.max() - 40.0
        rise = np.clip(bands_db - self._prev_bands_db, 0.0, 30.0)
        self._prev_bands_db = bands_db
        weights = np.where(loud, bands, 0.0)
        total = float(np.sum(weights))
        if total <= 0.0:
            return 0.0
        flux_db = float(np.sum(rise * weights)) / total
        return float(np.clip((flux_db - 1.0) / self.onset_db, 0.0, 1.0))

    def _phase_jump(self, spectrum: np.ndarray, power: np.ndarray) -> float:
        """Power-weighted mean |second difference of phase| over bins within 20 dB of the strongest (Bello et
        al. 2004's phase deviation, over hops): near 0 while partials sound steadily, ~1 rad at a re-attack."""
        phase = np.angle(spectrum)
        previous = self._phases
        self._phases = (previous[1], phase) if previous is not None else (phase, phase)
        if previous is None:
            return 0.0
        deviation = np.abs((phase - 2.0 * previous[1] + previous[0] + np.pi) % (2.0 * np.pi) - np.pi)
        weights = np.where(power > 0.01 * power.max(), power, 0.0)
        total = float(weights.sum())
        if total <= 0.0:
            return 0.0
        radians = float(deviation @ weights) / total
        steady = float(np.median(self._recent_radians)) if self._recent_radians else 0.0
        self._recent_radians.append(radians)
        floor = max(self.PHASE_FLOOR, self.PHASE_STEADY_FACTOR * steady)
        return float(np.clip((radians - floor) / self.PHASE_SPAN, 0.0, 1.0))
