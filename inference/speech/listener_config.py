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
    recent_memory_windows: int = 6
    """The recent windows' VAD remembers more than this many windows (and at most a few more)."""
    held_speech_ceiling: float = 0.9
    """...and Silero's own probability must have left the near-certainty it has within speech."""
    teen_wait_s: float = 0.25
    """The pause a command ending in "four", "six", "seven", "eight" or "nine" waits for, since "…teen" may
    follow: espeak's "six|teen" has up to 0.22 s of non-speech inside the word..."""
    teen_silence: float = 0.05
    """...unless Silero is this sure there is no speech: inside a word its probability stayed above 0.09 on
    every voice of both phrase sets, while after the last word it falls below 0.05 within ~0.1 s (in a quiet
    room; over music or noise it rarely does, and the command waits ``teen_wait_s``)."""
    pre_roll_s: float = 0.25
    max_segment_s: float = 8.0
    min_confidence: float = 0.2
    """Mean token probability below which a hands-free segment is not treated as speech."""
    max_no_speech: float = 0.5
    max_speech_per_syllable_s: float = 0.75
    """A command only one recogniser heard must account for the speech: with more speech than this per
    syllable of it ("I'm done." for 1.8 s of "I wonder what we're having for dinner") the learner hears
    "didn't catch that". (Development set: such commands had at most 0.61 s per syllable.)"""
    max_pending: int = 4
    """Segments of one listener waiting to be decoded; more are dropped (the learner is told)."""
