"""Followers on short real pieces: a folk melody rendered with a General MIDI soundfont the followers never
use, the real K265 piano recording, and a restart from an earlier bar."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from inference.audio import load_audio
from inference.following import group_onsets, make_follower
from inference.following.offline_run import follow_audio
from inference.synth import notes_to_midi, render_notes, render_with_fluidsynth
from inference.types import SAMPLE_RATE, ScoreNote
from tests.conftest import corpus_score, require_binary, shared_data

FLUIDR3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


def group_errors(notes: list[ScoreNote], reached: list[float | None], onsets: list[float]) -> np.ndarray:
    """|first reach - earliest onset| per onset group after the first; inf when never reached."""
    first: dict[int, float] = {}
    index = {n: g.index for g in group_onsets(notes) for n in g.note_ids}
    for note, onset in zip(notes, onsets, strict=True):
        first[index[note.note_id]] = min(first.get(index[note.note_id], np.inf), onset)
    return np.array([abs(reached[g] - t) if reached[g] is not None else np.inf for g, t in sorted(first.items())][1:])


@pytest.fixture(scope="module")
def lullaby_take(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[ScoreNote], np.ndarray, list[float]]:
    """'Schlaf, Kindlein, schlaf' played 15 % fast on a FluidR3 clarinet, with a little timing jitter."""
    require_binary("fluidsynth")
    if not FLUIDR3.is_file():
        pytest.skip(f"{FLUIDR3} is not installed (Debian package fluid-soundfont-gm)")
    notes = corpus_score("essenFolksong/kinder0", 1).notes
    rng = np.random.default_rng(5)
    played = [
        dataclasses.replace(
            n, onset_s=0.5 + n.onset_s / 1.15 + float(rng.normal(0, 0.01)), duration_s=0.9 * n.duration_s / 1.15
        )
        for n in notes
    ]
    folder = tmp_path_factory.mktemp("lullaby")
    notes_to_midi(played, folder / "take.mid", program=71)
    render_with_fluidsynth(folder / "take.mid", folder / "take.wav", FLUIDR3)
    return notes, load_audio(folder / "take.wav"), [p.onset_s for p in played]


@pytest.mark.parametrize("name", ["hmm", "oltw"])
def test_follows_a_rendered_folk_melody_to_the_end(name: str, lullaby_take) -> None:  # type: ignore[no-untyped-def]
    notes, audio, onsets = lullaby_take
    run = follow_audio(notes, audio, name)
    errors = group_errors(notes, run.group_reached_s, onsets)
    assert run.group_reached_s[-1] is not None
    assert np.median(errors) < 0.1
    assert np.mean(errors <= 0.3) >= 0.95


def test_oltw_follows_the_real_k265_piano_recording() -> None:
    from inference.bench.matchfiles import group_truth, read_match
    from inference.scores import load_score

    folder = shared_data("mozart_k265")
    score = load_score((folder / "mozart_k265_var1.musicxml").read_bytes(), "mozart_k265_var1.musicxml")
    truth = group_truth(score.notes, read_match(folder / "mozart_k265_var1.match"))
    audio = load_audio(folder / "mozart_k265_var1.mp3")[: 9 * SAMPLE_RATE]
    run = follow_audio(score.notes, audio, "oltw")
    played = np.flatnonzero(truth < 8.5)[1:]
    reached = np.array([run.group_reached_s[i] or np.inf for i in played])
    errors = np.abs(reached - truth[played])
    assert np.isfinite(reached).all()  # the cursor reaches every chord of the excerpt
    assert np.median(errors) < 0.08
    assert np.mean(errors <= 0.3) >= 0.9


def test_hmm_follows_a_restart_from_an_earlier_bar() -> None:
    notes = corpus_score("essenFolksong/kinder0", 1).notes
    bar_of = {n.note_id: n.measure for n in notes}
    stop_bar, again_bar = 6, 3
    first_pass = [n for n in notes if bar_of[n.note_id] < stop_bar]
    again = [n for n in notes if bar_of[n.note_id] >= again_bar]
    offset = first_pass[-1].onset_s + first_pass[-1].duration_s + 1.0 - again[0].onset_s
    played = first_pass + [dataclasses.replace(n, note_id=n.note_id + "b", onset_s=n.onset_s + offset) for n in again]
    audio, onsets = render_notes(played, timbre="string", seed=7)
    follower = make_follower("hmm", notes)
    hops = range(0, len(audio) - 320, 320)
    positions = [follower.update(audio[i : i + 320]) for i in hops]
    restart_s = onsets[len(first_pass)]
    groups = group_onsets(notes)
    replayed = {g.index for g in groups if again_bar <= g.measure < stop_bar}
    back_s = next((p.t for p in positions if p.t > restart_s and p.note_index in replayed), np.inf)
    assert back_s < restart_s + 3.0, "the cursor went back to the repeated bars within a few notes"
    assert positions[-1].note_index == len(groups) - 1
    # Once back, the notes after the stop point are reached close to when they are played (second pass).
    new_groups = [g.index for g in groups if g.measure >= stop_bar]
    second = {n.note_id[:-1]: t for n, t in zip(played, onsets, strict=True) if n.note_id.endswith("b")}
    for index in new_groups[1:]:
        truth = min(second[i] for i in groups[index].note_ids)
        reached = next(p.t for p in positions if p.t >= back_s and p.note_index >= index)
        assert abs(reached - truth) < 0.3
