"""The speech benchmark's latency model: the listener's jobs share one decode thread, as in the live path."""

from __future__ import annotations

import time

from inference.bench.speech import _OneDecodeThread
from inference.speech.listener import ListenerConfig


def test_a_decode_submitted_while_another_runs_waits_for_it() -> None:
    listener = _OneDecodeThread(ListenerConfig(), recognizer=None)
    first = listener._run(lambda: time.sleep(0.05))
    listener._windows = 1  # 32 ms of audio later: the first job (50 ms) is still running
    second = listener._run(lambda: time.sleep(0.05))
    listener._windows = 10  # 320 ms: the thread is free again
    third = listener._run(lambda: time.sleep(0.05))
    assert 0.05 <= listener._finished_at[id(first)] < 0.08
    assert listener._finished_at[id(second)] >= 0.1  # started when the first ended, not at 32 ms
    assert 0.37 <= listener._finished_at[id(third)] < 0.4
