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


class SphinxRecognizer:
    """pocketsphinx decoding of a whole utterance; one decoder, used by one thread at a time."""

    def __init__(self, *, grammar: bool = True, posterior: bool = True) -> None:
        """``posterior=False`` skips the lattice that the confidence needs: ``hyp()`` then takes microseconds
        instead of up to ~0.2 s (holding the GIL), confidence is reported as 1.0, and the best grammar path is
        taken as it is (used for the second opinion in ``grammar_whisper``, which only compares intents)."""
        from pocketsphinx import Config, Decoder, set_loglevel

        set_loglevel("FATAL")
        config = Config(loglevel="FATAL", samprate=16000, bestpath=posterior)
        self._decoder: Any = Decoder(config)
        for word, phones in EXTRA_WORDS.items():
            self._decoder.add_word(word, phones, True)
        if grammar:
            self._decoder.add_jsgf_string("commands", jsgf())
            self._decoder.activate_search("commands")
        self.name = "pocketsphinx" + ("+jsgf" if grammar else "+lm")
        self._lock = threading.Lock()

    def transcribe(self, samples: np.ndarray) -> Transcript:
        from inference.audio import float_to_pcm16

        started = time.perf_counter()
        pcm = float_to_pcm16(np.asarray(samples, dtype=np.float32).reshape(-1))
        with self._lock:
            self._decoder.start_utt()
            # pocketsphinx holds the GIL while it searches: short pieces let the live path's thread run between.
            for start in range(0, len(pcm), CHUNK_BYTES):
                self._decoder.process_raw(pcm[start : start + CHUNK_BYTES], full_utt=False)
            self._decoder.end_utt()
            hyp = self._decoder.hyp()
            text = hyp.hypstr if hyp is not None else ""
            # The posterior of the best path (log base of the decoder's logmath) as a probability.
            log_prob = self._decoder.get_logmath().exp(hyp.prob) if hyp is not None else 0.0
        confidence = float(log_prob) if math.isfinite(log_prob) else 0.0
        return Transcript(
            text=text,
            confidence=round(min(max(confidence, 0.0), 1.0), 4),
            no_speech_prob=0.0,
            decode_ms=(time.perf_counter() - started) * 1000.0,
            engine=self.name,
        )
