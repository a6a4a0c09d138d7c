"""Audio helpers shared by the live path, the command-line tools and the tests.

Everything inside ``inference`` works on mono float32 at ``SAMPLE_RATE``; these functions get audio into and
out of that form. librosa and soundfile are imported lazily so the web process starts fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from inference.types import SAMPLE_RATE

INT16_SCALE = 32768.0


def pcm16_to_float(data: bytes) -> np.ndarray:
    """Decode little-endian signed 16-bit PCM (what the browser worklet sends) to float32 in [-1, 1)."""
    if len(data) % 2:
        raise ValueError(f"PCM16 data must have an even number of bytes, got {len(data)}")
    return (np.frombuffer(data, dtype="<i2").astype(np.float32) / np.float32(INT16_SCALE)).astype(np.float32)


def float_to_pcm16(samples: np.ndarray) -> bytes:
    """Encode float samples as little-endian PCM16, clipping to the representable range."""
    clipped = np.clip(np.asarray(samples, dtype=np.float64) * INT16_SCALE, -INT16_SCALE, INT16_SCALE - 1)
    return np.round(clipped).astype("<i2").tobytes()


def load_audio(source: str | Path | BinaryIO, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Read any file (a path or an open binary file) soundfile, or librosa's fallbacks for a path, can read,
    as mono float32 resampled to ``sr``."""
    import soundfile

    target = str(source) if isinstance(source, str | Path) else source
    try:
        data, file_sr = soundfile.read(target, dtype="float32", always_2d=True)
        mono = data.mean(axis=1)
    except soundfile.LibsndfileError:
        if not isinstance(target, str):
            raise
        import librosa

        mono, file_sr = librosa.load(target, sr=None, mono=True)
    return resample(np.asarray(mono, dtype=np.float32), int(file_sr), sr)


def resample(samples: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample with soxr (high quality, fast); a no-op when the rates match."""
    samples = np.asarray(samples, dtype=np.float32)
    if orig_sr == target_sr:
        return samples
    import soxr

    return np.asarray(soxr.resample(samples, orig_sr, target_sr), dtype=np.float32)


def chunks(samples: np.ndarray, size: int) -> Iterator[np.ndarray]:
    """Yield consecutive slices of ``size`` samples; the last one may be shorter (never empty)."""
    if size <= 0:
        raise ValueError(f"chunk size must be positive, got {size}")
    for start in range(0, len(samples), size):
        yield samples[start : start + size]


def write_wav(path: str | Path, samples: np.ndarray, sr: int = SAMPLE_RATE) -> None:
    """Write mono samples as 16-bit PCM WAV (clipped to [-1, 1])."""
    import soundfile

    clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    soundfile.write(str(path), clipped, sr, subtype="PCM_16")
