"""Whisper and pocketsphinx together: how their answers combine, and pocketsphinx decoding while speech arrives."""

from __future__ import annotations

import numpy as np
import pytest

from inference.speech.grammar_whisper import Candidate, Evidence, GrammarSettings, decide, spellings
from inference.speech.listener import CommandListener
from inference.speech.numbers import is_complete_number
from inference.speech.recognizer import get_recognizer
from inference.speech.sphinx import SphinxRecognizer
from inference.speech.synthetic import silence, speak
from inference.types import HOP_SAMPLES
from tests.conftest import require_binary

SETTINGS = GrammarSettings()
TEMPO_80 = Candidate("tempo 80", -0.9, {"name": "tempo", "bpm": 80})
TEMPO_18 = Candidate("tempo 18", -1.0, {"name": "tempo", "bpm": 18})
PAUSE = Candidate("pause", -1.2, {"name": "pause"})


def _evidence(free: str, free_mean: float, *candidates: Candidate, sphinx: Candidate | None = None) -> Evidence:
    return Evidence(free, free_mean, no_speech=0.05, candidates=candidates, sphinx=sphinx)


def test_a_command_both_engines_hear_stands_however_unsure_whisper_is() -> None:
    unsure = Candidate("reference pitch", -2.0, {"name": "tune", "note": "A"})
    transcript = decide(_evidence("Reference.", -0.6, unsure, sphinx=unsure), SETTINGS, "test")
    assert transcript.text == "Reference pitch." and transcript.is_confirmed and not transcript.is_rejected
    assert transcript.confidence == pytest.approx(np.exp(-2.0), abs=1e-4)


def test_pocketsphinx_picks_among_whisper_candidates_unless_the_free_reading_backs_whisper() -> None:
    hold_on = Candidate("hold on", -0.8, {"name": "pause"})
    done = Candidate("i'm done", -0.7, {"name": "stop"})
    picked = decide(_evidence("I was done.", -0.6, done, hold_on, sphinx=hold_on), SETTINGS, "test")
    assert picked.text == "Hold on." and picked.is_confirmed
    backed = decide(_evidence("I'm done.", -0.7, done, hold_on, sphinx=hold_on), SETTINGS, "test")
    assert backed.text == "I'm done." and not backed.is_confirmed


def test_pocketsphinx_outside_the_beam_needs_a_good_whisper_score() -> None:
    begin = Candidate("begin again", -1.7, {"name": "restart"})
    done = Candidate("i'm done", -2.0, {"name": "stop"})
    assert decide(_evidence("", -1.4, done, sphinx=begin), SETTINGS, "test").text == "Begin again."
    far = Candidate("begin again", -3.0, {"name": "restart"})
    assert decide(_evidence("", -1.4, done, sphinx=far), SETTINGS, "test").is_rejected


def test_whisper_alone_stands_only_close_to_its_free_reading() -> None:
    assert decide(_evidence("Tempo eighty.", -0.8, TEMPO_80, PAUSE), SETTINGS, "test").text == "Tempo 80."
    assert decide(_evidence("Temple eighty.", -0.3, TEMPO_80, PAUSE), SETTINGS, "test").is_rejected
    assert decide(_evidence("The weather.", -0.5), SETTINGS, "test").is_rejected


def test_pocketsphinx_words_are_spelt_as_whisper_writes_them() -> None:
    assert spellings("play an e flat") == ["play an E flat"]
    assert spellings("give me a b") == ["give me a B"]
    assert spellings("how did i do") == ["how did I do"]
    assert spellings("loop bars three to sixteen") == ["loop bars three to sixteen", "loop bars 3 to 16"]


@pytest.mark.parametrize(
    ("value", "is_complete"),
    [(12, True), (19, True), (66, True), (125, True), (6, False), (20, False), (100, False), (104, False)],
)
def test_a_number_is_complete_when_no_further_word_can_change_it(value: int, is_complete: bool) -> None:
    assert is_complete_number(value) is is_complete


def test_pocketsphinx_fed_piece_by_piece_hears_what_it_hears_whole() -> None:
    require_binary("espeak-ng")
    # Fresh recognisers: pocketsphinx adapts its cepstral mean from one utterance to the next.
    audio = np.concatenate((silence(0.3), speak("loop bars three to six", "en-us", 150), silence(0.3)))
    whole = SphinxRecognizer(grammar=True, posterior=False).transcribe(audio).text
    streaming = SphinxRecognizer(grammar=True, posterior=False)
    stream = streaming.open_stream()
    assert stream is not None and streaming.open_stream() is not None  # a second decoder is built on demand
    for start in range(0, len(audio), 4096):
        stream.feed(audio[start : start + 4096])
    assert stream.hypothesis() == whole and whole.startswith("loop bars three to")
    assert stream.finish()[0] == whole
    assert stream.hypothesis() == ""  # finished: the decoder went back to the pool


def test_the_listener_feeds_pocketsphinx_during_speech_and_returns_its_decoder() -> None:
    require_binary("espeak-ng")
    recognizer = get_recognizer("whisper")
    pool = recognizer._sphinx._idle  # type: ignore[attr-defined]
    idle_before = len(pool)
    audio = np.concatenate((silence(0.5), speak("metronome off", "en-gb-x-rp", 150), silence(0.6)))
    listener = CommandListener(background=False)
    events, idle = [], []
    for start in range(0, len(audio), HOP_SAMPLES):
        events += listener.feed(audio[start : start + HOP_SAMPLES])
        idle.append(len(pool))
    events += listener.flush()
    assert [e["intent"] for e in events] == [{"name": "metronome", "on": False}]
    assert min(idle) == idle_before - 1  # a decoder heard the utterance as it arrived ...
    assert len(pool) == idle_before  # ... and went back to the pool once it was decoded


def test_a_command_ending_in_a_number_no_word_can_extend_closes_as_early_as_any_other() -> None:
    """ "bar twelve" is done at the pause; "bar six" waits the full closing silence ("…teen" may follow)."""
    require_binary("espeak-ng")
    closed_after = {}
    for said in ("go to bar twelve", "go to bar six"):
        speech = speak(said, "en-us", 160)
        audio = np.concatenate((silence(0.5), speech, silence(0.8)))
        listener = CommandListener(background=False)
        events = [e for s in range(0, len(audio), HOP_SAMPLES) for e in listener.feed(audio[s : s + HOP_SAMPLES])]
        assert [e["intent"]["name"] for e in events] == ["seek"], events
        closed_after[said] = events[0]["t"] - (0.5 + len(speech) / 16000)
    assert closed_after["go to bar twelve"] < closed_after["go to bar six"] - 0.05, closed_after
