"""The default recogniser: Whisper tiny.en constrained to the command grammar, checked against free decoding.

1. CTranslate2 encodes the utterance once and decodes it freely (greedy, vocabulary-restricted, with the
   vocabulary prompt): that gives Whisper's no-speech estimate and its own unconstrained reading.
2. ``constrained.beam_search`` reads the same encoder output with the NumPy decoder, allowed to write only
   commands of ``grammar.TEMPLATES``: "go to my five" cannot be written, "go to bar five" can.
3. The best command is accepted when it explains the audio almost as well as the free reading (the gap in
   mean log-probability per token is at most ``max_gap``). Otherwise pocketsphinx with the same grammar is
   asked (an independent acoustic model): if it hears the same intent the command stands, else the
   utterance is rejected and the learner hears "didn't catch that" instead of a wrong action.
Thresholds were chosen on a development set of phrasings and voices that the benchmark does not use.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from inference.speech.intents import parse
from inference.speech.recognizer import Transcript
from inference.types import SAMPLE_RATE


@dataclass(frozen=True)
class GrammarSettings:
    beam: int = 3
    patience: float = 2.0
    """Keep searching while a partial command is within this many nats of the best finished one."""
    length_penalty: float = 1.0
    """Finished commands are ranked by total log-probability / tokens ** this."""
    max_gap: float = 0.35
    """Largest (free − constrained) mean log-probability per token at which a command is accepted alone."""
    second_opinion: bool = True
    """Ask pocketsphinx (same grammar) when the gap is larger; without it such utterances are rejected."""


class GrammarWhisperRecognizer:
    """``transcribe(samples) -> Transcript`` whose text is a grammar command, or ``is_rejected`` speech."""

    def __init__(self, settings: GrammarSettings | None = None) -> None:
        from inference.speech.constrained import CommandLanguage
        from inference.speech.decoder import WhisperDecoder
        from inference.speech.whisper import WhisperRecognizer, whisper_model_dir

        self.settings = settings or GrammarSettings()
        self._free = WhisperRecognizer(beam_size=1)
        tokenizer = self._free.tokenizer
        self._language = CommandLanguage(tokenizer)
        vocabulary = sorted(set(self._free.allowed_tokens) | set(self._language.token_ids()))
        self._decoder = WhisperDecoder(whisper_model_dir(), vocabulary)
        self._prompt = self._free.prompt_ids
        self._sphinx: Any = None
        if self.settings.second_opinion:
            from inference.speech.sphinx import SphinxRecognizer

            self._sphinx = SphinxRecognizer(grammar=True, posterior=False)
        self.name = "whisper-tiny.en+grammar" + ("+sphinx" if self.settings.second_opinion else "")

    def transcribe(self, samples: np.ndarray) -> Transcript:
        from threadpoolctl import threadpool_limits

        from inference.speech.constrained import beam_search
        from inference.speech.whisper import TOKENS_PER_SECOND, collapse_repeats

        started = time.perf_counter()
        audio = np.asarray(samples, dtype=np.float32).reshape(-1)
        s = self.settings
        with threadpool_limits(1, "blas"):  # tiny matrices: BLAS threads only contend on a busy machine
            encoded, no_speech = self._free.encode(audio)
            state, log_probs = self._decoder.start(encoded, self._prompt)
            free_tokens = int(8 + TOKENS_PER_SECOND * max(len(audio) / SAMPLE_RATE, 1.0))
            found, free = beam_search(
                self._decoder, self._language, state, log_probs, s.beam, s.length_penalty, s.patience, free_tokens
            )
        heard = Transcript(
            text=collapse_repeats(self._free.tokenizer.decode(self._free.tokenizer.tokens(free.tokens)).strip()),
            confidence=round(math.exp(free.mean), 4),
            no_speech_prob=round(no_speech, 4),
            decode_ms=0.0,
            engine=self.name,
        )
        best = next((h for h in found if parse(h.text).is_command), None)
        if best is None:
            return _replace(heard, started, is_rejected=True)
        confidence = round(math.exp(best.score / best.length), 4)
        command = _replace(heard, started, text=sentence(best.text), confidence=confidence)
        if free.mean - best.score / best.length <= s.max_gap:
            return command
        if s.second_opinion and self._agrees(audio, best.text):
            return command
        return _replace(heard, started, is_rejected=True)

    def _agrees(self, audio: np.ndarray, text: str) -> bool:
        """Does pocketsphinx, with the same grammar, hear the same intent?"""
        other = self._sphinx.transcribe(audio).text
        return parse(other).to_dict() == parse(text).to_dict()


def sentence(words: str) -> str:
    """A grammar command as a person would write it: "go to bar 5" → "Go to bar 5."."""
    return words[:1].upper() + words[1:] + "." if words else ""


def _replace(free: Transcript, started: float, **changes: Any) -> Transcript:
    from dataclasses import replace

    return replace(free, decode_ms=(time.perf_counter() - started) * 1000.0, **changes)
