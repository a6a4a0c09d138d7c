"""Voice activity: Silero VAD (v5, the ONNX model shipped in the ``silero-vad`` package) on 32 ms windows.

The model is run through ``inference.runtime.onnx_session`` (one cached session per process, thread-safe);
each ``SileroVad`` holds only its own recurrent state, so every take or stream gets its own instance.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from inference.types import SAMPLE_RATE

VAD_WINDOW = 512
"""Samples per model call at 16 kHz (32 ms), fixed by the model."""
VAD_CONTEXT = 64
"""Samples of the previous window the model sees before each new one."""
VAD_WINDOW_SECONDS = VAD_WINDOW / SAMPLE_RATE


class VadModelMissing(RuntimeError):
    """The silero-vad package (which ships the model file) is not installed."""


@cache
def silero_model_path() -> Path:
    try:
        import silero_vad
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise VadModelMissing(
            "voice commands need the silero-vad package for its ONNX model: "
            "pip install --no-deps -r requirements-nodeps.txt"
        ) from exc
    path = Path(silero_vad.__file__).parent / "data" / "silero_vad.onnx"
    if not path.is_file():  # pragma: no cover
        raise VadModelMissing(f"silero-vad is installed but {path} is missing")
    return path


class SileroVad:
    """Speech probability per 512-sample window; call ``reset`` between unrelated streams."""

    def __init__(self) -> None:
        from inference.runtime import onnx_session

        self._session = onnx_session(silero_model_path(), threads=1, cpu_only=True)
        self._sr = np.array(SAMPLE_RATE, dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros(VAD_CONTEXT, dtype=np.float32)

    def __call__(self, window: np.ndarray) -> float:
        """Probability (0..1) that ``window`` (exactly ``VAD_WINDOW`` samples) is speech."""
        window = np.asarray(window, dtype=np.float32).reshape(-1)
        if window.size != VAD_WINDOW:
            raise ValueError(f"the VAD takes windows of {VAD_WINDOW} samples, got {window.size}")
        x = np.concatenate((self._context, window))[None, :]
        out, self._state = self._session.run(None, {"input": x, "state": self._state, "sr": self._sr})
        self._context = window[-VAD_CONTEXT:].copy()
        return float(out[0, 0])

    def probabilities(self, samples: np.ndarray) -> np.ndarray:
        """One probability per whole window of ``samples`` (continuing the current state)."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        n = len(samples) // VAD_WINDOW
        return np.array([self(samples[i * VAD_WINDOW : (i + 1) * VAD_WINDOW]) for i in range(n)], dtype=np.float32)


class RecentSpeechVad:
    """Speech probability of the last few windows alone (more than ``memory_windows``, at most a few more).

    Silero's recurrent state stays in "speech" for up to half a second of music after the voice stops (its
    probability holds 0.6-1.0), so a segment over music closes late. ``copies`` copies of the model, each
    restarted from a blank state in turn, forget what came before: the oldest one has heard enough windows to
    recognise speech and nothing older. They run as one batch (about the cost of one more model call).
    """

    def __init__(self, memory_windows: int = 6, copies: int = 3) -> None:
        from inference.runtime import onnx_session

        if copies < 2 or memory_windows < 1:
            raise ValueError("needs at least two copies and one window of memory")
        self._session = onnx_session(silero_model_path(), threads=1, cpu_only=True)
        self._sr = np.array(SAMPLE_RATE, dtype=np.int64)
        self._stagger = -(-memory_windows // (copies - 1))
        self._period = self._stagger * copies
        self._copies = copies
        self.reset()

    def reset(self) -> None:
        """Start afresh: no copy has heard enough until ``memory_windows`` windows have passed."""
        self._state = np.zeros((2, self._copies, 128), dtype=np.float32)
        self._context = np.zeros(VAD_CONTEXT, dtype=np.float32)
        self._windows = 0

    def __call__(self, window: np.ndarray) -> float | None:
        """Probability that the recent windows up to ``window`` are speech; None until a copy has heard enough."""
        window = np.asarray(window, dtype=np.float32).reshape(-1)
        ages = [(self._windows - k * self._stagger) % self._period for k in range(self._copies)]
        for k, age in enumerate(ages):
            if age == 0:
                self._state[:, k] = 0.0
        x = np.tile(np.concatenate((self._context, window)), (self._copies, 1))
        out, self._state = self._session.run(None, {"input": x, "state": self._state, "sr": self._sr})
        self._context = window[-VAD_CONTEXT:].copy()
        self._windows += 1
        oldest = int(np.argmax(ages))
        if self._windows <= (self._copies - 1) * self._stagger:
            return None
        return float(out[oldest, 0])
