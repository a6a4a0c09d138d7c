"""What every speech recogniser returns, and the registry that builds them by name (lazily, once each).

Engines: ``whisper`` (the default: Whisper tiny.en constrained to the command grammar, checked against its
free reading, with pocketsphinx on the same grammar heard beside it; ``grammar_whisper``), ``whisper-grammar``
(the same without pocketsphinx), ``whisper-nbest`` (vocabulary prompt, decoder restricted to the command
vocabulary, n-best list searched for a command: the previous default), ``whisper-prompt`` (prompt only,
free decoding), ``whisper-noprompt``,
``whisper-30s`` (prompt, free decoding, the reference 30 s window), ``pocketsphinx-jsgf`` (command grammar)
and ``pocketsphinx-lm`` (pocketsphinx's general English language model). Models are loaded on first use
and kept for the process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from inference.types import SAMPLE_RATE


@dataclass(frozen=True)
class Transcript:
    """One utterance as text, with how sure the recogniser was."""

    text: str
    confidence: float
    """Mean token (or word) probability, 0..1."""
    no_speech_prob: float
    """The recogniser's own estimate that there was no speech at all (0 when it has none)."""
    decode_ms: float
    engine: str
    is_rejected: bool = False
    """The recogniser heard speech but no command it trusts: answer "didn't catch that", never act."""
    is_confirmed: bool = False
    """Two independent recognisers heard this command: a low mean token probability does not veto it."""


class Recognizer(Protocol):
    name: str

    def transcribe(self, samples: np.ndarray) -> Transcript: ...


ENGINES = (
    "whisper",
    "whisper-grammar",
    "whisper-nbest",
    "whisper-prompt",
    "whisper-noprompt",
    "whisper-30s",
    "pocketsphinx-jsgf",
    "pocketsphinx-lm",
)
_lock = threading.Lock()
_loaded: dict[str, Recognizer] = {}


def _build(name: str) -> Recognizer:
    if name in ("whisper", "whisper-grammar"):
        from inference.speech.grammar_whisper import GrammarSettings, GrammarWhisperRecognizer

        return GrammarWhisperRecognizer(GrammarSettings(second_opinion=name == "whisper"))
    if name.startswith("whisper"):
        from inference.speech.whisper import WhisperRecognizer

        if name == "whisper-noprompt":
            return WhisperRecognizer(prompt=None, vocabulary_only=False)
        if name == "whisper-prompt":
            return WhisperRecognizer(vocabulary_only=False)
        if name == "whisper-30s":
            return WhisperRecognizer(vocabulary_only=False, trim_window=False)
        return WhisperRecognizer()
    from inference.speech.sphinx import SphinxRecognizer

    return SphinxRecognizer(grammar=name == "pocketsphinx-jsgf")


def get_recognizer(name: str = "whisper") -> Recognizer:
    """The recogniser called ``name``, built on first use and then shared by every caller in the process."""
    if name not in ENGINES:
        raise ValueError(f"unknown speech engine {name!r}; choose one of {', '.join(ENGINES)}")
    with _lock:
        recognizer = _loaded.get(name)
        if recognizer is None:
            recognizer = _build(name)
            recognizer.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32))  # first-call set-up, not a user's wait
            _loaded[name] = recognizer
    return recognizer
