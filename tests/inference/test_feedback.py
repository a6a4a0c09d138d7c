"""The live judge, fed hand-made pitch frames and positions: each planted mistake gets its verdict."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from inference.feedback import LiveJudge, Tolerances
from inference.following.onsets import group_onsets
from inference.pitch import midi_to_hz
from inference.synth import make_melody
from inference.types import HOP_SECONDS, NoteVerdict, PitchFrame, Position

MIDIS = [60, 62, 64, 65, 67, 69]
SECONDS_PER_NOTE = 0.6  # quarter notes at 100 bpm


def position(t: float, index: int) -> Position:
    return Position(
        t=t,
        note_index=index,
        note_ids=(f"n{index}",) if index >= 0 else (),
        measure=1,
        beat=1.0,
        score_q=float(index),
        confidence=0.9,
    )


def perform(
    played: Sequence[tuple[float, float | None]],
    judge: LiveJudge,
    reach_delay_s: float = 0.04,
    end_s: float | None = None,
) -> list[NoteVerdict]:
    """Play (onset second, midi or None for silence) per score note in order; the follower "reaches" each
    note ``reach_delay_s`` after its onset. Returns the verdicts emitted live."""
    end_s = end_s if end_s is not None else played[-1][0] + SECONDS_PER_NOTE
    emitted: list[NoteVerdict] = []
    t = HOP_SECONDS
    while t <= end_s + 1e-9:
        index = max((i for i, (onset, _) in enumerate(played) if onset + reach_delay_s <= t), default=-1)
        sounding = max((i for i, (onset, _) in enumerate(played) if onset <= t), default=-1)
        midi = played[sounding][1] if sounding >= 0 else None
        is_attack = sounding >= 0 and t - played[sounding][0] < HOP_SECONDS and midi is not None
        frame = PitchFrame(
            t=t,
            f0_hz=midi_to_hz(midi) if midi is not None else 0.0,
            voicing=1.0 if midi is not None else 0.0,
            rms=0.1 if midi is not None else 0.0,
            onset=1.0 if is_attack else 0.0,
        )
        emitted += judge.observe(frame, position(t, index))
        t += HOP_SECONDS
    return emitted


def judge_for(tolerances: Tolerances | None = None) -> LiveJudge:
    return LiveJudge(group_onsets(make_melody(MIDIS, [1] * len(MIDIS))), tolerances)


def on_time(midis: Sequence[float | None] = MIDIS) -> list[tuple[float, float | None]]:
    return [(1.0 + i * SECONDS_PER_NOTE, m) for i, m in enumerate(midis)]


def results(verdicts: Sequence[NoteVerdict]) -> list[str]:
    return [v.result for v in verdicts]


def test_a_clean_performance_is_all_correct() -> None:
    judge = judge_for()
    live = perform(on_time(), judge)
    assert results(live) == ["correct"] * 5  # the last note is judged at the end of the take
    assert results(judge.final_verdicts()) == ["correct"] * 6
    assert all(abs(v.cents or 0) <= 1 for v in judge.verdicts)
    assert all(abs(v.ms or 0) <= 25 for v in judge.verdicts)


def test_verdicts_come_once_the_follower_has_moved_on() -> None:
    judge = judge_for()
    live = perform(on_time(), judge, end_s=1.0 + 1.5 * SECONDS_PER_NOTE)
    assert [v.note_id for v in live] == ["n0"]


def test_a_semitone_sharp_note_is_a_wrong_pitch_with_its_cents() -> None:
    judge = judge_for()
    perform(on_time([60, 62, 65, 65, 67, 69]), judge)
    verdict = judge.final_verdicts()[2]
    assert verdict.result == "wrong_pitch" and verdict.cents == 100


def test_a_slightly_flat_note_within_tolerance_is_correct() -> None:
    judge = judge_for()
    perform(on_time([60, 62, 63.7, 65, 67, 69]), judge)
    verdict = judge.final_verdicts()[2]
    assert verdict.result == "correct" and verdict.cents == -30


def test_tolerance_is_configurable() -> None:
    judge = judge_for(Tolerances(cents_tolerance=20))
    perform(on_time([60, 62, 63.7, 65, 67, 69]), judge)
    assert judge.final_verdicts()[2].result == "wrong_pitch"


def test_a_transposing_instrument_is_judged_at_written_pitch() -> None:
    judge = judge_for(Tolerances(transpose_semitones=-2))  # B-flat instrument: sounds a tone lower
    perform(on_time([m - 2 for m in MIDIS]), judge)
    assert results(judge.final_verdicts()) == ["correct"] * 6


def test_an_octave_error_of_the_tracker_is_forgiven() -> None:
    judge = judge_for()
    perform(on_time([60, 74, 64, 65, 67, 69]), judge)
    assert judge.final_verdicts()[1].result == "correct"


def test_a_silent_note_is_missed() -> None:
    judge = judge_for()
    perform(on_time([60, 62, None, 65, 67, 69]), judge)
    verdicts = judge.final_verdicts()
    assert results(verdicts) == ["correct", "correct", "missed", "correct", "correct", "correct"]


def test_a_note_the_follower_skipped_is_missed() -> None:
    judge = judge_for()
    played = on_time()
    played[2] = (played[3][0] - 0.001, None)  # the follower jumps from n1 straight to n3
    perform(played, judge)
    assert judge.final_verdicts()[2].result == "missed"


def test_notes_never_reached_are_missed_at_the_end() -> None:
    judge = judge_for()
    perform(on_time()[:3], judge)
    assert results(judge.final_verdicts()) == ["correct"] * 3 + ["missed"] * 3


@pytest.mark.parametrize(("shift_s", "expected"), [(0.3, "late"), (-0.25, "early"), (0.1, "correct")])
def test_timing_is_judged_against_the_previous_note(shift_s: float, expected: str) -> None:
    played = on_time()
    played = [(onset + (shift_s if i >= 3 else 0.0), midi) for i, (onset, midi) in enumerate(played)]
    judge = judge_for()
    perform(played, judge)
    verdict = judge.final_verdicts()[3]
    assert verdict.result == expected
    assert verdict.ms == pytest.approx(shift_s * 1000, abs=25)


def test_a_long_pause_is_not_called_late() -> None:
    played = [(onset + (3.0 if i >= 3 else 0.0), midi) for i, (onset, midi) in enumerate(on_time())]
    judge = judge_for()
    perform(played, judge)
    verdicts = judge.final_verdicts()
    assert results(verdicts) == ["correct"] * 6 and verdicts[3].ms is None


def test_every_note_of_a_chord_gets_the_group_verdict() -> None:
    notes = make_melody([60, 62], [1, 1])
    chord = make_melody([67], [1], id_prefix="c")
    judge = LiveJudge(group_onsets([*notes, *chord]))
    perform([(1.0, 67), (1.6, 62)], judge)
    verdicts = {v.note_id: v.result for v in judge.final_verdicts()}
    assert verdicts == {"n0": "correct", "c0": "correct", "n1": "correct"}


def test_notes_before_the_start_are_not_judged() -> None:
    groups = group_onsets(make_melody(MIDIS, [1] * len(MIDIS)))
    judge = LiveJudge(groups, start_index=3)
    assert [v.note_id for v in judge.final_verdicts()] == ["n3", "n4", "n5"]
