"""The pocketsphinx 5 alternative: CMU's English acoustic model with a JSGF command grammar (or its general LM).

Kept for comparison and as a light fallback: with the grammar it can only ever hear lesson commands, which
helps accuracy on in-grammar speech but means anything else is forced onto the nearest command, so its
rejection of non-commands relies on the recogniser's posterior alone.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import numpy as np

from inference.speech.grammar import jsgf
from inference.speech.recognizer import Transcript
from inference.speech.vocabulary import EXTRA_WORDS

CHUNK_BYTES = 2 * 800
"""Audio handed to pocketsphinx per call (50 ms of 16-bit samples)."""


MAX_DECODERS = 3
"""pocketsphinx decoders a recogniser keeps (one per utterance being heard at once; ~1 s to build each)."""


class SphinxRecognizer:
    """pocketsphinx decoding of a whole utterance, or of one fed as it arrives (``open_stream``)."""

    def __init__(self, *, grammar: bool = True, posterior: bool = True) -> None:
        """``posterior=False`` skips the lattice that the confidence needs: ``hyp()`` then takes microseconds
        instead of up to ~0.2 s (holding the GIL), confidence is reported as 1.0, and the best grammar path is
        taken as it is (used for the second opinion in ``grammar_whisper``, which only compares intents)."""
        from pocketsphinx import set_loglevel

        set_loglevel("FATAL")
        self._grammar, self._posterior = grammar, posterior
        self.name = "pocketsphinx" + ("+jsgf" if grammar else "+lm")
        self._lock = threading.Lock()
        self._idle: list[Any] = [self._build()]
        self._built = 1

    def _build(self) -> Any:
        from pocketsphinx import Config, Decoder

        config = Config(loglevel="FATAL", samprate=16000, bestpath=self._posterior)
        decoder = Decoder(config)
        for word, phones in EXTRA_WORDS.items():
            decoder.add_word(word, phones, True)
        if self._grammar:
            decoder.add_jsgf_string("commands", jsgf())
            decoder.activate_search("commands")
        return decoder

    def _acquire(self, *, build: bool = True) -> Any | None:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            if not build or self._built >= MAX_DECODERS:
                return None
            self._built += 1
        return self._build()

    def _release(self, decoder: Any) -> None:
        with self._lock:
            self._idle.append(decoder)

    def open_stream(self) -> SphinxStream | None:
        """A decoder for one utterance fed piece by piece, or None when all are busy. Call from the decode
        thread: building a decoder takes about a second."""
        decoder = self._acquire()
        return SphinxStream(self, decoder) if decoder is not None else None

    def transcribe(self, samples: np.ndarray) -> Transcript:
        started = time.perf_counter()
        decoder = self._acquire()
        while decoder is None:  # every decoder is hearing a live utterance: wait for one
            time.sleep(0.01)
            decoder = self._acquire(build=False)
        try:
            stream = SphinxStream(self, decoder, release=False)
            stream.feed(samples)
            text, log_prob = stream.finish()
        finally:
            self._release(decoder)
        confidence = float(log_prob) if math.isfinite(log_prob) else 0.0
        return Transcript(
            text=text,
            confidence=round(min(max(confidence, 0.0), 1.0), 4),
            no_speech_prob=0.0,
            decode_ms=(time.perf_counter() - started) * 1000.0,
            engine=self.name,
        )


class SphinxStream:
    """One utterance decoded as its audio arrives, so its hypothesis is ready when the speech ends.

    ``feed`` pieces of audio, read ``hypothesis()`` at any time (the best grammar path so far), ``finish()``
    once. pocketsphinx holds the GIL while it searches: audio goes in 50 ms pieces so the live path's thread
    gets a turn between them.
    """

    def __init__(self, owner: SphinxRecognizer, decoder: Any, *, release: bool = True) -> None:
        self._owner, self._decoder, self._release = owner, decoder, release
        self._decoder.start_utt()
        self.is_open = True

    def feed(self, samples: np.ndarray) -> None:
        from inference.audio import float_to_pcm16

        if not self.is_open:
            return
        pcm = float_to_pcm16(np.asarray(samples, dtype=np.float32).reshape(-1))
        for start in range(0, len(pcm), CHUNK_BYTES):
            self._decoder.process_raw(pcm[start : start + CHUNK_BYTES], full_utt=False)

    def hypothesis(self) -> str:
        hyp = self._decoder.hyp() if self.is_open else None
        return hyp.hypstr if hyp is not None else ""

    def finish(self) -> tuple[str, float]:
        """End the utterance: the final text and its posterior probability (1.0 without the lattice)."""
        if not self.is_open:
            return "", 0.0
        self.is_open = False
        self._decoder.end_utt()
        hyp = self._decoder.hyp()
        # The posterior of the best path (log base of the decoder's logmath) as a probability.
        log_prob = self._decoder.get_logmath().exp(hyp.prob) if hyp is not None else 0.0
        if self._release:
            self._owner._release(self._decoder)
        return (hyp.hypstr if hyp is not None else ""), log_prob
