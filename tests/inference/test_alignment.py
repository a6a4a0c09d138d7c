"""The offline aligner: rendered performances with planted mistakes get the verdicts a teacher would give."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from inference.alignment import align_notes, align_take
from inference.audio import load_audio
from inference.feedback import Tolerances
from inference.following.onsets import group_onsets
from inference.pitch.notes import PlayedNote
from inference.synth import make_melody, notes_to_midi, render_notes, render_with_fluidsynth
from inference.types import NoteVerdict, ScoreNote
from tests.conftest import require_binary

MELODY = [60, 62, 64, 65, 67, 69, 67, 65, 64, 62, 60]
PIANO_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


def score() -> list[ScoreNote]:
    return make_melody(MELODY, [1.0] * len(MELODY), bpm=100)


def verdicts_for(
    played: Sequence[ScoreNote], notes: Sequence[ScoreNote] | None = None, **tolerances: float
) -> list[NoteVerdict]:
    audio, _ = render_notes(played, timbre="string", seed=7)
    return align_take(notes or score(), audio, Tolerances(**tolerances)).verdicts


def by_id(verdicts: Sequence[NoteVerdict]) -> dict[str, NoteVerdict]:
    return {v.note_id: v for v in verdicts if v.result != "extra"}


def test_a_clean_performance_is_all_correct() -> None:
    verdicts = verdicts_for(score())
    assert [v.result for v in verdicts] == ["correct"] * len(MELODY)
    assert all(abs(v.cents or 0) <= 10 and abs(v.ms or 0) <= 40 for v in verdicts)


def test_a_wrong_note_is_wrong_pitch_with_its_cents() -> None:
    played = score()
    played[3] = replace(played[3], midi=66)
    verdict = by_id(verdicts_for(played))["n3"]
    assert verdict.result == "wrong_pitch" and verdict.cents == pytest.approx(100, abs=15)


def test_a_left_out_note_is_missed_and_the_rest_correct() -> None:
    played = [n for n in score() if n.note_id != "n5"]
    results = {k: v.result for k, v in by_id(verdicts_for(played)).items()}
    assert results.pop("n5") == "missed"
    assert set(results.values()) == {"correct"}


def test_an_inserted_note_is_extra_after_the_note_it_follows() -> None:
    played = score()
    inserted = replace(played[7], note_id="x", midi=76, onset_s=played[7].onset_s + 0.3, duration_s=0.25)
    played[7] = replace(played[7], duration_s=0.28)
    verdicts = verdicts_for([*played, inserted])
    extras = [v for v in verdicts if v.result == "extra"]
    assert len(extras) == 1 and extras[0].note_id == "n7"
    assert extras[0].played_midi == pytest.approx(76, abs=0.3)
    assert extras[0].detected_s == pytest.approx(1.0 + played[7].onset_s + 0.3, abs=0.06)
    assert [v.note_id for v in verdicts].index("n7") + 1 == verdicts.index(extras[0])
    assert all(v.result == "correct" for v in verdicts if v.result != "extra")


@pytest.mark.parametrize(("shift_s", "expected"), [(0.3, "late"), (-0.25, "early"), (0.08, "correct")])
def test_one_mistimed_note_is_judged_against_its_neighbours(shift_s: float, expected: str) -> None:
    played = score()
    # A melody instrument plays one note at a time: an early note cuts the one before it short.
    played[5] = replace(played[5], duration_s=min(0.6, 0.6 + shift_s - 0.06))
    played[6] = replace(played[6], onset_s=played[6].onset_s + shift_s, duration_s=0.5 - max(shift_s, 0.0))
    results = by_id(verdicts_for(played))
    assert results["n6"].result == expected
    assert results["n6"].ms == pytest.approx(shift_s * 1000, abs=40)
    # The next note is on time: it is judged against the steady neighbours, not against the mistimed one.
    assert results["n7"].result == "correct"


def test_a_slower_performance_is_timed_at_its_own_tempo() -> None:
    notes = score()
    audio, _ = render_notes(notes, tempo_factor=0.8, timbre="flute", seed=2)
    verdicts = align_take(notes, audio, Tolerances(), tempo_factor=1.0).verdicts
    assert [v.result for v in verdicts] == ["correct"] * len(MELODY)


def test_a_pause_is_not_a_late_note() -> None:
    played = [replace(n, onset_s=n.onset_s + (2.5 if i >= 5 else 0.0)) for i, n in enumerate(score())]
    results = by_id(verdicts_for(played))
    assert {v.result for v in results.values()} == {"correct"}
    assert results["n5"].ms is None


def test_a4_reference_and_transposition_are_honoured() -> None:
    notes = score()
    sounding = [replace(n, midi=n.midi - 2) for n in notes]  # a B-flat instrument reading the part
    assert {v.result for v in verdicts_for(sounding, notes, transpose_semitones=-2)} == {"correct"}
    untransposed = [v.result for v in verdicts_for(sounding, notes)]
    assert untransposed.count("correct") <= len(notes) // 2


def test_cents_tolerance_is_honoured() -> None:
    groups = group_onsets(score())
    played = [
        PlayedNote(1.0 + g.onset_s, 1.0 + g.onset_s + 0.5, 440.0 * 2 ** ((g.midis[0] + 0.35 - 69) / 12)) for g in groups
    ]
    assert {v.result for v in align_notes(groups, played, Tolerances(cents_tolerance=50))} == {"correct"}
    assert {v.result for v in align_notes(groups, played, Tolerances(cents_tolerance=30))} == {"wrong_pitch"}
    at_442 = [replace(p, hz=p.hz * 442 / 440) for p in played]
    assert {v.cents for v in align_notes(groups, at_442, Tolerances(a4_hz=442))} == {35}


def test_repeated_notes_slurred_into_one_tone_are_each_judged() -> None:
    notes = make_melody([67, 67, 69, 69, 67], [0.5, 0.5, 0.5, 0.5, 1.0], bpm=120)
    groups = group_onsets(notes)
    # One tone per pitch: the re-attacks of the repeated notes were not heard at all.
    played = [
        PlayedNote(1.0, 1.5, 392.0),
        PlayedNote(1.5, 2.0, 440.0),
        PlayedNote(2.0, 2.5, 392.0),
    ]
    results = [v.result for v in align_notes(groups, played, Tolerances())]
    assert results == ["correct"] * 5


def test_each_note_of_a_piano_chord_is_judged(tmp_path: Path) -> None:
    require_binary("fluidsynth")
    if not PIANO_SOUNDFONT.exists():
        pytest.skip(f"no soundfont at {PIANO_SOUNDFONT}")
    chords = [(48, 60, 64, 67), (53, 60, 65, 69), (55, 59, 62, 67), (48, 60, 64, 72)]
    notes = [
        ScoreNote(f"c{i}n{k}", 2.0 * i, 1.0 * i, 2.0, 1.0, midi, i + 1, 1.0)
        for i, chord in enumerate(chords)
        for k, midi in enumerate(chord)
    ]
    played = [n for n in notes if n.note_id != "c1n1"]  # C4 left out of the second chord
    played = [replace(n, midi=68) if n.note_id == "c2n3" else n for n in played]  # G4 -> G-sharp 4
    notes_to_midi(played, tmp_path / "chords.mid", program=0, velocity=80)
    render_with_fluidsynth(tmp_path / "chords.mid", tmp_path / "chords.wav", PIANO_SOUNDFONT)
    audio = np.concatenate([np.zeros(8000, dtype=np.float32), load_audio(tmp_path / "chords.wav")])
    results = by_id(align_take(notes, audio).verdicts)
    assert results.pop("c1n1").result == "missed"
    wrong = results.pop("c2n3")
    assert wrong.result == "wrong_pitch" and wrong.cents == 100
    assert [v.result for v in results.values()].count("correct") >= len(results) - 1


def test_an_excerpt_is_judged_alone_when_more_was_played() -> None:
    """A take of bars 1–2 whose learner played on (as a live take does until it stops after the excerpt): the
    notes played after the excerpt are the score's next notes, not extras or a second try at the excerpt."""
    notes = score()
    excerpt = [n.note_id for n in notes if n.measure <= 2]
    audio, _ = render_notes(notes, timbre="string", seed=7)
    verdicts = align_take(notes, audio, Tolerances(), to_measure=2).verdicts
    assert 0 < len(excerpt) < len(notes)
    assert [v.note_id for v in verdicts] == excerpt and {v.result for v in verdicts} == {"correct"}


def test_an_excerpt_is_not_matched_to_its_repeat_played_after_it() -> None:
    """A tune whose second half repeats its first: the excerpt (the first half) keeps the notes played first."""
    phrase = [60, 62, 64, 65, 67, 65, 64, 62]
    notes = make_melody(phrase + phrase, [1.0] * 16, bpm=100)
    first_half = {n.note_id for n in notes[:8]}
    last_bar = notes[7].measure
    assert notes[8].measure > last_bar
    audio, onsets = render_notes(notes, timbre="string", seed=3)
    verdicts = align_take(notes, audio, Tolerances(), to_measure=last_bar).verdicts
    assert {v.note_id for v in verdicts} == first_half and {v.result for v in verdicts} == {"correct"}
    assert all(abs((v.detected_s or 0) - onsets[i]) < 0.1 for i, v in enumerate(verdicts))
