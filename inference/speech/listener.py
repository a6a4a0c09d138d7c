"""A streaming command listener: the take's microphone audio in, ``command`` events out.

Fed the same 16 kHz float32 audio as the score follower. Silero VAD marks speech windows; a segment opens
when speech starts (with a short pre-roll) and closes after ``end_silence_s`` of non-speech. Recognition
runs only on closed segments, off the caller's thread: the segment is sent to a decode worker as soon as the
speech pauses (speculatively, so decoding overlaps the closing silence) and its event comes out of a later
``feed`` call. While speech is heard, ``is_hearing_speech`` is true so the take can stop judging notes.
A recogniser with ``open_stream`` (the default's pocketsphinx) is fed the segment while it is open, in the
same decode thread, so its answer is ready when the speech pauses.

Gates against taking playing for a command (each measured in ``inference.bench.speech``): the VAD must hold
for ``min_speech_s`` of speech-like windows; the recogniser's no-speech estimate and mean token probability
must pass (the latter is waived for a command a second recogniser confirmed); and the parser must account
for most of the words. What fails only the last gate is answered
with a polite ``unknown`` event; what fails the others was not speech and gets no event at all.
Push-to-talk bypasses the VAD: everything between key-down and key-up is one utterance, always answered.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inference.speech.decoding import decode_executor, result_or_none, run_job
from inference.speech.intents import UNKNOWN, Intent, describe, normalise, parse
from inference.speech.numbers import is_complete_number
from inference.speech.recognizer import Recognizer, Transcript, get_recognizer
from inference.speech.vad import VAD_WINDOW, SileroVad
from inference.types import SAMPLE_RATE

DIDNT_CATCH = "Sorry, I didn't catch that."
STREAM_FEED_WINDOWS = 8
"""VAD windows (256 ms) of an open segment handed to the recogniser's stream at a time."""


@dataclass(frozen=True)
class ListenerConfig:
    """Thresholds of the command listener (defaults measured in docs/speech.md)."""

    engine: str = "whisper"
    speech_threshold: float = 0.5
    """VAD probability that opens (or continues) speech."""
    min_speech_s: float = 0.3
    """Seconds of speech windows a segment needs, or it is dropped (coughs, a breath, a bowed note)."""
    end_silence_s: float = 0.19
    """Non-speech that closes a segment (six 32 ms VAD windows); pauses between words are shorter."""
    early_close_s: float = 0.1
    """A pause after which a segment closes at once if its speculative decode already holds a complete command
    that no further word could change ("metronome on", "bar twelve"); "bar six" waits the full
    ``end_silence_s`` of non-speech, since "bar six…teen" may follow."""
    pre_roll_s: float = 0.25
    max_segment_s: float = 8.0
    min_confidence: float = 0.2
    """Mean token probability below which a hands-free segment is not treated as speech."""
    max_no_speech: float = 0.5
    max_pending: int = 4
    """Segments of one listener waiting to be decoded; more are dropped (the learner is told)."""


@dataclass
class _Segment:
    start_t: float
    chunks: list[np.ndarray] = field(default_factory=list)
    speech_windows: int = 0
    is_push_to_talk: bool = False
    speculative: Future[Transcript] | None = None
    speculative_t: float = 0.0
    stream: Future[Any] | None = None
    """The recogniser's stream for this utterance (pocketsphinx decoding while the learner speaks), if any."""
    fed: int = 0
    """Chunks already sent to ``stream``."""

    @property
    def n_samples(self) -> int:
        return sum(len(c) for c in self.chunks)

    def audio(self) -> np.ndarray:
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, dtype=np.float32)


@dataclass
class _Pending:
    segment: _Segment
    future: Future[Transcript]
    end_t: float
    decode_started_t: float
    """Audio time at which decoding of this segment's audio began (speculative start or close)."""


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
        self._buffer = np.zeros(0, dtype=np.float32)
        self._history: deque[np.ndarray] = deque(
            maxlen=max(1, round(self.config.pre_roll_s * SAMPLE_RATE / VAD_WINDOW))
        )
        self._segment: _Segment | None = None
        self._silent_windows = 0
        self._masked_windows = 0
        self._pending: list[_Pending] = []
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
                self._segment = _Segment(start_t=self.t, chunks=list(self._history))
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
                self._segment = segment = _Segment(
                    start_t=self._now - VAD_WINDOW / SAMPLE_RATE, chunks=list(self._history)
                )
                self._open_stream(segment)
                self._silent_windows = 0
            else:
                self._history.append(window)
                return
        segment.chunks.append(window)
        if len(segment.chunks) - segment.fed >= STREAM_FEED_WINDOWS:
            self._feed_stream(segment)
        if segment.is_push_to_talk:
            return
        if is_speech:
            segment.speech_windows += 1
            self._silent_windows = 0
            segment.speculative = None
        else:
            self._silent_windows += 1
            if self._silent_windows == 1 and self._is_long_enough(segment):
                self._speculate(segment)
        closing_windows = self.config.end_silence_s * SAMPLE_RATE / VAD_WINDOW
        if self._silent_windows >= closing_windows or segment.n_samples >= self.config.max_segment_s * SAMPLE_RATE:
            self._close_segment()
        elif self._is_finished_command(segment):
            self._masked_windows = max(0, round(closing_windows - self._silent_windows))
            self._close_segment()

    def _start_loading(self) -> None:
        """Load the model in the decode thread at the first speech, while the learner is still talking."""
        if not self._is_loading:
            self._is_loading = True
            decode_executor().submit(get_recognizer, self.config.engine)

    def _is_long_enough(self, segment: _Segment) -> bool:
        return segment.is_push_to_talk or segment.speech_windows * VAD_WINDOW >= self.config.min_speech_s * SAMPLE_RATE

    def _is_finished_command(self, segment: _Segment) -> bool:
        """Early close: enough silence, and the speculative decode is done and holds a complete command."""
        future = segment.speculative
        if future is None or not future.done() or future.exception() is not None:
            return False
        if self._silent_windows * VAD_WINDOW < self.config.early_close_s * SAMPLE_RATE:
            return False
        transcript = future.result()
        words = normalise(transcript.text)
        if transcript.is_rejected or not words or (words[-1].isdigit() and not is_complete_number(int(words[-1]))):
            return False
        return parse(transcript.text).is_command

    def _speculate(self, segment: _Segment) -> None:
        """Start decoding at the first pause: if no more speech comes, the result is ready sooner."""
        segment.speculative = self._submit(segment)
        segment.speculative_t = self._now

    def _close_segment(self) -> None:
        segment, self._segment = self._segment, None
        self._silent_windows = 0
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
        self._pending.append(_Pending(segment, future, end_t=self._now, decode_started_t=started))

    def _run(self, job: Callable[[], Any]) -> Future[Any]:
        return run_job(job, background=self._background)

    def _submit(self, segment: _Segment) -> Future[Transcript]:
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

    def _open_stream(self, segment: _Segment) -> None:
        def open_stream() -> Any:
            opener = getattr(self.recognizer, "open_stream", None)
            return opener() if opener is not None else None

        segment.stream = self._run(open_stream)

    def _feed_stream(self, segment: _Segment) -> None:
        if segment.stream is None or segment.fed >= len(segment.chunks):
            return
        audio, stream = np.concatenate(segment.chunks[segment.fed :]), segment.stream
        segment.fed = len(segment.chunks)

        def feed() -> None:
            opened = result_or_none(stream)
            if opened is not None:
                opened.feed(audio)

        self._run(feed)

    def _finish_stream(self, segment: _Segment) -> None:
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
        still: list[_Pending] = []
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

    def _event(self, pending: _Pending) -> dict[str, Any] | None:
        is_ptt = pending.segment.is_push_to_talk
        try:
            transcript = pending.future.result()
        except Exception as exc:  # a failed decode must not end the take
            return self._unknown_event(pending, "", 0.0, f"speech recognition failed: {type(exc).__name__}")
        if not is_ptt and not self._sounds_like_speech(transcript):
            return None
        intent = UNKNOWN if transcript.is_rejected else parse(transcript.text, asr_confidence=transcript.confidence)
        is_sure = is_ptt or transcript.is_confirmed or transcript.confidence >= self.config.min_confidence
        if not intent.is_command or not is_sure:
            return self._unknown_event(pending, transcript.text, transcript.decode_ms)
        return command_event(transcript.text, intent, pending, transcript.decode_ms)

    def _sounds_like_speech(self, transcript: Transcript) -> bool:
        """Whisper's no-speech estimate, and a mean token probability that is not tiny unless a second
        recogniser heard the same command."""
        return (
            bool(transcript.text.strip())
            and transcript.no_speech_prob <= self.config.max_no_speech
            and (transcript.is_confirmed or transcript.confidence >= self.config.min_confidence / 2)
        )

    def _unknown_event(
        self, pending: _Pending, text: str, decode_ms: float, message: str = DIDNT_CATCH
    ) -> dict[str, Any]:
        event = command_event(text, UNKNOWN, pending, decode_ms)
        event["message"] = message
        return event


def command_event(text: str, intent: Intent, pending: _Pending | None = None, decode_ms: float = 0.0) -> dict[str, Any]:
    """The protocol's ``command`` event (``heard`` is the line the page shows)."""
    event: dict[str, Any] = {
        "type": "command",
        "text": text,
        "intent": intent.to_dict(),
        "confidence": intent.confidence,
        "heard": describe(intent),
    }
    if pending is not None:
        event["t"] = round(pending.end_t, 3)
        event["source"] = "push_to_talk" if pending.segment.is_push_to_talk else "voice"
        event["timing"] = {
            "speech_start_s": round(pending.segment.start_t, 3),
            "decode_started_s": round(pending.decode_started_t, 3),
            "decode_ms": round(decode_ms, 1),
        }
    return event
