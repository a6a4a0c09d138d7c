"""The streaming YIN tracker: known tones give known pitches, onsets mark re-attacks, and it is fast."""

from __future__ import annotations

import time

import numpy as np
import pytest

from inference.pitch import YinTracker, hz_to_midi, midi_to_hz
from inference.synth import make_melody, render_notes
from inference.types import HOP_SAMPLES, SAMPLE_RATE, PitchFrame


def track(samples: np.ndarray) -> list[PitchFrame]:
    tracker = YinTracker()
    return [tracker(samples[i : i + HOP_SAMPLES]) for i in range(0, len(samples) - HOP_SAMPLES + 1, HOP_SAMPLES)]


def sine(f0_hz: float, seconds: float = 0.5, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (amplitude * np.sin(2 * np.pi * f0_hz * t)).astype(np.float32)


def test_a_440_hz_sine_is_a4() -> None:
    frames = track(sine(440.0))[4:]
    midis = [hz_to_midi(f.f0_hz) for f in frames]
    assert np.allclose(midis, 69.0, atol=0.05)
    assert min(f.voicing for f in frames) > 0.9


@pytest.mark.parametrize("f0_hz", [70.0, 98.0, 196.0, 523.25, 1046.5, 1975.5])
def test_pitch_is_within_15_cents_from_70_hz_to_2_khz(f0_hz: float) -> None:
    frames = track(sine(f0_hz))[4:]
    cents = [1200 * np.log2(f.f0_hz / f0_hz) for f in frames]
    assert np.max(np.abs(cents)) < 15


def test_harmonic_tone_reports_its_fundamental_not_an_octave() -> None:
    notes = make_melody([57], [2.0])  # A3 = 220 Hz, a string-like tone rich in harmonics
    audio, _ = render_notes(notes, timbre="string", lead_in_s=0.2)
    frames = [f for f in track(audio) if 0.4 < f.t < 1.2]
    midis = np.array([hz_to_midi(f.f0_hz) for f in frames])
    assert np.median(midis) == pytest.approx(57.0, abs=0.3)
    assert np.mean(np.abs(midis - 57.0) < 0.5) > 0.95


def test_silence_is_unvoiced_with_zero_f0() -> None:
    frames = track(np.zeros(SAMPLE_RATE // 2, dtype=np.float32))
    assert all(f.f0_hz == 0.0 and f.voicing == 0.0 and f.onset == 0.0 for f in frames)


def test_white_noise_is_mostly_unvoiced() -> None:
    noise = (0.1 * np.random.default_rng(0).standard_normal(SAMPLE_RATE)).astype(np.float32)
    frames = track(noise)
    assert np.mean([f.f0_hz > 0 for f in frames]) < 0.1


def test_times_are_frame_ends_in_seconds() -> None:
    frames = track(np.zeros(3 * HOP_SAMPLES, dtype=np.float32))
    assert [f.t for f in frames] == pytest.approx([0.02, 0.04, 0.06])


def test_repeated_notes_of_one_pitch_each_give_an_onset() -> None:
    notes = make_melody([67] * 6, [1.0] * 6, bpm=120)
    audio, onsets = render_notes(notes, timbre="piano-ish", lead_in_s=0.5)
    frames = track(audio)
    for onset in onsets:
        near = [f.onset for f in frames if onset - 0.01 <= f.t <= onset + 0.06]
        assert max(near) > 0.5, f"no onset detected near {onset:.2f} s"
    steady = [f.onset for f in frames if any(o + 0.15 < f.t < o + 0.4 for o in onsets)]
    assert max(steady) < 0.3


def test_a_re_attack_at_the_same_level_is_a_phase_jump_not_an_energy_onset() -> None:
    """A bow change or a tongued repeat: the tone restarts with new phases (a 3.3 ms gap) at the same level."""
    first, second = sine(440.0, 0.8), sine(440.0, 0.8)
    gap = np.zeros(53, dtype=np.float32)
    frames = track(np.concatenate([first, gap, second]))
    restart = len(first) / SAMPLE_RATE
    steady = [f.phase_jump for f in frames if 0.2 < f.t < restart - 0.02 or restart + 0.2 < f.t]
    near = [f for f in frames if restart <= f.t <= restart + 0.08]
    assert max(steady) < 0.1
    assert max(f.phase_jump for f in near) > 0.5
    assert max(f.onset for f in near) < 0.5  # the level hardly changes: energy flux alone would miss it


def test_vibrato_is_not_a_phase_jump() -> None:
    t = np.arange(int(1.5 * SAMPLE_RATE)) / SAMPLE_RATE
    vibrato = 440.0 * 2 ** (30 / 1200 * np.sin(2 * np.pi * 5.5 * t))  # ±30 cents at 5.5 Hz
    tone = (0.3 * np.sin(2 * np.pi * np.cumsum(vibrato) / SAMPLE_RATE)).astype(np.float32)
    assert max(f.phase_jump for f in track(tone) if f.t > 0.3) < 0.2


def test_reset_forgets_the_stream() -> None:
    tracker = YinTracker()
    tone = sine(440.0, 0.1)
    for i in range(0, len(tone) - HOP_SAMPLES + 1, HOP_SAMPLES):
        tracker(tone[i : i + HOP_SAMPLES])
    tracker.reset()
    frame = tracker(np.zeros(HOP_SAMPLES, dtype=np.float32))
    assert frame.t == pytest.approx(0.02) and frame.f0_hz == 0.0


def test_midi_hz_conversions_agree() -> None:
    assert midi_to_hz(69) == pytest.approx(440.0)
    assert hz_to_midi(midi_to_hz(60.3)) == pytest.approx(60.3)
    assert hz_to_midi(415.0, a4_hz=415.0) == pytest.approx(69.0)


def test_a_hop_costs_well_under_a_millisecond() -> None:
    tracker = YinTracker()
    audio = (0.3 * np.random.default_rng(1).standard_normal(SAMPLE_RATE * 2)).astype(np.float32)
    hops = [audio[i : i + HOP_SAMPLES] for i in range(0, len(audio), HOP_SAMPLES)]
    for hop in hops[:10]:
        tracker(hop)
    start = time.thread_time()  # CPU time of this thread: other jobs on a busy machine do not count
    for hop in hops:
        tracker(hop)
    per_hop_ms = (time.thread_time() - start) / len(hops) * 1000
    assert per_hop_ms < 1.0
