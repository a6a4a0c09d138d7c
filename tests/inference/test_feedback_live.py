"""The live judge beyond the basics: extra notes, repeated notes slurred into one tone, A4 reference."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from inference.feedback import LiveJudge, Tolerances
from inference.following.onsets import group_onsets
from inference.pitch import midi_to_hz
from inference.synth import make_melody
from inference.types import HOP_SECONDS, NoteVerdict, PitchFrame
from tests.inference.test_feedback import MIDIS, SECONDS_PER_NOTE, judge_for, on_time, perform, position


def play(
    judge: LiveJudge,
    sounds: Sequence[tuple[float, float, float]],
    reached: Sequence[tuple[float, int]],
    end_s: float,
    a4_hz: float = 440.0,
) -> list[NoteVerdict]:
    """Feed frames of ``sounds`` (start s, end s, midi) with the follower on group ``i`` from each
    ``reached`` (time s, i); onsets are marked at every sound's start."""
    emitted: list[NoteVerdict] = []
    t = HOP_SECONDS
    while t <= end_s + 1e-9:
        now = [s for s in sounds if s[0] <= t < s[1]]
        index = max((i for start, i in reached if start <= t), default=-1)
        midi = now[-1][2] if now else None
        frame = PitchFrame(
            t=t,
            f0_hz=midi_to_hz(midi, a4_hz) if midi is not None else 0.0,
            voicing=1.0 if now else 0.0,
            rms=0.1 if now else 0.0,
            onset=1.0 if now and t - now[-1][0] < HOP_SECONDS else 0.0,
        )
        emitted += judge.observe(frame, position(t, index))
        t += HOP_SECONDS
    return emitted


def test_a_note_inserted_after_a_right_note_is_extra_and_names_the_note_it_follows() -> None:
    judge = judge_for()
    sounds = [(1.0 + i * 0.6, 1.0 + i * 0.6 + 0.58, m) for i, m in enumerate(MIDIS)]
    start, _, midi = sounds[2]
    sounds[2] = (start, start + 0.3, midi)
    sounds.insert(3, (start + 0.3, start + 0.58, 71))  # a B after the E, before the F
    scored = [s for s in sounds if s[2] != 71]
    live = play(judge, sounds, [(s[0] + 0.04, i) for i, s in enumerate(scored)], end_s=5.0)
    extras = [v for v in live if v.result == "extra"]
    assert len(extras) == 1 and extras[0].note_id == "n2"
    assert extras[0].played_midi == pytest.approx(71) and extras[0].detected_s == pytest.approx(start + 0.3, abs=0.03)
    assert [v.result for v in judge.final_verdicts() if v.result != "extra"] == ["correct"] * 6


def test_a_clean_take_has_no_extras() -> None:
    judge = judge_for()
    perform(on_time(), judge)
    assert all(v.result != "extra" for v in judge.final_verdicts())


def test_the_next_note_heard_before_the_follower_moves_is_not_extra() -> None:
    judge = judge_for()
    perform(on_time(), judge, reach_delay_s=0.09)  # the follower lags by four hops
    assert all(v.result != "extra" for v in judge.final_verdicts())


def test_repeated_notes_slurred_into_one_tone_are_not_missed() -> None:
    """The lullaby bug: a flute slurs two equal eighths; the follower crosses the second only briefly."""
    groups = group_onsets(make_melody([67, 67, 69], [0.5, 0.5, 1.0], bpm=120))
    judge = LiveJudge(groups)
    sounds = [(1.0, 1.5, 67), (1.5, 2.0, 69)]  # no re-attack at 1.25 s
    play(judge, sounds, [(1.04, 0), (1.48, 1), (1.52, 2)], end_s=2.6)
    assert [v.result for v in judge.final_verdicts()] == ["correct", "correct", "correct"]


def test_a_follower_jump_over_a_held_repeat_splits_the_tone() -> None:
    groups = group_onsets(make_melody([67, 67, 69], [0.5, 0.5, 1.0], bpm=120))
    judge = LiveJudge(groups)
    play(judge, [(1.0, 1.5, 67), (1.5, 2.0, 69)], [(1.04, 0), (1.54, 2)], end_s=2.6)
    verdicts = judge.final_verdicts()
    assert [v.result for v in verdicts] == ["correct", "correct", "correct"]
    assert verdicts[1].ms is None  # its onset was inferred, not heard, so it is not timed


def test_a_repeat_reached_on_time_without_a_heard_attack_is_untimed_not_early() -> None:
    """The follower moves on to the slurred repeat when it is due (no attack heard): its onset is unknown, so
    it is correct and untimed, not "early" from the start of the previous note's tone, nor the next "late"."""
    groups = group_onsets(make_melody([67, 67, 69, 71], [1.0, 1.0, 1.0, 2.0], bpm=60))
    judge = LiveJudge(groups)
    sounds = [(1.0, 3.0, 67), (3.0, 4.0, 69), (4.0, 5.5, 71)]  # no re-attack at 2 s
    play(judge, sounds, [(1.04, 0), (2.06, 1), (3.04, 2), (4.04, 3)], end_s=6.0)
    verdicts = judge.final_verdicts()
    assert [v.result for v in verdicts] == ["correct"] * 4
    assert verdicts[1].ms is None and verdicts[2].ms is not None


def test_a_truly_silent_repeat_is_still_missed() -> None:
    groups = group_onsets(make_melody([67, 67, 69], [0.5, 0.5, 1.0], bpm=120))
    judge = LiveJudge(groups)
    play(judge, [(1.0, 1.2, 67), (1.5, 2.0, 69)], [(1.04, 0), (1.48, 1), (1.52, 2)], end_s=2.6)
    assert [v.result for v in judge.final_verdicts()] == ["correct", "missed", "correct"]


@pytest.mark.parametrize(("a4_hz", "cents"), [(440.0, 8), (442.0, 0)])
def test_the_a4_reference_is_honoured(a4_hz: float, cents: int) -> None:
    judge = judge_for(Tolerances(a4_hz=a4_hz))
    sounds = [(1.0 + i * SECONDS_PER_NOTE, 1.0 + (i + 1) * SECONDS_PER_NOTE - 0.02, m) for i, m in enumerate(MIDIS)]
    play(judge, sounds, [(s[0] + 0.04, i) for i, s in enumerate(sounds)], end_s=5.0, a4_hz=442.0)
    assert {v.cents for v in judge.final_verdicts()} == {cents}


def test_timing_window_is_honoured() -> None:
    played = [(onset + (0.1 if i >= 3 else 0.0), midi) for i, (onset, midi) in enumerate(on_time())]
    strict, lenient = judge_for(Tolerances(timing_window_ms=60)), judge_for()
    perform(played, strict)
    perform(played, lenient)
    assert strict.final_verdicts()[3].result == "late" and lenient.final_verdicts()[3].result == "correct"


@pytest.mark.parametrize("bad", [{"cents_tolerance": 0}, {"a4_hz": 1000}, {"transpose_semitones": "two"}, {"x": 1}])
def test_bad_tolerances_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Tolerances.from_dict(bad)
