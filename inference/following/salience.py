"""Score-informed evidence that the next note has begun, from the spectrum at its harmonics.

A follower knows which pitch comes next, so it can look for that note's partials directly instead of waiting
for a pitch tracker to be sure. While a bowed or blown attack builds up under the previous note's release, an
autocorrelation tracker reads the old pitch (or one between the two) for several hops, yet the new note's
harmonics already stand well above where they were. ``NextNoteSalience`` compares, per hop, the power at the
harmonics that only the next note has against those that only the current note has (harmonics shared by both,
as in a fifth, say nothing about which one sounds; a note an octave up has only shared ones, so it is looked for
there), and measures how fast the next note's rise.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from inference.types import SAMPLE_RATE


@dataclass(frozen=True)
class Salience:
    """Evidence for moving from one note to the next, from one hop's spectrum."""

    share: float
    """0..1: power at the next note's own harmonics over that and the current note's own harmonics."""
    rise_db: float
    """How far (dB) the next note's own harmonics rose over the last few hops."""


class NextNoteSalience:
    """``salience(power, a_midi, b_midi) -> Salience`` per hop, ``power`` being a one-sided power spectrum of
    ``n_fft`` points; harmonic bins are computed once per pair of pitches and cached."""

    def __init__(
        self,
        *,
        n_fft: int,
        sample_rate: int = SAMPLE_RATE,
        a4_hz: float = 440.0,
        n_harmonics: int = 8,
        tolerance_semitones: float = 0.3,
        shared_cents: float = 40.0,
        rise_hops: int = 3,
    ) -> None:
        self._freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
        self._a4_hz = a4_hz
        self._n_harmonics = n_harmonics
        self._tolerance = tolerance_semitones
        self._shared_cents = shared_cents
        self._pairs: dict[tuple[float, float], tuple[list[np.ndarray], list[np.ndarray]]] = {}
        self._recent: deque[tuple[tuple[float, float], float]] = deque(maxlen=rise_hops)

    def reset(self) -> None:
        """Forget the recent levels (a new stream)."""
        self._recent.clear()

    def __call__(self, power: np.ndarray, a_midi: float, b_midi: float) -> Salience:
        """Evidence that ``b_midi`` has taken over from ``a_midi`` in ``power``."""
        key = (a_midi, b_midi)
        own_a, own_b = self._bins(key)
        level_a = sum(float(power[b].max()) for b in own_a)
        level_b = sum(float(power[b].max()) for b in own_b)
        total = level_a + level_b
        share = level_b / total if total > 0.0 else 0.0
        level_b_db = 10.0 * np.log10(level_b + 1e-12)
        before = [db for k, db in self._recent if k == key]
        low = min(before, default=level_b_db)
        self._recent.append((key, level_b_db))
        return Salience(share=share, rise_db=float(level_b_db - low))

    def _bins(self, key: tuple[float, float]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        if key not in self._pairs:
            a, b = key
            self._pairs[key] = (self._own_harmonics(a, b), self._own_harmonics(b, a))
        return self._pairs[key]

    def _own_harmonics(self, midi: float, other: float) -> list[np.ndarray]:
        """Bins around each harmonic of ``midi`` that is not (within ``shared_cents``) a harmonic of ``other``."""
        f0 = self._a4_hz * 2.0 ** ((midi - 69.0) / 12.0)
        f_other = self._a4_hz * 2.0 ** ((other - 69.0) / 12.0)
        nyquist = self._freqs[-1]
        own: list[np.ndarray] = []
        shared: list[np.ndarray] = []
        for h in range(1, self._n_harmonics + 1):
            f = h * f0
            if f > 0.95 * nyquist:
                break
            lo, hi = f * 2.0 ** (-self._tolerance / 12.0), f * 2.0 ** (self._tolerance / 12.0)
            near = np.flatnonzero((self._freqs >= lo) & (self._freqs <= hi))
            k = max(1.0, float(np.round(f / f_other)))
            is_shared = abs(1200.0 * np.log2(f / (k * f_other))) < self._shared_cents
            (shared if is_shared else own).append(
                near if near.size else np.array([int(np.argmin(np.abs(self._freqs - f)))])
            )
        # A note an octave above ``other`` has no harmonic of its own: it can only show in the shared ones, which
        # rise against ``other``'s odd harmonics when it begins.
        return own if own or midi <= other else shared
