"""A streaming command listener: the take's microphone audio in, ``command`` events out.

Fed the same 16 kHz float32 audio as the score follower. Silero VAD marks speech windows; a segment opens
when speech starts (with a short pre-roll) and closes after ``end_silence_s`` of non-speech. Recognition
runs only on closed segments, off the caller's thread: the segment is sent to a decode worker as soon as the
speech pauses (speculatively, so decoding overlaps the closing silence) and its event comes out of a later
``feed`` call. While speech is heard, ``is_hearing_speech`` is true so the take can stop judging notes.
A recogniser with ``open_stream`` (the default's pocketsphinx) is fed the segment while it is open, in the
same decode thread, so its answer is ready when the speech pauses.

Over music Silero's recurrent state holds "speech" for up to half a second after the voice stops; a pause that
only ``RecentSpeechVad`` (the model restarted on the last few windows) hears may start the speculative decode
and close a segment whose decode holds a command, never close one by itself.

Gates against taking playing for a command (each measured in ``inference.bench.speech``): enough speech-like
VAD windows, the recogniser's no-speech estimate and mean token probability, and a parser that accounts for
most of the words. What fails only the parser (or, for a command only one recogniser heard, the amount of
speech it must account for) is answered "didn't catch that"; what fails the others gets no event at all.
The gates and the ``command`` event are in ``inference.speech.listener_events``.
Push-to-talk bypasses the VAD: everything between key-down and key-up is one utterance, always answered.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import numpy as np

from inference.speech.decoding import decode_executor, result_or_none, run_job
from inference.speech.listener_config import ListenerConfig
from inference.speech.listener_events import (
    accounts_for_speech,
    command_ending,
    command_event,
    decode_event,
    finished_text,
)
from inference.speech.listener_segment import PendingDecode, Segment
from inference.speech.recognizer import Recognizer, Transcript, get_recognizer
from inference.speech.vad import VAD_WINDOW, RecentSpeechVad, SileroVad
from inference.types import SAMPLE_RATE

__all__ = ["CommandListener", "ListenerConfig", "accounts_for_speech", "command_event"]

STREAM_FEED_WINDOWS = 8
"""VAD windows (256 ms) of an open segment handed to the recogniser's stream at a time."""


class CommandListener:
    """``feed(samples) -> events``; ``push_to_talk(down)``; ``flush()`` at the end of a stream."""

    def __init__(
        self,
        config: ListenerConfig | None = None,
        *,
        recognizer: Recognizer | None = None,
        background: bool = True,
    ) -> None:
        self.config = config or ListenerConfig()
        self._recognizer = recognizer
        self._background = background
        self._vad = SileroVad()
        self._recent_vad = RecentSpeechVad(self.config.recent_memory_windows)
        self._buffer = np.zeros(0, dtype=np.float32)
        self._history: deque[np.ndarray] = deque(
            maxlen=max(1, round(self.config.pre_roll_s * SAMPLE_RATE / VAD_WINDOW))
        )
        self._segment: Segment | None = None
        self._silent_windows = 0
        self._pause_windows = 0
        self._masked_windows = 0
        self._pending: list[PendingDecode] = []
        self._samples = 0
        self._windows = 0
        self._is_push_to_talk = False
        self.last_probability = 0.0
        self._is_loading = recognizer is not None or not background

    @property
    def recognizer(self) -> Recognizer:
        if self._recognizer is None:
            self._recognizer = get_recognizer(self.config.engine)
        return self._recognizer

    @property
    def t(self) -> float:
        """Seconds of audio fed so far."""
        return self._samples / SAMPLE_RATE

    @property
    def is_hearing_speech(self) -> bool:
        """True from the first speech window (or key-down) until ``end_silence_s`` of non-speech have passed
        (also after a segment closed early: the decay of the last word is still masked from the judge)."""
        return self._is_push_to_talk or self._segment is not None or self._masked_windows > 0

    @property
    def is_push_to_talk(self) -> bool:
        """The learner holds the talk key: what is heard now is a command, whatever it sounds like."""
        return self._is_push_to_talk

    @property
    def is_undecided(self) -> bool:
        """Speech may be going on: a segment is open or still being decoded. Whether it was a command (an event
        comes out of ``feed``) or playing that merely sounded like speech (no event) is not known yet."""
        return self.is_hearing_speech or bool(self._pending)

    def feed(self, samples: np.ndarray) -> list[dict[str, Any]]:
        """Process more audio; returns the command events of segments whose decoding has finished."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        self._samples += len(samples)
        self._buffer = np.concatenate((self._buffer, samples)) if self._buffer.size else samples
        n = len(self._buffer) // VAD_WINDOW
        for i in range(n):
            self._window(self._buffer[i * VAD_WINDOW : (i + 1) * VAD_WINDOW])
        self._buffer = self._buffer[n * VAD_WINDOW :].copy()
        return self._collect(wait=False)

    def push_to_talk(self, is_down: bool) -> list[dict[str, Any]]:
        """Key down: everything until key up is one utterance. Key up: decode it now."""
        if is_down and not self._is_push_to_talk:
            self._is_push_to_talk = True
            if self._segment is None:
                self._segment = Segment(start_t=self.t, chunks=list(self._history))
                self._open_stream(self._segment)
            self._segment.is_push_to_talk = True
        elif not is_down and self._is_push_to_talk:
            self._is_push_to_talk = False
            if self._buffer.size and self._segment is not None:
                self._segment.chunks.append(self._buffer.copy())
            self._close_segment()
        return self._collect(wait=False)

    def flush(self, timeout_s: float = 10.0) -> list[dict[str, Any]]:
        """End of stream: close any open segment and wait (bounded) for every decode still running."""
        if self._segment is not None:
            if self._buffer.size:
                self._segment.chunks.append(self._buffer.copy())
            self._is_push_to_talk = False
            self._close_segment()
        return self._collect(wait=True, timeout_s=timeout_s)

    def reset(self) -> None:
        self._vad.reset()
        self._recent_vad.reset()
        if self._segment is not None:
            self._finish_stream(self._segment)
        self._segment = None
        self._pending.clear()
        self._history.clear()
        self._buffer = np.zeros(0, dtype=np.float32)
        self._is_push_to_talk = False
        self._masked_windows = 0

    # -- segmentation -----------------------------------------------------------------------------------

    @property
    def _now(self) -> float:
        """Audio time at the end of the last VAD window processed."""
        return self._windows * VAD_WINDOW / SAMPLE_RATE

    def _window(self, window: np.ndarray) -> None:
        self._windows += 1
        self._masked_windows = max(0, self._masked_windows - 1)
        prob = self._vad(window)
        self.last_probability = prob
        is_speech = prob >= self.config.speech_threshold
        segment = self._segment
        if segment is None:
            if is_speech:
                self._start_loading()
                self._segment = segment = Segment(
                    start_t=self._now - VAD_WINDOW / SAMPLE_RATE, chunks=list(self._history)
                )
                self._open_stream(segment)
                self._silent_windows = self._pause_windows = 0
                self._recent_vad.reset()
            else:
                self._history.append(window)
                return
        segment.chunks.append(window)
        if len(segment.chunks) - segment.fed >= STREAM_FEED_WINDOWS:
            self._feed_stream(segment)
        if segment.is_push_to_talk:
            return
        is_pause = self._is_pause(window, prob)
        if is_speech:
            segment.speech_windows += 1
            self._silent_windows = 0
        else:
            self._silent_windows += 1
        if is_pause:
            self._pause_windows += 1
            if self._is_long_enough(segment) and (
                (self._pause_windows == 1 and not is_speech)
                or (self._pause_windows == 2 and segment.speculative is None)
                or (self._silent_windows == 1 and not self._holds_command(segment))
            ):
                self._speculate(segment)
        else:
            self._pause_windows = 0
            _drop_speculation(segment)
        self._close_if_over(segment, is_speech)

    def _is_pause(self, window: np.ndarray, prob: float) -> bool:
        """Silero hears no speech, or the recent windows alone hear none and Silero has left its in-speech
        certainty (over music its state holds "speech" long after the voice stopped)."""
        recent = self._recent_vad(window)
        return prob < self.config.speech_threshold or (
            recent is not None
            and recent < self.config.recent_pause_threshold
            and prob < self.config.held_speech_ceiling
        )

    def _close_if_over(self, segment: Segment, is_speech: bool) -> None:
        """Close at the pause a decoded command needs, after ``end_silence_s`` of Silero's non-speech (unless
        the decode asks for a longer wait), or at ``max_segment_s``."""
        closing_windows = self.config.end_silence_s * SAMPLE_RATE / VAD_WINDOW
        needed_s = self._pause_needed_s(segment)
        if segment.n_samples >= self.config.max_segment_s * SAMPLE_RATE:
            self._close_segment()
        elif needed_s is not None and self._pause_windows * VAD_WINDOW >= needed_s * SAMPLE_RATE:
            self._masked_windows = max(0, round(closing_windows - self._pause_windows))
            if is_speech:  # only the recent windows said the speech is over: forget the long-held state
                self._vad.reset()
            self._close_segment()
        elif self._silent_windows >= closing_windows and (needed_s is None or needed_s <= self.config.end_silence_s):
            self._close_segment()

    def _start_loading(self) -> None:
        """Load the model in the decode thread at the first speech, while the learner is still talking."""
        if not self._is_loading:
            self._is_loading = True
            decode_executor().submit(get_recognizer, self.config.engine)

    def _is_long_enough(self, segment: Segment) -> bool:
        """Long enough to decode: ``min_short_command_s`` of speech (a shorter segment is never a command)."""
        return (
            segment.is_push_to_talk
            or segment.speech_windows * VAD_WINDOW >= self.config.min_short_command_s * SAMPLE_RATE
        )

    def _holds_command(self, segment: Segment) -> bool:
        """The speculative decode is still running or heard a command. One started at a pause only the recent
        windows heard may have cut the last word short: when Silero's own pause follows, it is decoded again."""
        future = segment.speculative
        if future is not None and not future.done():
            return True
        return command_ending(finished_text(segment)) is not None

    def _pause_needed_s(self, segment: Segment) -> float | None:
        """The pause after which the segment closes, if its speculative decode is done and holds a command:
        ``early_close_s``, or ``teen_wait_s`` when it ends in a number that is the first half of a "-teen"
        ("bar six", and "…teen" may follow after the pause some voices make inside the word) and the room is
        not yet plainly silent (``teen_silence``). None otherwise
        (``end_silence_s`` of Silero's own non-speech closes it). The pause may be one only the recent windows
        hear (over music)."""
        ending = command_ending(finished_text(segment))
        if ending is None:
            return None
        if ending == "teen" and self.last_probability >= self.config.teen_silence:
            return self.config.teen_wait_s
        return self.config.early_close_s

    def _speculate(self, segment: Segment) -> None:
        """Start decoding at a pause: if no more speech comes, the result is ready sooner."""
        _drop_speculation(segment)
        segment.speculative = self._submit(segment)
        segment.speculative_t = self._now

    def _close_segment(self) -> None:
        segment, self._segment = self._segment, None
        self._silent_windows = self._pause_windows = 0
        self._history.clear()
        if segment is None:
            return
        if not self._is_long_enough(segment) or len(self._pending) >= self.config.max_pending:
            self._finish_stream(segment)
            return
        if segment.speculative is not None and not segment.is_push_to_talk:
            future, started = segment.speculative, segment.speculative_t
        else:
            future, started = self._submit(segment), self._now
        self._finish_stream(segment)
        self._pending.append(PendingDecode(segment, future, end_t=self._now, decode_started_t=started))

    def _run(self, job: Callable[[], Any]) -> Future[Any]:
        return run_job(job, background=self._background)

    def _submit(self, segment: Segment) -> Future[Transcript]:
        """Decode the segment's audio so far (its stream, fed up to here, gives the second opinion)."""
        self._feed_stream(segment)
        audio, stream = segment.audio(), segment.stream

        def decode() -> Transcript:
            opened = result_or_none(stream)
            if opened is None:
                return self.recognizer.transcribe(audio)
            return self.recognizer.transcribe(audio, stream=opened)  # type: ignore[call-arg]

        return self._run(decode)

    # -- the recogniser's stream (decoding while the learner speaks) -------------------------------------

    def _open_stream(self, segment: Segment) -> None:
        def open_stream() -> Any:
            opener = getattr(self.recognizer, "open_stream", None)
            return opener() if opener is not None else None

        segment.stream = self._run(open_stream)

    def _feed_stream(self, segment: Segment) -> None:
        if segment.stream is None or segment.fed >= len(segment.chunks):
            return
        audio, stream = np.concatenate(segment.chunks[segment.fed :]), segment.stream
        segment.fed = len(segment.chunks)

        def feed() -> None:
            opened = result_or_none(stream)
            if opened is not None:
                opened.feed(audio)

        self._run(feed)

    def _finish_stream(self, segment: Segment) -> None:
        """Queued after the segment's last decode: the stream's decoder goes back to the pool."""
        stream, segment.stream = segment.stream, None
        if stream is None:
            return

        def finish() -> None:
            opened = result_or_none(stream)
            if opened is not None:
                opened.finish()

        self._run(finish)

    # -- results ----------------------------------------------------------------------------------------

    def _collect(self, *, wait: bool, timeout_s: float = 10.0) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        still: list[PendingDecode] = []
        for pending in self._pending:
            if not pending.future.done() and wait:
                try:
                    pending.future.result(timeout=max(0.0, deadline - time.monotonic()))
                except Exception:  # reported below as an unknown answer
                    pass
            if not pending.future.done():
                still.append(pending)
                continue
            event = self._event(pending)
            if event is not None:
                events.append(event)
        self._pending = still
        return events

    def _event(self, pending: PendingDecode) -> dict[str, Any] | None:
        """The finished decode's event, or None (``listener_events.decode_event``; the benchmark adds timing)."""
        return decode_event(pending, self.config)


def _drop_speculation(segment: Segment) -> None:
    """Forget the segment's speculative decode (more speech came, or a newer one replaces it); if it is still
    waiting for the decode thread it is cancelled, so the thread is free sooner for the decode that counts."""
    if segment.speculative is not None:
        segment.speculative.cancel()
    segment.speculative = None
