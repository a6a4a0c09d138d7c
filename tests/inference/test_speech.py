"""Speech to intent on generated speech (espeak-ng), and the listener's speech/music gate."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from inference.speech.listener import CommandListener
from inference.speech.offline import ClipError, transcribe_clip
from inference.speech.recognizer import get_recognizer
from inference.speech.synthetic import mix_at, render_tune, silence, speak
from inference.speech.tokenizer import ByteLevelBPE
from inference.speech.whisper import collapse_repeats, whisper_model_dir
from inference.types import HOP_SAMPLES, SAMPLE_RATE
from tests.conftest import require_binary, shared_data

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"


@pytest.fixture(scope="module", autouse=True)
def _espeak() -> None:
    require_binary("espeak-ng")


@functools.cache
def _music() -> np.ndarray:
    """About 25 s of a Nottingham reel on a General MIDI flute (FluidSynth)."""
    require_binary("fluidsynth")
    tune = shared_data("nottingham", "MIDI", "melody", "reelsa-c32.mid")
    return render_tune(tune, program=73, soundfont=SOUNDFONT)


def _stream(listener: CommandListener, audio: np.ndarray) -> list[dict]:  # type: ignore[type-arg]
    events = []
    for start in range(0, len(audio), HOP_SAMPLES):
        events += listener.feed(audio[start : start + HOP_SAMPLES])
    return events + listener.flush()


@pytest.mark.parametrize(
    ("said", "voice", "expected"),
    [
        ("tempo eighty", "en-us", {"name": "tempo", "bpm": 80}),
        ("loop bars three to six", "en-gb-x-rp", {"name": "loop", "start": 3, "end": 6}),
        ("again from bar twelve", "en-us+m3", {"name": "seek", "measure": 12}),
        ("metronome on", "en-us", {"name": "metronome", "on": True}),
        ("how did I do", "en-gb-x-rp", {"name": "summary"}),
    ],
)
def test_whisper_hears_spoken_commands(said: str, voice: str, expected: dict) -> None:  # type: ignore[type-arg]
    clip = np.concatenate((silence(0.5), speak(said, voice, 150), silence(0.5)))
    result = transcribe_clip(clip)
    assert result["intent"] == expected, result
    assert 0 < result["confidence"] <= 1 and result["latency_ms"] > 0


def test_pocketsphinx_with_the_command_grammar_is_the_alternative() -> None:
    transcript = get_recognizer("pocketsphinx-jsgf").transcribe(speak("again from bar twelve", "en-us", 150))
    assert transcript.text == "again from bar twelve"


def test_silence_is_no_command_and_bad_clips_are_refused() -> None:
    assert transcribe_clip(silence(2.0))["intent"] == {"name": "unknown"}
    with pytest.raises(ClipError, match="empty"):
        transcribe_clip(np.zeros(0, dtype=np.float32))
    with pytest.raises(ClipError, match="30 s"):
        transcribe_clip(silence(31.0))


def test_pure_playing_is_never_a_command() -> None:
    listener = CommandListener(background=False)
    assert _stream(listener, _music()) == []
    assert not listener.is_hearing_speech


def test_speech_over_playing_is_a_command_and_is_marked_as_speech() -> None:
    music = _music()[: 8 * SAMPLE_RATE]
    speech = speak("metronome off", "en-us", 150)
    offset = 3 * SAMPLE_RATE
    audio = mix_at(speech, music, offset, snr_db=6.0)
    listener = CommandListener(background=False)
    heard_speech_at = []
    events = []
    for start in range(0, len(audio), HOP_SAMPLES):
        events += listener.feed(audio[start : start + HOP_SAMPLES])
        if listener.is_hearing_speech:
            heard_speech_at.append(start / SAMPLE_RATE)
    events += listener.flush()
    assert [e["intent"] for e in events] == [{"name": "metronome", "on": False}]
    assert events[0]["type"] == "command" and events[0]["heard"] == "Metronome off"
    # The speech span is flagged (so the judge ignores it), and nothing long before it.
    assert heard_speech_at and min(heard_speech_at) >= offset / SAMPLE_RATE - 0.1
    assert max(heard_speech_at) <= (offset + len(speech)) / SAMPLE_RATE + 0.6


def test_push_to_talk_answers_even_what_is_no_command() -> None:
    listener = CommandListener(background=False)
    listener.push_to_talk(True)
    events = _stream_no_flush(listener, np.concatenate((speak("the weather is lovely", "en-us", 150), silence(0.2))))
    events += listener.push_to_talk(False)
    assert len(events) == 1 and events[0]["intent"] == {"name": "unknown"}
    assert events[0]["source"] == "push_to_talk" and "didn't catch" in events[0]["message"]


def _stream_no_flush(listener: CommandListener, audio: np.ndarray) -> list[dict]:  # type: ignore[type-arg]
    return [e for s in range(0, len(audio), HOP_SAMPLES) for e in listener.feed(audio[s : s + HOP_SAMPLES])]


def test_the_tokenizer_round_trips_and_whisper_loops_are_collapsed() -> None:
    tokenizer = ByteLevelBPE(whisper_model_dir() / "tokenizer.json")
    tokens = tokenizer.encode(" Loop bars 3 to 6, please.")
    assert tokens[:3] == ["ĠLoop", "Ġbars", "Ġ3"] and tokenizer.decode(tokens) == " Loop bars 3 to 6, please."
    assert collapse_repeats("Tempo eighty. Tempo eighty. Tempo eighty") == "Tempo eighty."


def test_the_grammar_decoder_writes_only_commands_and_rejects_other_speech() -> None:
    """Free decoding hears "go to my five" here; the grammar can only write "go to bar five"."""
    said = np.concatenate((silence(0.3), speak("go to bar five", "en-gb-x-rp", 150), silence(0.3)))
    transcript = get_recognizer("whisper").transcribe(said)
    assert transcript.text == "Go to bar 5." and not transcript.is_rejected
    chatter = np.concatenate((silence(0.3), speak("the weather is lovely today", "en-us", 160), silence(0.3)))
    result = transcribe_clip(chatter)
    assert result["intent"] == {"name": "unknown"}, result


def test_the_decoder_restarted_with_a_prompt_reads_as_if_started_with_it() -> None:
    """``restart`` reuses the utterance's cross-attention: same log-probabilities as a fresh ``start``."""
    recognizer = get_recognizer("whisper")
    audio = speak("metronome on", "en-us", 160)
    encoded, _ = recognizer._free.encode(audio)  # type: ignore[attr-defined]
    decoder = recognizer._decoder  # type: ignore[attr-defined]
    bare = recognizer._bare_prompt  # type: ignore[attr-defined]
    prompted, _ = decoder.start(encoded, recognizer._prompt)  # type: ignore[attr-defined]
    _, again = decoder.restart(prompted, bare)
    _, fresh = decoder.start(encoded, bare)
    assert np.allclose(again, fresh, atol=1e-5)
