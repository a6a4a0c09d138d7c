"""Whisper and pocketsphinx together: how their answers combine, and pocketsphinx decoding while speech arrives."""

from __future__ import annotations

import numpy as np
import pytest

from inference.speech.grammar_whisper import Candidate, Evidence, GrammarSettings, decide, said, spellings
from inference.speech.listener import CommandListener
from inference.speech.recognizer import get_recognizer
from inference.speech.sphinx import SphinxRecognizer
from inference.speech.synthetic import mix_at, pink_noise, silence, speak
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


def test_whisper_alone_needs_some_confidence_of_its_own() -> None:
    """On a tail of music tiny.en writes "I'm done." at about -1.6 per token, its free reading no better."""
    done = Candidate("i'm done", -1.6, {"name": "stop"})
    assert decide(_evidence("I'm", -1.6, done), SETTINGS, "test").is_rejected
    assert decide(_evidence("I'm", -1.6, done, sphinx=done), SETTINGS, "test").is_confirmed


def test_pocketsphinx_hearing_another_number_needs_a_tie_to_win() -> None:
    """pocketsphinx mishears numbers as often as Whisper: for the same command with another number its
    word counts only when Whisper scores both alike."""
    bar_40 = Candidate("again from bar 40", -0.6, {"name": "seek", "measure": 40})
    bar_14 = Candidate("again from bar 14", -1.0, {"name": "seek", "measure": 14})
    kept = decide(_evidence("Again from bar.", -0.5, bar_40, bar_14, sphinx=bar_14), SETTINGS, "test")
    assert kept.text == "Again from bar 40." and not kept.is_confirmed
    tied = Candidate("again from bar 14", -0.62, {"name": "seek", "measure": 14})
    assert decide(_evidence("Again from bar.", -0.5, bar_40, tied, sphinx=tied), SETTINGS, "test").is_confirmed


def test_a_free_reading_spelt_like_a_command_is_that_command() -> None:
    count_in_off = Candidate("count in off", -1.5, {"name": "count_in", "on": False})
    count_me_in = Candidate("count me in", -1.2, {"name": "count_in", "on": True})
    heard = decide(_evidence("Counting off.", -0.6, count_me_in, count_in_off), SETTINGS, "test")
    assert heard.text == "Count in off." and not heard.is_confirmed
    assert decide(_evidence("Temple eighty.", -0.3, TEMPO_80), SETTINGS, "test").is_rejected


def test_a_free_reading_spelt_like_a_command_needs_the_confidence_whisper_alone_needs() -> None:
    """A sentence forced into the grammar: Whisper's free reading "I'm done." is as unsure as its command."""
    done = Candidate("i'm done", -1.33, {"name": "stop"})
    wait = Candidate("wait a second please", -3.5, {"name": "pause"})
    assert decide(_evidence("I'm done.", -1.33, done, sphinx=wait), SETTINGS, "test").is_rejected
    assert decide(_evidence("I'm done.", -1.2, done, sphinx=wait), SETTINGS, "test").text == "I'm done."


def test_a_command_with_numbers_is_also_read_with_its_numbers_in_words() -> None:
    assert said("tempo 140") == ["tempo 140", "tempo one hundred and forty", "tempo one hundred forty"]
    assert said("loop bars 3 to 16") == ["loop bars 3 to 16", "loop bars three to sixteen"]
    assert said("metronome on") == ["metronome on"]


def test_the_second_reading_settles_numbers_without_the_prompt() -> None:
    """Rivals in the beam that differ only in a number are read again without the vocabulary prompt (whose
    example numbers sway tiny.en); a rival that is another command is left to ``decide``."""
    require_binary("espeak-ng")
    recognizer = get_recognizer("whisper")
    audio = np.concatenate((silence(0.3), speak("tempo ninety six", "en-us", 160), silence(0.3)))
    encoded, _ = recognizer._free.encode(audio)  # type: ignore[attr-defined]
    state, _ = recognizer._decoder.start(encoded, recognizer._prompt)  # type: ignore[attr-defined]
    wrong = Candidate("tempo 86", -0.5, {"name": "tempo", "bpm": 86})
    right = Candidate("tempo 96", -0.6, {"name": "tempo", "bpm": 96})
    assert recognizer._reread((wrong, right), state)[0] == right  # type: ignore[attr-defined]
    far = Candidate("tempo 96", -1.5, {"name": "tempo", "bpm": 96})
    assert recognizer._reread((wrong, far), state)[0] == wrong  # type: ignore[attr-defined]  # beyond the margin
    other = Candidate("pause", -0.6, {"name": "pause"})
    assert recognizer._reread((wrong, other), state) == (wrong, other)  # type: ignore[attr-defined]


def test_pocketsphinx_words_are_spelt_as_whisper_writes_them() -> None:
    assert spellings("play an e flat") == ["play an E flat"]
    assert spellings("give me a b") == ["give me a B"]
    assert spellings("how did i do") == ["how did I do"]
    assert spellings("loop bars three to sixteen") == ["loop bars three to sixteen", "loop bars 3 to 16"]


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
    """ "bar twelve" is done at the pause; over noise "bar six" waits the full closing silence ("…teen" may
    follow); in a quiet room, where the VAD is sure the speech is over, it closes as early as "bar twelve"."""
    require_binary("espeak-ng")
    closed_after = {}
    for snr_db in (10.0, None):
        for phrase in ("go to bar twelve", "go to bar six"):
            speech = speak(phrase, "en-us", 160)
            noise = pink_noise(len(speech) + 20800, np.random.default_rng(5))
            if snr_db is None:
                audio = (noise * 0.001).astype(np.float32)
                audio[8000 : 8000 + len(speech)] += speech
            else:
                audio = mix_at(speech, noise, 8000, snr_db)
            listener = CommandListener(background=False)
            events = [e for s in range(0, len(audio), HOP_SAMPLES) for e in listener.feed(audio[s : s + HOP_SAMPLES])]
            assert [e["intent"]["name"] for e in events] == ["seek"], events
            closed_after[(phrase, snr_db)] = events[0]["t"] - (0.5 + len(speech) / 16000)
    assert closed_after[("go to bar twelve", 10.0)] < closed_after[("go to bar six", 10.0)] - 0.05, closed_after
    assert closed_after[("go to bar six", None)] < closed_after[("go to bar six", 10.0)] - 0.05, closed_after
