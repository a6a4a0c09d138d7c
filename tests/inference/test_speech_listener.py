"""The listener's segmentation: where a spoken command starts and ends in the take's stream."""

from __future__ import annotations

import numpy as np

from inference.speech.listener import CommandListener
from inference.speech.synthetic import silence, speak
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
    """This voice's "six|teen" has 0.2 s of non-speech inside the word: "measure six" waits for what may follow
    (with the 0.19 s closing silence alone it was heard as "from measure six" and "…teen please")."""
    require_binary("espeak-ng")
    audio = np.concatenate((silence(1.0), speak("from measure sixteen please", "en-us+m3", 140), silence(1.0)))
    assert [e["intent"] for e in _events(audio)] == [{"name": "seek", "measure": 16}]
