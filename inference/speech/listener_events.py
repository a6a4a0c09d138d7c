"""What the command listener (``inference.speech.listener``) makes of a finished decode: the gates, and the event.

Gates against taking playing for a command (each measured in ``inference.bench.speech``): the VAD must hold
for ``min_speech_s`` of speech-like windows (``min_short_command_s`` for a command both recognisers hear);
the recogniser's no-speech estimate and mean token probability must pass (the latter is waived for a command
a second recogniser confirmed); and the parser must account for most of the words. What fails only the last
gate is answered with a polite ``unknown`` event; what fails the others was not speech and gets no event at all.
A command only one recogniser heard must also account for the speech (``max_speech_per_syllable_s``: a whole
sentence forced into the grammar as "I'm done." is answered "didn't catch that").
Push-to-talk bypasses the gates of speech: everything between key-down and key-up is answered.
"""

from __future__ import annotations

import functools
from typing import Any

from inference.speech.grammar import syllables
from inference.speech.intents import UNKNOWN, Intent, describe, normalise, parse
from inference.speech.listener_config import TEEN_STEMS, ListenerConfig
from inference.speech.listener_segment import PendingDecode, Segment
from inference.speech.recognizer import Transcript
from inference.speech.vad import VAD_WINDOW
from inference.types import SAMPLE_RATE

__all__ = [
    "DIDNT_CATCH",
    "accounts_for_speech",
    "command_ending",
    "command_event",
    "decode_event",
    "finished_text",
    "is_short",
    "is_sure",
    "sounds_like_speech",
    "unknown_event",
]

DIDNT_CATCH = "Sorry, I didn't catch that."


def decode_event(pending: PendingDecode, config: ListenerConfig) -> dict[str, Any] | None:
    """The event for a finished decode: a command, "didn't catch that", or None when it was not speech."""
    is_ptt = pending.segment.is_push_to_talk
    try:
        transcript = pending.future.result()
    except Exception as exc:  # a failed decode must not end the take
        return unknown_event(pending, "", 0.0, f"speech recognition failed: {type(exc).__name__}")
    if not is_ptt and not sounds_like_speech(transcript, config):
        return None
    if is_short(pending.segment, config) and not (
        transcript.is_confirmed and not transcript.is_rejected and parse(transcript.text).is_command
    ):
        return None
    intent = UNKNOWN if transcript.is_rejected else parse(transcript.text, asr_confidence=transcript.confidence)
    is_certain = is_sure(transcript, pending.segment, config)
    if not intent.is_command or not is_certain:
        return unknown_event(pending, transcript.text, transcript.decode_ms)
    return command_event(transcript.text, intent, pending, transcript.decode_ms)


def sounds_like_speech(transcript: Transcript, config: ListenerConfig) -> bool:
    """Whisper's no-speech estimate, and a mean token probability that is not tiny unless a second
    recogniser heard the same command."""
    return (
        bool(transcript.text.strip())
        and transcript.no_speech_prob <= config.max_no_speech
        and (transcript.is_confirmed or transcript.confidence >= config.min_confidence / 2)
    )


def is_short(segment: Segment, config: ListenerConfig) -> bool:
    """Under ``min_speech_s``: taken only as a command both recognisers heard, else silently dropped."""
    return not segment.is_push_to_talk and segment.speech_windows * VAD_WINDOW < config.min_speech_s * SAMPLE_RATE


def is_sure(transcript: Transcript, segment: Segment, config: ListenerConfig) -> bool:
    """The command may be acted on: said with the talk key held, confirmed by a second recogniser, or heard
    with ``min_confidence`` by one recogniser and accounting for the speech."""
    return (
        segment.is_push_to_talk
        or transcript.is_confirmed
        or (
            transcript.confidence >= config.min_confidence
            and accounts_for_speech(transcript.text, segment.speech_windows * VAD_WINDOW / SAMPLE_RATE, config)
        )
    )


def accounts_for_speech(text: str, speech_s: float, config: ListenerConfig) -> bool:
    """``text`` is long enough for ``speech_s`` seconds of speech (``max_speech_per_syllable_s``): a whole
    sentence that a recogniser forced into a two-syllable command is not that command."""
    return speech_s <= config.max_speech_per_syllable_s * syllables(text)


def finished_text(segment: Segment) -> str:
    """The text of the segment's speculative decode once it is done and not rejected; "" otherwise."""
    future = segment.speculative
    if future is None or not future.done() or future.exception() is not None:
        return ""
    transcript = future.result()
    return "" if transcript.is_rejected else transcript.text


@functools.lru_cache(maxsize=64)
def command_ending(text: str) -> str | None:
    """None when ``text`` is no command; "teen" when it ends in the first half of a "-teen" ("bar six"); else
    "done". Cached: the listener asks every VAD window while a decoded segment waits to close."""
    words = normalise(text)
    if not words or not parse(text).is_command:
        return None
    return "teen" if words[-1].isdigit() and int(words[-1]) % 100 in TEEN_STEMS else "done"


def unknown_event(pending: PendingDecode, text: str, decode_ms: float, message: str = DIDNT_CATCH) -> dict[str, Any]:
    """The ``command`` event of an utterance that is no command the listener trusts ("didn't catch that")."""
    event = command_event(text, UNKNOWN, pending, decode_ms)
    event["message"] = message
    return event


def command_event(
    text: str, intent: Intent, pending: PendingDecode | None = None, decode_ms: float = 0.0
) -> dict[str, Any]:
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
