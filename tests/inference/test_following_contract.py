"""Every registered follower keeps the contract the live path and ``manage.py follow`` rely on, and the
spectral features it may use behave as specified on signals with known answers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from inference.following import FOLLOWERS, Follower, make_follower
from inference.following.features import LOWEST_MIDI, N_PITCHES, SpectralFeatures
from inference.following.offline_run import follow_audio
from inference.synth import make_melody, render_notes
from inference.types import HOP_SAMPLES, SAMPLE_RATE, Position, ScoreNote

SCALE = [60, 62, 64, 65, 67, 69, 71, 72]


def sine(hz: float, seconds: float, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_a_440_hz_sine_lights_the_a4_band() -> None:
    features = SpectralFeatures().extract(sine(440.0, 0.5))
    content = features[-1, :N_PITCHES]
    assert int(np.argmax(content)) + LOWEST_MIDI == 69
    assert np.linalg.norm(content) == pytest.approx(1.0, abs=1e-5)


def test_a_chord_lights_each_of_its_notes() -> None:
    chord = sum(sine(440.0 * 2 ** ((m - 69) / 12), 0.5, 0.1) for m in (48, 64, 67))
    content = SpectralFeatures().extract(np.asarray(chord, np.float32))[-1, :N_PITCHES]
    top = set((np.argsort(content)[-3:] + LOWEST_MIDI).tolist())
    assert top == {48, 64, 67}


def test_onsets_fire_at_the_attack_and_not_in_the_sustain() -> None:
    audio = np.concatenate((np.zeros(8000, np.float32), sine(330.0, 1.0)))
    onset = np.linalg.norm(SpectralFeatures().extract(audio)[:, N_PITCHES:], axis=1)
    attack_hop = 8000 // HOP_SAMPLES
    assert onset[attack_hop : attack_hop + 3].max() > 0.5
    assert onset[attack_hop + 10 :].max() < 0.05
    assert onset[:attack_hop].max() == 0.0


def test_silence_has_zero_features_and_level_does_not_matter() -> None:
    features = SpectralFeatures()
    assert not features.extract(np.zeros(SAMPLE_RATE, np.float32)).any()
    loud = features.extract(sine(523.25, 1.0, 0.5))
    quiet = features.extract(sine(523.25, 1.0, 0.005))
    np.testing.assert_allclose(loud[10:], quiet[10:], atol=1e-4)


def test_streaming_features_equal_whole_signal_features() -> None:
    audio, _ = render_notes(make_melody(SCALE, [0.5] * len(SCALE)), timbre="piano-ish", seed=1)
    features = SpectralFeatures()
    whole = features.extract(audio)
    features.reset()
    streamed = np.array([features(audio[i : i + HOP_SAMPLES]) for i in range(0, len(whole) * HOP_SAMPLES, HOP_SAMPLES)])
    np.testing.assert_allclose(streamed, whole, atol=1e-5)


@pytest.mark.parametrize("name", sorted(FOLLOWERS))
def test_every_follower_keeps_the_contract(name: str) -> None:
    notes = make_melody(SCALE, [1] * len(SCALE), bpm=120)
    follower = make_follower(name, notes, tempo_factor=1.1)
    assert isinstance(follower, Follower)
    assert len(follower.groups) == len(notes)
    audio, _ = render_notes(notes, tempo_factor=1.1, timbre="flute", seed=2)
    positions = [follower.update(audio[i : i + HOP_SAMPLES]) for i in range(0, len(audio) - HOP_SAMPLES, HOP_SAMPLES)]
    assert all(isinstance(p, Position) and 0.0 <= p.confidence <= 1.0 for p in positions)
    assert positions[0].note_index == -1 and positions[0].note_ids == ()
    assert positions[-1].note_index == len(notes) - 1
    assert positions[-1].note_ids == (notes[-1].note_id,)
    assert [p.t for p in positions[:3]] == pytest.approx([0.02, 0.04, 0.06])
    follower.reset(4)
    again = follower.update(np.zeros(HOP_SAMPLES, np.float32))
    assert again.note_index == -1 and again.measure == notes[4].measure


@pytest.mark.parametrize("name", sorted(FOLLOWERS))
def test_every_follower_refuses_bad_options(name: str) -> None:
    with pytest.raises(ValueError):
        make_follower(name, [], tempo_factor=1.0)
    with pytest.raises(ValueError):
        make_follower(name, make_melody([60], [1]), tempo_factor=0.0)


def test_follow_audio_reports_each_note_once_and_never_for_unplayed_notes() -> None:
    notes = make_melody(SCALE, [1] * len(SCALE), bpm=120)
    audio, onsets = render_notes(notes[:5], timbre="string", seed=3, tail_s=1.5)
    run = follow_audio(notes, audio, "hmm")
    result = run.to_contract()
    assert [n["note_id"] for n in result["notes"]] == [n.note_id for n in notes]
    detected = [n["detected_s"] for n in result["notes"]]
    assert all(d is not None and abs(d - t) < 0.15 for d, t in zip(detected[1:5], onsets[1:5], strict=True))
    assert detected[6:] == [None, None]
    assert result["per_chunk_ms"]["p95"] >= result["per_chunk_ms"]["p50"] > 0


def test_oltw_waits_for_the_attack_when_the_player_lingers_on_a_repeated_chord() -> None:
    """The third of five repeated chords comes 0.5 s late (rubato): the path's drift through identical
    sound must not report it before its attack is heard (without the attack rule it came ~0.2-0.3 s early)."""
    written = [ScoreNote(f"n{k}-{m}", 2.0 * k, 1.0 * k, 2.0, 1.0, m, 1 + k // 2, 1.0 + 2 * (k % 2))
               for k in range(5) for m in (60, 64, 67)]
    played = [dataclasses.replace(n, onset_s=n.onset_s + (0.5 if n.onset_q >= 4.0 else 0.0)) for n in written]
    for timbre in ("piano-ish", "flute"):
        audio, onsets = render_notes(played, timbre=timbre, seed=2)
        run = follow_audio(written, audio, "oltw")
        truth = [min(onsets[3 * k : 3 * k + 3]) for k in range(5)]
        assert run.group_reached_s[1] is not None and abs(run.group_reached_s[1] - truth[1]) < 0.1
        assert run.group_reached_s[2] is not None and run.group_reached_s[2] >= truth[2] - 0.1, timbre
