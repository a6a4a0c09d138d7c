"""The listener's segmentation: where a spoken command starts and ends in the take's stream."""

from __future__ import annotations

import threading

import numpy as np

from inference.speech.decoding import decode_executor
from inference.speech.listener import CommandListener, ListenerConfig, accounts_for_speech
from inference.speech.listener_segment import Segment
from inference.speech.synthetic import pink_noise, silence, speak
from inference.speech.vad import VAD_CONTEXT, VAD_WINDOW, RecentSpeechVad, SileroVad
from inference.types import HOP_SAMPLES
from tests.conftest import require_binary


def _events(audio: np.ndarray) -> list[dict]:  # type: ignore[type-arg]
    listener = CommandListener(background=False)
    events = [e for s in range(0, len(audio), HOP_SAMPLES) for e in listener.feed(audio[s : s + HOP_SAMPLES])]
    return events + listener.flush()


def test_the_recent_speech_probability_is_that_of_a_model_that_heard_only_the_last_windows() -> None:
    require_binary("espeak-ng")
    audio = np.concatenate((silence(0.3), speak("loop bars three to six", "en-us", 160), silence(0.3)))
    windows = [audio[i * VAD_WINDOW : (i + 1) * VAD_WINDOW] for i in range(len(audio) // VAD_WINDOW)]
    recent = RecentSpeechVad(memory_windows=6, copies=3)
    heard = [recent(w) for w in windows]
    assert heard[:6] == [None] * 6 and all(p is not None for p in heard[6:])
    fresh = SileroVad()
    for n in range(6, len(windows)):
        candidates = []
        for start in {max(0, n - k) for k in (6, 7, 8)}:  # the oldest copy has heard 7 to 9 windows
            fresh.reset()
            if start > 0:
                fresh._context = windows[start - 1][-VAD_CONTEXT:].copy()
            candidates.append(fresh.probabilities(np.concatenate(windows[start : n + 1]))[-1])
        assert min(abs(c - heard[n]) for c in candidates) < 1e-4, n


def test_a_lone_short_command_both_recognisers_hear_is_taken() -> None:
    """espeak's "stop" is under the 0.3 s of speech a segment otherwise needs."""
    require_binary("espeak-ng")
    audio = np.concatenate((silence(1.0), speak("stop", "en-gb-x-rp", 150), silence(1.0)))
    assert [e["intent"] for e in _events(audio)] == [{"name": "stop"}]


def test_a_number_with_a_pause_inside_its_word_is_not_cut_in_two() -> None:
    """This voice's "six|teen" has 0.2 s of digital silence inside the word (with the 0.19 s closing silence
    alone it was heard as "from measure six" and "…teen please"). No microphone delivers digital silence: in a
    quiet room (-60 dBFS) the word is one."""
    require_binary("espeak-ng")
    speech = speak("from measure sixteen please", "en-us+m3", 140)
    audio = np.concatenate((silence(1.0), speech, silence(1.0)))
    audio += (pink_noise(len(audio), np.random.default_rng(3)) * 0.001).astype(np.float32)
    assert [e["intent"] for e in _events(audio)] == [{"name": "seek", "measure": 16}]


def test_a_command_must_account_for_the_speech_it_was_heard_in() -> None:
    """A two-syllable command for 1.8 s of speech is a sentence the recogniser forced into the grammar."""
    config = ListenerConfig()
    assert accounts_for_speech("I'm done.", 1.2, config) and not accounts_for_speech("I'm done.", 1.8, config)
    assert accounts_for_speech("Set the tempo to 120.", 2.4, config)


def test_a_sentence_about_something_else_is_never_a_command() -> None:
    require_binary("espeak-ng")
    audio = np.concatenate((silence(1.0), speak("I wonder what we're having for dinner", "en-us", 160), silence(1.0)))
    audio += (pink_noise(len(audio), np.random.default_rng(3)) * 0.001).astype(np.float32)
    assert all(e["intent"]["name"] == "unknown" for e in _events(audio))


def test_a_speculative_decode_replaced_while_it_waits_for_the_decode_thread_never_runs() -> None:
    busy = threading.Event()
    decode_executor().submit(busy.wait, 10.0)  # the one decode thread is taken
    try:
        listener = CommandListener(background=True)
        segment = Segment(start_t=0.0, chunks=[np.zeros(VAD_WINDOW, dtype=np.float32)])
        listener._speculate(segment)
        stale = segment.speculative
        listener._speculate(segment)  # a later pause: the first decode is of no use any more
        assert stale is not None and stale.cancelled()
        assert segment.speculative is not None and not segment.speculative.cancelled()
        assert segment.speculative.cancel()  # (not run either: the test needs no recogniser)
    finally:
        busy.set()
