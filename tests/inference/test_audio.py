"""Audio helpers: PCM decoding, chunking, WAV round trips and resampling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inference.audio import chunks, float_to_pcm16, load_audio, pcm16_to_float, write_wav
from inference.types import SAMPLE_RATE


def test_pcm16_decodes_little_endian_to_unit_range() -> None:
    data = np.array([0, 16384, -32768, 32767], dtype="<i2").tobytes()
    decoded = pcm16_to_float(data)
    assert decoded.dtype == np.float32
    np.testing.assert_allclose(decoded, [0.0, 0.5, -1.0, 32767 / 32768])


def test_pcm16_rejects_odd_byte_counts() -> None:
    with pytest.raises(ValueError):
        pcm16_to_float(b"\x00\x01\x02")


def test_pcm16_round_trip_is_within_one_step() -> None:
    samples = np.random.default_rng(0).uniform(-1, 1, 1000).astype(np.float32)
    np.testing.assert_allclose(pcm16_to_float(float_to_pcm16(samples)), samples, atol=1 / 32768)


def test_chunks_cover_the_signal_in_order() -> None:
    samples = np.arange(1000, dtype=np.float32)
    parts = list(chunks(samples, 320))
    assert [len(p) for p in parts] == [320, 320, 320, 40]
    np.testing.assert_array_equal(np.concatenate(parts), samples)


def test_wav_round_trip_at_the_working_rate(tmp_path: Path) -> None:
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    write_wav(tmp_path / "a.wav", tone)
    loaded = load_audio(tmp_path / "a.wav")
    assert loaded.dtype == np.float32 and len(loaded) == len(tone)
    np.testing.assert_allclose(loaded, tone, atol=1e-4)


def test_load_audio_resamples_and_mixes_to_mono(tmp_path: Path) -> None:
    import soundfile

    sr = 44_100
    t = np.arange(sr) / sr
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], axis=1) * 0.3
    soundfile.write(str(tmp_path / "b.wav"), stereo, sr, subtype="PCM_16")
    loaded = load_audio(tmp_path / "b.wav")
    assert abs(len(loaded) - SAMPLE_RATE) <= 1
    spectrum = np.abs(np.fft.rfft(loaded))
    assert abs(np.argmax(spectrum) * SAMPLE_RATE / len(loaded) - 440) < 2
