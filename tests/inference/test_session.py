"""A take end to end: synthesized audio in arbitrary chunk sizes → position and verdict events → summary."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from inference.audio import float_to_pcm16, pcm16_to_float
from inference.feedback import Tolerances
from inference.session import TakeSession
from inference.synth import make_melody, render_notes
from inference.types import ScoreNote

MIDIS = [60, 62, 64, 65, 67, 65, 64, 62, 60, 64, 67, 72, 67, 64, 60]
BEATS = [1] * 14 + [2]


def score() -> list[ScoreNote]:
    return make_melody(MIDIS, BEATS, bpm=100)


def play(session: TakeSession, audio: np.ndarray, chunk: int = 1600) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for start in range(0, len(audio), chunk):
        events += session.feed(audio[start : start + chunk])
    return events


def results_by_id(session: TakeSession) -> dict[str, str]:
    verdicts, _ = session.finish()
    return {v.note_id: v.result for v in verdicts}


@pytest.mark.parametrize("tempo_factor", [0.85, 1.2])
def test_a_clean_take_is_all_correct_at_another_tempo(tempo_factor: float) -> None:
    audio, _ = render_notes(score(), tempo_factor=tempo_factor, timbre="string", seed=1)
    session = TakeSession(score())
    play(session, audio)
    verdicts, summary = session.finish()
    assert len(verdicts) == len(MIDIS)
    assert summary.counts == {"correct": len(MIDIS)} and summary.accuracy == 1.0
    assert summary.reached_note_index == len(MIDIS) - 1
    assert summary.duration_s == pytest.approx(len(audio) / 16_000, abs=0.02)


def test_chunk_sizes_do_not_change_the_result() -> None:
    audio, _ = render_notes(score(), timbre="flute", seed=2)
    odd, hops = TakeSession(score()), TakeSession(score())
    events_odd = play(odd, audio, chunk=777)
    events_hops = play(hops, audio, chunk=320)
    assert events_odd == events_hops


def test_pcm_from_the_browser_gives_the_same_verdicts() -> None:
    audio, _ = render_notes(score(), timbre="flute", seed=3)
    session = TakeSession(score())
    play(session, pcm16_to_float(float_to_pcm16(audio)))
    assert set(results_by_id(session).values()) == {"correct"}


def test_events_follow_the_protocol() -> None:
    audio, _ = render_notes(score(), timbre="piano-ish", seed=4)
    events = play(TakeSession(score()), audio)
    positions = [e for e in events if e["type"] == "position"]
    verdicts = [e for e in events if e["type"] == "verdict"]
    assert set(positions[0]) == {"type", "t", "note_ids", "measure", "beat", "confidence", "is_lost"}
    assert set(verdicts[0]) == {"type", "note_id", "result", "cents", "ms", "detected_s"}
    assert [v["note_id"] for v in verdicts] == [f"n{i}" for i in range(len(MIDIS) - 1)]
    gaps = np.diff([p["t"] for p in positions])
    assert gaps.max() <= 0.25 + 1e-6  # a heartbeat at least every 0.25 s ...
    assert len(positions) < 0.5 * len(audio) / 320  # ... but far from one event per hop


def test_planted_mistakes_get_their_verdicts() -> None:
    notes = score()
    played = list(notes)
    played[3] = dataclasses.replace(played[3], midi=66)  # F# for F: a semitone sharp
    played[6] = dataclasses.replace(played[6], midi=0, duration_s=0.0)  # not played at all
    played = [p for p in played if p.midi > 0]
    late = [dataclasses.replace(n, onset_s=n.onset_s + 0.35) if n.onset_q >= 10 else n for n in played]
    audio, _ = render_notes(late, timbre="flute", seed=5)
    session = TakeSession(notes)
    play(session, audio)
    verdicts = {v.note_id: v for v in session.finish()[0]}
    assert verdicts["n3"].result == "wrong_pitch" and verdicts["n3"].cents == pytest.approx(100, abs=15)
    assert verdicts["n6"].result == "missed"
    assert verdicts["n10"].result == "late" and verdicts["n10"].ms == pytest.approx(350, abs=60)
    others = [v.result for k, v in verdicts.items() if k not in {"n3", "n6", "n10"}]
    assert others == ["correct"] * (len(MIDIS) - 3)


def test_starting_from_a_measure_judges_only_what_follows() -> None:
    notes = score()
    rest = [n for n in notes if n.measure >= 2]
    audio, _ = render_notes(rest, timbre="flute", seed=6)
    session = TakeSession(notes, from_measure=2)
    play(session, audio)
    verdicts, summary = session.finish()
    assert [v.note_id for v in verdicts] == [n.note_id for n in rest]
    assert summary.notes_total == len(rest) and summary.accuracy == 1.0


def test_an_excerpt_judges_only_its_bars_though_the_whole_piece_is_played() -> None:
    notes = score()
    excerpt = [n for n in notes if 2 <= n.measure <= 3]
    audio, _ = render_notes([n for n in notes if n.measure >= 2], timbre="flute", seed=6)
    session = TakeSession(notes, from_measure=2, to_measure=3)
    events = play(session, audio)
    verdicts, summary = session.finish()
    assert [v.note_id for v in verdicts] == [n.note_id for n in excerpt]
    assert summary.notes_total == len(excerpt) and summary.accuracy == 1.0
    live = {e["note_id"] for e in events if e["type"] == "verdict"}
    assert live <= {n.note_id for n in excerpt}
    assert max(e["measure"] for e in events if e["type"] == "position") > 3  # it followed on past the excerpt
    with pytest.raises(ValueError, match="hold no notes"):
        TakeSession(notes, from_measure=3, to_measure=2)


def test_stopping_early_marks_the_rest_missed() -> None:
    audio, onsets = render_notes(score(), timbre="flute", seed=7)
    session = TakeSession(score())
    play(session, audio[: int((onsets[5] + 0.3) * 16_000)])
    verdicts, summary = session.finish()
    assert [v.result for v in verdicts] == ["correct"] * 6 + ["missed"] * (len(MIDIS) - 6)
    assert summary.reached_note_index == 5


def test_tolerances_apply_to_a_transposing_instrument() -> None:
    audio, _ = render_notes([dataclasses.replace(n, midi=n.midi - 2) for n in score()], seed=8)
    session = TakeSession(score(), tolerances=Tolerances(transpose_semitones=-2))
    play(session, audio)
    assert set(results_by_id(session).values()) == {"correct"}


def test_white_noise_is_survived_with_low_confidence() -> None:
    noise = (0.2 * np.random.default_rng(9).standard_normal(16_000 * 3)).astype(np.float32)
    session = TakeSession(score())
    events = play(session, noise)
    assert events[-1]["type"] == "position" and events[-1]["confidence"] < 0.5 and events[-1]["is_lost"]
    _, summary = session.finish()
    assert summary.counts == {"missed": len(MIDIS)} and summary.accuracy == 0.0


def test_an_empty_score_or_a_measure_past_the_end_is_refused() -> None:
    with pytest.raises(ValueError):
        TakeSession([])
    with pytest.raises(ValueError):
        TakeSession(score(), from_measure=40)
