"""What the command listener keeps of an utterance: the open segment, and a closed one waiting to be decoded."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inference.speech.recognizer import Transcript


@dataclass
class Segment:
    start_t: float
    chunks: list[np.ndarray] = field(default_factory=list)
    speech_windows: int = 0
    is_push_to_talk: bool = False
    speculative: Future[Transcript] | None = None
    speculative_t: float = 0.0
    stream: Future[Any] | None = None
    """The recogniser's stream for this utterance (pocketsphinx decoding while the learner speaks), if any."""
    fed: int = 0
    """Chunks already sent to ``stream``."""

    @property
    def n_samples(self) -> int:
        return sum(len(c) for c in self.chunks)

    def audio(self) -> np.ndarray:
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, dtype=np.float32)


@dataclass
class PendingDecode:
    segment: Segment
    future: Future[Transcript]
    end_t: float
    decode_started_t: float
    """Audio time at which decoding of this segment's audio began (speculative start or close)."""
