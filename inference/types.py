"""Dataclasses that cross module lines inside ``inference`` and out to the web layer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16_000
"""Every audio path inside ``inference`` works on mono float32 at this rate."""

HOP_SAMPLES = 320
"""One analysis hop: 20 ms at ``SAMPLE_RATE``. Followers are fed exactly one hop per ``update``."""

HOP_SECONDS = HOP_SAMPLES / SAMPLE_RATE

VerdictResult = Literal["correct", "wrong_pitch", "missed", "extra", "early", "late"]


@dataclass(frozen=True)
class ScoreNote:
    """One note of the score as the follower and the page see it.

    ``note_id`` equals the ``id`` of the note's ``<g class="note">`` in the Verovio SVG. Onsets are measured
    from the start of the flattened score: ``onset_q`` in quarter notes (music21 offsets), ``onset_s`` in
    seconds at the written tempo. Tied continuations are folded into the note that starts the tie.
    """

    note_id: str
    onset_q: float
    onset_s: float
    duration_q: float
    duration_s: float
    midi: int
    measure: int
    beat: float
    part: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoreNote:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Position:
    """Where a follower believes the performer is after a frame of audio."""

    t: float
    """Audio time in seconds at the end of the frame just processed."""
    note_index: int
    """Index into the follower's onset list (notes grouped by onset); -1 before the first note."""
    note_ids: tuple[str, ...]
    measure: int
    beat: float
    score_q: float
    confidence: float
    is_lost: bool = False

    def to_event(self) -> dict[str, Any]:
        return {
            "type": "position",
            "t": round(self.t, 3),
            "note_ids": list(self.note_ids),
            "measure": self.measure,
            "beat": round(self.beat, 3),
            "confidence": round(self.confidence, 3),
            "is_lost": self.is_lost,
        }


@dataclass(frozen=True)
class NoteVerdict:
    """The judgement of one score note (or, for ``extra``, of a played note matching no score note)."""

    note_id: str
    result: VerdictResult
    cents: int | None = None
    ms: int | None = None
    detected_s: float | None = None
    played_midi: float | None = None

    def to_event(self) -> dict[str, Any]:
        return {
            "type": "verdict",
            "note_id": self.note_id,
            "result": self.result,
            "cents": self.cents,
            "ms": self.ms,
            "detected_s": None if self.detected_s is None else round(self.detected_s, 3),
        }


@dataclass(frozen=True)
class PitchFrame:
    """Pitch tracker output for one hop."""

    t: float
    f0_hz: float
    """0.0 when unvoiced."""
    voicing: float
    """0..1, how periodic the frame is."""
    rms: float
    onset: float = 0.0
    """0..1 onset strength (energy rise / re-attack)."""
    phase_jump: float = 0.0
    """0..1 how much the partials' phases broke from their steady advance: a re-attack of the same pitch
    (a bow change, a tongued repeat) that hardly changes the level still restarts the phases."""
    power: np.ndarray | None = field(default=None, compare=False, repr=False)
    """One-sided power spectrum of the newest 512 samples (Hann window) where the tracker computes one: a
    follower that knows which pitches to expect looks for their harmonics in it."""


@dataclass
class TakeSummary:
    """Counts of a finished take, stored with it and sent as the ``summary`` event."""

    notes_total: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    accuracy: float = 0.0
    duration_s: float = 0.0
    reached_note_index: int = -1

    def to_event(self) -> dict[str, Any]:
        return {"type": "summary", **asdict(self)}
