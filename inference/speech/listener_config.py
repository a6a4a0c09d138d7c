"""The command listener's thresholds (``inference.speech.listener``); defaults measured in docs/speech.md."""

from __future__ import annotations

from dataclasses import dataclass

TEEN_STEMS = frozenset({4, 6, 7, 8, 9})
"""Numbers whose word begins a "-teen" ("six" → "sixteen"): a command ending in one may still be one word short."""

@dataclass(frozen=True)
class ListenerConfig:
    """Thresholds of the command listener (defaults measured in docs/speech.md)."""

    engine: str = "whisper"
    speech_threshold: float = 0.5
    """VAD probability that opens (or continues) speech."""
    min_speech_s: float = 0.3
    """Seconds of speech windows a segment needs, or it is dropped (coughs, a breath, a bowed note)..."""
    min_short_command_s: float = 0.16
    """...unless it has this much and both recognisers hear the same command in it (a lone "stop" gives espeak
    0.19-0.26 s of speech windows)."""
    end_silence_s: float = 0.19
    """Non-speech that closes a segment (six 32 ms VAD windows); pauses between words are shorter."""
    early_close_s: float = 0.1
    """A pause after which a segment closes at once if its speculative decode already holds a command
    ("metronome on", "bar twelve", "tempo seventy"); "bar six" waits ``teen_wait_s``."""
    recent_pause_threshold: float = 0.15
    """The probability of the last ~0.2 s alone (``RecentSpeechVad``) below which the speech has paused although
    Silero's long-held state still says speech (over music); such a pause may start the speculative decode and
    close a finished command early, never close a segment by itself."""
    held_speech_ceiling: float = 0.9
    """...and Silero's own probability must have left the near-certainty it has within speech."""
    teen_wait_s: float = 0.25
    """The pause a command ending in "four", "six", "seven", "eight" or "nine" waits for, since "…teen" may
    follow: espeak's "six|teen" has up to 0.22 s of non-speech inside the word."""
    pre_roll_s: float = 0.25
    max_segment_s: float = 8.0
    min_confidence: float = 0.2
    """Mean token probability below which a hands-free segment is not treated as speech."""
    max_no_speech: float = 0.5
    max_pending: int = 4
    """Segments of one listener waiting to be decoded; more are dropped (the learner is told)."""
