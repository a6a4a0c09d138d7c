"""Exercises and actions: what the tutor can ask a learner to practise, and how.

An action is (exercise, tempo factor, help). Exercises come from a course's lessons, passages of those
lessons (a few bars) and composer melodies; each carries a difficulty estimate per skill in [0, 1] computed
from its notes (``demand_from_notes``), which is all a policy knows about it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SKILLS = ("pitch", "rhythm", "reading", "fluency")
KINDS = ("lesson", "passage", "melody")
TEMPO_FACTORS = (0.6, 0.8, 1.0)
HELPS = ("none", "wait_mode", "metronome", "reference", "note_names")
HELP_LABELS = {
    "none": "no help",
    "wait_mode": "wait mode",
    "metronome": "the metronome",
    "reference": "reference playback first",
    "note_names": "note names shown",
}
FULL_TEMPO = len(TEMPO_FACTORS) - 1
NO_HELP = 0
MAX_EXERCISES = 64
"""Catalogues are cut to this many exercises (course order first): the policy's inputs stay small."""


@dataclass(frozen=True)
class Exercise:
    """One thing to practise. ``demand`` is the estimated difficulty per skill in ``SKILLS``, each in [0, 1]."""

    key: str
    kind: str
    title: str
    demand: tuple[float, ...]
    note_count: int
    helps: tuple[str, ...] = HELPS
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"exercise kind must be one of {KINDS}, not {self.kind!r}")
        if len(self.demand) != len(SKILLS) or not all(0.0 <= d <= 1.0 for d in self.demand):
            raise ValueError(f"demand must be {len(SKILLS)} numbers in [0, 1], got {self.demand!r}")
        if "none" not in self.helps or any(h not in HELPS for h in self.helps):
            raise ValueError(f"helps must include 'none' and come from {HELPS}, got {self.helps!r}")


class Catalogue:
    """A course's exercises in course order, with the arrays policies and simulators read."""

    def __init__(self, exercises: Sequence[Exercise]) -> None:
        if not exercises:
            raise ValueError("a catalogue needs at least one exercise")
        keys = [e.key for e in exercises]
        if len(set(keys)) != len(keys):
            raise ValueError("exercise keys must be unique")
        self.exercises = tuple(exercises[:MAX_EXERCISES])
        self.keys = tuple(e.key for e in self.exercises)
        self.demand = np.array([e.demand for e in self.exercises], dtype=np.float64)
        self.kind_index = np.array([KINDS.index(e.kind) for e in self.exercises])
        self.note_count = np.array([max(1, e.note_count) for e in self.exercises], dtype=np.int64)
        self.help_mask = np.array([[h in e.helps for h in HELPS] for e in self.exercises], dtype=bool)
        n = len(self.exercises)
        self.position = np.arange(n) / max(1, n - 1)

    def __len__(self) -> int:
        return len(self.exercises)

    def index(self, key: str) -> int:
        return self.keys.index(key)


@dataclass
class Actions:
    """One decision per learner: indices into the catalogue, ``TEMPO_FACTORS`` and ``HELPS``.

    ``probability`` is the chance the policy gave the whole action (for off-policy evaluation);
    ``exercise_probs`` (learners × exercises) is the policy's full distribution over exercises.
    """

    exercise: np.ndarray
    tempo: np.ndarray
    help: np.ndarray
    probability: np.ndarray
    exercise_probs: np.ndarray
    tempo_probs: np.ndarray | None = None
    help_probs: np.ndarray | None = None
    reason: list[str] = field(default_factory=list)

    @property
    def tempo_factor(self) -> np.ndarray:
        return np.asarray(TEMPO_FACTORS)[self.tempo]


def simulated_catalogue(rng: np.random.Generator, n_exercises: int = 16) -> Catalogue:
    """A plausible course: difficulty rising through the course, passages that stress one skill, melodies.

    Course order follows the overall difficulty with a little disorder, as an instructor's ordering would.
    """
    base = np.sort(rng.uniform(0.05, 0.92, n_exercises))
    base[-1] = max(base[-1], 0.88)  # every course ends with a piece that is hard for everyone
    kinds = rng.choice(len(KINDS), size=n_exercises, p=[0.4, 0.4, 0.2])
    exercises = []
    for i in range(n_exercises):
        demand = base[i] + rng.normal(0.0, 0.06, len(SKILLS))
        if kinds[i] == 1:  # a passage picks out one skill
            demand[rng.integers(len(SKILLS))] += 0.08
        demand = np.clip(demand, 0.0, 1.0)
        helps = [h for h in HELPS if h == "none" or rng.random() > 0.1]
        exercises.append(
            Exercise(
                key=f"sim:{i}",
                kind=KINDS[kinds[i]],
                title=f"exercise {i + 1}",
                demand=tuple(float(d) for d in demand),
                note_count=int(rng.integers(12, 64)),
                helps=tuple(helps),
            )
        )
    order = np.argsort(base + rng.normal(0.0, 0.03, n_exercises), kind="stable")
    return Catalogue([exercises[i] for i in order])


def demand_from_notes(notes: Sequence[Any], bpm: float) -> tuple[float, ...]:
    """Difficulty per skill in [0, 1] from a passage's notes (``ScoreNote`` or dicts) at ``bpm``.

    pitch: range and leap size; rhythm: variety of durations and off-beat onsets; reading: notes per bar and
    accidentals; fluency: notes per second. The scales are set so that a beginner's folk tune lands near 0.2
    and a fast virtuoso passage near 0.9.
    """
    rows = [n if isinstance(n, dict) else n.to_dict() for n in notes]
    if not rows:
        return (0.0,) * len(SKILLS)
    midi = np.array([r["midi"] for r in rows], dtype=float)
    dur_q = np.array([r["duration_q"] for r in rows], dtype=float)
    beats = np.array([r["beat"] for r in rows], dtype=float)
    leaps = np.abs(np.diff(midi)) if len(midi) > 1 else np.zeros(1)
    pitch = 0.5 * _ramp(np.ptp(midi), 5, 24) + 0.5 * _ramp(float(np.mean(leaps)), 1, 7)
    off_beat = float(np.mean(np.abs(beats - np.round(beats)) > 1e-3))
    rhythm = 0.5 * _ramp(len(np.unique(np.round(dur_q, 3))), 1, 6) + 0.5 * _ramp(off_beat, 0.0, 0.5)
    measures = max(1, len({r["measure"] for r in rows}))
    accidentals = float(np.mean(np.isin(np.mod(midi, 12), (1, 3, 6, 8, 10))))
    reading = 0.6 * _ramp(len(rows) / measures, 2, 12) + 0.4 * _ramp(accidentals, 0.0, 0.4)
    seconds = max(1e-3, float(np.sum(dur_q)) * 60.0 / max(bpm, 1.0))
    fluency = _ramp(len(rows) / seconds, 0.8, 8.0)
    return tuple(round(float(np.clip(x, 0.0, 1.0)), 4) for x in (pitch, rhythm, reading, fluency))


def _ramp(value: float, low: float, high: float) -> float:
    if math.isnan(value):
        return 0.0
    return min(1.0, max(0.0, (value - low) / (high - low)))
