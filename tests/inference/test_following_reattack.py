"""The learned re-attack detector: its input is read at the expected pitch and does not depend on the level, the
network tells a re-attacked repeat from a steady note, and with it the HMM follower reaches legato repeats in
time (it loads no model when the detector is switched off)."""

from __future__ import annotations

import dataclasses

import numpy as np

from inference.following.hmm import HMMConfig, NoteHMMFollower
from inference.following.reattack import CONTEXT_HOPS, FEATURES_PER_HOP, MODEL_PATH, ReattackDetector, ReattackFeatures
from inference.pitch.yin import YinTracker
from inference.synth import make_melody
from inference.types import HOP_SAMPLES, SAMPLE_RATE, ScoreNote


def harmonic_tone(midi: float, seconds: float, amplitude: float = 0.2, seed: int = 0) -> np.ndarray:
    """Eight harmonics falling 0.7x each, random phases: a plain stand-in for a bowed or blown note."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    f0 = 440.0 * 2.0 ** ((midi - 69.0) / 12.0)
    tone = sum(0.7 ** (h - 1) * np.sin(2 * np.pi * h * f0 * t + rng.uniform(0, 2 * np.pi)) for h in range(1, 9))
    return np.asarray(amplitude * tone, dtype=np.float32)


def repeated_note(midi: float, gap_s: float = 0.03) -> tuple[np.ndarray, float]:
    """Two 0.5 s notes of one pitch, the second after a short gap with new phases (a tongued or bowed repeat);
    returns the audio and the second note's onset in seconds."""
    first = harmonic_tone(midi, 0.5 - gap_s, seed=1)
    fade = np.linspace(1.0, 0.0, int(0.02 * SAMPLE_RATE), dtype=np.float32)
    first[-len(fade) :] *= fade
    second = harmonic_tone(midi, 0.5, seed=2)
    second[: int(0.01 * SAMPLE_RATE)] *= np.linspace(0.0, 1.0, int(0.01 * SAMPLE_RATE), dtype=np.float32)
    audio = np.concatenate(
        (np.zeros(int(0.2 * SAMPLE_RATE), np.float32), first, np.zeros(int(gap_s * SAMPLE_RATE), np.float32), second)
    )
    return audio, 0.2 + 0.5


def chances(audio: np.ndarray, midi: float) -> tuple[np.ndarray, np.ndarray]:
    """Hop end times and the detector's chance per hop."""
    tracker, detector = YinTracker(), ReattackDetector()
    times, found = [], []
    for start in range(0, len(audio) - HOP_SAMPLES + 1, HOP_SAMPLES):
        detector.push(tracker(audio[start : start + HOP_SAMPLES]))
        times.append((start + HOP_SAMPLES) / SAMPLE_RATE)
        found.append(detector(midi))
    return np.array(times), np.array(found)


def test_the_model_ships_small() -> None:
    assert MODEL_PATH.is_file()
    assert MODEL_PATH.stat().st_size < 300_000


def test_features_do_not_depend_on_the_level() -> None:
    audio = harmonic_tone(69, 0.4)
    rows = []
    for gain in (1.0, 0.05):
        tracker, features = YinTracker(), ReattackFeatures()
        for start in range(0, len(audio) - HOP_SAMPLES + 1, HOP_SAMPLES):
            features.push(tracker(gain * audio[start : start + HOP_SAMPLES]))
        rows.append(features.features(69.0))
    assert rows[0].shape == (CONTEXT_HOPS * FEATURES_PER_HOP,)
    np.testing.assert_allclose(rows[0], rows[1], atol=1e-3)


def test_a_re_attacked_repeat_reads_higher_than_the_steady_note() -> None:
    audio, onset_s = repeated_note(69)
    times, found = chances(audio, 69.0)
    steady = found[(times > 0.45) & (times < onset_s - 0.1)]
    attack = found[(times > onset_s) & (times <= onset_s + 0.08)]
    assert attack.max() > 0.5
    assert attack.max() > steady.max() + 0.3


def test_the_follower_loads_no_model_when_the_detector_is_off() -> None:
    notes = make_melody([69, 69, 71], [1, 1, 1], bpm=100)
    off = NoteHMMFollower(notes, config=dataclasses.replace(HMMConfig(), learned_reattack_weight=0.0))
    assert off._reattack is None


def legato_repeats(notes: list[ScoreNote], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Each note straight into the next (no gap, no dip), with new phases: the hardest repeat to hear.
    Returns the audio and each note's onset in seconds."""
    rng = np.random.default_rng(seed)
    lead = np.zeros(int(0.5 * SAMPLE_RATE), np.float32)
    tones = [harmonic_tone(n.midi, n.duration_s * rng.uniform(0.85, 1.1), seed=i) for i, n in enumerate(notes)]
    onsets = 0.5 + np.cumsum([0.0] + [len(t) / SAMPLE_RATE for t in tones[:-1]])
    return np.concatenate([lead, *tones, np.zeros(8000, np.float32)]), onsets


def latencies(notes: list[ScoreNote], audio: np.ndarray, onsets: np.ndarray, weight: float) -> np.ndarray:
    follower = NoteHMMFollower(notes, config=dataclasses.replace(HMMConfig(), learned_reattack_weight=weight))
    positions = [follower.update(audio[i : i + HOP_SAMPLES]) for i in range(0, len(audio), HOP_SAMPLES)]
    reached = [next((p.t for p in positions if p.note_index >= k), np.inf) for k in range(1, len(notes))]
    return np.array(reached) - onsets[1:]


def test_the_detector_hears_legato_repeats_in_time() -> None:
    notes = make_melody([69, 69, 69, 69, 71, 71, 69], [1] * 7, bpm=120)
    audio, onsets = legato_repeats(notes)
    assert np.abs(latencies(notes, audio, onsets, weight=1.0)).max() < 0.06
    assert latencies(notes, audio, onsets, weight=0.0).max() > 0.1  # without it the repeats wait to be overdue
