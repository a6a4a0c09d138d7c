"""``manage.py follow SCORE AUDIO [--follower NAME] [--json]`` keeps the contract in DESIGN.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from inference.audio import write_wav
from inference.scores import load_score
from inference.synth import render_notes

ROOT = Path(__file__).resolve().parents[2]
# Eight bars of a C major tune: 20 notes, the last bar never played in the recording below.
TUNE_ABC = """X:1
T:Contract tune
M:4/4
L:1/4
Q:1/4=120
K:C
C D E F | G2 G2 | A A G2 | F F E2 | D D C2 | E G c2 | c B A G | c4 |
"""


@pytest.fixture
def score_and_audio(tmp_path: Path) -> tuple[Path, Path, int]:
    score_path = tmp_path / "tune.abc"
    score_path.write_text(TUNE_ABC)
    notes = load_score(TUNE_ABC.encode(), "tune.abc").notes
    played = [n for n in notes if n.measure < 7]
    audio, _ = render_notes(played, timbre="flute", seed=1, tail_s=0.5)
    audio_path = tmp_path / "take.wav"
    write_wav(audio_path, audio)
    return score_path, audio_path, len(notes)


def test_json_output_matches_the_contract(score_and_audio: tuple[Path, Path, int]) -> None:
    score_path, audio_path, n_notes = score_and_audio
    proc = subprocess.run(
        [sys.executable, "manage.py", "follow", str(score_path), str(audio_path), "--follower", "hmm", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(result) == {"follower", "notes", "per_chunk_ms"}
    assert result["follower"] == "hmm"
    assert set(result["per_chunk_ms"]) == {"p50", "p95"}
    notes = result["notes"]
    assert len(notes) == n_notes
    assert all(set(n) == {"note_id", "score_onset_q", "score_onset_s", "detected_s"} for n in notes)
    assert [n["score_onset_q"] for n in notes[:5]] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert notes[1]["score_onset_s"] == pytest.approx(0.5)  # Q:1/4=120
    # Bars 1-6 were played (a 1 s lead-in): reached near their onsets; the last bars never.
    assert notes[1]["detected_s"] == pytest.approx(1.5, abs=0.15)
    assert notes[-1]["detected_s"] is None


@pytest.mark.parametrize("follower", ["oltw"])
def test_other_followers_by_name(score_and_audio: tuple[Path, Path, int], follower: str, capsys) -> None:  # type: ignore[no-untyped-def]
    score_path, audio_path, n_notes = score_and_audio
    call_command("follow", str(score_path), str(audio_path), "--follower", follower, "--json")
    result = json.loads(capsys.readouterr().out)
    assert result["follower"] == follower and len(result["notes"]) == n_notes


def test_bad_input_gives_clear_errors(score_and_audio: tuple[Path, Path, int], tmp_path: Path) -> None:
    score_path, audio_path, _ = score_and_audio
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("this is not audio")
    with pytest.raises(CommandError, match="not a readable audio file"):
        call_command("follow", str(score_path), str(not_audio))
    with pytest.raises(CommandError, match="no such audio file"):
        call_command("follow", str(score_path), str(tmp_path / "missing.wav"))
    with pytest.raises(CommandError, match="unknown follower"):
        call_command("follow", str(score_path), str(audio_path), "--follower", "nope")
    bad_score = tmp_path / "score.abc"
    bad_score.write_text("no key line here")
    with pytest.raises(CommandError, match="not ABC"):
        call_command("follow", str(bad_score), str(audio_path))
