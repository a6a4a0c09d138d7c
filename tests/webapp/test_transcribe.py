"""``manage.py transcribe AUDIO [--json]``: the contract outside checks call."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
from django.core.management import CommandError, call_command

from inference.speech.synthetic import silence, speak
from tests.conftest import require_binary


def _wav(path: Path, audio: np.ndarray) -> Path:
    soundfile.write(path, audio, 16000, subtype="PCM_16")
    return path


def test_json_output_has_text_intent_and_latency(tmp_path: Path) -> None:
    require_binary("espeak-ng")
    clip = _wav(tmp_path / "cmd.wav", np.concatenate((silence(0.4), speak("loop bars three to six"), silence(0.4))))
    out = io.StringIO()
    call_command("transcribe", str(clip), "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert {"text", "intent", "latency_ms"} <= set(result)
    assert result["intent"] == {"name": "loop", "start": 3, "end": 6}
    assert "loop" in result["text"].lower() and result["latency_ms"] > 0


def test_silence_is_unknown_and_the_human_form_says_so(tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("transcribe", str(_wav(tmp_path / "quiet.wav", silence(1.0))), stdout=out)
    assert '{"name": "unknown"}' in out.getvalue() and "didn't catch" in out.getvalue()


def test_bad_input_gets_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such audio file"):
        call_command("transcribe", str(tmp_path / "missing.wav"))
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"RIFF this is not audio")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("transcribe", str(garbage))
    with pytest.raises(CommandError, match="30 s"):
        call_command("transcribe", str(_wav(tmp_path / "long.wav", silence(31.0))))
    with pytest.raises(CommandError, match="unknown engine"):
        call_command("transcribe", str(garbage), "--engine", "nope")
