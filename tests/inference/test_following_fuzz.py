"""Every follower survives whatever a microphone sends: random notes, jumps, chords, noise bursts and
silence in any order, without an exception and with positions that stay inside the score."""

from __future__ import annotations

import numpy as np
import pytest

from inference.following import FOLLOWERS, make_follower
from inference.synth import make_melody
from inference.types import HOP_SAMPLES, SAMPLE_RATE


def _chaos(rng: np.random.Generator, midis: list[int], seconds: float) -> np.ndarray:
    """Segments of 40-400 ms: a score note, a random note, a chord, noise or silence."""
    out: list[np.ndarray] = []
    total = int(seconds * SAMPLE_RATE)
    while sum(len(x) for x in out) < total:
        n = int(rng.uniform(0.04, 0.4) * SAMPLE_RATE)
        t = np.arange(n) / SAMPLE_RATE
        kind = rng.integers(5)
        if kind == 0:
            pitches = [int(rng.choice(midis))]
        elif kind == 1:
            pitches = [int(rng.integers(30, 100))]
        elif kind == 2:
            pitches = [int(m) for m in rng.choice(midis, size=3)]
        else:
            pitches = []
        tone = sum(np.sin(2 * np.pi * 440.0 * 2 ** ((m - 69) / 12) * t) for m in pitches) if pitches else 0.0
        noise = rng.normal(0.0, 0.3, n) if kind == 3 else 0.0
        out.append((0.2 * np.asarray(tone + noise, dtype=float) * np.ones(n)).astype(np.float32))
    return np.concatenate(out)[:total]


@pytest.mark.parametrize("name", sorted(FOLLOWERS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_sound_never_breaks_a_follower(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    midis = [int(m) for m in rng.integers(55, 80, size=48)]
    notes = make_melody(midis, [float(b) for b in rng.choice([0.25, 0.5, 1.0], size=48)], bpm=120)
    follower = make_follower(name, notes)
    follower.reset(int(rng.integers(0, 10)))
    audio = _chaos(rng, midis, 6.0)
    for start in range(0, len(audio) - HOP_SAMPLES + 1, HOP_SAMPLES):
        position = follower.update(audio[start : start + HOP_SAMPLES])
        assert -1 <= position.note_index < len(follower.groups)
        assert 0.0 <= position.confidence <= 1.0
