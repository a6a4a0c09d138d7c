"""The process-wide decode thread: recognisers load, listen and decode there, never in the caller's thread.

One thread, because a decode uses all the cores it is given: more threads would only queue. Jobs of one
utterance (open a pocketsphinx stream, feed it, decode, finish it) run in the order they were submitted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def decode_executor() -> ThreadPoolExecutor:
    """The one decode thread (started on first use)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="etude-speech")
    return _executor


def run_job(job: Callable[[], Any], *, background: bool) -> Future[Any]:
    """``job()`` in the decode thread, or at once in the caller's thread (tests, benchmarks, the CLI)."""
    if background:
        return decode_executor().submit(job)
    future: Future[Any] = Future()
    try:
        future.set_result(job())
    except Exception as exc:  # kept in the future, as the executor would
        future.set_exception(exc)
    return future


def result_or_none(future: Future[Any] | None) -> Any:
    """The value of a finished job, or None if there is none or it failed (a decode then goes without it)."""
    if future is None:
        return None
    try:
        return future.result()
    except Exception:
        return None
