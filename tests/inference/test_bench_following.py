"""The following benchmark's parts: match files, truth, degradations, scoring, and a tiny real run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inference.audio import write_wav
from inference.bench import degrade, performances
from inference.bench.anchors import _to_run
from inference.bench.following import errors_of, main, score
from inference.bench.performances import Performance
from inference.following import group_onsets
from inference.synth import make_melody, notes_to_midi, render_notes
from tests.conftest import shared_data


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(performances, "CACHE", tmp_path / "cache")


def melody_performance(tmp_path: Path) -> Performance:
    notes = make_melody([60, 62, 64, 65, 67, 69, 71, 72] * 3, [1] * 24, bpm=120)
    audio, onsets = render_notes(notes, timbre="flute", seed=1)
    path = tmp_path / "take.wav"
    write_wav(path, audio)
    return Performance("nottingham", "scale", notes, tmp_path / "scale.musicxml", path, np.array(onsets), 1.0, 120.0)


def test_k265_match_file_gives_a_time_for_every_chord() -> None:
    from inference.bench.matchfiles import group_truth, read_match
    from inference.scores import load_score

    folder = shared_data("mozart_k265")
    matched = read_match(folder / "mozart_k265_var1.match")
    assert len(matched) == 218 and matched[0].midi == 74 and matched[0].performed_s == pytest.approx(0.7208, abs=1e-3)
    notes = load_score((folder / "mozart_k265_var1.musicxml").read_bytes(), "k265.musicxml").notes
    truth = group_truth(notes, matched)
    assert np.isfinite(truth).all() and len(truth) == len(group_onsets(notes))
    assert np.all(np.diff(truth) > -0.05)


def test_scoring_counts_windows_never_reached_and_lost_pieces(tmp_path: Path) -> None:
    perf = melody_performance(tmp_path)
    reached: list[float | None] = list(perf.truth + 0.07)
    reached[5] = float(perf.truth[5] + 2.0)
    reached[-1] = None
    errors = errors_of(perf, reached)
    assert len(errors) == len(perf.truth) - 1  # the first onset is excluded
    figures = score([{"errors": errors, "chunk_ms": np.array([0.1, 0.3]), "compute_s": 1.0, "audio_s": 10.0}])
    summary = figures["summary"]
    assert set(summary) == {"w50", "w100", "w300", "w1000", "never_lost", "chunk_ms_p95"}
    assert summary["w50"] == 0.0 and summary["w100"] == pytest.approx(21 / 23, abs=1e-4)
    assert summary["w1000"] == pytest.approx(21 / 23, abs=1e-4) and summary["never_lost"] == 0.0
    assert figures["details"]["rtf"] == 0.1


def test_restart_and_skip_move_the_truth_with_the_audio(tmp_path: Path) -> None:
    perf = melody_performance(tmp_path)
    restarted = degrade.restart(perf, back_bars=2)
    shift = (len(restarted.audio()) - len(perf.audio())) / 16_000
    stop = perf.truth < restarted.truth - 0.01
    assert stop.any() and np.allclose(restarted.truth[stop] - perf.truth[stop], shift, atol=0.002)
    assert shift > degrade.RESTART_PAUSE_S  # the repeated bars were played again
    skipped = degrade.skip(perf, bars=1)
    assert np.isnan(skipped.truth).sum() == 4  # one 4/4 bar of quarter notes was left out
    assert len(skipped.audio()) < len(perf.audio())


def test_wrong_notes_move_every_tenth_note(tmp_path: Path) -> None:
    notes = make_melody([60] * 30, [1] * 30)
    notes_to_midi(notes, tmp_path / "a.mid")
    original = (tmp_path / "a.mid").read_bytes()
    detuned = degrade._detune_midi(original, 10, np.random.default_rng(0))
    assert len(detuned) == len(original)
    changed = [i for i, (a, b) in enumerate(zip(original, detuned, strict=True)) if a != b]
    assert len(changed) == 6  # 3 note-ons and their 3 note-offs
    assert {abs(detuned[i] - original[i]) for i in changed} <= {1, 2}


def test_anchor_positions_map_onto_onset_groups(tmp_path: Path) -> None:
    perf = melody_performance(tmp_path)
    onset_q = [float(i) for i in range(24)]
    reached = [float(i) for i in range(12)]
    result = {"onset_q": onset_q[::2], "reached_s": reached, "reached_label_s": reached}
    result.update(frame_ms=[1.0, 2.0], hop_s=0.04)
    run = _to_run(perf, result)
    assert run.group_reached_s[:4] == [0.0, 1.0, 1.0, 2.0]  # a group counts as reached when a later onset is
    assert run.chunk_ms.tolist() == [0.5, 1.0]  # per 20 ms of audio


def test_a_tiny_real_run_prints_the_summary_last(capsys: pytest.CaptureFixture[str]) -> None:
    shared_data("mozart_k265")
    result = main(["--json", "--dataset", "k265", "--follower", "oltw", "--no-anchors"])
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["summary"] == result["summary"]
    figures = result["summary"]["k265"]["oltw"]
    assert figures["w1000"] > 0.9 and figures["chunk_ms_p95"] < 5.0


def test_the_game_gets_a_time_per_group_from_first_to_last_played(tmp_path: Path) -> None:
    from inference.bench.rl_game import game_onsets

    perf = melody_performance(tmp_path)
    truth = perf.truth.copy()
    truth[[0, 1, 7, 22, 23]] = np.nan  # not played: two at the start, one inside, two at the end
    perf.truth = truth
    found = game_onsets(perf)
    assert found is not None
    notes, times = found
    assert [n.note_id for n in notes] == [n.note_id for n in perf.notes[2:22]]
    assert len(times) == 20 and np.all(np.diff(times) > 0)
    assert times[5] == pytest.approx((truth[6] + truth[8]) / 2)  # the gap is filled along the written time


def test_with_anchors_on_a_subset_the_summary_compares_the_same_pieces(tmp_path: Path) -> None:
    import argparse

    from inference.bench.following import report

    one = melody_performance(tmp_path)
    two = Performance("nottingham", "other", one.notes, one.score_path, one.audio_path, one.truth, 1.0, 120.0)
    def run(offset: float) -> dict[str, object]:
        errors = np.full(len(one.truth) - 1, offset)
        return {"errors": errors, "chunk_ms": np.array([0.2]), "compute_s": 1.0, "audio_s": 10.0}

    per_piece = {"nottingham/scale": {"oltw": run(0.02), "mm_skf": run(0.2)}, "nottingham/other": {"oltw": run(2.0)}}
    args = argparse.Namespace(quick=False, json=False)
    result = report([one, two], per_piece, ["oltw", "mm_skf"], "", args, 1.0, {"nottingham/scale"})
    assert result["summary"]["nottingham"]["oltw"]["w100"] == 1.0  # the subset only, as the anchor played
    assert result["summary"]["nottingham"]["mm_skf"]["w300"] == 1.0
    assert result["summary_full"]["nottingham"]["oltw"]["w100"] == 0.5 and "mm_skf" not in result["summary_full"]
    assert [row["anchor_subset"] for row in result["pieces"]] == [True, False]


def test_the_rl_follower_gets_the_game_metrics_beside_the_shared_ones() -> None:
    shared_data("mozart_k265")
    result = main(["--dataset", "k265", "--follower", "rl", "--no-anchors"])
    figures = result["summary"]["k265"]["rl"]
    assert {"w100", "w300", "never_lost", "tracking_ratio", "tracked_to_end"} <= set(figures)
    assert 0.0 <= figures["tracking_ratio"] <= 1.0 and result["details"]["k265"]["rl"]["game"]["pieces"] == 1
