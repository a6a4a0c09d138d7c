"""Onset strength from the rise of log band energies between hops (a band-wise spectral flux).

Shared by the streaming trackers so that every tracker reports ``PitchFrame.onset`` on the same scale.
"""

from __future__ import annotations

import numpy as np

from inference.types import SAMPLE_RATE


class BandFluxOnsets:
    """Feed the newest ``SPECTRUM_SIZE`` samples once per hop; returns onset strength in 0..1."""

    N_BANDS = 12
    SPECTRUM_SIZE = 512

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

    def __call__(self, newest: np.ndarray) -> float:
        segment = newest[-self.SPECTRUM_SIZE :] * self._window
        power = np.abs(np.fft.rfft(segment, self.SPECTRUM_SIZE)) ** 2
        power[self._low_bins] = 0.0
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
