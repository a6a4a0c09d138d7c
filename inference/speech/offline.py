"""One spoken clip to text and intent (the ``manage.py transcribe`` contract), without the streaming listener.

The clip is treated like a push-to-talk utterance: the VAD finds where speech starts and ends, that span
(with a little margin) is recognised, and the text is parsed. A clip with no speech at all is ``unknown``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from inference.speech.intents import UNKNOWN, describe, parse
from inference.speech.recognizer import get_recognizer
from inference.speech.vad import VAD_WINDOW, SileroVad
from inference.types import SAMPLE_RATE

MAX_CLIP_S = 30.0
"""Longest clip accepted: Whisper hears at most 30 s at once, and a command is a few seconds."""
SPAN_MARGIN_S = 0.25
SPEECH_THRESHOLD = 0.5


class ClipError(ValueError):
    """A clip that cannot be transcribed (empty, too long); the message says why."""


def speech_span(
    samples: np.ndarray, vad: SileroVad | None = None, threshold: float = SPEECH_THRESHOLD
) -> tuple[int, int] | None:
    """(start, end) sample indices of the speech in ``samples`` with a margin, or None when there is none."""
    probs = (vad or SileroVad()).probabilities(samples)
    speech = np.flatnonzero(probs >= threshold)
    if not speech.size:
        return None
    margin = int(SPAN_MARGIN_S * SAMPLE_RATE)
    start = max(0, int(speech[0]) * VAD_WINDOW - margin)
    end = min(len(samples), (int(speech[-1]) + 1) * VAD_WINDOW + margin)
    return start, end


def transcribe_clip(samples: np.ndarray, engine: str = "whisper") -> dict[str, Any]:
    """``{"text", "intent", "latency_ms", "confidence", "heard", "engine"}`` for one clip of 16 kHz audio.

    ``latency_ms`` is the time from having the whole clip to having its intent (VAD, recognition, parsing),
    after the model is loaded; loading happens once per process and is not part of it.
    """
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    if samples.size == 0:
        raise ClipError("the audio is empty")
    if samples.size > MAX_CLIP_S * SAMPLE_RATE:
        raise ClipError(
            f"the clip is {samples.size / SAMPLE_RATE:.1f} s long; commands are limited to {MAX_CLIP_S:g} s"
        )
    recognizer, vad = get_recognizer(engine), SileroVad()
    started = time.perf_counter()
    span = speech_span(samples, vad)
    if span is None:
        text, confidence, is_rejected = "", 0.0, False
    else:
        transcript = recognizer.transcribe(samples[span[0] : span[1]])
        text, confidence, is_rejected = transcript.text, transcript.confidence, transcript.is_rejected
    intent = UNKNOWN if is_rejected else parse(text, asr_confidence=confidence)
    return {
        "text": text,
        "intent": intent.to_dict(),
        "latency_ms": round((time.perf_counter() - started) * 1000.0, 1),
        "confidence": intent.confidence,
        "heard": describe(intent),
        "engine": recognizer.name,
    }
