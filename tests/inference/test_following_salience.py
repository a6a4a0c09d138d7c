"""Score-informed salience: the next note's own harmonics tell when it takes over, before a pitch tracker is
sure, and the HMM follower moves on sooner for it on slow (bowed-like) legato attacks."""

from __future__ import annotations

import dataclasses

import numpy as np

from inference.following.hmm import HMMConfig, NoteHMMFollower
from inference.following.salience import NextNoteSalience
from inference.synth import make_melody
from inference.types import HOP_SAMPLES, SAMPLE_RATE, ScoreNote

N_FFT = 512


def harmonic_tone(midi: float, seconds: float, amplitude: float = 0.2, seed: int = 0) -> np.ndarray:
    """Eight harmonics falling 0.7x each, random phases: a plain stand-in for a bowed or blown note."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    f0 = 440.0 * 2.0 ** ((midi - 69.0) / 12.0)
    tone = sum(0.7 ** (h - 1) * np.sin(2 * np.pi * h * f0 * t + rng.uniform(0, 2 * np.pi)) for h in range(1, 9))
    return np.asarray(amplitude * tone)


def power_of(samples: np.ndarray) -> np.ndarray:
    """What ``PitchFrame.power`` holds: the Hann-windowed power spectrum of the newest 512 samples."""
    return np.abs(np.fft.rfft(samples[-N_FFT:] * np.hanning(N_FFT))) ** 2


def test_the_share_tells_which_of_two_notes_sounds() -> None:
    salience = NextNoteSalience(n_fft=N_FFT)
    a4, b4 = harmonic_tone(69, 0.1), harmonic_tone(71, 0.1)
    assert salience(power_of(a4), 69, 71).share < 0.05
    assert salience(power_of(b4), 69, 71).share > 0.95


def test_the_next_note_rising_under_the_current_one_shows_as_a_rise() -> None:
    salience = NextNoteSalience(n_fft=N_FFT)
    a4 = harmonic_tone(69, 0.3)
    b4 = harmonic_tone(71, 0.3, amplitude=0.1, seed=1)
    steady = [salience(power_of(a4[: N_FFT + i * HOP_SAMPLES]), 69, 71).rise_db for i in range(4)]
    entering = salience(power_of(a4[: N_FFT + 4 * HOP_SAMPLES] + b4[: N_FFT + 4 * HOP_SAMPLES]), 69, 71)
    assert max(abs(r) for r in steady) < 1.0
    assert entering.rise_db > 20.0
    assert abs(entering.share - 0.25 / 1.25) < 0.05  # half the amplitude: a quarter of the power


def test_harmonics_both_notes_share_are_no_evidence() -> None:
    salience = NextNoteSalience(n_fft=N_FFT)
    # Every harmonic of A4 is one of A3's: an octave leap is looked for in the harmonics the two share.
    assert salience(power_of(harmonic_tone(69, 0.1)), 57, 69).share > 0.95
    assert salience(power_of(harmonic_tone(57, 0.1)), 57, 69).share < 0.6
    # E5's odd harmonics are not A4's (its even ones are): they alone tell the fifth.
    assert salience(power_of(harmonic_tone(76, 0.1)), 69, 76).share > 0.95
    assert salience(power_of(harmonic_tone(69, 0.1)), 69, 76).share < 0.05


def bowed_legato(notes: list[ScoreNote], attack_s: float, overlap_s: float) -> tuple[np.ndarray, list[float]]:
    """Each note fades in over ``attack_s`` while the one before rings on ``overlap_s`` into it."""
    lead_s = 0.5
    audio = np.zeros(int((lead_s + notes[-1].onset_s + notes[-1].duration_s + 0.5) * SAMPLE_RATE))
    for i, note in enumerate(notes):
        seconds = note.duration_s + overlap_s
        t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
        envelope = np.clip(t / attack_s, 0.0, 1.0) * np.clip((seconds - t) / overlap_s, 0.0, 1.0)
        start = int((lead_s + note.onset_s) * SAMPLE_RATE)
        audio[start : start + len(t)] += envelope * harmonic_tone(note.midi, seconds, seed=i)
    return audio.astype(np.float32), [lead_s + n.onset_s for n in notes]


def mean_latency_s(notes: list[ScoreNote], audio: np.ndarray, truth: list[float], config: HMMConfig) -> float:
    follower = NoteHMMFollower(notes, config=config)
    positions = [follower.update(audio[i : i + HOP_SAMPLES]) for i in range(0, len(audio), HOP_SAMPLES)]
    reached = [next(p.t for p in positions if p.note_index >= k) for k in range(1, len(notes))]
    return float(np.mean(np.array(reached) - np.array(truth[1:])))


def test_the_follower_reaches_slow_legato_attacks_sooner_with_salience() -> None:
    notes = make_melody([69, 71, 72, 74, 76, 74, 72, 71, 69, 67, 69, 71], [1] * 12, bpm=100)
    audio, truth = bowed_legato(notes, attack_s=0.1, overlap_s=0.1)
    with_salience = mean_latency_s(notes, audio, truth, HMMConfig())
    without = mean_latency_s(notes, audio, truth, dataclasses.replace(HMMConfig(), salience_onset_weight=0.0))
    assert with_salience <= without - 0.005
    assert 0.0 < with_salience < 0.1


def test_a_note_an_octave_up_shows_in_the_harmonics_it_shares_with_the_note_below() -> None:
    """A5 after A4 has no harmonic of its own: it shows as A4's even harmonics rising against its odd ones (an
    A5 played 20 dB under a still-ringing clarinet A4 was reached 340 ms late)."""
    salience = NextNoteSalience(n_fft=N_FFT)
    t = np.arange(int(0.2 * SAMPLE_RATE)) / SAMPLE_RATE
    clarinet_a4 = 0.2 * sum(0.7 ** h * np.sin(2 * np.pi * h * 440.0 * t) for h in (1, 3, 5, 7))  # odd harmonics
    for _ in range(4):
        before = salience(power_of(clarinet_a4), 69, 81)
    assert before.share < 0.05
    # The A4 is let go (its release falls 20 dB) while the A5 comes in 20 dB under the A4's level.
    after = salience(power_of(0.1 * clarinet_a4 + harmonic_tone(81, 0.2, amplitude=0.02, seed=3)), 69, 81)
    assert after.share > 0.2 and after.rise_db > 6.0
