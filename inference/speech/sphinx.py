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

from inference.speech.recognizer import Transcript
from inference.speech.vocabulary import COMMAND_GRAMMAR, EXTRA_WORDS


class SphinxRecognizer:
    """pocketsphinx decoding of a whole utterance; one decoder, used by one thread at a time."""

    def __init__(self, *, grammar: bool = True) -> None:
        from pocketsphinx import Config, Decoder, set_loglevel

        set_loglevel("FATAL")
        config = Config(loglevel="FATAL", samprate=16000)
        self._decoder: Any = Decoder(config)
        for word, phones in EXTRA_WORDS.items():
            self._decoder.add_word(word, phones, True)
        if grammar:
            self._decoder.add_jsgf_string("commands", COMMAND_GRAMMAR)
            self._decoder.activate_search("commands")
        self.name = "pocketsphinx" + ("+jsgf" if grammar else "+lm")
        self._lock = threading.Lock()

    def transcribe(self, samples: np.ndarray) -> Transcript:
        from inference.audio import float_to_pcm16

        started = time.perf_counter()
        pcm = float_to_pcm16(np.asarray(samples, dtype=np.float32).reshape(-1))
        with self._lock:
            self._decoder.start_utt()
            self._decoder.process_raw(pcm, full_utt=True)
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
