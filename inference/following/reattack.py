"""A learned re-attack detector for repeated notes: is the note sounding at ``midi`` being played again?

A bowed or blown repeat of the same pitch often changes the level by only a couple of dB and hardly moves the
band flux, so no hand-made cue tells it from vibrato or a swell. Like Schlüter & Böck's onset CNN (ICASSP 2014)
a small network learns it from a few frames of spectrum; here the frames are first read at the expected pitch
(score-informed): the level of each of its first harmonics, the noise between them (bow and breath noise of
an attack), a coarse band spectrum, and the tracker's own onset and phase-jump cues, over the newest
``CONTEXT_HOPS`` hops, all relative to their loudest harmonic. Strictly causal: it sees only hops already heard.
Trained by ``scripts/train_reattack.py`` on audio rendered with soundfonts the benchmark never uses.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np

from inference.types import SAMPLE_RATE, PitchFrame

MODEL_PATH = Path(__file__).resolve().parents[1] / "models" / "reattack.onnx"
CONTEXT_HOPS = 8
N_HARMONICS = 8
N_BANDS = 6
FEATURES_PER_HOP = 2 * N_HARMONICS + N_BANDS + 3
FLOOR_DB = -60.0
"""Levels more than this far below the context's loudest harmonic all read the same."""


class ReattackFeatures:
    """Keeps the newest hops' spectra and reads them at a pitch: ``features(midi) -> (CONTEXT_HOPS * F,)``."""

    def __init__(self, *, n_fft: int = 512, sample_rate: int = SAMPLE_RATE, a4_hz: float = 440.0) -> None:
        self._freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
        self._a4_hz = a4_hz
        edges = np.geomspace(80.0, 0.95 * sample_rate / 2, N_BANDS + 1)
        band_of_bin = np.clip(np.searchsorted(edges, self._freqs) - 1, 0, N_BANDS - 1)
        band_of_bin[self._freqs < 80.0] = N_BANDS  # below every band
        self._bands = np.stack([(band_of_bin == b).astype(float) for b in range(N_BANDS)], axis=1)
        self._bins: dict[float, tuple[np.ndarray, np.ndarray]] = {}
        self._spectra: deque[np.ndarray] = deque(maxlen=CONTEXT_HOPS)
        self._scalars: deque[tuple[float, float, float]] = deque(maxlen=CONTEXT_HOPS)

    def reset(self) -> None:
        self._spectra.clear()
        self._scalars.clear()

    def push(self, pitch: PitchFrame) -> None:
        """Remember one hop (silent hops, without a spectrum, count as an empty one)."""
        power = pitch.power if pitch.power is not None else np.zeros_like(self._freqs)
        self._spectra.append(power)
        self._scalars.append((pitch.onset, pitch.phase_jump, pitch.rms))

    @property
    def is_full(self) -> bool:
        return len(self._spectra) == CONTEXT_HOPS

    def features(self, midi: float) -> np.ndarray:
        """The network's input for a note at ``midi``: per hop (oldest first) harmonic levels, the noise between
        harmonics, band levels (dB relative to the loudest harmonic in the context, scaled to 0..1), onset,
        phase jump and level."""
        spectra = np.stack(self._spectra)  # (hops, bins)
        harmonic_idx, between_idx = self._bins_for(midi)
        harmonics = spectra[:, harmonic_idx].max(axis=2)
        between = spectra[:, between_idx].mean(axis=2)
        bands = spectra @ self._bands
        levels = 10.0 * np.log10(np.concatenate((harmonics, between, bands), axis=1) + 1e-12)
        top = float(levels[:, :N_HARMONICS].max())
        relative = (np.clip(levels - top, FLOOR_DB, 20.0) - FLOOR_DB) / -FLOOR_DB
        scalars = np.array(self._scalars)
        rms_db = 20.0 * np.log10(scalars[:, 2] + 1e-6)
        rms_rel = (np.clip(rms_db - rms_db.max(), FLOOR_DB, 0.0) - FLOOR_DB) / -FLOOR_DB
        rows = np.concatenate((relative, scalars[:, :2], rms_rel[:, None]), axis=1)
        return rows.astype(np.float32).reshape(-1)

    def _bins_for(self, midi: float) -> tuple[np.ndarray, np.ndarray]:
        """Bin indices (padded by repetition to a common width) around each harmonic and between harmonics."""
        if midi not in self._bins:
            f0 = self._a4_hz * 2.0 ** ((midi - 69.0) / 12.0)
            nyquist = self._freqs[-1]
            harmonic, between = [], []
            for h in range(1, N_HARMONICS + 1):
                centre = min(h * f0, nyquist)
                harmonic.append(self._near(centre * 2.0 ** (-0.3 / 12.0), centre * 2.0 ** (0.3 / 12.0), centre))
                mid = min((h + 0.5) * f0, nyquist)
                between.append(self._near(mid - 0.2 * f0, mid + 0.2 * f0, mid))
            self._bins[midi] = (_pad(harmonic), _pad(between))
        return self._bins[midi]

    def _near(self, lo: float, hi: float, centre: float) -> np.ndarray:
        near = np.flatnonzero((self._freqs >= lo) & (self._freqs <= hi))
        return near if near.size else np.array([int(np.argmin(np.abs(self._freqs - centre)))])


def _pad(groups: list[np.ndarray]) -> np.ndarray:
    width = max(len(g) for g in groups)
    return np.stack([np.resize(g, width) for g in groups])


class ReattackDetector:
    """``detector.push(pitch_frame)`` every hop; ``detector(midi) -> 0..1``, the chance that the note sounding
    at ``midi`` was re-attacked within the newest hops. Runs the ONNX network (``MODEL_PATH``)."""

    def __init__(self, model: str | Path = MODEL_PATH, *, a4_hz: float = 440.0) -> None:
        from inference.runtime import onnx_session

        self._session = onnx_session(model, threads=1, cpu_only=True)
        self._input = self._session.get_inputs()[0].name
        self.features = ReattackFeatures(a4_hz=a4_hz)

    def reset(self) -> None:
        self.features.reset()

    def push(self, pitch: PitchFrame) -> None:
        self.features.push(pitch)

    def __call__(self, midi: float) -> float:
        if not self.features.is_full:
            return 0.0
        x = self.features.features(midi)[None, :]
        return float(self._session.run(None, {self._input: x})[0].reshape(-1)[0])
