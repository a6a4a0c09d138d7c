"""The composer's environment: parameters, scales, actions and their limits, features and raters."""

from __future__ import annotations

import numpy as np
import pytest

from inference.composer.features import melody_features
from inference.composer.raters import RATER_KINDS, SimulatedRater
from inference.composer.track import (
    DURATIONS,
    ECHO,
    LONGER,
    MIN_LENGTH,
    PERCUSSION,
    PERCUSSION_CHANGE,
    PITCH_DOWN,
    PITCH_UP,
    REMOVE,
    RESOLVE_END,
    SCALES,
    SHORTER,
    STEPS_PER_BEAT,
    ParameterError,
    Track,
    TrackParams,
    apply_action,
    legal_actions,
    random_track,
)

C_MAJOR = TrackParams(base_note=60, scale="major", length=8, tempo_bpm=90)


def _track(pitches: list[int], beats: list[float] | None = None) -> Track:
    beats = beats or [0.5] * len(pitches)
    steps = int(sum(beats) * STEPS_PER_BEAT)
    return Track(tuple(pitches), tuple(beats), tuple(PERCUSSION[i % 2] for i in range(steps)))


@pytest.mark.parametrize("scale", sorted(SCALES))
def test_in_scale_pitch_steps_never_leave_the_scale(scale: str) -> None:
    params = TrackParams(base_note=57, scale=scale, length=8)
    rng = np.random.default_rng(3)
    track = random_track(params, rng)
    assert all(params.in_scale(p) for p in track.pitches)
    for _ in range(200):
        action = (int(rng.choice([PITCH_UP, PITCH_DOWN])), int(rng.integers(len(track))))
        track = apply_action(track, action, params, in_scale=True)
        assert all(params.in_scale(p) for p in track.pitches)
        low, high = params.pitch_bounds()
        assert all(low <= p <= high for p in track.pitches)


def test_semitone_steps_of_the_original_can_leave_the_scale() -> None:
    track = _track([60, 62, 64, 65, 67, 69, 71, 72])
    chromatic = apply_action(track, (PITCH_UP, 0), C_MAJOR, in_scale=False)
    in_scale = apply_action(track, (PITCH_UP, 0), C_MAJOR, in_scale=True)
    assert chromatic.pitches[0] == 61 and not C_MAJOR.in_scale(61)
    assert in_scale.pitches[0] == 62
    assert apply_action(track, (PITCH_UP, 2), C_MAJOR, in_scale=True).pitches[2] == 65  # E to F: a semitone


def test_durations_move_by_a_quarter_beat_within_their_limits() -> None:
    track = _track([60, 62, 64, 65], [1.0, 0.25, 0.5, 0.75])
    assert apply_action(track, (LONGER, 0), C_MAJOR, in_scale=True).beats[0] == 1.0
    assert apply_action(track, (SHORTER, 1), C_MAJOR, in_scale=True).beats[1] == 0.25
    longer = apply_action(track, (LONGER, 2), C_MAJOR, in_scale=True)
    assert longer.beats[2] == 0.75
    assert len(longer.percussion) == int(longer.total_beats * STEPS_PER_BEAT)


def test_percussion_change_swaps_one_drum_and_remove_keeps_the_minimum_length() -> None:
    track = _track([60, 62, 64, 65, 67])
    changed = apply_action(track, (PERCUSSION_CHANGE, 1), C_MAJOR, in_scale=True)
    assert changed.percussion[1] != track.percussion[1]
    assert changed.percussion[:1] + changed.percussion[2:] == track.percussion[:1] + track.percussion[2:]
    shorter = apply_action(track, (REMOVE, 2), C_MAJOR, in_scale=True)
    assert shorter.pitches == (60, 62, 65, 67)
    assert len(shorter) == MIN_LENGTH
    assert apply_action(shorter, (REMOVE, 0), C_MAJOR, in_scale=True) == shorter


def test_phrase_edits_end_on_the_tonic_and_echo_the_first_half() -> None:
    track = _track([60, 64, 62, 67, 65, 64, 62, 71])
    assert apply_action(track, (RESOLVE_END, 0), C_MAJOR, in_scale=True).pitches[-1] == 72
    echoed = apply_action(track, (ECHO, 0), C_MAJOR, in_scale=True)
    assert echoed.pitches == (60, 64, 62, 67, 60, 64, 62, 67)
    assert melody_features(echoed, C_MAJOR).repetition > melody_features(track, C_MAJOR).repetition


def test_the_original_action_set_addresses_every_note() -> None:
    track = _track([60, 62, 64, 65, 67, 69, 71, 72])
    actions = legal_actions(track, (PITCH_UP, PITCH_DOWN, LONGER, SHORTER, PERCUSSION_CHANGE))
    assert len(actions) == 5 * 8


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("base_note", 20, "base_note must be between"),
        ("length", 100, "length must be between"),
        ("tempo_bpm", "fast", "tempo_bpm must be a whole number"),
        ("scale", "klingon", "Unknown scale"),
    ],
)
def test_parameters_out_of_range_are_refused_with_a_clear_message(field: str, value: object, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        TrackParams(**{field: value})  # type: ignore[arg-type]


def test_track_round_trips_through_its_dict_and_rejects_bad_values() -> None:
    track = random_track(C_MAJOR, np.random.default_rng(0))
    assert Track.from_dict(track.to_dict()) == track
    bad = track.to_dict() | {"beats": [0.3] * len(track)}
    with pytest.raises(ValueError, match="durations"):
        Track.from_dict(bad)


def test_initial_tracks_draw_from_the_scale_octave_and_durations() -> None:
    track = random_track(C_MAJOR, np.random.default_rng(5))
    assert len(track) == 8
    assert set(track.pitches) <= set(C_MAJOR.starting_pitches())
    assert set(track.beats) <= set(DURATIONS)


@pytest.mark.parametrize("kind", RATER_KINDS)
def test_simulated_raters_are_deterministic_and_rate_on_the_1_to_10_scale(kind: str) -> None:
    tracks = [random_track(C_MAJOR, np.random.default_rng(i)) for i in range(30)]
    rater, twin = SimulatedRater(kind, 7), SimulatedRater(kind, 7)
    first = [rater.rate(t, C_MAJOR) for t in tracks]
    assert [twin.rate(t, C_MAJOR) for t in tracks] == first
    assert all(1 <= r <= 10 for r in first) and len(set(first)) > 1
    if kind == "compressed":
        assert all(3 <= r <= 7 for r in first)


def test_a_rater_prefers_tracks_closer_to_its_taste() -> None:
    rater = SimulatedRater("steady", 1)
    rater.taste.targets[4] = 1.0  # ends on the tonic
    rater.taste.weights[4] = 5.0
    open_end = _track([60, 62, 64, 65, 67, 65, 64, 62])
    closed = _track([60, 62, 64, 65, 67, 65, 64, 60])
    assert rater.score(closed, C_MAJOR) > rater.score(open_end, C_MAJOR)
