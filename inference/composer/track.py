"""The composer's environment: a track (melody plus percussion), its parameters, and the edits on it.

After Justus (2023), "Music Generation using Human-In-The-Loop Reinforcement Learning": a track is a list of
(pitch, duration) pairs drawn from a scale plus a percussion line on a sixteenth-note grid; an agent edits it
one action at a time (raise or lower a pitch, lengthen or shorten a duration by a quarter beat, change a
percussion element, remove a note). The original stepped pitches by a semitone, which can leave the scale;
``in_scale=True`` steps to the neighbouring scale tone instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "diminished": (0, 2, 3, 5, 6, 8, 9, 11),  # whole-half octatonic
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    "major_pentatonic": (0, 2, 4, 7, 9),
    "minor_pentatonic": (0, 3, 5, 7, 10),
    "blues": (0, 3, 5, 6, 7, 10),
    "whole_tone": (0, 2, 4, 6, 8, 10),
}
"""Semitones above the tonic of each scale or mode the learner may choose."""

DURATIONS = (0.25, 0.5, 0.75, 1.0)
"""Note lengths in beats (quarter notes), as in the original."""
DURATION_STEP = 0.25
PERCUSSION = (38, 35)
"""General MIDI drums of the original: acoustic snare, acoustic bass drum."""
STEPS_PER_BEAT = 4

MIN_BASE_NOTE, MAX_BASE_NOTE = 36, 84
MIN_LENGTH, MAX_LENGTH = 4, 32
MIN_TEMPO_BPM, MAX_TEMPO_BPM = 40, 240
PITCH_SPAN_BELOW, PITCH_SPAN_ABOVE = 12, 24
"""Edits keep pitches within an octave below and two octaves above the base note."""

# Action types. 0-4 are the ones the original agent chose from; it defined 5 but never chose it.
PITCH_UP, PITCH_DOWN, LONGER, SHORTER, PERCUSSION_CHANGE, REMOVE = range(6)
# Phrase-level edits of the improved agent: changes a listener can hear in one playback.
SMOOTH, RESOLVE_END, ECHO, DENSER, SPARSER, NARROW, WIDEN = range(6, 13)
OP_NAMES = (
    "pitch up",
    "pitch down",
    "longer",
    "shorter",
    "percussion",
    "remove",
    "smooth",
    "end on tonic",
    "echo first half",
    "denser",
    "sparser",
    "narrower",
    "wider",
)
NOTE_OPS = (PITCH_UP, PITCH_DOWN, LONGER, SHORTER, PERCUSSION_CHANGE, REMOVE, SMOOTH)
"""Types that act on the note at the action's index; the others act on the whole track (index 0)."""

Action = tuple[int, int]
"""(action type, note index)."""


class ParameterError(ValueError):
    """Track parameters out of range; the message is shown to the learner."""


@dataclass(frozen=True)
class TrackParams:
    """What the learner chooses before an episode: base note (MIDI), scale or mode, notes per track, tempo."""

    base_note: int = 60
    scale: str = "major"
    length: int = 8
    tempo_bpm: int = 90

    def __post_init__(self) -> None:
        checks = (
            ("base_note", self.base_note, MIN_BASE_NOTE, MAX_BASE_NOTE),
            ("length", self.length, MIN_LENGTH, MAX_LENGTH),
            ("tempo_bpm", self.tempo_bpm, MIN_TEMPO_BPM, MAX_TEMPO_BPM),
        )
        for name, value, low, high in checks:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ParameterError(f"{name} must be a whole number, got {value!r}.")
            if not low <= value <= high:
                raise ParameterError(f"{name} must be between {low} and {high}, got {value}.")
        if self.scale not in SCALES:
            raise ParameterError(f"Unknown scale {self.scale!r}; choose one of {', '.join(SCALES)}.")

    @property
    def intervals(self) -> tuple[int, ...]:
        return SCALES[self.scale]

    @property
    def tonic_class(self) -> int:
        return self.base_note % 12

    def in_scale(self, pitch: int) -> bool:
        return (pitch - self.base_note) % 12 in self.intervals

    def starting_pitches(self) -> list[int]:
        """The pool an initial track is drawn from: one octave of the scale including the upper tonic."""
        return [self.base_note + i for i in self.intervals] + [self.base_note + 12]

    def pitch_bounds(self) -> tuple[int, int]:
        return max(0, self.base_note - PITCH_SPAN_BELOW), min(127, self.base_note + PITCH_SPAN_ABOVE)

    def to_dict(self) -> dict[str, Any]:
        return {"base_note": self.base_note, "scale": self.scale, "length": self.length, "tempo_bpm": self.tempo_bpm}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrackParams:
        return cls(**{k: data[k] for k in ("base_note", "scale", "length", "tempo_bpm") if k in data})


@dataclass(frozen=True)
class Track:
    """One state of the environment: melody pitches (MIDI), durations (beats) and a percussion line."""

    pitches: tuple[int, ...]
    beats: tuple[float, ...]
    percussion: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.pitches)

    @property
    def total_beats(self) -> float:
        return float(sum(self.beats))

    def key(self) -> str:
        """A compact exact-state key (the original's state was the whole track)."""
        melody = ",".join(f"{p}:{int(b * STEPS_PER_BEAT)}" for p, b in zip(self.pitches, self.beats, strict=True))
        drums = "".join("s" if d == PERCUSSION[0] else "b" for d in self.percussion)
        return f"{melody}|{drums}"

    def to_dict(self) -> dict[str, Any]:
        return {"pitches": list(self.pitches), "beats": list(self.beats), "percussion": list(self.percussion)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Track:
        pitches = tuple(int(p) for p in data["pitches"])
        beats = tuple(float(b) for b in data["beats"])
        percussion = tuple(int(d) for d in data["percussion"])
        if not MIN_LENGTH <= len(pitches) <= MAX_LENGTH or len(beats) != len(pitches):
            raise ValueError("a track needs as many durations as pitches, within the length limits")
        if any(not 0 <= p <= 127 for p in pitches) or any(b not in DURATIONS for b in beats):
            raise ValueError("track pitches must be MIDI numbers and durations one of " + str(DURATIONS))
        if any(d not in PERCUSSION for d in percussion):
            raise ValueError(f"percussion elements must be among {PERCUSSION}")
        return cls(pitches, beats, percussion)


def random_track(params: TrackParams, rng: np.random.Generator) -> Track:
    """An initial track as the original drew it: pitches and durations uniformly from the scale's octave."""
    pool = params.starting_pitches()
    pitches = tuple(int(pool[i]) for i in rng.integers(0, len(pool), params.length))
    beats = tuple(float(DURATIONS[i]) for i in rng.integers(0, len(DURATIONS), params.length))
    pattern = [int(PERCUSSION[i]) for i in rng.integers(0, len(PERCUSSION), params.length)]
    return Track(pitches, beats, _fit_percussion(pattern, sum(beats)))


def _fit_percussion(pattern: list[int] | tuple[int, ...], total_beats: float) -> tuple[int, ...]:
    """Repeat the drum pattern over the melody's sixteenth-note grid (the original could fall short of it)."""
    steps = int(round(total_beats * STEPS_PER_BEAT))
    if len(pattern) == steps:
        return tuple(pattern)
    if not pattern:
        pattern = [PERCUSSION[0]]
    return tuple(pattern[i % len(pattern)] for i in range(steps))


def legal_actions(track: Track, ops: tuple[int, ...]) -> list[Action]:
    """Every (type, index) pair; the original let each type address any note index."""
    return [(op, i) for op in ops for i in (range(len(track)) if op in NOTE_OPS else (0,))]


def apply_action(track: Track, action: Action, params: TrackParams, *, in_scale: bool) -> Track:
    """The track after one edit. Edits at a limit (shortest duration, lowest pitch...) leave it unchanged."""
    op, i = action
    if not 0 <= i < len(track):
        raise ValueError(f"note index {i} is outside a track of {len(track)} notes")
    pitches, beats, drums = list(track.pitches), list(track.beats), list(track.percussion)
    if op in (PITCH_UP, PITCH_DOWN):
        direction = 1 if op == PITCH_UP else -1
        pitches[i] = step_pitch(pitches[i], direction, params, in_scale=in_scale)
    elif op == LONGER:
        beats[i] = min(beats[i] + DURATION_STEP, DURATIONS[-1])
    elif op == SHORTER:
        beats[i] = max(beats[i] - DURATION_STEP, DURATIONS[0])
    elif op == PERCUSSION_CHANGE:
        if i < len(drums):
            drums[i] = PERCUSSION[1] if drums[i] == PERCUSSION[0] else PERCUSSION[0]
    elif op == REMOVE:
        if len(pitches) > MIN_LENGTH:
            del pitches[i], beats[i]
    elif SMOOTH <= op <= WIDEN:
        _apply_phrase_edit(op, i, pitches, beats, params)
    else:
        raise ValueError(f"unknown action type {op}")
    # The drum line follows the melody's length: cut, or extended by repeating itself.
    return Track(tuple(pitches), tuple(beats), _fit_percussion(drums, sum(beats)))


def _apply_phrase_edit(op: int, i: int, pitches: list[int], beats: list[float], params: TrackParams) -> None:
    """The improved agent's larger edits, in place; all keep pitches in the scale and within bounds."""
    if op == SMOOTH and 0 < i < len(pitches) - 1:
        pitches[i] = nearest_scale_pitch((pitches[i - 1] + pitches[i + 1]) / 2, params)
    elif op == RESOLVE_END:
        offset = (pitches[-1] - params.base_note) % 12
        pitches[-1] = _clamp(pitches[-1] - offset if offset < 6 else pitches[-1] + 12 - offset, params)
    elif op == ECHO:
        half = len(pitches) // 2
        pitches[len(pitches) - half :], beats[len(beats) - half :] = pitches[:half], beats[:half]
    elif op in (DENSER, SPARSER):
        change = -DURATION_STEP if op == DENSER else DURATION_STEP
        beats[:] = [min(max(b + change, DURATIONS[0]), DURATIONS[-1]) for b in beats]
    elif op in (NARROW, WIDEN):
        top, bottom = pitches.index(max(pitches)), pitches.index(min(pitches))
        inward = op == NARROW
        pitches[top] = step_pitch(pitches[top], -1 if inward else 1, params, in_scale=True)
        pitches[bottom] = step_pitch(pitches[bottom], 1 if inward else -1, params, in_scale=True)


def nearest_scale_pitch(target: float, params: TrackParams) -> int:
    return min(_scale_pitches(params), key=lambda p: (abs(p - target), p))


@lru_cache(maxsize=256)
def _scale_pitches(params: TrackParams) -> tuple[int, ...]:
    """Every pitch of the scale within the bounds."""
    low, high = params.pitch_bounds()
    return tuple(p for p in range(low, high + 1) if params.in_scale(p))


def _clamp(pitch: int, params: TrackParams) -> int:
    low, high = params.pitch_bounds()
    return min(max(pitch, low), high)


def step_pitch(pitch: int, direction: int, params: TrackParams, *, in_scale: bool) -> int:
    """One step up or down: a semitone (the original) or to the neighbouring scale tone, within the bounds."""
    low, high = params.pitch_bounds()
    candidate = pitch + direction
    if in_scale:
        while low <= candidate <= high and not params.in_scale(candidate):
            candidate += direction
    return pitch if not low <= candidate <= high else candidate


def scale_degree(pitch: int, params: TrackParams) -> float:
    """Position of ``pitch`` in scale steps above the base note (fractional between scale tones)."""
    octave, within = divmod(pitch - params.base_note, 12)
    steps = params.intervals
    if within in steps:
        return octave * len(steps) + steps.index(within)
    below = max(i for i, s in enumerate(steps) if s < within)
    return octave * len(steps) + below + 0.5
